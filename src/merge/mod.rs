//! Merging the Migrator's file, where two branches that each ran `cargo dbm create` always
//! conflict: both appended a `mod m…;` line and a `Box::new(m…::Migration),` entry at the
//! same place.
//!
//! [`merge3`] is a three-way merge aware of those registrations (what git's merge driver
//! runs): the registrations are merged as sets (both sides' additions, minus either side's
//! removals, in version order) and the rest of the file (its *skeleton*) is taken from the
//! side that changed it, byte for byte. [`markers::resolve`] does the same on a file already
//! holding git's conflict markers (what `cargo dbm resolve` runs). Both know nothing of git
//! or the command line, and refuse (`None`, or a hunk left alone) whatever they cannot read
//! with confidence: the fallback is always git's ordinary conflict, never a broken file.

pub mod git;
pub mod markers;

use crate::migrator_source::{find_vec_macro, is_migrator_impl, migration_module, offset};
use std::collections::BTreeSet;
use std::ops::Range;
use syn::spanned::Spanned;
use syn::{Expr, ImplItem, Item, Token, punctuated::Punctuated};

/// Merges three versions of the Migrator's file (`base` the common ancestor). `None` when
/// the versions cannot be merged with confidence: a file that does not parse, a skeleton
/// changed on both sides, a registration written in a form this does not rewrite.
pub fn merge3(base: &str, ours: &str, theirs: &str) -> Option<String> {
    let known: BTreeSet<String> = [base, ours, theirs]
        .iter()
        .flat_map(|t| registered_modules(t))
        .collect();
    let b = Version::parse(base, &known)?;
    let o = Version::parse(ours, &known)?;
    let t = Version::parse(theirs, &known)?;
    let (chosen, other) = if o.skeleton() == t.skeleton() || t.skeleton() == b.skeleton() {
        (&o, &t)
    } else if o.skeleton() == b.skeleton() {
        (&t, &o)
    } else {
        return None;
    };
    let entries = merge_sets(&b.entries, &o.entries, &t.entries);
    let mods = merge_sets(&b.mod_names(), &o.mod_names(), &t.mod_names());
    chosen.render(other, &entries, &mods)
}

/// The three-way merge of sets, in version order: what either side added, minus what either
/// side removed.
fn merge_sets(base: &[String], ours: &[String], theirs: &[String]) -> Vec<String> {
    let all: BTreeSet<&String> = ours.iter().chain(theirs).collect();
    all.into_iter()
        .filter(|m| {
            let (in_b, in_o, in_t) = (base.contains(m), ours.contains(m), theirs.contains(m));
            (in_o && in_t) || (!in_b && (in_o || in_t))
        })
        .cloned()
        .collect()
}

/// Every module named in a `Box::new(module::Migration)` of `text`, found textually (so it
/// works on files that do not parse, such as one with conflict markers).
pub fn registered_modules(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(i) = rest.find("Box::new(") {
        rest = &rest[i + "Box::new(".len()..];
        let name: String = rest
            .trim_start()
            .chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_')
            .collect();
        let after = rest.trim_start()[name.len()..].trim_start();
        if is_ident(&name) && after.starts_with("::Migration") {
            out.push(name);
        }
    }
    out
}

/// A Rust identifier (ASCII, which module names of migrations are).
fn is_ident(s: &str) -> bool {
    let mut chars = s.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
        && s != "_"
}

/// A line without its line ending, and the ending.
fn split_eol(line: &str) -> (&str, &str) {
    let body = line.trim_end_matches(['\n', '\r']);
    (body, &line[body.len()..])
}

/// A line's code and its trailing `//` comment (with the spaces before it).
fn split_comment(line: &str) -> (&str, &str) {
    match line.find("//") {
        Some(i) => {
            let code = line[..i].trim_end();
            (code, &line[code.len()..])
        }
        None => (line, ""),
    }
}

/// `Box::new(module::Migration)` with an optional comma (and spaces, and a trailing comment)
/// → `module`.
pub fn entry_line(line: &str) -> Option<String> {
    let (code, _) = split_comment(split_eol(line).0);
    let code = code.trim();
    let code = code.strip_suffix(',').unwrap_or(code).trim_end();
    let inner = code.strip_prefix("Box::new(")?.strip_suffix(')')?.trim();
    let module = inner.strip_suffix("::Migration")?.trim_end();
    is_ident(module).then(|| module.to_string())
}

/// `mod module;`, `pub mod module;` or `pub(crate) mod module;` (with a trailing comment)
/// → `module`.
pub fn mod_line(line: &str) -> Option<String> {
    let (code, _) = split_comment(split_eol(line).0);
    let code = code.trim();
    let code = code
        .strip_prefix("pub(crate) ")
        .or_else(|| code.strip_prefix("pub "))
        .unwrap_or(code)
        .trim_start();
    let module = code.strip_prefix("mod ")?.strip_suffix(';')?.trim();
    is_ident(module).then(|| module.to_string())
}

/// `line` with a comma after its code, if it has none (a comment stays after it).
fn with_comma(line: &str) -> String {
    let (body, eol) = split_eol(line);
    let (code, comment) = split_comment(body);
    let code = code.trim_end();
    if code.ends_with(',') {
        return line.to_string();
    }
    format!("{code},{}{comment}{eol}", &body[code.len()..body.len() - comment.len()])
}

/// The leading spaces and tabs of a line.
fn indent_of(line: &str) -> &str {
    let n = line.len() - line.trim_start_matches([' ', '\t']).len();
    &line[..n]
}

/// The line ending a file uses (`\r\n` if any line has it).
fn eol_of(text: &str) -> &'static str {
    if text.contains("\r\n") { "\r\n" } else { "\n" }
}

/// One version of the Migrator's file, with its registrations located.
struct Version<'a> {
    text: &'a str,
    /// Top-level `mod` registrations: module, and the byte range of their whole line.
    mods: Vec<(String, Range<usize>)>,
    /// The text between the brackets of `vec![…]` in `fn migrations()`.
    body: Range<usize>,
    /// The modules of the list, in order.
    entries: Vec<String>,
    /// Indentation of the line holding `vec![`.
    vec_indent: String,
}

impl<'a> Version<'a> {
    /// Locates the registrations with syn; `None` if the file does not parse, has no
    /// Migrator, or has a registration `mod` this would not rewrite safely (with attributes,
    /// or sharing its line with other code).
    fn parse(text: &'a str, known: &BTreeSet<String>) -> Option<Self> {
        let file = syn::parse_file(text).ok()?;
        let mut mods = Vec::new();
        let mut mac = None;
        for item in &file.items {
            match item {
                Item::Mod(m) if m.content.is_none() && known.contains(&m.ident.to_string()) => {
                    if !m.attrs.is_empty() {
                        return None;
                    }
                    let range = whole_line(text, offset(text, m.span().start()), offset(text, m.span().end()))?;
                    mods.push((m.ident.to_string(), range));
                }
                Item::Impl(imp) if is_migrator_impl(imp) => {
                    for it in &imp.items {
                        if let ImplItem::Fn(f) = it
                            && f.sig.ident == "migrations"
                        {
                            mac = find_vec_macro(&f.block);
                        }
                    }
                }
                _ => {}
            }
        }
        let mac = mac?;
        let syn::MacroDelimiter::Bracket(br) = &mac.delimiter else {
            return None;
        };
        let open = offset(text, br.span.open().start()) + 1;
        let close = offset(text, br.span.close().start());
        let elems: Punctuated<Expr, Token![,]> = mac.parse_body_with(Punctuated::parse_terminated).ok()?;
        let entries = elems.iter().map(migration_module).collect::<Option<Vec<_>>>()?;
        if mods.iter().map(|m| &m.0).collect::<BTreeSet<_>>().len() != mods.len() {
            return None;
        }
        let line_start = text[..open].rfind('\n').map_or(0, |i| i + 1);
        Some(Version {
            text,
            mods,
            body: open..close,
            entries,
            vec_indent: indent_of(&text[line_start..]).to_string(),
        })
    }

    fn mod_names(&self) -> Vec<String> {
        self.mods.iter().map(|m| m.0.clone()).collect()
    }

    /// The file without its registrations: `mod` lines removed, the list's body emptied.
    fn skeleton(&self) -> String {
        let mut s = String::with_capacity(self.text.len());
        let mut at = 0;
        let mut cuts: Vec<Range<usize>> = self.mods.iter().map(|m| m.1.clone()).collect();
        cuts.push(self.body.clone());
        cuts.sort_by_key(|r| r.start);
        for cut in cuts {
            s.push_str(&self.text[at..cut.start]);
            at = cut.end;
        }
        s.push_str(&self.text[at..]);
        s
    }

    /// This version with `entries` as its list and `mods` as its `mod` registrations; lines
    /// this version lacks come from `other`.
    fn render(&self, other: &Version, entries: &[String], mods: &[String]) -> Option<String> {
        let body = if *entries == self.entries[..] {
            self.text[self.body.clone()].to_string()
        } else {
            self.render_body(other, entries)?
        };
        let mut edits: Vec<(Range<usize>, String)> = vec![(self.body.clone(), body)];
        edits.extend(self.mod_edits(other, mods)?);
        edits.sort_by_key(|e| e.0.start);
        let mut out = String::with_capacity(self.text.len() + 256);
        let mut at = 0;
        for (range, with) in edits {
            if range.start < at {
                return None;
            }
            out.push_str(&self.text[at..range.start]);
            out.push_str(&with);
            at = range.end;
        }
        out.push_str(&self.text[at..]);
        Some(out)
    }

    /// The list's new body: edited line by line when each entry has a line of its own,
    /// otherwise (`vec![Box::new(m1::Migration)]`) written one entry per line.
    fn render_body(&self, other: &Version, entries: &[String]) -> Option<String> {
        let body = &self.text[self.body.clone()];
        let eol = eol_of(self.text);
        match BodyLines::parse(body) {
            Some(lines) => lines.render(entries, &other.entry_lines(), eol),
            None if !body.contains("//") && !body.contains("/*") => {
                let mut s = String::new();
                for e in entries {
                    s.push_str(&format!("{eol}{}    Box::new({e}::Migration),", self.vec_indent));
                }
                s.push_str(&format!("{eol}{}", self.vec_indent));
                Some(s)
            }
            None => None,
        }
    }

    /// The entry lines of this version's list (`module` → line), when it is one per line.
    fn entry_lines(&self) -> Vec<(String, String)> {
        BodyLines::parse(&self.text[self.body.clone()])
            .map(|b| {
                b.lines
                    .iter()
                    .filter_map(|l| entry_line(l).map(|m| (m, l.clone())))
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Removals and insertions of `mod` lines, as edits of this version's text.
    fn mod_edits(&self, other: &Version, mods: &[String]) -> Option<Vec<(Range<usize>, String)>> {
        let eol = eol_of(self.text);
        let mut edits = Vec::new();
        for (name, range) in &self.mods {
            if !mods.contains(name) {
                edits.push((range.clone(), String::new()));
            }
        }
        let kept: Vec<&(String, Range<usize>)> = self.mods.iter().filter(|m| mods.contains(&m.0)).collect();
        for name in mods.iter().filter(|n| !self.mods.iter().any(|m| &m.0 == *n)) {
            let (_, range) = other.mods.iter().find(|m| &m.0 == name)?;
            let line = format!("{}{eol}", split_eol(&other.text[range.clone()]).0);
            let at = match kept.iter().find(|m| m.0 > *name) {
                Some((_, r)) => r.start,
                None => kept.last()?.1.end,
            };
            edits.push((at..at, line));
        }
        // Insertions at one place keep their (sorted) order: a stable sort by start.
        edits.sort_by_key(|e| e.0.start);
        Some(edits)
    }
}

/// The range of the whole line(s) from `start` to `end`, with the line ending, if nothing
/// but spaces precedes it and nothing but spaces or a `//` comment follows it.
fn whole_line(text: &str, start: usize, end: usize) -> Option<Range<usize>> {
    let line_start = text[..start].rfind('\n').map_or(0, |i| i + 1);
    if !text[line_start..start].trim().is_empty() {
        return None;
    }
    let line_end = text[end..].find('\n').map_or(text.len(), |i| end + i + 1);
    let after = text[end..line_end].trim();
    (after.is_empty() || after.starts_with("//")).then_some(line_start..line_end)
}

/// A list's body with one entry per line: `[` then a line ending, entry, blank or comment
/// lines, then the indentation of `]`.
struct BodyLines {
    /// The line ending after `[`.
    head: String,
    /// Whole lines, with their endings.
    lines: Vec<String>,
    /// What precedes `]` on its line.
    tail: String,
}

impl BodyLines {
    fn parse(body: &str) -> Option<Self> {
        let first_nl = body.find('\n')?;
        let head = &body[..=first_nl];
        if !head.trim().is_empty() {
            return None;
        }
        let last_nl = body.rfind('\n')?;
        let tail = &body[last_nl + 1..];
        if !tail.trim().is_empty() {
            return None;
        }
        let middle = &body[first_nl + 1..=last_nl.max(first_nl)];
        let lines: Vec<String> = if last_nl > first_nl {
            middle.split_inclusive('\n').map(str::to_string).collect()
        } else {
            Vec::new()
        };
        let ok = lines.iter().all(|l| {
            let t = l.trim();
            t.is_empty() || t.starts_with("//") || entry_line(l).is_some()
        });
        ok.then(|| BodyLines {
            head: head.to_string(),
            lines,
            tail: tail.to_string(),
        })
    }

    /// The body with `entries`: kept lines stay, removed ones go, new ones are inserted
    /// before the first later entry (or after the last), every entry but the last with its
    /// comma.
    fn render(&self, entries: &[String], other: &[(String, String)], eol: &str) -> Option<String> {
        let present: Vec<Option<String>> = self.lines.iter().map(|l| entry_line(l)).collect();
        let indent = self
            .lines
            .iter()
            .find(|l| entry_line(l).is_some())
            .map(|l| indent_of(l).to_string())
            .or_else(|| other.first().map(|(_, l)| indent_of(l).to_string()))
            .unwrap_or_else(|| format!("{}    ", self.tail));
        let new_line = |m: &String| match other.iter().find(|(n, _)| n == m) {
            Some((_, l)) => format!("{}{eol}", split_eol(l).0),
            None => format!("{indent}Box::new({m}::Migration),{eol}"),
        };
        let mut out: Vec<(bool, String)> = Vec::new();
        let mut pending: Vec<&String> = entries
            .iter()
            .filter(|e| !present.contains(&Some((*e).clone())))
            .collect();
        for (line, module) in self.lines.iter().zip(&present) {
            match module {
                Some(m) if !entries.contains(m) => {}
                Some(m) => {
                    while let Some(first) = pending.first().filter(|p| **p < m) {
                        out.push((true, new_line(first)));
                        pending.remove(0);
                    }
                    out.push((true, line.clone()));
                }
                None => out.push((false, line.clone())),
            }
        }
        // After the last kept entry, before any comment or blank lines that end the list.
        let at = out.iter().rposition(|l| l.0).map_or(out.len(), |i| i + 1);
        let rest: Vec<(bool, String)> = pending.iter().map(|m| (true, new_line(m))).collect();
        out.splice(at..at, rest);
        let last = out.iter().rposition(|l| l.0);
        let mut s = self.head.clone();
        for (i, (is_entry, line)) in out.iter().enumerate() {
            let needs_comma = *is_entry && Some(i) != last;
            s.push_str(&if needs_comma { with_comma(line) } else { line.clone() });
        }
        s.push_str(&self.tail);
        Some(s)
    }
}

/// Whether `text` holds git conflict markers: a line starting with `<<<<<<<`, then one that
/// is `=======`, then one starting with `>>>>>>>`.
pub fn has_conflict_markers(text: &str) -> bool {
    let mut stage = 0;
    for line in text.lines() {
        let line = line.trim_end_matches('\r');
        stage = match stage {
            0 if markers::is_marker(line, '<') => 1,
            1 if line == "=======" => 2,
            2 if markers::is_marker(line, '>') => return true,
            s => s,
        };
    }
    false
}

#[cfg(test)]
mod tests;
