//! `up` and `down`: plan without compiling, and only when there is work, build the runner,
//! take the lock, plan again under it, and run.

use super::Ctx;
use crate::db::lock::Lock;
use crate::db::{Create, Db, tracking};
use crate::error::Result;
use crate::migrator_source::MigratorSource;
use crate::plan::Status;
use crate::runner::{self, Direction, Done, Step};
use std::time::Duration;

/// What a migration run did.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Outcome {
    pub direction: Direction,
    pub done: Vec<Done>,
    /// Migrations applied after the run (for the summary).
    pub applied: usize,
    pub total: usize,
}

/// Applies pending migrations up to `target` (all when `None`).
pub async fn up(ctx: &Ctx, target: Option<&str>, lock_timeout: Duration) -> Result<Outcome> {
    run(ctx, Direction::Up, target, lock_timeout).await
}

/// Reverts applied migrations: one by default, N, down to a revision, or to `base`.
pub async fn down(ctx: &Ctx, target: Option<&str>, lock_timeout: Duration) -> Result<Outcome> {
    run(ctx, Direction::Down, target, lock_timeout).await
}

fn steps(status: &Status, direction: Direction, target: Option<&str>) -> Result<Vec<Step>> {
    status.ensure_complete()?;
    match direction {
        Direction::Up => status.up_steps(target),
        Direction::Down => status.down_steps(target),
    }
}

async fn run(
    ctx: &Ctx,
    direction: Direction,
    target: Option<&str>,
    lock_timeout: Duration,
) -> Result<Outcome> {
    let mig = ctx.ws.migration()?;
    let (src, status) = ctx.status().await?;
    let total = status.entries.len();
    let planned = steps(&status, direction, target)?;
    if planned.is_empty() {
        return Ok(Outcome {
            direction,
            done: Vec::new(),
            applied: status.applied().count(),
            total,
        });
    }

    let runner = runner::build(&ctx.ws, mig, &ctx.url, &ctx.shell).await?;
    let lock = Lock::acquire(&ctx.url, lock_timeout, &ctx.shell).await?;
    let result = locked(ctx, &src, &runner, direction, target).await;
    lock.release().await;
    let done = result?;
    let (_, after) = ctx.status().await?;
    Ok(Outcome {
        direction,
        done,
        applied: after.applied().count(),
        total,
    })
}

/// Under the lock: the tracking tables exist, the plan is made again (another run may have
/// applied some migrations meanwhile), and the runner executes it.
async fn locked(
    ctx: &Ctx,
    src: &MigratorSource,
    runner: &runner::Runner,
    direction: Direction,
    target: Option<&str>,
) -> Result<Vec<Done>> {
    let table = ctx.tracking_table(src);
    let db = Db::open(&ctx.url, Create::Yes).await?.expect("created");
    tracking::install(&db, &table).await?;
    let status = Status::load(Some(&db), src, &table).await?;
    db.close().await;
    let steps = steps(&status, direction, target)?;
    if steps.is_empty() {
        return Ok(Vec::new());
    }
    runner.run(&ctx.url, &steps, &ctx.shell).await
}
