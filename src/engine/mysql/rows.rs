//! Rows read back for `seed --dump`: every value as text (`CAST … AS CHAR`, binary columns
//! as hex), parsed back by the column's kind.

use super::quote;
use crate::db::Db;
use crate::error::{Error, Result};
use crate::seed::catalog::TableInfo;
use crate::seed::convert::{Kind, format_uuid};
use crate::seed::dump::{Rows, json_of_text};
use sea_orm::sqlx::{self, Row};
use serde_json::Value as J;

pub async fn read_rows(db: &Db, t: &TableInfo) -> Result<Rows> {
    let pool = db.conn.get_mysql_connection_pool();
    let cols: Vec<String> = t
        .columns
        .iter()
        .map(|c| match c.kind {
            Kind::Uuid | Kind::Bytes => format!("LOWER(HEX({}))", quote(&c.name)),
            _ => format!("CAST({} AS CHAR)", quote(&c.name)),
        })
        .collect();
    let sql = format!("SELECT {} FROM {} ORDER BY 1", cols.join(", "), quote(&t.name));
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
            vals.push(match c.kind {
                Kind::Uuid => match hex_bytes(&s) {
                    Some(b) if b.len() == 16 => J::String(format_uuid(&b)),
                    _ => J::String(format!("\\x{s}")),
                },
                Kind::Bytes => J::String(format!("\\x{s}")),
                kind => json_of_text(kind, s),
            });
        }
        out.push(vals);
    }
    Ok(out)
}

fn hex_bytes(s: &str) -> Option<Vec<u8>> {
    (0..s.len())
        .step_by(2)
        .map(|i| s.get(i..i + 2).and_then(|h| u8::from_str_radix(h, 16).ok()))
        .collect()
}
