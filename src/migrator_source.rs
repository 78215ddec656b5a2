//! The list of migrations, read from the Migrator's source instead of compiling it.
//!
//! sea-orm-migration keeps the order of migrations in `Migrator::migrations()`, a
//! `vec![Box::new(module::Migration), ...]` in the migration crate's `lib.rs`. Parsing it
//! with `syn` gives the same list the compiled crate would, in milliseconds, and the
//! positions needed to register a new migration without disturbing the user's code.

use crate::error::{Error, IoContext, Result};
use proc_macro2::LineColumn;
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};
use syn::spanned::Spanned;
use syn::{Expr, ImplItem, Item, Token, punctuated::Punctuated};

/// One migration as declared in the Migrator.
#[derive(Debug, Clone, serde::Serialize)]
pub struct MigrationFile {
    /// The version recorded in the tracking table (the file stem, unless overridden).
    pub name: String,
    /// The module named in `Box::new(module::Migration)`.
    pub module: String,
    /// The module's source file.
    pub file: PathBuf,
    /// SHA-256 of the source, read with the list (`None` if unreadable).
    #[serde(skip)]
    checksum: Option<String>,
    /// Whether the source carries the [`FOREIGN_KEYS_OFF`] marker.
    #[serde(skip)]
    foreign_keys_off: bool,
}

/// The marker of migrations that rebuild SQLite tables (see `templates/autogen.rs.j2`).
pub const FOREIGN_KEYS_OFF: &str = "cargo-dbm: foreign-keys-off";

impl MigrationFile {
    /// Reads the module's file once: its version (an explicit `MigrationName` or the file
    /// stem), its checksum and its markers.
    fn read(module: String, file: PathBuf) -> MigrationFile {
        let text = std::fs::read_to_string(&file).ok();
        let name = text.as_deref().and_then(explicit_name).unwrap_or_else(|| {
            file.file_stem()
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_else(|| module.clone())
        });
        MigrationFile {
            name,
            module,
            checksum: text.as_deref().map(checksum),
            foreign_keys_off: text.as_deref().is_some_and(|t| t.contains(FOREIGN_KEYS_OFF)),
            file,
        }
    }

    /// Whether the migration asks to run with foreign key enforcement off (SQLite rebuilds).
    pub fn foreign_keys_off(&self) -> bool {
        self.foreign_keys_off
    }

    /// SHA-256 of the source (line endings normalised), or `None` if unreadable.
    pub fn checksum(&self) -> Option<String> {
        self.checksum.clone()
    }
}

/// SHA-256 of a migration's text, independent of CRLF/LF.
pub fn checksum(text: &str) -> String {
    let digest = if text.contains('\r') {
        Sha256::digest(text.replace("\r\n", "\n").as_bytes())
    } else {
        Sha256::digest(text.as_bytes())
    };
    let mut hex = String::with_capacity(64);
    for b in digest {
        hex.push(char::from_digit((b >> 4) as u32, 16).unwrap_or('0'));
        hex.push(char::from_digit((b & 15) as u32, 16).unwrap_or('0'));
    }
    hex
}

/// The parsed Migrator: its migrations in order.
#[derive(Debug)]
pub struct MigratorSource {
    pub lib: PathBuf,
    pub text: String,
    pub migrations: Vec<MigrationFile>,
    /// Tracking table name if `migration_table_name()` is overridden with a literal.
    pub table_name: Option<String>,
}

/// Where to edit `lib.rs` to register a migration.
#[derive(Debug)]
struct Layout {
    /// Line/column of the end of the last `mod <migration>;`, if any.
    last_mod_end: Option<LineColumn>,
    /// Visibility prefix of that `mod` item (`pub ` or ``).
    mod_vis: String,
    /// Line of the `struct Migrator` item, where a first `mod` goes.
    migrator_line: usize,
    /// The `vec![...]`: end of last element (after its comma if any), and its closing bracket.
    vec_last: Option<LineColumn>,
    vec_trailing_comma: bool,
    vec_open: LineColumn,
    vec_close: LineColumn,
}

/// What `lib.rs` says, before the migration files are read.
struct Parsed {
    /// `(module, file)` in the Migrator's order.
    modules: Vec<(String, PathBuf)>,
    table_name: Option<String>,
    layout: Layout,
}

/// A cached [`MigrationFile`], with what was read from its file.
#[derive(serde::Serialize, serde::Deserialize)]
struct CachedFile {
    name: String,
    module: String,
    file: PathBuf,
    checksum: Option<String>,
    foreign_keys_off: bool,
}

#[derive(serde::Serialize, serde::Deserialize)]
struct CachedList {
    table_name: Option<String>,
    migrations: Vec<CachedFile>,
}

impl MigratorSource {
    /// Reads the migration crate's `lib.rs` and the files of its migrations. The answer is
    /// cached, keyed on `lib.rs`'s content and valid while no migration file changes: a
    /// workspace with 1,000 migrations is then listed without reading or parsing them.
    pub fn load(lib: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(lib).context(|| format!("could not read `{}`", lib.display()))?;
        let lib_key = lib.to_string_lossy();
        let text_sum = checksum(&text);
        let key = [lib_key.as_ref(), text_sum.as_str()];
        if let Some(list) = crate::cache::get::<CachedList>("migrations", &key) {
            return Ok(MigratorSource {
                lib: lib.to_path_buf(),
                text,
                table_name: list.table_name,
                migrations: list
                    .migrations
                    .into_iter()
                    .map(|c| MigrationFile {
                        name: c.name,
                        module: c.module,
                        file: c.file,
                        checksum: c.checksum,
                        foreign_keys_off: c.foreign_keys_off,
                    })
                    .collect(),
            });
        }
        let started = std::time::SystemTime::now();
        let src = Self::parse(lib, text)?;
        let stamps = src
            .migrations
            .iter()
            .map(|m| crate::cache::Stamp::of(&m.file))
            .collect();
        let list = CachedList {
            table_name: src.table_name.clone(),
            migrations: src
                .migrations
                .iter()
                .map(|m| CachedFile {
                    name: m.name.clone(),
                    module: m.module.clone(),
                    file: m.file.clone(),
                    checksum: m.checksum.clone(),
                    foreign_keys_off: m.foreign_keys_off,
                })
                .collect(),
        };
        crate::cache::put("migrations", &key, stamps, started, &list);
        Ok(src)
    }

    /// Parses `text` as the content of `lib`, and reads the migration files it names.
    pub fn parse(lib: &Path, text: String) -> Result<Self> {
        let parsed = parse_lib(lib, &text)?;
        Ok(MigratorSource {
            lib: lib.to_path_buf(),
            migrations: parsed
                .modules
                .into_iter()
                .map(|(module, file)| MigrationFile::read(module, file))
                .collect(),
            table_name: parsed.table_name,
            text,
        })
    }

    /// `lib.rs` with `module` registered: a `mod` line and a `Box::new(module::Migration)` entry,
    /// everything else (comments, formatting) left as it was.
    pub fn with_migration(&self, module: &str) -> Result<String> {
        let layout = parse_lib(&self.lib, &self.text)?.layout;
        Ok(layout.with_migration(&self.text, module))
    }
}

impl Layout {
    fn with_migration(&self, text: &str, module: &str) -> String {
        let entry = format!("Box::new({module}::Migration)");
        // Edits are applied from the end of the file backwards so offsets stay valid.
        let mut edits: Vec<(usize, String)> = Vec::new();

        match self.vec_last {
            Some(last) => {
                let indent = line_indent(text, last.line);
                let end = offset(text, last);
                // A comment after the last entry stays on its line: insert after the line.
                let line_end = text[end..].find('\n').map(|i| end + i).unwrap_or(text.len());
                let rest = text[end..line_end].trim();
                let at = if rest.is_empty() || rest.starts_with("//") {
                    line_end
                } else {
                    end
                };
                let comma = if self.vec_trailing_comma { "" } else { "," };
                if at == end {
                    edits.push((at, format!("{comma}\n{indent}{entry},")));
                } else {
                    edits.push((at, format!("\n{indent}{entry},")));
                    edits.push((end, comma.to_string()));
                }
            }
            None => {
                // Empty list: the entry goes before the closing bracket, after any comment.
                let indent = line_indent(text, self.vec_close.line);
                let close = offset(text, self.vec_close);
                let open = offset(text, self.vec_open) + 1;
                let at = open + text[open..close].trim_end().len();
                let inner = if self.vec_close.line == self.vec_open.line {
                    line_indent(text, self.vec_open.line)
                } else {
                    indent.clone()
                };
                let mut s = text[..at].to_string();
                s.push_str(&format!("\n{inner}    {entry},\n{inner}"));
                s.push_str(&text[close..]);
                return insert_mod(self, &s, module);
            }
        }
        let mut s = text.to_string();
        edits.sort_by_key(|e| std::cmp::Reverse(e.0));
        for (at, ins) in edits {
            s.insert_str(at, &ins);
        }
        insert_mod(self, &s, module)
    }
}

/// Parses `lib.rs`: the modules of the Migrator's list, with their files, and the layout.
fn parse_lib(lib: &Path, text: &str) -> Result<Parsed> {
    let err = |reason: String| Error::MigratorSource {
        path: lib.to_path_buf(),
        reason,
    };
    let file = syn::parse_file(text).map_err(|e| {
        let lc = e.span().start();
        err(format!("line {}: {e}", lc.line))
    })?;
    let src_dir = lib.parent().unwrap_or(Path::new("."));

    // `mod x;` items, with their #[path] attributes.
    let mut mods: Vec<(String, Option<String>, LineColumn, bool)> = Vec::new();
    let mut found_impl = None;
    let mut migrator_line = 1;
    for item in &file.items {
        match item {
            Item::Mod(m) if m.content.is_none() => {
                let path_attr = m.attrs.iter().find(|a| a.path().is_ident("path")).and_then(|a| {
                    if let syn::Meta::NameValue(nv) = &a.meta
                        && let Expr::Lit(syn::ExprLit {
                            lit: syn::Lit::Str(s), ..
                        }) = &nv.value
                    {
                        return Some(s.value());
                    }
                    None
                });
                let is_pub = !matches!(m.vis, syn::Visibility::Inherited);
                mods.push((m.ident.to_string(), path_attr, m.span().end(), is_pub));
            }
            Item::Impl(imp) => {
                let is_migrator = imp
                    .trait_
                    .as_ref()
                    .and_then(|(_, p, _)| p.segments.last())
                    .is_some_and(|s| s.ident == "MigratorTrait");
                if is_migrator {
                    found_impl = Some(imp);
                }
            }
            Item::Struct(s) if s.ident == "Migrator" => migrator_line = s.span().start().line,
            _ => {}
        }
    }
    let imp = found_impl.ok_or_else(|| err("no `impl MigratorTrait for ...` found".into()))?;
    if let syn::Type::Path(tp) = &*imp.self_ty
        && let Some(seg) = tp.path.segments.last()
        && let Some(line) = file.items.iter().find_map(|i| match i {
            Item::Struct(s) if s.ident == seg.ident => Some(s.span().start().line),
            _ => None,
        })
    {
        migrator_line = line;
    }

    let mut table_name = None;
    let mut vec_mac = None;
    for it in &imp.items {
        if let ImplItem::Fn(f) = it {
            if f.sig.ident == "migrations" {
                vec_mac = find_vec_macro(&f.block);
            } else if f.sig.ident == "migration_table_name" {
                table_name = first_string_literal(&f.block);
            }
        }
    }
    let mac = vec_mac.ok_or_else(|| err("`fn migrations()` does not return a `vec![...]` literal".into()))?;
    let syn::MacroDelimiter::Bracket(br) = &mac.delimiter else {
        return Err(err("`vec!` in `fn migrations()` must use square brackets".into()));
    };
    let (vec_open, vec_close) = (br.span.open().start(), br.span.close().start());
    let elems: Punctuated<Expr, Token![,]> = mac
        .parse_body_with(Punctuated::parse_terminated)
        .map_err(|e| err(format!("could not read the list in `fn migrations()`: {e}")))?;

    let mut modules = Vec::new();
    for e in elems.iter() {
        let module = migration_module(e).ok_or_else(|| {
            err(format!(
                "line {}: expected `Box::new(module::Migration)` in `fn migrations()`",
                e.span().start().line
            ))
        })?;
        let file = match mods.iter().find(|m| m.0 == module) {
            Some((_, Some(p), _, _)) => src_dir.join(p),
            _ => resolve_module_file(src_dir, &module),
        };
        modules.push((module, file));
    }
    let vec_last = elems.pairs().next_back().map(|p| match p.punct() {
        Some(comma) => comma.span.end(),
        None => p.value().span().end(),
    });
    let vec_trailing_comma = elems.trailing_punct();

    let listed: Vec<&str> = modules.iter().map(|m| m.0.as_str()).collect();
    let last_mod = mods.iter().rev().find(|m| listed.contains(&m.0.as_str()));
    let layout = Layout {
        last_mod_end: last_mod.map(|m| m.2),
        mod_vis: if last_mod.is_some_and(|m| m.3) {
            "pub ".into()
        } else {
            String::new()
        },
        migrator_line,
        vec_last,
        vec_trailing_comma,
        vec_open,
        vec_close,
    };
    Ok(Parsed {
        modules,
        table_name,
        layout,
    })
}

fn insert_mod(src: &Layout, text: &str, module: &str) -> String {
    // The `mod` goes before the vec, so offsets computed on the original text are still valid.
    let line = format!("{}mod {module};", src.mod_vis);
    match src.last_mod_end {
        Some(end) => {
            // After the whole line, so a trailing comment stays with its own `mod`.
            let start = offset(text, end);
            let at = text[start..].find('\n').map(|i| start + i).unwrap_or(text.len());
            let mut s = text.to_string();
            s.insert_str(at, &format!("\n{line}"));
            s
        }
        None => {
            let at = line_start(text, src.migrator_line);
            let mut s = text.to_string();
            s.insert_str(at, &format!("{line}\n\n"));
            s
        }
    }
}

/// Finds the first `vec![...]` macro in a block (the returned list).
fn find_vec_macro(block: &syn::Block) -> Option<syn::Macro> {
    struct V(Option<syn::Macro>);
    impl<'a> syn::visit::Visit<'a> for V {
        fn visit_macro(&mut self, m: &'a syn::Macro) {
            if self.0.is_none() && m.path.is_ident("vec") {
                self.0 = Some(m.clone());
            }
        }
    }
    let mut v = V(None);
    syn::visit::Visit::visit_block(&mut v, block);
    v.0
}

fn first_string_literal(block: &syn::Block) -> Option<String> {
    struct V(Option<String>);
    impl<'a> syn::visit::Visit<'a> for V {
        fn visit_lit_str(&mut self, s: &'a syn::LitStr) {
            if self.0.is_none() {
                self.0 = Some(s.value());
            }
        }
    }
    let mut v = V(None);
    syn::visit::Visit::visit_block(&mut v, block);
    v.0
}

/// `Box::new(module::Migration)` or `Box::new(module::Migration {})` → `module`.
fn migration_module(e: &Expr) -> Option<String> {
    let Expr::Call(call) = e else { return None };
    let arg = call.args.first()?;
    let path = match arg {
        Expr::Path(p) => &p.path,
        Expr::Struct(s) => &s.path,
        _ => return None,
    };
    let segs: Vec<String> = path.segments.iter().map(|s| s.ident.to_string()).collect();
    match segs.as_slice() {
        [.., module, _ty] => Some(module.clone()),
        _ => None,
    }
}

fn resolve_module_file(src_dir: &Path, module: &str) -> PathBuf {
    let flat = src_dir.join(format!("{module}.rs"));
    if flat.exists() {
        return flat;
    }
    let nested = src_dir.join(module).join("mod.rs");
    if nested.exists() { nested } else { flat }
}

/// A hand-written `impl MigrationName` returning a literal overrides the file stem.
fn explicit_name(text: &str) -> Option<String> {
    let i = text.find("impl MigrationName for")?;
    let rest = &text[i..];
    let f = rest.find("fn name")?;
    let rest = &rest[f..];
    let start = rest.find('"')? + 1;
    let end = rest[start..].find('"')? + start;
    Some(rest[start..end].to_string())
}

fn line_start(text: &str, line: usize) -> usize {
    text.split_inclusive('\n')
        .take(line.saturating_sub(1))
        .map(str::len)
        .sum()
}

fn offset(text: &str, lc: LineColumn) -> usize {
    let start = line_start(text, lc.line);
    let line = &text[start..];
    start + line.char_indices().nth(lc.column).map(|(i, _)| i).unwrap_or(line.len())
}

fn line_indent(text: &str, line: usize) -> String {
    let start = line_start(text, line);
    text[start..].chars().take_while(|c| *c == ' ' || *c == '\t').collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const LIB: &str = r#"pub use sea_orm_migration::prelude::*;

// The first migration.
mod m20240101_000001_create_users;
mod m20240102_000001_add_posts; // posts

pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20240101_000001_create_users::Migration),
            // keep this comment
            Box::new(m20240102_000001_add_posts::Migration),
        ]
    }
}
"#;

    #[test]
    fn reads_migrations_in_order() {
        let src = MigratorSource::parse(Path::new("/x/src/lib.rs"), LIB.into()).unwrap();
        let names: Vec<_> = src.migrations.iter().map(|m| m.name.as_str()).collect();
        assert_eq!(names, ["m20240101_000001_create_users", "m20240102_000001_add_posts"]);
        assert_eq!(
            src.migrations[0].file,
            Path::new("/x/src/m20240101_000001_create_users.rs")
        );
    }

    #[test]
    fn registers_a_migration_keeping_comments() {
        let src = MigratorSource::parse(Path::new("/x/src/lib.rs"), LIB.into()).unwrap();
        let out = src.with_migration("m20240103_000000_add_phone").unwrap();
        assert!(
            out.contains("mod m20240102_000001_add_posts; // posts\nmod m20240103_000000_add_phone;\n"),
            "{out}"
        );
        assert!(out.contains("            Box::new(m20240102_000001_add_posts::Migration),\n            Box::new(m20240103_000000_add_phone::Migration),\n        ]"), "{out}");
        assert!(out.contains("// keep this comment"));
        let again = MigratorSource::parse(Path::new("/x/src/lib.rs"), out).unwrap();
        assert_eq!(again.migrations.len(), 3);
    }

    #[test]
    fn registers_into_an_empty_list() {
        let lib = "pub use sea_orm_migration::prelude::*;\n\npub struct Migrator;\n\n#[async_trait::async_trait]\nimpl MigratorTrait for Migrator {\n    fn migrations() -> Vec<Box<dyn MigrationTrait>> {\n        vec![]\n    }\n}\n";
        let src = MigratorSource::parse(Path::new("/x/src/lib.rs"), lib.into()).unwrap();
        let out = src.with_migration("m1_a").unwrap();
        let again = MigratorSource::parse(Path::new("/x/src/lib.rs"), out.clone()).unwrap();
        assert_eq!(again.migrations.len(), 1, "{out}");
        assert!(out.contains("mod m1_a;\n\npub struct Migrator;"), "{out}");
        // and a second one after it, on one line without trailing comma
        let out2 = again.with_migration("m2_b").unwrap();
        let third = MigratorSource::parse(Path::new("/x/src/lib.rs"), out2.clone()).unwrap();
        assert_eq!(
            third.migrations.iter().map(|m| m.module.as_str()).collect::<Vec<_>>(),
            ["m1_a", "m2_b"],
            "{out2}"
        );
        assert!(out2.contains("mod m1_a;\nmod m2_b;"), "{out2}");
    }

    #[test]
    fn single_line_list_without_trailing_comma() {
        let lib = "mod a1;\npub struct Migrator;\nimpl MigratorTrait for Migrator { fn migrations() -> Vec<Box<dyn MigrationTrait>> { vec![Box::new(a1::Migration)] } }\n";
        let src = MigratorSource::parse(Path::new("/x/src/lib.rs"), lib.into()).unwrap();
        let out = src.with_migration("b2").unwrap();
        let again = MigratorSource::parse(Path::new("/x/src/lib.rs"), out.clone()).unwrap();
        assert_eq!(again.migrations.len(), 2, "{out}");
    }

    #[test]
    fn a_comment_after_the_last_entry_stays_with_it() {
        let lib = "mod a1;\npub struct Migrator;\nimpl MigratorTrait for Migrator {\n    fn migrations() -> Vec<Box<dyn MigrationTrait>> {\n        vec![\n            Box::new(a1::Migration) // the first\n        ]\n    }\n}\n";
        let src = MigratorSource::parse(Path::new("/x/src/lib.rs"), lib.into()).unwrap();
        let out = src.with_migration("b2").unwrap();
        assert!(
            out.contains(
                "            Box::new(a1::Migration), // the first\n            Box::new(b2::Migration),\n        ]"
            ),
            "{out}"
        );
    }

    #[test]
    fn a_comment_in_an_empty_list_is_kept() {
        let lib = "pub struct Migrator;\nimpl MigratorTrait for Migrator {\n    fn migrations() -> Vec<Box<dyn MigrationTrait>> {\n        vec![\n            // none yet\n        ]\n    }\n}\n";
        let src = MigratorSource::parse(Path::new("/x/src/lib.rs"), lib.into()).unwrap();
        let out = src.with_migration("b2").unwrap();
        assert!(
            out.contains("vec![\n            // none yet\n            Box::new(b2::Migration),\n        ]"),
            "{out}"
        );
    }

    #[test]
    fn a_list_that_is_not_literal_is_a_clear_error() {
        let lib = "pub struct Migrator;\nimpl MigratorTrait for Migrator { fn migrations() -> Vec<Box<dyn MigrationTrait>> { make() } }\n";
        let e = MigratorSource::parse(Path::new("/x/src/lib.rs"), lib.into()).unwrap_err();
        assert!(e.to_string().contains("vec!"), "{e}");
    }
}
