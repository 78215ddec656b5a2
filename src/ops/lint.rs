//! `cargo dbm lint [RANGE]`: the statements of the pending (or given) migrations checked
//! against lock-safety and compatibility rules ([`crate::lint`]), on a scratch database.

use super::Ctx;
use crate::error::Result;
use crate::lint::{Finding, Severity};
use crate::runner::Direction;

/// What `lint` found.
#[derive(Debug, serde::Serialize)]
pub struct Report {
    /// `FROM..TO` as resolved.
    pub range: String,
    pub migrations: Vec<String>,
    pub findings: Vec<Finding>,
    /// The database could not be read: the range starts at `base`.
    pub offline: Option<String>,
}

impl Report {
    /// The most severe finding's level.
    pub fn worst(&self) -> Option<Severity> {
        self.findings.iter().map(|f| f.severity).max()
    }
}

/// Lints `spec` (default: the pending migrations, or all of them offline).
pub async fn lint(ctx: &Ctx, spec: Option<&str>, scratch: Option<&str>) -> Result<Report> {
    let (src, status, offline) = ctx.status_or_offline().await?;
    status.ensure_complete()?;
    let range = crate::tasks::capture::range(&status, spec, Direction::Up, offline.is_none())?;
    let base = ctx.scratch_base(scratch)?;
    let findings = crate::tasks::lint::findings(ctx, &src, &base, &range, offline.is_none()).await?;
    Ok(Report {
        range: range.label,
        migrations: range.steps.iter().map(|s| s.version.clone()).collect(),
        findings,
        offline,
    })
}
