//! `cargo dbm init`: creates or adopts the migration crate; idempotent.

use crate::support::{Fixture, copy_dir, run_in};

#[test]
fn creates_the_crate_the_member_the_config_and_the_database() {
    let fx = Fixture::bare();
    let out = fx.dbm(&["init"]);
    out.ok()
        .contains("Created migration crate `migration`")
        .contains("Created database");
    for f in ["migration/Cargo.toml", "migration/src/lib.rs", "migration/src/main.rs"] {
        assert!(fx.path(f).exists(), "{f} missing");
    }
    let manifest = fx.read("Cargo.toml");
    assert!(manifest.contains(r#"members = ["entity", "migration"]"#), "{manifest}");
    assert!(
        manifest.contains("[workspace.metadata.dbm]\nmigration-crate = \"migration\""),
        "{manifest}"
    );
    assert!(
        manifest.starts_with("# A small SeaORM workspace"),
        "comments kept: {manifest}"
    );
    assert!(
        fx.sqlite_path().exists(),
        "database file created at {}",
        fx.sqlite_path().display()
    );
    let lib = fx.read("migration/src/lib.rs");
    assert!(lib.contains("impl MigratorTrait for Migrator"));

    // cargo itself agrees that the crate is a member.
    let meta = std::process::Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
        .args(["metadata", "--no-deps", "--format-version", "1"])
        .current_dir(fx.root())
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&meta.stdout).contains("\"name\":\"migration\""));

    // The workspace's status answers: nothing to apply.
    fx.dbm(&["status"]).ok().contains("0 applied, 0 pending");
}

#[test]
fn running_it_twice_changes_nothing() {
    let fx = Fixture::init();
    let snapshot = |fx: &Fixture| {
        [
            "Cargo.toml",
            "migration/Cargo.toml",
            "migration/src/lib.rs",
            "migration/src/main.rs",
        ]
        .map(|f| (fx.read(f), std::fs::metadata(fx.path(f)).unwrap().modified().unwrap()))
    };
    let before = snapshot(&fx);
    let db_before = std::fs::metadata(fx.sqlite_path()).unwrap().modified().unwrap();
    fx.dbm(&["init"]).ok().contains("nothing changed");
    assert_eq!(before, snapshot(&fx));
    assert_eq!(
        db_before,
        std::fs::metadata(fx.sqlite_path()).unwrap().modified().unwrap()
    );
}

#[test]
fn adopts_an_existing_migration_crate_unchanged() {
    // An existing SeaORM workspace: a migration crate named differently, no dbm config.
    let made = Fixture::init();
    let fx = Fixture::bare();
    copy_dir(&made.path("migration"), &fx.path("db-migrations"));
    let manifest = fx.path("db-migrations/Cargo.toml");
    let text =
        std::fs::read_to_string(&manifest)
            .unwrap()
            .replacen("name = \"migration\"", "name = \"db-migrations\"", 1);
    std::fs::write(&manifest, text).unwrap();
    let root = fx
        .read("Cargo.toml")
        .replace(r#"members = ["entity"]"#, r#"members = ["entity", "db-migrations"]"#);
    fx.write("Cargo.toml", &root);
    let crate_before = fx.read("db-migrations/src/lib.rs");
    let manifest_before = fx.read("db-migrations/Cargo.toml");

    fx.dbm(&["init"])
        .ok()
        .contains("Adopted migration crate `db-migrations`");
    assert!(!fx.path("migration").exists(), "no second crate");
    assert_eq!(crate_before, fx.read("db-migrations/src/lib.rs"));
    assert_eq!(manifest_before, fx.read("db-migrations/Cargo.toml"));
    assert!(fx.read("Cargo.toml").contains("migration-crate = \"db-migrations\""));
    fx.dbm(&["status"]).ok();
}

#[test]
fn works_from_a_subdirectory_and_with_manifest_path() {
    let fx = Fixture::init();
    run_in(&fx.path("entity/src"), &["status"], &[])
        .ok()
        .contains("0 pending");
    let elsewhere = tempfile::tempdir().unwrap();
    let manifest = fx.path("Cargo.toml");
    run_in(
        elsewhere.path(),
        &["status", "--manifest-path", manifest.to_str().unwrap()],
        &[],
    )
    .ok();
    run_in(
        elsewhere.path(),
        &["info", "--manifest-path", "/nonexistent/Cargo.toml"],
        &[],
    )
    .expect_code(4);
}

#[test]
fn info_shows_the_entities_and_the_migration_crate() {
    let fx = Fixture::init();
    let out = fx.dbm(&["info", "--format", "json"]);
    out.ok();
    let v = out.json();
    assert_eq!(v["migration_crate"]["name"], "migration");
    let entities = v["entity_crates"][0]["entities"].as_array().unwrap();
    let tables: Vec<&str> = entities.iter().map(|e| e["table"].as_str().unwrap()).collect();
    assert_eq!(tables, ["post", "user"]);
    assert_eq!(v["database_source"], "default");
}
