//! Test support: fixture workspaces copied from `example/` into temp dirs, the real
//! `cargo-dbm` binary run against them, and database assertions through the database's
//! own catalog. All fixtures share one target directory, so sea-orm compiles once.
#![allow(dead_code)]

pub mod mariadb;
pub mod migration_file;
pub mod pg;

use std::path::{Path, PathBuf};
use std::process::Command;

/// The repository root.
pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// One target directory for every fixture workspace of the run (and of later runs).
pub fn shared_target() -> PathBuf {
    PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("fixtures-target")
}

/// What a command printed and returned.
#[derive(Debug)]
pub struct Output {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Output {
    /// Panics with everything printed unless the exit code is `code`.
    #[track_caller]
    pub fn expect_code(&self, code: i32) -> &Self {
        assert_eq!(
            self.code, code,
            "unexpected exit code\n--- stdout\n{}\n--- stderr\n{}",
            self.stdout, self.stderr
        );
        self
    }

    #[track_caller]
    pub fn ok(&self) -> &Self {
        self.expect_code(0)
    }

    /// Both streams together.
    pub fn all(&self) -> String {
        format!("{}{}", self.stdout, self.stderr)
    }

    #[track_caller]
    pub fn contains(&self, needle: &str) -> &Self {
        assert!(
            self.all().contains(needle),
            "output lacks {needle:?}\n--- stdout\n{}\n--- stderr\n{}",
            self.stdout,
            self.stderr
        );
        self
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.stdout).unwrap_or_else(|e| panic!("stdout is not JSON ({e}):\n{}", self.stdout))
    }
}

/// The binary under test.
pub fn bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_cargo-dbm"))
}

/// `cargo-dbm dbm ARGS` (as cargo invokes it) in `dir`, with a clean environment plus `env`.
pub fn command_in(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Command {
    let mut cmd = Command::new(bin());
    cmd.arg("dbm").args(args).current_dir(dir);
    cmd.env("CARGO_TARGET_DIR", shared_target())
        // Fixture builds without debug info: smaller, faster to link, and the same for all.
        .env("CARGO_PROFILE_DEV_DEBUG", "0")
        // The tests' own cache, not the user's (`~/.cache/cargo-dbm`).
        .env(
            "CARGO_DBM_CACHE_DIR",
            shared_target().parent().unwrap().join("dbm-cache"),
        )
        .env_remove("CARGO_DBM_NO_CACHE")
        .env_remove("DATABASE_URL")
        .env_remove("DATABASE_SCHEMA")
        .env("NO_COLOR", "1");
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd
}

/// Runs `cargo-dbm dbm ARGS` (as cargo invokes it) in `dir`, with a clean environment.
pub fn run_in(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    let out = command_in(dir, args, env).output().expect("run cargo-dbm");
    Output {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// A fixture's own migration command line: `cargo CARGO_ARGS ARGS` in `dir` (e.g.
/// `run -q -p migration --` then `up`), on the database at `url`, building into `target`.
pub fn own_cli(dir: &Path, cargo_args: &[&str], args: &[&str], target: &Path, url: &str) -> Output {
    let url = if url.starts_with("sqlite:") {
        format!("{url}?mode=rwc")
    } else {
        url.to_string()
    };
    let mut cmd = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
    cmd.args(cargo_args)
        .args(args)
        .current_dir(dir)
        .env("CARGO_TARGET_DIR", target)
        .env("CARGO_PROFILE_DEV_DEBUG", "0")
        .env("DATABASE_URL", url)
        .env("NO_COLOR", "1")
        .env_remove("DATABASE_SCHEMA");
    // Not the variables cargo sets for this test: build scripts watch some of them.
    for (key, _) in std::env::vars() {
        if ["CARGO_PKG_", "CARGO_MANIFEST_", "CARGO_CFG_", "CARGO_BIN_EXE_"]
            .iter()
            .any(|p| key.starts_with(p))
            || [
                "CARGO_CRATE_NAME",
                "CARGO_PRIMARY_PACKAGE",
                "CARGO_TARGET_TMPDIR",
                "OUT_DIR",
            ]
            .contains(&key.as_str())
        {
            cmd.env_remove(key);
        }
    }
    let out = cmd.output().expect("run cargo");
    Output {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// The target directory of the sea-orm 1.1 fixtures: their own, so that 1.1's and 2.0's
/// artifacts never evict each other.
pub fn shared_target_v1() -> PathBuf {
    let shared = shared_target();
    let name = format!("{}-v1", shared.file_name().unwrap().to_string_lossy());
    shared.with_file_name(name)
}

/// Copies a directory tree (no symlinks in fixtures).
pub fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let (src, dst) = (entry.path(), to.join(entry.file_name()));
        let name = entry.file_name();
        if name == "target" || name == "data" {
            continue;
        }
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&src, &dst);
        } else {
            std::fs::copy(&src, &dst).unwrap();
        }
    }
}

/// Writes an executable shell script `dir/name` that runs `guard` (which may exit early)
/// and otherwise hands its arguments to the real cargo. Returns the script's path.
fn cargo_wrapper(dir: &Path, name: &str, guard: &str) -> PathBuf {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let script = dir.join(name);
    std::fs::write(&script, format!("#!/bin/sh\n{guard}\nexec {cargo} \"$@\"\n")).unwrap();
    std::fs::set_permissions(&script, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    script
}

/// A `cargo` that fails any build (`build attempted`, exit 99); metadata still works.
pub fn no_build_cargo(dir: &Path) -> PathBuf {
    cargo_wrapper(
        dir,
        "no-build-cargo.sh",
        "if [ \"$1\" = build ]; then echo 'build attempted' >&2; exit 99; fi",
    )
}

/// A `cargo` that fails every call (`cargo was asked`, exit 99) while the file `gate` exists.
pub fn gated_cargo(dir: &Path, gate: &Path) -> PathBuf {
    cargo_wrapper(
        dir,
        "gated-cargo.sh",
        &format!(
            "if [ -e '{}' ]; then echo 'cargo was asked' >&2; exit 99; fi",
            gate.display()
        ),
    )
}

/// A copy of `example/` in a temp dir.
pub struct Fixture {
    pub dir: tempfile::TempDir,
    /// Extra environment for every command (e.g. DATABASE_URL).
    pub env: Vec<(String, String)>,
}

impl Fixture {
    /// The example workspace, without a migration crate.
    pub fn bare() -> Fixture {
        let dir = tempfile::Builder::new().prefix("dbm-fixture-").tempdir().unwrap();
        copy_dir(&repo().join("example"), dir.path());
        Fixture { dir, env: Vec::new() }
    }

    /// The example workspace after `cargo dbm init`.
    pub fn init() -> Fixture {
        let f = Fixture::bare();
        f.dbm(&["init"]).ok();
        f
    }

    /// Same, with the database at `url`.
    pub fn with_url(url: &str) -> Fixture {
        let mut f = Fixture::bare();
        f.env.push(("DATABASE_URL".into(), url.into()));
        f.dbm(&["init"]).ok();
        f
    }

    pub fn root(&self) -> &Path {
        self.dir.path()
    }

    pub fn path(&self, rel: &str) -> PathBuf {
        self.root().join(rel)
    }

    pub fn read(&self, rel: &str) -> String {
        std::fs::read_to_string(self.path(rel)).unwrap_or_else(|e| panic!("read {rel}: {e}"))
    }

    pub fn write(&self, rel: &str, content: &str) {
        let p = self.path(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, content).unwrap();
    }

    /// `env` as string slices.
    pub fn env_pairs(&self) -> Vec<(&str, &str)> {
        self.env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect()
    }

    /// Runs `cargo dbm ARGS` in the workspace root.
    pub fn dbm(&self, args: &[&str]) -> Output {
        run_in(self.root(), args, &self.env_pairs())
    }

    /// Runs `cargo dbm ARGS` with extra environment variables.
    pub fn dbm_env(&self, args: &[&str], extra: &[(&str, &str)]) -> Output {
        let mut env = self.env_pairs();
        env.extend_from_slice(extra);
        run_in(self.root(), args, &env)
    }

    /// `cargo dbm create DESC`, then replaces the migration's body with raw SQL for up and down.
    /// Returns the version.
    pub fn migration(&self, desc: &str, up: &str, down: &str) -> String {
        let out = self.dbm(&["create", desc, "--format", "json"]);
        out.ok();
        let created = out.json();
        let version = created["version"].as_str().unwrap().to_string();
        let file = PathBuf::from(created["file"].as_str().unwrap());
        std::fs::write(&file, sql_migration(up, down)).unwrap();
        version
    }

    /// `cargo dbm create DESC`, then replaces the file with `source`. Returns the version.
    pub fn migration_source(&self, desc: &str, source: &str) -> String {
        let out = self.dbm(&["create", desc, "--format", "json"]);
        out.ok();
        let created = out.json();
        std::fs::write(created["file"].as_str().unwrap(), source).unwrap();
        created["version"].as_str().unwrap().to_string()
    }

    /// The migration files' directory.
    pub fn migration_src(&self) -> PathBuf {
        self.path("migration/src")
    }

    /// The default SQLite database of the fixture.
    pub fn sqlite_path(&self) -> PathBuf {
        let name = self.root().file_name().unwrap().to_string_lossy().replace('-', "_");
        self.root().join("data").join(format!("{name}.db"))
    }
}

/// A migration whose up and down execute SQL (statements separated by `;`).
pub fn sql_migration(up: &str, down: &str) -> String {
    sql_migration_with(up, down, "")
}

/// The same, with extra items in the `impl MigrationTrait` block and Rust statements that run
/// in `up` after the SQL (e.g. a sleep, or writing a marker file).
pub fn sql_migration_with(up: &str, down: &str, extra_impl: &str) -> String {
    sql_migration_full(up, "", down, extra_impl)
}

/// Full control: SQL, then Rust statements `after_up`, in `up`.
pub fn sql_migration_full(up: &str, after_up: &str, down: &str, extra_impl: &str) -> String {
    let body = |sql: &str| {
        sql.split(';')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(|s| format!("        db.execute_unprepared({s:?}).await?;\n"))
            .collect::<String>()
    };
    let db = "        let db = manager.get_connection();\n";
    migration_file::migration_file(
        &format!("{db}{}{after_up}        Ok(())\n", body(up)),
        &format!("{db}{}        Ok(())\n", body(down)),
        extra_impl,
    )
}

/// Runs a query with sea-orm and returns every value as text (NULL as "NULL").
pub fn query(url: &str, sql: &str) -> Vec<Vec<String>> {
    use sea_orm::{ConnectionTrait, Database, Statement};
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let db = Database::connect(url).await.unwrap_or_else(|e| panic!("connect: {e}"));
        let rows = db
            .query_all_raw(Statement::from_string(db.get_database_backend(), sql.to_string()))
            .await
            .unwrap_or_else(|e| panic!("{sql}: {e}"));
        let out = rows
            .iter()
            .map(|r| {
                let cols = r.column_names();
                cols.iter()
                    .map(|c| {
                        if let Ok(v) = r.try_get::<Option<String>>("", c) {
                            return v.unwrap_or_else(|| "NULL".into());
                        }
                        if let Ok(v) = r.try_get::<Option<i64>>("", c) {
                            return v.map(|v| v.to_string()).unwrap_or_else(|| "NULL".into());
                        }
                        if let Ok(v) = r.try_get::<Option<i32>>("", c) {
                            return v.map(|v| v.to_string()).unwrap_or_else(|| "NULL".into());
                        }
                        if let Ok(v) = r.try_get::<Option<bool>>("", c) {
                            return v.map(|v| v.to_string()).unwrap_or_else(|| "NULL".into());
                        }
                        "?".into()
                    })
                    .collect()
            })
            .collect();
        db.close().await.ok();
        out
    })
}

/// The database under test: SQLite file or a throwaway PostgreSQL cluster.
pub enum Backend {
    Sqlite,
    Postgres(pg::PgCluster),
    MariaDb(mariadb::MariaDb),
}

/// A fixture bound to a database, with catalog assertions that work on both engines.
pub struct Env {
    pub fx: Fixture,
    pub url: String,
    pub backend: Backend,
}

impl Env {
    pub fn sqlite() -> Env {
        let fx = Fixture::init();
        let url = format!("sqlite://{}", fx.sqlite_path().display());
        Env {
            fx,
            url,
            backend: Backend::Sqlite,
        }
    }

    pub fn postgres() -> Env {
        let pg = pg::PgCluster::start();
        let url = pg.create_database("app");
        let fx = Fixture::with_url(&url);
        Env {
            fx,
            url,
            backend: Backend::Postgres(pg),
        }
    }

    pub fn mariadb() -> Env {
        let server = mariadb::MariaDb::start();
        let url = server.create_database("app");
        let fx = Fixture::with_url(&url);
        Env {
            fx,
            url,
            backend: Backend::MariaDb(server),
        }
    }

    pub fn is_mariadb(&self) -> bool {
        matches!(self.backend, Backend::MariaDb(_))
    }

    pub fn is_postgres(&self) -> bool {
        matches!(self.backend, Backend::Postgres(_))
    }

    pub fn dbm(&self, args: &[&str]) -> Output {
        self.fx.dbm(args)
    }

    pub fn query(&self, sql: &str) -> Vec<Vec<String>> {
        if let Backend::Sqlite = self.backend
            && !self.fx.sqlite_path().exists()
        {
            return Vec::new();
        }
        query(&self.url, sql)
    }

    /// The user's tables, from the catalog, sorted.
    pub fn tables(&self) -> Vec<String> {
        let sql = match self.backend {
            Backend::Sqlite => {
                "SELECT name FROM sqlite_master WHERE type='table' AND name NOT LIKE 'sqlite_%' ORDER BY name"
            }
            Backend::Postgres(_) => {
                "SELECT table_name::text FROM information_schema.tables WHERE table_schema = current_schema() ORDER BY table_name"
            }
            Backend::MariaDb(_) => {
                "SELECT CAST(table_name AS CHAR) FROM information_schema.tables WHERE table_schema = DATABASE() ORDER BY table_name"
            }
        };
        self.query(sql).into_iter().map(|r| r[0].clone()).collect()
    }

    /// Executes statements (DDL, DML) on the database under test.
    pub fn exec(&self, sql: &str) {
        use sea_orm::{ConnectionTrait, Database};
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let url = if !matches!(self.backend, Backend::Sqlite) {
            self.url.clone()
        } else {
            format!("{}?mode=rwc", self.url)
        };
        rt.block_on(async {
            let db = Database::connect(url).await.unwrap();
            for stmt in sql.split(';').map(str::trim).filter(|s| !s.is_empty()) {
                db.execute_unprepared(stmt)
                    .await
                    .unwrap_or_else(|e| panic!("{stmt}: {e}"));
            }
            db.close().await.ok();
        });
    }

    /// Another database of the same engine, to build the runner or run side experiments.
    pub fn scratch_url(&self, name: &str) -> String {
        match &self.backend {
            Backend::Sqlite => format!("sqlite://{}", self.fx.path(&format!("data/{name}.db")).display()),
            Backend::Postgres(pg) => pg.create_database(name),
            Backend::MariaDb(m) => m.create_database(name),
        }
    }

    /// The PostgreSQL cluster, for PostgreSQL-only assertions.
    pub fn pg(&self) -> &pg::PgCluster {
        match &self.backend {
            Backend::Postgres(pg) => pg,
            _ => panic!("not a PostgreSQL test"),
        }
    }

    /// Starts `cargo dbm ARGS` without waiting.
    pub fn spawn(&self, args: &[&str]) -> std::process::Child {
        let mut cmd = command_in(self.fx.root(), args, &self.fx.env_pairs());
        cmd.stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped());
        cmd.spawn().expect("spawn cargo-dbm")
    }

    /// The columns of a table, from the catalog, in order.
    pub fn columns(&self, table: &str) -> Vec<String> {
        let sql = match self.backend {
            Backend::Sqlite => {
                format!("SELECT name FROM pragma_table_info('{table}') ORDER BY cid")
            }
            Backend::Postgres(_) => format!(
                "SELECT column_name::text FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = '{table}' ORDER BY ordinal_position"
            ),
            Backend::MariaDb(_) => format!(
                "SELECT CAST(column_name AS CHAR) FROM information_schema.columns WHERE table_schema = DATABASE() AND table_name = '{table}' ORDER BY ordinal_position"
            ),
        };
        self.query(&sql).into_iter().map(|r| r[0].clone()).collect()
    }

    /// The versions in seaql_migrations.
    pub fn tracked(&self) -> Vec<String> {
        if !self.tables().contains(&"seaql_migrations".to_string()) {
            return Vec::new();
        }
        self.query("SELECT version FROM seaql_migrations ORDER BY version")
            .into_iter()
            .map(|r| r[0].clone())
            .collect()
    }
}

/// One test body, run on each listed backend: `engines!(name, |env| { ... }, sqlite,
/// postgres)` makes `name::sqlite` and `name::postgres` (each an `Env` constructor).
#[macro_export]
macro_rules! engines {
    ($name:ident, $body:expr, $($engine:ident),+) => {
        mod $name {
            #[allow(unused_imports)]
            use super::*;
            $(
                #[test]
                fn $engine() {
                    let f: fn($crate::support::Env) = $body;
                    f($crate::support::Env::$engine());
                }
            )+
        }
    };
}

/// One test body, two backends: `dual!(name, |env| { ... })` makes `name::sqlite` and `name::postgres`.
#[macro_export]
macro_rules! dual {
    ($name:ident, $body:expr) => {
        $crate::engines!($name, $body, sqlite, postgres);
    };
}

/// One test body, three backends: `tri!(name, |env| { ... })` makes `name::sqlite`,
/// `name::postgres` and `name::mariadb`.
#[macro_export]
macro_rules! tri {
    ($name:ident, $body:expr) => {
        $crate::engines!($name, $body, sqlite, postgres, mariadb);
    };
}
