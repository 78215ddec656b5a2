//! Lint findings for a range of migrations (`lint`, `check`): their statements captured on a
//! scratch database (see [`crate::tasks::capture`]), the tracking-table statements and the
//! reads left out, checked by [`crate::lint`] with the workspace's `lint-allow` and, on
//! SQLite, the row counts of the database's tables.

use crate::context::Ctx;
use crate::db::{Create, Db, tracking};
use crate::error::Result;
use crate::lint::{Finding, MigrationSql, Options};
use crate::migrator_source::MigratorSource;
use crate::tasks::capture::Range;
use std::collections::HashMap;

/// The findings of `range`'s `up` statements, built beside `scratch_base`.
pub async fn findings(
    ctx: &Ctx,
    src: &MigratorSource,
    scratch_base: &crate::config::DbUrl,
    range: &Range,
    with_db: bool,
) -> Result<Vec<Finding>> {
    if range.steps.is_empty() {
        return Ok(Vec::new());
    }
    let table = &ctx.tracking_table(src);
    let mig = ctx.ws.migration()?;
    let runner = crate::runner::build_capture(&ctx.ws, mig, &ctx.url, &ctx.shell).await?;
    let caps =
        crate::tasks::capture::on_scratch(ctx, scratch_base, &runner, table, &range.before, &range.steps).await?;
    if let Some(f) = caps.failure {
        return Err(f);
    }
    let mut migrations = Vec::new();
    for c in caps.captured.into_iter() {
        let Some(version) = c.version else { continue };
        let file = src
            .migrations
            .iter()
            .find(|m| m.name == version)
            .map(|m| m.file.clone())
            .unwrap_or_default();
        let source = std::fs::read_to_string(&file).unwrap_or_default();
        let statements = c
            .statements
            .into_iter()
            .map(|s| s.sql)
            .filter(|s| is_migration_statement(s, table))
            .collect();
        migrations.push(MigrationSql {
            version,
            file,
            source,
            statements,
        });
    }
    let row_counts = if with_db {
        row_counts(ctx, table).await
    } else {
        HashMap::new()
    };
    crate::lint::lint(
        &migrations,
        &Options {
            engine: ctx.url.engine,
            allow: &ctx.ws.config.lint_allow,
            row_counts: &row_counts,
        },
    )
}

/// A statement of the migration itself: not a read, not the tracking rows.
fn is_migration_statement(sql: &str, table: &str) -> bool {
    let tracking = [table, tracking::HISTORY_TABLE];
    crate::tasks::capture::is_change(sql)
        && !tracking
            .iter()
            .any(|t| sql.contains(&format!("\"{t}\"")) || sql.contains(&format!("`{t}`")))
}

/// SQLite: rows per table, so that a rebuild of a large table is told from a small one.
async fn row_counts(ctx: &Ctx, table: &str) -> HashMap<String, u64> {
    let mut out = HashMap::new();
    // Only an engine that rebuilds tables to alter them has rules that weigh their size.
    if ctx.url.engine.alters_in_place() {
        return out;
    }
    let Ok(Some(db)) = Db::open(&ctx.url, Create::No).await else {
        return out;
    };
    if let Ok(tables) = tracking::user_tables(&db, table).await {
        for t in tables {
            let sql = format!("SELECT COUNT(*) AS n FROM {}", db.url.engine.quote(&t));
            if let Ok(Some(row)) =
                sea_orm::ConnectionTrait::query_one_raw(&db.conn, sea_orm::Statement::from_string(db.backend(), sql))
                    .await
                && let Ok(n) = row.try_get::<i64>("", "n")
            {
                out.insert(t, n as u64);
            }
        }
    }
    db.close().await;
    out
}
