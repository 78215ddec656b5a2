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
    let file = v["path"].as_str().unwrap().to_string();
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
    let left = env.query("SELECT CAST(schema_name AS CHAR) FROM information_schema.schemata WHERE schema_name LIKE 'dbm\\_%'");
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
    let file = out.json()["path"].as_str().unwrap().to_string();
    let bytes = std::fs::read(&file).unwrap();
    let cut = env.fx.path("cut.sql.gz");
    std::fs::write(&cut, &bytes[..bytes.len() / 2]).unwrap();
    env.dbm(&["restore", cut.to_str().unwrap(), "--yes"]).expect_code(15);
    assert_eq!(count(&env, "account"), "1");
}

/// A failed migration on MySQL is not rolled back (DDL commits): the message says so, and
/// the migration is not recorded as applied.
#[test]
fn a_failed_migration_says_it_was_not_rolled_back() {
    let env = Env::mariadb();
    env.fx.migration("create accounts", PARENT_UP, PARENT_DOWN);
    env.fx.migration(
        "half",
        "CREATE TABLE half_done (id INTEGER PRIMARY KEY); CREATE TABLE account (id INTEGER)",
        "DROP TABLE half_done",
    );
    let out = env.dbm(&["up"]);
    out.expect_code(9).contains("half");
    assert!(out.all().contains("not rolled back") || out.all().contains("rolled back: no") || out.all().contains("was not rolled back"), "{}", out.all());
    assert_eq!(env.tracked().len(), 1);
    assert!(env.tables().contains(&"half_done".to_string()));
}

/// `mariadb://` URLs work like `mysql://`; reset drops everything once asked.
#[test]
fn mariadb_urls_and_a_guarded_reset() {
    let env = Env::mariadb();
    let url = env.url.replacen("mysql://", "mariadb://", 1);
    env.fx.migration("create accounts", PARENT_UP, PARENT_DOWN);
    env.fx.migration("create posts", CHILD_UP, CHILD_DOWN);
    env.dbm(&["up", "--database-url", &url]).ok();
    env.exec("INSERT INTO account (name) VALUES ('ann'); INSERT INTO post (account_id, title) VALUES (1, 'x')");
    env.dbm(&["reset", "--database-url", &url]).expect_code(10);
    assert_eq!(count(&env, "post"), "1");
    env.dbm(&["reset", "--yes", "--database-url", &url]).ok();
    assert_eq!(env.tracked().len(), 2);
    assert_eq!(count(&env, "post"), "0");
    env.dbm(&["check", "--database-url", &url]).ok();
}
