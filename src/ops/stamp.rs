//! `stamp REV`: record the database as being at REV without running anything — the way to
//! adopt an existing database (`stamp head`) or repair the tracking table.

use super::Ctx;
use crate::db::{Create, Db, tracking};
use crate::error::Result;
use crate::plan::Status;
use std::time::Duration;

/// What `stamp` changed in the tracking table.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct Stamped {
    /// Recorded as applied.
    pub added: Vec<String>,
    /// Removed from the tracking table (after REV, or all with `--purge`).
    pub removed: Vec<String>,
    /// Partially applied migrations recorded as repaired (neither added nor removed).
    pub settled: Vec<String>,
}

impl Stamped {
    /// Whether the tracking table changed.
    pub fn changed(&self) -> bool {
        !self.added.is_empty() || !self.removed.is_empty() || !self.settled.is_empty()
    }
}

/// Makes the tracking table say exactly "applied up to and including `rev`".
/// With `purge`, every row (including rows of migrations that no longer exist) goes first.
pub async fn stamp(ctx: &Ctx, rev: &str, purge: bool, lock_timeout: Duration) -> Result<Stamped> {
    let mig = ctx.ws.migration()?;
    let src = crate::migrator_source::MigratorSource::load(&mig.lib)?;
    let table = ctx.tracking_table(&src);
    // Resolve before touching anything, so a bad revision changes nothing.
    let (_, status) = ctx.status().await?;
    let upto = status.upto(rev)?;
    crate::runner::use_tracking_form_of(&ctx.ws, mig)?;
    let lock = crate::db::lock::acquire(&ctx.url, lock_timeout, &ctx.shell).await?;
    let result = async {
        let db = Db::open(&ctx.url, Create::Yes).await?.expect("created");
        tracking::install(&db, &table).await?;
        // Read before the transaction: SQLite's pool has a single connection.
        let status = Status::load(Some(&db), &src, &table).await?;
        let txn = sea_orm::TransactionTrait::begin(&db.conn)
            .await
            .map_err(|e| crate::Error::db("starting the stamp", e))?;
        let mut out = Stamped::default();
        if purge {
            out.removed = status
                .applied()
                .map(|e| e.file.name.clone())
                .chain(status.missing.iter().map(|m| m.version.clone()))
                .collect();
        } else {
            out.removed = status.entries[upto..]
                .iter()
                .filter(|e| e.applied_at.is_some())
                .map(|e| e.file.name.clone())
                .collect();
        }
        tracking::unstamp_rows(&txn, &table, &out.removed).await?;
        let add: Vec<_> = status.entries[..upto]
            .iter()
            .filter(|e| purge || e.applied_at.is_none())
            .collect();
        out.added = add.iter().map(|e| e.file.name.clone()).collect();
        let sums: Vec<Option<String>> = add.iter().map(|e| e.file.checksum()).collect();
        tracking::stamp_rows(&txn, &table, &out.added, &sums).await?;
        // A partially applied migration the stamp leaves unapplied (its changes undone by
        // hand) is settled with a row of its own; one it adds is settled by that row.
        out.settled = status
            .partial
            .iter()
            .map(|p| p.version.clone())
            .filter(|v| !out.added.contains(v) && !out.removed.contains(v))
            .collect();
        tracking::settle_rows(&txn, &out.settled).await?;
        txn.commit()
            .await
            .map_err(|e| crate::Error::db("committing the stamp", e))?;
        db.close().await;
        Ok(out)
    }
    .await;
    lock.release().await;
    result
}
