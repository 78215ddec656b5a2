//! The statements migrations execute, captured on a scratch database: the migrations the
//! database has applied are applied to an empty scratch first (in the order it applied
//! them), then the steps run with their statements recorded by the capture runner. Nothing
//! touches the user's database.

use crate::context::Ctx;
use crate::error::Result;
use crate::runner::{Captures, Direction, Runner, Step};
use crate::tasks::scratch::Scratch;

/// Runs `steps` on a scratch database brought to the state `before` (steps applied
/// first, statements not kept), recording the statements of `steps`. The scratch is
/// dropped whatever happens.
///
/// The scratch is made beside `base` (the workspace's database, or a scratch server).
pub async fn on_scratch(
    ctx: &Ctx,
    base: &crate::config::DbUrl,
    runner: &Runner,
    table: &str,
    before: &[Step],
    steps: &[Step],
) -> Result<Captures> {
    let scratch = Scratch::beside(ctx, base, "capture")?;
    let result = async {
        let db = scratch.open(table).await?;
        db.close().await;
        let quiet = crate::shell::Shell::new(ctx.shell.format, true);
        if !before.is_empty() {
            runner.run(&scratch.url, before, &quiet).await?;
        }
        runner.run_captured(&scratch.url, steps, &quiet).await
    }
    .await;
    scratch.drop().await;
    result
}

/// The `up` steps that bring an empty database to `versions` (in that order).
pub fn ups(status: &crate::plan::Status, versions: &[&str]) -> Vec<Step> {
    versions
        .iter()
        .filter_map(|v| status.entries.iter().find(|e| e.file.name == *v))
        .map(|e| e.step(Direction::Up, false))
        .collect()
}

/// A range of migrations to capture: the state to start from, and the steps.
#[derive(Debug)]
pub struct Range {
    pub direction: Direction,
    /// Brings an empty scratch database to the range's start.
    pub before: Vec<Step>,
    pub steps: Vec<Step>,
    /// `FROM..TO` as resolved (`base`, a version, `head`).
    pub label: String,
}

/// Resolves `spec` (`FROM..TO`, `..TO`, `FROM..`, or `TO`; revisions as `up` takes them)
/// against the Migrator's list. Without a `FROM`, the range starts where the database is
/// (`applied`: whether it could be read) or at `base`. `up`: the migrations after `FROM` up
/// to `TO` (default `head`; with the database, its pending ones). `down`: reverts from `TO`
/// (default: the database's state, or `head`) back to `FROM` (default: one migration with
/// the database, `base` without), newest first.
pub fn range(status: &crate::plan::Status, spec: Option<&str>, direction: Direction, with_db: bool) -> Result<Range> {
    let names = status.names();
    let (from, to) = match spec.map(str::trim) {
        None | Some("") => (None, None),
        Some(s) => match s.split_once("..") {
            Some((a, b)) => (Some(a).filter(|a| !a.is_empty()), Some(b).filter(|b| !b.is_empty())),
            None => (None, Some(s)),
        },
    };
    let upto = |rev: &str| status.upto(rev);
    let db_state = with_db && status.tracked;
    let applied: Vec<&str> = status.applied_in_order().iter().map(|e| e.file.name.as_str()).collect();
    let (start, state): (Vec<&str>, Option<usize>) = match from {
        Some(f) => {
            let n = upto(f)?;
            (names[..n].to_vec(), Some(n))
        }
        None if db_state => (applied.clone(), None),
        None => (Vec::new(), Some(0)),
    };
    let label_of = |n: usize| {
        if n == 0 {
            "base".to_string()
        } else {
            names[n - 1].to_string()
        }
    };
    match direction {
        Direction::Up => {
            let end = match to {
                Some(t) => upto(t)?,
                None => names.len(),
            };
            if let Some(s) = state
                && s > end
            {
                return Err(bad_range(spec, "its start is after its end"));
            }
            let steps: Vec<&str> = names[..end].iter().copied().filter(|n| !start.contains(n)).collect();
            let from_label = match state {
                Some(s) => label_of(s),
                None => applied.last().map(|s| s.to_string()).unwrap_or_else(|| "base".into()),
            };
            Ok(Range {
                direction,
                before: ups(status, &start),
                steps: ups(status, &steps),
                label: format!("{from_label}..{}", label_of(end)),
            })
        }
        Direction::Down => {
            // The state reverted from.
            let top: Vec<&str> = match to {
                Some(t) => names[..upto(t)?].to_vec(),
                None if db_state => applied.clone(),
                None => names.clone(),
            };
            let keep: Vec<&str> = match (from, state) {
                (Some(_), Some(n)) => names[..n].to_vec(),
                _ if db_state && to.is_none() => applied[..applied.len().saturating_sub(1)].to_vec(),
                _ => Vec::new(),
            };
            if keep.iter().any(|k| !top.contains(k)) {
                return Err(bad_range(spec, "its start is after its end"));
            }
            let reverted: Vec<&str> = top.iter().rev().copied().filter(|n| !keep.contains(n)).collect();
            let steps = ups(status, &reverted)
                .into_iter()
                .map(|mut s| {
                    s.direction = Direction::Down;
                    s
                })
                .collect();
            Ok(Range {
                direction,
                before: ups(status, &top),
                steps,
                label: format!(
                    "{}..{}",
                    keep.last().copied().unwrap_or("base"),
                    top.last().copied().unwrap_or("base")
                ),
            })
        }
    }
}

fn bad_range(spec: Option<&str>, why: &str) -> crate::error::Error {
    crate::error::Error::UnknownRevision {
        rev: spec.unwrap_or_default().to_string(),
        hint: format!(
            "the range does not resolve: {why}; write it as FROM..TO with FROM before TO (e.g. `base..head`, `m2024..`, `..add_phone`)"
        ),
    }
}

/// Whether a statement changes something (a script leaves out the reads a migration made).
pub fn is_change(sql: &str) -> bool {
    let s = sql.trim_start().to_ascii_uppercase();
    let first = s.split(|c: char| !c.is_ascii_alphabetic()).next().unwrap_or("");
    match first {
        "SELECT" | "SHOW" | "EXPLAIN" | "VALUES" => false,
        "WITH" => !s.contains("SELECT") || s.contains("INSERT") || s.contains("UPDATE") || s.contains("DELETE"),
        // The runner's own foreign-key handling is written around the migration instead.
        "PRAGMA" => s.contains('=') && !s.contains("FOREIGN_KEYS"),
        _ => true,
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn reads_are_left_out_of_scripts() {
        use super::is_change;
        assert!(is_change("CREATE TABLE x (id int)"));
        assert!(is_change("INSERT INTO \"seaql_migrations\" VALUES ('m1', 1)"));
        assert!(!is_change("SELECT COUNT(*) FROM pg_tables"));
        assert!(!is_change("  select 1"));
        assert!(!is_change("PRAGMA foreign_keys"));
        assert!(!is_change("PRAGMA foreign_keys = OFF"));
        assert!(!is_change("PRAGMA foreign_key_check"));
        assert!(is_change("PRAGMA user_version = 3"));
        assert!(is_change("WITH x AS (SELECT 1) INSERT INTO t SELECT * FROM x"));
        assert!(!is_change("WITH x AS (SELECT 1) SELECT * FROM x"));
    }
}
