//! `cargo dbm verify`

use crate::error::Result;
use crate::exit_codes;
use crate::ops::Ctx;
use crate::shell::Format;

#[derive(clap::Args, Debug)]
pub struct VerifyArgs {
    /// Skip comparing the final schema with the entities (which compiles them).
    #[arg(long)]
    no_entities: bool,
}

pub async fn run(ctx: Ctx, args: VerifyArgs) -> Result<i32> {
    let report = crate::ops::verify::verify(&ctx, !args.no_entities).await?;
    let sh = &ctx.shell;
    let code = if report.failure.is_some() {
        exit_codes::VERIFY
    } else {
        exit_codes::OK
    };
    if sh.format == Format::Json {
        sh.json(&serde_json::to_value(&report).unwrap_or_default());
        return Ok(code);
    }
    match &report.failure {
        None => sh.status(
            "Finished",
            format!(
                "{} migration(s) verified: each down undoes its up, and up again gives the same schema",
                report.verified.len()
            ),
        ),
        Some(f) => {
            sh.error(&crate::Error::Other(match &f.version {
                Some(v) => format!("migration `{v}` fails verification: {}", f.message),
                None => format!(
                    "every migration verifies, but the entities differ from the schema they produce: {}",
                    f.message
                ),
            }));
            for c in &f.changes {
                sh.line(format!("    {c}"));
            }
            use crate::ops::verify::Stage;
            sh.note(match f.stage {
                Stage::DownLeavesTrace => "make its `down` undo exactly what its `up` does",
                Stage::UpAfterDownDiffers => "its `down` must restore the schema its `up` started from",
                Stage::EntitiesDiffer => {
                    "write a migration for the entities' changes: `cargo dbm create NAME --autogenerate`"
                }
                Stage::Up | Stage::Down => "fix the migration so it runs on an empty database",
            });
        }
    }
    Ok(code)
}
