//! Scratch databases for `verify` and `create --autogenerate`: a temporary SQLite file in the
//! target directory, a temporary schema in the PostgreSQL database, a temporary MySQL
//! database on the same server. The user's tables
//! are never touched, and [`Scratch::drop`] removes the scratch.

use crate::config::DbUrl;
use crate::context::Ctx;
use crate::db::{Create, Db, tracking};
use crate::error::Result;

/// A scratch database of the same engine as the workspace's.
pub struct Scratch {
    pub url: DbUrl,
}

impl Scratch {
    /// A new, empty scratch named after `tag` and the process id, beside the workspace's
    /// database.
    pub fn new(ctx: &Ctx, tag: &str) -> Result<Scratch> {
        Self::beside(ctx, &ctx.url, tag)
    }

    /// The same, on the server of `base` (a scratch server given with `--scratch-url`).
    pub fn beside(ctx: &Ctx, base: &DbUrl, tag: &str) -> Result<Scratch> {
        let name = format!("dbm_{tag}_{}", std::process::id());
        let url = base.engine.scratch_url(base, &ctx.ws.target_dir.join("dbm"), &name)?;
        Ok(Scratch { url })
    }

    /// Opens it (creating the file, schema or database) with the tracking tables installed.
    pub async fn open(&self, tracking_table: &str) -> Result<Db> {
        self.url.engine.create_scratch(&self.url).await?;
        let db = Db::open(&self.url, Create::Yes).await?.expect("created");
        tracking::install(&db, tracking_table).await?;
        Ok(db)
    }

    /// Removes the file, schema or database.
    pub async fn drop(self) {
        self.url.engine.drop_scratch(&self.url).await;
    }
}
