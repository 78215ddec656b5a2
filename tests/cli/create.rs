//! `cargo dbm create NAME`: file from the template, registered in the Migrator.

use crate::support::Fixture;

fn lib(fx: &Fixture) -> String {
    fx.read("migration/src/lib.rs")
}

#[test]
fn writes_and_registers_a_migration() {
    let fx = Fixture::init();
    let out = fx.dbm(&["create", "add phone", "--format", "json"]);
    out.ok();
    let v = out.json();
    let version = v["version"].as_str().unwrap();
    assert!(version.starts_with('m') && version.ends_with("_add_phone"), "{version}");
    assert_eq!(version.len(), "m20240101_000000_add_phone".len());
    let file = fx.migration_src().join(format!("{version}.rs"));
    let text = std::fs::read_to_string(&file).unwrap();
    assert!(text.contains("#[derive(DeriveMigrationName)]"));
    assert!(text.contains("//! add phone"));
    let lib = lib(&fx);
    assert!(lib.contains(&format!("mod {version};")), "{lib}");
    assert!(lib.contains(&format!("Box::new({version}::Migration)")), "{lib}");
    // The list is readable without compiling: status shows it pending.
    fx.dbm(&["status"])
        .expect_code(3)
        .contains(version)
        .contains("1 pending");
}

#[test]
fn odd_names_become_identifiers() {
    let fx = Fixture::init();
    for (name, slug) in [
        ("Add Phone-Number!", "add_phone_number"),
        ("AddPhoneNumber", "add_phone_number"),
        ("Ajouter le téléphone", "ajouter_le_telephone"),
        ("   spaced   out  ", "spaced_out"),
        ("2fa: codes", "2fa_codes"),
    ] {
        let out = fx.dbm(&["create", name, "--format", "json"]);
        out.ok();
        let version = out.json()["version"].as_str().unwrap().to_string();
        assert!(version.ends_with(&format!("_{slug}")), "{name} -> {version}");
    }
    let lib = lib(&fx);
    assert_eq!(lib.matches("Box::new(").count(), 5, "{lib}");
}

#[test]
fn empty_names_are_refused_and_nothing_is_written() {
    let fx = Fixture::init();
    let before = lib(&fx);
    for name in ["", "   ", "!!!"] {
        fx.dbm(&["create", name])
            .expect_code(5)
            .contains("invalid migration name");
    }
    assert_eq!(before, lib(&fx));
    let files: Vec<_> = std::fs::read_dir(fx.migration_src())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(files.len(), 2, "only lib.rs and main.rs: {files:?}");
}

#[test]
fn creates_in_the_same_second_get_distinct_ordered_versions() {
    let fx = Fixture::init();
    let mut versions = Vec::new();
    for i in 0..4 {
        let out = fx.dbm(&["create", &format!("step {i}"), "--format", "json"]);
        out.ok();
        versions.push(out.json()["version"].as_str().unwrap().to_string());
    }
    let mut sorted = versions.clone();
    sorted.sort();
    sorted.dedup();
    assert_eq!(versions, sorted, "distinct and in order");
    let stamps: Vec<&str> = versions.iter().map(|v| &v[..16]).collect();
    let mut uniq = stamps.clone();
    uniq.dedup();
    assert_eq!(stamps.len(), uniq.len(), "timestamps differ: {versions:?}");
    // And the Migrator lists them in that order.
    let lib = lib(&fx);
    let pos: Vec<usize> = versions
        .iter()
        .map(|v| lib.find(&format!("Box::new({v}")).unwrap())
        .collect();
    assert!(pos.windows(2).all(|w| w[0] < w[1]), "{lib}");
}

#[test]
fn keeps_the_users_code_and_comments() {
    let fx = Fixture::init();
    let custom = lib(&fx)
        .replace(
            "pub struct Migrator;",
            "// Our migrations. Do not reorder!\npub struct Migrator;\n\npub fn helper() -> u32 { 42 }",
        )
        .replace("vec![]", "vec![\n            // first come first served\n        ]");
    fx.write("migration/src/lib.rs", &custom);
    fx.dbm(&["create", "one"]).ok();
    fx.dbm(&["create", "two"]).ok();
    let lib = lib(&fx);
    assert!(lib.contains("// Our migrations. Do not reorder!"), "{lib}");
    assert!(lib.contains("pub fn helper() -> u32 { 42 }"), "{lib}");
    assert!(lib.contains("// first come first served"), "{lib}");
    assert_eq!(lib.matches("Box::new(").count(), 2, "{lib}");
}

#[test]
fn a_project_template_overrides_the_builtin_one() {
    let fx = Fixture::init();
    fx.write(
        "migration/templates/migration.rs.j2",
        "// Team template: {{ description }} ({{ version }})\nuse sea_orm_migration::prelude::*;\n\n#[derive(DeriveMigrationName)]\npub struct Migration;\n\n#[async_trait::async_trait]\nimpl MigrationTrait for Migration {\n    async fn up(&self, _m: &SchemaManager) -> Result<(), DbErr> { Ok(()) }\n    async fn down(&self, _m: &SchemaManager) -> Result<(), DbErr> { Ok(()) }\n}\n",
    );
    let out = fx.dbm(&["create", "Seed Roles", "--format", "json"]);
    out.ok();
    let v = out.json();
    let text = std::fs::read_to_string(v["file"].as_str().unwrap()).unwrap();
    assert!(text.starts_with("// Team template: Seed Roles (m"), "{text}");

    // A template that does not render to Rust is refused, naming it; nothing is written.
    fx.write("migration/templates/migration.rs.j2", "fn broken( {{ version }}");
    let before = lib(&fx);
    fx.dbm(&["create", "bad"]).expect_code(5).contains("migration.rs.j2");
    assert_eq!(before, lib(&fx));
}

#[test]
fn an_unreadable_migrator_is_a_clear_error() {
    let fx = Fixture::init();
    fx.write("migration/src/lib.rs", "pub struct Migrator;\nimpl MigratorTrait for Migrator { fn migrations() -> Vec<Box<dyn MigrationTrait>> { build_list() } }\n");
    fx.dbm(&["create", "x"]).expect_code(5).contains("vec![");
    fx.dbm(&["status"]).expect_code(5).contains("lib.rs");
}
