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

#[test]
fn a_mixed_kind_hunk_is_left_alone() {
    let text = "<<<<<<< ours\nmod m2_b;\n=======\n            Box::new(m2_b::Migration),\n>>>>>>> theirs\n";
    let res = resolve(text);
    assert_eq!(res.text, text);
    assert_eq!(res.unresolved[0].reason, "mixes `mod` lines and `Box::new(…)` entries");
}

#[test]
fn discovery_and_parsing_name_a_file_with_conflict_markers() {
    let dir = tempfile::tempdir().unwrap();
    let lib_rs = dir.path().join("lib.rs");
    std::fs::write(&lib_rs, MODS_HUNK).unwrap();
    let found = crate::migrator_source::find_migrators(&lib_rs);
    assert!(found.found.is_empty());
    assert_eq!(found.conflicted, std::slice::from_ref(&lib_rs));
    let err = crate::migrator_source::MigratorSource::parse(&lib_rs, MODS_HUNK.into()).unwrap_err();
    assert_eq!(err.exit_code(), crate::exit_codes::CONFLICT);
    assert!(err.to_string().contains("lib.rs"), "{err}");
    assert!(err.hint().unwrap().contains("cargo dbm resolve"));
}

mod git {
    use super::lib;
    use crate::merge::git::*;
    use std::path::Path;
    use std::process::Command;

    fn git(dir: &Path, args: &[&str]) {
        let ok = Command::new("git")
            .args(args)
            .current_dir(dir)
            .env("GIT_CONFIG_GLOBAL", "/dev/null")
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .status()
            .unwrap()
            .success();
        assert!(ok, "git {args:?}");
    }

    #[test]
    fn attributes_lines_quote_spaces() {
        assert_eq!(
            attributes_line("migration/src/lib.rs"),
            "migration/src/lib.rs merge=cargo-dbm-migrator"
        );
        assert_eq!(
            attributes_line("my app/src/migrator.rs"),
            "\"my app/src/migrator.rs\" merge=cargo-dbm-migrator"
        );
    }

    #[test]
    fn install_is_idempotent_and_keeps_the_attributes_file() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().canonicalize().unwrap();
        let file = root.join("migration/src/lib.rs");
        std::fs::create_dir_all(file.parent().unwrap()).unwrap();
        std::fs::write(&file, lib(&["m1_a"])).unwrap();
        assert_eq!(state(&file), DriverState::NotARepository);
        assert!(install(&file).unwrap().is_none());

        git(&root, &["init", "-q", "-b", "main"]);
        std::fs::write(root.join(".gitattributes"), "*.png binary").unwrap();
        assert_eq!(state(&file), DriverState::NotConfigured);
        let first = install(&file).unwrap().unwrap();
        assert!(first.wrote_attributes && first.wrote_config);
        assert_eq!(
            std::fs::read_to_string(root.join(".gitattributes")).unwrap(),
            "*.png binary\nmigration/src/lib.rs merge=cargo-dbm-migrator\n"
        );
        assert_eq!(state(&file), DriverState::Configured);
        let again = install(&file).unwrap().unwrap();
        assert!(!again.wrote_attributes && !again.wrote_config);
        assert_eq!(
            std::fs::read_to_string(root.join(".gitattributes"))
                .unwrap()
                .matches("merge=")
                .count(),
            1
        );

        // Set by another line (or another attributes file): not written again.
        std::fs::write(root.join(".gitattributes"), "").unwrap();
        std::fs::write(
            root.join("migration/.gitattributes"),
            "src/*.rs merge=cargo-dbm-migrator\n",
        )
        .unwrap();
        assert_eq!(state(&file), DriverState::Configured);
        assert!(!install(&file).unwrap().unwrap().wrote_attributes);
    }

    #[test]
    fn a_workspace_git_ignores_is_not_configured() {
        // A copy inside another project's build folder (a benchmark, the quickstart).
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().canonicalize().unwrap();
        git(&root, &["init", "-q", "-b", "main"]);
        std::fs::write(root.join(".gitignore"), "/target/\n").unwrap();
        let file = root.join("target/bench/migration/src/lib.rs");
        std::fs::create_dir_all(file.parent().unwrap()).unwrap();
        std::fs::write(&file, lib(&["m1_a"])).unwrap();
        assert!(install(&file).unwrap().is_none());
        assert_eq!(state(&file), DriverState::NotARepository);
        assert!(!root.join(".gitattributes").exists());
    }

    #[test]
    fn the_driver_merges_registrations_or_leaves_gits_conflict() {
        let dir = tempfile::tempdir().unwrap();
        let p = |n: &str| dir.path().join(n);
        std::fs::write(p("base"), lib(&["m1_a"])).unwrap();
        std::fs::write(p("ours"), lib(&["m1_a", "m3_c"])).unwrap();
        std::fs::write(p("theirs"), lib(&["m1_a", "m2_b"])).unwrap();
        assert_eq!(
            merge_driver(&p("base"), &p("ours"), &p("theirs")).unwrap(),
            Merged::Registrations
        );
        assert_eq!(
            std::fs::read_to_string(p("ours")).unwrap(),
            lib(&["m1_a", "m2_b", "m3_c"])
        );

        // Both sides changed the skeleton, elsewhere: git merges it, the registrations'
        // conflicts are resolved.
        let ours = lib(&["m1_a", "m3_c"]).replace("pub use", "// ours\npub use");
        let theirs = lib(&["m1_a", "m2_b"]).replace("}\n}\n", "}\n}\n// theirs\n");
        std::fs::write(p("ours"), &ours).unwrap();
        std::fs::write(p("theirs"), &theirs).unwrap();
        assert_eq!(
            merge_driver(&p("base"), &p("ours"), &p("theirs")).unwrap(),
            Merged::ResolvedConflicts
        );
        let merged = std::fs::read_to_string(p("ours")).unwrap();
        assert!(
            merged.starts_with("// ours\n") && merged.ends_with("// theirs\n"),
            "{merged}"
        );
        assert!(merged.contains("mod m1_a;\nmod m2_b;\nmod m3_c;\n"), "{merged}");

        // Conflicting code: git's markers are left.
        let ours = lib(&["m1_a", "m3_c"]).replace("pub struct Migrator;", "pub struct Migrator; // ours");
        let theirs = lib(&["m1_a", "m2_b"]).replace("pub struct Migrator;", "pub struct Migrator; // theirs");
        std::fs::write(p("ours"), &ours).unwrap();
        std::fs::write(p("theirs"), &theirs).unwrap();
        assert_eq!(
            merge_driver(&p("base"), &p("ours"), &p("theirs")).unwrap(),
            Merged::Conflict
        );
        let merged = std::fs::read_to_string(p("ours")).unwrap();
        assert!(
            merged.contains("<<<<<<< ours\n") && merged.contains(">>>>>>> theirs\n"),
            "{merged}"
        );
        assert!(!p("ours.dbm-scratch").exists());
    }
}

#[test]
fn a_list_closed_on_the_entrys_line_is_resolved() {
    // What git leaves when both sides ran `create` on sea-orm-cli's one-line list.
    let text = "mod m1;\n<<<<<<< ours\nmod m3;\n=======\nmod m2;\n>>>>>>> theirs\n\npub struct Migrator;\nimpl MigratorTrait for Migrator {\n    fn migrations() -> Vec<Box<dyn MigrationTrait>> {\n        vec![Box::new(m1::Migration),\n<<<<<<< ours\n        Box::new(m3::Migration),]\n=======\n        Box::new(m2::Migration),]\n>>>>>>> theirs\n    }\n}\n";
    let res = resolve(text);
    assert!(res.unresolved.is_empty(), "{:?}", res.unresolved);
    assert!(
        res.text.contains(
            "vec![Box::new(m1::Migration),\n        Box::new(m2::Migration),\n        Box::new(m3::Migration),]\n"
        ),
        "{}",
        res.text
    );
    assert_eq!(parses(&res.text), ["m1", "m2", "m3"]);
    // Different ends are left alone.
    let odd = text.replacen("Box::new(m2::Migration),]", "Box::new(m2::Migration),] }", 1);
    assert_eq!(resolve(&odd).unresolved.len(), 1);
}
