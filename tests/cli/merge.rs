//! Two branches that each ran `cargo dbm create`, merged with the real git: with the merge
//! driver `init` sets up (no conflict), and without it (conflict markers, which every
//! command names and `cargo dbm resolve` resolves).

use crate::support::*;
use std::path::Path;

const LIB: &str = "migration/src/lib.rs";
const MARKERS: [&str; 3] = ["<<<<<<<", "=======", ">>>>>>>"];

/// Runs git in `dir` with a fixed identity, no user or system configuration, and the
/// binary under test first on PATH (so the driver finds `cargo-dbm`).
fn git(dir: &Path, args: &[&str]) -> Output {
    let bin_dir = bin().parent().unwrap().to_path_buf();
    let path = format!("{}:{}", bin_dir.display(), std::env::var("PATH").unwrap_or_default());
    let out = std::process::Command::new("git")
        .args(args)
        .current_dir(dir)
        .env("PATH", path)
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_AUTHOR_NAME", "Test")
        .env("GIT_AUTHOR_EMAIL", "test@example.com")
        .env("GIT_COMMITTER_NAME", "Test")
        .env("GIT_COMMITTER_EMAIL", "test@example.com")
        // The driver runs cargo-dbm: the tests' own target and cache, as `run_in` sets.
        .env("CARGO_TARGET_DIR", shared_target())
        .env("NO_COLOR", "1")
        .output()
        .expect("run git");
    Output {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// A git repository of the fixture's files (database and build output ignored).
fn repository(fx: &Fixture) {
    fx.write(".gitignore", "/data/\n/target/\n");
    git(fx.root(), &["init", "-q", "-b", "main"]).ok();
    git(fx.root(), &["config", "user.name", "Test"]).ok();
    git(fx.root(), &["config", "user.email", "test@example.com"]).ok();
}

fn commit_all(fx: &Fixture, message: &str) {
    git(fx.root(), &["add", "-A"]).ok();
    git(fx.root(), &["commit", "-q", "-m", message]).ok();
}

/// Branch `a` creates "add phone", branch `b` (from `main`) creates "add email"; `b` is
/// checked out, and `a` merged into it. Returns the merge's output and the two versions.
fn two_branches(fx: &Fixture, tweak: impl Fn(&str)) -> (Output, String, String) {
    git(fx.root(), &["checkout", "-q", "-b", "a"]).ok();
    let phone = fx.migration(
        "add phone",
        "CREATE TABLE phone (id integer primary key)",
        "DROP TABLE phone",
    );
    tweak("a");
    commit_all(fx, "add phone");
    git(fx.root(), &["checkout", "-q", "-b", "b", "main"]).ok();
    let email = fx.migration(
        "add email",
        "CREATE TABLE email (id integer primary key)",
        "DROP TABLE email",
    );
    tweak("b");
    commit_all(fx, "add email");
    let merged = git(fx.root(), &["merge", "--no-edit", "a"]);
    (merged, phone, email)
}

/// The versions `status --format json` shows applied.
fn applied(fx: &Fixture) -> Vec<String> {
    let st = fx.dbm(&["status", "--format", "json"]);
    st.ok();
    st.json()["migrations"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["status"] == "applied")
        .map(|m| m["version"].as_str().unwrap().to_string())
        .collect()
}

/// Whether `text` registers `versions`, in this order, each once.
#[track_caller]
fn assert_registered_in_order(text: &str, versions: &[&String]) {
    for v in versions {
        assert_eq!(text.matches(&format!("mod {v};")).count(), 1, "{text}");
        assert_eq!(text.matches(&format!("Box::new({v}::Migration)")).count(), 1, "{text}");
    }
    let at = |v: &String| text.find(&format!("Box::new({v}::Migration)")).unwrap();
    assert!(versions.windows(2).all(|w| at(w[0]) < at(w[1])), "{text}");
}

#[test]
fn the_merge_driver_merges_both_branches_migrations() {
    let fx = Fixture::bare();
    repository(&fx);
    fx.dbm(&["init"]).ok().contains(".gitattributes").contains("commit");
    assert!(
        fx.read(".gitattributes")
            .lines()
            .any(|l| l == "migration/src/lib.rs merge=cargo-dbm-migrator"),
        "{}",
        fx.read(".gitattributes")
    );
    let driver = git(fx.root(), &["config", "merge.cargo-dbm-migrator.driver"]);
    driver.ok().contains("cargo-dbm dbm merge-driver %O %A %B %P");
    commit_all(&fx, "base");

    let (merged, phone, email) = two_branches(&fx, |_| {});
    merged.ok();
    let lib = fx.read(LIB);
    assert!(!MARKERS.iter().any(|m| lib.contains(m)), "{lib}");
    let mut both = [&phone, &email];
    both.sort();
    assert_registered_in_order(&lib, &both);

    fx.dbm(&["up"]).ok();
    let mut want = [phone.clone(), email.clone()];
    want.sort();
    let got = applied(&fx);
    assert!(want.iter().all(|v| got.contains(v)), "{got:?}");

    // Running init again changes nothing; info says the driver is configured.
    let attrs = fx.read(".gitattributes");
    fx.dbm(&["init"]).ok().contains("Unchanged");
    assert_eq!(fx.read(".gitattributes"), attrs);
    fx.dbm(&["info"]).ok().contains("Merge driver configured");
    assert_eq!(
        fx.dbm(&["info", "--format", "json"]).json()["merge_driver"],
        "configured"
    );
}

#[test]
fn without_the_driver_commands_name_the_conflict_and_resolve_fixes_it() {
    let fx = Fixture::bare();
    repository(&fx);
    fx.dbm(&["init"]).ok();
    std::fs::remove_file(fx.path(".gitattributes")).unwrap();
    fx.dbm(&["info"]).ok().contains("not configured (run cargo dbm init)");
    commit_all(&fx, "base");

    let (merged, phone, email) = two_branches(&fx, |_| {});
    assert_ne!(merged.code, 0, "{merged:?}");
    assert!(MARKERS.iter().all(|m| fx.read(LIB).contains(m)));

    for cmd in [&["status"][..], &["create", "x"], &["up"]] {
        fx.dbm(cmd)
            .expect_code(21)
            .contains("migration/src/lib.rs")
            .contains("merge conflict markers")
            .contains("cargo dbm resolve");
    }

    let resolved = fx.dbm(&["resolve"]);
    resolved.ok().contains("Resolved").contains("git add");
    let lib = fx.read(LIB);
    assert!(!MARKERS.iter().any(|m| lib.contains(m)), "{lib}");
    let mut both = [&phone, &email];
    both.sort();
    assert_registered_in_order(&lib, &both);
    fx.dbm(&["resolve"]).ok().contains("no conflict markers");

    fx.dbm(&["up"]).ok();
    let got = applied(&fx);
    assert!(got.contains(&phone) && got.contains(&email), "{got:?}");
}

#[test]
fn a_conflict_mixing_registrations_with_other_code_is_left_and_named() {
    let fx = Fixture::bare();
    repository(&fx);
    fx.dbm(&["init"]).ok();
    std::fs::remove_file(fx.path(".gitattributes")).unwrap();
    commit_all(&fx, "base");

    // Each branch also writes a line of its own right after its `mod` line.
    let (merged, _, _) = two_branches(&fx, |branch| {
        let lib = fx.read(LIB);
        let at = lib.rfind("\nmod ").unwrap() + 1;
        let end = at + lib[at..].find('\n').unwrap() + 1;
        fx.write(
            LIB,
            &format!("{}const BRANCH: &str = \"{branch}\";\n{}", &lib[..end], &lib[end..]),
        );
    });
    assert_ne!(merged.code, 0, "{merged:?}");

    let out = fx.dbm(&["resolve", "--format", "json"]);
    out.expect_code(21).contains("is not a migration registration");
    let report = out.json();
    assert_eq!(report["resolved"].as_array().unwrap().len(), 1, "{report}");
    let left = report["unresolved"].as_array().unwrap();
    assert_eq!(left.len(), 1, "{report}");
    assert!(left[0]["line"].as_u64().unwrap() > 0);
    let lib = fx.read(LIB);
    assert!(MARKERS.iter().all(|m| lib.contains(m)), "{lib}");
    assert!(lib.contains("const BRANCH: &str = \"a\";") && lib.contains("const BRANCH: &str = \"b\";"));
    // The list's hunk is resolved: both entries, no markers inside `vec![…]`.
    let list = &lib[lib.find("vec![").unwrap()..];
    assert!(!MARKERS.iter().any(|m| list.contains(m)), "{lib}");
    fx.dbm(&["status"]).expect_code(21);
}

#[test]
fn an_in_app_migrator_gets_the_driver_for_its_module_file() {
    let dir = tempfile::Builder::new().prefix("dbm-in-app-").tempdir().unwrap();
    copy_dir(&repo().join("tests/fixtures/v2-in-app"), dir.path());
    let fx = Fixture { dir, env: Vec::new() };
    repository(&fx);
    fx.dbm(&["init"]).ok();
    assert!(
        fx.read(".gitattributes")
            .lines()
            .any(|l| l == "app/src/migrator/mod.rs merge=cargo-dbm-migrator"),
        "{}",
        fx.read(".gitattributes")
    );
    commit_all(&fx, "base");

    let (merged, phone, email) = two_branches(&fx, |_| {});
    merged.ok();
    let module = fx.read("app/src/migrator/mod.rs");
    assert!(!MARKERS.iter().any(|m| module.contains(m)), "{module}");
    let mut both = [&phone, &email];
    both.sort();
    assert_registered_in_order(&module, &both);
    fx.dbm(&["status"]).expect_code(3).contains(&phone).contains(&email);
}
