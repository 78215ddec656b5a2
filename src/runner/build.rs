//! Generating and compiling the runner crate.

use super::Runner;
use crate::config::DbUrl;
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

/// Makes the tracking table be created as the workspace's sea-orm-migration creates it,
/// without building anything (for `stamp` and a baseline, which run no migration). The
/// resolved version is cached like the runner's.
pub fn use_tracking_form_of(ws: &Workspace, mig: &MigrationCrate) -> Result<()> {
    let (version, _) = sea_orm_migration_version(ws, mig)?;
    let line = SeaOrmLine::of(&version).ok_or_else(|| unsupported(&mig.name, "sea-orm-migration", &version))?;
    crate::db::tracking::set_form(line.tracking_form());
    Ok(())
}

/// Generates the runner for this workspace and builds it.
pub async fn build(ws: &Workspace, mig: &MigrationCrate, url: &DbUrl, shell: &Shell) -> Result<Runner> {
    build_flavor(ws, mig, url, shell, false).await
}

/// The capture runner: the same runner, built with sea-orm's statement logging on, so that
/// it reports every statement it executes (`--dry-run`, `cargo dbm sql`, `cargo dbm lint`).
/// A crate of its own (sea-orm is compiled with another feature set), so that building
/// one never makes the other stale.
pub async fn build_capture(ws: &Workspace, mig: &MigrationCrate, url: &DbUrl, shell: &Shell) -> Result<Runner> {
    build_flavor(ws, mig, url, shell, true).await
}

async fn build_flavor(
    ws: &Workspace,
    mig: &MigrationCrate,
    url: &DbUrl,
    shell: &Shell,
    capture: bool,
) -> Result<Runner> {
    let (version, package_count) = sea_orm_migration_version(ws, mig)?;
    let line = SeaOrmLine::of(&version).ok_or_else(|| unsupported(&mig.name, "sea-orm-migration", &version))?;
    crate::db::tracking::set_form(line.tracking_form());
    let mut features = vec![engine_feature(url)];
    if !mig.features.iter().any(|f| f.starts_with("runtime-")) {
        features.push("runtime-tokio-rustls".into());
    }

    let runner = format!(
        "dbm-runner-{}{}",
        workspace_hash(ws),
        if capture { "-capture" } else { "" }
    );
    let sea_orm_line = version.split(['.', '-', '+']).take(2).collect::<Vec<_>>().join(".");
    let dir = ws.target_dir.join("dbm").join(&runner);
    crate::workspace::create_dir_all(&dir)?;

    let manifest = templates::RUNNER_MANIFEST.render(minijinja::context! {
        tool_version => env!("CARGO_PKG_VERSION"),
        runner => &runner,
        package => &mig.name,
        path => mig.dir.to_string_lossy(),
        sea_orm_migration => version,
        features => features,
        capture => capture,
        sea_orm_line => sea_orm_line,
    })?;
    let manifest = with_workspace_settings(&manifest, &ws.manifest, &ws.root)?;
    write_if_changed(&dir.join("Cargo.toml"), &manifest)?;
    write_if_changed(&dir.join("main.rs"), templates::RUNNER_MAIN.source)?;
    write_if_changed(&dir.join("protocol.rs"), templates::RUNNER_PROTOCOL.source)?;
    write_if_changed(&dir.join("capture.rs"), templates::RUNNER_CAPTURE.source)?;
    write_if_changed(&dir.join("compat.rs"), line.runner_compat().source)?;
    write_if_changed(&dir.join("migrator.rs"), &migrator_module(mig))?;
    super::seed::write_sources(&dir, mig)?;
    sync_lockfile(&ws.root.join("Cargo.lock"), &dir)?;

    let generated = Generated {
        krate: "sea-orm-migration",
        version: &version,
    };
    compile(&dir, &runner, &ws.target_dir, package_count, shell, generated)
}

/// The lines of sea-orm (and sea-orm-migration, which shares its versions) that cargo dbm
/// writes code for. Their APIs differ where the runner and the entities crate touch them:
/// see `templates/runner/compat_v1.rs` and `templates/entities/main.rs.j2`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SeaOrmLine {
    /// 1.1.x (sea-query 0.32).
    V1_1,
    /// 2.0.x (sea-query 1.x).
    V2_0,
}

impl SeaOrmLine {
    /// The supported lines, as the refusal names them.
    pub const SUPPORTED: &'static str = "1.1.x and 2.0.x";

    /// The line of a resolved version (`1.1.20`, `2.0.4`, `2.0.0-rc.3`), if supported.
    pub fn of(version: &str) -> Option<SeaOrmLine> {
        let mut parts = version.trim().split(['.', '-', '+']);
        match (parts.next(), parts.next()) {
            (Some("1"), Some("1")) => Some(SeaOrmLine::V1_1),
            (Some("2"), Some("0")) => Some(SeaOrmLine::V2_0),
            _ => None,
        }
    }

    /// The runner's `compat.rs` for this line.
    pub fn runner_compat(self) -> templates::Template {
        match self {
            SeaOrmLine::V1_1 => templates::RUNNER_COMPAT_V1,
            SeaOrmLine::V2_0 => templates::RUNNER_COMPAT_V2,
        }
    }

    /// The major, as the entities template tests it.
    pub fn major(self) -> u32 {
        match self {
            SeaOrmLine::V1_1 => 1,
            SeaOrmLine::V2_0 => 2,
        }
    }

    /// How this line creates `seaql_migrations`.
    pub fn tracking_form(self) -> crate::db::tracking::Form {
        match self {
            SeaOrmLine::V1_1 => crate::db::tracking::Form::V1_1,
            SeaOrmLine::V2_0 => crate::db::tracking::Form::V2_0,
        }
    }
}

/// The refusal of a version no runner is written for, before anything is generated.
fn unsupported(package: &str, krate: &str, version: &str) -> Error {
    Error::UnsupportedVersion {
        package: package.to_string(),
        krate: krate.to_string(),
        version: version.to_string(),
        supported: SeaOrmLine::SUPPORTED.to_string(),
    }
}

/// What a generated crate was written for, to name in a report of its own compile errors.
#[derive(Clone, Copy)]
struct Generated<'a> {
    krate: &'a str,
    version: &'a str,
}

/// The runner's `migrator` module: the path of the workspace's Migrator in the crate the
/// runner calls `migration` (`migration::Migrator`, `migration::migrator::Migrator`).
fn migrator_module(mig: &MigrationCrate) -> String {
    let path = &mig.migrator;
    let alias = if path == "Migrator" || path.ends_with("::Migrator") {
        ""
    } else {
        " as Migrator"
    };
    format!("//! Generated by cargo-dbm: the workspace's Migrator. Do not edit.\n\npub use migration::{path}{alias};\n")
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
            generated: None,
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
    url.engine.driver_feature().to_string()
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
    let line = SeaOrmLine::of(&version).ok_or_else(|| unsupported(&first.name, "sea-orm", &version))?;
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
        sea_orm => &version,
        sea_orm_major => line.major(),
        features => features,
        url_var => super::protocol::URL_VAR,
        schema_var => super::protocol::SCHEMA_VAR,
    };
    let manifest = with_workspace_settings(&templates::ENTITIES_MANIFEST.render(&vars)?, &ws.manifest, &ws.root)?;
    write_if_changed(&dir.join("Cargo.toml"), &manifest)?;
    write_if_changed(&dir.join("main.rs"), &templates::ENTITIES_MAIN.render(&vars)?)?;
    sync_lockfile(&ws.root.join("Cargo.lock"), &dir)?;
    let generated = Generated {
        krate: "sea-orm",
        version: &version,
    };
    compile(&dir, &name, &ws.target_dir, package_count, shell, generated)
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

fn compile(
    dir: &Path,
    runner: &str,
    target_dir: &Path,
    estimate: usize,
    shell: &Shell,
    generated: Generated<'_>,
) -> Result<Runner> {
    let mut cmd = cargo();
    // Diagnostics come as JSON (rendered as cargo renders them, and with their spans), so a
    // failure can be told apart: the user's code, or the code cargo dbm generated.
    cmd.arg("build")
        .arg("--manifest-path")
        .arg(dir.join("Cargo.toml"))
        .arg("--message-format")
        .arg(if shell.is_tty() {
            "json-diagnostic-rendered-ansi"
        } else {
            "json"
        })
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

    // Cargo's own messages (on stderr) are kept and shown if the build fails.
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
    let mut rendered = Vec::new();
    let mut blame = Blame::default();
    let stdout = child.stdout.take().expect("piped stdout");
    for msg in Message::parse_stream(BufReader::new(stdout)).map_while(|m| m.ok()) {
        match msg {
            Message::CompilerArtifact(a) => {
                bar.inc(1);
                bar.set_message(a.target.name.clone());
                if a.target.name == runner
                    && let Some(e) = a.executable
                {
                    exe = Some(PathBuf::from(e));
                }
            }
            Message::CompilerMessage(m) => {
                blame.note(&m, runner, dir);
                if let Some(r) = m.message.rendered {
                    rendered.push(r.trim_end().to_string());
                }
            }
            _ => {}
        }
    }
    let status = child.wait().map_err(|e| Error::io("cargo build", e))?;
    bar.finish_and_clear();
    let kept = errs.join().unwrap_or_default();
    if !status.success() {
        let detail = rendered.into_iter().chain(kept).collect::<Vec<_>>().join("\n");
        eprintln!("{detail}");
        let generated = blame
            .generated_only()
            .then(|| format!("{} {}", generated.krate, generated.version));
        return Err(Error::Build { detail, generated });
    }
    exe.map(|exe| Runner {
        exe,
        timeouts: Default::default(),
    })
    .ok_or_else(|| Error::Build {
        detail: "cargo did not report the runner binary".into(),
        generated: Some(format!("{} {}", generated.krate, generated.version)),
    })
}

/// Whose code the errors of a build are in: the files cargo dbm generated (a bug in cargo
/// dbm), or the user's. `seed_fns.rs` is generated but only calls the crate's seed
/// functions, so its errors say that a function's signature does not fit: the user's.
#[derive(Default, Debug)]
struct Blame {
    generated: usize,
    user: usize,
}

impl Blame {
    fn note(&mut self, m: &cargo_metadata::CompilerMessage, runner: &str, dir: &Path) {
        use cargo_metadata::diagnostic::DiagnosticLevel;
        if !matches!(m.message.level, DiagnosticLevel::Error | DiagnosticLevel::Ice) {
            return;
        }
        let files: Vec<&str> = m
            .message
            .spans
            .iter()
            .filter(|s| s.is_primary)
            .map(|s| s.file_name.as_str())
            .collect();
        match generated_error(&m.target.name, &files, runner, dir) {
            Some(true) => self.generated += 1,
            Some(false) => self.user += 1,
            None => {}
        }
    }

    /// Every located error is in cargo dbm's generated files.
    fn generated_only(&self) -> bool {
        self.generated > 0 && self.user == 0
    }
}

/// Whether an error of crate `target` at `files` (its primary spans; relative paths are
/// relative to the generated crate, the workspace cargo builds) is in the code cargo dbm
/// generated; `None` for an error that points nowhere ("aborting due to 2 previous errors").
fn generated_error(target: &str, files: &[&str], runner: &str, dir: &Path) -> Option<bool> {
    if files.is_empty() {
        return None;
    }
    // Ours: the files written from `templates/runner/` unchanged. `migrator.rs` names the
    // user's Migrator and `seed_fns.rs` their seed functions: errors there are theirs.
    const OURS: &[&str] = &["main.rs", "compat.rs", "protocol.rs", "seed_exec.rs", "seed_mode.rs"];
    Some(
        target == runner
            && files.iter().all(|f| {
                let path = dir.join(f);
                path.starts_with(dir)
                    && path
                        .file_name()
                        .and_then(|n| n.to_str())
                        .is_some_and(|n| OURS.contains(&n))
            }),
    )
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
    fn versions_map_to_the_lines_cargo_dbm_writes_for() {
        for v in ["1.1.0", "1.1.20", "1.1.0-rc.1"] {
            assert_eq!(SeaOrmLine::of(v), Some(SeaOrmLine::V1_1), "{v}");
        }
        for v in ["2.0.0", "2.0.4", "2.0.0-rc.38"] {
            assert_eq!(SeaOrmLine::of(v), Some(SeaOrmLine::V2_0), "{v}");
        }
        for v in ["0.12.15", "1.0.1", "1.2.0", "2.1.0", "3.0.0", "", "x"] {
            assert_eq!(SeaOrmLine::of(v), None, "{v}");
        }
        assert_eq!(SeaOrmLine::V1_1.runner_compat().name, "runner/compat_v1.rs");
        assert_eq!(SeaOrmLine::V2_0.runner_compat().name, "runner/compat_v2.rs");
    }

    #[test]
    fn errors_in_generated_files_are_told_from_the_users() {
        let dir = Path::new("/ws/target/dbm/dbm-runner-1234");
        let runner = "dbm-runner-1234";
        // The runner's own files, relative (cargo's workspace is the runner) or absolute.
        assert_eq!(generated_error(runner, &["compat.rs"], runner, dir), Some(true));
        assert_eq!(
            generated_error(runner, &["main.rs", "seed_exec.rs"], runner, dir),
            Some(true)
        );
        assert_eq!(
            generated_error(runner, &["/ws/target/dbm/dbm-runner-1234/main.rs"], runner, dir),
            Some(true)
        );
        // The call of a seed function whose signature does not fit: the user's.
        assert_eq!(generated_error(runner, &["seed_fns.rs"], runner, dir), Some(false));
        // The user's crate, compiled as a dependency of the runner.
        assert_eq!(
            generated_error("migration", &["/ws/migration/src/m1.rs"], runner, dir),
            Some(false)
        );
        // The runner, but pointing into the user's sources (a macro of theirs).
        assert_eq!(
            generated_error(runner, &["/ws/migration/src/lib.rs"], runner, dir),
            Some(false)
        );
        assert_eq!(generated_error(runner, &[], runner, dir), None);

        let mut blame = Blame::default();
        assert!(!blame.generated_only());
        blame.generated = 2;
        assert!(blame.generated_only());
        blame.user = 1;
        assert!(!blame.generated_only());
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
