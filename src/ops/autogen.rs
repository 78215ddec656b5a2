//! `create NAME --autogenerate`: a migration written from the difference between the
//! entities and the schema the migrations produce.
//!
//! Both schemas are built on scratch databases (see [`crate::tasks::schemas`]): all migrations
//! applied to one, the entities created with SeaORM's `SchemaBuilder` in the other. The
//! user's database is never touched.

use super::Ctx;
use crate::autogen::{Renames, generate, renames_in};
use crate::error::Result;
use crate::schema_diff::diff;
use crate::tasks::new_migration::{Created, write_new};
use crate::tasks::schemas::schemas;
use crate::templates;

/// What `--autogenerate` found and wrote.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Outcome {
    /// `None` when the entities match the migrations: nothing is written.
    pub created: Option<Created>,
    /// The changes `up` makes, readable.
    pub changes: Vec<String>,
    /// Changes that lose data (dropped tables, columns, enums).
    pub destructive: Vec<String>,
    pub warnings: Vec<String>,
}

/// Builds both schemas, compares them and writes the migration.
pub async fn autogenerate(ctx: &Ctx, description: &str) -> Result<Outcome> {
    crate::naming::slugify(description)?;
    let (before, after) = schemas(ctx).await?;

    let mut renames = Renames::new();
    for c in &ctx.ws.entities {
        for e in &c.entities {
            if let (Some(t), Ok(text)) = (&e.table, std::fs::read_to_string(&e.file)) {
                renames_in(&text, t, &mut renames);
            }
        }
    }
    let changes = diff(&before, &after);
    if changes.is_empty() {
        return Ok(Outcome {
            created: None,
            changes: Vec::new(),
            destructive: Vec::new(),
            warnings: Vec::new(),
        });
    }
    let renamed: Vec<(String, String)> = renames
        .iter()
        .flat_map(|(t, p)| p.iter().map(move |(o, n)| (t.clone(), format!("{o}->{n}"))))
        .collect();
    let up = generate(&before, &after, ctx.url.engine, &renames);
    // `down` undoes renames in the other direction.
    let reversed: Renames = renames
        .iter()
        .map(|(t, p)| (t.clone(), p.iter().map(|(o, n)| (n.clone(), o.clone())).collect()))
        .collect();
    let down = generate(&after, &before, ctx.url.engine, &reversed);

    let destructive: Vec<String> = changes
        .iter()
        .filter(|c| c.is_destructive())
        .filter(|c| match c {
            crate::schema_diff::Change::DropColumn { table, column } => !renamed
                .iter()
                .any(|(t, r)| t == table && r.starts_with(&format!("{}->", column.name))),
            _ => true,
        })
        .map(ToString::to_string)
        .collect();
    let mut warnings = up.warnings.clone();
    warnings.extend(down.warnings.iter().map(|w| format!("in `down`: {w}")));
    for d in &destructive {
        warnings.push(format!(
            "{d}: this destroys data; if it is a rename, declare it with `#[sea_orm(renamed_from = \"...\")]` and generate again"
        ));
    }
    let engine = ctx.url.engine.name();
    let created = write_new(&ctx.ws, description, None, |vars| {
        let mut ctx_vars: std::collections::BTreeMap<String, minijinja::Value> = std::collections::BTreeMap::new();
        for key in ["description", "version", "slug", "created"] {
            ctx_vars.insert(key.into(), vars.get_attr(key).unwrap_or_default());
        }
        ctx_vars.insert("engine".into(), engine.into());
        ctx_vars.insert("up".into(), up.code.clone().into());
        ctx_vars.insert("down".into(), down.code.clone().into());
        ctx_vars.insert("warnings".into(), minijinja::Value::from_serialize(&warnings));
        ctx_vars.insert(
            "foreign_keys_off".into(),
            (up.foreign_keys_off || down.foreign_keys_off).into(),
        );
        templates::AUTOGEN_MIGRATION.render(ctx_vars)
    })?;
    Ok(Outcome {
        created: Some(created),
        changes: changes.iter().map(ToString::to_string).collect(),
        destructive,
        warnings,
    })
}
