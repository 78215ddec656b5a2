//! Throwaway PostgreSQL clusters for integration tests.
//!
//! [`PgCluster::start`] creates a brand-new cluster in a temporary directory,
//! starts a server for it on a free TCP port of `127.0.0.1` and waits until
//! it accepts connections. Dropping the [`PgCluster`] stops the server
//! (`pg_ctl stop -m immediate`) and deletes the directory. `Drop` also runs
//! while a failing test unwinds, so a panicking test does not leak a server.
//!
//! ```ignore
//! let pg = PgCluster::start();
//! let url = pg.create_database("app");            // postgres://postgres:…@127.0.0.1:PORT/app
//! pg.psql("app", "CREATE TABLE t (id int); INSERT INTO t VALUES (1);");
//! assert_eq!(pg.psql("app", "SELECT count(*) FROM t"), "1");
//! ```
//!
//! # What the cluster looks like
//!
//! * superuser `postgres` with password [`PG_PASSWORD`]; every connection,
//!   over TCP or the Unix socket, must authenticate with `scram-sha-256`;
//! * `listen_addresses = '127.0.0.1'`, a port picked by binding port 0;
//!   the Unix socket lives inside the temporary directory, so clusters never
//!   collide on `/var/run/postgresql`;
//! * `--locale=C`, `UTF8`, `timezone = 'UTC'`, and durability switched off
//!   (`fsync`, `synchronous_commit`, `full_page_writes`) for speed.
//!
//! # Which binaries
//!
//! The server binaries are looked up, in this order, in `$PG_BINDIR`, in the
//! highest `/usr/lib/postgresql/<major>/bin` (Debian/Ubuntu layout), in
//! `pg_config --bindir`, and on `PATH`. Clients (`psql`, `pg_isready`) are
//! taken from the same directory, never from Debian's `pg_wrapper`, which
//! picks a version on its own.
//!
//! # Running as root
//!
//! PostgreSQL refuses to run as root. When the test process is root (as in a
//! container), the directory is handed to the `postgres` OS user and
//! `initdb`/`pg_ctl` run through `runuser -u postgres --` (or `setpriv` when
//! `runuser` is missing). Otherwise the binaries run as the current user.
//! Clients always run as the current user: they connect over TCP with the
//! password given in `PGPASSWORD` (never on the command line).
//!
//! # Failures
//!
//! Every failure panics with the command, its exit status and its stderr
//! (and the server log when the server would not start). A test that needs
//! PostgreSQL fails when it cannot get one; it never skips silently.
//!
//! # Parallelism
//!
//! Each cluster has its own directory, port and socket; nothing is shared
//! between clusters, so tests may start them from many threads. The port is
//! probed and released before the server binds it; if another process takes
//! it in between, the start is retried on a fresh port.
//!
//! A process killed by a signal (e.g. Ctrl-C on `cargo test`) runs no
//! destructors: its servers keep running, in `$TMPDIR/.tmp-pgcluster-*`,
//! until killed (`pg_ctl stop -D <dir>/data -m immediate`).
#![allow(dead_code)]

use std::fmt::Write as _;
use std::io::{Read, Write};
use std::net::TcpListener;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use tempfile::TempDir;

/// Password of the `postgres` superuser of every [`PgCluster`].
pub const PG_PASSWORD: &str = "s3cr3t-Pa55";

/// Superuser name of every [`PgCluster`].
const SUPERUSER: &str = "postgres";
/// How long the server may take to start and accept connections.
const START_TIMEOUT: Duration = Duration::from_secs(60);
/// How long `initdb` may take.
const INITDB_TIMEOUT: Duration = Duration::from_secs(120);
/// How long one `psql` run may take before it is killed and reported.
const PSQL_TIMEOUT: Duration = Duration::from_secs(120);
/// How long `pg_ctl stop` may take.
const STOP_TIMEOUT: Duration = Duration::from_secs(30);
/// Starts tried (each on a new port) when the port was taken meanwhile.
const START_ATTEMPTS: u32 = 5;

/// Environment variables that would redirect libpq or the server tools.
const PG_ENV_VARS: &[&str] = &[
    "PGHOST",
    "PGHOSTADDR",
    "PGPORT",
    "PGUSER",
    "PGDATABASE",
    "PGPASSWORD",
    "PGPASSFILE",
    "PGSERVICE",
    "PGSERVICEFILE",
    "PGOPTIONS",
    "PGSSLMODE",
    "PGREQUIRESSL",
    "PGCONNECT_TIMEOUT",
    "PGTARGETSESSIONATTRS",
    "PGDATA",
    "PGCLUSTER",
    "PGSYSCONFDIR",
    "PSQLRC",
];

/// A running, throwaway PostgreSQL cluster. See the [module docs](self).
pub struct PgCluster {
    /// Root of the temporary directory (also the Unix socket directory).
    root: PathBuf,
    /// `root/data`, the `PGDATA` directory.
    data: PathBuf,
    /// Directory holding `initdb`, `pg_ctl`, `psql`, …
    bin_dir: PathBuf,
    /// Whether server tools must run as the `postgres` OS user.
    as_postgres: bool,
    port: u16,
    /// Declared last so the directory is deleted after `drop` stopped the server.
    dir: TempDir,
}

impl PgCluster {
    /// Creates, starts and waits for a new cluster. Panics (with the
    /// command's stderr or the server log) if any step fails.
    pub fn start() -> PgCluster {
        let bin_dir = find_bin_dir();
        for tool in ["initdb", "pg_ctl", "psql", "pg_isready"] {
            assert!(
                bin_dir.join(tool).is_file(),
                "PgCluster: {} not found in {}",
                tool,
                bin_dir.display()
            );
        }

        let (dir, as_postgres) = make_root_dir();
        let root = dir.path().to_path_buf();
        let mut cluster = PgCluster {
            data: root.join("data"),
            root,
            bin_dir,
            as_postgres,
            port: 0,
            dir,
        };
        // From here on, a panic drops `cluster`, which stops any server.
        cluster.init();
        cluster.start_server();
        cluster
    }

    /// The TCP port the server listens on (on `127.0.0.1`).
    pub fn port(&self) -> u16 {
        self.port
    }

    /// `postgres://postgres:<PG_PASSWORD>@127.0.0.1:<port>/<db>`.
    pub fn url(&self, db: &str) -> String {
        format!(
            "postgres://{SUPERUSER}:{PG_PASSWORD}@127.0.0.1:{}/{}",
            self.port,
            percent_encode(db)
        )
    }

    /// The directory of the PostgreSQL binaries used (`pg_dump`, … live there too).
    pub fn bin_dir(&self) -> &Path {
        &self.bin_dir
    }

    /// Creates database `name` (owned by `postgres`) and returns its URL.
    pub fn create_database(&self, name: &str) -> String {
        self.psql("postgres", &format!("CREATE DATABASE {};", quote_ident(name)));
        self.url(name)
    }

    /// Runs `sql` (one or more `;`-separated statements, fed as a script) in
    /// database `db`, returning the trimmed output (`-A -t`: one row per
    /// line, columns separated by `|`). Panics with psql's stderr on failure.
    pub fn psql(&self, db: &str, sql: &str) -> String {
        match self.try_psql(db, sql) {
            Ok(out) => out,
            Err(err) => panic!("PgCluster::psql failed in database {db:?}\nSQL:\n{sql}\n{err}"),
        }
    }

    /// Like [`psql`](Self::psql), but returns psql's trimmed stderr (or a
    /// description of the failure) as `Err` instead of panicking.
    pub fn try_psql(&self, db: &str, sql: &str) -> Result<String, String> {
        let conninfo = format!(
            "host=127.0.0.1 port={} user={SUPERUSER} dbname={}",
            self.port,
            quote_conninfo(db)
        );
        let mut cmd = self.client_command("psql");
        cmd.args(["-X", "-A", "-t", "-q", "-v", "ON_ERROR_STOP=1", "-f", "-", "-d"])
            .arg(conninfo);
        let out = run(&mut cmd, Some(sql.as_bytes()), PSQL_TIMEOUT);
        match out.status {
            Some(s) if s.success() => Ok(out.stdout.trim().to_string()),
            _ => {
                let stderr = out.stderr.trim();
                if stderr.is_empty() {
                    Err(format!("psql failed ({}) with no stderr", out.describe_status()))
                } else {
                    Err(stderr.to_string())
                }
            }
        }
    }

    // ----------------------------------------------------------------------

    /// Runs `initdb` and writes the server settings.
    fn init(&self) {
        let pwfile = self.root.join("pwfile");
        std::fs::write(&pwfile, format!("{PG_PASSWORD}\n"))
            .unwrap_or_else(|e| panic!("PgCluster: cannot write {}: {e}", pwfile.display()));
        self.give_to_postgres(&pwfile);

        let mut cmd = self.server_command("initdb");
        cmd.arg("-D")
            .arg(&self.data)
            .args([
                "-U",
                SUPERUSER,
                "--auth-host=scram-sha-256",
                "--auth-local=scram-sha-256",
            ])
            .arg(format!("--pwfile={}", pwfile.display()))
            .args(["-E", "UTF8", "--locale=C", "--no-sync"]);
        let out = run(&mut cmd, None, INITDB_TIMEOUT);
        out.expect_success("initdb", &cmd);
        let _ = std::fs::remove_file(&pwfile);

        // The socket directory goes into postgresql.conf rather than onto the
        // pg_ctl command line, which pg_ctl hands to a shell unquoted.
        let settings = format!(
            "\n# added by tests/cli/support/pg.rs\n\
             listen_addresses = '127.0.0.1'\n\
             unix_socket_directories = {}\n\
             fsync = off\n\
             synchronous_commit = off\n\
             full_page_writes = off\n\
             shared_buffers = 16MB\n\
             max_connections = 100\n\
             timezone = 'UTC'\n\
             log_timezone = 'UTC'\n",
            quote_literal(&self.root.to_string_lossy())
        );
        let conf = self.data.join("postgresql.conf");
        std::fs::OpenOptions::new()
            .append(true)
            .open(&conf)
            .and_then(|mut f| f.write_all(settings.as_bytes()))
            .unwrap_or_else(|e| panic!("PgCluster: cannot append to {}: {e}", conf.display()));
    }

    /// Starts the server on a free port, retrying on a fresh port if the
    /// chosen one was taken meanwhile, then waits until it accepts TCP
    /// connections.
    fn start_server(&mut self) {
        let deadline = Instant::now() + START_TIMEOUT;
        let mut failures = String::new();
        for attempt in 1..=START_ATTEMPTS {
            self.port = free_port();
            let log = self.root.join(format!("server-{attempt}.log"));
            let remaining = deadline.saturating_duration_since(Instant::now());
            let secs = remaining.as_secs().max(1);
            let mut cmd = self.server_command("pg_ctl");
            cmd.arg("start")
                .arg("-D")
                .arg(&self.data)
                .arg("-l")
                .arg(&log)
                .args(["-w", "-t"])
                .arg(secs.to_string())
                // Only digits: safe for the shell pg_ctl passes this through.
                .arg("-o")
                .arg(format!("-p {}", self.port));
            let out = run(&mut cmd, None, remaining + Duration::from_secs(10));
            if out.success() {
                self.wait_until_ready(deadline);
                return;
            }
            let log_text = std::fs::read_to_string(&log).unwrap_or_default();
            let _ = write!(
                failures,
                "\n--- attempt {attempt}, port {}: {}\n{}\n--- server log {}:\n{}",
                self.port,
                out.describe_status(),
                out.stdout_and_stderr(),
                log.display(),
                log_text
            );
            let port_taken = log_text.contains("Address already in use") || log_text.contains("could not bind IPv4");
            if !port_taken || Instant::now() >= deadline {
                break;
            }
        }
        panic!("PgCluster: the PostgreSQL server did not start:{failures}");
    }

    /// Polls `pg_isready` over TCP until the server accepts connections.
    fn wait_until_ready(&self, deadline: Instant) {
        loop {
            let mut cmd = self.client_command("pg_isready");
            cmd.args(["-h", "127.0.0.1", "-U", SUPERUSER, "-d", "postgres", "-t", "2", "-p"])
                .arg(self.port.to_string());
            let out = run(&mut cmd, None, Duration::from_secs(10));
            if out.success() {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "PgCluster: server on port {} not ready after {:?}: {}\n{}\n--- server logs:\n{}",
                self.port,
                START_TIMEOUT,
                out.describe_status(),
                out.stdout_and_stderr(),
                self.server_logs()
            );
            thread::sleep(Duration::from_millis(50));
        }
    }

    /// All server logs of this cluster, for panic messages.
    fn server_logs(&self) -> String {
        let mut logs = String::new();
        for attempt in 1..=START_ATTEMPTS {
            let log = self.root.join(format!("server-{attempt}.log"));
            if let Ok(text) = std::fs::read_to_string(&log) {
                let _ = write!(logs, "--- {}:\n{text}", log.display());
            }
        }
        logs
    }

    /// A command for a server tool (`initdb`, `pg_ctl`): run as the
    /// `postgres` OS user when we are root.
    fn server_command(&self, tool: &str) -> Command {
        let exe = self.bin_dir.join(tool);
        let mut cmd = if self.as_postgres {
            as_postgres_command(&exe)
        } else {
            Command::new(&exe)
        };
        // The current directory may be unreadable for `postgres`.
        cmd.current_dir(&self.root);
        clean_env(&mut cmd);
        cmd
    }

    /// A command for a client tool, run as the current user, with the
    /// password in the environment.
    fn client_command(&self, tool: &str) -> Command {
        let mut cmd = Command::new(self.bin_dir.join(tool));
        clean_env(&mut cmd);
        cmd.env("PGPASSWORD", PG_PASSWORD)
            .env("PGSSLMODE", "disable")
            .env("PGCONNECT_TIMEOUT", "10");
        cmd
    }

    /// `chown postgres: path` when the server runs as `postgres`.
    fn give_to_postgres(&self, path: &Path) {
        if self.as_postgres {
            chown_postgres(path);
        }
    }
}

impl Drop for PgCluster {
    /// Stops the server (if any) with `pg_ctl stop -m immediate`; the
    /// temporary directory is removed afterwards. Never panics.
    fn drop(&mut self) {
        let pid_file = self.data.join("postmaster.pid");
        if pid_file.exists() {
            let pid = std::fs::read_to_string(&pid_file)
                .ok()
                .and_then(|s| s.lines().next()?.trim().parse::<u32>().ok());
            let mut cmd = self.server_command("pg_ctl");
            cmd.arg("stop")
                .arg("-D")
                .arg(&self.data)
                .args(["-m", "immediate", "-w", "-t"])
                .arg(STOP_TIMEOUT.as_secs().to_string());
            let out = run(&mut cmd, None, STOP_TIMEOUT + Duration::from_secs(10));
            if !out.success() {
                eprintln!(
                    "PgCluster: pg_ctl stop failed for {} ({}):\n{}",
                    self.data.display(),
                    out.describe_status(),
                    out.stdout_and_stderr()
                );
            }
            // pg_ctl returns once postmaster.pid is gone, which the
            // postmaster removes just before it exits: wait for the exit.
            if let Some(pid) = pid {
                wait_for_exit(pid, Duration::from_secs(10));
            }
        }
        // `self.dir` (TempDir) is dropped after this and deletes the files.
    }
}

// --------------------------------------------------------------------------
// Helpers

/// Waits (at most `timeout`) until process `pid` has exited, i.e. is gone
/// from `/proc` or is a zombie waiting for its parent (init) to reap it.
/// Without `/proc` (not Linux) it returns at once.
fn wait_for_exit(pid: u32, timeout: Duration) {
    let deadline = Instant::now() + timeout;
    let stat = PathBuf::from(format!("/proc/{pid}/stat"));
    while Instant::now() < deadline {
        let Ok(text) = std::fs::read_to_string(&stat) else {
            return;
        };
        // `pid (comm) S …`: the state follows the last ')'.
        let state = text.rsplit(')').next().and_then(|rest| rest.split_whitespace().next());
        if matches!(state, Some("Z" | "X")) {
            return;
        }
        thread::sleep(Duration::from_millis(10));
    }
    eprintln!("PgCluster: postmaster {pid} still running {timeout:?} after pg_ctl stop");
}

/// Creates the temporary root directory. Returns it and whether the server
/// tools must run as `postgres` (true when this process is root).
fn make_root_dir() -> (TempDir, bool) {
    let dir = tempfile::Builder::new()
        .prefix(".tmp-pgcluster-")
        .tempdir()
        .unwrap_or_else(|e| panic!("PgCluster: cannot create a temporary directory: {e}"));
    // A new directory belongs to our effective uid: root iff uid 0.
    let is_root = dir
        .path()
        .metadata()
        .unwrap_or_else(|e| panic!("PgCluster: cannot stat {}: {e}", dir.path().display()))
        .uid()
        == 0;
    if !is_root {
        return (dir, false);
    }
    chown_postgres(dir.path());
    // `postgres` must be able to reach the directory: $TMPDIR may be under
    // a directory only root can enter. Fall back to /tmp then.
    if postgres_can_enter(dir.path()) {
        return (dir, true);
    }
    let dir = tempfile::Builder::new()
        .prefix(".tmp-pgcluster-")
        .tempdir_in("/tmp")
        .unwrap_or_else(|e| panic!("PgCluster: cannot create a directory in /tmp: {e}"));
    chown_postgres(dir.path());
    assert!(
        postgres_can_enter(dir.path()),
        "PgCluster: the postgres OS user cannot write to {}",
        dir.path().display()
    );
    (dir, true)
}

/// Whether the `postgres` OS user can write into `dir`.
fn postgres_can_enter(dir: &Path) -> bool {
    let mut cmd = as_postgres_command(Path::new("test"));
    cmd.arg("-w").arg(dir).current_dir("/");
    run(&mut cmd, None, Duration::from_secs(30)).success()
}

/// `chown postgres: path`, panicking with chown's stderr on failure.
fn chown_postgres(path: &Path) {
    let mut cmd = Command::new("chown");
    cmd.arg("postgres:").arg(path);
    run(&mut cmd, None, Duration::from_secs(30)).expect_success("chown", &cmd);
}

/// A command running `exe` as the `postgres` OS user (we are root).
fn as_postgres_command(exe: &Path) -> Command {
    let mut cmd;
    if let Some(runuser) = find_in_path("runuser") {
        cmd = Command::new(runuser);
        cmd.args(["-u", "postgres", "--"]);
    } else if let Some(setpriv) = find_in_path("setpriv") {
        cmd = Command::new(setpriv);
        cmd.args(["--reuid=postgres", "--regid=postgres", "--init-groups", "--"]);
    } else {
        panic!("PgCluster: running as root, but neither runuser nor setpriv is on PATH");
    }
    cmd.arg(exe);
    cmd
}

/// Removes the libpq/server environment variables that could redirect a tool.
fn clean_env(cmd: &mut Command) {
    for var in PG_ENV_VARS {
        cmd.env_remove(var);
    }
}

/// The directory of the PostgreSQL server binaries (see the module docs).
fn find_bin_dir() -> PathBuf {
    let has_tools = |dir: &Path| dir.join("initdb").is_file() && dir.join("pg_ctl").is_file();

    if let Some(dir) = std::env::var_os("PG_BINDIR").filter(|d| !d.is_empty()) {
        let dir = PathBuf::from(dir);
        assert!(
            has_tools(&dir),
            "PgCluster: PG_BINDIR={} has no initdb/pg_ctl",
            dir.display()
        );
        return dir;
    }

    // Debian/Ubuntu: /usr/lib/postgresql/<major>/bin, highest major first.
    if let Ok(entries) = std::fs::read_dir("/usr/lib/postgresql") {
        let mut versions: Vec<(Vec<u32>, PathBuf)> = entries
            .filter_map(Result::ok)
            .filter_map(|e| {
                let name = e.file_name().into_string().ok()?;
                let key = name
                    .split('.')
                    .map(|p| p.parse::<u32>().ok())
                    .collect::<Option<Vec<u32>>>()?;
                Some((key, e.path().join("bin")))
            })
            .filter(|(_, bin)| has_tools(bin))
            .collect();
        versions.sort();
        if let Some((_, bin)) = versions.pop() {
            return bin;
        }
    }

    if let Some(pg_config) = find_in_path("pg_config") {
        let mut cmd = Command::new(pg_config);
        cmd.arg("--bindir");
        let out = run(&mut cmd, None, Duration::from_secs(30));
        if out.success() {
            let dir = PathBuf::from(out.stdout.trim());
            if has_tools(&dir) {
                return dir;
            }
        }
    }

    if let Some(initdb) = find_in_path("initdb") {
        let initdb = std::fs::canonicalize(&initdb).unwrap_or(initdb);
        if let Some(dir) = initdb.parent().filter(|d| has_tools(d)) {
            return dir.to_path_buf();
        }
    }

    panic!(
        "PgCluster: no PostgreSQL server binaries (initdb, pg_ctl) found in $PG_BINDIR, \
         /usr/lib/postgresql/*/bin, `pg_config --bindir` or PATH; \
         install them (Debian: apt-get install postgresql)"
    );
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
    let listener =
        TcpListener::bind("127.0.0.1:0").unwrap_or_else(|e| panic!("PgCluster: cannot bind 127.0.0.1:0: {e}"));
    listener
        .local_addr()
        .unwrap_or_else(|e| panic!("PgCluster: cannot read the bound port: {e}"))
        .port()
}

/// SQL identifier quoting: `"na""me"`.
fn quote_ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// SQL / postgresql.conf string literal quoting: `'it''s'`.
fn quote_literal(value: &str) -> String {
    format!("'{}'", value.replace('\'', "''"))
}

/// libpq conninfo value quoting: `'it\'s'`.
fn quote_conninfo(value: &str) -> String {
    format!("'{}'", value.replace('\\', "\\\\").replace('\'', "\\'"))
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
            "PgCluster: {what} failed ({}): {}\n{}",
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
            Ok(None) => thread::sleep(Duration::from_millis(10)),
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
