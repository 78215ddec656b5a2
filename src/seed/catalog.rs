//! What the database says about its tables: columns and their types, and foreign keys,
//! read from SQLite's pragmas or PostgreSQL's catalog (the current schema).

use super::convert::Kind;
use crate::config::Engine;
use crate::error::{Error, Result};
use sea_orm::{ConnectionTrait, Statement};
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

async fn rows<C: ConnectionTrait>(db: &C, sql: &str) -> Result<Vec<sea_orm::QueryResult>> {
    db.query_all_raw(Statement::from_string(db.get_database_backend(), sql.to_string()))
        .await
        .map_err(|e| Error::db("reading the database's tables", e))
}

fn get<T: sea_orm::TryGetable>(r: &sea_orm::QueryResult, i: usize) -> Result<T> {
    r.try_get_by_index(i)
        .map_err(|e| Error::db("reading the database's tables", e))
}

impl Catalog {
    pub async fn read<C: ConnectionTrait>(db: &C, engine: Engine) -> Result<Catalog> {
        match engine {
            Engine::Sqlite => Self::sqlite(db).await,
            Engine::Postgres => Self::postgres(db).await,
        }
    }

    async fn sqlite<C: ConnectionTrait>(db: &C) -> Result<Catalog> {
        let mut tables = BTreeMap::new();
        let names = rows(
            db,
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name",
        )
        .await?;
        for r in names {
            let name: String = get(&r, 0)?;
            let lit = name.replace('\'', "''");
            let cols = rows(
                db,
                &format!(
                    "SELECT name, type, \"notnull\", dflt_value IS NOT NULL, pk FROM pragma_table_info('{lit}') ORDER BY cid"
                ),
            )
            .await?;
            let pk_count = cols.iter().filter(|c| get::<i64>(c, 4).unwrap_or(0) > 0).count();
            let mut columns = Vec::new();
            for c in cols {
                let ty: String = get(&c, 1)?;
                let pk: i64 = get(&c, 4)?;
                let rowid = pk_count == 1 && pk == 1 && ty.eq_ignore_ascii_case("integer");
                columns.push(Column {
                    name: get(&c, 0)?,
                    kind: Kind::of_sqlite(&ty),
                    sql_type: ty,
                    not_null: get::<i64>(&c, 2)? != 0 && !rowid,
                    has_default: get::<bool>(&c, 3)? || rowid,
                    sequence: None,
                });
            }
            let fks = rows(db, &format!("SELECT \"table\" FROM pragma_foreign_key_list('{lit}')")).await?;
            let parents = fks
                .iter()
                .map(|f| get::<String>(f, 0))
                .collect::<Result<BTreeSet<_>>>()?;
            tables.insert(name.clone(), TableInfo { name, columns, parents });
        }
        Ok(Catalog { tables })
    }

    async fn postgres<C: ConnectionTrait>(db: &C) -> Result<Catalog> {
        let cols = rows(
            db,
            "SELECT cl.relname::text, a.attname::text, format_type(a.atttypid, a.atttypmod), \
                    t.typname::text, t.typtype::text, a.attnotnull, (a.atthasdef OR a.attidentity <> ''), \
                    pg_get_serial_sequence(quote_ident(n.nspname) || '.' || quote_ident(cl.relname), a.attname)::text \
             FROM pg_attribute a \
             JOIN pg_class cl ON cl.oid = a.attrelid \
             JOIN pg_namespace n ON n.oid = cl.relnamespace \
             JOIN pg_type t ON t.oid = a.atttypid \
             WHERE n.nspname = current_schema() AND cl.relkind IN ('r', 'p') \
               AND a.attnum > 0 AND NOT a.attisdropped \
             ORDER BY cl.relname, a.attnum",
        )
        .await?;
        let mut tables: BTreeMap<String, TableInfo> = BTreeMap::new();
        for c in cols {
            let table: String = get(&c, 0)?;
            let typname: String = get(&c, 3)?;
            let typtype: String = get(&c, 4)?;
            let column = Column {
                name: get(&c, 1)?,
                kind: Kind::of_postgres(&typname, &typtype),
                sql_type: get(&c, 2)?,
                not_null: get(&c, 5)?,
                has_default: get(&c, 6)?,
                sequence: get(&c, 7)?,
            };
            tables
                .entry(table.clone())
                .or_insert_with(|| TableInfo {
                    name: table,
                    columns: Vec::new(),
                    parents: BTreeSet::new(),
                })
                .columns
                .push(column);
        }
        let fks = rows(
            db,
            "SELECT cl.relname::text, ref.relname::text FROM pg_constraint c \
             JOIN pg_class cl ON cl.oid = c.conrelid \
             JOIN pg_class ref ON ref.oid = c.confrelid \
             JOIN pg_namespace n ON n.oid = cl.relnamespace \
             WHERE c.contype = 'f' AND n.nspname = current_schema()",
        )
        .await?;
        for f in fks {
            let (child, parent): (String, String) = (get(&f, 0)?, get(&f, 1)?);
            if let Some(t) = tables.get_mut(&child) {
                t.parents.insert(parent);
            }
        }
        Ok(Catalog { tables })
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
