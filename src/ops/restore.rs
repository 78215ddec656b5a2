//! `restore`: in two steps so that the command can ask in between.
//!
//! 1. [`verify`] checks the file without touching the database: the compression's
//!    checksums and end marker, the engine, and for SQLite the header and
//!    `PRAGMA integrity_check` of a decompressed copy written next to the database; for
//!    PostgreSQL `pg_restore --list` on the decompressed stream.
//! 2. [`apply`] takes a safety backup of the current database (`…_before-restore`), then
//!    replaces it atomically: SQLite by renaming the verified copy into place (after
//!    emptying the WAL, whose stale `-wal`/`-shm` are removed); PostgreSQL with
//!    `pg_restore --clean --if-exists --single-transaction`, fed the decompressed stream.

use super::Ctx;
use crate::backup::compress::{self, Meta};
use crate::backup::{self, refuse};
use crate::engine::Prepared;
use crate::error::{Error, IoContext, Result};
use crate::shell::Counting;
use crate::tasks::backup::{BackupInfo, BackupOptions};
use std::path::{Path, PathBuf};
use std::time::Instant;

/// A backup file that passed verification, ready for [`apply`].
#[derive(Debug)]
pub struct Verified {
    /// The file that will be restored.
    pub file: PathBuf,
    /// Its metadata, for files cargo-dbm wrote.
    pub meta: Option<Meta>,
    /// The uncompressed size.
    pub data_bytes: u64,
    prepared: Prepared,
}

/// What [`apply`] did.
#[derive(Debug, serde::Serialize)]
pub struct Restored {
    pub file: PathBuf,
    pub duration_ms: u64,
    /// The safety backup of the database as it was; `None` when there was no database.
    pub safety_backup: Option<BackupInfo>,
    /// PostgreSQL: tables in the restored schemas that the backup does not contain (created
    /// after it was taken). `pg_restore --clean` replaces only what the archive holds, so
    /// these are left as they were.
    pub left_over: Vec<String>,
}

/// `FILE` or `latest` → the backup file. `latest` is the newest backup of this database
/// in the backup folder, not counting restore's own safety copies.
pub fn resolve(ctx: &Ctx, spec: &str, dir: Option<&Path>) -> Result<PathBuf> {
    if spec == "latest" {
        let (dir, entries) = crate::tasks::backup::list(ctx, dir)?;
        let engine = ctx.url.engine;
        let db = ctx.url.database_name();
        return entries
            .into_iter()
            .rev()
            .find(|e| e.is_of(engine, &db) && e.meta.as_ref().is_some_and(|m| m.kind == backup::Kind::Backup))
            .map(|e| e.path)
            .ok_or_else(|| {
                Error::Config(format!(
                    "there is no backup of {} in {}",
                    ctx.url.redacted(),
                    dir.display()
                ))
            });
    }
    let p = PathBuf::from(spec);
    let p = if p.is_absolute() {
        p
    } else {
        std::env::current_dir().map(|c| c.join(&p)).unwrap_or(p)
    };
    if !p.is_file() {
        return Err(Error::Config(format!("the backup file {} does not exist", p.display())));
    }
    Ok(p)
}

/// Checks `file` thoroughly without touching the database. See the module docs.
pub async fn verify(ctx: &Ctx, file: &Path) -> Result<Verified> {
    let mut f = std::fs::File::open(file).context(|| format!("could not open {}", file.display()))?;
    let (_, meta) = compress::read_header(&mut f).context(|| format!("could not read {}", file.display()))?;
    let engine = ctx.url.engine;
    if let Some(m) = &meta
        && m.engine != engine
    {
        return Err(refuse(
            file,
            format!("it is a {} backup and the database is {engine}", m.engine),
        ));
    }
    let size = f.metadata().map(|m| m.len()).ok();
    let pb = ctx.shell.progress(size, "Verifying", Counting::Bytes);
    let progress = |n: u64| pb.set_position(n);
    let mut decompress = |w: &mut (dyn std::io::Write + Send)| compress::decompress(&mut f, w, &progress);
    let r = ctx.url.engine.prepare_restore(&ctx.url, file, &mut decompress).await;
    pb.finish_and_clear();
    let (prepared, data_bytes) = r?;
    Ok(Verified {
        file: file.to_path_buf(),
        meta,
        data_bytes,
        prepared,
    })
}

/// Takes a safety backup of the current database, then replaces it with the verified file.
pub async fn apply(ctx: &Ctx, v: Verified, dir: Option<&Path>) -> Result<Restored> {
    let started = Instant::now();
    let exists = ctx.url.engine.exists(&ctx.url);
    let mut damaged = false;
    let safety = if exists {
        let opts = BackupOptions {
            before_restore: true,
            ..BackupOptions::default()
        };
        match crate::tasks::backup::backup(ctx, dir, &opts).await {
            Ok(info) => Some(info),
            // SQLite cannot read the database it is asked to replace: keep its bytes as is.
            Err(e @ (Error::Database { .. } | Error::Connect { .. })) if ctx.url.sqlite_path.is_some() => {
                ctx.shell.warn(format!(
                    "SQLite cannot read the current database ({e}); saving the file as it is"
                ));
                damaged = true;
                Some(crate::tasks::backup::raw_sqlite_copy(ctx, dir)?)
            }
            Err(e) => return Err(e),
        }
    } else {
        None
    };
    let left_over = v
        .prepared
        .apply(&ctx.url, &v.file, exists && !damaged, &ctx.shell)
        .await?;
    Ok(Restored {
        file: v.file,
        duration_ms: started.elapsed().as_millis() as u64,
        safety_backup: safety,
        left_over,
    })
}
