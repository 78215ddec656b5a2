//! Workspace discovery through `cargo metadata`: the root, the target directory, the
//! `[workspace.metadata.dbm]` table, the migration crate and the entity crates.
//!
//! Only `cargo metadata --no-deps` is run here: it answers in milliseconds, so commands
//! that need no compilation (`status`, an up-to-date `up`) stay fast.

use crate::cache;
use crate::config::DbmConfig;
use crate::error::{Error, IoContext, Result};
use cargo_metadata::{Metadata, MetadataCommand, Package};
use std::path::{Path, PathBuf};
use std::time::SystemTime;

/// What `cargo dbm` knows of the workspace it runs in.
#[derive(Debug, Clone)]
pub struct Workspace {
    pub root: PathBuf,
    /// The root `Cargo.toml`.
    pub manifest: PathBuf,
    pub target_dir: PathBuf,
    /// A name for the embedded default database (root package or folder name).
    pub name: String,
    pub config: DbmConfig,
    pub migration: Option<MigrationCrate>,
    pub entities: Vec<EntityCrate>,
    /// Version requirement of sea-orm found in the workspace, if any (for `init`).
    pub sea_orm_req: Option<String>,
    /// The files `cargo metadata` read (manifests, cargo configuration): while they are
    /// unchanged, so is what cargo says about the workspace.
    pub inputs: Vec<PathBuf>,
}

/// The crate holding the Migrator.
#[derive(Debug, Clone, serde::Serialize)]
pub struct MigrationCrate {
    pub name: String,
    pub manifest: PathBuf,
    pub dir: PathBuf,
    /// `src/lib.rs` (or the lib target's path).
    pub lib: PathBuf,
    /// The features requested on its sea-orm-migration dependency.
    pub features: Vec<String>,
    /// Whether that dependency keeps default features.
    pub default_features: bool,
}

/// A package whose sources derive `DeriveEntityModel`.
#[derive(Debug, Clone, serde::Serialize)]
pub struct EntityCrate {
    pub name: String,
    pub dir: PathBuf,
    pub entities: Vec<Entity>,
}

/// One entity module.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Entity {
    /// Rust module path inside the crate, e.g. `entities::user`.
    pub module: String,
    pub table: Option<String>,
    pub file: PathBuf,
}

impl Workspace {
    /// Loads the workspace around the current directory, or around `manifest_path`.
    pub fn load(manifest_path: Option<&Path>) -> Result<Self> {
        let (meta, inputs) = discover(manifest_path)?;
        Self::from_metadata(&meta, inputs)
    }

    fn from_metadata(meta: &Metadata, inputs: Vec<PathBuf>) -> Result<Self> {
        let root: PathBuf = meta.workspace_root.clone().into();
        let manifest = root.join("Cargo.toml");
        let config = DbmConfig::from_metadata(&meta.workspace_metadata)?;
        let members: Vec<&Package> = meta.workspace_packages();

        let name = members
            .iter()
            .find(|p| Path::new(p.manifest_path.as_std_path()) == manifest)
            .map(|p| p.name.to_string())
            .or_else(|| root.file_name().map(|s| s.to_string_lossy().into_owned()))
            .unwrap_or_else(|| "app".into());

        let migration = match &config.migration_crate {
            Some(wanted) => {
                let pkg = members
                    .iter()
                    .find(|p| p.name.as_str() == wanted)
                    .ok_or_else(|| Error::UnknownMigrationCrate { name: wanted.clone() })?;
                Some(migration_crate(pkg)?)
            }
            None => {
                let found: Vec<&&Package> = members
                    .iter()
                    .filter(|p| p.dependencies.iter().any(|d| d.name == "sea-orm-migration"))
                    .collect();
                match found.as_slice() {
                    [] => None,
                    [one] => Some(migration_crate(one)?),
                    many => {
                        return Err(Error::Config(format!(
                            "several crates depend on sea-orm-migration ({}); name the one holding the Migrator with `migration-crate = \"...\"` under [workspace.metadata.dbm]",
                            many.iter().map(|p| p.name.to_string()).collect::<Vec<_>>().join(", ")
                        )));
                    }
                }
            }
        };

        let sea_orm_req = members
            .iter()
            .flat_map(|p| p.dependencies.iter())
            .find(|d| d.name == "sea-orm")
            .map(|d| d.req.to_string());

        let entities = members
            .iter()
            .filter(|p| {
                p.dependencies
                    .iter()
                    .any(|d| d.name == "sea-orm" || d.name == "sea-orm-migration")
            })
            .filter(|p| migration.as_ref().is_none_or(|m| m.name != p.name.as_str()))
            .filter_map(|p| {
                let dir = p.manifest_path.parent()?.as_std_path().to_path_buf();
                let entities = scan_entities(&dir.join("src"));
                (!entities.is_empty()).then(|| EntityCrate {
                    name: p.name.to_string(),
                    dir,
                    entities,
                })
            })
            .collect();

        Ok(Workspace {
            root,
            manifest,
            target_dir: meta.target_directory.clone().into(),
            name,
            config,
            migration,
            entities,
            sea_orm_req,
            inputs,
        })
    }

    /// The migration crate, or the error that tells the user to run `init`.
    pub fn migration(&self) -> Result<&MigrationCrate> {
        self.migration.as_ref().ok_or_else(|| Error::NoMigrationCrate {
            root: self.root.clone(),
        })
    }

    /// A short path for messages: relative to the workspace root when inside it.
    pub fn rel(&self, p: &Path) -> String {
        p.strip_prefix(&self.root).unwrap_or(p).display().to_string()
    }
}

/// What `cargo metadata --no-deps` says (honouring `CARGO` and `--manifest-path`).
pub fn metadata(manifest_path: Option<&Path>) -> Result<Metadata> {
    discover(manifest_path).map(|(meta, _)| meta)
}

/// `cargo metadata --no-deps` and the files its answer came from, from the cache when none
/// of them has changed since: asking cargo costs 20-40 ms, more than everything else
/// `status` does.
fn discover(manifest_path: Option<&Path>) -> Result<(Metadata, Vec<PathBuf>)> {
    if let Some(p) = manifest_path
        && !p.exists()
    {
        return Err(Error::NotInWorkspace {
            reason: format!("`{}` does not exist", p.display()),
        });
    }
    let cwd = std::env::current_dir().unwrap_or_default();
    let env = |k: &str| std::env::var(k).unwrap_or_default();
    let key = [
        cwd.to_string_lossy().into_owned(),
        manifest_path
            .map(|p| cwd.join(p).to_string_lossy().into_owned())
            .unwrap_or_default(),
        env("CARGO"),
        env("CARGO_HOME"),
        env("CARGO_TARGET_DIR"),
        env("CARGO_BUILD_TARGET_DIR"),
    ];
    let key: Vec<&str> = key.iter().map(String::as_str).collect();
    if let Some(found) = cache::get::<(Metadata, Vec<PathBuf>)>("workspace", &key) {
        return Ok(found);
    }
    let started = SystemTime::now();
    let meta = run_cargo_metadata(manifest_path)?;
    let inputs = metadata_inputs(&meta, &cwd, manifest_path);
    let stamps = inputs.iter().map(|f| cache::Stamp::of(f)).collect();
    let found = (meta, inputs);
    cache::put("workspace", &key, stamps, started, &found);
    Ok(found)
}

/// The files whose change can change `cargo metadata --no-deps`: the manifests, each
/// member's `src` folder (where targets are discovered), the folders that glob members are
/// found in, every `Cargo.toml` and cargo configuration file from the current directory up.
fn metadata_inputs(meta: &Metadata, cwd: &Path, manifest_path: Option<&Path>) -> Vec<PathBuf> {
    let root = meta.workspace_root.as_std_path();
    let mut files: Vec<PathBuf> = vec![root.join("Cargo.toml")];
    for p in meta.workspace_packages() {
        let manifest = p.manifest_path.as_std_path();
        files.push(manifest.to_path_buf());
        // Targets are discovered from the files in `src` (a new `lib.rs` makes a library).
        if let Some(dir) = manifest.parent() {
            files.push(dir.join("src"));
        }
        if let Some(parent) = manifest.parent().and_then(Path::parent)
            && parent.starts_with(root)
            && parent != root
        {
            files.push(parent.to_path_buf());
        }
    }
    if let Some(p) = manifest_path {
        files.push(cwd.join(p));
    }
    for dir in cwd.ancestors().chain(root.ancestors()) {
        files.push(dir.join("Cargo.toml"));
        files.push(dir.join(".cargo/config.toml"));
        files.push(dir.join(".cargo/config"));
    }
    let cargo_home = std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cargo")));
    if let Some(home) = cargo_home {
        files.push(home.join("config.toml"));
        files.push(home.join("config"));
    }
    files.sort();
    files.dedup();
    files
}

fn run_cargo_metadata(manifest_path: Option<&Path>) -> Result<Metadata> {
    let mut cmd = MetadataCommand::new();
    cmd.no_deps();
    if let Some(p) = manifest_path {
        cmd.manifest_path(p);
    }
    cmd.exec().map_err(|e| match e {
        cargo_metadata::Error::CargoMetadata { stderr } => {
            // Keep cargo's whole explanation (its "Caused by:" lines say what is wrong).
            let text: Vec<&str> = stderr.lines().map(str::trim).filter(|l| !l.is_empty()).collect();
            let reason = text.join(" ").trim_start_matches("error: ").to_string();
            if stderr.contains("could not find `Cargo.toml`") {
                Error::NotInWorkspace { reason }
            } else {
                Error::Config(format!("cargo could not read the workspace: {reason}"))
            }
        }
        other => Error::NotInWorkspace {
            reason: other.to_string(),
        },
    })
}

fn migration_crate(pkg: &Package) -> Result<MigrationCrate> {
    let manifest: PathBuf = pkg.manifest_path.clone().into();
    let dir = manifest.parent().unwrap_or(Path::new(".")).to_path_buf();
    let lib = pkg
        .targets
        .iter()
        .find(|t| {
            t.kind
                .iter()
                .any(|k| matches!(k, cargo_metadata::TargetKind::Lib | cargo_metadata::TargetKind::RLib))
        })
        .map(|t| t.src_path.clone().into())
        .ok_or_else(|| Error::MigratorSource {
            path: manifest.clone(),
            reason: format!("the crate `{}` has no library target", pkg.name),
        })?;
    let dep = pkg.dependencies.iter().find(|d| d.name == "sea-orm-migration");
    Ok(MigrationCrate {
        name: pkg.name.to_string(),
        manifest,
        dir,
        lib,
        features: dep.map(|d| d.features.clone()).unwrap_or_default(),
        default_features: dep.is_none_or(|d| d.uses_default_features),
    })
}

/// Finds the modules deriving `DeriveEntityModel` under `src`.
fn scan_entities(src: &Path) -> Vec<Entity> {
    let mut out = Vec::new();
    let mut stack = vec![src.to_path_buf()];
    while let Some(dir) = stack.pop() {
        let Ok(rd) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in rd.flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                let Ok(text) = std::fs::read_to_string(&path) else {
                    continue;
                };
                if !text.contains("DeriveEntityModel") {
                    continue;
                }
                let rel = path.strip_prefix(src).unwrap_or(&path).with_extension("");
                let mut parts: Vec<String> = rel.iter().map(|s| s.to_string_lossy().into_owned()).collect();
                if parts.last().is_some_and(|l| l == "mod" || l == "lib" || l == "main") {
                    parts.pop();
                }
                out.push(Entity {
                    module: parts.join("::"),
                    table: table_name(&text),
                    file: path,
                });
            }
        }
    }
    out.sort_by(|a, b| a.module.cmp(&b.module));
    out
}

fn table_name(text: &str) -> Option<String> {
    let i = text.find("table_name")?;
    let rest = &text[i..];
    let start = rest.find('"')? + 1;
    let end = rest[start..].find('"')? + start;
    Some(rest[start..end].to_string())
}

/// Creates `dir` and its parents, with context.
pub fn create_dir_all(dir: &Path) -> Result<()> {
    std::fs::create_dir_all(dir).context(|| format!("could not create `{}`", dir.display()))
}
