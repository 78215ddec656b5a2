//! `backup` and `backup --list`. Taking a backup is shared with `up --backup` and restore's
//! safety copy, so the work is in [`crate::tasks::backup`].

use super::Ctx;
use crate::backup::Entry;
use crate::error::Result;
use std::path::{Path, PathBuf};

pub use crate::tasks::backup::{BackupInfo, BackupOptions};

/// Takes a backup of the context's database into `dir`.
pub async fn backup(ctx: &Ctx, dir: Option<&Path>, opts: &BackupOptions) -> Result<BackupInfo> {
    crate::tasks::backup::backup(ctx, dir, opts).await
}

/// Every backup file in the folder (ours and look-alikes), oldest first.
pub fn list(ctx: &Ctx, dir: Option<&Path>) -> Result<(PathBuf, Vec<Entry>)> {
    crate::tasks::backup::list(ctx, dir)
}
