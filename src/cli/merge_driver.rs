//! `cargo dbm merge-driver BASE OURS THEIRS [PATH]` (hidden): the merge driver git runs for
//! the Migrator's file (`%O %A %B %P`, set up by `cargo dbm init`). Needs no workspace,
//! database or network; writes the result into OURS. Exits 0 when merged, 1 when git's
//! conflict markers were left in OURS.

use crate::error::Result;
use crate::merge::git::{Merged, merge_driver};
use crate::shell::Shell;
use std::path::PathBuf;

#[derive(clap::Args, Debug)]
pub struct MergeDriverArgs {
    /// The common ancestor's version (git's %O).
    base: PathBuf,
    /// The current branch's version, where the result is written (git's %A).
    ours: PathBuf,
    /// The other branch's version (git's %B).
    theirs: PathBuf,
    /// The file's path in the repository, for messages (git's %P).
    path: Option<String>,
}

pub fn run(shell: &Shell, args: MergeDriverArgs) -> Result<i32> {
    let name = args.path.clone().unwrap_or_else(|| args.ours.display().to_string());
    Ok(match merge_driver(&args.base, &args.ours, &args.theirs)? {
        Merged::Registrations | Merged::ResolvedConflicts => {
            shell.status("Merged", format!("the migrations registered in {name} (cargo dbm)"));
            0
        }
        Merged::Clean => 0,
        Merged::Conflict => {
            shell.warn(format!(
                "cargo dbm could not merge {name} on its own: git's conflict markers are in it; `cargo dbm resolve` resolves the hunks that only register migrations"
            ));
            1
        }
    })
}
