//! `resolve`: resolves the conflict hunks of the Migrator's file that only register
//! migrations (see [`crate::merge::markers`]), leaving any other hunk for the user.

use super::Options;
use crate::error::{Error, IoContext, Result};
use crate::merge::markers::{Resolved, Unresolved};
use crate::workspace::Workspace;
use std::path::{Path, PathBuf};

/// What `resolve` found and did.
#[derive(Debug, Clone, serde::Serialize)]
pub struct ResolveReport {
    /// The Migrator's file.
    pub file: PathBuf,
    /// Whether it had conflict markers at all.
    pub had_markers: bool,
    /// Whether it was rewritten.
    pub changed: bool,
    pub resolved: Vec<Resolved>,
    /// The hunks left in the file, for the user to fix.
    pub unresolved: Vec<Unresolved>,
}

/// The Migrator's file: `file` if given, else the workspace's, else (when the workspace
/// cannot be read because of them) the file whose conflict markers stopped it.
pub fn migrator_file(opts: &Options, file: Option<&Path>) -> Result<PathBuf> {
    if let Some(f) = file {
        return Ok(f.to_path_buf());
    }
    match Workspace::load(opts.manifest_path.as_deref()) {
        Ok(ws) => Ok(ws.migration()?.lib.clone()),
        Err(Error::ConflictMarkers { file }) => Ok(file),
        Err(e) => Err(e),
    }
}

/// Resolves the registration-only hunks of `file`, rewriting it (atomically) only if one
/// was resolved.
pub fn resolve(file: &Path) -> Result<ResolveReport> {
    let text = std::fs::read_to_string(file).context(|| format!("could not read `{}`", file.display()))?;
    let had_markers = crate::merge::has_conflict_markers(&text);
    if !had_markers {
        return Ok(ResolveReport {
            file: file.to_path_buf(),
            had_markers,
            changed: false,
            resolved: Vec::new(),
            unresolved: Vec::new(),
        });
    }
    let res = crate::merge::markers::resolve(&text);
    let changed = res.text != text;
    if changed {
        crate::tasks::new_migration::write_atomic(file, &res.text)?;
    }
    Ok(ResolveReport {
        file: file.to_path_buf(),
        had_markers,
        changed,
        resolved: res.resolved,
        unresolved: res.unresolved,
    })
}
