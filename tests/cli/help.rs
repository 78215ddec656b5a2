//! `--help` output is part of the interface: snapshot-tested.

use crate::support::{bin, run_in};

#[test]
fn top_level_help() {
    let out = run_in(&std::env::temp_dir(), &["--help"], &[]);
    out.ok();
    insta::assert_snapshot!("help", out.stdout);
}

#[test]
fn subcommand_help() {
    for cmd in ["init", "create", "up", "down", "status", "seed"] {
        let out = run_in(&std::env::temp_dir(), &[cmd, "--help"], &[]);
        out.ok();
        insta::assert_snapshot!(format!("help_{cmd}"), out.stdout);
    }
}

/// Through cargo itself: `cargo dbm --help` finds the binary on PATH.
#[test]
fn runs_as_a_cargo_subcommand() {
    let dir = bin().parent().unwrap().to_path_buf();
    let path = format!("{}:{}", dir.display(), std::env::var("PATH").unwrap_or_default());
    let out = std::process::Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
        .args(["dbm", "--version"])
        .env("PATH", path)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(
        String::from_utf8_lossy(&out.stdout).starts_with("cargo-dbm "),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
}

#[test]
fn a_bad_flag_is_a_usage_error() {
    let out = run_in(&std::env::temp_dir(), &["up", "--no-such-flag"], &[]);
    out.expect_code(2);
    assert!(out.stderr.contains("--no-such-flag"), "{}", out.stderr);
}
