//! `up`, `down` and `reset`: plan without compiling; only when there is work, build the
//! runner, take the lock, plan again under it, and run.

use super::Ctx;
use crate::db::snapshot::Schema;
use crate::db::{Create, Db, tracking};
use crate::error::{Error, Result};
use crate::migrator_source::MigratorSource;
use crate::plan::Status;
use crate::runner::{self, Direction, Done, Step};
use std::time::Duration;

/// What a migration run did.
/// What a run did (in JSON: `up-to-date`, `applied`, `reverted`, `baselined`, `reset`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Action {
    UpToDate,
    Applied,
    Reverted,
    /// Stamped, then applied (`up --baseline`).
    Baselined,
    /// Dropped everything, then applied (`reset`).
    Reset,
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct Outcome {
    pub action: Action,
    pub direction: Direction,
    pub done: Vec<Done>,
    /// Migrations stamped as applied without running (`up --baseline`).
    pub stamped: Vec<String>,
    /// Objects dropped (`reset`).
    pub dropped: Vec<String>,
    /// Migrations applied after the run, and in the crate.
    pub applied: usize,
    pub total: usize,
    /// Applied although a newer version was already applied (`--out-of-order`).
    pub out_of_order: Vec<String>,
    /// `down`: the database applied these migrations in another order than the Migrator
    /// lists them, and they were reverted in the database's order.
    pub applied_order_differs: bool,
}

/// What happens under the lock before the migrations run.
enum Before<'a> {
    Nothing,
    /// Stamp everything up to this revision first (an untracked database's baseline).
    Baseline(&'a str),
    /// Drop everything first (`reset`).
    DropAll,
}

/// Applies pending migrations up to `target` (all when `None`). With `baseline`, an
/// existing database without tracking table is first stamped up to that revision.
/// With `backup` (or `backup-before-up = true`), a backup is taken first when there is work.
/// How `up` treats pending migrations that sort before an applied one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Late {
    /// Refuse them (the default).
    Refuse,
    /// Apply them, recorded as out of order (`--out-of-order`, `out-of-order = true`).
    Apply,
}

impl Late {
    /// `out-of-order = true` under [workspace.metadata.dbm] allows them whatever was asked.
    pub fn or_configured(self, config: &crate::config::DbmConfig) -> Late {
        if config.out_of_order { Late::Apply } else { self }
    }
}

/// Applies pending migrations up to `target` (all when `None`). With `baseline`, an
/// existing database without tracking table is first stamped up to that revision.
/// With `backup` (or `backup-before-up = true`), a backup is taken first when there is work.
/// Pending migrations that sort before an applied one are refused unless `late` allows them.
pub async fn up(
    ctx: &Ctx,
    target: Option<&str>,
    baseline: Option<&str>,
    backup: bool,
    late: Late,
    lock_timeout: Duration,
) -> Result<Outcome> {
    let before = baseline.map(Before::Baseline).unwrap_or(Before::Nothing);
    let late = late.or_configured(&ctx.ws.config);
    run(ctx, Direction::Up, target, before, backup, late, lock_timeout).await
}

/// Reverts applied migrations: one by default, N, down to a revision, or to `base`, newest
/// first in the order the database applied them.
pub async fn down(ctx: &Ctx, target: Option<&str>, lock_timeout: Duration) -> Result<Outcome> {
    run(
        ctx,
        Direction::Down,
        target,
        Before::Nothing,
        false,
        Late::Refuse,
        lock_timeout,
    )
    .await
}

/// Drops everything in the database (schema), then applies every migration. The runner is
/// built first, so a compile error leaves the database as it was. Confirm before calling.
pub async fn reset(ctx: &Ctx, lock_timeout: Duration) -> Result<Outcome> {
    run(
        ctx,
        Direction::Up,
        None,
        Before::DropAll,
        false,
        Late::Refuse,
        lock_timeout,
    )
    .await
}

/// The steps of `up`/`down` for this state: refused when it is incomplete, and when `up`
/// would apply out of order and `late` does not allow it.
pub(crate) fn plan(status: &Status, direction: Direction, target: Option<&str>, late: Late) -> Result<Vec<Step>> {
    if !status.partial.is_empty() {
        return Err(Error::PartiallyApplied(status.partial.clone()));
    }
    status.ensure_complete()?;
    match direction {
        Direction::Up => {
            let steps = status.up_steps(target)?;
            if late == Late::Refuse && steps.iter().any(|s| s.out_of_order) {
                let planned: Vec<&str> = steps
                    .iter()
                    .filter(|s| s.out_of_order)
                    .map(|s| s.version.as_str())
                    .collect();
                return Err(Error::OutOfOrder(
                    status
                        .out_of_order()
                        .into_iter()
                        .filter(|o| planned.contains(&o.version.as_str()))
                        .collect(),
                ));
            }
            Ok(steps)
        }
        Direction::Down => status.down_steps(target),
    }
}

/// An existing database with tables but no tracking table: refuse unless baselining.
async fn check_untracked(ctx: &Ctx, status: &Status, before: &Before<'_>) -> Result<()> {
    if status.tracked || !matches!(before, Before::Nothing) {
        return Ok(());
    }
    let Some(db) = Db::open(&ctx.url, Create::No).await? else {
        return Ok(());
    };
    let result = refuse_untracked(&db, status).await;
    db.close().await;
    result
}

/// Refuses to apply migrations to a database that has tables but no tracking table (it
/// needs `stamp` or `--baseline` first).
pub(crate) async fn refuse_untracked(db: &Db, status: &Status) -> Result<()> {
    if status.tracked {
        return Ok(());
    }
    let tables = tracking::user_tables(db, &status.table).await?;
    if tables.is_empty() {
        return Ok(());
    }
    Err(Error::Untracked {
        database: db.url.redacted(),
        tables,
    })
}

/// Checks that every migration that ran is recorded as such in `after`.
pub(crate) fn verify_recorded(done: &[Done], after: &Status) -> Result<()> {
    for d in done {
        let recorded = after
            .entries
            .iter()
            .any(|e| e.file.name == d.version && e.applied_at.is_some());
        if recorded != (d.direction == Direction::Up) {
            return Err(Error::Other(format!(
                "migration `{}` ran but the tracking table `{}` does not show it {}; check `migration-table` under [workspace.metadata.dbm]",
                d.version,
                after.table,
                if d.direction == Direction::Up {
                    "applied"
                } else {
                    "reverted"
                }
            )));
        }
    }
    Ok(())
}

/// A failed migration's error, naming the backup taken before it to restore from.
pub(crate) fn with_restore_note(e: Error, saved: Option<&crate::tasks::backup::BackupInfo>) -> Error {
    match (e, saved) {
        (
            Error::MigrationFailed {
                version,
                direction,
                message,
                rolled_back,
                ..
            },
            Some(info),
        ) => Error::MigrationFailed {
            version,
            direction,
            message,
            rolled_back,
            restore: Some(crate::tasks::backup::restore_note(info)),
        },
        (e, _) => e,
    }
}

async fn run(
    ctx: &Ctx,
    direction: Direction,
    target: Option<&str>,
    before: Before<'_>,
    backup: bool,
    late: Late,
    lock_timeout: Duration,
) -> Result<Outcome> {
    let mig = ctx.ws.migration()?;
    let (src, status) = ctx.status().await?;
    if !status.partial.is_empty() {
        return Err(Error::PartiallyApplied(status.partial.clone()));
    }
    let total = status.entries.len();
    if let Before::Baseline(rev) = before
        && status.tracked
        && status.applied().next().is_some()
    {
        return Err(Error::Config(format!(
            "`--baseline {rev}` is for a database that has no migration history yet; this one has {} applied migration(s)",
            status.applied().count()
        )));
    }
    if direction == Direction::Up {
        check_untracked(ctx, &status, &before).await?;
    }
    let mut planned = plan(&status, direction, target, late)?;
    let applied_order_differs = direction == Direction::Down && status.applied_order_differs();
    if let Before::Baseline(rev) = before {
        // What remains after the baseline.
        let upto = status.upto(rev)?;
        planned.retain(|s| !status.names()[..upto].contains(&s.version.as_str()));
    }
    let drop_all = matches!(before, Before::DropAll);
    if planned.is_empty() && !drop_all && !matches!(before, Before::Baseline(_)) {
        return Ok(Outcome {
            action: Action::UpToDate,
            direction,
            done: Vec::new(),
            stamped: Vec::new(),
            dropped: Vec::new(),
            applied: status.applied().count(),
            total,
            out_of_order: Vec::new(),
            applied_order_differs,
        });
    }

    let runner = if planned.is_empty() && !drop_all {
        None
    } else {
        let mut runner = match &ctx.runner {
            Some(r) => r.clone(),
            None => runner::build(&ctx.ws, mig, &ctx.url, &ctx.shell).await?,
        };
        runner.timeouts = ctx.timeouts;
        Some(runner)
    };
    let saved = if direction == Direction::Up && !planned.is_empty() {
        crate::tasks::backup::backup_before_migrating(ctx, backup).await?
    } else {
        None
    };
    let lock = crate::db::lock::acquire(&ctx.url, lock_timeout, &ctx.shell).await?;
    let result = locked(ctx, &src, runner.as_ref(), direction, target, &before, late).await;
    lock.release().await;
    let (done, stamped, dropped, out_of_order) = result.map_err(|e| with_restore_note(e, saved.as_ref()))?;

    // Verify that what ran is recorded.
    let (_, after) = ctx.status().await?;
    verify_recorded(&done, &after)?;
    let action = match (&before, direction, done.is_empty()) {
        (Before::DropAll, _, _) => Action::Reset,
        (Before::Baseline(_), _, _) => Action::Baselined,
        (_, _, true) => Action::UpToDate,
        (_, Direction::Up, false) => Action::Applied,
        (_, Direction::Down, false) => Action::Reverted,
    };
    Ok(Outcome {
        action,
        direction,
        done,
        stamped,
        dropped,
        applied: after.applied().count(),
        total,
        out_of_order,
        applied_order_differs,
    })
}

/// Under the lock: the tracking tables exist, the baseline or the reset happens, the plan
/// is made again (another run may have applied some migrations meanwhile), and the runner
/// executes it.
async fn locked(
    ctx: &Ctx,
    src: &MigratorSource,
    runner: Option<&runner::Runner>,
    direction: Direction,
    target: Option<&str>,
    before: &Before<'_>,
    late: Late,
) -> Result<(Vec<Done>, Vec<String>, Vec<String>, Vec<String>)> {
    let table = ctx.tracking_table(src);
    if runner.is_none() {
        // Nothing is built (a baseline, nothing pending): the form still follows the crate.
        crate::runner::use_tracking_form_of(&ctx.ws, ctx.ws.migration()?)?;
    }
    let db = Db::open(&ctx.url, Create::Yes).await?.expect("created");
    let mut dropped = Vec::new();
    if let Before::DropAll = before {
        dropped = db.url.engine.drop_all(&db).await?;
    }
    tracking::install(&db, &table).await?;
    let mut stamped = Vec::new();
    if let Before::Baseline(rev) = before {
        let status = Status::load(Some(&db), src, &table).await?;
        let upto = status.upto(rev)?;
        let entries: Vec<_> = status.entries[..upto]
            .iter()
            .filter(|e| e.applied_at.is_none())
            .collect();
        stamped = entries.iter().map(|e| e.file.name.clone()).collect();
        let sums: Vec<Option<String>> = entries.iter().map(|e| e.file.checksum()).collect();
        tracking::stamp_rows(&db.conn, &table, &stamped, &sums).await?;
    }
    let status = Status::load(Some(&db), src, &table).await?;
    // Planned again: another run may have applied some, or stopped halfway, meanwhile.
    let steps = match plan(&status, direction, target, late) {
        Ok(steps) => steps,
        Err(e) => {
            db.close().await;
            return Err(e);
        }
    };
    let out_of_order: Vec<String> = steps
        .iter()
        .filter(|s| s.out_of_order)
        .map(|s| s.version.clone())
        .collect();
    // Where DDL cannot be rolled back, the schema before the run tells what a failed
    // migration left behind.
    let before_schema = if !steps.is_empty() && !db.url.engine.transactional_ddl() {
        Some(Schema::read(&db, &table).await?)
    } else {
        None
    };
    db.close().await;
    if steps.is_empty() {
        return Ok((Vec::new(), stamped, dropped, out_of_order));
    }
    let runner = runner.expect("a runner is built whenever steps were planned");
    match runner.run(&ctx.url, &steps, &ctx.shell).await {
        Ok(done) => Ok((done, stamped, dropped, out_of_order)),
        Err(Error::MigrationFailed {
            version,
            direction,
            message,
            rolled_back: false,
            restore,
        }) => {
            let left = match &before_schema {
                Some(before) => left_behind(ctx, before, &table).await,
                None => String::new(),
            };
            Err(Error::MigrationFailed {
                version,
                direction,
                message: format!("{message}{left}"),
                rolled_back: false,
                restore,
            })
        }
        Err(e) => Err(e),
    }
}

/// What a failed migration outside a transaction changed in the schema: `. Changes it left:
/// table `x` added, …`, or nothing when the schema cannot be read or did not change.
async fn left_behind(ctx: &Ctx, before: &Schema, table: &str) -> String {
    let Ok(Some(db)) = Db::open(&ctx.url, Create::No).await else {
        return String::new();
    };
    let after = Schema::read(&db, table).await;
    db.close().await;
    let Ok(after) = after else {
        return String::new();
    };
    let changes: Vec<String> = crate::schema_diff::diff(before, &after)
        .iter()
        .map(ToString::to_string)
        .collect();
    if changes.is_empty() {
        return ". It changed nothing in the schema before failing".into();
    }
    format!(". Changes it left in the schema: {}", changes.join("; "))
}
