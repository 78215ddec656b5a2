//! `cargo dbm restore FILE|latest`

use crate::backup::human_size;
use crate::error::Result;
use crate::exit_codes;
use crate::ops::Ctx;
use crate::shell::Format;
use serde_json::json;
use std::path::PathBuf;

#[derive(clap::Args, Debug)]
pub struct RestoreArgs {
    /// The backup file, or `latest` for the newest backup of this database.
    file: String,
    /// Folder of the backups: where `latest` is looked for and the safety backup goes.
    #[arg(long, value_name = "DIR")]
    dir: Option<PathBuf>,
    #[command(flatten)]
    consent: super::ConsentArgs,
}

pub async fn run(ctx: Ctx, args: RestoreArgs) -> Result<i32> {
    let sh = &ctx.shell;
    let file = crate::ops::restore::resolve(&ctx, &args.file, args.dir.as_deref())?;
    sh.status("Verifying", ctx.ws.rel(&file));
    let verified = crate::ops::restore::verify(&ctx, &file).await?;
    let what = match &verified.meta {
        Some(m) => format!(
            "{} backup of {} taken {} UTC at {}",
            m.engine,
            m.database,
            super::fmt_time(m.created_ms / 1000),
            m.head.as_deref().unwrap_or("no migration")
        ),
        None => "a backup not written by cargo dbm".into(),
    };
    sh.status(
        "Verified",
        format!("{what} ({} of data)", human_size(verified.data_bytes)),
    );
    crate::guard::confirm(
        sh,
        &ctx.url,
        ctx.ws.config.protected,
        args.consent.into(),
        &format!(
            "replace the database with {} (a backup of the current one is taken first)",
            ctx.ws.rel(&file)
        ),
    )?;
    let restored = crate::ops::restore::apply(&ctx, verified, args.dir.as_deref()).await?;
    if let Some(s) = &restored.safety_backup {
        sh.status(
            "Saved",
            format!(
                "the previous database in {} ({})",
                ctx.ws.rel(&s.path),
                human_size(s.size)
            ),
        );
    }
    sh.status(
        "Restored",
        format!(
            "{} from {} in {:.1}s",
            ctx.url.redacted(),
            ctx.ws.rel(&restored.file),
            restored.duration_ms as f64 / 1000.0
        ),
    );
    if !restored.left_over.is_empty() {
        sh.warn(format!(
            "tables not in the backup were left as they are (pg_restore --clean replaces only what the backup contains): {}",
            restored.left_over.join(", ")
        ));
    }
    // The migration status of what was restored; a workspace without a migration crate
    // simply has none to show.
    let status = crate::ops::status::status(&ctx).await.ok();
    let counts = status.as_ref().map(|st| (st.applied().count(), st.pending().count()));
    if let Some((applied, pending)) = counts {
        sh.status("Migrations", format!("{applied} applied, {pending} pending"));
        if pending > 0 {
            sh.note("run `cargo dbm up` to apply the pending migrations");
        }
    }
    if sh.format == Format::Json {
        sh.json(&json!({
            "file": restored.file,
            "database": ctx.url.redacted(),
            "duration_ms": restored.duration_ms,
            "safety_backup": restored.safety_backup.as_ref().map(|s| &s.path),
            "left_over": restored.left_over,
            "applied": counts.map(|c| c.0),
            "pending": counts.map(|c| c.1),
        }));
    }
    Ok(exit_codes::OK)
}
