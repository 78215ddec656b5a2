//! SQLite: a file, one connection per pool (rows come from SQLite's worker thread), a lock
//! file beside the database, `VACUUM INTO` snapshots for backups, and tables rebuilt for
//! most schema changes.

pub mod backup;
mod catalog;
mod rows;

use crate::config::DbUrl;
use crate::db::Db;
use crate::engine::Lock;
use crate::error::{Error, IoContext, Result};
use sea_orm::{ConnectOptions, ConnectionTrait, Database, DatabaseConnection, DbBackend, Statement, TransactionTrait};
use std::path::Path;
use std::time::Duration;

pub use catalog::read_schema;
pub use rows::read_rows;

pub fn name() -> &'static str {
    "sqlite"
}

pub fn backend() -> DbBackend {
    DbBackend::Sqlite
}

pub fn driver_feature() -> &'static str {
    "sqlx-sqlite"
}

pub fn quote(ident: &str) -> String {
    format!("\"{}\"", ident.replace('"', "\"\""))
}

pub fn transactional_ddl() -> bool {
    true
}

/// How a SQL script file is applied with the engine's own shell.
pub fn script_shell() -> &'static str {
    "sqlite3 DATABASE < FILE"
}

pub fn max_identifier() -> usize {
    usize::MAX
}

pub fn configure(_url: &DbUrl, opts: &mut ConnectOptions) {
    opts.max_connections(1).min_connections(1);
    // Rows come from SQLite's worker thread through a channel; 50 rows at a time (the
    // default) means a round trip between threads every 50 rows of a 1,000-row table.
    opts.map_sqlx_sqlite_opts(|o| o.row_buffer_size(4096));
}

pub async fn connect(url: &DbUrl, opts: ConnectOptions, _timeout: Duration) -> Result<DatabaseConnection> {
    let conn = Database::connect(opts)
        .await
        .map_err(|e| crate::db::connect_error(url, &e.to_string()))?;
    // Make sure the file really is a database that answers.
    conn.execute_raw(Statement::from_string(DbBackend::Sqlite, "SELECT 1"))
        .await
        .map_err(|e| crate::db::connect_error(url, &e.to_string()))?;
    Ok(conn)
}

pub fn connect_hint(_url: &str, _reason: &str) -> String {
    "check the database file's path and its permissions (and those of its folder)".into()
}

pub fn tables_named_sql(list: &str) -> String {
    format!("SELECT name FROM sqlite_master WHERE type = 'table' AND name IN ({list})")
}

pub fn tables_sql() -> &'static str {
    "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name"
}

/// Drops every table and view of the file, in one transaction with foreign keys off.
pub async fn drop_all(db: &Db) -> Result<Vec<String>> {
    // Foreign keys cannot be switched inside a transaction; the pool has one connection.
    db.exec("disabling foreign keys", "PRAGMA foreign_keys = OFF").await?;
    let result = async {
        let txn = db.conn.begin().await.map_err(|e| Error::db("starting the reset", e))?;
        let objects = crate::db::names(
            &txn,
            DbBackend::Sqlite,
            "SELECT name, type AS kind FROM sqlite_master WHERE type IN ('table', 'view') AND name NOT LIKE 'sqlite_%' ORDER BY type DESC, name",
        )
        .await?;
        for (name, kind) in &objects {
            let sql = format!("DROP {} IF EXISTS {}", if kind == "view" { "VIEW" } else { "TABLE" }, quote(name));
            txn.execute_unprepared(&sql).await.map_err(|e| Error::db(format!("dropping `{name}`"), e))?;
        }
        txn.commit().await.map_err(|e| Error::db("committing the reset", e))?;
        Ok(objects.into_iter().map(|(n, _)| n).collect())
    }
    .await;
    db.exec("enabling foreign keys", "PRAGMA foreign_keys = ON").await?;
    result
}

/// An exclusive lock (`flock`, through `std::fs::File::try_lock`) on `<database>.dbm-lock`
/// beside the file; the kernel releases it if the process dies. (A lock on the database
/// file itself would be unsafe: closing any descriptor of that file drops SQLite's own
/// POSIX locks.)
/// No lock on a kept session here: see [`lock`].
pub async fn lock_session(_db: &Db, _wait: &mut dyn FnMut() -> Result<()>) -> Result<bool> {
    Ok(false)
}

pub async fn unlock_session(_db: &Db) -> Result<()> {
    Ok(())
}

pub async fn lock(url: &DbUrl, wait: &mut dyn FnMut() -> Result<()>) -> Result<Lock> {
    let Some(path) = &url.sqlite_path else {
        return Ok(Lock::None);
    };
    let mut lock_path = path.clone().into_os_string();
    lock_path.push(".dbm-lock");
    if let Some(dir) = path.parent() {
        crate::workspace::create_dir_all(dir)?;
    }
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&lock_path)
        .context(|| format!("could not open the lock file `{}`", Path::new(&lock_path).display()))?;
    loop {
        match file.try_lock() {
            Ok(()) => return Ok(Lock::File(file)),
            Err(std::fs::TryLockError::WouldBlock) => {}
            Err(std::fs::TryLockError::Error(e)) => {
                return Err(Error::io("could not lock the database", e));
            }
        }
        wait()?;
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// A scratch database is a temporary file in `dir` (the target directory).
pub fn scratch_url(url: &DbUrl, dir: &Path, name: &str) -> Result<DbUrl> {
    crate::workspace::create_dir_all(dir)?;
    let path = dir.join(format!("{name}.db"));
    remove_files(&path);
    DbUrl::parse(&format!("sqlite://{}", path.display()), dir, url.source)
}

pub async fn create_scratch(_url: &DbUrl) -> Result<()> {
    Ok(())
}

pub async fn drop_scratch(url: &DbUrl) {
    if let Some(path) = &url.sqlite_path {
        remove_files(path);
    }
}

fn remove_files(path: &Path) {
    for suffix in ["", "-wal", "-shm", "-journal", ".dbm-lock"] {
        let mut p = path.as_os_str().to_owned();
        p.push(suffix);
        let _ = std::fs::remove_file(std::path::PathBuf::from(p));
    }
}

pub fn defer_constraints_sql() -> &'static str {
    "PRAGMA defer_foreign_keys = ON"
}

pub fn undefer_constraints_sql() -> Option<&'static str> {
    None
}

pub fn sequence_fixup(_table: &str, _column: &str, _sequence: &str) -> Option<String> {
    None
}

/// Multi-row INSERTs in one transaction: SQLite's fastest path through one connection.
pub async fn bulk_load(db: &Db, plan: &crate::seed::Plan, progress: &indicatif::ProgressBar) -> Result<Vec<usize>> {
    crate::seed::run_insert(&db.conn, plan, crate::engine::Engine::Sqlite, progress).await
}

pub fn backup_content() -> &'static str {
    "db"
}

pub use backup::dump;

/// SQLite keeps values by affinity: `bigint`, `integer` and `int` store alike. The `…_text`
/// spellings sea-query writes for dates, JSON, UUIDs are told apart from plain text, so a
/// `String` that becomes a `DateTime` is still a change.
pub fn same_type(migrated: &str, entity: &str) -> bool {
    migrated == entity || class(migrated) == class(entity)
}

/// What an entity can tell apart in a SQLite declared type: sea-query's `…_text` kinds
/// (date-times of every flavour alike, JSON and JSONB alike), else the affinity.
fn class(t: &str) -> String {
    let lower = t.to_ascii_lowercase();
    match lower.strip_suffix("_text") {
        Some("datetime" | "timestamp" | "timestamp_with_timezone") => "datetime".into(),
        Some("json" | "jsonb") => "json".into(),
        Some(kind) => kind.to_string(),
        None => affinity(&lower).to_string(),
    }
}

/// SQLite's type affinity of a declared type (section 3.1 of its datatype documentation).
fn affinity(t: &str) -> &'static str {
    let t = t.to_ascii_uppercase();
    if t.contains("INT") {
        "INTEGER"
    } else if t.contains("CHAR") || t.contains("CLOB") || t.contains("TEXT") {
        "TEXT"
    } else if t.contains("BLOB") || t.is_empty() {
        "BLOB"
    } else if t.contains("REAL") || t.contains("FLOA") || t.contains("DOUB") {
        "REAL"
    } else {
        "NUMERIC"
    }
}

pub fn type_call(t: &str) -> Option<String> {
    let args = crate::engine::type_args;
    match t {
        "integer" => Some(".integer()".to_string()),
        "text" => Some(".text()".into()),
        "varchar" => Some(".string()".into()),
        "boolean" => Some(".boolean()".into()),
        "float" => Some(".float()".into()),
        "double" => Some(".double()".into()),
        "blob" => Some(".blob()".into()),
        "json_text" => Some(".json()".into()),
        "jsonb_text" => Some(".json_binary()".into()),
        "uuid_text" => Some(".uuid()".into()),
        "date_text" => Some(".date()".into()),
        "time_text" => Some(".time()".into()),
        "datetime_text" => Some(".date_time()".into()),
        "timestamp_text" => Some(".timestamp()".into()),
        "timestamp_with_timezone_text" => Some(".timestamp_with_time_zone()".into()),
        _ if t.starts_with("varchar(") => args(t).map(|a| format!(".string_len({})", a[0])),
        _ => None,
    }
}

/// SQLite cannot change a primary key in place: the table is rebuilt instead.
pub fn replace_primary_key_sql(_table: &str, _columns: &[String]) -> Vec<String> {
    Vec::new()
}

pub fn index_key_limit() -> Option<(usize, usize)> {
    None
}
