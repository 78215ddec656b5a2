//! The command line: clap definitions and a thin wrapper per command (`cli/<cmd>.rs`)
//! that parses flags, loads the context and hands the work to [`crate::ops`].

mod backup;
mod check;
mod create;
mod fleet;
mod init;
mod lint;
mod merge_driver;
mod migrate;
mod rebase;
mod reset;
mod resolve;
mod restore;
mod seed;
mod sql;
mod stamp;
mod status;
mod verify;

use crate::error::Result;
use crate::exit_codes;
use crate::ops::Options;
use crate::shell::{Format, Shell};
use clap::{ArgAction, Args, Parser, Subcommand};
use std::path::PathBuf;

/// cargo passes the subcommand's name as the first argument: `cargo-dbm dbm <args>`.
#[derive(Parser, Debug)]
#[command(name = "cargo", bin_name = "cargo", styles = clap_cargo_styles())]
enum CargoCli {
    Dbm(DbmCli),
}

/// Manage the database of a SeaORM workspace: migrations, status and history.
#[derive(Args, Debug)]
#[command(version, about, long_about = None, after_help = after_help())]
pub struct DbmCli {
    #[command(flatten)]
    global: GlobalArgs,
    #[command(subcommand)]
    command: Command,
}

/// Flags every command accepts.
#[derive(Args, Debug, Clone)]
struct GlobalArgs {
    /// Path to the workspace's Cargo.toml (default: found from the current directory).
    #[arg(long, global = true, value_name = "PATH")]
    manifest_path: Option<PathBuf>,
    /// Database URL (default: DATABASE_URL, .env, [workspace.metadata.dbm] database-url, or data/<name>.db).
    /// `rebase` takes it more than once, to look at several databases.
    #[arg(long, global = true, value_name = "URL", hide_env_values = true, action = ArgAction::Append)]
    database_url: Vec<String>,
    /// PostgreSQL schema to work in (default: the server's search_path).
    #[arg(long, global = true, env = "DATABASE_SCHEMA", value_name = "SCHEMA")]
    schema: Option<String>,
    /// Output format: human text on stderr, or JSON on stdout.
    #[arg(long, global = true, value_enum, default_value_t = Format::Human)]
    format: Format,
    /// Print only errors.
    #[arg(short, long, global = true)]
    quiet: bool,
    /// Seconds allowed for reaching the database server and logging in (default 5).
    #[arg(long, global = true, env = "CARGO_DBM_CONNECT_TIMEOUT", hide_env_values = true, value_name = "SECONDS", value_parser = parse_seconds)]
    connect_timeout: Option<std::time::Duration>,
}

/// A positive number of seconds, such as `10` or `2.5`.
fn parse_seconds(s: &str) -> std::result::Result<std::time::Duration, String> {
    s.trim()
        .parse::<f64>()
        .ok()
        .filter(|n| *n > 0.0)
        .and_then(|n| std::time::Duration::try_from_secs_f64(n).ok())
        .ok_or_else(|| format!("`{s}` is not a number of seconds greater than 0 (e.g. 10 or 2.5)"))
}

/// `--yes` and `--allow-protected`, for every destructive command.
#[derive(Args, Debug, Clone, Copy)]
pub struct ConsentArgs {
    /// Do not ask for confirmation (required without a terminal).
    #[arg(long, short = 'y')]
    yes: bool,
    /// Allow this on a database marked protected.
    #[arg(long)]
    allow_protected: bool,
}

impl From<ConsentArgs> for crate::guard::Consent {
    fn from(a: ConsentArgs) -> Self {
        crate::guard::Consent {
            yes: a.yes,
            allow_protected: a.allow_protected,
        }
    }
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Create (or adopt) the migration crate, register it, and create the SQLite database.
    Init(init::InitArgs),
    /// Write a new migration from the template and register it in the Migrator.
    Create(create::CreateArgs),
    /// Apply pending migrations (all, or up to TARGET).
    #[command(visible_alias = "migrate")]
    Up(migrate::UpArgs),
    /// Revert applied migrations: 1 by default, N, back to a revision, or `base`.
    Down(migrate::DownArgs),
    /// Record the database as being at a revision without running migrations (baseline).
    Stamp(stamp::StampArgs),
    /// Drop everything in the database and re-apply all migrations (asks first).
    Reset(reset::ResetArgs),
    /// Show applied and pending migrations; exits 3 when some are pending.
    Status(status::StatusArgs),
    /// Show the most recently applied migration.
    Current,
    /// Show the latest migration of the migration crate.
    Heads,
    /// Show every migration applied and reverted, with times.
    History,
    /// CI gate: fail on pending, missing, modified or duplicate migrations, or entity drift.
    Check(check::CheckArgs),
    /// Apply, revert and re-apply every migration on a scratch database, comparing schemas.
    Verify(verify::VerifyArgs),
    /// Show what cargo dbm found: workspace, migration crate, entities, database.
    Info,
    /// List the fleet's targets (databases, PostgreSQL schemas) with their URLs redacted.
    Fleet(fleet::FleetListArgs),
    /// Take a consistent, compressed backup of the database (or `--list` them).
    Backup(backup::BackupArgs),
    /// Replace the database with a verified backup; asks first and backs up the current one.
    Restore(restore::RestoreArgs),
    /// Load seed data in one transaction (--minimal, --profile, --clear); --dump writes it out.
    Seed(seed::SeedArgs),
    /// Check the pending (or given) migrations' SQL against lock-safety rules; exits 22 on errors.
    Lint(lint::LintArgs),
    /// Write the SQL script of a range of migrations (built on a scratch database).
    Sql(sql::SqlArgs),
    /// Give this branch's unapplied migrations new versions after the newest applied one.
    Rebase(rebase::RebaseArgs),
    /// Resolve merge conflicts in the Migrator's file that only register migrations.
    Resolve(resolve::ResolveArgs),
    /// git's merge driver for the Migrator's file (set up by `init`): BASE OURS THEIRS [PATH].
    #[command(hide = true)]
    MergeDriver(merge_driver::MergeDriverArgs),
}

fn after_help() -> String {
    format!(
        "Revisions: a full name, a unique prefix (`m2024`, `20240101`), the part after the timestamp\n(`add_phone`), `head`, `base`, or relative `+N`/`-N`.\n\n{}",
        exit_codes::help_text()
    )
}

fn clap_cargo_styles() -> clap::builder::Styles {
    use clap::builder::styling::{AnsiColor, Effects};
    clap::builder::Styles::styled()
        .header(AnsiColor::Green.on_default().effects(Effects::BOLD))
        .usage(AnsiColor::Green.on_default().effects(Effects::BOLD))
        .literal(AnsiColor::Cyan.on_default().effects(Effects::BOLD))
        .placeholder(AnsiColor::Cyan.on_default())
}

/// Entry point: returns the process exit code.
pub fn main() -> i32 {
    let mut args: Vec<std::ffi::OsString> = std::env::args_os().collect();
    // Invoked directly as `cargo-dbm ...` rather than through cargo: add the word cargo adds.
    if args.get(1).is_none_or(|a| a != "dbm") {
        args.insert(1, "dbm".into());
    }
    let CargoCli::Dbm(cli) = match CargoCli::try_parse_from(args) {
        Ok(c) => c,
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() {
                exit_codes::USAGE
            } else {
                exit_codes::OK
            };
        }
    };
    let shell = Shell::new(cli.global.format, cli.global.quiet);
    if let Some(timeout) = cli.global.connect_timeout {
        crate::db::set_connect_timeout(timeout);
    }
    let runtime = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
        Ok(r) => r,
        Err(e) => {
            shell.error(&crate::Error::io("could not start the async runtime", e));
            return exit_codes::FAILURE;
        }
    };
    let opts = Options {
        manifest_path: cli.global.manifest_path.clone(),
        database_url: cli.global.database_url.first().cloned(),
        database_urls: cli.global.database_url.clone(),
        schema: cli.global.schema.clone(),
    };
    let error_shell = Shell::new(cli.global.format, false);
    match runtime.block_on(run(cli.command, shell, opts)) {
        Ok(code) => code,
        Err(e) => {
            error_shell.error(&e);
            if cli.global.format == Format::Json {
                error_shell.json(&serde_json::json!({
                    "error": e.to_string(),
                    "hint": e.hint(),
                    "exit_code": e.exit_code(),
                }));
            }
            e.exit_code()
        }
    }
}

async fn run(command: Command, shell: Shell, opts: Options) -> Result<i32> {
    if opts.database_urls.len() > 1 && !matches!(command, Command::Rebase(_)) {
        return Err(crate::Error::Usage(
            "`--database-url` was given more than once; only `cargo dbm rebase` looks at several databases".into(),
        ));
    }
    // Commands that work without the workspace (or on one that cannot be loaded).
    let command = match command {
        Command::MergeDriver(a) => return merge_driver::run(&shell, a),
        Command::Resolve(a) => return resolve::run(shell, &opts, a),
        other => other,
    };
    let ctx = crate::ops::Ctx::load(shell, &opts);
    match command {
        Command::Init(a) => init::run(ctx?, &opts, a).await,
        Command::Create(a) => create::run(ctx?, a).await,
        Command::Up(a) => migrate::up(ctx?, a).await,
        Command::Down(a) => migrate::down(ctx?, a).await,
        Command::Status(a) => status::status(ctx?, a).await,
        Command::Current => status::current(ctx?).await,
        Command::Heads => status::heads(ctx?).await,
        Command::History => status::history(ctx?).await,
        Command::Info => status::info(ctx?).await,
        Command::Fleet(a) => fleet::list(ctx?, a).await,
        Command::Stamp(a) => stamp::run(ctx?, a).await,
        Command::Check(a) => check::run(ctx?, a).await,
        Command::Verify(a) => verify::run(ctx?, a).await,
        Command::Reset(a) => reset::run(ctx?, a).await,
        Command::Backup(a) => backup::run(ctx?, a).await,
        Command::Restore(a) => restore::run(ctx?, a).await,
        Command::Seed(a) => seed::run(ctx?, a).await,
        Command::Rebase(a) => rebase::run(ctx?, &opts, a).await,
        Command::Sql(a) => sql::run(ctx?, a).await,
        Command::Lint(a) => lint::run(ctx?, a).await,
        // Handled above.
        Command::Resolve(_) | Command::MergeDriver(_) => Ok(exit_codes::USAGE),
    }
}

/// Formats unix seconds as a UTC timestamp.
pub(crate) fn fmt_time(secs: i64) -> String {
    chrono::DateTime::from_timestamp(secs, 0)
        .map(|t| t.format("%Y-%m-%d %H:%M:%S").to_string())
        .unwrap_or_else(|| secs.to_string())
}

/// Formats unix seconds as RFC 3339, for JSON.
pub(crate) fn rfc3339(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .map(|t| t.to_rfc3339())
        .unwrap_or_default()
}
