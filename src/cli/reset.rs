//! `cargo dbm reset`

use crate::error::{Error, Result};
use crate::exit_codes;
use crate::ops::Ctx;
use std::time::Duration;

#[derive(clap::Args, Debug)]
pub struct ResetArgs {
    #[command(flatten)]
    consent: super::ConsentArgs,
    /// Do not seed after re-applying the migrations.
    #[arg(long)]
    no_seed: bool,
    /// Seed this profile afterwards (default: `default`, when it exists).
    #[arg(long, value_name = "NAME", conflicts_with = "no_seed")]
    profile: Option<String>,
    /// Seconds to wait for another `cargo dbm` holding the migration lock.
    #[arg(long, default_value_t = 60, value_name = "SECS")]
    lock_timeout: u64,
}

pub async fn run(ctx: Ctx, args: ResetArgs) -> Result<i32> {
    ctx.ws.migration()?;
    crate::guard::confirm(
        &ctx.shell,
        &ctx.url,
        ctx.ws.config.protected,
        args.consent.into(),
        "drop every table, re-apply all migrations and seed",
    )?;
    let outcome = crate::ops::migrate::reset(&ctx, Duration::from_secs(args.lock_timeout)).await?;
    super::migrate::report(&ctx, &outcome);
    if args.no_seed {
        return Ok(exit_codes::OK);
    }
    let profile = args.profile.clone().unwrap_or_else(|| "default".to_string());
    let prepared = match crate::ops::seed::prepare(&ctx, &profile, false).await {
        Ok(p) => p,
        // No default profile is fine for a reset; a profile asked for by name must exist.
        Err(Error::NoSeedProfile { .. }) if args.profile.is_none() => {
            ctx.shell.note("no `default` seed profile, so nothing was seeded");
            return Ok(exit_codes::OK);
        }
        Err(e) => return Err(e),
    };
    let seeded = crate::ops::seed::execute(&ctx, prepared).await?;
    ctx.shell.status(
        "Seeded",
        format!("{} row(s) of profile `{}`", seeded.rows, seeded.profile),
    );
    Ok(exit_codes::OK)
}
