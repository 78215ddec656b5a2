//! Revision targets: a full name, a unique prefix (with or without the leading `m`),
//! a slug, `head`, `base`, or relative `+N`/`-N`.

use crate::error::{Error, Result};

/// Where the user wants the database to be.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// Everything applied.
    Head,
    /// Nothing applied.
    Base,
    /// Applied up to and including migration `index` of the list.
    At(usize),
}

/// Resolves `rev` against the ordered list of migration names.
///
/// `applied_count` is how many of the list are applied, for relative targets.
pub fn resolve(rev: &str, names: &[&str], applied_count: usize) -> Result<Target> {
    let rev = rev.trim();
    match rev {
        "head" | "heads" => return Ok(Target::Head),
        "base" => return Ok(Target::Base),
        _ => {}
    }
    if let Some(n) = rev.strip_prefix('+').or_else(|| rev.strip_prefix('-')) {
        let n: usize = n.parse().map_err(|_| unknown(rev, names))?;
        let pos = if rev.starts_with('+') {
            applied_count + n
        } else {
            applied_count.checked_sub(n).ok_or_else(|| Error::UnknownRevision {
                rev: rev.into(),
                hint: format!("only {applied_count} migration(s) are applied"),
            })?
        };
        if pos > names.len() {
            return Err(Error::UnknownRevision {
                rev: rev.into(),
                hint: format!("only {} migration(s) are pending", names.len() - applied_count),
            });
        }
        return Ok(if pos == 0 { Target::Base } else { Target::At(pos - 1) });
    }
    if let Some(i) = names.iter().position(|n| *n == rev) {
        return Ok(Target::At(i));
    }
    let matches: Vec<usize> = names
        .iter()
        .enumerate()
        .filter(|(_, n)| {
            n.starts_with(rev) || n.strip_prefix('m').is_some_and(|s| s.starts_with(rev)) || slug(n) == Some(rev)
        })
        .map(|(i, _)| i)
        .collect();
    match matches.as_slice() {
        [i] => Ok(Target::At(*i)),
        [] => Err(unknown(rev, names)),
        many => Err(Error::AmbiguousRevision {
            rev: rev.into(),
            candidates: many.iter().map(|i| names[*i].to_string()).collect(),
        }),
    }
}

/// The part after `mYYYYMMDD_HHMMSS_`.
fn slug(name: &str) -> Option<&str> {
    let rest = name.strip_prefix('m')?;
    let b = rest.as_bytes();
    (b.len() > 16 && b[8] == b'_' && b[15] == b'_').then(|| &rest[16..])
}

fn unknown(rev: &str, names: &[&str]) -> Error {
    let hint = if names.is_empty() {
        "the migration crate has no migrations yet; create one with `cargo dbm create NAME`".to_string()
    } else {
        format!(
            "give a migration name or a unique prefix of one (see `cargo dbm history`), `head`, `base`, `+N` or `-N`; the latest is `{}`",
            names[names.len() - 1]
        )
    };
    Error::UnknownRevision { rev: rev.into(), hint }
}

#[cfg(test)]
mod tests {
    use super::*;
    const N: &[&str] = &[
        "m20240101_000001_create_users",
        "m20240101_000002_add_posts",
        "m20240301_000000_add_phone",
    ];

    #[test]
    fn resolves() {
        assert_eq!(resolve("head", N, 0).unwrap(), Target::Head);
        assert_eq!(resolve("base", N, 3).unwrap(), Target::Base);
        assert_eq!(resolve("m20240101_000002_add_posts", N, 0).unwrap(), Target::At(1));
        assert_eq!(resolve("m202403", N, 0).unwrap(), Target::At(2));
        assert_eq!(resolve("20240301", N, 0).unwrap(), Target::At(2));
        assert_eq!(resolve("add_phone", N, 0).unwrap(), Target::At(2));
        assert_eq!(resolve("+2", N, 0).unwrap(), Target::At(1));
        assert_eq!(resolve("-1", N, 3).unwrap(), Target::At(1));
        assert_eq!(resolve("-3", N, 3).unwrap(), Target::Base);
        assert!(matches!(resolve("+4", N, 0), Err(Error::UnknownRevision { .. })));
        assert!(matches!(resolve("-1", N, 0), Err(Error::UnknownRevision { .. })));
        assert!(matches!(resolve("zzz", N, 0), Err(Error::UnknownRevision { .. })));
        match resolve("m20240101", N, 0) {
            Err(Error::AmbiguousRevision { candidates, .. }) => assert_eq!(candidates.len(), 2),
            other => panic!("{other:?}"),
        }
    }
}
