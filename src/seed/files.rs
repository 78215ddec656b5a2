//! Seed files: one per table in `<seeds-dir>/<profile>/`, YAML, JSON or CSV, read into
//! rows of untyped values (typed later against the database's columns).
//!
//! - The table is the file stem; a numeric prefix for ordering by eye (`01_user.yaml`,
//!   `2-post.csv`) is stripped. Other files (a README) are ignored.
//! - YAML and JSON: a list of mappings, column → value. A key left out takes the
//!   column's default.
//! - CSV: a header line of column names, then one line per row. An empty field is NULL,
//!   a quoted empty field (`""`) the empty string, as with PostgreSQL's `COPY ... CSV`.

use crate::error::{Error, Result};
use std::path::{Path, PathBuf};

/// A value as written in a file, before it meets its column.
#[derive(Debug, Clone, PartialEq)]
pub enum Raw {
    /// The row does not name this column: the database default applies.
    Missing,
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(String),
    /// A nested list or mapping (for JSON columns).
    Json(serde_json::Value),
}

/// How a row is located in its file for messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Loc {
    /// The n-th entry of a YAML/JSON list.
    Row,
    /// The line of a CSV file where the row starts.
    Line,
}

/// The rows of one file.
#[derive(Debug, Clone)]
pub struct SeedFile {
    pub table: String,
    pub path: PathBuf,
    pub columns: Vec<String>,
    pub rows: Vec<Vec<Raw>>,
    /// Row number (1-based) or line, per row.
    pub locs: Vec<usize>,
    pub loc: Loc,
    /// A CSV file whose rows are not read yet: they are streamed at insert time
    /// ([`csv_chunks`]), so parsing overlaps with inserting.
    pub streamed: bool,
}

impl SeedFile {
    /// "row 3" or "line 4".
    pub fn where_(&self, row: usize) -> String {
        match self.loc {
            Loc::Row => format!("row {}", self.locs[row]),
            Loc::Line => format!("line {}", self.locs[row]),
        }
    }
}

/// The table a file name stands for, if it is a seed file.
pub fn table_of(file_name: &str) -> Option<String> {
    if file_name.starts_with('.') {
        return None;
    }
    let (stem, ext) = file_name.rsplit_once('.')?;
    if !matches!(ext.to_ascii_lowercase().as_str(), "yaml" | "yml" | "json" | "csv") {
        return None;
    }
    let digits = stem.bytes().take_while(u8::is_ascii_digit).count();
    let rest = &stem[digits..];
    let stem = match rest.strip_prefix(['_', '-']) {
        Some(r) if digits > 0 && !r.is_empty() => r,
        _ => stem,
    };
    (!stem.is_empty()).then(|| stem.to_string())
}

/// The seed files of a profile directory, sorted by name. Refuses two files for one table.
pub fn discover(dir: &Path) -> Result<Vec<(String, PathBuf)>> {
    let mut found: Vec<(String, PathBuf)> = Vec::new();
    let entries = match std::fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(found),
        Err(e) => return Err(Error::io(format!("could not read `{}`", dir.display()), e)),
    };
    for entry in entries {
        let entry = entry.map_err(|e| Error::io(format!("could not read `{}`", dir.display()), e))?;
        if !entry.path().is_file() {
            continue;
        }
        let name = entry.file_name().to_string_lossy().into_owned();
        if let Some(table) = table_of(&name) {
            found.push((table, entry.path()));
        }
    }
    found.sort_by(|a, b| a.1.cmp(&b.1));
    for w in 0..found.len() {
        for o in w + 1..found.len() {
            if found[w].0 == found[o].0 {
                return Err(Error::Seed {
                    message: format!(
                        "two files seed the table `{}`: `{}` and `{}`",
                        found[w].0,
                        found[w].1.display(),
                        found[o].1.display()
                    ),
                    hint: "keep one file per table".into(),
                });
            }
        }
    }
    Ok(found)
}

fn bad(path: &Path, what: impl std::fmt::Display) -> Error {
    Error::Seed {
        message: format!("`{}`: {what}", path.display()),
        hint: "fix the file; nothing was inserted".into(),
    }
}

/// Reads one seed file; a CSV file only up to its header when `stream_csv`.
pub fn read(table: &str, path: &Path, stream_csv: bool) -> Result<SeedFile> {
    let text =
        std::fs::read_to_string(path).map_err(|e| Error::io(format!("could not read `{}`", path.display()), e))?;
    let ext = path
        .extension()
        .map(|e| e.to_string_lossy().to_ascii_lowercase())
        .unwrap_or_default();
    match ext.as_str() {
        "csv" if stream_csv => csv_header(table, path, &text),
        "csv" => parse_csv(table, path, &text),
        "json" => {
            let v: serde_json::Value =
                serde_json::from_str(&text).map_err(|e| bad(path, format!("invalid JSON: {e}")))?;
            from_list(table, path, json_list(path, v)?)
        }
        _ => {
            let v: serde_yaml_ng::Value =
                serde_yaml_ng::from_str(&text).map_err(|e| bad(path, format!("invalid YAML: {e}")))?;
            let v: serde_json::Value =
                serde_json::to_value(&v).map_err(|e| bad(path, format!("unsupported YAML: {e}")))?;
            from_list(table, path, json_list(path, v)?)
        }
    }
}

fn json_list(path: &Path, v: serde_json::Value) -> Result<Vec<serde_json::Value>> {
    match v {
        serde_json::Value::Null => Ok(Vec::new()),
        serde_json::Value::Array(a) => Ok(a),
        _ => Err(bad(
            path,
            "expected a list of rows (`- column: value` in YAML, `[{\"column\": value}]` in JSON)",
        )),
    }
}

fn from_list(table: &str, path: &Path, list: Vec<serde_json::Value>) -> Result<SeedFile> {
    let mut columns: Vec<String> = Vec::new();
    let mut maps = Vec::with_capacity(list.len());
    for (i, item) in list.into_iter().enumerate() {
        let serde_json::Value::Object(map) = item else {
            return Err(bad(
                path,
                format!("row {}: expected a mapping of column names to values", i + 1),
            ));
        };
        for k in map.keys() {
            if !columns.iter().any(|c| c == k) {
                columns.push(k.clone());
            }
        }
        maps.push(map);
    }
    let rows = maps
        .into_iter()
        .map(|mut m| {
            columns
                .iter()
                .map(|c| match m.remove(c) {
                    None => Raw::Missing,
                    Some(v) => raw_of_json(v),
                })
                .collect()
        })
        .collect::<Vec<Vec<Raw>>>();
    Ok(SeedFile {
        table: table.to_string(),
        path: path.to_path_buf(),
        columns,
        locs: (1..=rows.len()).collect(),
        rows,
        loc: Loc::Row,
        streamed: false,
    })
}

fn raw_of_json(v: serde_json::Value) -> Raw {
    use serde_json::Value as J;
    match v {
        J::Null => Raw::Null,
        J::Bool(b) => Raw::Bool(b),
        J::Number(n) => match n.as_i64() {
            Some(i) => Raw::Int(i),
            None => Raw::Float(n.as_f64().unwrap_or(f64::NAN)),
        },
        J::String(s) => Raw::Str(s),
        other => Raw::Json(other),
    }
}

/// A CSV field: `None` for an unquoted empty field (NULL).
type Field = Option<String>;

/// Parses CSV text (RFC 4180: `,` separators, `"` quotes doubled inside quoted fields,
/// quoted fields may span lines, CRLF or LF).
fn parse_csv(table: &str, path: &Path, text: &str) -> Result<SeedFile> {
    let mut f = csv_header(table, path, text)?;
    f.streamed = false;
    let mut err = None;
    csv_rows(path, text, usize::MAX, |chunk| match chunk {
        Ok((rows, locs)) => {
            f.rows.extend(rows);
            f.locs.extend(locs);
            true
        }
        Err(e) => {
            err = Some(e);
            false
        }
    });
    match err {
        Some(e) => Err(e),
        None => Ok(f),
    }
}

fn reader(text: &str) -> CsvReader<'_> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    CsvReader {
        text,
        s: text.as_bytes(),
        pos: 0,
        line: 1,
    }
}

/// A CSV file's header: the columns, no rows yet (`streamed`).
fn csv_header(table: &str, path: &Path, text: &str) -> Result<SeedFile> {
    let mut reader = reader(text);
    let columns: Vec<String> = match reader.record().map_err(|e| bad(path, e))? {
        None => Vec::new(),
        Some((_, header)) => header
            .into_iter()
            .map(|f| f.unwrap_or_default().trim().to_string())
            .collect(),
    };
    if let Some(i) = columns.iter().position(String::is_empty) {
        return Err(bad(path, format!("line 1: column {} has no name", i + 1)));
    }
    Ok(SeedFile {
        table: table.to_string(),
        path: path.to_path_buf(),
        columns,
        rows: Vec::new(),
        locs: Vec::new(),
        loc: Loc::Line,
        streamed: true,
    })
}

/// Rows of a CSV file with their line numbers, in chunks.
pub type Chunk = (Vec<Vec<Raw>>, Vec<usize>);

/// Parses the rows of CSV `text` (after its header) in chunks of `chunk` rows, handing each
/// to `each`, which returns `false` to stop. A malformed record ends it with an error.
pub fn csv_rows(path: &Path, text: &str, chunk: usize, mut each: impl FnMut(Result<Chunk>) -> bool) {
    let mut reader = reader(text);
    let width = match reader.record() {
        Ok(Some((_, h))) => h.len(),
        Ok(None) => return,
        Err(e) => {
            each(Err(bad(path, e)));
            return;
        }
    };
    let cap = chunk.min(65_536);
    let (mut rows, mut locs) = (Vec::with_capacity(cap), Vec::with_capacity(cap));
    loop {
        match reader.record() {
            Err(e) => {
                each(Err(bad(path, e)));
                return;
            }
            Ok(None) => break,
            Ok(Some((line, rec))) => {
                if rec.len() == 1 && rec[0].is_none() {
                    continue; // blank line
                }
                if rec.len() != width {
                    each(Err(bad(
                        path,
                        format!(
                            "line {line}: {} field(s), but the header names {width} column(s)",
                            rec.len()
                        ),
                    )));
                    return;
                }
                rows.push(
                    rec.into_iter()
                        .map(|f| match f {
                            None => Raw::Null,
                            Some(s) => Raw::Str(s),
                        })
                        .collect::<Vec<_>>(),
                );
                locs.push(line);
                if rows.len() >= chunk {
                    let full = (std::mem::take(&mut rows), std::mem::take(&mut locs));
                    if !each(Ok(full)) {
                        return;
                    }
                    rows.reserve(cap);
                    locs.reserve(cap);
                }
            }
        }
    }
    if !rows.is_empty() {
        each(Ok((rows, locs)));
    }
}

struct CsvReader<'a> {
    text: &'a str,
    s: &'a [u8],
    pos: usize,
    line: usize,
}

/// A CSV field borrowed from the text when it needs no unescaping; `None` for NULL.
pub type CowField<'a> = Option<std::borrow::Cow<'a, str>>;

impl<'a> CsvReader<'a> {
    /// The next record and the line it starts on.
    fn record(&mut self) -> std::result::Result<Option<(usize, Vec<Field>)>, String> {
        let mut fields = Vec::new();
        Ok(self
            .record_into(&mut fields)?
            .map(|line| (line, fields.into_iter().map(|f| f.map(|c| c.into_owned())).collect())))
    }

    /// Reads the next record into `fields` (cleared first); returns its line.
    fn record_into(&mut self, fields: &mut Vec<CowField<'a>>) -> std::result::Result<Option<usize>, String> {
        fields.clear();
        if self.pos >= self.s.len() {
            return Ok(None);
        }
        let start_line = self.line;
        loop {
            let (field, end) = self.field(start_line)?;
            fields.push(field);
            if end != b',' {
                break;
            }
        }
        Ok(Some(start_line))
    }

    /// One field and what ended it: `,`, `\n` or 0 at the end of input.
    fn field(&mut self, start_line: usize) -> std::result::Result<(CowField<'a>, u8), String> {
        let s = self.s;
        if self.pos < s.len() && s[self.pos] == b'"' {
            self.pos += 1;
            let begin = self.pos;
            let mut owned: Option<String> = None;
            loop {
                let Some(&c) = s.get(self.pos) else {
                    return Err(format!("line {start_line}: a quoted field is not closed"));
                };
                match c {
                    b'"' if s.get(self.pos + 1) == Some(&b'"') => {
                        // A doubled quote: from here on the field is built.
                        let o = owned.get_or_insert_with(|| self.text[begin..self.pos].to_string());
                        o.push('"');
                        self.pos += 2;
                        let rest = self.pos;
                        // Copy up to the next quote in one go.
                        let next = s[rest..].iter().position(|&b| b == b'"').map_or(s.len(), |i| rest + i);
                        self.line += s[rest..next].iter().filter(|&&b| b == b'\n').count();
                        o.push_str(&self.text[rest..next]);
                        self.pos = next;
                    }
                    b'"' => {
                        let field = match owned {
                            Some(o) => std::borrow::Cow::Owned(o),
                            None => std::borrow::Cow::Borrowed(&self.text[begin..self.pos]),
                        };
                        self.pos += 1;
                        let end = self.end_of_field(start_line)?;
                        return Ok((Some(field), end));
                    }
                    b'\n' => {
                        self.line += 1;
                        if let Some(o) = owned.as_mut() {
                            o.push('\n');
                        }
                        self.pos += 1;
                    }
                    _ => {
                        if let Some(o) = owned.as_mut() {
                            // Multi-byte characters are pushed whole.
                            let ch_len = self.text[self.pos..].chars().next().map_or(1, char::len_utf8);
                            o.push_str(&self.text[self.pos..self.pos + ch_len]);
                            self.pos += ch_len;
                        } else {
                            self.pos += 1;
                        }
                    }
                }
            }
        } else {
            let begin = self.pos;
            while self.pos < s.len() && !matches!(s[self.pos], b',' | b'\n' | b'\r') {
                if s[self.pos] == b'"' {
                    return Err(format!(
                        "line {}: a quote inside an unquoted field (quote the whole field and double the quote)",
                        self.line
                    ));
                }
                self.pos += 1;
            }
            let raw = &self.text[begin..self.pos];
            let field = (!raw.is_empty()).then_some(std::borrow::Cow::Borrowed(raw));
            let end = self.end_of_field(start_line)?;
            Ok((field, end))
        }
    }

    fn end_of_field(&mut self, start_line: usize) -> std::result::Result<u8, String> {
        let s = self.s;
        match s.get(self.pos) {
            None => Ok(0),
            Some(b',') => {
                self.pos += 1;
                Ok(b',')
            }
            Some(b'\r') if s.get(self.pos + 1) == Some(&b'\n') => {
                self.pos += 2;
                self.line += 1;
                Ok(b'\n')
            }
            Some(b'\n') | Some(b'\r') => {
                self.pos += 1;
                self.line += 1;
                Ok(b'\n')
            }
            Some(_) => Err(format!(
                "line {start_line}: text after a closing quote (quote the whole field)"
            )),
        }
    }
}

/// Parses the rows of CSV `text` (after its header) one by one with borrowed fields,
/// calling `each(line, fields)`; it returns `false` to stop. Errors (malformed records,
/// wrong field counts) go to `each_err`.
pub fn csv_each<'a>(path: &Path, text: &'a str, mut each: impl FnMut(usize, &[CowField<'a>]) -> bool) -> Result<()> {
    let mut reader = reader(text);
    let mut fields = Vec::new();
    let width = match reader.record_into(&mut fields).map_err(|e| bad(path, e))? {
        Some(_) => fields.len(),
        None => return Ok(()),
    };
    while let Some(line) = reader.record_into(&mut fields).map_err(|e| bad(path, e))? {
        if fields.len() == 1 && fields[0].is_none() {
            continue; // blank line
        }
        if fields.len() != width {
            return Err(bad(
                path,
                format!(
                    "line {line}: {} field(s), but the header names {width} column(s)",
                    fields.len()
                ),
            ));
        }
        if !each(line, &fields) {
            break;
        }
    }
    Ok(())
}

/// Quotes a CSV field when needed; `None` (NULL) is written as an empty field, the empty
/// string as `""`.
pub fn csv_field(v: Option<&str>, out: &mut String) {
    match v {
        None => {}
        Some("") => out.push_str("\"\""),
        Some(s) => {
            if s.contains([',', '"', '\n', '\r']) || s.starts_with(' ') || s.ends_with(' ') {
                out.push('"');
                out.push_str(&s.replace('"', "\"\""));
                out.push('"');
            } else {
                out.push_str(s);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_names_come_from_the_stem() {
        assert_eq!(table_of("user.yaml").as_deref(), Some("user"));
        assert_eq!(table_of("01_user.yml").as_deref(), Some("user"));
        assert_eq!(table_of("2-post.csv").as_deref(), Some("post"));
        assert_eq!(table_of("2024.json").as_deref(), Some("2024"));
        assert_eq!(table_of("README.md"), None);
        assert_eq!(table_of(".hidden.yaml"), None);
    }

    #[test]
    fn csv_nulls_quotes_and_lines() {
        let f = parse_csv(
            "t",
            Path::new("t.csv"),
            "id,name,note\r\n1,,\"\"\n2,\"a, \"\"b\"\"\nc\",x\n\n3,z,\n",
        )
        .unwrap();
        assert_eq!(f.columns, ["id", "name", "note"]);
        assert_eq!(f.rows[0], [Raw::Str("1".into()), Raw::Null, Raw::Str("".into())]);
        assert_eq!(f.rows[1][1], Raw::Str("a, \"b\"\nc".into()));
        assert_eq!(f.locs, [2, 3, 6]);
        assert!(parse_csv("t", Path::new("t.csv"), "a,b\n1\n").is_err());
        let mut s = String::new();
        csv_field(Some("a,\"b\""), &mut s);
        assert_eq!(s, "\"a,\"\"b\"\"\"");
    }
}
