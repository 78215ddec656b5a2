//! `--all` / `--fleet GROUP` on `status`, `check`, `up`, `down`, `stamp` and `backup`, and
//! `cargo dbm fleet` (the targets, redacted). The work is in [`crate::ops::fleet`].

use crate::error::{Error, Result};
use crate::exit_codes;
use crate::fleet::exec::OnFailure;
use crate::fleet::{Fleet, Selection};
use crate::ops::Ctx;
use crate::ops::fleet::{Result_, TargetReport};
use crate::shell::Format;
use console::Style;
use serde_json::json;

/// Which fleet targets a command works on.
#[derive(clap::Args, Debug, Clone, Default)]
pub struct FleetArgs {
    /// Every target of the fleet declared under [workspace.metadata.dbm.fleet] (the
    /// `canary` group first).
    #[arg(long, conflicts_with = "fleet")]
    pub all: bool,
    /// The targets of one fleet group (e.g. `canary`).
    #[arg(long, value_name = "GROUP")]
    pub fleet: Option<String>,
    /// Fleet targets worked on at once (default: `jobs` under the fleet, else twice the
    /// CPUs, at most 16).
    #[arg(long, short = 'j', value_name = "N")]
    pub jobs: Option<usize>,
}

/// `--keep-going`, for fleet commands that change targets.
#[derive(clap::Args, Debug, Clone, Copy, Default)]
pub struct KeepGoingArgs {
    /// With --all/--fleet: start the remaining targets after one fails (a failure in the
    /// `canary` group still stops the rest).
    #[arg(long)]
    pub keep_going: bool,
}

impl KeepGoingArgs {
    pub fn on_failure(self) -> OnFailure {
        if self.keep_going {
            OnFailure::KeepGoing
        } else {
            OnFailure::Stop
        }
    }
}

impl FleetArgs {
    /// The selection, when `--all` or `--fleet` was given.
    pub fn selection(&self) -> Option<Selection> {
        match (&self.fleet, self.all) {
            (Some(g), _) => Some(Selection::Group(g.clone())),
            (None, true) => Some(Selection::All),
            (None, false) => None,
        }
    }

    /// Refuses fleet-only flags without a fleet.
    pub fn check_single(&self, keep_going: bool) -> Result<()> {
        if self.jobs.is_some() || keep_going {
            return Err(Error::Usage(
                "`--jobs` and `--keep-going` work on a fleet: add `--all` or `--fleet GROUP`".into(),
            ));
        }
        Ok(())
    }

    /// Resolves the selection into targets (errors before anything runs).
    pub async fn resolve(&self, ctx: &Ctx, selection: &Selection) -> Result<Fleet> {
        crate::fleet::resolve(
            ctx.ws.config.fleet.as_ref(),
            &ctx.ws.root,
            &ctx.url,
            selection,
            self.jobs,
        )
        .await
    }
}

#[derive(clap::Args, Debug)]
pub struct FleetListArgs {
    /// Only this group's targets.
    #[arg(long, value_name = "GROUP")]
    fleet: Option<String>,
}

/// `cargo dbm fleet`: the targets, their groups and redacted URLs.
pub async fn list(ctx: Ctx, args: FleetListArgs) -> Result<i32> {
    let selection = args.fleet.map(Selection::Group).unwrap_or(Selection::All);
    let fleet = crate::fleet::resolve(ctx.ws.config.fleet.as_ref(), &ctx.ws.root, &ctx.url, &selection, None).await?;
    let groups = crate::fleet::group_names(ctx.ws.config.fleet.as_ref(), &fleet.targets);
    let sh = &ctx.shell;
    if sh.format == Format::Json {
        sh.json(&json!({
            "targets": fleet.targets.iter().map(|t| json!({
                "name": t.name,
                "url": t.redacted(),
                "engine": t.url.engine,
                "from": t.from,
                "groups": groups.get(&t.name).cloned().unwrap_or_default(),
            })).collect::<Vec<_>>(),
            "jobs": fleet.jobs,
            "canaries": fleet.canaries,
        }));
        return Ok(exit_codes::OK);
    }
    let width = fleet.targets.iter().map(|t| t.name.len()).max().unwrap_or(0);
    let mut out = String::new();
    for t in &fleet.targets {
        let g = groups.get(&t.name).map(|g| g.join(",")).unwrap_or_default();
        out.push_str(&format!(
            "  {:<width$}  {}  {}{}\n",
            t.name,
            t.from,
            t.redacted(),
            if g.is_empty() {
                String::new()
            } else {
                format!("  [{g}]")
            }
        ));
    }
    sh.line(out.trim_end());
    sh.status(
        "Fleet",
        format!(
            "{} target(s){}, {} at once",
            fleet.targets.len(),
            if fleet.canaries > 0 {
                format!(", {} canary first", fleet.canaries)
            } else {
                String::new()
            },
            fleet.jobs
        ),
    );
    Ok(exit_codes::OK)
}

/// The exit code of a read-only fleet command: the first target's failure in fleet order,
/// else 3 when migrations are pending somewhere, else 0.
fn read_code(codes: impl Iterator<Item = i32> + Clone) -> i32 {
    codes
        .clone()
        .find(|c| *c != exit_codes::OK && *c != exit_codes::PENDING)
        .or_else(|| codes.clone().find(|c| *c == exit_codes::PENDING))
        .unwrap_or(exit_codes::OK)
}

/// `status --all`.
pub async fn status(ctx: &Ctx, args: &FleetArgs, selection: &Selection) -> Result<i32> {
    let fleet = args.resolve(ctx, selection).await?;
    let lines = crate::ops::fleet::status(ctx, &fleet).await?;
    let code = read_code(lines.iter().map(|l| l.exit_code));
    let count = |f: &dyn Fn(&crate::ops::fleet::TargetStatus) -> bool| lines.iter().filter(|l| f(l)).count();
    let unreachable = count(&|l| l.error.is_some());
    let pending = count(&|l| l.error.is_none() && l.pending > 0);
    let up_to_date = count(&|l| l.error.is_none() && l.pending == 0 && l.exit_code == exit_codes::OK);
    let summary = format!(
        "{} target(s): {up_to_date} up to date, {pending} with pending migrations, {unreachable} unreachable",
        lines.len()
    );
    let sh = &ctx.shell;
    if sh.format == Format::Json {
        sh.json(&json!({
            "targets": lines,
            "summary": {"targets": lines.len(), "up_to_date": up_to_date, "pending": pending, "unreachable": unreachable},
            "exit_code": code,
        }));
        return Ok(code);
    }
    let width = lines.iter().map(|l| l.target.len()).max().unwrap_or(0);
    let mut out = String::new();
    for l in &lines {
        let state = match (&l.error, l.exit_code) {
            (Some(_), _) => sh.paint("error  ", Style::new().red().bold()),
            (None, exit_codes::OK) => sh.paint("ok     ", Style::new().green()),
            (None, exit_codes::PENDING) => sh.paint("pending", Style::new().yellow().bold()),
            (None, _) => sh.paint("problem", Style::new().red().bold()),
        };
        let detail = match &l.error {
            Some(e) => format!("{}: {e}", l.url),
            None => {
                let mut d = format!(
                    "{:<30} {}/{} applied, {} pending",
                    l.current.as_deref().unwrap_or("base"),
                    l.applied,
                    l.total,
                    l.pending
                );
                for (what, list) in [
                    ("out of order", &l.out_of_order),
                    ("modified", &l.modified),
                    ("partially applied", &l.partially_applied),
                    ("missing", &l.missing),
                ] {
                    if !list.is_empty() {
                        d.push_str(&format!("; {what}: {}", list.join(", ")));
                    }
                }
                d
            }
        };
        out.push_str(&format!("  {state}  {:<width$}  {detail}\n", l.target));
    }
    sh.line(out.trim_end());
    sh.status("Fleet", summary);
    Ok(code)
}

/// `check --all`.
pub async fn check(ctx: &Ctx, args: &FleetArgs, selection: &Selection) -> Result<i32> {
    let fleet = args.resolve(ctx, selection).await?;
    let checks = crate::ops::fleet::check(ctx, &fleet).await?;
    let code = read_code(checks.iter().map(|c| c.exit_code));
    let failing = checks.iter().filter(|c| c.exit_code != exit_codes::OK).count();
    let sh = &ctx.shell;
    if sh.format == Format::Json {
        sh.json(&json!({
            "ok": failing == 0,
            "targets": checks,
            "summary": {"targets": checks.len(), "ok": checks.len() - failing, "failing": failing},
            "exit_code": code,
        }));
        return Ok(code);
    }
    for c in checks.iter().filter(|c| c.exit_code != exit_codes::OK) {
        match &c.error {
            Some(e) => eprintln!(
                "{} {}: {}: {e}",
                sh.paint("error", Style::new().red().bold()),
                c.target,
                c.url
            ),
            None => {
                for p in &c.problems {
                    eprintln!(
                        "{} {}: {}",
                        sh.paint(p.kind, Style::new().red().bold()),
                        c.target,
                        p.message
                    );
                }
            }
        }
    }
    sh.status(
        "Checked",
        format!(
            "{} target(s): {} ok, {failing} failing (entity drift and lint are checked by `cargo dbm check` once for the crate)",
            checks.len(),
            checks.len() - failing
        ),
    );
    Ok(code)
}

/// Asks before a destructive fleet command, naming how many targets.
pub fn confirm(ctx: &Ctx, fleet: &Fleet, consent: super::ConsentArgs, action: &str) -> Result<()> {
    crate::guard::confirm_in(
        &ctx.shell,
        &format!("the fleet ({} target(s))", fleet.targets.len()),
        ctx.ws.config.protected,
        consent.into(),
        action,
    )
}

/// Prints a fleet run's table and summary (or its JSON); exits 23 when any target failed.
pub fn report(ctx: &Ctx, what: &str, reports: &[TargetReport]) -> i32 {
    let sh = &ctx.shell;
    let count = |r: Result_| reports.iter().filter(|t| t.result == r).count();
    let failed = count(Result_::Failed);
    let not_started = count(Result_::NotStarted);
    let changed = reports.iter().filter(|r| r.changed()).count();
    let unchanged = reports.len() - failed - not_started - changed;
    let code = if failed > 0 { exit_codes::FLEET } else { exit_codes::OK };
    if sh.format == Format::Json {
        sh.json(&json!({
            "command": what,
            "targets": reports,
            "summary": {
                "targets": reports.len(),
                "changed": changed,
                "unchanged": unchanged,
                "failed": failed,
                "not_started": not_started,
            },
            "exit_code": code,
        }));
        return code;
    }
    let width = reports.iter().map(|r| r.target.len()).max().unwrap_or(0);
    let mut out = String::new();
    for r in reports {
        let style = match r.result {
            Result_::Failed => Style::new().red().bold(),
            Result_::NotStarted => Style::new().yellow(),
            _ if r.changed() => Style::new().green().bold(),
            _ => Style::new().dim(),
        };
        let state = sh.paint(format!("{:<11}", r.result.as_str()), style);
        let detail = match (&r.error, &r.file) {
            (Some(e), _) if r.result == Result_::Failed => format!("{}: {e}", r.url),
            (Some(e), _) => e.clone(),
            (None, Some(f)) => ctx.ws.rel(f),
            (None, None) if r.migrations.is_empty() => String::new(),
            (None, None) => format!("{} ({} ms)", r.migrations.join(", "), r.duration_ms),
        };
        let row = format!("  {state}  {:<width$}  {detail}", r.target);
        out.push_str(row.trim_end());
        out.push('\n');
    }
    sh.line(out.trim_end());
    let mut hints: Vec<&str> = reports.iter().filter_map(|r| r.hint.as_deref()).collect();
    hints.dedup();
    for h in hints.iter().take(3) {
        sh.note(h);
    }
    sh.status(
        "Fleet",
        format!(
            "{} target(s): {changed} {what}, {unchanged} unchanged, {failed} failed, {not_started} not started",
            reports.len()
        ),
    );
    if failed > 0 {
        sh.note("run the same command again once fixed: targets already done have nothing left to do");
    }
    code
}
