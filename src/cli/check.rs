//! `cargo dbm check`: the CI gate.

use crate::error::Result;
use crate::exit_codes;
use crate::ops::Ctx;
use crate::shell::Format;

pub async fn run(ctx: Ctx) -> Result<i32> {
    let problems = crate::ops::check::check(&ctx).await?;
    let code = problems.first().map(|p| p.exit_code()).unwrap_or(exit_codes::OK);
    let sh = &ctx.shell;
    if sh.format == Format::Json {
        sh.json(&serde_json::json!({
            "ok": problems.is_empty(),
            "exit_code": code,
            "database": ctx.url.redacted(),
            "problems": problems,
        }));
        return Ok(code);
    }
    if problems.is_empty() {
        sh.status(
            "Checked",
            format!("{}: migrations applied, sources unchanged", ctx.url.redacted()),
        );
        return Ok(code);
    }
    for p in &problems {
        eprintln!(
            "{}: {}",
            sh.paint(p.kind, console::Style::new().red().bold()),
            p.message
        );
    }
    let hint = match problems[0].kind {
        "pending" => "run `cargo dbm up`",
        "modified" => {
            "never edit an applied migration: restore it from version control and put the change in a new migration (`cargo dbm create`)"
        }
        "missing" => "restore the missing migration files",
        _ => "give each migration its own version",
    };
    sh.note(hint);
    Ok(code)
}
