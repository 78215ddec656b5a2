//! PostgreSQL: squawk's rules over one migration's statements.
//!
//! The statements of a migration are linted as one file, so squawk sees what it needs
//! across statements (`CREATE TABLE` then `CREATE INDEX` on it, `ADD CONSTRAINT … NOT
//! VALID` then `VALIDATE`); each violation is mapped back to its statement by offset.
//! A statement squawk's parser cannot read is left out of that file and reported as
//! `unparsable-statement` (info), so it cannot disturb the others.

use super::{MigrationSql, Part, Raw, rules};
use squawk_syntax::SourceFile;

/// Rules that hold whether or not the table is new.
const ALSO_ON_NEW_TABLES: &[&str] = &[
    "identifier-too-long",
    "transaction-nesting",
    "ban-concurrent-index-creation-in-transaction",
];

/// squawk rules on constraints that `constraint-missing-not-valid` repeats (a FOREIGN
/// KEY, or a UNIQUE / PRIMARY KEY, which cannot be NOT VALID at all).
const MORE_PRECISE_THAN_NOT_VALID: &[&str] = &[
    "adding-foreign-key-constraint",
    "disallowed-unique-constraint",
    "adding-serial-primary-key-field",
];

pub(super) fn lint(m: &MigrationSql, parts: &[Part]) -> Vec<Raw> {
    let mut out = Vec::new();
    let mut unparsable = vec![false; m.statements.len()];
    for (i, s) in m.statements.iter().enumerate() {
        if s.trim().is_empty() {
            continue;
        }
        if let Some(error) = SourceFile::parse(s).errors().first() {
            unparsable[i] = true;
            let detail = format!("the statement could not be parsed ({error}), so no rule could check it");
            out.push(Raw {
                detail: Some(detail),
                ..Raw::new(i, "unparsable-statement")
            });
        }
    }

    // One file of the parsable statements; where each part starts in it.
    let mut text = String::new();
    let mut starts = Vec::new();
    for (k, p) in parts.iter().enumerate() {
        if unparsable[p.index] {
            continue;
        }
        starts.push((text.len(), k));
        text.push_str(p.text);
        text.push_str(";\n");
    }
    if starts.is_empty() {
        return out;
    }
    let parse = SourceFile::parse(&text);
    let in_transaction = !opts_out_of_transaction(&m.source);
    let mut linter = squawk_linter::Linter::from(rules::squawk_rules());
    linter.settings.assume_in_transaction = in_transaction;
    let violations = linter.lint(&parse, &text);

    let mut per_part: Vec<Vec<&'static str>> = vec![Vec::new(); parts.len()];
    for &(_, k) in &starts {
        per_part[k].extend(own_rules(&parts[k], in_transaction));
    }
    for v in violations {
        let at = usize::from(v.text_range.start());
        let Some(&(_, k)) = starts.iter().rev().find(|(s, _)| *s <= at) else {
            continue;
        };
        let Some(info) = rules::find(&v.code.to_string()) else {
            continue;
        };
        if parts[k].on_new_table && !ALSO_ON_NEW_TABLES.contains(&info.name) {
            continue;
        }
        // serial/bigserial columns are NOT NULL with a nextval() default squawk does not
        // see: not a required field, but a volatile default (table rewrite).
        if info.name == "adding-required-field" && adds_serial(parts[k].text) {
            if !parts[k].on_new_table {
                per_part[k].push("adding-field-with-default");
            }
            continue;
        }
        let detail = (info.name == "identifier-too-long").then(|| v.message.clone());
        if let Some(detail) = detail {
            out.push(Raw {
                detail: Some(detail),
                ..Raw::new(parts[k].index, info.name)
            });
        } else {
            per_part[k].push(info.name);
        }
    }
    for (k, names) in per_part.iter().enumerate() {
        for name in names {
            if *name == "constraint-missing-not-valid" && names.iter().any(|n| MORE_PRECISE_THAN_NOT_VALID.contains(n))
            {
                continue;
            }
            out.push(Raw::new(parts[k].index, name));
        }
    }
    out
}

/// What squawk does not see: CONCURRENTLY in a one-statement migration that runs in a
/// transaction (squawk assumes a lone statement runs on its own), VACUUM FULL and CLUSTER
/// (squawk flags them only from PostgreSQL 19, which has REPACK; they rewrite the table
/// under ACCESS EXCLUSIVE on every version).
fn own_rules(part: &Part, in_transaction: bool) -> Vec<&'static str> {
    let words = super::sql::words(part.text);
    let first = words.first().map(String::as_str);
    let mut out = Vec::new();
    let concurrently = words.iter().any(|w| w == "concurrently");
    if in_transaction && concurrently && matches!(first, Some("create" | "drop" | "reindex" | "alter")) {
        out.push("ban-concurrent-index-creation-in-transaction");
    }
    let full = first == Some("vacuum") && words.iter().any(|w| w == "full");
    if (full || first == Some("cluster")) && !part.on_new_table {
        out.push("prefer-repack");
    }
    out
}

/// Whether the statement adds a `serial`-family column.
fn adds_serial(stmt: &str) -> bool {
    let lower = stmt.to_lowercase();
    lower.contains("add column")
        && ["serial", "bigserial", "smallserial", "serial2", "serial4", "serial8"]
            .iter()
            .any(|t| lower.split(|c: char| !c.is_ascii_alphanumeric()).any(|w| w == *t))
}

/// Whether the migration's source opts out of cargo dbm's transaction: a
/// `fn use_transaction` whose body says `Some(false)`.
pub(super) fn opts_out_of_transaction(source: &str) -> bool {
    let Some(at) = source.find("fn use_transaction") else {
        return false;
    };
    let body = &source[at..];
    let end = body[2..].find("fn ").map_or(body.len(), |e| e + 2);
    body[..end]
        .split_whitespace()
        .collect::<String>()
        .contains("Some(false)")
}
