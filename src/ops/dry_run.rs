//! `up --dry-run` and `down --dry-run`: every statement the planned migrations would execute
//! (the tracking-table statements too), with parameters and times, and the database left
//! exactly as it was. The capture runner runs them on the real database inside one
//! transaction that is rolled back (tracking tables it lacks are created in that
//! transaction, so they vanish with it). Migrations that opt out of transactions cannot run
//! there: then the whole plan runs on a scratch database brought to the database's state by
//! its applied migrations, and the report says so.

use super::Ctx;
use super::migrate::Late;
use crate::db::{Create, Db, tracking};
use crate::error::{Error, Result};
use crate::runner::protocol::Captured;
use crate::runner::{Direction, StepSql};
use std::time::Duration;

/// Where the statements ran.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case", tag = "on")]
pub enum Ran {
    /// On the database, in a transaction rolled back at the end.
    RolledBack,
    /// On a scratch database (schema from the migrations, no rows), and why.
    Scratch { reason: String },
}

/// What a dry run saw.
#[derive(Debug, serde::Serialize)]
pub struct Report {
    pub direction: Direction,
    pub ran: Ran,
    /// Statements that created missing tracking tables (rolled back with the rest).
    pub setup: Vec<Captured>,
    /// Each migration's statements, in order.
    pub migrations: Vec<StepSql>,
    /// Pending migrations that sort before an applied one, allowed by `--out-of-order`.
    pub out_of_order: Vec<String>,
    /// The migration that failed, and why; the statements up to it are above.
    pub failed: Option<String>,
    /// The failure as an error, for the exit code.
    #[serde(skip)]
    pub failure: Option<Error>,
}

/// Plans `up`/`down` as they would run, then runs the plan without keeping anything.
pub async fn dry_run(
    ctx: &Ctx,
    direction: Direction,
    target: Option<&str>,
    late: Late,
    lock_timeout: Duration,
) -> Result<Report> {
    let late = late.or_configured(&ctx.ws.config);
    let mig = ctx.ws.migration()?;
    let (src, status) = ctx.status().await.map_err(|e| match e {
        Error::Connect { url, reason } => Error::Connect {
            url,
            reason: format!(
                "{reason} (a dry run runs on the database itself; `cargo dbm sql` writes the script without reaching it)"
            ),
        },
        e => e,
    })?;
    let steps = super::migrate::plan(&status, direction, target, late)?;
    let mut report = Report {
        direction,
        ran: Ran::RolledBack,
        setup: Vec::new(),
        migrations: Vec::new(),
        out_of_order: steps
            .iter()
            .filter(|s| s.out_of_order)
            .map(|s| s.version.clone())
            .collect(),
        failed: None,
        failure: None,
    };
    if steps.is_empty() {
        return Ok(report);
    }
    let mut runner = crate::runner::build_capture(&ctx.ws, mig, &ctx.url, &ctx.shell).await?;
    runner.timeouts = ctx.timeouts;
    let table = ctx.tracking_table(&src);
    let applied: Vec<&str> = status.applied_in_order().iter().map(|e| e.file.name.as_str()).collect();
    let before = crate::tasks::capture::ups(&status, &applied);

    let Some(db) = Db::open(&ctx.url, Create::No).await? else {
        // Nothing to roll back on: a database that does not exist yet stays so.
        report.ran = Ran::Scratch {
            reason: "the database does not exist yet, and a dry run does not create it".into(),
        };
        let caps = crate::tasks::capture::on_scratch(ctx, &ctx.url, &runner, &table, &before, &steps).await?;
        return Ok(fill(report, caps));
    };
    let mut setup = Vec::new();
    if !tracking::installed(&db, &table).await? {
        setup = tracking::install_sql(db.url.engine, &table);
    }
    db.close().await;

    let lock = crate::db::lock::acquire(&ctx.url, lock_timeout, &ctx.shell).await?;
    let caps = runner.dry_run(&ctx.url, setup, &steps, &ctx.shell).await;
    lock.release().await;
    let caps = caps?;
    if caps.needs_scratch.is_empty() {
        return Ok(fill(report, caps));
    }
    report.ran = Ran::Scratch {
        reason: format!(
            "{} cannot run inside a transaction (it opts out of one, or the engine commits DDL as it goes), so it cannot be rolled back: everything ran on a scratch database built from the migrations this database has applied (schema only, no rows)",
            caps.needs_scratch
                .iter()
                .map(|v| format!("`{v}`"))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    };
    let caps = crate::tasks::capture::on_scratch(ctx, &ctx.url, &runner, &table, &before, &steps).await?;
    Ok(fill(report, caps))
}

fn fill(mut report: Report, caps: crate::runner::Captures) -> Report {
    for c in caps.captured {
        match c.version {
            None => report.setup.extend(c.statements),
            Some(_) => report.migrations.push(c),
        }
    }
    if let Some(f) = caps.failure {
        report.failed = Some(f.to_string());
        report.failure = Some(f);
    }
    report
}
