//! Code generation for `create --autogenerate`: schema changes written as a Rust migration
//! through `SchemaManager` and sea-query, for `up` and for `down`.
//!
//! SQLite cannot alter most things in place; a table with such changes is rebuilt the way
//! Alembic's batch mode does it: a new table with the new definition, the rows copied, the
//! old table dropped, the new one renamed, its indexes created again.

use crate::config::Engine;
use crate::db::snapshot::{Column, ForeignKey, Index, Schema, Table};
use crate::schema_diff::{Change, diff};
use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write;

/// Column renames declared with `renamed_from` in the entities: table → [(old, new)].
pub type Renames = BTreeMap<String, Vec<(String, String)>>;

/// A generated `up` or `down` body.
#[derive(Debug, Default, Clone)]
pub struct Body {
    pub code: String,
    /// The statements need foreign key enforcement off (SQLite table rebuilds).
    pub foreign_keys_off: bool,
    pub warnings: Vec<String>,
}

const I: &str = "        ";

fn alias(s: &str) -> String {
    format!("Alias::new({s:?})")
}

/// The code being generated, and what the migration needs beyond it.
struct Gen<'a> {
    engine: Engine,
    out: String,
    body: Body,
    /// The code uses `db` (raw statements).
    uses_db: bool,
    /// Column renames the entities declare that the changes confirm: (table, old, new).
    rename_pairs: Vec<(String, String, String)>,
    renamed: BTreeSet<(String, String)>,
    from: &'a Schema,
    to: &'a Schema,
}

/// The Rust code of `from` → `to`: enum types first, new tables (referenced tables first),
/// changed tables, dropped tables (referencing tables first), dropped enums.
pub fn generate(from: &Schema, to: &Schema, engine: Engine, renames: &Renames) -> Body {
    let changes = diff(from, to);
    let mut g = Gen {
        engine,
        out: String::new(),
        body: Body::default(),
        uses_db: false,
        rename_pairs: Vec::new(),
        renamed: BTreeSet::new(),
        from,
        to,
    };
    g.confirm_renames(&changes, renames);
    g.index_key_warnings(&changes);
    g.enums(&changes);
    g.new_tables(&changes);
    g.changed_tables(&changes);
    g.dropped(&changes);
    g.finish()
}

impl Gen<'_> {
    /// Renames declared in the entities turn a drop + add into a rename.
    fn confirm_renames(&mut self, changes: &[Change], renames: &Renames) {
        for (table, pairs) in renames {
            for (old, new) in pairs {
                let dropped = changes
                    .iter()
                    .any(|c| matches!(c, Change::DropColumn { table: t, column } if t == table && &column.name == old));
                let added = changes
                    .iter()
                    .any(|c| matches!(c, Change::AddColumn { table: t, column } if t == table && &column.name == new));
                if dropped && added {
                    self.renamed.insert((table.clone(), old.clone()));
                    self.renamed.insert((table.clone(), new.clone()));
                    self.rename_pairs.push((table.clone(), old.clone(), new.clone()));
                }
            }
        }
    }

    /// MySQL: an index whose key may exceed InnoDB's limit (error 1071), or that includes
    /// a TEXT/BLOB column without a prefix length (error 1170).
    fn index_key_warnings(&mut self, changes: &[Change]) {
        let Some((limit, per_char)) = self.engine.index_key_limit() else {
            return;
        };
        let new_indexes = changes.iter().flat_map(|c| match c {
            Change::CreateTable { table, def } => def.indexes.values().map(|i| (table.as_str(), i)).collect::<Vec<_>>(),
            Change::AddIndex { table, index } => vec![(table.as_str(), index)],
            _ => Vec::new(),
        });
        for (table, index) in new_indexes {
            let Some(def) = self.to.tables.get(table) else { continue };
            let mut bytes = 0usize;
            for col in &index.columns {
                let Some(c) = def.columns.iter().find(|c| &c.name == col) else {
                    continue;
                };
                let t = c.sql_type.to_ascii_lowercase();
                if t.contains("text") || t.contains("blob") || t == "json" {
                    self.body.warnings.push(format!(
                        "index on `{table}.{col}`: MySQL cannot index a {t} column without a prefix length (error 1170); index a VARCHAR column, or add the index by hand with a prefix (`{col}(191)`)"
                    ));
                }
                let chars = crate::engine::type_args(&t)
                    .and_then(|a| a.first().copied())
                    .unwrap_or(0) as usize;
                if t.starts_with("varchar") || t.starts_with("char") {
                    bytes += chars * per_char;
                }
            }
            if bytes > limit {
                self.body.warnings.push(format!(
                    "index on `{table}` ({}) may hold {bytes} bytes per key with utf8mb4 (4 bytes per character); InnoDB allows {limit} (error 1071): shorten the columns (e.g. `string_len(191)`) or index a prefix",
                    index.columns.join(", ")
                ));
            }
        }
    }

    /// Enum types (PostgreSQL).
    fn enums(&mut self, changes: &[Change]) {
        let (out, body) = (&mut self.out, &mut self.body);
        for c in changes {
            match c {
                Change::CreateEnum { name, labels } => {
                    let values: Vec<String> = labels.iter().map(|l| alias(l)).collect();
                    let _ = writeln!(
                        out,
                        "{I}manager\n{I}    .create_type(\n{I}        sea_orm_migration::sea_query::extension::postgres::Type::create()\n{I}            .as_enum({})\n{I}            .values([{}])\n{I}            .to_owned(),\n{I}    )\n{I}    .await?;",
                        alias(name),
                        values.join(", ")
                    );
                }
                Change::AlterEnum { name, from, to } => {
                    for l in to.iter().filter(|l| !from.contains(l)) {
                        let _ = writeln!(
                            out,
                            "{I}manager\n{I}    .alter_type(sea_orm_migration::sea_query::extension::postgres::Type::alter().name({}).add_value({}).to_owned())\n{I}    .await?;",
                            alias(name),
                            alias(l)
                        );
                    }
                    let removed: Vec<&String> = from.iter().filter(|l| !to.contains(l)).collect();
                    if !removed.is_empty() {
                        body.warnings.push(format!(
                            "enum `{name}` loses value(s) {:?}; PostgreSQL cannot remove enum values in place: recreate the type by hand",
                            removed
                        ));
                    }
                }
                _ => {}
            }
        }
    }

    /// New tables, referenced tables first.
    fn new_tables(&mut self, changes: &[Change]) {
        let new_tables: Vec<(&String, &Table)> = changes
            .iter()
            .filter_map(|c| match c {
                Change::CreateTable { table, def } => Some((table, def)),
                _ => None,
            })
            .collect();
        for (name, def) in topo(&new_tables) {
            self.out.push_str(&create_table(name, name, def, self.engine));
            self.out.push_str(&create_indexes(name, def, self.engine));
        }
    }

    /// Changed tables, one at a time.
    fn changed_tables(&mut self, changes: &[Change]) {
        let mut by_table: BTreeMap<&str, Vec<&Change>> = BTreeMap::new();
        for c in changes {
            let t = match c {
                Change::AddColumn { table, .. }
                | Change::DropColumn { table, .. }
                | Change::AlterColumn { table, .. }
                | Change::PrimaryKey { table, .. }
                | Change::AddIndex { table, .. }
                | Change::DropIndex { table, .. }
                | Change::AddForeignKey { table, .. }
                | Change::DropForeignKey { table, .. }
                | Change::AlterForeignKey { table, .. } => table.as_str(),
                _ => continue,
            };
            by_table.entry(t).or_default().push(c);
        }
        for (table, cs) in &by_table {
            self.changed_table(table, cs);
        }
    }

    /// One changed table: rebuilt where the engine cannot alter it in place; else renames,
    /// then dropped keys and indexes, column changes, new indexes and keys.
    fn changed_table(&mut self, table: &str, cs: &[&Change]) {
        let engine = self.engine;
        let old = &self.from.tables[table];
        let new = &self.to.tables[table];
        let rename_pairs = self.rename_pairs.clone();
        let (out, body) = (&mut self.out, &mut self.body);
        let mut uses_db = false;
        let renamed = self.renamed.clone();
        if !engine.alters_in_place() && cs.iter().any(|c| needs_rebuild(c, new)) {
            let pairs: Vec<(String, String)> = rename_pairs
                .iter()
                .filter(|(t, _, _)| t == table)
                .map(|(_, o, n)| (o.clone(), n.clone()))
                .collect();
            out.push_str(&rebuild(table, old, new, &pairs, engine));
            body.foreign_keys_off = true;
            uses_db = true;
            for c in new
                .columns
                .iter()
                .filter(|c| !c.nullable && c.default.is_none() && !c.auto_increment)
            {
                if !old.columns.iter().any(|o| o.name == c.name) && !pairs.iter().any(|(_, n)| n == &c.name) {
                    body.warnings.push(format!(
                        "column `{table}.{}` is NOT NULL without a default: copying existing rows fails unless the table is empty",
                        c.name
                    ));
                }
            }
            self.uses_db |= uses_db;
            return;
        }
        for (t, o, n) in rename_pairs.iter().filter(|(t, _, _)| t == table) {
            let _ = writeln!(
                out,
                "{I}manager\n{I}    .alter_table(Table::alter().table({}).rename_column({}, {}).to_owned())\n{I}    .await?;",
                alias(t),
                alias(o),
                alias(n)
            );
        }
        // Foreign keys and indexes that go, before the columns they use.
        for c in cs {
            match c {
                Change::DropForeignKey { fk, .. } | Change::AlterForeignKey { from: fk, .. } => {
                    let _ = writeln!(
                        out,
                        "{I}manager\n{I}    .drop_foreign_key(ForeignKey::drop().name({:?}).table({}).to_owned())\n{I}    .await?;",
                        fk.name,
                        alias(table)
                    );
                }
                Change::DropIndex { index, .. } => out.push_str(&drop_index(table, index, engine)),
                _ => {}
            }
        }
        for c in cs {
            match c {
                Change::AddColumn { column, .. } if !renamed.contains(&(table.to_string(), column.name.clone())) => {
                    let _ = writeln!(
                        out,
                        "{I}manager\n{I}    .alter_table(Table::alter().table({}).add_column({}).to_owned())\n{I}    .await?;",
                        alias(table),
                        col_def(column, new, engine, false)
                    );
                    if !column.nullable && column.default.is_none() && !column.auto_increment {
                        body.warnings.push(format!(
                            "column `{table}.{}` is NOT NULL without a default: adding it fails unless the table is empty",
                            column.name
                        ));
                    }
                }
                Change::DropColumn { column, .. } if !renamed.contains(&(table.to_string(), column.name.clone())) => {
                    let _ = writeln!(
                        out,
                        "{I}manager\n{I}    .alter_table(Table::alter().table({}).drop_column({}).to_owned())\n{I}    .await?;",
                        alias(table),
                        alias(&column.name)
                    );
                }
                Change::AlterColumn { from: f, to: t, .. } => {
                    let mut def = format!("ColumnDef::new({}){}", alias(&t.name), type_call(&t.sql_type, engine));
                    def.push_str(if t.nullable { ".null()" } else { ".not_null()" });
                    if let Some(d) = &t.default {
                        let _ = write!(def, ".default(Expr::cust({d:?}))");
                    }
                    if f.sql_type != t.sql_type {
                        body.warnings.push(format!(
                            "column `{table}.{}` changes type {} -> {}; PostgreSQL converts existing values implicitly and fails where it cannot (add a USING clause by hand if needed)",
                            t.name, f.sql_type, t.sql_type
                        ));
                    }
                    let _ = writeln!(
                        out,
                        "{I}manager\n{I}    .alter_table(Table::alter().table({}).modify_column({def}).to_owned())\n{I}    .await?;",
                        alias(table)
                    );
                    if f.default.is_some() && t.default.is_none() {
                        uses_db = true;
                        let _ = writeln!(
                            out,
                            "{I}db.execute_unprepared({:?}).await?;",
                            format!(
                                "ALTER TABLE {} ALTER COLUMN {} DROP DEFAULT",
                                engine.quote(table),
                                engine.quote(&t.name)
                            )
                        );
                    }
                }
                Change::PrimaryKey { to: pk, .. } => {
                    uses_db = true;
                    for sql in engine.replace_primary_key_sql(table, pk) {
                        let _ = writeln!(out, "{I}db.execute_unprepared({sql:?}).await?;");
                    }
                }
                _ => {}
            }
        }
        for c in cs {
            match c {
                Change::AddIndex { index, .. } => out.push_str(&create_index(table, index, engine)),
                Change::AddForeignKey { fk, .. } | Change::AlterForeignKey { to: fk, .. } => {
                    let _ = writeln!(
                        out,
                        "{I}manager\n{I}    .create_foreign_key({}.to_owned())\n{I}    .await?;",
                        fk_builder(table, fk, engine)
                    );
                }
                _ => {}
            }
        }
        self.uses_db |= uses_db;
    }

    /// Dropped tables, referencing tables first, then dropped enums.
    fn dropped(&mut self, changes: &[Change]) {
        let out = &mut self.out;
        let dropped: Vec<(&String, &Table)> = changes
            .iter()
            .filter_map(|c| match c {
                Change::DropTable { table, def } => Some((table, def)),
                _ => None,
            })
            .collect();
        for (name, _) in topo(&dropped).into_iter().rev() {
            let _ = writeln!(
                out,
                "{I}manager\n{I}    .drop_table(Table::drop().table({}).to_owned())\n{I}    .await?;",
                alias(name)
            );
        }
        for c in changes {
            if let Change::DropEnum { name, .. } = c {
                let _ = writeln!(
                    out,
                    "{I}manager\n{I}    .drop_type(sea_orm_migration::sea_query::extension::postgres::Type::drop().name({}).to_owned())\n{I}    .await?;",
                    alias(name)
                );
            }
        }
    }

    fn finish(self) -> Body {
        let (mut out, mut body, uses_db) = (self.out, self.body, self.uses_db);
        if uses_db {
            out.insert_str(0, &format!("{I}let db = manager.get_connection();\n"));
        }
        if body.foreign_keys_off {
            out.insert_str(
                0,
                &format!("{I}// Effective when run outside a transaction (e.g. by sea-orm-cli); cargo dbm does it for you.\n{I}manager.get_connection().execute_unprepared(\"PRAGMA foreign_keys = OFF\").await?;\n"),
            );
            let _ = writeln!(
                out,
                "{I}manager.get_connection().execute_unprepared(\"PRAGMA foreign_keys = ON\").await?;"
            );
        }
        body.code = out;
        body
    }
}

/// SQLite can only add plain nullable (or defaulted) columns and named indexes in place.
fn needs_rebuild(c: &Change, new: &Table) -> bool {
    match c {
        Change::AddColumn { column, .. } => {
            (!column.nullable && column.default.is_none())
                || new.primary_key.contains(&column.name)
                || new
                    .indexes
                    .values()
                    .any(|i| i.constraint && i.columns.contains(&column.name))
                || new.foreign_keys.iter().any(|f| f.columns.contains(&column.name))
        }
        Change::AddIndex { index, .. } | Change::DropIndex { index, .. } => index.constraint,
        _ => true,
    }
}

/// Tables ordered so that referenced tables come before the tables referencing them.
fn topo<'a>(tables: &[(&'a String, &'a Table)]) -> Vec<(&'a String, &'a Table)> {
    let names: BTreeSet<&str> = tables.iter().map(|(n, _)| n.as_str()).collect();
    let mut done: Vec<(&String, &Table)> = Vec::new();
    let mut left: Vec<(&String, &Table)> = tables.to_vec();
    while !left.is_empty() {
        let before = left.len();
        left.retain(|(n, t)| {
            let ready = t.foreign_keys.iter().all(|f| {
                f.ref_table == **n
                    || !names.contains(f.ref_table.as_str())
                    || done.iter().any(|(d, _)| **d == f.ref_table)
            });
            if ready {
                done.push((n, t));
            }
            !ready
        });
        if left.len() == before {
            // A cycle: keep the remaining order.
            done.append(&mut left);
        }
    }
    done
}

fn type_call(sql_type: &str, engine: Engine) -> String {
    engine
        .type_call(sql_type.trim())
        .unwrap_or_else(|| format!(".custom({})", alias(sql_type)))
}

/// `ColumnDef::new(..)...` for a column of `table`; in a CREATE TABLE, a one-column primary
/// key and a one-column unique constraint are written on the column.
fn col_def(c: &Column, table: &Table, engine: Engine, in_create: bool) -> String {
    let mut s = format!("ColumnDef::new({}){}", alias(&c.name), type_call(&c.sql_type, engine));
    s.push_str(if c.nullable { ".null()" } else { ".not_null()" });
    if c.auto_increment {
        s.push_str(".auto_increment()");
    }
    if let Some(d) = &c.default {
        let _ = write!(s, ".default(Expr::cust({d:?}))");
    }
    if in_create {
        if table.primary_key.len() == 1 && table.primary_key[0] == c.name {
            s.push_str(".primary_key()");
        }
        if table
            .indexes
            .values()
            .any(|i| i.constraint && i.unique && i.columns == [c.name.clone()])
        {
            s.push_str(".unique_key()");
        }
    }
    s
}

fn action(a: &str) -> &'static str {
    match a {
        "CASCADE" => "ForeignKeyAction::Cascade",
        "SET NULL" => "ForeignKeyAction::SetNull",
        "SET DEFAULT" => "ForeignKeyAction::SetDefault",
        "RESTRICT" => "ForeignKeyAction::Restrict",
        _ => "ForeignKeyAction::NoAction",
    }
}

/// A generated name within the engine's identifier limit (MySQL refuses names over 64
/// characters, PostgreSQL cuts them at 63 and two cut names may collide): a long name keeps
/// its start and ends in a hash of the whole.
fn fit_name(name: &str, engine: Engine) -> String {
    let max = engine.max_identifier();
    if name.len() <= max {
        return name.to_string();
    }
    use sha2::Digest;
    let hash: String = sha2::Sha256::digest(name.as_bytes())
        .iter()
        .take(4)
        .map(|b| format!("{b:02x}"))
        .collect();
    let mut cut = max - hash.len() - 1;
    while !name.is_char_boundary(cut) {
        cut -= 1;
    }
    format!("{}_{hash}", &name[..cut])
}

fn fk_builder(table: &str, fk: &ForeignKey, engine: Engine) -> String {
    // The constraint keeps the name it has (PostgreSQL); SQLite's catalog has none.
    let name = if fk.name.is_empty() {
        fit_name(&format!("fk-{table}-{}", fk.columns.join("-")), engine)
    } else {
        fit_name(&fk.name, engine)
    };
    let mut s = format!("ForeignKey::create().name({name:?}).from_tbl({})", alias(table));
    for c in &fk.columns {
        let _ = write!(s, ".from_col({})", alias(c));
    }
    let _ = write!(s, ".to_tbl({})", alias(&fk.ref_table));
    for c in &fk.ref_columns {
        let _ = write!(s, ".to_col({})", alias(c));
    }
    let _ = write!(
        s,
        ".on_delete({}).on_update({})",
        action(&fk.on_delete),
        action(&fk.on_update)
    );
    s
}

fn create_table(create_as: &str, name: &str, def: &Table, engine: Engine) -> String {
    let mut s = format!(
        "{I}manager\n{I}    .create_table(\n{I}        Table::create()\n{I}            .table({})\n",
        alias(create_as)
    );
    for c in &def.columns {
        let _ = writeln!(s, "{I}            .col({})", col_def(c, def, engine, true));
    }
    if def.primary_key.len() > 1 {
        let cols: Vec<String> = def.primary_key.iter().map(|c| format!(".col({})", alias(c))).collect();
        let _ = writeln!(s, "{I}            .primary_key(Index::create(){})", cols.join(""));
    }
    for fk in &def.foreign_keys {
        let _ = writeln!(s, "{I}            .foreign_key({})", fk_builder(name, fk, engine));
    }
    let _ = writeln!(s, "{I}            .to_owned(),\n{I}    )\n{I}    .await?;");
    s
}

/// Indexes not written inside CREATE TABLE: plain ones and multi-column unique ones.
fn create_indexes(table: &str, def: &Table, engine: Engine) -> String {
    def.indexes
        .values()
        .filter(|i| !(i.constraint && i.unique && i.columns.len() == 1))
        .map(|i| create_index(table, i, engine))
        .collect()
}

fn create_index(table: &str, i: &Index, engine: Engine) -> String {
    let name = if i.name.starts_with("sqlite_autoindex") || i.constraint {
        fit_name(&format!("idx-{table}-{}", i.columns.join("-")), engine)
    } else {
        i.name.clone()
    };
    let cols: String = i.columns.iter().map(|c| format!(".col({})", alias(c))).collect();
    format!(
        "{I}manager\n{I}    .create_index(Index::create().name({name:?}).table({}){cols}{}.to_owned())\n{I}    .await?;\n",
        alias(table),
        if i.unique { ".unique()" } else { "" }
    )
}

fn drop_index(table: &str, i: &Index, engine: Engine) -> String {
    if i.constraint && engine.drops_unique_as_constraint() {
        format!(
            "{I}manager\n{I}    .alter_table(Table::alter().table({}).drop_constraint({}).to_owned())\n{I}    .await?;\n",
            alias(table),
            alias(&i.name)
        )
    } else {
        format!(
            "{I}manager\n{I}    .drop_index(Index::drop().name({:?}).table({}).to_owned())\n{I}    .await?;\n",
            i.name,
            alias(table)
        )
    }
}

/// SQLite: new table, copy, drop, rename, indexes again.
fn rebuild(table: &str, old: &Table, new: &Table, renames: &[(String, String)], engine: Engine) -> String {
    let tmp = format!("_dbm_new_{table}");
    let mut s = format!(
        "{I}// SQLite cannot make these changes to `{table}` in place: the table is rebuilt\n{I}// (new table, rows copied, old table dropped, new table renamed, indexes recreated).\n"
    );
    s.push_str(&create_table(&tmp, table, new, engine));
    let mut to_cols = Vec::new();
    let mut from_cols = Vec::new();
    for c in &new.columns {
        let source = renames
            .iter()
            .find(|(_, n)| n == &c.name)
            .map(|(o, _)| o.clone())
            .unwrap_or_else(|| c.name.clone());
        if old.columns.iter().any(|o| o.name == source) {
            to_cols.push(format!("\"{}\"", c.name));
            from_cols.push(format!("\"{source}\""));
        }
    }
    let copy = format!(
        "INSERT INTO \"{tmp}\" ({}) SELECT {} FROM \"{table}\"",
        to_cols.join(", "),
        from_cols.join(", ")
    );
    let _ = writeln!(s, "{I}db.execute_unprepared({copy:?}).await?;");
    let _ = writeln!(
        s,
        "{I}manager\n{I}    .drop_table(Table::drop().table({}).to_owned())\n{I}    .await?;",
        alias(table)
    );
    let _ = writeln!(
        s,
        "{I}manager\n{I}    .rename_table(Table::rename().table({}, {}).to_owned())\n{I}    .await?;",
        alias(&tmp),
        alias(table)
    );
    s.push_str(&create_indexes(table, new, engine));
    s
}

/// `renamed_from = "old"` on entity fields: the column renames the entities declare.
pub fn renames_in(text: &str, table: &str, out: &mut Renames) {
    let mut rest = text;
    while let Some(i) = rest.find("renamed_from") {
        let after = &rest[i..];
        let Some(q1) = after.find('"') else { break };
        let Some(q2) = after[q1 + 1..].find('"') else { break };
        let old = after[q1 + 1..q1 + 1 + q2].to_string();
        let attr_end = after.find(")]").unwrap_or(after.len());
        let attr_start = rest[..i].rfind("#[").unwrap_or(i);
        let attr = &rest[attr_start..i + attr_end];
        let column_name = attr.find("column_name").and_then(|c| {
            let a = &attr[c..];
            let s = a.find('"')? + 1;
            let e = a[s..].find('"')? + s;
            Some(a[s..e].to_string())
        });
        let field = after[attr_end..]
            .split("pub ")
            .nth(1)
            .and_then(|f| f.split(':').next())
            .map(|f| f.trim().to_string());
        if let Some(new) = column_name.or(field) {
            out.entry(table.to_string()).or_default().push((old, new));
        }
        rest = &after[attr_end.min(after.len())..];
        if attr_end == 0 {
            break;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renamed_from_is_read_from_entity_source() {
        let src = "pub struct Model {\n    #[sea_orm(primary_key)]\n    pub id: i32,\n    #[sea_orm(renamed_from = \"phone_no\")]\n    pub phone: String,\n    #[sea_orm(column_name = \"mail\", renamed_from = \"email\")]\n    pub e: String,\n}\n";
        let mut r = Renames::new();
        renames_in(src, "user", &mut r);
        assert_eq!(
            r["user"],
            [
                ("phone_no".to_string(), "phone".to_string()),
                ("email".into(), "mail".into())
            ]
        );
    }

    #[test]
    fn generated_names_fit_the_engine() {
        let long = format!(
            "fk-{}-{}",
            "order_line_item_adjustment", "customer_account_reference_id-billing_period_id"
        );
        assert!(long.len() > 64);
        let my = fit_name(&long, Engine::MySql);
        assert_eq!(my.len(), 64);
        assert!(my.starts_with("fk-order_line_item_adjustment-"));
        let pg = fit_name(&long, Engine::Postgres);
        assert_eq!(pg.len(), 63);
        // Two long names with the same start stay distinct.
        assert_ne!(
            fit_name(&format!("{long}_a"), Engine::MySql),
            fit_name(&format!("{long}_b"), Engine::MySql)
        );
        assert_eq!(fit_name("fk-a-b", Engine::MySql), "fk-a-b");
    }

    #[test]
    fn mysql_index_keys_past_innodbs_limit_are_named() {
        use crate::db::snapshot::{Column, Index};
        let col = |name: &str, ty: &str| Column {
            name: name.into(),
            sql_type: ty.into(),
            nullable: false,
            default: None,
            auto_increment: false,
            generated: false,
            kind: Default::default(),
            sequence: None,
        };
        let mut t = Table {
            columns: vec![
                col("id", "int(11)"),
                col("a", "varchar(500)"),
                col("b", "varchar(500)"),
                col("note", "text"),
            ],
            ..Table::default()
        };
        for (name, cols) in [("idx_ab", vec!["a", "b"]), ("idx_note", vec!["note"])] {
            let i = Index {
                name: name.into(),
                columns: cols.into_iter().map(String::from).collect(),
                unique: false,
                constraint: false,
            };
            t.indexes.insert(i.key(), i);
        }
        let mut to = Schema::default();
        to.tables.insert("doc".into(), t);
        let body = generate(&Schema::default(), &to, Engine::MySql, &Renames::default());
        let w = body.warnings.join("\n");
        assert!(w.contains("error 1071") && w.contains("4000 bytes"), "{w}");
        assert!(w.contains("error 1170"), "{w}");
        assert!(
            generate(&Schema::default(), &to, Engine::Postgres, &Renames::default())
                .warnings
                .is_empty()
        );
    }

    #[test]
    fn type_calls_round_trip_common_types() {
        assert_eq!(
            type_call("character varying(255)", Engine::Postgres),
            ".string_len(255)"
        );
        assert_eq!(type_call("numeric(10, 2)", Engine::Postgres), ".decimal_len(10, 2)");
        assert_eq!(type_call("mood", Engine::Postgres), ".custom(Alias::new(\"mood\"))");
        assert_eq!(type_call("datetime_text", Engine::Sqlite), ".date_time()");
    }
}
