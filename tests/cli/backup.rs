//! `backup` and `restore` on every engine: round trip, retention, refused files, `kill -9`
//! during either, a backup taken while another process writes, owner-only files.
//! Data is made with SQL (no migration is compiled): a tracking row stands for an
//! applied migration.

use crate::support::{Backend, Env, pg::PG_PASSWORD};
use crate::tri;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Runs `;`-separated statements one by one.
fn exec(env: &Env, sql: &str) {
    for s in sql.split(';').map(str::trim).filter(|s| !s.is_empty()) {
        env.query(s);
    }
}

fn count(env: &Env, table: &str) -> i64 {
    env.query(&format!("SELECT count(*) AS n FROM {table}"))[0][0]
        .parse()
        .unwrap()
}

/// A migration registered in the crate and recorded as applied, a table with `rows` rows.
fn seed(env: &Env, rows: u32) -> String {
    let v = env.fx.migration(
        "create accounts",
        "CREATE TABLE account (id INTEGER PRIMARY KEY, name TEXT NOT NULL)",
        "DROP TABLE account",
    );
    let varchar = if env.is_mariadb() { "varchar(255)" } else { "varchar" };
    exec(
        env,
        &format!(
            "CREATE TABLE seaql_migrations (version {varchar} NOT NULL PRIMARY KEY, applied_at bigint NOT NULL);
             INSERT INTO seaql_migrations VALUES ('{v}', 1700000000);
             CREATE TABLE account (id INTEGER PRIMARY KEY, name TEXT NOT NULL)"
        ),
    );
    insert_series(
        env,
        1,
        rows,
        if env.is_mariadb() {
            "CONCAT('name ', i)"
        } else {
            "'name ' || i"
        },
    );
    v
}

/// Inserts `(i, text)` into `account` for `i` in `from..=to`.
fn insert_series(env: &Env, from: u32, to: u32, text: &str) {
    if env.is_mariadb() {
        // MariaDB stops recursive queries after 1000 rounds; its sequence tables do not.
        exec(
            env,
            &format!("INSERT INTO account SELECT i, {text} FROM (SELECT seq AS i FROM seq_{from}_to_{to}) c"),
        );
    } else {
        exec(
            env,
            &format!(
                "WITH RECURSIVE c(i) AS (SELECT {from} UNION ALL SELECT i + 1 FROM c WHERE i < {to}) INSERT INTO account SELECT i, {text} FROM c"
            ),
        );
    }
}

/// The backup files (final names) in a folder, sorted.
fn backups(dir: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|rd| {
            rd.flatten()
                .map(|e| e.path())
                .filter(|p| p.file_name().unwrap().to_string_lossy().starts_with("backup_"))
                .collect()
        })
        .unwrap_or_default();
    v.sort();
    v
}

fn mode(p: &Path) -> u32 {
    std::fs::metadata(p).unwrap().permissions().mode() & 0o777
}

fn backup_json(env: &Env, args: &[&str]) -> serde_json::Value {
    let mut a = vec!["backup", "--format", "json"];
    a.extend_from_slice(args);
    let out = env.dbm(&a);
    out.ok();
    assert!(!out.all().contains(PG_PASSWORD), "password printed");
    out.json()
}

tri!(round_trip, |env| {
    let v = seed(&env, 100);
    let b = backup_json(&env, &[]);
    let file = PathBuf::from(b["file"].as_str().unwrap());
    assert_eq!(b["head"], v.as_str());
    let name = file.file_name().unwrap().to_string_lossy().into_owned();
    let ext = if env.is_postgres() {
        "dump.gz"
    } else if env.is_mariadb() {
        "sql.gz"
    } else {
        "db.gz"
    };
    assert!(
        name.starts_with("backup_") && name.ends_with(ext) && name.len() == 23 + ext.len(),
        "{name}"
    );
    assert_eq!(file.parent().unwrap(), env.fx.path("backups"));
    assert_eq!(mode(&file), 0o600);
    assert!(
        Command::new("gzip").arg("-t").arg(&file).status().unwrap().success(),
        "gunzip -t rejects {name}"
    );
    // --list shows it with engine and head.
    let out = env.dbm(&["backup", "--list"]);
    out.ok().contains(&name).contains(&v);
    let engine = if env.is_postgres() {
        "postgres"
    } else if env.is_mariadb() {
        "mysql"
    } else {
        "sqlite"
    };
    out.contains(engine);

    // Change the data, including the schema.
    exec(
        &env,
        "DELETE FROM account WHERE id > 10; UPDATE account SET name = 'changed'; CREATE TABLE extra (x INTEGER)",
    );
    assert_eq!(count(&env, "account"), 10);

    // Without a terminal and without --yes: refused, nothing changed.
    env.dbm(&["restore", "latest"]).expect_code(10).contains("--yes");
    assert_eq!(count(&env, "account"), 10);

    let out = env.dbm(&["restore", &file.to_string_lossy(), "--yes"]);
    out.ok()
        .contains("Verified")
        .contains("before-restore")
        .contains("1 applied, 0 pending");
    assert!(!out.all().contains(PG_PASSWORD), "password printed");
    assert_eq!(count(&env, "account"), 100);
    assert_eq!(env.query("SELECT name FROM account WHERE id = 100")[0][0], "name 100");
    assert_eq!(env.tracked(), [v.clone()]);
    if env.is_postgres() {
        // pg_restore --clean replaces what the archive holds; the rest is named.
        out.contains("public.extra");
    } else {
        // SQLite is replaced as a whole file, MySQL's tables all at once (one RENAME
        // TABLE): what did not exist then is gone.
        assert!(!env.tables().contains(&"extra".to_string()));
    }
    // The safety copy holds the changed database, and restores it.
    let all = backups(&env.fx.path("backups"));
    let safety = all
        .iter()
        .find(|p| p.to_string_lossy().contains("before-restore"))
        .unwrap();
    assert_eq!(mode(safety), 0o600);
    env.dbm(&["restore", &safety.to_string_lossy(), "--yes"]).ok();
    assert_eq!(count(&env, "account"), 10);
    // `latest` skips safety copies.
    env.dbm(&["restore", "latest", "--yes"]).ok();
    assert_eq!(count(&env, "account"), 100);
});

tri!(retention_keeps_the_newest_and_nothing_else_is_deleted, |env| {
    seed(&env, 5);
    let dir = env.fx.path("backups");
    std::fs::create_dir_all(&dir).unwrap();
    // Not ours: a look-alike from backup.sh, notes, an unrelated file.
    std::fs::write(dir.join("backup_20000101_000000.db.gz"), b"not ours").unwrap();
    std::fs::write(dir.join("notes.txt"), b"keep me").unwrap();
    let mut made = Vec::new();
    for _ in 0..12 {
        made.push(PathBuf::from(backup_json(&env, &[])["file"].as_str().unwrap()));
    }
    let left = backups(&dir);
    assert!(left.contains(&dir.join("backup_20000101_000000.db.gz")));
    assert!(dir.join("notes.txt").exists());
    let ours: Vec<&PathBuf> = left
        .iter()
        .filter(|p| !p.ends_with("backup_20000101_000000.db.gz"))
        .collect();
    assert_eq!(ours.len(), 10, "{left:?}");
    // The two oldest went.
    assert!(!made[0].exists() && !made[1].exists());
    assert!(made[2..].iter().all(|p| p.exists()));
    // A smaller keep prunes further.
    backup_json(&env, &["--keep", "3"]);
    assert_eq!(backups(&dir).len(), 4); // 3 + the look-alike
    // --list shows the look-alike as not ours.
    env.dbm(&["backup", "--list"]).ok().contains("not written by cargo dbm");
});

/// Writes a gzip file whose first member says it is a backup of `engine`.
fn file_claiming(engine: &str, content: &[u8], dest: &Path) {
    use cargo_dbm::backup::compress::{Codec, Meta, compress};
    let meta = Meta {
        tool: Meta::TOOL.into(),
        format: 1,
        engine: serde_json::from_value(serde_json::json!(engine)).unwrap(),
        database: "other".into(),
        head: None,
        applied: 0,
        created_ms: 0,
        kind: cargo_dbm::backup::Kind::Backup,
        version: "0".into(),
        server_version: None,
    };
    let mut out = std::fs::File::create(dest).unwrap();
    compress(&mut &content[..], &mut out, Codec::Gzip, 6, &meta, &|_| {}).unwrap();
}

tri!(corrupt_truncated_and_foreign_files_are_refused, |env| {
    seed(&env, 2000);
    let file = PathBuf::from(backup_json(&env, &[])["file"].as_str().unwrap());
    let zst = PathBuf::from(backup_json(&env, &["--compression", "zstd"])["file"].as_str().unwrap());
    exec(&env, "DELETE FROM account WHERE id > 1000");
    let bytes = std::fs::read(&file).unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let mut cases: Vec<(&str, PathBuf, &str)> = Vec::new();
    let put = |name: &str, data: &[u8]| {
        let p = tmp.path().join(name);
        std::fs::write(&p, data).unwrap();
        p
    };
    let mut flipped = bytes.clone();
    let mid = flipped.len() / 2;
    flipped[mid] ^= 0xff;
    cases.push(("corrupt", put("corrupt.db.gz", &flipped), "corrupt"));
    cases.push((
        "truncated",
        put("truncated.db.gz", &bytes[..bytes.len() * 2 / 3]),
        "truncated",
    ));
    // Cut at the very end: only the end marker is missing.
    cases.push((
        "truncated at the end",
        put("cut.db.gz", &bytes[..bytes.len() - 20]),
        "truncated",
    ));
    let z = std::fs::read(&zst).unwrap();
    cases.push(("truncated zstd", put("cut.db.zst", &z[..z.len() - 30]), "truncated"));
    cases.push((
        "foreign",
        put("notes.gz", b"hello, this is not a backup"),
        "not a backup",
    ));
    // A gzip file of something else entirely.
    let gz = tmp.path().join("text.gz");
    std::fs::write(tmp.path().join("text"), "just some text\n".repeat(100)).unwrap();
    assert!(
        Command::new("gzip")
            .arg(tmp.path().join("text"))
            .status()
            .unwrap()
            .success()
    );
    cases.push((
        "gzip of text",
        gz,
        if env.is_postgres() {
            "custom-format"
        } else if env.is_mariadb() {
            "MySQL/MariaDB dump"
        } else {
            "SQLite"
        },
    ));
    let other = if env.is_postgres() { "sqlite" } else { "postgres" };
    let wrong = tmp.path().join("wrong.gz");
    file_claiming(other, b"whatever", &wrong);
    cases.push(("wrong engine", wrong, "backup and the database is"));
    // Wrong engine by content, without our metadata: the other engine's magic bytes.
    let content: &[u8] = if env.is_postgres() || env.is_mariadb() {
        b"SQLite format 3\0 and then some bytes that do not matter here at all......................................."
    } else {
        b"PGDMP\x01\x0e\x00 the rest of a dump"
    };
    let p = tmp.path().join("raw.bin");
    std::fs::write(&p, content).unwrap();
    cases.push(("wrong engine by content", p, "the database is"));

    for (what, path, msg) in cases {
        let out = env.dbm(&["restore", &path.to_string_lossy(), "--yes"]);
        out.expect_code(15).contains(msg).contains("not touched");
        assert_eq!(count(&env, "account"), 1000, "{what}: database changed");
        // Nothing was backed up either: verification comes first.
        assert!(
            !backups(&env.fx.path("backups"))
                .iter()
                .any(|p| p.to_string_lossy().contains("before-restore")),
            "{what}: a safety backup was taken before verification"
        );
    }
    if let Backend::Sqlite = env.backend {
        // No verified copy left behind beside the database.
        let left: Vec<_> = std::fs::read_dir(env.fx.path("data"))
            .unwrap()
            .flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|n| n.contains("restore"))
            .collect();
        assert!(left.is_empty(), "{left:?}");
    }
});

/// Makes the account table big enough (~`mb` MB of barely compressible text) for a
/// backup to take a noticeable moment.
fn grow(env: &Env, mb: u32) {
    let rows = mb * 1024 * 1024 / 256;
    let text = if env.is_postgres() {
        "md5(i::text) || md5((i * 7)::text) || md5((i * 13)::text) || md5((i * 17)::text) || md5((i * 19)::text) || md5((i * 23)::text) || md5((i * 29)::text) || md5((i * 31)::text)"
    } else if env.is_mariadb() {
        "CONCAT(MD5(i), MD5(i * 7), MD5(i * 13), MD5(i * 17), MD5(i * 19), MD5(i * 23), MD5(i * 29), MD5(i * 31))"
    } else {
        "hex(randomblob(128))"
    };
    insert_series(env, 1_000_000, 1_000_000 + rows, text);
}

/// Spawns `cargo dbm ARGS` in the fixture (as the support runner would).
fn spawn(env: &Env, args: &[&str]) -> std::process::Child {
    let mut cmd = Command::new(crate::support::bin());
    cmd.arg("dbm")
        .args(args)
        .current_dir(env.fx.root())
        .env("CARGO_TARGET_DIR", crate::support::shared_target())
        .env("CARGO_PROFILE_DEV_DEBUG", "0")
        .env_remove("DATABASE_URL")
        .env("NO_COLOR", "1")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    for (k, v) in &env.fx.env {
        cmd.env(k, v);
    }
    cmd.spawn().unwrap()
}

/// `kill -9` (std's `Child::kill` sends SIGKILL on Unix).
fn kill9(child: &mut std::process::Child) {
    let _ = child.kill();
    let _ = child.wait();
}

/// Waits until a file whose name contains `needle` appears in `dir`.
fn wait_for(dir: &Path, needle: &str, child: &mut std::process::Child) -> bool {
    let deadline = Instant::now() + Duration::from_secs(60);
    while Instant::now() < deadline {
        if let Ok(rd) = std::fs::read_dir(dir)
            && rd.flatten().any(|e| e.file_name().to_string_lossy().contains(needle))
        {
            return true;
        }
        if let Ok(Some(_)) = child.try_wait() {
            return false;
        }
        std::thread::sleep(Duration::from_millis(2));
    }
    false
}

tri!(kill_during_backup_leaves_no_final_file, |env| {
    seed(&env, 10);
    grow(&env, 24);
    let dir = env.fx.path("backups");
    std::fs::create_dir_all(&dir).unwrap();
    let mut child = spawn(&env, &["backup"]);
    assert!(
        wait_for(&dir, ".tmp-", &mut child),
        "the backup finished before it could be killed"
    );
    std::thread::sleep(Duration::from_millis(30));
    kill9(&mut child);
    assert!(
        backups(&dir).is_empty(),
        "a file under a final name: {:?}",
        backups(&dir)
    );
    // The next backup cleans up the leftovers and succeeds.
    let file = PathBuf::from(backup_json(&env, &[])["file"].as_str().unwrap());
    let names: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names, [file.file_name().unwrap().to_string_lossy().into_owned()]);
});

/// Whether `pid` has a child process whose command line contains `needle`.
fn has_child(pid: u32, needle: &str) -> bool {
    let Ok(rd) = std::fs::read_dir("/proc") else {
        return false;
    };
    rd.flatten().any(|e| {
        let p = e.path();
        let ppid = std::fs::read_to_string(p.join("stat"))
            .ok()
            .and_then(|st| st.rsplit_once(')')?.1.split_whitespace().nth(1)?.parse::<u32>().ok());
        ppid == Some(pid)
            && std::fs::read(p.join("cmdline"))
                .map(|c| String::from_utf8_lossy(&c).replace('\0', " ").contains(needle))
                .unwrap_or(false)
    })
}

/// A test of whether a restore (by its pid) has reached a phase.
type Phase = Box<dyn Fn(u32) -> bool>;

/// Polls `cond` until it holds or the child exits; true if it held.
fn wait_until(child: &mut std::process::Child, cond: impl Fn(u32) -> bool) -> bool {
    let deadline = Instant::now() + Duration::from_secs(60);
    while Instant::now() < deadline {
        if cond(child.id()) {
            return true;
        }
        if let Ok(Some(_)) = child.try_wait() {
            return false;
        }
        std::thread::sleep(Duration::from_millis(1));
    }
    false
}

tri!(kill_during_restore_leaves_old_or_new, |env| {
    seed(&env, 10);
    grow(&env, 16);
    let big = count(&env, "account");
    let file = PathBuf::from(backup_json(&env, &[])["file"].as_str().unwrap());
    exec(&env, "DELETE FROM account WHERE id > 5");
    let file = file.to_string_lossy().into_owned();
    let backups_dir = env.fx.path("backups");
    let data_dir = env.fx.path("data");
    let pg = env.is_postgres();
    let maria = env.is_mariadb();
    // Kill points: while verifying, while taking the safety backup, while replacing.
    let phases: Vec<(&str, Phase)> = vec![
        (
            "verifying",
            Box::new(move |pid| {
                if pg {
                    has_child(pid, "--list")
                } else if maria {
                    // The dump is decompressed beside nothing live, into a temporary file.
                    std::env::temp_dir()
                        .join(format!("cargo-dbm-restore-{pid}.sql"))
                        .exists()
                } else {
                    std::fs::read_dir(&data_dir).is_ok_and(|rd| {
                        rd.flatten()
                            .any(|e| e.file_name().to_string_lossy().contains(".restore-"))
                    })
                }
            }),
        ),
        (
            "taking the safety backup",
            Box::new({
                let d = backups_dir.clone();
                move |_| {
                    std::fs::read_dir(&d).is_ok_and(|rd| {
                        rd.flatten().any(|e| {
                            let n = e.file_name().to_string_lossy().into_owned();
                            n.contains("before-restore") && n.contains(".tmp-")
                        })
                    })
                }
            }),
        ),
        (
            "replacing",
            Box::new({
                let d = backups_dir.clone();
                move |pid| {
                    if pg {
                        has_child(pid, "--single-transaction")
                    } else if maria {
                        // The client loading the staging database.
                        has_child(pid, "--batch")
                    } else {
                        std::fs::read_dir(&d).is_ok_and(|rd| {
                            rd.flatten().any(|e| {
                                let n = e.file_name().to_string_lossy().into_owned();
                                n.starts_with("backup_") && n.contains("before-restore")
                            })
                        })
                    }
                }
            }),
        ),
    ];
    let mut outcomes = Vec::new();
    for (phase, reached) in &phases {
        for extra_ms in [0u64, 30] {
            let mut child = spawn(&env, &["restore", &file, "--yes"]);
            let hit = wait_until(&mut child, reached);
            std::thread::sleep(Duration::from_millis(extra_ms));
            kill9(&mut child);
            std::thread::sleep(Duration::from_millis(100));
            if let Backend::Sqlite = env.backend {
                let ok = env.query("PRAGMA integrity_check");
                assert_eq!(ok[0][0], "ok", "after a kill while {phase}");
            }
            let n = count(&env, "account");
            assert!(n == 5 || n == big, "a kill while {phase} left {n} rows");
            outcomes.push((*phase, hit, n == big));
            if n == big {
                exec(&env, "DELETE FROM account WHERE id > 5");
            }
            // Safety copies of killed runs would pile up; they are not under test here.
            for p in backups(&backups_dir) {
                if p.to_string_lossy().contains("before-restore") {
                    std::fs::remove_file(p).unwrap();
                }
            }
        }
    }
    // Every phase was really reached before the kill.
    assert!(
        outcomes.iter().all(|(_, hit, _)| *hit),
        "a phase was not reached: {outcomes:?}"
    );
    // Unkilled, it completes.
    env.dbm(&["restore", &file, "--yes"]).ok();
    assert_eq!(count(&env, "account"), big);
    eprintln!("(phase, reached, new) after each kill: {outcomes:?}");
});

tri!(a_backup_taken_while_another_process_writes_is_consistent, |env| {
    seed(&env, 10);
    grow(&env, 8);
    exec(
        &env,
        "CREATE TABLE ledger (id INTEGER PRIMARY KEY, amount INTEGER NOT NULL); CREATE TABLE total (n INTEGER NOT NULL); INSERT INTO total VALUES (0)",
    );
    // A writer in another thread, each transaction inserting a row and bumping the total.
    let url = env.url.clone();
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let stop2 = stop.clone();
    let writer = std::thread::spawn(move || {
        use sea_orm::{ConnectionTrait, Database, Statement, TransactionTrait};
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async {
            let db = Database::connect(&url).await.unwrap();
            let b = db.get_database_backend();
            let mut i = 0i64;
            while !stop2.load(std::sync::atomic::Ordering::Relaxed) {
                i += 1;
                let tx = match db.begin().await {
                    Ok(t) => t,
                    Err(_) => continue,
                };
                let ok = tx
                    .execute_raw(Statement::from_string(
                        b,
                        format!("INSERT INTO ledger (id, amount) VALUES ({i}, 1)"),
                    ))
                    .await
                    .is_ok()
                    && tx
                        .execute_raw(Statement::from_string(b, "UPDATE total SET n = n + 1"))
                        .await
                        .is_ok();
                if ok {
                    let _ = tx.commit().await;
                } else {
                    let _ = tx.rollback().await;
                }
                tokio::time::sleep(Duration::from_millis(1)).await;
            }
            db.close().await.ok();
            i
        })
    });
    std::thread::sleep(Duration::from_millis(200));
    let file = PathBuf::from(backup_json(&env, &[])["file"].as_str().unwrap());
    std::thread::sleep(Duration::from_millis(100));
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    writer.join().unwrap();
    let live = count(&env, "ledger");
    env.dbm(&["restore", &file.to_string_lossy(), "--yes"]).ok();
    let restored = count(&env, "ledger");
    let total: i64 = env.query("SELECT n FROM total")[0][0].parse().unwrap();
    assert_eq!(restored, total, "the snapshot is torn");
    assert!(restored > 0 && restored < live, "{restored} of {live}");
});

#[test]
fn pg_dump_missing_or_older_than_the_server_is_a_clear_error() {
    let env = Env::postgres();
    seed(&env, 3);
    env.dbm_env(&["backup"], &[("PG_DUMP", "/nonexistent/pg_dump")])
        .expect_code(16)
        .contains("PG_DUMP=/nonexistent/pg_dump");
    let tmp = tempfile::tempdir().unwrap();
    let fake = tmp.path().join("pg_dump");
    std::fs::write(&fake, "#!/bin/sh\necho 'pg_dump (PostgreSQL) 9.6.24'\n").unwrap();
    std::fs::set_permissions(&fake, std::fs::Permissions::from_mode(0o755)).unwrap();
    let out = env.dbm_env(&["backup"], &[("PG_DUMP", &fake.to_string_lossy())]);
    out.expect_code(16)
        .contains("pg_dump 9.6.24")
        .contains("PostgreSQL 15.");
    assert!(!out.all().contains(PG_PASSWORD));
    assert!(backups(&env.fx.path("backups")).is_empty());
}

impl Env {
    fn dbm_env(&self, args: &[&str], extra: &[(&str, &str)]) -> crate::support::Output {
        self.fx.dbm_env(args, extra)
    }
}

#[test]
fn a_damaged_sqlite_database_is_saved_as_it_is_then_replaced() {
    let env = Env::sqlite();
    seed(&env, 50);
    let file = PathBuf::from(backup_json(&env, &[])["file"].as_str().unwrap());
    // Damage the live database beyond SQLite's reading.
    let live = env.fx.sqlite_path();
    let damaged = b"this was a database until something overwrote it".repeat(100);
    std::fs::write(&live, &damaged).unwrap();
    env.dbm(&["restore", &file.to_string_lossy(), "--yes"])
        .ok()
        .contains("saving the file as it is");
    assert_eq!(count(&env, "account"), 50);
    // The damaged bytes are kept, compressed, in the safety copy.
    let safety = backups(&env.fx.path("backups"))
        .into_iter()
        .find(|p| p.to_string_lossy().contains("before-restore"))
        .unwrap();
    let out = Command::new("gzip").arg("-dc").arg(&safety).output().unwrap();
    assert_eq!(out.stdout, damaged);
}

#[test]
fn configuration_sets_the_folder_compression_and_retention() {
    let env = Env::sqlite();
    let v = seed(&env, 20);
    let manifest = env.fx.read("Cargo.toml");
    env.fx.write(
        "Cargo.toml",
        &manifest.replace(
            "[workspace.metadata.dbm]\n",
            "[workspace.metadata.dbm]\nbackup-dir = \"var/bk\"\nbackup-keep = 2\nbackup-compression = \"zstd\"\nbackup-level = 5\n",
        ),
    );
    for _ in 0..3 {
        backup_json(&env, &[]);
    }
    let dir = env.fx.path("var/bk");
    let files = backups(&dir);
    assert_eq!(files.len(), 2, "{files:?}");
    assert!(files.iter().all(|p| p.to_string_lossy().ends_with(".db.zst")));
    assert!(
        Command::new("zstd")
            .arg("-tq")
            .arg(&files[0])
            .status()
            .is_ok_and(|s| s.success())
            || which_missing("zstd")
    );
    // The flags win over the configuration.
    let b = backup_json(&env, &["--compression", "gzip", "--keep", "5"]);
    assert!(b["file"].as_str().unwrap().ends_with(".db.gz"));
    assert_eq!(backups(&dir).len(), 3);
    // --list in JSON: ours, with engine and head.
    let out = env.dbm(&["backup", "--list", "--format", "json"]);
    out.ok();
    let list = out.json();
    let list = list.as_array().unwrap();
    assert_eq!(list.len(), 3);
    assert!(
        list.iter()
            .all(|e| e["ours"] == true && e["engine"] == "sqlite" && e["head"] == v.as_str())
    );
    // A level out of range is bad input, and writes nothing.
    env.dbm(&["backup", "--level", "40"])
        .expect_code(5)
        .contains("out of range");
    assert_eq!(backups(&dir).len(), 3);
}

fn which_missing(tool: &str) -> bool {
    Command::new(tool).arg("--version").output().is_err()
}

#[test]
fn with_a_schema_only_that_schema_is_backed_up_and_restored() {
    // Several applications may share one PostgreSQL database, one schema each: a backup
    // of `tenant` must not carry, nor a restore rewind, anybody else's schema.
    let env = Env::postgres();
    let pg = env.pg();
    let tenant = [("DATABASE_SCHEMA", "tenant")];
    env.fx.migration(
        "create accounts",
        "CREATE TABLE account (id INTEGER PRIMARY KEY, name TEXT NOT NULL)",
        "DROP TABLE account",
    );
    env.fx.dbm_env(&["up"], &tenant).ok();
    pg.psql(
        "app",
        "INSERT INTO tenant.account VALUES (1, 'before');
         CREATE SCHEMA other; CREATE TABLE other.keep (v TEXT); INSERT INTO other.keep VALUES ('before');",
    );
    let out = env.fx.dbm_env(&["backup", "--format", "json"], &tenant);
    out.ok();
    let file = out.json()["file"].as_str().unwrap().to_string();

    // The archive holds the tenant schema only.
    let toc = {
        let mut gz = Vec::new();
        std::io::Read::read_to_end(
            &mut flate2::read::MultiGzDecoder::new(std::fs::File::open(&file).unwrap()),
            &mut gz,
        )
        .unwrap();
        let mut child = Command::new(pg.bin_dir().join("pg_restore"))
            .arg("--list")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        std::io::Write::write_all(child.stdin.as_mut().unwrap(), &gz).unwrap();
        drop(child.stdin.take());
        String::from_utf8(child.wait_with_output().unwrap().stdout).unwrap()
    };
    assert!(toc.contains("TABLE tenant account"), "{toc}");
    assert!(!toc.contains("other"), "another schema was dumped:\n{toc}");

    pg.psql(
        "app",
        "UPDATE tenant.account SET name = 'after'; UPDATE other.keep SET v = 'after';
         CREATE TABLE tenant.late (id INTEGER);",
    );
    let out = env.fx.dbm_env(&["restore", &file, "--yes"], &tenant);
    out.ok().contains("tenant.late");
    assert_eq!(pg.psql("app", "SELECT name FROM tenant.account"), "before");
    assert_eq!(
        pg.psql("app", "SELECT v FROM other.keep"),
        "after",
        "another schema was rewound"
    );
    assert!(!out.all().contains(PG_PASSWORD));
}
