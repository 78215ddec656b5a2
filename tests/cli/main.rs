//! Integration tests: the real `cargo-dbm` binary against fixture workspaces.
//! One module per command, as diesel_cli does.

mod support;

mod autogen;
mod backup;
mod baseline;
mod cache;
mod create;
mod errors;
mod help;
mod init;
mod migrate;
mod safety;
mod seed;
mod verify;
