//! `verify`: on a scratch database, apply every migration one at a time; after each, run
//! its `down` and its `up` again, comparing schema snapshots. A `down` must leave no trace,
//! and an `up` after a `down` must give the same schema again (what pytest-alembic's
//! `test_up_down_consistency` and `test_downgrade_leaves_no_trace` check).
//!
//! The scratch database is a temporary SQLite file, or a temporary schema in the PostgreSQL
//! database; the user's data is never touched, and the scratch is removed afterwards.

use super::Ctx;
use crate::config::DbUrl;
use crate::db::snapshot::Schema;
use crate::error::{Error, Result};
use crate::migrator_source::{MigrationFile, MigratorSource};
use crate::runner::{self, Direction, Runner, Step};
use crate::schema_diff::diff;
use crate::tasks::scratch::Scratch;

/// Where `verify` found the problem (in JSON: `up`, `down`, `down-leaves-trace`,
/// `up-after-down-differs`, `entities-differ`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Stage {
    /// Its `up` failed to run.
    Up,
    /// Its `down` failed to run.
    Down,
    /// Its `down` does not undo its `up`.
    DownLeavesTrace,
    /// `up` after `down` makes another schema.
    UpAfterDownDiffers,
    /// The entities differ from the final schema.
    EntitiesDiffer,
}

/// The first migration that breaks, and why.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Failure {
    /// The migration at fault; `None` when the entities differ from the final schema (no
    /// migration caused that).
    pub version: Option<String>,
    pub stage: Stage,
    pub message: String,
    /// Schema differences, readable.
    pub changes: Vec<String>,
}

/// What `verify` found.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Report {
    pub verified: Vec<String>,
    pub failure: Option<Failure>,
    pub scratch: String,
}

/// Runs the check on a scratch database of the same engine as `ctx.url`.
/// With `entities`, the schema all migrations produce must also match the entities'.
pub async fn verify(ctx: &Ctx, entities: bool) -> Result<Report> {
    let mig = ctx.ws.migration()?;
    let src = MigratorSource::load(&mig.lib)?;
    let table = ctx.tracking_table(&src);
    let scratch = Scratch::new(ctx, "verify")?;
    let runner = runner::build(&ctx.ws, mig, &scratch.url, &ctx.shell).await?;
    let result = run(ctx, &src, &table, &runner, &scratch).await;
    scratch.drop().await;
    let mut report = result?;
    if report.failure.is_none() && entities && !ctx.ws.entities.is_empty() {
        let (migrated, wanted) = crate::tasks::schemas::schemas(ctx).await?;
        let changes = crate::schema_diff::diff(&migrated, &wanted);
        if !changes.is_empty() {
            report.failure = Some(Failure {
                version: None,
                stage: Stage::EntitiesDiffer,
                message: "after every migration, the schema differs from the entities".into(),
                changes: changes.iter().map(ToString::to_string).collect(),
            });
        }
    }
    Ok(report)
}

async fn step(runner: &Runner, url: &DbUrl, ctx: &Ctx, direction: Direction, m: &MigrationFile) -> Result<()> {
    let quiet = crate::shell::Shell::new(ctx.shell.format, true);
    runner
        .run(
            url,
            &[Step {
                direction,
                version: m.name.clone(),
                checksum: None,
                foreign_keys_off: m.foreign_keys_off(),
                out_of_order: false,
            }],
            &quiet,
        )
        .await
        .map(|_| ())
}

async fn run(ctx: &Ctx, src: &MigratorSource, table: &str, runner: &Runner, scratch: &Scratch) -> Result<Report> {
    let db = scratch.open(table).await?;
    let scratch = &scratch.url;
    let mut report = Report {
        verified: Vec::new(),
        failure: None,
        scratch: scratch.redacted(),
    };
    for m in &src.migrations {
        let v = m.name.as_str();
        let fail = |stage: Stage, message: String, changes: Vec<String>| Failure {
            version: Some(v.to_string()),
            stage,
            message,
            changes,
        };
        let before = Schema::read(&db, table).await?;
        if let Err(e) = step(runner, scratch, ctx, Direction::Up, m).await {
            report.failure = Some(fail(Stage::Up, failure_message(e)?, Vec::new()));
            break;
        }
        let after_up = Schema::read(&db, table).await?;
        if let Err(e) = step(runner, scratch, ctx, Direction::Down, m).await {
            report.failure = Some(fail(Stage::Down, failure_message(e)?, Vec::new()));
            break;
        }
        let after_down = Schema::read(&db, table).await?;
        let trace = diff(&before, &after_down);
        if !trace.is_empty() {
            report.failure = Some(fail(
                Stage::DownLeavesTrace,
                "its `down` does not undo its `up`".into(),
                trace.iter().map(ToString::to_string).collect(),
            ));
            break;
        }
        if let Err(e) = step(runner, scratch, ctx, Direction::Up, m).await {
            report.failure = Some(fail(
                Stage::Up,
                format!("after its down, up failed: {}", failure_message(e)?),
                Vec::new(),
            ));
            break;
        }
        let again = Schema::read(&db, table).await?;
        let changed = diff(&after_up, &again);
        if !changed.is_empty() {
            report.failure = Some(fail(
                Stage::UpAfterDownDiffers,
                "applying it again after its `down` gives another schema".into(),
                changed.iter().map(ToString::to_string).collect(),
            ));
            break;
        }
        ctx.shell.status("Verified", v);
        report.verified.push(v.to_string());
    }
    db.close().await;
    Ok(report)
}

/// A migration's own failure is a finding; anything else (cannot connect…) is an error.
fn failure_message(e: Error) -> Result<String> {
    match e {
        Error::MigrationFailed { message, .. } => Ok(message),
        other => Err(other),
    }
}
