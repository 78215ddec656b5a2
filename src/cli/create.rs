//! `cargo dbm create NAME [--autogenerate]`

use crate::error::Result;
use crate::exit_codes;
use crate::ops::Ctx;
use crate::shell::Format;

#[derive(clap::Args, Debug)]
pub struct CreateArgs {
    /// What the migration does, e.g. "add phone to users"; becomes the file name's suffix.
    name: String,
    /// Write `up` and `down` from the difference between the entities and the schema the
    /// migrations produce (built on a scratch database; yours is not touched).
    #[arg(long)]
    autogenerate: bool,
}

pub async fn run(ctx: Ctx, args: CreateArgs) -> Result<i32> {
    let sh = &ctx.shell;
    if args.autogenerate {
        let out = crate::ops::autogen::autogenerate(&ctx, &args.name).await?;
        if sh.format == Format::Json {
            sh.json(&serde_json::to_value(&out).unwrap_or_default());
        }
        let Some(created) = &out.created else {
            sh.status("Unchanged", "the entities match the migrations; no migration written");
            return Ok(exit_codes::OK);
        };
        for c in &out.changes {
            sh.line(format!("  {c}"));
        }
        for w in &out.warnings {
            sh.warn(w);
        }
        sh.status(
            "Created",
            format!(
                "migration {} ({} change(s))",
                ctx.ws.rel(&created.file),
                out.changes.len()
            ),
        );
        sh.note("review it, then `cargo dbm up`; `cargo dbm verify` checks that its down undoes its up");
        return Ok(exit_codes::OK);
    }
    let created = crate::ops::create::create(&ctx.ws, &args.name)?;
    sh.status("Created", format!("migration {}", ctx.ws.rel(&created.file)));
    if let Some(t) = &created.template {
        sh.note(format!("from the project template {}", ctx.ws.rel(t)));
    }
    if sh.format == Format::Json {
        sh.json(&serde_json::to_value(&created).unwrap_or_default());
    }
    Ok(exit_codes::OK)
}
