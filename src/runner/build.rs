//! Generating and compiling the runner crate.

use super::Runner;
use crate::config::{DbUrl, Engine};
use crate::error::{Error, IoContext, Result};
use crate::shell::Shell;
use crate::templates;
use crate::workspace::{MigrationCrate, Workspace};
use cargo_metadata::{Message, MetadataCommand};
use indicatif::{ProgressBar, ProgressStyle};
use sha2::{Digest, Sha256};
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// Cargo's own progress lines, which the progress bar replaces.
const CARGO_NOISE: &[&str] = &[
    "Compiling",
    "Checking",
    "Finished",
    "Fresh",
    "Running",
    "Downloaded",
    "Downloading",
    "Updating",
    "Locking",
    "Adding",
    "Building",
    "Dirty",
    "Packaging",
];

/// The cargo to run: `$CARGO` (set when invoked as `cargo dbm`), else `cargo`.
///
/// Without the variables cargo sets for a crate it runs (`CARGO_PKG_NAME`,
/// `CARGO_MANIFEST_DIR`, …), present when `cargo dbm` is started from `cargo run`, a test or
/// a build script: build scripts such as ring's declare `rerun-if-env-changed` on some of
/// them, so inheriting them would rebuild the whole sea-orm stack whenever the caller
/// changes.
pub fn cargo() -> Command {
    let mut cmd = Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()));
    for (key, _) in std::env::vars_os() {
        let Some(key) = key.to_str() else { continue };
        if is_crate_variable(key) {
            cmd.env_remove(key);
        }
    }
    cmd
}

/// Whether cargo sets `key` for a crate or build script it runs (never for a user's shell).
fn is_crate_variable(key: &str) -> bool {
    const PREFIXES: &[&str] = &["CARGO_PKG_", "CARGO_MANIFEST_", "CARGO_CFG_", "CARGO_BIN_EXE_"];
    const NAMES: &[&str] = &[
        "CARGO_CRATE_NAME",
        "CARGO_BIN_NAME",
        "CARGO_PRIMARY_PACKAGE",
        "CARGO_TARGET_TMPDIR",
        "OUT_DIR",
    ];
    PREFIXES.iter().any(|p| key.starts_with(p)) || NAMES.contains(&key)
}

/// Generates the runner for this workspace and builds it.
pub async fn build(ws: &Workspace, mig: &MigrationCrate, url: &DbUrl, shell: &Shell) -> Result<Runner> {
    let (version, package_count) = sea_orm_migration_version(ws, mig)?;
    let mut features = vec![engine_feature(url)];
    if !mig.features.iter().any(|f| f.starts_with("runtime-")) {
        features.push("runtime-tokio-rustls".into());
    }

    let runner = format!("dbm-runner-{}", workspace_hash(ws));
    let dir = ws.target_dir.join("dbm").join(&runner);
    crate::workspace::create_dir_all(&dir)?;

    let manifest = templates::RUNNER_MANIFEST.render(minijinja::context! {
        tool_version => env!("CARGO_PKG_VERSION"),
        runner => &runner,
        package => &mig.name,
        path => mig.dir.to_string_lossy(),
        sea_orm_migration => version,
        features => features,
    })?;
    let manifest = with_workspace_settings(&manifest, &ws.manifest, &ws.root)?;
    write_if_changed(&dir.join("Cargo.toml"), &manifest)?;
    write_if_changed(&dir.join("main.rs"), templates::RUNNER_MAIN.source)?;
    super::seed::write_sources(&dir, mig)?;
    sync_lockfile(&ws.root.join("Cargo.lock"), &dir)?;

    compile(&dir, &runner, &ws.target_dir, package_count, shell)
}

/// The sea-orm-migration version the migration crate resolves to, so the runner links
/// exactly the same one; and how many packages the build graph has (for the progress bar).
fn sea_orm_migration_version(ws: &Workspace, mig: &MigrationCrate) -> Result<(String, usize)> {
    resolved_version(ws, &mig.name, "sea_orm_migration")
}

/// The version that workspace member `package` resolves its dependency `dep` (lib name) to,
/// and the number of packages in the graph. Resolving the graph (`cargo metadata` with
/// dependencies) takes a few hundred milliseconds, so the answer is cached while the
/// workspace's manifests and its `Cargo.lock` are unchanged.
fn resolved_version(ws: &Workspace, package: &str, dep: &str) -> Result<(String, usize)> {
    let manifest = ws.manifest.to_string_lossy();
    let key = [manifest.as_ref(), package, dep];
    if let Some(found) = crate::cache::get::<(String, usize)>("resolved", &key) {
        return Ok(found);
    }
    let started = std::time::SystemTime::now();
    let found = resolve(ws, package, dep)?;
    // Stamped after the run: cargo may have written the lockfile.
    let lock = ws.root.join("Cargo.lock");
    let stamps = ws
        .inputs
        .iter()
        .chain([&lock])
        .map(|f| crate::cache::Stamp::of(f))
        .collect();
    crate::cache::put("resolved", &key, stamps, started, &found);
    Ok(found)
}

fn resolve(ws: &Workspace, package: &str, dep: &str) -> Result<(String, usize)> {
    let meta = MetadataCommand::new()
        .manifest_path(&ws.manifest)
        .exec()
        .map_err(|e| Error::Build {
            detail: format!("`cargo metadata` failed: {e}"),
        })?;
    let pkg = meta
        .packages
        .iter()
        .find(|p| p.name.as_str() == package && meta.workspace_members.contains(&p.id))
        .ok_or_else(|| Error::Other(format!("the crate `{package}` is missing from cargo metadata")))?;
    let resolve = meta
        .resolve
        .as_ref()
        .ok_or_else(|| Error::Other("cargo metadata has no dependency graph".into()))?;
    let node = resolve
        .nodes
        .iter()
        .find(|n| n.id == pkg.id)
        .ok_or_else(|| Error::Other(format!("`{package}` is not resolved")))?;
    let found = node.deps.iter().find(|d| d.name == dep).ok_or_else(|| {
        Error::Config(format!(
            "the crate `{package}` does not depend on {}",
            dep.replace('_', "-")
        ))
    })?;
    let version = meta
        .packages
        .iter()
        .find(|p| p.id == found.pkg)
        .map(|p| p.version.to_string())
        .ok_or_else(|| Error::Other(format!("{dep} is missing from cargo metadata")))?;
    Ok((version, meta.packages.len()))
}

fn engine_feature(url: &DbUrl) -> String {
    match url.engine {
        Engine::Sqlite => "sqlx-sqlite".to_string(),
        Engine::Postgres => "sqlx-postgres".to_string(),
    }
}

fn workspace_hash(ws: &Workspace) -> String {
    Sha256::digest(ws.root.to_string_lossy().as_bytes())
        .iter()
        .take(4)
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Generates and builds the crate that creates the entities' schema (`--autogenerate`).
pub async fn build_entities(ws: &Workspace, url: &DbUrl, shell: &Shell) -> Result<Runner> {
    let first = ws.entities.first().ok_or_else(|| {
        Error::Config("no entities found: no workspace crate has a module deriving `DeriveEntityModel`".into())
    })?;
    let (version, package_count) = resolved_version(ws, &first.name, "sea_orm")?;
    let name = format!("dbm-entities-{}", workspace_hash(ws));
    let dir = ws.target_dir.join("dbm").join(&name);
    crate::workspace::create_dir_all(&dir)?;
    let crates: Vec<serde_json::Value> = ws
        .entities
        .iter()
        .enumerate()
        .map(|(i, c)| serde_json::json!({ "alias": format!("entities{i}"), "package": c.name, "path": c.dir.to_string_lossy() }))
        .collect();
    let entities: Vec<String> = ws
        .entities
        .iter()
        .enumerate()
        .flat_map(|(i, c)| c.entities.iter().map(move |e| format!("entities{i}::{}", e.module)))
        .collect();
    let features = vec![
        engine_feature(url),
        "runtime-tokio-rustls".to_string(),
        "macros".to_string(),
    ];
    let vars = minijinja::context! {
        tool_version => env!("CARGO_PKG_VERSION"),
        name => &name,
        crates => crates,
        entities => entities,
        sea_orm => version,
        features => features,
    };
    let manifest = with_workspace_settings(&templates::ENTITIES_MANIFEST.render(&vars)?, &ws.manifest, &ws.root)?;
    write_if_changed(&dir.join("Cargo.toml"), &manifest)?;
    write_if_changed(&dir.join("main.rs"), &templates::ENTITIES_MAIN.render(&vars)?)?;
    sync_lockfile(&ws.root.join("Cargo.lock"), &dir)?;
    compile(&dir, &name, &ws.target_dir, package_count, shell)
}

/// The generated crate is a workspace of its own, so cargo would ignore the user's root
/// manifest: copy its `[patch]` (a patched sea-orm must be the one the migrations link),
/// its `[profile]` (the same flags, so the dependencies built for the workspace are reused,
/// not rebuilt) and its resolver. Relative `path`s in patches are made absolute.
fn with_workspace_settings(generated: &str, root_manifest: &Path, root: &Path) -> Result<String> {
    let Ok(text) = std::fs::read_to_string(root_manifest) else {
        return Ok(generated.to_string());
    };
    let user: toml_edit::DocumentMut = text
        .parse()
        .map_err(|e| Error::Config(format!("could not read `{}`: {e}", root_manifest.display())))?;
    let mut doc: toml_edit::DocumentMut = generated
        .parse()
        .map_err(|e| Error::Other(format!("generated manifest: {e}")))?;
    if let Some(profile) = user.get("profile") {
        doc["profile"] = profile.clone();
    }
    if let Some(patch) = user.get("patch").and_then(|p| p.as_table_like()) {
        let mut patch_out = toml_edit::Table::new();
        for (registry, crates) in patch.iter() {
            let mut crates_out = toml_edit::Table::new();
            for (name, spec) in crates.as_table_like().into_iter().flat_map(|t| t.iter()) {
                let mut spec = spec.clone();
                if let Some(t) = spec.as_table_like_mut()
                    && let Some(path) = t.get("path").and_then(|p| p.as_str())
                {
                    let abs = root.join(path).to_string_lossy().into_owned();
                    t.insert("path", toml_edit::value(abs));
                }
                crates_out.insert(name, spec);
            }
            patch_out.insert(registry, toml_edit::Item::Table(crates_out));
        }
        patch_out.set_implicit(true);
        doc["patch"] = toml_edit::Item::Table(patch_out);
    }
    if let Some(resolver) = user.get("workspace").and_then(|w| w.get("resolver")) {
        doc["workspace"]["resolver"] = resolver.clone();
    }
    Ok(doc.to_string())
}

/// Writes only when the content differs, so cargo sees an unchanged runner as fresh.
pub(super) fn write_if_changed(path: &Path, content: &str) -> Result<()> {
    if std::fs::read_to_string(path).is_ok_and(|old| old == content) {
        return Ok(());
    }
    std::fs::write(path, content).context(|| format!("could not write `{}`", path.display()))
}

/// Starts the runner from the workspace's lockfile, so it resolves the very versions the
/// workspace uses; refreshed whenever the workspace's lockfile changes.
fn sync_lockfile(workspace_lock: &Path, dir: &Path) -> Result<()> {
    let Ok(lock) = std::fs::read_to_string(workspace_lock) else {
        return Ok(());
    };
    let stamp = dir.join("lock-source.sha256");
    let digest: String = Sha256::digest(lock.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    if std::fs::read_to_string(&stamp).is_ok_and(|s| s == digest) && dir.join("Cargo.lock").exists() {
        return Ok(());
    }
    std::fs::write(dir.join("Cargo.lock"), lock)
        .context(|| format!("could not write `{}`", dir.join("Cargo.lock").display()))?;
    std::fs::write(&stamp, digest).context(|| format!("could not write `{}`", stamp.display()))
}

fn compile(dir: &Path, runner: &str, target_dir: &Path, estimate: usize, shell: &Shell) -> Result<Runner> {
    let mut cmd = cargo();
    cmd.arg("build")
        .arg("--manifest-path")
        .arg(dir.join("Cargo.toml"))
        .arg("--message-format")
        .arg("json-render-diagnostics")
        .arg(if shell.is_tty() {
            "--color=always"
        } else {
            "--color=never"
        })
        .env("CARGO_TARGET_DIR", target_dir)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd
        .spawn()
        .map_err(|e| Error::io("could not run cargo to build the migrations", e))?;

    let bar = if shell.is_tty() && !shell.quiet {
        let bar = ProgressBar::new(estimate as u64 + 1).with_style(
            ProgressStyle::with_template("{prefix:>12.cyan.bold} [{bar:30.cyan/blue}] {pos}/{len} {wide_msg}")
                .expect("valid template")
                .progress_chars("=> "),
        );
        bar.set_prefix("Building");
        bar
    } else {
        shell.status("Compiling", "migrations (cargo build)");
        ProgressBar::hidden()
    };

    // Diagnostics (rendered by cargo on stderr) are kept and shown if the build fails.
    let stderr = child.stderr.take().expect("piped stderr");
    let bar2 = bar.clone();
    let errs = std::thread::spawn(move || {
        let mut kept = Vec::new();
        for line in BufReader::new(stderr).lines().map_while(|l| l.ok()) {
            let plain = console::strip_ansi_codes(&line).to_string();
            let word = plain.split_whitespace().next().unwrap_or("");
            if word == "Blocking" {
                bar2.println(format!(
                    "{:>12} for the build directory lock (another cargo build is running)",
                    "Waiting"
                ));
            } else if !CARGO_NOISE.contains(&word) {
                kept.push(line);
            }
        }
        kept
    });

    let mut exe = None;
    let stdout = child.stdout.take().expect("piped stdout");
    for msg in Message::parse_stream(BufReader::new(stdout)).map_while(|m| m.ok()) {
        if let Message::CompilerArtifact(a) = msg {
            bar.inc(1);
            bar.set_message(a.target.name.clone());
            if a.target.name == runner
                && let Some(e) = a.executable
            {
                exe = Some(PathBuf::from(e));
            }
        }
    }
    let status = child.wait().map_err(|e| Error::io("cargo build", e))?;
    bar.finish_and_clear();
    let kept = errs.join().unwrap_or_default();
    if !status.success() {
        let detail = kept.join("\n");
        eprintln!("{detail}");
        return Err(Error::Build { detail });
    }
    exe.map(|exe| Runner { exe }).ok_or_else(|| Error::Build {
        detail: "cargo did not report the runner binary".into(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn variables_cargo_sets_for_a_crate_are_not_passed_on() {
        for k in [
            "CARGO_PKG_NAME",
            "CARGO_MANIFEST_DIR",
            "CARGO_CFG_TARGET_OS",
            "OUT_DIR",
            "CARGO_BIN_EXE_x",
        ] {
            assert!(is_crate_variable(k), "{k}");
        }
        for k in [
            "CARGO",
            "CARGO_HOME",
            "CARGO_TARGET_DIR",
            "RUSTFLAGS",
            "CARGO_PROFILE_DEV_DEBUG",
            "PATH",
        ] {
            assert!(!is_crate_variable(k), "{k}");
        }
    }

    #[test]
    fn the_runner_inherits_patches_profiles_and_the_resolver() {
        let dir = tempfile::tempdir().unwrap();
        let root_manifest = dir.path().join("Cargo.toml");
        std::fs::write(
            &root_manifest,
            r#"[workspace]
members = ["migration"]
resolver = "2"

[profile.dev.package."*"]
opt-level = 2

[patch.crates-io]
sea-orm = { path = "../forks/sea-orm" }
sea-query = { git = "https://example.com/sea-query", branch = "fix" }
"#,
        )
        .unwrap();
        let generated = "# generated\n[package]\nname = \"r\"\n\n[dependencies]\ntokio = \"1\"\n\n[workspace]\n";
        let out = with_workspace_settings(generated, &root_manifest, dir.path()).unwrap();
        let doc: toml_edit::DocumentMut = out.parse().unwrap();
        assert!(out.starts_with("# generated"));
        assert_eq!(doc["profile"]["dev"]["package"]["*"]["opt-level"].as_integer(), Some(2));
        let fork = doc["patch"]["crates-io"]["sea-orm"]["path"].as_str().unwrap();
        assert_eq!(Path::new(fork), dir.path().join("../forks/sea-orm"));
        assert_eq!(doc["patch"]["crates-io"]["sea-query"]["branch"].as_str(), Some("fix"));
        assert_eq!(doc["workspace"]["resolver"].as_str(), Some("2"));
        assert_eq!(doc["dependencies"]["tokio"].as_str(), Some("1"));

        // Nothing to inherit: the generated manifest is unchanged.
        std::fs::write(&root_manifest, "[workspace]\nmembers = []\n").unwrap();
        let same = with_workspace_settings(generated, &root_manifest, dir.path()).unwrap();
        assert_eq!(same, generated);
    }
}
