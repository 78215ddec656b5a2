//! `create NAME`: a new migration file from the template, written next to the Migrator's
//! module and registered in it.

use crate::error::{Error, Result};
pub use crate::tasks::new_migration::Created;
use crate::tasks::new_migration::{local_template, write_new};
use crate::templates;
use crate::workspace::Workspace;

/// Writes `m<timestamp>_<slug>.rs` from the template and registers it; on any failure
/// nothing is left changed.
pub fn create(ws: &Workspace, description: &str) -> Result<Created> {
    let template = local_template(ws);
    write_new(ws, description, template.clone(), |vars| match &template {
        Some(path) => {
            let source = std::fs::read_to_string(path).map_err(|e| {
                Error::Config(format!(
                    "could not read the migration template `{}`: {e}",
                    path.display()
                ))
            })?;
            templates::render_source(&path.display().to_string(), &source, vars)
        }
        None => templates::MIGRATION.render(vars),
    })
}
