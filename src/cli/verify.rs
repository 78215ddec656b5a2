//! `cargo dbm verify`

use crate::error::Result;
use crate::exit_codes;
use crate::ops::Ctx;
use crate::shell::Format;

pub async fn run(ctx: Ctx) -> Result<i32> {
    let report = crate::ops::verify::verify(&ctx).await?;
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
            sh.error(&crate::Error::Other(format!(
                "migration `{}` fails verification: {}",
                f.version, f.message
            )));
            for c in &f.changes {
                sh.line(format!("    {c}"));
            }
            sh.note(match f.stage {
                "down-leaves-trace" => "make its `down` undo exactly what its `up` does",
                "up-after-down-differs" => "its `down` must restore the schema its `up` started from",
                _ => "fix the migration so it runs on an empty database",
            });
        }
    }
    Ok(code)
}
