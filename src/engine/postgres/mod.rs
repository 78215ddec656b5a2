//! PostgreSQL: schemas inside a database (`--schema`), session advisory locks, COPY for
//! seeding, `pg_dump`/`pg_restore` for backups, and transactional DDL.

pub mod backup;
mod catalog;
mod connect;
mod copy;
mod rows;

use crate::config::DbUrl;
use crate::db::{Create, Db};
use crate::engine::Lock;
use crate::error::{Error, Result};
use sea_orm::{ConnectOptions, ConnectionTrait, DbBackend, Statement, TransactionTrait};
use std::path::Path;
use std::time::Duration;

pub use backup::dump;
pub use catalog::read_schema;
pub use connect::{connect, connect_hint};
pub use rows::read_rows;

pub fn name() -> &'static str {
    "postgres"
}

pub fn backend() -> DbBackend {
    DbBackend::Postgres
}

pub fn driver_feature() -> &'static str {
    "sqlx-postgres"
}

pub fn quote(ident: &str) -> String {
    format!("\"{}\"", ident.replace('"', "\"\""))
}

pub fn transactional_ddl() -> bool {
    true
}

/// How a SQL script file is applied with the engine's own shell.
pub fn script_shell() -> &'static str {
    "psql -v ON_ERROR_STOP=1 -f FILE"
}

pub fn max_identifier() -> usize {
    63
}

pub fn configure(_url: &DbUrl, _opts: &mut ConnectOptions) {}

/// The current schema's tables (plain and partitioned), from `pg_catalog`: the
/// `information_schema` view checks privileges row by row and costs tens of milliseconds
/// on a database of many schemas (a fleet of tenants), this a fraction of one.
/// `relname` compared as `name` (not cast to text), so that `pg_class`'s index on it is used.
pub fn tables_named_sql(list: &str) -> String {
    format!(
        "SELECT c.relname::text AS name FROM pg_catalog.pg_class c WHERE c.relname IN ({list}) AND c.relnamespace = (SELECT oid FROM pg_catalog.pg_namespace WHERE nspname = current_schema()) AND c.relkind IN ('r', 'p')"
    )
}

pub fn tables_sql() -> &'static str {
    "SELECT c.relname::text AS name FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p') ORDER BY c.relname"
}

/// Drops every relation and type of the current schema in one transaction. Objects that
/// belong to an extension (`pg_depend.deptype = 'e'`, e.g. the `citext` type) are left
/// alone: dropping them is what makes sea-orm-migration's `fresh` fail on databases with
/// extensions.
pub async fn drop_all(db: &Db) -> Result<Vec<String>> {
    let txn = db.conn.begin().await.map_err(|e| Error::db("starting the reset", e))?;
    let not_extension = |class: &str, alias: &str| {
        format!(
            "NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = '{class}'::regclass AND d.objid = {alias}.oid AND d.deptype = 'e')"
        )
    };
    let relations = crate::db::names(
        &txn,
        DbBackend::Postgres,
        &format!(
            "SELECT c.relname::text AS name, c.relkind::text AS kind FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
             WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f') AND {} \
             AND NOT (c.relkind = 'S' AND EXISTS (SELECT 1 FROM pg_depend d WHERE d.objid = c.oid AND d.deptype IN ('a', 'i'))) \
             ORDER BY c.relkind DESC, c.relname",
            not_extension("pg_class", "c")
        ),
    )
    .await?;
    let mut dropped = Vec::new();
    for (name, kind) in &relations {
        let what = match kind.as_str() {
            "v" => "VIEW",
            "m" => "MATERIALIZED VIEW",
            "S" => "SEQUENCE",
            "f" => "FOREIGN TABLE",
            _ => "TABLE",
        };
        let sql = format!("DROP {what} IF EXISTS {} CASCADE", quote(name));
        txn.execute_unprepared(&sql)
            .await
            .map_err(|e| Error::db(format!("dropping `{name}`"), e))?;
        dropped.push(name.clone());
    }
    let types = crate::db::names(
        &txn,
        DbBackend::Postgres,
        &format!(
            "SELECT t.typname::text AS name, t.typtype::text AS kind FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace \
             WHERE n.nspname = current_schema() AND t.typtype IN ('e', 'd') AND {} ORDER BY t.typname",
            not_extension("pg_type", "t")
        ),
    )
    .await?;
    for (name, kind) in &types {
        let what = if kind == "d" { "DOMAIN" } else { "TYPE" };
        let sql = format!("DROP {what} IF EXISTS {} CASCADE", quote(name));
        txn.execute_unprepared(&sql)
            .await
            .map_err(|e| Error::db(format!("dropping type `{name}`"), e))?;
        dropped.push(name.clone());
    }
    txn.commit().await.map_err(|e| Error::db("committing the reset", e))?;
    Ok(dropped)
}

/// `pg_try_advisory_lock(classid, objid)`: a fixed class for cargo-dbm, the schema's name
/// as object (given, not `current_schema()`, which is NULL while the schema does not exist).
const TRY_LOCK: &str = "SELECT pg_try_advisory_lock(1684172141, hashtext($1)) AS locked";

/// The advisory lock of `db`'s schema, on the session `db` (kept by a fleet); given back
/// with [`unlock_session`]. The server releases it if the process dies.
pub async fn lock_session(db: &Db, wait: &mut dyn FnMut() -> Result<()>) -> Result<bool> {
    loop {
        if try_lock(db, &db.url).await? {
            return Ok(true);
        }
        wait()?;
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

pub async fn unlock_session(db: &Db) -> Result<()> {
    db.conn
        .execute_raw(Statement::from_sql_and_values(
            db.backend(),
            "SELECT pg_advisory_unlock(1684172141, hashtext($1))",
            [sea_orm::Value::from(db.url.schema.clone().unwrap_or_default())],
        ))
        .await
        .map(|_| ())
        .map_err(|e| Error::db("releasing the migration lock", e))
}

async fn try_lock(db: &Db, url: &DbUrl) -> Result<bool> {
    let row = db
        .conn
        .query_one_raw(Statement::from_sql_and_values(
            db.backend(),
            TRY_LOCK,
            [sea_orm::Value::from(url.schema.clone().unwrap_or_default())],
        ))
        .await
        .map_err(|e| Error::db("taking the migration lock", e))?;
    Ok(row
        .map(|r| r.try_get("", "locked"))
        .transpose()
        .map_err(|e| Error::db("taking the migration lock", e))?
        .unwrap_or(false))
}

/// A session-level advisory lock on a dedicated connection; the server releases it if the
/// process dies.
pub async fn lock(url: &DbUrl, wait: &mut dyn FnMut() -> Result<()>) -> Result<Lock> {
    let db = Db::open(url, Create::No).await?.expect("a server always connects");
    loop {
        if try_lock(&db, url).await? {
            return Ok(Lock::Session(db));
        }
        wait()?;
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// A scratch database is a schema of the same database, created when first opened.
pub fn scratch_url(url: &DbUrl, _dir: &Path, name: &str) -> Result<DbUrl> {
    let mut url = url.clone();
    url.schema = Some(name.to_string());
    Ok(url)
}

pub async fn create_scratch(_url: &DbUrl) -> Result<()> {
    Ok(())
}

pub async fn drop_scratch(url: &DbUrl) {
    let Some(schema) = &url.schema else { return };
    let mut plain = url.clone();
    plain.schema = None;
    if let Ok(Some(db)) = Db::open(&plain, Create::No).await {
        let sql = format!("DROP SCHEMA IF EXISTS {} CASCADE", quote(schema));
        let _ = db.exec("dropping the scratch schema", &sql).await;
        db.close().await;
    }
}

pub fn defer_constraints_sql() -> &'static str {
    "SET CONSTRAINTS ALL DEFERRED"
}

pub fn undefer_constraints_sql() -> Option<&'static str> {
    None
}

/// Moves a serial's sequence past the largest id seeded.
pub fn sequence_fixup(table: &str, column: &str, sequence: &str) -> Option<String> {
    let (col, tab, seq) = (quote(column), quote(table), sequence.replace('\'', "''"));
    Some(format!(
        "SELECT setval('{seq}', COALESCE((SELECT max({col}) FROM {tab}), 1), (SELECT max({col}) FROM {tab}) IS NOT NULL)"
    ))
}

/// `COPY … FROM STDIN` in one transaction.
pub async fn bulk_load(db: &Db, plan: &crate::seed::Plan, progress: &indicatif::ProgressBar) -> Result<Vec<usize>> {
    copy::run(db.conn.get_postgres_connection_pool(), plan, progress).await
}

pub fn backup_content() -> &'static str {
    "dump"
}

/// A type the entity states without length or precision (`String`, `Decimal`) matches any
/// length or precision; a plain string matches `text` too, and JSON is JSON whether stored
/// as `json` or `jsonb`.
pub fn same_type(migrated: &str, entity: &str) -> bool {
    let base = |t: &str| t.split('(').next().unwrap_or(t).trim().to_string();
    migrated == entity
        || (!entity.contains('(') && base(migrated) == entity)
        || (entity == "character varying" && migrated == "text")
        || (entity == "json" && migrated == "jsonb")
}

pub fn type_call(t: &str) -> Option<String> {
    let args = crate::engine::type_args;
    match t {
        "integer" => Some(".integer()".to_string()),
        "bigint" => Some(".big_integer()".into()),
        "smallint" => Some(".small_integer()".into()),
        "text" => Some(".text()".into()),
        "boolean" => Some(".boolean()".into()),
        "real" => Some(".float()".into()),
        "double precision" => Some(".double()".into()),
        "numeric" => Some(".decimal()".into()),
        "date" => Some(".date()".into()),
        "time without time zone" => Some(".time()".into()),
        "timestamp without time zone" => Some(".date_time()".into()),
        "timestamp with time zone" => Some(".timestamp_with_time_zone()".into()),
        "uuid" => Some(".uuid()".into()),
        "json" => Some(".json()".into()),
        "jsonb" => Some(".json_binary()".into()),
        "bytea" => Some(".binary()".into()),
        "character varying" => Some(".string()".into()),
        _ if t.starts_with("character varying(") => args(t).map(|a| format!(".string_len({})", a[0])),
        _ if t.starts_with("character(") => args(t).map(|a| format!(".char_len({})", a[0])),
        _ if t.starts_with("numeric(") => args(t)
            .filter(|a| a.len() == 2)
            .map(|a| format!(".decimal_len({}, {})", a[0], a[1])),
        _ => None,
    }
}

pub fn replace_primary_key_sql(table: &str, columns: &[String]) -> Vec<String> {
    let mut out = vec![format!(
        "ALTER TABLE {} DROP CONSTRAINT IF EXISTS {}",
        quote(table),
        quote(&format!("{table}_pkey"))
    )];
    if !columns.is_empty() {
        let cols: Vec<String> = columns.iter().map(|c| quote(c)).collect();
        out.push(format!(
            "ALTER TABLE {} ADD PRIMARY KEY ({})",
            quote(table),
            cols.join(", ")
        ));
    }
    out
}

pub fn index_key_limit() -> Option<(usize, usize)> {
    None
}
