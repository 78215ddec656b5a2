//! `cargo xtask bench capture [N] [--engine sqlite|postgres|all] [--runs R] [--no-docs]`:
//! the commands of issue #13 that run migrations through the capture runner, on the
//! N-migration workspace of `cargo xtask bench migrations` (`target/bench/ws{N}`, each
//! migration creates a table; default N = 1,000):
//!
//! 1. `cargo dbm up --dry-run` with N pending against `cargo dbm up` applying the same N, each
//!    on its own copy of the same empty database, as a ratio;
//! 2. `cargo dbm sql base..head -o FILE`, the script's size, and for context how long the
//!    engine's shell (`sqlite3 DB < FILE`, `psql -f FILE`) takes to apply it;
//! 3. `cargo dbm lint base..head` (exit 22 when a rule reports an error: recorded, not a
//!    failure).
//!
//! Every command runs once as a warm-up first (that run builds the runners: compile time is
//! excluded from the figures and shown apart), then `--runs` times (default 3); the table
//! shows the median and the best. `--engine postgres` runs the same on a throwaway
//! PostgreSQL cluster (`tests/cli/support/pg.rs`). Writes the table to `docs/benchmarks.md`
//! under `## Dry run, scripts and lint (#13)` unless `--no-docs`.

#[path = "../../tests/cli/support/pg.rs"]
mod pg;

use crate::bench::{loadavg, median, ms, sqlite_url, write_migrations, write_section};
use crate::repo;
use anyhow::{Context, Result, bail};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const HEADING: &str = "## Dry run, scripts and lint (#13)";

#[derive(Clone, Copy, PartialEq)]
enum Engine {
    Sqlite,
    Postgres,
}

impl Engine {
    fn name(self) -> &'static str {
        match self {
            Engine::Sqlite => "SQLite",
            Engine::Postgres => "PostgreSQL",
        }
    }
}

pub fn run(args: &[String]) -> Result<()> {
    let mut n = 1000;
    let mut runs = 3;
    let mut engines = vec![Engine::Sqlite];
    let mut docs = true;
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--engine" => {
                engines = match it.next().map(String::as_str) {
                    Some("sqlite") => vec![Engine::Sqlite],
                    Some("postgres" | "postgresql" | "pg") => vec![Engine::Postgres],
                    Some("all") => vec![Engine::Sqlite, Engine::Postgres],
                    other => bail!("--engine sqlite|postgres|all, not {other:?}"),
                }
            }
            "--runs" => {
                runs = it
                    .next()
                    .context("--runs R")?
                    .parse()
                    .context("--runs takes a number")?;
                if runs == 0 {
                    bail!("--runs must be at least 1");
                }
            }
            "--no-docs" => docs = false,
            num => {
                n = num
                    .replace('_', "")
                    .parse()
                    .with_context(|| format!("bad argument {num}; try `cargo xtask bench capture [N] [--engine sqlite|postgres|all] [--runs R] [--no-docs]`"))?
            }
        }
    }
    let load = loadavg();
    let repo = repo();
    let dbm = crate::release_dbm()?;
    let ws = workspace(&repo, &dbm, n)?;
    let mut results = Vec::new();
    for engine in engines {
        results.push(measure(&repo, &dbm, &ws, n, runs, engine)?);
    }
    let report = render(&results, n, runs, &load);
    println!("{report}");
    if docs {
        write_section(&repo.join("docs/benchmarks.md"), HEADING, &report)?;
        eprintln!("written to docs/benchmarks.md ({HEADING})");
    }
    Ok(())
}

/// The shared N-migration workspace of `bench migrations` (kept between runs: compiling a
/// 1,000-migration crate takes minutes on 2 cores).
fn workspace(repo: &Path, dbm: &Path, n: usize) -> Result<PathBuf> {
    let (ws, made) = crate::bench::init_workspace(repo, dbm, &format!("ws{n}"), "data/bench.db")?;
    if made {
        write_migrations(&ws, n)?;
    }
    Ok(ws)
}

fn target(repo: &Path) -> PathBuf {
    crate::bench::fixtures_target(repo)
}

/// Where the databases live.
enum Dbs {
    Sqlite(PathBuf),
    Postgres(pg::PgCluster),
}

impl Dbs {
    fn url(&self, name: &str) -> String {
        match self {
            Dbs::Sqlite(dir) => sqlite_url(&self.sqlite_path(dir, name)),
            Dbs::Postgres(pg) => pg.url(name),
        }
    }

    fn sqlite_path(&self, dir: &Path, name: &str) -> PathBuf {
        dir.join(format!("{name}.db"))
    }

    /// Makes database `name` exist and be empty (no table, no tracking table): the state
    /// every measured command starts from.
    fn empty(&self, name: &str) -> Result<()> {
        match self {
            Dbs::Sqlite(dir) => {
                let path = self.sqlite_path(dir, name);
                crate::bench::fresh(&path);
                // A zero-byte file is an empty SQLite database, and one that exists: a dry
                // run of a missing file would run on a scratch database instead.
                std::fs::write(&path, b"")?;
            }
            Dbs::Postgres(pg) => {
                pg.psql("postgres", &format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"));
                pg.create_database(name);
            }
        }
        Ok(())
    }

    /// Tables in database `name` (a dry run must leave none).
    fn tables(&self, name: &str) -> Result<usize> {
        let out = match self {
            Dbs::Sqlite(dir) => {
                let out = Command::new("sqlite3")
                    .arg(self.sqlite_path(dir, name))
                    .arg("SELECT count(*) FROM sqlite_master WHERE type = 'table'")
                    .output()?;
                if !out.status.success() {
                    bail!("sqlite3: {}", String::from_utf8_lossy(&out.stderr));
                }
                String::from_utf8_lossy(&out.stdout).trim().to_string()
            }
            Dbs::Postgres(pg) => pg.psql(
                name,
                "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public'",
            ),
        };
        out.parse().with_context(|| format!("table count {out:?}"))
    }

    /// The engine's own shell applying a script to database `name`.
    fn apply_script(&self, name: &str, file: &Path) -> Result<Command> {
        Ok(match self {
            Dbs::Sqlite(dir) => {
                let mut c = Command::new("sqlite3");
                c.arg(self.sqlite_path(dir, name)).stdin(std::fs::File::open(file)?);
                c
            }
            Dbs::Postgres(pg) => {
                let mut c = Command::new(pg.bin_dir().join("psql"));
                c.args(["-X", "-q", "-v", "ON_ERROR_STOP=1", "-f"])
                    .arg(file)
                    .arg("-d")
                    .arg(self.url(name))
                    .stdin(Stdio::null());
                c
            }
        })
    }
}

/// One command's wall time, exit code and what it wrote.
struct Run {
    time: Duration,
    code: i32,
    stdout_bytes: u64,
    stderr: String,
}

/// Runs `cmd`, stdout into `out` (a file: what a user redirecting it would pay), stderr kept.
fn timed(cmd: &mut Command, out: &Path, ok_codes: &[i32]) -> Result<Run> {
    cmd.stdout(std::fs::File::create(out)?).stderr(Stdio::piped());
    let start = Instant::now();
    let output = cmd.output().with_context(|| format!("{cmd:?}"))?;
    let time = start.elapsed();
    let code = output.status.code().unwrap_or(-1);
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    if !ok_codes.contains(&code) {
        bail!("{cmd:?} exited with {}:\n{stderr}", output.status);
    }
    Ok(Run {
        time,
        code,
        stdout_bytes: std::fs::metadata(out).map(|m| m.len()).unwrap_or(0),
        stderr,
    })
}

/// Median and best of some runs.
#[derive(Clone, Copy)]
struct Stat {
    median: Duration,
    best: Duration,
}

impl Stat {
    fn of(times: &[Duration]) -> Stat {
        Stat {
            median: median(times.to_vec()),
            best: *times.iter().min().unwrap(),
        }
    }
}

/// Everything measured on one engine.
struct Measured {
    engine: String,
    warm_dry: Duration,
    warm_up: Duration,
    dry: Stat,
    up: Stat,
    dry_bytes: u64,
    sql: Stat,
    sql_bytes: u64,
    sql_wrote: String,
    apply: Stat,
    lint: Stat,
    lint_code: i32,
    lint_summary: String,
}

fn measure(repo: &Path, dbm: &Path, ws: &Path, n: usize, runs: usize, engine: Engine) -> Result<Measured> {
    let work = repo.join("target/bench/capture");
    std::fs::create_dir_all(&work)?;
    let dbs = match engine {
        Engine::Sqlite => Dbs::Sqlite(work.clone()),
        Engine::Postgres => Dbs::Postgres(pg::PgCluster::start()),
    };
    let version = match &dbs {
        Dbs::Sqlite(_) => {
            let out = Command::new("sqlite3").arg("--version").output()?;
            let v = String::from_utf8_lossy(&out.stdout);
            format!("SQLite {}", v.split_whitespace().next().unwrap_or("?"))
        }
        Dbs::Postgres(pg) => {
            let v = pg.psql("postgres", "SHOW server_version");
            format!("PostgreSQL {}", v.split_whitespace().next().unwrap_or("?"))
        }
    };
    let target = target(repo);
    let dbm_cmd = |db: &str, args: &[&str]| -> Command {
        let mut c = Command::new(dbm);
        c.arg("dbm")
            .args(args)
            .current_dir(ws)
            .env("CARGO_TARGET_DIR", &target)
            .env("DATABASE_URL", dbs.url(db));
        c
    };
    let out = |what: &str| work.join(format!("{what}.out"));
    let say = |what: &str, r: &Run| eprintln!("   {what}: {} (exit {})", ms(r.time), r.code);

    // Warm-ups: the first dry run builds the capture runner, the first `up` the runner.
    eprintln!(
        "== {} ({version}): warm-up (builds the runners when needed)",
        engine.name()
    );
    dbs.empty("dry")?;
    let warm_dry = timed(&mut dbm_cmd("dry", &["up", "--dry-run"]), &out("dry"), &[0])?;
    say("up --dry-run (warm-up)", &warm_dry);
    dbs.empty("up")?;
    let warm_up = timed(&mut dbm_cmd("up", &["up"]), &out("up"), &[0])?;
    say("up (warm-up)", &warm_up);
    if dbs.tables("up")? < n {
        bail!("`cargo dbm up` left fewer than {n} tables");
    }

    // 1. The dry run against applying, alternated so that both see the same load.
    let (mut dry, mut up) = (Vec::new(), Vec::new());
    let mut dry_bytes = 0;
    for i in 1..=runs {
        dbs.empty("dry")?;
        let r = timed(&mut dbm_cmd("dry", &["up", "--dry-run"]), &out("dry"), &[0])?;
        say(&format!("up --dry-run #{i}"), &r);
        dry_bytes = r.stdout_bytes;
        dry.push(r.time);
        let left = dbs.tables("dry")?;
        if left != 0 {
            bail!("the dry run left {left} table(s) behind");
        }
        dbs.empty("up")?;
        let r = timed(&mut dbm_cmd("up", &["up"]), &out("up"), &[0])?;
        say(&format!("up #{i}"), &r);
        up.push(r.time);
    }

    // 2. The script of every migration, and the engine's shell applying it.
    let script = work.join("script.sql");
    dbs.empty("sql")?;
    let sql_args = ["sql", "base..head", "-o", script.to_str().context("non-UTF-8 path")?];
    let r = timed(&mut dbm_cmd("sql", &sql_args), &out("sql"), &[0])?;
    say("sql (warm-up)", &r);
    let mut sql = Vec::new();
    let mut sql_wrote = String::new();
    for i in 1..=runs {
        let r = timed(&mut dbm_cmd("sql", &sql_args), &out("sql"), &[0])?;
        say(&format!("sql #{i}"), &r);
        sql.push(r.time);
        sql_wrote = r
            .stderr
            .lines()
            .find(|l| l.contains("Wrote"))
            .and_then(|l| l.split_once(" ("))
            .map(|(_, rest)| rest.trim_end_matches(')').to_string())
            .unwrap_or_default();
    }
    let sql_bytes = std::fs::metadata(&script)?.len();
    let mut apply = Vec::new();
    for i in 1..=runs {
        dbs.empty("applied")?;
        let r = timed(&mut dbs.apply_script("applied", &script)?, &out("apply"), &[0])?;
        say(&format!("apply the script #{i}"), &r);
        if !r.stderr.trim().is_empty() {
            bail!("applying the script printed errors:\n{}", r.stderr);
        }
        apply.push(r.time);
        let tables = dbs.tables("applied")?;
        if tables < n {
            bail!("the script made {tables} tables, not {n}");
        }
    }

    // 3. lint (exit 22: a rule reported an error; that is a result, not a failure).
    dbs.empty("lint")?;
    let r = timed(&mut dbm_cmd("lint", &["lint", "base..head"]), &out("lint"), &[0, 22])?;
    say("lint (warm-up)", &r);
    let mut lint = Vec::new();
    let mut lint_code = 0;
    let mut lint_summary = String::new();
    for i in 1..=runs {
        let r = timed(&mut dbm_cmd("lint", &["lint", "base..head"]), &out("lint"), &[0, 22])?;
        say(&format!("lint #{i}"), &r);
        lint.push(r.time);
        lint_code = r.code;
        lint_summary = r
            .stderr
            .lines()
            .find(|l| l.contains("Linted"))
            .and_then(|l| l.split_once(": "))
            .map(|(_, rest)| rest.trim().to_string())
            .unwrap_or_default();
    }

    Ok(Measured {
        engine: version,
        warm_dry: warm_dry.time,
        warm_up: warm_up.time,
        dry: Stat::of(&dry),
        up: Stat::of(&up),
        dry_bytes,
        sql: Stat::of(&sql),
        sql_bytes,
        sql_wrote,
        apply: Stat::of(&apply),
        lint: Stat::of(&lint),
        lint_code,
        lint_summary,
    })
}

fn secs(d: Duration) -> String {
    format!("{:.2} s", d.as_secs_f64())
}

fn stat(s: Stat) -> String {
    format!("{} (best {})", secs(s.median), secs(s.best))
}

fn mb(bytes: u64) -> String {
    format!("{:.2} MB", bytes as f64 / 1e6)
}

fn render(results: &[Measured], n: usize, runs: usize, load: &str) -> String {
    let mut s = format!(
        "{HEADING}\n\n\
         Measured by `cargo xtask bench capture {n} --runs {runs}` on this 2-core machine (load\n\
         average {load} when the run began), release `cargo-dbm`, on the {n}-migration workspace of\n\
         `cargo xtask bench migrations` (each migration creates a table of three columns). Every\n\
         command starts from an empty database of its own and ran once as a warm-up first, which\n\
         built the runners: compile time is excluded. Median of {runs} runs, best in brackets.\n\n\
         | engine | what | time | note |\n|---|---|---:|---|\n"
    );
    for m in results {
        let e = &m.engine;
        let ratio = m.dry.median.as_secs_f64() / m.up.median.as_secs_f64();
        let _ = writeln!(s, "| {e} | `cargo dbm up` applying {n} | {} | |", stat(m.up));
        let _ = writeln!(
            s,
            "| {e} | `cargo dbm up --dry-run`, {n} pending | {} | **{ratio:.2}x the time of applying**; {} of statements on stdout |",
            stat(m.dry),
            mb(m.dry_bytes)
        );
        let _ = writeln!(
            s,
            "| {e} | `cargo dbm sql base..head -o FILE` | {} | {}; {} |",
            stat(m.sql),
            mb(m.sql_bytes),
            m.sql_wrote
        );
        let shell = if e.starts_with("SQLite") {
            "`sqlite3 DB < FILE`"
        } else {
            "`psql -f FILE`"
        };
        let _ = writeln!(
            s,
            "| {e} | {shell} (for context) | {} | the engine's shell applying that script |",
            stat(m.apply)
        );
        let _ = writeln!(
            s,
            "| {e} | `cargo dbm lint base..head` | {} | exit {}; {} |",
            stat(m.lint),
            m.lint_code,
            m.lint_summary
        );
        let _ = writeln!(
            s,
            "| {e} | first `up --dry-run` / first `up` (warm-up) | {} / {} | includes building the capture runner / the runner when they were stale |",
            secs(m.warm_dry),
            secs(m.warm_up)
        );
    }
    s
}
