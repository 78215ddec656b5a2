//! The statements migrations execute, captured on a scratch database: the migrations the
//! database has applied are applied to an empty scratch first (in the order it applied
//! them), then the steps run with their statements recorded by the capture runner. Nothing
//! touches the user's database.

use crate::context::Ctx;
use crate::error::Result;
use crate::runner::{Captures, Direction, Runner, Step};
use crate::tasks::scratch::Scratch;

/// Runs `steps` on a scratch database brought to the state `before` (steps applied
/// first, statements not kept), recording the statements of `steps`. The scratch is
/// dropped whatever happens.
pub async fn on_scratch(ctx: &Ctx, runner: &Runner, table: &str, before: &[Step], steps: &[Step]) -> Result<Captures> {
    let scratch = Scratch::new(ctx, "capture")?;
    let result = async {
        let db = scratch.open(table).await?;
        db.close().await;
        let quiet = crate::shell::Shell::new(ctx.shell.format, true);
        if !before.is_empty() {
            runner.run(&scratch.url, before, &quiet).await?;
        }
        runner.run_captured(&scratch.url, steps, &quiet).await
    }
    .await;
    scratch.drop().await;
    result
}

/// The `up` steps that bring an empty database to `versions` (in that order).
pub fn ups(status: &crate::plan::Status, versions: &[&str]) -> Vec<Step> {
    versions
        .iter()
        .filter_map(|v| status.entries.iter().find(|e| e.file.name == *v))
        .map(|e| Step {
            direction: Direction::Up,
            version: e.file.name.clone(),
            checksum: e.file.checksum(),
            foreign_keys_off: e.file.foreign_keys_off(),
            out_of_order: false,
        })
        .collect()
}
