//! `init`: creates (or adopts) the migration crate, makes it a workspace member, writes
//! `[workspace.metadata.dbm]`, and creates the SQLite database. Running it again changes
//! nothing. A Migrator found in the workspace (a migration crate, or a module of an
//! application's library) is adopted only once its list of migrations is read; the
//! crate's own files are never changed.

use super::{Ctx, Options};
use crate::db::{Create, Db};
use crate::error::{Error, IoContext, Result};
use crate::templates;
use std::path::PathBuf;
use toml_edit::{Array, DocumentMut, Item, Table, value};

/// What `init` did; every field `None`/`false` means the workspace was already set up.
#[derive(Debug, Default, Clone, serde::Serialize)]
pub struct InitReport {
    /// The migration crate, and whether it was created now (false = adopted/already there).
    pub migration_crate: String,
    pub migration_dir: PathBuf,
    /// The Migrator's path (`migration::Migrator`, `app::migrator::Migrator`), the file
    /// holding it, and how many migrations its `migrations()` lists (read, not compiled).
    pub migrator: String,
    pub migrator_file: PathBuf,
    pub migrations: usize,
    /// Whether the Migrator is a module of its crate rather than the library's root.
    pub migrator_in_module: bool,
    pub created_crate: bool,
    pub added_member: bool,
    pub wrote_config: bool,
    pub created_database: Option<PathBuf>,
    /// The git merge driver for the Migrator's file (`None` outside a git repository).
    pub merge_driver: Option<crate::merge::git::Install>,
    /// Why the merge driver could not be set up, if it could not (init goes on without it).
    pub merge_driver_error: Option<String>,
}

impl InitReport {
    pub fn changed(&self) -> bool {
        self.created_crate
            || self.added_member
            || self.wrote_config
            || self.created_database.is_some()
            || self
                .merge_driver
                .as_ref()
                .is_some_and(|d| d.wrote_attributes || d.wrote_config)
    }
}

/// Runs `init`; `name` is the package (and folder) name for a new migration crate.
pub async fn init(ctx: &mut Ctx, opts: &Options, name: &str) -> Result<InitReport> {
    let mut report = InitReport::default();

    match ctx.ws.migration.clone() {
        Some(m) => {
            // Adopted only once its Migrator is read: an unreadable one is an error here,
            // before anything is written.
            describe(&mut report, &m)?;
        }
        None => {
            let dir = ctx.ws.root.join(name);
            if dir.join("Cargo.toml").exists() {
                return Err(Error::Config(format!(
                    "`{}` already holds a crate that does not depend on sea-orm-migration; choose another name with `cargo dbm init --name NAME`",
                    ctx.ws.rel(&dir)
                )));
            }
            write_crate(ctx, &dir, name)?;
            report.created_crate = true;
            report.migration_crate = name.to_string();
            report.migration_dir = dir;
        }
    }

    // Membership and configuration, edited in place so the user's formatting and comments stay.
    let manifest = ctx.ws.manifest.clone();
    let text = std::fs::read_to_string(&manifest).context(|| format!("could not read `{}`", manifest.display()))?;
    let mut doc: DocumentMut = text
        .parse()
        .map_err(|e| Error::Config(format!("could not parse `{}`: {e}", manifest.display())))?;

    let is_member = crate::workspace::metadata(opts.manifest_path.as_deref())
        .map(|m| {
            m.workspace_packages()
                .iter()
                .any(|p| p.name.as_str() == report.migration_crate)
        })
        .unwrap_or(false);
    if !is_member {
        let rel = report
            .migration_dir
            .strip_prefix(&ctx.ws.root)
            .unwrap_or(&report.migration_dir)
            .to_string_lossy()
            .replace('\\', "/");
        let ws_tbl = doc.entry("workspace").or_insert_with(|| Item::Table(Table::new()));
        let ws_tbl = ws_tbl
            .as_table_mut()
            .ok_or_else(|| Error::Config(format!("`workspace` in `{}` is not a table", manifest.display())))?;
        let members = ws_tbl.entry("members").or_insert_with(|| value(Array::new()));
        let arr = members.as_array_mut().ok_or_else(|| {
            Error::Config(format!(
                "`workspace.members` in `{}` is not an array",
                manifest.display()
            ))
        })?;
        arr.push(rel);
        report.added_member = true;
    }

    let has_config = doc
        .get("workspace")
        .and_then(|w| w.get("metadata"))
        .and_then(|m| m.get("dbm"))
        .and_then(|d| d.get("migration-crate"))
        .is_some();
    if !has_config {
        let ws_tbl = doc
            .entry("workspace")
            .or_insert_with(|| Item::Table(Table::new()))
            .as_table_mut()
            .ok_or_else(|| Error::Config(format!("`workspace` in `{}` is not a table", manifest.display())))?;
        let meta = ws_tbl.entry("metadata").or_insert_with(|| {
            let mut t = Table::new();
            t.set_implicit(true);
            Item::Table(t)
        });
        let meta = meta
            .as_table_mut()
            .ok_or_else(|| Error::Config("`workspace.metadata` is not a table".into()))?;
        let dbm = meta.entry("dbm").or_insert_with(|| Item::Table(Table::new()));
        let dbm = dbm
            .as_table_mut()
            .ok_or_else(|| Error::Config("`workspace.metadata.dbm` is not a table".into()))?;
        dbm.insert("migration-crate", value(report.migration_crate.clone()));
        dbm.decor_mut().set_prefix("\n# cargo dbm: see `cargo dbm --help`. The database URL comes from --database-url,\n# DATABASE_URL, .env, `database-url` here, or defaults to a SQLite file in data/.\n");
        report.wrote_config = true;
    }
    if report.added_member || report.wrote_config {
        crate::tasks::new_migration::write_atomic(&manifest, &doc.to_string())?;
        ctx.reload(opts)?;
        let m = ctx.ws.migration()?.clone();
        describe(&mut report, &m)?;
    }

    if let Some(path) = ctx.url.sqlite_path.clone()
        && !path.exists()
    {
        let db = Db::open(&ctx.url, Create::Yes).await?.expect("created");
        db.close().await;
        report.created_database = Some(path);
    }
    // Merging two branches that each created a migration then merges their registrations.
    if !report.migrator_file.as_os_str().is_empty() {
        match crate::merge::git::install(&report.migrator_file) {
            Ok(installed) => report.merge_driver = installed,
            Err(e) => report.merge_driver_error = Some(e.to_string()),
        }
    }
    Ok(report)
}

/// Fills the report with what the Migrator's source says.
fn describe(report: &mut InitReport, m: &crate::workspace::MigrationCrate) -> Result<()> {
    let src = crate::migrator_source::MigratorSource::load(&m.lib)?;
    report.migration_crate = m.name.clone();
    report.migration_dir = m.dir.clone();
    report.migrator = format!("{}::{}", m.lib_name, m.migrator);
    report.migrator_file = m.lib.clone();
    report.migrations = src.migrations.len();
    report.migrator_in_module = m.lib != m.crate_root;
    Ok(())
}

fn write_crate(ctx: &Ctx, dir: &std::path::Path, name: &str) -> Result<()> {
    let lib = name.replace('-', "_");
    // sea-orm and sea-orm-migration are released together: follow the workspace's sea-orm.
    let version = ctx
        .ws
        .sea_orm_req
        .as_deref()
        .map(|r| r.trim_start_matches(['^', '=', '~', ' ']).to_string())
        .filter(|r| !r.is_empty() && r != "*")
        .unwrap_or_else(|| "2.0".to_string());
    let vars = minijinja::context! {
        package => name,
        lib => &lib,
        workspace => &ctx.ws.name,
        sea_orm_migration => version,
        // The crate's own CLI (`cargo run -p migration`) connects to the database the
        // workspace uses: SQLite and PostgreSQL always, the configured engine's driver too.
        extra_driver => (!["sqlx-sqlite", "sqlx-postgres"].contains(&ctx.url.engine.driver_feature()))
            .then(|| ctx.url.engine.driver_feature()),
    };
    let files = [
        ("Cargo.toml", templates::CRATE_MANIFEST.render(&vars)?),
        ("src/lib.rs", templates::CRATE_LIB.render(&vars)?),
        ("src/main.rs", templates::CRATE_MAIN.render(&vars)?),
    ];
    crate::workspace::create_dir_all(&dir.join("src"))?;
    for (rel, content) in files {
        let path = dir.join(rel);
        std::fs::write(&path, content).context(|| format!("could not write `{}`", path.display()))?;
    }
    Ok(())
}
