//! Every rule cargo dbm knows: its name, default severity, one-line description, and the
//! explanation and safe pattern a finding carries.
//!
//! PostgreSQL rules come from squawk (same names, so squawk's documentation at
//! <https://squawkhq.com/docs/rules> applies); cargo dbm maps each to a severity and
//! explains it in terms of the lock it takes and what breaks:
//!
//! - **error**: rewrites or scans the table under a lock that blocks reads, fails on a
//!   table with rows, destroys data, or breaks the code running against the database;
//! - **warning**: blocks writes while an index is built or a constraint is checked, or
//!   may break clients;
//! - **info**: worth a look, rarely harmful.
//!
//! squawk's style rules (prefer-text-field, prefer-bigint-over-int,
//! prefer-bigint-over-smallint, prefer-identity, prefer-timestamp-tz, ban-char-field,
//! prefer-robust-stmts, require-table-schema) and its timeout rules (require-lock-timeout,
//! require-statement-timeout) are left out: they fire on nearly every migration sea-query
//! writes and say nothing about the migration's safety.

use super::Severity::{self, Error, Info, Warning};

/// Where a rule's findings come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Source {
    /// squawk's rule of the same name (PostgreSQL).
    Squawk,
    /// cargo dbm's own, for PostgreSQL.
    Postgres,
    /// cargo dbm's own, for SQLite.
    Sqlite,
    /// squawk's rule of the same name on PostgreSQL; cargo dbm's own on SQLite.
    Both,
}

pub(crate) struct RuleInfo {
    pub name: &'static str,
    pub severity: Severity,
    pub source: Source,
    pub description: &'static str,
    /// Why it is dangerous; empty where each finding says it all (squawk's message for
    /// identifier-too-long, the parser's error for unparsable-statement).
    pub message: &'static str,
    /// The safe pattern.
    pub fix: &'static str,
}

const NOT_NULL_STEPS: &str = "add the column nullable (or with a constant DEFAULT), backfill it in batches, then add \
     CHECK (col IS NOT NULL) NOT VALID, VALIDATE CONSTRAINT it in a later migration, then SET NOT NULL (PostgreSQL 12+ \
     uses the validated CHECK instead of scanning) and drop the CHECK";

const NO_TRANSACTION: &str = "CONCURRENTLY cannot run inside a transaction: put it in a migration of its own whose \
     `use_transaction()` returns `Some(false)`";

pub(crate) const RULES: &[RuleInfo] = &[
    RuleInfo {
        name: "adding-required-field",
        severity: Error,
        source: Source::Squawk,
        description: "ADD COLUMN … NOT NULL without a DEFAULT",
        message: "adds a NOT NULL column without a default: the ALTER TABLE fails on a table that has rows \
                  (column contains null values), and the code already deployed, which does not know the column, \
                  can no longer insert rows",
        fix: NOT_NULL_STEPS,
    },
    RuleInfo {
        name: "adding-field-with-default",
        severity: Error,
        source: Source::Squawk,
        description: "ADD COLUMN with a volatile DEFAULT or a stored generated column (table rewrite)",
        message: "adds a column whose value must be computed for every existing row (a volatile DEFAULT such as \
                  random(), gen_random_uuid(), clock_timestamp(), a serial's nextval(), an IDENTITY column, or \
                  GENERATED … STORED): \
                  PostgreSQL rewrites the whole table under an ACCESS EXCLUSIVE lock, blocking reads and writes \
                  until it is done",
        fix: "add the column nullable without a default (or with a constant default, which PostgreSQL 11+ stores \
              without a rewrite), set the volatile DEFAULT in a second statement so only new rows use it, and \
              backfill existing rows in batches",
    },
    RuleInfo {
        name: "adding-not-nullable-field",
        severity: Error,
        source: Source::Squawk,
        description: "ALTER COLUMN … SET NOT NULL on an existing column (full scan under ACCESS EXCLUSIVE)",
        message: "SET NOT NULL scans the whole table to check every row while holding an ACCESS EXCLUSIVE lock, \
                  blocking reads and writes for the duration of the scan",
        fix: "add CHECK (col IS NOT NULL) NOT VALID, VALIDATE CONSTRAINT it in a later migration (a SHARE UPDATE \
              EXCLUSIVE lock that lets reads and writes through), then SET NOT NULL, which PostgreSQL 12+ proves \
              from the validated CHECK without a scan, then drop the CHECK",
    },
    RuleInfo {
        name: "adding-serial-primary-key-field",
        severity: Error,
        source: Source::Squawk,
        description: "ADD PRIMARY KEY on an existing table (index built under ACCESS EXCLUSIVE)",
        message: "adding a primary key builds its unique index while holding an ACCESS EXCLUSIVE lock, blocking \
                  reads and writes until the index is built",
        fix: "CREATE UNIQUE INDEX CONCURRENTLY first (in a migration without a transaction), then \
              ALTER TABLE … ADD CONSTRAINT … PRIMARY KEY USING INDEX …",
    },
    RuleInfo {
        name: "adding-foreign-key-constraint",
        severity: Warning,
        source: Source::Squawk,
        description: "FOREIGN KEY / REFERENCES added without NOT VALID",
        message: "adding a foreign key checks every existing row while holding a SHARE ROW EXCLUSIVE lock on both \
                  tables, blocking writes to both until the check is done",
        fix: "add the constraint with NOT VALID (it is enforced for new rows at once, no scan), then \
              ALTER TABLE … VALIDATE CONSTRAINT … in a later migration, which takes a lock that lets reads and \
              writes through",
    },
    RuleInfo {
        name: "constraint-missing-not-valid",
        severity: Error,
        source: Source::Squawk,
        description: "CHECK (or other) constraint added without NOT VALID, or validated in the same transaction",
        message: "adding a constraint without NOT VALID checks every existing row while the ALTER TABLE holds its \
                  ACCESS EXCLUSIVE lock, blocking reads and writes for the scan (the same happens when VALIDATE \
                  CONSTRAINT runs in the transaction that added the constraint NOT VALID)",
        fix: "add the constraint with NOT VALID in one migration, and VALIDATE CONSTRAINT it in a later migration \
              (a separate transaction)",
    },
    RuleInfo {
        name: "disallowed-unique-constraint",
        severity: Error,
        source: Source::Squawk,
        description: "UNIQUE constraint added without an index built concurrently",
        message: "adding a UNIQUE constraint builds its index while holding an ACCESS EXCLUSIVE lock, blocking \
                  reads and writes until the index is built",
        fix: "CREATE UNIQUE INDEX CONCURRENTLY (in a migration without a transaction), then \
              ALTER TABLE … ADD CONSTRAINT … UNIQUE USING INDEX …",
    },
    RuleInfo {
        name: "require-concurrent-index-creation",
        severity: Warning,
        source: Source::Squawk,
        description: "CREATE INDEX without CONCURRENTLY on an existing table",
        message: "CREATE INDEX without CONCURRENTLY holds a SHARE lock for the whole build: reads go on but every \
                  INSERT, UPDATE and DELETE on the table waits until the index is built",
        fix: NO_TRANSACTION_INDEX,
    },
    RuleInfo {
        name: "require-concurrent-index-deletion",
        severity: Info,
        source: Source::Squawk,
        description: "DROP INDEX without CONCURRENTLY",
        message: "DROP INDEX without CONCURRENTLY takes an ACCESS EXCLUSIVE lock on the table; it is quick, but it \
                  waits behind running queries and every query on the table queues behind it",
        fix: "DROP INDEX CONCURRENTLY, in a migration whose `use_transaction()` returns `Some(false)`",
    },
    RuleInfo {
        name: "ban-concurrent-index-creation-in-transaction",
        severity: Error,
        source: Source::Squawk,
        description: "CREATE/DROP INDEX or REINDEX … CONCURRENTLY inside a transaction",
        message: "CONCURRENTLY (CREATE INDEX, DROP INDEX, REINDEX, DETACH PARTITION) fails inside a transaction \
                  block, and cargo dbm runs each migration in a transaction unless it opts out",
        fix: NO_TRANSACTION,
    },
    RuleInfo {
        name: "changing-column-type",
        severity: Error,
        source: Source::Squawk,
        description: "ALTER COLUMN … TYPE",
        message: "changing a column's type rewrites the table (and rebuilds its indexes) under an ACCESS EXCLUSIVE \
                  lock, blocking reads and writes, unless the new type is binary-compatible (e.g. varchar(n) to a \
                  longer varchar or text); the code already deployed may also fail on the new type",
        fix: "add a new column of the new type, write to both (trigger or application), backfill in batches, \
              switch reads to the new column, then drop the old one in a later release",
    },
    RuleInfo {
        name: "renaming-column",
        severity: Error,
        source: Source::Squawk,
        description: "RENAME COLUMN",
        message: "renaming a column breaks the code already deployed, which still uses the old name, from the \
                  moment the migration commits until the new code runs",
        fix: "add the new column, write to both and backfill, deploy code that reads the new one, then drop the \
              old column in a later release (or keep the old name and rename only in the entity, \
              `#[sea_orm(column_name = \"old\")]`)",
    },
    RuleInfo {
        name: "renaming-table",
        severity: Error,
        source: Source::Squawk,
        description: "ALTER TABLE … RENAME TO",
        message: "renaming a table breaks the code already deployed, which still uses the old name, from the \
                  moment the migration commits until the new code runs",
        fix: "keep the old name and rename only in the entity (`#[sea_orm(table_name = \"old\")]`), or rename and \
              create a view with the old name until no deployed code uses it",
    },
    RuleInfo {
        name: "ban-drop-column",
        severity: Error,
        source: Source::Both,
        description: "DROP COLUMN on an existing table",
        message: "dropping a column destroys its data, and the code already deployed, which still selects or \
                  inserts it, fails until the new code runs",
        fix: "first deploy code that no longer uses the column (remove it from the entity), then drop it in a \
              later migration; back up the data if it may be needed",
    },
    RuleInfo {
        name: "ban-drop-table",
        severity: Error,
        source: Source::Both,
        description: "DROP TABLE on an existing table",
        message: "dropping a table destroys its data, and the code already deployed, which still uses it, fails \
                  until the new code runs",
        fix: "first deploy code that no longer uses the table, then drop it in a later migration; back up the \
              data if it may be needed",
    },
    RuleInfo {
        name: "ban-drop-database",
        severity: Error,
        source: Source::Squawk,
        description: "DROP DATABASE",
        message: "dropping a database destroys everything in it",
        fix: "do not drop databases from a migration",
    },
    RuleInfo {
        name: "ban-truncate-cascade",
        severity: Error,
        source: Source::Squawk,
        description: "TRUNCATE … CASCADE",
        message: "TRUNCATE … CASCADE also empties every table with a foreign key to this one, recursively, under \
                  ACCESS EXCLUSIVE locks",
        fix: "TRUNCATE exactly the tables you mean, without CASCADE",
    },
    RuleInfo {
        name: "prefer-repack",
        severity: Error,
        source: Source::Postgres,
        description: "VACUUM FULL or CLUSTER",
        message: "VACUUM FULL and CLUSTER rewrite the table under an ACCESS EXCLUSIVE lock, blocking reads and \
                  writes until the rewrite is done",
        fix: "leave reclaiming space to autovacuum, or run pg_repack (or PostgreSQL's REPACK CONCURRENTLY) \
              outside the migration",
    },
    RuleInfo {
        name: "require-concurrent-reindex",
        severity: Warning,
        source: Source::Squawk,
        description: "REINDEX without CONCURRENTLY",
        message: "REINDEX without CONCURRENTLY blocks writes to the table, and reads that would use the index, \
                  until the index is rebuilt",
        fix: "REINDEX … CONCURRENTLY, in a migration whose `use_transaction()` returns `Some(false)`",
    },
    RuleInfo {
        name: "require-concurrent-partition-detach",
        severity: Warning,
        source: Source::Squawk,
        description: "DETACH PARTITION without CONCURRENTLY",
        message: "DETACH PARTITION without CONCURRENTLY takes an ACCESS EXCLUSIVE lock on the parent table, \
                  blocking reads and writes on every partition",
        fix: "DETACH PARTITION … CONCURRENTLY, in a migration whose `use_transaction()` returns `Some(false)`",
    },
    RuleInfo {
        name: "ban-drop-not-null",
        severity: Warning,
        source: Source::Squawk,
        description: "ALTER COLUMN … DROP NOT NULL",
        message: "code already deployed may rely on the column never being NULL (a non-Option field in the \
                  entity fails to read a NULL)",
        fix: "deploy code that handles NULL (Option in the entity) before dropping NOT NULL",
    },
    RuleInfo {
        name: "ban-drop-default",
        severity: Warning,
        source: Source::Squawk,
        description: "ALTER COLUMN … DROP DEFAULT",
        message: "code already deployed may insert rows without the column, relying on the default; those \
                  inserts then store NULL or fail",
        fix: "deploy code that always sets the column before dropping its default",
    },
    RuleInfo {
        name: "ban-drop-constraint",
        severity: Info,
        source: Source::Squawk,
        description: "DROP CONSTRAINT",
        message: "dropping a constraint lets rows in that it used to reject; code or queries may rely on it",
        fix: "make sure no code relies on the constraint (e.g. ON CONFLICT on a unique constraint) before \
              dropping it",
    },
    RuleInfo {
        name: "ban-drop-view",
        severity: Warning,
        source: Source::Squawk,
        description: "DROP VIEW",
        message: "code already deployed that reads the view fails until the new code runs",
        fix: "deploy code that no longer uses the view, then drop it in a later migration",
    },
    RuleInfo {
        name: "ban-drop-function",
        severity: Warning,
        source: Source::Squawk,
        description: "DROP FUNCTION",
        message: "code, triggers or defaults still calling the function fail",
        fix: "remove every use of the function first, then drop it in a later migration",
    },
    RuleInfo {
        name: "ban-drop-type",
        severity: Warning,
        source: Source::Squawk,
        description: "DROP TYPE",
        message: "columns and code still using the type fail (DROP TYPE … CASCADE drops those columns too)",
        fix: "remove every use of the type first, then drop it in a later migration",
    },
    RuleInfo {
        name: "ban-drop-schema",
        severity: Warning,
        source: Source::Squawk,
        description: "DROP SCHEMA",
        message: "everything in the schema, and code using it, is gone (with CASCADE, its tables and their data)",
        fix: "move or drop the schema's objects one by one after the code stops using them",
    },
    RuleInfo {
        name: "ban-drop-sequence",
        severity: Warning,
        source: Source::Squawk,
        description: "DROP SEQUENCE",
        message: "defaults and code calling nextval() on the sequence fail",
        fix: "remove every use of the sequence first, then drop it in a later migration",
    },
    RuleInfo {
        name: "ban-drop-domain",
        severity: Warning,
        source: Source::Squawk,
        description: "DROP DOMAIN",
        message: "columns and code still using the domain fail",
        fix: "remove every use of the domain first, then drop it in a later migration",
    },
    RuleInfo {
        name: "ban-drop-extension",
        severity: Warning,
        source: Source::Squawk,
        description: "DROP EXTENSION",
        message: "types, functions and indexes from the extension (and columns using them, with CASCADE) go away",
        fix: "remove every use of the extension first, then drop it in a later migration",
    },
    RuleInfo {
        name: "ban-drop-generated-expression",
        severity: Warning,
        source: Source::Squawk,
        description: "ALTER COLUMN … DROP EXPRESSION",
        message: "the column stops being computed; code relying on it being kept up to date reads stale values",
        fix: "deploy code that writes the column itself before dropping the expression",
    },
    RuleInfo {
        name: "ban-alter-identity",
        severity: Warning,
        source: Source::Squawk,
        description: "changing a column's IDENTITY",
        message: "code already deployed may insert ids itself or rely on them being generated; changing the \
                  identity breaks one or the other",
        fix: "change how ids are generated in steps the deployed code can follow",
    },
    RuleInfo {
        name: "ban-set-schema",
        severity: Warning,
        source: Source::Squawk,
        description: "ALTER … SET SCHEMA",
        message: "code already deployed still names the object in its old schema and fails",
        fix: "move the object only after the code names the new schema (or keep the old name in the search_path)",
    },
    RuleInfo {
        name: "renaming-object",
        severity: Warning,
        source: Source::Squawk,
        description: "RENAME of a view, function, type, sequence or other object",
        message: "code already deployed still uses the old name and fails until the new code runs",
        fix: "create the new object alongside the old one, switch the code, then drop the old one later",
    },
    RuleInfo {
        name: "ban-create-domain-with-constraint",
        severity: Warning,
        source: Source::Squawk,
        description: "CREATE DOMAIN with a constraint",
        message: "domain constraints are hard to change later: adding or altering one scans every column using \
                  the domain under a lock",
        fix: "put the CHECK constraint on the table columns instead",
    },
    RuleInfo {
        name: "ban-alter-domain-with-add-constraint",
        severity: Warning,
        source: Source::Squawk,
        description: "ALTER DOMAIN … ADD CONSTRAINT",
        message: "adding a constraint to a domain scans every table column using the domain while holding locks \
                  on those tables",
        fix: "add NOT VALID CHECK constraints to the tables' columns instead and validate them later",
    },
    RuleInfo {
        name: "identifier-too-long",
        severity: Warning,
        source: Source::Squawk,
        description: "an identifier longer than PostgreSQL's 63 bytes",
        message: "",
        fix: "use a name of at most 63 bytes, so the name in the database is the one the migration (and its \
              down) uses",
    },
    RuleInfo {
        name: "transaction-nesting",
        severity: Warning,
        source: Source::Squawk,
        description: "BEGIN / COMMIT inside a migration",
        message: "cargo dbm already runs each migration in a transaction: a BEGIN there only warns, and a COMMIT \
                  ends cargo dbm's transaction early, so a later failure no longer rolls the whole migration back",
        fix: "remove the BEGIN/COMMIT; a migration that must run outside a transaction says so with \
              `use_transaction()` returning `Some(false)`",
    },
    RuleInfo {
        name: "sqlite-table-rebuild",
        severity: Warning,
        source: Source::Sqlite,
        description: "SQLite table rebuild (create a new table, copy the rows, drop the old one, rename) of an \
                      existing table; a warning above 100000 rows, info below",
        message: "rebuilding the table copies every row inside the migration's write transaction: every other \
                  writer waits for the database lock until the commit, and in rollback-journal mode readers are \
                  locked out too once the copy outgrows the page cache (WAL mode lets them read the old data)",
        fix: "alter in place where SQLite can (ADD COLUMN, RENAME COLUMN, DROP COLUMN of a column without \
              index or constraint) and leave the rebuild for changes that need one; time the rebuild on a copy \
              of the data and run it when writers can wait that long",
    },
    RuleInfo {
        name: "unparsable-statement",
        severity: Info,
        source: Source::Postgres,
        description: "a statement the PostgreSQL parser could not read, so no rule checked it",
        message: "",
        fix: "review the statement by hand",
    },
];

const NO_TRANSACTION_INDEX: &str = "CREATE INDEX CONCURRENTLY, in a migration of its own whose `use_transaction()` \
     returns `Some(false)` (CONCURRENTLY cannot run inside a transaction; if it fails, drop the INVALID index it \
     leaves before retrying)";

/// The rule named `name`.
pub(crate) fn find(name: &str) -> Option<&'static RuleInfo> {
    RULES.iter().find(|r| r.name == name)
}

/// The squawk rules cargo dbm runs on PostgreSQL.
pub(crate) fn squawk_rules() -> Vec<squawk_linter::Rule> {
    RULES
        .iter()
        .filter(|r| matches!(r.source, Source::Squawk | Source::Both))
        .map(|r| squawk_linter::Rule::try_from(r.name).expect("a squawk rule name"))
        .collect()
}
