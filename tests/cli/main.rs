//! Integration tests: the real `cargo-dbm` binary against fixture workspaces.
//! One module per command, as diesel_cli does.
// `[v.clone()]` reads better in an assertion than `std::slice::from_ref(&v)`.
#![allow(clippy::cloned_ref_to_slice_refs)]

mod support;

mod autogen;
mod backup;
mod baseline;
mod cache;
mod create;
mod dry_run;
mod errors;
mod fleet;
mod help;
mod in_app;
mod init;
mod lint;
mod mariadb;
mod merge;
mod migrate;
mod out_of_order;
mod real_projects;
mod rebase;
mod rebuild;
mod safety;
mod sea_orm_v1;
mod secrets;
mod seed;
mod sql;
mod verify;
