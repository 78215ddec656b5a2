//! Rust seed functions, found in the source without compiling.
//!
//! The convention: the migration crate has a public module `seeds` (`src/seeds.rs` or
//! `src/seeds/mod.rs`, declared `pub mod seeds;` in `lib.rs`) with one public async function
//! per profile, named after it (`-` becomes `_`):
//!
//! ```ignore
//! use sea_orm_migration::sea_orm::{DatabaseTransaction, DbErr};
//! pub async fn default(db: &DatabaseTransaction) -> Result<(), DbErr> { ... }
//! ```
//!
//! It runs after the profile's files, in the same transaction; it may read the rows they
//! inserted. Only a profile with such a function compiles anything.

use crate::error::{Error, Result};
use std::path::{Path, PathBuf};

/// The name of the function for `profile`.
pub fn fn_name(profile: &str) -> String {
    profile.replace('-', "_")
}

/// The public async functions of the migration crate's `seeds` module (empty without one).
pub fn functions(lib: &Path) -> Result<Vec<String>> {
    let Some(items) = seeds_items(lib)? else {
        return Ok(Vec::new());
    };
    let mut out = Vec::new();
    for item in items {
        if let syn::Item::Fn(f) = item {
            // `pub async fn name(db)`: one parameter, the transaction. Helpers with other
            // signatures are left alone (the runner's dispatch must compile).
            if matches!(f.vis, syn::Visibility::Public(_))
                && f.sig.asyncness.is_some()
                && f.sig.inputs.len() == 1
                && f.sig.generics.params.is_empty()
            {
                out.push(f.sig.ident.to_string());
            }
        }
    }
    Ok(out)
}

fn parse(path: &Path) -> Result<syn::File> {
    let text =
        std::fs::read_to_string(path).map_err(|e| Error::io(format!("could not read `{}`", path.display()), e))?;
    syn::parse_file(&text).map_err(|e| Error::MigratorSource {
        path: path.to_path_buf(),
        reason: e.to_string(),
    })
}

fn seeds_items(lib: &Path) -> Result<Option<Vec<syn::Item>>> {
    if !lib.exists() {
        return Ok(None);
    }
    let file = parse(lib)?;
    for item in file.items {
        let syn::Item::Mod(m) = item else { continue };
        if m.ident != "seeds" || !matches!(m.vis, syn::Visibility::Public(_)) {
            continue;
        }
        if let Some((_, items)) = m.content {
            return Ok(Some(items));
        }
        // Beside the Migrator's module: `src/migrator/` for `src/migrator.rs` too.
        let dir = crate::migrator_source::module_dir(lib);
        let candidates: [PathBuf; 2] = [dir.join("seeds.rs"), dir.join("seeds").join("mod.rs")];
        for c in candidates {
            if c.exists() {
                return Ok(Some(parse(&c)?.items));
            }
        }
    }
    Ok(None)
}
