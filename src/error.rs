//! The errors a user can cause, each with an exit code and, where there is one, the fix.
//!
//! Messages are lowercase fragments that read after "error: "; the hint is printed on
//! its own line. Database URLs inside messages are always redacted.

use crate::exit_codes;
use std::path::PathBuf;

/// Result alias used throughout the crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can go wrong in `cargo dbm`.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("could not find a cargo workspace: {reason}")]
    NotInWorkspace { reason: String },

    #[error("no migration crate in the workspace at `{}`", root.display())]
    NoMigrationCrate { root: PathBuf },

    #[error("the migration crate `{name}` named in [workspace.metadata.dbm] is not a workspace member")]
    UnknownMigrationCrate { name: String },

    #[error("could not read the Migrator in `{}`: {reason}", path.display())]
    MigratorSource { path: PathBuf, reason: String },

    #[error("`{}` has merge conflict markers (`<<<<<<<`, `=======`, `>>>>>>>`): the Migrator cannot be read", file.display())]
    ConflictMarkers { file: PathBuf },

    #[error("invalid database URL `{url}`: {reason}")]
    BadUrl { url: String, reason: String },

    #[error("could not connect to the database {url}: {reason}")]
    Connect { url: String, reason: String },

    #[error("database error while {doing}: {reason}")]
    Database { doing: String, reason: String },

    #[error("invalid configuration: {0}")]
    Config(String),

    #[error("invalid migration name {name:?}: {reason}")]
    BadName { name: String, reason: String },

    #[error("unknown revision `{rev}`")]
    UnknownRevision { rev: String, hint: String },

    #[error("ambiguous revision `{rev}` matches {}", candidates.join(", "))]
    AmbiguousRevision { rev: String, candidates: Vec<String> },

    #[error("applied migration{} missing from the migration crate: {}", if versions.len() == 1 { " is" } else { "s are" }, versions.join(", "))]
    MissingMigrations { versions: Vec<String> },

    #[error("{database} has {} table(s) but no migration history ({})", tables.len(), tables.iter().take(5).cloned().collect::<Vec<_>>().join(", "))]
    Untracked { database: String, tables: Vec<String> },

    #[error("the Migrator lists the same version more than once: {}", versions.join(", "))]
    DuplicateVersions { versions: Vec<String> },

    /// `generated`: the errors are all in the code cargo dbm generated, written for this
    /// version (`sea-orm-migration 1.1.20`): cargo dbm's bug, not the user's.
    #[error("{}", match generated {
        Some(v) => format!("could not compile the migrations: the code cargo dbm generated for {v} does not compile (a bug in cargo dbm, not in your code)"),
        None => "could not compile the migrations".to_string(),
    })]
    Build { detail: String, generated: Option<String> },

    #[error("{}", partial_message(.0))]
    PartiallyApplied(Vec<crate::db::tracking::Partial>),

    #[error("{}", out_of_order_message(.0))]
    OutOfOrder(Vec<crate::plan::OutOfOrder>),

    #[error("`{package}` uses {krate} {version}, which cargo dbm does not support (supported: {supported})")]
    UnsupportedVersion {
        package: String,
        krate: String,
        version: String,
        supported: String,
    },

    #[error("migration `{version}` failed ({direction}): {message}")]
    MigrationFailed {
        version: String,
        direction: crate::runner::protocol::Direction,
        message: String,
        rolled_back: bool,
        /// With `up --backup`: where the database as it was is, and how to restore it.
        restore: Option<String>,
    },

    #[error("refused: {reason}")]
    Refused { reason: String, hint: String },

    #[error("timed out after {seconds}s waiting for the migration lock on {database}")]
    LockTimeout { seconds: u64, database: String },

    #[error("refusing to restore {file}: {reason}")]
    BackupInvalid { file: String, reason: String },

    #[error("{message}")]
    Tool { message: String, hint: String },
    #[error("{message}")]
    Seed { message: String, hint: String },

    #[error("no seed profile `{profile}`: `{dir}` does not exist")]
    NoSeedProfile {
        profile: String,
        dir: String,
        available: Vec<String>,
    },

    #[error("{context}: {source}")]
    Io {
        context: String,
        #[source]
        source: std::io::Error,
    },

    /// A command line clap accepts but the command cannot use (exit 2, as clap's own).
    #[error("{0}")]
    Usage(String),

    /// `rebase`: the migrations cannot be given new versions; nothing was changed.
    #[error("refusing to rebase: {reason}")]
    RebaseRefused { reason: String, hint: String },

    #[error("{0}")]
    Other(String),
}

impl Error {
    /// The documented exit code for this error (see [`crate::exit_codes`]).
    pub fn exit_code(&self) -> i32 {
        use Error::*;
        match self {
            NotInWorkspace { .. } | NoMigrationCrate { .. } | UnknownMigrationCrate { .. } => exit_codes::WORKSPACE,
            MigratorSource { .. } | BadUrl { .. } | Config(_) | BadName { .. } | NoSeedProfile { .. } => {
                exit_codes::CONFIG
            }
            Connect { .. } | Database { .. } => exit_codes::DATABASE,
            UnknownRevision { .. } | AmbiguousRevision { .. } | MissingMigrations { .. } | DuplicateVersions { .. } => {
                exit_codes::HISTORY
            }
            Build { .. } => exit_codes::BUILD,
            ConflictMarkers { .. } => exit_codes::CONFLICT,
            UnsupportedVersion { .. } => exit_codes::UNSUPPORTED,
            PartiallyApplied(_) => exit_codes::PARTIAL,
            OutOfOrder(_) => exit_codes::OUT_OF_ORDER,
            Untracked { .. } => exit_codes::UNTRACKED,
            MigrationFailed { .. } => exit_codes::MIGRATION,
            Refused { .. } | RebaseRefused { .. } => exit_codes::REFUSED,
            Usage(_) => exit_codes::USAGE,
            LockTimeout { .. } => exit_codes::LOCKED,
            BackupInvalid { .. } => exit_codes::BAD_BACKUP,
            Tool { .. } => exit_codes::TOOL,
            Seed { .. } => exit_codes::SEED,
            Io { .. } | Other(_) => exit_codes::FAILURE,
        }
    }

    /// A line telling the user how to fix it, when there is one.
    pub fn hint(&self) -> Option<String> {
        use Error::*;
        Some(match self {
            NotInWorkspace { .. } => {
                "run `cargo dbm` inside a cargo workspace, or pass `--manifest-path path/to/Cargo.toml`".into()
            }
            NoMigrationCrate { .. } => {
                "run `cargo dbm init` to create one, or name it with `migration-crate = \"...\"` under [workspace.metadata.dbm]".into()
            }
            UnknownMigrationCrate { .. } => {
                "fix `migration-crate` under [workspace.metadata.dbm], or run `cargo dbm init`".into()
            }
            MigratorSource { .. } => {
                "the migration crate's lib.rs must contain `impl MigratorTrait for Migrator` whose `migrations()` returns `vec![Box::new(module::Migration), ...]`".into()
            }
            ConflictMarkers { .. } => {
                "run `cargo dbm resolve` to merge the migrations both sides registered (it names any other conflict left to fix by hand), then `git add` the file".into()
            }
            BadUrl { .. } => {
                "use e.g. `sqlite://data/app.db` or `postgres://user:password@host:5432/dbname` (via --database-url, DATABASE_URL, .env or [workspace.metadata.dbm] database-url)".into()
            }
            Connect { url, reason } => crate::engine::Engine::connect_hint(url, reason),
            BadName { .. } => "give a short description such as `cargo dbm create \"add phone to users\"`".into(),
            UnknownRevision { hint, .. } => hint.clone(),
            AmbiguousRevision { .. } => "give more characters of the revision, or its full name".into(),
            MissingMigrations { .. } => {
                "restore the migration files (e.g. from version control), or remove their rows from the tracking table if they were deliberately deleted".into()
            }
            DuplicateVersions { .. } => "give each migration its own file and register it once in `fn migrations()`".into(),
            Build { generated: None, .. } => "fix the compile error shown above, then run the command again".into(),
            Build { generated: Some(_), .. } => {
                "please report it to the cargo-dbm maintainers with the errors above and the versions in your Cargo.lock; meanwhile the migration crate's own CLI (`cargo run -p <crate> -- up`) still works".into()
            }
            PartiallyApplied(p) => partial_hint(p),
            OutOfOrder(_) => OUT_OF_ORDER_HINT.into(),
            UnsupportedVersion { krate, supported, .. } => format!(
                "cargo dbm writes its runner for {krate} {supported}: move the crate to one of them (e.g. `{krate} = \"1.1\"` in its Cargo.toml, then `cargo update -p {krate}`), or use the crate's own CLI"
            ),
            Untracked { .. } => {
                "if its schema already matches the migrations, record that with `cargo dbm stamp head`; if it matches an earlier migration, run `cargo dbm up --baseline <that migration>` to record up to it and apply the rest".into()
            }
            MigrationFailed { rolled_back: true, message, direction, .. } if message.contains("lock timeout") => format!(
                "the migration was rolled back and left nothing behind; wait for the blocking sessions to finish (or, once you know what they do, end them with `SELECT pg_terminate_backend(PID)`), then run `cargo dbm {direction}` again; raise `--db-lock-timeout` (or `lock-timeout` under [workspace.metadata.dbm]) if a longer wait is acceptable"
            ),
            MigrationFailed { rolled_back: true, restore, direction, .. } => {
                let mut hint = format!(
                    "the migration was rolled back and the database is as it was before it; fix the migration and run `cargo dbm {direction}` again"
                );
                if let Some(r) = restore {
                    hint.push_str(&format!(" ({r})"));
                }
                hint
            }
            MigrationFailed { rolled_back: false, restore, direction, .. } => {
                let mut hint = format!(
                    "this migration ran outside a transaction, so the statements that succeeded before the error remain, and `status` shows it as partially applied; undo or finish them by hand, record the result with `cargo dbm stamp`, fix the migration forward, then run `cargo dbm {direction}` again"
                );
                if let Some(r) = restore {
                    hint.push_str(&format!("; or {r}"));
                }
                hint
            }
            Refused { hint, .. } => hint.clone(),
            RebaseRefused { hint, .. } => hint.clone(),
            Seed { hint, .. } => hint.clone(),
            NoSeedProfile { available, .. } if available.is_empty() => {
                "put one file per table (`<table>.yaml`, `.json` or `.csv`) in that folder, or write the current data there with `cargo dbm seed --dump`".into()
            }
            NoSeedProfile { available, .. } => format!("profiles found: {}", available.join(", ")),
            LockTimeout { .. } => {
                "another `cargo dbm up`/`down` is running against this database; wait for it, or raise --lock-timeout".into()
            }
            BackupInvalid { .. } => {
                "the database was not touched; `cargo dbm backup --list` shows the other backups".into()
            }
            Tool { hint, .. } => hint.clone(),
            _ => return None,
        })
    }

    /// Shorthand for an I/O error with what was being done.
    pub fn io(context: impl Into<String>, source: std::io::Error) -> Self {
        Error::Io {
            context: context.into(),
            source,
        }
    }

    /// Shorthand for a database error with what was being done.
    pub fn db(doing: impl Into<String>, err: impl std::fmt::Display) -> Self {
        Error::Database {
            doing: doing.into(),
            reason: crate::config::redact_text(&err.to_string()),
        }
    }
}

/// Adds context to `std::io::Result`.
pub trait IoContext<T> {
    fn context(self, f: impl FnOnce() -> String) -> Result<T>;
}

impl<T> IoContext<T> for std::io::Result<T> {
    fn context(self, f: impl FnOnce() -> String) -> Result<T> {
        self.map_err(|e| Error::io(f(), e))
    }
}

/// What a partially applied migration is, for messages: `m1 (up, started 2026-… by …)`.
pub fn partial_message(partial: &[crate::db::tracking::Partial]) -> String {
    let list: Vec<String> = partial
        .iter()
        .map(|p| {
            let when = chrono::DateTime::from_timestamp_millis(p.started_at_ms)
                .map(|t| t.format("%Y-%m-%d %H:%M:%S UTC").to_string())
                .unwrap_or_default();
            format!(
                "`{}` ({} started {when}{}, never finished)",
                p.version,
                p.direction.as_str(),
                p.started_by.as_deref().map(|b| format!(" by {b}")).unwrap_or_default()
            )
        })
        .collect();
    format!(
        "the database is partially migrated: {} ran outside a transaction and stopped halfway; the statements it completed remain",
        list.join(", ")
    )
}

/// The way forward from a partially applied migration.
pub fn partial_hint(partial: &[crate::db::tracking::Partial]) -> String {
    let v = partial.first().map(|p| p.version.as_str()).unwrap_or("VERSION");
    format!(
        "repair it by hand, then record what is true: finish its changes and run `cargo dbm stamp {v}`, or undo them and run `cargo dbm stamp` with the migration before it (`cargo dbm history` shows when it started); then fix the migration forward so that it runs cleanly"
    )
}

/// What out-of-order pending migrations are, for messages.
pub fn out_of_order_message(late: &[crate::plan::OutOfOrder]) -> String {
    let list: Vec<String> = late
        .iter()
        .map(|o| {
            let shown: Vec<String> = o.precedes.iter().take(3).map(|p| format!("`{p}`")).collect();
            let more = o.precedes.len().saturating_sub(3);
            format!(
                "`{}` sorts before the applied {}{}",
                o.version,
                shown.join(", "),
                if more > 0 {
                    format!(" and {more} more")
                } else {
                    String::new()
                }
            )
        })
        .collect();
    format!(
        "pending migration{} out of order: {}; {} written without the applied migrations' changes",
        if late.len() == 1 { " is" } else { "s are" },
        list.join("; "),
        if late.len() == 1 {
            "it was probably"
        } else {
            "they were probably"
        }
    )
}

/// The two ways on from out-of-order pending migrations.
pub const OUT_OF_ORDER_HINT: &str = "if the migration does not depend on the ones applied after it, review it and run `cargo dbm up --out-of-order` (recorded in dbm_history; `out-of-order = true` under [workspace.metadata.dbm] allows it for this database, e.g. in development); if it has not reached a shared database yet, run `cargo dbm rebase` to give this branch's migrations versions after the applied head";
