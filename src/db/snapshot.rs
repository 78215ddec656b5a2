//! Schema snapshots from the database's own catalog, normalised so that two databases of the
//! same engine compare equal when their schemas are the same, whatever the constraint
//! names. Used by `verify` (a `down` must leave no trace) and `create --autogenerate`.

use super::Db;
use super::tracking::HISTORY_TABLE;
use crate::error::{Error, Result};
use crate::seed::convert::Kind;
use sea_orm::{ConnectionTrait, QueryResult, Statement};
use std::collections::BTreeMap;

/// A whole schema: tables and (PostgreSQL) enum types.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct Schema {
    pub tables: BTreeMap<String, Table>,
    pub enums: BTreeMap<String, Vec<String>>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct Table {
    pub columns: Vec<Column>,
    pub primary_key: Vec<String>,
    /// Indexes and unique constraints, by a name-independent key (see [`Index::key`]).
    pub indexes: BTreeMap<String, Index>,
    pub foreign_keys: Vec<ForeignKey>,
}

#[derive(Debug, Clone, Eq, serde::Serialize)]
pub struct Column {
    pub name: String,
    /// The type as the database reports it (lowercase).
    pub sql_type: String,
    pub nullable: bool,
    pub default: Option<String>,
    pub auto_increment: bool,
    /// Filled in by the database when left out of an INSERT: a serial, identity or
    /// AUTO_INCREMENT column, or SQLite's rowid alias.
    #[serde(skip)]
    pub generated: bool,
    /// The kind of values it holds, as seeding converts them.
    #[serde(skip)]
    pub kind: Kind,
    /// PostgreSQL: the sequence behind a serial or identity column (schema-qualified, so
    /// not compared between schemas).
    #[serde(skip)]
    pub sequence: Option<String>,
}

/// Columns compare by what a migration states: name, type, nullability, default, and
/// auto-increment (what the engine derives from them is left out).
impl PartialEq for Column {
    fn eq(&self, o: &Self) -> bool {
        (
            &self.name,
            &self.sql_type,
            self.nullable,
            &self.default,
            self.auto_increment,
        ) == (&o.name, &o.sql_type, o.nullable, &o.default, o.auto_increment)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Index {
    /// The database's name for it (not compared).
    pub name: String,
    pub columns: Vec<String>,
    pub unique: bool,
    /// A unique constraint rather than a `CREATE INDEX`.
    pub constraint: bool,
}

impl Index {
    pub fn key(&self) -> String {
        format!(
            "{}({})",
            if self.unique { "unique" } else { "index" },
            self.columns.join(",")
        )
    }
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
pub struct ForeignKey {
    pub columns: Vec<String>,
    pub ref_table: String,
    pub ref_columns: Vec<String>,
    pub on_delete: String,
    pub on_update: String,
    /// The database's name for it (not compared).
    #[serde(skip)]
    pub name: String,
}

impl Schema {
    /// Reads the schema of `db`, leaving out the tracking tables.
    pub async fn read(db: &Db, tracking: &str) -> Result<Schema> {
        let mut schema = db.url.engine.read_schema(db).await?;
        schema.tables.remove(tracking);
        schema.tables.remove(HISTORY_TABLE);
        for t in schema.tables.values_mut() {
            t.foreign_keys.sort();
        }
        Ok(schema)
    }
}

pub(crate) async fn rows(db: &Db, sql: &str) -> Result<Vec<QueryResult>> {
    db.conn
        .query_all_raw(Statement::from_string(db.backend(), sql.to_string()))
        .await
        .map_err(|e| Error::db("reading the schema", e))
}

pub(crate) fn get<T: sea_orm::TryGetable>(r: &QueryResult, col: &str) -> Result<T> {
    r.try_get("", col)
        .map_err(|e| Error::db(format!("reading the schema ({col})"), e))
}
