//! The fleet forms of `status`, `check`, `up`, `down`, `stamp` and `backup` (`--all`,
//! `--fleet GROUP`): each target is worked on as its single-target form would, at most
//! `jobs` at once (see [`crate::fleet::exec`]), and reported in one table.
//!
//! Reading state never compiles anything: the Migrator's source is parsed once and each
//! target's tracking table is read. `up` and `down` then build the runner once, and only
//! targets with work start it; each takes its own migration lock and plans again under it,
//! so two fleet runs at once apply each migration once.

use super::Ctx;
use super::migrate::Late;
use crate::db::{Create, Sessions, tracking};
use crate::error::{Error, Result};
use crate::fleet::exec::{self, OnFailure, Progress, Ran};
use crate::fleet::{Fleet, Target};
use crate::migrator_source::MigratorSource;
use crate::plan::Status;
use crate::runner::{Direction, Done, Runner, Server};
use std::cell::RefCell;
use std::collections::HashMap;
use std::time::{Duration, Instant};

/// How one target ended, in JSON as `applied`, `reverted`, `up-to-date`, `stamped`,
/// `unchanged`, `backed-up`, `failed`, `not-started`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Result_ {
    Applied,
    Reverted,
    UpToDate,
    Stamped,
    Unchanged,
    BackedUp,
    Failed,
    NotStarted,
}

impl Result_ {
    pub fn as_str(self) -> &'static str {
        match self {
            Result_::Applied => "applied",
            Result_::Reverted => "reverted",
            Result_::UpToDate => "up-to-date",
            Result_::Stamped => "stamped",
            Result_::Unchanged => "unchanged",
            Result_::BackedUp => "backed-up",
            Result_::Failed => "failed",
            Result_::NotStarted => "not-started",
        }
    }
}

/// What happened on one target.
#[derive(Debug, Clone, serde::Serialize)]
pub struct TargetReport {
    pub target: String,
    /// Redacted.
    pub url: String,
    pub result: Result_,
    /// The migrations applied, reverted or stamped.
    pub migrations: Vec<String>,
    /// Applied migrations after the run (when known).
    pub applied: Option<usize>,
    pub duration_ms: u64,
    /// The backup file (`backup --all`).
    pub file: Option<std::path::PathBuf>,
    /// Why it failed or did not start.
    pub error: Option<String>,
    pub hint: Option<String>,
    /// The exit code the single-target command would have returned.
    pub exit_code: i32,
}

impl TargetReport {
    fn new(t: &Target, result: Result_) -> TargetReport {
        TargetReport {
            target: t.name.clone(),
            url: t.redacted(),
            result,
            migrations: Vec::new(),
            applied: None,
            duration_ms: 0,
            file: None,
            error: None,
            hint: None,
            exit_code: crate::exit_codes::OK,
        }
    }

    fn failed(t: &Target, e: &Error) -> TargetReport {
        TargetReport {
            error: Some(crate::config::redact_text(&e.to_string())),
            hint: e.hint(),
            exit_code: e.exit_code(),
            ..Self::new(t, Result_::Failed)
        }
    }

    /// Whether work was done on the target.
    pub fn changed(&self) -> bool {
        matches!(
            self.result,
            Result_::Applied | Result_::Reverted | Result_::Stamped | Result_::BackedUp
        )
    }
}

/// The context of one target: its URL, the fleet's runner, and its own backup folder (the
/// target's name under the backup folder), so that retention never counts another
/// target's backups (PostgreSQL schemas share one database name).
fn target_ctx(ctx: &Ctx, t: &Target, runner: Option<&Runner>, backups: &std::path::Path) -> Ctx {
    let mut tctx = ctx.for_target(&t.url, runner);
    tctx.ws.config.backup_dir = Some(backups.join(t.slug()));
    tctx
}

/// Counts a finished target on the progress bar.
fn tick(progress: &mut Progress, r: &Result<TargetReport>) {
    progress.done(r.is_ok(), r.as_ref().is_ok_and(TargetReport::changed));
}

/// The reports of a run, in the fleet's order, from `exec` results.
fn reports(fleet: &Fleet, ran: Vec<Ran<TargetReport>>) -> Vec<TargetReport> {
    fleet
        .targets
        .iter()
        .zip(ran)
        .map(|(t, r)| match r {
            Ran::Done(report) => report,
            Ran::Failed(e) => TargetReport::failed(t, &e),
            Ran::NotStarted(why) => TargetReport {
                error: Some(why),
                ..TargetReport::new(t, Result_::NotStarted)
            },
        })
        .collect()
}

/// How many targets are read at once: reading is light, so more than `jobs`.
fn read_jobs(fleet: &Fleet) -> usize {
    (fleet.jobs * 4).clamp(1, 32)
}

/// Every target's migration state, in the fleet's order, read concurrently over `sessions`
/// without compiling anything. A target that cannot be read carries its error.
async fn read(ctx: &Ctx, fleet: &Fleet, src: &MigratorSource, sessions: &Sessions) -> Vec<Result<Status>> {
    let table = ctx.tracking_table(src);
    let table = table.as_str();
    // Reading changes nothing: no canary wave, and every target is read.
    exec::each(
        &fleet.targets,
        read_jobs(fleet),
        OnFailure::KeepGoing,
        &mut |t| async move {
            let db = sessions.open(&t.url, Create::No).await?;
            let st = Status::load(db.as_ref(), src, table).await;
            if let Some(db) = db {
                sessions.give_back(db).await;
            }
            st
        },
        &mut |_, _| {},
    )
    .await
    .into_iter()
    .map(|r| match r {
        Ran::Done(st) => Ok(st),
        Ran::Failed(e) => Err(e),
        Ran::NotStarted(why) => Err(Error::Other(why)),
    })
    .collect()
}

/// [`read`] on sessions of its own (`status --all`, `check --all`).
async fn read_only(ctx: &Ctx, fleet: &Fleet) -> Result<Vec<Result<Status>>> {
    let src = MigratorSource::load(&ctx.ws.migration()?.lib)?;
    let sessions = Sessions::default();
    let ran = read(ctx, fleet, &src, &sessions).await;
    sessions.close().await;
    Ok(ran)
}

/// One target's line of `status --all`.
#[derive(Debug, Clone, serde::Serialize)]
pub struct TargetStatus {
    pub target: String,
    pub url: String,
    /// The last applied migration (`None`: nothing applied, or unreachable).
    pub current: Option<String>,
    pub applied: usize,
    pub pending: usize,
    pub total: usize,
    pub out_of_order: Vec<String>,
    pub modified: Vec<String>,
    pub partially_applied: Vec<String>,
    pub missing: Vec<String>,
    pub error: Option<String>,
    /// What `cargo dbm status` on this target alone would exit with.
    pub exit_code: i32,
}

/// `status --all`: one line per target.
pub async fn status(ctx: &Ctx, fleet: &Fleet) -> Result<Vec<TargetStatus>> {
    let ran = read_only(ctx, fleet).await?;
    Ok(fleet
        .targets
        .iter()
        .zip(ran)
        .map(|(t, r)| {
            let mut line = TargetStatus {
                target: t.name.clone(),
                url: t.redacted(),
                current: None,
                applied: 0,
                pending: 0,
                total: 0,
                out_of_order: Vec::new(),
                modified: Vec::new(),
                partially_applied: Vec::new(),
                missing: Vec::new(),
                error: None,
                exit_code: crate::exit_codes::OK,
            };
            match r {
                Ok(st) => {
                    line.current = st.current().map(|e| e.file.name.clone());
                    line.applied = st.applied().count();
                    line.pending = st.pending().count();
                    line.total = st.entries.len();
                    line.out_of_order = st.out_of_order().into_iter().map(|o| o.version).collect();
                    line.modified = st.modified().map(|e| e.file.name.clone()).collect();
                    line.partially_applied = st.partial.iter().map(|p| p.version.clone()).collect();
                    line.missing = st.missing.iter().map(|m| m.version.clone()).collect();
                    line.exit_code = st.exit_code();
                }
                Err(e) => {
                    line.error = Some(crate::config::redact_text(&e.to_string()));
                    line.exit_code = e.exit_code();
                }
            }
            line
        })
        .collect())
}

/// One target's problems for `check --all`.
#[derive(Debug, Clone, serde::Serialize)]
pub struct TargetCheck {
    pub target: String,
    pub url: String,
    pub problems: Vec<super::check::Problem>,
    pub error: Option<String>,
    pub exit_code: i32,
}

/// `check --all`: each target's state checked as `check --no-lint` checks one database
/// (entity drift and lint are properties of the crate: plain `check` covers them).
pub async fn check(ctx: &Ctx, fleet: &Fleet) -> Result<Vec<TargetCheck>> {
    let ran = read_only(ctx, fleet).await?;
    let mut out = Vec::new();
    for (t, r) in fleet.targets.iter().zip(ran) {
        let (problems, error, exit_code) = match r {
            Ok(st) => {
                let problems = super::check::problems(ctx, &st)?;
                let code = super::check::exit_code(&problems);
                (problems, None, code)
            }
            Err(e) => (
                Vec::new(),
                Some(crate::config::redact_text(&e.to_string())),
                e.exit_code(),
            ),
        };
        out.push(TargetCheck {
            target: t.name.clone(),
            url: t.redacted(),
            problems,
            error,
            exit_code,
        });
    }
    Ok(out)
}

/// What `up --all` and `down --all` do on each target.
#[derive(Debug, Clone)]
pub struct MigrateOptions {
    pub direction: Direction,
    /// `up TARGET` / `down TARGET`.
    pub target: Option<String>,
    pub backup: bool,
    pub late: Late,
    pub lock_timeout: Duration,
    pub on_failure: OnFailure,
}

/// `up --all` and `down --all`: read every target, build the runner once if any has work,
/// then migrate the targets that have work (canaries first), each as `up`/`down` would.
pub async fn migrate(ctx: &Ctx, fleet: &Fleet, opts: &MigrateOptions) -> Result<Vec<TargetReport>> {
    let late = opts.late.or_configured(&ctx.ws.config);
    // One Migrator source and one set of kept sessions for reading and migrating.
    let shared = Shared {
        src: MigratorSource::load(&ctx.ws.migration()?.lib)?,
        sessions: Sessions::default(),
        servers: RefCell::new(Vec::new()),
    };
    // What each target would do, from its state; up-to-date targets start nothing.
    let pre: HashMap<String, Result<bool>> = fleet
        .targets
        .iter()
        .zip(read(ctx, fleet, &shared.src, &shared.sessions).await)
        .map(|(t, r)| {
            let work = r.and_then(|st| {
                super::migrate::plan(&st, opts.direction, opts.target.as_deref(), late).map(|steps| !steps.is_empty())
            });
            (t.name.clone(), work)
        })
        .collect();
    // One runner per engine among the targets with work (a fleet is usually one engine).
    let mut runners: Vec<(crate::engine::Engine, Runner)> = Vec::new();
    for t in &fleet.targets {
        if matches!(pre.get(&t.name), Some(Ok(true))) && !runners.iter().any(|(e, _)| *e == t.url.engine) {
            let mig = ctx.ws.migration()?;
            let mut runner = crate::runner::build(&ctx.ws, mig, &t.url, &ctx.shell).await?;
            runner.timeouts = ctx.timeouts;
            runners.push((t.url.engine, runner));
        }
    }
    let pre = RefCell::new(pre);
    let backups = crate::tasks::backup::backup_dir(ctx, None);
    let backups = &backups;
    let shared_ref = &shared;
    let verb = match opts.direction {
        Direction::Up => "Migrating",
        Direction::Down => "Reverting",
    };
    let mut progress = Progress::new(&ctx.shell, fleet.targets.len(), verb);
    let runners = &runners;
    let pre = &pre;
    let ran = exec::run(
        fleet,
        opts.on_failure,
        |t| async move {
            let started = Instant::now();
            let work = pre
                .borrow_mut()
                .remove(&t.name)
                .unwrap_or_else(|| Err(Error::Other("the target was not read".into())))?;
            let runner = runners.iter().find(|(e, _)| *e == t.url.engine).map(|(_, r)| r);
            let outcome = match runner {
                _ if !work => None,
                Some(runner) if t.url.engine.transactional_ddl() => {
                    let tctx = target_ctx(ctx, t, Some(runner), backups);
                    Some(apply(&tctx, runner, shared_ref, opts, late).await?)
                }
                // Where DDL is not transactional, the single-target path, which also
                // reports what a failed migration left behind.
                _ => Some(single(&target_ctx(ctx, t, runner, backups), opts, late).await?),
            };
            let done = outcome.as_ref().map_or(&[][..], |o| &o.done[..]);
            let result = match (done.is_empty(), opts.direction) {
                (false, Direction::Up) => Result_::Applied,
                (false, Direction::Down) => Result_::Reverted,
                (true, Direction::Up) => Result_::UpToDate,
                (true, Direction::Down) => Result_::Unchanged,
            };
            let mut r = TargetReport::new(t, result);
            r.duration_ms = started.elapsed().as_millis() as u64;
            r.migrations = done.iter().map(|d| d.version.clone()).collect();
            r.applied = outcome.as_ref().map(|o| o.applied);
            Ok(r)
        },
        |_, r| tick(&mut progress, r),
    )
    .await;
    progress.finish();
    for (_, server) in shared.servers.into_inner() {
        server.finish().await;
    }
    shared.sessions.close().await;
    Ok(reports(fleet, ran))
}

/// One target of `up --all`/`down --all` as `cargo dbm up`/`down` does it.
async fn single(tctx: &Ctx, opts: &MigrateOptions, late: Late) -> Result<super::migrate::Outcome> {
    match opts.direction {
        Direction::Up => {
            super::migrate::up(tctx, opts.target.as_deref(), None, opts.backup, late, opts.lock_timeout).await
        }
        Direction::Down => super::migrate::down(tctx, opts.target.as_deref(), opts.lock_timeout).await,
    }
}

/// What the targets of one `up --all`/`down --all` share: the Migrator's source, kept
/// sessions, and runners in serve mode waiting for their next target.
struct Shared {
    src: MigratorSource,
    sessions: Sessions,
    servers: RefCell<Vec<(crate::engine::Engine, Server)>>,
}

impl Shared {
    /// A serving runner of `engine`: an idle one, or a new one.
    fn server(&self, engine: crate::engine::Engine, runner: &Runner) -> Result<Server> {
        let mut servers = self.servers.borrow_mut();
        match servers.iter().position(|(e, _)| *e == engine) {
            Some(i) => Ok(servers.swap_remove(i).1),
            None => runner.serve(),
        }
    }

    /// Keeps a serving runner for the next target.
    fn park(&self, engine: crate::engine::Engine, server: Server) {
        self.servers.borrow_mut().push((engine, server));
    }
}

/// One target of `up --all`/`down --all` where DDL is transactional (PostgreSQL, SQLite),
/// as `cargo dbm up`/`down` would do it, on a kept session and a runner serving the fleet:
/// a backup first if asked, the target's lock, the tracking tables, a plan made under the
/// lock (another run may have migrated it meanwhile), the steps, and a check that they are
/// recorded.
async fn apply(
    tctx: &Ctx,
    runner: &Runner,
    shared: &Shared,
    opts: &MigrateOptions,
    late: Late,
) -> Result<super::migrate::Outcome> {
    let url = &tctx.url;
    let saved = if opts.direction == Direction::Up {
        crate::tasks::backup::backup_before_migrating(tctx, opts.backup).await?
    } else {
        None
    };
    let db = shared
        .sessions
        .open(url, Create::Yes)
        .await?
        .expect("created when missing");
    let held = match crate::db::lock::acquire_on(&db, opts.lock_timeout, &tctx.shell).await {
        Ok(held) => held,
        Err(e) => {
            db.close().await;
            return Err(e);
        }
    };
    let result = apply_locked(tctx, &db, runner, shared, opts, late).await;
    // A session still holding the lock must not be lent to another target.
    if held.release(&db).await {
        shared.sessions.give_back(db).await;
    } else {
        db.close().await;
    }
    result.map_err(|e| super::migrate::with_restore_note(e, saved.as_ref()))
}

async fn apply_locked(
    tctx: &Ctx,
    db: &crate::db::Db,
    runner: &Runner,
    shared: &Shared,
    opts: &MigrateOptions,
    late: Late,
) -> Result<super::migrate::Outcome> {
    let table = tctx.tracking_table(&shared.src);
    let before = Status::load(Some(db), &shared.src, &table).await?;
    if opts.direction == Direction::Up {
        super::migrate::refuse_untracked(db, &before).await?;
    }
    let status = if tracking::installed(db, &table).await? {
        before
    } else {
        tracking::install(db, &table).await?;
        Status::load(Some(db), &shared.src, &table).await?
    };
    let steps = super::migrate::plan(&status, opts.direction, opts.target.as_deref(), late)?;
    let mut done: Vec<Done> = Vec::new();
    if !steps.is_empty() {
        let engine = tctx.url.engine;
        let mut server = shared.server(engine, runner)?;
        match server.run(&tctx.url, &steps, &tctx.shell).await {
            Ok(d) => {
                done = d;
                shared.park(engine, server);
            }
            Err(e @ Error::MigrationFailed { .. }) => {
                // The runner answered: it is still serving.
                shared.park(engine, server);
                return Err(e);
            }
            Err(e) => {
                server.finish().await;
                return Err(e);
            }
        }
    }
    let after = Status::load(Some(db), &shared.src, &table).await?;
    super::migrate::verify_recorded(&done, &after)?;
    let action = match (opts.direction, done.is_empty()) {
        (_, true) => super::migrate::Action::UpToDate,
        (Direction::Up, false) => super::migrate::Action::Applied,
        (Direction::Down, false) => super::migrate::Action::Reverted,
    };
    Ok(super::migrate::Outcome {
        action,
        direction: opts.direction,
        out_of_order: steps
            .iter()
            .filter(|s| s.out_of_order)
            .map(|s| s.version.clone())
            .collect(),
        done,
        stamped: Vec::new(),
        dropped: Vec::new(),
        applied: after.applied().count(),
        total: after.entries.len(),
        applied_order_differs: false,
    })
}

/// `stamp --all REV`: each target's tracking table made to say REV.
pub async fn stamp(
    ctx: &Ctx,
    fleet: &Fleet,
    rev: &str,
    purge: bool,
    lock_timeout: Duration,
    on_failure: OnFailure,
) -> Result<Vec<TargetReport>> {
    let mut progress = Progress::new(&ctx.shell, fleet.targets.len(), "Stamping");
    let ran = exec::run(
        fleet,
        on_failure,
        |t| async move {
            let started = Instant::now();
            let tctx = ctx.for_target(&t.url, None);
            let out = super::stamp::stamp(&tctx, rev, purge, lock_timeout).await?;
            let changed = if out.changed() {
                Result_::Stamped
            } else {
                Result_::Unchanged
            };
            let mut r = TargetReport::new(t, changed);
            r.duration_ms = started.elapsed().as_millis() as u64;
            r.migrations = out
                .added
                .iter()
                .map(|v| format!("+{v}"))
                .chain(out.removed.iter().map(|v| format!("-{v}")))
                .chain(out.settled.iter().map(|v| format!("settled {v}")))
                .collect();
            Ok(r)
        },
        |_, r| tick(&mut progress, r),
    )
    .await;
    progress.finish();
    Ok(reports(fleet, ran))
}

/// `backup --all`: one backup per target, each in a folder named after the target under
/// the backup folder (so retention counts each target's backups apart).
pub async fn backup(
    ctx: &Ctx,
    fleet: &Fleet,
    dir: Option<&std::path::Path>,
    opts: &crate::tasks::backup::BackupOptions,
    on_failure: OnFailure,
) -> Result<Vec<TargetReport>> {
    let base = crate::tasks::backup::backup_dir(ctx, dir);
    let mut progress = Progress::new(&ctx.shell, fleet.targets.len(), "Backing up");
    let base = &base;
    let ran = exec::run(
        fleet,
        on_failure,
        |t| async move {
            let tctx = target_ctx(ctx, t, None, base);
            let info = crate::tasks::backup::backup(&tctx, None, opts).await?;
            let mut r = TargetReport::new(t, Result_::BackedUp);
            r.duration_ms = info.duration_ms;
            r.file = Some(info.path);
            Ok(r)
        },
        |_, r| tick(&mut progress, r),
    )
    .await;
    progress.finish();
    Ok(reports(fleet, ran))
}
