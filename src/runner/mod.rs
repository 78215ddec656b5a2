//! The runner: the only place user Rust code runs.
//!
//! A small crate generated from `templates/runner/` links the user's migration crate, is
//! built with `cargo build --message-format json` (diagnostics rendered, and each error's file
//! told apart: cargo dbm's generated code or the user's) in the workspace's own
//! target directory (so nothing is compiled twice), and executed. It receives the steps on
//! stdin and reports back as JSON lines (see `templates/runner/main.rs`).

mod build;
#[path = "../../templates/runner/protocol.rs"]
pub mod protocol;
mod seed;

pub use build::{build, build_capture, build_entities, use_tracking_form_of};
pub use protocol::{Direction, Event, Mode, Step};

use crate::config::DbUrl;
use crate::error::{Error, Result};
use crate::shell::Shell;
use indicatif::{ProgressBar, ProgressStyle};
use std::path::PathBuf;
use std::process::Stdio;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};

/// Feeds `input` to a runner's stdin while reading its stdout as JSON lines, one event
/// each; any other line (the user's code printing) is passed on. Returns the exit status.
pub(crate) async fn converse(
    child: &mut tokio::process::Child,
    input: String,
    what: &str,
    shell: &Shell,
    mut on_event: impl FnMut(Event),
) -> Result<std::process::ExitStatus> {
    let mut stdin = child.stdin.take().expect("piped stdin");
    // Written while the events are read, so that a large input cannot deadlock.
    let writer = tokio::spawn(async move {
        let _ = stdin.write_all(input.as_bytes()).await;
        drop(stdin);
    });
    let stdout = child.stdout.take().expect("piped stdout");
    let mut lines = BufReader::new(stdout).lines();
    while let Some(line) = lines
        .next_line()
        .await
        .map_err(|e| Error::io(format!("could not read the output of {what}"), e))?
    {
        match Event::from_line(&line) {
            Some(Ok(event)) => on_event(event),
            Some(Err(e)) => on_event(Event::Fatal { message: e }),
            None => shell.line(&line),
        }
    }
    let _ = writer.await;
    child.wait().await.map_err(|e| Error::io(what.to_string(), e))
}

/// A built runner binary.
#[derive(Debug, Clone)]
pub struct Runner {
    pub exe: PathBuf,
    /// PostgreSQL timeouts for each migration's transaction.
    pub timeouts: Timeouts,
}

/// PostgreSQL's `lock_timeout` and `statement_timeout` for each migration (none: unset).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct Timeouts {
    pub lock: Option<std::time::Duration>,
    pub statement: Option<std::time::Duration>,
}

/// What the runner did.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Done {
    pub version: String,
    pub direction: Direction,
    pub duration_ms: u64,
}

impl Runner {
    /// The runner's command on `url` (none: serve mode, whose batches name their targets),
    /// talking over pipes, with the timeouts, and dying with cargo dbm.
    fn command_on(&self, url: Option<&DbUrl>) -> tokio::process::Command {
        let mut cmd = tokio::process::Command::new(&self.exe);
        cmd.env(protocol::APPLIED_BY_VAR, crate::db::tracking::applied_by())
            .env_remove(protocol::MODE_VAR)
            .env_remove(protocol::URL_VAR)
            .env_remove(protocol::SCHEMA_VAR)
            .env_remove(protocol::LOCK_TIMEOUT_VAR)
            .env_remove(protocol::STATEMENT_TIMEOUT_VAR)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .kill_on_drop(true);
        if let Some(url) = url {
            cmd.env(protocol::URL_VAR, url.expose());
            if let Some(s) = &url.schema {
                cmd.env(protocol::SCHEMA_VAR, s);
            }
        }
        if let Some(t) = self.timeouts.lock {
            cmd.env(protocol::LOCK_TIMEOUT_VAR, t.as_millis().max(1).to_string());
        }
        if let Some(t) = self.timeouts.statement {
            cmd.env(protocol::STATEMENT_TIMEOUT_VAR, t.as_millis().max(1).to_string());
        }
        crate::process::die_with_parent(cmd.as_std_mut());
        cmd
    }

    fn command(&self, url: &DbUrl) -> tokio::process::Command {
        self.command_on(Some(url))
    }

    /// Runs the entities crate (see [`build_entities`]): creates the entities' schema in `url`.
    pub async fn apply_entities(&self, url: &DbUrl) -> Result<()> {
        let mut cmd = self.command(url);
        cmd.stdin(Stdio::null()).stdout(Stdio::null()).stderr(Stdio::piped());
        let out = cmd
            .output()
            .await
            .map_err(|e| Error::io("could not start the entities' schema builder", e))?;
        if out.status.success() {
            return Ok(());
        }
        Err(Error::Other(crate::config::redact_text(
            String::from_utf8_lossy(&out.stderr).trim(),
        )))
    }

    /// The migrations compiled into the Migrator, in order.
    pub async fn list(&self, url: &DbUrl) -> Result<Vec<String>> {
        let mut cmd = self.command(url);
        cmd.env(protocol::MODE_VAR, protocol::Mode::List.as_str())
            .stdin(Stdio::null());
        let out = cmd
            .output()
            .await
            .map_err(|e| Error::io("could not start the migration runner", e))?;
        let mut names = Vec::new();
        for line in String::from_utf8_lossy(&out.stdout).lines() {
            match Event::from_line(line) {
                Some(Ok(Event::Migration { version })) => names.push(version),
                Some(Ok(Event::Fatal { message })) => return Err(fatal(url, &message)),
                Some(Err(message)) => return Err(fatal(url, &message)),
                _ => {}
            }
        }
        Ok(names)
    }

    /// Runs `steps` in order, stopping at the first failure.
    pub async fn run(&self, url: &DbUrl, steps: &[Step], shell: &Shell) -> Result<Vec<Done>> {
        let mut run = self.converse_steps(url, Mode::Migrate, steps, shell).await?;
        match run.failure.take() {
            Some(f) => Err(f),
            None => Ok(run.done),
        }
    }

    /// The capture runner's run of `steps`: what [`Runner::run`] does, and every statement
    /// of each step. A failure is returned with the statements up to it.
    pub async fn run_captured(&self, url: &DbUrl, steps: &[Step], shell: &Shell) -> Result<Captures> {
        self.converse_steps(url, Mode::Migrate, steps, shell).await
    }

    /// Dry-run mode (capture runner): `setup` and `steps` in one transaction that is rolled
    /// back. `needs_scratch` lists the steps that cannot run in it (then nothing ran).
    pub async fn dry_run(&self, url: &DbUrl, setup: Vec<String>, steps: &[Step], shell: &Shell) -> Result<Captures> {
        let plan = protocol::DryRun {
            setup,
            steps: steps.to_vec(),
        };
        self.converse_steps(url, Mode::DryRun, std::slice::from_ref(&plan), shell)
            .await
    }

    async fn converse_steps<I: Input>(&self, url: &DbUrl, mode: Mode, items: &[I], shell: &Shell) -> Result<Captures> {
        let steps = I::steps(items);
        let mut cmd = self.command(url);
        if mode != Mode::Migrate {
            cmd.env(protocol::MODE_VAR, mode.as_str());
        }
        let mut child = cmd
            .spawn()
            .map_err(|e| Error::io("could not start the migration runner", e))?;
        let input: String = items.iter().map(Input::to_line).collect();
        let bar = (shell.is_tty() && steps.len() > 1 && !shell.quiet).then(|| {
            let verb = if steps[0].direction == Direction::Up {
                "Applying"
            } else {
                "Reverting"
            };

            ProgressBar::new(steps.len() as u64).with_style(
                ProgressStyle::with_template(&format!("{verb:>12} [{{bar:30.cyan/blue}}] {{pos}}/{{len}} {{msg}}"))
                    .expect("valid template")
                    .progress_chars("=> "),
            )
        });

        let mut done = Vec::new();
        let mut failure = None;
        let mut captured = Vec::new();
        let mut needs_scratch = Vec::new();
        let mut outside = std::collections::HashMap::new();
        let status = converse(
            &mut child,
            input,
            "the migration runner",
            shell,
            |event: Event| match event {
                Event::Start {
                    version, transactional, ..
                } => {
                    outside.insert(version.clone(), !transactional);
                    if let Some(b) = &bar {
                        b.set_message(version);
                    }
                }
                Event::Done {
                    version,
                    direction,
                    duration_ms,
                } => {
                    match &bar {
                        Some(b) => b.inc(1),
                        None => shell.status(
                            if direction == Direction::Up {
                                "Applied"
                            } else {
                                "Reverted"
                            },
                            format!("{version} {}", shell.dim(format!("({duration_ms} ms)"))),
                        ),
                    }
                    done.push(Done {
                        version,
                        direction,
                        duration_ms,
                    });
                }
                failed @ Event::Failed { .. } => failure = migration_failed(failed),
                Event::Fatal { message } => failure = Some(fatal(url, &message)),
                Event::Captured { version, statements } => captured.push(StepSql {
                    transactional: version.as_ref().is_none_or(|v| outside.get(v) != Some(&true)),
                    version,
                    statements: statements
                        .into_iter()
                        .map(|mut c| {
                            c.sql = crate::config::redact_text(&c.sql);
                            c
                        })
                        .collect(),
                }),
                Event::NeedsScratch { versions } => needs_scratch = versions,
                _ => {}
            },
        )
        .await?;
        if let Some(b) = bar {
            b.finish_and_clear();
            for d in &done {
                let verb = if d.direction == Direction::Up {
                    "Applied"
                } else {
                    "Reverted"
                };
                if done.len() <= 20 {
                    shell.status(
                        verb,
                        format!("{} {}", d.version, shell.dim(format!("({} ms)", d.duration_ms))),
                    );
                }
            }
        }
        if failure.is_none() && !status.success() {
            failure = Some(Error::Other(format!(
                "the migration runner stopped unexpectedly ({status}) after {} of {} migration(s); run `cargo dbm status` to see where the database is",
                done.len(),
                steps.len()
            )));
        }
        Ok(Captures {
            done,
            captured,
            needs_scratch,
            failure,
        })
    }
}

/// [`Event::Failed`] as the error the host reports.
fn migration_failed(event: Event) -> Option<Error> {
    let Event::Failed {
        version,
        direction,
        message,
        transactional,
        violations,
        completed,
    } = event
    else {
        return None;
    };
    Some(Error::MigrationFailed {
        version,
        direction,
        message: crate::config::redact_text(&with_completed(with_violations(message, &violations), &completed)),
        rolled_back: transactional,
        restore: None,
    })
}

/// A runner in serve mode: one process applying the steps of target after target (a
/// fleet), keeping its connection while targets share a server and database.
pub struct Server {
    child: tokio::process::Child,
    stdin: tokio::process::ChildStdin,
    lines: tokio::io::Lines<BufReader<tokio::process::ChildStdout>>,
}

impl Runner {
    /// Starts a runner in serve mode.
    pub fn serve(&self) -> Result<Server> {
        let mut cmd = self.command_on(None);
        cmd.env(protocol::MODE_VAR, Mode::Serve.as_str());
        let mut child = cmd
            .spawn()
            .map_err(|e| Error::io("could not start the migration runner", e))?;
        let stdin = child.stdin.take().expect("piped stdin");
        let lines = BufReader::new(child.stdout.take().expect("piped stdout")).lines();
        Ok(Server { child, stdin, lines })
    }
}

impl Server {
    /// Ends the server: closes its input and waits for it to close its connection.
    pub async fn finish(self) {
        let Server { mut child, stdin, .. } = self;
        drop(stdin);
        let _ = tokio::time::timeout(std::time::Duration::from_secs(5), child.wait()).await;
    }

    /// Runs `steps` on `url` (its schema, on PostgreSQL), stopping at the first failure.
    /// After an error that is not a migration's failure the server may be gone: drop it.
    pub async fn run(&mut self, url: &DbUrl, steps: &[Step], shell: &Shell) -> Result<Vec<Done>> {
        let batch = protocol::Batch {
            url: url.expose().to_string(),
            schema: url.schema.clone(),
            steps: steps.to_vec(),
        };
        self.stdin
            .write_all(batch.to_line().as_bytes())
            .await
            .map_err(|e| Error::io("could not talk to the migration runner", e))?;
        self.stdin
            .flush()
            .await
            .map_err(|e| Error::io("could not talk to the migration runner", e))?;
        let mut done = Vec::new();
        let mut failure = None;
        loop {
            let line = self
                .lines
                .next_line()
                .await
                .map_err(|e| Error::io("could not read the output of the migration runner", e))?;
            let Some(line) = line else {
                let status = self.child.wait().await.ok();
                return Err(failure.unwrap_or_else(|| {
                    Error::Other(format!(
                        "the migration runner stopped unexpectedly ({}) after {} of {} migration(s); run `cargo dbm status --all` to see where the fleet is",
                        status.map(|s| s.to_string()).unwrap_or_default(),
                        done.len(),
                        steps.len()
                    ))
                }));
            };
            match Event::from_line(&line) {
                Some(Ok(Event::Done {
                    version,
                    direction,
                    duration_ms,
                })) => done.push(Done {
                    version,
                    direction,
                    duration_ms,
                }),
                Some(Ok(failed @ Event::Failed { .. })) => failure = migration_failed(failed),
                Some(Ok(Event::Fatal { message })) => failure = Some(fatal(url, &message)),
                Some(Ok(Event::BatchDone { .. })) => break,
                Some(Ok(_)) => {}
                Some(Err(message)) => failure = Some(fatal(url, &message)),
                None => shell.line(&line),
            }
        }
        match failure {
            Some(f) => Err(f),
            None => Ok(done),
        }
    }
}

/// What the runner reads on stdin: steps (migrate mode) or one dry run.
trait Input {
    fn to_line(&self) -> String;
    fn steps(items: &[Self]) -> Vec<Step>
    where
        Self: Sized;
}

impl Input for Step {
    fn to_line(&self) -> String {
        Step::to_line(self)
    }
    fn steps(items: &[Self]) -> Vec<Step> {
        items.to_vec()
    }
}

impl Input for protocol::DryRun {
    fn to_line(&self) -> String {
        protocol::DryRun::to_line(self)
    }
    fn steps(items: &[Self]) -> Vec<Step> {
        items.iter().flat_map(|d| d.steps.clone()).collect()
    }
}

/// The statements of one step (`version`), or of a dry run's setup (`None`).
#[derive(Debug, Clone, serde::Serialize)]
pub struct StepSql {
    pub version: Option<String>,
    /// Whether it ran in a transaction with its tracking rows.
    pub transactional: bool,
    pub statements: Vec<protocol::Captured>,
}

/// A run with its statements.
#[derive(Debug)]
pub struct Captures {
    pub done: Vec<Done>,
    pub captured: Vec<StepSql>,
    /// Dry-run mode: steps that opt out of transactions (nothing ran).
    pub needs_scratch: Vec<String>,
    /// The first failure; the statements up to it are in `captured`.
    pub failure: Option<Error>,
}

/// The runner's message, with the statements that completed before the failure (outside a
/// transaction, they remain in the database).
fn with_completed(message: String, completed: &[String]) -> String {
    if completed.is_empty() {
        return message;
    }
    let mut out = format!("{message}. Statements that completed before it (they remain):");
    for sql in completed.iter().take(20) {
        let one_line: String = sql.split_whitespace().collect::<Vec<_>>().join(" ");
        out.push_str(&format!("\n  {one_line};"));
    }
    if completed.len() > 20 {
        out.push_str(&format!("\n  … and {} more", completed.len() - 20));
    }
    out
}

/// The runner's message, with the rows `PRAGMA foreign_key_check` found without a parent.
fn with_violations(message: String, violations: &[protocol::Violation]) -> String {
    if violations.is_empty() {
        return message;
    }
    let mut out = format!("{message}. PRAGMA foreign_key_check found:");
    for v in violations.iter().take(10) {
        let row = v.rowid.map(|r| format!("row {r}")).unwrap_or_else(|| "a row".into());
        out.push_str(&format!(
            "\n  {row} of `{}` references a missing row of `{}`",
            v.table, v.parent
        ));
    }
    if violations.len() > 10 {
        out.push_str(&format!("\n  … and {} more", violations.len() - 10));
    }
    out
}

fn fatal(url: &DbUrl, message: &str) -> Error {
    let reason = crate::config::redact_text(message);
    if reason.starts_with("could not connect") {
        Error::Connect {
            url: url.redacted(),
            reason: reason.trim_start_matches("could not connect: ").to_string(),
        }
    } else {
        Error::Other(format!("the migration runner failed: {reason}"))
    }
}

#[cfg(test)]
mod tests {
    use super::protocol::*;

    #[test]
    fn both_sides_read_what_the_other_writes() {
        let step = Step {
            direction: Direction::Down,
            version: "m20240101_000001_x".into(),
            checksum: Some("ab".into()),
            foreign_keys_off: true,
            out_of_order: true,
        };
        assert_eq!(Step::from_line(step.to_line().trim_end()), Ok(step.clone()));
        let batch = Batch {
            url: "postgres://u:secret@h/db".into(),
            schema: Some("tenant_1".into()),
            steps: vec![step],
        };
        assert_eq!(Batch::from_line(batch.to_line().trim_end()), Ok(batch));
        // A bad batch is refused without echoing the line (it carries the URL's secret).
        let bad = Batch::from_line(r#"{"url":"postgres://u:secret@h/db","schema":null}"#).unwrap_err();
        assert!(!bad.contains("secret"), "{bad}");
        assert_eq!(Mode::parse(Mode::Serve.as_str()), Some(Mode::Serve));
        // A field one side forgot, or one it does not know, is refused, never defaulted.
        assert!(Step::from_line(r#"{"direction":"up","version":"m1","checksum":null}"#).is_err());
        assert!(
            Step::from_line(r#"{"direction":"up","version":"m1","checksum":null,"foreign_keys_off":false,"out_of_order":false,"x":1}"#)
                .is_err()
        );
        let events = [
            Event::Start {
                version: "m1".into(),
                direction: Direction::Up,
                transactional: true,
                foreign_keys_off: true,
            },
            Event::Failed {
                version: "m1".into(),
                direction: Direction::Up,
                message: "boom".into(),
                transactional: true,
                violations: vec![Violation {
                    table: "purchase".into(),
                    rowid: Some(3),
                    parent: "customer".into(),
                }],
                completed: vec!["CREATE TABLE a (id int)".into()],
            },
            Event::Seeded,
            Event::BatchDone { code: 1 },
        ];
        for e in events {
            assert_eq!(Event::from_line(&e.to_line()), Some(Ok(e)));
        }
        assert_eq!(Event::from_line("hello from a migration"), None);
        assert!(matches!(
            Event::from_line(r#"{"event":"done","version":"m1"}"#),
            Some(Err(_))
        ));
        for tag in ["X", "T", "R", "P", "E"] {
            assert_eq!(SeedLine::parse(tag).map(SeedLine::tag), Some(tag));
        }
    }

    #[test]
    fn the_runner_is_written_the_protocol_the_host_is_compiled_with() {
        assert_eq!(
            crate::templates::RUNNER_PROTOCOL.source,
            include_str!("../../templates/runner/protocol.rs")
        );
    }
}
