//! The difference between two schema snapshots, as a list of readable changes. Names of
//! constraints and indexes are not compared (two databases built by different code name them
//! differently); what they do is.
//!
//! Comparing the entities with the migrations ([`reconcile`] then [`diff`]) follows one rule
//! for `check`, `verify` and `--autogenerate`: what an entity does not say is not a
//! difference. An entity cannot state index names, foreign key actions it leaves out,
//! indexes and foreign keys it has no attribute for, a column default it does not declare,
//! or the exact spelling of a type among the ones its Rust type maps to; those are taken
//! from the migrations' schema before the two are compared.

use crate::config::Engine;
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
    /// The same columns and referenced table, other actions.
    AlterForeignKey {
        table: String,
        from: ForeignKey,
        to: ForeignKey,
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
            Change::AlterForeignKey { table, from, to } => write!(
                f,
                "foreign key `{table}` ({}) -> `{}` ({}) changed: on delete {}, on update {} -> on delete {}, on update {}",
                to.columns.join(", "),
                to.ref_table,
                to.ref_columns.join(", "),
                from.on_delete,
                from.on_update,
                to.on_delete,
                to.on_update
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

/// What identifies a foreign key: its columns and what they reference.
fn same_key(a: &ForeignKey, b: &ForeignKey) -> bool {
    a.columns == b.columns && a.ref_table == b.ref_table && a.ref_columns == b.ref_columns
}

/// The action a database reports for a foreign key that states none.
const NO_ACTION: &str = "NO ACTION";

/// The entities' schema `entities`, with what the entities cannot say taken from the
/// migrations' schema `migrated` (see the module's documentation): the schema the entities
/// ask for, to compare with `migrated` by [`diff`] and to generate a minimal migration from.
pub fn reconcile(migrated: &Schema, entities: &Schema, engine: Engine) -> Schema {
    let mut out = entities.clone();
    for (name, want) in out.tables.iter_mut() {
        let Some(have) = migrated.tables.get(name) else {
            continue;
        };
        reconcile_table(have, want, entities, engine);
    }
    out
}

fn reconcile_table(have: &Table, want: &mut Table, entities: &Schema, engine: Engine) {
    // Columns: existing ones keep the migrations' order, new ones follow.
    let mut columns: Vec<Column> = Vec::with_capacity(want.columns.len());
    for h in &have.columns {
        if let Some(w) = want.columns.iter().find(|w| w.name == h.name) {
            let mut w = w.clone();
            if engine.same_type(&h.sql_type, &w.sql_type) {
                w.sql_type = h.sql_type.clone();
            }
            if w.default.is_none() {
                w.default = h.default.clone();
            }
            // SQLite: an INTEGER PRIMARY KEY assigns new ids either way; AUTOINCREMENT only
            // stops their reuse, which an entity's `auto_increment` does not promise.
            if !engine.compares_auto_increment()
                && have.primary_key == [h.name.clone()]
                && w.auto_increment != h.auto_increment
            {
                w.auto_increment = h.auto_increment;
            }
            columns.push(w);
        }
    }
    for w in &want.columns {
        if !have.columns.iter().any(|h| h.name == w.name) {
            columns.push(w.clone());
        }
    }
    want.columns = columns;
    let names: Vec<String> = want.columns.iter().map(|c| c.name.clone()).collect();
    let kept = |cols: &[String]| cols.iter().all(|c| names.contains(c));

    // Indexes: one the entities do not declare is not theirs to drop; names come from the
    // migrations.
    for (key, h) in &have.indexes {
        match want.indexes.get_mut(key) {
            Some(w) => {
                w.name = h.name.clone();
                w.constraint = h.constraint;
            }
            None if kept(&h.columns) => {
                want.indexes.insert(key.clone(), h.clone());
            }
            None => {}
        }
    }

    // Foreign keys: an action the entity leaves out (reported as NO ACTION) is the
    // migrations'; a key it does not declare at all is kept while what it references stays
    // (a key to a table the entities drop goes with it).
    let target_stays = |fk: &ForeignKey| {
        entities
            .tables
            .get(&fk.ref_table)
            .is_some_and(|t| fk.ref_columns.iter().all(|c| t.columns.iter().any(|x| &x.name == c)))
    };
    for h in &have.foreign_keys {
        match want.foreign_keys.iter_mut().find(|w| same_key(w, h)) {
            Some(w) => {
                if w.on_delete == NO_ACTION {
                    w.on_delete = h.on_delete.clone();
                }
                if w.on_update == NO_ACTION {
                    w.on_update = h.on_update.clone();
                }
                w.name = h.name.clone();
            }
            None if kept(&h.columns) && target_stays(h) => want.foreign_keys.push(h.clone()),
            None => {}
        }
    }
    want.foreign_keys.sort();
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
        match old.foreign_keys.iter().find(|o| same_key(o, fk)) {
            None => out.push(Change::AddForeignKey {
                table: t(),
                fk: fk.clone(),
            }),
            Some(o) if o.on_delete != fk.on_delete || o.on_update != fk.on_update => {
                out.push(Change::AlterForeignKey {
                    table: t(),
                    from: o.clone(),
                    to: fk.clone(),
                })
            }
            Some(_) => {}
        }
    }
    for fk in &old.foreign_keys {
        if !new.foreign_keys.iter().any(|n| same_key(n, fk)) {
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

    fn fk(cols: &str, to: &str, on_delete: &str) -> ForeignKey {
        ForeignKey {
            columns: vec![cols.into()],
            ref_table: to.into(),
            ref_columns: vec!["id".into()],
            on_delete: on_delete.into(),
            on_update: NO_ACTION.into(),
            name: String::new(),
        }
    }

    #[test]
    fn what_an_entity_does_not_say_is_taken_from_the_migrations() {
        let table = |cols: &[(&str, &str)], fks: Vec<ForeignKey>| Table {
            columns: cols.iter().map(|(n, t)| col(n, t, false)).collect(),
            primary_key: vec!["id".into()],
            foreign_keys: fks,
            ..Default::default()
        };
        let mut migrated = Schema::default();
        migrated.tables.insert(
            "customer".into(),
            table(&[("id", "integer"), ("name", "varchar")], vec![]),
        );
        migrated.tables.insert(
            "purchase".into(),
            table(
                &[("id", "integer"), ("customer_id", "bigint"), ("at", "varchar")],
                vec![fk("customer_id", "customer", "CASCADE")],
            ),
        );
        // The entity: no action on its relation, `i64` as `integer`... and `at` a DateTime.
        let mut entities = migrated.clone();
        let p = entities.tables.get_mut("purchase").unwrap();
        p.foreign_keys = vec![fk("customer_id", "customer", NO_ACTION)];
        p.columns[1].sql_type = "integer".into();
        p.columns[2].sql_type = "datetime_text".into();
        let wanted = reconcile(&migrated, &entities, Engine::Sqlite);
        let changes: Vec<String> = diff(&migrated, &wanted).iter().map(ToString::to_string).collect();
        assert_eq!(
            changes,
            ["column `purchase.at` changed: varchar, not null -> datetime_text, not null"]
        );

        // A relation the entity leaves out entirely stays, unless its parent goes.
        entities.tables.get_mut("purchase").unwrap().foreign_keys.clear();
        entities.tables.get_mut("purchase").unwrap().columns[2].sql_type = "varchar".into();
        assert!(diff(&migrated, &reconcile(&migrated, &entities, Engine::Sqlite)).is_empty());
        entities.tables.remove("customer");
        let changes: Vec<String> = diff(&migrated, &reconcile(&migrated, &entities, Engine::Sqlite))
            .iter()
            .map(ToString::to_string)
            .collect();
        assert_eq!(
            changes,
            [
                "foreign key `purchase` (customer_id) -> `customer` (id) dropped",
                "table `customer` dropped"
            ]
        );

        // An action the entity states is compared, and reported once.
        let mut entities = migrated.clone();
        entities.tables.get_mut("purchase").unwrap().foreign_keys = vec![fk("customer_id", "customer", "SET NULL")];
        let changes = diff(&migrated, &reconcile(&migrated, &entities, Engine::Postgres));
        assert!(
            matches!(changes.as_slice(), [Change::AlterForeignKey { .. }]),
            "{changes:?}"
        );
    }

    fn col(name: &str, ty: &str, nullable: bool) -> Column {
        Column {
            name: name.into(),
            sql_type: ty.into(),
            nullable,
            default: None,
            auto_increment: false,
            generated: false,
            kind: Default::default(),
            sequence: None,
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
