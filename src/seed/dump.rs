//! `seed --dump`: the database's rows written back as seed files that load again to the
//! same rows (YAML by default, or JSON or CSV).

use super::catalog::{Catalog, TableInfo};

use super::files;
use crate::error::{Error, IoContext, Result};
use serde_json::Value as J;
use std::path::{Path, PathBuf};

/// File format of a dump.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum DumpFormat {
    #[default]
    Yaml,
    Json,
    Csv,
}

impl DumpFormat {
    fn ext(self) -> &'static str {
        match self {
            DumpFormat::Yaml => "yaml",
            DumpFormat::Json => "json",
            DumpFormat::Csv => "csv",
        }
    }
}

/// Tables cargo-dbm or sea-orm-migration own, never dumped.
pub fn is_internal(table: &str) -> bool {
    matches!(table, "seaql_migrations" | "dbm_history" | "dbm_lock") || table.starts_with("sqlite_")
}

/// One file written.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Written {
    pub table: String,
    pub file: PathBuf,
    pub rows: usize,
}

/// A table's rows as JSON values (what YAML/JSON files hold).
pub type Rows = Vec<Vec<J>>;

pub(crate) fn hex(b: &[u8]) -> String {
    let mut s = String::with_capacity(2 + 2 * b.len());
    s.push_str("\\x");
    for x in b {
        s.push_str(&format!("{x:02x}"));
    }
    s
}

pub(crate) fn float(f: f64) -> J {
    serde_json::Number::from_f64(f).map(J::Number).unwrap_or_else(|| {
        J::String(if f.is_nan() {
            "NaN".into()
        } else if f > 0.0 {
            "Infinity".into()
        } else {
            "-Infinity".into()
        })
    })
}

fn csv_text(v: &J) -> Option<String> {
    match v {
        J::Null => None,
        J::String(s) => Some(s.clone()),
        other => Some(other.to_string()),
    }
}

fn render(format: DumpFormat, t: &TableInfo, rows: &Rows) -> Result<String> {
    let names: Vec<&str> = t.columns.iter().map(|c| c.name.as_str()).collect();
    let objects = || -> Vec<J> {
        rows.iter()
            .map(|r| J::Object(names.iter().zip(r).map(|(n, v)| (n.to_string(), v.clone())).collect()))
            .collect()
    };
    Ok(match format {
        DumpFormat::Json => {
            let mut s = serde_json::to_string_pretty(&J::Array(objects()))
                .map_err(|e| Error::Other(format!("could not write JSON: {e}")))?;
            s.push('\n');
            s
        }
        DumpFormat::Yaml => {
            // Keep column order: build YAML mappings by hand (serde_json sorts keys).
            let mut seq = Vec::with_capacity(rows.len());
            for r in rows {
                let mut m = serde_yaml_ng::Mapping::new();
                for (n, v) in names.iter().zip(r) {
                    let yv =
                        serde_yaml_ng::to_value(v).map_err(|e| Error::Other(format!("could not write YAML: {e}")))?;
                    m.insert(serde_yaml_ng::Value::String(n.to_string()), yv);
                }
                seq.push(serde_yaml_ng::Value::Mapping(m));
            }
            serde_yaml_ng::to_string(&serde_yaml_ng::Value::Sequence(seq))
                .map_err(|e| Error::Other(format!("could not write YAML: {e}")))?
        }
        DumpFormat::Csv => {
            let mut s = String::new();
            for (i, n) in names.iter().enumerate() {
                if i > 0 {
                    s.push(',');
                }
                files::csv_field(Some(n), &mut s);
            }
            s.push('\n');
            for r in rows {
                for (i, v) in r.iter().enumerate() {
                    if i > 0 {
                        s.push(',');
                    }
                    files::csv_field(csv_text(v).as_deref(), &mut s);
                }
                s.push('\n');
            }
            s
        }
    })
}

/// Writes every non-empty table (but cargo-dbm's own) to `dir`, one file per table,
/// replacing the files seeding those tables; a table now empty loses its file.
pub async fn dump(
    db: &crate::db::Db,
    catalog: &Catalog,
    dir: &Path,
    format: DumpFormat,
    tracking_table: &str,
) -> Result<Vec<Written>> {
    crate::workspace::create_dir_all(dir)?;
    let existing = files::discover(dir).unwrap_or_default();
    let mut written = Vec::new();
    for t in catalog.tables.values() {
        if is_internal(&t.name) || t.name == tracking_table {
            continue;
        }
        let rows = db.url.engine.read_rows(db, t).await?;
        let target = dir.join(format!("{}.{}", t.name, format.ext()));
        for (table, path) in &existing {
            if table == &t.name && path != &target {
                std::fs::remove_file(path).context(|| format!("could not remove `{}`", path.display()))?;
            }
        }
        if rows.is_empty() {
            if target.exists() {
                std::fs::remove_file(&target).context(|| format!("could not remove `{}`", target.display()))?;
            }
            continue;
        }
        let text = render(format, t, &rows)?;
        let tmp = target.with_extension(format!("{}.tmp", format.ext()));
        std::fs::write(&tmp, text).context(|| format!("could not write `{}`", tmp.display()))?;
        std::fs::rename(&tmp, &target).context(|| format!("could not write `{}`", target.display()))?;
        written.push(Written {
            table: t.name.clone(),
            file: target,
            rows: rows.len(),
        });
    }
    Ok(written)
}

/// A value read back as the database's text form, as JSON by the column's kind (booleans
/// are `t`/`true` on PostgreSQL, `1` on MySQL's `tinyint(1)`).
pub(crate) fn json_of_text(kind: super::convert::Kind, s: String) -> J {
    use super::convert::Kind;
    match kind {
        Kind::Int => s.parse::<i64>().map(J::from).unwrap_or(J::String(s)),
        Kind::Float => match s.parse::<f64>() {
            Ok(f) if f.is_finite() => float(f),
            _ => J::String(s),
        },
        Kind::Bool => J::Bool(matches!(s.as_str(), "t" | "true" | "1")),
        Kind::Json => serde_json::from_str(&s).unwrap_or(J::String(s)),
        _ => J::String(s),
    }
}
