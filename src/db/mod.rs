//! The database side above the engines: connecting (with secrets kept out of messages),
//! the tracking tables, the migration lock, schema snapshots. What differs by engine is in
//! [`crate::engine`].

pub mod lock;
pub mod snapshot;
pub mod tracking;

use crate::config::{DbUrl, redact_text};
use crate::error::{Error, Result};
use sea_orm::{ConnectOptions, ConnectionTrait, DatabaseConnection, DbBackend, Statement};
use std::sync::OnceLock;
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
        Self::open_pooled(url, create, 2).await
    }

    async fn open_pooled(url: &DbUrl, create: Create, max_connections: u32) -> Result<Option<Db>> {
        let mut conn_url = url.expose().to_string();
        if let Some(path) = &url.sqlite_path {
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
        // Connecting is bounded by the engine's connect; the pool must not give up before it.
        opts.sqlx_logging(false)
            .acquire_timeout(ACQUIRE_TIMEOUT.max(connect_timeout()))
            .max_connections(max_connections)
            .min_connections(1);
        if let Some(schema) = &url.schema {
            opts.set_schema_search_path(schema.clone());
        }
        url.engine.configure(url, &mut opts);
        let conn = url.engine.connect(url, opts, connect_timeout()).await?;
        Ok(Some(Db { conn, url: url.clone() }))
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

/// Connections kept open across the targets of a fleet that share a server and database
/// (PostgreSQL schemas): a target borrows one, switches its `search_path`, and gives it
/// back. Starting a server session costs more than reading a schema's tracking tables
/// (each new PostgreSQL backend also warms its catalog caches), so a thousand schemas are
/// read over a handful of sessions. Other targets get a connection of their own.
#[derive(Default)]
pub struct Sessions {
    idle: std::sync::Mutex<std::collections::HashMap<String, Vec<DatabaseConnection>>>,
}

impl Sessions {
    /// A connection to `url` (see [`Db::open`]).
    pub async fn open(&self, url: &DbUrl, create: Create) -> Result<Option<Db>> {
        let Some(schema) = url.schema.as_deref().filter(|_| url.engine.has_schemas()) else {
            return Db::open(url, create).await;
        };
        let key = url.expose().to_string();
        let idle = self.idle.lock().expect("not poisoned").get_mut(&key).and_then(Vec::pop);
        let conn = match idle {
            Some(conn) => conn,
            None => {
                let mut base = url.clone();
                base.schema = None;
                // One connection per pool: the `search_path` set below stays with it.
                match Db::open_pooled(&base, create, 1).await? {
                    Some(db) => db.conn,
                    None => return Ok(None),
                }
            }
        };
        let db = Db { conn, url: url.clone() };
        let set = format!("SET search_path TO {}", url.engine.quote(schema));
        if let Err(e) = db.exec("choosing the schema", &set).await {
            db.close().await;
            return Err(e);
        }
        Ok(Some(db))
    }

    /// Gives a connection from [`Sessions::open`] back for the next target.
    pub async fn give_back(&self, db: Db) {
        if db.url.schema.is_some() && db.url.engine.has_schemas() {
            let key = db.url.expose().to_string();
            self.idle
                .lock()
                .expect("not poisoned")
                .entry(key)
                .or_default()
                .push(db.conn);
        } else {
            db.close().await;
        }
    }

    /// Closes every kept connection.
    pub async fn close(self) {
        let idle = self.idle.into_inner().unwrap_or_default();
        for conn in idle.into_values().flatten() {
            let _ = conn.close().await;
        }
    }
}

/// How long reaching a server and logging in may take, unless `--connect-timeout` (or
/// `CARGO_DBM_CONNECT_TIMEOUT`) says otherwise.
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// How long a command may wait for one of its pool's connections once connected.
const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(30);

static CONNECT_TIMEOUT: OnceLock<Duration> = OnceLock::new();

/// Sets the connect timeout of the process (`--connect-timeout`); the first call wins.
pub fn set_connect_timeout(timeout: Duration) {
    let _ = CONNECT_TIMEOUT.set(timeout);
}

/// The connect timeout in force.
pub fn connect_timeout() -> Duration {
    CONNECT_TIMEOUT.get().copied().unwrap_or(DEFAULT_CONNECT_TIMEOUT)
}

/// Formats a duration as seconds: `5s`, `2.5s`.
pub(crate) fn seconds(d: Duration) -> String {
    if d.subsec_millis() == 0 {
        format!("{}s", d.as_secs())
    } else {
        format!("{:.1}s", d.as_secs_f64())
    }
}

/// An [`Error::Connect`], with the driver's words redacted.
pub(crate) fn connect_error(url: &DbUrl, reason: &str) -> Error {
    Error::Connect {
        url: url.redacted(),
        reason: redact_text(&connect_reason(reason)),
    }
}

/// sqlx errors are verbose; keep the part a user can act on.
pub(crate) fn connect_reason(s: &str) -> String {
    s.trim_start_matches("Connection Error: ")
        .trim_start_matches("error returned from database: ")
        .to_string()
}

/// Runs a query whose rows have text columns `name` and `kind` (listing a schema's objects).
pub(crate) async fn names(db: &impl ConnectionTrait, backend: DbBackend, sql: &str) -> Result<Vec<(String, String)>> {
    let err = |e| Error::db("listing the schema's objects", e);
    let rows = db
        .query_all_raw(Statement::from_string(backend, sql.to_string()))
        .await
        .map_err(err)?;
    rows.iter()
        .map(|r| {
            Ok((
                r.try_get::<String>("", "name").map_err(err)?,
                r.try_get::<String>("", "kind").map_err(err)?,
            ))
        })
        .collect()
}

/// Connects within `timeout` in two steps, naming the cause of a failure. `probe` first
/// reaches the server with a plain connection (on a thread of its own: a DNS lookup cannot
/// be cancelled, and must not hold the exit): sqlx's pool retries a refused connection
/// until its timeout and then says only "pool timed out", while the first attempt knows it
/// was refused, or that the host does not resolve. Logging in then goes through the pool,
/// whose errors (authentication, missing database) come back at once, worded by `reason`.
pub(crate) async fn connect_probed(
    url: &DbUrl,
    opts: ConnectOptions,
    timeout: Duration,
    timed_out: &str,
    probe: impl FnOnce(std::time::Instant) -> std::result::Result<(), String> + Send + 'static,
    reason: impl Fn(&sea_orm::DbErr) -> String,
) -> Result<DatabaseConnection> {
    let deadline = tokio::time::Instant::now() + timeout;
    let (tx, rx) = tokio::sync::oneshot::channel();
    let until = std::time::Instant::now() + timeout;
    std::thread::spawn(move || {
        let _ = tx.send(probe(until));
    });
    match tokio::time::timeout_at(deadline, rx).await {
        Err(_) => return Err(connect_error(url, timed_out)),
        Ok(Ok(Err(reason))) => return Err(connect_error(url, &reason)),
        Ok(Ok(Ok(()))) | Ok(Err(_)) => {}
    }
    let backend = url.engine.backend();
    let login = async {
        let conn = sea_orm::Database::connect(opts).await?;
        // A pool connects lazily for some engines; make sure the server really answers.
        conn.execute_raw(Statement::from_string(backend, "SELECT 1")).await?;
        Ok::<_, sea_orm::DbErr>(conn)
    };
    match tokio::time::timeout_at(deadline, login).await {
        Err(_) => Err(connect_error(url, timed_out)),
        Ok(Err(e)) => Err(connect_error(url, &reason(&e))),
        Ok(Ok(conn)) => Ok(conn),
    }
}
