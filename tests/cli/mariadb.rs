//! MySQL/MariaDB through the engine seam, against a throwaway MariaDB server: what is
//! specific to the engine (no transactional DDL, `GET_LOCK`, `mariadb-dump` backups
//! restored through a staging database and one `RENAME TABLE`, `mariadb://` URLs).
//! The scenarios shared with the other engines run on MariaDB through `tri!`.

use crate::support::Env;

const PARENT_UP: &str = "CREATE TABLE account (id INTEGER PRIMARY KEY AUTO_INCREMENT, name VARCHAR(100) NOT NULL)";
const PARENT_DOWN: &str = "DROP TABLE account";
const CHILD_UP: &str = "CREATE TABLE post (id INTEGER PRIMARY KEY AUTO_INCREMENT, account_id INTEGER NOT NULL, title VARCHAR(100) NOT NULL, FOREIGN KEY (account_id) REFERENCES account(id) ON DELETE CASCADE)";
const CHILD_DOWN: &str = "DROP TABLE post";

fn count(env: &Env, table: &str) -> String {
    env.query(&format!("SELECT CAST(COUNT(*) AS CHAR) FROM {table}"))[0][0].clone()
}

/// Backup, then restore after the data changed: every row of parent and child tables
/// comes back, the safety copy holds the changed data, and the live database was never
/// half replaced.
#[test]
fn backup_and_restore_keep_every_row_of_parents_and_children() {
    let env = Env::mariadb();
    env.fx.migration("create accounts", PARENT_UP, PARENT_DOWN);
    env.fx.migration("create posts", CHILD_UP, CHILD_DOWN);
    env.dbm(&["up"]).ok().contains("2 migration(s) applied");
    env.exec(
        "INSERT INTO account (id, name) VALUES (1, 'ann'), (2, 'bob'); \
         INSERT INTO post (account_id, title) VALUES (1, 'a1'), (1, 'a2'), (2, 'b1')",
    );
    let out = env.dbm(&["backup", "--format", "json"]);
    out.ok();
    let v = out.json();
    let file = v["file"].as_str().unwrap().to_string();
    assert!(file.ends_with(".sql.gz"), "{file}");
    assert!(!out.all().contains(crate::support::mariadb::MARIADB_PASSWORD));

    // Change the data: a cascade deletes children, a new table appears.
    env.exec("DELETE FROM account WHERE id = 1; CREATE TABLE scratch_note (id INTEGER PRIMARY KEY)");
    assert_eq!(count(&env, "post"), "1");

    env.dbm(&["restore", &file]).expect_code(10).contains("--yes");
    env.dbm(&["restore", &file, "--yes"]).ok();
    assert_eq!(count(&env, "account"), "2");
    assert_eq!(count(&env, "post"), "3");
    assert_eq!(
        env.query("SELECT CAST(title AS CHAR) FROM post ORDER BY id"),
        [["a1"], ["a2"], ["b1"]]
    );
    // The database holds exactly the backup's tables; no staging database is left.
    assert!(!env.tables().contains(&"scratch_note".to_string()));
    let left =
        env.query("SELECT CAST(schema_name AS CHAR) FROM information_schema.schemata WHERE schema_name LIKE 'dbm\\_%'");
    assert!(left.is_empty(), "{left:?}");
    // Foreign keys still hold after the swap.
    env.exec("DELETE FROM account WHERE id = 2");
    assert_eq!(count(&env, "post"), "2");
    env.dbm(&["status"]).ok().contains("2 applied, 0 pending");
}

/// A cut or foreign file is refused before anything is touched.
#[test]
fn a_truncated_dump_is_refused_and_nothing_changes() {
    let env = Env::mariadb();
    env.fx.migration("create accounts", PARENT_UP, PARENT_DOWN);
    env.dbm(&["up"]).ok();
    env.exec("INSERT INTO account (name) VALUES ('ann')");
    let out = env.dbm(&["backup", "--format", "json"]);
    out.ok();
    let file = out.json()["file"].as_str().unwrap().to_string();
    let bytes = std::fs::read(&file).unwrap();
    let cut = env.fx.path("cut.sql.gz");
    std::fs::write(&cut, &bytes[..bytes.len() / 2]).unwrap();
    env.dbm(&["restore", cut.to_str().unwrap(), "--yes"]).expect_code(15);
    assert_eq!(count(&env, "account"), "1");
}

/// A failed migration on MySQL is not rolled back (DDL commits): the failure names what it
/// left, `status`, `check` and `up` report the database as partially migrated (never as
/// clean) until it is repaired and recorded with `stamp`.
#[test]
fn a_migration_that_fails_halfway_is_reported_as_partially_applied() {
    let env = Env::mariadb();
    let a = env.fx.migration("create accounts", PARENT_UP, PARENT_DOWN);
    let half = env.fx.migration(
        "half",
        "CREATE TABLE half_done (id INTEGER PRIMARY KEY); CREATE TABLE account (id INTEGER)",
        "DROP TABLE half_done",
    );
    let out = env.dbm(&["up"]);
    out.expect_code(9)
        .contains(&half)
        .contains("outside a transaction")
        .contains("table `half_done` added");
    assert_eq!(env.tracked(), [a.clone()]);
    assert!(env.tables().contains(&"half_done".to_string()));

    // Never reported as clean.
    let out = env.dbm(&["status"]);
    out.expect_code(19)
        .contains("partially migrated")
        .contains(&half)
        .contains("cargo dbm stamp");
    let out = env.dbm(&["status", "--format", "json"]);
    out.expect_code(19);
    assert_eq!(out.json()["partially_applied"][0]["version"], half.as_str());
    env.dbm(&["check"]).expect_code(19).contains("partially-applied");
    env.dbm(&["up"]).expect_code(19).contains(&half);
    assert!(env.tables().contains(&"half_done".to_string()));

    // Repaired by hand (undone), then recorded: the migration is pending again.
    env.exec("DROP TABLE half_done");
    env.dbm(&["stamp", &a]).ok().contains("Settled");
    env.dbm(&["status"]).expect_code(3).contains("1 pending");
    let h = env.dbm(&["history", "--format", "json"]);
    h.ok();
    let dirs: Vec<String> = h
        .json()
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["direction"].as_str().unwrap().to_string())
        .collect();
    // On MySQL every migration records its start: a start with an end is a clean step.
    assert_eq!(dirs, ["started-up", "up", "started-up", "settled"]);
}

/// `mariadb://` URLs work like `mysql://`; reset drops everything once asked.
#[test]
fn mariadb_urls_and_a_guarded_reset() {
    let env = Env::mariadb();
    let url = env.url.replacen("mysql://", "mariadb://", 1);
    // `init` gave the migration crate MySQL's driver, so its own CLI reaches the database.
    assert!(env.fx.read("migration/Cargo.toml").contains("\"sqlx-mysql\""));
    env.fx.migration("create accounts", PARENT_UP, PARENT_DOWN);
    env.fx.migration("create posts", CHILD_UP, CHILD_DOWN);
    env.dbm(&["up", "--database-url", &url]).ok();
    env.exec("INSERT INTO account (name) VALUES ('ann'); INSERT INTO post (account_id, title) VALUES (1, 'x')");
    env.dbm(&["reset", "--database-url", &url]).expect_code(10);
    assert_eq!(count(&env, "post"), "1");
    env.dbm(&["reset", "--yes", "--database-url", &url]).ok();
    assert_eq!(env.tracked().len(), 2);
    assert_eq!(count(&env, "post"), "0");
    // The fixture's entities describe other tables: the comparison (built on scratch
    // databases of the same server) finds them.
    env.dbm(&["check", "--database-url", &url])
        .expect_code(13)
        .contains("the entities differ from the migrations");
}
