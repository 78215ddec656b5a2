//! `cargo xtask bench backup [--mb N] [--skip-pg]`: `cargo dbm backup`/`restore` side by
//! side with what people do by hand, in one run, on one machine (release build).
//!
//! - SQLite (a generated database of at least 500 MB, kept in `target/bench-backup/` for
//!   later runs): `sqlite3 db ".backup copy" && gzip copy` against `cargo dbm backup`
//!   (gzip, and zstd); `gunzip` + `cp` against `cargo dbm restore`.
//! - PostgreSQL (a throwaway cluster of the highest installed version, filled with
//!   `generate_series`): `pg_dump -Fc` (default compression) against `cargo dbm backup`;
//!   `pg_restore --clean --if-exists --single-transaction` against `cargo dbm restore`.
//!
//! - MariaDB (a throwaway server, see `mariadb.rs`, filled with the same rows from the
//!   `seq_1_to_N` sequence table): `mariadb-dump --single-transaction app | gzip` against
//!   `cargo dbm backup` (the same `mariadb-dump`, compressed on every core by cargo dbm);
//!   `gunzip -c FILE | mariadb app` against `cargo dbm restore --yes FILE` (load into a
//!   staging database, one atomic `RENAME TABLE`).
//!
//! `--engine sqlite,postgres,mariadb` (default: all three) picks the engines; `--skip-pg`
//! is `--engine sqlite,mariadb`.
//!
//! `cargo dbm restore` does more than its counterpart: it verifies the whole file first
//! (SQLite: `PRAGMA integrity_check`) and takes a safety backup of the current database.

use anyhow::{Context, Result, bail};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

/// Each command runs this many times; the best time counts (other work on the machine
/// only ever slows a run down).
static RUNS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(1);

fn runs() -> usize {
    RUNS.load(std::sync::atomic::Ordering::Relaxed)
}

struct Row {
    what: String,
    secs: f64,
    /// CPU seconds, user + system, of the command and its children.
    cpu: f64,
    bytes: Option<u64>,
}

pub fn run(args: &[String]) -> Result<()> {
    let mut mb: u64 = 520;
    let mut engines = vec!["sqlite".to_string(), "postgres".into(), "mariadb".into()];
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--mb" => mb = it.next().context("--mb N")?.parse()?,
            "--skip-pg" => engines.retain(|e| e != "postgres"),
            "--engine" => {
                engines = it
                    .next()
                    .context("--engine sqlite,postgres,mariadb")?
                    .split(',')
                    .map(|e| match e {
                        "pg" | "postgresql" => "postgres".to_string(),
                        "mysql" => "mariadb".to_string(),
                        e => e.to_string(),
                    })
                    .collect();
                if let Some(bad) = engines
                    .iter()
                    .find(|e| !["sqlite", "postgres", "mariadb"].contains(&e.as_str()))
                {
                    bail!("unknown engine {bad} (sqlite, postgres, mariadb)");
                }
            }
            "--runs" => {
                let n: usize = it.next().context("--runs N")?.parse()?;
                RUNS.store(n.max(1), std::sync::atomic::Ordering::Relaxed);
            }
            other => {
                bail!("unknown argument {other} (use --mb N, --runs N, --engine sqlite,postgres,mariadb, --skip-pg)")
            }
        }
    }
    let repo = crate::repo();
    let bin = crate::release_dbm()?;
    let root = repo.join("target/bench-backup");
    std::fs::create_dir_all(&root)?;
    let ws = root.join("ws");
    if !ws.join("migration").exists() {
        let _ = std::fs::remove_dir_all(&ws);
        crate::copy_dir(&repo.join("example"), &ws)?;
        crate::sh(Command::new(&bin).arg("dbm").arg("init").current_dir(&ws))?;
    }
    println!(
        "machine: {} cores, {}; load average before the run: {}; best of {} run(s)",
        std::thread::available_parallelism().map_or(0, |n| n.get()),
        first_line(Command::new("uname").arg("-srm")),
        std::fs::read_to_string("/proc/loadavg")
            .unwrap_or_default()
            .split_whitespace()
            .take(3)
            .collect::<Vec<_>>()
            .join(" "),
        runs()
    );
    let on = |e: &str| engines.iter().any(|x| x == e);
    if on("sqlite") {
        sqlite(&bin, &root, &ws, mb)?;
    }
    if on("postgres") {
        postgres(&bin, &root, &ws, mb)?;
    }
    if on("mariadb") {
        mariadb(&bin, &root, &ws, mb)?;
    }
    Ok(())
}

fn first_line(cmd: &mut Command) -> String {
    cmd.output()
        .map(|o| {
            String::from_utf8_lossy(&o.stdout)
                .lines()
                .next()
                .unwrap_or("")
                .to_string()
        })
        .unwrap_or_default()
}

/// Runs a shell command line, timing it.
/// Runs a command: its wall time, and the CPU time (user + system) of it and its children.
fn timed(what: &str, cmd: &mut Command) -> Result<(f64, f64)> {
    eprintln!("$ {what}");
    let cpu0 = children_cpu();
    let t = Instant::now();
    let out = cmd.stdout(Stdio::null()).stderr(Stdio::piped()).output()?;
    let secs = t.elapsed().as_secs_f64();
    if !out.status.success() {
        bail!("`{what}` failed: {}", String::from_utf8_lossy(&out.stderr).trim());
    }
    Ok((secs, children_cpu() - cpu0))
}

/// CPU seconds of the children waited for so far (`cutime + cstime` of /proc/self/stat).
fn children_cpu() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // Fields after the command name, which ends with the last ')'.
    let rest = stat.rsplit_once(')').map(|(_, r)| r).unwrap_or("");
    let f: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| f.get(i).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
    // cutime and cstime are fields 16 and 17 (1-based); `rest` starts at field 3.
    (ticks(13) + ticks(14)) / 100.0
}

/// Runs what `make` builds `runs()` times: the best wall time, with that run's CPU time.
fn best(what: &str, make: impl Fn() -> Command) -> Result<(f64, f64)> {
    let mut best = (f64::MAX, 0.0);
    for _ in 0..runs() {
        let r = timed(what, &mut make())?;
        if r.0 < best.0 {
            best = r;
        }
    }
    Ok(best)
}

impl Row {
    /// The `best` of what `make` builds, as a row named `what` (`label` is echoed as it runs).
    fn best(what: &str, label: &str, make: impl Fn() -> Command) -> Result<Row> {
        let (secs, cpu) = best(label, make)?;
        Ok(Row {
            what: what.into(),
            secs,
            cpu,
            bytes: None,
        })
    }

    /// The same row, with the size of the file it wrote (measured after the runs).
    fn file(self, p: &Path) -> Row {
        Row {
            bytes: Some(size(p)),
            ..self
        }
    }
}

/// `cargo dbm` (arguments to add) run in the workspace `ws`, against `url` if given (else
/// the workspace's own database).
fn dbm(bin: &Path, ws: &Path, url: Option<&str>) -> Command {
    let mut c = Command::new(bin);
    c.arg("dbm");
    if let Some(url) = url {
        c.env("DATABASE_URL", url);
    }
    c.current_dir(ws);
    c
}

/// `cargo dbm backup DIR` with gzip, then with zstd: one row each.
fn dbm_backups(rows: &mut Vec<Row>, bin: &Path, ws: &Path, url: Option<&str>, dir: &Path) -> Result<()> {
    for (label, args) in [
        ("cargo dbm backup", vec![]),
        ("cargo dbm backup --compression zstd", vec!["--compression", "zstd"]),
    ] {
        let row = Row::best(label, label, || {
            let mut c = dbm(bin, ws, url);
            c.arg("backup").arg(dir).args(&args);
            c
        })?;
        rows.push(row.file(&newest_backup(dir)?));
    }
    Ok(())
}

/// `cargo dbm restore --yes` of the gzip backup (name ending in `ext`) that `dbm_backups`
/// wrote to `dir`, as a row named `what`.
fn dbm_restore(what: &str, bin: &Path, ws: &Path, url: Option<&str>, dir: &Path, ext: &str) -> Result<Row> {
    let ours = std::fs::read_dir(dir)?
        .flatten()
        .map(|e| e.path())
        .find(|p| {
            let n = p.to_string_lossy();
            n.ends_with(ext) && !n.contains("before-restore")
        })
        .context("no gzip backup")?;
    Row::best(what, "cargo dbm restore --yes", || {
        let mut c = dbm(bin, ws, url);
        c.arg("restore").arg(&ours).args(["--yes", "--dir"]).arg(dir);
        c
    })
}

fn bash(line: &str) -> Command {
    let mut c = Command::new("bash");
    c.args(["-c", &format!("set -euo pipefail; {line}")]);
    c
}

fn size(p: &Path) -> u64 {
    std::fs::metadata(p).map(|m| m.len()).unwrap_or(0)
}

fn mb(b: u64) -> f64 {
    b as f64 / 1e6
}

fn newest_backup(dir: &Path) -> Result<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)?
        .flatten()
        .map(|e| e.path())
        .filter(|p| {
            let n = p.file_name().unwrap().to_string_lossy().into_owned();
            n.starts_with("backup_") && !n.contains("before-restore")
        })
        .collect();
    v.sort_by_key(|p| std::fs::metadata(p).and_then(|m| m.modified()).ok());
    v.pop().context("no backup written")
}

fn table(title: &str, data_bytes: u64, rows: &[Row], pairs: &[(usize, usize)]) {
    println!("\n### {title}\n");
    println!("| command | time (s) | CPU (s) | MB/s of data | file (MB) |");
    println!("|---|---:|---:|---:|---:|");
    for r in rows {
        println!(
            "| {} | {:.2} | {:.2} | {:.0} | {} |",
            r.what,
            r.secs,
            r.cpu,
            mb(data_bytes) / r.secs,
            r.bytes.map(|b| format!("{:.1}", mb(b))).unwrap_or_default()
        );
    }
    println!();
    for (base, ours) in pairs {
        let (b, o) = (&rows[*base], &rows[*ours]);
        let size = match (b.bytes, o.bytes) {
            (Some(x), Some(y)) => format!(", file {:.3}x the size", y as f64 / x as f64),
            _ => String::new(),
        };
        println!(
            "- `{}` is **{:.2}x** as fast as `{}`{size}",
            o.what,
            b.secs / o.secs,
            b.what
        );
    }
}

fn sqlite(bin: &Path, root: &Path, ws: &Path, target_mb: u64) -> Result<()> {
    let db = ws.join("data/ws.db");
    if size(&db) < target_mb * 950_000 {
        eprintln!("generating a SQLite database of {target_mb} MB …");
        let _ = std::fs::remove_file(&db);
        // ~200 bytes a row of JSON-ish text, ints and dates, plus an index.
        let rows = target_mb * 1_000_000 / 200;
        let sql = format!(
            "PRAGMA journal_mode=WAL; PRAGMA synchronous=OFF;
CREATE TABLE event(id INTEGER PRIMARY KEY, account_id INTEGER NOT NULL, kind TEXT NOT NULL, payload TEXT NOT NULL, created_at TEXT NOT NULL);
WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i+1 FROM c WHERE i < {rows})
INSERT INTO event SELECT i, abs(random()) % 100000,
 CASE i % 5 WHEN 0 THEN 'login' WHEN 1 THEN 'purchase' WHEN 2 THEN 'view' WHEN 3 THEN 'logout' ELSE 'search' END,
 printf('{{\"user\":\"user%d@example.com\",\"session\":\"%s\",\"amount\":%d,\"note\":\"%s\"}}', abs(random())%100000, lower(hex(randomblob(8))), abs(random())%10000, substr('lorem ipsum dolor sit amet consectetur adipiscing elit sed do eiusmod tempor incididunt ut labore et dolore magna aliqua', 1 + abs(random())%40, 30 + abs(random())%60)),
 datetime(1700000000 + i*7, 'unixepoch')
FROM c;
CREATE INDEX event_account ON event(account_id);
PRAGMA wal_checkpoint(TRUNCATE);"
        );
        let mut c = Command::new("sqlite3");
        c.arg(&db).arg(sql);
        timed("sqlite3 (generate)", &mut c)?;
    }
    let data = size(&db);
    let work = root.join("sqlite");
    let _ = std::fs::remove_dir_all(&work);
    std::fs::create_dir_all(&work)?;
    // Warm the page cache equally for both sides.
    timed(
        "cat db > /dev/null",
        &mut bash(&format!("cat {} > /dev/null", db.display())),
    )?;
    let mut rows = Vec::new();
    let copy = work.join("copy.db");
    let gz = work.join("copy.db.gz");
    let row = Row::best(
        "sqlite3 .backup && gzip",
        "sqlite3 db \".backup copy\" && gzip copy",
        || {
            let _ = std::fs::remove_file(&gz);
            bash(&format!(
                "sqlite3 {} \".backup {}\" && gzip {}",
                db.display(),
                copy.display(),
                copy.display()
            ))
        },
    )?;
    rows.push(row.file(&gz));
    let dir = work.join("dbm");
    dbm_backups(&mut rows, bin, ws, None, &dir)?;
    // Restore: gunzip + copy into place, against cargo dbm restore (gzip file).
    let target = work.join("restored.db");
    rows.push(Row::best(
        "gunzip + cp",
        "gunzip -k copy.db.gz && cp copy.db db",
        || {
            bash(&format!(
                "gunzip -k -f {} && cp {} {}",
                gz.display(),
                copy.display(),
                target.display()
            ))
        },
    )?);
    rows.push(dbm_restore(
        "cargo dbm restore (verify + safety backup + swap)",
        bin,
        ws,
        None,
        &dir,
        ".db.gz",
    )?);
    table(
        &format!("SQLite, {:.0} MB database", mb(data)),
        data,
        &rows,
        &[(0, 1), (0, 2), (3, 4)],
    );
    let _ = std::fs::remove_dir_all(&work);
    Ok(())
}

// --- PostgreSQL ------------------------------------------------------------------------

struct Cluster {
    bin: PathBuf,
    data: PathBuf,
    port: u16,
    as_postgres: bool,
    _dir: PathBuf,
}

impl Cluster {
    fn server(&self, tool: &str) -> Command {
        let exe = self.bin.join(tool);
        if self.as_postgres {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(exe);
            c
        } else {
            Command::new(exe)
        }
    }

    fn start(root: &Path) -> Result<Cluster> {
        let bin = std::fs::read_dir("/usr/lib/postgresql")?
            .flatten()
            .map(|e| e.path().join("bin"))
            .filter(|b| b.join("initdb").is_file())
            .max()
            .context("no PostgreSQL server in /usr/lib/postgresql")?;
        let dir = root.join("pg");
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir)?;
        let as_postgres = first_line(Command::new("id").arg("-u")) == "0";
        if as_postgres {
            crate::sh(Command::new("chown").arg("postgres:").arg(&dir))?;
        }
        let port = std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
        let c = Cluster {
            bin,
            data: dir.join("data"),
            port,
            as_postgres,
            _dir: dir.clone(),
        };
        let mut init = c.server("initdb");
        init.arg("-D").arg(&c.data).args([
            "-U",
            "postgres",
            "--auth=trust",
            "-E",
            "UTF8",
            "--locale=C",
            "--no-sync",
        ]);
        timed("initdb", &mut init)?;
        let conf = format!(
            "\nlisten_addresses = '127.0.0.1'\nport = {port}\nunix_socket_directories = '{}'\nfsync = off\nsynchronous_commit = off\nfull_page_writes = off\nmax_wal_size = '4GB'\n",
            dir.display()
        );
        let mut f = std::fs::OpenOptions::new()
            .append(true)
            .open(c.data.join("postgresql.conf"))?;
        std::io::Write::write_all(&mut f, conf.as_bytes())?;
        let mut start = c.server("pg_ctl");
        start
            .arg("-D")
            .arg(&c.data)
            .arg("-l")
            .arg(dir.join("log"))
            .args(["-w", "start"]);
        timed("pg_ctl start", &mut start)?;
        Ok(c)
    }

    fn url(&self, db: &str) -> String {
        format!("postgres://postgres@127.0.0.1:{}/{db}", self.port)
    }

    fn psql(&self, db: &str, sql: &str) -> Command {
        let mut c = Command::new(self.bin.join("psql"));
        c.args(["-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", &self.url(db), "-c", sql]);
        c
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let mut stop = self.server("pg_ctl");
        stop.arg("-D")
            .arg(&self.data)
            .args(["-m", "immediate", "stop"])
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        let _ = stop.status();
        let _ = std::fs::remove_dir_all(&self._dir);
    }
}

fn postgres(bin: &Path, root: &Path, ws: &Path, target_mb: u64) -> Result<()> {
    let pg = Cluster::start(root)?;
    timed("createdb", &mut pg.psql("postgres", "CREATE DATABASE app"))?;
    let rows = target_mb * 1_000_000 / 200;
    timed(
        "fill (generate_series)",
        &mut pg.psql(
            "app",
            &format!(
                "CREATE TABLE event(id bigint PRIMARY KEY, account_id int NOT NULL, kind text NOT NULL, payload text NOT NULL, created_at timestamptz NOT NULL);
INSERT INTO event SELECT i, (random()*100000)::int,
 (ARRAY['login','purchase','view','logout','search'])[1 + i % 5],
 format('{{\"user\":\"user%s@example.com\",\"session\":\"%s\",\"amount\":%s,\"note\":\"%s\"}}', (random()*100000)::int, substr(md5(random()::text), 1, 16), (random()*10000)::int, substr('lorem ipsum dolor sit amet consectetur adipiscing elit sed do eiusmod tempor incididunt ut labore et dolore magna aliqua', 1 + (random()*40)::int, 30 + (random()*60)::int)),
 to_timestamp(1700000000 + i*7)
FROM generate_series(1, {rows}) i;
CREATE INDEX event_account ON event(account_id);"
            ),
        ),
    )?;
    let work = root.join("pgwork");
    let _ = std::fs::remove_dir_all(&work);
    std::fs::create_dir_all(&work)?;
    let url = pg.url("app");
    let dump = work.join("app.dump");
    let mut rows = Vec::new();
    let row = Row::best("pg_dump -Fc", "pg_dump -Fc", || {
        let mut c = Command::new(pg.bin.join("pg_dump"));
        c.args(["-Fc", "-f"]).arg(&dump).arg(format!("--dbname={url}"));
        c
    })?;
    rows.push(row.file(&dump));
    // The data as dumped, uncompressed, for MB/s.
    let raw = work.join("raw.dump");
    let mut c = Command::new(pg.bin.join("pg_dump"));
    c.args(["-Fc", "-Z0", "-f"]).arg(&raw).arg(format!("--dbname={url}"));
    let (raw_secs, _) = timed("pg_dump -Fc -Z0", &mut c)?;
    let data = size(&raw);
    let _ = std::fs::remove_file(&raw);
    let dir = work.join("dbm");
    dbm_backups(&mut rows, bin, ws, Some(&url), &dir)?;
    let pg_restore = "pg_restore --clean --if-exists --single-transaction";
    rows.push(Row::best(pg_restore, pg_restore, || {
        let mut c = Command::new(pg.bin.join("pg_restore"));
        c.args(["--clean", "--if-exists", "--single-transaction", "-d", &url])
            .arg(&dump);
        c
    })?);
    rows.push(dbm_restore(
        "cargo dbm restore (verify + safety backup + pg_restore)",
        bin,
        ws,
        Some(&url),
        &dir,
        ".dump.gz",
    )?);
    table(
        &format!(
            "PostgreSQL {}, {:.0} MB dump (`pg_dump -Fc -Z0` alone: {:.2} s)",
            pg.bin
                .parent()
                .and_then(|p| p.file_name())
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_default(),
            mb(data),
            raw_secs
        ),
        data,
        &rows,
        &[(0, 1), (0, 2), (3, 4)],
    );
    let _ = std::fs::remove_dir_all(&work);
    Ok(())
}

// --- MariaDB ---------------------------------------------------------------------------

fn mariadb(bin: &Path, root: &Path, ws: &Path, target_mb: u64) -> Result<()> {
    let server = crate::mariadb::MariaDb::start(root)?;
    let url = server.create_database("app")?;
    // The same rows as the other engines, from MariaDB's sequence engine, in chunks of
    // 500,000 (one transaction each).
    let rows = target_mb * 1_000_000 / 200;
    let mut fill = String::from(
        "CREATE TABLE event(id BIGINT PRIMARY KEY, account_id INT NOT NULL, kind VARCHAR(16) NOT NULL, payload TEXT NOT NULL, created_at DATETIME NOT NULL);\n",
    );
    let mut from = 1;
    while from <= rows {
        let to = (from + 499_999).min(rows);
        fill.push_str(&format!(
            "INSERT INTO event SELECT seq, FLOOR(RAND()*100000),
 ELT(1 + seq % 5, 'login', 'purchase', 'view', 'logout', 'search'),
 CONCAT('{{\"user\":\"user', FLOOR(RAND()*100000), '@example.com\",\"session\":\"', SUBSTR(MD5(RAND()), 1, 16), '\",\"amount\":', FLOOR(RAND()*10000), ',\"note\":\"', SUBSTR('lorem ipsum dolor sit amet consectetur adipiscing elit sed do eiusmod tempor incididunt ut labore et dolore magna aliqua', 1 + FLOOR(RAND()*40), 30 + FLOOR(RAND()*60)), '\"}}'),
 FROM_UNIXTIME(1700000000 + seq*7)
FROM seq_{from}_to_{to};\n"
        ));
        from = to + 1;
    }
    fill.push_str("CREATE INDEX event_account ON event(account_id);\n");
    eprintln!("$ fill ({rows} rows from seq_1_to_{rows})");
    let t = Instant::now();
    server.sql("app", &fill)?;
    eprintln!("   {:.1} s", t.elapsed().as_secs_f64());

    let work = root.join("mariadbwork");
    let _ = std::fs::remove_dir_all(&work);
    std::fs::create_dir_all(&work)?;
    let opts = server.shell_options();
    let pipeline = |line: String| {
        let mut c = bash(&line);
        server.env(&mut c);
        c
    };
    let mut rows = Vec::new();
    // The data as dumped, uncompressed, for MB/s (and how long the dump alone takes: the
    // floor of both sides). It also reads the table once, warming the buffer pool equally.
    let raw = work.join("raw.sql");
    let (raw_secs, _) = timed(
        "mariadb-dump --single-transaction app > raw.sql",
        &mut pipeline(format!(
            "mariadb-dump {opts} --single-transaction app > {}",
            raw.display()
        )),
    )?;
    let data = size(&raw);
    let _ = std::fs::remove_file(&raw);
    let gz = work.join("app.sql.gz");
    let label = "mariadb-dump --single-transaction app | gzip";
    let row = Row::best(&label.replace('|', "\\|"), label, || {
        pipeline(format!(
            "mariadb-dump {opts} --single-transaction app | gzip > {}",
            gz.display()
        ))
    })?;
    rows.push(row.file(&gz));
    let dir = work.join("dbm");
    dbm_backups(&mut rows, bin, ws, Some(&url), &dir)?;
    let label = "gunzip -c app.sql.gz | mariadb app";
    rows.push(Row::best(&label.replace('|', "\\|"), label, || {
        pipeline(format!("gunzip -c {} | mariadb {opts} app", gz.display()))
    })?);
    rows.push(dbm_restore(
        "cargo dbm restore (verify + safety backup + staging load + RENAME TABLE)",
        bin,
        ws,
        Some(&url),
        &dir,
        ".sql.gz",
    )?);
    let count = server.sql("app", "SELECT COUNT(*) FROM event")?;
    if count != rows_str(target_mb) {
        bail!(
            "after cargo dbm restore, app.event has {count} rows, expected {}",
            rows_str(target_mb)
        );
    }
    table(
        &format!(
            "MariaDB {}, {:.0} MB dump (`mariadb-dump --single-transaction` alone, to a file: {:.2} s)",
            server.short_version(),
            mb(data),
            raw_secs
        ),
        data,
        &rows,
        &[(0, 1), (0, 2), (3, 4)],
    );
    let _ = std::fs::remove_dir_all(&work);
    Ok(())
}

fn rows_str(target_mb: u64) -> String {
    (target_mb * 1_000_000 / 200).to_string()
}
