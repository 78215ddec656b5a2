//! Rows read back for `seed --dump`: every value as PostgreSQL's text form, parsed back by
//! the column's kind.

use crate::db::Db;
use crate::error::{Error, Result};
use crate::seed::catalog::TableInfo;
use crate::seed::dump::{Rows, json_of_text};
use sea_orm::sqlx::{self, Row};
use serde_json::Value as J;

pub async fn read_rows(db: &Db, t: &TableInfo) -> Result<Rows> {
    let pool = db.conn.get_postgres_connection_pool();
    let cols: Vec<String> = t
        .columns
        .iter()
        .map(|c| format!("{}::text", super::quote(&c.name)))
        .collect();
    let sql = format!("SELECT {} FROM {} ORDER BY 1", cols.join(", "), super::quote(&t.name));
    let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
        .fetch_all(pool)
        .await
        .map_err(|e| Error::db(format!("reading `{}`", t.name), e))?;
    let mut out = Vec::with_capacity(rows.len());
    for r in rows {
        let mut vals = Vec::with_capacity(t.columns.len());
        for (i, c) in t.columns.iter().enumerate() {
            let s: Option<String> = r
                .try_get(i)
                .map_err(|e| Error::db(format!("reading `{}`", t.name), e))?;
            let Some(s) = s else {
                vals.push(J::Null);
                continue;
            };
            vals.push(json_of_text(c.kind, s));
        }
        out.push(vals);
    }
    Ok(out)
}
