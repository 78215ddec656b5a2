//! The context of one invocation: the workspace, the resolved database URL and the output
//! channel. Shared by the commands (`ops`) and the work they share (`tasks`).

use crate::config::{self, DbUrl};
use crate::db::{Create, Db, tracking};
use crate::error::Result;
use crate::migrator_source::MigratorSource;
use crate::plan::Status;
use crate::shell::Shell;
use crate::workspace::Workspace;
use std::path::PathBuf;

/// Options every command shares.
#[derive(Debug, Clone, Default)]
pub struct Options {
    pub manifest_path: Option<PathBuf>,
    /// The first `--database-url`, the one every command but `rebase` uses.
    pub database_url: Option<String>,
    /// Every `--database-url` given, in order (`rebase` looks at each).
    pub database_urls: Vec<String>,
    pub schema: Option<String>,
}

/// The workspace, the resolved database URL and the output channel of one invocation.
pub struct Ctx {
    pub shell: Shell,
    pub ws: Workspace,
    pub url: DbUrl,
    /// PostgreSQL timeouts for each migration: configuration, then flags.
    pub timeouts: crate::runner::Timeouts,
    /// A runner built already (a fleet builds one for all its targets).
    pub runner: Option<crate::runner::Runner>,
}

impl Ctx {
    /// Finds the workspace and resolves the database URL.
    pub fn load(shell: Shell, opts: &Options) -> Result<Ctx> {
        let ws = Workspace::load(opts.manifest_path.as_deref())?;
        let url = Self::resolve_url(&ws, opts)?;
        let timeouts = Self::configured_timeouts(&ws)?;
        Ok(Ctx {
            shell,
            ws,
            url,
            timeouts,
            runner: None,
        })
    }

    /// `lock-timeout` and `statement-timeout` under [workspace.metadata.dbm]; a database
    /// marked `protected` gets a 5 s lock timeout unless one is configured.
    fn configured_timeouts(ws: &Workspace) -> Result<crate::runner::Timeouts> {
        let read = |key: &str, v: &Option<String>| -> Result<Option<std::time::Duration>> {
            v.as_deref()
                .map(|t| {
                    config::parse_duration(t)
                        .map_err(|e| crate::Error::Config(format!("[workspace.metadata.dbm] {key}: {e}")))
                })
                .transpose()
        };
        let mut lock = read("lock-timeout", &ws.config.lock_timeout)?;
        if lock.is_none() && ws.config.protected {
            lock = Some(std::time::Duration::from_secs(5));
        }
        let nonzero = |d: Option<std::time::Duration>| d.filter(|d| !d.is_zero());
        Ok(crate::runner::Timeouts {
            lock: nonzero(lock),
            statement: nonzero(read("statement-timeout", &ws.config.statement_timeout)?),
        })
    }

    fn resolve_url(ws: &Workspace, opts: &Options) -> Result<DbUrl> {
        let mut url = config::resolve_url(opts.database_url.as_deref(), &ws.root, &ws.config, &ws.name)?;
        if url.engine.has_schemas() {
            url.schema = opts.schema.clone().or_else(|| ws.config.schema.clone());
        }
        Ok(url)
    }

    /// Every database the command line names: the resolved URL, then each further
    /// `--database-url` (with the same schema rules).
    pub fn all_urls(&self, opts: &Options) -> Result<Vec<DbUrl>> {
        let mut urls = vec![self.url.clone()];
        for raw in opts.database_urls.iter().skip(1) {
            let mut url = DbUrl::parse(raw, &self.ws.root, config::UrlSource::CommandLine)?;
            if url.engine.has_schemas() {
                url.schema = opts.schema.clone().or_else(|| self.ws.config.schema.clone());
            }
            urls.push(url);
        }
        Ok(urls)
    }

    /// The same workspace and settings on one target of a fleet: its URL, a quiet shell (the
    /// fleet reports), and the runner built once for the fleet.
    pub fn for_target(&self, url: &DbUrl, runner: Option<&crate::runner::Runner>) -> Ctx {
        Ctx {
            shell: Shell::new(self.shell.format, true),
            ws: self.ws.clone(),
            url: url.clone(),
            timeouts: self.timeouts,
            runner: runner.cloned(),
        }
    }

    /// Reloads the workspace (after `init` changed it).
    pub fn reload(&mut self, opts: &Options) -> Result<()> {
        self.ws = Workspace::load(opts.manifest_path.as_deref())?;
        self.url = Self::resolve_url(&self.ws, opts)?;
        Ok(())
    }

    /// The tracking table: configuration, then an override in the Migrator, then the default.
    pub fn tracking_table(&self, src: &MigratorSource) -> String {
        self.ws
            .config
            .migration_table
            .clone()
            .or_else(|| src.table_name.clone())
            .unwrap_or_else(|| tracking::SEAQL_TABLE.to_string())
    }

    /// Parses the Migrator and reads the database's state, without compiling anything.
    pub async fn status(&self) -> Result<(MigratorSource, Status)> {
        let mig = self.ws.migration()?;
        // Reading the Migrator's source and connecting (for SQLite, the engine parses the
        // whole schema) take a few milliseconds each on a large workspace: do both at once.
        let lib = mig.lib.clone();
        let (src, db) = tokio::join!(
            tokio::task::spawn_blocking(move || MigratorSource::load(&lib)),
            Db::open(&self.url, Create::No)
        );
        let src = src.map_err(|e| crate::Error::Config(format!("reading the Migrator's source failed: {e}")))??;
        let db = db?;
        let table = self.tracking_table(&src);
        let status = Status::load(db.as_ref(), &src, &table).await?;
        if let Some(db) = db {
            db.close().await;
        }
        Ok((src, status))
    }

    /// [`Ctx::status`], or, when the database cannot be reached, the Migrator's list with
    /// nothing applied and why (for work that needs no database: `sql`, `lint`).
    pub async fn status_or_offline(&self) -> Result<(MigratorSource, Status, Option<String>)> {
        match self.status().await {
            Ok((src, status)) => Ok((src, status, None)),
            Err(e @ (crate::Error::Connect { .. } | crate::Error::Database { .. })) => {
                let src = MigratorSource::load(&self.ws.migration()?.lib)?;
                let table = self.tracking_table(&src);
                let status = Status::load(None, &src, &table).await?;
                Ok((src, status, Some(e.to_string())))
            }
            Err(e) => Err(e),
        }
    }

    /// Where scratch databases go: `scratch` (a flag), `scratch-database-url`, or beside the
    /// workspace's database. It must be of the same engine.
    pub fn scratch_base(&self, scratch: Option<&str>) -> Result<DbUrl> {
        let Some(u) = scratch.or(self.ws.config.scratch_database_url.as_deref()) else {
            return Ok(self.url.clone());
        };
        let url = DbUrl::parse(u, &self.ws.root, config::UrlSource::CommandLine)?;
        if url.engine != self.url.engine {
            return Err(crate::Error::Config(format!(
                "the scratch database {} is {}, the workspace's database is {}: scratch work must run on the same engine",
                url.redacted(),
                url.engine.name(),
                self.url.engine.name()
            )));
        }
        Ok(url)
    }
}
