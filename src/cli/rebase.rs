//! `cargo dbm rebase [MIGRATION...] [--dry-run]`

use crate::error::Result;
use crate::exit_codes;
use crate::ops::{Ctx, Options};
use crate::shell::Format;

#[derive(clap::Args, Debug)]
pub struct RebaseArgs {
    /// Migrations to give new versions (names, prefixes or slugs). Default: every migration
    /// no database has applied that sorts before the newest applied one, and the unapplied
    /// ones after it. Give `--database-url` several times to look at several databases.
    #[arg(value_name = "MIGRATION")]
    migrations: Vec<String>,
    /// Print the renames and the files that would change; change nothing.
    #[arg(long)]
    dry_run: bool,
}

pub async fn run(ctx: Ctx, opts: &Options, args: RebaseArgs) -> Result<i32> {
    let urls = ctx.all_urls(opts)?;
    let out = crate::ops::rebase::rebase(&ctx, &urls, &args.migrations, args.dry_run).await?;
    let sh = &ctx.shell;
    for w in &out.warnings {
        sh.warn(w);
    }
    if out.renames.is_empty() {
        let newest = match &out.newest_applied {
            Some(n) => format!("no unapplied migration sorts before the newest applied one, `{n}`"),
            None => "no database has applied any migration".into(),
        };
        sh.status("Unchanged", format!("nothing to rebase: {newest}"));
    } else {
        let verb = if out.dry_run { "Would rename" } else { "Rebased" };
        for r in &out.renames {
            sh.status(verb, format!("{} → {}", r.from, r.to));
        }
        let (mv, ch) = if out.dry_run {
            ("Would move", "Would change")
        } else {
            ("Moved", "Changed")
        };
        for m in &out.moved {
            sh.status(mv, format!("{} → {}", ctx.ws.rel(&m.from), ctx.ws.rel(&m.to)));
        }
        for f in &out.changed {
            sh.status(ch, ctx.ws.rel(f));
        }
        if out.dry_run {
            sh.note("nothing was changed (--dry-run)");
        } else {
            sh.note("review the changes, then `cargo dbm up` applies them after the newest applied migration");
        }
    }
    if sh.format == Format::Json {
        sh.json(&serde_json::to_value(&out).unwrap_or_default());
    }
    Ok(exit_codes::OK)
}
