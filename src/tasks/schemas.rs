//! The schema the migrations produce and the schema the entities want, side by side:
//! what `check`, `verify` and `create --autogenerate` compare.

use super::scratch::Scratch;
use crate::context::Ctx;
use crate::db::snapshot::Schema;
use crate::error::Result;
use crate::migrator_source::MigratorSource;
use crate::plan::Status;
use crate::runner;

/// The schema the migrations produce and the schema the entities want, both built on
/// scratch databases (removed afterwards). What the entities cannot say is taken from the
/// migrations' schema ([`crate::schema_diff::reconcile`]), so `check`, `verify` and
/// `--autogenerate` compare only what the entities state.
pub async fn schemas(ctx: &Ctx) -> Result<(Schema, Schema)> {
    let mig = ctx.ws.migration()?;
    let src = MigratorSource::load(&mig.lib)?;
    let table = ctx.tracking_table(&src);
    let current = Scratch::new(ctx, "autogen_current")?;
    let desired = Scratch::new(ctx, "autogen_desired")?;
    let result = async {
        let migrations = runner::build(&ctx.ws, mig, &current.url, &ctx.shell).await?;
        let entities = runner::build_entities(&ctx.ws, &desired.url, &ctx.shell).await?;
        ctx.shell
            .status("Comparing", "the entities with the schema the migrations produce");
        let db = current.open(&table).await?;
        let status = Status::load(Some(&db), &src, &table).await?;
        status.ensure_complete()?;
        let steps = status.up_steps(None)?;
        let quiet = crate::shell::Shell::new(ctx.shell.format, true);
        migrations.run(&current.url, &steps, &quiet).await?;
        let before = Schema::read(&db, &table).await?;
        db.close().await;

        let ddb = desired.open(&table).await?;
        entities.apply_entities(&desired.url).await?;
        let entities = Schema::read(&ddb, &table).await?;
        ddb.close().await;
        let after = crate::schema_diff::reconcile(&before, &entities, ctx.url.engine);
        Ok::<_, crate::Error>((before, after))
    }
    .await;
    current.drop().await;
    desired.drop().await;
    result
}
