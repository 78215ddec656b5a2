//! SQLite: destructive drops of existing tables and columns, and table rebuilds.
//!
//! A rebuild is SQLite's way to change what `ALTER TABLE` cannot, and what cargo dbm's
//! autogenerate writes: create a table under a temporary name, copy the rows, drop the
//! old table, rename the new one (or: rename the old one away, create the new one under
//! the old name, copy, drop the renamed one). Its `DROP TABLE` is not a destructive drop;
//! it is reported as `sqlite-table-rebuild`, a warning when the table has more than
//! [`LARGE_TABLE_ROWS`](super::LARGE_TABLE_ROWS) rows.
//!
//! Names are compared case-insensitively, as SQLite does.

use super::sql::Shape;
use super::{LARGE_TABLE_ROWS, Part, Raw, Severity};
use std::collections::{HashMap, HashSet};

pub(super) fn lint(parts: &[Part], row_counts: &HashMap<String, u64>) -> Vec<Raw> {
    let key = |s: &String| s.to_lowercase();
    let mut out = Vec::new();
    // Tables the migration created (under their current name).
    let mut created: HashSet<String> = HashSet::new();
    // Existing tables renamed away: temporary name → original name (as written).
    let mut renamed_away: HashMap<String, String> = HashMap::new();
    // Existing tables dropped and not (yet) replaced: name → (part, name as written).
    let mut dropped: HashMap<String, (usize, String)> = HashMap::new();

    for p in parts {
        match &p.shape {
            Shape::CreateTable(name) => {
                created.insert(key(name));
            }
            Shape::RenameTable { from, to } => {
                if created.remove(&key(from)) {
                    created.insert(key(to));
                    // create new, copy, drop old, rename new → old
                    if let Some((part, original)) = dropped.remove(&key(to)) {
                        out.push(rebuild(part, &original, row_counts));
                    }
                } else {
                    renamed_away.insert(key(to), from.clone());
                }
            }
            Shape::DropTable(names) => {
                for name in names {
                    if created.remove(&key(name)) {
                        continue;
                    }
                    match renamed_away.remove(&key(name)) {
                        // rename old away, create new under the old name, copy, drop old
                        Some(original) if created.contains(&key(&original)) => {
                            out.push(rebuild(p.index, &original, row_counts));
                        }
                        Some(_) => out.push(Raw::new(p.index, "ban-drop-table")),
                        None => {
                            dropped.insert(key(name), (p.index, name.clone()));
                        }
                    }
                }
            }
            Shape::DropColumn(table) if !created.contains(&key(table)) => {
                out.push(Raw::new(p.index, "ban-drop-column"));
            }
            _ => {}
        }
    }
    out.extend(dropped.into_values().map(|(part, _)| Raw::new(part, "ban-drop-table")));
    out
}

/// The finding of a rebuild of `table`, reported at its `DROP TABLE`.
fn rebuild(index: usize, table: &str, row_counts: &HashMap<String, u64>) -> Raw {
    let rows = row_counts
        .get(table)
        .or_else(|| {
            row_counts
                .iter()
                .find(|(t, _)| t.eq_ignore_ascii_case(table))
                .map(|(_, n)| n)
        })
        .copied();
    let (severity, detail) = match rows {
        Some(n) if n > LARGE_TABLE_ROWS => (Severity::Warning, format!("rebuilds table `{table}` ({n} rows)")),
        Some(n) => (Severity::Info, format!("rebuilds table `{table}` ({n} rows)")),
        None => (Severity::Info, format!("rebuilds table `{table}` (row count unknown)")),
    };
    Raw {
        index,
        rule: "sqlite-table-rebuild",
        severity: Some(severity),
        detail: Some(detail),
    }
}
