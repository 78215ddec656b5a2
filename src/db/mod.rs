//! The database side: connecting (with secrets kept out of messages), the tracking tables,
//! and the migration lock.

pub mod lock;
pub mod schema;
pub mod snapshot;
pub mod tracking;

use crate::config::{DbUrl, Engine, redact_text};
use crate::error::{Error, Result};
use sea_orm::{ConnectOptions, ConnectionTrait, Database, DatabaseConnection, DbBackend, Statement};
use std::time::Duration;

/// An open connection and the URL it came from.
pub struct Db {
    pub conn: DatabaseConnection,
    pub url: DbUrl,
}

/// Whether to create a missing SQLite file.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Create {
    Yes,
    No,
}

impl Db {
    /// Connects to the database. For SQLite with `Create::No`, a missing file gives `Ok(None)`:
    /// a database that does not exist yet has nothing applied.
    pub async fn open(url: &DbUrl, create: Create) -> Result<Option<Db>> {
        let mut conn_url = url.expose().to_string();
        if url.engine == Engine::Sqlite
            && let Some(path) = &url.sqlite_path
        {
            if !path.exists() {
                if create == Create::No {
                    return Ok(None);
                }
                if let Some(dir) = path.parent() {
                    crate::workspace::create_dir_all(dir)?;
                }
            }
            if !conn_url.contains("mode=") {
                conn_url.push(if conn_url.contains('?') { '&' } else { '?' });
                conn_url.push_str("mode=rwc");
            }
        }
        let mut opts = ConnectOptions::new(conn_url);
        opts.sqlx_logging(false)
            .connect_timeout(Duration::from_secs(10))
            .acquire_timeout(Duration::from_secs(30));
        if url.engine == Engine::Sqlite {
            opts.max_connections(1).min_connections(1);
            // Rows come from SQLite's worker thread through a channel; 50 rows at a time (the
            // default) means a round trip between threads every 50 rows of a 1,000-row table.
            opts.map_sqlx_sqlite_opts(|o| o.row_buffer_size(4096));
        } else {
            opts.max_connections(2).min_connections(1);
        }
        if let Some(schema) = &url.schema {
            opts.set_schema_search_path(schema.clone());
        }
        let conn = Database::connect(opts).await.map_err(|e| Error::Connect {
            url: url.redacted(),
            reason: redact_text(&connect_reason(&e.to_string())),
        })?;
        // A pool connects lazily for some engines; make sure the server really answers.
        let db = Db { conn, url: url.clone() };
        db.conn
            .execute_raw(Statement::from_string(db.backend(), "SELECT 1"))
            .await
            .map_err(|e| Error::Connect {
                url: url.redacted(),
                reason: redact_text(&connect_reason(&e.to_string())),
            })?;
        Ok(Some(db))
    }

    pub fn backend(&self) -> DbBackend {
        self.conn.get_database_backend()
    }

    /// Runs one statement, with a redacted error naming what was being done.
    pub async fn exec(&self, doing: &str, sql: &str) -> Result<()> {
        self.conn
            .execute_raw(Statement::from_string(self.backend(), sql.to_string()))
            .await
            .map(|_| ())
            .map_err(|e| Error::db(doing, e))
    }

    /// Closes the pool cleanly (SQLite flushes its WAL on close).
    pub async fn close(self) {
        let _ = self.conn.close().await;
    }
}

/// sqlx errors are verbose; keep the part a user can act on.
fn connect_reason(s: &str) -> String {
    s.trim_start_matches("Connection Error: ")
        .trim_start_matches("error returned from database: ")
        .to_string()
}
