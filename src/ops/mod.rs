//! The work behind each command, free of any command-line parsing: each function takes
//! plain values and returns data that `cli` renders.

pub mod autogen;
pub mod backup;
pub mod check;
pub mod create;
pub mod dry_run;
pub mod fleet;
pub mod init;
pub mod lint;
pub mod migrate;
pub mod rebase;
pub mod resolve;
pub mod restore;
pub mod seed;
pub mod sql;
pub mod stamp;
pub mod status;
pub mod verify;

pub use crate::context::{Ctx, Options};
