//! `cargo dbm sql [RANGE] [--down]`: the SQL script of a range of migrations, as Alembic's
//! offline mode writes it. The migrations run on a scratch database (never the user's)
//! through the capture runner; the script holds what they executed, one transaction per
//! migration where the engine allows, the tracking rows included, under a header naming the
//! range, the engine and the cargo-dbm version.

use super::Ctx;
use crate::db::tracking;
use crate::error::Result;
use crate::runner::Direction;
use crate::runner::protocol::Captured;

/// A script and what it holds.
#[derive(Debug, serde::Serialize)]
pub struct Script {
    /// `FROM..TO` as resolved.
    pub range: String,
    pub direction: Direction,
    pub migrations: Vec<String>,
    pub statements: usize,
    /// The database could not be read: the range starts at `base`.
    pub offline: Option<String>,
    #[serde(skip)]
    pub text: String,
}

/// Builds the script of `spec` (see [`crate::tasks::capture::range`]).
/// The scratch database is made beside `scratch` when given (a server of the same engine
/// the user can reach), else beside the workspace's database.
pub async fn sql(ctx: &Ctx, spec: Option<&str>, direction: Direction, scratch: Option<&str>) -> Result<Script> {
    let scratch_base = ctx.scratch_base(scratch)?;
    let mig = ctx.ws.migration()?;
    let (src, status, offline) = ctx.status_or_offline().await?;
    status.ensure_complete()?;
    let range = crate::tasks::capture::range(&status, spec, direction, offline.is_none())?;
    let mut script = Script {
        range: range.label.clone(),
        direction,
        migrations: range.steps.iter().map(|s| s.version.clone()).collect(),
        statements: 0,
        offline,
        text: String::new(),
    };
    let engine = ctx.url.engine;
    let mut text = header(ctx, &script);
    if range.steps.is_empty() {
        text.push_str("-- nothing to do: the range holds no migration\n");
        script.text = text;
        return Ok(script);
    }
    let runner = crate::runner::build_capture(&ctx.ws, mig, &ctx.url, &ctx.shell).await?;
    let table = ctx.tracking_table(&src);
    let caps =
        crate::tasks::capture::on_scratch(ctx, &scratch_base, &runner, &table, &range.before, &range.steps).await?;
    if let Some(f) = caps.failure {
        return Err(f);
    }
    text.push_str("\n-- the tracking tables, where missing\n");
    for s in tracking::install_sql(engine, &table) {
        text.push_str(&format!("{};\n", s.trim_end_matches(';')));
    }
    for (step, captured) in range
        .steps
        .iter()
        .zip(caps.captured.iter().filter(|c| c.version.is_some()))
    {
        let statements: Vec<&Captured> = captured
            .statements
            .iter()
            .filter(|c| crate::tasks::capture::is_change(&c.sql))
            .collect();
        script.statements += statements.len();
        text.push_str(&format!("\n-- {} ({})\n", step.version, step.direction));
        // Foreign key enforcement is turned off around a migration only where tables are
        // rebuilt to be altered (SQLite's pragma).
        let fk_off = step.foreign_keys_off && !engine.alters_in_place();
        if fk_off {
            text.push_str("PRAGMA foreign_keys = OFF;\n");
        }
        let txn = captured.transactional && engine.transactional_ddl();
        if txn {
            text.push_str("BEGIN;\n");
        }
        for c in statements {
            let sql = c.sql.trim().trim_end_matches(';');
            text.push_str(&format!("{sql};\n"));
        }
        if fk_off {
            text.push_str("-- must return no row before the commit\nPRAGMA foreign_key_check;\n");
        }
        if txn {
            text.push_str("COMMIT;\n");
        }
        if fk_off {
            text.push_str("PRAGMA foreign_keys = ON;\n");
        }
    }
    script.text = text;
    Ok(script)
}

fn header(ctx: &Ctx, script: &Script) -> String {
    let engine = ctx.url.engine;
    let apply = engine.script_shell();
    let mut h = format!(
        "-- cargo dbm sql: {} {} for {}, by cargo-dbm {}\n",
        script.direction,
        script.range,
        engine.name(),
        env!("CARGO_PKG_VERSION")
    );
    h.push_str(
        "-- Built on a scratch database brought to the range's start by the migrations: statements\n\
         -- a migration chose by reading data (e.g. `has_column` checks) reflect that database,\n\
         -- not yours. The tracking rows carry the time the script was made.\n",
    );
    if let Some(why) = &script.offline {
        h.push_str(&format!(
            "-- The database could not be read ({}), so the range starts at base.\n",
            why.replace('\n', " ")
        ));
    }
    h.push_str(&format!("-- Apply with: {apply}\n"));
    if let Some(schema) = &ctx.url.schema {
        h.push_str(&format!("SET search_path TO {};\n", engine.quote(schema)));
    }
    h
}
