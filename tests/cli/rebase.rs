//! `rebase`: migrations of a branch that another branch's newer, already applied migration
//! overtook get new versions after it, and `up` then applies them in order.

use crate::dual;
use crate::support::{Env, Fixture, sql_migration};
use std::collections::BTreeMap;
use std::path::Path;

const A: &str = "m20240101_000000_create_accounts";
const B: &str = "m20240301_000000_add_phone";
/// The other branch's migrations, older than B but not applied.
const C: &str = "m20240201_000000_create_posts";
const D: &str = "m20240202_000000_add_title";

/// `cargo dbm create DESC` with `source`, then renamed to `version` (file and Migrator).
fn at_version(fx: &Fixture, version: &str, desc: &str, source: &str) {
    let created = fx.migration_source(desc, source);
    let dir = fx.migration_src();
    std::fs::rename(dir.join(format!("{created}.rs")), dir.join(format!("{version}.rs"))).unwrap();
    let lib = fx.read("migration/src/lib.rs").replace(&created, version);
    fx.write("migration/src/lib.rs", &lib);
}

/// C: an explicit `MigrationName`, its SQL in `C.sql` next to it, a constant D uses.
fn c_source() -> String {
    format!(
        r#"use sea_orm_migration::prelude::*;

pub struct Migration;

impl MigrationName for Migration {{
    fn name(&self) -> &str {{
        "{C}"
    }}
}}

pub const TABLE: &str = "post";

#[async_trait::async_trait]
impl MigrationTrait for Migration {{
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {{
        manager.get_connection().execute_unprepared(include_str!("{C}.sql")).await?;
        Ok(())
    }}

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {{
        manager.get_connection().execute_unprepared("DROP TABLE post").await?;
        Ok(())
    }}
}}
"#
    )
}

/// D: uses C's constant through `use super::C::TABLE`.
fn d_source() -> String {
    format!(
        "use super::{C}::TABLE;\n{}\n#[allow(dead_code)]\nfn table() -> &'static str {{\n    TABLE\n}}\n",
        sql_migration(
            "ALTER TABLE post ADD COLUMN title TEXT",
            "ALTER TABLE post DROP COLUMN title"
        )
    )
}

/// Every file of the migration crate's `src`, with its content.
fn files(dir: &Path) -> BTreeMap<String, String> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_file())
        .map(|p| {
            (
                p.file_name().unwrap().to_string_lossy().into_owned(),
                std::fs::read_to_string(&p).unwrap(),
            )
        })
        .collect()
}

/// A and B applied; C and D (older than B) registered after them, pending.
fn out_of_order(env: &Env) {
    at_version(
        &env.fx,
        A,
        "create accounts",
        &sql_migration(
            "CREATE TABLE account (id INTEGER PRIMARY KEY, name TEXT NOT NULL)",
            "DROP TABLE account",
        ),
    );
    at_version(
        &env.fx,
        B,
        "add phone",
        &sql_migration(
            "ALTER TABLE account ADD COLUMN phone TEXT",
            "ALTER TABLE account DROP COLUMN phone",
        ),
    );
    env.dbm(&["up"]).ok();
    assert_eq!(env.tracked(), [A, B]);
    at_version(&env.fx, C, "create posts", &c_source());
    env.fx.write(
        &format!("migration/src/{C}.sql"),
        "CREATE TABLE post (id INTEGER PRIMARY KEY, account_id INTEGER NOT NULL)",
    );
    at_version(&env.fx, D, "add title", &d_source());
}

dual!(rebase_out_of_order, |env| {
    out_of_order(&env);
    let src = env.fx.migration_src();
    let before = files(&src);
    let status = env.dbm(&["status", "--format", "json"]);
    assert_eq!(status.json()["pending"], 2);

    // --dry-run: C → C', D → D', after B, in order; nothing changes.
    let out = env.dbm(&["rebase", "--dry-run", "--format", "json"]);
    out.ok();
    let v = out.json();
    let renames = v["renames"].as_array().unwrap();
    assert_eq!(renames.len(), 2, "{v}");
    assert_eq!(renames[0]["from"], C);
    assert_eq!(renames[1]["from"], D);
    let c2 = renames[0]["to"].as_str().unwrap().to_string();
    let d2 = renames[1]["to"].as_str().unwrap().to_string();
    assert!(c2.as_str() > B && d2 > c2, "{c2} {d2}");
    assert!(c2.ends_with("_create_posts") && d2.ends_with("_add_title"), "{c2} {d2}");
    assert_eq!(v["dry_run"], true);
    let changed = v["changed"].to_string();
    assert!(changed.contains("lib.rs") && changed.contains(&d2), "{changed}");
    assert_eq!(files(&src), before, "--dry-run changed files");
    let human = env.dbm(&["rebase", "--dry-run"]);
    // (The clock moved on: the new versions are the time of each run.)
    human.ok().contains(&format!("{C} → m")).contains(&format!("{D} → m"));
    assert_eq!(files(&src), before, "--dry-run changed files");

    // A migration applied in the database is refused, naming it and the database.
    let out = env.dbm(&["rebase", B]);
    out.expect_code(10)
        .contains(B)
        .contains(if env.is_postgres() { "postgres://" } else { "sqlite://" });
    assert!(!out.all().contains(crate::support::pg::PG_PASSWORD), "password printed");
    assert_eq!(files(&src), before);

    // Several databases: C applied in the second one (stamped there, nothing compiled).
    let second = env.scratch_url("second");
    env.dbm(&["--database-url", &second, "stamp", C]).ok();
    let out = env.dbm(&["rebase", C, "--database-url", &env.url, "--database-url", &second]);
    out.expect_code(10)
        .contains(C)
        .contains(if env.is_postgres() { "/second" } else { "second.db" });
    assert!(!out.all().contains(crate::support::pg::PG_PASSWORD), "password printed");
    // By default, only D is still unapplied everywhere.
    let out = env.dbm(&[
        "rebase",
        "--dry-run",
        "--format",
        "json",
        "--database-url",
        &env.url,
        "--database-url",
        &second,
    ]);
    out.ok();
    let renames = out.json()["renames"].as_array().unwrap().clone();
    assert_eq!(renames.len(), 1);
    assert_eq!(renames[0]["from"], D);
    // A second database that cannot be reached: an error naming it, redacted.
    let out = env.dbm(&[
        "rebase",
        "--database-url",
        &env.url,
        "--database-url",
        "postgres://app:s3cret-pw@127.0.0.1:1/app",
    ]);
    out.expect_code(6).contains("postgres://app:***@127.0.0.1:1/app");
    assert!(!out.all().contains("s3cret-pw"), "password printed");
    // A server database that does not exist has applied nothing.
    if env.is_postgres() {
        let missing = env.pg().url("no_such_database");
        let out = env.dbm(&[
            "rebase",
            "--dry-run",
            "--format",
            "json",
            "--database-url",
            &env.url,
            "--database-url",
            &missing,
        ]);
        out.ok();
        assert_eq!(out.json()["renames"].as_array().unwrap().len(), 2);
    }
    // Other commands take one database.
    env.dbm(&["status", "--database-url", &env.url, "--database-url", &second])
        .expect_code(2)
        .contains("more than once");
    assert_eq!(files(&src), before);

    // The rebase: files, mods, entries, the name literal, `use super::…`, the `.sql`.
    let out = env.dbm(&["rebase", "--format", "json"]);
    out.ok();
    let v = out.json();
    let c2 = v["renames"][0]["to"].as_str().unwrap().to_string();
    let d2 = v["renames"][1]["to"].as_str().unwrap().to_string();
    assert!(c2.as_str() > B && d2 > c2, "{c2} {d2}");
    assert!(c2.ends_with("_create_posts") && d2.ends_with("_add_title"), "{c2} {d2}");
    let after = files(&src);
    for old in [format!("{C}.rs"), format!("{C}.sql"), format!("{D}.rs")] {
        assert!(!after.contains_key(&old), "{old} still there");
    }
    assert_eq!(after[&format!("{c2}.sql")], before[&format!("{C}.sql")]);
    let c_text = &after[&format!("{c2}.rs")];
    assert!(c_text.contains(&format!("\"{c2}\"")), "{c_text}");
    assert!(c_text.contains(&format!("include_str!(\"{c2}.sql\")")), "{c_text}");
    let d_text = &after[&format!("{d2}.rs")];
    assert!(d_text.contains(&format!("use super::{c2}::TABLE;")), "{d_text}");
    let lib = &after["lib.rs"];
    assert!(!lib.contains(C) && !lib.contains(D), "{lib}");
    let pos = |s: &str| lib.find(s).unwrap_or_else(|| panic!("{s} not in {lib}"));
    let entries = [A, B, c2.as_str(), d2.as_str()].map(|m| pos(&format!("Box::new({m}::Migration)")));
    assert!(entries.is_sorted(), "list not in version order: {lib}");
    let mods = [A, B, c2.as_str(), d2.as_str()].map(|m| pos(&format!("mod {m};")));
    assert!(mods.is_sorted(), "mods not in version order: {lib}");
    assert_eq!(
        after.keys().filter(|k| !before.contains_key(*k)).count(),
        3,
        "{:?}",
        after.keys()
    );

    // Nothing left to do; `up` applies C', D' after B.
    env.dbm(&["rebase"]).ok().contains("nothing to rebase");
    let status = env.dbm(&["status", "--format", "json"]);
    assert_eq!(status.json()["pending"], 2);
    env.dbm(&["up"]).ok();
    assert_eq!(env.tracked(), [A, B, c2.as_str(), d2.as_str()]);
    assert_eq!(env.columns("post"), ["id", "account_id", "title"]);
    env.dbm(&["status"]).ok();
});

#[test]
fn nothing_to_rebase_on_a_fresh_database() {
    let fx = Fixture::init();
    fx.migration(
        "create accounts",
        "CREATE TABLE account (id INTEGER PRIMARY KEY)",
        "DROP TABLE account",
    );
    let out = fx.dbm(&["rebase"]);
    out.ok().contains("nothing to rebase");
    let out = fx.dbm(&["rebase", "--format", "json"]);
    out.ok();
    assert_eq!(out.json()["renames"].as_array().unwrap().len(), 0);
}

/// A module folder (`old/mod.rs`) whose `MigrationName` literal differs from its module:
/// named by its slug, warned about, and both names replaced by the new one. (Applied state
/// recorded with `stamp`: nothing is compiled.)
#[test]
fn a_module_folder_with_its_own_name() {
    let fx = Fixture::init();
    at_version(
        &fx,
        B,
        "add phone",
        &sql_migration("CREATE TABLE account (id INTEGER PRIMARY KEY)", "DROP TABLE account"),
    );
    fx.dbm(&["stamp", "head"]).ok();
    let module = "m20240102_000000_posts";
    let literal = "m20240102_000000_legacy_posts";
    at_version(&fx, module, "posts", "");
    let src = fx.migration_src();
    std::fs::create_dir(src.join(module)).unwrap();
    std::fs::remove_file(src.join(format!("{module}.rs"))).unwrap();
    let body = sql_migration("CREATE TABLE post (id INTEGER PRIMARY KEY)", "DROP TABLE post").replace(
        "#[derive(DeriveMigrationName)]\npub struct Migration;",
        &format!("pub struct Migration;\n\nimpl MigrationName for Migration {{\n    fn name(&self) -> &str {{\n        \"{literal}\"\n    }}\n}}"),
    );
    assert!(body.contains(literal));
    fx.write(&format!("migration/src/{module}/mod.rs"), &body);

    let out = fx.dbm(&["rebase", "legacy_posts", "--format", "json"]);
    out.ok().contains("differs from its module");
    let v = out.json();
    assert_eq!(v["renames"][0]["from"], literal);
    let new = v["renames"][0]["to"].as_str().unwrap().to_string();
    assert!(new.ends_with("_legacy_posts") && new.as_str() > B, "{new}");
    assert!(!src.join(module).exists());
    let text = fx.read(&format!("migration/src/{new}/mod.rs"));
    assert!(
        text.contains(&format!("\"{new}\"")) && !text.contains(literal),
        "{text}"
    );
    let lib = fx.read("migration/src/lib.rs");
    assert!(lib.contains(&format!("mod {new};")) && lib.contains(&format!("Box::new({new}::Migration)")));
    assert!(!lib.contains(module), "{lib}");
    let status = fx.dbm(&["status", "--format", "json"]);
    assert_eq!(status.json()["pending"], 1);
    assert!(status.stdout.contains(&new), "{}", status.stdout);
}
