//! Rows read back for `seed --dump`: each value with `typeof()`, so that integers, reals,
//! text and blobs come back as what they are, in insertion (rowid) order.

use crate::db::Db;
use crate::error::{Error, Result};
use crate::seed::catalog::TableInfo;
use crate::seed::convert::{Kind, format_uuid};
use crate::seed::dump::{Rows, float, hex};
use sea_orm::sqlx::{self, Row};
use serde_json::Value as J;

pub async fn read_rows(db: &Db, t: &TableInfo) -> Result<Rows> {
    let pool = db.conn.get_sqlite_connection_pool();
    let cols: Vec<String> = t
        .columns
        .iter()
        .map(|c| format!("typeof({0}), {0}", super::quote(&c.name)))
        .collect();
    let sql = format!("SELECT {} FROM {}", cols.join(", "), super::quote(&t.name));
    // Insertion order (rowid), except in tables WITHOUT ROWID.
    let rows = match sqlx::query(sqlx::AssertSqlSafe(format!("{sql} ORDER BY rowid")))
        .fetch_all(pool)
        .await
    {
        Ok(rows) => rows,
        Err(_) => sqlx::query(sqlx::AssertSqlSafe(sql))
            .fetch_all(pool)
            .await
            .map_err(|e| Error::db(format!("reading `{}`", t.name), e))?,
    };
    let mut out = Vec::with_capacity(rows.len());
    for r in rows {
        let mut vals = Vec::with_capacity(t.columns.len());
        for (i, c) in t.columns.iter().enumerate() {
            let ty: String = r.try_get_unchecked(2 * i).unwrap_or_default();
            let at = 2 * i + 1;
            let err = |e: sqlx::Error| Error::db(format!("reading `{}`", t.name), e);
            let v = match ty.as_str() {
                "integer" => {
                    let n: i64 = r.try_get_unchecked(at).map_err(err)?;
                    if c.kind == Kind::Bool {
                        J::Bool(n != 0)
                    } else {
                        J::from(n)
                    }
                }
                "real" => {
                    let f: f64 = r.try_get_unchecked(at).map_err(err)?;
                    float(f)
                }
                "text" => J::String(r.try_get_unchecked(at).map_err(err)?),
                "blob" => {
                    let b: Vec<u8> = r.try_get_unchecked(at).map_err(err)?;
                    if c.kind == Kind::Uuid && b.len() == 16 {
                        J::String(format_uuid(&b))
                    } else {
                        J::String(hex(&b))
                    }
                }
                _ => J::Null,
            };
            vals.push(v);
        }
        out.push(vals);
    }
    Ok(out)
}
