//! `cargo dbm sql [RANGE] [--down] [--output FILE]`

use crate::error::Result;
use crate::exit_codes;
use crate::ops::Ctx;
use crate::runner::Direction;
use crate::shell::Format;
use std::path::PathBuf;

#[derive(clap::Args, Debug)]
pub struct SqlArgs {
    /// Migrations to script: `FROM..TO`, `..TO`, `FROM..` or `TO` (default: what is pending
    /// in the database, or `base..head` when it cannot be reached). With `--down`: from TO
    /// (default: the database's state, or head) back to FROM (default: one migration, or base).
    range: Option<String>,
    /// The reverse script: the migrations' `down`, newest first.
    #[arg(long)]
    down: bool,
    /// Write the script to FILE instead of stdout.
    #[arg(long, short, value_name = "FILE")]
    output: Option<PathBuf>,
    /// A database on a server of the same engine to build the script on (PostgreSQL,
    /// MySQL), for when the workspace's database cannot be reached; default:
    /// `scratch-database-url` under [workspace.metadata.dbm], else beside the database.
    #[arg(long, value_name = "URL", hide_env_values = true)]
    scratch_url: Option<String>,
}

pub async fn run(ctx: Ctx, args: SqlArgs) -> Result<i32> {
    let direction = if args.down { Direction::Down } else { Direction::Up };
    let script = crate::ops::sql::sql(&ctx, args.range.as_deref(), direction, args.scratch_url.as_deref()).await?;
    let sh = &ctx.shell;
    if let Some(why) = &script.offline {
        sh.note(format!(
            "the database could not be read, so the script starts at base ({why})"
        ));
    }
    match &args.output {
        Some(path) => {
            crate::tasks::new_migration::write_atomic(path, &script.text)?;
            sh.status(
                "Wrote",
                format!(
                    "{} ({} migration(s), {} statement(s), {} {})",
                    path.display(),
                    script.migrations.len(),
                    script.statements,
                    script.direction,
                    script.range
                ),
            );
        }
        None if sh.format != Format::Json => print!("{}", script.text),
        None => {}
    }
    if sh.format == Format::Json {
        let mut v = serde_json::to_value(&script).unwrap_or_default();
        if args.output.is_none() {
            v["script"] = serde_json::Value::String(script.text.clone());
        }
        sh.json(&v);
    }
    Ok(exit_codes::OK)
}
