//! `rebase [MIGRATION...]`: gives this branch's migrations that no database has applied new
//! versions after the newest applied one, so that a database which already ran another
//! branch's newer migration never sees pending migrations older than an applied one.
//!
//! Everything is computed first (which migrations, their new names, every file's new text
//! and every rename), checked, and only then applied; a failure while applying undoes what
//! was done.

use super::Ctx;
use crate::config::DbUrl;
use crate::db::{Create, Db, tracking};
use crate::error::{Error, IoContext, Result};
use crate::migrator_source::{MigratorSource, find_vec_macro, migration_module};
use crate::naming::{slugify, timestamp_of};
use crate::revision::{self, Target};
use chrono::{NaiveDateTime, Timelike, Utc};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use syn::spanned::Spanned;
use syn::{Expr, ImplItem, Item, Token, punctuated::Punctuated};

/// One migration's new version.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Rename {
    pub from: String,
    pub to: String,
}

/// A file or folder renamed.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Moved {
    pub from: PathBuf,
    pub to: PathBuf,
}

/// What `rebase` did (or, with `dry_run`, would do).
#[derive(Debug, Default, serde::Serialize)]
pub struct Rebased {
    pub dry_run: bool,
    /// The databases looked at (redacted URLs).
    pub databases: Vec<String>,
    /// The newest version applied in any of them.
    pub newest_applied: Option<String>,
    /// The migrations given new versions, in their (new) order.
    pub renames: Vec<Rename>,
    /// Files and folders renamed.
    pub moved: Vec<Moved>,
    /// Files whose text changes (at their new path).
    pub changed: Vec<PathBuf>,
    pub warnings: Vec<String>,
}

/// What one database has applied.
#[derive(Debug, Clone)]
pub struct Seen {
    /// The redacted URL.
    pub database: String,
    pub applied: BTreeSet<String>,
}

/// Rebases the migrations `revs` (none: those out of order, and the unapplied ones after
/// them) against the databases `urls`.
pub async fn rebase(ctx: &Ctx, urls: &[DbUrl], revs: &[String], dry_run: bool) -> Result<Rebased> {
    let mig = ctx.ws.migration()?;
    let text = std::fs::read_to_string(&mig.lib).context(|| format!("could not read `{}`", mig.lib.display()))?;
    let src = MigratorSource::parse(&mig.lib, text)?;
    let table = ctx.tracking_table(&src);
    let mut seen = Vec::new();
    for url in urls {
        seen.push(Seen {
            database: url.redacted(),
            applied: applied_in(url, &table).await?,
        });
    }
    let names: Vec<&str> = src.migrations.iter().map(|m| m.name.as_str()).collect();
    let selected = select(&names, &seen, revs)?;
    let applied: BTreeSet<&str> = seen.iter().flat_map(|s| s.applied.iter().map(String::as_str)).collect();
    let mut out = Rebased {
        dry_run,
        databases: seen.iter().map(|s| s.database.clone()).collect(),
        newest_applied: applied.iter().next_back().map(|s| s.to_string()),
        ..Rebased::default()
    };
    if selected.is_empty() {
        return Ok(out);
    }
    let staying: Vec<&str> = names
        .iter()
        .copied()
        .filter(|n| !selected.iter().any(|s| s == n))
        .collect();
    let now = Utc::now()
        .naive_utc()
        .with_nanosecond(0)
        .expect("zero nanoseconds is valid");
    let applied: Vec<&str> = applied.into_iter().collect();
    out.renames = new_names(&selected, &staying, &applied, now)?;

    // What changes: each migration's module (and explicit name), its files, its references.
    let mut modules: Vec<(String, String)> = Vec::new();
    let mut own: Vec<(PathBuf, Vec<(String, String)>)> = Vec::new();
    let mut moves: Vec<Moved> = Vec::new();
    for r in &out.renames {
        let m = src
            .migrations
            .iter()
            .find(|m| m.name == r.from)
            .expect("selected from the list");
        if m.name != m.module {
            out.warnings.push(format!(
                "`{}` declares the name `{}` in its `MigrationName`, which differs from its module `{}`; `{}` replaces both",
                ctx.ws.rel(&m.file),
                m.name,
                m.module,
                r.to
            ));
        }
        let flat = src.dir.join(format!("{}.rs", m.module));
        let nested = src.dir.join(&m.module).join("mod.rs");
        if m.file != flat && m.file != nested {
            return Err(Error::RebaseRefused {
                reason: format!(
                    "the module of `{}` is not at `{}` (a `#[path]` module?)",
                    m.name,
                    ctx.ws.rel(&flat)
                ),
                hint: "move the migration's file next to the Migrator's other migrations, or rename it by hand".into(),
            });
        }
        moves.extend(companions(&src.dir, &m.module, &r.to)?);
        modules.push((m.module.clone(), r.to.clone()));
        let mut words = vec![(m.module.clone(), r.to.clone())];
        if m.name != m.module {
            words.push((m.name.clone(), r.to.clone()));
        }
        own.push((m.file.clone(), words));
    }
    for mv in &moves {
        if mv.to.exists() {
            return Err(Error::RebaseRefused {
                reason: format!("`{}` already exists", ctx.ws.rel(&mv.to)),
                hint: "remove or rename it, then run `cargo dbm rebase` again".into(),
            });
        }
    }
    let moved_modules: Vec<String> = modules.iter().map(|(m, _)| m.clone()).collect();
    let mut edits: Vec<(PathBuf, String, String)> = Vec::new();
    for file in rust_files(&mig.dir) {
        let Ok(old) = std::fs::read_to_string(&file) else {
            continue;
        };
        let mut text = if file == mig.lib {
            reorder_migrator(&mig.lib, &old, &moved_modules)?
        } else {
            old.clone()
        };
        text = replace_words(&text, &modules);
        if let Some((_, words)) = own.iter().find(|(f, _)| *f == file) {
            text = replace_words(&text, words);
        }
        if text != old {
            edits.push((moved_path(&file, &moves), old, text));
        }
    }
    out.changed = edits.iter().map(|e| e.0.clone()).collect();
    out.moved = moves;
    if !dry_run {
        apply(&out.moved, &edits)?;
    }
    Ok(out)
}

/// The versions `url` has applied: none when the database or its tracking table does not
/// exist. An unreachable database is an error naming it.
async fn applied_in(url: &DbUrl, table: &str) -> Result<BTreeSet<String>> {
    let db = match Db::open(url, Create::No).await {
        Ok(Some(db)) => db,
        Ok(None) => return Ok(BTreeSet::new()),
        Err(Error::Connect { reason, .. }) if database_missing(&reason) => return Ok(BTreeSet::new()),
        Err(e) => return Err(e),
    };
    let rows = tracking::applied(&db, table).await;
    db.close().await;
    let rows = rows.map_err(|e| match e {
        Error::Database { doing, reason } => Error::Database {
            doing: format!("{doing} on {}", url.redacted()),
            reason,
        },
        e => e,
    })?;
    Ok(rows.unwrap_or_default().into_iter().map(|a| a.version).collect())
}

/// Whether a server said the database does not exist (PostgreSQL, MySQL).
fn database_missing(reason: &str) -> bool {
    (reason.contains("database \"") && reason.contains("does not exist")) || reason.contains("Unknown database")
}

/// Which migrations to rebase, in version order. `names` is the Migrator's list.
///
/// Given `revs`, exactly those, refused if any database applied one. Otherwise every
/// migration applied nowhere that sorts before the newest applied version, and every
/// unapplied one after the first of those (so their relative order is kept).
pub fn select(names: &[&str], seen: &[Seen], revs: &[String]) -> Result<Vec<String>> {
    let mut selected: Vec<String> = Vec::new();
    if !revs.is_empty() {
        for rev in revs {
            let name = match revision::resolve(rev, names, 0)? {
                Target::At(i) => names[i].to_string(),
                Target::Head | Target::Base => {
                    return Err(Error::UnknownRevision {
                        rev: rev.clone(),
                        hint: "name the migrations to rebase (full names, prefixes or slugs), or give none to rebase those out of order".into(),
                    });
                }
            };
            if let Some(s) = seen.iter().find(|s| s.applied.contains(&name)) {
                return Err(Error::RebaseRefused {
                    reason: format!("`{name}` is applied in {}", s.database),
                    hint: "a migration a database has run keeps its version; rebase only migrations no database has applied (or revert it there first with `cargo dbm down`)".into(),
                });
            }
            if !selected.contains(&name) {
                selected.push(name);
            }
        }
        selected.sort();
        return Ok(selected);
    }
    let applied: BTreeSet<&str> = seen.iter().flat_map(|s| s.applied.iter().map(String::as_str)).collect();
    let Some(newest) = applied.iter().next_back() else {
        return Ok(selected);
    };
    let mut unapplied: Vec<&str> = names.iter().copied().filter(|n| !applied.contains(n)).collect();
    unapplied.sort();
    let Some(first) = unapplied.iter().find(|n| *n < newest) else {
        return Ok(selected);
    };
    Ok(unapplied
        .iter()
        .filter(|n| *n >= first)
        .map(|n| n.to_string())
        .collect())
}

/// The new versions of `selected` (in version order): the first at the later of `now` and a
/// second after the newest of `applied` and `staying`, then a second apart. Each must sort
/// after every applied and staying version.
pub fn new_names(selected: &[String], staying: &[&str], applied: &[&str], now: NaiveDateTime) -> Result<Vec<Rename>> {
    let floor = applied
        .iter()
        .chain(staying)
        .filter_map(|n| timestamp_of(n))
        .max()
        .map(|t| t + chrono::Duration::seconds(1));
    let mut stamp = floor.map_or(now, |f| f.max(now));
    let blocker = applied.iter().chain(staying).max().copied();
    let mut out: Vec<Rename> = Vec::new();
    for old in selected {
        let to = format!("m{}_{}", stamp.format("%Y%m%d_%H%M%S"), slug_of(old)?);
        if let Some(b) = blocker
            && to.as_str() <= b
        {
            let which = if applied.contains(&b) {
                "an applied migration"
            } else {
                "a migration that keeps its version"
            };
            return Err(Error::RebaseRefused {
                reason: format!("no new version for `{old}` sorts after `{b}` ({which})"),
                hint: "new versions are `mYYYYMMDD_HHMMSS_<slug>`; a version without that timestamp that sorts after them cannot be passed: rename the migrations by hand".into(),
            });
        }
        if let Some(prev) = out.last()
            && to <= prev.to
        {
            return Err(Error::RebaseRefused {
                reason: format!("`{to}` would not sort after `{}`", prev.to),
                hint: "rename the migrations by hand".into(),
            });
        }
        out.push(Rename { from: old.clone(), to });
        stamp += chrono::Duration::seconds(1);
    }
    Ok(out)
}

/// The part of a version after its timestamp (`m20240101_120000_add_phone` → `add_phone`),
/// or the whole name made into a slug when it has no timestamp.
fn slug_of(name: &str) -> Result<String> {
    if timestamp_of(name).is_some() {
        let rest = name.get(16..).unwrap_or("").trim_start_matches('_');
        if !rest.is_empty() && rest.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
            return Ok(rest.to_string());
        }
        if rest.is_empty() {
            return Ok("migration".into());
        }
        return slugify(rest);
    }
    slugify(name)
}

/// The files and folders next to a migration that share its name (`old.rs`, `old/`,
/// `old.sql`), renamed to `new…`.
fn companions(dir: &Path, old: &str, new: &str) -> Result<Vec<Moved>> {
    let mut out = Vec::new();
    let entries = std::fs::read_dir(dir).context(|| format!("could not list `{}`", dir.display()))?;
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let rest = if name == old {
            ""
        } else if let Some(r) = name.strip_prefix(old).filter(|r| r.starts_with('.')) {
            r
        } else {
            continue;
        };
        out.push(Moved {
            from: entry.path(),
            to: dir.join(format!("{new}{rest}")),
        });
    }
    out.sort_by(|a, b| a.from.cmp(&b.from));
    Ok(out)
}

/// Where `file` is once `moves` are done (a file inside a renamed folder moves with it).
fn moved_path(file: &Path, moves: &[Moved]) -> PathBuf {
    for m in moves {
        if let Ok(rest) = file.strip_prefix(&m.from) {
            return if rest.as_os_str().is_empty() {
                m.to.clone()
            } else {
                m.to.join(rest)
            };
        }
    }
    file.to_path_buf()
}

/// The `.rs` files of a crate (not its `target`, hidden folders or nested packages).
fn rust_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else { continue };
        for entry in entries.flatten() {
            let path = entry.path();
            let name = entry.file_name().to_string_lossy().into_owned();
            let Ok(kind) = entry.file_type() else { continue };
            if kind.is_dir() {
                if name.starts_with('.') || name == "target" || path.join("Cargo.toml").exists() {
                    continue;
                }
                stack.push(path);
            } else if kind.is_file() && name.ends_with(".rs") {
                out.push(path);
            }
        }
    }
    out.sort();
    out
}

/// Replaces every whole identifier-like word of `text` that is a `from` of `map` by its `to`.
pub fn replace_words(text: &str, map: &[(String, String)]) -> String {
    let is_word = |c: char| c.is_ascii_alphanumeric() || c == '_';
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find(is_word) {
        out.push_str(&rest[..start]);
        let word_len = rest[start..].find(|c: char| !is_word(c)).unwrap_or(rest.len() - start);
        let word = &rest[start..start + word_len];
        match map.iter().find(|(from, _)| from == word) {
            Some((_, to)) => out.push_str(to),
            None => out.push_str(word),
        }
        rest = &rest[start + word_len..];
    }
    out.push_str(rest);
    out
}

/// The Migrator's file with the `Box::new(module::Migration)` entries and `mod module;`
/// items of `moved` taken out of their places and put after the others, in the order of
/// `moved`: the list's order becomes the new versions' order. The other entries keep their
/// order; every entry and item keeps its own text, and the slots keep the formatting.
pub fn reorder_migrator(lib: &Path, text: &str, moved: &[String]) -> Result<String> {
    let err = |reason: String| Error::MigratorSource {
        path: lib.to_path_buf(),
        reason,
    };
    let file = syn::parse_file(text).map_err(|e| err(format!("line {}: {e}", e.span().start().line)))?;
    let mut vec_mac = None;
    for item in &file.items {
        if let Item::Impl(imp) = item
            && imp
                .trait_
                .as_ref()
                .and_then(|(_, p, _)| p.segments.last())
                .is_some_and(|s| s.ident == "MigratorTrait")
        {
            for it in &imp.items {
                if let ImplItem::Fn(f) = it
                    && f.sig.ident == "migrations"
                {
                    vec_mac = find_vec_macro(&f.block);
                }
            }
        }
    }
    let mac = vec_mac.ok_or_else(|| err("`fn migrations()` does not return a `vec![...]` literal".into()))?;
    let elems: Punctuated<Expr, Token![,]> = mac
        .parse_body_with(Punctuated::parse_terminated)
        .map_err(|e| err(format!("could not read the list in `fn migrations()`: {e}")))?;
    let entries: Vec<(Option<String>, (usize, usize))> = elems
        .iter()
        .map(|e| (migration_module(e), range(text, e.span())))
        .collect();
    let listed: Vec<&str> = entries.iter().filter_map(|e| e.0.as_deref()).collect();
    let mods: Vec<(Option<String>, (usize, usize))> = file
        .items
        .iter()
        .filter_map(|i| match i {
            Item::Mod(m) if m.content.is_none() && listed.contains(&m.ident.to_string().as_str()) => {
                Some((Some(m.ident.to_string()), range(text, m.span())))
            }
            _ => None,
        })
        .collect();
    let mut edits: Vec<((usize, usize), String)> = Vec::new();
    for slots in [entries, mods] {
        let mut order: Vec<usize> = (0..slots.len())
            .filter(|&i| !slots[i].0.as_ref().is_some_and(|m| moved.contains(m)))
            .collect();
        for m in moved {
            order.extend((0..slots.len()).filter(|&i| slots[i].0.as_ref() == Some(m)));
        }
        let ranges: Vec<(usize, usize)> = slots.iter().map(|s| s.1).collect();
        edits.extend(slot_edits(text, &ranges, &order));
    }
    edits.sort_by_key(|e| std::cmp::Reverse(e.0.0));
    let mut s = text.to_string();
    for ((a, b), new) in edits {
        s.replace_range(a..b, &new);
    }
    Ok(s)
}

/// The edits putting item `order[i]` into slot `i` (`ranges` are the items' byte ranges).
///
/// When every item is alone on its line, followed by nothing but an optional comma and an
/// optional `//` comment, the comment travels with its item (the comma stays with the
/// slot); otherwise only the items' own text moves.
fn slot_edits(text: &str, ranges: &[(usize, usize)], order: &[usize]) -> Vec<((usize, usize), String)> {
    struct Slot {
        /// The item.
        item: (usize, usize),
        /// The end of the item and its comma.
        sep_end: usize,
        /// The end of the line (trailing whitespace excluded).
        line_end: usize,
    }
    let slots: Vec<Slot> = ranges
        .iter()
        .map(|&(a, b)| {
            let rest = &text[b..];
            let trimmed = rest.trim_start_matches([' ', '\t']);
            let sep_end = if trimmed.starts_with(',') {
                b + (rest.len() - trimmed.len()) + 1
            } else {
                b
            };
            let line = &text[sep_end..];
            let line = &line[..line.find('\n').unwrap_or(line.len())];
            Slot {
                item: (a, b),
                sep_end,
                line_end: sep_end + line.trim_end().len(),
            }
        })
        .collect();
    let carry = slots.iter().all(|s| {
        let before = &text[..s.item.0];
        let line_start = before.rfind('\n').map_or(0, |i| i + 1);
        let after = text[s.sep_end..s.line_end].trim_start();
        before[line_start..].trim().is_empty() && (after.is_empty() || after.starts_with("//"))
    });
    let mut edits = Vec::new();
    for (i, &from) in order.iter().enumerate() {
        if i == from {
            continue;
        }
        let (slot, item) = (&slots[i], &slots[from]);
        if carry {
            let new = format!(
                "{}{}{}",
                &text[item.item.0..item.item.1],
                &text[slot.item.1..slot.sep_end],
                &text[item.sep_end..item.line_end]
            );
            edits.push(((slot.item.0, slot.line_end), new));
        } else {
            edits.push((slot.item, text[item.item.0..item.item.1].to_string()));
        }
    }
    edits
}

/// The byte range of a span in `text`.
fn range(text: &str, span: proc_macro2::Span) -> (usize, usize) {
    use crate::migrator_source::offset;
    (offset(text, span.start()), offset(text, span.end()))
}

/// Renames, then rewrites each file through a temporary file; on failure everything done
/// so far is undone (texts put back, renames reversed).
fn apply(moves: &[Moved], edits: &[(PathBuf, String, String)]) -> Result<()> {
    let mut renamed: Vec<&Moved> = Vec::new();
    let mut written: Vec<(&Path, &str)> = Vec::new();
    let result = (|| -> Result<()> {
        for m in moves {
            if m.to.exists() {
                return Err(Error::RebaseRefused {
                    reason: format!("`{}` already exists", m.to.display()),
                    hint: "remove or rename it, then run `cargo dbm rebase` again".into(),
                });
            }
            std::fs::rename(&m.from, &m.to)
                .context(|| format!("could not rename `{}` to `{}`", m.from.display(), m.to.display()))?;
            renamed.push(m);
        }
        for (path, old, new) in edits {
            let name = path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            let tmp = path.with_file_name(format!(".{name}.dbm-rebase"));
            std::fs::write(&tmp, new).context(|| format!("could not write `{}`", tmp.display()))?;
            if let Err(e) = std::fs::rename(&tmp, path) {
                let _ = std::fs::remove_file(&tmp);
                return Err(Error::io(format!("could not replace `{}`", path.display()), e));
            }
            written.push((path, old));
        }
        Ok(())
    })();
    if result.is_err() {
        for (path, old) in written.into_iter().rev() {
            let _ = std::fs::write(path, old);
        }
        for m in renamed.into_iter().rev() {
            let _ = std::fs::rename(&m.to, &m.from);
        }
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    const A: &str = "m20240101_000000_a";
    const B: &str = "m20240301_000000_b";
    const C: &str = "m20240201_000000_c";
    const D: &str = "m20240202_000000_d";
    const E: &str = "m20240401_000000_e";

    fn seen(db: &str, applied: &[&str]) -> Seen {
        Seen {
            database: db.into(),
            applied: applied.iter().map(|s| s.to_string()).collect(),
        }
    }

    fn at(s: &str) -> NaiveDateTime {
        NaiveDateTime::parse_from_str(s, "%Y%m%d_%H%M%S").unwrap()
    }

    #[test]
    fn selects_the_out_of_order_and_what_follows() {
        // List order as merged: A, B, C, D, E; A and B applied.
        let names = [A, B, C, D, E];
        let s = select(&names, &[seen("db1", &[A, B])], &[]).unwrap();
        assert_eq!(s, [C, D, E]);
        // Nothing applied, or nothing older than the newest applied: nothing to do.
        assert!(select(&names, &[seen("db1", &[])], &[]).unwrap().is_empty());
        assert!(select(&[A, B, E], &[seen("db1", &[A, B])], &[]).unwrap().is_empty());
        // Applied in the second database only still counts.
        let s = select(&names, &[seen("db1", &[A]), seen("db2", &[A, B, C])], &[]).unwrap();
        assert_eq!(s, [D, E]);
    }

    #[test]
    fn explicit_migrations_exactly_and_never_applied_ones() {
        let names = [A, B, C, D, E];
        let dbs = [seen("db1", &[A]), seen("postgres://u:***@h/db2", &[A, B])];
        let revs = ["d".to_string(), C.to_string(), "c".to_string()];
        assert_eq!(select(&names, &dbs, &revs).unwrap(), [C, D]);
        match select(&names, &dbs, &["b".to_string()]) {
            Err(Error::RebaseRefused { reason, .. }) => {
                assert!(
                    reason.contains(B) && reason.contains("postgres://u:***@h/db2"),
                    "{reason}"
                )
            }
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            select(&names, &dbs, &["head".to_string()]),
            Err(Error::UnknownRevision { .. })
        ));
        assert!(matches!(
            select(&names, &dbs, &["nope".to_string()]),
            Err(Error::UnknownRevision { .. })
        ));
    }

    #[test]
    fn new_names_follow_the_newest_applied_and_keep_their_order() {
        let sel = [C.to_string(), D.to_string()];
        // `now` later than everything: now, now + 1 s.
        let r = new_names(&sel, &[A, B], &[A, B], at("20261203_080000")).unwrap();
        assert_eq!(r[0].to, "m20261203_080000_c");
        assert_eq!(r[1].to, "m20261203_080001_d");
        assert_eq!(r[0].from, C);
        // A clock behind the newest applied version: one second after it.
        let r = new_names(&sel, &[A, B], &[A, B], at("20200101_000000")).unwrap();
        assert_eq!(r[0].to, "m20240301_000001_c");
        assert_eq!(r[1].to, "m20240301_000002_d");
        // A migration that stays and is newer than the applied ones is passed too.
        let r = new_names(&sel, &[A, B, E], &[A, B], at("20200101_000000")).unwrap();
        assert_eq!(r[0].to, "m20240401_000001_c");
        // An applied name without a timestamp that sorts after everything: refused.
        match new_names(&sel, &[A], &[A, "zz_manual"], at("20261203_080000")) {
            Err(Error::RebaseRefused { reason, .. }) => assert!(reason.contains("zz_manual"), "{reason}"),
            other => panic!("{other:?}"),
        }
        // A name without a timestamp gets one, its slug from the whole name.
        let r = new_names(&["Legacy-Init".to_string()], &[A], &[A], at("20261203_080000")).unwrap();
        assert_eq!(r[0].to, "m20261203_080000_legacy_init");
    }

    #[test]
    fn words_are_replaced_whole() {
        let map = vec![(C.to_string(), "m20261203_080000_c".to_string())];
        let text = format!("use super::{C}::Foo;\nmod {C}x;\ninclude_str!(\"{C}.sql\"); \"{C}\" x{C}");
        assert_eq!(
            replace_words(&text, &map),
            format!(
                "use super::m20261203_080000_c::Foo;\nmod {C}x;\ninclude_str!(\"m20261203_080000_c.sql\"); \"m20261203_080000_c\" x{C}"
            )
        );
    }

    const LIB: &str = r#"pub use sea_orm_migration::prelude::*;

mod m20240101_000000_a;
mod m20240201_000000_c; // from the other branch
mod m20240301_000000_b;
mod m20240202_000000_d;

pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20240101_000000_a::Migration),
            Box::new(m20240201_000000_c::Migration), // c
            Box::new(m20240301_000000_b::Migration),
            Box::new(m20240202_000000_d::Migration) // d
        ]
    }
}
"#;

    #[test]
    fn the_migrator_list_follows_the_new_order() {
        let moved = [C.to_string(), D.to_string()];
        let s = reorder_migrator(Path::new("lib.rs"), LIB, &moved).unwrap();
        let map = vec![
            (C.to_string(), "m20261203_080000_c".to_string()),
            (D.to_string(), "m20261203_080001_d".to_string()),
        ];
        let s = replace_words(&s, &map);
        assert!(
            s.contains(
                "mod m20240101_000000_a;\nmod m20240301_000000_b;\nmod m20261203_080000_c; // from the other branch\nmod m20261203_080001_d;\n"
            ),
            "{s}"
        );
        assert!(
            s.contains(
                "            Box::new(m20240101_000000_a::Migration),
            Box::new(m20240301_000000_b::Migration),
            Box::new(m20261203_080000_c::Migration), // c
            Box::new(m20261203_080001_d::Migration) // d
        ]"
            ),
            "{s}"
        );
        // What the Migrator's reader sees: the new names in version order.
        let src = MigratorSource::parse(Path::new("/nowhere/lib.rs"), s).unwrap();
        let names: Vec<&str> = src.migrations.iter().map(|m| m.module.as_str()).collect();
        assert_eq!(names, [A, B, "m20261203_080000_c", "m20261203_080001_d"]);
        // On one line, too.
        let one = "mod a; mod b; mod c;\npub struct Migrator;\nimpl MigratorTrait for Migrator { fn migrations() -> Vec<Box<dyn MigrationTrait>> { vec![Box::new(a::Migration), Box::new(b::Migration {}), Box::new(c::Migration)] } }";
        let s = reorder_migrator(Path::new("lib.rs"), one, &["a".to_string()]).unwrap();
        assert!(s.starts_with("mod b; mod c; mod a;"), "{s}");
        assert!(
            s.contains("vec![Box::new(b::Migration {}), Box::new(c::Migration), Box::new(a::Migration)]"),
            "{s}"
        );
    }

    #[test]
    fn companions_and_moved_paths() {
        let dir = tempfile::tempdir().unwrap();
        for f in [
            format!("{C}.rs"),
            format!("{C}.sql"),
            format!("{C}x.rs"),
            format!("{D}.rs"),
        ] {
            std::fs::write(dir.path().join(f), "").unwrap();
        }
        std::fs::create_dir(dir.path().join(C)).unwrap();
        let m = companions(dir.path(), C, "new").unwrap();
        let names: Vec<String> = m
            .iter()
            .map(|m| m.to.file_name().unwrap().to_string_lossy().into_owned())
            .collect();
        assert_eq!(names, ["new", "new.rs", "new.sql"]);
        let inside = dir.path().join(C).join("mod.rs");
        assert_eq!(moved_path(&inside, &m), dir.path().join("new").join("mod.rs"));
    }

    #[test]
    fn apply_undoes_what_it_did_on_failure() {
        let dir = tempfile::tempdir().unwrap();
        let (a, b) = (dir.path().join("a.rs"), dir.path().join("b.rs"));
        std::fs::write(&a, "old a").unwrap();
        let moves = [Moved {
            from: a.clone(),
            to: b.clone(),
        }];
        // The second edit is in a folder that does not exist: the first is put back.
        let c = dir.path().join("c.rs");
        std::fs::write(&c, "old c").unwrap();
        let edits = [
            (c.clone(), "old c".to_string(), "new c".to_string()),
            (dir.path().join("missing/d.rs"), String::new(), "new d".to_string()),
        ];
        assert!(apply(&moves, &edits).is_err());
        assert_eq!(std::fs::read_to_string(&a).unwrap(), "old a");
        assert!(!b.exists());
        assert_eq!(std::fs::read_to_string(&c).unwrap(), "old c");
        assert!(!dir.path().join(".c.rs.dbm-rebase").exists());
    }
}
