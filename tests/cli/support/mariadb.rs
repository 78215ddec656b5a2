//! Throwaway MariaDB servers for integration tests.
//!
//! [`MariaDb::start`] gives a brand-new server its own data directory in a
//! temporary directory, starts it on a free TCP port of `127.0.0.1` and waits
//! until it accepts connections. Dropping the [`MariaDb`] stops the server
//! (`SIGTERM`, then `SIGKILL` after 10 s) and deletes the directory. `Drop`
//! also runs while a failing test unwinds, so a panicking test does not leak
//! a server.
//!
//! ```ignore
//! let db = MariaDb::start();
//! let url = db.create_database("app");            // mysql://root:…@127.0.0.1:PORT/app
//! db.sql("app", "CREATE TABLE t (id int); INSERT INTO t VALUES (1);");
//! assert_eq!(db.sql("app", "SELECT count(*) FROM t"), "1");
//! ```
//!
//! # What the server looks like
//!
//! * user `root` at `localhost` and at `127.0.0.1`, with password
//!   [`MARIADB_PASSWORD`] (`mysql_native_password`), and no other account
//!   but MariaDB's locked `mariadb.sys`; no `test` database;
//! * `--bind-address=127.0.0.1`, a port picked by binding port 0,
//!   `--skip-name-resolve`; the Unix socket, pid file, error log and tmpdir
//!   live inside the temporary directory, so servers never collide on
//!   `/run/mysqld`;
//! * started with `--no-defaults`: `/etc/mysql` and `~/.my.cnf` are ignored;
//! * `utf8mb4` / `utf8mb4_unicode_ci`, `--local-infile=1`, time zone
//!   `+00:00`, the server's default `sql_mode`
//!   (`STRICT_TRANS_TABLES,ERROR_FOR_DIVISION_BY_ZERO,NO_AUTO_CREATE_USER,NO_ENGINE_SUBSTITUTION`
//!   on 10.11), no binary log, and durability traded for speed
//!   (`innodb_flush_log_at_trx_commit=0`, no doublewrite, 64M buffer pool,
//!   16M redo log).
//!
//! # Fast start: one template per machine
//!
//! `mariadb-install-db` (about 1 s) runs once, into a template data
//! directory kept in `$CARGO_TARGET_TMPDIR` (`target/tmp/mariadb-template-<key>`,
//! the key hashing the binaries' size and mtime, the install options and
//! whether we are root), already holding the passwords. Each server starts
//! from a copy of it (50 to 100 ms), so a start costs about 0.4 s, most of
//! it `mariadbd`'s own boot; only the first start on a machine pays for the
//! install. Stopping (a clean `SIGTERM` shutdown) takes about 0.3 s. The
//! template is built in a staging directory and renamed into place, so
//! concurrent test processes never see half a template; `cargo clean`
//! removes it.
//!
//! # Which binaries
//!
//! `mariadbd` is `/usr/sbin/mariadbd` or the first on `PATH`;
//! `mariadb-install-db` and the `mariadb` client are taken from `PATH` (or
//! `/usr/bin`). Debian: `apt-get install mariadb-server mariadb-client`
//! (`cargo xtask test` does it).
//!
//! # Running as root
//!
//! `mariadbd` refuses to run as root. When the test process is root (as in a
//! container), the directories are handed to the `mysql` OS user and
//! `mariadb-install-db`/`mariadbd` run through `runuser -u mysql --` (or
//! `setpriv` when `runuser` is missing). Otherwise they run as the current
//! user. The template is installed with
//! `--auth-root-authentication-method=normal`, so `root` is an ordinary
//! password account: the `unix_socket` plugin, which would tie the account
//! to the OS user running the client, is not involved. Clients always run as
//! the current user and connect over TCP with the password given in
//! `MYSQL_PWD` (never on the command line).
//!
//! # Failures
//!
//! Every failure panics with the command, its exit status and its stderr
//! (and the server log when the server would not start). A test that needs
//! MariaDB fails when it cannot get one; it never skips silently.
//!
//! # Parallelism
//!
//! Each server has its own directory, port and socket; servers share only
//! the read-only template, so tests may start them from many threads. The
//! port is probed and released before the server binds it; if another
//! process takes it in between, the start is retried on a fresh port
//! (readiness is checked with `SELECT @@socket`, so a stranger on the port
//! is never mistaken for our server).
//!
//! A process killed by a signal (e.g. Ctrl-C on `cargo test`) runs no
//! destructors: its servers keep running, in `$TMPDIR/.tmp-mariadb-*`,
//! until killed (`kill $(cat <dir>/mariadbd.pid)`).
#![allow(dead_code)]

use std::fmt::Write as _;
use std::fs::File;
use std::hash::{Hash, Hasher};
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant, UNIX_EPOCH};

use tempfile::TempDir;

/// Password of `root` (at `localhost` and `127.0.0.1`) on every [`MariaDb`].
pub const MARIADB_PASSWORD: &str = "s3cr3t-Pa55";

/// The account every URL and client uses.
const USER: &str = "root";
/// The OS user the server runs as when we are root.
const OS_USER: &str = "mysql";
/// How long the server may take to start and accept connections.
const START_TIMEOUT: Duration = Duration::from_secs(60);
/// How long `mariadb-install-db` may take.
const INSTALL_TIMEOUT: Duration = Duration::from_secs(120);
/// How long one `mariadb` client run may take before it is killed and reported.
const CLIENT_TIMEOUT: Duration = Duration::from_secs(120);
/// How long the server may take to exit after `SIGTERM` before `SIGKILL`.
const STOP_TIMEOUT: Duration = Duration::from_secs(10);
/// Starts tried (each on a new port) when the port was taken meanwhile.
const START_ATTEMPTS: u32 = 5;
/// Longest Unix socket path (`sun_path` is 108 bytes with the final NUL).
const MAX_SOCKET_PATH: usize = 107;

/// Settings given to both `mariadb-install-db` (so the template's files have
/// the sizes the server expects) and `mariadbd`.
const ENGINE_OPTIONS: &[&str] = &[
    "--skip-log-bin",
    "--innodb-buffer-pool-size=64M",
    "--innodb-log-file-size=16M",
    "--innodb-flush-log-at-trx-commit=0",
    "--innodb-doublewrite=0",
    "--character-set-server=utf8mb4",
    "--collation-server=utf8mb4_unicode_ci",
];

/// Run by `mariadb-install-db` (`--extra-file`) after the system tables:
/// keeps `root` at `localhost` and `127.0.0.1` only, with the password.
const ACCOUNTS_SQL: &str = "\
DELETE FROM mysql.global_priv WHERE user = 'root' AND host NOT IN ('localhost', '127.0.0.1');
DELETE FROM mysql.proxies_priv WHERE host NOT IN ('localhost', '127.0.0.1');
FLUSH PRIVILEGES;
ALTER USER 'root'@'localhost' IDENTIFIED BY 's3cr3t-Pa55';
ALTER USER 'root'@'127.0.0.1' IDENTIFIED BY 's3cr3t-Pa55';
";

/// Environment variables that would redirect the client or the server tools.
const MARIADB_ENV_VARS: &[&str] = &[
    "MYSQL_HOST",
    "MYSQL_TCP_PORT",
    "MYSQL_UNIX_PORT",
    "MYSQL_PWD",
    "MYSQL_HOME",
    "MARIADB_HOME",
    "MYSQL_HISTFILE",
    "MYSQL_PS1",
    "MYSQL_TEST_LOGIN_FILE",
    "MYSQL_GROUP_SUFFIX",
    "MARIADB_GROUP_SUFFIX",
    "LIBMYSQL_PLUGIN_DIR",
    "LIBMYSQL_PLUGINS",
    "MARIADB_PLUGIN_DIR",
    "TZ",
];

/// The binaries used, found once per process.
struct Bins {
    mariadbd: PathBuf,
    install_db: PathBuf,
    client: PathBuf,
}

/// A running, throwaway MariaDB server. See the [module docs](self).
pub struct MariaDb {
    /// Root of the temporary directory (socket, pid file, logs, tmpdir).
    root: PathBuf,
    /// `root/data`, the `--datadir`.
    data: PathBuf,
    socket: PathBuf,
    pid_file: PathBuf,
    /// Whether server tools run as the `mysql` OS user.
    as_mysql: bool,
    port: u16,
    /// The `mariadbd` process (or its `runuser` wrapper) while it runs.
    server: Option<Child>,
    /// Declared last so the directory is deleted after `drop` stopped the server.
    dir: TempDir,
}

impl MariaDb {
    /// Creates, starts and waits for a new server. Panics (with the
    /// command's stderr or the server log) if any step fails.
    pub fn start() -> MariaDb {
        let template = template();
        let (dir, as_mysql) = make_root_dir();
        let root = dir.path().to_path_buf();
        let data = root.join("data");
        copy_tree(template, &data);
        if as_mysql {
            chown_mysql(&data, true);
        }
        let mut server = MariaDb {
            socket: root.join("mysqld.sock"),
            pid_file: root.join("mariadbd.pid"),
            data,
            root,
            as_mysql,
            port: 0,
            server: None,
            dir,
        };
        // From here on, a panic drops `server`, which stops any process.
        server.start_server();
        server
    }

    /// The TCP port the server listens on (on `127.0.0.1`).
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The server's Unix socket (inside the temporary directory).
    pub fn socket(&self) -> &Path {
        &self.socket
    }

    /// `mysql://root:<MARIADB_PASSWORD>@127.0.0.1:<port>/<db>`.
    pub fn url(&self, db: &str) -> String {
        format!(
            "mysql://{USER}:{MARIADB_PASSWORD}@127.0.0.1:{}/{}",
            self.port,
            percent_encode(db)
        )
    }

    /// Creates database `name` (`utf8mb4`, `utf8mb4_unicode_ci` like the server: a bare
    /// `CHARACTER SET utf8mb4` would give the charset's default, `utf8mb4_general_ci`) and
    /// returns its URL.
    pub fn create_database(&self, name: &str) -> String {
        self.sql(
            "",
            &format!(
                "CREATE DATABASE {} CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;",
                quote_ident(name)
            ),
        );
        self.url(name)
    }

    /// Runs `sql` (one or more `;`-separated statements, fed as a script) in
    /// database `db` (`""`: no default database) with the `mariadb` client,
    /// returning the trimmed output (`--batch --skip-column-names`: one row
    /// per line, columns separated by tabs). Panics with the client's stderr
    /// on failure.
    pub fn sql(&self, db: &str, sql: &str) -> String {
        match self.try_sql(db, sql) {
            Ok(out) => out,
            Err(err) => panic!("MariaDb::sql failed in database {db:?}\nSQL:\n{sql}\n{err}"),
        }
    }

    /// Like [`sql`](Self::sql), but returns the client's trimmed stderr (or
    /// a description of the failure) as `Err` instead of panicking.
    pub fn try_sql(&self, db: &str, sql: &str) -> Result<String, String> {
        self.client_sql(db, sql, MARIADB_PASSWORD, CLIENT_TIMEOUT)
    }

    // ----------------------------------------------------------------------

    /// Runs the `mariadb` client over TCP as `root` with `password`.
    fn client_sql(&self, db: &str, sql: &str, password: &str, timeout: Duration) -> Result<String, String> {
        let mut cmd = Command::new(&bins().client);
        // `--no-defaults` must come first.
        cmd.args(["--no-defaults", "--protocol=TCP", "--host=127.0.0.1"])
            .arg(format!("--port={}", self.port))
            .arg(format!("--user={USER}"))
            .args([
                "--batch",
                "--skip-column-names",
                "--connect-timeout=10",
                "--default-character-set=utf8mb4",
            ]);
        if !db.is_empty() {
            cmd.arg(format!("--database={db}"));
        }
        clean_env(&mut cmd);
        cmd.env("MYSQL_PWD", password);
        let out = run(&mut cmd, Some(sql.as_bytes()), timeout);
        match out.status {
            Some(s) if s.success() => Ok(out.stdout.trim().to_string()),
            _ => {
                let stderr = out.stderr.trim();
                if stderr.is_empty() {
                    Err(format!("mariadb failed ({}) with no stderr", out.describe_status()))
                } else {
                    Err(stderr.to_string())
                }
            }
        }
    }

    /// Starts `mariadbd` on a free port, retrying on a fresh port if the
    /// chosen one was taken meanwhile, and waits until it answers.
    fn start_server(&mut self) {
        let deadline = Instant::now() + START_TIMEOUT;
        let mut failures = String::new();
        for attempt in 1..=START_ATTEMPTS {
            self.port = free_port();
            let log = self.root.join(format!("server-{attempt}.log"));
            let out_path = self.root.join(format!("server-{attempt}.out"));
            let out = File::create(&out_path)
                .unwrap_or_else(|e| panic!("MariaDb: cannot create {}: {e}", out_path.display()));
            let err = out
                .try_clone()
                .unwrap_or_else(|e| panic!("MariaDb: cannot clone a file handle: {e}"));

            let mut cmd = self.server_command(&bins().mariadbd);
            cmd.arg("--no-defaults")
                .arg(format!("--datadir={}", self.data.display()))
                .arg(format!("--socket={}", self.socket.display()))
                .arg(format!("--pid-file={}", self.pid_file.display()))
                .arg(format!("--log-error={}", log.display()))
                .arg(format!("--tmpdir={}", self.root.display()))
                .arg(format!("--port={}", self.port))
                .args([
                    "--bind-address=127.0.0.1",
                    "--skip-name-resolve",
                    "--local-infile=1",
                    "--default-time-zone=+00:00",
                ])
                .args(ENGINE_OPTIONS)
                .stdin(Stdio::null())
                .stdout(out)
                .stderr(err);
            let child = cmd
                .spawn()
                .unwrap_or_else(|e| panic!("MariaDb: cannot run {}: {e}", describe_command(&cmd)));
            self.server = Some(child);

            match self.wait_until_ready(deadline) {
                Ok(()) => return,
                Err(why) => {
                    // The server is gone (or was killed): describe and maybe retry.
                    let log_text = std::fs::read_to_string(&log).unwrap_or_default();
                    let out_text = std::fs::read_to_string(&out_path).unwrap_or_default();
                    let _ = write!(
                        failures,
                        "\n--- attempt {attempt}, port {}: {why}\n--- command: {}\n--- stdout/stderr:\n{}\n--- server log {}:\n{}",
                        self.port,
                        describe_command(&cmd),
                        out_text.trim_end(),
                        log.display(),
                        log_text.trim_end()
                    );
                    let port_taken =
                        log_text.contains("Address already in use") || log_text.contains("Bind on TCP/IP port");
                    if !port_taken || Instant::now() >= deadline {
                        break;
                    }
                }
            }
        }
        self.stop();
        panic!("MariaDb: the MariaDB server did not start:{failures}");
    }

    /// Polls until the server answers `SELECT @@socket` with its own socket
    /// over TCP. `Err` when the server exited (it is then reaped) or the
    /// deadline passed (it is then stopped).
    fn wait_until_ready(&mut self, deadline: Instant) -> Result<(), String> {
        let addr = SocketAddr::from(([127, 0, 0, 1], self.port));
        let expected = self.socket.to_string_lossy().into_owned();
        let mut last = String::from("no answer yet");
        loop {
            let child = self.server.as_mut().expect("server child");
            match child.try_wait() {
                Ok(Some(status)) => {
                    self.server = None;
                    return Err(format!("mariadbd exited ({status}) before accepting connections"));
                }
                Ok(None) => {}
                Err(e) => return Err(format!("cannot wait for mariadbd: {e}")),
            }
            // Cheap probe first; the client only once the port answers. The
            // client gets a short leash: a stranger holding the port (our
            // server then exits) may accept and never greet.
            if TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_ok() {
                match self.client_sql("", "SELECT @@socket", MARIADB_PASSWORD, Duration::from_secs(3)) {
                    Ok(socket) if socket == expected => return Ok(()),
                    Ok(other) => last = format!("port {} answered by another server (socket {other})", self.port),
                    Err(e) => last = e,
                }
            }
            if Instant::now() >= deadline {
                self.stop();
                return Err(format!("not ready after {START_TIMEOUT:?}; last error: {last}"));
            }
            thread::sleep(Duration::from_millis(20));
        }
    }

    /// A command for a server tool: run as the `mysql` OS user when we are root.
    fn server_command(&self, exe: &Path) -> Command {
        server_command(exe, self.as_mysql, &self.root)
    }

    /// Stops the server, if running: `SIGTERM` to the pid in the pid file
    /// (else to the child), `SIGKILL` after [`STOP_TIMEOUT`]. Never panics.
    fn stop(&mut self) {
        let Some(mut child) = self.server.take() else {
            return;
        };
        let pid = std::fs::read_to_string(&self.pid_file)
            .ok()
            .and_then(|s| s.trim().parse::<u32>().ok());
        // Without a pid file, the child (`runuser` forwards the signal).
        let target = pid.unwrap_or_else(|| child.id());
        if let Ok(None) = child.try_wait() {
            send_signal(target, "TERM");
        }
        let deadline = Instant::now() + STOP_TIMEOUT;
        loop {
            match child.try_wait() {
                Ok(Some(_)) => break,
                Ok(None) if Instant::now() < deadline => thread::sleep(Duration::from_millis(10)),
                _ => {
                    eprintln!(
                        "MariaDb: server {target} in {} still running {STOP_TIMEOUT:?} after SIGTERM: SIGKILL",
                        self.root.display()
                    );
                    send_signal(target, "KILL");
                    let _ = child.kill();
                    let _ = child.wait();
                    break;
                }
            }
        }
        // With a `runuser` wrapper, mariadbd is its child: make sure it is gone too.
        if let Some(pid) = pid {
            wait_for_exit(pid, Duration::from_secs(5));
        }
    }
}

impl Drop for MariaDb {
    /// Stops the server; the directory is deleted afterwards by `TempDir`.
    fn drop(&mut self) {
        self.stop();
        // `self.dir` (TempDir) is dropped after this and deletes the files.
    }
}

// --------------------------------------------------------------------------
// Template

/// The binaries, found once (panics with what is missing).
fn bins() -> &'static Bins {
    static BINS: OnceLock<Bins> = OnceLock::new();
    BINS.get_or_init(|| {
        let find = |name: &str, extra: &[&str]| -> PathBuf {
            extra
                .iter()
                .map(PathBuf::from)
                .find(|p| p.is_file())
                .or_else(|| find_in_path(name))
                .unwrap_or_else(|| {
                    panic!(
                        "MariaDb: {name} not found (looked in {extra:?} and on PATH); \
                         install it (Debian: apt-get install mariadb-server mariadb-client)"
                    )
                })
        };
        Bins {
            mariadbd: find("mariadbd", &["/usr/sbin/mariadbd"]),
            install_db: find("mariadb-install-db", &[]),
            client: find("mariadb", &[]),
        }
    })
}

/// The template data directory (see the module docs), made once per process
/// at most. A panic while making it propagates, and the next caller retries.
fn template() -> &'static Path {
    static TEMPLATE: OnceLock<PathBuf> = OnceLock::new();
    TEMPLATE.get_or_init(make_template)
}

/// Finds or builds `$CARGO_TARGET_TMPDIR/mariadb-template-<key>/data`.
fn make_template() -> PathBuf {
    let cache = PathBuf::from(env!("CARGO_TARGET_TMPDIR"));
    let final_dir = cache.join(format!("mariadb-template-{:016x}", template_key()));
    let ready = |dir: &Path| dir.join("ready").is_file() && dir.join("data").is_dir();
    if ready(&final_dir) {
        return final_dir.join("data");
    }

    // Install into a directory the server's OS user can write...
    let (work, as_mysql) = make_root_dir();
    let extra = work.path().join("accounts.sql");
    std::fs::write(&extra, ACCOUNTS_SQL).unwrap_or_else(|e| panic!("MariaDb: cannot write {}: {e}", extra.display()));
    let data = work.path().join("data");
    let mut cmd = server_command(&bins().install_db, as_mysql, work.path());
    cmd.arg("--no-defaults")
        .arg(format!("--datadir={}", data.display()))
        .args([
            "--skip-test-db",
            "--auth-root-authentication-method=normal",
            "--skip-name-resolve",
        ])
        .arg(format!("--extra-file={}", extra.display()))
        .args(ENGINE_OPTIONS)
        .env("TMPDIR", work.path());
    let out = run(&mut cmd, None, INSTALL_TIMEOUT);
    out.expect_success("mariadb-install-db", &cmd);

    // ... then publish it atomically: copy to a staging directory, mark it, rename.
    std::fs::create_dir_all(&cache).unwrap_or_else(|e| panic!("MariaDb: cannot create {}: {e}", cache.display()));
    let staging = tempfile::Builder::new()
        .prefix(".mariadb-template-staging-")
        .tempdir_in(&cache)
        .unwrap_or_else(|e| panic!("MariaDb: cannot create a directory in {}: {e}", cache.display()));
    copy_tree(&data, &staging.path().join("data"));
    std::fs::write(staging.path().join("ready"), "")
        .unwrap_or_else(|e| panic!("MariaDb: cannot write in {}: {e}", staging.path().display()));
    let staged = staging.keep();
    if std::fs::rename(&staged, &final_dir).is_err() {
        // Another process published one first (or the rename failed): use
        // theirs if it is complete.
        let _ = std::fs::remove_dir_all(&staged);
        assert!(
            ready(&final_dir),
            "MariaDb: cannot publish the template in {}",
            final_dir.display()
        );
    }
    final_dir.join("data")
}

/// Hash of what the template depends on: binaries, options, accounts, uid.
fn template_key() -> u64 {
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    for exe in [&bins().mariadbd, &bins().install_db] {
        exe.hash(&mut hasher);
        if let Ok(meta) = std::fs::metadata(exe) {
            meta.len().hash(&mut hasher);
            meta.modified()
                .ok()
                .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
                .hash(&mut hasher);
        }
    }
    ENGINE_OPTIONS.hash(&mut hasher);
    ACCOUNTS_SQL.hash(&mut hasher);
    process_is_root().hash(&mut hasher);
    hasher.finish()
}

/// Copies the directory tree `from` to `to` (which must not exist), keeping
/// the permission bits. Files are owned by the current user.
fn copy_tree(from: &Path, to: &Path) {
    let fail =
        |what: &str, path: &Path, e: std::io::Error| -> ! { panic!("MariaDb: cannot {what} {}: {e}", path.display()) };
    std::fs::create_dir(to).unwrap_or_else(|e| fail("create", to, e));
    let entries = std::fs::read_dir(from).unwrap_or_else(|e| fail("read", from, e));
    for entry in entries {
        let entry = entry.unwrap_or_else(|e| fail("read", from, e));
        let (src, dst) = (entry.path(), to.join(entry.file_name()));
        let kind = entry.file_type().unwrap_or_else(|e| fail("stat", &src, e));
        if kind.is_dir() {
            copy_tree(&src, &dst);
        } else {
            std::fs::copy(&src, &dst).unwrap_or_else(|e| fail("copy", &src, e));
        }
    }
    let perms = std::fs::metadata(from)
        .unwrap_or_else(|e| fail("stat", from, e))
        .permissions();
    std::fs::set_permissions(to, perms).unwrap_or_else(|e| fail("chmod", to, e));
}

// --------------------------------------------------------------------------
// Helpers

/// Whether this process runs as root.
fn process_is_root() -> bool {
    static ROOT: OnceLock<bool> = OnceLock::new();
    *ROOT.get_or_init(|| {
        let probe = tempfile::tempfile().unwrap_or_else(|e| panic!("MariaDb: cannot create a temporary file: {e}"));
        probe
            .metadata()
            .unwrap_or_else(|e| panic!("MariaDb: cannot stat a temporary file: {e}"))
            .uid()
            == 0
    })
}

/// Creates the temporary root directory. Returns it and whether the server
/// tools must run as `mysql` (true when this process is root).
fn make_root_dir() -> (TempDir, bool) {
    let make = |parent: Option<&str>| {
        let mut builder = tempfile::Builder::new();
        builder.prefix(".tmp-mariadb-");
        match parent {
            Some(parent) => builder.tempdir_in(parent),
            None => builder.tempdir(),
        }
        .unwrap_or_else(|e| panic!("MariaDb: cannot create a temporary directory: {e}"))
    };
    let as_mysql = process_is_root();
    let usable = |dir: &TempDir| {
        // Room for `/mysqld.sock` in a Unix socket path.
        let short = dir.path().as_os_str().len() + "/mysqld.sock".len() <= MAX_SOCKET_PATH;
        short && (!as_mysql || mysql_can_write(dir.path()))
    };
    let dir = make(None);
    if as_mysql {
        chown_mysql(dir.path(), false);
    }
    if usable(&dir) {
        return (dir, as_mysql);
    }
    // $TMPDIR is too deep for a socket, or under a directory only root can
    // enter: fall back to /tmp.
    let dir = make(Some("/tmp"));
    if as_mysql {
        chown_mysql(dir.path(), false);
    }
    assert!(
        usable(&dir),
        "MariaDb: {} is unusable (socket path too long, or the mysql OS user cannot write to it)",
        dir.path().display()
    );
    (dir, as_mysql)
}

/// Whether the `mysql` OS user can write into `dir`.
fn mysql_can_write(dir: &Path) -> bool {
    let mut cmd = as_mysql_command(Path::new("test"));
    cmd.arg("-w").arg(dir).current_dir("/");
    run(&mut cmd, None, Duration::from_secs(30)).success()
}

/// `chown [-R] mysql: path`, panicking with chown's stderr on failure.
fn chown_mysql(path: &Path, recursive: bool) {
    let mut cmd = Command::new("chown");
    if recursive {
        cmd.arg("-R");
    }
    cmd.arg(format!("{OS_USER}:")).arg(path);
    run(&mut cmd, None, Duration::from_secs(30)).expect_success("chown", &cmd);
}

/// A command running `exe` as the `mysql` OS user (we are root).
fn as_mysql_command(exe: &Path) -> Command {
    let mut cmd;
    if let Some(runuser) = find_in_path("runuser") {
        cmd = Command::new(runuser);
        cmd.args(["-u", OS_USER, "--"]);
    } else if let Some(setpriv) = find_in_path("setpriv") {
        cmd = Command::new(setpriv);
        cmd.args(["--reuid=mysql", "--regid=mysql", "--init-groups", "--"]);
    } else {
        panic!("MariaDb: running as root, but neither runuser nor setpriv is on PATH");
    }
    cmd.arg(exe);
    cmd
}

/// A command for a server tool, as `mysql` when `as_mysql`, in `dir` (the
/// current directory may be unreadable for `mysql`).
fn server_command(exe: &Path, as_mysql: bool, dir: &Path) -> Command {
    let mut cmd = if as_mysql {
        as_mysql_command(exe)
    } else {
        Command::new(exe)
    };
    cmd.current_dir(dir);
    clean_env(&mut cmd);
    cmd
}

/// Removes the variables that could redirect a client or server tool.
fn clean_env(cmd: &mut Command) {
    for var in MARIADB_ENV_VARS {
        cmd.env_remove(var);
    }
}

/// `kill -s SIGNAL pid`, ignoring failures (the process may be gone).
fn send_signal(pid: u32, signal: &str) {
    let mut cmd = Command::new("kill");
    cmd.args(["-s", signal, &pid.to_string()]);
    let _ = run(&mut cmd, None, Duration::from_secs(10));
}

/// Waits (at most `timeout`) until process `pid` has exited, i.e. is gone
/// from `/proc` or is a zombie waiting for its parent to reap it; then
/// `SIGKILL`s it if it is still there. Without `/proc` it returns at once.
fn wait_for_exit(pid: u32, timeout: Duration) {
    let deadline = Instant::now() + timeout;
    let stat = PathBuf::from(format!("/proc/{pid}/stat"));
    while Instant::now() < deadline {
        let Ok(text) = std::fs::read_to_string(&stat) else {
            return;
        };
        // `pid (comm) S …`: the state follows the last ')'.
        let state = text.rsplit(')').next().and_then(|rest| rest.split_whitespace().next());
        if matches!(state, Some("Z" | "X")) || !text.contains("(mariadbd)") {
            return;
        }
        thread::sleep(Duration::from_millis(10));
    }
    eprintln!("MariaDb: mariadbd {pid} still running {timeout:?} after its wrapper exited: SIGKILL");
    send_signal(pid, "KILL");
}

/// The first `name` on `PATH`.
fn find_in_path(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(name))
        .find(|p| p.is_file())
}

/// A TCP port on 127.0.0.1 that was free a moment ago.
fn free_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap_or_else(|e| panic!("MariaDb: cannot bind 127.0.0.1:0: {e}"));
    listener
        .local_addr()
        .unwrap_or_else(|e| panic!("MariaDb: cannot read the bound port: {e}"))
        .port()
}

/// SQL identifier quoting: `` `na``me` ``.
fn quote_ident(name: &str) -> String {
    format!("`{}`", name.replace('`', "``"))
}

/// Percent-encodes everything but RFC 3986 unreserved characters.
fn percent_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(b as char);
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
    out
}

/// What a finished (or killed) command produced.
struct Output {
    /// `None` when the command was killed after its timeout or not started.
    status: Option<ExitStatus>,
    stdout: String,
    stderr: String,
    /// Why there is no status.
    error: Option<String>,
}

impl Output {
    fn success(&self) -> bool {
        self.status.is_some_and(|s| s.success())
    }

    fn describe_status(&self) -> String {
        match (&self.status, &self.error) {
            (Some(s), _) => s.to_string(),
            (None, Some(e)) => e.clone(),
            (None, None) => "no exit status".to_string(),
        }
    }

    fn stdout_and_stderr(&self) -> String {
        format!(
            "--- stdout:\n{}\n--- stderr:\n{}",
            self.stdout.trim_end(),
            self.stderr.trim_end()
        )
    }

    fn expect_success(&self, what: &str, cmd: &Command) {
        assert!(
            self.success(),
            "MariaDb: {what} failed ({}): {}\n{}",
            self.describe_status(),
            describe_command(cmd),
            self.stdout_and_stderr()
        );
    }
}

/// `program arg arg …`, for messages.
fn describe_command(cmd: &Command) -> String {
    let mut s = cmd.get_program().to_string_lossy().into_owned();
    for arg in cmd.get_args() {
        s.push(' ');
        s.push_str(&arg.to_string_lossy());
    }
    s
}

/// Runs `cmd` with `input` on stdin, capturing stdout and stderr; kills it
/// after `timeout`. Never panics: spawn errors and timeouts land in `error`.
fn run(cmd: &mut Command, input: Option<&[u8]>, timeout: Duration) -> Output {
    cmd.stdin(if input.is_some() { Stdio::piped() } else { Stdio::null() })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = match cmd.spawn() {
        Ok(child) => child,
        Err(e) => {
            return Output {
                status: None,
                stdout: String::new(),
                stderr: String::new(),
                error: Some(format!("cannot run {}: {e}", describe_command(cmd))),
            };
        }
    };
    if let (Some(mut stdin), Some(input)) = (child.stdin.take(), input) {
        let input = input.to_vec();
        // Detached: ignores EPIPE if the command exits without reading all,
        // and ends when the pipe closes.
        thread::spawn(move || {
            let _ = stdin.write_all(&input);
        });
    }
    let stdout = read_all(child.stdout.take().map(|p| Box::new(p) as Box<dyn Read + Send>));
    let stderr = read_all(child.stderr.take().map(|p| Box::new(p) as Box<dyn Read + Send>));

    let deadline = Instant::now() + timeout;
    let mut error = None;
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break Some(status),
            Ok(None) if Instant::now() >= deadline => {
                let _ = child.kill();
                let _ = child.wait();
                error = Some(format!("killed after {timeout:?}"));
                break None;
            }
            Ok(None) => thread::sleep(Duration::from_millis(5)),
            Err(e) => {
                let _ = child.kill();
                let _ = child.wait();
                error = Some(format!("cannot wait for the command: {e}"));
                break None;
            }
        }
    };
    // A grandchild that inherited the pipes (e.g. the child of a killed
    // `runuser`) would keep them open forever: wait a bounded time only.
    let collect = |rx: mpsc::Receiver<String>| {
        rx.recv_timeout(Duration::from_secs(5))
            .unwrap_or_else(|_| "<output not closed: a child process still holds it>".to_string())
    };
    Output {
        status,
        stdout: collect(stdout),
        stderr: collect(stderr),
        error,
    }
}

/// Reads `pipe` to its end on a thread; the text arrives on the receiver.
fn read_all(pipe: Option<Box<dyn Read + Send>>) -> mpsc::Receiver<String> {
    let (tx, rx) = mpsc::channel();
    thread::spawn(move || {
        let mut buf = Vec::new();
        if let Some(mut pipe) = pipe {
            let _ = pipe.read_to_end(&mut buf);
        }
        let _ = tx.send(String::from_utf8_lossy(&buf).into_owned());
    });
    rx
}

// --------------------------------------------------------------------------
// Self-test

/// Starts a server, exercises it, and runs a second one in parallel.
#[test]
fn mariadb_starts_and_answers() {
    static STARTS: AtomicU64 = AtomicU64::new(0);
    let exercise = |name: &'static str| {
        let t0 = Instant::now();
        let db = MariaDb::start();
        let ms = t0.elapsed().as_millis() as u64;
        STARTS.fetch_add(1, Ordering::Relaxed);
        eprintln!("MariaDb ({name}): started on port {} in {ms} ms", db.port());

        let url = db.create_database("app");
        assert_eq!(
            url,
            format!("mysql://root:{MARIADB_PASSWORD}@127.0.0.1:{}/app", db.port())
        );
        assert_eq!(db.url("app"), url);
        db.sql(
            "app",
            "CREATE TABLE t (id INT PRIMARY KEY AUTO_INCREMENT, name VARCHAR(50) NOT NULL);\n\
             INSERT INTO t (name) VALUES ('a'), ('été'), ('c');",
        );
        assert_eq!(db.sql("app", "SELECT count(*) FROM t"), "3");
        assert_eq!(db.sql("app", "SELECT name FROM t WHERE id = 2"), "été");
        assert_eq!(db.sql("app", "SELECT id, name FROM t ORDER BY id LIMIT 1"), "1\ta");
        assert_eq!(
            db.sql(
                "",
                "SELECT default_character_set_name, default_collation_name FROM information_schema.schemata \
                 WHERE schema_name = 'app'"
            ),
            "utf8mb4\tutf8mb4_unicode_ci"
        );
        // Over TCP, as root@127.0.0.1, with the password.
        assert_eq!(
            db.sql(
                "app",
                "SELECT CURRENT_USER(), @@port, @@bind_address, @@local_infile, @@time_zone"
            ),
            format!("root@127.0.0.1\t{}\t127.0.0.1\t1\t+00:00", db.port())
        );
        assert_eq!(db.sql("", "SELECT @@socket"), db.socket().to_string_lossy());
        let wrong = db.client_sql("app", "SELECT 1", "wrong", Duration::from_secs(30));
        assert!(
            wrong.as_ref().is_err_and(|e| e.contains("Access denied")),
            "a wrong password was accepted: {wrong:?}"
        );
        let accounts = db.sql("", "SELECT CONCAT(user, '@', host) FROM mysql.user ORDER BY 1");
        assert_eq!(accounts, "mariadb.sys@localhost\nroot@127.0.0.1\nroot@localhost");
        // The TCP port speaks the MySQL protocol (server greeting: protocol 10).
        let mut stream = TcpStream::connect(("127.0.0.1", db.port())).unwrap();
        stream.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        let mut greeting = [0u8; 5];
        stream.read_exact(&mut greeting).unwrap();
        assert_eq!(greeting[4], 10, "not a MySQL protocol greeting: {greeting:?}");
        let err = db.try_sql("app", "SELECT * FROM missing").unwrap_err();
        assert!(err.contains("doesn't exist"), "{err}");

        let (root, pid_file) = (db.root.clone(), db.pid_file.clone());
        let pid: u32 = std::fs::read_to_string(&pid_file).unwrap().trim().parse().unwrap();
        let t0 = Instant::now();
        drop(db);
        eprintln!("MariaDb ({name}): stopped in {} ms", t0.elapsed().as_millis());
        assert!(!root.exists(), "{} left behind", root.display());
        assert!(
            !Path::new(&format!("/proc/{pid}")).exists(),
            "mariadbd {pid} still running"
        );
    };

    exercise("first");
    let second = thread::spawn(move || exercise("second"));
    let third = thread::spawn(move || exercise("third"));
    second.join().unwrap();
    third.join().unwrap();
    assert_eq!(STARTS.load(Ordering::Relaxed), 3);
}
