//! `cargo dbm create NAME`

use crate::error::Result;
use crate::exit_codes;
use crate::ops::Ctx;
use crate::shell::Format;

#[derive(clap::Args, Debug)]
pub struct CreateArgs {
    /// What the migration does, e.g. "add phone to users"; becomes the file name's suffix.
    name: String,
}

pub fn run(ctx: Ctx, args: CreateArgs) -> Result<i32> {
    let created = crate::ops::create::create(&ctx.ws, &args.name)?;
    ctx.shell
        .status("Created", format!("migration {}", ctx.ws.rel(&created.file)));
    if let Some(t) = &created.template {
        ctx.shell.note(format!("from the project template {}", ctx.ws.rel(t)));
    }
    if ctx.shell.format == Format::Json {
        ctx.shell.json(&serde_json::to_value(&created).unwrap_or_default());
    }
    Ok(exit_codes::OK)
}
