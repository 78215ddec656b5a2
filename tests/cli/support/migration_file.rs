//! The text of a sea-orm-migration file. Shared by the tests' migration builders and by
//! `cargo xtask bench` (which includes this file with `#[path]`), so it uses only `std`.

/// A migration file whose `up` and `down` methods have the bodies `up` and `down` (lines
/// indented by eight spaces, each ending with a newline), then `extra_impl` (more items) at
/// the end of the `impl MigrationTrait` block.
pub fn migration_file(up: &str, down: &str, extra_impl: &str) -> String {
    format!(
        r#"use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {{
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {{
{up}    }}

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {{
{down}    }}
{extra_impl}}}
"#
    )
}
