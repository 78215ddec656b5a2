//! Migration names: a description turned into `mYYYYMMDD_HHMMSS_<snake_name>`.

use crate::error::{Error, Result};
use chrono::{NaiveDateTime, Timelike, Utc};

/// The longest slug kept, so file names stay readable.
const MAX_SLUG: usize = 60;

/// Turns any description into a snake_case identifier fragment:
/// capitals lowered, accents and other scripts transliterated, punctuation to `_`.
pub fn slugify(name: &str) -> Result<String> {
    let ascii = deunicode::deunicode(name);
    let mut slug = String::with_capacity(ascii.len());
    let mut prev_us = true;
    let mut prev_lower = false;
    for c in ascii.chars() {
        if c.is_ascii_alphanumeric() {
            // camelCase → camel_case
            if c.is_ascii_uppercase() && prev_lower && !prev_us {
                slug.push('_');
            }
            slug.push(c.to_ascii_lowercase());
            prev_us = false;
            prev_lower = c.is_ascii_lowercase() || c.is_ascii_digit();
        } else if !prev_us {
            slug.push('_');
            prev_us = true;
            prev_lower = false;
        }
    }
    let mut slug = slug.trim_matches('_').to_string();
    if slug.len() > MAX_SLUG {
        slug.truncate(MAX_SLUG);
        slug = slug.trim_end_matches('_').to_string();
    }
    if slug.is_empty() {
        return Err(Error::BadName {
            name: name.to_string(),
            reason: if name.trim().is_empty() {
                "it is empty".into()
            } else {
                "it has no letters or digits to build a file name from".into()
            },
        });
    }
    Ok(slug)
}

/// The timestamp part of a migration name (`YYYYMMDD_HHMMSS`), if it has one.
pub fn timestamp_of(name: &str) -> Option<NaiveDateTime> {
    let rest = name.strip_prefix('m')?;
    let stamp = rest.get(..15)?;
    NaiveDateTime::parse_from_str(stamp, "%Y%m%d_%H%M%S").ok()
}

/// A new version name, later than every existing one so the list stays ordered even
/// when two migrations are created within the same second.
pub fn new_version<'a>(slug: &str, existing: impl IntoIterator<Item = &'a str>) -> String {
    let now = Utc::now()
        .naive_utc()
        .with_nanosecond(0)
        .expect("zero nanoseconds is valid");
    let latest = existing.into_iter().filter_map(timestamp_of).max();
    let stamp = match latest {
        Some(l) if l >= now => l + chrono::Duration::seconds(1),
        _ => now,
    };
    format!("m{}_{slug}", stamp.format("%Y%m%d_%H%M%S"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs() {
        assert_eq!(slugify("add phone").unwrap(), "add_phone");
        assert_eq!(
            slugify("  Add Phone-Number!! to users ").unwrap(),
            "add_phone_number_to_users"
        );
        assert_eq!(slugify("AddPhoneNumber").unwrap(), "add_phone_number");
        assert_eq!(slugify("Ajouter le téléphone").unwrap(), "ajouter_le_telephone");
        assert_eq!(slugify("добавить телефон").unwrap(), "dobavit_telefon");
        assert_eq!(slugify("2fa codes").unwrap(), "2fa_codes");
        assert!(slugify("").is_err());
        assert!(slugify("   ").is_err());
        assert!(slugify("!!!").is_err());
        assert!(slugify(&"x".repeat(200)).unwrap().len() <= MAX_SLUG);
    }

    #[test]
    fn versions_are_strictly_increasing() {
        let a = new_version("a", []);
        let b = new_version("b", [a.as_str()]);
        let c = new_version("c", [a.as_str(), b.as_str()]);
        assert!(timestamp_of(&a).unwrap() < timestamp_of(&b).unwrap(), "{a} {b}");
        assert!(timestamp_of(&b).unwrap() < timestamp_of(&c).unwrap(), "{b} {c}");
        let future = "m29990101_000000_x";
        let d = new_version("d", [future]);
        assert_eq!(d, "m29990101_000001_d");
    }
}
