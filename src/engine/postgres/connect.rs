//! Connecting to PostgreSQL within the connect timeout, naming the cause of a failure, and
//! the fix for each cause.

use crate::config::DbUrl;
use crate::db::{connect_error, connect_reason, connect_timeout, seconds};
use crate::error::Result;
use sea_orm::sqlx::{self, postgres::PgConnectOptions};
use sea_orm::{ConnectOptions, DatabaseConnection, DbErr, RuntimeErr};
use std::net::ToSocketAddrs;
use std::path::PathBuf;
use std::time::Duration;

/// Connects to PostgreSQL within [`connect_timeout`], naming the cause of a failure.
///
/// The server is first reached with a plain TCP (or Unix socket) connection: sqlx's pool
/// retries a refused connection until its timeout and then says only "pool timed out", while
/// the first attempt knows it was refused, or that the host does not resolve. Logging in then
/// goes through the pool, whose errors (authentication, missing database) come back at once.
pub async fn connect(url: &DbUrl, opts: ConnectOptions, timeout: Duration) -> Result<DatabaseConnection> {
    let pg: PgConnectOptions = url
        .expose()
        .parse()
        .map_err(|e: sqlx::Error| connect_error(url, &e.to_string()))?;
    let target = Target::of(&pg);
    let probe = target.clone();
    crate::db::connect_probed(
        url,
        opts,
        timeout,
        &target.timed_out(timeout),
        move |until| probe.reach(until),
        |e| target.reason(e, timeout),
    )
    .await
}

/// Where a PostgreSQL client connects: a TCP host and port, or a Unix socket.
#[derive(Clone)]
struct Target {
    host: String,
    port: u16,
    socket: Option<PathBuf>,
}

impl Target {
    fn of(pg: &PgConnectOptions) -> Target {
        let port = pg.get_port();
        let host = pg.get_host().to_string();
        let dir = pg
            .get_socket()
            .cloned()
            .or_else(|| host.starts_with('/').then(|| PathBuf::from(&host)));
        Target {
            socket: dir.map(|d| d.join(format!(".s.PGSQL.{port}"))),
            host,
            port,
        }
    }

    /// `host:port` (`[::1]:5432` for IPv6), or the socket's path.
    fn name(&self) -> String {
        match &self.socket {
            Some(path) => path.display().to_string(),
            None if self.host.contains(':') && !self.host.starts_with('[') => format!("[{}]:{}", self.host, self.port),
            None => format!("{}:{}", self.host, self.port),
        }
    }

    /// The `-h` to give `createdb` and friends: the host, or the socket's directory.
    fn tool_host(&self) -> String {
        match self.socket.as_deref().and_then(|p| p.parent()) {
            Some(dir) => dir.display().to_string(),
            None => self.host.clone(),
        }
    }

    fn timed_out(&self, timeout: Duration) -> String {
        format!("no answer from {} within {} (timed out)", self.name(), seconds(timeout))
    }

    /// Opens (and closes) a connection to the server, blocking until `until` at most.
    fn reach(&self, until: std::time::Instant) -> std::result::Result<(), String> {
        use std::io::ErrorKind;
        let left = || until.saturating_duration_since(std::time::Instant::now());
        if let Some(path) = &self.socket {
            return match std::os::unix::net::UnixStream::connect(path) {
                Ok(_) => Ok(()),
                Err(e) if e.kind() == ErrorKind::ConnectionRefused => {
                    Err(format!("connection refused by {}", self.name()))
                }
                Err(e) if e.kind() == ErrorKind::NotFound => Err(format!("no server socket at {} ({e})", self.name())),
                Err(e) => Err(format!("could not reach {}: {e}", self.name())),
            };
        }
        let host = self.host.trim_start_matches('[').trim_end_matches(']');
        let addrs = (host, self.port)
            .to_socket_addrs()
            .map_err(|e| format!("could not resolve host `{host}` ({e})"))?;
        let (mut refused, mut other) = (false, None);
        for addr in addrs {
            let left = left();
            if left.is_zero() {
                break;
            }
            match std::net::TcpStream::connect_timeout(&addr, left) {
                Ok(_) => return Ok(()),
                Err(e) if e.kind() == ErrorKind::ConnectionRefused => refused = true,
                Err(e) if matches!(e.kind(), ErrorKind::TimedOut | ErrorKind::WouldBlock) => {}
                Err(e) => other = Some(e),
            }
        }
        Err(if refused {
            format!("connection refused by {}", self.name())
        } else if let Some(e) = other {
            format!("could not reach {}: {e}", self.name())
        } else {
            format!("no answer from {} within the connect timeout (timed out)", self.name())
        })
    }

    /// What went wrong while logging in, in the server's words where it said something.
    fn reason(&self, e: &DbErr, timeout: Duration) -> String {
        let sqlx_error = match e {
            DbErr::Conn(RuntimeErr::SqlxError(s))
            | DbErr::Exec(RuntimeErr::SqlxError(s))
            | DbErr::Query(RuntimeErr::SqlxError(s)) => s,
            _ => return connect_reason(&e.to_string()),
        };
        match &**sqlx_error {
            sqlx::Error::PoolTimedOut => self.timed_out(timeout),
            sqlx::Error::Io(io) if io.kind() == std::io::ErrorKind::ConnectionRefused => {
                format!("connection refused by {}", self.name())
            }
            sqlx::Error::Database(db) => db.message().to_string(),
            other => connect_reason(&other.to_string()),
        }
    }
}

/// The fix for a failed connection, from the (redacted) URL and the reason given: the
/// cause is named in the reason, by this module or by the runner's driver.
pub fn connect_hint(url: &str, reason: &str) -> String {
    let generic = "check that the database server is running and that the URL, user and password are right";
    let Ok(pg) = url.parse::<PgConnectOptions>() else {
        return generic.into();
    };
    let target = Target::of(&pg);
    let (host, port, user) = (target.tool_host(), target.port, pg.get_username());
    let db = pg.get_database().unwrap_or(user);
    let r = reason.to_ascii_lowercase();
    if r.contains("refused") {
        format!(
            "is the PostgreSQL server running and accepting connections on {}? Start it, or fix the host and port in the URL",
            target.name()
        )
    } else if r.contains("could not resolve host")
        || r.contains("failed to lookup address")
        || r.contains("name or service not known")
        || r.contains("nodename nor servname")
    {
        format!(
            "check the host name `{}` in the URL: it does not resolve to an address",
            target.host
        )
    } else if r.contains("no server socket") {
        format!(
            "is the PostgreSQL server running? Check the socket directory (`host=`) and the port ({port}) in the URL"
        )
    } else if r.contains("timed out") {
        format!(
            "check that {} is the server's address and is reachable (firewall, VPN); on a slow network allow more than {} with --connect-timeout SECONDS or CARGO_DBM_CONNECT_TIMEOUT",
            target.name(),
            seconds(connect_timeout())
        )
    } else if r.contains("password authentication failed") || r.contains("authentication failed") {
        format!(
            "check the user (`{user}`) and the password in the URL (percent-encode special characters, e.g. `@` as %40), or in PGPASSWORD or ~/.pgpass"
        )
    } else if r.contains("pg_hba.conf") {
        format!(
            "the server does not accept user `{user}` from this host for database `{db}`: add a pg_hba.conf entry for it (and reload the server), or connect as another user"
        )
    } else if r.contains("role \"") && r.contains("does not exist") {
        format!(
            "check the user name in the URL, or create the role: `createuser -h {host} -p {port} --pwprompt {user}`"
        )
    } else if r.contains("database \"") && r.contains("does not exist") {
        format!("create it with `createdb -h {host} -p {port} -U {user} {db}`, or fix the database name in the URL")
    } else if r.contains("tls") || r.contains("ssl") {
        "check `sslmode` and the certificate parameters in the URL against the server's TLS setup".into()
    } else {
        generic.into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_cause_gets_its_fix() {
        let url = "postgres://app:***@db.example:6543/shop?sslpassword=***";
        for (reason, fix) in [
            (
                "connection refused by db.example:6543",
                "is the PostgreSQL server running and accepting connections on db.example:6543?",
            ),
            (
                "could not resolve host `db.example` (failed to lookup address information: Name or service not known)",
                "check the host name `db.example` in the URL",
            ),
            (
                "no answer from db.example:6543 within 5s (timed out)",
                "--connect-timeout SECONDS",
            ),
            (
                "password authentication failed for user \"app\"",
                "check the user (`app`) and the password in the URL",
            ),
            (
                "no pg_hba.conf entry for host \"10.0.0.1\", user \"app\", database \"shop\", no encryption",
                "add a pg_hba.conf entry",
            ),
            (
                "role \"app\" does not exist",
                "createuser -h db.example -p 6543 --pwprompt app",
            ),
            (
                "database \"shop\" does not exist",
                "createdb -h db.example -p 6543 -U app shop",
            ),
            ("server does not support TLS", "sslmode"),
            ("something else", "check that the database server is running"),
        ] {
            let hint = connect_hint(url, reason);
            assert!(hint.contains(fix), "{reason}: {hint}");
        }
        // The runner reports its driver's words.
        let hint = connect_hint(
            url,
            "Connection Error: error communicating with database: Connection refused (os error 111)",
        );
        assert!(hint.contains("db.example:6543"), "{hint}");
        // A Unix socket: its path, and its directory for the tools.
        let url = "postgres://app@localhost:5433/shop?host=/run/postgresql";
        let hint = connect_hint(url, "connection refused by /run/postgresql/.s.PGSQL.5433");
        assert!(hint.contains("/run/postgresql/.s.PGSQL.5433"), "{hint}");
        let hint = connect_hint(url, "database \"shop\" does not exist");
        assert!(
            hint.contains("createdb -h /run/postgresql -p 5433 -U app shop"),
            "{hint}"
        );
    }

    #[test]
    fn targets_and_durations_read_well() {
        let t = |url: &str| Target::of(&url.parse::<PgConnectOptions>().unwrap()).name();
        assert_eq!(t("postgres://a@db:6543/x"), "db:6543");
        assert_eq!(t("postgres://a@[::1]:6543/x"), "[::1]:6543");
        assert_eq!(t("postgres://a@%2Ftmp:6543/x"), "/tmp/.s.PGSQL.6543");
        assert_eq!(seconds(Duration::from_secs(5)), "5s");
        assert_eq!(seconds(Duration::from_millis(2500)), "2.5s");
    }
}
