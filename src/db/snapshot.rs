//! Schema snapshots from the database's own catalog, normalised so that two databases of the
//! same engine compare equal when their schemas are the same, whatever the constraint
//! names. Used by `verify` (a `down` must leave no trace) and `create --autogenerate`.

use super::Db;
use super::tracking::HISTORY_TABLE;
use crate::error::{Error, Result};
use sea_orm::{ConnectionTrait, DbBackend, QueryResult, Statement};
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

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Column {
    pub name: String,
    /// The type as the database reports it (lowercase).
    pub sql_type: String,
    pub nullable: bool,
    pub default: Option<String>,
    pub auto_increment: bool,
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
        let mut schema = match db.backend() {
            DbBackend::Sqlite => read_sqlite(db).await?,
            _ => read_postgres(db).await?,
        };
        schema.tables.remove(tracking);
        schema.tables.remove(HISTORY_TABLE);
        for t in schema.tables.values_mut() {
            t.foreign_keys.sort();
        }
        Ok(schema)
    }
}

async fn rows(db: &Db, sql: &str) -> Result<Vec<QueryResult>> {
    db.conn
        .query_all_raw(Statement::from_string(db.backend(), sql.to_string()))
        .await
        .map_err(|e| Error::db("reading the schema", e))
}

fn get<T: sea_orm::TryGetable>(r: &QueryResult, col: &str) -> Result<T> {
    r.try_get("", col)
        .map_err(|e| Error::db(format!("reading the schema ({col})"), e))
}

async fn read_sqlite(db: &Db) -> Result<Schema> {
    let mut schema = Schema::default();
    let tables = rows(
        db,
        "SELECT name, sql FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name",
    )
    .await?;
    for t in tables {
        let name: String = get(&t, "name")?;
        let sql: String = get::<Option<String>>(&t, "sql")?.unwrap_or_default();
        let autoinc = sql.to_ascii_uppercase().contains("AUTOINCREMENT");
        let q = name.replace('\'', "''");
        let mut table = Table::default();
        let mut pk: Vec<(i64, String)> = Vec::new();
        for c in rows(
            db,
            &format!("SELECT name, type, \"notnull\" AS nn, dflt_value, pk FROM pragma_table_info('{q}') ORDER BY cid"),
        )
        .await?
        {
            let col: String = get(&c, "name")?;
            let ty: String = get::<String>(&c, "type")?.to_ascii_lowercase();
            let pkpos: i64 = get(&c, "pk")?;
            if pkpos > 0 {
                pk.push((pkpos, col.clone()));
            }
            table.columns.push(Column {
                auto_increment: pkpos > 0 && autoinc,
                // An INTEGER PRIMARY KEY can never be NULL in SQLite, however declared.
                nullable: get::<i64>(&c, "nn")? == 0 && !(pkpos > 0 && ty == "integer"),
                default: get::<Option<String>>(&c, "dflt_value")?,
                sql_type: ty,
                name: col,
            });
        }
        pk.sort();
        table.primary_key = pk.into_iter().map(|(_, c)| c).collect();
        for i in rows(
            db,
            &format!("SELECT name, \"unique\" AS uq, origin FROM pragma_index_list('{q}')"),
        )
        .await?
        {
            let origin: String = get(&i, "origin")?;
            if origin == "pk" {
                continue;
            }
            let iname: String = get(&i, "name")?;
            let qi = iname.replace('\'', "''");
            let cols = rows(
                db,
                &format!("SELECT name FROM pragma_index_info('{qi}') ORDER BY seqno"),
            )
            .await?;
            let columns = cols
                .iter()
                .map(|c| get::<Option<String>>(c, "name").map(|n| n.unwrap_or_default()))
                .collect::<Result<Vec<_>>>()?;
            let index = Index {
                name: iname,
                columns,
                unique: get::<i64>(&i, "uq")? == 1,
                constraint: origin == "u",
            };
            table.indexes.insert(index.key(), index);
        }
        let mut fks: BTreeMap<i64, ForeignKey> = BTreeMap::new();
        for f in rows(db, &format!("SELECT id, \"table\" AS ref, \"from\" AS src, \"to\" AS dst, on_update, on_delete FROM pragma_foreign_key_list('{q}') ORDER BY id, seq")).await? {
            let id: i64 = get(&f, "id")?;
            let fk = fks.entry(id).or_insert_with(|| ForeignKey {
                columns: Vec::new(),
                ref_table: String::new(),
                ref_columns: Vec::new(),
                on_delete: String::new(),
                on_update: String::new(),
                name: String::new(),
            });
            fk.ref_table = get(&f, "ref")?;
            fk.columns.push(get(&f, "src")?);
            fk.ref_columns.push(get::<Option<String>>(&f, "dst")?.unwrap_or_default());
            fk.on_delete = get::<String>(&f, "on_delete")?.to_ascii_uppercase();
            fk.on_update = get::<String>(&f, "on_update")?.to_ascii_uppercase();
        }
        table.foreign_keys = fks.into_values().collect();
        schema.tables.insert(name, table);
    }
    Ok(schema)
}

async fn read_postgres(db: &Db) -> Result<Schema> {
    let mut schema = Schema::default();
    for t in rows(db, "SELECT c.relname::text AS name, c.oid::bigint AS oid FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p') ORDER BY 1").await? {
        let name: String = get(&t, "name")?;
        let oid: i64 = get(&t, "oid")?;
        let mut table = Table::default();
        for c in rows(db, &format!(
            "SELECT a.attname::text AS name, format_type(a.atttypid, a.atttypmod) AS ty, NOT a.attnotnull AS nullable, \
             pg_get_expr(d.adbin, d.adrelid) AS dflt, a.attidentity::text AS ident \
             FROM pg_attribute a LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum \
             WHERE a.attrelid = {oid} AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum"
        )).await? {
            let default: Option<String> = get(&c, "dflt")?;
            let ident: String = get(&c, "ident")?;
            let serial = default.as_deref().is_some_and(|d| d.starts_with("nextval("));
            table.columns.push(Column {
                name: get(&c, "name")?,
                sql_type: get(&c, "ty")?,
                nullable: get(&c, "nullable")?,
                default: if serial { None } else { default },
                auto_increment: serial || !ident.is_empty(),
            });
        }
        let cols_of = |arr: &str| format!(
            "ARRAY(SELECT a.attname::text FROM unnest({arr}) WITH ORDINALITY k(n, o) JOIN pg_attribute a ON a.attrelid = {oid} AND a.attnum = k.n ORDER BY k.o)"
        );
        for k in rows(db, &format!(
            "SELECT c.conname::text AS name, c.contype::text AS kind, {} AS cols, c.confrelid::regclass::text AS ref, \
             ARRAY(SELECT a.attname::text FROM unnest(c.confkey) WITH ORDINALITY k(n, o) JOIN pg_attribute a ON a.attrelid = c.confrelid AND a.attnum = k.n ORDER BY k.o) AS refcols, \
             c.confdeltype::text AS del, c.confupdtype::text AS upd \
             FROM pg_constraint c WHERE c.conrelid = {oid} AND c.contype IN ('p', 'u', 'f') ORDER BY c.conname",
            cols_of("c.conkey")
        )).await? {
            let kind: String = get(&k, "kind")?;
            let cols: Vec<String> = get(&k, "cols")?;
            let cname: String = get(&k, "name")?;
            match kind.as_str() {
                "p" => table.primary_key = cols,
                "u" => {
                    let index = Index { name: cname, columns: cols, unique: true, constraint: true };
                    table.indexes.insert(index.key(), index);
                }
                _ => {
                    let action = |c: String| match c.as_str() {
                        "c" => "CASCADE",
                        "n" => "SET NULL",
                        "d" => "SET DEFAULT",
                        "r" => "RESTRICT",
                        _ => "NO ACTION",
                    }
                    .to_string();
                    let ref_table: String = get(&k, "ref")?;
                    table.foreign_keys.push(ForeignKey {
                        columns: cols,
                        ref_table: ref_table.trim_matches('"').rsplit('.').next().unwrap_or("").trim_matches('"').to_string(),
                        ref_columns: get(&k, "refcols")?,
                        on_delete: action(get(&k, "del")?),
                        on_update: action(get(&k, "upd")?),
                        name: cname,
                    });
                }
            }
        }
        for i in rows(db, &format!(
            "SELECT c.relname::text AS name, ix.indisunique AS uq, {} AS cols FROM pg_index ix JOIN pg_class c ON c.oid = ix.indexrelid \
             WHERE ix.indrelid = {oid} AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = ix.indexrelid) ORDER BY 1",
            cols_of("ix.indkey")
        )).await? {
            let index = Index { name: get(&i, "name")?, columns: get(&i, "cols")?, unique: get(&i, "uq")?, constraint: false };
            table.indexes.insert(index.key(), index);
        }
        schema.tables.insert(name, table);
    }
    for e in rows(db, "SELECT t.typname::text AS name, ARRAY(SELECT e.enumlabel::text FROM pg_enum e WHERE e.enumtypid = t.oid ORDER BY e.enumsortorder) AS labels FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace WHERE n.nspname = current_schema() AND t.typtype = 'e' ORDER BY 1").await? {
        schema.enums.insert(get(&e, "name")?, get(&e, "labels")?);
    }
    Ok(schema)
}
