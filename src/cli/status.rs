//! `cargo dbm status | current | heads | history | info`: read-only, no compilation.

use super::{fmt_time, rfc3339};
use crate::error::Result;
use crate::exit_codes;
use crate::ops::Ctx;
use crate::plan::Status;
use crate::shell::Format;
use console::Style;
use serde_json::json;

fn entry_json(s: &Status, late: &[crate::plan::OutOfOrder]) -> serde_json::Value {
    json!(
        s.entries
            .iter()
            .map(|e| json!({
                "version": e.file.name,
                "status": if s.partial.iter().any(|p| p.version == e.file.name) { "partially-applied" } else if e.applied_at.is_some() { "applied" } else { "pending" },
                "applied_at": e.applied_at.map(|t| rfc3339(t * 1000)),
                "modified": e.modified,
                "out_of_order": late.iter().any(|o| o.version == e.file.name),
                "file": e.file.file,
            }))
            .collect::<Vec<_>>()
    )
}

#[derive(clap::Args, Debug)]
pub struct StatusArgs {
    #[command(flatten)]
    fleet: super::fleet::FleetArgs,
}

pub async fn status(ctx: Ctx, args: StatusArgs) -> Result<i32> {
    if let Some(selection) = args.fleet.selection() {
        return super::fleet::status(&ctx, &args.fleet, &selection).await;
    }
    args.fleet.check_single(false)?;
    let st = crate::ops::status::status(&ctx).await?;
    let sh = &ctx.shell;
    let pending = st.pending().count();
    let applied = st.applied().count();
    let modified: Vec<&str> = st.modified().map(|e| e.file.name.as_str()).collect();
    let partial: Vec<&str> = st.partial.iter().map(|p| p.version.as_str()).collect();
    let late = st.out_of_order();
    let unordered = st.unordered();
    let same_version = st.same_version();
    let misnamed: Vec<_> = st
        .misnamed()
        .into_iter()
        .map(|e| json!({"version": e.file.name, "module": e.file.module, "file": e.file.file}))
        .collect();
    let code = st.exit_code();
    if sh.format == Format::Json {
        sh.json(&json!({
            "database": ctx.url.redacted(),
            "engine": ctx.url.engine,
            "migration_crate": ctx.ws.migration()?.name,
            "applied": applied,
            "pending": pending,
            "migrations": entry_json(&st, &late),
            "missing": st.missing.iter().map(|m| json!({"version": m.version, "applied_at": rfc3339(m.applied_at * 1000)})).collect::<Vec<_>>(),
            "modified": modified,
            "partially_applied": st.partial,
            "out_of_order": late,
            "unordered": unordered,
            "same_version": same_version,
            "misnamed": misnamed,
            "exit_code": code,
        }));
        return Ok(code);
    }
    sh.status("Database", ctx.url.redacted());
    sh.status(
        "Migrations",
        format!(
            "{} ({applied} applied, {pending} pending)",
            ctx.ws.rel(&ctx.ws.migration()?.dir)
        ),
    );
    if !st.entries.is_empty() || !st.missing.is_empty() {
        // One write for the whole table: a workspace may list thousands of migrations.
        let mut table = String::from("\n");
        for e in &st.entries {
            let (state, when) = match e.applied_at {
                _ if partial.contains(&e.file.name.as_str()) => {
                    (sh.paint("partial", Style::new().red().bold()), String::new())
                }
                Some(t) => (sh.paint("applied", Style::new().green()), fmt_time(t)),
                None => (sh.paint("pending", Style::new().yellow().bold()), String::new()),
            };
            let flag = if e.modified {
                sh.paint("  (modified since applied)", Style::new().red())
            } else if let Some(o) = late.iter().find(|o| o.version == e.file.name) {
                sh.paint(
                    format!("  (out of order: sorts before the applied {})", o.precedes.join(", ")),
                    Style::new().red(),
                )
            } else {
                String::new()
            };
            table.push_str(&format!("  {state}  {when:<19}  {}{flag}\n", e.file.name));
        }
        for m in &st.missing {
            table.push_str(&format!(
                "  {}  {:<19}  {}\n",
                sh.paint("missing", Style::new().red().bold()),
                fmt_time(m.applied_at),
                m.version
            ));
        }
        sh.line(table);
    }
    for m in &modified {
        sh.warn(format!(
            "`{m}` was changed after it was applied; the database may not match its source"
        ));
    }
    for u in &unordered {
        sh.warn(format!(
            "the Migrator lists `{}` before `{}`, whose version is earlier; list them in version order",
            u.listed_first, u.listed_next
        ));
    }
    for g in &same_version {
        sh.warn(format!("{} share one version timestamp", g.join(" and ")));
    }
    for e in st.misnamed() {
        sh.note(format!(
            "`{}` is recorded under the name its `MigrationName` gives, `{}`, not its file's",
            ctx.ws.rel(&e.file.file),
            e.file.name
        ));
    }
    if !late.is_empty() {
        sh.warn(crate::error::out_of_order_message(&late));
        sh.note(crate::error::OUT_OF_ORDER_HINT);
    }
    if !st.partial.is_empty() {
        sh.warn(crate::error::partial_message(&st.partial));
        sh.note(crate::error::partial_hint(&st.partial));
    } else if !st.missing.is_empty() {
        sh.warn(format!(
            "{} applied migration(s) have no file in the migration crate; restore them before running up or down",
            st.missing.len()
        ));
    } else if pending > 0 {
        if late.is_empty() {
            sh.note(format!("{pending} pending; run `cargo dbm up` to apply"));
        }
    } else {
        sh.status("Up to date", "every migration is applied");
    }
    Ok(code)
}

pub async fn current(ctx: Ctx) -> Result<i32> {
    let st = crate::ops::status::status(&ctx).await?;
    let cur = st.current();
    if ctx.shell.format == Format::Json {
        ctx.shell.json(&json!({
            "current": cur.map(|e| &e.file.name),
            "applied_at": cur.and_then(|e| e.applied_at).map(|t| rfc3339(t * 1000)),
            "is_head": cur.map(|e| e.file.name.as_str()) == st.head().map(|e| e.file.name.as_str()),
        }));
    } else {
        match cur {
            Some(e) => {
                let head = if st.pending().next().is_none() { " (head)" } else { "" };
                println!("{}{head}", e.file.name);
            }
            None => println!("base (nothing applied)"),
        }
    }
    Ok(exit_codes::OK)
}

pub async fn heads(ctx: Ctx) -> Result<i32> {
    let h = crate::ops::status::heads(&ctx).await?;
    if ctx.shell.format == Format::Json {
        ctx.shell.json(&json!({
            "heads": h.heads,
            "branch_point": h.branch_point,
            "pending_out_of_order": h.pending_out_of_order,
            "applied_out_of_order": h.applied_out_of_order.iter().map(|i| json!({
                "version": i.version,
                "at": i.at_ms.map(rfc3339),
                "after": i.out_of_order_after,
            })).collect::<Vec<_>>(),
        }));
        return Ok(exit_codes::OK);
    }
    match h.heads.as_slice() {
        [] => println!("base (the migration crate has no migrations)"),
        [one] => println!("{one} (head)"),
        [last, newest, ..] => {
            println!("{last} (head: last in the Migrator's list)");
            println!("{newest} (head: newest version, listed earlier)");
        }
    }
    if let Some(bp) = &h.branch_point {
        println!("{bp} (branch point: the newest applied migration before the branches forked)");
    }
    for o in &h.pending_out_of_order {
        println!(
            "{} (pending, out of order: sorts before the applied {})",
            o.version,
            o.precedes.join(", ")
        );
    }
    for i in &h.applied_out_of_order {
        println!(
            "{} (applied out of order at {}, after {})",
            i.version,
            i.at_ms
                .map(|ms| fmt_time(ms / 1000))
                .unwrap_or_else(|| "an unknown time".into()),
            i.out_of_order_after.as_deref().unwrap_or("?")
        );
    }
    Ok(exit_codes::OK)
}

pub async fn history(ctx: Ctx) -> Result<i32> {
    let items = crate::ops::status::history(&ctx).await?;
    let sh = &ctx.shell;
    if sh.format == Format::Json {
        sh.json(&json!(
            items
                .iter()
                .map(|i| json!({
                    "version": i.version,
                    "direction": i.direction,
                    "at": i.at_ms.map(rfc3339),
                    "duration_ms": i.duration_ms,
                    "applied_by": i.applied_by,
                    "checksum": i.checksum,
                    "other_tool": i.other_tool,
                    "out_of_order_after": i.out_of_order_after,
                }))
                .collect::<Vec<_>>()
        ));
        return Ok(exit_codes::OK);
    }
    if items.is_empty() {
        sh.line("no migration has been applied to this database yet");
    }
    use crate::db::tracking::Recorded;
    // A start is worth a line only when nothing followed it: a migration that never
    // finished. A start followed by its end is the normal record of a step outside a
    // transaction (every step on MySQL).
    let unfinished = |n: usize| {
        let i = &items[n];
        i.direction.is_started()
            && !items[n + 1..]
                .iter()
                .any(|later| later.version == i.version && !later.other_tool)
    };
    for (n, i) in items.iter().enumerate() {
        let dir = match i.direction {
            Recorded::Up => sh.paint("up  ", Style::new().green()),
            Recorded::Down => sh.paint("down", Style::new().yellow()),
            Recorded::Started(_) if unfinished(n) => {
                sh.paint(format!("{} (never finished)", i.direction.as_str()), Style::new().red())
            }
            Recorded::Started(_) => continue,
            other => sh.paint(other.as_str(), Style::new().cyan()),
        };
        let mut note = if i.other_tool {
            "by another tool (seen in seaql_migrations)".to_string()
        } else {
            let dur = i.duration_ms.map(|d| format!("{d} ms")).unwrap_or_else(|| "-".into());
            format!("{dur}, {}", i.applied_by.as_deref().unwrap_or("-"))
        };
        if let Some(after) = &i.out_of_order_after {
            note.push_str(&format!(", out of order (after {after})"));
        }
        let when = match i.at_ms {
            Some(ms) => fmt_time(ms / 1000),
            None => format!("{:<19}", "(time unknown)"),
        };
        println!("{when}  {dir}  {}  {}", i.version, sh.dim(note));
    }
    Ok(exit_codes::OK)
}

pub async fn info(ctx: Ctx) -> Result<i32> {
    let ws = &ctx.ws;
    let sh = &ctx.shell;
    let mig = ws.migration.as_ref();
    let driver = mig.map(|m| crate::merge::git::state(&m.lib));
    if sh.format == Format::Json {
        sh.json(&json!({
            "workspace_root": ws.root,
            "target_dir": ws.target_dir,
            "database": ctx.url.redacted(),
            "database_source": ctx.url.source,
            "engine": ctx.url.engine,
            "migration_crate": mig,
            "entity_crates": ws.entities,
            "merge_driver": driver,
        }));
        return Ok(exit_codes::OK);
    }
    sh.status("Workspace", ws.root.display());
    sh.status("Database", format!("{} (from {})", ctx.url.redacted(), ctx.url.source));
    match mig {
        Some(m) => {
            let n = crate::migrator_source::MigratorSource::load(&m.lib)
                .map(|s| s.migrations.len().to_string())
                .unwrap_or_else(|e| format!("unreadable: {e}"));
            sh.status(
                "Migrations",
                format!("crate `{}` in {} ({n} migrations)", m.name, ws.rel(&m.dir)),
            );
        }
        None => sh.status("Migrations", "no migration crate (run `cargo dbm init`)"),
    }
    if let Some(d) = driver {
        sh.status("Merge driver", d.describe());
    }
    if ws.entities.is_empty() {
        sh.status("Entities", "none found (no module derives DeriveEntityModel)");
    }
    for c in &ws.entities {
        let list: Vec<String> = c
            .entities
            .iter()
            .map(|e| match &e.table {
                Some(t) => format!("{} ({t})", e.module),
                None => e.module.clone(),
            })
            .collect();
        sh.status("Entities", format!("crate `{}`: {}", c.name, list.join(", ")));
    }
    Ok(exit_codes::OK)
}
