//! The protocol between `cargo dbm` and its generated runner, defined once.
//!
//! This file is compiled into both programs: into cargo-dbm as `runner::protocol`
//! (`#[path]`), and into every generated runner crate as its `protocol` module (written next
//! to its `main.rs`). Whatever one side sends, the other reads with the same types, so a
//! field added on one side cannot be missed by the other: serde refuses a step or an event
//! that lacks a field or carries an unknown one.
//!
//! - Environment: [`URL_VAR`] (never on the command line), [`SCHEMA_VAR`], [`MODE_VAR`],
//!   [`APPLIED_BY_VAR`], [`SEED_FN_VAR`].
//! - Migrate mode: stdin carries one [`Step`] per line as JSON; stdout one [`Event`] per line.
//! - Serve mode (fleets): stdin carries one [`Batch`] per line, a target and its steps; the
//!   runner answers each with the steps' [`Event`]s and then [`Event::BatchDone`], keeping
//!   its connection while the URL stays the same (PostgreSQL schemas switch `search_path`).
//! - List mode: stdout carries [`Event::Migration`] per compiled migration.
//! - Seed mode: stdin carries the rows in the tab-separated format of `seed_exec.rs`, each
//!   line starting with a [`SeedLine`] tag; stdout carries [`Event`]s.
//!
//! Any other line on stdout is the user's code printing, passed on as it is.

#![allow(dead_code)]

use serde::{Deserialize, Serialize};

/// The database URL, with its secrets (the runner's environment, never its arguments).
pub const URL_VAR: &str = "DBM_DATABASE_URL";
/// PostgreSQL: the schema to put first on the search path.
pub const SCHEMA_VAR: &str = "DBM_SCHEMA";
/// What the runner is asked to do: a [`Mode`].
pub const MODE_VAR: &str = "DBM_MODE";
/// `user@host`, recorded in `dbm_history`.
pub const APPLIED_BY_VAR: &str = "DBM_APPLIED_BY";
/// Seed mode: the name of the migration crate's Rust seed function to call.
pub const SEED_FN_VAR: &str = "DBM_SEED_FN";
/// PostgreSQL: `lock_timeout` for each migration's transaction, in milliseconds (unset: none).
pub const LOCK_TIMEOUT_VAR: &str = "DBM_LOCK_TIMEOUT_MS";
/// PostgreSQL: `statement_timeout` for each migration's transaction, in milliseconds.
pub const STATEMENT_TIMEOUT_VAR: &str = "DBM_STATEMENT_TIMEOUT_MS";
/// Statements the runner runs for itself start with this comment (capture leaves them out).
pub const OWN_STATEMENT: &str = "/* cargo-dbm */ ";

/// What the runner does.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    /// Run the [`Step`]s read from stdin (the default when [`MODE_VAR`] is unset).
    Migrate,
    /// Print the compiled `Migrator::migrations()` as [`Event::Migration`]s.
    List,
    /// Load seed rows from stdin and call the Rust seed function, in one transaction.
    Seed,
    /// Run the [`DryRun`] read from stdin (one line) inside one transaction that is rolled
    /// back, reporting every statement ([`Event::Captured`]). Only the capture runner
    /// (built with its `capture` feature) records statements.
    DryRun,
    /// Run [`Batch`]es read from stdin, one target after another, until stdin closes.
    Serve,
}

impl Mode {
    pub fn as_str(self) -> &'static str {
        match self {
            Mode::Migrate => "migrate",
            Mode::List => "list",
            Mode::Seed => "seed",
            Mode::DryRun => "dry-run",
            Mode::Serve => "serve",
        }
    }

    /// Reads [`MODE_VAR`]'s value.
    pub fn parse(s: &str) -> Option<Mode> {
        [Mode::Migrate, Mode::List, Mode::Seed, Mode::DryRun, Mode::Serve]
            .into_iter()
            .find(|m| m.as_str() == s)
    }
}

/// Up or down.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[serde(rename_all = "lowercase")]
pub enum Direction {
    Up,
    Down,
}

impl Direction {
    pub fn as_str(self) -> &'static str {
        match self {
            Direction::Up => "up",
            Direction::Down => "down",
        }
    }
}

/// cargo dbm's audit table: one row per step, written by the runner with the step's
/// tracking row (and by `cargo dbm stamp`), read by `status`, `history` and `check`.
pub const HISTORY_TABLE: &str = "dbm_history";

/// What a row of [`HISTORY_TABLE`] records (its `direction` column).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Recorded {
    /// Applied (committed with its tracking row).
    Up,
    /// Reverted.
    Down,
    /// Recorded as applied without running (`stamp`, a baseline).
    Stamp,
    /// Recorded as not applied without running.
    Unstamp,
    /// A migration that cannot run in a transaction (MySQL's implicit DDL commits, or
    /// `use_transaction` off) started: written and committed before its first statement.
    /// Until a later row for the same version, the migration is *partially applied*.
    Started(Direction),
    /// A partially applied migration repaired by hand and recorded as such by `stamp`
    /// (the tracking table says whether it counts as applied).
    Settled,
    /// Written with an `up` row (in its transaction) when the migration was applied although
    /// a newer version was already applied (`cargo dbm up --out-of-order`).
    OutOfOrder,
}

impl Recorded {
    /// The column's text: `up`, `down`, `stamp`, `unstamp`, `started-up`, `started-down`.
    pub fn as_str(self) -> &'static str {
        match self {
            Recorded::Up => "up",
            Recorded::Down => "down",
            Recorded::Stamp => "stamp",
            Recorded::Unstamp => "unstamp",
            Recorded::Started(Direction::Up) => "started-up",
            Recorded::Started(Direction::Down) => "started-down",
            Recorded::Settled => "settled",
            Recorded::OutOfOrder => "out-of-order",
        }
    }

    /// Reads the column's text; `None` for a value this version does not know.
    pub fn parse(s: &str) -> Option<Recorded> {
        [
            Recorded::Up,
            Recorded::Down,
            Recorded::Stamp,
            Recorded::Unstamp,
            Recorded::Started(Direction::Up),
            Recorded::Started(Direction::Down),
            Recorded::Settled,
            Recorded::OutOfOrder,
        ]
        .into_iter()
        .find(|r| r.as_str() == s)
    }

    /// Whether the step it records was left unfinished.
    pub fn is_started(self) -> bool {
        matches!(self, Recorded::Started(_))
    }

    /// Whether the row says nothing of whether the migration is applied (a start, a
    /// repair recorded by `stamp`, or the note that an apply was out of order).
    pub fn is_marker(self) -> bool {
        matches!(self, Recorded::Started(_) | Recorded::Settled | Recorded::OutOfOrder)
    }

    /// A finished step in `direction`.
    pub fn done(direction: Direction) -> Recorded {
        match direction {
            Direction::Up => Recorded::Up,
            Direction::Down => Recorded::Down,
        }
    }
}

impl Serialize for Recorded {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl std::fmt::Display for Direction {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One migration to run: a JSON line on the runner's stdin.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Step {
    pub direction: Direction,
    /// The version as recorded in the tracking table (`MigrationName::name`).
    pub version: String,
    /// SHA-256 of the migration's source, recorded in `dbm_history`.
    pub checksum: Option<String>,
    /// SQLite: run with foreign key enforcement off for the migration's transaction, and
    /// `PRAGMA foreign_key_check` before the commit (table rebuilds). Set when the source
    /// carries the `cargo-dbm: foreign-keys-off` marker or its own `PRAGMA foreign_keys = OFF`.
    pub foreign_keys_off: bool,
    /// An `up` allowed although a newer version is already applied (`--out-of-order`): the
    /// runner records [`Recorded::OutOfOrder`] with it, in the same transaction.
    pub out_of_order: bool,
}

impl Step {
    /// The step as one line of the runner's input.
    pub fn to_line(&self) -> String {
        let mut line = serde_json::to_string(self).expect("a step serialises");
        line.push('\n');
        line
    }

    /// Reads one line of the runner's input.
    pub fn from_line(line: &str) -> Result<Step, String> {
        serde_json::from_str(line).map_err(|e| format!("bad step from cargo dbm ({e}): {line}"))
    }
}

/// Dry-run mode's input: one JSON line.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct DryRun {
    /// Statements run first in the transaction (the tracking tables where they are missing).
    pub setup: Vec<String>,
    pub steps: Vec<Step>,
}

impl DryRun {
    pub fn to_line(&self) -> String {
        let mut line = serde_json::to_string(self).expect("a dry run serialises");
        line.push('\n');
        line
    }

    pub fn from_line(line: &str) -> Result<DryRun, String> {
        serde_json::from_str(line).map_err(|e| format!("bad dry run from cargo dbm ({e}): {line}"))
    }
}

/// Serve mode's input: one target (its URL, with secrets: stdin is a pipe, never an
/// argument) and the steps to run on it, as in migrate mode.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Batch {
    pub url: String,
    /// PostgreSQL: the schema the steps run in (`search_path`).
    pub schema: Option<String>,
    pub steps: Vec<Step>,
}

impl Batch {
    pub fn to_line(&self) -> String {
        let mut line = serde_json::to_string(self).expect("a batch serialises");
        line.push('\n');
        line
    }

    pub fn from_line(line: &str) -> Result<Batch, String> {
        serde_json::from_str(line).map_err(|e| format!("bad batch from cargo dbm ({e})"))
    }
}

/// One statement a migration executed, as the capture runner saw it.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Captured {
    /// The SQL with its parameters written in as literals (as sea-orm logs it).
    pub sql: String,
    /// The parameters as bound, when the statement had any.
    pub params: Option<String>,
    /// How long it took, in microseconds (for a statement sea-orm does not time, until the
    /// next one started).
    pub micros: u64,
}

/// A row that `PRAGMA foreign_key_check` found without its parent.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Violation {
    pub table: String,
    /// The child row's rowid (`None` for a WITHOUT ROWID table).
    pub rowid: Option<i64>,
    pub parent: String,
}

/// What the runner reports: one JSON line on its stdout.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(tag = "event", rename_all = "snake_case", deny_unknown_fields)]
pub enum Event {
    /// A migration starts.
    Start {
        version: String,
        direction: Direction,
        /// Runs in a transaction with its tracking rows (all or nothing).
        transactional: bool,
        /// SQLite: with foreign key enforcement off, checked before the commit.
        foreign_keys_off: bool,
    },
    /// A migration and its tracking rows are committed.
    Done {
        version: String,
        direction: Direction,
        duration_ms: u64,
    },
    /// A migration failed; with `transactional`, nothing of it remains.
    Failed {
        version: String,
        direction: Direction,
        message: String,
        transactional: bool,
        /// Rows left without their parent by the migration (then rolled back).
        violations: Vec<Violation>,
        /// Outside a transaction: the statements that completed before the failure (they
        /// remain in the database).
        completed: Vec<String>,
    },
    /// The runner could not start its work (no URL, no connection, bad input).
    Fatal { message: String },
    /// Capture runner: the statements of one migration step (`version`), or of the dry
    /// run's setup (`None`), in order; sent before the step's `done` or `failed`.
    Captured {
        version: Option<String>,
        statements: Vec<Captured>,
    },
    /// Dry-run mode: these migrations cannot run inside the dry run's transaction (they opt
    /// out of transactions); nothing was run.
    NeedsScratch { versions: Vec<String> },
    /// List mode: one compiled migration, in the Migrator's order.
    Migration { version: String },
    /// Serve mode: the batch is over, with the exit code migrate mode would have had (0:
    /// every step done; 1: a step failed; 3: the target could not be reached).
    BatchDone { code: i32 },
    /// Seed mode: rows of part `part` (a table of the input, in order) were refused.
    SeedFailed {
        part: Option<usize>,
        row: Option<usize>,
        message: String,
    },
    /// Seed mode: the Rust seed function failed (or does not exist).
    FunctionFailed { message: String },
    /// Seed mode: everything is committed.
    Seeded,
}

impl Event {
    /// The event as one line of the runner's output.
    pub fn to_line(&self) -> String {
        serde_json::to_string(self).expect("an event serialises")
    }

    /// Reads one line of the runner's output: `None` for a line that is not an event (the
    /// user's code printing), an error for an event that does not fit these types.
    pub fn from_line(line: &str) -> Option<Result<Event, String>> {
        if !line.starts_with("{\"event\":") {
            return None;
        }
        Some(
            serde_json::from_str(line)
                .map_err(|e| format!("the runner sent an event cargo dbm does not understand ({e}): {line}")),
        )
    }
}

/// The tag that starts each line of the seed input (fields separated by tabs, escaped with
/// `seed_exec::wire_escape`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SeedLine {
    /// `X  sql`: run before the rows (clearing, deferring constraints).
    Before,
    /// `T  table  cols  casts`: a table starts; names and PostgreSQL casts joined by U+001F.
    Table,
    /// `R  v  v  …`: one row of the current table (`seed_exec::wire_val`).
    Row,
    /// `P  sql`: run after the Rust function (PostgreSQL sequences).
    After,
    /// `E`: end of input.
    End,
}

impl SeedLine {
    const ALL: [SeedLine; 5] = [
        SeedLine::Before,
        SeedLine::Table,
        SeedLine::Row,
        SeedLine::After,
        SeedLine::End,
    ];

    pub fn tag(self) -> &'static str {
        match self {
            SeedLine::Before => "X",
            SeedLine::Table => "T",
            SeedLine::Row => "R",
            SeedLine::After => "P",
            SeedLine::End => "E",
        }
    }

    pub fn parse(tag: &str) -> Option<SeedLine> {
        Self::ALL.into_iter().find(|l| l.tag() == tag)
    }
}
