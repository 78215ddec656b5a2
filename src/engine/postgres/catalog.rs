//! PostgreSQL's catalog (`pg_class`, `pg_attribute`, `pg_constraint`, `pg_index`, `pg_enum`)
//! of the current schema, read into the one schema model.

use crate::db::Db;
use crate::db::snapshot::{Column, ForeignKey, Index, Schema, Table, get, rows};
use crate::error::Result;
use crate::seed::convert::Kind;

pub async fn read_schema(db: &Db) -> Result<Schema> {
    let mut schema = Schema::default();
    for t in rows(db, "SELECT c.relname::text AS name, c.oid::bigint AS oid FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p') ORDER BY 1").await? {
        let name: String = get(&t, "name")?;
        let oid: i64 = get(&t, "oid")?;
        let mut table = Table::default();
        for c in rows(db, &format!(
            "SELECT a.attname::text AS name, format_type(a.atttypid, a.atttypmod) AS ty, NOT a.attnotnull AS nullable, \
             pg_get_expr(d.adbin, d.adrelid) AS dflt, a.attidentity::text AS ident, \
             t.typname::text AS typname, t.typtype::text AS typtype, \
             pg_get_serial_sequence(a.attrelid::regclass::text, a.attname)::text AS seq \
             FROM pg_attribute a LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum \
             JOIN pg_type t ON t.oid = a.atttypid \
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
                generated: serial || !ident.is_empty(),
                kind: Kind::of_postgres(&get::<String>(&c, "typname")?, &get::<String>(&c, "typtype")?),
                sequence: get(&c, "seq")?,
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
