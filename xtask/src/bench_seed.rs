//! `cargo xtask bench seed [--rows N] [--loop-rows N] [--engine sqlite,postgres,mariadb]`:
//! seeding speed, side by side on the same CSV of N rows (default 1,000,000), on SQLite, on
//! a throwaway PostgreSQL cluster and on a throwaway MariaDB server (`mariadb.rs`):
//!
//! - `cargo dbm seed` (release build), files only;
//! - a per-row ActiveModel insert loop in one transaction (a small generated sea-orm
//!   program, release build), run on `--loop-rows` rows (default 100,000) and extrapolated
//!   linearly to N, because a million single-row inserts take minutes;
//! - `sqlite3 .import`, `psql \copy` and `LOAD DATA LOCAL INFILE` (server and `mariadb`
//!   client both with `--local-infile=1`), the engines' own bulk loaders.
//!
//! Prints a table and, when every engine ran, writes it to `docs/benchmarks.md` under
//! `## Seeding` (`--no-docs`: print only).

#[path = "../../tests/cli/support/pg.rs"]
mod pg;

use crate::{cargo, repo, sh};
use anyhow::{Context, Result, bail};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

const TABLE_SQL: &str = "CREATE TABLE item (id BIGINT PRIMARY KEY, name TEXT NOT NULL, qty INTEGER NOT NULL, price DOUBLE PRECISION NOT NULL, active BOOLEAN NOT NULL, created_at TIMESTAMP NOT NULL)";

/// The same table on MariaDB: `DATETIME`, what sea-orm's `DateTime` is there (`TIMESTAMP`
/// would convert through the session time zone and stop in 2038).
const MARIADB_TABLE_SQL: &str = "CREATE TABLE item (id BIGINT PRIMARY KEY, name TEXT NOT NULL, qty INTEGER NOT NULL, price DOUBLE PRECISION NOT NULL, active BOOLEAN NOT NULL, created_at DATETIME NOT NULL)";

struct Row {
    engine: &'static str,
    method: String,
    rows: usize,
    secs: f64,
    note: String,
}

fn arg(args: &[String], name: &str, default: usize) -> Result<usize> {
    match args.iter().position(|a| a == name) {
        Some(i) => args
            .get(i + 1)
            .context("missing value")?
            .replace('_', "")
            .parse()
            .with_context(|| format!("bad {name}")),
        None => Ok(default),
    }
}

pub fn run(args: &[String]) -> Result<()> {
    let n = arg(args, "--rows", 1_000_000)?;
    let n_loop = arg(args, "--loop-rows", 100_000)?.min(n);
    let all = ["sqlite", "postgres", "mariadb"];
    let engines: Vec<String> = match args.iter().position(|a| a == "--engine") {
        Some(i) => args
            .get(i + 1)
            .context("--engine sqlite,postgres,mariadb")?
            .split(',')
            .map(|e| match e {
                "pg" | "postgresql" => "postgres".to_string(),
                "mysql" => "mariadb".to_string(),
                e => e.to_string(),
            })
            .collect(),
        None => all.iter().map(|e| e.to_string()).collect(),
    };
    if let Some(bad) = engines.iter().find(|e| !all.contains(&e.as_str())) {
        bail!("unknown engine {bad} (sqlite, postgres, mariadb)");
    }
    let on = |e: &str| engines.iter().any(|x| x == e);
    let docs = all.iter().all(|e| on(e)) && !args.iter().any(|a| a == "--no-docs");
    let repo = repo();
    let work = repo.join("target").join("bench-seed");
    if work.exists() {
        std::fs::remove_dir_all(&work)?;
    }
    std::fs::create_dir_all(&work)?;

    eprintln!("== building cargo-dbm (release) and the ActiveModel loop (release)");
    let dbm = crate::release_dbm()?;
    let looper = build_loop(&repo, &work)?;

    // The workspace `cargo dbm` runs in: the example, with the data as its default profile.
    let ws = work.join("ws");
    crate::copy_dir(&repo.join("example"), &ws)?;
    let csv = ws.join("seeds/default/item.csv");
    std::fs::create_dir_all(csv.parent().unwrap())?;
    write_csv(&csv, n)?;
    let small = work.join("small.csv");
    write_csv(&small, n_loop)?;
    eprintln!(
        "== data: {n} rows, {:.1} MB of CSV",
        std::fs::metadata(&csv)?.len() as f64 / 1e6
    );

    let mut results = Vec::new();

    if on("sqlite") {
        sqlite_rows(&mut results, &dbm, &ws, &work, &csv, &small, &looper, n, n_loop)?;
    }
    if on("postgres") {
        postgres_rows(&mut results, &dbm, &ws, &csv, &small, &looper, n, n_loop)?;
    }
    if on("mariadb") {
        mariadb_rows(&mut results, &dbm, &ws, &work, &csv, &small, &looper, n, n_loop)?;
    }

    let table = render(&results, n);
    println!("{table}");
    if docs {
        write_docs(&repo.join("docs/benchmarks.md"), &table)?;
        eprintln!("written to docs/benchmarks.md (## Seeding)");
    }
    Ok(())
}

#[allow(clippy::too_many_arguments)]
fn sqlite_rows(
    results: &mut Vec<Row>,
    dbm: &Path,
    ws: &Path,
    work: &Path,
    csv: &Path,
    small: &Path,
    looper: &Path,
    n: usize,
    n_loop: usize,
) -> Result<()> {
    let db = work.join("bench.db");
    let fresh_sqlite = || -> Result<()> {
        for ext in ["", "-wal", "-shm", "-journal"] {
            let _ = std::fs::remove_file(format!("{}{ext}", db.display()));
        }
        sqlite(&db, TABLE_SQL)
    };
    let url = format!("sqlite://{}", db.display());
    let secs = best(&fresh_sqlite, || {
        let mut c = Command::new(&dbm);
        c.args(["dbm", "seed", "--quiet", "--database-url", &url])
            .current_dir(ws);
        c
    })?;
    check_count_sqlite(&db, n)?;
    results.push(Row {
        engine: "SQLite",
        method: "`cargo dbm seed`".into(),
        rows: n,
        secs,
        note: "multi-row INSERTs, one transaction".into(),
    });
    let secs = best(&fresh_sqlite, || {
        let mut c = Command::new("sqlite3");
        c.arg(&db).arg(format!(".import --csv --skip 1 {} item", csv.display()));
        c
    })?;
    check_count_sqlite(&db, n)?;
    results.push(Row {
        engine: "SQLite",
        method: "`sqlite3 .import`".into(),
        rows: n,
        secs,
        note: "the sqlite3 shell".into(),
    });
    fresh_sqlite()?;
    let secs = time(
        Command::new(looper)
            .env("BENCH_URL", format!("{url}?mode=rwc"))
            .env("BENCH_CSV", small),
    )?;
    check_count_sqlite(&db, n_loop)?;
    results.push(Row {
        engine: "SQLite",
        method: "ActiveModel insert loop".into(),
        rows: n,
        secs: secs * n as f64 / n_loop as f64,
        note: format!("{n_loop} rows in {secs:.2} s, extrapolated"),
    });
    Ok(())
}

#[allow(clippy::too_many_arguments)]
fn postgres_rows(
    results: &mut Vec<Row>,
    dbm: &Path,
    ws: &Path,
    csv: &Path,
    small: &Path,
    looper: &Path,
    n: usize,
    n_loop: usize,
) -> Result<()> {
    let cluster = pg::PgCluster::start();
    let pg_url = cluster.create_database("bench");
    let fresh_pg = || -> Result<()> {
        cluster.psql("bench", &format!("DROP TABLE IF EXISTS item; {TABLE_SQL};"));
        Ok(())
    };
    let secs = best(&fresh_pg, || {
        let mut c = Command::new(&dbm);
        c.args(["dbm", "seed", "--quiet", "--database-url", &pg_url])
            .current_dir(ws);
        c
    })?;
    check_count_pg(&cluster, n)?;
    results.push(Row {
        engine: "PostgreSQL 15",
        method: "`cargo dbm seed`".into(),
        rows: n,
        secs,
        note: "COPY FROM STDIN, one transaction".into(),
    });
    let secs = best(&fresh_pg, || {
        let mut c = Command::new(cluster.bin_dir().join("psql"));
        c.env("PGPASSWORD", pg::PG_PASSWORD)
            .args(["-X", "-q", "-v", "ON_ERROR_STOP=1", "-d"])
            .arg(format!(
                "host=127.0.0.1 port={} user=postgres dbname=bench",
                cluster.port()
            ))
            .arg("-c")
            .arg(format!(
                "\\copy item FROM '{}' WITH (FORMAT csv, HEADER true)",
                csv.display()
            ));
        c
    })?;
    check_count_pg(&cluster, n)?;
    results.push(Row {
        engine: "PostgreSQL 15",
        method: "`psql \\copy`".into(),
        rows: n,
        secs,
        note: "psql's client-side COPY".into(),
    });
    fresh_pg()?;
    let secs = time(Command::new(looper).env("BENCH_URL", &pg_url).env("BENCH_CSV", small))?;
    check_count_pg(&cluster, n_loop)?;
    results.push(Row {
        engine: "PostgreSQL 15",
        method: "ActiveModel insert loop".into(),
        rows: n,
        secs: secs * n as f64 / n_loop as f64,
        note: format!("{n_loop} rows in {secs:.2} s, extrapolated"),
    });
    drop(cluster);
    Ok(())
}

#[allow(clippy::too_many_arguments)]
fn mariadb_rows(
    results: &mut Vec<Row>,
    dbm: &Path,
    ws: &Path,
    work: &Path,
    csv: &Path,
    small: &Path,
    looper: &Path,
    n: usize,
    n_loop: usize,
) -> Result<()> {
    let server = crate::mariadb::MariaDb::start(work)?;
    let url = server.create_database("bench")?;
    let engine: &'static str = Box::leak(format!("MariaDB {}", server.short_version()).into_boxed_str());
    let fresh = || -> Result<()> {
        server.sql("bench", &format!("DROP TABLE IF EXISTS item; {MARIADB_TABLE_SQL};"))?;
        Ok(())
    };
    let check = |want: usize| -> Result<()> {
        let got = server.sql("bench", "SELECT COUNT(*) FROM item")?;
        if got != want.to_string() {
            bail!("expected {want} rows in MariaDB, found {got}");
        }
        // A quoted field with a comma and doubled quotes came through intact.
        let special = server.sql("bench", "SELECT name FROM item WHERE id = 10")?;
        if special != "item 10, \"special\"" {
            bail!("MariaDB: row 10's name is {special:?}, expected `item 10, \"special\"`");
        }
        Ok(())
    };
    let secs = best(&fresh, || {
        let mut c = Command::new(dbm);
        c.args(["dbm", "seed", "--quiet", "--database-url", &url])
            .current_dir(ws);
        c
    })?;
    check(n)?;
    results.push(Row {
        engine,
        method: "`cargo dbm seed`".into(),
        rows: n,
        secs,
        note: "multi-row INSERTs, one transaction".into(),
    });
    let load = format!(
        "LOAD DATA LOCAL INFILE '{}' INTO TABLE item CHARACTER SET utf8mb4 \
         FIELDS TERMINATED BY ',' OPTIONALLY ENCLOSED BY '\"' ESCAPED BY '' \
         LINES TERMINATED BY '\\n' IGNORE 1 LINES (id, name, qty, price, active, created_at)",
        csv.display()
    );
    let secs = best(&fresh, || {
        let mut c = server.client("mariadb").expect("the mariadb client");
        c.args(["--local-infile=1", "--batch", "--database=bench", "-e", &load]);
        c
    })?;
    check(n)?;
    results.push(Row {
        engine,
        method: "`LOAD DATA LOCAL INFILE`".into(),
        rows: n,
        secs,
        note: "the mariadb client, `--local-infile=1`".into(),
    });
    fresh()?;
    let secs = time(Command::new(looper).env("BENCH_URL", &url).env("BENCH_CSV", small))?;
    check(n_loop)?;
    results.push(Row {
        engine,
        method: "ActiveModel insert loop".into(),
        rows: n,
        secs: secs * n as f64 / n_loop as f64,
        note: format!("{n_loop} rows in {secs:.2} s, extrapolated"),
    });
    drop(server);
    Ok(())
}

/// Fastest of `RUNS` runs (the machine is shared; the minimum is the least disturbed),
/// each after `reset`.
fn best(mut reset: impl FnMut() -> Result<()>, mut cmd: impl FnMut() -> Command) -> Result<f64> {
    let mut best = f64::INFINITY;
    for _ in 0..RUNS {
        reset()?;
        best = best.min(time(&mut cmd())?);
    }
    Ok(best)
}

const RUNS: usize = 3;

fn time(cmd: &mut Command) -> Result<f64> {
    eprintln!("$ {:?}", cmd);
    let start = Instant::now();
    let out = cmd.output().with_context(|| format!("could not run {cmd:?}"))?;
    let secs = start.elapsed().as_secs_f64();
    if !out.status.success() {
        bail!(
            "{cmd:?} failed: {}\n{}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        );
    }
    eprintln!("   {secs:.2} s");
    Ok(secs)
}

fn sqlite(db: &Path, sql: &str) -> Result<()> {
    let out = Command::new("sqlite3").arg(db).arg(sql).output()?;
    if !out.status.success() {
        bail!("sqlite3: {}", String::from_utf8_lossy(&out.stderr));
    }
    Ok(())
}

fn check_count_sqlite(db: &Path, n: usize) -> Result<()> {
    let out = Command::new("sqlite3")
        .arg(db)
        .arg("SELECT count(*) FROM item")
        .output()?;
    let got = String::from_utf8_lossy(&out.stdout).trim().to_string();
    if got != n.to_string() {
        bail!("expected {n} rows in SQLite, found {got}");
    }
    Ok(())
}

fn check_count_pg(c: &pg::PgCluster, n: usize) -> Result<()> {
    let got = c.psql("bench", "SELECT count(*) FROM item");
    if got != n.to_string() {
        bail!("expected {n} rows in PostgreSQL, found {got}");
    }
    Ok(())
}

/// id,name,qty,price,active,created_at: integers, text (some with commas and quotes),
/// floats, booleans (1/0, which every loader accepts) and timestamps.
fn write_csv(path: &Path, n: usize) -> Result<()> {
    use std::io::Write;
    let mut w = std::io::BufWriter::new(std::fs::File::create(path)?);
    writeln!(w, "id,name,qty,price,active,created_at")?;
    for i in 1..=n {
        let name = if i % 10 == 0 {
            format!("\"item {i}, \"\"special\"\"\"")
        } else {
            format!("item {i}")
        };
        writeln!(
            w,
            "{i},{name},{},{}.{:02},{},2024-{:02}-{:02} {:02}:{:02}:{:02}",
            i % 1000,
            i % 5000,
            i % 100,
            i % 2,
            1 + i % 12,
            1 + i % 28,
            i % 24,
            i % 60,
            (i * 7) % 60
        )?;
    }
    w.flush()?;
    Ok(())
}

const LOOP_MAIN: &str = r#"//! Per-row ActiveModel inserts in one transaction: the way a hand-written seed script
//! inserts rows with sea-orm.
use sea_orm::entity::prelude::*;
use sea_orm::{ActiveValue::Set, Database, TransactionTrait};

mod item {
    use sea_orm::entity::prelude::*;
    #[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
    #[sea_orm(table_name = "item")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: i64,
        pub name: String,
        pub qty: i32,
        pub price: f64,
        pub active: bool,
        pub created_at: DateTime,
    }
    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}
    impl ActiveModelBehavior for ActiveModel {}
}

fn split_csv(line: &str) -> Vec<String> {
    let (mut out, mut cur, mut q, mut it) = (Vec::new(), String::new(), false, line.chars().peekable());
    while let Some(c) = it.next() {
        match c {
            '"' if q && it.peek() == Some(&'"') => { cur.push('"'); it.next(); }
            '"' => q = !q,
            ',' if !q => out.push(std::mem::take(&mut cur)),
            c => cur.push(c),
        }
    }
    out.push(cur);
    out
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), DbErr> {
    let db = Database::connect(std::env::var("BENCH_URL").unwrap()).await?;
    let text = std::fs::read_to_string(std::env::var("BENCH_CSV").unwrap()).unwrap();
    let txn = db.begin().await?;
    for line in text.lines().skip(1) {
        let f = split_csv(line);
        item::ActiveModel {
            id: Set(f[0].parse().unwrap()),
            name: Set(f[1].clone()),
            qty: Set(f[2].parse().unwrap()),
            price: Set(f[3].parse().unwrap()),
            active: Set(f[4] == "1"),
            created_at: Set(chrono::NaiveDateTime::parse_from_str(&f[5], "%Y-%m-%d %H:%M:%S").unwrap()),
        }
        .insert(&txn)
        .await?;
    }
    txn.commit().await?;
    Ok(())
}
"#;

/// Generates and builds the ActiveModel loop against the sea-orm version cargo-dbm uses.
fn build_loop(repo: &Path, work: &Path) -> Result<PathBuf> {
    let dir = work.join("activemodel-loop");
    std::fs::create_dir_all(dir.join("src"))?;
    let lock = std::fs::read_to_string(repo.join("Cargo.lock"))?;
    let version = lock
        .split("[[package]]")
        .find(|p| p.contains("name = \"sea-orm\"\n"))
        .and_then(|p| p.lines().find(|l| l.starts_with("version = ")))
        .map(|l| l.trim_start_matches("version = ").trim_matches('"').to_string())
        .context("sea-orm is not in Cargo.lock")?;
    std::fs::write(
        dir.join("Cargo.toml"),
        format!(
            "[package]\nname = \"activemodel-loop\"\nversion = \"0.0.0\"\nedition = \"2021\"\npublish = false\n\n\
             [dependencies]\nsea-orm = {{ version = \"={version}\", default-features = false, features = [\"macros\", \"with-chrono\", \"sqlx-sqlite\", \"sqlx-postgres\", \"sqlx-mysql\", \"runtime-tokio-rustls\"] }}\n\
             chrono = {{ version = \"0.4\", default-features = false, features = [\"clock\", \"std\"] }}\n\
             tokio = {{ version = \"1\", features = [\"rt\", \"macros\"] }}\n\n[workspace]\n"
        ),
    )?;
    std::fs::write(dir.join("src/main.rs"), LOOP_MAIN)?;
    std::fs::copy(repo.join("Cargo.lock"), dir.join("Cargo.lock"))?;
    // Its own target dir, kept between runs (target/bench-seed is wiped, this is not).
    let target = repo.join("target").join("bench-seed-loop");
    sh(cargo()
        .current_dir(&dir)
        .args(["build", "--release"])
        .env("CARGO_TARGET_DIR", &target))?;
    Ok(target.join("release/activemodel-loop"))
}

fn render(rows: &[Row], n: usize) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "{n} rows of `item(id bigint, name text, qty int, price double, active bool, created_at timestamp)`, \
         from one CSV file; wall time of the whole command (process start, reading, converting, \
         inserting, commit), fastest of {RUNS} runs (the ActiveModel loop: one run), on this \
         2-core machine, which other work may share: compare the ratios, not the absolute times.\n"
    );
    let _ = writeln!(
        s,
        "| engine | method | rows/s | time for {n} rows | `cargo dbm seed` is | note |"
    );
    let _ = writeln!(s, "|---|---|---:|---:|---:|---|");
    for r in rows {
        let ours = rows
            .iter()
            .find(|o| o.engine == r.engine && o.method == "`cargo dbm seed`")
            .map(|o| o.secs)
            .unwrap_or(f64::NAN);
        let ratio = if r.method == "`cargo dbm seed`" {
            "—".to_string()
        } else if r.secs >= ours {
            format!("{:.1}x faster", r.secs / ours)
        } else {
            format!("{:.2}x slower", ours / r.secs)
        };
        let _ = writeln!(
            s,
            "| {} | {} | {:.0} | {:.2} s | {} | {} |",
            r.engine,
            r.method,
            r.rows as f64 / r.secs,
            r.secs,
            ratio,
            r.note
        );
    }
    let _ = writeln!(
        s,
        "\nTargets (issue #4): at least 20x faster than the ActiveModel loop, and within 2x of \
         `sqlite3 .import` / `psql \\copy` / `LOAD DATA LOCAL INFILE`. Reproduce with \
         `cargo xtask bench seed` (`--rows N`, `--loop-rows N`, `--engine sqlite,postgres,mariadb`)."
    );
    // How far the engines' own bulk loaders are from the loop, for scale.
    let mut engines: Vec<&str> = rows.iter().map(|r| r.engine).collect();
    engines.dedup();
    for engine in engines {
        let of = |m: &str| {
            rows.iter()
                .find(|r| r.engine == engine && r.method.contains(m))
                .map(|r| r.secs)
        };
        let native = of("sqlite3").or(of("psql")).or(of("LOAD DATA"));
        if let (Some(l), Some(native)) = (of("ActiveModel"), native) {
            let _ = writeln!(
                s,
                "\n{engine}: the engine's own bulk loader is {:.1}x faster than the loop on this run.",
                l / native
            );
        }
    }
    s
}

/// Replaces (or appends) the `## Seeding` section of docs/benchmarks.md, leaving the others.
fn write_docs(path: &Path, table: &str) -> Result<()> {
    let old = std::fs::read_to_string(path).unwrap_or_else(|_| "# Benchmarks\n".into());
    let section = format!("## Seeding\n\n{table}");
    let new = match old.find("\n## Seeding\n") {
        Some(start) => {
            let rest = &old[start + 1..];
            let end = rest[3..]
                .find("\n## ")
                .map(|i| start + 1 + 3 + i + 1)
                .unwrap_or(old.len());
            format!("{}{}\n{}", &old[..start + 1], section, &old[end..])
        }
        None => format!("{}\n{}", old.trim_end_matches('\n').to_string() + "\n", section),
    };
    std::fs::write(path, new.trim_end().to_string() + "\n")?;
    Ok(())
}
