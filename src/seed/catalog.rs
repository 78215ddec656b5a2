//! What seeding needs to know of the database's tables: columns, their kinds and whether
//! they may be left out, and foreign keys; derived from the one schema model the engine
//! reads ([`crate::db::snapshot::Schema`]).

use super::convert::Kind;
use crate::db::Db;
use crate::db::snapshot::Schema;
use crate::engine::Engine;
use crate::error::Result;
use std::collections::{BTreeMap, BTreeSet};

/// One column.
#[derive(Debug, Clone)]
pub struct Column {
    pub name: String,
    pub kind: Kind,
    /// The declared type as the database spells it (`format_type` on PostgreSQL).
    pub sql_type: String,
    pub not_null: bool,
    /// Has a default (or is SQLite's rowid alias / a PostgreSQL identity), so it may be left out.
    pub has_default: bool,
    /// PostgreSQL: the sequence behind a serial/identity column.
    pub sequence: Option<String>,
}

/// One table.
#[derive(Debug, Clone)]
pub struct TableInfo {
    pub name: String,
    pub columns: Vec<Column>,
    /// Tables this one references (its foreign keys), itself included when self-referencing.
    pub parents: BTreeSet<String>,
}

impl TableInfo {
    pub fn column(&self, name: &str) -> Option<&Column> {
        self.columns.iter().find(|c| c.name == name)
    }
}

/// Every table of the database (the current schema on PostgreSQL).
#[derive(Debug, Clone, Default)]
pub struct Catalog {
    pub tables: BTreeMap<String, TableInfo>,
}

impl Catalog {
    /// Every table of the database (the current schema on PostgreSQL), from the engine's
    /// catalog.
    pub async fn read(db: &Db) -> Result<Catalog> {
        let schema = db.url.engine.read_schema(db).await?;
        Ok(Catalog::of(&schema, db.url.engine))
    }

    /// What seeding needs to know of `schema`'s tables.
    pub fn of(schema: &Schema, engine: Engine) -> Catalog {
        let tables = schema
            .tables
            .iter()
            .map(|(name, t)| {
                let columns = t
                    .columns
                    .iter()
                    .map(|c| Column {
                        name: c.name.clone(),
                        kind: c.kind,
                        sql_type: c.sql_type.clone(),
                        // A NULL given for a generated key asks for the next id, except on
                        // PostgreSQL, where only leaving it out does.
                        not_null: !c.nullable && (!c.generated || !engine.null_generates()),
                        has_default: c.default.is_some() || c.generated,
                        sequence: c.sequence.clone(),
                    })
                    .collect();
                let parents = t.foreign_keys.iter().map(|f| f.ref_table.clone()).collect();
                (
                    name.clone(),
                    TableInfo {
                        name: name.clone(),
                        columns,
                        parents,
                    },
                )
            })
            .collect();
        Catalog { tables }
    }

    /// Tables that reference `table` (directly).
    pub fn children_of<'a>(&'a self, table: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.tables
            .values()
            .filter(move |t| t.name != table && t.parents.contains(table))
            .map(|t| t.name.as_str())
    }
}

/// Orders `tables` so that every table comes after the tables it references (among
/// `tables`). Ties keep name order. Returns whether a cycle had to be broken.
pub fn fk_order(catalog: &Catalog, tables: &BTreeSet<String>) -> (Vec<String>, bool) {
    let mut done: Vec<String> = Vec::new();
    let mut left: BTreeSet<String> = tables.clone();
    let mut cycle = false;
    while !left.is_empty() {
        let ready: Vec<String> = left
            .iter()
            .filter(|t| {
                catalog
                    .tables
                    .get(*t)
                    .is_none_or(|info| info.parents.iter().all(|p| p == *t || !left.contains(p)))
            })
            .cloned()
            .collect();
        if ready.is_empty() {
            // A cycle: take the first remaining table; constraints are deferred.
            cycle = true;
            let first = left.iter().next().cloned().expect("non-empty");
            left.remove(&first);
            done.push(first);
            continue;
        }
        for t in ready {
            left.remove(&t);
            done.push(t);
        }
    }
    (done, cycle)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(name: &str, parents: &[&str]) -> (String, TableInfo) {
        (
            name.into(),
            TableInfo {
                name: name.into(),
                columns: Vec::new(),
                parents: parents.iter().map(|s| s.to_string()).collect(),
            },
        )
    }

    #[test]
    fn parents_come_first() {
        let catalog = Catalog {
            tables: [
                t("a_comment", &["post", "user"]),
                t("post", &["user"]),
                t("user", &["user"]),
            ]
            .into_iter()
            .collect(),
        };
        let all = catalog.tables.keys().cloned().collect();
        let (order, cycle) = fk_order(&catalog, &all);
        assert_eq!(order, ["user", "post", "a_comment"]);
        assert!(!cycle);
    }
}
