//! `cargo dbm stamp REV`

use crate::error::Result;
use crate::exit_codes;
use crate::ops::Ctx;
use crate::shell::Format;
use std::time::Duration;

#[derive(clap::Args, Debug)]
pub struct StampArgs {
    /// Record the database as being at this revision: `head`, `base`, a name or prefix.
    rev: String,
    /// Empty the tracking table first (also drops rows of migrations that no longer exist).
    #[arg(long)]
    purge: bool,
    /// Seconds to wait for another `cargo dbm` holding the migration lock.
    #[arg(long, default_value_t = 60, value_name = "SECS")]
    lock_timeout: u64,
    #[command(flatten)]
    fleet: super::fleet::FleetArgs,
    #[command(flatten)]
    keep_going: super::fleet::KeepGoingArgs,
    #[command(flatten)]
    consent: super::ConsentArgs,
}

pub async fn run(ctx: Ctx, args: StampArgs) -> Result<i32> {
    if let Some(selection) = args.fleet.selection() {
        let fleet = args.fleet.resolve(&ctx, &selection).await?;
        super::fleet::confirm(
            &ctx,
            &fleet,
            args.consent,
            &format!("rewrite the migration history to say `{}`", args.rev),
        )?;
        let reports = crate::ops::fleet::stamp(
            &ctx,
            &fleet,
            &args.rev,
            args.purge,
            Duration::from_secs(args.lock_timeout),
            args.keep_going.on_failure(),
        )
        .await?;
        return Ok(super::fleet::report(&ctx, "stamped", &reports));
    }
    args.fleet.check_single(args.keep_going.keep_going)?;
    let out = crate::ops::stamp::stamp(&ctx, &args.rev, args.purge, Duration::from_secs(args.lock_timeout)).await?;
    let sh = &ctx.shell;
    for v in &out.removed {
        sh.status("Unstamped", v);
    }
    for v in &out.added {
        sh.status("Stamped", v);
    }
    for v in &out.settled {
        sh.status("Settled", format!("{v} (no longer partially applied)"));
    }
    if !out.changed() {
        sh.status("Unchanged", format!("the tracking table already says `{}`", args.rev));
    }
    if sh.format == Format::Json {
        sh.json(&serde_json::to_value(&out).unwrap_or_default());
    }
    Ok(exit_codes::OK)
}
