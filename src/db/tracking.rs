//! The tracking tables: sea-orm-migration's `seaql_migrations` (read and written exactly as
//! sea-orm-migration does, so existing projects keep working) and cargo-dbm's own
//! `dbm_history` beside it: every up and down with checksum, time, duration and who ran it.

use super::Db;
use crate::engine::Engine;
use crate::error::{Error, Result};
use sea_orm::{ConnectionTrait, DbBackend, Statement};

/// sea-orm-migration's default tracking table.
pub const SEAQL_TABLE: &str = "seaql_migrations";
/// cargo-dbm's audit table.
pub const HISTORY_TABLE: &str = crate::runner::protocol::HISTORY_TABLE;

/// A row of `seaql_migrations`.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Applied {
    pub version: String,
    /// Unix seconds.
    pub applied_at: i64,
}

use crate::runner::protocol::Direction;
pub use crate::runner::protocol::Recorded;

/// A row of `dbm_history`.
#[derive(Debug, Clone, serde::Serialize)]
pub struct HistoryRow {
    pub id: i64,
    pub version: String,
    pub direction: Recorded,
    pub checksum: Option<String>,
    /// Unix milliseconds.
    pub applied_at_ms: i64,
    pub duration_ms: i64,
    pub applied_by: Option<String>,
}

/// Whether `table` exists (in the current schema on PostgreSQL).
pub async fn has_table(db: &Db, table: &str) -> Result<bool> {
    Ok(all_tables(db).await?.iter().any(|t| t == table))
}

/// Whether both tracking tables (`table` and `dbm_history`) exist.
pub async fn installed(db: &Db, table: &str) -> Result<bool> {
    let tables = tracking_tables(db, table).await?;
    Ok([table, HISTORY_TABLE].iter().all(|t| tables.iter().any(|n| n == t)))
}

/// Which of the tracking tables (`table` and `dbm_history`) exist.
pub async fn tracking_tables(db: &Db, table: &str) -> Result<Vec<String>> {
    table_names(db, db.url.engine.tables_named_sql(&[table, HISTORY_TABLE])).await
}

/// Every base table of the database (the current schema on PostgreSQL).
pub async fn all_tables(db: &Db) -> Result<Vec<String>> {
    table_names(db, db.url.engine.tables_sql().to_string()).await
}

/// The `name` column of a query listing tables.
async fn table_names(db: &Db, sql: String) -> Result<Vec<String>> {
    let rows = db
        .conn
        .query_all_raw(Statement::from_string(db.backend(), sql))
        .await
        .map_err(|e| Error::db("listing tables", e))?;
    rows.iter()
        .map(|r| {
            r.try_get::<String>("", "name")
                .map_err(|e| Error::db("listing tables", e))
        })
        .collect()
}

/// The user's tables (excluding the tracking tables and SQLite internals).
pub async fn user_tables(db: &Db, tracking: &str) -> Result<Vec<String>> {
    Ok(all_tables(db)
        .await?
        .into_iter()
        .filter(|name| name != tracking && name != HISTORY_TABLE)
        .collect())
}

/// The applied versions, or `None` when the tracking table does not exist.
pub async fn applied(db: &Db, table: &str) -> Result<Option<Vec<Applied>>> {
    applied_in(db, table, &all_tables(db).await?).await
}

/// [`applied`], knowing the database's tables already.
pub async fn applied_in(db: &Db, table: &str, tables: &[String]) -> Result<Option<Vec<Applied>>> {
    if !tables.iter().any(|t| t == table) {
        return Ok(None);
    }
    let sql = format!(
        "SELECT version, applied_at FROM {} ORDER BY version",
        db.url.engine.quote(table)
    );
    let rows = db
        .conn
        .query_all_raw(Statement::from_string(db.backend(), sql))
        .await
        .map_err(|e| Error::db(format!("reading `{table}`"), e))?;
    rows.into_iter()
        .map(|r| {
            Ok(Applied {
                version: r
                    .try_get("", "version")
                    .map_err(|e| Error::db(format!("reading `{table}`"), e))?,
                applied_at: r
                    .try_get("", "applied_at")
                    .map_err(|e| Error::db(format!("reading `{table}`"), e))?,
            })
        })
        .collect::<Result<Vec<_>>>()
        .map(Some)
}

/// Every row of `dbm_history`, oldest first, or `None` when the table does not exist.
pub async fn history(db: &Db) -> Result<Option<Vec<HistoryRow>>> {
    history_in(db, &all_tables(db).await?).await
}

/// [`history`], knowing the database's tables already.
pub async fn history_in(db: &Db, tables: &[String]) -> Result<Option<Vec<HistoryRow>>> {
    if !tables.iter().any(|t| t == HISTORY_TABLE) {
        return Ok(None);
    }
    let sql = format!(
        "SELECT id, version, direction, checksum, applied_at_ms, duration_ms, applied_by FROM {} ORDER BY id",
        db.url.engine.quote(HISTORY_TABLE)
    );
    let rows = db
        .conn
        .query_all_raw(Statement::from_string(db.backend(), sql))
        .await
        .map_err(|e| Error::db("reading the migration history", e))?;
    let err = |e| Error::db("reading the migration history", e);
    rows.into_iter()
        .map(|r| {
            Ok(HistoryRow {
                id: r.try_get("", "id").map_err(err)?,
                version: r.try_get("", "version").map_err(err)?,
                direction: {
                    let d: String = r.try_get("", "direction").map_err(err)?;
                    Recorded::parse(&d).ok_or_else(|| Error::Database {
                        doing: "reading the migration history".into(),
                        reason: format!("`dbm_history` has a row whose direction `{d}` this cargo dbm does not know (written by a newer version?)"),
                    })?
                },
                checksum: r.try_get("", "checksum").map_err(err)?,
                applied_at_ms: r.try_get("", "applied_at_ms").map_err(err)?,
                duration_ms: r.try_get("", "duration_ms").map_err(err)?,
                applied_by: r.try_get("", "applied_by").map_err(err)?,
            })
        })
        .collect::<Result<Vec<_>>>()
        .map(Some)
}

/// Creates the configured PostgreSQL schema, if any, when it is missing.
pub async fn create_schema(db: &Db) -> Result<()> {
    if let Some(schema) = &db.url.schema {
        db.exec(
            &format!("creating schema `{schema}`"),
            &format!("CREATE SCHEMA IF NOT EXISTS {}", db.url.engine.quote(schema)),
        )
        .await?;
    }
    Ok(())
}

/// How the workspace's sea-orm-migration creates its tracking table. Both lines build it
/// from the same entity (`seaql_migrations.rs`: `version: String` as primary key,
/// `applied_at: i64`) with `Schema::create_table_from_entity` and `if_not_exists`; the SQL
/// differs by the sea-query each uses:
///
/// | line | SQLite | PostgreSQL |
/// |---|---|---|
/// | 1.1.x (sea-query 0.32) | `"version" varchar NOT NULL PRIMARY KEY, "applied_at" bigint NOT NULL` | the same |
/// | 2.0.x (sea-query 1.x) | `"version" varchar NOT NULL PRIMARY KEY, "applied_at" integer NOT NULL` | `… "applied_at" bigint NOT NULL` |
///
/// (sea-query's `option-sqlite-exact-column-type` feature would make 1.1 write `integer`
/// too; sea-orm does not enable it.)
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Form {
    V1_1,
    V2_0,
}

/// The form for this process, set when the sea-orm-migration version is resolved (before
/// any runner is built). Commands that create the table without building (`stamp`, a
/// baseline with nothing left to run) fall back to 2.0's form, which differs from 1.1's
/// only in SQLite's declared type of `applied_at` (both have INTEGER affinity).
static FORM: std::sync::Mutex<Option<Form>> = std::sync::Mutex::new(None);

/// Records how the workspace's sea-orm-migration creates the tracking table.
pub fn set_form(form: Form) {
    *FORM.lock().unwrap_or_else(|e| e.into_inner()) = Some(form);
}

fn form() -> Form {
    FORM.lock().unwrap_or_else(|e| e.into_inner()).unwrap_or(Form::V2_0)
}

/// The `CREATE TABLE` of the tracking table as sea-orm-migration `form` writes it on
/// `backend` (see [`Form`]).
pub fn create_tracking_table(table: &str, form: Form, engine: Engine) -> String {
    use sea_orm::sea_query::{Alias, ColumnDef, Table};
    let mut applied_at = ColumnDef::new(Alias::new("applied_at"));
    match engine.big_integer_spelling_v1() {
        Some(spelling) if form == Form::V1_1 => applied_at.custom(Alias::new(spelling)),
        _ => applied_at.big_integer(),
    };
    let backend = engine.backend();
    let stmt = Table::create()
        .table(Alias::new(table))
        .if_not_exists()
        .col(ColumnDef::new(Alias::new("version")).string().not_null().primary_key())
        .col(applied_at.not_null())
        .to_owned();
    backend.build(&stmt).to_string()
}

/// The `CREATE TABLE` of `dbm_history` on `backend`.
fn create_history_table(backend: DbBackend) -> String {
    use sea_orm::sea_query::{Alias, ColumnDef, Table};
    let text = |name: &str, null: bool| {
        let mut c = ColumnDef::new(Alias::new(name));
        c.string();
        if null {
            c.null()
        } else {
            c.not_null()
        };
        c
    };
    let stmt = Table::create()
        .table(Alias::new(HISTORY_TABLE))
        .if_not_exists()
        .col(
            ColumnDef::new(Alias::new("id"))
                .big_integer()
                .not_null()
                .auto_increment()
                .primary_key(),
        )
        .col(text("version", false))
        .col(text("direction", false))
        .col(text("checksum", true))
        .col(ColumnDef::new(Alias::new("applied_at_ms")).big_integer().not_null())
        .col(ColumnDef::new(Alias::new("duration_ms")).big_integer().not_null())
        .col(text("applied_by", true))
        .to_owned();
    backend.build(&stmt).to_string()
}

/// Creates the PostgreSQL schema if one is configured, `seaql_migrations` (exactly as the
/// workspace's sea-orm-migration does, see [`Form`]) and `dbm_history`.
pub async fn install(db: &Db, table: &str) -> Result<()> {
    create_schema(db).await?;
    db.exec(
        &format!("creating `{table}`"),
        &create_tracking_table(table, form(), db.url.engine),
    )
    .await?;
    db.exec("creating `dbm_history`", &create_history_table(db.backend()))
        .await
}

/// The statements of [`install`] (without the schema), for a dry run to run inside its
/// transaction where the tables are missing.
pub fn install_sql(engine: Engine, table: &str) -> Vec<String> {
    vec![
        create_tracking_table(table, form(), engine),
        create_history_table(engine.backend()),
    ]
}

/// Who is running this, for the audit table: `user@host`.
pub fn applied_by() -> String {
    let user = ["USER", "LOGNAME", "USERNAME"]
        .iter()
        .find_map(|k| std::env::var(k).ok().filter(|v| !v.is_empty()))
        .or_else(current_user_from_passwd)
        .unwrap_or_else(|| "unknown".into());
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .or_else(|_| std::fs::read_to_string("/etc/hostname"))
        .ok()
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .or_else(|| std::env::var("HOSTNAME").ok())
        .unwrap_or_else(|| "localhost".into());
    format!("{user}@{host}")
}

/// The login name of the process's uid, from /etc/passwd (no environment needed).
fn current_user_from_passwd() -> Option<String> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        let uid = std::fs::metadata("/proc/self").ok()?.uid();
        let passwd = std::fs::read_to_string("/etc/passwd").ok()?;
        passwd.lines().find_map(|l| {
            let mut f = l.split(':');
            let name = f.next()?;
            let id: u32 = f.nth(1)?.parse().ok()?;
            (id == uid).then(|| name.to_string())
        })
    }
    #[cfg(not(unix))]
    None
}

/// Records `versions` as applied without running them (`stamp`), with audit rows.
pub async fn stamp_rows<C: ConnectionTrait>(
    db: &C,
    table: &str,
    versions: &[String],
    checksums: &[Option<String>],
) -> Result<()> {
    use sea_orm::sea_query::{Alias, Query};
    let now_ms = chrono::Utc::now().timestamp_millis();
    let by = applied_by();
    for (v, sum) in versions.iter().zip(checksums) {
        let insert = Query::insert()
            .into_table(Alias::new(table))
            .columns([Alias::new("version"), Alias::new("applied_at")])
            .values_panic([v.clone().into(), (now_ms / 1000).into()])
            .to_owned();
        db.execute(&insert)
            .await
            .map_err(|e| Error::db(format!("stamping `{v}`"), e))?;
        audit(db, v, Recorded::Stamp, sum.clone(), now_ms, &by).await?;
    }
    Ok(())
}

/// Records partially applied `versions` as repaired, without touching the tracking table:
/// what `stamp` writes for one it neither adds nor removes.
pub async fn settle_rows<C: ConnectionTrait>(db: &C, versions: &[String]) -> Result<()> {
    let now_ms = chrono::Utc::now().timestamp_millis();
    let by = applied_by();
    for v in versions {
        audit(db, v, Recorded::Settled, None, now_ms, &by).await?;
    }
    Ok(())
}

/// A migration that started outside a transaction and never finished: its last
/// `dbm_history` row is a start.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Partial {
    pub version: String,
    pub direction: Direction,
    /// Unix milliseconds when it started.
    pub started_at_ms: i64,
    pub started_by: Option<String>,
}

/// The partially applied migrations of `rows` (oldest first).
pub fn partial(rows: &[HistoryRow]) -> Vec<Partial> {
    let mut last: std::collections::BTreeMap<&str, &HistoryRow> = std::collections::BTreeMap::new();
    for r in rows {
        last.insert(r.version.as_str(), r);
    }
    let mut out: Vec<Partial> = last
        .values()
        .filter_map(|r| match r.direction {
            Recorded::Started(direction) => Some(Partial {
                version: r.version.clone(),
                direction,
                started_at_ms: r.applied_at_ms,
                started_by: r.applied_by.clone(),
            }),
            _ => None,
        })
        .collect();
    out.sort_by_key(|p| p.started_at_ms);
    out
}

/// Removes `versions` from the tracking table without running their `down` (`stamp`).
pub async fn unstamp_rows<C: ConnectionTrait>(db: &C, table: &str, versions: &[String]) -> Result<()> {
    use sea_orm::sea_query::{Alias, Expr, ExprTrait, Query};
    let now_ms = chrono::Utc::now().timestamp_millis();
    let by = applied_by();
    for v in versions {
        let delete = Query::delete()
            .from_table(Alias::new(table))
            .and_where(Expr::col(Alias::new("version")).eq(v.clone()))
            .to_owned();
        db.execute(&delete)
            .await
            .map_err(|e| Error::db(format!("unstamping `{v}`"), e))?;
        audit(db, v, Recorded::Unstamp, None, now_ms, &by).await?;
    }
    Ok(())
}

async fn audit<C: ConnectionTrait>(
    db: &C,
    version: &str,
    direction: Recorded,
    checksum: Option<String>,
    at_ms: i64,
    by: &str,
) -> Result<()> {
    use sea_orm::sea_query::{Alias, Query};
    let insert = Query::insert()
        .into_table(Alias::new(HISTORY_TABLE))
        .columns(
            [
                "version",
                "direction",
                "checksum",
                "applied_at_ms",
                "duration_ms",
                "applied_by",
            ]
            .map(Alias::new),
        )
        .values_panic([
            version.into(),
            direction.as_str().into(),
            checksum.into(),
            at_ms.into(),
            0i64.into(),
            by.into(),
        ])
        .to_owned();
    db.execute(&insert)
        .await
        .map(|_| ())
        .map_err(|e| Error::db("writing the migration history", e))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The table as sea-query 1.x (sea-orm 2.0's, the one cargo-dbm links) writes the
    /// columns of sea-orm-migration's `seaql_migrations` entity; 1.1's form is proven
    /// against sea-orm-migration 1.1 itself by the `sea_orm_v1` integration tests.
    #[test]
    fn the_tracking_table_is_created_as_each_line_creates_it() {
        use sea_orm::sea_query::{Alias, ColumnDef, Table};
        let mut stmt = Table::create()
            .table(Alias::new("seaql_migrations"))
            .col(ColumnDef::new(Alias::new("version")).string().not_null().primary_key())
            .col(ColumnDef::new(Alias::new("applied_at")).big_integer().not_null())
            .to_owned();
        stmt.if_not_exists();
        for engine in [Engine::Sqlite, Engine::Postgres, Engine::MySql] {
            assert_eq!(
                create_tracking_table("seaql_migrations", Form::V2_0, engine),
                engine.backend().build(&stmt).to_string(),
                "{engine:?}"
            );
        }
        assert_eq!(
            create_tracking_table("seaql_migrations", Form::V1_1, Engine::Sqlite),
            "CREATE TABLE IF NOT EXISTS \"seaql_migrations\" ( \"version\" varchar NOT NULL PRIMARY KEY, \"applied_at\" bigint NOT NULL )"
        );
        assert_eq!(
            create_tracking_table("seaql_migrations", Form::V1_1, Engine::Postgres),
            create_tracking_table("seaql_migrations", Form::V2_0, Engine::Postgres)
        );
    }
}
