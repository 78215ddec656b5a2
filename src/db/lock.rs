//! The migration lock: two `cargo dbm up` at once apply each migration exactly once.
//!
//! - PostgreSQL: a session-level advisory lock on a dedicated connection; the server
//!   releases it if the process dies.
//! - SQLite: an exclusive lock (`flock`, through `std::fs::File::try_lock`) on `<database>.dbm-lock` beside the file; the kernel
//!   releases it if the process dies. (A lock on the database file itself would be unsafe:
//!   closing any descriptor of that file drops SQLite's own POSIX locks.)
//!
//! A second run waits, says that it waits, and gives up after `--lock-timeout`.

use super::Db;
use crate::config::{DbUrl, Engine};
use crate::error::{Error, IoContext, Result};
use crate::shell::Shell;
use sea_orm::{ConnectionTrait, Statement};
use std::time::{Duration, Instant};

/// Held for the whole run; released on drop (or by the OS/server if the process dies).
pub enum Lock {
    File(std::fs::File),
    Postgres(Db),
    None,
}

/// `pg_try_advisory_lock(classid, objid)`: a fixed class for cargo-dbm, the schema's name
/// as object (given, not `current_schema()`, which is NULL while the schema does not exist).
const PG_TRY: &str = "SELECT pg_try_advisory_lock(1684172141, hashtext($1)) AS locked";

impl Lock {
    /// Takes the lock, waiting up to `timeout`.
    pub async fn acquire(url: &DbUrl, timeout: Duration, shell: &Shell) -> Result<Lock> {
        let start = Instant::now();
        let mut announced = false;
        let mut wait = |shell: &Shell| -> Result<()> {
            if start.elapsed() >= timeout {
                return Err(Error::LockTimeout {
                    seconds: timeout.as_secs(),
                    database: url.redacted(),
                });
            }
            if !announced {
                shell.status(
                    "Waiting",
                    format!(
                        "for another `cargo dbm` to release the migration lock on {}",
                        url.redacted()
                    ),
                );
                announced = true;
            }
            Ok(())
        };
        match url.engine {
            Engine::Sqlite => {
                let Some(path) = &url.sqlite_path else {
                    return Ok(Lock::None);
                };
                let mut lock_path = path.clone().into_os_string();
                lock_path.push(".dbm-lock");
                if let Some(dir) = path.parent() {
                    crate::workspace::create_dir_all(dir)?;
                }
                let file = std::fs::OpenOptions::new()
                    .create(true)
                    .truncate(false)
                    .write(true)
                    .open(&lock_path)
                    .context(|| {
                        format!(
                            "could not open the lock file `{}`",
                            std::path::Path::new(&lock_path).display()
                        )
                    })?;
                loop {
                    match file.try_lock() {
                        Ok(()) => return Ok(Lock::File(file)),
                        Err(std::fs::TryLockError::WouldBlock) => {}
                        Err(std::fs::TryLockError::Error(e)) => {
                            return Err(Error::io("could not lock the database", e));
                        }
                    }
                    wait(shell)?;
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            }
            Engine::Postgres => {
                let db = Db::open(url, super::Create::No)
                    .await?
                    .expect("postgres always connects");
                loop {
                    let row = db
                        .conn
                        .query_one_raw(Statement::from_sql_and_values(
                            db.backend(),
                            PG_TRY,
                            [sea_orm::Value::from(url.schema.clone().unwrap_or_default())],
                        ))
                        .await
                        .map_err(|e| Error::db("taking the migration lock", e))?;
                    let locked: bool = row
                        .map(|r| r.try_get("", "locked"))
                        .transpose()
                        .map_err(|e| Error::db("taking the migration lock", e))?
                        .unwrap_or(false);
                    if locked {
                        return Ok(Lock::Postgres(db));
                    }
                    wait(shell)?;
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            }
        }
    }

    /// Releases the lock now.
    pub async fn release(self) {
        match self {
            Lock::File(f) => {
                let _ = f.unlock();
            }
            Lock::Postgres(db) => {
                // Closing the session releases the advisory lock.
                db.close().await;
            }
            Lock::None => {}
        }
    }
}
