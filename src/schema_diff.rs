//! The difference between two schema snapshots, as a list of readable changes. Names of
//! constraints and indexes are not compared (two databases built by different code name them
//! differently); what they do is.

use crate::db::snapshot::{Column, ForeignKey, Index, Schema, Table};
use std::fmt;

/// One difference, from `from` to `to`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(tag = "change", rename_all = "snake_case")]
pub enum Change {
    CreateTable {
        table: String,
        def: Table,
    },
    DropTable {
        table: String,
        def: Table,
    },
    AddColumn {
        table: String,
        column: Column,
    },
    DropColumn {
        table: String,
        column: Column,
    },
    AlterColumn {
        table: String,
        from: Column,
        to: Column,
    },
    PrimaryKey {
        table: String,
        from: Vec<String>,
        to: Vec<String>,
    },
    AddIndex {
        table: String,
        index: Index,
    },
    DropIndex {
        table: String,
        index: Index,
    },
    AddForeignKey {
        table: String,
        fk: ForeignKey,
    },
    DropForeignKey {
        table: String,
        fk: ForeignKey,
    },
    CreateEnum {
        name: String,
        labels: Vec<String>,
    },
    DropEnum {
        name: String,
        labels: Vec<String>,
    },
    AlterEnum {
        name: String,
        from: Vec<String>,
        to: Vec<String>,
    },
}

impl Change {
    /// Whether applying this change loses data.
    pub fn is_destructive(&self) -> bool {
        matches!(
            self,
            Change::DropTable { .. } | Change::DropColumn { .. } | Change::DropEnum { .. }
        )
    }
}

fn col_desc(c: &Column) -> String {
    let mut s = c.sql_type.clone();
    s.push_str(if c.nullable { ", null" } else { ", not null" });
    if let Some(d) = &c.default {
        s.push_str(&format!(", default {d}"));
    }
    if c.auto_increment {
        s.push_str(", auto increment");
    }
    s
}

impl fmt::Display for Change {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Change::CreateTable { table, def } => write!(f, "table `{table}` added ({} columns)", def.columns.len()),
            Change::DropTable { table, .. } => write!(f, "table `{table}` dropped"),
            Change::AddColumn { table, column } => {
                write!(f, "column `{table}.{}` added ({})", column.name, col_desc(column))
            }
            Change::DropColumn { table, column } => write!(f, "column `{table}.{}` dropped", column.name),
            Change::AlterColumn { table, from, to } => {
                write!(
                    f,
                    "column `{table}.{}` changed: {} -> {}",
                    to.name,
                    col_desc(from),
                    col_desc(to)
                )
            }
            Change::PrimaryKey { table, from, to } => {
                write!(
                    f,
                    "primary key of `{table}` changed: ({}) -> ({})",
                    from.join(", "),
                    to.join(", ")
                )
            }
            Change::AddIndex { table, index } => {
                write!(f, "{} on `{table}` ({}) added", kind(index), index.columns.join(", "))
            }
            Change::DropIndex { table, index } => {
                write!(f, "{} on `{table}` ({}) dropped", kind(index), index.columns.join(", "))
            }
            Change::AddForeignKey { table, fk } => write!(
                f,
                "foreign key `{table}` ({}) -> `{}` ({}) added",
                fk.columns.join(", "),
                fk.ref_table,
                fk.ref_columns.join(", ")
            ),
            Change::DropForeignKey { table, fk } => write!(
                f,
                "foreign key `{table}` ({}) -> `{}` ({}) dropped",
                fk.columns.join(", "),
                fk.ref_table,
                fk.ref_columns.join(", ")
            ),
            Change::CreateEnum { name, labels } => write!(f, "enum `{name}` ({}) added", labels.join(", ")),
            Change::DropEnum { name, .. } => write!(f, "enum `{name}` dropped"),
            Change::AlterEnum { name, from, to } => {
                write!(f, "enum `{name}` changed: ({}) -> ({})", from.join(", "), to.join(", "))
            }
        }
    }
}

fn kind(i: &Index) -> &'static str {
    if i.unique { "unique index" } else { "index" }
}

fn fk_key(fk: &ForeignKey) -> (Vec<String>, String, Vec<String>, String, String) {
    (
        fk.columns.clone(),
        fk.ref_table.clone(),
        fk.ref_columns.clone(),
        fk.on_delete.clone(),
        fk.on_update.clone(),
    )
}

/// What turns `from` into `to`, tables in name order.
pub fn diff(from: &Schema, to: &Schema) -> Vec<Change> {
    let mut out = Vec::new();
    for (name, labels) in &to.enums {
        match from.enums.get(name) {
            None => out.push(Change::CreateEnum {
                name: name.clone(),
                labels: labels.clone(),
            }),
            Some(old) if old != labels => out.push(Change::AlterEnum {
                name: name.clone(),
                from: old.clone(),
                to: labels.clone(),
            }),
            _ => {}
        }
    }
    for (name, def) in &to.tables {
        match from.tables.get(name) {
            None => out.push(Change::CreateTable {
                table: name.clone(),
                def: def.clone(),
            }),
            Some(old) => diff_table(name, old, def, &mut out),
        }
    }
    for (name, def) in &from.tables {
        if !to.tables.contains_key(name) {
            out.push(Change::DropTable {
                table: name.clone(),
                def: def.clone(),
            });
        }
    }
    for (name, labels) in &from.enums {
        if !to.enums.contains_key(name) {
            out.push(Change::DropEnum {
                name: name.clone(),
                labels: labels.clone(),
            });
        }
    }
    out
}

fn diff_table(name: &str, old: &Table, new: &Table, out: &mut Vec<Change>) {
    let t = || name.to_string();
    for c in &new.columns {
        match old.columns.iter().find(|o| o.name == c.name) {
            None => out.push(Change::AddColumn {
                table: t(),
                column: c.clone(),
            }),
            Some(o) if o != c => out.push(Change::AlterColumn {
                table: t(),
                from: o.clone(),
                to: c.clone(),
            }),
            _ => {}
        }
    }
    for o in &old.columns {
        if !new.columns.iter().any(|c| c.name == o.name) {
            out.push(Change::DropColumn {
                table: t(),
                column: o.clone(),
            });
        }
    }
    if old.primary_key != new.primary_key {
        out.push(Change::PrimaryKey {
            table: t(),
            from: old.primary_key.clone(),
            to: new.primary_key.clone(),
        });
    }
    for (k, i) in &new.indexes {
        if !old.indexes.contains_key(k) {
            out.push(Change::AddIndex {
                table: t(),
                index: i.clone(),
            });
        }
    }
    for (k, i) in &old.indexes {
        if !new.indexes.contains_key(k) {
            out.push(Change::DropIndex {
                table: t(),
                index: i.clone(),
            });
        }
    }
    for fk in &new.foreign_keys {
        if !old.foreign_keys.iter().any(|o| fk_key(o) == fk_key(fk)) {
            out.push(Change::AddForeignKey {
                table: t(),
                fk: fk.clone(),
            });
        }
    }
    for fk in &old.foreign_keys {
        if !new.foreign_keys.iter().any(|n| fk_key(n) == fk_key(fk)) {
            out.push(Change::DropForeignKey {
                table: t(),
                fk: fk.clone(),
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn col(name: &str, ty: &str, nullable: bool) -> Column {
        Column {
            name: name.into(),
            sql_type: ty.into(),
            nullable,
            default: None,
            auto_increment: false,
        }
    }

    #[test]
    fn finds_each_kind_of_change_and_ignores_names() {
        let mut a = Schema::default();
        let mut t = Table {
            columns: vec![col("id", "integer", false), col("name", "text", true)],
            ..Default::default()
        };
        t.primary_key = vec!["id".into()];
        let idx = Index {
            name: "idx_a".into(),
            columns: vec!["name".into()],
            unique: false,
            constraint: false,
        };
        t.indexes.insert(idx.key(), idx);
        a.tables.insert("user".into(), t.clone());
        // Same schema, other index name: no difference.
        let mut b = a.clone();
        let renamed = Index {
            name: "idx_b".into(),
            columns: vec!["name".into()],
            unique: false,
            constraint: false,
        };
        b.tables.get_mut("user").unwrap().indexes.insert(renamed.key(), renamed);
        assert!(diff(&a, &b).is_empty());

        let bt = b.tables.get_mut("user").unwrap();
        bt.columns[1].nullable = false;
        bt.columns.push(col("phone", "varchar", true));
        b.tables.insert("post".into(), Table::default());
        let changes: Vec<String> = diff(&a, &b).iter().map(ToString::to_string).collect();
        assert_eq!(
            changes,
            [
                "table `post` added (0 columns)",
                "column `user.name` changed: text, null -> text, not null",
                "column `user.phone` added (varchar, null)"
            ]
        );
        let back = diff(&b, &a);
        assert!(
            back.iter()
                .any(|c| matches!(c, Change::DropTable { table, .. } if table == "post"))
        );
        assert!(back.iter().any(Change::is_destructive));
    }
}
