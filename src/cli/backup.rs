//! `cargo dbm backup [DIR]` and `cargo dbm backup --list`

use super::fmt_time;
use crate::backup::compress::Codec;
use crate::backup::human_size;
use crate::error::Result;
use crate::exit_codes;
use crate::ops::Ctx;
use crate::ops::backup::BackupOptions;
use crate::shell::Format;
use serde_json::json;
use std::path::PathBuf;

#[derive(clap::Args, Debug)]
pub struct BackupArgs {
    /// Folder of the backups (default: `backup-dir` under [workspace.metadata.dbm], else `backups/`).
    dir: Option<PathBuf>,
    /// List the backups in the folder instead of taking one.
    #[arg(long, short)]
    list: bool,
    /// Compression (default: `backup-compression`, else gzip).
    #[arg(long, value_enum, value_name = "CODEC")]
    compression: Option<Codec>,
    /// Compression level (gzip 1-12, default 6; zstd 1-19, default 3).
    #[arg(long, value_name = "N")]
    level: Option<i32>,
    /// How many backups of this database to keep (default: `backup-keep`, else 10).
    #[arg(long, value_name = "N")]
    keep: Option<usize>,
    #[command(flatten)]
    fleet: super::fleet::FleetArgs,
    #[command(flatten)]
    keep_going: super::fleet::KeepGoingArgs,
}

pub async fn run(ctx: Ctx, args: BackupArgs) -> Result<i32> {
    let opts = BackupOptions {
        compression: args.compression,
        level: args.level,
        keep: args.keep,
        before_restore: false,
    };
    if let Some(selection) = args.fleet.selection() {
        if args.list {
            return Err(crate::Error::Usage(
                "`backup --list` lists one folder; list a target's backups with `cargo dbm backup --list <backup-dir>/<target>`".into(),
            ));
        }
        let fleet = args.fleet.resolve(&ctx, &selection).await?;
        let reports =
            crate::ops::fleet::backup(&ctx, &fleet, args.dir.as_deref(), &opts, args.keep_going.on_failure()).await?;
        return Ok(super::fleet::report(&ctx, "backed up", &reports));
    }
    args.fleet.check_single(args.keep_going.keep_going)?;
    if args.list {
        return list(&ctx, args);
    }
    let sh = &ctx.shell;
    sh.status("Backing up", ctx.url.redacted());
    let info = crate::ops::backup::backup(&ctx, args.dir.as_deref(), &opts).await?;
    let secs = info.duration_ms as f64 / 1000.0;
    sh.status(
        "Finished",
        format!(
            "{} ({}, {} of data, {:.1}s)",
            ctx.ws.rel(&info.path),
            human_size(info.size),
            human_size(info.data_bytes),
            secs
        ),
    );
    for p in &info.pruned {
        sh.status("Removed", format!("{} (keeping the newest)", ctx.ws.rel(p)));
    }
    if sh.format == Format::Json {
        sh.json(&json!({
            "file": info.path,
            "size": info.size,
            "data_bytes": info.data_bytes,
            "compression": info.compression,
            "engine": info.meta.engine,
            "database": info.meta.database,
            "head": info.meta.head,
            "applied": info.meta.applied,
            "created": super::rfc3339(info.meta.created_ms),
            "duration_ms": info.duration_ms,
            "pruned": info.pruned,
        }));
    }
    Ok(exit_codes::OK)
}

fn list(ctx: &Ctx, args: BackupArgs) -> Result<i32> {
    let (dir, entries) = crate::ops::backup::list(ctx, args.dir.as_deref())?;
    let sh = &ctx.shell;
    if sh.format == Format::Json {
        sh.json(&json!(
            entries
                .iter()
                .map(|e| json!({
                    "file": e.path,
                    "size": e.size,
                    "created": super::rfc3339(e.created_ms()),
                    "engine": e.meta.as_ref().map(|m| m.engine),
                    "database": e.meta.as_ref().map(|m| m.database.clone()),
                    "head": e.meta.as_ref().and_then(|m| m.head.clone()),
                    "kind": e.meta.as_ref().map(|m| m.kind),
                    "ours": e.is_ours(),
                }))
                .collect::<Vec<_>>()
        ));
        return Ok(exit_codes::OK);
    }
    if entries.is_empty() {
        sh.status("Backups", format!("none in {}", ctx.ws.rel(&dir)));
        return Ok(exit_codes::OK);
    }
    sh.status(
        "Backups",
        format!("{} in {}, newest last", entries.len(), ctx.ws.rel(&dir)),
    );
    let rows: Vec<[String; 5]> = entries
        .iter()
        .map(|e| {
            let (engine, head) = match &e.meta {
                Some(m) => (
                    format!("{} {}", m.engine, m.database),
                    m.head.clone().unwrap_or_else(|| "(no migration)".into()),
                ),
                None => ("?".into(), "? (not written by cargo dbm)".into()),
            };
            [
                e.file_name.clone(),
                human_size(e.size),
                fmt_time(e.created_ms() / 1000),
                engine,
                head,
            ]
        })
        .collect();
    let header = ["FILE", "SIZE", "TIME (UTC)", "DATABASE", "MIGRATION HEAD"];
    let mut widths = header.map(str::len);
    for r in &rows {
        for (w, c) in widths.iter_mut().zip(r) {
            *w = (*w).max(c.chars().count());
        }
    }
    let fmt = |cells: [&str; 5]| {
        format!(
            "{:<w0$}  {:>w1$}  {:<w2$}  {:<w3$}  {}",
            cells[0],
            cells[1],
            cells[2],
            cells[3],
            cells[4],
            w0 = widths[0],
            w1 = widths[1],
            w2 = widths[2],
            w3 = widths[3]
        )
    };
    // The table is the command's output: stdout, like `history`.
    println!("{}", sh.dim(fmt(header)));
    for r in &rows {
        println!("{}", fmt([&r[0], &r[1], &r[2], &r[3], &r[4]]));
    }
    Ok(exit_codes::OK)
}
