//! Fleets: many databases (or PostgreSQL schemas) migrated, checked and backed up as one.
//!
//! The fleet is declared under `[workspace.metadata.dbm.fleet]`:
//!
//! ```toml
//! [workspace.metadata.dbm.fleet]
//! schemas = ["tenant_a", "tenant_b"]          # PostgreSQL schemas of the database URL
//! sqlite = ["data/tenants/*.db"]              # globs of SQLite files
//! urls = ["postgres://…/eu", { name = "us", url = "postgres://…/us" }]
//! query = "SELECT schema_name FROM tenants"   # schema names or URLs, one per row
//! query-url = "postgres://…/control"          # where the query runs (default: the database URL)
//! jobs = 8                                    # targets worked on at once
//! [workspace.metadata.dbm.fleet.groups]
//! canary = ["tenant_a"]                       # the group named `canary` goes first
//! ```
//!
//! This module resolves that into [`Target`]s; [`exec`] runs work over them with bounded
//! concurrency. The commands' fleet forms are in [`crate::ops::fleet`].

pub mod exec;

use crate::config::{DbUrl, UrlSource};
use crate::error::{Error, Result};
use serde::Deserialize;
use std::collections::{BTreeMap, HashMap};
use std::path::Path;

/// The group that runs first and must succeed before the rest start.
pub const CANARY: &str = "canary";

/// `[workspace.metadata.dbm.fleet]`.
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct FleetConfig {
    /// PostgreSQL schemas in the workspace's database.
    #[serde(default)]
    pub schemas: Vec<String>,
    /// Globs of SQLite files, relative to the workspace root.
    #[serde(default, deserialize_with = "one_or_many")]
    pub sqlite: Vec<String>,
    /// Database URLs, each a string or `{ name, url }`.
    #[serde(default)]
    pub urls: Vec<UrlEntry>,
    /// A query on the control database whose rows' first column is a schema name or a URL.
    pub query: Option<String>,
    /// The control database (default: the workspace's database URL).
    pub query_url: Option<String>,
    /// Targets worked on at once (default: twice the CPUs, at most 16).
    pub jobs: Option<usize>,
    /// Named groups of target names (globs such as `tenant_0*` allowed).
    #[serde(default)]
    pub groups: BTreeMap<String, Vec<String>>,
}

/// One entry of `urls`.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum UrlEntry {
    Url(String),
    Named { name: String, url: String },
}

fn one_or_many<'de, D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Vec<String>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum OneOrMany {
        One(String),
        Many(Vec<String>),
    }
    Ok(match OneOrMany::deserialize(d)? {
        OneOrMany::One(s) => vec![s],
        OneOrMany::Many(v) => v,
    })
}

/// One database of the fleet.
#[derive(Debug, Clone)]
pub struct Target {
    /// How the target is named in reports, groups and backup folders: the schema, the
    /// SQLite file relative to the workspace, the `name` given, or `host[:port]/database`.
    pub name: String,
    pub url: DbUrl,
    /// Where it was declared: `schemas`, `sqlite`, `urls`, `query`.
    pub from: &'static str,
}

impl Target {
    /// The URL safe to print (with the schema, when there is one).
    pub fn redacted(&self) -> String {
        match &self.url.schema {
            Some(s) => format!("{} (schema {s})", self.url.redacted()),
            None => self.url.redacted(),
        }
    }

    /// A file-name-safe form of the name (backup folders).
    pub fn slug(&self) -> String {
        let s: String = self
            .name
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.') {
                    c
                } else {
                    '_'
                }
            })
            .collect();
        s.trim_matches('.').to_string()
    }
}

/// Which targets a command works on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Selection {
    /// `--all`: every target, the canary group first.
    All,
    /// `--fleet GROUP`: one group's targets.
    Group(String),
}

/// The targets of a selection, in the order they are worked on: the canary wave (when
/// the selection holds canary targets and more) first, then the rest.
#[derive(Debug, Clone)]
pub struct Fleet {
    pub targets: Vec<Target>,
    /// How many of `targets`, from the front, are the canary wave.
    pub canaries: usize,
    pub jobs: usize,
}

impl Fleet {
    /// The canary wave, then the rest.
    pub fn waves(&self) -> [&[Target]; 2] {
        let (c, r) = self.targets.split_at(self.canaries);
        [c, r]
    }
}

/// The default number of targets worked on at once.
pub fn default_jobs() -> usize {
    std::thread::available_parallelism()
        .map(|n| n.get() * 2)
        .unwrap_or(4)
        .clamp(2, 16)
}

/// Resolves the declared fleet and selects from it. Errors (nothing declared, an empty
/// query, a duplicate target, an unknown group) come before anything runs.
pub async fn resolve(
    config: Option<&FleetConfig>,
    root: &Path,
    base: &DbUrl,
    selection: &Selection,
    jobs: Option<usize>,
) -> Result<Fleet> {
    let config = config.ok_or_else(|| {
        Error::Config(
            "no fleet is declared: add [workspace.metadata.dbm.fleet] with `schemas`, `sqlite`, `urls` or `query` (see the README's \"Fleets\")".into(),
        )
    })?;
    let all = targets(config, root, base).await?;
    let jobs = jobs.or(config.jobs).unwrap_or_else(default_jobs);
    if jobs == 0 {
        return Err(Error::Usage("`--jobs` must be at least 1".into()));
    }
    let groups = groups(config, &all)?;
    let in_group = |g: &str, t: &Target| groups.get(g).is_some_and(|names| names.contains(&t.name));
    let selected: Vec<Target> = match selection {
        Selection::All => all,
        Selection::Group(g) => {
            if !groups.contains_key(g.as_str()) {
                let known: Vec<&str> = groups.keys().map(String::as_str).collect();
                return Err(Error::Config(format!(
                    "no fleet group `{g}`; {}",
                    if known.is_empty() {
                        "none is declared (add [workspace.metadata.dbm.fleet.groups])".to_string()
                    } else {
                        format!("declared: {}", known.join(", "))
                    }
                )));
            }
            all.into_iter().filter(|t| in_group(g, t)).collect()
        }
    };
    let (mut canary, rest): (Vec<Target>, Vec<Target>) = selected.into_iter().partition(|t| in_group(CANARY, t));
    let canaries = if rest.is_empty() { 0 } else { canary.len() };
    canary.extend(rest);
    Ok(Fleet {
        targets: canary,
        canaries,
        jobs,
    })
}

/// Every declared target, in declaration order (schemas, SQLite files, URLs, the query's
/// rows), refusing duplicates.
async fn targets(config: &FleetConfig, root: &Path, base: &DbUrl) -> Result<Vec<Target>> {
    let mut out = Vec::new();
    let schema_target = |schema: &str, from: &'static str| -> Result<Target> {
        if !base.engine.has_schemas() {
            return Err(Error::Config(format!(
                "the fleet's schema `{schema}` ({from}) needs a PostgreSQL database URL; the workspace's is {} ({})",
                base.engine.name(),
                base.redacted()
            )));
        }
        let schema = schema.trim();
        if schema.is_empty() {
            return Err(Error::Config(format!("the fleet's {from} name an empty schema")));
        }
        let mut url = base.clone();
        url.schema = Some(schema.to_string());
        Ok(Target {
            name: schema.to_string(),
            url,
            from,
        })
    };
    for s in &config.schemas {
        out.push(schema_target(s, "schemas")?);
    }
    for pattern in &config.sqlite {
        let full = if Path::new(pattern).is_absolute() {
            pattern.clone()
        } else {
            root.join(pattern).to_string_lossy().into_owned()
        };
        let paths = glob::glob(&full)
            .map_err(|e| Error::Config(format!("[workspace.metadata.dbm.fleet] sqlite `{pattern}`: {e}")))?;
        let mut found: Vec<std::path::PathBuf> = paths.filter_map(|p| p.ok()).filter(|p| p.is_file()).collect();
        found.sort();
        if found.is_empty() {
            return Err(Error::Config(format!(
                "the fleet's SQLite glob `{pattern}` matches no file under {}",
                root.display()
            )));
        }
        for path in found {
            let name = path.strip_prefix(root).unwrap_or(&path).to_string_lossy().into_owned();
            let url = DbUrl::parse(&format!("sqlite://{}", path.display()), root, UrlSource::Metadata)?;
            out.push(Target {
                name,
                url,
                from: "sqlite",
            });
        }
    }
    for entry in &config.urls {
        let (name, raw) = match entry {
            UrlEntry::Url(u) => (None, u),
            UrlEntry::Named { name, url } => (Some(name.clone()), url),
        };
        out.push(url_target(name, raw, root, "urls")?);
    }
    if let Some(query) = &config.query {
        let control = match &config.query_url {
            Some(u) => DbUrl::parse(u, root, UrlSource::Metadata)?,
            None => base.clone(),
        };
        let rows = query_rows(&control, query).await?;
        if rows.is_empty() {
            return Err(Error::Config(format!(
                "the fleet query returned no targets (on {}): `{}`",
                control.redacted(),
                query.trim()
            )));
        }
        for value in rows {
            if value.contains("://") || value.starts_with("sqlite:") {
                out.push(url_target(None, &value, root, "query")?);
            } else {
                out.push(schema_target(&value, "query")?);
            }
        }
    }
    if out.is_empty() {
        return Err(Error::Config(
            "[workspace.metadata.dbm.fleet] declares no targets: give `schemas`, `sqlite`, `urls` or `query`".into(),
        ));
    }
    refuse_duplicates(&out)?;
    Ok(out)
}

fn url_target(name: Option<String>, raw: &str, root: &Path, from: &'static str) -> Result<Target> {
    let url = DbUrl::parse(raw, root, UrlSource::Metadata)?;
    // Unnamed: the file relative to the workspace, or `host[:port]/database` (no scheme,
    // user or secret).
    let name = name.unwrap_or_else(|| match &url.sqlite_path {
        Some(p) => p.strip_prefix(root).unwrap_or(p).to_string_lossy().into_owned(),
        None => match url::Url::parse(url.expose()) {
            Ok(u) => format!(
                "{}{}/{}",
                u.host_str().unwrap_or_default(),
                u.port().map(|p| format!(":{p}")).unwrap_or_default(),
                url.database_name()
            ),
            Err(_) => url.redacted(),
        },
    });
    Ok(Target { name, url, from })
}

/// Two entries for one database (and schema), or two targets with one name.
fn refuse_duplicates(targets: &[Target]) -> Result<()> {
    let mut by_db: HashMap<(String, Option<String>), &Target> = HashMap::new();
    let mut by_name: HashMap<&str, &Target> = HashMap::new();
    for t in targets {
        let key = (t.url.expose().to_string(), t.url.schema.clone());
        if let Some(first) = by_db.insert(key, t) {
            return Err(Error::Config(format!(
                "the fleet lists one target twice: {} ({} and {}); remove one",
                t.redacted(),
                first.from,
                t.from
            )));
        }
        if let Some(first) = by_name.insert(&t.name, t) {
            return Err(Error::Config(format!(
                "two fleet targets are named `{}`: {} and {}; give one a `name`",
                t.name,
                first.redacted(),
                t.redacted()
            )));
        }
    }
    Ok(())
}

/// Each target's groups, by target name (`cargo dbm fleet`).
pub fn group_names(config: Option<&FleetConfig>, targets: &[Target]) -> HashMap<String, Vec<String>> {
    let mut out: HashMap<String, Vec<String>> = HashMap::new();
    let Some(config) = config else {
        return out;
    };
    for (group, entries) in &config.groups {
        for t in targets {
            let member = entries
                .iter()
                .any(|e| *e == t.name || glob::Pattern::new(e).is_ok_and(|p| p.matches(&t.name)));
            if member {
                out.entry(t.name.clone()).or_default().push(group.clone());
            }
        }
    }
    out
}

/// The groups' members as target names, every entry matching at least one target.
fn groups(config: &FleetConfig, all: &[Target]) -> Result<HashMap<String, Vec<String>>> {
    let mut out = HashMap::new();
    for (group, entries) in &config.groups {
        let mut names = Vec::new();
        for entry in entries {
            let pattern = glob::Pattern::new(entry)
                .map_err(|e| Error::Config(format!("fleet group `{group}`: `{entry}` is not a valid pattern: {e}")))?;
            let matched: Vec<String> = all
                .iter()
                .filter(|t| t.name == *entry || pattern.matches(&t.name))
                .map(|t| t.name.clone())
                .collect();
            if matched.is_empty() {
                return Err(Error::Config(format!(
                    "fleet group `{group}`: `{entry}` matches no target (`cargo dbm fleet` lists them)"
                )));
            }
            names.extend(matched);
        }
        out.insert(group.clone(), names);
    }
    Ok(out)
}

/// The first column of every row of `query` on `url`, as text.
async fn query_rows(url: &DbUrl, query: &str) -> Result<Vec<String>> {
    use sea_orm::{ConnectionTrait, Statement};
    let db = crate::db::Db::open(url, crate::db::Create::No).await?.ok_or_else(|| {
        Error::Config(format!(
            "the fleet's control database {} does not exist",
            url.redacted()
        ))
    })?;
    let rows = db
        .conn
        .query_all_raw(Statement::from_string(db.backend(), query.to_string()))
        .await
        .map_err(|e| Error::db("running the fleet query", e));
    db.close().await;
    let mut out = Vec::new();
    for row in rows? {
        let value: String = row.try_get_by_index::<String>(0).map_err(|e| {
            Error::Config(format!(
                "the fleet query's first column must be text (a schema name or a URL): {e}"
            ))
        })?;
        let value = value.trim().to_string();
        if !value.is_empty() {
            out.push(value);
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn base() -> DbUrl {
        DbUrl::parse("postgres://u:secret@localhost/app", Path::new("/"), UrlSource::Default).unwrap()
    }

    fn config(json: &str) -> FleetConfig {
        serde_json::from_str(json).unwrap()
    }

    #[tokio::test]
    async fn schemas_groups_and_canary_first() {
        let c = config(r#"{"schemas": ["a", "b", "c", "d"], "groups": {"canary": ["c"], "eu": ["a", "c*"]}}"#);
        let all = resolve(Some(&c), Path::new("/"), &base(), &Selection::All, None)
            .await
            .unwrap();
        let names: Vec<&str> = all.targets.iter().map(|t| t.name.as_str()).collect();
        assert_eq!(names, ["c", "a", "b", "d"]);
        assert_eq!(all.canaries, 1);
        assert_eq!(all.targets[1].url.schema.as_deref(), Some("a"));
        assert!(!all.targets[1].redacted().contains("secret"));
        let eu = resolve(
            Some(&c),
            Path::new("/"),
            &base(),
            &Selection::Group("eu".into()),
            Some(3),
        )
        .await
        .unwrap();
        let names: Vec<&str> = eu.targets.iter().map(|t| t.name.as_str()).collect();
        assert_eq!(names, ["c", "a"]);
        assert_eq!(eu.jobs, 3);
        let canary = resolve(
            Some(&c),
            Path::new("/"),
            &base(),
            &Selection::Group("canary".into()),
            None,
        )
        .await
        .unwrap();
        assert_eq!(canary.canaries, 0, "a wave of canaries alone is just the fleet");
    }

    #[tokio::test]
    async fn bad_input_is_refused_before_anything_runs() {
        let err = |c: &str, sel: Selection| {
            let c = config(c);
            async move {
                resolve(Some(&c), Path::new("/"), &base(), &sel, None)
                    .await
                    .unwrap_err()
                    .to_string()
            }
        };
        let e = err(r#"{"schemas": ["a", "a"]}"#, Selection::All).await;
        assert!(e.contains("lists one target twice") && !e.contains("secret"), "{e}");
        let e = err(r#"{"schemas": ["a"]}"#, Selection::Group("eu".into())).await;
        assert!(e.contains("no fleet group `eu`"), "{e}");
        let e = err(r#"{"schemas": ["a"], "groups": {"canary": ["z*"]}}"#, Selection::All).await;
        assert!(e.contains("`z*` matches no target"), "{e}");
        let e = err(
            r#"{"urls": ["sqlite://x.db", {"name": "x.db", "url": "sqlite://y.db"}]}"#,
            Selection::All,
        )
        .await;
        assert!(e.contains("two fleet targets are named `x.db`"), "{e}");
        let e = resolve(None, Path::new("/"), &base(), &Selection::All, None)
            .await
            .unwrap_err()
            .to_string();
        assert!(e.contains("no fleet is declared"), "{e}");
        let sqlite = DbUrl::parse("sqlite://app.db", Path::new("/"), UrlSource::Default).unwrap();
        let c = config(r#"{"schemas": ["a"]}"#);
        let e = resolve(Some(&c), Path::new("/"), &sqlite, &Selection::All, None)
            .await
            .unwrap_err()
            .to_string();
        assert!(e.contains("needs a PostgreSQL database URL"), "{e}");
    }

    #[tokio::test]
    async fn sqlite_glob_names_files_relative_to_the_workspace() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("data/t")).unwrap();
        for f in ["b.db", "a.db", "notes.txt"] {
            std::fs::write(dir.path().join("data/t").join(f), b"").unwrap();
        }
        let c = config(r#"{"sqlite": "data/t/*.db"}"#);
        let f = resolve(Some(&c), dir.path(), &base(), &Selection::All, None)
            .await
            .unwrap();
        let names: Vec<&str> = f.targets.iter().map(|t| t.name.as_str()).collect();
        assert_eq!(names, ["data/t/a.db", "data/t/b.db"]);
        assert_eq!(f.targets[0].slug(), "data_t_a.db");
        let c = config(r#"{"sqlite": "data/none/*.db"}"#);
        let e = resolve(Some(&c), dir.path(), &base(), &Selection::All, None)
            .await
            .unwrap_err()
            .to_string();
        assert!(e.contains("matches no file"), "{e}");
    }
}
