//! The seam between cargo dbm and the database engines: everything that differs between
//! SQLite, PostgreSQL and MySQL/MariaDB is behind [`Engine`]'s methods, and each engine
//! is one module ([`sqlite`], [`postgres`], [`mysql`]) with the same set of functions.
//! Above this module no code matches on the engine.
//!
//! `Engine` is a closed enum rather than a trait object: the engines are known when cargo
//! dbm is compiled, their functions are `async` (no boxing, no `async-trait`), and
//! [`dispatch!`] makes every capability one `match` here, so an engine that lacks a
//! function is a compile error in exactly one place.
//!
//! What an engine provides:
//! - connecting ([`Engine::connect`]) and the fix for a failed connection
//!   ([`Engine::connect_hint`]);
//! - its catalog, read into the one schema model of [`crate::db::snapshot`]
//!   ([`Engine::read_schema`]), which snapshots, diffs, autogenerate, seeding and restore
//!   checks all use;
//! - dropping everything ([`Engine::drop_all`]), the migration lock ([`Engine::lock`]),
//!   scratch databases ([`Engine::scratch_url`]);
//! - bulk loading seed rows ([`Engine::bulk_load`]) and reading them back
//!   ([`Engine::read_rows`]);
//! - backups: a stream of the database to compress ([`Engine::dump`]), and a restore
//!   verified before it replaces anything ([`Engine::prepare_restore`], [`Prepared::apply`]);
//! - SQL details: quoting, deferred constraints, the DDL of cargo dbm's tables, how
//!   types compare and are written in a migration.

pub mod mysql;
pub mod postgres;
pub mod sqlite;

use crate::backup::compress::DecodeError;
use crate::config::DbUrl;
use crate::db::Db;
use crate::db::snapshot::Schema;
use crate::error::Result;
use crate::shell::Shell;
use sea_orm::{ConnectOptions, DatabaseConnection, DbBackend};
use std::path::Path;
use std::time::Duration;

/// A database engine cargo dbm supports.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum Engine {
    #[serde(rename = "sqlite")]
    Sqlite,
    #[serde(rename = "postgres")]
    Postgres,
    /// MySQL and MariaDB (`mysql://`, `mariadb://`).
    #[serde(rename = "mysql")]
    MySql,
}

/// Calls the function of the same name in the engine's module.
macro_rules! dispatch {
    ($engine:expr, $f:ident ( $($arg:expr),* $(,)? )) => {
        match $engine {
            Engine::Sqlite => sqlite::$f($($arg),*),
            Engine::Postgres => postgres::$f($($arg),*),
            Engine::MySql => mysql::$f($($arg),*),
        }
    };
    ($engine:expr, $f:ident ( $($arg:expr),* $(,)? ).await) => {
        match $engine {
            Engine::Sqlite => sqlite::$f($($arg),*).await,
            Engine::Postgres => postgres::$f($($arg),*).await,
            Engine::MySql => mysql::$f($($arg),*).await,
        }
    };
}

/// The migration lock, held until dropped or released (see [`Engine::lock`]).
pub enum Lock {
    /// An exclusive `flock` on a file beside the database (SQLite).
    File(std::fs::File),
    /// A session-level lock held by an open connection (PostgreSQL advisory lock, MySQL
    /// `GET_LOCK`): the server releases it when the session ends.
    Session(Db),
    /// Nothing to lock (an in-memory database).
    None,
}

impl Lock {
    /// Releases the lock now.
    pub async fn release(self) {
        match self {
            Lock::File(f) => {
                let _ = f.unlock();
            }
            Lock::Session(db) => db.close().await,
            Lock::None => {}
        }
    }
}

/// A stream of the database's content for a backup, ready to be compressed.
pub struct Dump {
    pub reader: Box<dyn std::io::Read + Send>,
    /// Its size when known in advance (a snapshot file), for the progress bar.
    pub size: Option<u64>,
    /// The progress bar's label: `Compressing` a snapshot, `Dumping` from a tool.
    pub label: &'static str,
    /// The server's (or library's) version, for the backup's metadata.
    pub server_version: Option<String>,
    /// Waits for the dumping tool and checks how it ended; `compressed` says whether
    /// everything it produced was written (if not, the tool is stopped).
    pub finish: Box<dyn FnOnce(bool) -> Result<()> + Send>,
}

/// A verified backup, ready to replace the database (see [`Engine::prepare_restore`]).
#[derive(Debug)]
pub enum Prepared {
    Sqlite(sqlite::backup::Prepared),
    Postgres(postgres::backup::Prepared),
    MySql(mysql::backup::Prepared),
}

impl Prepared {
    /// Replaces the database with the verified backup, as atomically as the engine
    /// allows. `existed` says whether there was a database before (and it was readable).
    /// Returns tables the backup does not contain that were left in place.
    pub async fn apply(self, url: &DbUrl, file: &Path, existed: bool, shell: &Shell) -> Result<Vec<String>> {
        match self {
            Prepared::Sqlite(p) => sqlite::backup::apply(p, url, existed).await,
            Prepared::Postgres(p) => postgres::backup::apply(p, url, file, shell).await,
            Prepared::MySql(p) => mysql::backup::apply(p, url, file, shell).await,
        }
    }
}

/// Writes decompressed backup data to `out`; returns the number of bytes written.
pub type Decompress<'a> = &'a mut dyn FnMut(&mut (dyn std::io::Write + Send)) -> std::result::Result<u64, DecodeError>;

impl Engine {
    /// The engine of a URL scheme (`sqlite`, `postgres`, `postgresql`, `mysql`, `mariadb`).
    pub fn of_scheme(scheme: &str) -> Option<Engine> {
        match scheme {
            "sqlite" => Some(Engine::Sqlite),
            "postgres" | "postgresql" => Some(Engine::Postgres),
            "mysql" | "mariadb" => Some(Engine::MySql),
            _ => None,
        }
    }

    /// `sqlite`, `postgres` or `mysql`: in backups' metadata and messages.
    pub fn name(self) -> &'static str {
        dispatch!(self, name())
    }

    /// sea-orm's backend for the engine.
    pub fn backend(self) -> DbBackend {
        dispatch!(self, backend())
    }

    /// The sea-orm feature of the engine's driver (`sqlx-sqlite`…), for generated crates.
    pub fn driver_feature(self) -> &'static str {
        dispatch!(self, driver_feature())
    }

    /// Quotes an identifier.
    pub fn quote(self, ident: &str) -> String {
        dispatch!(self, quote(ident))
    }

    /// Whether the engine has schemas inside a database (`--schema`).
    pub fn has_schemas(self) -> bool {
        self == Engine::Postgres
    }

    /// How a SQL script file is applied with the engine's own shell (`cargo dbm sql`'s header).
    pub fn script_shell(self) -> &'static str {
        dispatch!(self, script_shell())
    }

    /// Whether DDL runs inside a transaction that can be rolled back. MySQL commits DDL
    /// implicitly: a migration that fails halfway leaves what it did.
    pub fn transactional_ddl(self) -> bool {
        dispatch!(self, transactional_ddl())
    }

    /// Connection pool settings for the engine (on top of cargo dbm's own).
    pub fn configure(self, url: &DbUrl, opts: &mut ConnectOptions) {
        dispatch!(self, configure(url, opts))
    }

    /// Connects, failing within `timeout` with a message naming the cause.
    pub async fn connect(self, url: &DbUrl, opts: ConnectOptions, timeout: Duration) -> Result<DatabaseConnection> {
        dispatch!(self, connect(url, opts, timeout).await)
    }

    /// The fix for a failed connection, from the (redacted) URL and the reason given.
    pub fn connect_hint(url: &str, reason: &str) -> String {
        let scheme = url.split(':').next().unwrap_or("");
        match Engine::of_scheme(scheme) {
            Some(engine) => dispatch!(engine, connect_hint(url, reason)),
            None => "check that the database server is running and that the URL, user and password are right".into(),
        }
    }

    /// A query listing the base tables of the current schema/database, as column `name`.
    pub fn tables_sql(self) -> &'static str {
        dispatch!(self, tables_sql())
    }

    /// Which of the tables `names` exist in the current schema/database, as column `name`:
    /// one index lookup each (a fleet asks it of every target).
    pub fn tables_named_sql(self, names: &[&str]) -> String {
        let list = names
            .iter()
            .map(|n| format!("'{}'", n.replace('\'', "''")))
            .collect::<Vec<_>>()
            .join(", ");
        dispatch!(self, tables_named_sql(&list))
    }

    /// Reads the catalog of the current schema (or file, or database).
    pub async fn read_schema(self, db: &Db) -> Result<Schema> {
        dispatch!(self, read_schema(db).await)
    }

    /// Drops every table, view, sequence and type, the tracking tables included, as one
    /// change where the engine allows. Returns what was dropped.
    pub async fn drop_all(self, db: &Db) -> Result<Vec<String>> {
        dispatch!(self, drop_all(db).await)
    }

    /// Takes the migration lock of `url`, calling `wait` each time it is busy (which
    /// gives up with an error after the timeout).
    pub async fn lock(self, url: &DbUrl, wait: &mut dyn FnMut() -> Result<()>) -> Result<Lock> {
        dispatch!(self, lock(url, wait).await)
    }

    /// Takes the migration lock of `db`'s target on the session `db` itself, where the
    /// engine's lock is a session lock that a kept connection can take and give back
    /// (PostgreSQL's advisory lock, keyed by schema): `Ok(false)` when it is not, and
    /// [`Engine::lock`] is the way. A fleet reads and migrates many schemas over a few kept
    /// sessions ([`crate::db::Sessions`]).
    pub async fn lock_session(self, db: &Db, wait: &mut dyn FnMut() -> Result<()>) -> Result<bool> {
        dispatch!(self, lock_session(db, wait).await)
    }

    /// Releases a lock taken by [`Engine::lock_session`].
    pub async fn unlock_session(self, db: &Db) -> Result<()> {
        dispatch!(self, unlock_session(db).await)
    }

    /// The URL of a new, empty scratch database named `name`, beside `url`: a file in
    /// `dir` (SQLite), a schema (PostgreSQL), a database (MySQL).
    pub fn scratch_url(self, url: &DbUrl, dir: &Path, name: &str) -> Result<DbUrl> {
        dispatch!(self, scratch_url(url, dir, name))
    }

    /// Creates the scratch database if the engine needs it created before connecting.
    pub async fn create_scratch(self, url: &DbUrl) -> Result<()> {
        dispatch!(self, create_scratch(url).await)
    }

    /// Removes a scratch database made by [`Engine::scratch_url`].
    pub async fn drop_scratch(self, url: &DbUrl) {
        dispatch!(self, drop_scratch(url).await)
    }

    /// Whether the database `url` names exists (always, for a server: it is connected to).
    pub fn exists(self, url: &DbUrl) -> bool {
        url.sqlite_path.as_deref().is_none_or(Path::exists)
    }

    /// The statement that defers foreign key checks to the end of the transaction, for
    /// seed data whose tables reference each other in a cycle.
    pub fn defer_constraints_sql(self) -> &'static str {
        dispatch!(self, defer_constraints_sql())
    }

    /// What to run after the transaction's work to undo [`Engine::defer_constraints_sql`]
    /// where the engine does not do it itself.
    pub fn undefer_constraints_sql(self) -> Option<&'static str> {
        dispatch!(self, undefer_constraints_sql())
    }

    /// The statement that moves a column's sequence past the ids seeded explicitly.
    pub fn sequence_fixup(self, table: &str, column: &str, sequence: &str) -> Option<String> {
        dispatch!(self, sequence_fixup(table, column, sequence))
    }

    /// Whether bound parameters are cast to the column's declared type in INSERTs.
    pub fn casts_parameters(self) -> bool {
        self == Engine::Postgres
    }

    /// Whether a NULL given for a generated key column makes the database generate it.
    pub fn null_generates(self) -> bool {
        self != Engine::Postgres
    }

    /// How the engine stores a UUID: as text (PostgreSQL's `uuid` parses it) or bytes.
    pub fn uuid_as_text(self) -> bool {
        self == Engine::Postgres
    }

    /// Whether time-of-day values are passed to the server as given (it parses zones).
    pub fn server_parses_times(self) -> bool {
        self == Engine::Postgres
    }

    /// Seeds rows: the fastest bulk path of the engine, in one transaction.
    pub async fn bulk_load(
        self,
        db: &Db,
        plan: &crate::seed::Plan,
        progress: &indicatif::ProgressBar,
    ) -> Result<Vec<usize>> {
        dispatch!(self, bulk_load(db, plan, progress).await)
    }

    /// Every row of a table, as JSON values by the column's kind (for `seed --dump`).
    pub async fn read_rows(self, db: &Db, table: &crate::seed::catalog::TableInfo) -> Result<crate::seed::dump::Rows> {
        dispatch!(self, read_rows(db, table).await)
    }

    /// The content part of a backup's file name: `db`, `dump`, `sql`.
    pub fn backup_content(self) -> &'static str {
        dispatch!(self, backup_content())
    }

    /// Starts streaming the database for a backup (`db` is closed when no longer needed).
    pub async fn dump(self, db: Db, url: &DbUrl, shell: &Shell, scratch: &Path) -> Result<Dump> {
        dispatch!(self, dump(db, url, shell, scratch).await)
    }

    /// Checks a backup thoroughly without touching the database; `decompress` writes its
    /// content. Refusals are [`crate::error::Error::BackupInvalid`].
    pub async fn prepare_restore(
        self,
        url: &DbUrl,
        file: &Path,
        decompress: Decompress<'_>,
    ) -> Result<(Prepared, u64)> {
        match self {
            Engine::Sqlite => sqlite::backup::prepare(url, file, decompress)
                .await
                .map(|(p, n)| (Prepared::Sqlite(p), n)),
            Engine::Postgres => postgres::backup::prepare(url, file, decompress)
                .await
                .map(|(p, n)| (Prepared::Postgres(p), n)),
            Engine::MySql => mysql::backup::prepare(url, file, decompress)
                .await
                .map(|(p, n)| (Prepared::MySql(p), n)),
        }
    }

    /// Whether two spellings of a column type are the same type on this engine: `migrated`
    /// as the catalog reports it, `entity` as the entity states it.
    pub fn same_type(self, migrated: &str, entity: &str) -> bool {
        dispatch!(self, same_type(migrated, entity))
    }

    /// Whether `auto_increment` on a single-column integer primary key is a difference
    /// worth a migration (SQLite assigns new ids either way).
    pub fn compares_auto_increment(self) -> bool {
        self != Engine::Sqlite
    }

    /// The sea-query `ColumnDef` call that makes a column of `sql_type`, when known.
    pub fn type_call(self, sql_type: &str) -> Option<String> {
        dispatch!(self, type_call(sql_type))
    }

    /// Whether the engine alters tables in place (SQLite rebuilds them for most changes).
    pub fn alters_in_place(self) -> bool {
        self != Engine::Sqlite
    }

    /// Whether a unique constraint is dropped as a constraint (not as an index).
    pub fn drops_unique_as_constraint(self) -> bool {
        self == Engine::Postgres
    }

    /// The statements that replace a table's primary key with `columns` (none: dropped).
    pub fn replace_primary_key_sql(self, table: &str, columns: &[String]) -> Vec<String> {
        dispatch!(self, replace_primary_key_sql(table, columns))
    }

    /// The most bytes an index key may hold, and the bytes per character of the default
    /// character set (MySQL's InnoDB: 3072 and 4 for utf8mb4), when the engine limits them.
    pub fn index_key_limit(self) -> Option<(usize, usize)> {
        dispatch!(self, index_key_limit())
    }

    /// How sea-query 0.32 (sea-orm 1.1) spells `big_integer()` where it differs from
    /// sea-query 1.x: SQLite's `bigint` (1.x writes `integer`). For the tracking table,
    /// which cargo dbm creates exactly as the workspace's sea-orm-migration does.
    pub fn big_integer_spelling_v1(self) -> Option<&'static str> {
        (self == Engine::Sqlite).then_some("bigint")
    }

    /// The longest identifier the engine accepts (MySQL: 64), for generated names.
    pub fn max_identifier(self) -> usize {
        dispatch!(self, max_identifier())
    }
}

impl std::fmt::Display for Engine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// The numbers in a type's parentheses: `numeric(10, 2)` → `[10, 2]`.
pub(crate) fn type_args(s: &str) -> Option<Vec<u32>> {
    let inner = s.split_once('(')?.1.strip_suffix(')')?;
    inner.split(',').map(|p| p.trim().parse().ok()).collect()
}
