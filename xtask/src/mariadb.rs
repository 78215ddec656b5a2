//! A throwaway MariaDB server for the benchmarks: the logic of `tests/cli/support/mariadb.rs`
//! (which the xtask cannot import: it is test code), sized for bulk work instead of many
//! small servers.
//!
//! - `mariadb-install-db` into a fresh temporary directory (about 1 to 2 s, no template),
//!   `root` an ordinary password account at `localhost` and `127.0.0.1`;
//! - `mariadbd --no-defaults` on a free port of 127.0.0.1, its socket, pid file, log and
//!   tmpdir in that directory; as the `mysql` OS user when we are root (`mariadbd` refuses
//!   to run as root), through `runuser` (or `setpriv`);
//! - `--local-infile=1` (for `LOAD DATA LOCAL INFILE`), utf8mb4, time zone `+00:00`, no
//!   binary log, and durability traded for speed as the PostgreSQL benchmark cluster does
//!   (`innodb_flush_log_at_trx_commit=0`, no doublewrite), with a buffer pool and redo log
//!   large enough for half a gigabyte of data (1 GB, 512 MB) so that neither side of a
//!   comparison waits on checkpoints.
//!
//! Dropping the [`MariaDb`] stops the server (`SIGTERM`, `SIGKILL` after 20 s) and deletes
//! the directory.

use anyhow::{Context, Result, bail};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Password of `root` (at `localhost` and `127.0.0.1`).
pub const PASSWORD: &str = "bench-Pa55";

const OPTIONS: &[&str] = &[
    "--skip-log-bin",
    "--innodb-buffer-pool-size=1G",
    "--innodb-log-file-size=512M",
    "--innodb-flush-log-at-trx-commit=0",
    "--innodb-doublewrite=0",
    "--character-set-server=utf8mb4",
    "--collation-server=utf8mb4_unicode_ci",
    "--max-allowed-packet=256M",
];

const ACCOUNTS_SQL: &str = "\
DELETE FROM mysql.global_priv WHERE user = 'root' AND host NOT IN ('localhost', '127.0.0.1');
DELETE FROM mysql.proxies_priv WHERE host NOT IN ('localhost', '127.0.0.1');
FLUSH PRIVILEGES;
ALTER USER 'root'@'localhost' IDENTIFIED BY 'bench-Pa55';
ALTER USER 'root'@'127.0.0.1' IDENTIFIED BY 'bench-Pa55';
";

/// Variables that would redirect the client or the server tools.
const ENV_VARS: &[&str] = &[
    "MYSQL_HOST",
    "MYSQL_TCP_PORT",
    "MYSQL_UNIX_PORT",
    "MYSQL_PWD",
    "MYSQL_HOME",
    "MARIADB_HOME",
    "MYSQL_TEST_LOGIN_FILE",
    "MYSQL_GROUP_SUFFIX",
    "MARIADB_GROUP_SUFFIX",
    "TZ",
];

pub struct MariaDb {
    dir: tempfile::TempDir,
    pid_file: PathBuf,
    port: u16,
    as_mysql: bool,
    server: Option<Child>,
    version: String,
}

fn find(name: &str, extra: &[&str]) -> Result<PathBuf> {
    extra
        .iter()
        .map(PathBuf::from)
        .find(|p| p.is_file())
        .or_else(|| {
            let path = std::env::var_os("PATH")?;
            std::env::split_paths(&path).map(|d| d.join(name)).find(|p| p.is_file())
        })
        .with_context(|| format!("{name} not found: install Debian's mariadb-server and mariadb-client"))
}

/// The `mariadb` client (or another tool of the client package, e.g. `mariadb-dump`).
pub fn tool(name: &str) -> Result<PathBuf> {
    find(name, &[])
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false)
}

impl MariaDb {
    /// Installs and starts a server under a new directory in `parent` (which the `mysql`
    /// OS user must be able to reach when we are root).
    pub fn start(parent: &Path) -> Result<MariaDb> {
        let mariadbd = find("mariadbd", &["/usr/sbin/mariadbd"])?;
        let install_db = find("mariadb-install-db", &[])?;
        std::fs::create_dir_all(parent)?;
        let mut dir = tempfile::Builder::new().prefix("mariadb-").tempdir_in(parent)?;
        // The socket path must fit in 107 bytes.
        if dir.path().join("mysqld.sock").as_os_str().len() > 107 {
            dir = tempfile::Builder::new().prefix(".bench-mariadb-").tempdir_in("/tmp")?;
        }
        let root = dir.path().to_path_buf();
        let as_mysql = is_root();
        if as_mysql {
            crate::sh(Command::new("chown").arg("mysql:").arg(&root))?;
            // Every directory above must be traversable by `mysql`.
            let mut p = root.parent();
            while let Some(d) = p {
                let mode = std::os::unix::fs::PermissionsExt::mode(&std::fs::metadata(d)?.permissions());
                if mode & 0o001 == 0 {
                    bail!(
                        "{} is not traversable by the mysql OS user (mode {mode:o}); run from a checkout under a world-traversable directory",
                        d.display()
                    );
                }
                p = d.parent();
            }
        }
        let extra = root.join("accounts.sql");
        std::fs::write(&extra, ACCOUNTS_SQL)?;
        let data = root.join("data");
        let mut install = server_command(&install_db, as_mysql, &root);
        install
            .arg("--no-defaults")
            .arg(format!("--datadir={}", data.display()))
            .args([
                "--skip-test-db",
                "--auth-root-authentication-method=normal",
                "--skip-name-resolve",
            ])
            .arg(format!("--extra-file={}", extra.display()))
            .args(OPTIONS)
            .env("TMPDIR", &root);
        let out = install.output().context("could not run mariadb-install-db")?;
        if !out.status.success() {
            bail!(
                "mariadb-install-db failed: {}\n{}",
                out.status,
                String::from_utf8_lossy(&out.stderr)
            );
        }
        let port = TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
        let log = root.join("server.log");
        let mut cmd = server_command(&mariadbd, as_mysql, &root);
        cmd.arg("--no-defaults")
            .arg(format!("--datadir={}", data.display()))
            .arg(format!("--socket={}", root.join("mysqld.sock").display()))
            .arg(format!("--pid-file={}", root.join("mariadbd.pid").display()))
            .arg(format!("--log-error={}", log.display()))
            .arg(format!("--tmpdir={}", root.display()))
            .arg(format!("--port={port}"))
            .args([
                "--bind-address=127.0.0.1",
                "--skip-name-resolve",
                "--local-infile=1",
                "--default-time-zone=+00:00",
            ])
            .args(OPTIONS)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        let child = cmd.spawn().context("could not start mariadbd")?;
        let mut db = MariaDb {
            pid_file: root.join("mariadbd.pid"),
            dir,
            port,
            as_mysql,
            server: Some(child),
            version: String::new(),
        };
        let deadline = Instant::now() + Duration::from_secs(60);
        let addr = SocketAddr::from(([127, 0, 0, 1], port));
        loop {
            if let Some(Ok(Some(status))) = db.server.as_mut().map(|c| c.try_wait()) {
                db.server = None;
                bail!(
                    "mariadbd exited ({status}) before accepting connections:\n{}",
                    std::fs::read_to_string(&log).unwrap_or_default()
                );
            }
            if TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_ok()
                && let Ok(v) = db.try_sql("", "SELECT VERSION()")
            {
                db.version = v;
                break;
            }
            if Instant::now() > deadline {
                bail!(
                    "mariadbd did not answer within 60 s:\n{}",
                    std::fs::read_to_string(&log).unwrap_or_default()
                );
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        Ok(db)
    }

    #[allow(dead_code)]
    pub fn port(&self) -> u16 {
        self.port
    }

    /// `SELECT VERSION()`, e.g. `10.11.6-MariaDB-0+deb12u1`.
    pub fn version(&self) -> &str {
        &self.version
    }

    /// `10.11`-style short version, for titles.
    pub fn short_version(&self) -> String {
        self.version.split('.').take(2).collect::<Vec<_>>().join(".")
    }

    /// `mysql://root:<PASSWORD>@127.0.0.1:<port>/<db>`.
    pub fn url(&self, db: &str) -> String {
        format!("mysql://root:{PASSWORD}@127.0.0.1:{}/{db}", self.port)
    }

    /// Creates database `name` (utf8mb4) and returns its URL.
    pub fn create_database(&self, name: &str) -> Result<String> {
        self.sql(
            "",
            &format!("CREATE DATABASE `{name}` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci"),
        )?;
        Ok(self.url(name))
    }

    /// A client tool (`mariadb`, `mariadb-dump`) with the connection options (TCP, root, the
    /// password in `MYSQL_PWD`), to which the caller adds the rest.
    pub fn client(&self, name: &str) -> Result<Command> {
        let mut c = Command::new(tool(name)?);
        c.args(["--no-defaults", "--protocol=TCP", "--host=127.0.0.1"])
            .arg(format!("--port={}", self.port))
            .args(["--user=root", "--default-character-set=utf8mb4"]);
        for v in ENV_VARS {
            c.env_remove(v);
        }
        c.env("MYSQL_PWD", PASSWORD);
        Ok(c)
    }

    /// The same connection options as a shell fragment (for pipelines run by bash); the
    /// password must come from `MYSQL_PWD` (see [`env`](Self::env)).
    pub fn shell_options(&self) -> String {
        format!(
            "--no-defaults --protocol=TCP --host=127.0.0.1 --port={} --user=root --default-character-set=utf8mb4",
            self.port
        )
    }

    /// Environment for a pipeline using [`shell_options`](Self::shell_options).
    pub fn env(&self, cmd: &mut Command) {
        for v in ENV_VARS {
            cmd.env_remove(v);
        }
        cmd.env("MYSQL_PWD", PASSWORD);
    }

    /// Runs `sql` (statements separated by `;`) in database `db` (`""`: none) with the
    /// `mariadb` client; its trimmed output (`--batch --skip-column-names`).
    pub fn sql(&self, db: &str, sql: &str) -> Result<String> {
        self.try_sql(db, sql).map_err(anyhow::Error::msg)
    }

    fn try_sql(&self, db: &str, sql: &str) -> std::result::Result<String, String> {
        let mut c = self.client("mariadb").map_err(|e| e.to_string())?;
        c.args(["--batch", "--skip-column-names", "--connect-timeout=10"]);
        if !db.is_empty() {
            c.arg(format!("--database={db}"));
        }
        c.stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped());
        let mut child = c.spawn().map_err(|e| e.to_string())?;
        let mut stdin = child.stdin.take().unwrap();
        let input = sql.to_string();
        let writer = std::thread::spawn(move || {
            let _ = std::io::Write::write_all(&mut stdin, input.as_bytes());
        });
        let out = child.wait_with_output().map_err(|e| e.to_string())?;
        let _ = writer.join();
        if out.status.success() {
            Ok(String::from_utf8_lossy(&out.stdout).trim().to_string())
        } else {
            Err(format!(
                "mariadb failed ({}) on {sql:.200}: {}",
                out.status,
                String::from_utf8_lossy(&out.stderr).trim()
            ))
        }
    }
}

/// A server tool as `mysql` when `as_mysql`, in `dir`.
fn server_command(exe: &Path, as_mysql: bool, dir: &Path) -> Command {
    let mut c = if as_mysql {
        let runuser = ["/usr/sbin/runuser", "/sbin/runuser", "/usr/bin/runuser"]
            .iter()
            .find(|p| Path::new(p).is_file());
        let mut c = match runuser {
            Some(r) => {
                let mut c = Command::new(r);
                c.args(["-u", "mysql", "--"]);
                c
            }
            None => {
                let mut c = Command::new("setpriv");
                c.args(["--reuid=mysql", "--regid=mysql", "--init-groups", "--"]);
                c
            }
        };
        c.arg(exe);
        c
    } else {
        Command::new(exe)
    };
    c.current_dir(dir);
    for v in ENV_VARS {
        c.env_remove(v);
    }
    c
}

impl Drop for MariaDb {
    fn drop(&mut self) {
        let Some(mut child) = self.server.take() else {
            return;
        };
        let pid = std::fs::read_to_string(&self.pid_file)
            .ok()
            .and_then(|s| s.trim().parse::<u32>().ok());
        let signal = |sig: &str, pid: u32| {
            let _ = Command::new("kill")
                .args(["-s", sig, &pid.to_string()])
                .stderr(Stdio::null())
                .status();
        };
        signal("TERM", pid.unwrap_or(child.id()));
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            match child.try_wait() {
                Ok(Some(_)) => break,
                Ok(None) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(20)),
                _ => {
                    if let Some(pid) = pid {
                        signal("KILL", pid);
                    }
                    let _ = child.kill();
                    let _ = child.wait();
                    break;
                }
            }
        }
        // With a `runuser` wrapper, mariadbd is its child: wait until it is gone too.
        if let Some(pid) = pid {
            let stat = format!("/proc/{pid}/stat");
            let deadline = Instant::now() + Duration::from_secs(10);
            while Instant::now() < deadline
                && std::fs::read_to_string(&stat).is_ok_and(|s| s.contains("(mariadbd)") && !s.contains(") Z"))
            {
                std::thread::sleep(Duration::from_millis(20));
            }
        }
        let _ = self.as_mysql;
        let _ = std::fs::remove_dir_all(self.dir.path());
    }
}
