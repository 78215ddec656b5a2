//! git's side of merging the Migrator's file: the merge driver git runs for it
//! (`cargo dbm merge-driver`), and installing that driver in a clone (a `.gitattributes`
//! line, committed, and the driver's command in the clone's own configuration, which git
//! never shares).

use crate::error::{Error, IoContext, Result};
use std::path::{Path, PathBuf};
use std::process::Command;

/// The name of the driver in `.gitattributes` and in git's configuration.
pub const DRIVER: &str = "cargo-dbm-migrator";

/// Its description (`merge.<driver>.name`).
pub const DRIVER_NAME: &str = "cargo dbm: Migrator registrations";

/// The command git runs (through `sh`): cargo dbm's driver, or git's own merge when
/// `cargo-dbm` is not on PATH (a teammate without it gets an ordinary conflict).
pub const DRIVER_COMMAND: &str = "if command -v cargo-dbm >/dev/null 2>&1; then cargo-dbm dbm merge-driver %O %A %B %P; else git merge-file -L ours -L base -L theirs %A %O %B; fi";

/// Whether the driver is set up for a file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum DriverState {
    Configured,
    NotConfigured,
    NotARepository,
}

impl DriverState {
    /// For `info`.
    pub fn describe(self) -> &'static str {
        match self {
            DriverState::Configured => "configured",
            DriverState::NotConfigured => "not configured (run cargo dbm init)",
            DriverState::NotARepository => "not a git repository",
        }
    }
}

/// What [`install`] did.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Install {
    /// The repository's root.
    pub repository: PathBuf,
    /// The `.gitattributes` file, and the line it holds.
    pub attributes: PathBuf,
    pub line: String,
    /// Whether the line was added now.
    pub wrote_attributes: bool,
    /// Whether the clone's configuration was changed now.
    pub wrote_config: bool,
}

/// Runs git in `dir`; its trimmed stdout on success, `None` when git is missing or fails.
fn git(dir: &Path, args: &[&str]) -> Option<String> {
    let out = Command::new("git").arg("-C").arg(dir).args(args).output().ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).trim_end().to_string())
}

/// The root of the git repository holding `path` (a file or folder), `None` outside one
/// (or without git).
pub fn repository(path: &Path) -> Option<PathBuf> {
    let dir = if path.is_dir() { path } else { path.parent()? };
    git(dir, &["rev-parse", "--show-toplevel"])
        .filter(|s| !s.is_empty())
        .map(PathBuf::from)
}

/// `file` relative to the repository's root, with `/`; `None` if it is outside.
fn relative(root: &Path, file: &Path) -> Option<String> {
    let root = root.canonicalize().unwrap_or_else(|_| root.to_path_buf());
    let file = file.canonicalize().unwrap_or_else(|_| file.to_path_buf());
    let rel = file.strip_prefix(&root).ok()?;
    Some(rel.to_string_lossy().replace('\\', "/"))
}

/// The `.gitattributes` line for `rel`: the path (quoted if it has spaces or quotes) and
/// the driver.
pub fn attributes_line(rel: &str) -> String {
    let pattern = if rel.contains([' ', '"', '\t']) {
        format!("\"{}\"", rel.replace('\\', "\\\\").replace('"', "\\\""))
    } else {
        rel.to_string()
    };
    format!("{pattern} merge={DRIVER}")
}

/// Whether the attributes text already names the driver for `rel`.
fn has_line(text: &str, rel: &str) -> bool {
    let wanted = attributes_line(rel);
    text.lines().any(|l| l.trim() == wanted)
}

/// Whether git sees the driver as `rel`'s merge attribute (whatever line of which
/// attributes file sets it), or, if git cannot answer, whether `.gitattributes` has our line.
fn has_attribute(root: &Path, rel: &str) -> bool {
    match git(root, &["check-attr", "merge", "--", rel]) {
        Some(out) => out.trim_end().ends_with(&format!(": merge: {DRIVER}")),
        None => std::fs::read_to_string(root.join(".gitattributes")).is_ok_and(|t| has_line(&t, rel)),
    }
}

/// Whether the clone's configuration runs the driver.
fn has_config(root: &Path) -> bool {
    git(root, &["config", "--get", &format!("merge.{DRIVER}.driver")]).as_deref() == Some(DRIVER_COMMAND)
}

/// The repository whose history holds `file`: `None` outside one, and for a file git
/// ignores (a workspace inside another project's `target/`, e.g. a benchmark or a
/// quickstart copy), whose repository is not the user's to configure.
fn tracking_repository(file: &Path) -> Option<PathBuf> {
    let root = repository(file)?;
    let rel = relative(&root, file)?;
    let ignored = git(&root, &["check-ignore", "-q", "--", &rel]).is_some();
    (!ignored).then_some(root)
}

/// Whether the driver is set up for the Migrator's file `file`.
pub fn state(file: &Path) -> DriverState {
    let Some(root) = tracking_repository(file) else {
        return DriverState::NotARepository;
    };
    match relative(&root, file) {
        Some(rel) if has_attribute(&root, &rel) && has_config(&root) => DriverState::Configured,
        _ => DriverState::NotConfigured,
    }
}

/// Sets up the driver for the Migrator's file `file`: the `.gitattributes` line at the
/// repository's root (appended, the rest of the file kept) and the clone's configuration.
/// Idempotent. `None` when `file` is not in a git repository, or git ignores it.
pub fn install(file: &Path) -> Result<Option<Install>> {
    let Some(root) = tracking_repository(file) else {
        return Ok(None);
    };
    let rel = relative(&root, file).ok_or_else(|| {
        Error::Other(format!(
            "`{}` is not inside the git repository at `{}`",
            file.display(),
            root.display()
        ))
    })?;
    let attributes = root.join(".gitattributes");
    let line = attributes_line(&rel);
    let text = match std::fs::read_to_string(&attributes) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
        Err(e) => return Err(Error::io(format!("could not read `{}`", attributes.display()), e)),
    };
    let wrote_attributes = !has_line(&text, &rel) && !has_attribute(&root, &rel);
    if wrote_attributes {
        let eol = if text.contains("\r\n") { "\r\n" } else { "\n" };
        let sep = if text.is_empty() || text.ends_with('\n') {
            ""
        } else {
            eol
        };
        crate::tasks::new_migration::write_atomic(&attributes, &format!("{text}{sep}{line}{eol}"))?;
    }
    let wrote_config = !has_config(&root);
    if wrote_config {
        set_config(&root, &format!("merge.{DRIVER}.name"), DRIVER_NAME)?;
        set_config(&root, &format!("merge.{DRIVER}.driver"), DRIVER_COMMAND)?;
    }
    Ok(Some(Install {
        repository: root,
        attributes,
        line,
        wrote_attributes,
        wrote_config,
    }))
}

fn set_config(root: &Path, key: &str, value: &str) -> Result<()> {
    let out = Command::new("git")
        .arg("-C")
        .arg(root)
        .args(["config", key, value])
        .output()
        .context(|| "could not run `git config`".to_string())?;
    if !out.status.success() {
        return Err(Error::Other(format!(
            "`git config {key}` failed in `{}`: {}",
            root.display(),
            String::from_utf8_lossy(&out.stderr).trim()
        )));
    }
    Ok(())
}

/// How the merge driver ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Merged {
    /// Registrations merged by [`super::merge3`].
    Registrations,
    /// git's merge had conflicts only in registrations, which were resolved.
    ResolvedConflicts,
    /// git's merge succeeded on its own.
    Clean,
    /// Left as git's conflict (markers in OURS).
    Conflict,
}

/// The merge driver: merges `base`, `ours` and `theirs` (git's `%O %A %B`) into `ours`.
/// When the registrations cannot be merged, git's own merge runs; if its conflicts are
/// all registrations they are resolved, otherwise its markers are left in `ours`.
pub fn merge_driver(base: &Path, ours: &Path, theirs: &Path) -> Result<Merged> {
    let read = |p: &Path| std::fs::read(p).context(|| format!("could not read `{}`", p.display()));
    let (b, o, t) = (read(base)?, read(ours)?, read(theirs)?);
    if let (Ok(b), Ok(o), Ok(t)) = (
        std::str::from_utf8(&b),
        std::str::from_utf8(&o),
        std::str::from_utf8(&t),
    ) && let Some(merged) = super::merge3(b, o, t)
    {
        std::fs::write(ours, merged).context(|| format!("could not write `{}`", ours.display()))?;
        return Ok(Merged::Registrations);
    }
    // git's merge with the base in each hunk, in a scratch copy: resolvable if its only
    // conflicts are registrations.
    let mut name = ours.as_os_str().to_os_string();
    name.push(".dbm-scratch");
    let scratch = PathBuf::from(name);
    let attempt = resolve_in_scratch(&scratch, &o, base, theirs);
    let _ = std::fs::remove_file(&scratch);
    if let Some((merged, outcome)) = attempt? {
        std::fs::write(ours, merged).context(|| format!("could not write `{}`", ours.display()))?;
        return Ok(outcome);
    }
    merge_file(ours, base, theirs, false)?;
    Ok(Merged::Conflict)
}

/// git's merge (with the base in each hunk) of `ours` (its content) in a scratch file:
/// the result if it has no conflicts, or only conflicts in registrations (resolved).
fn resolve_in_scratch(scratch: &Path, ours: &[u8], base: &Path, theirs: &Path) -> Result<Option<(Vec<u8>, Merged)>> {
    std::fs::write(scratch, ours).context(|| format!("could not write `{}`", scratch.display()))?;
    let conflicts = merge_file(scratch, base, theirs, true)?;
    let merged = std::fs::read(scratch).context(|| format!("could not read `{}`", scratch.display()))?;
    if conflicts == 0 {
        return Ok(Some((merged, Merged::Clean)));
    }
    let Ok(text) = String::from_utf8(merged) else {
        return Ok(None);
    };
    let res = super::markers::resolve(&text);
    let done = res.unresolved.is_empty() && !super::has_conflict_markers(&res.text);
    Ok(done.then(|| (res.text.into_bytes(), Merged::ResolvedConflicts)))
}

/// `git merge-file -L ours -L base -L theirs [--diff3] OURS BASE THEIRS`: the number of
/// conflicts it left in `ours`.
fn merge_file(ours: &Path, base: &Path, theirs: &Path, diff3: bool) -> Result<i32> {
    let mut cmd = Command::new("git");
    cmd.args(["merge-file", "-L", "ours", "-L", "base", "-L", "theirs"]);
    if diff3 {
        cmd.arg("--diff3");
    }
    let status = cmd
        .arg(ours)
        .arg(base)
        .arg(theirs)
        .status()
        .context(|| "could not run `git merge-file`".to_string())?;
    match status.code() {
        Some(n) if (0..128).contains(&n) => Ok(n),
        _ => Err(Error::Other(format!(
            "`git merge-file` failed on `{}` ({status})",
            ours.display()
        ))),
    }
}
