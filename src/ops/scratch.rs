//! Scratch databases for `verify` and `create --autogenerate`: a temporary SQLite file in the
//! target directory, or a temporary schema in the PostgreSQL database. The user's tables
//! are never touched, and [`Scratch::drop`] removes the scratch.

use super::Ctx;
use crate::config::{DbUrl, Engine};
use crate::db::{Create, Db, tracking};
use crate::error::Result;

/// A scratch database of the same engine as the workspace's.
pub struct Scratch {
    pub url: DbUrl,
}

impl Scratch {
    /// A new, empty scratch named after `tag` and the process id.
    pub fn new(ctx: &Ctx, tag: &str) -> Result<Scratch> {
        let name = format!("dbm_{tag}_{}", std::process::id());
        let url = match ctx.url.engine {
            Engine::Sqlite => {
                let dir = ctx.ws.target_dir.join("dbm");
                crate::workspace::create_dir_all(&dir)?;
                let path = dir.join(format!("{name}.db"));
                remove_sqlite(&path);
                DbUrl::parse(&format!("sqlite://{}", path.display()), &ctx.ws.root, ctx.url.source)?
            }
            Engine::Postgres => {
                let mut url = ctx.url.clone();
                url.schema = Some(name);
                url
            }
        };
        Ok(Scratch { url })
    }

    /// Opens it (creating the file or schema) with the tracking tables installed.
    pub async fn open(&self, tracking_table: &str) -> Result<Db> {
        let db = Db::open(&self.url, Create::Yes).await?.expect("created");
        tracking::install(&db, tracking_table).await?;
        Ok(db)
    }

    /// Removes the file or drops the schema.
    pub async fn drop(self) {
        match (&self.url.sqlite_path, &self.url.schema) {
            (Some(path), _) => remove_sqlite(path),
            (None, Some(schema)) => {
                let mut plain = self.url.clone();
                plain.schema = None;
                if let Ok(Some(db)) = Db::open(&plain, Create::No).await {
                    let sql = format!("DROP SCHEMA IF EXISTS {} CASCADE", tracking::quote(schema));
                    let _ = db.exec("dropping the scratch schema", &sql).await;
                    db.close().await;
                }
            }
            _ => {}
        }
    }
}

fn remove_sqlite(path: &std::path::Path) {
    for suffix in ["", "-wal", "-shm", "-journal", ".dbm-lock"] {
        let mut p = path.as_os_str().to_owned();
        p.push(suffix);
        let _ = std::fs::remove_file(std::path::PathBuf::from(p));
    }
}
