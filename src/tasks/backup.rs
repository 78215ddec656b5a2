//! `backup`: a consistent, compressed, owner-only snapshot of the database, written under a
//! temporary name and renamed when complete; then the oldest of our own backups beyond
//! `backup-keep` are deleted. Also the listing behind `backup --list`.
//!
//! `cargo dbm up --backup` calls [`backup`] with [`BackupOptions::default`] before
//! migrating, and names the result with [`restore_command`] if a migration fails without
//! being rolled back; [`backup_before_up`] reads the configuration switch.

use crate::backup::compress::{self, Codec, Meta};
use crate::backup::{self, Entry, Name, Pending};
use crate::context::Ctx;
use crate::db::{Create, Db, tracking};
use crate::error::{Error, IoContext, Result};
use crate::migrator_source::MigratorSource;
use crate::shell::Counting;
use std::io::BufReader;
use std::path::{Path, PathBuf};
use std::time::Instant;

/// How to take a backup; [`Default`] is what `cargo dbm backup` does with no flags.
#[derive(Debug, Clone, Default)]
pub struct BackupOptions {
    /// gzip or zstd; `None`: `backup-compression` from the configuration, else gzip.
    pub compression: Option<Codec>,
    /// `None`: `backup-level`, else the codec's default.
    pub level: Option<i32>,
    /// How many of this database's backups to keep; `None`: `backup-keep`, else 10.
    pub keep: Option<usize>,
    /// Restore's safety copy: named `…_before-restore`, and nothing is pruned.
    pub before_restore: bool,
}

/// What [`backup`] wrote.
#[derive(Debug, Clone, serde::Serialize)]
pub struct BackupInfo {
    /// The backup file (absolute).
    pub path: PathBuf,
    /// Its size in bytes.
    pub size: u64,
    /// The uncompressed size: the SQLite snapshot or the dump.
    pub data_bytes: u64,
    pub compression: Codec,
    pub duration_ms: u64,
    /// Engine, database, migration head, time.
    pub meta: Meta,
    /// Older backups deleted by retention.
    pub pruned: Vec<PathBuf>,
}

/// The backup folder: `dir` if given, else `backup-dir` (relative to the workspace root),
/// else `<workspace>/backups`.
pub fn backup_dir(ctx: &Ctx, dir: Option<&Path>) -> PathBuf {
    let root = &ctx.ws.root;
    match dir {
        Some(d) if d.is_absolute() => d.to_path_buf(),
        Some(d) => std::env::current_dir()
            .map(|c| c.join(d))
            .unwrap_or_else(|_| d.to_path_buf()),
        None => root.join(
            ctx.ws
                .config
                .backup_dir
                .clone()
                .unwrap_or_else(|| PathBuf::from(backup::DEFAULT_DIR)),
        ),
    }
}

/// Whether `up` should take a backup first (`backup-before-up = true`).
pub fn backup_before_up(ctx: &Ctx) -> bool {
    ctx.ws.config.backup_before_up
}

/// For `cargo dbm up --backup`: takes a backup when `requested` (the flag) or when
/// `backup-before-up = true`, printing what it does; `Ok(None)` when neither asks for one,
/// or when there is nothing to lose yet (a SQLite file that does not exist). Call it after
/// planning, only when there are migrations to apply, and name the result with
/// [`restore_command`] if a migration then fails without being rolled back.
pub async fn backup_before_migrating(ctx: &Ctx, requested: bool) -> Result<Option<BackupInfo>> {
    if !(requested || backup_before_up(ctx)) {
        return Ok(None);
    }
    if !ctx.url.engine.exists(&ctx.url) || ctx.url.is_in_memory() {
        return Ok(None);
    }
    ctx.shell.status("Backing up", ctx.url.redacted());
    let info = backup(ctx, None, &BackupOptions::default()).await?;
    ctx.shell.status(
        "Saved",
        format!("{} ({})", ctx.ws.rel(&info.path), backup::human_size(info.size)),
    );
    Ok(Some(info))
}

/// The command that restores `info`: `cargo dbm restore '<path>'`.
pub fn restore_command(info: &BackupInfo) -> String {
    format!("cargo dbm restore {}", shell_quote(&info.path))
}

/// What `up --backup` says when a migration failed and was not rolled back: where the
/// database as it was is, and the exact command that brings it back.
pub fn restore_note(info: &BackupInfo) -> String {
    format!(
        "the database as it was before this run is saved in {}; to go back to it, run `{}`",
        info.path.display(),
        restore_command(info)
    )
}

fn shell_quote(p: &Path) -> String {
    let s = p.to_string_lossy();
    if s.bytes().all(|c| c.is_ascii_alphanumeric() || b"/._-+:@%".contains(&c)) {
        s.into_owned()
    } else {
        format!("'{}'", s.replace('\'', r"'\''"))
    }
}

/// The latest applied migration and the number applied, from the tracking table.
async fn head(ctx: &Ctx, db: &Db) -> Result<(Option<String>, usize)> {
    let table = ctx
        .ws
        .migration()
        .ok()
        .and_then(|m| MigratorSource::load(&m.lib).ok())
        .map(|src| ctx.tracking_table(&src))
        .or_else(|| ctx.ws.config.migration_table.clone())
        .unwrap_or_else(|| tracking::SEAQL_TABLE.to_string());
    let applied = tracking::applied(db, &table).await?.unwrap_or_default();
    Ok((applied.last().map(|a| a.version.clone()), applied.len()))
}

/// Takes a backup of the context's database into `dir` (see [`backup_dir`]).
pub async fn backup(ctx: &Ctx, dir: Option<&Path>, opts: &BackupOptions) -> Result<BackupInfo> {
    let started = Instant::now();
    let cfg = &ctx.ws.config;
    let codec = opts.compression.or(cfg.backup_compression).unwrap_or(Codec::Gzip);
    let level = opts.level.or(cfg.backup_level).unwrap_or(codec.default_level());
    if !codec.levels().contains(&level) {
        return Err(Error::Config(format!(
            "{} level {level} is out of range ({}–{})",
            codec.name(),
            codec.levels().start(),
            codec.levels().end()
        )));
    }
    let keep = opts.keep.or(cfg.backup_keep).unwrap_or(backup::DEFAULT_KEEP);
    if keep == 0 {
        return Err(Error::Config(
            "backup-keep must be at least 1 (keeping no backup would delete the one just taken)".into(),
        ));
    }
    let dir = backup_dir(ctx, dir);
    if ctx.url.is_in_memory() {
        return Err(Error::Config("an in-memory SQLite database cannot be backed up".into()));
    }
    let db = Db::open(&ctx.url, Create::No).await?.ok_or_else(|| Error::Database {
        doing: "taking a backup".into(),
        reason: format!(
            "the database file {} does not exist",
            ctx.url
                .sqlite_path
                .as_deref()
                .map(|p| p.display().to_string())
                .unwrap_or_default()
        ),
    })?;
    let (head, applied) = head(ctx, &db).await?;
    let (stamp, created_ms) = backup::now_stamp();
    let name = |seq: u32| Name {
        stamp: stamp.clone(),
        seq,
        label: opts
            .before_restore
            .then(|| backup::Kind::BeforeRestore.as_str().to_string()),
        content: ctx.url.engine.backup_content().to_string(),
        codec,
    };
    let mut meta = Meta {
        tool: Meta::TOOL.into(),
        format: 1,
        engine: ctx.url.engine,
        database: ctx.url.database_name(),
        head,
        applied,
        created_ms,
        kind: if opts.before_restore {
            backup::Kind::BeforeRestore
        } else {
            backup::Kind::Backup
        },
        version: env!("CARGO_PKG_VERSION").into(),
        server_version: None,
    };
    backup::create_dir(&dir)?;
    backup::clean_stale_temps(&dir);
    let final_name = name(1).file_name();
    let mut pending = Pending::create(&dir, &final_name)?;
    let stream = ctx
        .url
        .engine
        .dump(db, &ctx.url, &ctx.shell, &dir.join(format!(".{final_name}")))
        .await?;
    meta.server_version = stream.server_version.clone();
    let data_bytes = compress_stream(ctx, stream, &mut pending, codec, level, &meta)?;
    let path = pending.commit(&dir, name(1))?;
    let size = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
    let pruned = if opts.before_restore {
        Vec::new()
    } else {
        backup::prune(&dir, meta.engine, &meta.database, keep)?
    };
    Ok(BackupInfo {
        path,
        size,
        data_bytes,
        compression: codec,
        duration_ms: started.elapsed().as_millis() as u64,
        meta,
        pruned,
    })
}

/// Restore's safety copy of a SQLite database that SQLite itself cannot read (damaged, or
/// not a database at all): the file's bytes as they are, so that even then nothing is lost.
pub fn raw_sqlite_copy(ctx: &Ctx, dir: Option<&Path>) -> Result<BackupInfo> {
    let started = Instant::now();
    let live = ctx
        .url
        .sqlite_path
        .clone()
        .ok_or_else(|| Error::Config("an in-memory SQLite database has no file".into()))?;
    let dir = backup_dir(ctx, dir);
    let codec = ctx.ws.config.backup_compression.unwrap_or(Codec::Gzip);
    let level = ctx
        .ws
        .config
        .backup_level
        .filter(|l| codec.levels().contains(l))
        .unwrap_or(codec.default_level());
    let (stamp, created_ms) = backup::now_stamp();
    let name = Name {
        stamp,
        seq: 1,
        label: Some(backup::Kind::BeforeRestore.as_str().to_string()),
        content: ctx.url.engine.backup_content().to_string(),
        codec,
    };
    let meta = Meta {
        tool: Meta::TOOL.into(),
        format: 1,
        engine: ctx.url.engine,
        database: ctx.url.database_name(),
        head: None,
        applied: 0,
        created_ms,
        kind: backup::Kind::BeforeRestore,
        version: env!("CARGO_PKG_VERSION").into(),
        server_version: None,
    };
    backup::create_dir(&dir)?;
    let mut pending = Pending::create(&dir, &name.file_name())?;
    let file = std::fs::File::open(&live).context(|| format!("could not read {}", live.display()))?;
    let tmp = pending.tmp.clone();
    let out = pending.file.as_mut().expect("open");
    let mut out = std::io::BufWriter::with_capacity(1 << 20, out);
    let mut input = BufReader::with_capacity(1 << 20, file);
    let data_bytes = compress::compress(&mut input, &mut out, codec, level, &meta, &|_| {})
        .context(|| format!("could not write {}", tmp.display()))?;
    drop(out);
    let path = pending.commit(&dir, name)?;
    Ok(BackupInfo {
        size: std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0),
        path,
        data_bytes,
        compression: codec,
        duration_ms: started.elapsed().as_millis() as u64,
        meta,
        pruned: Vec::new(),
    })
}

/// Compresses the engine's stream into the pending file on every core, then lets the
/// engine check how its dump ended.
fn compress_stream(
    ctx: &Ctx,
    stream: crate::engine::Dump,
    pending: &mut Pending,
    codec: Codec,
    level: i32,
    meta: &Meta,
) -> Result<u64> {
    let crate::engine::Dump {
        mut reader,
        size,
        label,
        finish,
        ..
    } = stream;
    let pb = ctx.shell.progress(size, label, Counting::Bytes);
    let tmp = pending.tmp.clone();
    let out = pending.file.as_mut().expect("open");
    let mut w = std::io::BufWriter::with_capacity(1 << 20, out);
    let result = compress::compress(&mut reader, &mut w, codec, level, meta, &|n| pb.set_position(n));
    drop(w);
    drop(reader);
    pb.finish_and_clear();
    finish(result.is_ok())?;
    result.context(|| format!("could not write {}", tmp.display()))
}

/// Every backup file in the folder (ours and look-alikes), oldest first.
pub fn list(ctx: &Ctx, dir: Option<&Path>) -> Result<(PathBuf, Vec<Entry>)> {
    let dir = backup_dir(ctx, dir);
    let entries = backup::list(&dir)?;
    Ok((dir, entries))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn restore_commands_are_quoted_for_the_shell() {
        assert_eq!(
            shell_quote(Path::new("/w/backups/backup_20250117_143022.db.gz")),
            "/w/backups/backup_20250117_143022.db.gz"
        );
        assert_eq!(shell_quote(Path::new("/my dir/it's.db.gz")), r"'/my dir/it'\''s.db.gz'");
    }
}
