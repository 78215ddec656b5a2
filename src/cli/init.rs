//! `cargo dbm init`

use crate::error::Result;
use crate::exit_codes;
use crate::ops::{Ctx, Options};
use crate::shell::Format;

#[derive(clap::Args, Debug)]
pub struct InitArgs {
    /// Package and folder name of a new migration crate.
    #[arg(long, default_value = "migration")]
    name: String,
}

pub async fn run(mut ctx: Ctx, opts: &Options, args: InitArgs) -> Result<i32> {
    let report = crate::ops::init::init(&mut ctx, opts, &args.name).await?;
    let sh = &ctx.shell;
    let dir = ctx.ws.rel(&report.migration_dir);
    if report.created_crate {
        sh.status(
            "Created",
            format!("migration crate `{}` in {dir}/", report.migration_crate),
        );
    } else if !report.migrator_in_module {
        sh.status(
            "Adopted",
            format!(
                "migration crate `{}` in {dir}/ ({})",
                report.migration_crate,
                migrations(report.migrations)
            ),
        );
    } else {
        // A Migrator inside another crate (an application's library): say where exactly.
        sh.status(
            "Adopted",
            format!(
                "Migrator `{}` of crate `{}` in {} ({})",
                report.migrator,
                report.migration_crate,
                ctx.ws.rel(&report.migrator_file),
                migrations(report.migrations)
            ),
        );
    }
    if report.added_member {
        sh.status("Added", format!("`{dir}` to the workspace members"));
    }
    if report.wrote_config {
        sh.status("Wrote", "[workspace.metadata.dbm] to Cargo.toml");
    }
    if let Some(db) = &report.created_database {
        sh.status("Created", format!("database {}", ctx.ws.rel(db)));
    }
    match (&report.merge_driver, &report.merge_driver_error) {
        (Some(d), _) => {
            let attrs = ctx.ws.rel(&d.attributes);
            if d.wrote_attributes {
                sh.status("Wrote", format!("`{}` to {attrs}", d.line));
            }
            if d.wrote_config {
                sh.status(
                    "Configured",
                    "git's merge driver for the Migrator in this clone (merge.cargo-dbm-migrator)",
                );
            }
            if d.wrote_attributes {
                sh.note(format!(
                    "commit {attrs}; each clone runs `cargo dbm init` once to set up the driver (git configuration is per clone)"
                ));
            }
        }
        (None, Some(e)) => sh.warn(format!("the git merge driver was not set up: {e}")),
        (None, None) => sh.note("not a git repository: no merge driver set up for the Migrator's file"),
    }
    if !report.changed() {
        sh.status("Unchanged", "the workspace is already set up; nothing changed");
    }
    sh.note(format!("database: {} (from {})", ctx.url.redacted(), ctx.url.source));
    if ctx.shell.format == Format::Json {
        ctx.shell.json(&serde_json::to_value(&report).unwrap_or_default());
    }
    Ok(exit_codes::OK)
}

fn migrations(n: usize) -> String {
    if n == 1 {
        "1 migration".into()
    } else {
        format!("{n} migrations")
    }
}
