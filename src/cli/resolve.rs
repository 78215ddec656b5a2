//! `cargo dbm resolve [FILE]`: resolves the merge conflicts in the Migrator's file that
//! only register migrations.

use crate::error::Result;
use crate::exit_codes;
use crate::ops::Options;
use crate::shell::{Format, Shell};
use std::path::{Path, PathBuf};

#[derive(clap::Args, Debug)]
pub struct ResolveArgs {
    /// The file to resolve (default: the Migrator's file).
    file: Option<PathBuf>,
}

pub fn run(shell: Shell, opts: &Options, args: ResolveArgs) -> Result<i32> {
    let file = crate::ops::resolve::migrator_file(opts, args.file.as_deref())?;
    let report = crate::ops::resolve::resolve(&file)?;
    let code = if report.unresolved.is_empty() {
        exit_codes::OK
    } else {
        exit_codes::CONFLICT
    };
    if shell.format == Format::Json {
        let mut value = serde_json::to_value(&report).unwrap_or_default();
        value["exit_code"] = code.into();
        shell.json(&value);
    }
    let name = shown(&file);
    if !report.had_markers {
        shell.status("Unchanged", format!("{name} has no conflict markers"));
        return Ok(code);
    }
    for r in &report.resolved {
        let what = if r.modules.is_empty() {
            "nothing left to register".to_string()
        } else {
            r.modules.join(", ")
        };
        shell.status("Resolved", format!("{name} line {}: {what}", r.line));
    }
    for u in &report.unresolved {
        shell.warn(format!("{name} line {}: conflict left as it is: {}", u.line, u.reason));
    }
    if report.unresolved.is_empty() {
        shell.note(format!(
            "check the result, then `git add {name}` to mark the conflict resolved"
        ));
    } else {
        let lines: Vec<String> = report.unresolved.iter().map(|u| u.line.to_string()).collect();
        shell.error(&crate::Error::Other(format!(
            "{} conflict(s) in {name} need a person (line {}): edit them, then `git add {name}`",
            report.unresolved.len(),
            lines.join(", ")
        )));
    }
    Ok(code)
}

/// A path as the user would type it: relative to the current folder when inside it.
fn shown(file: &Path) -> String {
    std::env::current_dir()
        .ok()
        .and_then(|cwd| file.strip_prefix(cwd).ok().map(Path::to_path_buf))
        .unwrap_or_else(|| file.to_path_buf())
        .display()
        .to_string()
}
