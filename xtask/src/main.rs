//! Project automation: `cargo xtask <task>`.
//!
//! - `quickstart`: installs cargo-dbm and runs the README's quickstart on a copy of `example/`.
//! - `test`: the whole test suite, setting up what a fresh machine lacks (PostgreSQL).
//! - `bench`: the benchmarks of `docs/benchmarks.md`; `bench backup` for backup and restore.

mod bench;
mod bench_backup;
mod bench_capture;
mod bench_fleet;
mod bench_seed;
mod mariadb;

use anyhow::{Context, Result, bail};
use std::path::{Path, PathBuf};
use std::process::Command;

fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("quickstart") => quickstart(),
        Some("test") => test(&args[1..]),
        Some("bench") if args.get(1).map(String::as_str) == Some("backup") => bench_backup::run(&args[2..]),
        Some("bench") if args.get(1).map(String::as_str) == Some("seed") => bench_seed::run(&args[2..]),
        Some("bench") if args.get(1).map(String::as_str) == Some("capture") => bench_capture::run(&args[2..]),
        Some("bench") if args.get(1).map(String::as_str) == Some("fleet") => bench_fleet::run(&args[2..]),
        Some("bench") => bench::run(&args[1..]),
        _ => {
            eprintln!("usage: cargo xtask <quickstart | test [cargo test args] | bench [migrations|backup|seed]>");
            std::process::exit(2);
        }
    }
}

pub fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap().to_path_buf()
}

/// cargo, without the variables `cargo run` set for this xtask (`CARGO_PKG_NAME`,
/// `CARGO_MANIFEST_DIR`, …): some build scripts (ring's) rerun when they change, which would
/// rebuild the sea-orm stack whenever a build alternates between the xtask and a shell.
pub fn cargo() -> Command {
    let mut cmd = Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()));
    for (key, _) in std::env::vars() {
        if [
            "CARGO_PKG_",
            "CARGO_MANIFEST_",
            "CARGO_BIN_",
            "CARGO_CRATE_",
            "CARGO_PRIMARY_",
        ]
        .iter()
        .any(|p| key.starts_with(p))
        {
            cmd.env_remove(key);
        }
    }
    cmd
}

/// The release `cargo-dbm` the benchmarks measure: built here, unless `BENCH_CARGO_DBM`
/// names a binary already built (so that several benchmarks measure the same build while
/// the tree changes, and no benchmark waits for a build).
pub fn release_dbm() -> Result<PathBuf> {
    if let Some(bin) = std::env::var_os("BENCH_CARGO_DBM") {
        let bin = PathBuf::from(bin);
        if !bin.is_file() {
            bail!("BENCH_CARGO_DBM={} is not a file", bin.display());
        }
        eprintln!("using BENCH_CARGO_DBM={}", bin.display());
        return Ok(bin);
    }
    let repo = repo();
    sh(cargo()
        .current_dir(&repo)
        .args(["build", "--release", "--locked", "--bin", "cargo-dbm"]))?;
    Ok(repo.join("target/release/cargo-dbm"))
}

/// Runs a command, echoing it, failing on a non-zero exit.
pub fn sh(cmd: &mut Command) -> Result<()> {
    eprintln!("$ {}", show(cmd));
    let status = cmd.status().with_context(|| format!("could not run {}", show(cmd)))?;
    if !status.success() {
        bail!("`{}` failed with {status}", show(cmd));
    }
    Ok(())
}

fn show(cmd: &Command) -> String {
    std::iter::once(cmd.get_program().to_string_lossy().into_owned())
        .chain(cmd.get_args().map(|a| a.to_string_lossy().into_owned()))
        .collect::<Vec<_>>()
        .join(" ")
}

/// Copies a directory tree, skipping build output and databases.
pub fn copy_dir(from: &Path, to: &Path) -> Result<()> {
    std::fs::create_dir_all(to)?;
    for entry in std::fs::read_dir(from)? {
        let entry = entry?;
        let name = entry.file_name();
        if name == "target" || name == "data" {
            continue;
        }
        let (src, dst) = (entry.path(), to.join(&name));
        if entry.file_type()?.is_dir() {
            copy_dir(&src, &dst)?;
        } else {
            std::fs::copy(&src, &dst)?;
        }
    }
    Ok(())
}

/// The README's quickstart, on a fresh copy of the example workspace in target/quickstart.
fn quickstart() -> Result<()> {
    let repo = repo();
    sh(cargo()
        .args(["install", "--path"])
        .arg(&repo)
        .arg("--locked")
        .arg("--debug"))?;
    let demo = repo.join("target").join("quickstart");
    if demo.exists() {
        std::fs::remove_dir_all(&demo)?;
    }
    copy_dir(&repo.join("example"), &demo)?;
    eprintln!("$ cd {}", demo.display());
    let dbm = |args: &[&str]| -> Result<()> {
        let mut cmd = cargo();
        cmd.arg("dbm").args(args).current_dir(&demo).env_remove("DATABASE_URL");
        sh(&mut cmd)
    };
    dbm(&["init"])?;
    // The example's entities (user, post) become the first migration.
    dbm(&["create", "initial schema", "--autogenerate"])?;
    dbm(&["create", "add phone"])?;
    // `status` exits 3 while migrations are pending; that is its job.
    let mut status = cargo();
    status
        .args(["dbm", "status"])
        .current_dir(&demo)
        .env_remove("DATABASE_URL");
    eprintln!("$ cargo dbm status");
    status.status()?;
    dbm(&["up"])?;
    dbm(&["status"])?;
    dbm(&["history"])?;
    eprintln!(
        "\nThe demo workspace is in {}; try `cargo dbm down` there.",
        demo.display()
    );
    Ok(())
}

/// The `sqlite3` shell, which the tests apply `cargo dbm sql` scripts with: installs
/// Debian's package on a fresh machine.
fn ensure_sqlite3() -> Result<()> {
    let found =
        std::env::var_os("PATH").is_some_and(|p| std::env::split_paths(&p).any(|d| d.join("sqlite3").is_file()));
    if found {
        return Ok(());
    }
    sh(Command::new("apt-get").arg("update").arg("-q"))?;
    sh(Command::new("apt-get")
        .args(["install", "-y", "-q", "--no-install-recommends", "sqlite3"])
        .env("DEBIAN_FRONTEND", "noninteractive"))
}

/// Makes sure a PostgreSQL server can be started by the tests, installing Debian's package
/// on a fresh machine.
fn ensure_postgres() -> Result<()> {
    let has_initdb = std::fs::read_dir("/usr/lib/postgresql")
        .map(|rd| rd.flatten().any(|e| e.path().join("bin/initdb").exists()))
        .unwrap_or(false);
    if has_initdb || std::env::var_os("PG_BINDIR").is_some() {
        return Ok(());
    }
    let root = Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false);
    if !root {
        bail!("PostgreSQL's server binaries are missing: install Debian's `postgresql` package (or set PG_BINDIR)");
    }
    sh(Command::new("apt-get").arg("update").arg("-q"))?;
    sh(Command::new("apt-get")
        .args(["install", "-y", "-q", "--no-install-recommends", "postgresql"])
        .env("DEBIAN_FRONTEND", "noninteractive"))
}

/// Makes sure a MariaDB server can be started by the tests (`mariadbd`, `mariadb-install-db`,
/// the `mariadb` client), installing Debian's packages on a fresh machine without leaving the
/// packaged service running.
fn ensure_mariadb() -> Result<()> {
    let on_path = |name: &str| {
        std::env::var_os("PATH").is_some_and(|path| std::env::split_paths(&path).any(|dir| dir.join(name).is_file()))
    };
    let has_server = Path::new("/usr/sbin/mariadbd").is_file() || on_path("mariadbd");
    if has_server && on_path("mariadb-install-db") && on_path("mariadb") {
        return Ok(());
    }
    let root = Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false);
    if !root {
        bail!("MariaDB is missing: install Debian's `mariadb-server` and `mariadb-client` packages");
    }
    // Debian's postinst starts the service unless policy-rc.d says no (exit 101): say no for
    // the time of the install when nothing else does (containers usually have one already).
    let policy = Path::new("/usr/sbin/policy-rc.d");
    let own_policy = !policy.exists();
    if own_policy {
        std::fs::write(policy, "#!/bin/sh\n# cargo xtask test: no service start\nexit 101\n")?;
        std::fs::set_permissions(policy, std::os::unix::fs::PermissionsExt::from_mode(0o755))?;
    }
    let install = || {
        let mut cmd = Command::new("apt-get");
        cmd.args([
            "install",
            "-y",
            "-q",
            "--no-install-recommends",
            "mariadb-server",
            "mariadb-client",
        ])
        .env("DEBIAN_FRONTEND", "noninteractive");
        cmd
    };
    let mut result = sh(&mut install());
    if result.is_err() {
        // Stale or missing package lists (fresh image): refresh them and try again.
        result = sh(Command::new("apt-get").arg("update").arg("-q")).and_then(|()| sh(&mut install()));
    }
    if own_policy {
        std::fs::remove_file(policy)?;
    }
    result?;
    // Should the service have started anyway (an init that ignores policy-rc.d), stop it:
    // the tests start their own servers.
    if let Ok(pid) = std::fs::read_to_string("/run/mysqld/mysqld.pid") {
        let stopped = Command::new("invoke-rc.d")
            .args(["--force", "mariadb", "stop"])
            .status()
            .is_ok_and(|s| s.success());
        if !stopped {
            let _ = Command::new("kill").arg(pid.trim()).status();
        }
    }
    Ok(())
}

/// The whole test suite (unit, integration on SQLite and PostgreSQL, snapshot, xtask).
fn test(extra: &[String]) -> Result<()> {
    ensure_postgres()?;
    ensure_sqlite3()?;
    ensure_mariadb()?;
    let mut cmd = cargo();
    cmd.current_dir(repo())
        .args(["test", "--workspace", "--locked"])
        .args(extra);
    // Snapshots must match what is committed; never write new ones in a test run.
    cmd.env("INSTA_UPDATE", "no");
    sh(&mut cmd)
}
