//! Workspace discovery through `cargo metadata`: the root, the target directory, the
//! `[workspace.metadata.dbm]` table, the Migrator and the entity crates.
//!
//! Only `cargo metadata --no-deps` is run here: it answers in milliseconds, so commands
//! that need no compilation (`status`, an up-to-date `up`) stay fast.
//!
//! The Migrator is found without configuration: among the workspace's libraries that
//! depend on sea-orm-migration, the one type implementing `MigratorTrait` that another
//! crate can name (a public path, directly or through a `pub use`). It may be the root of
//! a migration crate (`migration::Migrator`) or a module of an application's library
//! (`app::migrator::Migrator`). `migration-crate` narrows the search to one package,
//! `migrator = "app::migrator::Migrator"` names the type when there are several.

use crate::cache;
use crate::config::DbmConfig;
use crate::error::{Error, IoContext, Result};
use crate::migrator_source::{Discovery, FoundMigrator, find_migrators};
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

/// The crate holding the Migrator, and where the Migrator is in it.
#[derive(Debug, Clone, serde::Serialize)]
pub struct MigrationCrate {
    /// The package name.
    pub name: String,
    pub manifest: PathBuf,
    pub dir: PathBuf,
    /// The file holding `impl MigratorTrait` and its `migrations()` list: the library's
    /// root (`src/lib.rs`) for a migration crate, the module's file (`src/migrator/mod.rs`,
    /// `src/migrator.rs`) for a Migrator inside an application's library.
    pub lib: PathBuf,
    /// The library's root file (`src/lib.rs`, or the lib target's path).
    pub crate_root: PathBuf,
    /// The library's name in Rust (`app`, `db_migrations`).
    pub lib_name: String,
    /// The Migrator as another crate names it, relative to the crate: `Migrator`,
    /// `migrator::Migrator`.
    pub migrator: String,
    /// The module of [`Self::lib`] relative to the crate (`""` for the root, `migrator`) when
    /// another crate can name it: the Migrator's `seeds` module is looked for there.
    pub module: Option<String>,
    /// The folder of that module's submodules: its migrations, and where `create` writes.
    pub module_dir: PathBuf,
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

        let migration = find_migrator(&members, &config, &root)?;

        let sea_orm_req = members
            .iter()
            .flat_map(|p| p.dependencies.iter())
            .find(|d| d.name == "sea-orm")
            .map(|d| d.req.to_string());

        // The Migrator's own folder is not scanned (a migration may define an entity of its
        // own): the whole `src/` of a migration crate, only `src/migrator/` of an application.
        let skip: Vec<PathBuf> = migration
            .iter()
            .flat_map(|m| [m.module_dir.clone(), m.lib.clone()])
            .collect();
        let entities = members
            .iter()
            .filter(|p| {
                p.dependencies
                    .iter()
                    .any(|d| d.name == "sea-orm" || d.name == "sea-orm-migration")
            })
            .filter_map(|p| {
                let dir = p.manifest_path.parent()?.as_std_path().to_path_buf();
                let entities = scan_entities(&dir.join("src"), &skip);
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

/// The library target of a package: its root file and its name in Rust.
fn lib_target(pkg: &Package) -> Option<(PathBuf, String)> {
    pkg.targets
        .iter()
        .find(|t| {
            t.kind
                .iter()
                .any(|k| matches!(k, cargo_metadata::TargetKind::Lib | cargo_metadata::TargetKind::RLib))
        })
        .map(|t| (t.src_path.clone().into(), t.name.replace('-', "_")))
}

/// The Migrator of the workspace (see the module's documentation), `None` when no library
/// depends on sea-orm-migration (`init` then creates a migration crate).
fn find_migrator(members: &[&Package], config: &DbmConfig, ws_root: &Path) -> Result<Option<MigrationCrate>> {
    let rel = |p: &Path| p.strip_prefix(ws_root).unwrap_or(p).display().to_string();
    // `migrator = "app::migrator::Migrator"`: the package, then the path inside it.
    let wanted = match &config.migrator {
        Some(path) => {
            let parts: Vec<&str> = path.trim().split("::").map(str::trim).collect();
            if parts.len() < 2 || parts.iter().any(|p| p.is_empty()) {
                return Err(Error::Config(format!(
                    "[workspace.metadata.dbm] migrator = {path:?}: expected the path of the Migrator type, starting with its crate, e.g. \"app::migrator::Migrator\""
                )));
            }
            Some((parts[0].to_string(), parts[1..].join("::")))
        }
        None => None,
    };
    let named = |p: &Package, name: &str| {
        p.name.as_str() == name || p.name.replace('-', "_") == name || lib_target(p).is_some_and(|(_, lib)| lib == name)
    };
    let candidates: Vec<&Package> = match (&config.migration_crate, &wanted) {
        (Some(name), _) => {
            let pkg = members
                .iter()
                .find(|p| p.name.as_str() == name)
                .ok_or_else(|| Error::UnknownMigrationCrate { name: name.clone() })?;
            if let Some((krate, _)) = &wanted
                && !named(pkg, krate)
            {
                return Err(Error::Config(format!(
                    "[workspace.metadata.dbm] names the migration crate `{name}` and a Migrator in `{krate}`: remove `migration-crate`, or make them agree"
                )));
            }
            vec![*pkg]
        }
        (None, Some((krate, _))) => {
            let pkg = members.iter().find(|p| named(p, krate)).ok_or_else(|| {
                Error::Config(format!(
                    "[workspace.metadata.dbm] migrator = {:?}: no workspace member is named `{krate}`",
                    config.migrator.as_deref().unwrap_or_default()
                ))
            })?;
            vec![*pkg]
        }
        (None, None) => members
            .iter()
            .filter(|p| p.dependencies.iter().any(|d| d.name == "sea-orm-migration"))
            .copied()
            .collect(),
    };
    if candidates.is_empty() {
        return Ok(None);
    }

    let mut found: Vec<(&Package, PathBuf, String, FoundMigrator)> = Vec::new();
    let mut unfollowed = Vec::new();
    let mut conflicted = Vec::new();
    let mut searched = Vec::new();
    for pkg in &candidates {
        let Some((root, lib_name)) = lib_target(pkg) else {
            if config.migration_crate.is_some() || wanted.is_some() {
                return Err(Error::MigratorSource {
                    path: pkg.manifest_path.clone().into(),
                    reason: format!("the crate `{}` has no library target", pkg.name),
                });
            }
            continue;
        };
        let d = discover_migrators(&root);
        searched.push(format!("`{}` ({})", pkg.name, rel(&root)));
        unfollowed.extend(d.unfollowed);
        conflicted.extend(d.conflicted);
        found.extend(d.found.into_iter().map(|f| (*pkg, root.clone(), lib_name.clone(), f)));
    }

    if let Some(file) = conflicted_migrator(&conflicted, found.is_empty()) {
        return Err(Error::ConflictMarkers { file });
    }

    let list = |items: &mut dyn Iterator<Item = &(&Package, PathBuf, String, FoundMigrator)>| {
        items
            .map(|(_, _, lib, f)| format!("`{}` ({})", f.full_path(lib), rel(&f.file)))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let chosen = match &wanted {
        Some((_, inner)) => {
            let hit = found.iter().find(|(_, _, _, f)| f.is_named(inner));
            match hit {
                Some(hit) => hit,
                None => {
                    let seen = list(&mut found.iter());
                    return Err(Error::Config(format!(
                        "[workspace.metadata.dbm] migrator = {:?} names no type implementing `MigratorTrait`{}",
                        config.migrator.as_deref().unwrap_or_default(),
                        if seen.is_empty() {
                            " (none found)".to_string()
                        } else {
                            format!("; found: {seen}")
                        }
                    )));
                }
            }
        }
        None => {
            let public: Vec<_> = found.iter().filter(|(_, _, _, f)| f.public.is_some()).collect();
            match public.as_slice() {
                [one] => *one,
                [] => {
                    if let Some(p) = unfollowed.first() {
                        return Err(Error::Config(format!(
                            "`{}` line {}: `{}` leads to a Migrator, but cargo dbm follows only the standard module layout, not `#[path]`: move the file to {} (or name the Migrator with `migrator = \"crate::path::Migrator\"` under [workspace.metadata.dbm] once it is there)",
                            rel(&p.file),
                            p.line,
                            p.item,
                            p.fix.replace(&format!("{}/", ws_root.display()), "")
                        )));
                    }
                    if let Some(hit) = found.first() {
                        return Err(private_error(hit.2.as_str(), &hit.3, &rel));
                    }
                    return Err(Error::Config(format!(
                        "no `impl MigratorTrait for …` found in the library of {} (depends on sea-orm-migration): cargo dbm follows the `mod` declarations from the library's root; add the Migrator there, or name it with `migrator = \"crate::path::Migrator\"` under [workspace.metadata.dbm]",
                        searched.join(", ")
                    )));
                }
                many => {
                    return Err(Error::Config(format!(
                        "several Migrators in the workspace: {}; name the one cargo dbm manages with `migrator = \"{}\"` (its crate, then its path) under [workspace.metadata.dbm]",
                        list(&mut many.iter().copied()),
                        many[0].3.full_path(&many[0].2)
                    )));
                }
            }
        }
    };
    let (pkg, root, lib_name, f) = chosen;
    let Some(public) = f.public.clone() else {
        return Err(private_error(lib_name, f, &rel));
    };
    let manifest: PathBuf = pkg.manifest_path.clone().into();
    let dir = manifest.parent().unwrap_or(Path::new(".")).to_path_buf();
    let dep = pkg.dependencies.iter().find(|d| d.name == "sea-orm-migration");
    Ok(Some(MigrationCrate {
        name: pkg.name.to_string(),
        manifest,
        dir,
        lib: f.file.clone(),
        crate_root: root.clone(),
        lib_name: lib_name.clone(),
        migrator: public,
        module: f.module_public.then(|| f.module.join("::")),
        module_dir: f.dir.clone(),
        features: dep.map(|d| d.features.clone()).unwrap_or_default(),
        default_features: dep.is_none_or(|d| d.uses_default_features),
    }))
}

/// Of the files discovery could not read because of conflict markers, the one to name: one
/// mentioning `MigratorTrait` (the Migrator's file), or, when no Migrator was found, the
/// first (it may hold the `mod` leading to it).
fn conflicted_migrator(conflicted: &[PathBuf], none_found: bool) -> Option<PathBuf> {
    let migrator = conflicted
        .iter()
        .find(|f| std::fs::read_to_string(f).is_ok_and(|t| t.contains("MigratorTrait")));
    migrator.or_else(|| conflicted.first().filter(|_| none_found)).cloned()
}

/// The Migrator `f` has no public path: which item to make `pub`.
fn private_error(lib_name: &str, f: &FoundMigrator, rel: &dyn Fn(&Path) -> String) -> Error {
    let path = format!("{lib_name}::{}", f.path.join("::"));
    match &f.private {
        Some(p) => Error::Config(format!(
            "the Migrator `{path}` cannot be named from outside its crate: `{}` ({}{}) is private; make it `{}`{}",
            p.item,
            rel(&p.file),
            if p.line > 0 {
                format!(" line {}", p.line)
            } else {
                String::new()
            },
            p.fix,
            if f.module.is_empty() {
                String::new()
            } else {
                format!(
                    " (or re-export it from the library's root: `pub use {}::{};`)",
                    f.path[..f.path.len() - 1].join("::"),
                    f.path[f.path.len() - 1]
                )
            }
        )),
        None => Error::Config(format!(
            "the Migrator `{path}` cannot be named from outside its crate; make the modules on its path `pub`"
        )),
    }
}

/// [`find_migrators`] for the library whose root is `root`, from the cache while none of the
/// files it read (or looked for) has changed.
fn discover_migrators(root: &Path) -> Discovery {
    let key = root.to_string_lossy();
    if let Some(found) = cache::get::<Discovery>("migrators", &[key.as_ref()]) {
        return found;
    }
    let started = SystemTime::now();
    let found = find_migrators(root);
    let stamps = found.inputs.iter().map(|f| cache::Stamp::of(f)).collect();
    cache::put("migrators", &[key.as_ref()], stamps, started, &found);
    found
}

/// Finds the modules deriving `DeriveEntityModel` under `src`, except in the folders and
/// files of `skip`.
fn scan_entities(src: &Path, skip: &[PathBuf]) -> Vec<Entity> {
    let mut out = Vec::new();
    if skip.iter().any(|s| s == src) {
        return out;
    }
    let mut stack = vec![src.to_path_buf()];
    while let Some(dir) = stack.pop() {
        let Ok(rd) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in rd.flatten() {
            let path = entry.path();
            if skip.contains(&path) {
                continue;
            }
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

#[cfg(test)]
mod tests {
    use super::*;

    const MIGRATOR: &str = "use sea_orm_migration::prelude::*;\n\nmod m1_a;\n\npub struct Migrator;\n\nimpl MigratorTrait for Migrator {\n    fn migrations() -> Vec<Box<dyn MigrationTrait>> {\n        vec![Box::new(m1_a::Migration)]\n    }\n}\n";
    const ENTITY: &str = "use sea_orm::entity::prelude::*;\n#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]\n#[sea_orm(table_name = \"user\")]\npub struct Model {\n    #[sea_orm(primary_key)]\n    pub id: i32,\n}\n";

    /// A workspace with an `app` library whose `lib.rs` is `app_lib`, plus `files`, and
    /// `dbm` as `[workspace.metadata.dbm]`; loaded as `cargo dbm` would.
    fn load(app_lib: &str, files: &[(&str, &str)], dbm: &str) -> (tempfile::TempDir, Result<Workspace>) {
        let dir = tempfile::tempdir().unwrap();
        let dep = "[dependencies]\nsea-orm = \"2\"\nsea-orm-migration = \"2\"\n";
        let mut all = vec![
            (
                "Cargo.toml".to_string(),
                format!(
                    "[workspace]\nresolver = \"2\"\nmembers = [\"app\", \"other\"]\n\n[workspace.metadata.dbm]\n{dbm}\n"
                ),
            ),
            (
                "app/Cargo.toml".into(),
                format!("[package]\nname = \"app\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n{dep}"),
            ),
            ("app/src/lib.rs".into(), app_lib.to_string()),
            (
                "other/Cargo.toml".into(),
                "[package]\nname = \"other\"\nversion = \"0.1.0\"\nedition = \"2021\"\n".into(),
            ),
            ("other/src/lib.rs".into(), String::new()),
        ];
        all.extend(files.iter().map(|(p, t)| (p.to_string(), t.to_string())));
        for (rel, text) in &all {
            let p = dir.path().join(rel);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(p, text).unwrap();
        }
        let meta = run_cargo_metadata(Some(&dir.path().join("Cargo.toml"))).unwrap();
        let ws = Workspace::from_metadata(&meta, Vec::new());
        (dir, ws)
    }

    #[test]
    fn a_migrator_inside_an_application_and_its_entities_are_found() {
        let (dir, ws) = load(
            "pub mod entities;\npub mod migrator;\npub use migrator::Migrator;\n",
            &[
                ("app/src/entities/mod.rs", "pub mod user;\n"),
                ("app/src/entities/user.rs", ENTITY),
                ("app/src/migrator/mod.rs", MIGRATOR),
                // A migration may define an entity of its own: not one of the application's.
                ("app/src/migrator/m1_a.rs", ENTITY),
            ],
            "",
        );
        let ws = ws.unwrap();
        let m = ws.migration().unwrap();
        let src = dir.path().join("app/src");
        assert_eq!((m.name.as_str(), m.lib_name.as_str()), ("app", "app"));
        assert_eq!(m.migrator, "migrator::Migrator", "the module path, not the re-export");
        assert_eq!(m.module.as_deref(), Some("migrator"));
        assert_eq!(m.lib, src.join("migrator/mod.rs"));
        assert_eq!(m.crate_root, src.join("lib.rs"));
        assert_eq!(m.module_dir, src.join("migrator"));
        let [c] = ws.entities.as_slice() else {
            panic!("{:?}", ws.entities)
        };
        assert_eq!(c.name, "app");
        let modules: Vec<&str> = c.entities.iter().map(|e| e.module.as_str()).collect();
        assert_eq!(modules, ["entities::user"]);
    }

    #[test]
    fn a_migration_crate_is_found_and_its_files_are_not_entities() {
        let (_dir, ws) = load(MIGRATOR, &[("app/src/m1_a.rs", ENTITY)], "");
        let ws = ws.unwrap();
        let m = ws.migration().unwrap();
        assert_eq!((m.migrator.as_str(), m.module.as_deref()), ("Migrator", Some("")));
        assert_eq!(m.lib, m.crate_root);
        assert!(ws.entities.is_empty(), "{:?}", ws.entities);
    }

    #[test]
    fn a_private_module_says_which_mod_to_make_pub() {
        let (_dir, ws) = load("mod migrator;\n", &[("app/src/migrator.rs", MIGRATOR)], "");
        let e = ws.unwrap_err().to_string();
        assert!(e.contains("`app::migrator::Migrator`"), "{e}");
        assert!(
            e.contains("`mod migrator`") && e.contains("make it `pub mod migrator`"),
            "{e}"
        );
        assert!(e.contains("lib.rs line 1"), "{e}");
        assert!(e.contains("pub use migrator::Migrator;"), "{e}");
    }

    #[test]
    fn a_path_attribute_is_a_clear_error() {
        let (_dir, ws) = load(
            "#[path = \"db/schema.rs\"]\npub mod migrator;\n",
            &[("app/src/db/schema.rs", MIGRATOR)],
            "",
        );
        let e = ws.unwrap_err().to_string();
        assert!(
            e.contains("#[path = \"db/schema.rs\"] pub mod migrator;") && e.contains("not `#[path]`"),
            "{e}"
        );
    }

    #[test]
    fn several_migrators_ask_for_the_key_and_the_key_chooses() {
        let lib = "pub mod migrator;\npub mod legacy;\n";
        let files = [
            ("app/src/migrator/mod.rs", MIGRATOR),
            (
                "app/src/legacy.rs",
                &*MIGRATOR.replace("mod m1_a;", "mod m1_a;\npub mod more;"),
            ),
        ];
        let (_dir, ws) = load(lib, &files, "");
        let e = ws.unwrap_err().to_string();
        assert!(e.contains("several Migrators"), "{e}");
        assert!(
            e.contains("`app::migrator::Migrator`") && e.contains("`app::legacy::Migrator`"),
            "{e}"
        );
        assert!(e.contains("migrator = \""), "{e}");

        let (_dir, ws) = load(lib, &files, "migrator = \"app::legacy::Migrator\"");
        let m = ws.unwrap().migration.unwrap();
        assert_eq!(m.migrator, "legacy::Migrator");
        assert!(m.module_dir.ends_with("src/legacy"), "{}", m.module_dir.display());

        let (_dir, ws) = load(lib, &files, "migrator = \"app::nope::Migrator\"");
        let e = ws.unwrap_err().to_string();
        assert!(
            e.contains("names no type implementing") && e.contains("app::legacy::Migrator"),
            "{e}"
        );

        let (_dir, ws) = load(lib, &files, "migrator = \"Migrator\"");
        assert!(ws.unwrap_err().to_string().contains("starting with its crate"));
    }
}
