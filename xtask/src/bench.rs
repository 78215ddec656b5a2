//! `cargo xtask bench [migrations|backup|seed|all]`: speed, side by side with the tool a user
//! would otherwise run, as ratios. Figures go to docs/benchmarks.md.
//!
//! `migrations`: a workspace with 1,000 migrations (each creates a table), on SQLite:
//! - `cargo dbm status` and an up-to-date `cargo dbm up` against `cargo run -p migration --
//!   status` / `up` (what `sea-orm-cli migrate status` runs) in the same workspace;
//! - applying the 1,000 migrations to an empty database: `cargo dbm up` against the migration
//!   crate's own binary (`target/debug/migration up`), both already built.
//!
//! `--engine mariadb` runs the same three comparisons on a throwaway MariaDB server
//! (`mariadb.rs`), in a workspace of its own (`target/bench/ws{N}-mariadb`) whose migration
//! crate also enables sea-orm-migration's `sqlx-mysql` feature, as a MariaDB user's does;
//! `--engine all` runs both. `--no-docs`: print the table without writing
//! `docs/benchmarks.md`.

#[path = "../../tests/cli/support/migration_file.rs"]
mod migration_file;

use crate::{cargo, copy_dir, repo, sh};
use anyhow::{Context, Result, bail};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

pub fn run(args: &[String]) -> Result<()> {
    match args.first().map(String::as_str) {
        None | Some("migrations") => {
            let rest = args.get(1..).unwrap_or(&[]);
            let mut n = 1000;
            let mut engines = vec![Engine::Sqlite];
            let mut docs = true;
            let mut it = rest.iter();
            while let Some(a) = it.next() {
                match a.as_str() {
                    "--engine" => {
                        engines = match it.next().map(String::as_str) {
                            Some("sqlite") => vec![Engine::Sqlite],
                            Some("mariadb" | "mysql") => vec![Engine::MariaDb],
                            Some("all") => vec![Engine::Sqlite, Engine::MariaDb],
                            other => bail!("--engine sqlite|mariadb|all, not {other:?}"),
                        }
                    }
                    "--no-docs" => docs = false,
                    num => {
                        n = num
                            .replace('_', "")
                            .parse()
                            .with_context(|| format!("bad argument {num}"))?
                    }
                }
            }
            for engine in engines {
                migrations(n, engine, docs)?;
            }
            Ok(())
        }
        Some(other) => bail!(
            "unknown benchmark `{other}`; try `cargo xtask bench migrations [N] [--engine sqlite|mariadb|all] [--no-docs]`"
        ),
    }
}

#[derive(Clone, Copy, PartialEq)]
enum Engine {
    Sqlite,
    MariaDb,
}

/// Where the benchmark's databases live: SQLite files, or databases of a throwaway server.
enum Dbs {
    Sqlite { dir: PathBuf, main: PathBuf },
    MariaDb(crate::mariadb::MariaDb),
}

impl Dbs {
    /// The URL of database `name` (`main`: the one `status` reads).
    fn url(&self, name: &str) -> String {
        match self {
            Dbs::Sqlite { main, .. } if name == "main" => sqlite_url(main),
            Dbs::Sqlite { dir, .. } => sqlite_url(&dir.join(format!("{name}.db"))),
            Dbs::MariaDb(server) => server.url(name),
        }
    }

    /// The URL the migration crate's own binary is given: it does not create a SQLite file.
    fn own_url(&self, name: &str) -> String {
        match self {
            Dbs::Sqlite { .. } => format!("{}?mode=rwc", self.url(name)),
            Dbs::MariaDb(_) => self.url(name),
        }
    }

    /// Makes database `name` empty.
    fn fresh(&self, name: &str) -> Result<()> {
        match self {
            Dbs::Sqlite { main, .. } if name == "main" => fresh(main),
            Dbs::Sqlite { dir, .. } => fresh(&dir.join(format!("{name}.db"))),
            Dbs::MariaDb(server) => {
                server.sql("", &format!("DROP DATABASE IF EXISTS `{name}`"))?;
                server.create_database(name)?;
            }
        }
        Ok(())
    }
}

pub(crate) fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

pub(crate) fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1000.0)
}

/// Runs a command `n` times (after one warm-up), returning the median wall time.
fn time(n: usize, mut make: impl FnMut() -> Command, ok_codes: &[i32]) -> Result<Duration> {
    let mut times = Vec::new();
    for i in 0..=n {
        let mut cmd = make();
        cmd.stdout(Stdio::null()).stderr(Stdio::null());
        let start = Instant::now();
        let status = cmd.status().with_context(|| format!("{cmd:?}"))?;
        let elapsed = start.elapsed();
        let code = status.code().unwrap_or(-1);
        if !ok_codes.contains(&code) {
            bail!("{cmd:?} exited with {status}");
        }
        if i > 0 {
            times.push(elapsed);
        }
    }
    Ok(median(times))
}

fn migrations(n: usize, engine: Engine, docs: bool) -> Result<()> {
    let repo = repo();
    let dbm = crate::release_dbm()?;
    let bench = repo.join("target/bench");
    std::fs::create_dir_all(&bench)?;
    let (ws, dbs) = match engine {
        Engine::Sqlite => {
            let ws = bench.join(format!("ws{n}"));
            let main = ws.join("data/bench.db");
            (
                ws,
                Dbs::Sqlite {
                    dir: bench.clone(),
                    main,
                },
            )
        }
        Engine::MariaDb => (
            bench.join(format!("ws{n}-mariadb")),
            Dbs::MariaDb(crate::mariadb::MariaDb::start(&bench)?),
        ),
    };
    // Shared with the integration tests: sea-orm is compiled once per machine.
    let target = repo.join("target/tmp/fixtures-target");
    // Kept between runs: compiling a 1,000-migration crate takes minutes on 2 cores.
    let fresh_ws = !ws.join("migration/src/lib.rs").exists();
    if fresh_ws {
        copy_dir(&repo.join("example"), &ws)?;
    }

    let run_dbm = |args: &[&str], db: &str| -> Command {
        let mut c = Command::new(&dbm);
        c.arg("dbm")
            .args(args)
            .current_dir(&ws)
            .env("CARGO_TARGET_DIR", &target)
            .env("DATABASE_URL", dbs.url(db));
        c
    };
    if fresh_ws {
        if engine == Engine::MariaDb {
            dbs.fresh("main")?;
        }
        sh(&mut run_dbm(&["init"], "main"))?;
        write_migrations(&ws, n)?;
    }
    if engine == Engine::MariaDb {
        // `cargo dbm init` writes the drivers of SQLite and PostgreSQL; a MariaDB user adds
        // MySQL's so that `cargo run -p migration` can connect.
        let manifest = ws.join("migration/Cargo.toml");
        let text = std::fs::read_to_string(&manifest)?;
        if !text.contains("\"sqlx-mysql\"") {
            let patched = text.replacen("\"sqlx-postgres\"", "\"sqlx-postgres\", \"sqlx-mysql\"", 1);
            if patched == text {
                bail!("no sqlx-postgres feature to extend in {}", manifest.display());
            }
            std::fs::write(&manifest, patched)?;
        }
    }

    // The migration crate's own binary, as `cargo run -p migration` builds it.
    sh(cargo()
        .current_dir(&ws)
        .env("CARGO_TARGET_DIR", &target)
        .args(["build", "-p", "migration"]))?;
    let own_bin = target.join("debug/migration");
    // And cargo dbm's runner, built once on a scratch database.
    dbs.fresh("scratch")?;
    sh(&mut run_dbm(&["up"], "scratch"))?;

    // 1. Applying N migrations to an empty database (3 runs each, median).
    let apply_runs = 3;
    let mut own = Vec::new();
    let mut ours = Vec::new();
    for _ in 0..apply_runs {
        dbs.fresh("apply_own")?;
        eprintln!("$ {} up", own_bin.display());
        let start = Instant::now();
        let out = Command::new(&own_bin)
            .arg("up")
            .current_dir(&ws)
            .env("DATABASE_URL", dbs.own_url("apply_own"))
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .output()?;
        own.push(start.elapsed());
        if !out.status.success() {
            bail!(
                "the migration crate's binary failed to apply: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        eprintln!("   {}", ms(*own.last().unwrap()));
        dbs.fresh("apply_dbm")?;
        eprintln!("$ cargo dbm up");
        let start = Instant::now();
        let out = run_dbm(&["up"], "apply_dbm")
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .output()?;
        ours.push(start.elapsed());
        if !out.status.success() {
            bail!("cargo dbm up failed to apply: {}", String::from_utf8_lossy(&out.stderr));
        }
        eprintln!("   {}", ms(*ours.last().unwrap()));
    }
    let (own_apply, dbm_apply) = (median(own), median(ours));

    // 2. status and an up-to-date up, on the fully migrated database.
    dbs.fresh("main")?;
    sh(&mut run_dbm(&["up"], "main"))?;
    let reps = 10;
    let cargo_run = |cmd: &str| {
        let mut c = cargo();
        c.current_dir(&ws)
            .env("CARGO_TARGET_DIR", &target)
            .env("DATABASE_URL", dbs.url("main"))
            .args(["run", "-q", "-p", "migration", "--", cmd]);
        c
    };
    let sea_status = time(reps, || cargo_run("status"), &[0])?;
    let dbm_status = time(reps, || run_dbm(&["status"], "main"), &[0])?;
    let sea_up = time(reps, || cargo_run("up"), &[0])?;
    let dbm_up = time(reps, || run_dbm(&["up"], "main"), &[0])?;

    let load = std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|l| l.split_whitespace().next().map(str::to_string))
        .unwrap_or_else(|| "?".into());
    if let Dbs::MariaDb(server) = &dbs {
        let report = format!(
            "## Migrations on MariaDB ({n} migrations)\n\n\
             Measured by `cargo xtask bench migrations {n} --engine mariadb` on this 2-core machine\n\
             (load average {load} when the run began), on a throwaway MariaDB {} server (`xtask/src/mariadb.rs`:\n\
             no binary log, `innodb_flush_log_at_trx_commit=0`); release `cargo-dbm`, the migration\n\
             crate built in debug as `cargo run` builds it, with sea-orm-migration's `sqlx-mysql`\n\
             feature; medians of {reps} runs (status/up-to-date) and {apply_runs} runs (apply).\n\n\
             | what | sea-orm-migration | cargo dbm | ratio |\n|---|---:|---:|---:|\n\
             | `status` (`cargo run -p migration -- status`) | {} | {} | **{:.1}x faster** |\n\
             | up-to-date `up` (`cargo run -p migration -- up`) | {} | {} | **{:.1}x faster** |\n\
             | apply {n} to an empty database (crate's own binary vs `cargo dbm up`) | {} | {} | **{:.2}x the time** |\n\n\
             - MySQL and MariaDB commit every DDL statement implicitly: neither side runs a migration\n\
             \x20 in a transaction there (the runner's `use_transaction` defaults to false on MySQL), so\n\
             \x20 applying costs one CREATE TABLE (a new `.ibd` file) and the tracking-row commits of each\n\
             \x20 migration on both sides.\n",
            server.version(),
            ms(sea_status),
            ms(dbm_status),
            sea_status.as_secs_f64() / dbm_status.as_secs_f64(),
            ms(sea_up),
            ms(dbm_up),
            sea_up.as_secs_f64() / dbm_up.as_secs_f64(),
            ms(own_apply),
            ms(dbm_apply),
            dbm_apply.as_secs_f64() / own_apply.as_secs_f64(),
        );
        println!("{report}");
        if docs {
            write_section(&repo.join("docs/benchmarks.md"), "## Migrations on MariaDB", &report)?;
            eprintln!("written to docs/benchmarks.md");
        }
        return Ok(());
    }
    let report = format!(
        "## Migrations ({n} migrations, SQLite)\n\n\
         Measured by `cargo xtask bench migrations {n}` on this 2-core machine (load average {load}\n\
         when the run began): release `cargo-dbm`, the migration crate built in debug as `cargo run`\n\
         builds it; medians of {reps} runs (status/up-to-date) and {apply_runs} runs (apply).\n\n\
         | what | sea-orm-migration | cargo dbm | ratio | target |\n|---|---:|---:|---:|---:|\n\
         | `status` (`cargo run -p migration -- status`) | {} | {} | **{:.1}x faster** | 10x |\n\
         | up-to-date `up` (`cargo run -p migration -- up`) | {} | {} | **{:.1}x faster** | 10x |\n\
         | apply {n} to an empty database (crate's own binary vs `cargo dbm up`) | {} | {} | **{:.2}x the time** | 1.2x |\n\n\
         - `status` and an up-to-date `up` never compile and never ask cargo to check a build. They\n\
         \x20 read the tracking table and the Migrator's list, and take both from the cache\n\
         \x20 (`src/cache.rs`) while nothing changed: what `cargo metadata` said (20-40 ms on its own\n\
         \x20 here) and each migration file's version and checksum, checked by a `stat` of each file.\n\
         \x20 What remains is mostly SQLite parsing a 1,000-table schema and 2,000 rows.\n\
         - Applying runs each migration and its two tracking rows in one transaction (one commit),\n\
         \x20 where sea-orm-migration on SQLite commits the DDL and the tracking row separately. The\n\
         \x20 time includes cargo's check that the runner is fresh; the resolved sea-orm-migration\n\
         \x20 version comes from the cache, not from a full `cargo metadata`.\n",
        ms(sea_status),
        ms(dbm_status),
        sea_status.as_secs_f64() / dbm_status.as_secs_f64(),
        ms(sea_up),
        ms(dbm_up),
        sea_up.as_secs_f64() / dbm_up.as_secs_f64(),
        ms(own_apply),
        ms(dbm_apply),
        dbm_apply.as_secs_f64() / own_apply.as_secs_f64(),
    );
    println!("{report}");
    if docs {
        // `## Migrations (`: not the `## Migrations on MariaDB` section.
        write_section(&repo.join("docs/benchmarks.md"), "## Migrations (", &report)?;
        eprintln!("written to docs/benchmarks.md");
    }
    Ok(())
}

pub(crate) fn sqlite_url(p: &Path) -> String {
    format!("sqlite://{}", p.display())
}

pub(crate) fn fresh(db: &Path) {
    if let Some(dir) = db.parent() {
        let _ = std::fs::create_dir_all(dir);
    }
    for suffix in ["", "-wal", "-shm", ".dbm-lock"] {
        let mut p = db.as_os_str().to_owned();
        p.push(suffix);
        let _ = std::fs::remove_file(PathBuf::from(p));
    }
}

/// N migrations, each creating a table with a few columns and an index.
pub(crate) fn write_migrations(ws: &Path, n: usize) -> Result<()> {
    let src = ws.join("migration/src");
    let mut mods = String::new();
    let mut list = String::new();
    for i in 0..n {
        let name = format!("m20240101_{:06}_create_t{i}", i + 1);
        std::fs::write(
            src.join(format!("{name}.rs")),
            migration_file::migration_file(
                &format!(
                    r#"        manager
            .create_table(
                Table::create()
                    .table(Alias::new("t{i}"))
                    .col(ColumnDef::new(Alias::new("id")).integer().not_null().primary_key())
                    .col(ColumnDef::new(Alias::new("name")).string().not_null())
                    .col(ColumnDef::new(Alias::new("created_at")).big_integer())
                    .to_owned(),
            )
            .await
"#
                ),
                &format!("        manager.drop_table(Table::drop().table(Alias::new(\"t{i}\")).to_owned()).await\n"),
                "",
            ),
        )?;
        mods.push_str(&format!("mod {name};\n"));
        list.push_str(&format!("            Box::new({name}::Migration),\n"));
    }
    let lib = format!(
        "pub use sea_orm_migration::prelude::*;\n\n{mods}\npub struct Migrator;\n\n#[async_trait::async_trait]\nimpl MigratorTrait for Migrator {{\n    fn migrations() -> Vec<Box<dyn MigrationTrait>> {{\n        vec![\n{list}        ]\n    }}\n}}\n"
    );
    std::fs::write(src.join("lib.rs"), lib)?;
    Ok(())
}

/// Replaces (or appends) one `## ` section of a markdown file.
pub fn write_section(path: &Path, heading: &str, body: &str) -> Result<()> {
    let text = std::fs::read_to_string(path).unwrap_or_else(|_| "# Benchmarks\n\n".to_string());
    let mut out = String::new();
    let mut skipping = false;
    let mut replaced = false;
    for line in text.lines() {
        if line.starts_with("## ") {
            skipping = line.starts_with(heading);
            if skipping && !replaced {
                out.push_str(body);
                out.push('\n');
                replaced = true;
            }
        }
        if !skipping {
            out.push_str(line);
            out.push('\n');
        }
    }
    if !replaced {
        if !out.ends_with("\n\n") {
            out.push('\n');
        }
        out.push_str(body);
    }
    std::fs::write(path, out)?;
    Ok(())
}

/// Shared with the integration tests and every bench: sea-orm is compiled once.
pub fn fixtures_target(repo: &Path) -> PathBuf {
    repo.join("target/tmp/fixtures-target")
}

/// The load average (1, 5 and 15 minutes), for the figures' context.
pub fn loadavg() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .map(|l| l.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|| "?".into())
}

/// `target/bench/<name>`: `example/` after `cargo dbm init` on the SQLite database `db`
/// (relative to it), made once and kept between runs. True when it was made now.
pub fn init_workspace(repo: &Path, dbm: &Path, name: &str, db: &str) -> Result<(PathBuf, bool)> {
    let bench = repo.join("target/bench");
    let ws = bench.join(name);
    if ws.join("migration/src/lib.rs").exists() {
        return Ok((ws, false));
    }
    copy_dir(&repo.join("example"), &ws)?;
    let db = ws.join(db);
    fresh(&db);
    sh(Command::new(dbm)
        .args(["dbm", "init"])
        .current_dir(&ws)
        .env("CARGO_TARGET_DIR", fixtures_target(repo))
        .env("DATABASE_URL", sqlite_url(&db))
        // Not the project's clone: `init` would add its merge driver to the project's
        // `.gitattributes` and git configuration.
        .env("GIT_CEILING_DIRECTORIES", &bench))?;
    Ok((ws, true))
}
