//! `up`, `down`, `status`, `current`, `heads`, `history` against a real database:
//! one test body, three backends (SQLite, a throwaway PostgreSQL cluster, a throwaway
//! MariaDB server).

use crate::support::{Env, Fixture, no_build_cargo, sql_migration, sql_migration_full};
use crate::{dual, tri};

const USERS_UP: &str = "CREATE TABLE account (id INTEGER PRIMARY KEY, name TEXT NOT NULL)";
const USERS_DOWN: &str = "DROP TABLE account";
const PHONE_UP: &str = "ALTER TABLE account ADD COLUMN phone TEXT";
const PHONE_DOWN: &str = "ALTER TABLE account DROP COLUMN phone";
const POSTS_UP: &str = "CREATE TABLE post (id INTEGER PRIMARY KEY, account_id INTEGER NOT NULL REFERENCES account(id), title TEXT NOT NULL)";
const POSTS_DOWN: &str = "DROP TABLE post";

/// Three migrations: account, account.phone, post.
fn three(env: &Env) -> [String; 3] {
    [
        env.fx.migration("create accounts", USERS_UP, USERS_DOWN),
        env.fx.migration("add phone", PHONE_UP, PHONE_DOWN),
        env.fx.migration("create posts", POSTS_UP, POSTS_DOWN),
    ]
}

tri!(the_whole_loop, |env| {
    let [a, b, c] = three(&env);
    // Status without compiling: three pending, exit 3.
    let out = env.dbm(&["status", "--format", "json"]);
    out.expect_code(3);
    let v = out.json();
    assert_eq!(v["pending"], 3);
    assert_eq!(v["applied"], 0);
    assert!(!out.all().contains(crate::support::pg::PG_PASSWORD), "password printed");

    // up applies all three, in order, with tracking rows.
    env.dbm(&["up"])
        .ok()
        .contains(&format!("Applied {a}"))
        .contains("3 migration(s) applied");
    assert_eq!(env.columns("account"), ["id", "name", "phone"]);
    assert_eq!(env.columns("post"), ["id", "account_id", "title"]);
    assert_eq!(env.tracked(), [a.clone(), b.clone(), c.clone()]);
    env.dbm(&["status"]).ok().contains("3 applied, 0 pending");
    assert_eq!(env.dbm(&["current"]).ok().stdout.trim(), format!("{c} (head)"));
    assert_eq!(env.dbm(&["heads"]).ok().stdout.trim(), format!("{c} (head)"));

    // down reverts one by default.
    env.dbm(&["down"]).ok().contains(&format!("Reverted {c}"));
    assert!(!env.tables().contains(&"post".to_string()));
    assert_eq!(env.tracked(), [a.clone(), b.clone()]);
    assert_eq!(env.dbm(&["current"]).ok().stdout.trim(), b);

    // down to a revision keeps that revision applied.
    env.dbm(&["down", &a]).ok();
    assert_eq!(env.columns("account"), ["id", "name"]);
    assert_eq!(env.tracked(), [a.clone()]);

    // up to a target by unique prefix of the slug.
    env.dbm(&["up", "add_phone"]).ok();
    assert_eq!(env.tracked(), [a.clone(), b.clone()]);
    // relative targets
    env.dbm(&["up", "+1"]).ok();
    assert_eq!(env.tracked().len(), 3);
    env.dbm(&["down", "2"]).ok();
    assert_eq!(env.tracked(), [a.clone()]);

    // down base asks; without a terminal and without --yes it refuses and changes nothing.
    env.dbm(&["down", "base"]).expect_code(10).contains("--yes");
    assert_eq!(env.tracked(), [a.clone()]);
    env.dbm(&["down", "base", "--yes"]).ok();
    assert!(env.tracked().is_empty());
    assert!(!env.tables().contains(&"account".to_string()));

    // history has every step, with durations, and who ran it.
    env.dbm(&["up"]).ok();
    let out = env.dbm(&["history", "--format", "json"]);
    out.ok();
    let h = out.json();
    let mut h = h.as_array().unwrap().clone();
    if env.is_mariadb() {
        // MySQL commits DDL as it goes: every step records its start first, and each start
        // here is followed by its end.
        for pair in h.chunks(2) {
            let start = pair[0]["direction"].as_str().unwrap();
            assert_eq!(start, format!("started-{}", pair[1]["direction"].as_str().unwrap()));
            assert_eq!(pair[0]["version"], pair[1]["version"]);
        }
        h.retain(|r| !r["direction"].as_str().unwrap().starts_with("started-"));
    }
    let dirs: Vec<&str> = h.iter().map(|r| r["direction"].as_str().unwrap()).collect();
    assert_eq!(
        dirs,
        [
            "up", "up", "up", "down", "down", "up", "up", "down", "down", "down", "up", "up", "up"
        ]
    );
    assert!(
        h.iter()
            .all(|r| r["duration_ms"].is_number() && r["applied_by"].as_str().unwrap().contains('@'))
    );
    let text = env.dbm(&["history"]).ok().stdout.clone();
    assert_eq!(text.lines().filter(|l| !l.contains("  started-")).count(), 13);
});

tri!(revisions_that_match_nothing_or_several, |env| {
    let [a, _b, _c] = three(&env);
    env.dbm(&["up", "m1999"])
        .expect_code(7)
        .contains("unknown revision `m1999`");
    // All three share the date prefix.
    let prefix = &a[..9];
    let out = env.dbm(&["up", prefix]);
    out.expect_code(7).contains("ambiguous revision").contains(&a);
    env.dbm(&["down", "5"]).expect_code(7);
    assert!(env.tracked().is_empty(), "nothing applied");
});

// Not on MySQL: its DDL commits implicitly, so nothing can be rolled back (the MariaDB
// counterpart is `mariadb::a_migration_that_fails_halfway_is_reported_as_partially_applied`).
dual!(a_failing_migration_changes_nothing, |env| {
    let a = env.fx.migration("create accounts", USERS_UP, USERS_DOWN);
    // Creates a table and a column, then fails.
    let bad = env.fx.migration(
        "half done",
        "CREATE TABLE audit (id INTEGER PRIMARY KEY); ALTER TABLE account ADD COLUMN phone TEXT; INSERT INTO no_such_table VALUES (1)",
        "DROP TABLE audit",
    );
    let out = env.dbm(&["up"]);
    out.expect_code(9)
        .contains(&format!("migration `{bad}` failed (up)"))
        .contains("no_such_table")
        .contains("rolled back");
    // The first one is applied; the failed one left nothing behind.
    assert_eq!(env.tracked(), [a.clone()]);
    assert!(!env.tables().contains(&"audit".to_string()), "{:?}", env.tables());
    assert_eq!(env.columns("account"), ["id", "name"]);
    let hist = env.query("SELECT version FROM dbm_history");
    assert_eq!(hist.len(), 1, "no history row for the failed migration");

    // Fixed, the next up completes.
    let file = env.fx.migration_src().join(format!("{bad}.rs"));
    std::fs::write(
        &file,
        sql_migration(
            "CREATE TABLE audit (id INTEGER PRIMARY KEY); ALTER TABLE account ADD COLUMN phone TEXT",
            "DROP TABLE audit; ALTER TABLE account DROP COLUMN phone",
        ),
    )
    .unwrap();
    env.dbm(&["up"]).ok();
    assert_eq!(env.tracked(), [a, bad]);
    assert_eq!(env.columns("account"), ["id", "name", "phone"]);
});

tri!(a_missing_migration_file_is_reported, |env| {
    let [a, b, c] = three(&env);
    env.dbm(&["up"]).ok();
    // The last migration disappears from the crate (file and registration).
    let lib_path = env.fx.migration_src().join("lib.rs");
    let lib = std::fs::read_to_string(&lib_path).unwrap();
    let lib = lib
        .replace(&format!("mod {c};"), "")
        .replace(&format!("Box::new({c}::Migration),"), "");
    std::fs::write(&lib_path, lib).unwrap();
    std::fs::remove_file(env.fx.migration_src().join(format!("{c}.rs"))).unwrap();

    let out = env.dbm(&["status"]);
    out.expect_code(7).contains("missing").contains(&c);
    env.dbm(&["up"])
        .expect_code(7)
        .contains(&c)
        .contains("missing from the migration crate");
    env.dbm(&["down"]).expect_code(7);
    assert_eq!(env.tracked(), [a, b, c]);
});

tri!(up_to_date_answers_without_compiling, |env| {
    env.fx.migration("create accounts", USERS_UP, USERS_DOWN);
    env.dbm(&["up"]).ok();
    // A cargo that fails any build (metadata still works): nothing may try to compile.
    let wrapper = no_build_cargo(env.fx.root());
    let no_build = [("CARGO", wrapper.to_str().unwrap())];
    let out = env.fx.dbm_env(&["up"], &no_build);
    out.ok().contains("up to date");
    assert!(!out.all().contains("build attempted"));
    for cmd in ["status", "history", "current", "heads"] {
        env.fx.dbm_env(&[cmd], &no_build).ok();
    }
    // The wrapper does stop a build, so the checks above mean something.
    env.fx.migration("add phone", PHONE_UP, PHONE_DOWN);
    env.fx
        .dbm_env(&["up"], &no_build)
        .expect_code(8)
        .contains("build attempted");
});

#[test]
fn a_compile_error_is_shown_as_cargo_shows_it() {
    let fx = Fixture::init();
    let v = fx.migration("broken", "CREATE TABLE t (id INTEGER)", "DROP TABLE t");
    let file = fx.migration_src().join(format!("{v}.rs"));
    let text = std::fs::read_to_string(&file)
        .unwrap()
        .replace("Ok(())", "Ok(undefined_thing)");
    std::fs::write(&file, text).unwrap();
    let out = fx.dbm(&["up"]);
    out.expect_code(8)
        .contains("error[E0425]")
        .contains("undefined_thing")
        .contains(&format!("{v}.rs"))
        .contains("could not compile the migrations");
    // The database is untouched.
    assert!(
        !fx.sqlite_path().exists()
            || crate::support::query(
                &format!("sqlite://{}", fx.sqlite_path().display()),
                "SELECT name FROM sqlite_master WHERE name = 't'"
            )
            .is_empty()
    );
}

#[test]
fn a_new_sqlite_database_is_created_on_up() {
    let fx = Fixture::init();
    std::fs::remove_dir_all(fx.path("data")).unwrap();
    fx.migration("create accounts", USERS_UP, USERS_DOWN);
    // status does not create the file
    fx.dbm(&["status"]).expect_code(3);
    assert!(!fx.sqlite_path().exists());
    fx.dbm(&["up"]).ok();
    assert!(fx.sqlite_path().exists());
}

#[test]
fn a_protected_database_refuses_destructive_commands() {
    let fx = Fixture::init();
    let a = fx.migration("create accounts", USERS_UP, USERS_DOWN);
    fx.dbm(&["up"]).ok();
    let url = format!("sqlite://{}", fx.sqlite_path().display());
    let tracked = || crate::support::query(&url, "SELECT version FROM seaql_migrations");
    let out = fx.dbm_env(&["down", "base", "--yes"], &[("DBM_PROTECTED", "1")]);
    out.expect_code(10).contains("protected").contains("--allow-protected");
    assert_eq!(tracked(), [[a.clone()]]);
    // The same through configuration.
    let manifest = fx.read("Cargo.toml").replace(
        "migration-crate = \"migration\"",
        "migration-crate = \"migration\"\nprotected = true",
    );
    fx.write("Cargo.toml", &manifest);
    fx.dbm(&["down", "base", "--yes"]).expect_code(10);
    assert_eq!(tracked(), [[a]]);
    fx.dbm(&["down", "base", "--yes", "--allow-protected"]).ok();
    assert!(tracked().is_empty());
}

#[test]
fn migrations_are_built_with_the_workspaces_profile() {
    // The runner is a workspace of its own; it must still build the user's crates as the
    // workspace would (its [profile] and [patch] sections), not with cargo's defaults.
    let env = Env::sqlite();
    let manifest = env.fx.path("Cargo.toml");
    let text = std::fs::read_to_string(&manifest).unwrap();
    std::fs::write(
        &manifest,
        format!("{text}\n[profile.dev.package.migration]\ndebug-assertions = false\n"),
    )
    .unwrap();
    let out = env.fx.dbm(&["create", "probe", "--format", "json"]);
    out.ok();
    let file = out.json()["file"].as_str().unwrap().to_string();
    std::fs::write(
        &file,
        sql_migration_full(
            "",
            "        let table = if cfg!(debug_assertions) { \"built_with_defaults\" } else { \"built_like_the_workspace\" };\n        db.execute_unprepared(&format!(\"CREATE TABLE {table} (id INTEGER)\")).await?;\n",
            "",
            "",
        ),
    )
    .unwrap();
    env.dbm(&["up"]).ok();
    let tables = env.tables();
    assert!(tables.contains(&"built_like_the_workspace".to_string()), "{tables:?}");
}
