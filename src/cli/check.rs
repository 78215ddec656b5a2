//! `cargo dbm check`: the CI gate.

use crate::error::Result;
use crate::ops::Ctx;
use crate::shell::Format;

#[derive(clap::Args, Debug)]
pub struct CheckArgs {
    /// Skip comparing the entities with the migrations' schema (which compiles both).
    #[arg(long)]
    no_entities: bool,
    /// Skip linting the pending migrations' SQL (which runs them on a scratch database).
    #[arg(long)]
    no_lint: bool,
    #[command(flatten)]
    fleet: super::fleet::FleetArgs,
}

pub async fn run(ctx: Ctx, args: CheckArgs) -> Result<i32> {
    if let Some(selection) = args.fleet.selection() {
        return super::fleet::check(&ctx, &args.fleet, &selection).await;
    }
    args.fleet.check_single(false)?;
    let problems = crate::ops::check::check(&ctx, !args.no_entities, !args.no_lint).await?;
    let code = crate::ops::check::exit_code(&problems);
    let sh = &ctx.shell;
    if sh.format == Format::Json {
        sh.json(&serde_json::json!({
            "ok": problems.is_empty(),
            "exit_code": code,
            "database": ctx.url.redacted(),
            "problems": problems,
        }));
        return Ok(code);
    }
    if problems.is_empty() {
        sh.status(
            "Checked",
            format!("{}: migrations applied, sources unchanged", ctx.url.redacted()),
        );
        return Ok(code);
    }
    for p in &problems {
        eprintln!(
            "{}: {}",
            sh.paint(p.kind, console::Style::new().red().bold()),
            p.message
        );
    }
    use crate::ops::check::Kind;
    let hint = match problems[0].kind {
        Kind::Pending => "run `cargo dbm up`",
        Kind::Modified => {
            "never edit an applied migration: restore it from version control and put the change in a new migration (`cargo dbm create`)"
        }
        Kind::Missing => "restore the missing migration files",
        Kind::Entities => "write a migration for the entities' changes: `cargo dbm create NAME --autogenerate`",
        Kind::Duplicate => "give each migration its own version",
        Kind::OutOfOrder => {
            "review it, then `cargo dbm up --out-of-order`, or `cargo dbm rebase` if no shared database has it yet"
        }
        Kind::Unordered => "list the migrations in `fn migrations()` in version order",
        Kind::Lint => {
            "use the safe pattern named, or allow a reviewed exception with `// cargo-dbm: allow(rule) -- why` in the migration (`cargo dbm lint` shows every finding)"
        }
        Kind::PartiallyApplied => "repair the database by hand, then record it with `cargo dbm stamp`",
    };
    sh.note(hint);
    Ok(code)
}
