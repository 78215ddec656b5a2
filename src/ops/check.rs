//! `check`: the CI gate. Everything that makes the database and the migration crate
//! disagree, each with a readable reason.

use super::Ctx;
use crate::error::Result;
use crate::exit_codes;

/// One reason the check fails.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Problem {
    /// `pending`, `modified`, `missing`, `duplicate`.
    pub kind: &'static str,
    pub version: String,
    pub file: Option<std::path::PathBuf>,
    pub message: String,
}

impl Problem {
    /// The exit code of this kind of problem.
    pub fn exit_code(&self) -> i32 {
        match self.kind {
            "missing" => exit_codes::HISTORY,
            "pending" => exit_codes::PENDING,
            _ => exit_codes::DRIFT,
        }
    }
}

/// The problems found, most severe first (the first one's exit code is the command's).
/// With `entities`, the entities are also compared with the schema the migrations produce
/// (this compiles the migrations and the entities, on scratch databases).
pub async fn check(ctx: &Ctx, entities: bool) -> Result<Vec<Problem>> {
    let (_, st) = ctx.status().await?;
    let mut out = Vec::new();
    for m in &st.missing {
        out.push(Problem {
            kind: "missing",
            version: m.version.clone(),
            file: None,
            message: format!("`{}` is applied but has no file in the migration crate", m.version),
        });
    }
    for v in st.duplicates() {
        out.push(Problem {
            kind: "duplicate",
            message: format!("`{v}` is listed more than once in the Migrator"),
            version: v,
            file: None,
        });
    }
    for e in st.entries.iter().filter(|e| e.modified) {
        out.push(Problem {
            kind: "modified",
            version: e.file.name.clone(),
            file: Some(e.file.file.clone()),
            message: format!(
                "`{}` was changed after it was applied ({})",
                e.file.name,
                ctx.ws.rel(&e.file.file)
            ),
        });
    }
    if entities && !ctx.ws.entities.is_empty() && st.missing.is_empty() && st.duplicates().is_empty() {
        let (migrated, wanted) = super::autogen::schemas(ctx).await?;
        for c in crate::schema_diff::diff(&migrated, &wanted) {
            out.push(Problem {
                kind: "entities",
                version: String::new(),
                file: None,
                message: format!("the entities differ from the migrations: {c}"),
            });
        }
    }
    for e in st.pending() {
        out.push(Problem {
            kind: "pending",
            version: e.file.name.clone(),
            file: Some(e.file.file.clone()),
            message: format!("`{}` is not applied", e.file.name),
        });
    }
    Ok(out)
}
