//! The migration lock: two `cargo dbm up` at once apply each migration exactly once.
//!
//! Each engine takes it its own way ([`crate::engine::Engine::lock`]), always one that is
//! released if the process dies: a session lock on the server (PostgreSQL's advisory lock,
//! MySQL's `GET_LOCK`), or a `flock` on a file beside a SQLite database.
//!
//! A second run waits, says that it waits, and gives up after `--lock-timeout`.

use crate::config::DbUrl;
use crate::error::{Error, Result};
use crate::shell::Shell;
use std::time::{Duration, Instant};

pub use crate::engine::Lock;

/// Takes the migration lock of `url`, waiting up to `timeout`; a second run waits, says
/// that it waits, and gives up after `--lock-timeout`.
pub async fn acquire(url: &DbUrl, timeout: Duration, shell: &Shell) -> Result<Lock> {
    let start = Instant::now();
    let mut announced = false;
    let mut wait = || -> Result<()> {
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
    url.engine.lock(url, &mut wait).await
}
