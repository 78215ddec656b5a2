//! MySQL's and MariaDB's `information_schema` for the current database, read into the one
//! schema model.

use crate::db::Db;
use crate::db::snapshot::{Column, ForeignKey, Index, Schema, Table, get, rows};
use crate::error::Result;
use crate::seed::convert::Kind;
use std::collections::BTreeMap;

pub async fn read_schema(db: &Db) -> Result<Schema> {
    let mut schema = Schema::default();
    let text = |c: &str| format!("CAST({c} AS CHAR)");
    for c in rows(
        db,
        &format!(
            "SELECT {} AS t, {} AS name, {} AS ty, {} AS dt, CAST(IS_NULLABLE = 'YES' AS SIGNED) AS nullable, {} AS dflt, {} AS extra \
             FROM information_schema.columns c WHERE table_schema = DATABASE() \
             AND EXISTS (SELECT 1 FROM information_schema.tables t WHERE t.table_schema = c.table_schema AND t.table_name = c.table_name AND t.table_type = 'BASE TABLE') \
             ORDER BY table_name, ordinal_position",
            text("table_name"),
            text("column_name"),
            text("column_type"),
            text("data_type"),
            text("column_default"),
            text("extra"),
        ),
    )
    .await?
    {
        let table: String = get(&c, "t")?;
        let ty: String = get::<String>(&c, "ty")?.to_ascii_lowercase();
        let extra: String = get::<Option<String>>(&c, "extra")?.unwrap_or_default().to_ascii_lowercase();
        let nullable: i64 = get(&c, "nullable")?;
        let auto = extra.contains("auto_increment");
        // MariaDB reports "no default" of a nullable column as the text NULL.
        let default = get::<Option<String>>(&c, "dflt")?.filter(|d| d != "NULL");
        let column = Column {
            name: get(&c, "name")?,
            kind: Kind::of_mysql(&get::<String>(&c, "dt")?.to_ascii_lowercase(), &ty),
            sql_type: ty,
            nullable: nullable != 0,
            default,
            auto_increment: auto,
            generated: auto,
            sequence: None,
        };
        schema.tables.entry(table).or_insert_with(Table::default).columns.push(column);
    }
    // (table, index) → (unique, [(position, column)])
    type Columns = Vec<(i64, String)>;
    let mut indexes: BTreeMap<(String, String), (bool, Columns)> = BTreeMap::new();
    for i in rows(
        db,
        &format!(
            "SELECT {} AS t, {} AS name, CAST(NON_UNIQUE AS SIGNED) AS nu, CAST(SEQ_IN_INDEX AS SIGNED) AS seq, {} AS col \
             FROM information_schema.statistics WHERE table_schema = DATABASE() ORDER BY table_name, index_name, seq_in_index",
            text("table_name"),
            text("index_name"),
            text("column_name"),
        ),
    )
    .await?
    {
        let key = (get::<String>(&i, "t")?, get::<String>(&i, "name")?);
        let nu: i64 = get(&i, "nu")?;
        let entry = indexes.entry(key).or_insert((nu == 0, Vec::new()));
        entry.1.push((get(&i, "seq")?, get::<Option<String>>(&i, "col")?.unwrap_or_default()));
    }
    let mut fks: BTreeMap<(String, String), ForeignKey> = BTreeMap::new();
    for f in rows(
        db,
        &format!(
            "SELECT {} AS t, {} AS name, {} AS col, {} AS ref, {} AS refcol, {} AS del, {} AS upd \
             FROM information_schema.key_column_usage k JOIN information_schema.referential_constraints r \
             ON r.constraint_schema = k.constraint_schema AND r.constraint_name = k.constraint_name AND r.table_name = k.table_name \
             WHERE k.table_schema = DATABASE() AND k.referenced_table_name IS NOT NULL \
             ORDER BY k.table_name, k.constraint_name, k.ordinal_position",
            text("k.table_name"),
            text("k.constraint_name"),
            text("k.column_name"),
            text("k.referenced_table_name"),
            text("k.referenced_column_name"),
            text("r.delete_rule"),
            text("r.update_rule"),
        ),
    )
    .await?
    {
        let key = (get::<String>(&f, "t")?, get::<String>(&f, "name")?);
        let fk = fks.entry(key.clone()).or_insert_with(|| ForeignKey {
            columns: Vec::new(),
            ref_table: String::new(),
            ref_columns: Vec::new(),
            on_delete: String::new(),
            on_update: String::new(),
            name: key.1.clone(),
        });
        fk.columns.push(get(&f, "col")?);
        fk.ref_table = get(&f, "ref")?;
        fk.ref_columns.push(get(&f, "refcol")?);
        fk.on_delete = action(&get::<String>(&f, "del")?);
        fk.on_update = action(&get::<String>(&f, "upd")?);
    }
    // InnoDB indexes every foreign key; an index it made for one (named after the key,
    // on exactly its columns) is part of the key, not an index of the schema.
    let fk_index = |t: &str, name: &str, cols: &[String]| {
        fks.iter()
            .any(|((ft, fname), fk)| ft == t && fname == name && fk.columns == cols)
    };
    for ((t, name), (unique, mut cols)) in indexes {
        cols.sort();
        let cols: Vec<String> = cols.into_iter().map(|(_, c)| c).collect();
        let Some(table) = schema.tables.get_mut(&t) else {
            continue;
        };
        if name == "PRIMARY" {
            table.primary_key = cols;
            continue;
        }
        if !unique && fk_index(&t, &name, &cols) {
            continue;
        }
        let index = Index {
            name,
            columns: cols,
            unique,
            constraint: false,
        };
        table.indexes.insert(index.key(), index);
    }
    for ((t, _), fk) in fks {
        if let Some(table) = schema.tables.get_mut(&t) {
            table.foreign_keys.push(fk);
        }
    }
    Ok(schema)
}

/// A foreign key action as the schema model spells it. InnoDB checks `RESTRICT` and `NO
/// ACTION` alike, at once, and MariaDB reports a key that states no action as `RESTRICT`
/// (MySQL 8 as `NO ACTION`): both are read as `NO ACTION`, the model's "no action
/// stated", so that an entity whose relation names no action is no drift.
fn action(rule: &str) -> String {
    match rule.trim().to_ascii_uppercase() {
        r if r == "RESTRICT" => "NO ACTION".to_string(),
        r => r,
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn restrict_is_no_action() {
        assert_eq!(super::action("RESTRICT"), "NO ACTION");
        assert_eq!(super::action("NO ACTION"), "NO ACTION");
        assert_eq!(super::action("cascade"), "CASCADE");
        assert_eq!(super::action("SET NULL"), "SET NULL");
    }
}
