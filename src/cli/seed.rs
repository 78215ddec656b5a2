//! `cargo dbm seed`

use crate::error::Result;
use crate::exit_codes;
use crate::ops::Ctx;
use crate::ops::seed::{self as op, DEFAULT_PROFILE};
use crate::seed::dump::DumpFormat;
use crate::shell::Format;

#[derive(clap::Args, Debug)]
pub struct SeedArgs {
    /// Load the profile `minimal` (`seeds/minimal/`).
    #[arg(long, conflicts_with = "profile")]
    minimal: bool,
    /// Load this profile: a folder of the seeds folder (default: `default`).
    #[arg(long, value_name = "NAME")]
    profile: Option<String>,
    /// Delete the rows of the seeded tables (and of tables referencing them) first; asks.
    #[arg(long, conflicts_with = "dump")]
    clear: bool,
    /// Write the current rows of every table to the profile's folder as seed files.
    #[arg(long)]
    dump: bool,
    /// File format written by --dump.
    #[arg(long, value_enum, default_value_t, requires = "dump", value_name = "FORMAT")]
    dump_format: DumpFormat,
    #[command(flatten)]
    consent: super::ConsentArgs,
}

pub async fn run(ctx: Ctx, args: SeedArgs) -> Result<i32> {
    let profile = match (&args.profile, args.minimal) {
        (Some(p), _) => p.clone(),
        (None, true) => "minimal".to_string(),
        (None, false) => DEFAULT_PROFILE.to_string(),
    };
    let sh = &ctx.shell;
    if args.dump {
        let written = op::dump(&ctx, &profile, args.dump_format).await?;
        for w in &written {
            sh.status(
                "Dumped",
                format!("{} ({} rows) to {}", w.table, w.rows, ctx.ws.rel(&w.file)),
            );
        }
        let rows: usize = written.iter().map(|w| w.rows).sum();
        sh.status(
            "Finished",
            format!(
                "{rows} row(s) of {} table(s) written to profile `{profile}`",
                written.len()
            ),
        );
        if sh.format == Format::Json {
            sh.json(&serde_json::json!({ "profile": profile, "files": written }));
        }
        return Ok(exit_codes::OK);
    }

    let prepared = op::prepare(&ctx, &profile, args.clear).await?;
    if prepared.plan.parts.is_empty() && prepared.function.is_none() {
        sh.warn(format!(
            "profile `{profile}` has no seed files in `{}` (one `<table>.yaml`, `.json` or `.csv` per table)",
            ctx.ws.rel(&prepared.dir)
        ));
    }
    if args.clear && !prepared.clears().is_empty() {
        crate::guard::confirm(
            sh,
            &ctx.url,
            ctx.ws.config.protected,
            args.consent.into(),
            &format!("delete every row of {}", prepared.clears().join(", ")),
        )?;
    }
    let o = op::execute(&ctx, prepared).await?;
    if !o.cleared.is_empty() {
        sh.status("Cleared", o.cleared.join(", "));
    }
    for t in &o.tables {
        sh.status("Seeded", format!("{} ({} rows)", t.table, t.rows));
    }
    if let Some(f) = &o.function {
        sh.status("Ran", format!("seeds::{f}"));
    }
    sh.status(
        "Finished",
        format!(
            "{} row(s) into {} table(s) from profile `{}` in {} ms",
            o.rows,
            o.tables.len(),
            o.profile,
            o.duration_ms
        ),
    );
    if sh.format == Format::Json {
        sh.json(&serde_json::to_value(&o).unwrap_or_default());
    }
    Ok(exit_codes::OK)
}
