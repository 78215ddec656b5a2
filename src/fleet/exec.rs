//! Running work over a fleet: a bounded number of targets at once, in the fleet's order,
//! the canary wave first; after a failure no new target starts unless `keep_going`; a
//! failure in the canary wave always stops the rest.

use super::{Fleet, Target};
use crate::error::Result;
use crate::shell::Shell;
use futures_util::StreamExt;
use futures_util::stream::FuturesUnordered;
use indicatif::{ProgressBar, ProgressStyle};
use std::future::Future;

/// What happened to one target.
pub enum Ran<T> {
    Done(T),
    Failed(crate::Error),
    /// Never started: an earlier failure stopped the run (the reason says which).
    NotStarted(String),
}

/// When to stop starting targets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OnFailure {
    /// Stop starting new targets (those running finish).
    Stop,
    /// Start every target anyway (`--keep-going`; read-only work).
    KeepGoing,
}

/// Runs `work` on every target of `fleet`: the canary wave first, then the rest, at most
/// `fleet.jobs` at once. `on_done` sees each result as it arrives (progress).
pub async fn run<'a, T, Fut>(
    fleet: &'a Fleet,
    on_failure: OnFailure,
    mut work: impl FnMut(&'a Target) -> Fut,
    mut on_done: impl FnMut(&Target, &Result<T>),
) -> Vec<Ran<T>>
where
    Fut: Future<Output = Result<T>> + 'a,
{
    let [canaries, rest] = fleet.waves();
    let mut out = each(canaries, fleet.jobs, on_failure, &mut work, &mut on_done).await;
    let canary_failed = out.iter().position(|r| matches!(r, Ran::Failed(_)));
    match canary_failed {
        Some(i) => out.extend(rest.iter().map(|_| {
            Ran::NotStarted(format!(
                "the canary target `{}` failed; the rest of the fleet was not started",
                canaries[i].name
            ))
        })),
        None => out.extend(each(rest, fleet.jobs, on_failure, &mut work, &mut on_done).await),
    }
    out
}

/// Runs `work` on `targets` in order, at most `jobs` at once, with no canary wave (reading
/// the fleet's state; each wave of [`run`]).
pub async fn each<'a, T, Fut>(
    targets: &'a [Target],
    jobs: usize,
    on_failure: OnFailure,
    work: &mut impl FnMut(&'a Target) -> Fut,
    on_done: &mut impl FnMut(&Target, &Result<T>),
) -> Vec<Ran<T>>
where
    Fut: Future<Output = Result<T>> + 'a,
{
    let mut results: Vec<Option<Ran<T>>> = (0..targets.len()).map(|_| None).collect();
    let mut running = FuturesUnordered::new();
    let mut next = 0;
    let mut first_failure: Option<usize> = None;
    loop {
        while running.len() < jobs.max(1)
            && next < targets.len()
            && (on_failure == OnFailure::KeepGoing || first_failure.is_none())
        {
            let i = next;
            next += 1;
            let fut = work(&targets[i]);
            running.push(async move { (i, fut.await) });
        }
        let Some((i, result)) = running.next().await else {
            break;
        };
        on_done(&targets[i], &result);
        results[i] = Some(match result {
            Ok(v) => Ran::Done(v),
            Err(e) => {
                first_failure.get_or_insert(i);
                Ran::Failed(e)
            }
        });
    }
    results
        .into_iter()
        .map(|r| {
            r.unwrap_or_else(|| {
                let failed = first_failure.map(|i| targets[i].name.as_str()).unwrap_or("?");
                Ran::NotStarted(format!(
                    "stopped after `{failed}` failed (`--keep-going` carries on past failures)"
                ))
            })
        })
        .collect()
}

/// One progress bar for a fleet run: targets finished, with counts per outcome. Shown only
/// on a terminal, and not with `--quiet` or `--format json`.
pub struct Progress {
    bar: Option<ProgressBar>,
    ok: usize,
    changed: usize,
    failed: usize,
    verb: &'static str,
}

impl Progress {
    pub fn new(shell: &Shell, total: usize, verb: &'static str) -> Progress {
        let bar =
            (shell.is_tty() && !shell.quiet && shell.format == crate::shell::Format::Human && total > 1).then(|| {
                ProgressBar::new(total as u64).with_style(
                    ProgressStyle::with_template(&format!(
                        "{verb:>12} [{{bar:30.cyan/blue}}] {{pos}}/{{len}} targets {{msg}}"
                    ))
                    .expect("valid template")
                    .progress_chars("=> "),
                )
            });
        Progress {
            bar,
            ok: 0,
            changed: 0,
            failed: 0,
            verb,
        }
    }

    /// Counts one finished target: `changed` when work was done on it.
    pub fn done(&mut self, ok: bool, changed: bool) {
        match (ok, changed) {
            (false, _) => self.failed += 1,
            (true, true) => self.changed += 1,
            (true, false) => self.ok += 1,
        }
        if let Some(bar) = &self.bar {
            bar.inc(1);
            bar.set_message(format!(
                "({} {}, {} unchanged, {} failed)",
                self.changed,
                self.verb.to_lowercase(),
                self.ok,
                self.failed
            ));
        }
    }

    pub fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{DbUrl, UrlSource};

    fn fleet(n: usize, canaries: usize, jobs: usize) -> Fleet {
        let url = DbUrl::parse(
            "postgres://localhost/app",
            std::path::Path::new("/"),
            UrlSource::Default,
        )
        .unwrap();
        Fleet {
            targets: (0..n)
                .map(|i| Target {
                    name: format!("t{i}"),
                    url: url.clone(),
                    from: "schemas",
                })
                .collect(),
            canaries,
            jobs,
        }
    }

    fn summary<T>(r: &[Ran<T>]) -> String {
        r.iter()
            .map(|r| match r {
                Ran::Done(_) => 'd',
                Ran::Failed(_) => 'F',
                Ran::NotStarted(_) => '-',
            })
            .collect()
    }

    async fn go(f: &Fleet, on_failure: OnFailure, fail: &[&str]) -> (String, usize) {
        let mut max = 0;
        let running = std::cell::Cell::new(0usize);
        let r = run(
            f,
            on_failure,
            |t| {
                let bad = fail.contains(&t.name.as_str());
                let running = &running;
                async move {
                    running.set(running.get() + 1);
                    tokio::task::yield_now().await;
                    running.set(running.get() - 1);
                    if bad {
                        Err(crate::Error::Other("boom".into()))
                    } else {
                        Ok(())
                    }
                }
            },
            |_, _| max = max.max(running.get() + 1),
        )
        .await;
        (summary(&r), max)
    }

    #[tokio::test]
    async fn stops_starting_after_a_failure_unless_keep_going() {
        let f = fleet(6, 0, 1);
        assert_eq!(go(&f, OnFailure::Stop, &["t2"]).await.0, "ddF---");
        assert_eq!(go(&f, OnFailure::KeepGoing, &["t2"]).await.0, "ddFddd");
        assert_eq!(go(&f, OnFailure::Stop, &[]).await.0, "dddddd");
    }

    #[tokio::test]
    async fn a_canary_failure_stops_the_rest_even_with_keep_going() {
        let f = fleet(5, 2, 4);
        assert_eq!(go(&f, OnFailure::KeepGoing, &["t1"]).await.0, "dF---");
        assert_eq!(go(&f, OnFailure::KeepGoing, &["t3"]).await.0, "dddFd");
    }

    #[tokio::test]
    async fn at_most_jobs_run_at_once() {
        let f = fleet(20, 0, 3);
        let (s, max) = go(&f, OnFailure::Stop, &[]).await;
        assert_eq!(s, "d".repeat(20));
        assert!(max <= 3, "{max} ran at once");
    }
}
