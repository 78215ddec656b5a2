//! `status`, `current`, `heads` and `history`: read-only, no compilation.

use super::Ctx;
use crate::db::tracking::Recorded;
use crate::db::{Create, Db, tracking};
use crate::error::Result;
use crate::plan::Status;

/// One line of `history`.
#[derive(Debug, Clone, serde::Serialize)]
pub struct HistoryItem {
    pub version: String,
    pub direction: Recorded,
    /// Unix milliseconds; `None` for a revert another tool did, whose time nothing records.
    pub at_ms: Option<i64>,
    pub duration_ms: Option<i64>,
    pub applied_by: Option<String>,
    pub checksum: Option<String>,
    /// Inferred from `seaql_migrations`: done by another tool (plain sea-orm-migration,
    /// `sea-orm-cli migrate`), not recorded by cargo-dbm.
    pub other_tool: bool,
    /// An apply out of order: the newest version that was already applied then.
    pub out_of_order_after: Option<String>,
}

/// `heads`: the ends of the migration list and, when branches met, where they forked.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Heads {
    /// The last migration of the list, and the newest version when that is another one
    /// (a list out of version order).
    pub heads: Vec<String>,
    /// The newest applied migration older than every out-of-order one: where the branches
    /// forked, as this database saw it.
    pub branch_point: Option<String>,
    /// Pending migrations that sort before applied ones.
    pub pending_out_of_order: Vec<crate::plan::OutOfOrder>,
    /// Migrations this database applied out of order, with when.
    pub applied_out_of_order: Vec<HistoryItem>,
}

/// The heads of the list and the branch point (reads the database when there is one).
pub async fn heads(ctx: &Ctx) -> Result<Heads> {
    let st = ctx.status().await?.1;
    let mut heads: Vec<String> = st.head().map(|e| e.file.name.clone()).into_iter().collect();
    if let Some(newest) = st.entries.iter().map(|e| &e.file.name).max()
        && !heads.contains(newest)
    {
        heads.push(newest.clone());
    }
    let pending_out_of_order = st.out_of_order();
    let applied_out_of_order: Vec<HistoryItem> = if st.tracked {
        history(ctx)
            .await?
            .into_iter()
            .filter(|i| i.out_of_order_after.is_some())
            .collect()
    } else {
        Vec::new()
    };
    let earliest = pending_out_of_order
        .iter()
        .map(|o| &o.version)
        .chain(applied_out_of_order.iter().map(|i| &i.version))
        .min();
    let branch_point =
        earliest.and_then(|first| st.applied().map(|e| &e.file.name).filter(|v| *v < first).max().cloned());
    Ok(Heads {
        heads,
        branch_point,
        pending_out_of_order,
        applied_out_of_order,
    })
}

/// The migration state (applied, pending, missing, modified).
pub async fn status(ctx: &Ctx) -> Result<Status> {
    Ok(ctx.status().await?.1)
}

/// Every up and down, oldest first: those cargo-dbm recorded in `dbm_history`, and those
/// that `seaql_migrations` shows another tool did (plain sea-orm-migration writes no
/// history): a migration applied without a record, applied again after a recorded revert
/// or at a later time than recorded, or reverted since it was recorded as applied.
pub async fn history(ctx: &Ctx) -> Result<Vec<HistoryItem>> {
    let src = crate::migrator_source::MigratorSource::load(&ctx.ws.migration()?.lib)?;
    let Some(db) = Db::open(&ctx.url, Create::No).await? else {
        return Ok(Vec::new());
    };
    let rows = tracking::history(&db).await?.unwrap_or_default();
    let table = ctx.tracking_table(&src);
    let applied = tracking::applied(&db, &table).await?.unwrap_or_default();
    db.close().await;
    Ok(merge_history(rows, applied))
}

fn other(version: &str, direction: Recorded, at_ms: Option<i64>) -> HistoryItem {
    HistoryItem {
        version: version.to_string(),
        direction,
        at_ms,
        duration_ms: None,
        applied_by: None,
        checksum: None,
        other_tool: true,
        out_of_order_after: None,
    }
}

/// `dbm_history`'s rows with what `seaql_migrations` says happened besides them.
fn merge_history(rows: Vec<tracking::HistoryRow>, applied: Vec<tracking::Applied>) -> Vec<HistoryItem> {
    use std::collections::HashMap;
    // The last recorded state of each version: `stamp` leaves it applied, `unstamp` not.
    let mut last: HashMap<&str, (&tracking::HistoryRow, bool)> = HashMap::new();
    for r in &rows {
        if r.direction.is_marker() {
            continue;
        }
        last.insert(
            r.version.as_str(),
            (r, matches!(r.direction, Recorded::Up | Recorded::Stamp)),
        );
    }
    // Each item with the time it sorts by: a revert of unknown time comes right before the
    // apply that followed it, or after everything else.
    let mut items: Vec<(i64, HistoryItem)> = Vec::new();
    for a in &applied {
        let at = a.applied_at * 1000;
        match last.get(a.version.as_str()) {
            None => items.push((at, other(&a.version, Recorded::Up, Some(at)))),
            Some((_, false)) => items.push((at, other(&a.version, Recorded::Up, Some(at)))),
            // Applied again later than recorded (`seaql_migrations` keeps seconds): a revert
            // and an apply that cargo-dbm did not see.
            Some((r, true)) if a.applied_at > r.applied_at_ms / 1000 + 1 => {
                items.push((at - 1, other(&a.version, Recorded::Down, None)));
                items.push((at, other(&a.version, Recorded::Up, Some(at))));
            }
            Some(_) => {}
        }
    }
    for (version, (_, is_applied)) in &last {
        if *is_applied && !applied.iter().any(|a| a.version == *version) {
            items.push((i64::MAX, other(version, Recorded::Down, None)));
        }
    }
    items.extend(rows.into_iter().map(|r| {
        (
            r.applied_at_ms,
            HistoryItem {
                version: r.version,
                direction: r.direction,
                at_ms: Some(r.applied_at_ms),
                duration_ms: Some(r.duration_ms),
                applied_by: r.applied_by,
                checksum: r.checksum,
                other_tool: false,
                out_of_order_after: None,
            },
        )
    }));
    // Stable: recorded rows keep their order within one millisecond.
    items.sort_by_key(|(at, i)| (*at, i.other_tool));
    let mut items: Vec<HistoryItem> = items.into_iter().map(|(_, i)| i).collect();
    mark_out_of_order(&mut items);
    // The out-of-order note is shown on the apply it follows.
    items.retain(|i| i.direction != Recorded::OutOfOrder);
    items
}

/// Replays the history: an apply while a later version was applied is out of order.
fn mark_out_of_order(items: &mut [HistoryItem]) {
    let mut applied: std::collections::BTreeSet<String> = std::collections::BTreeSet::new();
    for i in items.iter_mut() {
        match i.direction {
            Recorded::Up | Recorded::Stamp => {
                if i.direction == Recorded::Up
                    && let Some(newest) = applied
                        .range::<str, _>((
                            std::ops::Bound::Excluded(i.version.as_str()),
                            std::ops::Bound::Unbounded,
                        ))
                        .next_back()
                {
                    i.out_of_order_after = Some(newest.clone());
                }
                applied.insert(i.version.clone());
            }
            Recorded::Down | Recorded::Unstamp => {
                applied.remove(&i.version);
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(id: i64, version: &str, direction: &str, at_s: i64) -> tracking::HistoryRow {
        tracking::HistoryRow {
            id,
            version: version.into(),
            direction: Recorded::parse(direction).unwrap(),
            checksum: None,
            applied_at_ms: at_s * 1000,
            duration_ms: 5,
            applied_by: Some("me@here".into()),
        }
    }

    fn applied(version: &str, at_s: i64) -> tracking::Applied {
        tracking::Applied {
            version: version.into(),
            applied_at: at_s,
        }
    }

    #[test]
    fn history_marks_applies_out_of_order_with_what_was_newer() {
        let rows = vec![
            row(1, "m1", "up", 100),
            row(2, "m3", "up", 101),
            row(3, "m2", "up", 102),
            row(4, "m2", "out-of-order", 102),
            row(5, "m2", "down", 103),
            row(6, "m3", "down", 104),
            row(7, "m2", "up", 105),
        ];
        let seaql = vec![applied("m1", 100), applied("m2", 105)];
        let items = merge_history(rows, seaql);
        let marks: Vec<(String, Option<String>)> = items
            .iter()
            .map(|i| {
                (
                    format!("{} {}", i.direction.as_str(), i.version),
                    i.out_of_order_after.clone(),
                )
            })
            .collect();
        assert_eq!(
            marks,
            [
                ("up m1".to_string(), None),
                ("up m3".to_string(), None),
                ("up m2".to_string(), Some("m3".to_string())),
                ("down m2".to_string(), None),
                ("down m3".to_string(), None),
                ("up m2".to_string(), None),
            ]
        );
    }

    #[test]
    fn history_shows_what_another_tool_did_since() {
        let rows = vec![
            row(1, "m1", "up", 100),
            row(2, "m2", "up", 101),
            row(3, "m3", "up", 102),
            row(4, "m3", "down", 103),
            row(5, "m4", "up", 104),
        ];
        // m0 applied by another tool before cargo-dbm; m2 reverted by another tool; m3
        // applied again by another tool after cargo-dbm reverted it; m4 reverted and
        // applied again later; m1 untouched.
        let seaql = vec![
            applied("m0", 50),
            applied("m1", 100),
            applied("m3", 200),
            applied("m4", 300),
        ];
        let lines: Vec<String> = merge_history(rows, seaql)
            .iter()
            .map(|i| {
                format!(
                    "{} {} {} {}",
                    i.at_ms.map(|t| (t / 1000).to_string()).unwrap_or("?".into()),
                    i.direction.as_str(),
                    i.version,
                    if i.other_tool { "other" } else { "dbm" }
                )
            })
            .collect();
        assert_eq!(
            lines,
            [
                "50 up m0 other",
                "100 up m1 dbm",
                "101 up m2 dbm",
                "102 up m3 dbm",
                "103 down m3 dbm",
                "104 up m4 dbm",
                "200 up m3 other",
                "? down m4 other",
                "300 up m4 other",
                "? down m2 other",
            ]
        );
    }
}
