//! What to do: the migrations of the Migrator's source against the rows of the tracking
//! table. No compilation is needed to know what is applied and what is pending.

use crate::db::{Db, tracking};
use crate::error::{Error, Result};
use crate::migrator_source::{MigrationFile, MigratorSource};
use crate::revision::{self, Target};
use crate::runner::{Direction, Step};
use std::collections::HashMap;

/// One migration of the list with its state.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Entry {
    #[serde(flatten)]
    pub file: MigrationFile,
    /// Unix seconds, when applied.
    pub applied_at: Option<i64>,
    /// The source changed since it was applied (known when cargo-dbm applied it).
    pub modified: bool,
}

/// The database's migration state.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Status {
    pub entries: Vec<Entry>,
    /// Applied versions with no migration in the crate.
    pub missing: Vec<tracking::Applied>,
    /// Whether the tracking table exists.
    pub tracked: bool,
    /// The tracking table's name.
    pub table: String,
    /// Migrations that started outside a transaction and never finished (MySQL commits
    /// DDL as it goes): neither applied nor pending, until repaired and stamped.
    pub partial: Vec<tracking::Partial>,
}

impl Status {
    /// Reads the tracking table (when there is a database) and matches it with the source.
    pub async fn load(db: Option<&Db>, src: &MigratorSource, table: &str) -> Result<Status> {
        let (rows, history) = match db {
            Some(db) => (tracking::applied(db, table).await?, tracking::history(db).await?),
            None => (None, None),
        };
        let tracked = rows.is_some();
        let mut applied: HashMap<String, i64> = rows
            .unwrap_or_default()
            .into_iter()
            .map(|a| (a.version, a.applied_at))
            .collect();
        // Last checksum recorded for each applied version.
        let history = history.unwrap_or_default();
        let partial = tracking::partial(&history);
        let mut sums: HashMap<String, String> = HashMap::new();
        for h in history {
            if h.direction.is_marker() {
                continue;
            }
            if matches!(h.direction, tracking::Recorded::Up | tracking::Recorded::Stamp) {
                if let Some(c) = h.checksum {
                    sums.insert(h.version, c);
                }
            } else {
                sums.remove(&h.version);
            }
        }
        let entries: Vec<Entry> = src
            .migrations
            .iter()
            .map(|f| {
                let applied_at = applied.remove(&f.name);
                let modified =
                    applied_at.is_some() && sums.get(&f.name).is_some_and(|s| f.checksum().is_some_and(|c| &c != s));
                Entry {
                    file: f.clone(),
                    applied_at,
                    modified,
                }
            })
            .collect();
        let mut missing: Vec<tracking::Applied> = applied
            .into_iter()
            .map(|(version, applied_at)| tracking::Applied { version, applied_at })
            .collect();
        missing.sort_by(|a, b| a.version.cmp(&b.version));
        Ok(Status {
            entries,
            missing,
            tracked,
            table: table.to_string(),
            partial,
        })
    }

    pub fn pending(&self) -> impl Iterator<Item = &Entry> {
        self.entries.iter().filter(|e| e.applied_at.is_none())
    }

    pub fn applied(&self) -> impl Iterator<Item = &Entry> {
        self.entries.iter().filter(|e| e.applied_at.is_some())
    }

    /// The most recently applied migration in list order.
    pub fn current(&self) -> Option<&Entry> {
        self.applied().last()
    }

    /// The last migration of the list.
    pub fn head(&self) -> Option<&Entry> {
        self.entries.last()
    }

    pub fn names(&self) -> Vec<&str> {
        self.entries.iter().map(|e| e.file.name.as_str()).collect()
    }

    /// Versions listed more than once in the Migrator.
    pub fn duplicates(&self) -> Vec<String> {
        let mut seen = std::collections::HashSet::new();
        let mut dups: Vec<String> = self
            .entries
            .iter()
            .filter(|e| !seen.insert(e.file.name.as_str()))
            .map(|e| e.file.name.clone())
            .collect();
        dups.dedup();
        dups
    }

    /// Refuses to go on when applied migrations have no file (as sea-orm-migration does),
    /// or when two migrations share a version.
    pub fn ensure_complete(&self) -> Result<()> {
        if !self.missing.is_empty() {
            return Err(Error::MissingMigrations {
                versions: self.missing.iter().map(|m| m.version.clone()).collect(),
            });
        }
        let dups = self.duplicates();
        if !dups.is_empty() {
            return Err(Error::DuplicateVersions { versions: dups });
        }
        Ok(())
    }

    /// The steps of `up [TARGET]`: pending migrations up to the target, in list order.
    pub fn up_steps(&self, target: Option<&str>) -> Result<Vec<Step>> {
        let applied = self.applied().count();
        let last = match target {
            None => self.entries.len(),
            Some(t) => match revision::resolve(t, &self.names(), applied)? {
                Target::Head => self.entries.len(),
                Target::Base => 0,
                Target::At(i) => i + 1,
            },
        };
        Ok(self.entries[..last]
            .iter()
            .filter(|e| e.applied_at.is_none())
            .map(|e| Step {
                direction: Direction::Up,
                version: e.file.name.clone(),
                checksum: e.file.checksum(),
                foreign_keys_off: e.file.foreign_keys_off(),
            })
            .collect())
    }

    /// The steps of `down [N | TARGET | base]`: applied migrations after the target, newest first.
    pub fn down_steps(&self, target: Option<&str>) -> Result<Vec<Step>> {
        let applied: Vec<&Entry> = self.applied().collect();
        let keep = match target {
            None => applied.len().saturating_sub(1),
            Some(t) if !t.is_empty() && t.chars().all(|c| c.is_ascii_digit()) => {
                let n: usize = t.parse().map_err(|_| Error::UnknownRevision {
                    rev: t.into(),
                    hint: "too large".into(),
                })?;
                if n > applied.len() {
                    return Err(Error::UnknownRevision {
                        rev: t.into(),
                        hint: format!(
                            "only {} migration(s) are applied; `cargo dbm down base` reverts them all",
                            applied.len()
                        ),
                    });
                }
                applied.len() - n
            }
            Some(t) => match revision::resolve(t, &self.names(), applied.len())? {
                Target::Head => applied.len(),
                Target::Base => 0,
                Target::At(i) => {
                    let name = &self.entries[i].file.name;
                    match applied.iter().position(|e| &e.file.name == name) {
                        Some(p) => p + 1,
                        None => {
                            return Err(Error::UnknownRevision {
                                rev: t.into(),
                                hint: format!(
                                    "`{name}` is not applied; `cargo dbm down` moves back to an applied migration"
                                ),
                            });
                        }
                    }
                }
            },
        };
        Ok(applied[keep..]
            .iter()
            .rev()
            .map(|e| Step {
                direction: Direction::Down,
                version: e.file.name.clone(),
                checksum: e.file.checksum(),
                foreign_keys_off: e.file.foreign_keys_off(),
            })
            .collect())
    }
}
