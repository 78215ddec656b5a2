//! `status`, `current`, `heads` and `history`: read-only, no compilation.

use super::Ctx;
use crate::db::{Create, Db, tracking};
use crate::error::Result;
use crate::plan::Status;

/// One line of `history`.
#[derive(Debug, Clone, serde::Serialize)]
pub struct HistoryItem {
    pub version: String,
    pub direction: String,
    /// Unix milliseconds.
    pub at_ms: i64,
    pub duration_ms: Option<i64>,
    pub applied_by: Option<String>,
    pub checksum: Option<String>,
}

/// The migration state (applied, pending, missing, modified).
pub async fn status(ctx: &Ctx) -> Result<Status> {
    Ok(ctx.status().await?.1)
}

/// Every up and down recorded by cargo-dbm, oldest first; for migrations applied by other
/// tools (plain sea-orm-migration), the `seaql_migrations` rows stand in.
pub async fn history(ctx: &Ctx) -> Result<Vec<HistoryItem>> {
    let src = crate::migrator_source::MigratorSource::load(&ctx.ws.migration()?.lib)?;
    let Some(db) = Db::open(&ctx.url, Create::No).await? else {
        return Ok(Vec::new());
    };
    let rows = tracking::history(&db).await?.unwrap_or_default();
    let recorded: std::collections::HashSet<&str> = rows.iter().map(|r| r.version.as_str()).collect();
    let table = ctx.tracking_table(&src);
    // Applied before cargo-dbm kept its own history.
    let mut items: Vec<HistoryItem> = tracking::applied(&db, &table)
        .await?
        .unwrap_or_default()
        .into_iter()
        .filter(|a| !recorded.contains(a.version.as_str()))
        .map(|a| HistoryItem {
            version: a.version,
            direction: "up".into(),
            at_ms: a.applied_at * 1000,
            duration_ms: None,
            applied_by: None,
            checksum: None,
        })
        .collect();
    items.sort_by_key(|i| (i.at_ms, i.version.clone()));
    items.extend(rows.into_iter().map(|r| HistoryItem {
        version: r.version,
        direction: r.direction,
        at_ms: r.applied_at_ms,
        duration_ms: Some(r.duration_ms),
        applied_by: r.applied_by,
        checksum: r.checksum,
    }));
    db.close().await;
    Ok(items)
}
