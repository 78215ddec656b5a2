//! `stamp`, the intelligent `up` on an untracked database, `reset`, and `check` (issues #3, #4, #5).

use crate::support::Env;
use crate::tri;

const ACCOUNT: &str = "CREATE TABLE account (id INTEGER PRIMARY KEY, name TEXT NOT NULL)";

tri!(an_untracked_database_is_refused_then_baselined, |env| {
    let a = env.fx.migration("create accounts", ACCOUNT, "DROP TABLE account");
    let b = env.fx.migration(
        "add phone",
        "ALTER TABLE account ADD COLUMN phone TEXT",
        "ALTER TABLE account DROP COLUMN phone",
    );
    // A database made by hand (or by another tool): the first migration's schema, no history.
    env.exec(&format!("{ACCOUNT}; INSERT INTO account (id, name) VALUES (1, 'ada')"));
    let out = env.dbm(&["up"]);
    out.expect_code(12)
        .contains("no migration history")
        .contains("stamp head")
        .contains("--baseline");
    assert_eq!(env.tables(), ["account"], "nothing created");

    env.dbm(&["up", "--baseline", &a])
        .ok()
        .contains("Stamped")
        .contains(&format!("Applied {b}"));
    assert_eq!(env.tracked(), [a.clone(), b.clone()]);
    assert_eq!(env.columns("account"), ["id", "name", "phone"]);
    assert_eq!(env.query("SELECT name FROM account"), [["ada"]]);
    let mut dirs = env.query("SELECT version, direction FROM dbm_history ORDER BY id");
    if env.is_mariadb() {
        // MySQL commits DDL as it goes: the step's start is recorded before it runs.
        assert_eq!(dirs[1], [b.clone(), "started-up".to_string()]);
        dirs.remove(1);
    }
    assert_eq!(dirs, [[a.clone(), "stamp".into()], [b.clone(), "up".into()]]);
    // A baseline on a database with history is refused.
    env.dbm(&["up", "--baseline", "head"]).expect_code(5);
});

tri!(stamp_moves_only_the_tracking_table, |env| {
    let a = env.fx.migration("create accounts", ACCOUNT, "DROP TABLE account");
    let b = env
        .fx
        .migration("create b", "CREATE TABLE b (id INTEGER)", "DROP TABLE b");
    let c = env
        .fx
        .migration("create c", "CREATE TABLE c (id INTEGER)", "DROP TABLE c");
    env.dbm(&["stamp", "head"]).ok();
    assert_eq!(env.tracked(), [a.clone(), b.clone(), c.clone()]);
    assert!(!env.tables().contains(&"account".to_string()), "nothing ran");
    env.dbm(&["stamp", &a]).ok().contains(&format!("Unstamped {c}"));
    assert_eq!(env.tracked(), [a.clone()]);
    env.dbm(&["stamp", "nope"]).expect_code(7);
    assert_eq!(env.tracked(), [a.clone()]);
    env.dbm(&["stamp", "base"]).ok();
    assert!(env.tracked().is_empty());
    // A row of a migration that no longer exists: status flags it; --purge clears it.
    env.exec("INSERT INTO seaql_migrations (version, applied_at) VALUES ('m20000101_000000_gone', 0)");
    env.dbm(&["status"]).expect_code(7).contains("m20000101_000000_gone");
    env.dbm(&["stamp", "head", "--purge"]).ok();
    assert_eq!(env.tracked(), [a, b, c]);
    env.dbm(&["status"]).ok();
});

tri!(reset_drops_everything_and_reapplies, |env| {
    let a = env.fx.migration("create accounts", ACCOUNT, "DROP TABLE account");
    let b = env.fx.migration(
        "add phone",
        "ALTER TABLE account ADD COLUMN phone TEXT",
        "ALTER TABLE account DROP COLUMN phone",
    );
    env.dbm(&["up"]).ok();
    env.exec("INSERT INTO account (id, name) VALUES (1, 'ada'); CREATE TABLE stray (id INTEGER)");
    // Refused without a terminal and without --yes: the data is still there.
    env.dbm(&["reset"]).expect_code(10).contains("--yes");
    assert_eq!(env.query("SELECT name FROM account"), [["ada"]]);
    let out = env.fx.dbm_env(&["reset", "--yes"], &[("DBM_PROTECTED", "true")]);
    out.expect_code(10).contains("protected");
    assert_eq!(env.query("SELECT name FROM account"), [["ada"]]);

    env.dbm(&["reset", "--yes"]).ok().contains("Dropped");
    assert!(env.query("SELECT name FROM account").is_empty());
    assert_eq!(env.columns("account"), ["id", "name", "phone"]);
    assert!(!env.tables().contains(&"stray".to_string()));
    assert_eq!(env.tracked(), [a, b]);
});

#[test]
fn reset_leaves_extension_objects_alone_on_postgres() {
    let env = Env::postgres();
    env.fx.migration(
        "citext emails",
        "CREATE EXTENSION IF NOT EXISTS citext; CREATE TYPE mood AS ENUM ('ok', 'meh'); CREATE TABLE account (id INTEGER PRIMARY KEY, email citext NOT NULL, mood mood)",
        "DROP TABLE account; DROP TYPE mood",
    );
    env.dbm(&["up"]).ok();
    env.exec("INSERT INTO account VALUES (1, 'Ada@Example.com', 'ok')");
    env.dbm(&["reset", "--yes"]).ok();
    assert!(env.query("SELECT id FROM account").is_empty());
    assert_eq!(
        env.pg()
            .psql("app", "SELECT extname FROM pg_extension WHERE extname = 'citext'"),
        "citext"
    );
    env.exec("INSERT INTO account VALUES (1, 'Ada@Example.com', 'meh')");
    assert_eq!(
        env.query("SELECT count(*) FROM account WHERE email = 'ada@example.com'"),
        [["1"]]
    );
}

tri!(check_catches_pending_modified_missing_and_duplicate, |env| {
    let a = env.fx.migration("create accounts", ACCOUNT, "DROP TABLE account");
    let b = env
        .fx
        .migration("create b", "CREATE TABLE b (id INTEGER)", "DROP TABLE b");
    env.dbm(&["check", "--no-entities"])
        .expect_code(3)
        .contains(&a)
        .contains(&b);
    env.dbm(&["up"]).ok();
    env.dbm(&["check", "--no-entities"]).ok().contains("Checked");

    // An applied migration edited afterwards: a warning in status, an error in check.
    let file = env.fx.migration_src().join(format!("{a}.rs"));
    let original = std::fs::read_to_string(&file).unwrap();
    std::fs::write(&file, format!("{original}\n// edited after the fact\n")).unwrap();
    env.dbm(&["status"])
        .ok()
        .contains("modified since applied")
        .contains("was changed after it was applied");
    let out = env.dbm(&["check", "--no-entities", "--format", "json"]);
    out.expect_code(13);
    let v = out.json();
    assert_eq!(v["problems"][0]["kind"], "modified");
    assert!(v["problems"][0]["file"].as_str().unwrap().ends_with(&format!("{a}.rs")));
    std::fs::write(&file, original).unwrap();
    env.dbm(&["check", "--no-entities"]).ok();

    // The same version registered twice.
    let lib_path = env.fx.migration_src().join("lib.rs");
    let lib = std::fs::read_to_string(&lib_path).unwrap();
    let twice = lib.replace(
        &format!("Box::new({b}::Migration),"),
        &format!("Box::new({b}::Migration),\n            Box::new({b}::Migration),"),
    );
    std::fs::write(&lib_path, twice).unwrap();
    env.dbm(&["check", "--no-entities"])
        .expect_code(13)
        .contains("more than once");
    env.dbm(&["up"]).expect_code(7).contains("more than once");
    std::fs::write(&lib_path, lib).unwrap();
});

tri!(reset_seeds_the_default_profile, |env| {
    env.fx.migration("create accounts", ACCOUNT, "DROP TABLE account");
    env.dbm(&["up"]).ok();
    env.fx.write("seeds/default/account.csv", "id,name\n1,ada\n2,grace\n");
    env.fx.write("seeds/minimal/account.csv", "id,name\n1,root\n");
    env.exec("INSERT INTO account (id, name) VALUES (9, 'stale')");
    env.dbm(&["reset", "--yes"]).ok().contains("Seeded");
    assert_eq!(env.query("SELECT name FROM account ORDER BY id"), [["ada"], ["grace"]]);
    env.dbm(&["reset", "--yes", "--profile", "minimal"]).ok();
    assert_eq!(env.query("SELECT name FROM account ORDER BY id"), [["root"]]);
    env.dbm(&["reset", "--yes", "--no-seed"]).ok();
    assert!(env.query("SELECT name FROM account").is_empty());
    env.dbm(&["reset", "--yes", "--profile", "nope"]).expect_code(5);
});
