//! Whole-schema operations: dropping everything for `reset`.
//!
//! On PostgreSQL, objects that belong to an extension (`pg_depend.deptype = 'e'`, e.g. the
//! `citext` type) are left alone: dropping them is what makes sea-orm-migration's `fresh`
//! fail on databases with extensions.

use super::Db;
use super::tracking::quote;
use crate::error::{Error, Result};
use sea_orm::{ConnectionTrait, DbBackend, Statement, TransactionTrait};

/// Drops every table, view, sequence and type of the schema (SQLite: of the file), the
/// tracking tables included, in one transaction. Returns what was dropped.
pub async fn drop_all(db: &Db) -> Result<Vec<String>> {
    match db.backend() {
        DbBackend::Sqlite => drop_all_sqlite(db).await,
        _ => drop_all_postgres(db).await,
    }
}

async fn names(db: &impl ConnectionTrait, backend: DbBackend, sql: &str) -> Result<Vec<(String, String)>> {
    let rows = db
        .query_all_raw(Statement::from_string(backend, sql.to_string()))
        .await
        .map_err(|e| Error::db("listing the schema's objects", e))?;
    rows.iter()
        .map(|r| {
            Ok((
                r.try_get::<String>("", "name")
                    .map_err(|e| Error::db("listing the schema's objects", e))?,
                r.try_get::<String>("", "kind")
                    .map_err(|e| Error::db("listing the schema's objects", e))?,
            ))
        })
        .collect()
}

async fn drop_all_sqlite(db: &Db) -> Result<Vec<String>> {
    // Foreign keys cannot be switched inside a transaction; the pool has one connection.
    db.exec("disabling foreign keys", "PRAGMA foreign_keys = OFF").await?;
    let result = async {
        let txn = db.conn.begin().await.map_err(|e| Error::db("starting the reset", e))?;
        let objects = names(
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

async fn drop_all_postgres(db: &Db) -> Result<Vec<String>> {
    let txn = db.conn.begin().await.map_err(|e| Error::db("starting the reset", e))?;
    let not_extension = |class: &str, alias: &str| {
        format!(
            "NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = '{class}'::regclass AND d.objid = {alias}.oid AND d.deptype = 'e')"
        )
    };
    let relations = names(
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
    let types = names(
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
