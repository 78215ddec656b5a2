//! Every exit code `cargo dbm` can return, in one place.
//!
//! Scripts may rely on these numbers; `docs/exit-codes.md` repeats this table.

/// Success.
pub const OK: i32 = 0;
/// An unexpected error (I/O, a bug): the message says what failed.
pub const FAILURE: i32 = 1;
/// The command line could not be parsed (clap's own code).
pub const USAGE: i32 = 2;
/// `status`/`check`: migrations are pending (nothing is wrong, but the database is behind).
pub const PENDING: i32 = 3;
/// Not inside a cargo workspace, or the workspace has no migration crate.
pub const WORKSPACE: i32 = 4;
/// Bad configuration or input: malformed database URL, invalid migration name, bad template.
pub const CONFIG: i32 = 5;
/// The database could not be reached or answered with an error outside a migration.
pub const DATABASE: i32 = 6;
/// The migration history is inconsistent or a revision is unknown/ambiguous
/// (an applied migration's file is missing, a target matches nothing or several).
pub const HISTORY: i32 = 7;
/// The migration crate (or the runner linking it) failed to compile.
pub const BUILD: i32 = 8;
/// A migration failed while running; the message says whether it was rolled back.
pub const MIGRATION: i32 = 9;
/// A destructive command was refused: no confirmation, no terminal, or a protected database.
pub const REFUSED: i32 = 10;
/// Another `cargo dbm` held the migration lock past `--lock-timeout`.
pub const LOCKED: i32 = 11;
/// `up`: the database has tables but no migration history; `stamp` or `--baseline` it.
pub const UNTRACKED: i32 = 12;
/// `check`: an applied migration's source changed, or two migrations share a version.
pub const DRIFT: i32 = 13;
/// `verify`: a migration's `down` does not undo its `up`, or it fails on a scratch database.
pub const VERIFY: i32 = 14;

/// `restore`: the backup file failed verification (corrupt, truncated, not a backup, or of
/// another engine); the database was not touched.
pub const BAD_BACKUP: i32 = 15;
/// A required external tool (`pg_dump`, `pg_restore`) is missing or older than the server.
pub const TOOL: i32 = 16;

/// `seed`: the seed data was rejected (unreadable file, unknown table or column, a value
/// of the wrong type, a constraint violation); nothing was inserted.
pub const SEED: i32 = 17;

/// The workspace resolves a sea-orm-migration (or sea-orm) version that cargo dbm writes no
/// runner for (supported: 1.1.x and 2.0.x); refused before anything is built or changed.
pub const UNSUPPORTED: i32 = 18;

/// A migration that ran outside a transaction (MySQL/MariaDB, or `use_transaction` off)
/// started and never finished: the database is partially migrated until repaired by hand
/// and recorded with `stamp`.
pub const PARTIAL: i32 = 19;

/// A pending migration's version sorts before an applied one's (written on another branch),
/// or the Migrator's list is not in version order: `up` refuses it without `--out-of-order`,
/// `check` fails on it.
pub const OUT_OF_ORDER: i32 = 20;

/// The Migrator's file holds git conflict markers (a merge left it conflicted):
/// `cargo dbm resolve` resolves the hunks that only register migrations.
pub const CONFLICT: i32 = 21;

/// `lint` (and `check`): a pending migration's SQL breaks a lock-safety or compatibility
/// rule at error level (`lint --deny-warnings`: at warning level too).
pub const LINT: i32 = 22;

/// A fleet run (`--all`, `--fleet`) of `up`, `down`, `stamp` or `backup`: one or more
/// targets failed; the report names each with the code its single-target run would return.
pub const FLEET: i32 = 23;

/// The table rendered into `--help` and the docs: (code, meaning).
pub const TABLE: &[(i32, &str)] = &[
    (OK, "success"),
    (FAILURE, "unexpected error"),
    (USAGE, "invalid command line"),
    (PENDING, "migrations are pending (status)"),
    (WORKSPACE, "no cargo workspace or no migration crate"),
    (
        CONFIG,
        "bad configuration or input (database URL, migration name, template)",
    ),
    (DATABASE, "database unreachable or failed outside a migration"),
    (HISTORY, "unknown/ambiguous revision, missing migration file"),
    (BUILD, "the migrations failed to compile"),
    (MIGRATION, "a migration failed"),
    (
        REFUSED,
        "destructive command refused (no confirmation or protected database)",
    ),
    (LOCKED, "timed out waiting for the migration lock"),
    (
        UNTRACKED,
        "database has tables but no migration history (stamp or --baseline)",
    ),
    (DRIFT, "check: applied migration modified, or duplicate versions"),
    (VERIFY, "verify: a migration's down does not undo its up"),
    (
        BAD_BACKUP,
        "backup file failed verification (corrupt, truncated, foreign)",
    ),
    (
        TOOL,
        "backup tools (pg_dump/pg_restore, mariadb-dump/mariadb) missing or older than the server",
    ),
    (
        SEED,
        "seed data rejected (bad file, value, table, column or constraint); nothing inserted",
    ),
    (
        UNSUPPORTED,
        "unsupported sea-orm-migration/sea-orm version (supported: 1.1.x, 2.0.x)",
    ),
    (
        PARTIAL,
        "a migration outside a transaction started and never finished (partially applied)",
    ),
    (
        OUT_OF_ORDER,
        "a pending migration sorts before an applied one, or the list is out of version order",
    ),
    (
        CONFLICT,
        "the Migrator's file has merge conflict markers (cargo dbm resolve)",
    ),
    (
        LINT,
        "lint/check: a pending migration breaks a lock-safety rule (error level)",
    ),
    (FLEET, "a fleet run (--all/--fleet): one or more targets failed"),
];

/// The table as text, for `--help`.
pub fn help_text() -> String {
    let mut s = String::from("Exit codes:\n");
    for (code, meaning) in TABLE {
        s.push_str(&format!("  {code:>2}  {meaning}\n"));
    }
    s
}
