//! The migration lock: two `cargo dbm up` at once apply each migration exactly once.
//!
//! Each engine takes it its own way ([`crate::engine::Engine::lock`]), always one that is
//! released if the process dies: a session lock on the server (PostgreSQL's advisory lock,
//! MySQL's `GET_LOCK`), or a `flock` on a file beside a SQLite database.
//!
//! A second run waits, says that it waits, and gives up after `--lock-timeout`.

use crate::config::DbUrl;
use crate::db::Db;
use crate::error::{Error, Result};
use crate::shell::Shell;
use std::time::{Duration, Instant};

pub use crate::engine::Lock;

/// Takes the migration lock of `url`, waiting up to `timeout`; a second run waits, says
/// that it waits, and gives up after `--lock-timeout`.
pub async fn acquire(url: &DbUrl, timeout: Duration, shell: &Shell) -> Result<Lock> {
    url.engine.lock(url, &mut waiter(url, timeout, shell)).await
}

/// How the lock of a kept session's target is held (see [`acquire_on`]).
pub enum Held {
    /// On the session itself: given back with it.
    OnSession,
    /// The engine's own lock ([`acquire`]).
    Own(Lock),
}

/// Takes the migration lock of `db`'s target: on the session `db` itself where the engine
/// can (PostgreSQL's advisory lock), else as [`acquire`] does.
pub async fn acquire_on(db: &Db, timeout: Duration, shell: &Shell) -> Result<Held> {
    let url = &db.url;
    if url.engine.lock_session(db, &mut waiter(url, timeout, shell)).await? {
        return Ok(Held::OnSession);
    }
    acquire(url, timeout, shell).await.map(Held::Own)
}

impl Held {
    /// Releases the lock; `false` when the session still holds it and must not be kept.
    pub async fn release(self, db: &Db) -> bool {
        match self {
            Held::Own(lock) => {
                lock.release().await;
                true
            }
            Held::OnSession => db.url.engine.unlock_session(db).await.is_ok(),
        }
    }
}

/// Called each time the lock is busy: says once that it waits, and gives up after `timeout`.
fn waiter<'a>(url: &'a DbUrl, timeout: Duration, shell: &'a Shell) -> impl FnMut() -> Result<()> + 'a {
    let start = Instant::now();
    let mut announced = false;
    move || -> Result<()> {
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
    }
}
