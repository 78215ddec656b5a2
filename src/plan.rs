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
    /// When this database applied it, for ordering: Unix milliseconds and the
    /// `dbm_history` row id (0 when only `seaql_migrations` knows, to the second).
    #[serde(skip)]
    pub applied_key: Option<(i64, i64)>,
}

impl Entry {
    /// The step that runs this migration in `direction`.
    pub fn step(&self, direction: Direction, out_of_order: bool) -> Step {
        Step {
            direction,
            version: self.file.name.clone(),
            checksum: self.file.checksum(),
            foreign_keys_off: self.file.foreign_keys_off(),
            out_of_order,
        }
    }
}

/// A pending migration whose version sorts before an applied one: written on a branch
/// that did not have the applied migrations' changes.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct OutOfOrder {
    pub version: String,
    /// The applied migrations with later versions, in version order.
    pub precedes: Vec<String>,
}

/// Two neighbours of the Migrator's list whose versions are in the other order.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Unordered {
    /// Listed first, with the later version.
    pub listed_first: String,
    /// Listed next, with the earlier version.
    pub listed_next: String,
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
            Some(db) => {
                // One listing of the tables for both (a round trip each on a server).
                let tables = tracking::tracking_tables(db, table).await?;
                (
                    tracking::applied_in(db, table, &tables).await?,
                    tracking::history_in(db, &tables).await?,
                )
            }
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
        // When each version was last recorded as applied.
        let mut recorded_at: HashMap<String, (i64, i64)> = HashMap::new();
        for h in history {
            if h.direction.is_marker() {
                continue;
            }
            if matches!(h.direction, tracking::Recorded::Up | tracking::Recorded::Stamp) {
                recorded_at.insert(h.version.clone(), (h.applied_at_ms, h.id));
                if let Some(c) = h.checksum {
                    sums.insert(h.version, c);
                }
            } else {
                recorded_at.remove(&h.version);
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
                let applied_key = applied_at.map(|secs| applied_key(secs, recorded_at.get(&f.name).copied()));
                Entry {
                    file: f.clone(),
                    applied_at,
                    modified,
                    applied_key,
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

    /// What `cargo dbm status` exits with for this state: partially applied (19), an
    /// applied migration missing from the crate (7), pending (3), else 0.
    pub fn exit_code(&self) -> i32 {
        use crate::exit_codes;
        if !self.partial.is_empty() {
            exit_codes::PARTIAL
        } else if !self.missing.is_empty() {
            exit_codes::HISTORY
        } else if self.pending().next().is_some() {
            exit_codes::PENDING
        } else {
            exit_codes::OK
        }
    }

    /// Applied migrations whose source changed since.
    pub fn modified(&self) -> impl Iterator<Item = &Entry> {
        self.entries.iter().filter(|e| e.modified)
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

    /// The applied migrations in the order this database applied them, oldest first (from
    /// `dbm_history`, else `seaql_migrations.applied_at`; ties in list order).
    pub fn applied_in_order(&self) -> Vec<&Entry> {
        let mut applied: Vec<(usize, &Entry)> = self
            .entries
            .iter()
            .enumerate()
            .filter(|(_, e)| e.applied_at.is_some())
            .collect();
        applied.sort_by_key(|(i, e)| (e.applied_key, *i));
        applied.into_iter().map(|(_, e)| e).collect()
    }

    /// Pending migrations whose version sorts before an applied one's.
    pub fn out_of_order(&self) -> Vec<OutOfOrder> {
        let partial: Vec<&str> = self.partial.iter().map(|p| p.version.as_str()).collect();
        let mut applied: Vec<&str> = self.applied().map(|e| e.file.name.as_str()).collect();
        applied.sort_unstable();
        let mut out: Vec<OutOfOrder> = self
            .pending()
            .filter(|e| !partial.contains(&e.file.name.as_str()))
            .filter_map(|e| {
                let name = e.file.name.as_str();
                let later = applied.partition_point(|a| *a <= name);
                (later < applied.len()).then(|| OutOfOrder {
                    version: name.to_string(),
                    precedes: applied[later..].iter().map(|a| a.to_string()).collect(),
                })
            })
            .collect();
        out.sort_by(|a, b| a.version.cmp(&b.version));
        out
    }

    /// Neighbours of the Migrator's list that are not in version order.
    pub fn unordered(&self) -> Vec<Unordered> {
        self.entries
            .windows(2)
            .filter(|w| w[0].file.name > w[1].file.name)
            .map(|w| Unordered {
                listed_first: w[0].file.name.clone(),
                listed_next: w[1].file.name.clone(),
            })
            .collect()
    }

    /// Migrations whose explicit `MigrationName` differs from their module (file) name.
    pub fn misnamed(&self) -> Vec<&Entry> {
        self.entries.iter().filter(|e| e.file.name != e.file.module).collect()
    }

    /// Groups of different migrations that share one version timestamp (`mYYYYMMDD_HHMMSS`).
    pub fn same_version(&self) -> Vec<Vec<String>> {
        let mut by: std::collections::BTreeMap<chrono::NaiveDateTime, Vec<String>> = std::collections::BTreeMap::new();
        for e in &self.entries {
            if let Some(t) = crate::naming::timestamp_of(&e.file.name) {
                let names = by.entry(t).or_default();
                if !names.contains(&e.file.name) {
                    names.push(e.file.name.clone());
                }
            }
        }
        by.into_values().filter(|v| v.len() > 1).collect()
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

    /// The steps of `up [TARGET]`: pending migrations up to the target, in list order. A
    /// step whose version sorts before an applied one is marked `out_of_order`.
    pub fn up_steps(&self, target: Option<&str>) -> Result<Vec<Step>> {
        let last = match target {
            None => self.entries.len(),
            Some(t) => self.upto(t)?,
        };
        let late: Vec<String> = self.out_of_order().into_iter().map(|o| o.version).collect();
        Ok(self.entries[..last]
            .iter()
            .filter(|e| e.applied_at.is_none())
            .map(|e| e.step(Direction::Up, late.contains(&e.file.name)))
            .collect())
    }

    /// How many migrations of the list, from the first, a revision covers: `base` none,
    /// `head` all, a migration itself and those before it.
    pub fn upto(&self, rev: &str) -> Result<usize> {
        Ok(match revision::resolve(rev, &self.names(), self.applied().count())? {
            Target::Head => self.entries.len(),
            Target::Base => 0,
            Target::At(i) => i + 1,
        })
    }

    /// The steps of `down [N | TARGET | base]`: the migrations this database applied after
    /// the target, newest first in the order it applied them (which is the list order
    /// unless migrations were applied out of order). `TARGET` stays applied, with whatever
    /// it applied before it.
    pub fn down_steps(&self, target: Option<&str>) -> Result<Vec<Step>> {
        let applied = self.applied_in_order();
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
            .map(|e| e.step(Direction::Down, false))
            .collect())
    }

    /// Whether the applied order differs from the list order (so `down` follows the former).
    pub fn applied_order_differs(&self) -> bool {
        let by_time: Vec<&str> = self.applied_in_order().iter().map(|e| e.file.name.as_str()).collect();
        !by_time.iter().copied().eq(self.applied().map(|e| e.file.name.as_str()))
    }
}

/// The sort key of an applied migration: the time `dbm_history` recorded it (with its row id),
/// unless `seaql_migrations` shows it applied again later by another tool (to the second).
fn applied_key(applied_secs: i64, recorded: Option<(i64, i64)>) -> (i64, i64) {
    match recorded {
        Some((ms, id)) if applied_secs <= ms / 1000 + 1 => (ms, id),
        _ => (applied_secs * 1000, 0),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A status: `(name, applied_at seconds, dbm_history (ms, id))` in list order.
    type Row<'a> = (&'a str, Option<i64>, Option<(i64, i64)>);

    fn status(list: &[Row]) -> Status {
        Status {
            entries: list
                .iter()
                .map(|(name, at, recorded)| Entry {
                    file: MigrationFile::named(name, name),
                    applied_at: *at,
                    modified: false,
                    applied_key: at.map(|secs| applied_key(secs, *recorded)),
                })
                .collect(),
            missing: Vec::new(),
            tracked: true,
            table: "seaql_migrations".into(),
            partial: Vec::new(),
        }
    }

    fn versions(steps: &[Step]) -> Vec<&str> {
        steps.iter().map(|s| s.version.as_str()).collect()
    }

    #[test]
    fn a_pending_migration_older_than_an_applied_one_is_out_of_order() {
        // The list after a merge: a (applied), b (this branch, pending), c (applied).
        let st = status(&[
            ("m20240101_000000_a", Some(10), None),
            ("m20240102_000000_b", None, None),
            ("m20240103_000000_c", Some(20), None),
            ("m20240104_000000_d", None, None),
        ]);
        assert_eq!(
            st.out_of_order(),
            [OutOfOrder {
                version: "m20240102_000000_b".into(),
                precedes: vec!["m20240103_000000_c".into()],
            }]
        );
        let up = st.up_steps(None).unwrap();
        assert_eq!(versions(&up), ["m20240102_000000_b", "m20240104_000000_d"]);
        assert_eq!(up.iter().map(|s| s.out_of_order).collect::<Vec<_>>(), [true, false]);
        // `up d` plans b too: list order.
        assert!(st.up_steps(Some("a")).unwrap().is_empty());
        assert!(st.unordered().is_empty());
    }

    #[test]
    fn a_list_out_of_version_order_and_shared_timestamps_are_seen() {
        let st = status(&[
            ("m20240101_000000_a", None, None),
            ("m20240103_000000_c", None, None),
            ("m20240102_000000_b", None, None),
            ("m20240102_000000_z", None, None),
        ]);
        assert_eq!(
            st.unordered(),
            [Unordered {
                listed_first: "m20240103_000000_c".into(),
                listed_next: "m20240102_000000_b".into(),
            }]
        );
        assert_eq!(
            st.same_version(),
            [vec!["m20240102_000000_b".to_string(), "m20240102_000000_z".to_string()]]
        );
        assert!(st.out_of_order().is_empty(), "nothing is applied");
    }

    #[test]
    fn down_reverts_in_the_order_the_database_applied() {
        // a, then c (on its branch), then b out of order: history ids 1, 2, 3.
        let st = status(&[
            ("m1_a", Some(100), Some((100_000, 1))),
            ("m2_b", Some(300), Some((300_000, 3))),
            ("m3_c", Some(200), Some((200_000, 2))),
        ]);
        assert!(st.applied_order_differs());
        assert_eq!(versions(&st.down_steps(None).unwrap()), ["m2_b"]);
        assert_eq!(versions(&st.down_steps(Some("2")).unwrap()), ["m2_b", "m3_c"]);
        assert_eq!(
            versions(&st.down_steps(Some("base")).unwrap()),
            ["m2_b", "m3_c", "m1_a"]
        );
        // Down to c: what the database applied after c goes, c stays.
        assert_eq!(versions(&st.down_steps(Some("m3_c")).unwrap()), ["m2_b"]);
        // Down to a: everything applied after a, newest first.
        assert_eq!(versions(&st.down_steps(Some("m1_a")).unwrap()), ["m2_b", "m3_c"]);
    }

    #[test]
    fn without_history_the_seconds_of_seaql_migrations_order_and_ties_keep_the_list() {
        let st = status(&[
            ("m1_a", Some(100), None),
            ("m2_b", Some(100), None),
            ("m3_c", Some(50), None),
        ]);
        assert_eq!(
            versions(&st.down_steps(Some("base")).unwrap()),
            ["m2_b", "m1_a", "m3_c"]
        );
        // Applied again by another tool after cargo-dbm recorded it: the later time counts.
        let st = status(&[
            ("m1_a", Some(500), Some((100_000, 1))),
            ("m2_b", Some(200), Some((200_000, 2))),
        ]);
        assert_eq!(versions(&st.down_steps(None).unwrap()), ["m1_a"]);
        let in_order = status(&[("m1_a", Some(1), Some((1_000, 1))), ("m2_b", Some(2), Some((2_000, 2)))]);
        assert!(!in_order.applied_order_differs());
    }
}
