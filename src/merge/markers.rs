//! Resolving git's conflict markers in the Migrator's file: every hunk whose sides hold only
//! migration registrations (`mod m…;` lines, or `Box::new(m…::Migration),` entries) and
//! blank lines becomes the union of both sides in version order; any other hunk is left
//! exactly as it is, and reported.

use super::{entry_line, mod_line, registered_modules, split_eol, with_comma};
use std::collections::BTreeSet;

/// A hunk left alone: the line of its `<<<<<<<` marker (1-based, in the input) and why.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Unresolved {
    pub line: usize,
    pub reason: String,
}

/// A hunk resolved: the line of its `<<<<<<<` marker (in the input) and the modules it lists.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Resolved {
    pub line: usize,
    pub modules: Vec<String>,
}

/// What [`resolve`] did.
#[derive(Debug, Clone, Default)]
pub struct Resolution {
    /// The new text (the input, if nothing was resolved).
    pub text: String,
    pub resolved: Vec<Resolved>,
    pub unresolved: Vec<Unresolved>,
}

/// Whether `line` (without its ending) is a conflict marker made of seven `c`: alone, or
/// followed by a space and a label.
pub fn is_marker(line: &str, c: char) -> bool {
    let marker: String = std::iter::repeat_n(c, 7).collect();
    line.strip_prefix(marker.as_str())
        .is_some_and(|rest| rest.is_empty() || rest.starts_with(' '))
}

/// One conflict hunk, as line indexes of the input.
struct Hunk {
    /// The `<<<<<<<` line.
    start: usize,
    ours: Vec<usize>,
    base: Option<Vec<usize>>,
    theirs: Vec<usize>,
    /// The `>>>>>>>` line.
    end: usize,
}

/// The kind of registration a hunk holds.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Mod,
    Entry,
}

/// Resolves the registration-only hunks of `text` (see the module's documentation).
pub fn resolve(text: &str) -> Resolution {
    let lines: Vec<&str> = text.split_inclusive('\n').collect();
    let (hunks, broken) = find_hunks(&lines);
    let known: BTreeSet<String> = registered_modules(text).into_iter().collect();
    let mut res = Resolution::default();
    res.unresolved.extend(broken);

    // What is registered outside every hunk, to drop duplicates of it.
    let mut in_hunk = vec![false; lines.len()];
    for h in &hunks {
        in_hunk[h.start..=h.end].iter_mut().for_each(|b| *b = true);
    }
    let outside = |kind: Kind| -> BTreeSet<String> {
        lines
            .iter()
            .zip(&in_hunk)
            .filter(|(_, inside)| !**inside)
            .filter_map(|(l, _)| classify(l, &known).filter(|c| c.0 == kind).map(|c| c.1))
            .collect()
    };

    // Replacement lines for each resolved hunk, by its start.
    let mut replaced: Vec<(usize, usize, Vec<String>)> = Vec::new();
    for h in &hunks {
        match resolve_hunk(h, &lines, &known, outside) {
            Ok((_, modules, body)) => {
                res.resolved.push(Resolved {
                    line: h.start + 1,
                    modules,
                });
                replaced.push((h.start, h.end, body));
            }
            Err(reason) => res.unresolved.push(Unresolved {
                line: h.start + 1,
                reason,
            }),
        }
    }
    res.unresolved.sort_by_key(|u| u.line);
    res.text = rebuild(&lines, &replaced);
    res
}

/// The lines with each replaced hunk's range swapped for its lines; an entry just before a
/// resolved hunk of entries gets the comma the next entry needs.
fn rebuild(lines: &[&str], replaced: &[(usize, usize, Vec<String>)]) -> String {
    let mut out: Vec<String> = Vec::with_capacity(lines.len());
    let mut i = 0;
    while i < lines.len() {
        match replaced.iter().find(|r| r.0 == i) {
            Some((_, end, body)) => {
                if body.first().is_some_and(|l| entry_line(l).is_some())
                    && let Some(prev) = out.iter_mut().rev().find(|l| !l.trim().is_empty())
                    && entry_line(prev).is_some()
                {
                    *prev = with_comma(prev);
                }
                out.extend(body.iter().cloned());
                i = end + 1;
            }
            None => {
                out.push(lines[i].to_string());
                i += 1;
            }
        }
    }
    out.concat()
}

/// The hunks of a file, and the unterminated ones (reported, never touched).
fn find_hunks(lines: &[&str]) -> (Vec<Hunk>, Vec<Unresolved>) {
    let mut hunks = Vec::new();
    let mut broken = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        if !is_marker(split_eol(lines[i]).0, '<') {
            i += 1;
            continue;
        }
        match read_hunk(lines, i) {
            Some(h) => {
                i = h.end + 1;
                hunks.push(h);
            }
            None => {
                broken.push(Unresolved {
                    line: i + 1,
                    reason: "conflict markers that do not form a hunk (`<<<<<<<`, `=======`, `>>>>>>>`)".into(),
                });
                i += 1;
            }
        }
    }
    (hunks, broken)
}

/// Reads the hunk starting at `start`, or `None` if its markers are out of order.
fn read_hunk(lines: &[&str], start: usize) -> Option<Hunk> {
    let (mut ours, mut base, mut theirs) = (Vec::new(), None::<Vec<usize>>, Vec::new());
    let mut section = 0; // 0 ours, 1 base, 2 theirs
    for (i, line) in lines.iter().enumerate().skip(start + 1) {
        let line = split_eol(line).0;
        if is_marker(line, '<') {
            return None;
        } else if is_marker(line, '|') && section == 0 {
            section = 1;
            base = Some(Vec::new());
        } else if line == "=======" && section < 2 {
            section = 2;
        } else if is_marker(line, '>') && section == 2 {
            return Some(Hunk {
                start,
                ours,
                base,
                theirs,
                end: i,
            });
        } else {
            match section {
                0 => ours.push(i),
                1 => base.get_or_insert_with(Vec::new).push(i),
                _ => theirs.push(i),
            }
        }
    }
    None
}

/// A registration line: its kind and module.
fn classify(line: &str, known: &BTreeSet<String>) -> Option<(Kind, String)> {
    if let Some(m) = entry_line(line) {
        return Some((Kind::Entry, m));
    }
    mod_line(line).filter(|m| known.contains(m)).map(|m| (Kind::Mod, m))
}

/// One side of a hunk: its registrations `(kind, module, line)`, and what closes the list
/// after the last entry on its line (`]`, as `cargo dbm create` leaves a list that was
/// written on one line: `Box::new(m2::Migration),]`).
#[derive(Default)]
struct Side {
    regs: Vec<(Kind, String, String)>,
    close: Option<String>,
}

impl Side {
    fn names(&self) -> Vec<String> {
        self.regs.iter().map(|r| r.1.clone()).collect()
    }
}

/// An entry followed by the end of the list on its line: `(module, entry line, the rest)`.
fn entry_with_close(line: &str) -> Option<(String, String, String)> {
    let (body, eol) = split_eol(line);
    let (entry, close) = body.split_at(body.find(']')?);
    let module = entry_line(entry)?;
    Some((module, format!("{}{eol}", entry.trim_end()), close.to_string()))
}

/// The registrations of one side, or the first line that is not one.
fn side(idx: &[usize], lines: &[&str], known: &BTreeSet<String>) -> Result<Side, usize> {
    let mut out = Side::default();
    for &i in idx {
        let line = lines[i];
        if line.trim().is_empty() {
            continue;
        }
        if out.close.is_some() {
            return Err(i);
        }
        if let Some((kind, m)) = classify(line, known) {
            out.regs.push((kind, m, line.to_string()));
        } else if let Some((m, entry, close)) = entry_with_close(line) {
            out.regs.push((Kind::Entry, m, entry));
            out.close = Some(close);
        } else {
            return Err(i);
        }
    }
    Ok(out)
}

/// A resolved hunk: its kind, its modules and its lines.
type Lines = (Kind, Vec<String>, Vec<String>);

/// A registration-only hunk's lines, in version order: the three-way union when the hunk
/// has a base section, the union otherwise, without what `outside` (the registrations
/// outside every hunk, of each kind) already holds. `Err` says why the hunk is left alone.
fn resolve_hunk(
    h: &Hunk,
    lines: &[&str],
    known: &BTreeSet<String>,
    outside: impl Fn(Kind) -> BTreeSet<String>,
) -> Result<Lines, String> {
    let not_registration = |i: usize| {
        format!(
            "line {} is not a migration registration: `{}`",
            i + 1,
            split_eol(lines[i]).0.trim()
        )
    };
    let ours = side(&h.ours, lines, known).map_err(not_registration)?;
    let theirs = side(&h.theirs, lines, known).map_err(not_registration)?;
    let base = match &h.base {
        Some(b) => Some(side(b, lines, known).map_err(not_registration)?),
        None => None,
    };
    let kinds: BTreeSet<u8> = [&ours, &theirs]
        .into_iter()
        .chain(base.as_ref())
        .flat_map(|s| s.regs.iter().map(|r| r.0 as u8))
        .collect();
    let kind = match kinds.iter().collect::<Vec<_>>()[..] {
        [] => return Err("holds no migration registration".into()),
        [k] if *k == Kind::Mod as u8 => Kind::Mod,
        [_] => Kind::Entry,
        _ => return Err("mixes `mod` lines and `Box::new(…)` entries".into()),
    };
    if ours.close != theirs.close {
        return Err("the two sides end the list differently".into());
    }
    let (o, t) = (ours.names(), theirs.names());
    let modules: Vec<String> = match &base {
        Some(b) => super::merge_sets(&b.names(), &o, &t),
        None => o
            .iter()
            .chain(&t)
            .cloned()
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect(),
    };
    let outside = outside(kind);
    let (mut names, mut body) = (Vec::new(), Vec::new());
    for m in modules.into_iter().filter(|m| !outside.contains(m)) {
        let Some(line) = ours
            .regs
            .iter()
            .chain(&theirs.regs)
            .find(|r| r.1 == m)
            .map(|r| r.2.clone())
        else {
            continue;
        };
        body.push(if kind == Kind::Entry { with_comma(&line) } else { line });
        names.push(m);
    }
    if let Some(close) = &ours.close {
        let last = body
            .last_mut()
            .ok_or("no entry would be left before the end of the list")?;
        let (text, eol) = split_eol(last);
        *last = format!("{text}{close}{eol}");
    }
    Ok((kind, names, body))
}
