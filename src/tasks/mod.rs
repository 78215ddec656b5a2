//! Work that several commands share, below `ops` (commands never call each other):
//!
//! - [`backup`]: taking a backup (the `backup` command, `up --backup`, restore's safety copy);
//! - [`scratch`]: scratch databases (`verify`, `check`, `--autogenerate`);
//! - [`schemas`]: the schema the migrations make and the one the entities want (`check`,
//!   `verify`, `--autogenerate`);
//! - [`capture`]: the statements migrations execute, on a scratch database (`--dry-run`
//!   of migrations that opt out of transactions, `sql`, `lint`);
//! - [`new_migration`]: writing a migration file and registering it (`create`,
//!   `--autogenerate`, `init`).

pub mod backup;
pub mod capture;
pub mod lint;
pub mod new_migration;
pub mod schemas;
pub mod scratch;
