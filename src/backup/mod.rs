//! Backup files: their names, how they are written (a temporary name, renamed only when
//! complete, owner-only permissions), how they are found, listed and pruned.
//!
//! A backup is `backup_YYYYMMDD_HHMMSS.<content>.<compression>` (UTC), e.g.
//! `backup_20250117_143022.db.gz` for SQLite or `backup_20250117_143022.dump.gz` for a
//! PostgreSQL custom-format dump; a second backup within the same second gets `-2`, `-3`…
//! after the time, and the safety copy taken by `restore` ends in `_before-restore`.
//! The file's first gzip member (or zstd skippable frame) holds a [`compress::Meta`]:
//! engine, database, migration head. Only files with such a name *and* such a header are
//! "our own": retention never deletes anything else.
//!
//! - [`compress`]: parallel gzip/zstd and verified decompression.
//!
//! How each engine takes and restores its backups is in [`crate::engine`].

pub mod compress;

use crate::engine::Engine;
use crate::error::{Error, IoContext, Result};
use compress::{Codec, Meta};
use std::fs::{File, OpenOptions};
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

/// How many backups are kept by default.
pub const DEFAULT_KEEP: usize = 10;
/// The default folder, relative to the workspace root.
pub const DEFAULT_DIR: &str = "backups";
/// What a backup was taken for (its metadata's `kind`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Kind {
    /// `cargo dbm backup`, or `up --backup`.
    Backup,
    /// The safety copy restore takes of the database it replaces.
    BeforeRestore,
}

impl Kind {
    /// `backup` or `before-restore`, as in file names.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Backup => "backup",
            Kind::BeforeRestore => "before-restore",
        }
    }
}

/// A backup file's name, parsed.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Name {
    /// `YYYYMMDD_HHMMSS`.
    pub stamp: String,
    /// 1 for the first in a second, then 2, 3…
    pub seq: u32,
    /// `Some("before-restore")` for restore's safety copy.
    pub label: Option<String>,
    /// `db` or `dump`.
    pub content: String,
    pub codec: Codec,
}

impl Name {
    /// `backup_20250117_143022[-2][_before-restore].db.gz`, or `None` for any other name.
    pub fn parse(file_name: &str) -> Option<Name> {
        let rest = file_name.strip_prefix("backup_")?;
        let (base, ext) = rest.split_once('.')?;
        let (content, codec) = ext.split_once('.')?;
        if !matches!(content, "db" | "dump" | "sql") {
            return None;
        }
        let codec = match codec {
            "gz" => Codec::Gzip,
            "zst" => Codec::Zstd,
            _ => return None,
        };
        let (base, label) = match base.get(15..) {
            Some(tail) if tail.contains('_') => {
                let i = 15 + tail.find('_')?;
                (&base[..i], Some(base[i + 1..].to_string()))
            }
            _ => (base, None),
        };
        let stamp = base.get(..15)?;
        let ok = stamp.len() == 15
            && stamp.as_bytes()[8] == b'_'
            && stamp.bytes().enumerate().all(|(i, c)| i == 8 || c.is_ascii_digit());
        if !ok {
            return None;
        }
        let seq = match &base[15..] {
            "" => 1,
            s => s.strip_prefix('-')?.parse().ok().filter(|&n| n >= 2)?,
        };
        if let Some(l) = &label
            && (l.is_empty() || !l.bytes().all(|c| c.is_ascii_alphanumeric() || c == b'-'))
        {
            return None;
        }
        Some(Name {
            stamp: stamp.to_string(),
            seq,
            label,
            content: content.to_string(),
            codec,
        })
    }

    pub fn file_name(&self) -> String {
        let seq = if self.seq > 1 {
            format!("-{}", self.seq)
        } else {
            String::new()
        };
        let label = self.label.as_deref().map(|l| format!("_{l}")).unwrap_or_default();
        format!(
            "backup_{}{seq}{label}.{}.{}",
            self.stamp,
            self.content,
            self.codec.ext()
        )
    }
}

/// A backup file found in a folder.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Entry {
    pub path: PathBuf,
    pub file_name: String,
    /// Size on disk in bytes.
    pub size: u64,
    /// The metadata of our own backups; `None` for files of the same name pattern written
    /// by something else (e.g. `backup.sh`): listed, never deleted.
    pub meta: Option<Meta>,
    #[serde(skip)]
    pub name: Name,
}

impl Entry {
    /// Whether cargo-dbm wrote this file.
    pub fn is_ours(&self) -> bool {
        self.meta.is_some()
    }

    /// Whether it is our backup of the database `engine`/`database`.
    pub fn is_of(&self, engine: Engine, database: &str) -> bool {
        self.meta
            .as_ref()
            .is_some_and(|m| m.engine == engine && m.database == database)
    }

    /// Unix milliseconds: from the metadata, else from the name.
    pub fn created_ms(&self) -> i64 {
        if let Some(m) = &self.meta {
            return m.created_ms;
        }
        chrono::NaiveDateTime::parse_from_str(&self.name.stamp, "%Y%m%d_%H%M%S")
            .map(|t| t.and_utc().timestamp_millis())
            .unwrap_or(0)
    }
}

/// Every file named like a backup in `dir`, oldest first. A missing folder has none.
pub fn list(dir: &Path) -> Result<Vec<Entry>> {
    let rd = match std::fs::read_dir(dir) {
        Ok(rd) => rd,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(Error::io(format!("could not read {}", dir.display()), e)),
    };
    let mut out = Vec::new();
    for entry in rd {
        let entry = entry.context(|| format!("could not read {}", dir.display()))?;
        let file_name = entry.file_name().to_string_lossy().into_owned();
        let Some(name) = Name::parse(&file_name) else {
            continue;
        };
        let path = entry.path();
        let Ok(md) = std::fs::symlink_metadata(&path) else {
            continue;
        };
        if !md.is_file() {
            continue;
        }
        let meta = File::open(&path)
            .and_then(|mut f| compress::read_header(&mut f))
            .ok()
            .and_then(|(_, m)| m);
        out.push(Entry {
            path,
            file_name,
            size: md.len(),
            meta,
            name,
        });
    }
    out.sort_by(|a, b| {
        (a.name.stamp.as_str(), a.name.seq, a.created_ms(), &a.file_name).cmp(&(
            b.name.stamp.as_str(),
            b.name.seq,
            b.created_ms(),
            &b.file_name,
        ))
    });
    Ok(out)
}

/// Deletes our own backups of `engine`/`database` in `dir` beyond the newest `keep`;
/// returns what it deleted. Files it did not write are never touched.
pub fn prune(dir: &Path, engine: Engine, database: &str, keep: usize) -> Result<Vec<PathBuf>> {
    let ours: Vec<Entry> = list(dir)?.into_iter().filter(|e| e.is_of(engine, database)).collect();
    let excess = ours.len().saturating_sub(keep.max(1));
    let mut deleted = Vec::new();
    for e in ours.into_iter().take(excess) {
        std::fs::remove_file(&e.path).context(|| format!("could not delete the old backup {}", e.path.display()))?;
        deleted.push(e.path);
    }
    Ok(deleted)
}

/// Creates the backup folder (owner-only) if it does not exist.
pub fn create_dir(dir: &Path) -> Result<()> {
    if dir.is_dir() {
        return Ok(());
    }
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
        .context(|| format!("could not create the backup folder {}", dir.display()))
}

/// A file being written under a temporary name (`.backup_….tmp-PID`, mode 0600) in the
/// destination folder; [`Pending::commit`] gives it its final name, and dropping it
/// uncommitted deletes it. A `kill -9` leaves only the temporary name, which a later
/// backup in the same folder cleans up.
pub struct Pending {
    pub tmp: PathBuf,
    pub file: Option<File>,
    committed: bool,
}

/// The prefix of temporary files; followed by the final name and `.tmp-PID`.
const TMP_PREFIX: &str = ".backup_";

impl Pending {
    /// Creates `dir/.<final_name>.tmp-<pid>` exclusively, readable by its owner only.
    pub fn create(dir: &Path, final_name: &str) -> Result<Pending> {
        let tmp = dir.join(format!(".{final_name}.tmp-{}", std::process::id()));
        let file = OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&tmp)
            .context(|| format!("could not create {}", tmp.display()))?;
        // The umask cannot widen 0600, but a pre-set ACL could: be explicit.
        let _ = file.set_permissions(std::fs::Permissions::from_mode(0o600));
        Ok(Pending {
            tmp,
            file: Some(file),
            committed: false,
        })
    }

    /// Flushes to disk and links the file under its final name (never replacing an existing
    /// file), then removes the temporary name. Within one second, names go on `-2`, `-3`…
    /// after the highest already used, so that names sort in the order backups were taken.
    pub fn commit(mut self, dir: &Path, mut name: Name) -> Result<PathBuf> {
        if let Some(f) = self.file.take() {
            f.sync_all()
                .context(|| format!("could not write {}", self.tmp.display()))?;
        }
        let used = std::fs::read_dir(dir)
            .map(|rd| {
                rd.flatten()
                    .filter_map(|e| Name::parse(&e.file_name().to_string_lossy()))
                    .filter(|n| n.stamp == name.stamp)
                    .map(|n| n.seq)
                    .max()
            })
            .ok()
            .flatten();
        name.seq = used.map_or(1, |s| s + 1);
        let path = loop {
            let candidate = dir.join(name.file_name());
            match std::fs::hard_link(&self.tmp, &candidate) {
                Ok(()) => break candidate,
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists && name.seq < 10_000 => name.seq += 1,
                // A filesystem without hard links: rename, after checking the name is free.
                Err(_) if !candidate.exists() => {
                    std::fs::rename(&self.tmp, &candidate)
                        .context(|| format!("could not name the backup {}", candidate.display()))?;
                    break candidate;
                }
                Err(e) => {
                    return Err(Error::io(
                        format!("could not name the backup {}", candidate.display()),
                        e,
                    ));
                }
            }
        };
        self.committed = true;
        let _ = std::fs::remove_file(&self.tmp);
        sync_dir(dir);
        Ok(path)
    }
}

impl Drop for Pending {
    fn drop(&mut self) {
        if !self.committed {
            self.file.take();
            let _ = std::fs::remove_file(&self.tmp);
        }
    }
}

/// fsyncs a directory so that a rename in it survives a crash (best effort).
pub fn sync_dir(dir: &Path) {
    if let Ok(d) = File::open(dir) {
        let _ = d.sync_all();
    }
}

/// Removes temporary files left in `dir` by backups that were killed (their process is
/// gone). Only names cargo-dbm creates are considered.
pub fn clean_stale_temps(dir: &Path) {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in rd.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if let Some(pid) = stale_pid(&name)
            && !Path::new(&format!("/proc/{pid}")).exists()
        {
            let _ = std::fs::remove_file(entry.path());
        }
    }
}

/// The pid in `.backup_….tmp-PID` / `.backup_….snapshot-PID`, for our own temp names only.
fn stale_pid(name: &str) -> Option<u32> {
    let rest = name.strip_prefix(TMP_PREFIX)?;
    let rest = ["-journal", "-wal", "-shm"]
        .iter()
        .find_map(|s| rest.strip_suffix(s))
        .unwrap_or(rest);
    let (base, pid) = rest.rsplit_once(".tmp-").or_else(|| rest.rsplit_once(".snapshot-"))?;
    Name::parse(&format!("backup_{base}"))?;
    pid.parse().ok()
}

/// The current UTC time as `YYYYMMDD_HHMMSS`, and in unix milliseconds.
pub fn now_stamp() -> (String, i64) {
    let now = chrono::Utc::now();
    (now.format("%Y%m%d_%H%M%S").to_string(), now.timestamp_millis())
}

/// Human-readable size: `1.4 MB`.
pub fn human_size(bytes: u64) -> String {
    const UNITS: [&str; 5] = ["B", "kB", "MB", "GB", "TB"];
    let mut v = bytes as f64;
    let mut u = 0;
    while v >= 1000.0 && u < UNITS.len() - 1 {
        v /= 1000.0;
        u += 1;
    }
    if u == 0 {
        format!("{bytes} B")
    } else {
        format!("{v:.1} {}", UNITS[u])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for n in [
            "backup_20250117_143022.db.gz",
            "backup_20250117_143022-3.dump.zst",
            "backup_20250117_143022_before-restore.db.gz",
            "backup_20250117_143022-2_before-restore.dump.gz",
        ] {
            assert_eq!(Name::parse(n).unwrap().file_name(), n);
        }
        for n in [
            "backup_2025011_143022.db.gz",
            "backup_20250117_143022.db",
            "backup_20250117_143022.txt.gz",
            "backup_20250117_143022-1.db.gz",
            "xbackup_20250117_143022.db.gz",
            "backup_20250117_143022_.db.gz",
            "notes.txt",
        ] {
            assert!(Name::parse(n).is_none(), "{n}");
        }
    }

    #[test]
    fn only_our_temp_names_are_stale() {
        assert_eq!(stale_pid(".backup_20250117_143022.db.gz.tmp-42"), Some(42));
        assert_eq!(stale_pid(".backup_20250117_143022.db.snapshot-7"), None);
        assert_eq!(stale_pid(".backup_x.tmp-42"), None);
        assert_eq!(stale_pid(".backup_20250117_143022.db.gz.snapshot-7-journal"), Some(7));
        assert_eq!(stale_pid("backup_20250117_143022.db.gz"), None);
    }
}

/// A writer into a child's stdin that, once the child closes it (as `pg_restore --list`
/// does after reading the table of contents), discards the rest: decompression goes on to
/// the end so that every checksum is still verified.
pub struct UntilClosed<W> {
    pub inner: Option<W>,
    /// The first bytes written, to recognise the content.
    pub head: Vec<u8>,
}

impl<W: std::io::Write> std::io::Write for UntilClosed<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if self.head.len() < HEAD {
            let k = (HEAD - self.head.len()).min(buf.len());
            self.head.extend_from_slice(&buf[..k]);
        }
        if let Some(w) = &mut self.inner
            && let Err(e) = w.write_all(buf)
        {
            if e.kind() == std::io::ErrorKind::BrokenPipe {
                self.inner = None;
            } else {
                return Err(e);
            }
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        if let Some(w) = &mut self.inner {
            match w.flush() {
                Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => self.inner = None,
                r => return r,
            }
        }
        Ok(())
    }
}

/// How many first bytes [`UntilClosed`] keeps.
const HEAD: usize = 128;

/// A file removed on drop.
pub struct RemoveOnDrop(pub PathBuf);

impl Drop for RemoveOnDrop {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// A file deleted on drop unless taken.
#[derive(Debug)]
pub struct TempFile(pub Option<PathBuf>);

impl Drop for TempFile {
    fn drop(&mut self) {
        if let Some(p) = self.0.take() {
            let _ = std::fs::remove_file(p);
        }
    }
}

/// Restore refuses `file` for `reason`.
pub fn refuse(file: &Path, reason: impl Into<String>) -> Error {
    Error::BackupInvalid {
        file: file.display().to_string(),
        reason: reason.into(),
    }
}

/// A decompression failure: the file is refused, or could not be read.
pub fn decode_err(file: &Path, e: compress::DecodeError) -> Error {
    match e {
        compress::DecodeError::Invalid(r) => refuse(file, r),
        compress::DecodeError::Io(e) => Error::io(format!("could not read {}", file.display()), e),
    }
}

/// Reads a child's stdout and stderr on threads.
pub fn drain(child: &mut std::process::Child) -> (std::thread::JoinHandle<Vec<u8>>, std::thread::JoinHandle<Vec<u8>>) {
    let read = |r: Option<Box<dyn std::io::Read + Send>>| {
        std::thread::spawn(move || {
            let mut buf = Vec::new();
            if let Some(mut r) = r {
                let _ = r.read_to_end(&mut buf);
            }
            buf
        })
    };
    (
        read(child.stdout.take().map(|s| Box::new(s) as _)),
        read(child.stderr.take().map(|s| Box::new(s) as _)),
    )
}
