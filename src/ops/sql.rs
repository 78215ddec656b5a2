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
        let statements: Vec<&Captured> = captured.statements.iter().filter(|c| is_change(&c.sql)).collect();
        script.statements += statements.len();
        text.push_str(&format!("\n-- {} ({})\n", step.version, step.direction));
        let fk_off = step.foreign_keys_off && engine == crate::engine::Engine::Sqlite;
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
    let apply = match engine.name() {
        "postgres" => "psql -v ON_ERROR_STOP=1 -f FILE",
        "sqlite" => "sqlite3 DATABASE < FILE",
        _ => "mariadb DATABASE < FILE",
    };
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

/// Whether a statement changes something (a script leaves out the reads a migration made).
fn is_change(sql: &str) -> bool {
    let s = sql.trim_start().to_ascii_uppercase();
    let first = s.split(|c: char| !c.is_ascii_alphabetic()).next().unwrap_or("");
    match first {
        "SELECT" | "SHOW" | "EXPLAIN" | "VALUES" => false,
        "WITH" => !s.contains("SELECT") || s.contains("INSERT") || s.contains("UPDATE") || s.contains("DELETE"),
        // The runner's own foreign-key handling is written around the migration instead.
        "PRAGMA" => s.contains('=') && !s.contains("FOREIGN_KEYS"),
        _ => true,
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn reads_are_left_out_of_scripts() {
        use super::is_change;
        assert!(is_change("CREATE TABLE x (id int)"));
        assert!(is_change("INSERT INTO \"seaql_migrations\" VALUES ('m1', 1)"));
        assert!(!is_change("SELECT COUNT(*) FROM pg_tables"));
        assert!(!is_change("  select 1"));
        assert!(!is_change("PRAGMA foreign_keys"));
        assert!(!is_change("PRAGMA foreign_keys = OFF"));
        assert!(!is_change("PRAGMA foreign_key_check"));
        assert!(is_change("PRAGMA user_version = 3"));
        assert!(is_change("WITH x AS (SELECT 1) INSERT INTO t SELECT * FROM x"));
        assert!(!is_change("WITH x AS (SELECT 1) SELECT * FROM x"));
    }
}
