//! SQLite: a consistent snapshot with `VACUUM INTO` (one read transaction, so writers in
//! other processes may go on), verification of a restored copy (header, then
//! `PRAGMA integrity_check`), and the atomic swap of the verified copy into place.

use crate::backup::compress::Content;
use crate::backup::{RemoveOnDrop, TempFile, UntilClosed, refuse};
use crate::config::{DbUrl, UrlSource};
use crate::db::{Create, Db};
use crate::engine::{Decompress, Dump};
use crate::error::{Error, IoContext, Result};
use crate::shell::{Counting, Shell};
use sea_orm::{ConnectionTrait, Statement};
use std::io::BufReader;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

/// Takes a snapshot of the database beside the backup (`<scratch>.snapshot-PID`), with a
/// progress bar by bytes while SQLite writes it on its own thread; the snapshot file is
/// the stream to compress, removed once compressed.
pub async fn dump(db: Db, url: &DbUrl, shell: &Shell, scratch: &Path) -> Result<Dump> {
    if url.sqlite_path.is_none() {
        return Err(Error::Config("an in-memory SQLite database cannot be backed up".into()));
    }
    let server_version = library_version(&db).await;
    let snap = PathBuf::from(format!("{}.snapshot-{}", scratch.display(), std::process::id()));
    let guard = RemoveOnDrop(snap.clone());
    let journal = RemoveOnDrop(PathBuf::from(format!("{}-journal", snap.display())));
    let live_size = url
        .sqlite_path
        .as_deref()
        .and_then(|p| std::fs::metadata(p).ok())
        .map(|m| m.len());
    let pb = shell.progress(live_size, "Snapshot", Counting::Bytes);
    let poll = async {
        loop {
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
            pb.set_position(std::fs::metadata(&snap).map(|m| m.len()).unwrap_or(0));
        }
    };
    let r = tokio::select! {
        r = snapshot(&db, &snap) => r,
        () = poll => unreachable!("the poll never ends"),
    };
    pb.finish_and_clear();
    db.close().await;
    r?;
    let file = std::fs::File::open(&snap).context(|| format!("could not read the snapshot {}", snap.display()))?;
    let size = file.metadata().map(|m| m.len()).ok();
    Ok(Dump {
        reader: Box::new(BufReader::with_capacity(1 << 20, file)),
        size,
        label: "Compressing",
        server_version,
        finish: Box::new(move |_| {
            drop((guard, journal));
            Ok(())
        }),
    })
}

/// A verified copy of the backup beside the live database, deleted unless applied.
#[derive(Debug)]
pub struct Prepared(TempFile);

/// Decompresses the backup into a copy next to the live database (same folder, so that
/// the swap is a rename), then checks its header and `PRAGMA integrity_check`.
pub async fn prepare(url: &DbUrl, file: &Path, decompress: Decompress<'_>) -> Result<(Prepared, u64)> {
    let live = url
        .sqlite_path
        .clone()
        .ok_or_else(|| Error::Config("an in-memory SQLite database cannot be restored".into()))?;
    if let Some(parent) = live.parent() {
        crate::workspace::create_dir_all(parent)?;
    }
    clean_stale_restores(&live);
    let tmp_path = restore_tmp(&live);
    let out = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&tmp_path)
        .context(|| format!("could not create {}", tmp_path.display()))?;
    let tmp = TempFile(Some(tmp_path.clone()));
    let mut w = UntilClosed {
        inner: Some(std::io::BufWriter::with_capacity(1 << 20, out)),
        head: Vec::new(),
    };
    let n = decompress(&mut w).map_err(|e| crate::backup::decode_err(file, e))?;
    if let Some(mut bw) = w.inner.take() {
        std::io::Write::flush(&mut bw).context(|| format!("could not write {}", tmp_path.display()))?;
    }
    match Content::sniff(&w.head) {
        Content::Sqlite => {}
        other => {
            return Err(refuse(
                file,
                other.mismatch(crate::engine::Engine::Sqlite, "it does not contain a SQLite database"),
            ));
        }
    }
    verify(&tmp_path).await.map_err(|r| refuse(file, r))?;
    Ok((Prepared(tmp), n))
}

/// Renames the verified copy over the live database, after emptying the live WAL (whose
/// stale `-wal`/`-shm` are removed). Nothing of the old database is left to replay.
pub async fn apply(p: Prepared, url: &DbUrl, existed: bool) -> Result<Vec<String>> {
    let mut tmp = p.0;
    let live = url.sqlite_path.clone().expect("checked in prepare");
    if existed {
        checkpoint(url).await?;
    }
    let new = tmp.0.take().expect("verified copy");
    let r = replace(&live, &new);
    if r.is_err() {
        let _ = std::fs::remove_file(&new);
    }
    r.map(|()| Vec::new())
}

/// Writes a consistent copy of the open database to `dest` (created 0600 first, so the
/// copy is never readable by others, even while it is written).
pub async fn snapshot(db: &Db, dest: &Path) -> Result<()> {
    std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(dest)
        .context(|| format!("could not create {}", dest.display()))?;
    // VACUUM INTO syncs its output as the connection syncs the database; the snapshot is a
    // temporary file (the compressed backup is synced), so skip those fsyncs.
    db.exec("preparing the snapshot", "PRAGMA synchronous = OFF").await?;
    let sql = format!("VACUUM INTO '{}'", dest.to_string_lossy().replace('\'', "''"));
    db.exec("taking a snapshot of the database (VACUUM INTO)", &sql).await
}

/// The SQLite library's version, for the backup's metadata.
pub async fn library_version(db: &Db) -> Option<String> {
    let row = db
        .conn
        .query_one_raw(Statement::from_string(db.backend(), "SELECT sqlite_version() AS v"))
        .await
        .ok()??;
    row.try_get::<String>("", "v").ok()
}

/// Checks that `path` is a sound SQLite database: its header, then `PRAGMA integrity_check`.
/// `Err(reason)` for a file that is not (the reason reads after "refusing to restore F: ").
pub async fn verify(path: &Path) -> std::result::Result<(), String> {
    let mut head = [0u8; 100];
    let n = {
        use std::io::Read;
        let mut f = std::fs::File::open(path).map_err(|e| e.to_string())?;
        let mut n = 0;
        while n < head.len() {
            match f.read(&mut head[n..]) {
                Ok(0) => break,
                Ok(k) => n += k,
                Err(e) => return Err(e.to_string()),
            }
        }
        n
    };
    if n < 100 || !head.starts_with(b"SQLite format 3\0") {
        return Err("it does not contain a SQLite database".into());
    }
    let url = DbUrl::parse(
        &format!("sqlite://{}?mode=ro", path.display()),
        Path::new("/"),
        UrlSource::CommandLine,
    )
    .map_err(|e| e.to_string())?;
    let db = Db::open(&url, Create::No)
        .await
        .map_err(|e| format!("SQLite cannot open it: {e}"))?
        .ok_or("the restored copy disappeared")?;
    let rows = db
        .conn
        .query_all_raw(Statement::from_string(db.backend(), "PRAGMA integrity_check"))
        .await;
    db.close().await;
    let rows = rows.map_err(|e| format!("PRAGMA integrity_check failed: {e}"))?;
    let msgs: Vec<String> = rows
        .iter()
        .filter_map(|r| r.try_get_by_index::<String>(0).ok())
        .collect();
    remove_sidecars(path);
    if msgs.len() == 1 && msgs[0] == "ok" {
        Ok(())
    } else {
        Err(format!(
            "PRAGMA integrity_check reports damage: {}",
            msgs.into_iter().take(3).collect::<Vec<_>>().join("; ")
        ))
    }
}

/// `<db>-wal`, `<db>-shm` and `<db>-journal`.
fn sidecars(db: &Path) -> [PathBuf; 3] {
    ["-wal", "-shm", "-journal"].map(|s| {
        let mut p = db.as_os_str().to_owned();
        p.push(s);
        PathBuf::from(p)
    })
}

fn remove_sidecars(db: &Path) {
    for p in sidecars(db) {
        let _ = std::fs::remove_file(p);
    }
}

/// Empties the live database's WAL into the file (so that the old WAL cannot be replayed
/// onto the new file), refusing when another connection keeps it busy.
pub async fn checkpoint(live: &DbUrl) -> Result<()> {
    let Some(db) = Db::open(live, Create::No).await? else {
        return Ok(());
    };
    let row = db
        .conn
        .query_one_raw(Statement::from_string(db.backend(), "PRAGMA wal_checkpoint(TRUNCATE)"))
        .await
        .map_err(|e| Error::db("checkpointing the database before replacing it", e));
    db.close().await;
    let busy = row?.and_then(|r| r.try_get_by_index::<i64>(0).ok()).unwrap_or(0);
    if busy != 0 {
        return Err(Error::Refused {
            reason: format!(
                "{} is in use: another connection keeps its write-ahead log busy",
                live.redacted()
            ),
            hint: "stop the application using the database, then restore again; nothing was changed".into(),
        });
    }
    Ok(())
}

/// Renames the verified copy `new` over `live` (same folder, so the rename is atomic) with
/// the live file's permissions, removes the old `-wal`/`-shm`, and syncs the folder.
pub fn replace(live: &Path, new: &Path) -> Result<()> {
    if let Ok(md) = std::fs::metadata(live) {
        let _ = std::fs::set_permissions(new, std::fs::Permissions::from_mode(md.permissions().mode() & 0o7777));
    }
    std::fs::File::open(new)
        .and_then(|f| f.sync_all())
        .context(|| format!("could not write {}", new.display()))?;
    std::fs::rename(new, live)
        .context(|| format!("could not move the restored database into place at {}", live.display()))?;
    // The WAL was checkpointed and truncated before; what is left belongs to the old file.
    for p in &sidecars(live)[..2] {
        let _ = std::fs::remove_file(p);
    }
    if let Some(dir) = live.parent() {
        crate::backup::sync_dir(dir);
    }
    Ok(())
}

/// The temporary copy restore writes next to the live database: `.<name>.restore-PID`.
pub fn restore_tmp(live: &Path) -> PathBuf {
    let name = live
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "db".into());
    live.with_file_name(format!(".{name}.restore-{}", std::process::id()))
}

/// Removes copies left by restores that were killed (their process is gone).
pub fn clean_stale_restores(live: &Path) {
    let (Some(dir), Some(name)) = (live.parent(), live.file_name()) else {
        return;
    };
    let prefix = format!(".{}.restore-", name.to_string_lossy());
    let Ok(rd) = std::fs::read_dir(dir) else {
        return;
    };
    for e in rd.flatten() {
        let n = e.file_name().to_string_lossy().into_owned();
        let Some(rest) = n.strip_prefix(&prefix) else {
            continue;
        };
        let pid = rest.split('-').next().unwrap_or("");
        if pid.parse::<u32>().is_ok() && !Path::new(&format!("/proc/{pid}")).exists() {
            let _ = std::fs::remove_file(e.path());
        }
    }
}
