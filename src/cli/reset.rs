//! `cargo dbm reset`

use crate::error::Result;
use crate::exit_codes;
use crate::ops::Ctx;
use std::time::Duration;

#[derive(clap::Args, Debug)]
pub struct ResetArgs {
    #[command(flatten)]
    consent: super::ConsentArgs,
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
        "drop every table and re-apply all migrations",
    )?;
    let outcome = crate::ops::migrate::reset(&ctx, Duration::from_secs(args.lock_timeout)).await?;
    super::migrate::report(&ctx, &outcome);
    Ok(exit_codes::OK)
}
