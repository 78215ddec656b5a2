//! Values from files converted to their columns' types, with a message naming what was
//! expected when they do not fit. On SQLite the stored form is the one sea-orm (sqlx)
//! writes and reads back: timestamps as text, booleans as 0/1, UUIDs as 16-byte blobs.

use super::exec::Val;
use super::files::Raw;
use crate::engine::Engine;
use chrono::{DateTime, FixedOffset, NaiveDate, NaiveDateTime, NaiveTime, SecondsFormat, Utc};

/// What a column holds, as far as conversion is concerned.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Kind {
    Int,
    Float,
    /// numeric/decimal: checked as a number, kept as written (no rounding through f64).
    Decimal,
    Bool,
    Text,
    Date,
    Time,
    Timestamp,
    TimestampTz,
    Uuid,
    Json,
    Bytes,
    /// Anything else (enums, arrays, ranges...): passed as text for the database to parse.
    #[default]
    Other,
}

impl Kind {
    /// From a declared SQLite type (following SQLite's affinity rules, plus the names
    /// sea-query gives: `timestamp_with_timezone_text`, `uuid_text`, `boolean`...).
    pub fn of_sqlite(ty: &str) -> Kind {
        let t = ty.to_ascii_lowercase();
        if t.contains("bool") {
            Kind::Bool
        } else if t.contains("timestamp") || t.contains("datetime") {
            if t.contains("zone") || t.contains("tz") {
                Kind::TimestampTz
            } else {
                Kind::Timestamp
            }
        } else if t.contains("date") {
            Kind::Date
        } else if t.contains("time") {
            Kind::Time
        } else if t.contains("uuid") {
            Kind::Uuid
        } else if t.contains("json") {
            Kind::Json
        } else if t.contains("int") {
            Kind::Int
        } else if t.contains("char") || t.contains("clob") || t.contains("text") {
            Kind::Text
        } else if t.contains("blob") || t.contains("binary") || t.is_empty() {
            if t.is_empty() { Kind::Other } else { Kind::Bytes }
        } else if t.contains("real") || t.contains("floa") || t.contains("doub") {
            Kind::Float
        } else if t.contains("dec") || t.contains("num") || t.contains("money") {
            Kind::Decimal
        } else {
            Kind::Text
        }
    }

    /// From a PostgreSQL type name (`pg_type.typname`) and type category.
    /// A MySQL/MariaDB column: its `DATA_TYPE` and `COLUMN_TYPE` (for `tinyint(1)`, the
    /// boolean, and `binary(16)`, the UUID, as sea-orm declares them).
    pub fn of_mysql(data_type: &str, column_type: &str) -> Kind {
        let column_type = column_type.to_ascii_lowercase();
        if column_type.starts_with("tinyint(1)") || data_type == "bool" || data_type == "boolean" {
            return Kind::Bool;
        }
        if column_type == "binary(16)" {
            return Kind::Uuid;
        }
        match data_type {
            "tinyint" | "smallint" | "mediumint" | "int" | "integer" | "bigint" | "year" => Kind::Int,
            "float" | "double" | "real" => Kind::Float,
            "decimal" | "numeric" => Kind::Decimal,
            "char" | "varchar" | "text" | "tinytext" | "mediumtext" | "longtext" => Kind::Text,
            "date" => Kind::Date,
            "time" => Kind::Time,
            "datetime" | "timestamp" => Kind::Timestamp,
            "json" => Kind::Json,
            "binary" | "varbinary" | "blob" | "tinyblob" | "mediumblob" | "longblob" => Kind::Bytes,
            _ => Kind::Other,
        }
    }

    pub fn of_postgres(typname: &str, typtype: &str) -> Kind {
        if typtype == "e" {
            return Kind::Other;
        }
        match typname {
            "int2" | "int4" | "int8" => Kind::Int,
            "float4" | "float8" => Kind::Float,
            "numeric" | "money" => Kind::Decimal,
            "bool" => Kind::Bool,
            "text" | "varchar" | "bpchar" | "name" | "citext" => Kind::Text,
            "date" => Kind::Date,
            "time" | "timetz" => Kind::Time,
            "timestamp" => Kind::Timestamp,
            "timestamptz" => Kind::TimestampTz,
            "uuid" => Kind::Uuid,
            "json" | "jsonb" => Kind::Json,
            "bytea" => Kind::Bytes,
            _ => Kind::Other,
        }
    }

    fn expected(self) -> &'static str {
        match self {
            Kind::Int => "an integer",
            Kind::Float | Kind::Decimal => "a number",
            Kind::Bool => "a boolean (true/false)",
            Kind::Text | Kind::Other => "text",
            Kind::Date => "a date (YYYY-MM-DD)",
            Kind::Time => "a time (HH:MM:SS)",
            Kind::Timestamp => "a timestamp (YYYY-MM-DD HH:MM:SS)",
            Kind::TimestampTz => "a timestamp (YYYY-MM-DDTHH:MM:SSZ or with an offset)",
            Kind::Uuid => "a UUID",
            Kind::Json => "JSON",
            Kind::Bytes => "bytes (hex as \\x0a1b...)",
        }
    }
}

fn describe(raw: &Raw) -> String {
    match raw {
        Raw::Missing | Raw::Null => "null".into(),
        Raw::Bool(b) => b.to_string(),
        Raw::Int(i) => i.to_string(),
        Raw::Float(f) => f.to_string(),
        Raw::Str(s) => format!("{s:?}"),
        Raw::Json(j) => j.to_string(),
    }
}

/// Like [`convert`], moving text instead of copying it, with fast paths for the common
/// forms (canonical timestamps and dates are checked without reformatting).
pub fn convert_owned(raw: Raw, kind: Kind, engine: Engine) -> Result<Val, String> {
    match (kind, raw) {
        (Kind::Text | Kind::Other, Raw::Str(s)) => Ok(Val::Text(s)),
        (Kind::Int, Raw::Str(s)) if !s.is_empty() && s.len() < 19 && s.bytes().all(|b| b.is_ascii_digit()) => {
            Ok(Val::Int(s.parse().unwrap_or_default()))
        }
        (Kind::Float, Raw::Str(s)) if s.starts_with(|c: char| c.is_ascii_digit() || c == '-') => {
            match s.parse::<f64>() {
                Ok(f) if f.is_finite() => Ok(Val::Float(f)),
                _ => convert(&Raw::Str(s), kind, engine),
            }
        }
        (Kind::Bool, Raw::Str(s)) if matches!(s.as_str(), "1" | "0" | "true" | "false") => {
            Ok(Val::Bool(s == "1" || s == "true"))
        }
        (Kind::Timestamp, Raw::Str(s)) if canonical_timestamp(&s) => Ok(Val::Text(s)),
        (Kind::Date, Raw::Str(s)) if s.len() == 10 && canonical_date(&s) => Ok(Val::Text(s)),
        (_, raw) => convert(&raw, kind, engine),
    }
}

/// Converts a CSV field borrowed from the file: numbers, booleans and canonical dates are
/// checked without allocating; only text that is kept is copied.
pub fn convert_field(f: &Option<std::borrow::Cow<'_, str>>, kind: Kind, engine: Engine) -> Result<Val, String> {
    let Some(c) = f else { return Ok(Val::Null) };
    let s: &str = c;
    let b = s.as_bytes();
    match kind {
        Kind::Text | Kind::Other => Ok(Val::Text(s.to_string())),
        Kind::Int if !b.is_empty() && b.len() < 19 && b.iter().all(u8::is_ascii_digit) => {
            Ok(Val::Int(s.parse().unwrap_or_default()))
        }
        Kind::Float if b.first().is_some_and(|c| c.is_ascii_digit() || *c == b'-') => match s.parse::<f64>() {
            Ok(f) if f.is_finite() => Ok(Val::Float(f)),
            _ => convert(&Raw::Str(s.to_string()), kind, engine),
        },
        Kind::Bool if matches!(s, "1" | "0" | "true" | "false") => Ok(Val::Bool(s == "1" || s == "true")),
        Kind::Timestamp if canonical_timestamp(s) => Ok(Val::Text(s.to_string())),
        Kind::Date if canonical_date(s) => Ok(Val::Text(s.to_string())),
        _ => convert_owned(Raw::Str(s.to_string()), kind, engine),
    }
}

fn digits(b: &[u8]) -> Option<u32> {
    b.iter().try_fold(0u32, |acc, c| {
        c.is_ascii_digit().then(|| acc * 10 + u32::from(c - b'0'))
    })
}

/// `YYYY-MM-DD`, a real date.
fn canonical_date(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 10
        && b[4] == b'-'
        && b[7] == b'-'
        && match (digits(&b[0..4]), digits(&b[5..7]), digits(&b[8..10])) {
            (Some(y), Some(m), Some(d)) => NaiveDate::from_ymd_opt(y as i32, m, d).is_some(),
            _ => false,
        }
}

/// `YYYY-MM-DD HH:MM:SS`, exactly the form stored (no fraction, no `T`).
fn canonical_timestamp(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 19
        && canonical_date(&s[..10])
        && b[10] == b' '
        && b[13] == b':'
        && b[16] == b':'
        && match (digits(&b[11..13]), digits(&b[14..16]), digits(&b[17..19])) {
            (Some(h), Some(m), Some(sec)) => h < 24 && m < 60 && sec < 60,
            _ => false,
        }
}

/// Converts one value for a column of `kind`. `Raw::Missing` must be handled by the caller.
pub fn convert(raw: &Raw, kind: Kind, engine: Engine) -> Result<Val, String> {
    let fail = || format!("expected {}, found {}", kind.expected(), describe(raw));
    if matches!(raw, Raw::Null | Raw::Missing) {
        return Ok(Val::Null);
    }
    Ok(match kind {
        Kind::Int => match raw {
            Raw::Int(i) => Val::Int(*i),
            Raw::Float(f) if f.fract() == 0.0 && f.abs() < 9.0e15 => Val::Int(*f as i64),
            Raw::Str(s) => Val::Int(s.trim().parse().map_err(|_| fail())?),
            _ => return Err(fail()),
        },
        Kind::Float => match raw {
            Raw::Int(i) => Val::Float(*i as f64),
            Raw::Float(f) => Val::Float(*f),
            Raw::Str(s) => Val::Float(parse_float(s).ok_or_else(fail)?),
            _ => return Err(fail()),
        },
        Kind::Decimal => match raw {
            Raw::Int(i) => Val::Text(i.to_string()),
            Raw::Float(f) => Val::Text(f.to_string()),
            Raw::Str(s) => {
                let t = s.trim();
                if parse_float(t).is_none() {
                    return Err(fail());
                }
                Val::Text(t.to_string())
            }
            _ => return Err(fail()),
        },
        Kind::Bool => {
            let b = match raw {
                Raw::Bool(b) => *b,
                Raw::Int(0) => false,
                Raw::Int(1) => true,
                Raw::Str(s) => match s.trim().to_ascii_lowercase().as_str() {
                    "true" | "t" | "yes" | "y" | "on" | "1" => true,
                    "false" | "f" | "no" | "n" | "off" | "0" => false,
                    _ => return Err(fail()),
                },
                _ => return Err(fail()),
            };
            Val::Bool(b)
        }
        Kind::Text | Kind::Other => match raw {
            Raw::Str(s) => Val::Text(s.clone()),
            Raw::Int(i) => Val::Text(i.to_string()),
            Raw::Float(f) => Val::Text(f.to_string()),
            Raw::Bool(b) => Val::Text(b.to_string()),
            Raw::Json(j) => Val::Text(j.to_string()),
            Raw::Null | Raw::Missing => Val::Null,
        },
        Kind::Json => match raw {
            Raw::Json(j) => Val::Text(j.to_string()),
            Raw::Str(s) => {
                // A string holding JSON is taken as that JSON; any other string is a JSON string.
                match serde_json::from_str::<serde_json::Value>(s) {
                    Ok(v) if v.is_object() || v.is_array() => Val::Text(s.clone()),
                    _ => Val::Text(serde_json::Value::String(s.clone()).to_string()),
                }
            }
            Raw::Int(i) => Val::Text(i.to_string()),
            Raw::Float(f) => Val::Text(f.to_string()),
            Raw::Bool(b) => Val::Text(b.to_string()),
            Raw::Null | Raw::Missing => Val::Null,
        },
        Kind::Date => {
            let Raw::Str(s) = raw else { return Err(fail()) };
            let d = NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d").map_err(|_| fail())?;
            Val::Text(d.format("%Y-%m-%d").to_string())
        }
        Kind::Time => {
            let Raw::Str(s) = raw else { return Err(fail()) };
            let t = s.trim();
            if engine.server_parses_times() {
                // timetz and friends: let the server parse, after a basic check.
                if !t.starts_with(|c: char| c.is_ascii_digit()) {
                    return Err(fail());
                }
                Val::Text(t.to_string())
            } else {
                let t = NaiveTime::parse_from_str(t, "%H:%M:%S%.f")
                    .or_else(|_| NaiveTime::parse_from_str(t, "%H:%M"))
                    .map_err(|_| fail())?;
                Val::Text(t.format("%H:%M:%S%.f").to_string())
            }
        }
        Kind::Timestamp => {
            let Raw::Str(s) = raw else { return Err(fail()) };
            let t = parse_naive(s.trim()).ok_or_else(fail)?;
            Val::Text(t.format("%Y-%m-%d %H:%M:%S%.f").to_string())
        }
        Kind::TimestampTz => {
            let Raw::Str(s) = raw else { return Err(fail()) };
            let t = parse_tz(s.trim()).ok_or_else(fail)?;
            Val::Text(t.to_rfc3339_opts(SecondsFormat::AutoSi, false))
        }
        Kind::Uuid => {
            let Raw::Str(s) = raw else { return Err(fail()) };
            let bytes = parse_uuid(s.trim()).ok_or_else(fail)?;
            if engine.uuid_as_text() {
                Val::Text(format_uuid(&bytes))
            } else {
                Val::Bytes(bytes.to_vec())
            }
        }
        Kind::Bytes => match raw {
            Raw::Str(s) => match s.strip_prefix("\\x") {
                Some(hex) => Val::Bytes(parse_hex(hex).ok_or_else(fail)?),
                None => Val::Bytes(s.as_bytes().to_vec()),
            },
            _ => return Err(fail()),
        },
    })
}

fn parse_float(s: &str) -> Option<f64> {
    let t = s.trim();
    if let Some(f) = t.parse().ok().filter(|f: &f64| f.is_finite()) {
        return Some(f);
    }
    match t.to_ascii_lowercase().as_str() {
        "nan" => Some(f64::NAN),
        "inf" | "infinity" | "+infinity" => Some(f64::INFINITY),
        "-inf" | "-infinity" => Some(f64::NEG_INFINITY),
        _ => None,
    }
}

fn parse_naive(s: &str) -> Option<NaiveDateTime> {
    for f in [
        "%Y-%m-%d %H:%M:%S%.f",
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%d %H:%M",
        "%Y-%m-%dT%H:%M",
    ] {
        if let Ok(t) = NaiveDateTime::parse_from_str(s, f) {
            return Some(t);
        }
    }
    NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .ok()
        .and_then(|d| d.and_hms_opt(0, 0, 0))
}

fn parse_tz(s: &str) -> Option<DateTime<FixedOffset>> {
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Some(t);
    }
    for f in [
        "%Y-%m-%d %H:%M:%S%.f%:z",
        "%Y-%m-%d %H:%M:%S%.f%#z",
        "%Y-%m-%dT%H:%M:%S%.f%#z",
    ] {
        if let Ok(t) = DateTime::parse_from_str(s, f) {
            return Some(t);
        }
    }
    // No offset: UTC.
    let s = s.strip_suffix(" UTC").unwrap_or(s);
    parse_naive(s).map(|n| n.and_utc().fixed_offset())
}

/// Current time in the form a timestamptz column on SQLite holds.
pub fn now_utc() -> String {
    Utc::now().to_rfc3339_opts(SecondsFormat::AutoSi, false)
}

pub fn parse_uuid(s: &str) -> Option<[u8; 16]> {
    let hex: String = s.chars().filter(|c| *c != '-').collect();
    let s = s.trim_start_matches('{').trim_end_matches('}');
    let groups: Vec<&str> = s.split('-').collect();
    if hex.len() != 32 || !(groups.len() == 1 || groups.len() == 5) {
        return None;
    }
    let bytes = parse_hex(&hex)?;
    bytes.try_into().ok()
}

pub fn format_uuid(b: &[u8]) -> String {
    let h: String = b.iter().map(|x| format!("{x:02x}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        &h[0..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..32]
    )
}

pub fn parse_hex(s: &str) -> Option<Vec<u8>> {
    if !s.len().is_multiple_of(2) || !s.is_ascii() {
        return None;
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).ok())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conversions() {
        let s = |x: &str| Raw::Str(x.into());
        let e = Engine::Sqlite;
        assert_eq!(convert(&s(" 42 "), Kind::Int, e), Ok(Val::Int(42)));
        assert!(convert(&s("4x"), Kind::Int, e).unwrap_err().contains("an integer"));
        assert_eq!(convert(&s("yes"), Kind::Bool, e), Ok(Val::Bool(true)));
        assert_eq!(convert(&Raw::Int(2), Kind::Float, e), Ok(Val::Float(2.0)));
        assert_eq!(
            convert(&s("2024-01-02T03:04:05"), Kind::Timestamp, e),
            Ok(Val::Text("2024-01-02 03:04:05".into()))
        );
        assert_eq!(
            convert(&s("2024-01-02 03:04:05"), Kind::TimestampTz, e),
            Ok(Val::Text("2024-01-02T03:04:05+00:00".into()))
        );
        assert!(convert(&s("2024-13-02"), Kind::Date, e).is_err());
        let o = |x: &str, k| convert_owned(Raw::Str(x.into()), k, e);
        assert_eq!(
            o("2024-02-29 23:59:59", Kind::Timestamp),
            Ok(Val::Text("2024-02-29 23:59:59".into()))
        );
        assert!(o("2023-02-29 10:00:00", Kind::Timestamp).is_err());
        assert!(o("2023-01-01 24:00:00", Kind::Timestamp).is_err());
        assert_eq!(
            o("2023-01-01T10:00:00", Kind::Timestamp),
            Ok(Val::Text("2023-01-01 10:00:00".into()))
        );
        assert_eq!(o("007", Kind::Int), Ok(Val::Int(7)));
        assert_eq!(o("-1.5", Kind::Float), Ok(Val::Float(-1.5)));
        assert!(o("1e999", Kind::Float).is_err());
        assert_eq!(o("1", Kind::Bool), Ok(Val::Bool(true)));
        let u = "67e55044-10b1-426f-9247-bb680e5fe0c8";
        assert_eq!(convert(&s(u), Kind::Uuid, Engine::Postgres), Ok(Val::Text(u.into())));
        assert_eq!(format_uuid(&parse_uuid(u).unwrap()), u);
        assert_eq!(Kind::of_sqlite("timestamp_with_timezone_text"), Kind::TimestampTz);
        assert_eq!(Kind::of_sqlite("integer"), Kind::Int);
        assert_eq!(Kind::of_sqlite("varchar(20)"), Kind::Text);
        assert_eq!(Kind::of_sqlite("uuid_text"), Kind::Uuid);
        assert_eq!(Kind::of_sqlite("double"), Kind::Float);
    }
}
