//! `cargo dbm verify`: up, down, up again on a scratch database, comparing schemas (#5).

use crate::dual;

dual!(verify_passes_good_migrations_and_names_the_first_bad_one, |env| {
    let a = env.fx.migration(
        "create accounts",
        "CREATE TABLE account (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE)",
        "DROP TABLE account",
    );
    let b = env.fx.migration(
        "posts",
        "CREATE TABLE post (id INTEGER PRIMARY KEY, account_id INTEGER NOT NULL REFERENCES account (id) ON DELETE CASCADE); CREATE INDEX idx_post_account ON post (account_id)",
        "DROP INDEX idx_post_account; DROP TABLE post",
    );
    let out = env.dbm(&["verify", "--no-entities"]);
    out.ok()
        .contains(&format!("Verified {a}"))
        .contains(&format!("Verified {b}"))
        .contains("2 migration(s) verified");

    // A down that forgets the column its up added.
    let c = env.fx.migration(
        "add phone",
        "ALTER TABLE account ADD COLUMN phone TEXT; CREATE INDEX idx_phone ON account (phone)",
        "DROP INDEX idx_phone",
    );
    let out = env.dbm(&["verify", "--no-entities", "--format", "json"]);
    out.expect_code(14);
    let v = out.json();
    assert_eq!(v["failure"]["version"], c.as_str());
    assert_eq!(v["failure"]["stage"], "down-leaves-trace");
    assert_eq!(
        v["failure"]["changes"][0].as_str().unwrap(),
        "column `account.phone` added (text, null)"
    );
    assert_eq!(v["verified"].as_array().unwrap().len(), 2);
    env.dbm(&["verify", "--no-entities"])
        .expect_code(14)
        .contains(&c)
        .contains("does not undo");

    // A down that fails.
    let file = env.fx.migration_src().join(format!("{c}.rs"));
    std::fs::write(
        &file,
        crate::support::sql_migration("ALTER TABLE account ADD COLUMN phone TEXT", "DROP TABLE nothing_here"),
    )
    .unwrap();
    let out = env.dbm(&["verify", "--no-entities", "--format", "json"]);
    out.expect_code(14);
    assert_eq!(out.json()["failure"]["stage"], "down");

    // The user's database was never touched, and no scratch is left behind.
    assert!(env.tracked().is_empty());
    assert!(env.tables().is_empty(), "{:?}", env.tables());
    if env.is_postgres() {
        assert_eq!(
            env.pg().psql(
                "app",
                "SELECT count(*) FROM pg_namespace WHERE nspname LIKE 'dbm_verify_%'"
            ),
            "0"
        );
    }
});
