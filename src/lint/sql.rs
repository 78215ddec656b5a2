//! Just enough SQL reading for the rules that squawk does not cover: splitting a string
//! into statements and recognising the shape of the few statements the rules track
//! (which table a statement creates, drops, renames, alters or copies into).
//!
//! Works for both sea-query dialects cargo dbm lints (PostgreSQL and SQLite): `"quoted"`,
//! `` `quoted` `` and `[quoted]` identifiers, `'strings'`, `$tag$ bodies $tag$`, comments.

/// One token; words and identifiers carry their normalised name.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Tok {
    /// A bare word: keyword or unquoted identifier, lowercased.
    Word(String),
    /// A quoted identifier, unquoted (case kept).
    Quoted(String),
    /// Any other character that matters: `(`, `)`, `,`, `.`, `;`.
    Punct(char),
    /// A literal (string, number, dollar-quoted body) or an operator.
    Other,
}

impl Tok {
    fn is_kw(&self, kw: &str) -> bool {
        matches!(self, Tok::Word(w) if w == kw)
    }

    fn name(&self) -> Option<String> {
        match self {
            Tok::Word(w) | Tok::Quoted(w) => Some(w.clone()),
            _ => None,
        }
    }
}

/// Tokens of `sql` with the byte offset where each starts.
fn tokenize(sql: &str) -> Vec<(usize, Tok)> {
    let b = sql.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        let start = i;
        match c {
            _ if c.is_ascii_whitespace() => {
                i += 1;
                continue;
            }
            b'-' if b.get(i + 1) == Some(&b'-') => {
                while i < b.len() && b[i] != b'\n' {
                    i += 1;
                }
                continue;
            }
            b'/' if b.get(i + 1) == Some(&b'*') => {
                i += 2;
                while i < b.len() && !(b[i] == b'*' && b.get(i + 1) == Some(&b'/')) {
                    i += 1;
                }
                i = (i + 2).min(b.len());
                continue;
            }
            b'"' | b'`' | b'[' => {
                let close = match c {
                    b'[' => b']',
                    q => q,
                };
                let mut name = Vec::new();
                i += 1;
                while i < b.len() {
                    if b[i] == close {
                        if close != b']' && b.get(i + 1) == Some(&close) {
                            name.push(close);
                            i += 2;
                            continue;
                        }
                        i += 1;
                        break;
                    }
                    name.push(b[i]);
                    i += 1;
                }
                out.push((start, Tok::Quoted(String::from_utf8_lossy(&name).into_owned())));
            }
            b'\'' => {
                i += 1;
                while i < b.len() {
                    if b[i] == b'\'' {
                        if b.get(i + 1) == Some(&b'\'') {
                            i += 2;
                            continue;
                        }
                        i += 1;
                        break;
                    }
                    i += 1;
                }
                out.push((start, Tok::Other));
            }
            b'$' => {
                // `$tag$ … $tag$` (PostgreSQL bodies) or a `$1` parameter.
                let tag_end = b[i + 1..]
                    .iter()
                    .position(|&x| !(x.is_ascii_alphanumeric() || x == b'_'))
                    .map(|p| i + 1 + p);
                match tag_end {
                    Some(e) if b[e] == b'$' && !b[i + 1..e].first().is_some_and(u8::is_ascii_digit) => {
                        let tag = &sql[i..=e];
                        i = match sql[e + 1..].find(tag) {
                            Some(p) => e + 1 + p + tag.len(),
                            None => b.len(),
                        };
                    }
                    _ => i += 1,
                }
                out.push((start, Tok::Other));
            }
            b'(' | b')' | b',' | b'.' | b';' => {
                i += 1;
                out.push((start, Tok::Punct(c as char)));
            }
            _ if c.is_ascii_alphabetic() || c == b'_' || c >= 0x80 => {
                while i < b.len() && (b[i].is_ascii_alphanumeric() || b[i] == b'_' || b[i] == b'$' || b[i] >= 0x80) {
                    i += 1;
                }
                out.push((start, Tok::Word(sql[start..i].to_lowercase())));
            }
            _ => {
                i += 1;
                while i < b.len() && (b[i].is_ascii_alphanumeric() || b[i] == b'.' && b[start].is_ascii_digit()) {
                    i += 1;
                }
                out.push((start, Tok::Other));
            }
        }
    }
    out
}

/// The byte ranges of the statements in `sql` (split on top-level `;`), trimmed, without
/// the `;`, empty ones left out.
pub fn split(sql: &str) -> Vec<std::ops::Range<usize>> {
    let mut out = Vec::new();
    let mut start = 0;
    let mut push = |from: usize, to: usize| {
        let text = &sql[from..to];
        let lead = text.len() - text.trim_start().len();
        let trimmed = text.trim();
        if !trimmed.is_empty() {
            out.push(from + lead..from + lead + trimmed.len());
        }
    };
    for (at, tok) in tokenize(sql) {
        if tok == Tok::Punct(';') {
            push(start, at);
            start = at + 1;
        }
    }
    push(start, sql.len());
    out
}

/// The bare words of a statement (keywords and unquoted names), lowercased, in order.
pub fn words(sql: &str) -> Vec<String> {
    tokenize(sql)
        .into_iter()
        .filter_map(|(_, t)| match t {
            Tok::Word(w) => Some(w),
            _ => None,
        })
        .collect()
}

/// What a statement does to tables, as far as the rules need to know.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Shape {
    CreateTable(String),
    DropTable(Vec<String>),
    RenameTable {
        from: String,
        to: String,
    },
    DropColumn(String),
    CreateIndex {
        name: Option<String>,
        table: String,
    },
    DropIndex(Vec<String>),
    /// `INSERT INTO into … SELECT … FROM from`
    InsertSelect {
        into: String,
        from: Option<String>,
    },
    /// Any other statement on one table (`ALTER TABLE`, `CLUSTER`,
    /// `VACUUM`, `REINDEX TABLE`, `TRUNCATE`, `COMMENT ON …`).
    OnTable(String),
    /// A statement on no table, or one we do not recognise.
    Other,
}

/// Reads a possibly schema-qualified name at `toks[i]`; returns the last part and the
/// index after it.
/// A comma-separated list of (qualified) names from token `i`.
fn qualified_list(toks: &[Tok], mut i: usize) -> Option<Vec<String>> {
    let mut names = Vec::new();
    loop {
        let (name, next) = qualified(toks, i)?;
        names.push(name);
        if toks.get(next) != Some(&Tok::Punct(',')) {
            return Some(names);
        }
        i = next + 1;
    }
}

fn qualified(toks: &[Tok], mut i: usize) -> Option<(String, usize)> {
    let mut name = toks.get(i)?.name()?;
    i += 1;
    while toks.get(i) == Some(&Tok::Punct('.')) {
        name = toks.get(i + 1)?.name()?;
        i += 2;
    }
    Some((name, i))
}

/// Skips the keywords `kws` in order where they appear at `i`.
fn skip(toks: &[Tok], mut i: usize, kws: &[&str]) -> usize {
    for kw in kws {
        if toks.get(i).is_some_and(|t| t.is_kw(kw)) {
            i += 1;
        }
    }
    i
}

/// The shape of one statement (`sql` holds exactly one).
pub fn shape(sql: &str) -> Shape {
    let toks: Vec<Tok> = tokenize(sql).into_iter().map(|(_, t)| t).collect();
    shape_of(&toks).unwrap_or(Shape::Other)
}

fn kw(toks: &[Tok], i: usize, word: &str) -> bool {
    toks.get(i).is_some_and(|t| t.is_kw(word))
}

fn shape_of(t: &[Tok]) -> Option<Shape> {
    if kw(t, 0, "create") {
        let mut i = skip(t, 1, &["or", "replace"]);
        i = skip(t, i, &["global", "local"]);
        i = skip(t, i, &["temp", "temporary", "unlogged"]);
        if kw(t, i, "table") {
            let i = skip(t, i + 1, &["if", "not", "exists"]);
            return Some(Shape::CreateTable(qualified(t, i)?.0));
        }
        // CREATE [UNIQUE] INDEX [CONCURRENTLY] [IF NOT EXISTS] [name] ON [ONLY] table
        let on = t.iter().position(|x| x.is_kw("on"))?;
        let index = t[..on].iter().position(|x| x.is_kw("index"))?;
        let i = skip(t, index + 1, &["concurrently"]);
        let i = skip(t, i, &["if", "not", "exists"]);
        let name = qualified(t, i).filter(|(_, next)| *next == on).map(|(n, _)| n);
        let (table, _) = qualified(t, skip(t, on + 1, &["only"]))?;
        return Some(Shape::CreateIndex { name, table });
    }
    if kw(t, 0, "drop") && kw(t, 1, "index") {
        let i = skip(t, 2, &["concurrently"]);
        return Some(Shape::DropIndex(qualified_list(t, skip(t, i, &["if", "exists"]))?));
    }
    if kw(t, 0, "drop") && kw(t, 1, "table") {
        return Some(Shape::DropTable(qualified_list(t, skip(t, 2, &["if", "exists"]))?));
    }
    if kw(t, 0, "alter") && kw(t, 1, "table") {
        let i = skip(t, 2, &["if", "exists"]);
        let i = skip(t, i, &["only"]);
        let (table, i) = qualified(t, i)?;
        if kw(t, i, "rename") && kw(t, i + 1, "to") {
            let (to, _) = qualified(t, i + 2)?;
            return Some(Shape::RenameTable { from: table, to });
        }
        if kw(t, i, "drop") && !kw(t, i + 1, "constraint") && t.get(i + 1).is_some() {
            // DROP [COLUMN] [IF EXISTS] col — but not DROP CONSTRAINT
            let j = skip(t, i + 1, &["column"]);
            let j = skip(t, j, &["if", "exists"]);
            let ends =
                |k: usize| t.get(k).is_none() || t[k] == Tok::Punct(',') || kw(t, k, "cascade") || kw(t, k, "restrict");
            if t.get(j).and_then(Tok::name).is_some() && ends(j + 1) && (kw(t, i + 1, "column") || !kw(t, j, "default"))
            {
                return Some(Shape::DropColumn(table));
            }
        }
        return Some(Shape::OnTable(table));
    }
    if kw(t, 0, "insert") || kw(t, 0, "replace") {
        let into = t.iter().position(|x| x.is_kw("into"))?;
        let (table, _) = qualified(t, into + 1)?;
        let from = t.iter().position(|x| x.is_kw("select")).and_then(|sel| {
            let f = sel + t[sel..].iter().position(|x| x.is_kw("from"))?;
            qualified(t, f + 1).map(|(n, _)| n)
        });
        return Some(Shape::InsertSelect { into: table, from });
    }
    for (first, skips) in [
        ("cluster", &["verbose"][..]),
        ("vacuum", &["full", "freeze", "verbose", "analyze"][..]),
        ("truncate", &["table", "only"][..]),
        ("reindex", &["table", "concurrently"][..]),
    ] {
        if kw(t, 0, first) {
            let i = skip(t, 1, skips);
            return qualified(t, i).map(|(n, _)| Shape::OnTable(n));
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lint_sql_split_respects_quotes_and_bodies() {
        let sql = "CREATE TABLE \"a;b\" (x text DEFAULT ';'); CREATE FUNCTION f() RETURNS int AS $$ SELECT 1; $$ LANGUAGE sql;\n -- c;\n";
        let parts: Vec<&str> = split(sql).into_iter().map(|r| &sql[r]).collect();
        assert_eq!(parts.len(), 3, "{parts:?}");
        assert_eq!(parts[0], "CREATE TABLE \"a;b\" (x text DEFAULT ';')");
        assert!(parts[1].ends_with("LANGUAGE sql"));
        assert_eq!(parts[2], "-- c;\n".trim());
    }

    #[test]
    fn lint_sql_odd_input_does_not_panic() {
        for s in [
            "é\"ü",
            "$",
            "$$",
            "$1 + $a$",
            "'unterminated",
            "/*",
            "[x",
            "`",
            "--",
            "ü.ü;é",
            "1.5e3;",
            ";;;",
        ] {
            let _ = split(s);
            let _ = shape(s);
            let _ = words(s);
        }
        assert_eq!(words("SELECT \"X\", Ünï FROM t"), ["select", "ünï", "from", "t"]);
    }

    #[test]
    fn lint_sql_shapes() {
        assert_eq!(
            shape(r#"CREATE TABLE IF NOT EXISTS "public"."user" ("id" serial)"#),
            Shape::CreateTable("user".into())
        );
        assert_eq!(shape("create temp table Foo (x int)"), Shape::CreateTable("foo".into()));
        assert_eq!(
            shape(r#"DROP TABLE IF EXISTS "a", "b" CASCADE"#),
            Shape::DropTable(vec!["a".into(), "b".into()])
        );
        assert_eq!(
            shape(r#"ALTER TABLE "a_new" RENAME TO "a""#),
            Shape::RenameTable {
                from: "a_new".into(),
                to: "a".into()
            }
        );
        assert_eq!(
            shape(r#"ALTER TABLE "a" DROP COLUMN "c""#),
            Shape::DropColumn("a".into())
        );
        assert_eq!(shape(r#"ALTER TABLE "a" DROP "c""#), Shape::DropColumn("a".into()));
        assert_eq!(
            shape(r#"ALTER TABLE "a" DROP CONSTRAINT "c""#),
            Shape::OnTable("a".into())
        );
        assert_eq!(
            shape(r#"ALTER TABLE "a" ALTER COLUMN "c" DROP DEFAULT"#),
            Shape::OnTable("a".into())
        );
        assert_eq!(
            shape(r#"CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS "i" ON ONLY "s"."t" ("x")"#),
            Shape::CreateIndex {
                name: Some("i".into()),
                table: "t".into()
            }
        );
        assert_eq!(
            shape(r#"CREATE INDEX ON "t" ("x")"#),
            Shape::CreateIndex {
                name: None,
                table: "t".into()
            }
        );
        assert_eq!(
            shape(r#"DROP INDEX CONCURRENTLY IF EXISTS "i", "s"."j""#),
            Shape::DropIndex(vec!["i".into(), "j".into()])
        );
        assert_eq!(
            shape(r#"INSERT INTO "t_new" ("a", "b") SELECT "a", "b" FROM "t""#),
            Shape::InsertSelect {
                into: "t_new".into(),
                from: Some("t".into())
            }
        );
        assert_eq!(shape("VACUUM FULL \"t\""), Shape::OnTable("t".into()));
        assert_eq!(shape("SELECT 1"), Shape::Other);
    }
}
