//! Bulk inserts of seed rows inside one transaction, and when a batch fails, the row that
//! made it fail. Shared by `cargo dbm` (files-only seeds, in-process) and the generated
//! runner (seeds with Rust functions), so both insert exactly alike.
//!
//! The caller owns the transaction. Every batch runs inside a savepoint; when one fails it
//! is rolled back and split in halves (each again in a savepoint) until the single row at
//! fault is found, so the error names a row even when thousands go in per statement.

#![allow(dead_code)]

use super::sea_orm::{ConnectionTrait, DbBackend, Statement, Value};
// What differs between sea-orm majors: `compat.rs` in the runner (one file per
// sea-orm-migration major), a module of the same name in cargo-dbm (sea-orm 2.0).
use super::compat;
use std::ops::Range;

/// SQLite's default maximum of bound variables per statement (since 3.32).
pub const SQLITE_MAX_VARS: usize = 32766;
/// PostgreSQL's limit on bind parameters per statement.
pub const PG_MAX_VARS: usize = 65535;
/// Rows per statement at most: large enough for bulk speed, small enough to bisect fast.
pub const MAX_BATCH_ROWS: usize = 2000;

/// A value already converted to its column's type.
#[derive(Clone, Debug, PartialEq)]
pub enum Val {
    Null,
    Int(i64),
    Float(f64),
    Bool(bool),
    Text(String),
    Bytes(Vec<u8>),
}

impl Val {
    /// Through `From` only: the variants' payloads differ between sea-query 0.32 (boxed,
    /// sea-orm 1.1) and 1.x (sea-orm 2.0), the conversions do not.
    fn into_value(self) -> Value {
        match self {
            Val::Null => Value::from(None::<String>),
            Val::Int(i) => Value::from(i),
            Val::Float(f) => Value::from(f),
            Val::Bool(b) => Value::from(b),
            Val::Text(s) => Value::from(s),
            Val::Bytes(b) => Value::from(b),
        }
    }
}

/// The rows of one table, ready to insert.
#[derive(Clone, Debug, Default)]
pub struct Table {
    pub name: String,
    pub columns: Vec<String>,
    /// PostgreSQL: each column's type (`format_type`), to cast parameters to.
    pub casts: Vec<Option<String>>,
    pub rows: Vec<Vec<Val>>,
}

/// Where an insert failed: the row index in [`Table::rows`] (when found) and the error.
#[derive(Debug, Clone)]
pub struct Failure {
    pub row: Option<usize>,
    pub message: String,
}

/// Quotes an identifier for `backend`: backticks on MySQL, double quotes elsewhere.
pub fn quote_ident(backend: DbBackend, s: &str) -> String {
    if backend == DbBackend::MySql {
        format!("`{}`", s.replace('`', "``"))
    } else {
        format!("\"{}\"", s.replace('"', "\"\""))
    }
}

/// How rows are put into the database: multi-row INSERTs here, COPY in `cargo dbm`.
#[allow(async_fn_in_trait)]
pub trait Sink {
    /// Runs one statement without results (savepoints).
    async fn exec(&mut self, sql: &str) -> Result<(), String>;
    /// Inserts `rows` of `table` (one or more statements).
    async fn put(&mut self, table: &Table, rows: Range<usize>) -> Result<(), String>;
    /// Rows per attempt.
    fn chunk(&self, table: &Table) -> usize;
}

/// Inserts every row of `table`; on failure, locates the row and stops. What was inserted
/// stays in the (caller's) transaction, which the caller then rolls back.
pub async fn load<S: Sink>(sink: &mut S, table: &Table) -> Result<(), Failure> {
    let n = table.rows.len();
    let chunk = sink.chunk(table).max(1);
    let mut start = 0;
    while start < n {
        let end = (start + chunk).min(n);
        attempt(sink, table, start..end).await?;
        start = end;
    }
    Ok(())
}

const SAVEPOINT: &str = "dbm_seed";

fn sp_err(message: String) -> Failure {
    Failure { row: None, message }
}

/// Tries `rows` in a savepoint; on failure rolls back and bisects to the failing row.
async fn attempt<S: Sink>(sink: &mut S, table: &Table, rows: Range<usize>) -> Result<(), Failure> {
    sink.exec(&format!("SAVEPOINT {SAVEPOINT}")).await.map_err(sp_err)?;
    match sink.put(table, rows.clone()).await {
        Ok(()) => {
            sink.exec(&format!("RELEASE SAVEPOINT {SAVEPOINT}"))
                .await
                .map_err(sp_err)?;
            Ok(())
        }
        Err(message) => {
            sink.exec(&format!("ROLLBACK TO SAVEPOINT {SAVEPOINT}"))
                .await
                .map_err(sp_err)?;
            sink.exec(&format!("RELEASE SAVEPOINT {SAVEPOINT}"))
                .await
                .map_err(sp_err)?;
            Err(locate(sink, table, rows, message).await)
        }
    }
}

/// Bisects `rows` (known to fail as a whole) down to one row. Halves that succeed stay
/// inserted, so a row that fails only because of an earlier one (a duplicate) is still found.
async fn locate<S: Sink>(sink: &mut S, table: &Table, rows: Range<usize>, message: String) -> Failure {
    let (mut rows, mut message) = (rows, message);
    while rows.len() > 1 {
        let mid = rows.start + rows.len() / 2;
        let halves = [rows.start..mid, mid..rows.end];
        let mut failed = None;
        for half in halves {
            if let Err(f) = try_once(sink, table, half.clone()).await {
                match f {
                    Some(m) => {
                        failed = Some((half, m));
                        break;
                    }
                    None => return Failure { row: None, message },
                }
            }
        }
        match failed {
            Some((half, m)) => {
                rows = half;
                message = m;
            }
            // Both halves went in alone: the batch failed as a whole (a statement limit).
            None => return Failure { row: None, message },
        }
    }
    Failure {
        row: Some(rows.start),
        message,
    }
}

/// One savepointed attempt; `Err(Some(msg))` when the rows fail, `Err(None)` when even the
/// savepoint statements fail (the transaction is unusable).
async fn try_once<S: Sink>(sink: &mut S, table: &Table, rows: Range<usize>) -> Result<(), Option<String>> {
    sink.exec(&format!("SAVEPOINT {SAVEPOINT}")).await.map_err(|_| None)?;
    match sink.put(table, rows).await {
        Ok(()) => {
            sink.exec(&format!("RELEASE SAVEPOINT {SAVEPOINT}"))
                .await
                .map_err(|_| None)?;
            Ok(())
        }
        Err(m) => {
            sink.exec(&format!("ROLLBACK TO SAVEPOINT {SAVEPOINT}"))
                .await
                .map_err(|_| None)?;
            sink.exec(&format!("RELEASE SAVEPOINT {SAVEPOINT}"))
                .await
                .map_err(|_| None)?;
            Err(Some(m))
        }
    }
}

/// Multi-row INSERTs through any sea-orm connection or transaction.
pub struct InsertSink<'a, C: ConnectionTrait> {
    pub db: &'a C,
}

impl<'a, C: ConnectionTrait> InsertSink<'a, C> {
    pub fn new(db: &'a C) -> Self {
        InsertSink { db }
    }

    fn backend(&self) -> DbBackend {
        self.db.get_database_backend()
    }
}

/// Shortens sqlx's wording to the database's own message.
pub fn clean_error(s: &str) -> String {
    let mut s = s.trim();
    for p in [
        "Execution Error: ",
        "Query Error: ",
        "RecordNotInserted",
        "error returned from database: ",
    ] {
        s = s.strip_prefix(p).unwrap_or(s).trim();
    }
    s.to_string()
}

impl<C: ConnectionTrait> Sink for InsertSink<'_, C> {
    async fn exec(&mut self, sql: &str) -> Result<(), String> {
        self.db
            .execute_unprepared(sql)
            .await
            .map(|_| ())
            .map_err(|e| clean_error(&e.to_string()))
    }

    async fn put(&mut self, table: &Table, rows: Range<usize>) -> Result<(), String> {
        if table.columns.is_empty() {
            // Rows with no columns at all: every column takes its default.
            for _ in rows {
                let sql = format!(
                    "INSERT INTO {} DEFAULT VALUES",
                    quote_ident(self.backend(), &table.name)
                );
                self.exec(&sql).await?;
            }
            return Ok(());
        }
        let pg = self.backend() == DbBackend::Postgres;
        let mut sql = format!("INSERT INTO {} (", quote_ident(self.backend(), &table.name));
        for (i, c) in table.columns.iter().enumerate() {
            if i > 0 {
                sql.push_str(", ");
            }
            sql.push_str(&quote_ident(self.backend(), c));
        }
        sql.push_str(") VALUES ");
        let mut values = Vec::with_capacity(rows.len() * table.columns.len());
        let mut n = 0usize;
        for (r, i) in rows.enumerate() {
            if r > 0 {
                sql.push_str(", ");
            }
            sql.push('(');
            for (c, v) in table.rows[i].iter().enumerate() {
                if c > 0 {
                    sql.push_str(", ");
                }
                n += 1;
                if pg {
                    sql.push('$');
                    sql.push_str(&n.to_string());
                    if let Some(Some(cast)) = table.casts.get(c) {
                        sql.push_str("::");
                        sql.push_str(cast);
                    }
                } else {
                    sql.push('?');
                }
                values.push(v.clone().into_value());
            }
            sql.push(')');
        }
        let stmt = Statement::from_sql_and_values(self.backend(), sql, values);
        compat::execute_statement(self.db, stmt)
            .await
            .map(|_| ())
            .map_err(|e| clean_error(&e.to_string()))
    }

    fn chunk(&self, table: &Table) -> usize {
        let limit = if self.backend() == DbBackend::Postgres {
            PG_MAX_VARS
        } else {
            SQLITE_MAX_VARS
        };
        (limit / table.columns.len().max(1)).clamp(1, MAX_BATCH_ROWS)
    }
}

// ---- the wire format between `cargo dbm` and the runner -------------------------------
//
// Lines on stdin, each starting with a `protocol::SeedLine` tag, fields separated by tabs,
// with `\\`, `\t`, `\n`, `\r` escaped:
//   `X  sql`                      run before the rows (clearing)
//   `T  table  cols  casts`       start a table: names and PostgreSQL casts joined by U+001F
//   `R  v  v  ...`                one row: `N` null, `i42`, `f1.5`, `b1`/`b0`, `s<text>`, `x<hex>`
//   `P  sql`                      run after the Rust function (PostgreSQL sequences)
//   `E`                           end of input

/// Escapes a field for the wire format.
pub fn wire_escape(s: &str, out: &mut String) {
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\t' => out.push_str("\\t"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            c => out.push(c),
        }
    }
}

/// Reverses [`wire_escape`].
pub fn wire_unescape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut it = s.chars();
    while let Some(c) = it.next() {
        if c == '\\' {
            match it.next() {
                Some('t') => out.push('\t'),
                Some('n') => out.push('\n'),
                Some('r') => out.push('\r'),
                Some(o) => out.push(o),
                None => out.push('\\'),
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// Appends one value in the wire format.
pub fn wire_val(v: &Val, out: &mut String) {
    match v {
        Val::Null => out.push('N'),
        Val::Int(i) => {
            out.push('i');
            out.push_str(&i.to_string());
        }
        Val::Float(f) => {
            out.push('f');
            out.push_str(&f.to_string());
        }
        Val::Bool(b) => out.push_str(if *b { "b1" } else { "b0" }),
        Val::Text(s) => {
            out.push('s');
            wire_escape(s, out);
        }
        Val::Bytes(b) => {
            out.push('x');
            for byte in b {
                out.push_str(&format!("{byte:02x}"));
            }
        }
    }
}

/// Parses one value of the wire format.
pub fn wire_parse_val(s: &str) -> Result<Val, String> {
    let bad = || format!("bad value in seed input: {s:?}");
    let (tag, rest) = s.split_at(s.len().min(1));
    Ok(match tag {
        "N" => Val::Null,
        "i" => Val::Int(rest.parse().map_err(|_| bad())?),
        "f" => Val::Float(rest.parse().map_err(|_| bad())?),
        "b" => Val::Bool(rest == "1"),
        "s" => Val::Text(wire_unescape(rest)),
        "x" => {
            let bytes = rest.as_bytes();
            if bytes.len() % 2 != 0 {
                return Err(bad());
            }
            let mut out = Vec::with_capacity(bytes.len() / 2);
            for pair in bytes.chunks(2) {
                let h = std::str::from_utf8(pair).map_err(|_| bad())?;
                out.push(u8::from_str_radix(h, 16).map_err(|_| bad())?);
            }
            Val::Bytes(out)
        }
        _ => return Err(bad()),
    })
}
