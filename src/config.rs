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
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Engine {
    Sqlite,
    Postgres,
}

impl Engine {
    pub fn name(self) -> &'static str {
        match self {
            Engine::Sqlite => "sqlite",
            Engine::Postgres => "postgres",
        }
    }
}

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
            "mysql" | "mariadb" => Err(bad("MySQL/MariaDB is not supported yet; use SQLite or PostgreSQL")),
            other => Err(bad(&format!(
                "unsupported scheme `{other}`; use `sqlite://` or `postgres://`"
            ))),
        }
    }

    /// The URL with its password (the secret) replaced by `***`: safe to print.
    pub fn redacted(&self) -> String {
        redact(&self.url)
    }

    /// The real URL, for connecting. Never print it.
    pub fn expose(&self) -> &str {
        &self.url
    }

    /// The database name: file name for SQLite, database for PostgreSQL.
    pub fn database_name(&self) -> String {
        match self.engine {
            Engine::Sqlite => self
                .sqlite_path
                .as_ref()
                .and_then(|p| p.file_name())
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_else(|| ":memory:".into()),
            Engine::Postgres => url::Url::parse(&self.url)
                .map(|u| u.path().trim_start_matches('/').to_string())
                .unwrap_or_default(),
        }
    }
}

/// Replaces any password in a URL with `***`. Works on strings that are not valid URLs too.
pub fn redact(raw: &str) -> String {
    if let Ok(mut u) = url::Url::parse(raw) {
        if u.password().is_some() {
            let _ = u.set_password(Some("***"));
            return u.to_string();
        }
        return raw.to_string();
    }
    redact_text(raw)
}

/// Redacts `scheme://user:password@` patterns anywhere in a text (error messages).
pub fn redact_text(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(i) = rest.find("://") {
        let (head, tail) = rest.split_at(i + 3);
        out.push_str(head);
        // userinfo ends at '@' before any '/', whitespace or quote.
        let end = tail
            .find(|c: char| c == '/' || c.is_whitespace() || c == '"' || c == '\'' || c == '`')
            .unwrap_or(tail.len());
        let authority = &tail[..end];
        match authority.rfind('@') {
            Some(at) => {
                let userinfo = &authority[..at];
                match userinfo.find(':') {
                    Some(colon) => {
                        out.push_str(&userinfo[..colon]);
                        out.push_str(":***");
                    }
                    None => out.push_str(userinfo),
                }
                out.push_str(&authority[at..]);
            }
            None => out.push_str(authority),
        }
        rest = &tail[end..];
    }
    out.push_str(rest);
    out
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
        ] {
            let e = DbUrl::parse(bad, Path::new("/w"), UrlSource::CommandLine).unwrap_err();
            assert!(!e.to_string().contains(":pw@"), "{e}");
            assert_eq!(e.exit_code(), crate::exit_codes::CONFIG);
        }
    }
}
