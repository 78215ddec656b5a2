//! `cargo dbm up` and `cargo dbm down`

use crate::error::Result;
use crate::exit_codes;
use crate::ops::Ctx;
use crate::ops::migrate::Outcome;
use crate::runner::Direction;
use crate::shell::Format;
use std::time::Duration;

/// PostgreSQL's timeouts for each migration's transaction.
#[derive(clap::Args, Debug, Clone, Copy)]
pub struct TimeoutArgs {
    /// PostgreSQL: `lock_timeout` for each migration (e.g. 5s, 500ms; 0 for none): a
    /// migration that waits longer for a table lock fails, is rolled back, and names the
    /// sessions that blocked it. Default: `lock-timeout` under [workspace.metadata.dbm],
    /// else 5s on a `protected` database, else none.
    #[arg(long, value_name = "DURATION", value_parser = crate::config::parse_duration)]
    db_lock_timeout: Option<std::time::Duration>,
    /// PostgreSQL: `statement_timeout` for each migration (default: `statement-timeout`).
    #[arg(long, value_name = "DURATION", value_parser = crate::config::parse_duration)]
    statement_timeout: Option<std::time::Duration>,
}

impl TimeoutArgs {
    /// Applies the flags over the configuration.
    pub fn apply(self, ctx: &mut Ctx) {
        if let Some(t) = self.db_lock_timeout {
            ctx.timeouts.lock = Some(t).filter(|t| !t.is_zero());
        }
        if let Some(t) = self.statement_timeout {
            ctx.timeouts.statement = Some(t).filter(|t| !t.is_zero());
        }
    }
}

#[derive(clap::Args, Debug)]
pub struct UpArgs {
    /// Apply up to and including this revision (default: all pending).
    target: Option<String>,
    /// For an existing database without migration history: record the migrations up to and
    /// including REV as applied (its schema already has them), then apply the rest.
    #[arg(long, value_name = "REV")]
    baseline: Option<String>,
    /// Take a backup first (when there is something to apply); `backup-before-up = true`
    /// under [workspace.metadata.dbm] makes it the default.
    #[arg(long)]
    backup: bool,
    /// Also apply pending migrations whose version sorts before an applied one (written on
    /// another branch), recording them as out of order; `out-of-order = true` under
    /// [workspace.metadata.dbm] makes it the default. Without it, `up` refuses them.
    #[arg(long)]
    out_of_order: bool,
    /// Print every statement the migrations would execute (tracking tables included), with
    /// parameters and times, and change nothing: run inside a transaction that is rolled
    /// back (or on a scratch database for migrations that cannot run in one).
    #[arg(long)]
    dry_run: bool,
    /// Seconds to wait for another `cargo dbm` holding the migration lock.
    #[arg(long, default_value_t = 60, value_name = "SECS")]
    lock_timeout: u64,
    #[command(flatten)]
    timeouts: TimeoutArgs,
    #[command(flatten)]
    fleet: super::fleet::FleetArgs,
    #[command(flatten)]
    keep_going: super::fleet::KeepGoingArgs,
}

#[derive(clap::Args, Debug)]
pub struct DownArgs {
    /// How many to revert (default 1), a revision to go back to (it stays applied), or `base`.
    target: Option<String>,
    /// Print every statement the reverts would execute, with parameters and times, and
    /// change nothing (a transaction rolled back, or a scratch database).
    #[arg(long)]
    dry_run: bool,
    /// Seconds to wait for another `cargo dbm` holding the migration lock.
    #[arg(long, default_value_t = 60, value_name = "SECS")]
    lock_timeout: u64,
    #[command(flatten)]
    timeouts: TimeoutArgs,
    #[command(flatten)]
    consent: super::ConsentArgs,
    #[command(flatten)]
    fleet: super::fleet::FleetArgs,
    #[command(flatten)]
    keep_going: super::fleet::KeepGoingArgs,
}

pub async fn up(mut ctx: Ctx, args: UpArgs) -> Result<i32> {
    args.timeouts.apply(&mut ctx);
    let late = if args.out_of_order {
        crate::ops::migrate::Late::Apply
    } else {
        crate::ops::migrate::Late::Refuse
    };
    if let Some(selection) = args.fleet.selection() {
        if args.dry_run || args.baseline.is_some() {
            return Err(crate::Error::Usage(
                "`--dry-run` and `--baseline` work on one database; drop them with `--all`/`--fleet`".into(),
            ));
        }
        let fleet = args.fleet.resolve(&ctx, &selection).await?;
        let opts = crate::ops::fleet::MigrateOptions {
            direction: Direction::Up,
            target: args.target,
            backup: args.backup,
            late,
            lock_timeout: Duration::from_secs(args.lock_timeout),
            on_failure: args.keep_going.on_failure(),
        };
        let reports = crate::ops::fleet::migrate(&ctx, &fleet, &opts).await?;
        return Ok(super::fleet::report(&ctx, "migrated", &reports));
    }
    args.fleet.check_single(args.keep_going.keep_going)?;
    if args.dry_run {
        if args.baseline.is_some() {
            return Err(crate::Error::Config(
                "`--dry-run` cannot be combined with `--baseline`".into(),
            ));
        }
        let report = crate::ops::dry_run::dry_run(
            &ctx,
            Direction::Up,
            args.target.as_deref(),
            late,
            Duration::from_secs(args.lock_timeout),
        )
        .await?;
        return dry_report(&ctx, report);
    }
    let outcome = crate::ops::migrate::up(
        &ctx,
        args.target.as_deref(),
        args.baseline.as_deref(),
        args.backup,
        late,
        Duration::from_secs(args.lock_timeout),
    )
    .await?;
    report(&ctx, &outcome);
    Ok(exit_codes::OK)
}

pub async fn down(mut ctx: Ctx, args: DownArgs) -> Result<i32> {
    args.timeouts.apply(&mut ctx);
    if let Some(selection) = args.fleet.selection() {
        if args.dry_run {
            return Err(crate::Error::Usage(
                "`--dry-run` works on one database; drop it with `--all`/`--fleet`".into(),
            ));
        }
        let fleet = args.fleet.resolve(&ctx, &selection).await?;
        let what = match args.target.as_deref() {
            None => "revert the last migration".to_string(),
            Some("base") => "revert every migration".to_string(),
            Some(t) => format!("revert migrations (down {t})"),
        };
        super::fleet::confirm(&ctx, &fleet, args.consent, &what)?;
        let opts = crate::ops::fleet::MigrateOptions {
            direction: Direction::Down,
            target: args.target,
            backup: false,
            late: crate::ops::migrate::Late::Refuse,
            lock_timeout: Duration::from_secs(args.lock_timeout),
            on_failure: args.keep_going.on_failure(),
        };
        let reports = crate::ops::fleet::migrate(&ctx, &fleet, &opts).await?;
        return Ok(super::fleet::report(&ctx, "reverted", &reports));
    }
    args.fleet.check_single(args.keep_going.keep_going)?;
    if args.dry_run {
        let report = crate::ops::dry_run::dry_run(
            &ctx,
            Direction::Down,
            args.target.as_deref(),
            crate::ops::migrate::Late::Refuse,
            Duration::from_secs(args.lock_timeout),
        )
        .await?;
        return dry_report(&ctx, report);
    }
    if args.target.as_deref() == Some("base") {
        let protected = ctx.ws.config.protected;
        crate::guard::confirm(
            &ctx.shell,
            &ctx.url,
            protected,
            args.consent.into(),
            "revert every migration",
        )?;
    }
    let outcome =
        crate::ops::migrate::down(&ctx, args.target.as_deref(), Duration::from_secs(args.lock_timeout)).await?;
    report(&ctx, &outcome);
    Ok(exit_codes::OK)
}

pub(super) fn report(ctx: &Ctx, o: &Outcome) {
    let sh = &ctx.shell;
    if !o.dropped.is_empty() {
        sh.status(
            "Dropped",
            format!("{} object(s): {}", o.dropped.len(), o.dropped.join(", ")),
        );
    }
    if !o.stamped.is_empty() {
        sh.status(
            "Stamped",
            format!(
                "{} migration(s) as already applied (baseline), up to {}",
                o.stamped.len(),
                o.stamped.last().map(String::as_str).unwrap_or("")
            ),
        );
    }
    if !o.out_of_order.is_empty() {
        sh.warn(format!(
            "applied out of order (before migrations already applied), recorded in dbm_history: {}",
            o.out_of_order.join(", ")
        ));
    }
    if o.applied_order_differs && !o.done.is_empty() {
        let order: Vec<&str> = o.done.iter().map(|d| d.version.as_str()).collect();
        sh.note(format!(
            "reverted in the order this database applied them, newest first ({}), not in the Migrator's list order",
            order.join(", ")
        ));
    }
    if o.done.is_empty() {
        let msg = match o.direction {
            Direction::Up => format!(
                "database is up to date ({} of {} migrations applied)",
                o.applied, o.total
            ),
            Direction::Down => "nothing to revert".to_string(),
        };
        sh.status("Finished", msg);
    } else {
        let ms: u64 = o.done.iter().map(|d| d.duration_ms).sum();
        let verb = if o.direction == Direction::Up {
            "applied"
        } else {
            "reverted"
        };
        sh.status(
            "Finished",
            format!(
                "{} migration(s) {verb} in {ms} ms; {} of {} applied",
                o.done.len(),
                o.applied,
                o.total
            ),
        );
    }
    if sh.format == Format::Json {
        sh.json(&serde_json::to_value(o).unwrap_or_default());
    }
}

/// Prints a dry run: the SQL on stdout (a script to read, with times and parameters as
/// comments), the summary on stderr; `--format json` prints the report.
fn dry_report(ctx: &Ctx, mut report: crate::ops::dry_run::Report) -> Result<i32> {
    use crate::ops::dry_run::Ran;
    let sh = &ctx.shell;
    let failure = report.failure.take();
    if sh.format == Format::Json {
        sh.json(&serde_json::to_value(&report).unwrap_or_default());
        return failure.map_or(Ok(exit_codes::OK), Err);
    }
    if report.migrations.is_empty() && failure.is_none() {
        sh.status(
            "Finished",
            match report.direction {
                Direction::Up => "nothing to apply",
                Direction::Down => "nothing to revert",
            },
        );
        return Ok(exit_codes::OK);
    }
    let mut out = String::new();
    let place = match &report.ran {
        Ran::RolledBack => format!("{}, in a transaction rolled back at the end", ctx.url.redacted()),
        Ran::Scratch { reason } => format!("a scratch database: {reason}"),
    };
    out.push_str(&format!(
        "-- cargo dbm {} --dry-run: {} migration(s), run on {place}\n",
        report.direction,
        report.migrations.len()
    ));
    if !report.setup.is_empty() {
        out.push_str("\n-- the tracking tables (missing: created for the dry run, rolled back with it)\n");
        push_statements(&mut out, &report.setup);
    }
    for m in &report.migrations {
        let version = m.version.as_deref().unwrap_or_default();
        let note = if report.out_of_order.iter().any(|v| v == version) {
            " (out of order)"
        } else {
            ""
        };
        out.push_str(&format!("\n-- {version} ({}){note}\n", report.direction));
        push_statements(&mut out, &m.statements);
    }
    print!("{out}");
    if let Some(f) = failure {
        sh.warn("nothing was changed: the dry run was rolled back");
        return Err(f);
    }
    let n: usize = report.migrations.iter().map(|m| m.statements.len()).sum();
    sh.status(
        "Dry run",
        format!(
            "{} migration(s), {n} statement(s); nothing was changed",
            report.migrations.len()
        ),
    );
    Ok(exit_codes::OK)
}

fn push_statements(out: &mut String, statements: &[crate::runner::protocol::Captured]) {
    for c in statements {
        let sql = c.sql.trim_end();
        let end = if sql.ends_with(';') { "" } else { ";" };
        let ms = c.micros as f64 / 1000.0;
        out.push_str(&format!("{sql}{end} -- {ms:.3} ms"));
        if let Some(p) = &c.params {
            out.push_str(&format!(", parameters {p}"));
        }
        out.push('\n');
    }
}
