//! Migrations that are safe under failure and concurrency, on every engine (issue #3).

use crate::support::{Env, Output, sql_migration_full, sql_migration_with};
use crate::{dual, tri};

const SLOW: &str = "        std::thread::sleep(std::time::Duration::from_millis(300));\n";

tri!(concurrent_ups_apply_each_migration_exactly_once, |env| {
    let mut versions = Vec::new();
    for (i, t) in ["a", "b", "c", "d", "e"].iter().enumerate() {
        let after = if i % 2 == 1 { SLOW } else { "" };
        let src = sql_migration_full(
            &format!("CREATE TABLE {t} (id INTEGER PRIMARY KEY)"),
            after,
            &format!("DROP TABLE {t}"),
            "",
        );
        versions.push(env.fx.migration_source(&format!("create {t}"), &src));
    }
    // Build the runner once (on a scratch database), so the eight runs race on the database.
    let scratch = env.scratch_url("scratch");
    env.dbm(&["up", "--database-url", &scratch]).ok();

    let children: Vec<_> = (0..8).map(|_| env.spawn(&["up", "--lock-timeout", "120"])).collect();
    let outputs: Vec<Output> = children
        .into_iter()
        .map(|c| {
            let o = c.wait_with_output().unwrap();
            Output {
                code: o.status.code().unwrap_or(-1),
                stdout: String::from_utf8_lossy(&o.stdout).into(),
                stderr: String::from_utf8_lossy(&o.stderr).into(),
            }
        })
        .collect();
    for o in &outputs {
        o.ok();
        assert!(!o.stderr.contains("error"), "{}", o.stderr);
    }
    assert_eq!(env.tracked(), versions);
    let ups = env.query("SELECT version FROM dbm_history WHERE direction = 'up' ORDER BY id");
    assert_eq!(ups.len(), 5, "each migration applied exactly once: {ups:?}");
    let applied: usize = outputs.iter().map(|o| o.stderr.matches("     Applied ").count()).sum();
    assert_eq!(
        applied,
        5,
        "{:#?}",
        outputs.iter().map(|o| &o.stderr).collect::<Vec<_>>()
    );
});

// Not on MySQL: its DDL commits as it goes, so a killed migration leaves what it did (the
// MariaDB counterpart, `a_killed_migration_on_mariadb_is_reported_as_partially_applied`, follows).
dual!(kill_9_in_the_middle_of_a_migration_leaves_it_unapplied, |env| {
    let a = env
        .fx
        .migration("create a", "CREATE TABLE a (id INTEGER PRIMARY KEY)", "DROP TABLE a");
    let marker = env.fx.path("slow-started");
    // Sleeps (after creating its table) only the first time, so the retry is quick.
    let after = format!(
        "        let marker = std::path::Path::new({marker:?});\n        if !marker.exists() {{\n            std::fs::write(marker, b\"x\").unwrap();\n            std::thread::sleep(std::time::Duration::from_secs(60));\n        }}\n"
    );
    let b = env.fx.migration_source(
        "slow",
        &sql_migration_full(
            "CREATE TABLE b (id INTEGER PRIMARY KEY); INSERT INTO b VALUES (1)",
            &after,
            "DROP TABLE b",
            "",
        ),
    );
    let mut child = env.spawn(&["up"]);
    let start = std::time::Instant::now();
    while !marker.exists() {
        assert!(start.elapsed().as_secs() < 600, "the slow migration never started");
        if let Some(status) = child.try_wait().unwrap() {
            panic!("cargo dbm up ended early: {status}");
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    // The runner dies with it (PR_SET_PDEATHSIG); give the OS a moment to reap it.
    std::thread::sleep(std::time::Duration::from_millis(500));

    // Before the slow migration: `a` applied, nothing of `b`.
    assert_eq!(env.tracked(), [a.clone()]);
    assert!(!env.tables().contains(&"b".to_string()), "{:?}", env.tables());
    // And the next run completes.
    env.dbm(&["up"]).ok();
    assert_eq!(env.tracked(), [a, b]);
    assert_eq!(env.query("SELECT count(*) FROM b"), [["1"]]);
});

/// `kill -9` during a migration on MariaDB: what it did is committed (DDL is), so it is never
/// reported as unapplied nor as applied, but as partially applied until it is settled.
#[test]
fn a_killed_migration_on_mariadb_is_reported_as_partially_applied() {
    let env = Env::mariadb();
    let a = env
        .fx
        .migration("create a", "CREATE TABLE a (id INTEGER PRIMARY KEY)", "DROP TABLE a");
    let marker = env.fx.path("slow-started");
    let after = format!(
        "        let marker = std::path::Path::new({marker:?});\n        if !marker.exists() {{\n            std::fs::write(marker, b\"x\").unwrap();\n            std::thread::sleep(std::time::Duration::from_secs(60));\n        }}\n"
    );
    let b = env.fx.migration_source(
        "slow",
        &sql_migration_full(
            "CREATE TABLE b (id INTEGER PRIMARY KEY); INSERT INTO b VALUES (1)",
            &after,
            "DROP TABLE b",
            "",
        ),
    );
    let mut child = env.spawn(&["up"]);
    let start = std::time::Instant::now();
    while !marker.exists() {
        assert!(start.elapsed().as_secs() < 600, "the slow migration never started");
        if let Some(status) = child.try_wait().unwrap() {
            panic!("cargo dbm up ended early: {status}");
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    std::thread::sleep(std::time::Duration::from_millis(500));

    // `a` applied; `b` left its table, untracked, and the database says so.
    assert_eq!(env.tracked(), [a.clone()]);
    assert!(env.tables().contains(&"b".to_string()), "{:?}", env.tables());
    env.dbm(&["status"])
        .expect_code(19)
        .contains("partially migrated")
        .contains(&b);
    env.dbm(&["up"]).expect_code(19).contains(&b);
    // Repaired by hand (undone) and settled, the next run completes.
    env.exec("DROP TABLE b");
    env.dbm(&["stamp", &a]).ok().contains("Settled");
    env.dbm(&["up"]).ok();
    assert_eq!(env.tracked(), [a, b]);
    assert_eq!(env.query("SELECT CAST(COUNT(*) AS CHAR) FROM b"), [["1"]]);
}

tri!(a_migration_outside_a_transaction_says_what_it_left, |env| {
    let v = env.fx.migration_source(
        "no transaction",
        &sql_migration_with(
            "CREATE TABLE half (id INTEGER PRIMARY KEY); INSERT INTO nope VALUES (1)",
            "DROP TABLE half",
            "\n    fn use_transaction(&self) -> Option<bool> {\n        Some(false)\n    }\n",
        ),
    );
    let out = env.dbm(&["up", "--backup"]);
    out.expect_code(9)
        .contains(&v)
        .contains("outside a transaction")
        .contains("by hand");
    // `up --backup` took a backup first and names the exact command that restores it.
    out.contains("Backing up").contains("cargo dbm restore ");
    let backups: Vec<_> = std::fs::read_dir(env.fx.path("backups"))
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert!(
        backups.iter().any(|n| n.to_string_lossy().starts_with("backup_")),
        "{backups:?}"
    );
    // What ran before the error is still there (that is what opting out means), untracked.
    assert!(env.tables().contains(&"half".to_string()));
    assert!(env.tracked().is_empty());
});

#[test]
fn a_postgres_schema_is_honoured_by_up_and_down() {
    let env = Env::postgres();
    let a = env.fx.migration(
        "create accounts",
        "CREATE TABLE account (id INTEGER PRIMARY KEY)",
        "DROP TABLE account",
    );
    env.dbm(&["up", "--schema", "tenant"]).ok();
    let where_ = "SELECT table_schema || '.' || table_name FROM information_schema.tables WHERE table_name IN ('account', 'seaql_migrations', 'dbm_history') ORDER BY 1";
    assert_eq!(
        env.pg().psql("app", where_),
        "tenant.account\ntenant.dbm_history\ntenant.seaql_migrations"
    );
    // The default schema has nothing applied; the tenant schema is up to date.
    env.dbm(&["status"]).expect_code(3);
    env.fx
        .dbm_env(&["status"], &[("DATABASE_SCHEMA", "tenant")])
        .ok()
        .contains("1 applied, 0 pending");
    env.fx
        .dbm_env(&["down"], &[("DATABASE_SCHEMA", "tenant")])
        .ok()
        .contains(&a);
    assert_eq!(
        env.pg().psql("app", where_),
        "tenant.dbm_history\ntenant.seaql_migrations"
    );
}

#[test]
fn a_second_run_waits_for_the_lock_then_times_out() {
    let env = Env::sqlite();
    env.fx
        .migration("create a", "CREATE TABLE a (id INTEGER PRIMARY KEY)", "DROP TABLE a");
    // Hold the lock as a running `cargo dbm up` would.
    let lock_path = format!("{}.dbm-lock", env.fx.sqlite_path().display());
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&lock_path)
        .unwrap();
    file.lock().unwrap();
    let out = env.dbm(&["up", "--lock-timeout", "1"]);
    out.expect_code(11).contains("Waiting").contains("timed out after 1s");
    assert!(env.tracked().is_empty());
    file.unlock().unwrap();
    env.dbm(&["up"]).ok();
}
