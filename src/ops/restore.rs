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
use super::backup::{BackupInfo, BackupOptions};
use crate::backup::compress::{self, Content, DecodeError, Meta};
use crate::backup::{self, postgres, sqlite};
use crate::config::Engine;
use crate::error::{Error, IoContext, Result};
use crate::shell::Counting;
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
    kind: Kind,
}

#[derive(Debug)]
enum Kind {
    /// The verified copy beside the live database (deleted if not applied).
    Sqlite(TempCopy),
    Postgres {
        tools: postgres::Tools,
        /// `schema.table` of every table in the archive.
        tables: Vec<String>,
        /// The archive's table of contents (`pg_restore --list`).
        toc: String,
    },
}

/// A file deleted on drop unless taken.
#[derive(Debug)]
struct TempCopy(Option<PathBuf>);

impl Drop for TempCopy {
    fn drop(&mut self) {
        if let Some(p) = self.0.take() {
            let _ = std::fs::remove_file(p);
        }
    }
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

/// `schema.table` of the TABLE entries of `pg_restore --list`
/// (`215; 1259 16385 TABLE public account postgres`).
fn toc_tables(toc: &str) -> Vec<String> {
    toc.lines()
        .filter(|l| !l.trim_start().starts_with(';'))
        .filter_map(|l| {
            let mut f = l.split_whitespace().skip(3);
            (f.next()? == "TABLE").then_some(())?;
            let schema = f.next()?;
            let name = f.next()?;
            Some(format!("{schema}.{name}"))
        })
        .collect()
}

/// Tables of the archive's schemas that exist in the database but not in the archive.
async fn left_over(ctx: &Ctx, tables: &[String]) -> Vec<String> {
    use sea_orm::{ConnectionTrait, Statement};
    let mut schemas: Vec<&str> = tables.iter().filter_map(|t| t.split('.').next()).collect();
    schemas.sort();
    schemas.dedup();
    if schemas.is_empty() {
        schemas.push("public");
    }
    let Ok(Some(db)) = crate::db::Db::open(&ctx.url, crate::db::Create::No).await else {
        return Vec::new();
    };
    let list = schemas
        .iter()
        .map(|s| format!("'{}'", s.replace('\'', "''")))
        .collect::<Vec<_>>()
        .join(", ");
    let sql = format!(
        "SELECT table_schema || '.' || table_name AS t FROM information_schema.tables WHERE table_type = 'BASE TABLE' AND table_schema IN ({list}) ORDER BY 1"
    );
    let rows = db
        .conn
        .query_all_raw(Statement::from_string(db.backend(), sql))
        .await
        .unwrap_or_default();
    db.close().await;
    rows.iter()
        .filter_map(|r| r.try_get::<String>("", "t").ok())
        .filter(|t| !tables.contains(t))
        .collect()
}

/// `FILE` or `latest` → the backup file. `latest` is the newest backup of this database
/// in the backup folder, not counting restore's own safety copies.
pub fn resolve(ctx: &Ctx, spec: &str, dir: Option<&Path>) -> Result<PathBuf> {
    if spec == "latest" {
        let (dir, entries) = super::backup::list(ctx, dir)?;
        let engine = ctx.url.engine.name();
        let db = ctx.url.database_name();
        return entries
            .into_iter()
            .rev()
            .find(|e| e.is_of(engine, &db) && e.meta.as_ref().is_some_and(|m| m.kind == backup::KIND_BACKUP))
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

fn refuse(file: &Path, reason: impl Into<String>) -> Error {
    Error::BackupInvalid {
        file: file.display().to_string(),
        reason: reason.into(),
    }
}

fn decode_err(file: &Path, e: DecodeError) -> Error {
    match e {
        DecodeError::Invalid(r) => refuse(file, r),
        DecodeError::Io(e) => Error::io(format!("could not read {}", file.display()), e),
    }
}

/// Checks `file` thoroughly without touching the database. See the module docs.
pub async fn verify(ctx: &Ctx, file: &Path) -> Result<Verified> {
    let mut f = std::fs::File::open(file).context(|| format!("could not open {}", file.display()))?;
    let (_, meta) = compress::read_header(&mut f).context(|| format!("could not read {}", file.display()))?;
    let engine = ctx.url.engine.name();
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
    match ctx.url.engine {
        Engine::Sqlite => {
            let live = ctx
                .url
                .sqlite_path
                .clone()
                .ok_or_else(|| Error::Config("an in-memory SQLite database cannot be restored".into()))?;
            if let Some(parent) = live.parent() {
                crate::workspace::create_dir_all(parent)?;
            }
            sqlite::clean_stale_restores(&live);
            let tmp_path = sqlite::restore_tmp(&live);
            let out = std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(&tmp_path)
                .context(|| format!("could not create {}", tmp_path.display()))?;
            let tmp = TempCopy(Some(tmp_path.clone()));
            let mut w = postgres::UntilClosed {
                inner: Some(std::io::BufWriter::with_capacity(1 << 20, out)),
                head: Vec::new(),
            };
            let n = compress::decompress(&mut f, &mut w, &progress).map_err(|e| decode_err(file, e))?;
            if let Some(mut bw) = w.inner.take() {
                std::io::Write::flush(&mut bw).context(|| format!("could not write {}", tmp_path.display()))?;
            }
            pb.finish_and_clear();
            match Content::sniff(&w.head) {
                Content::Sqlite => {}
                Content::PgCustom => {
                    return Err(refuse(file, "it is a PostgreSQL dump and the database is sqlite"));
                }
                Content::Unknown => {
                    return Err(refuse(file, "it does not contain a SQLite database"));
                }
            }
            sqlite::verify(&tmp_path).await.map_err(|r| refuse(file, r))?;
            Ok(Verified {
                file: file.to_path_buf(),
                meta,
                data_bytes: n,
                kind: Kind::Sqlite(tmp),
            })
        }
        Engine::Postgres => {
            let tools = postgres::Tools::find()?;
            let mut child = tools.spawn(&tools.pg_restore, None, &["--list".to_string()], true)?;
            let stdin = child.stdin.take().expect("piped");
            let (out_t, err_t) = drain(&mut child);
            let mut w = postgres::UntilClosed {
                inner: Some(stdin),
                head: Vec::new(),
            };
            let r = compress::decompress(&mut f, &mut w, &progress);
            drop(w.inner.take());
            pb.finish_and_clear();
            let status = child.wait().context(|| "could not wait for pg_restore".to_string())?;
            let toc = out_t.join().unwrap_or_default();
            let err = err_t.join().unwrap_or_default();
            let n = r.map_err(|e| decode_err(file, e))?;
            match Content::sniff(&w.head) {
                Content::PgCustom => {}
                Content::Sqlite => {
                    return Err(refuse(file, "it is a SQLite database and the database is postgres"));
                }
                Content::Unknown => {
                    return Err(refuse(
                        file,
                        "it does not contain a PostgreSQL custom-format dump (pg_dump -Fc)",
                    ));
                }
            }
            if !status.success() || toc.is_empty() {
                return Err(refuse(
                    file,
                    format!("pg_restore --list rejects it: {}", postgres::tool_error(&err)),
                ));
            }
            let toc = String::from_utf8_lossy(&toc).into_owned();
            Ok(Verified {
                file: file.to_path_buf(),
                meta,
                data_bytes: n,
                kind: Kind::Postgres {
                    tables: toc_tables(&toc),
                    toc,
                    tools,
                },
            })
        }
    }
}

/// Reads a child's stdout and stderr on threads.
fn drain(child: &mut std::process::Child) -> (std::thread::JoinHandle<Vec<u8>>, std::thread::JoinHandle<Vec<u8>>) {
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

/// Takes a safety backup of the current database, then replaces it with the verified file.
pub async fn apply(ctx: &Ctx, v: Verified, dir: Option<&Path>) -> Result<Restored> {
    let started = Instant::now();
    let exists = match ctx.url.engine {
        Engine::Sqlite => ctx.url.sqlite_path.as_deref().is_some_and(Path::exists),
        Engine::Postgres => true,
    };
    let mut damaged = false;
    let safety = if exists {
        let opts = BackupOptions {
            before_restore: true,
            ..BackupOptions::default()
        };
        match super::backup::backup(ctx, dir, &opts).await {
            Ok(info) => Some(info),
            // SQLite cannot read the database it is asked to replace: keep its bytes as is.
            Err(e @ (Error::Database { .. } | Error::Connect { .. })) if ctx.url.engine == Engine::Sqlite => {
                ctx.shell.warn(format!(
                    "SQLite cannot read the current database ({e}); saving the file as it is"
                ));
                damaged = true;
                Some(super::backup::raw_sqlite_copy(ctx, dir)?)
            }
            Err(e) => return Err(e),
        }
    } else {
        None
    };
    let mut extra = Vec::new();
    match v.kind {
        Kind::Sqlite(mut tmp) => {
            let live = ctx.url.sqlite_path.clone().expect("checked in verify");
            if exists && !damaged {
                sqlite::checkpoint(&ctx.url).await?;
            }
            let new = tmp.0.take().expect("verified copy");
            let r = sqlite::replace(&live, &new);
            if r.is_err() {
                let _ = std::fs::remove_file(&new);
            }
            r?;
        }
        Kind::Postgres { tools, tables, toc } => {
            let mut f = std::fs::File::open(&v.file).context(|| format!("could not open {}", v.file.display()))?;
            let mut args: Vec<String> = [
                "--clean",
                "--if-exists",
                "--single-transaction",
                "--exit-on-error",
                "--no-owner",
                "--no-privileges",
                "--no-password",
            ]
            .map(String::from)
            .into();
            // With a schema configured, only that schema is restored (a whole-database
            // archive included), and the schema itself is kept: its objects are replaced.
            let _list = match &ctx.url.schema {
                Some(schema) => {
                    // A restore into a new database: the schema may not exist yet.
                    if let Some(db) = crate::db::Db::open(&ctx.url, crate::db::Create::No).await? {
                        let created = crate::db::tracking::create_schema(&db).await;
                        db.close().await;
                        created?;
                    }
                    let list = TempCopy(Some(
                        std::env::temp_dir().join(format!("cargo-dbm-restore-{}.list", std::process::id())),
                    ));
                    let path = list.0.clone().expect("just set");
                    std::fs::write(&path, postgres::toc_without_schema_entry(&toc, schema))
                        .context(|| format!("could not write {}", path.display()))?;
                    args.push(format!("--schema={schema}"));
                    args.push(format!("--use-list={}", path.display()));
                    Some(list)
                }
                None => None,
            };
            let mut child = tools.spawn(&tools.pg_restore, Some(&ctx.url), &args, true)?;
            let stdin = child.stdin.take().expect("piped");
            let (_out_t, err_t) = drain(&mut child);
            let size = f.metadata().map(|m| m.len()).ok();
            let pb = ctx.shell.progress(size, "Restoring", Counting::Bytes);
            let mut w = std::io::BufWriter::with_capacity(1 << 20, stdin);
            let r = compress::decompress(&mut f, &mut w, &|n| pb.set_position(n));
            drop(w);
            pb.finish_and_clear();
            if r.is_err() {
                // pg_restore sees a cut stream and rolls back; make sure it does not wait.
                let _ = child.kill();
            }
            let status = child.wait().context(|| "could not wait for pg_restore".to_string())?;
            let err = err_t.join().unwrap_or_default();
            if !status.success() {
                return Err(Error::Database {
                    doing: "restoring with pg_restore (its transaction was rolled back; the database is as it was)"
                        .into(),
                    reason: format!("{status}: {}", postgres::tool_error(&err)),
                });
            }
            r.map_err(|e| decode_err(&v.file, e))?;
            extra = left_over(ctx, &tables).await;
        }
    }
    Ok(Restored {
        file: v.file,
        duration_ms: started.elapsed().as_millis() as u64,
        safety_backup: safety,
        left_over: extra,
    })
}
