//! SQLite's catalog (`sqlite_master` and the `pragma_*` table functions), read into the one
//! schema model.

use crate::db::Db;
use crate::db::snapshot::{Column, ForeignKey, Index, Schema, Table, get, rows};
use crate::error::Result;
use crate::seed::convert::Kind;
use std::collections::BTreeMap;

pub async fn read_schema(db: &Db) -> Result<Schema> {
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
                kind: Kind::of_sqlite(&ty),
                generated: false,
                sequence: None,
                sql_type: ty,
                name: col,
            });
        }
        // The rowid alias: a one-column INTEGER PRIMARY KEY takes the next id when left out.
        if let [(_, only)] = pk.as_slice()
            && let Some(c) = table
                .columns
                .iter_mut()
                .find(|c| &c.name == only && c.sql_type == "integer")
        {
            c.generated = true;
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
