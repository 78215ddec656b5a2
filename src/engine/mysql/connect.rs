//! Connecting to MySQL/MariaDB within the connect timeout: the server is reached with a
//! plain TCP connection first (so that a refused port or an unknown host is named at once,
//! not after the pool's retries), then the login goes through the pool.

use crate::config::DbUrl;
use crate::db::{connect_error, connect_reason, seconds};
use crate::error::Result;
use sea_orm::{ConnectOptions, DatabaseConnection, DbErr, RuntimeErr};
use std::net::ToSocketAddrs;
use std::time::Duration;

/// `host:port` of a MySQL URL (3306 by default).
fn target(url: &str) -> Option<(String, u16)> {
    let u = url::Url::parse(url).ok()?;
    let host = u.host_str()?.trim_start_matches('[').trim_end_matches(']').to_string();
    Some((host, u.port().unwrap_or(3306)))
}

fn name(host: &str, port: u16) -> String {
    if host.contains(':') {
        format!("[{host}]:{port}")
    } else {
        format!("{host}:{port}")
    }
}

pub async fn connect(url: &DbUrl, opts: ConnectOptions, timeout: Duration) -> Result<DatabaseConnection> {
    let (host, port) = target(url.expose()).ok_or_else(|| connect_error(url, "the URL names no host"))?;
    let timed_out = format!(
        "no answer from {} within {} (timed out)",
        name(&host, port),
        seconds(timeout)
    );
    crate::db::connect_probed(
        url,
        opts,
        timeout,
        &timed_out,
        move |until| reach(&host, port, until),
        reason,
    )
    .await
}

fn reach(host: &str, port: u16, until: std::time::Instant) -> std::result::Result<(), String> {
    use std::io::ErrorKind;
    let addrs = (host, port)
        .to_socket_addrs()
        .map_err(|e| format!("could not resolve host `{host}` ({e})"))?;
    let mut refused = false;
    for addr in addrs {
        let left = until.saturating_duration_since(std::time::Instant::now());
        if left.is_zero() {
            break;
        }
        match std::net::TcpStream::connect_timeout(&addr, left) {
            Ok(_) => return Ok(()),
            Err(e) if e.kind() == ErrorKind::ConnectionRefused => refused = true,
            Err(_) => {}
        }
    }
    Err(if refused {
        format!("connection refused by {}", name(host, port))
    } else {
        format!(
            "no answer from {} within the connect timeout (timed out)",
            name(host, port)
        )
    })
}

fn reason(e: &DbErr) -> String {
    match e {
        DbErr::Conn(RuntimeErr::SqlxError(s))
        | DbErr::Exec(RuntimeErr::SqlxError(s))
        | DbErr::Query(RuntimeErr::SqlxError(s)) => match &**s {
            sea_orm::sqlx::Error::Database(db) => db.message().to_string(),
            other => connect_reason(&other.to_string()),
        },
        _ => connect_reason(&e.to_string()),
    }
}

/// The fix for a failed connection to MySQL/MariaDB.
pub fn connect_hint(url: &str, reason: &str) -> String {
    let (host, port) = target(url).unwrap_or_else(|| ("localhost".into(), 3306));
    let user = url::Url::parse(url)
        .ok()
        .map(|u| u.username().to_string())
        .unwrap_or_default();
    let db = url::Url::parse(url)
        .ok()
        .map(|u| u.path().trim_start_matches('/').to_string())
        .unwrap_or_default();
    let r = reason.to_ascii_lowercase();
    if r.contains("refused") {
        format!(
            "is the MySQL/MariaDB server running and accepting TCP connections on {}? Start it, or fix the host and port in the URL",
            name(&host, port)
        )
    } else if r.contains("could not resolve host") {
        format!("check the host name `{host}` in the URL: it does not resolve to an address")
    } else if r.contains("timed out") {
        format!(
            "check that {} is the server's address and is reachable (firewall, VPN), or allow more time with --connect-timeout SECONDS",
            name(&host, port)
        )
    } else if r.contains("access denied") {
        format!(
            "check the user (`{user}`) and the password in the URL (percent-encode special characters, e.g. `@` as %40), and that the user may connect from this host"
        )
    } else if r.contains("unknown database") {
        format!("create it with `CREATE DATABASE `{db}` CHARACTER SET utf8mb4`, or fix the database name in the URL")
    } else {
        "check that the database server is running and that the URL, user and password are right".into()
    }
}
