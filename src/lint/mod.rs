//! The lint rules of `cargo dbm lint` and `check` (#13): the SQL statements a pending
//! migration executes, checked against lock and compatibility rules.
//!
//! Pure: the caller captures the statements (a scratch database) and reads the sources;
//! this module only reads them.
//!
//! - PostgreSQL: the statements of one migration are linted together by squawk
//!   (`squawk-linter`), in a transaction unless the migration's `use_transaction()` says
//!   `Some(false)`; `src/lint/rules.rs` says which of squawk's rules run, at which
//!   severity, and why the others do not ([`rules()`] lists them).
//! - SQLite: destructive drops, and table rebuilds of existing tables
//!   (`src/lint/sqlite.rs`).
//! - MySQL: no rules yet.
//!
//! Statements on tables created earlier in the same migration are not flagged (the table
//! is new and empty when they run). Tables created by an earlier migration are: when the
//! whole history is linted against an empty scratch database (CI), every migration is
//! pending, yet production has those tables.
//!
//! A migration allows rules for itself with a marker anywhere in its source:
//! `// cargo-dbm: allow(rule-name, other-rule) -- reason`; the workspace allows rules for
//! every migration with [`Options::allow`]. A rule name either does not know is an error.

mod postgres;
mod rules;
mod sql;
mod sqlite;

use crate::engine::Engine;
use crate::error::{Error, Result};
use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// One migration's SQL, as captured on a scratch database.
#[derive(Debug, Clone)]
pub struct MigrationSql {
    /// The migration's name (its version in `seaql_migrations`).
    pub version: String,
    /// Its source file, for messages.
    pub file: PathBuf,
    /// Its Rust source text: allow markers and `use_transaction()` are read from it.
    pub source: String,
    /// The SQL it executed, in order (tracking-table statements already removed). One
    /// string may hold several statements separated by `;`.
    pub statements: Vec<String>,
}

/// How serious a finding is.
#[derive(serde::Serialize, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Debug)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Info,
    Warning,
    Error,
}

impl std::fmt::Display for Severity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Severity::Info => "info",
            Severity::Warning => "warning",
            Severity::Error => "error",
        })
    }
}

/// One rule broken by one statement.
#[derive(serde::Serialize, Clone, Debug, PartialEq, Eq)]
pub struct Finding {
    pub version: String,
    pub file: PathBuf,
    /// Index into the migration's `statements` (0-based; [`Display`](std::fmt::Display)
    /// shows it 1-based).
    pub statement_index: usize,
    pub statement: String,
    /// Kebab-case rule name; squawk's name where the rule comes from squawk.
    pub rule: String,
    pub severity: Severity,
    /// Why it is dangerous: the lock it takes, what breaks.
    pub message: String,
    /// The safe pattern.
    pub fix: String,
}

/// For a terminal: severity, rule, where, the statement, why, and the fix, e.g.
///
/// ```text
/// error[ban-drop-column]: m20260101_000000_x (migration/src/m20260101_000000_x.rs), statement 2
///   ALTER TABLE "user" DROP COLUMN "phone"
///   why: dropping a column destroys its data, …
///   fix: first deploy code that no longer uses the column, …
/// ```
impl std::fmt::Display for Finding {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(
            f,
            "{}[{}]: {} ({}), statement {}",
            self.severity,
            self.rule,
            self.version,
            self.file.display(),
            self.statement_index + 1
        )?;
        for line in self.statement.lines() {
            writeln!(f, "  {line}")?;
        }
        writeln!(f, "  why: {}", self.message)?;
        write!(f, "  fix: {}", self.fix)
    }
}

/// What [`lint`] needs besides the statements.
pub struct Options<'a> {
    pub engine: Engine,
    /// Rule names allowed for the whole workspace (config key `lint-allow`).
    pub allow: &'a [String],
    /// SQLite: rows per existing table, to tell a large table's rebuild from a small one.
    pub row_counts: &'a HashMap<String, u64>,
}

/// The SQLite row count above which a table rebuild is a warning rather than info.
pub const LARGE_TABLE_ROWS: u64 = 100_000;

/// The findings of `migrations`, ordered by migration (the order given), statement
/// index, then rule name.
///
/// Errors: an unknown rule name in `opts.allow` or in a migration's allow marker.
pub fn lint(migrations: &[MigrationSql], opts: &Options) -> Result<Vec<Finding>> {
    for name in opts.allow {
        check_rule_name(name, None)?;
    }
    let mut all = Vec::new();
    for (order, m) in migrations.iter().enumerate() {
        let allowed = allow_markers(&m.source, &m.file)?;
        let parts = parts(&m.statements);
        let raw = match opts.engine {
            Engine::Postgres => postgres::lint(m, &parts),
            Engine::Sqlite => sqlite::lint(&parts, opts.row_counts),
            Engine::MySql => Vec::new(),
        };
        for r in raw {
            if opts.allow.iter().chain(&allowed).any(|a| a == r.rule) {
                continue;
            }
            let info = rules::find(r.rule).expect("findings name known rules");
            let message = match r.detail {
                Some(d) if info.message.is_empty() => d,
                Some(d) => format!("{d}: {}", info.message),
                None => info.message.to_string(),
            };
            let finding = Finding {
                version: m.version.clone(),
                file: m.file.clone(),
                statement_index: r.index,
                statement: m.statements[r.index].trim().to_string(),
                rule: r.rule.to_string(),
                severity: r.severity.unwrap_or(info.severity),
                message,
                fix: info.fix.to_string(),
            };
            all.push((order, finding));
        }
    }
    all.sort_by(|(oa, a), (ob, b)| {
        (oa, a.statement_index, &a.rule, &a.message).cmp(&(ob, b.statement_index, &b.rule, &b.message))
    });
    all.dedup_by(|(oa, a), (ob, b)| oa == ob && a.statement_index == b.statement_index && a.rule == b.rule);
    Ok(all.into_iter().map(|(_, f)| f).collect())
}

/// Every known rule, on any engine: name, default severity, one-line description.
/// These are the names `lint-allow` and allow markers accept.
pub fn rules() -> Vec<(&'static str, Severity, &'static str)> {
    rules::RULES
        .iter()
        .map(|r| (r.name, r.severity, r.description))
        .collect()
}

/// The rules [`lint`] runs on `engine` (none on MySQL yet), as [`rules`] lists them.
pub fn rules_for(engine: Engine) -> Vec<(&'static str, Severity, &'static str)> {
    use rules::Source;
    rules::RULES
        .iter()
        .filter(|r| match engine {
            Engine::Postgres => matches!(r.source, Source::Squawk | Source::Postgres | Source::Both),
            Engine::Sqlite => matches!(r.source, Source::Sqlite | Source::Both),
            Engine::MySql => false,
        })
        .map(|r| (r.name, r.severity, r.description))
        .collect()
}

/// A finding before it is dressed: statement, rule, and what the engine module adds.
#[derive(Debug)]
struct Raw {
    index: usize,
    rule: &'static str,
    /// Overrides the rule's default severity.
    severity: Option<Severity>,
    /// Said before the rule's message (or instead of it, where the rule has none).
    detail: Option<String>,
}

impl Raw {
    fn new(index: usize, rule: &'static str) -> Raw {
        Raw {
            index,
            rule,
            severity: None,
            detail: None,
        }
    }
}

/// One statement of a migration (a string of `statements` may hold several).
#[derive(Debug)]
struct Part<'a> {
    /// Index of the string in `statements`.
    index: usize,
    text: &'a str,
    shape: sql::Shape,
    /// Whether it acts only on tables created earlier in the same migration.
    on_new_table: bool,
}

fn parts(statements: &[String]) -> Vec<Part<'_>> {
    let mut out = Vec::new();
    for (index, s) in statements.iter().enumerate() {
        for range in sql::split(s) {
            let text = &s[range];
            out.push(Part {
                index,
                text,
                shape: sql::shape(text),
                on_new_table: false,
            });
        }
    }
    mark_new_tables(&mut out);
    out
}

/// Sets `on_new_table` where a statement works on tables the migration created before it.
fn mark_new_tables(parts: &mut [Part]) {
    use sql::Shape;
    let mut created: std::collections::HashSet<String> = Default::default();
    let mut indexes: std::collections::HashSet<String> = Default::default();
    for p in parts {
        p.on_new_table = match &p.shape {
            Shape::CreateTable(name) => {
                created.insert(name.clone());
                false
            }
            Shape::RenameTable { from, to } => {
                let new = created.remove(from);
                if new {
                    created.insert(to.clone());
                }
                new
            }
            Shape::DropTable(names) => {
                let all_new = names.iter().all(|n| created.contains(n));
                for n in names {
                    created.remove(n);
                }
                all_new
            }
            Shape::CreateIndex { name, table } => {
                indexes.extend(name.clone());
                created.contains(table)
            }
            Shape::DropIndex(names) => names.iter().all(|n| indexes.remove(n)),
            Shape::DropColumn(t) | Shape::OnTable(t) | Shape::InsertSelect { into: t, .. } => created.contains(t),
            Shape::Other => false,
        };
    }
}

/// The rules a migration's source allows: `// cargo-dbm: allow(a, b) -- reason`.
fn allow_markers(source: &str, file: &Path) -> Result<Vec<String>> {
    let mut out = Vec::new();
    for line in source.lines() {
        let Some(at) = line.find("//") else { continue };
        let rest = line[at + 2..].trim_start_matches(['/', '!']).trim_start();
        let Some(rest) = rest.strip_prefix("cargo-dbm:") else {
            continue;
        };
        let Some(rest) = rest.trim_start().strip_prefix("allow") else {
            continue;
        };
        let Some(rest) = rest.trim_start().strip_prefix('(') else {
            continue;
        };
        let Some(end) = rest.find(')') else {
            return Err(Error::Config(format!(
                "unclosed allow marker in `{}`: `{}`; write `// cargo-dbm: allow(rule-name) -- reason`",
                file.display(),
                line.trim()
            )));
        };
        for name in rest[..end].split(',').map(str::trim).filter(|n| !n.is_empty()) {
            check_rule_name(name, Some(file))?;
            out.push(name.to_string());
        }
    }
    Ok(out)
}

fn check_rule_name(name: &str, file: Option<&Path>) -> Result<()> {
    if rules::find(name).is_some() {
        return Ok(());
    }
    let known: Vec<&str> = rules::RULES.iter().map(|r| r.name).collect();
    let place = match file {
        Some(f) => format!("in the allow marker of `{}`", f.display()),
        None => "in `lint-allow`".to_string(),
    };
    Err(Error::Config(format!(
        "unknown lint rule `{name}` {place}; known rules: {}",
        known.join(", ")
    )))
}

#[cfg(test)]
mod tests;
