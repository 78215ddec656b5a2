//! `cargo dbm lint [RANGE]`

use crate::error::Result;
use crate::exit_codes;
use crate::lint::Severity;
use crate::ops::Ctx;
use crate::shell::Format;

#[derive(clap::Args, Debug)]
pub struct LintArgs {
    /// Migrations to lint: `FROM..TO`, `..TO`, `FROM..` or `TO` (default: the pending ones;
    /// all of them when the database cannot be reached).
    range: Option<String>,
    /// Fail (exit 22) on warnings too, not only on errors.
    #[arg(long)]
    deny_warnings: bool,
    /// List the rules, with their levels, and exit.
    #[arg(long)]
    rules: bool,
    /// A database on a server of the same engine for the scratch database.
    #[arg(long, value_name = "URL", hide_env_values = true)]
    scratch_url: Option<String>,
}

pub async fn run(ctx: Ctx, args: LintArgs) -> Result<i32> {
    let sh = &ctx.shell;
    if args.rules {
        let rules = crate::lint::rules_for(ctx.url.engine);
        if sh.format == Format::Json {
            sh.json(&serde_json::json!(
                rules
                    .iter()
                    .map(
                        |(name, level, what)| serde_json::json!({"rule": name, "severity": level, "description": what})
                    )
                    .collect::<Vec<_>>()
            ));
        } else {
            for (name, level, what) in rules {
                println!("{:<8} {name:<45} {what}", level.to_string());
            }
        }
        return Ok(exit_codes::OK);
    }
    let report = crate::ops::lint::lint(&ctx, args.range.as_deref(), args.scratch_url.as_deref()).await?;
    let failing = match report.worst() {
        Some(Severity::Error) => true,
        Some(Severity::Warning) => args.deny_warnings,
        _ => false,
    };
    let code = if failing { exit_codes::LINT } else { exit_codes::OK };
    if sh.format == Format::Json {
        let mut v = serde_json::to_value(&report).unwrap_or_default();
        v["exit_code"] = code.into();
        sh.json(&v);
        return Ok(code);
    }
    if let Some(why) = &report.offline {
        sh.note(format!(
            "the database could not be read, so every migration is linted ({why})"
        ));
    }
    if report.migrations.is_empty() {
        sh.status("Finished", "nothing to lint: no migration in the range");
        return Ok(code);
    }
    for f in &report.findings {
        println!("{f}\n");
    }
    let count = |s: Severity| report.findings.iter().filter(|f| f.severity == s).count();
    sh.status(
        "Linted",
        format!(
            "{} migration(s) ({}): {} error(s), {} warning(s), {} note(s)",
            report.migrations.len(),
            report.range,
            count(Severity::Error),
            count(Severity::Warning),
            count(Severity::Info)
        ),
    );
    if failing {
        sh.note("fix them with the safe pattern shown, or, after review, allow one in the migration's file with `// cargo-dbm: allow(rule-name) -- why`");
    }
    Ok(code)
}
