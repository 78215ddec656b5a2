//! `cargo dbm verify`: up, down, up again on a scratch database, comparing schemas (#5).

use crate::tri;

tri!(verify_passes_good_migrations_and_names_the_first_bad_one, |env| {
    let a = env.fx.migration(
        "create accounts",
        "CREATE TABLE account (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE)",
        "DROP TABLE account",
    );
    // MySQL names the table of an index it drops, and keeps an index its foreign key needs.
    let post_down = if env.is_mariadb() {
        "DROP TABLE post"
    } else {
        "DROP INDEX idx_post_account; DROP TABLE post"
    };
    let b = env.fx.migration(
        "posts",
        "CREATE TABLE post (id INTEGER PRIMARY KEY, account_id INTEGER NOT NULL REFERENCES account (id) ON DELETE CASCADE); CREATE INDEX idx_post_account ON post (account_id)",
        post_down,
    );
    let out = env.dbm(&["verify", "--no-entities"]);
    out.ok()
        .contains(&format!("Verified {a}"))
        .contains(&format!("Verified {b}"))
        .contains("2 migration(s) verified");

    // A down that forgets the column its up added.
    // MySQL indexes a TEXT column only by a prefix: a VARCHAR there.
    let (phone_up, phone_down, phone_type) = if env.is_mariadb() {
        (
            "ALTER TABLE account ADD COLUMN phone VARCHAR(20); CREATE INDEX idx_phone ON account (phone)",
            "DROP INDEX idx_phone ON account",
            "varchar(20)",
        )
    } else {
        (
            "ALTER TABLE account ADD COLUMN phone TEXT; CREATE INDEX idx_phone ON account (phone)",
            "DROP INDEX idx_phone",
            "text",
        )
    };
    let c = env.fx.migration("add phone", phone_up, phone_down);
    let out = env.dbm(&["verify", "--no-entities", "--format", "json"]);
    out.expect_code(14);
    let v = out.json();
    assert_eq!(v["failure"]["version"], c.as_str());
    assert_eq!(v["failure"]["stage"], "down-leaves-trace");
    assert_eq!(
        v["failure"]["changes"][0].as_str().unwrap(),
        format!("column `account.phone` added ({phone_type}, null)")
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
    if env.is_mariadb() {
        let left = env.query(
            "SELECT CAST(schema_name AS CHAR) FROM information_schema.schemata WHERE schema_name LIKE 'dbm\\_%'",
        );
        assert!(left.is_empty(), "{left:?}");
    }
});
