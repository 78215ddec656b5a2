//! The cache behind fast `status` and up-to-date `up`: what cargo said about the workspace,
//! and what each migration file declares, reused only while the files are unchanged.

use crate::support::*;
use std::path::Path;
use std::time::{Duration, SystemTime};

const UP: &str = "CREATE TABLE accounts (id INTEGER PRIMARY KEY)";
const DOWN: &str = "DROP TABLE accounts";

/// Sets the modification time of every file and folder an hour back, as a workspace
/// untouched for a while.
fn backdate(dir: &Path) {
    let old = SystemTime::now() - Duration::from_secs(3600);
    for entry in std::fs::read_dir(dir).unwrap() {
        let entry = entry.unwrap();
        let path = entry.path();
        if entry.file_type().unwrap().is_dir() {
            if entry.file_name() != "target" && entry.file_name() != "data" {
                backdate(&path);
            }
        } else {
            std::fs::File::options()
                .write(true)
                .open(&path)
                .unwrap()
                .set_modified(old)
                .unwrap();
        }
    }
    // After its entries: setting their times does not touch the folder's, but be sure.
    std::fs::File::open(dir).unwrap().set_modified(old).unwrap();
}

fn entries(dir: &Path) -> usize {
    std::fs::read_dir(dir).map(|d| d.count()).unwrap_or(0)
}

#[test]
fn status_answers_from_the_cache_until_a_manifest_changes() {
    let fx = Fixture::init();
    fx.migration("create accounts", UP, DOWN);
    let aside = tempfile::tempdir().unwrap();
    let gate = aside.path().join("gate");
    let cargo = gated_cargo(aside.path(), &gate);
    let cache = aside.path().join("cache");
    let env = [
        ("CARGO", cargo.to_str().unwrap()),
        ("CARGO_DBM_CACHE_DIR", cache.to_str().unwrap()),
    ];

    // An untouched workspace is cached by one status; then cargo fails (the gate) and the
    // next status must answer from the cache.
    let cached = || {
        let _ = std::fs::remove_file(&gate);
        backdate(fx.root());
        fx.dbm_env(&["status"], &env).expect_code(3);
        std::fs::write(&gate, "").unwrap();
        let out = fx.dbm_env(&["status"], &env);
        out.expect_code(3);
        out
    };

    let out = cached();
    assert_eq!(entries(&cache.join("workspace")), 1, "the workspace is cached");
    assert_eq!(entries(&cache.join("migrations")), 1, "the migration list is cached");
    out.expect_code(3).contains("create_accounts");
    assert!(!out.all().contains("cargo was asked"), "{}", out.all());

    // Any edit to a manifest sends the next command back to cargo.
    let manifest = fx.path("Cargo.toml");
    let text = std::fs::read_to_string(&manifest).unwrap();
    std::fs::write(&manifest, format!("{text}\n# edited\n")).unwrap();
    fx.dbm_env(&["status"], &env).expect_code(5).contains("cargo was asked");

    // And a new cargo configuration file too (it may move the target directory).
    cached();
    fx.write(".cargo/config.toml", "[build]\ntarget-dir = \"elsewhere\"\n");
    fx.dbm_env(&["status"], &env).expect_code(5).contains("cargo was asked");

    // And a file added to a member's `src` (a new `lib.rs` would be a new target).
    std::fs::remove_file(fx.path(".cargo/config.toml")).unwrap();
    cached();
    fx.write("entity/src/extra.rs", "");
    fx.dbm_env(&["status"], &env).expect_code(5).contains("cargo was asked");

    // CARGO_DBM_NO_CACHE=1 always asks cargo.
    cached();
    let no_cache = [env[0], env[1], ("CARGO_DBM_NO_CACHE", "1")];
    fx.dbm_env(&["status"], &no_cache)
        .expect_code(5)
        .contains("cargo was asked");
}

#[test]
fn an_edited_migration_is_seen_through_the_cache() {
    let fx = Fixture::init();
    let v = fx.migration("create accounts", UP, DOWN);
    fx.dbm(&["up"]).ok();
    let aside = tempfile::tempdir().unwrap();
    let env = [("CARGO_DBM_CACHE_DIR", aside.path().to_str().unwrap())];
    backdate(fx.root());
    let out = fx.dbm_env(&["status"], &env);
    out.ok();
    assert!(!out.all().contains("modified since applied"), "{}", out.all());
    assert_eq!(entries(&aside.path().join("migrations")), 1);

    // The file changes after the cache was written: the change is noticed at once.
    let file = fx.migration_src().join(format!("{v}.rs"));
    let text = std::fs::read_to_string(&file).unwrap();
    std::fs::write(&file, text.replace("CREATE TABLE accounts", "CREATE TABLE  accounts")).unwrap();
    fx.dbm_env(&["status"], &env).ok().contains("modified since applied");
    fx.dbm_env(&["check", "--no-entities"], &env)
        .expect_code(13)
        .contains(&v);

    // A version named in the file (not the file stem) is read again after an edit.
    let named = text.replace(
        "#[derive(DeriveMigrationName)]\npub struct Migration;",
        "pub struct Migration;\n\nimpl MigrationName for Migration {\n    fn name(&self) -> &str {\n        \"m_renamed\"\n    }\n}",
    );
    assert_ne!(named, text);
    std::fs::write(&file, named).unwrap();
    let out = fx.dbm_env(&["status", "--format", "json"], &env);
    assert!(out.stdout.contains("\"m_renamed\""), "{}", out.all());
}
