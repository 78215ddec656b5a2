//! Seed data: files of a profile (`<seeds-dir>/<profile>/<table>.{yaml,json,csv}`), checked
//! against the database's own schema, converted to the columns' types, and inserted in
//! foreign-key order in one transaction, at bulk speed (multi-row INSERTs on SQLite, COPY
//! on PostgreSQL). Rust seed functions run in the same transaction, through the runner.
//!
//! - [`files`]: finding and parsing the files.
//! - [`catalog`]: tables, columns, types and foreign keys from the database.
//! - [`convert`]: values to column types.
//! - [`exec`]: batched inserts and locating the failing row (shared with the runner).
//! - [`pgcopy`]: COPY FROM STDIN on PostgreSQL.
//! - [`dump`]: the data back out as seed files.
//! - [`rust`]: finding the Rust seed functions without compiling.

pub mod catalog;
pub mod convert;
pub mod dump;
pub mod files;
pub mod rust;

#[path = "../../templates/runner/seed_exec.rs"]
pub mod exec;

/// `exec` is shared with the runner, where sea-orm comes through sea-orm-migration; it
/// names it as `super::sea_orm`.
#[allow(unused_imports)]
use ::sea_orm;

/// What `exec` calls whose form differs between sea-orm majors: in the runner it is the
/// `compat.rs` written for the workspace's sea-orm-migration; here, sea-orm 2.0's.
mod compat {
    use sea_orm::{ConnectionTrait, DbErr, Statement};

    /// Executes a statement with its values already bound.
    pub async fn execute_statement<C: ConnectionTrait>(db: &C, stmt: Statement) -> Result<(), DbErr> {
        db.execute_raw(stmt).await.map(|_| ())
    }
}

use crate::engine::Engine;
use crate::error::{Error, Result};
use catalog::{Catalog, TableInfo};
use exec::{Table, Val};
use files::{Raw, SeedFile};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// A table's rows ready to insert, with where each came from.
#[derive(Debug)]
pub struct Part {
    pub file: PathBuf,
    pub table: Table,
    /// "row 3"/"line 4" per row.
    pub locs: Vec<usize>,
    pub loc: files::Loc,
    /// A CSV file read while inserting (rows empty until then), its columns as in the file.
    pub stream: Option<Vec<catalog::Column>>,
}

impl Part {
    pub fn where_(&self, row: usize) -> String {
        match self.loc {
            files::Loc::Row => format!("row {}", self.locs[row]),
            files::Loc::Line => format!("line {}", self.locs[row]),
        }
    }
}

/// Everything one seed run will do, checked before the database is touched.
#[derive(Debug, Default)]
pub struct Plan {
    /// Tables to empty first, children before parents (`--clear`).
    pub clear: Vec<String>,
    /// Rows to insert, parents before children.
    pub parts: Vec<Part>,
    /// A foreign-key cycle among the seeded tables: constraints are checked at commit.
    pub cycle: bool,
    /// PostgreSQL: statements moving serial/identity sequences past the seeded ids.
    pub after: Vec<String>,
    /// Seeded tables in insertion order.
    pub tables: Vec<String>,
}

impl Plan {
    /// The rows to insert, when known before reading streamed CSV files.
    pub fn known_rows(&self) -> Option<u64> {
        self.parts
            .iter()
            .try_fold(0u64, |n, p| p.stream.is_none().then(|| n + p.table.rows.len() as u64))
    }

    /// Reads the rows of streamed CSV parts now (the runner needs them all up front).
    pub fn materialize(&mut self, engine: Engine) -> Result<()> {
        for part in &mut self.parts {
            let Some(cols) = part.stream.take() else {
                continue;
            };
            let mut err = None;
            let (rows, locs) = (&mut part.table.rows, &mut part.locs);
            produce(&part.file, &cols, engine, usize::MAX, |chunk| match chunk {
                Ok((r, l)) => {
                    rows.extend(r);
                    locs.extend(l);
                    true
                }
                Err(e) => {
                    err = Some(e);
                    false
                }
            });
            if let Some(e) = err {
                return Err(e);
            }
        }
        Ok(())
    }
}

/// Rows of streamed CSV per chunk: large enough for bulk statements, small enough that
/// parsing the next chunk overlaps inserting this one.
const STREAM_CHUNK: usize = 20_000;

/// Converted rows and their lines.
type ValChunk = (Vec<Vec<Val>>, Vec<usize>);

/// Parses and converts a CSV file in chunks, handing each to `each` (which returns
/// `false` to stop); a bad value ends it with an error naming the line and column.
fn produce(
    path: &Path,
    cols: &[catalog::Column],
    engine: Engine,
    chunk: usize,
    mut each: impl FnMut(Result<ValChunk>) -> bool,
) {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) => {
            each(Err(Error::io(format!("could not read `{}`", path.display()), e)));
            return;
        }
    };
    let cap = chunk.min(65_536);
    let (mut rows, mut locs): (Vec<Vec<Val>>, Vec<usize>) = (Vec::with_capacity(cap), Vec::with_capacity(cap));
    let mut err = None;
    let mut stopped = false;
    let parsed = files::csv_each(path, &text, |line, fields| {
        let mut vals = Vec::with_capacity(fields.len());
        for (f, c) in fields.iter().zip(cols) {
            match convert::convert_field(f, c.kind, engine) {
                Ok(Val::Null) if c.not_null => {
                    err = Some(value_error(path, &format!("line {line}"), c, String::new()));
                    return false;
                }
                Ok(v) => vals.push(v),
                Err(m) => {
                    err = Some(value_error(path, &format!("line {line}"), c, m));
                    return false;
                }
            }
        }
        rows.push(vals);
        locs.push(line);
        if rows.len() >= chunk {
            let full = (std::mem::take(&mut rows), std::mem::take(&mut locs));
            if !each(Ok(full)) {
                stopped = true;
                return false;
            }
            rows.reserve(cap);
            locs.reserve(cap);
        }
        true
    });
    if let Err(e) = parsed {
        each(Err(e));
    } else if let Some(e) = err {
        each(Err(e));
    } else if !stopped && !rows.is_empty() {
        each(Ok((rows, locs)));
    }
}

/// Inserts one part through `sink`; a streamed part is parsed on another thread while
/// the previous chunk is being inserted. Returns the rows inserted.
/// `progress` counts the rows inserted.
pub async fn load_part<S: exec::Sink>(
    sink: &mut S,
    part: &Part,
    engine: Engine,
    progress: &indicatif::ProgressBar,
) -> Result<usize> {
    let Some(cols) = &part.stream else {
        exec::load(sink, &part.table).await.map_err(|f| row_error(part, f))?;
        progress.inc(part.table.rows.len() as u64);
        return Ok(part.table.rows.len());
    };
    let (tx, mut rx) = tokio::sync::mpsc::channel::<Result<ValChunk>>(2);
    let chunk = STREAM_CHUNK.max(sink.chunk(&part.table));
    let (path, cols2) = (part.file.clone(), cols.clone());
    let producer = std::thread::spawn(move || {
        produce(&path, &cols2, engine, chunk, |c| tx.blocking_send(c).is_ok());
    });
    let mut n = 0;
    let mut result = Ok(());
    while let Some(chunk) = rx.recv().await {
        let (rows, locs) = match chunk {
            Ok(c) => c,
            Err(e) => {
                result = Err(e);
                break;
            }
        };
        let piece = Part {
            file: part.file.clone(),
            table: Table {
                name: part.table.name.clone(),
                columns: part.table.columns.clone(),
                casts: part.table.casts.clone(),
                rows,
            },
            locs,
            loc: part.loc,
            stream: None,
        };
        if let Err(f) = exec::load(sink, &piece.table).await {
            result = Err(row_error(&piece, f));
            break;
        }
        n += piece.table.rows.len();
        progress.inc(piece.table.rows.len() as u64);
    }
    drop(rx);
    let _ = producer.join();
    result.map(|()| n)
}

fn value_error(path: &Path, at: &str, c: &catalog::Column, m: String) -> Error {
    let msg = if m.is_empty() {
        format!(
            "`{}` {at}, column `{}`: null in a NOT NULL column",
            path.display(),
            c.name
        )
    } else {
        format!("`{}` {at}, column `{}` ({}): {m}", path.display(), c.name, c.sql_type)
    };
    seed_err(msg, NOTHING)
}

/// Reads every seed file of a profile directory (missing directory: no files); CSV files
/// only up to their header when `stream_csv` (their rows are read while inserting).
pub fn read_profile(dir: &Path, stream_csv: bool) -> Result<Vec<SeedFile>> {
    files::discover(dir)?
        .into_iter()
        .map(|(table, path)| files::read(&table, &path, stream_csv))
        .collect()
}

/// The profiles present in the seeds folder (its subfolders).
pub fn profiles(seeds: &Path) -> Vec<String> {
    let mut out: Vec<String> = std::fs::read_dir(seeds)
        .into_iter()
        .flatten()
        .flatten()
        .filter(|e| e.path().is_dir())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| !n.starts_with('.'))
        .collect();
    out.sort();
    out
}

fn seed_err(message: String, hint: &str) -> Error {
    Error::Seed {
        message,
        hint: hint.to_string(),
    }
}

const NOTHING: &str = "nothing was inserted; fix the seed file and run `cargo dbm seed` again";

/// Checks the files against the catalog, converts every value, and orders the tables.
/// `clear`: also plan emptying the seeded tables (and the tables referencing them).
pub fn plan(
    files: Vec<SeedFile>,
    catalog: &Catalog,
    engine: Engine,
    clear: bool,
    extra_clear: &[String],
) -> Result<Plan> {
    let mut by_table = std::collections::BTreeMap::new();
    for f in files {
        let Some(info) = catalog.tables.get(&f.table) else {
            let known: Vec<&str> = catalog
                .tables
                .keys()
                .map(String::as_str)
                .filter(|t| !crate::seed::dump::is_internal(t))
                .collect();
            return Err(seed_err(
                format!("`{}`: the database has no table `{}`", f.path.display(), f.table),
                &format!(
                    "the file name is the table name (a numeric prefix like `01_` is allowed); tables: {}; nothing was inserted",
                    if known.is_empty() {
                        "none (run `cargo dbm up` first?)".to_string()
                    } else {
                        known.join(", ")
                    }
                ),
            ));
        };
        let table = f.table.clone();
        let parts = convert_file(f, info, engine)?;
        by_table.insert(table, parts);
    }
    let seeded: BTreeSet<String> = by_table.keys().cloned().collect();
    let (order, cycle) = catalog::fk_order(catalog, &seeded);

    let mut plan = Plan {
        cycle,
        ..Plan::default()
    };
    if clear {
        // The seeded tables, and every table referencing them (else the delete fails).
        let mut set: BTreeSet<String> = seeded.clone();
        set.extend(extra_clear.iter().cloned());
        let mut stack: Vec<String> = set.iter().cloned().collect();
        while let Some(t) = stack.pop() {
            for c in catalog.children_of(&t) {
                if set.insert(c.to_string()) {
                    stack.push(c.to_string());
                }
            }
        }
        let (mut del, del_cycle) = catalog::fk_order(catalog, &set);
        del.reverse();
        plan.cycle |= del_cycle;
        plan.clear = del;
    }
    for t in &order {
        plan.parts.extend(by_table.remove(t).unwrap_or_default());
        if let Some(info) = catalog.tables.get(t) {
            for c in &info.columns {
                if let Some(seq) = &c.sequence
                    && let Some(sql) = engine.sequence_fixup(t, &c.name, seq)
                {
                    plan.after.push(sql);
                }
            }
        }
    }
    plan.tables = order;
    Ok(plan)
}

/// One file's rows as parts: rows naming the same columns go together.
fn convert_file(mut f: SeedFile, info: &TableInfo, engine: Engine) -> Result<Vec<Part>> {
    let mut cols = Vec::with_capacity(f.columns.len());
    for name in &f.columns {
        let Some(c) = info.column(name) else {
            let at = match f.loc {
                files::Loc::Line => "line 1".to_string(),
                files::Loc::Row => {
                    let i = f.columns.iter().position(|c| c == name).unwrap_or(0);
                    let row = f.rows.iter().position(|r| !matches!(r[i], Raw::Missing)).unwrap_or(0);
                    f.where_(row)
                }
            };
            let names: Vec<&str> = info.columns.iter().map(|c| c.name.as_str()).collect();
            return Err(seed_err(
                format!(
                    "`{}` {at}: the table `{}` has no column `{name}`",
                    f.path.display(),
                    f.table
                ),
                &format!("its columns are: {}; {NOTHING}", names.join(", ")),
            ));
        };
        cols.push(c);
    }

    if f.streamed {
        check_required(&f, info, &cols, &vec![true; cols.len()], 0)?;
        return Ok(vec![Part {
            file: f.path.clone(),
            table: Table {
                name: f.table.clone(),
                columns: cols.iter().map(|c| c.name.clone()).collect(),
                casts: cols
                    .iter()
                    .map(|c| engine.casts_parameters().then(|| c.sql_type.clone()))
                    .collect(),
                rows: Vec::new(),
            },
            locs: Vec::new(),
            loc: f.loc,
            stream: Some(cols.iter().map(|c| (*c).clone()).collect()),
        }]);
    }

    // Group rows naming the same columns (YAML/JSON rows may leave some out), checking
    // that what is left out may be.
    let masks: Vec<Vec<bool>> = f
        .rows
        .iter()
        .map(|row| row.iter().map(|v| !matches!(v, Raw::Missing)).collect())
        .collect();
    let mut starts: Vec<usize> = Vec::new();
    for (r, mask) in masks.iter().enumerate() {
        if r > 0 && masks[r - 1] == *mask {
            continue;
        }
        starts.push(r);
        check_required(&f, info, &cols, mask, r)?;
    }

    // Convert every value, on every core; the first bad value (in file order) is reported.
    let rows = std::mem::take(&mut f.rows);
    let converted = convert_rows(rows, &cols, engine);
    let mut out_rows = Vec::with_capacity(converted.len());
    for (r, row) in converted.into_iter().enumerate() {
        match row {
            Ok(v) => out_rows.push(v),
            Err((col, m)) => return Err(value_error(&f.path, &f.where_(r), cols[col], m)),
        }
    }

    let mut parts: Vec<Part> = Vec::with_capacity(starts.len());
    let mut rest = out_rows.into_iter();
    for (i, &start) in starts.iter().enumerate() {
        let end = starts.get(i + 1).copied().unwrap_or(masks.len());
        let idx: Vec<usize> = (0..cols.len()).filter(|&c| masks[start][c]).collect();
        parts.push(Part {
            file: f.path.clone(),
            table: Table {
                name: f.table.clone(),
                columns: idx.iter().map(|&c| cols[c].name.clone()).collect(),
                casts: idx
                    .iter()
                    .map(|&c| engine.casts_parameters().then(|| cols[c].sql_type.clone()))
                    .collect(),
                rows: rest.by_ref().take(end - start).collect(),
            },
            locs: f.locs[start..end].to_vec(),
            loc: f.loc,
            stream: None,
        });
    }
    Ok(parts)
}

/// Columns a row leaves out (per `mask` over `cols`) must be nullable or have a default.
fn check_required(f: &SeedFile, info: &TableInfo, cols: &[&catalog::Column], mask: &[bool], row: usize) -> Result<()> {
    for c in &info.columns {
        let given = cols.iter().zip(mask).any(|(k, p)| *p && k.name == c.name);
        if !given && c.not_null && !c.has_default {
            let at = if f.rows.is_empty() {
                "line 1".to_string()
            } else {
                f.where_(row)
            };
            return Err(seed_err(
                format!(
                    "`{}` {at}: no value for `{}.{}`, which is NOT NULL and has no default",
                    f.path.display(),
                    f.table,
                    c.name
                ),
                NOTHING,
            ));
        }
    }
    Ok(())
}

/// A converted row, or the column index and message of its first bad value (an empty
/// message: null in a NOT NULL column).
type Converted = std::result::Result<Vec<Val>, (usize, String)>;

fn convert_row(row: Vec<Raw>, cols: &[&catalog::Column], engine: Engine) -> Converted {
    let mut vals = Vec::with_capacity(row.len());
    for (i, raw) in row.into_iter().enumerate() {
        if matches!(raw, Raw::Missing) {
            continue;
        }
        let c = cols[i];
        let v = convert::convert_owned(raw, c.kind, engine).map_err(|m| (i, m))?;
        if v == Val::Null && c.not_null {
            return Err((i, String::new()));
        }
        vals.push(v);
    }
    Ok(vals)
}

/// Converts rows in parallel chunks (conversion is most of the CPU time of a big seed).
fn convert_rows(rows: Vec<Vec<Raw>>, cols: &[&catalog::Column], engine: Engine) -> Vec<Converted> {
    let threads = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1)
        .min(8);
    if threads < 2 || rows.len() < 10_000 {
        return rows.into_iter().map(|r| convert_row(r, cols, engine)).collect();
    }
    let per = rows.len().div_ceil(threads);
    let mut chunks: Vec<Vec<Vec<Raw>>> = Vec::with_capacity(threads);
    let mut it = rows.into_iter();
    loop {
        let chunk: Vec<Vec<Raw>> = it.by_ref().take(per).collect();
        if chunk.is_empty() {
            break;
        }
        chunks.push(chunk);
    }
    std::thread::scope(|s| {
        let handles: Vec<_> = chunks
            .into_iter()
            .map(|chunk| {
                s.spawn(move || {
                    chunk
                        .into_iter()
                        .map(|r| convert_row(r, cols, engine))
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().expect("conversion thread panicked"))
            .collect()
    })
}

/// The error for a row the database refused.
pub fn row_error(part: &Part, failure: exec::Failure) -> Error {
    let at = match failure.row {
        Some(r) => format!("`{}` {}", part.file.display(), part.where_(r)),
        None => format!("`{}`", part.file.display()),
    };
    seed_err(
        format!(
            "{at}: the database refused the row for `{}`: {}",
            part.table.name,
            crate::config::redact_text(&failure.message)
        ),
        "nothing was inserted (the whole seed was rolled back); fix the seed data and run `cargo dbm seed` again",
    )
}

/// Runs the plan in one transaction through sea-orm (SQLite; PostgreSQL without COPY).
pub async fn run_insert(
    db: &sea_orm::DatabaseConnection,
    plan: &Plan,
    engine: Engine,
    progress: &indicatif::ProgressBar,
) -> Result<Vec<usize>> {
    use sea_orm::{ConnectionTrait as _, TransactionTrait as _};
    let txn = db
        .begin()
        .await
        .map_err(|e| Error::db("starting the seed transaction", e))?;
    if plan.cycle {
        txn.execute_unprepared(engine.defer_constraints_sql())
            .await
            .map_err(|e| Error::db("deferring foreign keys", e))?;
    }
    for t in &plan.clear {
        txn.execute_unprepared(&format!("DELETE FROM {}", engine.quote(t)))
            .await
            .map_err(|e| Error::db(format!("clearing `{t}`"), e))?;
    }
    let mut sink = exec::InsertSink::new(&txn);
    let mut counts = Vec::with_capacity(plan.parts.len());
    for part in &plan.parts {
        counts.push(load_part(&mut sink, part, engine, progress).await?);
    }
    for sql in &plan.after {
        txn.execute_unprepared(sql)
            .await
            .map_err(|e| Error::db("moving sequences past the seeded ids", e))?;
    }
    if plan.cycle
        && let Some(sql) = engine.undefer_constraints_sql()
    {
        txn.execute_unprepared(sql)
            .await
            .map_err(|e| Error::db("checking foreign keys again", e))?;
    }
    txn.commit().await.map_err(|e| {
        seed_err(
            format!(
                "the database refused the seed at commit: {}",
                crate::config::redact_text(&exec::clean_error(&e.to_string()))
            ),
            "a deferred foreign key is not satisfied; nothing was inserted",
        )
    })?;
    Ok(counts)
}
