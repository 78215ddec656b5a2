//! `cargo dbm`: manage the database of a SeaORM workspace.
//!
//! Bird's eye view (see `docs/architecture.md`):
//!
//! - [`cli`]: clap definitions; one thin module per command.
//! - [`ops`]: the work of each command, knowing nothing of clap.
//! - [`workspace`]: cargo metadata → migration crate, entity crates, configuration.
//! - [`cache`]: answers kept between runs while the files they came from are unchanged.
//! - [`config`]: database URL resolution and redaction of secrets.
//! - [`migrator_source`]: the list of migrations read from the Migrator's source (no build).
//! - [`plan`]: that list against the tracking table → what is applied, pending, missing.
//! - [`db`]: connections, tracking tables, the migration lock.
//! - [`backup`]: backup files: parallel compression, SQLite snapshots, pg_dump/pg_restore.
//! - [`runner`]: the generated crate that links the user's migrations, built and run
//!   only when user code must run.
//! - [`seed`]: seed files checked against the database and bulk-inserted.

// The futures of the fleet commands nest the single-target ones: deeper than the default.
#![recursion_limit = "256"]

pub mod autogen;
pub mod backup;
pub mod cache;
pub mod cli;
pub mod config;
pub mod context;
pub mod db;
pub mod engine;
pub mod error;
pub mod exit_codes;
pub mod fleet;
pub mod guard;
pub mod lint;
pub mod merge;
pub mod migrator_source;
pub mod naming;
pub mod ops;
pub mod plan;
pub mod process;
pub mod revision;
pub mod runner;
pub mod schema_diff;
pub mod seed;
pub mod shell;
pub mod tasks;
pub mod templates;
pub mod workspace;

pub use error::{Error, Result};
