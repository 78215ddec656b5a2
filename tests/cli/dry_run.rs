//! `up --dry-run` and `down --dry-run` (#13): every statement printed, the database left
//! exactly as it was — byte for byte on SQLite, catalog and rows on PostgreSQL.

use crate::dual;
use crate::support::*;

/// What must not change: the SQLite file's bytes; on PostgreSQL the catalog (tables,
/// columns, indexes) and the tracking rows.
fn fingerprint(env: &Env) -> String {
    if env.is_postgres() {
        let mut out = Vec::new();
        for sql in [
            "SELECT table_name || '.' || column_name || ':' || data_type FROM information_schema.columns WHERE table_schema = current_schema() ORDER BY 1",
            "SELECT indexname FROM pg_indexes WHERE schemaname = current_schema() ORDER BY 1",
        ] {
            out.extend(env.query(sql).into_iter().map(|r| r.join(" ")));
        }
        if env.tables().contains(&"seaql_migrations".to_string()) {
            out.extend(
                env.query("SELECT version || ' ' || applied_at FROM seaql_migrations ORDER BY 1")
                    .into_iter()
                    .map(|r| r.join(" ")),
            );
            out.extend(
                env.query("SELECT id || ' ' || version || ' ' || direction FROM dbm_history ORDER BY id")
                    .into_iter()
                    .map(|r| r.join(" ")),
            );
        }
        return out.join("\n");
    }
    use sha2::Digest;
    let bytes = std::fs::read(env.fx.sqlite_path()).unwrap_or_default();
    format!("{:x}", sha2::Sha256::digest(&bytes))
}

dual!(a_dry_run_prints_every_statement_and_changes_nothing, |env| {
    let a = env.fx.migration(
        "create accounts",
        "CREATE TABLE account (id INTEGER PRIMARY KEY, name TEXT NOT NULL)",
        "DROP TABLE account",
    );
    let b = env.fx.migration(
        "add posts",
        "CREATE TABLE post (id INTEGER PRIMARY KEY, title TEXT); INSERT INTO post (id, title) VALUES (1, 'hello'); CREATE INDEX idx_post_title ON post (title)",
        "DROP TABLE post",
    );

    // A database without tracking tables: they are created for the dry run and vanish.
    let before = fingerprint(&env);
    let out = env.dbm(&["up", "--dry-run"]);
    out.ok();
    assert!(out.stdout.contains("the tracking tables (missing"), "{}", out.stdout);
    assert!(out.stdout.contains("seaql_migrations"), "{}", out.stdout);
    let a_at = out.stdout.find(&format!("-- {a} (up)")).expect("a's header");
    let b_at = out.stdout.find(&format!("-- {b} (up)")).expect("b's header");
    assert!(a_at < b_at);
    for stmt in [
        "CREATE TABLE account (id INTEGER PRIMARY KEY, name TEXT NOT NULL);",
        "INSERT INTO post (id, title) VALUES (1, 'hello');",
        "CREATE INDEX idx_post_title ON post (title);",
    ] {
        assert!(out.stdout.contains(stmt), "missing {stmt}:\n{}", out.stdout);
    }
    // The tracking rows, with their times.
    assert!(out.stdout.contains(&format!("'{b}'")), "{}", out.stdout);
    assert!(out.stdout.contains(" ms"), "{}", out.stdout);
    out.contains("nothing was changed");
    assert_eq!(fingerprint(&env), before);
    assert!(env.tables().is_empty(), "{:?}", env.tables());

    // One applied, one pending: the dry run shows the pending one only.
    env.dbm(&["up", &a]).ok();
    let before = fingerprint(&env);
    let out = env.dbm(&["up", "--dry-run", "--format", "json"]);
    out.ok();
    let v = out.json();
    assert_eq!(v["ran"]["on"], "rolled-back");
    assert_eq!(v["setup"], serde_json::json!([]));
    assert_eq!(v["migrations"].as_array().unwrap().len(), 1);
    assert_eq!(v["migrations"][0]["version"], b.as_str());
    let statements: Vec<String> = v["migrations"][0]["statements"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["sql"].as_str().unwrap().to_string())
        .collect();
    assert!(
        statements.iter().any(|s| s.contains("seaql_migrations")),
        "{statements:?}"
    );
    assert!(statements.iter().any(|s| s.contains("dbm_history")), "{statements:?}");
    assert_eq!(fingerprint(&env), before);
    assert_eq!(env.tracked(), [a.clone()]);

    // What the dry run printed is what up then does.
    env.dbm(&["up"]).ok();
    assert_eq!(env.tracked(), [a.clone(), b.clone()]);
    assert_eq!(env.query("SELECT title FROM post"), [["hello"]]);

    // down --dry-run: the revert's statements, and the table is still there.
    let before = fingerprint(&env);
    let out = env.dbm(&["down", "--dry-run"]);
    out.ok();
    assert!(out.stdout.contains(&format!("-- {b} (down)")), "{}", out.stdout);
    assert!(out.stdout.contains("DROP TABLE post;"), "{}", out.stdout);
    assert!(out.stdout.contains("DELETE FROM"), "{}", out.stdout);
    assert_eq!(fingerprint(&env), before);
    assert_eq!(env.query("SELECT title FROM post"), [["hello"]]);

    // A migration that fails in the dry run: its error, the statements up to it, nothing kept.
    let bad = env.fx.migration(
        "broken",
        "CREATE TABLE audit (id INTEGER PRIMARY KEY); INSERT INTO no_such_table VALUES (1)",
        "DROP TABLE audit",
    );
    let before = fingerprint(&env);
    let out = env.dbm(&["up", "--dry-run"]);
    out.expect_code(9)
        .contains(&format!("migration `{bad}` failed"))
        .contains("no_such_table");
    assert!(
        out.stdout.contains("CREATE TABLE audit (id INTEGER PRIMARY KEY);"),
        "{}",
        out.stdout
    );
    assert_eq!(fingerprint(&env), before);
    assert!(!env.tables().contains(&"audit".to_string()));
});

dual!(
    a_migration_outside_a_transaction_is_dry_run_on_a_scratch_database,
    |env| {
        env.fx.migration(
            "create accounts",
            "CREATE TABLE account (id INTEGER PRIMARY KEY, name TEXT)",
            "DROP TABLE account",
        );
        env.dbm(&["up"]).ok();
        let src = sql_migration_with(
            "CREATE INDEX idx_account_name ON account (name)",
            "DROP INDEX idx_account_name",
            "\n    fn use_transaction(&self) -> Option<bool> {\n        Some(false)\n    }\n",
        );
        let idx = env.fx.migration_source("index names", &src);
        let before = fingerprint(&env);
        let out = env.dbm(&["up", "--dry-run"]);
        out.ok();
        assert!(out.stdout.contains("run on a scratch database"), "{}", out.stdout);
        assert!(
            out.stdout.contains(&format!("`{idx}` cannot run inside a transaction")),
            "{}",
            out.stdout
        );
        assert!(
            out.stdout.contains("CREATE INDEX idx_account_name ON account (name);"),
            "{}",
            out.stdout
        );
        assert_eq!(fingerprint(&env), before);
    }
);

/// A session holding a lock on `account` (reading it inside an open transaction) for
/// `secs` seconds, as application `blocker`.
fn blocker(env: &Env, secs: u32) -> std::process::Child {
    blocking_session(env, "account", secs)
}

/// A session holding a lock on `table` (reading it inside an open transaction) for `secs`
/// seconds, as application `blocker`; end it with [`release`].
pub(crate) fn blocking_session(env: &Env, table: &str, secs: u32) -> std::process::Child {
    let child = std::process::Command::new("psql")
        .arg(&env.url)
        .args([
            "-q",
            "-c",
            &format!("BEGIN; SELECT count(*) FROM {table}; SELECT pg_sleep({secs}); COMMIT"),
        ])
        .env("PGAPPNAME", "blocker")
        .env("PGSSLMODE", "disable")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("psql");
    // Until the lock is held.
    for _ in 0..200 {
        let held = env.pg().psql(
            "app",
            "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'blocker' AND query LIKE '%pg_sleep%'",
        );
        if held.trim() == "1" {
            return child;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let out = child.wait_with_output().unwrap();
    panic!(
        "the blocking session did not start: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Ends the blocking session (server side: a killed client's backend sleeps on).
pub(crate) fn release(env: &Env, mut hold: std::process::Child) {
    env.pg().psql(
        "app",
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'blocker'",
    );
    hold.kill().ok();
    hold.wait().ok();
}

#[test]
fn a_lock_timeout_names_the_blocking_session_and_leaves_nothing() {
    let env = Env::postgres();
    let a = env.fx.migration(
        "create accounts",
        "CREATE TABLE account (id INTEGER PRIMARY KEY, name TEXT)",
        "DROP TABLE account",
    );
    env.dbm(&["up"]).ok();
    let b = env.fx.migration(
        "add phone",
        "CREATE TABLE audit (id INTEGER PRIMARY KEY); ALTER TABLE account ADD COLUMN phone TEXT",
        "DROP TABLE audit; ALTER TABLE account DROP COLUMN phone",
    );
    let hold = blocker(&env, 30);
    let out = env.dbm(&["up", "--db-lock-timeout", "1s"]);
    release(&env, hold);
    out.expect_code(9)
        .contains(&format!("migration `{b}` failed"))
        .contains("lock timeout")
        .contains("blocked by pid")
        .contains("application `blocker`")
        .contains("query started")
        .contains("pg_terminate_backend");
    // Nothing half done: no audit table, no phone column, b not recorded.
    assert!(!env.tables().contains(&"audit".to_string()));
    assert_eq!(env.columns("account"), ["id", "name"]);
    assert_eq!(env.tracked(), [a.clone()]);

    // The dry run is bounded the same way.
    let hold = blocker(&env, 30);
    let out = env.dbm(&["up", "--dry-run", "--db-lock-timeout", "1s"]);
    release(&env, hold);
    out.expect_code(9).contains("application `blocker`");

    // statement_timeout: a statement running past it is cancelled, and rolled back.
    let slow = env.fx.path(&format!("migration/src/{b}.rs"));
    std::fs::write(
        &slow,
        sql_migration(
            "CREATE TABLE audit (id INTEGER PRIMARY KEY); SELECT pg_sleep(5)",
            "DROP TABLE audit",
        ),
    )
    .unwrap();
    env.dbm(&["up", "--statement-timeout", "300ms"])
        .expect_code(9)
        .contains("statement timeout");
    assert!(!env.tables().contains(&"audit".to_string()));

    // Without the blocker and the slow statement, it applies.
    std::fs::write(
        &slow,
        sql_migration(
            "ALTER TABLE account ADD COLUMN phone TEXT",
            "ALTER TABLE account DROP COLUMN phone",
        ),
    )
    .unwrap();
    env.dbm(&["up", "--db-lock-timeout", "1s"]).ok();
    assert_eq!(env.tracked(), [a, b]);
}
