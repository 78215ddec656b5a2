//! MySQL and MariaDB: one database per URL, `GET_LOCK` for the migration lock (a session
//! lock, released by the server when the connection ends), multi-row INSERTs for seeding,
//! `mariadb-dump`/`mysqldump` for backups, and DDL that commits implicitly: a migration
//! cannot be rolled back, so cargo dbm records its start and end (see `tracking`).

pub mod backup;
mod catalog;
mod connect;
mod rows;

use crate::config::DbUrl;
use crate::db::{Create, Db};
use crate::engine::Lock;
use crate::error::{Error, Result};
use sea_orm::{ConnectOptions, ConnectionTrait, DbBackend, Statement};
use std::path::Path;
use std::time::Duration;

pub use backup::dump;
pub use catalog::read_schema;
pub use connect::{connect, connect_hint};
pub use rows::read_rows;

pub fn name() -> &'static str {
    "mysql"
}

pub fn backend() -> DbBackend {
    DbBackend::MySql
}

pub fn driver_feature() -> &'static str {
    "sqlx-mysql"
}

/// Backticks: MySQL reads double quotes as strings unless `ANSI_QUOTES` is set.
pub fn quote(ident: &str) -> String {
    format!("`{}`", ident.replace('`', "``"))
}

pub fn transactional_ddl() -> bool {
    false
}

/// How a SQL script file is applied with the engine's own shell.
pub fn script_shell() -> &'static str {
    "mariadb DATABASE < FILE"
}

pub fn max_identifier() -> usize {
    64
}

pub fn configure(_url: &DbUrl, _opts: &mut ConnectOptions) {}

pub fn tables_named_sql(list: &str) -> String {
    format!(
        "SELECT CAST(table_name AS CHAR) AS name FROM information_schema.tables WHERE table_schema = DATABASE() AND table_type = 'BASE TABLE' AND table_name IN ({list})"
    )
}

pub fn tables_sql() -> &'static str {
    "SELECT CAST(table_name AS CHAR) AS name FROM information_schema.tables WHERE table_schema = DATABASE() AND table_type = 'BASE TABLE' ORDER BY table_name"
}

/// Drops every view and table of the database with foreign key checks off. MySQL commits
/// each DROP on its own: this is not one transaction (nothing on MySQL can make it one).
pub async fn drop_all(db: &Db) -> Result<Vec<String>> {
    let objects = crate::db::names(
        &db.conn,
        DbBackend::MySql,
        "SELECT CAST(table_name AS CHAR) AS name, CAST(table_type AS CHAR) AS kind FROM information_schema.tables \
         WHERE table_schema = DATABASE() ORDER BY table_type DESC, table_name",
    )
    .await?;
    // One connection for the session variable: the pool may hand out another otherwise.
    let conn = single(&db.url).await?;
    conn.exec("disabling foreign key checks", "SET FOREIGN_KEY_CHECKS = 0")
        .await?;
    let mut dropped = Vec::new();
    let mut result = Ok(());
    for (name, kind) in &objects {
        let what = if kind == "VIEW" { "VIEW" } else { "TABLE" };
        if let Err(e) = conn
            .exec(
                &format!("dropping `{name}`"),
                &format!("DROP {what} IF EXISTS {}", quote(name)),
            )
            .await
        {
            result = Err(e);
            break;
        }
        dropped.push(name.clone());
    }
    conn.close().await;
    result.map(|()| dropped)
}

/// A connection pool of exactly one connection that is never recycled: session state
/// (`GET_LOCK`, `FOREIGN_KEY_CHECKS`) stays with it.
async fn single(url: &DbUrl) -> Result<Db> {
    let mut opts = ConnectOptions::new(url.expose().to_string());
    opts.sqlx_logging(false)
        .max_connections(1)
        .min_connections(1)
        .acquire_timeout(Duration::from_secs(30))
        .idle_timeout(Duration::from_secs(365 * 24 * 3600))
        .max_lifetime(Duration::from_secs(365 * 24 * 3600));
    let conn = connect(url, opts, crate::db::connect_timeout()).await?;
    Ok(Db { conn, url: url.clone() })
}

/// `GET_LOCK('cargo-dbm:<database>', 0)` on a connection of its own, kept for the whole
/// run; the server releases it when that session ends, so a killed run never leaves it.
/// No lock on a kept session here: see [`lock`].
pub async fn lock_session(_db: &Db, _wait: &mut dyn FnMut() -> Result<()>) -> Result<bool> {
    Ok(false)
}

pub async fn unlock_session(_db: &Db) -> Result<()> {
    Ok(())
}

pub async fn lock(url: &DbUrl, wait: &mut dyn FnMut() -> Result<()>) -> Result<Lock> {
    let db = single(url).await?;
    // Lock names are at most 64 characters.
    let name: String = format!("cargo-dbm:{}", url.database_name()).chars().take(64).collect();
    loop {
        let row = db
            .conn
            .query_one_raw(Statement::from_sql_and_values(
                DbBackend::MySql,
                "SELECT GET_LOCK(?, 0) AS locked",
                [sea_orm::Value::from(name.clone())],
            ))
            .await
            .map_err(|e| Error::db("taking the migration lock", e))?;
        let locked: Option<i64> = row
            .map(|r| r.try_get("", "locked"))
            .transpose()
            .map_err(|e| Error::db("taking the migration lock", e))?
            .flatten();
        if locked == Some(1) {
            return Ok(Lock::Session(db));
        }
        wait()?;
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// A scratch database is another database on the same server (the user needs the right
/// to create databases).
pub fn scratch_url(url: &DbUrl, _dir: &Path, name: &str) -> Result<DbUrl> {
    url.with_database(name)
}

pub async fn create_scratch(url: &DbUrl) -> Result<()> {
    let server = server_url(url)?;
    let db = Db::open(&server, Create::No).await?.expect("a server always connects");
    let name = url.database_name();
    let r = db
        .exec(
            &format!("creating the scratch database `{name}`"),
            &format!("CREATE DATABASE IF NOT EXISTS {} CHARACTER SET utf8mb4", quote(&name)),
        )
        .await;
    db.close().await;
    r.map_err(|e| match e {
        Error::Database { doing, reason } => Error::Database {
            doing,
            reason: format!(
                "{reason} (cargo dbm compares schemas in a scratch database on the same server; grant the user CREATE and DROP on `dbm\\_%` databases)"
            ),
        },
        other => other,
    })
}

pub async fn drop_scratch(url: &DbUrl) {
    let Ok(server) = server_url(url) else { return };
    if let Ok(Some(db)) = Db::open(&server, Create::No).await {
        let sql = format!("DROP DATABASE IF EXISTS {}", quote(&url.database_name()));
        let _ = db.exec("dropping the scratch database", &sql).await;
        db.close().await;
    }
}

/// The URL without a database: the server's `information_schema`, always there.
fn server_url(url: &DbUrl) -> Result<DbUrl> {
    url.with_database("information_schema")
}

/// MySQL checks foreign keys row by row and cannot defer them: checks are switched off for
/// the seed's session and back on after it (rows already in are not re-checked then, so
/// a cyclic seed is checked by the savepointed batches only).
pub fn defer_constraints_sql() -> &'static str {
    "SET FOREIGN_KEY_CHECKS = 0"
}

pub fn undefer_constraints_sql() -> Option<&'static str> {
    Some("SET FOREIGN_KEY_CHECKS = 1")
}

/// AUTO_INCREMENT moves past explicit ids by itself.
pub fn sequence_fixup(_table: &str, _column: &str, _sequence: &str) -> Option<String> {
    None
}

/// Multi-row INSERTs in one transaction (MySQL's fastest path without a local file).
pub async fn bulk_load(db: &Db, plan: &crate::seed::Plan, progress: &indicatif::ProgressBar) -> Result<Vec<usize>> {
    crate::seed::run_insert(&db.conn, plan, crate::engine::Engine::MySql, progress).await
}

pub fn backup_content() -> &'static str {
    "sql"
}

/// Integer display widths (`int(11)`, MariaDB's spelling) carry no meaning; a type the
/// entity states without length matches any length; JSON is `longtext` on MariaDB.
pub fn same_type(migrated: &str, entity: &str) -> bool {
    let norm = |t: &str| {
        let t = t.trim().to_ascii_lowercase();
        let base = t.split('(').next().unwrap_or(&t).trim().to_string();
        let int = ["tinyint", "smallint", "mediumint", "int", "bigint"].contains(&base.as_str())
            && !t.starts_with("tinyint(1)");
        let rest = t.split_once(')').map(|(_, r)| r.trim().to_string()).unwrap_or_default();
        if int {
            format!("{base} {rest}").trim().to_string()
        } else {
            t
        }
    };
    let (m, e) = (norm(migrated), norm(entity));
    if m.starts_with("tinyint(1)") != e.starts_with("tinyint(1)") {
        return false;
    }
    let base = |t: &str| t.split('(').next().unwrap_or(t).trim().to_string();
    m == e
        || (!e.contains('(') && base(&m) == e)
        || (e == "json" && m == "longtext")
        || (m == "json" && e == "longtext")
}

pub fn type_call(t: &str) -> Option<String> {
    let args = crate::engine::type_args;
    let lower = t.to_ascii_lowercase();
    let base = lower.split('(').next().unwrap_or(&lower).trim();
    let unsigned = lower.contains("unsigned");
    match base {
        "tinyint" if lower.starts_with("tinyint(1)") => Some(".boolean()".into()),
        "tinyint" if unsigned => Some(".tiny_unsigned()".into()),
        "tinyint" => Some(".tiny_integer()".into()),
        "smallint" if unsigned => Some(".small_unsigned()".into()),
        "smallint" => Some(".small_integer()".into()),
        "int" if unsigned => Some(".unsigned()".into()),
        "int" => Some(".integer()".into()),
        "bigint" if unsigned => Some(".big_unsigned()".into()),
        "bigint" => Some(".big_integer()".into()),
        "varchar" => args(&lower).map(|a| format!(".string_len({})", a[0])),
        "char" => args(&lower).map(|a| format!(".char_len({})", a[0])),
        "text" => Some(".text()".into()),
        "float" => Some(".float()".into()),
        "double" => Some(".double()".into()),
        "decimal" => args(&lower)
            .filter(|a| a.len() == 2)
            .map(|a| format!(".decimal_len({}, {})", a[0], a[1])),
        "date" => Some(".date()".into()),
        "time" => Some(".time()".into()),
        "datetime" => Some(".date_time()".into()),
        "timestamp" => Some(".timestamp()".into()),
        "json" => Some(".json()".into()),
        "binary" if lower == "binary(16)" => Some(".uuid()".into()),
        "blob" => Some(".blob()".into()),
        _ => None,
    }
}

/// One statement: MySQL has no named primary key constraint to drop.
pub fn replace_primary_key_sql(table: &str, columns: &[String]) -> Vec<String> {
    let cols: Vec<String> = columns.iter().map(|c| quote(c)).collect();
    vec![if cols.is_empty() {
        format!("ALTER TABLE {} DROP PRIMARY KEY", quote(table))
    } else {
        format!(
            "ALTER TABLE {} DROP PRIMARY KEY, ADD PRIMARY KEY ({})",
            quote(table),
            cols.join(", ")
        )
    }]
}

/// InnoDB's largest index key (DYNAMIC rows, MariaDB 10.2+ and MySQL 5.7+) and utf8mb4's
/// bytes per character: error 1071 past it.
pub fn index_key_limit() -> Option<(usize, usize)> {
    Some((3072, 4))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn types_compare_as_an_entity_can_tell() {
        assert!(same_type("int(11)", "int"));
        assert!(same_type("bigint(20)", "bigint"));
        assert!(same_type("varchar(255)", "varchar"));
        assert!(!same_type("varchar(255)", "varchar(100)"));
        assert!(!same_type("tinyint(1)", "tinyint(4)"));
        assert!(same_type("longtext", "json"));
        assert_eq!(type_call("int(11)").as_deref(), Some(".integer()"));
        assert_eq!(type_call("tinyint(1)").as_deref(), Some(".boolean()"));
        assert_eq!(type_call("decimal(10,2)").as_deref(), Some(".decimal_len(10, 2)"));
        assert_eq!(quote("a`b"), "`a``b`");
    }
}
