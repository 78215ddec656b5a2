//! A small on-disk cache for answers that cost more to recompute than to check: what
//! `cargo metadata` said about a workspace, and what each migration file declares.
//!
//! Every entry carries the *stamps* (modification time, size, inode) of the files its answer
//! was computed from, and is used only while all of them are unchanged, as git's index does.
//! A file modified less than a second before the answer was computed is "racy" (a second
//! edit within the file system's timestamp granularity would keep its stamp), so no entry is
//! written for it: the next command recomputes.
//!
//! The cache lives in `$CARGO_DBM_CACHE_DIR`, else `$XDG_CACHE_HOME/cargo-dbm`, else
//! `~/.cache/cargo-dbm`; `CARGO_DBM_NO_CACHE=1` turns it off. A cache that cannot be read or
//! written is ignored: it only ever saves time.

use serde::{Deserialize, Serialize, de::DeserializeOwned};
use sha2::{Digest, Sha256};
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Files modified this recently are not trusted to keep a distinct stamp after another edit.
const RACY: Duration = Duration::from_secs(1);

/// The cache directory, or `None` when caching is off or there is no home.
pub fn dir() -> Option<PathBuf> {
    if std::env::var_os("CARGO_DBM_NO_CACHE").is_some_and(|v| !v.is_empty() && v != "0") {
        return None;
    }
    if let Some(d) = std::env::var_os("CARGO_DBM_CACHE_DIR").filter(|d| !d.is_empty()) {
        return Some(PathBuf::from(d));
    }
    if let Some(d) = std::env::var_os("XDG_CACHE_HOME").filter(|d| !d.is_empty()) {
        return Some(PathBuf::from(d).join("cargo-dbm"));
    }
    std::env::var_os("HOME")
        .filter(|d| !d.is_empty())
        .map(|h| PathBuf::from(h).join(".cache/cargo-dbm"))
}

/// What identifies one version of a file (or its absence) without reading it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Stamp {
    pub path: PathBuf,
    /// `None` when the file does not exist.
    pub meta: Option<(u64, i64, u32, u64)>,
}

impl Stamp {
    /// The stamp of `path` now: size, modification time (seconds, nanoseconds), inode.
    pub fn of(path: &Path) -> Stamp {
        use std::os::unix::fs::MetadataExt;
        let meta = std::fs::metadata(path)
            .ok()
            .map(|m| (m.size(), m.mtime(), m.mtime_nsec() as u32, m.ino()));
        Stamp {
            path: path.to_path_buf(),
            meta,
        }
    }

    /// Whether the file is still as stamped.
    pub fn fresh(&self) -> bool {
        Stamp::of(&self.path).meta == self.meta
    }

    /// Whether the file changed too close to `since` for its stamp to be trusted.
    pub fn racy(&self, since: SystemTime) -> bool {
        let Some((_, secs, nanos, _)) = self.meta else {
            return false;
        };
        let modified = UNIX_EPOCH + Duration::new(secs.max(0) as u64, nanos);
        modified + RACY > since
    }
}

/// Bumped whenever what an entry means changes within one release (e.g. how a migration's
/// markers are read), so entries computed by an older build are not used.
const FORMAT: &str = "2";

/// The file holding the entry for `key` in the cache `kind` (e.g. `workspace`).
fn entry_path(dir: &Path, kind: &str, key: &[&str]) -> PathBuf {
    let mut h = Sha256::new();
    h.update(env!("CARGO_PKG_VERSION"));
    h.update(FORMAT);
    for part in key {
        h.update([0u8]);
        h.update(part.as_bytes());
    }
    let digest = h.finalize();
    let name: String = digest[..12].iter().map(|b| format!("{b:02x}")).collect();
    dir.join(kind).join(format!("{name}.json"))
}

#[derive(Serialize, Deserialize)]
struct Entry<T> {
    stamps: Vec<Stamp>,
    value: T,
}

/// The cached value for `key`, if every file it was computed from is unchanged.
pub fn get<T: DeserializeOwned>(kind: &str, key: &[&str]) -> Option<T> {
    get_in(&dir()?, kind, key)
}

fn get_in<T: DeserializeOwned>(dir: &Path, kind: &str, key: &[&str]) -> Option<T> {
    let path = entry_path(dir, kind, key);
    let bytes = std::fs::read(path).ok()?;
    let entry: Entry<T> = serde_json::from_slice(&bytes).ok()?;
    entry.stamps.iter().all(Stamp::fresh).then_some(entry.value)
}

/// Stores `value` for `key`, computed from the files of `stamps` (taken after `started`, when
/// the computation began), unless one of them changed later than a second before `started`:
/// such a file may have changed during the computation, or may change again unnoticed.
pub fn put<T: Serialize>(kind: &str, key: &[&str], stamps: Vec<Stamp>, started: SystemTime, value: &T) {
    if let Some(dir) = dir() {
        put_in(&dir, kind, key, stamps, started, value);
    }
}

fn put_in<T: Serialize>(dir: &Path, kind: &str, key: &[&str], stamps: Vec<Stamp>, started: SystemTime, value: &T) {
    if stamps.iter().any(|s| s.racy(started)) {
        return;
    }
    let path = entry_path(dir, kind, key);
    let entry = Entry { stamps, value };
    let Ok(json) = serde_json::to_vec(&entry) else { return };
    let (Some(parent), Some(name)) = (path.parent(), path.file_name()) else {
        return;
    };
    // Owner-only: `[workspace.metadata.dbm]` may hold a database URL with its password.
    if std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(parent)
        .is_err()
    {
        return;
    }
    // Written under a unique name then renamed: a concurrent reader sees the old entry or
    // the new one, never half of one.
    let tmp = parent.join(format!(".{}.{}", std::process::id(), name.to_string_lossy()));
    let written = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(&tmp)
        .and_then(|mut f| std::io::Write::write_all(&mut f, &json));
    if written.is_err() || std::fs::rename(&tmp, &path).is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn written_an_hour_ago(f: &Path, text: &str) {
        std::fs::write(f, text).unwrap();
        let old = SystemTime::now() - Duration::from_secs(3600);
        std::fs::File::options()
            .write(true)
            .open(f)
            .unwrap()
            .set_modified(old)
            .unwrap();
    }

    #[test]
    fn a_stamp_changes_with_the_file_and_recent_files_are_racy() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("a.toml");
        written_an_hour_ago(&f, "a");
        let s = Stamp::of(&f);
        assert!(s.fresh());
        assert!(!s.racy(SystemTime::now()));
        std::fs::write(&f, "b").unwrap();
        assert!(!s.fresh(), "same size, new mtime: changed");
        assert!(Stamp::of(&f).racy(SystemTime::now()));
        let missing = Stamp::of(&dir.path().join("nope"));
        assert!(missing.fresh() && missing.meta.is_none());
        std::fs::write(dir.path().join("nope"), "").unwrap();
        assert!(!missing.fresh(), "a file that appears invalidates");
    }

    #[test]
    fn entries_are_owner_only_and_unused_once_a_file_changes() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("Cargo.toml");
        written_an_hour_ago(&f, "[workspace]");
        let cache = dir.path().join("cache");
        let value = "value".to_string();
        put_in(&cache, "test", &["k"], vec![Stamp::of(&f)], SystemTime::now(), &value);
        assert_eq!(get_in::<String>(&cache, "test", &["k"]).as_deref(), Some("value"));
        assert_eq!(get_in::<String>(&cache, "test", &["other"]), None);
        let entry = std::fs::read_dir(cache.join("test")).unwrap().next().unwrap().unwrap();
        assert_eq!(entry.metadata().unwrap().permissions().mode() & 0o777, 0o600);
        std::fs::write(&f, "[workspace]\n").unwrap();
        assert_eq!(get_in::<String>(&cache, "test", &["k"]), None, "the file changed");
        // A racy file (modified just now) is not cached at all.
        put_in(&cache, "test", &["k2"], vec![Stamp::of(&f)], SystemTime::now(), &value);
        assert_eq!(get_in::<String>(&cache, "test", &["k2"]), None);
    }
}
