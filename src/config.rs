//! Configuration: `[workspace.metadata.dbm]`, and the database URL's resolution
//! (`--database-url`, then `DATABASE_URL`, then `.env`, then the metadata, then the
//! embedded SQLite default), with redaction of secrets for every message.

use crate::error::{Error, Result};
use serde::Deserialize;
use std::path::{Path, PathBuf};

/// `[workspace.metadata.dbm]`, all keys optional.
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct DbmConfig {
    /// Package name of the migration crate.
    pub migration_crate: Option<String>,
    /// The Migrator's path, crate first (`app::migrator::Migrator`), when the workspace has
    /// several (see `workspace`).
    pub migrator: Option<String>,
    /// Database URL; a relative SQLite path is relative to the workspace root.
    pub database_url: Option<String>,
    /// Name of sea-orm-migration's tracking table, when the Migrator overrides it.
    pub migration_table: Option<String>,
    /// A project-local migration template (a minijinja file), relative to the workspace root.
    pub template: Option<PathBuf>,
    /// Folder of seed data, relative to the workspace root.
    pub seeds_dir: Option<PathBuf>,
    /// Folder of backups, relative to the workspace root.
    pub backup_dir: Option<PathBuf>,
    /// How many backups to keep (default 10).
    pub backup_keep: Option<usize>,
    /// Compression of new backups: `gzip` (default) or `zstd`.
    pub backup_compression: Option<crate::backup::compress::Codec>,
    /// Compression level (gzip 1–12, default 6; zstd 1–19, default 3).
    pub backup_level: Option<i32>,
    /// `cargo dbm up` takes a backup first, as with `--backup`.
    #[serde(default)]
    pub backup_before_up: bool,
    /// Destructive commands are refused unless explicitly allowed.
    #[serde(default)]
    pub protected: bool,
    /// PostgreSQL schema to migrate (default `public`).
    pub schema: Option<String>,
    /// `cargo dbm up` applies pending migrations that sort before an applied one, as with
    /// `--out-of-order` (for a development database shared by branches).
    #[serde(default)]
    pub out_of_order: bool,
    /// A database of the same engine on a server cargo dbm may use for scratch databases
    /// (`cargo dbm sql` without access to the real one).
    pub scratch_database_url: Option<String>,
    /// PostgreSQL's `lock_timeout` for each migration (`5s`, `500ms`, `0` for none; default
    /// none, or 5s when `protected`).
    pub lock_timeout: Option<String>,
    /// PostgreSQL's `statement_timeout` for each migration (default none).
    pub statement_timeout: Option<String>,
    /// Lint rules allowed in every migration (`cargo dbm lint`, `check`).
    #[serde(default)]
    pub lint_allow: Vec<String>,
    /// The fleet: many databases or schemas migrated as one (`--all`, `--fleet GROUP`).
    pub fleet: Option<crate::fleet::FleetConfig>,
}

impl DbmConfig {
    /// Reads the table from cargo metadata's `workspace_metadata` value.
    pub fn from_metadata(meta: &serde_json::Value) -> Result<Self> {
        match meta.get("dbm") {
            None | Some(serde_json::Value::Null) => Ok(Self::default()),
            Some(v) => {
                serde_json::from_value(v.clone()).map_err(|e| Error::Config(format!("[workspace.metadata.dbm]: {e}")))
            }
        }
    }
}

/// The database engine behind a URL.
pub use crate::engine::Engine;

/// Where the URL came from, for `info` and messages.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum UrlSource {
    CommandLine,
    Environment,
    DotEnv,
    Metadata,
    Default,
}

impl std::fmt::Display for UrlSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            UrlSource::CommandLine => "--database-url",
            UrlSource::Environment => "DATABASE_URL",
            UrlSource::DotEnv => ".env",
            UrlSource::Metadata => "[workspace.metadata.dbm]",
            UrlSource::Default => "default",
        })
    }
}

/// A validated database URL.
#[derive(Clone, Debug)]
pub struct DbUrl {
    /// The URL to connect with (SQLite paths made absolute).
    url: String,
    pub engine: Engine,
    pub source: UrlSource,
    /// The database file, for SQLite (`None` for in-memory).
    pub sqlite_path: Option<PathBuf>,
    /// PostgreSQL schema (`--schema`, `DATABASE_SCHEMA`, metadata), `None` = server default.
    pub schema: Option<String>,
}

impl DbUrl {
    /// The same server and credentials, another database (for a server engine).
    pub fn with_database(&self, name: &str) -> Result<DbUrl> {
        let mut u = url::Url::parse(&self.url).map_err(|e| Error::BadUrl {
            url: self.redacted(),
            reason: e.to_string(),
        })?;
        u.set_path(&format!("/{name}"));
        Ok(DbUrl {
            url: u.to_string(),
            ..self.clone()
        })
    }

    /// An in-memory SQLite database (`sqlite::memory:`): nothing to back up or lock.
    pub fn is_in_memory(&self) -> bool {
        self.sqlite_path.is_none() && self.url.starts_with("sqlite:")
    }

    /// Parses and validates `raw`; relative SQLite paths are taken relative to `root`.
    pub fn parse(raw: &str, root: &Path, source: UrlSource) -> Result<Self> {
        let raw = raw.trim();
        let bad = |reason: &str| Error::BadUrl {
            url: redact(raw),
            reason: reason.to_string(),
        };
        if raw.is_empty() {
            return Err(bad("it is empty"));
        }
        if let Some(rest) = raw.strip_prefix("sqlite:") {
            let rest = rest.strip_prefix("//").unwrap_or(rest);
            let (path, query) = match rest.split_once('?') {
                Some((p, q)) => (p, Some(q)),
                None => (rest, None),
            };
            if path.is_empty() {
                return Err(bad("no database file is named (e.g. `sqlite://data/app.db`)"));
            }
            if path == ":memory:" {
                return Ok(DbUrl {
                    url: "sqlite::memory:".into(),
                    engine: Engine::Sqlite,
                    source,
                    sqlite_path: None,
                    schema: None,
                });
            }
            let p = Path::new(path);
            let abs = if p.is_absolute() { p.to_path_buf() } else { root.join(p) };
            let mut url = format!("sqlite://{}", abs.display());
            if let Some(q) = query {
                url.push('?');
                url.push_str(q);
            }
            return Ok(DbUrl {
                url,
                engine: Engine::Sqlite,
                source,
                sqlite_path: Some(abs),
                schema: None,
            });
        }
        let parsed = url::Url::parse(raw).map_err(|e| bad(&e.to_string()))?;
        match parsed.scheme() {
            "postgres" | "postgresql" => {
                if parsed.host_str().unwrap_or("").is_empty() {
                    return Err(bad("no host is named"));
                }
                if parsed.path().trim_matches('/').is_empty() {
                    return Err(bad("no database name is given after the host (e.g. `/myapp`)"));
                }
                Ok(DbUrl {
                    url: raw.to_string(),
                    engine: Engine::Postgres,
                    source,
                    sqlite_path: None,
                    schema: None,
                })
            }
            "mysql" | "mariadb" => {
                if parsed.host_str().unwrap_or("").is_empty() {
                    return Err(bad("no host is named"));
                }
                if parsed.path().trim_matches('/').is_empty() {
                    return Err(bad("no database name is given after the host (e.g. `/myapp`)"));
                }
                // sqlx's driver knows the `mysql` scheme; MariaDB speaks the same protocol.
                let url = match raw.strip_prefix("mariadb:") {
                    Some(rest) => format!("mysql:{rest}"),
                    None => raw.to_string(),
                };
                Ok(DbUrl {
                    url,
                    engine: Engine::MySql,
                    source,
                    sqlite_path: None,
                    schema: None,
                })
            }
            other => Err(bad(&format!(
                "unsupported scheme `{other}`; use `sqlite://`, `postgres://` or `mysql://` (`mariadb://`)"
            ))),
        }
    }

    /// The URL with every secret (the userinfo password, `password=`, `sslpassword=` and the
    /// like in the query string) replaced by `***`: safe to print.
    pub fn redacted(&self) -> String {
        redact(&self.url)
    }

    /// The real URL, for connecting. Never print it.
    pub fn expose(&self) -> &str {
        &self.url
    }

    /// The database name: file name for SQLite, database for PostgreSQL.
    pub fn database_name(&self) -> String {
        if self.url.starts_with("sqlite:") {
            return self
                .sqlite_path
                .as_ref()
                .and_then(|p| p.file_name())
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_else(|| ":memory:".into());
        }
        url::Url::parse(&self.url)
            .map(|u| u.path().trim_start_matches('/').to_string())
            .unwrap_or_default()
    }
}

/// The URL with every secret replaced by `***`: the userinfo password and the value of any
/// query parameter that carries one (see [`is_secret_key`]). Works on strings that are not
/// valid URLs too (as [`redact_text`]).
pub fn redact(raw: &str) -> String {
    let without_password = match url::Url::parse(raw) {
        Ok(mut u) if u.password().is_some() => match u.set_password(Some("***")) {
            Ok(()) => u.to_string(),
            Err(()) => redact_userinfo(raw),
        },
        Ok(_) => raw.to_string(),
        // Not a URL as the `url` crate reads it (e.g. a password with an unencoded `/`).
        Err(_) => redact_userinfo(raw),
    };
    redact_pairs(&without_password)
}

/// Redacts secrets anywhere in a text (driver and tool messages): the password of every
/// `scheme://user:password@` and the value of every `key=value` whose key names a secret,
/// as in a URL's query string (`?password=...&sslpassword=...`) or a libpq key/value
/// connection string (`host=db password=... dbname=app`, quoted values included).
pub fn redact_text(text: &str) -> String {
    redact_pairs(&redact_userinfo(text))
}

/// Whether a connection parameter named `key` holds a secret: libpq's and sqlx's
/// `password` and `sslpassword`, MySQL's `password`, and anything named like a password,
/// secret, token or key for an API (`db_password`, `client-secret`, `access_token`,
/// `api_key`, ...). Case, `-`, `_` and `.` do not matter; `key` is already percent-decoded.
/// File names (`passfile`, `sslkey`, `sslcert`) are not secrets.
pub fn is_secret_key(key: &str) -> bool {
    let k: String = key
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .map(|c| c.to_ascii_lowercase())
        .collect();
    matches!(k.as_str(), "pass" | "pw" | "pwd")
        || [
            "password",
            "passwd",
            "passphrase",
            "secret",
            "token",
            "apikey",
            "accesskey",
            "privatekey",
            "credential",
        ]
        .iter()
        .any(|w| k.contains(w))
}

/// `scheme://user:password@host` → `scheme://user:***@host`, for every URL in `text`.
///
/// The userinfo ends at the *last* `@` before whitespace or a quote, so that a password
/// with an unencoded `@`, `:`, `/`, `?` or `#` is hidden whole; a URL whose path or query
/// holds an `@` may lose more than its password, which is the safe side.
fn redact_userinfo(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(i) = rest.find("://") {
        let (head, tail) = rest.split_at(i + 3);
        out.push_str(head);
        let end = tail
            .find(|c: char| c.is_whitespace() || matches!(c, '"' | '\'' | '`' | '<' | '>'))
            .unwrap_or(tail.len());
        let token = &tail[..end];
        match token.rfind('@') {
            Some(at) => {
                let userinfo = &token[..at];
                match userinfo.find(':') {
                    Some(colon) => {
                        out.push_str(&userinfo[..colon]);
                        out.push_str(":***");
                    }
                    None => out.push_str(userinfo),
                }
                out.push_str(&token[at..]);
            }
            None => out.push_str(token),
        }
        rest = &tail[end..];
    }
    out.push_str(rest);
    out
}

/// `key=value` → `key=***` wherever the key names a secret ([`is_secret_key`]). The key
/// may be percent-encoded and have spaces around `=`; a value runs to whitespace, `&` or a
/// quote, or, when it is quoted, to its closing quote (backslash escapes honoured).
fn redact_pairs(text: &str) -> String {
    let is_key_byte = |c: u8| c.is_ascii_alphanumeric() || matches!(c, b'_' | b'-' | b'.' | b'%');
    let b = text.as_bytes();
    let mut out = String::with_capacity(text.len());
    let mut copied = 0;
    let mut i = 0;
    while i < b.len() {
        if b[i] != b'=' {
            i += 1;
            continue;
        }
        let mut key_end = i;
        while key_end > copied && b[key_end - 1] == b' ' {
            key_end -= 1;
        }
        let mut key_start = key_end;
        while key_start > copied && is_key_byte(b[key_start - 1]) {
            key_start -= 1;
        }
        if key_start == key_end || !is_secret_key(&percent_decode(&text[key_start..key_end])) {
            i += 1;
            continue;
        }
        let mut start = i + 1;
        while start < b.len() && b[start] == b' ' {
            start += 1;
        }
        let end = match b.get(start) {
            Some(&q @ (b'\'' | b'"')) => {
                let mut j = start + 1;
                let close = loop {
                    match b.get(j) {
                        None | Some(b'\n') => break j,
                        Some(b'\\') => j += 2,
                        Some(&c) if c == q => break j + 1,
                        Some(_) => j += 1,
                    }
                };
                close.min(b.len())
            }
            _ => text[start..]
                .find(|c: char| c.is_whitespace() || matches!(c, '&' | '"' | '\'' | '`'))
                .map_or(b.len(), |n| start + n),
        };
        if end > start {
            out.push_str(&text[copied..start]);
            out.push_str("***");
            copied = end;
        }
        i = end.max(i + 1);
    }
    out.push_str(&text[copied..]);
    out
}

/// `%XX` decoded; anything else kept as it is.
pub(crate) fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%'
            && let Some(v) = s.get(i + 1..i + 3).and_then(|h| u8::from_str_radix(h, 16).ok())
        {
            out.push(v);
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Resolves the URL: flag, environment, `.env` in the workspace root, metadata, default.
pub fn resolve_url(flag: Option<&str>, root: &Path, config: &DbmConfig, default_name: &str) -> Result<DbUrl> {
    if let Some(u) = flag {
        return DbUrl::parse(u, root, UrlSource::CommandLine);
    }
    if let Ok(u) = std::env::var("DATABASE_URL")
        && !u.trim().is_empty()
    {
        return DbUrl::parse(&u, root, UrlSource::Environment);
    }
    if let Some(u) = dotenv_value(root, "DATABASE_URL")? {
        return DbUrl::parse(&u, root, UrlSource::DotEnv);
    }
    if let Some(u) = &config.database_url {
        return DbUrl::parse(u, root, UrlSource::Metadata);
    }
    DbUrl::parse(&default_sqlite_url(default_name), root, UrlSource::Default)
}

/// The embedded default: `sqlite://data/<name>.db` inside the workspace.
pub fn default_sqlite_url(name: &str) -> String {
    format!("sqlite://data/{}.db", name.replace('-', "_"))
}

/// Reads one key from `<root>/.env`, without touching the process environment.
pub fn dotenv_value(root: &Path, key: &str) -> Result<Option<String>> {
    let path = root.join(".env");
    if !path.exists() {
        return Ok(None);
    }
    let iter =
        dotenvy::from_path_iter(&path).map_err(|e| Error::Config(format!("could not read {}: {e}", path.display())))?;
    for item in iter {
        let (k, v) = item.map_err(|e| Error::Config(format!("{}: {e}", path.display())))?;
        if k == key {
            return Ok(Some(v));
        }
    }
    Ok(None)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redacts_passwords() {
        assert_eq!(
            redact("postgres://bob:hunter2@db:5432/app"),
            "postgres://bob:***@db:5432/app"
        );
        assert_eq!(redact("postgres://db/app"), "postgres://db/app");
        let t = redact_text("error connecting to postgres://bob:hunter2@db/app: refused");
        assert!(!t.contains("hunter2"), "{t}");
        assert!(t.contains("bob:***@db/app"), "{t}");
    }

    /// Every form a secret takes in a URL, through both [`redact`] and [`redact_text`].
    #[test]
    fn redacts_every_form_of_url_secret() {
        for (raw, want) in [
            // userinfo: plain, percent-encoded, and unencoded `@`, `:`, `/`, `?`, `#`
            ("postgres://app:hunter2@db/app", "postgres://app:***@db/app"),
            ("postgres://app:hun%40ter%3A2@db/app", "postgres://app:***@db/app"),
            ("postgres://app:hun@ter2@db/app", "postgres://app:***@db/app"),
            ("postgres://app:hun:ter2@db/app", "postgres://app:***@db/app"),
            ("postgres://app:hun/ter2@db/app", "postgres://app:***@db/app"),
            ("postgres://app:hun?ter#2@db:5432/app", "postgres://app:***@db:5432/app"),
            ("postgres://:hunter2@db/app", "postgres://:***@db/app"),
            // a user without a password is kept, whatever it looks like
            ("postgres://tok3n@db/app", "postgres://tok3n@db/app"),
            // the query string
            (
                "postgres://app@db/app?password=hunter2",
                "postgres://app@db/app?password=***",
            ),
            (
                "postgres://app@db/app?sslmode=require&password=hunter2&sslpassword=s3cr3t&application_name=x",
                "postgres://app@db/app?sslmode=require&password=***&sslpassword=***&application_name=x",
            ),
            (
                "postgres://app@db/app?PASSWORD=hunter2&%70assword=hunter2",
                "postgres://app@db/app?PASSWORD=***&%70assword=***",
            ),
            (
                "postgres://db/app?db_password=a&client-secret=b&access_token=c&api_key=d&apiKey=e&passwd=f&pwd=g",
                "postgres://db/app?db_password=***&client-secret=***&access_token=***&api_key=***&apiKey=***&passwd=***&pwd=***",
            ),
            (
                "postgres://db/app?password=hun%26ter2",
                "postgres://db/app?password=***",
            ),
            (
                "mysql://root@db/app?password=hunter2",
                "mysql://root@db/app?password=***",
            ),
            // both at once
            (
                "postgres://app:hunter2@db/app?sslpassword=s3cr3t",
                "postgres://app:***@db/app?sslpassword=***",
            ),
            // not secrets: file names and ordinary options stay
            (
                "postgres://app@db/app?passfile=/home/a/.pgpass&sslkey=/k.pem&sslcert=/c.pem&sslmode=verify-full",
                "postgres://app@db/app?passfile=/home/a/.pgpass&sslkey=/k.pem&sslcert=/c.pem&sslmode=verify-full",
            ),
            ("sqlite:///w/data/app.db?mode=rwc", "sqlite:///w/data/app.db?mode=rwc"),
        ] {
            assert_eq!(redact(raw), want, "redact({raw})");
            assert_eq!(redact_text(raw), want, "redact_text({raw})");
            // Redacting twice changes nothing more.
            assert_eq!(redact(&redact(raw)), want, "redact twice ({raw})");
            // Inside a sentence, between quotes or backticks.
            for (l, r) in [("error: ", " (refused)"), ("\"", "\""), ("`", "`"), ("(", " )")] {
                let text = format!("{l}{raw}{r}");
                assert_eq!(redact_text(&text), format!("{l}{want}{r}"), "redact_text({text})");
            }
        }
    }

    #[test]
    fn redacts_key_value_connection_strings() {
        for (raw, want) in [
            (
                "host=db port=5432 password=hunter2 dbname=app",
                "host=db port=5432 password=*** dbname=app",
            ),
            ("host=db password = hunter2 user=app", "host=db password = *** user=app"),
            (
                "host=db password='hun ter\\' 2' dbname=app",
                "host=db password=*** dbname=app",
            ),
            ("user=app sslpassword=\"s3 cr3t\"", "user=app sslpassword=***"),
            ("password=hunter2", "password=***"),
            ("PGPASSWORD=hunter2 psql", "PGPASSWORD=*** psql"),
            ("password=", "password="),
            ("unterminated password='hunter2", "unterminated password=***"),
            (
                "line one password='hunter2\nline two",
                "line one password=***\nline two",
            ),
            // Look-alikes that are not secrets.
            (
                "sslmode=require passfile=/p user=app",
                "sslmode=require passfile=/p user=app",
            ),
            ("a == b, x=1", "a == b, x=1"),
        ] {
            assert_eq!(redact_text(raw), want, "redact_text({raw:?})");
        }
    }

    #[test]
    fn secret_keys() {
        for k in [
            "password",
            "sslpassword",
            "PASSWORD",
            "ssl-password",
            "db.password",
            "passwd",
            "pwd",
            "pass",
            "secret",
            "client_secret",
            "token",
            "auth_token",
            "api_key",
            "API-KEY",
            "aws_access_key_id",
            "private_key",
            "passphrase",
        ] {
            assert!(is_secret_key(k), "{k} is a secret");
        }
        for k in [
            "user",
            "host",
            "passfile",
            "sslkey",
            "sslcert",
            "sslrootcert",
            "sslmode",
            "application_name",
            "options",
            "dbname",
        ] {
            assert!(!is_secret_key(k), "{k} is not a secret");
        }
    }

    #[test]
    fn database_urls_print_without_any_secret() {
        let u = DbUrl::parse(
            "postgres://app@127.0.0.1:5432/db?password=hunter2&sslpassword=s3cr3t",
            Path::new("/w"),
            UrlSource::Environment,
        )
        .unwrap();
        assert_eq!(
            u.redacted(),
            "postgres://app@127.0.0.1:5432/db?password=***&sslpassword=***"
        );
        assert!(u.expose().contains("hunter2"), "the real URL is kept for connecting");
        let u = DbUrl::parse("postgres://app:p%2Fw@db/app", Path::new("/w"), UrlSource::Default).unwrap();
        assert_eq!(u.redacted(), "postgres://app:***@db/app");
    }

    #[test]
    fn sqlite_paths_are_relative_to_the_root() {
        let u = DbUrl::parse("sqlite://data/app.db", Path::new("/w"), UrlSource::Default).unwrap();
        assert_eq!(u.sqlite_path.as_deref(), Some(Path::new("/w/data/app.db")));
        let u = DbUrl::parse("sqlite:///abs/x.db?mode=rwc", Path::new("/w"), UrlSource::Default).unwrap();
        assert_eq!(u.expose(), "sqlite:///abs/x.db?mode=rwc");
    }

    #[test]
    fn malformed_urls_are_refused_without_the_password() {
        for bad in [
            "",
            "postgres://u:pw@/x",
            "nope://a/b",
            "postgres://u:pw@host",
            "sqlite://",
            "postgres://u@host?password=pw",
            "postgres://u:p/w@host/db",
            "mysql://u@host?password=pw",
        ] {
            let e = DbUrl::parse(bad, Path::new("/w"), UrlSource::CommandLine).unwrap_err();
            assert!(!e.to_string().contains("pw"), "{e}");
            assert_eq!(e.exit_code(), crate::exit_codes::CONFIG);
        }
    }
}

/// A duration as written in configuration and flags: `500ms`, `5s`, `2m`, `1h`, or a bare
/// number of seconds; `0` means none.
pub fn parse_duration(text: &str) -> std::result::Result<std::time::Duration, String> {
    let t = text.trim();
    let split = t.find(|c: char| !(c.is_ascii_digit() || c == '.')).unwrap_or(t.len());
    let (num, unit) = t.split_at(split);
    let n: f64 = num
        .parse()
        .map_err(|_| format!("`{text}` is not a duration (e.g. 500ms, 5s, 2m)"))?;
    let secs = match unit.trim() {
        "ms" => n / 1000.0,
        "" | "s" | "sec" => n,
        "m" | "min" => n * 60.0,
        "h" => n * 3600.0,
        other => return Err(format!("`{text}`: unknown unit `{other}` (use ms, s, m or h)")),
    };
    std::time::Duration::try_from_secs_f64(secs).map_err(|_| format!("`{text}` is not a duration (e.g. 500ms, 5s, 2m)"))
}

#[cfg(test)]
mod duration_tests {
    #[test]
    fn durations_read_as_written() {
        use super::parse_duration;
        use std::time::Duration;
        assert_eq!(parse_duration("500ms"), Ok(Duration::from_millis(500)));
        assert_eq!(parse_duration("5s"), Ok(Duration::from_secs(5)));
        assert_eq!(parse_duration("5"), Ok(Duration::from_secs(5)));
        assert_eq!(parse_duration("2m"), Ok(Duration::from_secs(120)));
        assert_eq!(parse_duration("0"), Ok(Duration::ZERO));
        assert!(parse_duration("5 parsecs").is_err());
        assert!(parse_duration("soon").is_err());
    }
}
