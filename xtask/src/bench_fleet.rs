//! `cargo xtask bench fleet [N...] [--engine sqlite|postgres|all] [--runs R]
//! [--baseline-runs R] [--sample K] [--jobs J] [--sweep-jobs J,J,...] [--no-docs]`:
//! fleets (#14), N targets migrated as one, against what teams do without them.
//!
//! The workspace is `example/` + `cargo dbm init` + 5 migrations written as SQL
//! (`execute_unprepared`): two tables with a foreign key, a new column, an index and a row
//! (`target/bench/fleet`, kept between runs). For each N (default 100 and 1,000) and engine:
//!
//! - PostgreSQL (a throwaway cluster, `tests/cli/support/pg.rs`): N schemas `tenant_0001..`
//!   of one database, created with psql before the timing, fleet `schemas = [...]`;
//! - SQLite: N empty files `data/tenants/t0001.db..`, fleet `sqlite = "data/tenants/*.db"`.
//!
//! Measured, each from a fresh state (schemas or files recreated, not timed):
//!
//! - (a) `cargo dbm up --all` applying the 5 migrations to every target; the runner was built
//!   before the timing by one `cargo dbm up` on a scratch target;
//! - (b) `cargo dbm status --all` and an up-to-date `cargo dbm up --all` over N up-to-date
//!   targets;
//! - (c) a shell loop of `cargo run --manifest-path migration/Cargo.toml -- up -s <schema>`
//!   (what `sea-orm-cli migrate up -s <schema>` runs; `-u sqlite://<file>?mode=rwc` for SQLite);
//! - (d) a loop of the migration crate's prebuilt binary (`target/debug/migration up ...`);
//! - (e) a loop of single-target `cargo dbm up --schema <s>` (`--database-url` for SQLite).
//!
//! (c)-(e) start one process per target: they run on the first K targets (`--sample`,
//! default 50) and are extrapolated linearly to N, which the table says. Ours are the best of
//! `--runs` (default 3), the baselines of `--baseline-runs` (default 1). `--jobs J` passes
//! `--jobs J` to the fleet commands; `--sweep-jobs 1,4,16` also times (a) at the largest N
//! with each. Writes the table to `docs/benchmarks.md` under `## Fleets` unless `--no-docs`.

#[path = "../../tests/cli/support/pg.rs"]
mod pg;

#[path = "../../tests/cli/support/migration_file.rs"]
mod migration_file;

use crate::bench::{fresh, loadavg, sqlite_url, write_section};
use crate::{cargo, repo, sh};
use anyhow::{Context, Result, bail};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const HEADING: &str = "## Fleets";

/// Where the fleet's targets are declared in the bench workspace's Cargo.toml (everything
/// from this line on is rewritten for each engine and N).
const FLEET_MARK: &str = "# cargo xtask bench fleet: the fleet (rewritten by each run)";

/// The 5 migrations: name, up, down (SQL both SQLite and PostgreSQL accept).
const MIGRATIONS: [(&str, &str, &str); 5] = [
    (
        "m20240101_000001_create_account",
        "CREATE TABLE account (id INTEGER PRIMARY KEY, name TEXT NOT NULL)",
        "DROP TABLE account",
    ),
    (
        "m20240101_000002_create_invoice",
        "CREATE TABLE invoice (id INTEGER PRIMARY KEY, account_id INTEGER NOT NULL REFERENCES account (id), amount INTEGER NOT NULL)",
        "DROP TABLE invoice",
    ),
    (
        "m20240101_000003_add_account_email",
        "ALTER TABLE account ADD COLUMN email TEXT",
        "ALTER TABLE account DROP COLUMN email",
    ),
    (
        "m20240101_000004_index_invoice_account",
        "CREATE INDEX invoice_account_idx ON invoice (account_id)",
        "DROP INDEX invoice_account_idx",
    ),
    (
        "m20240101_000005_insert_owner",
        "INSERT INTO account (id, name) VALUES (1, 'owner')",
        "DELETE FROM account WHERE id = 1",
    ),
];

#[derive(Clone, Copy, PartialEq)]
enum Engine {
    Sqlite,
    Postgres,
}

struct Opts {
    ns: Vec<usize>,
    engines: Vec<Engine>,
    runs: usize,
    baseline_runs: usize,
    sample: usize,
    jobs: Option<usize>,
    sweep: Vec<usize>,
    docs: bool,
}

fn parse(args: &[String]) -> Result<Opts> {
    let usage = "cargo xtask bench fleet [N...] [--engine sqlite|postgres|all] [--runs R] [--baseline-runs R] [--sample K] [--jobs J] [--sweep-jobs J,J,...] [--no-docs]";
    let mut o = Opts {
        ns: Vec::new(),
        engines: vec![Engine::Sqlite, Engine::Postgres],
        runs: 3,
        baseline_runs: 1,
        sample: 50,
        jobs: None,
        sweep: Vec::new(),
        docs: true,
    };
    let mut it = args.iter();
    let number = |v: Option<&String>, flag: &str| -> Result<usize> {
        let n: usize = v
            .with_context(|| format!("{flag} takes a number"))?
            .replace('_', "")
            .parse()
            .with_context(|| format!("{flag} takes a number"))?;
        if n == 0 {
            bail!("{flag} must be at least 1");
        }
        Ok(n)
    };
    while let Some(a) = it.next() {
        match a.as_str() {
            "--engine" => {
                o.engines = match it.next().map(String::as_str) {
                    Some("sqlite") => vec![Engine::Sqlite],
                    Some("postgres" | "postgresql" | "pg") => vec![Engine::Postgres],
                    Some("all") => vec![Engine::Sqlite, Engine::Postgres],
                    other => bail!("--engine sqlite|postgres|all, not {other:?}"),
                }
            }
            "--runs" => o.runs = number(it.next(), "--runs")?,
            "--baseline-runs" => o.baseline_runs = number(it.next(), "--baseline-runs")?,
            "--sample" => o.sample = number(it.next(), "--sample")?,
            "--jobs" => o.jobs = Some(number(it.next(), "--jobs")?),
            "--sweep-jobs" => {
                let list = it.next().context("--sweep-jobs J,J,...")?;
                for j in list.split(',') {
                    o.sweep.push(number(Some(&j.to_string()), "--sweep-jobs")?);
                }
            }
            "--no-docs" => o.docs = false,
            num => {
                let n: usize = num
                    .replace('_', "")
                    .parse()
                    .with_context(|| format!("bad argument {num}; try `{usage}`"))?;
                if n == 0 || n > 9999 {
                    bail!("N must be 1..=9999, not {n}");
                }
                o.ns.push(n);
            }
        }
    }
    if o.ns.is_empty() {
        o.ns = vec![100, 1000];
    }
    o.ns.sort();
    o.ns.dedup();
    Ok(o)
}

pub fn run(args: &[String]) -> Result<()> {
    let o = parse(args)?;
    let load = loadavg();
    let busy = other_cargo_tests();
    if !busy.is_empty() {
        eprintln!("note: running while other cargo processes run (load average {load}):\n{busy}");
    }
    let repo = repo();
    let dbm = crate::release_dbm()?;
    let ws = workspace(&repo, &dbm)?;
    let target = crate::bench::fixtures_target(&repo);
    // The migration crate's own binary, as `cargo run` builds it (baseline d).
    sh(cargo().current_dir(&ws).env("CARGO_TARGET_DIR", &target).args([
        "build",
        "--manifest-path",
        "migration/Cargo.toml",
    ]))?;
    let mut results = Vec::new();
    for &engine in &o.engines {
        let bench = Bench::new(&repo, &dbm, &ws, engine)?;
        for &n in &o.ns {
            let sweep = if n == *o.ns.last().unwrap() { &o.sweep[..] } else { &[] };
            results.push(bench.measure(n, &o, sweep)?);
        }
    }
    let load = format!("{load} when the run began, {} when it ended", loadavg());
    let report = render(&results, &o, &load);
    println!("{report}");
    if o.docs {
        write_section(&repo.join("docs/benchmarks.md"), HEADING, &report)?;
        eprintln!("written to docs/benchmarks.md ({HEADING})");
    }
    Ok(())
}

/// `cargo test` (or other cargo builds) running now, as `pgrep -af` lists them.
fn other_cargo_tests() -> String {
    Command::new("pgrep")
        .args(["-af", "cargo test|cargo xtask test|rustc"])
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_default()
}

/// Shared with the integration tests and the other benches: sea-orm is compiled once.
/// The bench workspace: `example/` + `cargo dbm init` + the 5 migrations (kept between runs).
fn workspace(repo: &Path, dbm: &Path) -> Result<PathBuf> {
    let (ws, _) = crate::bench::init_workspace(repo, dbm, "fleet", "data/scratch.db")?;
    write_migrations(&ws)?;
    Ok(ws)
}

/// The 5 migrations as `execute_unprepared` SQL, and a lib.rs listing only them.
fn write_migrations(ws: &Path) -> Result<()> {
    let src = ws.join("migration/src");
    let names: Vec<&str> = MIGRATIONS.iter().map(|m| m.0).collect();
    // Anything else `init` wrote (a first migration) goes.
    for entry in std::fs::read_dir(&src)? {
        let path = entry?.path();
        let stem = path.file_stem().and_then(|s| s.to_str()).unwrap_or("");
        if stem.starts_with('m') && stem.as_bytes().get(1).is_some_and(u8::is_ascii_digit) && !names.contains(&stem) {
            std::fs::remove_file(&path)?;
        }
    }
    let sql = |s: &str| {
        format!(
            "        manager\n            .get_connection()\n            .execute_unprepared(\"{}\")\n            .await?;\n        Ok(())\n",
            s.replace('\\', "\\\\").replace('"', "\\\"")
        )
    };
    let mut mods = String::new();
    let mut list = String::new();
    for (name, up, down) in MIGRATIONS {
        let text = migration_file::migration_file(&sql(up), &sql(down), "");
        let path = src.join(format!("{name}.rs"));
        // Unchanged files keep their mtime: nothing to recompile, nothing to re-read.
        if std::fs::read_to_string(&path).ok().as_deref() != Some(text.as_str()) {
            std::fs::write(&path, text)?;
        }
        let _ = writeln!(mods, "mod {name};");
        let _ = writeln!(list, "            Box::new({name}::Migration),");
    }
    let lib = format!(
        "pub use sea_orm_migration::prelude::*;\n\n{mods}\npub struct Migrator;\n\n#[async_trait::async_trait]\nimpl MigratorTrait for Migrator {{\n    fn migrations() -> Vec<Box<dyn MigrationTrait>> {{\n        vec![\n{list}        ]\n    }}\n}}\n"
    );
    let lib_path = src.join("lib.rs");
    if std::fs::read_to_string(&lib_path).ok().as_deref() != Some(lib.as_str()) {
        std::fs::write(&lib_path, lib)?;
    }
    Ok(())
}

/// Rewrites the fleet declared in the workspace's Cargo.toml (unchanged text: not touched).
fn set_fleet(ws: &Path, fleet: &str) -> Result<()> {
    let manifest = ws.join("Cargo.toml");
    let text = std::fs::read_to_string(&manifest)?;
    let kept = match text.find(FLEET_MARK) {
        Some(i) => &text[..i],
        None => &text,
    };
    let mut out = kept.trim_end().to_string();
    out.push_str("\n\n");
    out.push_str(FLEET_MARK);
    out.push_str("\n[workspace.metadata.dbm.fleet]\n");
    out.push_str(fleet);
    if out != text {
        std::fs::write(&manifest, out)?;
    }
    Ok(())
}

fn schema(i: usize) -> String {
    format!("tenant_{i:04}")
}

fn sqlite_file(i: usize) -> String {
    format!("t{i:04}.db")
}

/// One engine's databases and the commands run against them.
struct Bench<'a> {
    dbm: &'a Path,
    ws: &'a Path,
    target: PathBuf,
    engine: Engine,
    pg: Option<pg::PgCluster>,
    version: String,
}

/// The database holding the PostgreSQL fleet's schemas.
const PG_DB: &str = "fleet";

impl<'a> Bench<'a> {
    fn new(repo: &Path, dbm: &'a Path, ws: &'a Path, engine: Engine) -> Result<Bench<'a>> {
        let (pg, version) = match engine {
            Engine::Sqlite => {
                let out = Command::new("sqlite3").arg("--version").output();
                let v = out
                    .ok()
                    .map(|o| {
                        String::from_utf8_lossy(&o.stdout)
                            .split_whitespace()
                            .next()
                            .unwrap_or("?")
                            .to_string()
                    })
                    .unwrap_or_else(|| "?".into());
                (None, format!("SQLite {v}"))
            }
            Engine::Postgres => {
                let pg = pg::PgCluster::start();
                let v = pg.psql("postgres", "SHOW server_version");
                let v = format!("PostgreSQL {}", v.split_whitespace().next().unwrap_or("?"));
                (Some(pg), v)
            }
        };
        Ok(Bench {
            dbm,
            ws,
            target: crate::bench::fixtures_target(repo),
            engine,
            pg,
            version,
        })
    }

    fn tenants(&self) -> PathBuf {
        self.ws.join("data/tenants")
    }

    /// The workspace's database URL for this engine (PostgreSQL: the fleet's database; SQLite:
    /// a scratch file outside the fleet's glob).
    fn base_url(&self) -> String {
        match &self.pg {
            Some(pg) => pg.url(PG_DB),
            None => sqlite_url(&self.ws.join("data/scratch.db")),
        }
    }

    /// Target `i` (1-based): its name for the migration crate's CLI and for cargo dbm.
    fn sqlite_path(&self, i: usize) -> PathBuf {
        self.tenants().join(sqlite_file(i))
    }

    /// Makes the N targets exist and be empty (and nothing else in the fleet's place).
    fn fresh(&self, n: usize) -> Result<()> {
        match &self.pg {
            Some(pg) => {
                pg.psql("postgres", &format!("DROP DATABASE IF EXISTS {PG_DB} WITH (FORCE)"));
                pg.create_database(PG_DB);
                let mut sql = String::from("CREATE SCHEMA scratch;\n");
                for i in 1..=n {
                    let _ = writeln!(sql, "CREATE SCHEMA {};", schema(i));
                }
                pg.psql(PG_DB, &sql);
            }
            None => {
                let dir = self.tenants();
                if dir.exists() {
                    std::fs::remove_dir_all(&dir)?;
                }
                std::fs::create_dir_all(&dir)?;
                for i in 1..=n {
                    // Zero bytes: an empty SQLite database, and one that exists (the glob
                    // matches files only).
                    std::fs::write(self.sqlite_path(i), b"")?;
                }
                fresh(&self.ws.join("data/scratch.db"));
            }
        }
        Ok(())
    }

    fn declare(&self, n: usize, jobs: Option<usize>) -> Result<()> {
        let mut fleet = match self.engine {
            Engine::Postgres => {
                let list: Vec<String> = (1..=n).map(|i| format!("\"{}\"", schema(i))).collect();
                format!("schemas = [{}]\n", list.join(", "))
            }
            Engine::Sqlite => "sqlite = \"data/tenants/*.db\"\n".to_string(),
        };
        if let Some(j) = jobs {
            let _ = writeln!(fleet, "jobs = {j}");
        }
        set_fleet(self.ws, &fleet)
    }

    /// `cargo dbm ARGS` in the workspace, on this engine's database URL.
    fn dbm(&self, args: &[&str]) -> Command {
        let mut c = Command::new(self.dbm);
        c.arg("dbm")
            .args(args)
            .current_dir(self.ws)
            .env("CARGO_TARGET_DIR", &self.target)
            .env("DATABASE_URL", self.base_url())
            .env_remove("DATABASE_SCHEMA");
        c
    }

    /// Target `i` as the migration crate's CLI takes it (after `up`).
    fn crate_args(&self, i: usize) -> Vec<String> {
        match self.engine {
            Engine::Postgres => vec!["-s".into(), schema(i)],
            Engine::Sqlite => vec!["-u".into(), format!("{}?mode=rwc", sqlite_url(&self.sqlite_path(i)))],
        }
    }

    /// Target `i` as single-target `cargo dbm up` takes it.
    fn dbm_args(&self, i: usize) -> Vec<String> {
        match self.engine {
            Engine::Postgres => vec!["--schema".into(), schema(i)],
            Engine::Sqlite => vec!["--database-url".into(), sqlite_url(&self.sqlite_path(i))],
        }
    }

    /// How many targets have all 5 migrations and the row of the 5th (checked in the database,
    /// not through cargo dbm).
    fn migrated(&self, n: usize) -> Result<usize> {
        match &self.pg {
            Some(pg) => {
                let out = pg.psql(
                    PG_DB,
                    "SELECT count(*) FROM pg_indexes WHERE indexname = 'invoice_account_idx' AND schemaname LIKE 'tenant\\_%'",
                );
                out.parse().with_context(|| format!("index count {out:?}"))
            }
            None => {
                let mut done = 0;
                for i in 1..=n {
                    let out = Command::new("sqlite3")
                        .arg(self.sqlite_path(i))
                        .arg("SELECT count(*) FROM account WHERE email IS NULL AND id = 1")
                        .output()?;
                    if out.status.success() && String::from_utf8_lossy(&out.stdout).trim() == "1" {
                        done += 1;
                    }
                }
                Ok(done)
            }
        }
    }

    fn measure(&self, n: usize, o: &Opts, sweep: &[usize]) -> Result<Measured> {
        eprintln!("== {} ({}), {n} targets", self.engine_name(), self.version);
        let jobs_arg: Vec<String> = o.jobs.map(|j| vec!["--jobs".into(), j.to_string()]).unwrap_or_default();
        let with_jobs = |args: &[&str]| -> Vec<String> {
            args.iter()
                .map(|s| s.to_string())
                .chain(jobs_arg.iter().cloned())
                .collect()
        };
        self.declare(n, None)?;
        self.fresh(n)?;
        // Warm-up on a scratch target (outside the fleet): builds the runner if it is stale
        // and refreshes cargo dbm's cache of the workspace. Not timed.
        let mut warm = self.dbm(&["up"]);
        if self.engine == Engine::Postgres {
            warm.args(["--schema", "scratch"]);
        }
        let w = timed(&mut warm, &[0])?;
        eprintln!("   warm-up `cargo dbm up` on a scratch target: {}", secs(w));

        // (a) up --all applying 5 migrations to N targets.
        let mut up_all = Vec::new();
        for r in 1..=o.runs {
            self.fresh(n)?;
            let t = timed(&mut self.dbm_strs(&with_jobs(&["up", "--all"])), &[0])?;
            eprintln!("   (a) up --all #{r}: {}", secs(t));
            up_all.push(t);
            let done = self.migrated(n)?;
            if done != n {
                bail!("`cargo dbm up --all` migrated {done} of {n} targets");
            }
        }
        // (b) status --all and up --all over N up-to-date targets.
        let mut status = Vec::new();
        let mut up_noop = Vec::new();
        for r in 1..=o.runs {
            let t = timed(&mut self.dbm_strs(&with_jobs(&["status", "--all"])), &[0])?;
            eprintln!("   (b) status --all #{r}: {}", secs(t));
            status.push(t);
            let t = timed(&mut self.dbm_strs(&with_jobs(&["up", "--all"])), &[0])?;
            eprintln!("   (b) up --all, up to date #{r}: {}", secs(t));
            up_noop.push(t);
        }
        let mut sweep_times = Vec::new();
        for &j in sweep {
            self.fresh(n)?;
            let t = timed(
                &mut self.dbm_strs(&["up".into(), "--all".into(), "--jobs".into(), j.to_string()]),
                &[0],
            )?;
            eprintln!("   (a) up --all --jobs {j}: {}", secs(t));
            if self.migrated(n)? != n {
                bail!("`cargo dbm up --all --jobs {j}` left targets unmigrated");
            }
            sweep_times.push((j, t));
        }

        // Baselines: one process per target, on the first K targets.
        let k = o.sample.min(n);
        let own_bin = self.target.join("debug/migration");
        let mut baselines = Vec::new();
        for which in [Baseline::CargoRun, Baseline::OwnBinary, Baseline::DbmLoop] {
            let mut times = Vec::new();
            for r in 1..=o.baseline_runs {
                self.fresh(n)?;
                let start = Instant::now();
                for i in 1..=k {
                    let mut cmd = match which {
                        Baseline::CargoRun => {
                            let mut c = cargo();
                            c.current_dir(self.ws)
                                .env("CARGO_TARGET_DIR", &self.target)
                                .env("DATABASE_URL", self.base_url())
                                .args(["run", "--manifest-path", "migration/Cargo.toml", "--", "up"])
                                .args(self.crate_args(i));
                            c
                        }
                        Baseline::OwnBinary => {
                            let mut c = Command::new(&own_bin);
                            c.current_dir(self.ws)
                                .env("DATABASE_URL", self.base_url())
                                .arg("up")
                                .args(self.crate_args(i));
                            c
                        }
                        Baseline::DbmLoop => {
                            let mut args = vec!["up".to_string()];
                            args.extend(self.dbm_args(i));
                            self.dbm_strs(&args)
                        }
                    };
                    run_ok(&mut cmd)?;
                }
                let t = start.elapsed();
                eprintln!(
                    "   ({}) {} on {k} targets #{r}: {} ({:.0} ms per target)",
                    which.letter(),
                    which.name(),
                    secs(t),
                    t.as_secs_f64() * 1000.0 / k as f64
                );
                times.push(t);
                let done = self.migrated(n)?;
                if done != k {
                    bail!("{} migrated {done} targets, not {k}", which.name());
                }
            }
            let best = *times.iter().min().unwrap();
            baselines.push((which, best));
        }
        Ok(Measured {
            engine: self.version.clone(),
            n,
            k,
            up_all: best(&up_all),
            status: best(&status),
            up_noop: best(&up_noop),
            sweep: sweep_times,
            baselines,
        })
    }

    fn dbm_strs(&self, args: &[String]) -> Command {
        let refs: Vec<&str> = args.iter().map(String::as_str).collect();
        self.dbm(&refs)
    }

    fn engine_name(&self) -> &'static str {
        match self.engine {
            Engine::Sqlite => "SQLite",
            Engine::Postgres => "PostgreSQL",
        }
    }
}

#[derive(Clone, Copy, PartialEq)]
enum Baseline {
    CargoRun,
    OwnBinary,
    DbmLoop,
}

impl Baseline {
    fn letter(self) -> char {
        match self {
            Baseline::CargoRun => 'c',
            Baseline::OwnBinary => 'd',
            Baseline::DbmLoop => 'e',
        }
    }

    fn name(self) -> &'static str {
        match self {
            Baseline::CargoRun => "loop of `cargo run --manifest-path migration/Cargo.toml -- up`",
            Baseline::OwnBinary => "loop of `target/debug/migration up`",
            Baseline::DbmLoop => "loop of single-target `cargo dbm up`",
        }
    }
}

struct Measured {
    engine: String,
    n: usize,
    /// Targets the baselines ran on.
    k: usize,
    up_all: Duration,
    status: Duration,
    up_noop: Duration,
    sweep: Vec<(usize, Duration)>,
    /// Each baseline's time on `k` targets.
    baselines: Vec<(Baseline, Duration)>,
}

impl Measured {
    /// A baseline's time for all N targets (extrapolated from `k` when `k < n`).
    fn baseline(&self, b: Baseline) -> Duration {
        let (_, t) = self.baselines.iter().find(|(x, _)| *x == b).unwrap();
        t.mul_f64(self.n as f64 / self.k as f64)
    }
}

fn best(times: &[Duration]) -> Duration {
    *times.iter().min().unwrap()
}

/// Runs `cmd` (output discarded, stderr kept for the error), timing it; its exit code must be
/// one of `ok`.
fn timed(cmd: &mut Command, ok: &[i32]) -> Result<Duration> {
    cmd.stdin(Stdio::null()).stdout(Stdio::null()).stderr(Stdio::piped());
    let start = Instant::now();
    let out = cmd.output().with_context(|| format!("{cmd:?}"))?;
    let t = start.elapsed();
    if !ok.contains(&out.status.code().unwrap_or(-1)) {
        bail!(
            "{cmd:?} exited with {}:\n{}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        );
    }
    Ok(t)
}

fn run_ok(cmd: &mut Command) -> Result<()> {
    timed(cmd, &[0]).map(|_| ())
}

fn secs(d: Duration) -> String {
    let s = d.as_secs_f64();
    if s >= 100.0 {
        format!("{s:.0} s")
    } else {
        format!("{s:.2} s")
    }
}

fn per(d: Duration, n: usize) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1000.0 / n as f64)
}

fn render(results: &[Measured], o: &Opts, load: &str) -> String {
    let ns: Vec<String> = o.ns.iter().map(|n| n.to_string()).collect();
    let mut cmdline = format!("cargo xtask bench fleet {}", ns.join(" "));
    if o.runs != 3 {
        let _ = write!(cmdline, " --runs {}", o.runs);
    }
    if o.baseline_runs != 1 {
        let _ = write!(cmdline, " --baseline-runs {}", o.baseline_runs);
    }
    if o.sample != 50 {
        let _ = write!(cmdline, " --sample {}", o.sample);
    }
    if let Some(j) = o.jobs {
        let _ = write!(cmdline, " --jobs {j}");
    }
    if !o.sweep.is_empty() {
        let sweep: Vec<String> = o.sweep.iter().map(|j| j.to_string()).collect();
        let _ = write!(cmdline, " --sweep-jobs {}", sweep.join(","));
    }
    let jobs = o
        .jobs
        .map(|j| format!("`--jobs {j}`"))
        .unwrap_or_else(|| "the default `--jobs` (twice the CPUs: 4)".into());
    let mut s = format!(
        "{HEADING}\n\n\
         Measured by `{cmdline}` on this 2-core machine (load average {load}),\n\
         release `cargo-dbm`, {jobs}. The workspace is `example/` + `cargo dbm init` +\n\
         5 migrations written as SQL (`execute_unprepared`: two tables with a foreign key, a new\n\
         column, an index, a row). The targets are N schemas `tenant_0001..` of one PostgreSQL\n\
         database (`schemas = [...]`), or N empty SQLite files (`sqlite = \"data/tenants/*.db\"`).\n\
         Every timed command starts from fresh targets (schemas or files recreated before it,\n\
         not timed). Before the timing, one `cargo dbm up` on a scratch target built the runner,\n\
         so no figure includes compiling. Ours: best of {} runs; baselines: best of {}.\n\n\
         Compared with `cargo dbm up --all` (a):\n\n\
         - (c) what teams do today: a shell loop over the targets of what `sea-orm-cli migrate up\n\
         \x20 -s <schema>` runs, `cargo run --manifest-path migration/Cargo.toml -- up -s <schema>`\n\
         \x20 (`-u sqlite://<file>?mode=rwc` for SQLite), the crate already built;\n\
         - (d) the same loop over the migration crate's prebuilt binary, `target/debug/migration up\n\
         \x20 -s <schema>` (no cargo per target);\n\
         - (e) a loop of single-target `cargo dbm up --schema <schema>` (`--database-url` for SQLite).\n\n\
         The loops start one process per target: they ran on the first K targets only and their\n\
         N-target times are **extrapolated linearly** (time on K x N / K), marked *extrapolated*.\n\n\
         | engine | N | what | time | per target | time / (a) |\n|---|---:|---|---:|---:|---:|\n",
        o.runs, o.baseline_runs
    );
    for m in results {
        let (e, n) = (&m.engine, m.n);
        let a = m.up_all.as_secs_f64();
        let _ = writeln!(
            s,
            "| {e} | {n} | (a) `cargo dbm up --all`, 5 migrations to each target | **{}** | {} | |",
            secs(m.up_all),
            per(m.up_all, n)
        );
        let _ = writeln!(
            s,
            "| {e} | {n} | (b) `cargo dbm status --all`, all up to date | **{}** | {} | |",
            secs(m.status),
            per(m.status, n)
        );
        let _ = writeln!(
            s,
            "| {e} | {n} | (b) `cargo dbm up --all`, all up to date | {} | {} | |",
            secs(m.up_noop),
            per(m.up_noop, n)
        );
        let sqlite = e.starts_with("SQLite");
        for (b, what) in [
            (
                Baseline::CargoRun,
                if sqlite {
                    "(c) loop of `cargo run -- up -u sqlite://FILE?mode=rwc`"
                } else {
                    "(c) loop of `cargo run -- up -s SCHEMA`"
                },
            ),
            (
                Baseline::OwnBinary,
                if sqlite {
                    "(d) loop of `target/debug/migration up -u sqlite://FILE?mode=rwc`"
                } else {
                    "(d) loop of `target/debug/migration up -s SCHEMA`"
                },
            ),
            (
                Baseline::DbmLoop,
                if sqlite {
                    "(e) loop of `cargo dbm up --database-url sqlite://FILE`"
                } else {
                    "(e) loop of `cargo dbm up --schema SCHEMA`"
                },
            ),
        ] {
            let t = m.baseline(b);
            let how = if m.k < n {
                format!(" (*extrapolated* from {} targets)", m.k)
            } else {
                String::new()
            };
            let _ = writeln!(
                s,
                "| {e} | {n} | {what}{how} | {} | {} | **{:.1}x** |",
                secs(t),
                per(t, n),
                t.as_secs_f64() / a
            );
        }
        for (j, t) in &m.sweep {
            let _ = writeln!(
                s,
                "| {e} | {n} | (a) with `--jobs {j}` | {} | {} | |",
                secs(*t),
                per(*t, n)
            );
        }
    }
    // Growth: time per target at the largest N over time per target at the smallest.
    let mut growth = String::new();
    for e in results
        .iter()
        .map(|m| m.engine.clone())
        .collect::<std::collections::BTreeSet<_>>()
    {
        let of: Vec<&Measured> = results.iter().filter(|m| m.engine == e).collect();
        if let (Some(lo), Some(hi)) = (of.first(), of.last())
            && lo.n < hi.n
        {
            let g = |f: fn(&Measured) -> Duration| {
                (f(hi).as_secs_f64() / hi.n as f64) / (f(lo).as_secs_f64() / lo.n as f64)
            };
            let _ = writeln!(
                growth,
                "- {e}, N = {} to {}: time per target x{:.2} for (a) `up --all`, x{:.2} for `status --all`, x{:.2} for an up-to-date `up --all` (1.00 = linear in N).",
                lo.n,
                hi.n,
                g(|m| m.up_all),
                g(|m| m.status),
                g(|m| m.up_noop)
            );
        }
    }
    if !growth.is_empty() {
        s.push('\n');
        s.push_str(&growth);
    }
    s
}
