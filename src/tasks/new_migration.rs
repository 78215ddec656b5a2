//! Writing a new migration file next to the Migrator's module and registering it in the
//! Migrator: for `create`, `create --autogenerate` and `init`.

use crate::error::{Error, IoContext, Result};
use crate::migrator_source::MigratorSource;
use crate::naming;
use crate::templates;
use crate::workspace::Workspace;
use std::io::Write;
use std::path::{Path, PathBuf};

/// The migration written.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Created {
    pub version: String,
    pub file: PathBuf,
    /// The template used (`None` = the built-in one).
    pub template: Option<PathBuf>,
}

/// Where a project overrides the migration template, first match wins:
/// `template` in `[workspace.metadata.dbm]`, then `<migration crate>/templates/migration.rs.j2`.
pub fn local_template(ws: &Workspace) -> Option<PathBuf> {
    if let Some(t) = &ws.config.template {
        return Some(ws.root.join(t));
    }
    let mig = ws.migration.as_ref()?;
    let p = mig.dir.join("templates").join("migration.rs.j2");
    p.exists().then_some(p)
}

/// Names a new migration, renders it with `render` (given `description`, `version`, `slug`,
/// `created`), checks that it is Rust, writes it and registers it in the Migrator.
pub fn write_new(
    ws: &Workspace,
    description: &str,
    template: Option<PathBuf>,
    render: impl FnOnce(minijinja::Value) -> Result<String>,
) -> Result<Created> {
    let slug = naming::slugify(description)?;
    let mig = ws.migration()?;
    let src = MigratorSource::load(&mig.lib)?;
    let version = naming::new_version(&slug, src.migrations.iter().map(|m| m.name.as_str()));
    let vars = minijinja::context! {
        description => description.trim(),
        version => &version,
        slug => &slug,
        created => chrono::Utc::now().format("%Y-%m-%d %H:%M:%S").to_string(),
    };
    let text = render(vars)?;
    if let Err(e) = syn::parse_file(&text) {
        return Err(Error::Config(format!(
            "the migration template `{}` does not render to valid Rust (line {}: {e})",
            template
                .as_deref()
                .unwrap_or(Path::new(templates::MIGRATION.name))
                .display(),
            e.span().start().line
        )));
    }

    // Next to the Migrator's module: `src/` of a migration crate, `src/migrator/` of an
    // application whose library holds the Migrator (created for a first migration of
    // `src/migrator.rs`).
    let dir = &mig.module_dir;
    let file = dir.join(format!("{version}.rs"));
    let new_lib = src.with_migration(&version)?;
    let made_dir = !dir.is_dir();
    if made_dir {
        crate::workspace::create_dir_all(dir)?;
    }

    // The file first (refusing to overwrite), then the Migrator's file atomically; undo the
    // file if that fails.
    let undo_dir = || {
        if made_dir {
            let _ = std::fs::remove_dir(dir);
        }
    };
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&file)
        .context(|| format!("could not create `{}`", file.display()))
        .inspect_err(|_| undo_dir())?;
    let written = f
        .write_all(text.as_bytes())
        .context(|| format!("could not write `{}`", file.display()));
    drop(f);
    if let Err(e) = written.and_then(|()| write_atomic(&mig.lib, &new_lib)) {
        let _ = std::fs::remove_file(&file);
        undo_dir();
        return Err(e);
    }
    Ok(Created {
        version,
        file,
        template,
    })
}

/// Writes through a temporary file in the same folder and renames it into place.
pub fn write_atomic(path: &Path, content: &str) -> Result<()> {
    let tmp = path.with_extension("dbm-tmp");
    std::fs::write(&tmp, content).context(|| format!("could not write `{}`", tmp.display()))?;
    std::fs::rename(&tmp, path).map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        Error::io(format!("could not replace `{}`", path.display()), e)
    })
}
