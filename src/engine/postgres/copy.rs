//! PostgreSQL: the whole seed in one sqlx transaction, rows sent with `COPY ... FROM STDIN`
//! (text format), the fastest way in; a failing COPY is bisected like any batch.

use crate::error::{Error, Result};
use crate::seed::exec::{self, Sink, Table, Val};
use crate::seed::{Plan, row_error};
use sea_orm::sqlx::{self, PgConnection, Postgres};
use std::io::Write as _;
use std::ops::Range;

/// Rows per COPY: big enough to stream at full speed, small enough that a failure is
/// bisected quickly.
const COPY_ROWS: usize = 100_000;
/// Bytes sent per message: small enough that the server parses while we encode.
const SEND_BYTES: usize = 256 << 10;

struct CopySink<'a> {
    conn: &'a mut PgConnection,
}

fn pg_message(e: &sqlx::Error) -> String {
    if let Some(db) = e.as_database_error() {
        if let Some(pg) = db.try_downcast_ref::<sqlx::postgres::PgDatabaseError>() {
            return match pg.detail() {
                Some(d) => format!("{} ({d})", pg.message()),
                None => pg.message().to_string(),
            };
        }
        return db.message().to_string();
    }
    exec::clean_error(&e.to_string())
}

async fn raw(conn: &mut PgConnection, sql: &str) -> std::result::Result<(), sqlx::Error> {
    sqlx::raw_sql(sqlx::AssertSqlSafe(sql.to_string()))
        .execute(conn)
        .await
        .map(|_| ())
}

/// Appends a value in COPY's text format.
fn copy_val(v: &Val, out: &mut Vec<u8>) {
    match v {
        Val::Null => out.extend_from_slice(b"\\N"),
        Val::Int(i) => {
            let _ = write!(out, "{i}");
        }
        Val::Float(f) => {
            let s = if f.is_nan() {
                "NaN".to_string()
            } else if f.is_infinite() {
                if *f > 0.0 { "Infinity" } else { "-Infinity" }.to_string()
            } else {
                let _ = write!(out, "{f}");
                return;
            };
            out.extend_from_slice(s.as_bytes());
        }
        Val::Bool(b) => out.push(if *b { b't' } else { b'f' }),
        Val::Text(s) => {
            for &c in s.as_bytes() {
                match c {
                    b'\\' => out.extend_from_slice(b"\\\\"),
                    b'\t' => out.extend_from_slice(b"\\t"),
                    b'\n' => out.extend_from_slice(b"\\n"),
                    b'\r' => out.extend_from_slice(b"\\r"),
                    _ => out.push(c),
                }
            }
        }
        Val::Bytes(b) => {
            out.extend_from_slice(b"\\\\x");
            for byte in b {
                let _ = write!(out, "{byte:02x}");
            }
        }
    }
}

impl Sink for CopySink<'_> {
    async fn exec(&mut self, sql: &str) -> std::result::Result<(), String> {
        raw(self.conn, sql).await.map_err(|e| pg_message(&e))
    }

    async fn put(&mut self, table: &Table, rows: Range<usize>) -> std::result::Result<(), String> {
        let cols: Vec<String> = table.columns.iter().map(|c| super::quote(c)).collect();
        if cols.is_empty() {
            return Err("COPY needs at least one column".into());
        }
        let sql = format!("COPY {} ({}) FROM STDIN", super::quote(&table.name), cols.join(", "));
        let mut copy = self.conn.copy_in_raw(&sql).await.map_err(|e| pg_message(&e))?;
        let mut buf = Vec::with_capacity(SEND_BYTES + 4096);
        for i in rows {
            for (c, v) in table.rows[i].iter().enumerate() {
                if c > 0 {
                    buf.push(b'\t');
                }
                copy_val(v, &mut buf);
            }
            buf.push(b'\n');
            if buf.len() >= SEND_BYTES {
                if let Err(e) = copy.send(std::mem::take(&mut buf)).await {
                    let _ = copy.abort("seed row failed").await;
                    return Err(pg_message(&e));
                }
                buf.reserve(SEND_BYTES + 4096);
            }
        }
        if !buf.is_empty()
            && let Err(e) = copy.send(buf).await
        {
            let _ = copy.abort("seed row failed").await;
            return Err(pg_message(&e));
        }
        copy.finish().await.map(|_| ()).map_err(|e| pg_message(&e))
    }

    fn chunk(&self, _table: &Table) -> usize {
        COPY_ROWS
    }
}

/// Runs the plan in one transaction on the pool's connection, with COPY.
pub async fn run(pool: &sqlx::PgPool, plan: &Plan, progress: &indicatif::ProgressBar) -> Result<Vec<usize>> {
    let mut tx: sqlx::Transaction<'static, Postgres> = pool
        .begin()
        .await
        .map_err(|e| Error::db("starting the seed transaction", pg_message(&e)))?;
    if plan.cycle {
        raw(&mut tx, "SET CONSTRAINTS ALL DEFERRED")
            .await
            .map_err(|e| Error::db("deferring foreign keys", pg_message(&e)))?;
    }
    if !plan.clear.is_empty() {
        // One TRUNCATE for every table: fast, transactional, and FK-safe among them.
        let list: Vec<String> = plan.clear.iter().map(|t| super::quote(t)).collect();
        raw(&mut tx, &format!("TRUNCATE {}", list.join(", ")))
            .await
            .map_err(|e| Error::db("clearing the seeded tables", pg_message(&e)))?;
    }
    let mut counts = Vec::with_capacity(plan.parts.len());
    {
        let mut sink = CopySink { conn: &mut tx };
        for part in &plan.parts {
            if part.table.columns.is_empty() {
                counts.push(part.table.rows.len());
                progress.inc(part.table.rows.len() as u64);
                let sql = format!("INSERT INTO {} DEFAULT VALUES", super::quote(&part.table.name));
                for _ in &part.table.rows {
                    sink.exec(&sql)
                        .await
                        .map_err(|m| row_error(part, exec::Failure { row: None, message: m }))?;
                }
                continue;
            }
            counts.push(crate::seed::load_part(&mut sink, part, crate::engine::Engine::Postgres, progress).await?);
        }
    }
    for sql in &plan.after {
        raw(&mut tx, sql)
            .await
            .map_err(|e| Error::db("moving sequences past the seeded ids", pg_message(&e)))?;
    }
    tx.commit().await.map_err(|e| Error::Seed {
        message: format!(
            "the database refused the seed at commit: {}",
            crate::config::redact_text(&pg_message(&e))
        ),
        hint: "a deferred foreign key is not satisfied; nothing was inserted".into(),
    })?;
    Ok(counts)
}
