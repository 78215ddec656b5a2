//! `seed`: load a profile's seed files (and its Rust seed function, if any) in one
//! transaction; `--clear` empties the seeded tables first; `--dump` writes the data out.
//!
//! Everything is checked before the database is written: the files parse, every table
//! and column exists, every value fits its column. Then one transaction inserts it all in
//! foreign-key order, or nothing. A files-only profile never compiles anything.

use super::Ctx;
use crate::db::{Create, Db};
use crate::error::{Error, Result};
use crate::seed::{self, Plan, catalog::Catalog, dump::DumpFormat};
use std::path::PathBuf;
use std::time::Instant;

/// The default profile's name.
pub const DEFAULT_PROFILE: &str = "default";

/// A checked seed run, ready to execute (after the guard, for `--clear`).
pub struct Prepared {
    pub profile: String,
    pub dir: PathBuf,
    pub plan: Plan,
    /// The Rust seed function to run after the files (`seeds::<name>`).
    pub function: Option<String>,
    db: Db,
}

impl Prepared {
    /// The tables `--clear` will empty (children first).
    pub fn clears(&self) -> &[String] {
        &self.plan.clear
    }
}

/// What was seeded.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Outcome {
    pub profile: String,
    pub tables: Vec<TableRows>,
    pub rows: usize,
    pub cleared: Vec<String>,
    pub function: Option<String>,
    pub duration_ms: u64,
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct TableRows {
    pub table: String,
    pub rows: usize,
}

/// The seeds folder: `seeds-dir` under [workspace.metadata.dbm], else `seeds/`.
pub fn seeds_dir(ctx: &Ctx) -> PathBuf {
    ctx.ws.root.join(
        ctx.ws
            .config
            .seeds_dir
            .clone()
            .unwrap_or_else(|| PathBuf::from("seeds")),
    )
}

async fn open(ctx: &Ctx) -> Result<Db> {
    Db::open(&ctx.url, Create::No).await?.ok_or_else(|| Error::Database {
        doing: "seeding".into(),
        reason: format!(
            "the database {} does not exist yet; run `cargo dbm up` first",
            ctx.url.redacted()
        ),
    })
}

/// Reads, checks and converts the profile's data against the database; writes nothing.
pub async fn prepare(ctx: &Ctx, profile: &str, clear: bool) -> Result<Prepared> {
    let seeds = seeds_dir(ctx);
    let dir = seeds.join(profile);
    let functions = match ctx.ws.migration() {
        Ok(mig) => seed::rust::functions(&mig.lib)?,
        Err(_) => Vec::new(),
    };
    let wanted = seed::rust::fn_name(profile);
    let function = functions.iter().find(|f| **f == wanted).cloned();
    if !dir.is_dir() && function.is_none() {
        let available = seed::profiles(&seeds);
        return Err(Error::NoSeedProfile {
            profile: profile.to_string(),
            dir: ctx.ws.rel(&dir),
            available,
        });
    }
    // Without a Rust function, CSV rows are streamed while inserting.
    let files = seed::read_profile(&dir, function.is_none())?;
    let db = open(ctx).await?;
    let catalog = Catalog::read(&db).await?;
    let plan = seed::plan(files, &catalog, ctx.url.engine, clear, &[])?;
    Ok(Prepared {
        profile: profile.to_string(),
        dir,
        plan,
        function,
        db,
    })
}

/// Runs a prepared seed in one transaction.
pub async fn execute(ctx: &Ctx, p: Prepared) -> Result<Outcome> {
    let started = Instant::now();
    let Prepared {
        profile,
        mut plan,
        function,
        db,
        ..
    } = p;
    let counts = match &function {
        Some(f) => {
            db.close().await;
            plan.materialize(ctx.url.engine)?;
            let mig = ctx.ws.migration()?;
            let runner = crate::runner::build(&ctx.ws, mig, &ctx.url, &ctx.shell).await?;
            runner.seed(&ctx.url, &plan, f, &ctx.shell).await?;
            plan.parts.iter().map(|p| p.table.rows.len()).collect()
        }
        None => {
            // Rows inserted so far: a counter while CSV files are streamed.
            let progress = ctx
                .shell
                .progress(plan.known_rows(), "Seeding", crate::shell::Counting::Rows);
            progress.enable_steady_tick(std::time::Duration::from_millis(120));
            let result = ctx.url.engine.bulk_load(&db, &plan, &progress).await;
            progress.finish_and_clear();
            db.close().await;
            result?
        }
    };
    let mut tables: Vec<TableRows> = Vec::new();
    for (part, n) in plan.parts.iter().zip(counts) {
        match tables.iter_mut().find(|t| t.table == part.table.name) {
            Some(t) => t.rows += n,
            None => tables.push(TableRows {
                table: part.table.name.clone(),
                rows: n,
            }),
        }
    }
    Ok(Outcome {
        profile,
        rows: tables.iter().map(|t| t.rows).sum(),
        tables,
        cleared: plan.clear.clone(),
        function,
        duration_ms: started.elapsed().as_millis() as u64,
    })
}

/// Writes the database's rows to the profile's folder as seed files.
pub async fn dump(ctx: &Ctx, profile: &str, format: DumpFormat) -> Result<Vec<seed::dump::Written>> {
    let dir = seeds_dir(ctx).join(profile);
    let db = open(ctx).await?;
    let catalog = Catalog::read(&db).await?;
    let tracking = ctx
        .ws
        .config
        .migration_table
        .clone()
        .unwrap_or_else(|| crate::db::tracking::SEAQL_TABLE.to_string());
    let result = seed::dump::dump(&db, &catalog, &dir, format, &tracking).await;
    db.close().await;
    result
}
