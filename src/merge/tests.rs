use super::markers::{Unresolved, resolve};
use super::*;

/// A migration crate's `lib.rs` registering `modules`, one entry per line.
fn lib(modules: &[&str]) -> String {
    let mods: String = modules.iter().map(|m| format!("mod {m};\n")).collect();
    let entries: String = modules
        .iter()
        .map(|m| format!("            Box::new({m}::Migration),\n"))
        .collect();
    format!(
        "pub use sea_orm_migration::prelude::*;\n\n{mods}\npub struct Migrator;\n\n#[async_trait::async_trait]\nimpl MigratorTrait for Migrator {{\n    fn migrations() -> Vec<Box<dyn MigrationTrait>> {{\n        vec![\n{entries}        ]\n    }}\n}}\n"
    )
}

fn parses(text: &str) -> Vec<String> {
    crate::migrator_source::MigratorSource::parse(std::path::Path::new("/x/src/lib.rs"), text.to_string())
        .unwrap_or_else(|e| panic!("{e}\n{text}"))
        .migrations
        .into_iter()
        .map(|m| m.module)
        .collect()
}

#[test]
fn both_sides_add_a_migration() {
    let base = lib(&["m1_a"]);
    let ours = lib(&["m1_a", "m3_c"]);
    let theirs = lib(&["m1_a", "m2_b"]);
    let merged = merge3(&base, &ours, &theirs).unwrap();
    assert_eq!(merged, lib(&["m1_a", "m2_b", "m3_c"]));
    assert_eq!(parses(&merged), ["m1_a", "m2_b", "m3_c"]);
}

#[test]
fn one_side_removes_the_other_adds() {
    let base = lib(&["m1_a", "m2_b"]);
    let ours = lib(&["m1_a"]);
    let theirs = lib(&["m1_a", "m2_b", "m3_c"]);
    assert_eq!(merge3(&base, &ours, &theirs).unwrap(), lib(&["m1_a", "m3_c"]));
    assert_eq!(merge3(&base, &theirs, &ours).unwrap(), lib(&["m1_a", "m3_c"]));
}

#[test]
fn the_same_migration_on_both_sides_is_listed_once() {
    let base = lib(&["m1_a"]);
    let both = lib(&["m1_a", "m2_b"]);
    assert_eq!(merge3(&base, &both, &both).unwrap(), both);
    let theirs = lib(&["m1_a", "m2_b", "m3_c"]);
    assert_eq!(merge3(&base, &both, &theirs).unwrap(), theirs);
}

#[test]
fn adds_into_an_empty_list() {
    let base = lib(&[]).replace("        vec![\n        ]", "        vec![]");
    let ours = lib(&["m2_b"]);
    let theirs = lib(&["m1_a"]);
    let merged = merge3(&base, &ours, &theirs).unwrap();
    assert_eq!(parses(&merged), ["m1_a", "m2_b"]);
    assert_eq!(merged, lib(&["m1_a", "m2_b"]));
}

#[test]
fn a_single_line_list_is_written_one_entry_per_line() {
    let one_line = |m: &str| {
        format!(
            "use sea_orm_migration::prelude::*;\n\nmod {m};\n\npub struct Migrator;\n\nimpl MigratorTrait for Migrator {{\n    fn migrations() -> Vec<Box<dyn MigrationTrait>> {{\n        vec![Box::new({m}::Migration)]\n    }}\n}}\n"
        )
    };
    let base = one_line("m1_a");
    // Both sides rewrote the list by hand, keeping it on one line.
    let ours = one_line("m1_a")
        .replace("mod m1_a;", "mod m1_a;\nmod m3_c;")
        .replace("(m1_a::Migration)]", "(m1_a::Migration), Box::new(m3_c::Migration)]");
    let theirs = one_line("m1_a")
        .replace("mod m1_a;", "mod m1_a;\nmod m2_b;")
        .replace("(m1_a::Migration)]", "(m1_a::Migration), Box::new(m2_b::Migration)]");
    let merged = merge3(&base, &ours, &theirs).unwrap();
    assert!(
        merged.contains("        vec![\n            Box::new(m1_a::Migration),\n            Box::new(m2_b::Migration),\n            Box::new(m3_c::Migration),\n        ]\n    }"),
        "{merged}"
    );
    assert!(merged.contains("mod m1_a;\nmod m2_b;\nmod m3_c;\n"), "{merged}");
    assert_eq!(parses(&merged), ["m1_a", "m2_b", "m3_c"]);
}

#[test]
fn create_on_a_single_line_list_on_both_sides() {
    // What `cargo dbm create` writes into sea-orm-cli's `vec![Box::new(m1::Migration)]`.
    let base = "mod m1_a;\npub struct Migrator;\nimpl MigratorTrait for Migrator {\n    fn migrations() -> Vec<Box<dyn MigrationTrait>> {\n        vec![Box::new(m1_a::Migration)]\n    }\n}\n";
    let src = |m: &str| {
        crate::migrator_source::MigratorSource::parse(std::path::Path::new("/x/src/lib.rs"), base.to_string())
            .unwrap()
            .with_migration(m)
            .unwrap()
    };
    let merged = merge3(base, &src("m3_c"), &src("m2_b")).unwrap();
    assert_eq!(parses(&merged), ["m1_a", "m2_b", "m3_c"], "{merged}");
    assert!(merged.contains("mod m1_a;\nmod m2_b;\nmod m3_c;\n"), "{merged}");
}

#[test]
fn crlf_line_endings_are_kept() {
    let crlf = |m: &[&str]| lib(m).replace('\n', "\r\n");
    let merged = merge3(&crlf(&["m1_a"]), &crlf(&["m1_a", "m3_c"]), &crlf(&["m1_a", "m2_b"])).unwrap();
    assert_eq!(merged, crlf(&["m1_a", "m2_b", "m3_c"]));
}

#[test]
fn comments_and_the_other_sides_formatting_are_kept() {
    let base = lib(&["m1_a"]).replace("mod m1_a;", "mod m1_a; // first");
    let ours = lib(&["m1_a", "m3_c"]).replace("mod m1_a;", "mod m1_a; // first");
    let theirs = lib(&["m1_a", "m2_b"])
        .replace("mod m1_a;", "mod m1_a; // first")
        .replace("mod m2_b;", "pub mod m2_b; // second")
        .replace("Box::new(m2_b::Migration),", "Box::new(m2_b::Migration), // emails");
    let merged = merge3(&base, &ours, &theirs).unwrap();
    assert!(
        merged.contains("mod m1_a; // first\npub mod m2_b; // second\nmod m3_c;\n"),
        "{merged}"
    );
    assert!(merged.contains("Box::new(m2_b::Migration), // emails\n"), "{merged}");
}

#[test]
fn a_skeleton_change_on_one_side_is_kept() {
    let base = lib(&["m1_a"]);
    let ours = lib(&["m1_a", "m3_c"]).replace("pub struct Migrator;", "/// Ours.\npub struct Migrator;");
    let theirs = lib(&["m1_a", "m2_b"]);
    let merged = merge3(&base, &ours, &theirs).unwrap();
    assert_eq!(
        merged,
        lib(&["m1_a", "m2_b", "m3_c"]).replace("pub struct Migrator;", "/// Ours.\npub struct Migrator;")
    );
    let merged = merge3(&base, &theirs, &ours).unwrap();
    assert!(merged.contains("/// Ours.\n"), "{merged}");
}

#[test]
fn skeleton_changes_on_both_sides_cannot_be_merged() {
    let base = lib(&["m1_a"]);
    let ours = lib(&["m1_a", "m3_c"]).replace("pub struct Migrator;", "/// Ours.\npub struct Migrator;");
    let theirs = lib(&["m1_a", "m2_b"]).replace("pub struct Migrator;", "/// Theirs.\npub struct Migrator;");
    assert_eq!(merge3(&base, &ours, &theirs), None);
}

#[test]
fn a_file_that_does_not_parse_cannot_be_merged() {
    let base = lib(&["m1_a"]);
    let ours = lib(&["m1_a", "m3_c"]).replace("pub struct Migrator;", "pub struct Migrator");
    assert_eq!(merge3(&base, &ours, &lib(&["m1_a", "m2_b"])), None);
    // a list entry this does not read
    let odd = lib(&["m1_a", "m3_c"]).replace("Box::new(m3_c::Migration)", "make()");
    assert_eq!(merge3(&base, &odd, &lib(&["m1_a", "m2_b"])), None);
    // a registration `mod` with an attribute
    let attr = lib(&["m1_a", "m3_c"]).replace("mod m3_c;", "#[path = \"x.rs\"]\nmod m3_c;");
    assert_eq!(merge3(&base, &attr, &lib(&["m1_a", "m2_b"])), None);
}

#[test]
fn an_in_app_migrator_module() {
    let module = |ms: &[&str]| {
        let mods: String = ms.iter().map(|m| format!("pub mod {m};\n")).collect();
        let entries: String = ms
            .iter()
            .map(|m| format!("        Box::new({m}::Migration),\n"))
            .collect();
        format!(
            "//! The app's migrations.\nuse sea_orm_migration::prelude::*;\n\n{mods}\npub struct Migrator;\n\n#[async_trait::async_trait]\nimpl MigratorTrait for Migrator {{\n    fn migrations() -> Vec<Box<dyn MigrationTrait>> {{\n        let list: Vec<Box<dyn MigrationTrait>> = vec![\n{entries}        ];\n        list\n    }}\n\n    fn migration_table_name() -> DynIden {{\n        \"app_migrations\".into_iden()\n    }}\n}}\n"
        )
    };
    let merged = merge3(
        &module(&["m20240101_000000_a"]),
        &module(&["m20240101_000000_a", "m20240301_000000_c"]),
        &module(&["m20240101_000000_a", "m20240201_000000_b"]),
    )
    .unwrap();
    assert_eq!(
        merged,
        module(&["m20240101_000000_a", "m20240201_000000_b", "m20240301_000000_c"])
    );
}

#[test]
fn the_last_entry_without_comma_gets_one() {
    let base = lib(&["m1_a"]).replace("Box::new(m1_a::Migration),", "Box::new(m1_a::Migration)");
    let ours = lib(&["m1_a", "m3_c"]).replace("Box::new(m3_c::Migration),", "Box::new(m3_c::Migration)");
    let theirs = lib(&["m1_a", "m2_b"]);
    let merged = merge3(&base, &ours, &theirs).unwrap();
    assert_eq!(parses(&merged), ["m1_a", "m2_b", "m3_c"], "{merged}");
}

#[test]
fn entry_and_mod_lines() {
    assert_eq!(entry_line("    Box::new(m1_a::Migration),\n").as_deref(), Some("m1_a"));
    assert_eq!(
        entry_line("Box::new(m1_a::Migration) // x\r\n").as_deref(),
        Some("m1_a")
    );
    assert_eq!(entry_line("Box::new(m1_a::Migration), foo()"), None);
    assert_eq!(mod_line("pub(crate) mod m1_a; // x").as_deref(), Some("m1_a"));
    assert_eq!(mod_line("pub mod m1_a;\n").as_deref(), Some("m1_a"));
    assert_eq!(mod_line("mod m1_a { }"), None);
    assert_eq!(
        with_comma("  Box::new(a::Migration) // c\n"),
        "  Box::new(a::Migration), // c\n"
    );
}

// --- conflict markers ---

const MODS_HUNK: &str = "pub use sea_orm_migration::prelude::*;\n\nmod m1_a;\n<<<<<<< HEAD\nmod m3_c;\n=======\nmod m2_b;\n>>>>>>> theirs\n\npub struct Migrator;\n\nimpl MigratorTrait for Migrator {\n    fn migrations() -> Vec<Box<dyn MigrationTrait>> {\n        vec![\n            Box::new(m1_a::Migration),\n<<<<<<< HEAD\n            Box::new(m3_c::Migration),\n=======\n            Box::new(m2_b::Migration),\n>>>>>>> theirs\n        ]\n    }\n}\n";

#[test]
fn resolves_mod_and_entry_hunks() {
    assert!(has_conflict_markers(MODS_HUNK));
    let res = resolve(MODS_HUNK);
    assert!(res.unresolved.is_empty(), "{:?}", res.unresolved);
    assert_eq!(res.resolved.len(), 2);
    assert_eq!(res.resolved[0].line, 4);
    assert_eq!(res.resolved[1].modules, ["m2_b", "m3_c"]);
    assert_eq!(
        res.text,
        lib(&["m1_a", "m2_b", "m3_c"]).replace("\n#[async_trait::async_trait]", "")
    );
    assert!(!has_conflict_markers(&res.text));
    assert_eq!(parses(&res.text), ["m1_a", "m2_b", "m3_c"]);
}

#[test]
fn a_last_entry_without_comma_before_the_hunk_gets_one() {
    let text = MODS_HUNK.replace(
        "            Box::new(m1_a::Migration),\n<<<",
        "            Box::new(m1_a::Migration)\n<<<",
    );
    let res = resolve(&text);
    assert!(res.text.contains("Box::new(m1_a::Migration),\n"), "{}", res.text);
    assert_eq!(parses(&res.text), ["m1_a", "m2_b", "m3_c"]);
}

#[test]
fn duplicates_inside_and_outside_the_hunk_are_dropped() {
    let text = "mod m1_a;\n<<<<<<< ours\nmod m1_a;\nmod m2_b;\n\n=======\nmod m2_b;\nmod m3_c;\n>>>>>>> theirs\npub struct Migrator;\nimpl MigratorTrait for Migrator { fn migrations() -> Vec<Box<dyn MigrationTrait>> { vec![Box::new(m1_a::Migration), Box::new(m2_b::Migration), Box::new(m3_c::Migration)] } }\n";
    let res = resolve(text);
    assert!(
        res.text
            .starts_with("mod m1_a;\nmod m2_b;\nmod m3_c;\npub struct Migrator;\n"),
        "{}",
        res.text
    );
}

#[test]
fn a_diff3_base_section_removes_what_one_side_removed() {
    let text = "mod m0;\n<<<<<<< ours\nmod m1_a;\nmod m3_c;\n||||||| base\nmod m1_a;\n=======\nmod m2_b;\n>>>>>>> theirs\nfn f() { vec![Box::new(m0::Migration), Box::new(m1_a::Migration), Box::new(m2_b::Migration), Box::new(m3_c::Migration)]; }\n";
    let res = resolve(text);
    assert!(res.unresolved.is_empty());
    assert!(
        res.text.starts_with("mod m0;\nmod m2_b;\nmod m3_c;\nfn f()"),
        "{}",
        res.text
    );
}

#[test]
fn a_mixed_hunk_is_left_alone_and_named() {
    let text = MODS_HUNK.replace("=======\nmod m2_b;\n", "=======\nmod m2_b;\nuse std::fmt;\n");
    let res = resolve(&text);
    assert_eq!(
        res.unresolved,
        [Unresolved {
            line: 4,
            reason: "line 8 is not a migration registration: `use std::fmt;`".into()
        }]
    );
    assert_eq!(res.resolved.len(), 1);
    assert!(
        res.text
            .contains("<<<<<<< HEAD\nmod m3_c;\n=======\nmod m2_b;\nuse std::fmt;\n>>>>>>> theirs\n")
    );
    assert!(res.text.contains("            Box::new(m1_a::Migration),\n            Box::new(m2_b::Migration),\n            Box::new(m3_c::Migration),\n        ]"));
}

#[test]
fn crlf_hunks_keep_their_line_endings() {
    let text = MODS_HUNK.replace('\n', "\r\n");
    let res = resolve(&text);
    assert!(res.unresolved.is_empty());
    assert!(!res.text.replace("\r\n", "").contains('\n'), "{:?}", res.text);
    assert!(!has_conflict_markers(&res.text));
}

#[test]
fn broken_markers_are_reported() {
    let res = resolve("mod a;\n<<<<<<< ours\nmod b;\n");
    assert_eq!(res.unresolved.len(), 1);
    assert_eq!(res.text, "mod a;\n<<<<<<< ours\nmod b;\n");
    assert!(!has_conflict_markers("a\n=======\nb\n"));
    // a hunk of blank lines only is not a registration conflict
    let blank = "mod a;\n<<<<<<< ours\n\n=======\n\n\n>>>>>>> theirs\n";
    assert_eq!(resolve(blank).text, blank);
}
