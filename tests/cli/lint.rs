//! `cargo dbm lint` and the lint part of `check` (#13): the statements of pending migrations,
//! captured on a scratch database, checked against lock-safety rules. Each rule's own cases
//! are unit tests (`src/lint/tests.rs`); these drive the command end to end.

use crate::support::*;

#[test]
fn postgres_findings_name_the_migration_the_rule_and_the_safe_pattern() {
    let env = Env::postgres();
    env.fx.migration(
        "create accounts",
        "CREATE TABLE account (id INTEGER PRIMARY KEY, name TEXT NOT NULL)",
        "DROP TABLE account",
    );
    env.dbm(&["up"]).ok();
    let risky = env.fx.migration(
        "require phone",
        "ALTER TABLE account ADD COLUMN phone varchar NOT NULL; CREATE INDEX idx_account_name ON account (name)",
        "DROP INDEX idx_account_name; ALTER TABLE account DROP COLUMN phone",
    );
    // A table created and indexed in the same migration is not flagged.
    env.fx.migration(
        "create posts",
        "CREATE TABLE post (id INTEGER PRIMARY KEY, title TEXT NOT NULL); CREATE INDEX idx_post_title ON post (title)",
        "DROP TABLE post",
    );
    let before = env.tables();

    let out = env.dbm(&["lint"]);
    out.expect_code(22)
        .contains(&risky)
        .contains("adding-required-field")
        .contains("ADD COLUMN phone varchar NOT NULL")
        .contains("require-concurrent-index-creation")
        .contains("CONCURRENTLY")
        .contains("1 error(s), 1 warning(s)");
    assert!(!out.all().contains("idx_post_title"), "{}", out.all());
    assert_eq!(env.tables(), before, "lint runs on a scratch database");

    let v = env.dbm(&["lint", "--format", "json"]).json();
    assert_eq!(v["exit_code"], 22);
    let rules: Vec<&str> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["rule"].as_str().unwrap())
        .collect();
    assert_eq!(rules, ["adding-required-field", "require-concurrent-index-creation"]);
    assert_eq!(v["findings"][0]["severity"], "error");
    assert_eq!(v["findings"][0]["version"], risky.as_str());

    // check fails on the error with lint's exit code.
    env.dbm(&["check", "--no-entities"])
        .expect_code(22)
        .contains("adding-required-field");
    env.dbm(&["check", "--no-entities", "--no-lint"]).expect_code(3);

    // A reviewed exception: allowed in the migration's file; the warning remains.
    let file = env.fx.migration_src().join(format!("{risky}.rs"));
    let text = std::fs::read_to_string(&file).unwrap();
    std::fs::write(
        &file,
        format!("// cargo-dbm: allow(adding-required-field) -- the table is empty\n{text}"),
    )
    .unwrap();
    env.dbm(&["lint"]).ok().contains("0 error(s), 1 warning(s)");
    env.dbm(&["lint", "--deny-warnings"]).expect_code(22);

    // An unknown rule name is named.
    std::fs::write(&file, format!("// cargo-dbm: allow(no-such-rule)\n{text}")).unwrap();
    env.dbm(&["lint"]).expect_code(5).contains("no-such-rule");
}

#[test]
fn sqlite_flags_destructive_drops_of_existing_tables() {
    let env = Env::sqlite();
    env.fx.migration(
        "create accounts",
        "CREATE TABLE account (id INTEGER PRIMARY KEY, name TEXT NOT NULL); CREATE TABLE legacy (id INTEGER PRIMARY KEY)",
        "DROP TABLE legacy; DROP TABLE account",
    );
    env.dbm(&["up"]).ok();
    let drop = env.fx.migration(
        "drop legacy",
        "DROP TABLE legacy",
        "CREATE TABLE legacy (id INTEGER PRIMARY KEY)",
    );
    env.dbm(&["lint"])
        .expect_code(22)
        .contains(&drop)
        .contains("ban-drop-table");
    env.dbm(&["check", "--no-entities"]).expect_code(22);
    // The safe way: nothing dropped.
    std::fs::write(
        env.fx.migration_src().join(format!("{drop}.rs")),
        sql_migration(
            "ALTER TABLE legacy ADD COLUMN note TEXT",
            "ALTER TABLE legacy DROP COLUMN note",
        ),
    )
    .unwrap();
    env.dbm(&["lint"]).ok().contains("0 error(s), 0 warning(s)");
    // Everything applied: nothing to lint.
    env.dbm(&["up"]).ok();
    env.dbm(&["lint"]).ok().contains("nothing to lint");
}
