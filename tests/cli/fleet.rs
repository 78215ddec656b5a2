//! Fleets (`--all`, `--fleet GROUP`): SQLite files and PostgreSQL schemas migrated,
//! checked, stamped, reverted and backed up as one, with rows in the tables.

use crate::dual;
use crate::support::{Env, query};

/// A fleet of `n` targets on the engine of `env`: SQLite files `data/tenants/tN.db`, or
/// PostgreSQL schemas `tN` in the test database.
struct Fleet {
    env: Env,
    n: usize,
}

impl Fleet {
    fn new(env: Env, n: usize, extra: &str) -> Fleet {
        let targets = if env.is_postgres() {
            let schemas: Vec<String> = (1..=n).map(|i| format!("\"t{i}\"")).collect();
            env.exec(&(1..=n).map(|i| format!("CREATE SCHEMA t{i};")).collect::<String>());
            format!("schemas = [{}]", schemas.join(", "))
        } else {
            for i in 1..=n {
                env.fx.write(&format!("data/tenants/t{i}.db"), "");
            }
            "sqlite = \"data/tenants/*.db\"".to_string()
        };
        let toml = env.fx.read("Cargo.toml");
        env.fx.write(
            "Cargo.toml",
            &format!("{toml}\n[workspace.metadata.dbm.fleet]\n{targets}\n{extra}\n"),
        );
        Fleet { env, n }
    }

    /// The target's name in reports.
    fn name(&self, i: usize) -> String {
        if self.env.is_postgres() {
            format!("t{i}")
        } else {
            format!("data/tenants/t{i}.db")
        }
    }

    /// Runs `sql` on target `i`; `{s}` in it is the table prefix (`tN.` on PostgreSQL).
    fn query(&self, i: usize, sql: &str) -> Vec<Vec<String>> {
        if self.env.is_postgres() {
            query(&self.env.url, &sql.replace("{s}", &format!("t{i}.")))
        } else {
            let path = self.env.fx.path(&format!("data/tenants/t{i}.db"));
            query(&format!("sqlite://{}", path.display()), &sql.replace("{s}", ""))
        }
    }

    fn exec(&self, i: usize, sql: &str) {
        self.query(i, sql);
    }

    fn tracked(&self, i: usize) -> Vec<String> {
        self.query(i, "SELECT version FROM {s}seaql_migrations ORDER BY version")
            .into_iter()
            .map(|r| r[0].clone())
            .collect()
    }

    /// `result` of each target in a JSON report, by target index (1-based).
    fn results(&self, report: &serde_json::Value) -> Vec<String> {
        (1..=self.n)
            .map(|i| {
                let name = self.name(i);
                report["targets"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .find(|t| t["target"] == name.as_str())
                    .unwrap_or_else(|| panic!("{name} not in {report}"))["result"]
                    .as_str()
                    .unwrap()
                    .to_string()
            })
            .collect()
    }
}

const ACCOUNT_UP: &str = "CREATE TABLE account (id INTEGER PRIMARY KEY, name TEXT NOT NULL)";
const ACCOUNT_DOWN: &str = "DROP TABLE account";
const UNIQUE_UP: &str = "CREATE UNIQUE INDEX account_name ON account (name)";
const UNIQUE_DOWN: &str = "DROP INDEX account_name";

dual!(a_failing_target_is_reported_and_a_rerun_touches_only_it, |env| {
    let f = Fleet::new(env, 4, "");
    let a = f.env.fx.migration("create accounts", ACCOUNT_UP, ACCOUNT_DOWN);
    let out = f.env.dbm(&["status", "--all", "--format", "json"]);
    out.expect_code(3);
    assert_eq!(out.json()["summary"]["pending"], 4);

    let out = f.env.dbm(&["up", "--all", "--format", "json"]);
    out.ok();
    assert_eq!(f.results(&out.json()), ["applied"; 4]);
    for i in 1..=4 {
        assert_eq!(f.tracked(i), [a.clone()]);
        f.exec(i, "INSERT INTO {s}account (id, name) VALUES (1, 'ann'), (2, 'bob')");
    }
    f.env.dbm(&["status", "--all"]).ok().contains("4 up to date");
    // Target 3's data breaks the next migration.
    f.exec(3, "INSERT INTO {s}account (id, name) VALUES (3, 'ann')");
    let b = f.env.fx.migration("unique names", UNIQUE_UP, UNIQUE_DOWN);

    // By default no target starts after a failure.
    let out = f.env.dbm(&["up", "--all", "--jobs", "1", "--format", "json"]);
    out.expect_code(23);
    let report = out.json();
    assert_eq!(f.results(&report), ["applied", "applied", "failed", "not-started"]);
    let t3 = report["targets"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["result"] == "failed")
        .unwrap();
    assert_eq!(t3["exit_code"], 9, "{t3}");
    assert!(t3["error"].as_str().unwrap().contains(&b), "{t3}");
    assert_eq!(report["summary"]["failed"], 1);
    assert_eq!(f.tracked(4), [a.clone()]);

    // --keep-going carries on; the table names the failed target and its cause.
    let out = f.env.dbm(&["up", "--all", "--keep-going"]);
    out.expect_code(23);
    let failed_row = out
        .stderr
        .lines()
        .find(|l| l.contains("failed "))
        .unwrap_or_default()
        .to_string();
    assert!(
        failed_row.contains(&f.name(3)) && failed_row.contains(&b),
        "{}",
        out.stderr
    );
    out.contains("1 migrated, 2 unchanged, 1 failed, 0 not started");
    assert_eq!(f.tracked(4), [a.clone(), b.clone()]);
    // The failed migration was rolled back: no index, every row still there.
    assert_eq!(f.tracked(3), [a.clone()]);
    assert_eq!(f.query(3, "SELECT COUNT(*) FROM {s}account"), [["3"]]);

    // After the fix, a rerun works on target 3 only.
    f.exec(3, "DELETE FROM {s}account WHERE id = 3");
    let out = f.env.dbm(&["up", "--all", "--format", "json"]);
    out.ok();
    assert_eq!(
        f.results(&out.json()),
        ["up-to-date", "up-to-date", "applied", "up-to-date"]
    );
    for i in 1..=4 {
        assert_eq!(f.tracked(i), [a.clone(), b.clone()]);
        assert_eq!(f.query(i, "SELECT COUNT(*) FROM {s}account"), [["2"]]);
    }
    let out = f.env.dbm(&["check", "--all", "--format", "json"]);
    out.ok();
    assert_eq!(out.json()["summary"]["ok"], 4);
});

dual!(a_failing_canary_stops_the_rest, |env| {
    let f = Fleet::new(env, 3, "[workspace.metadata.dbm.fleet.groups]\ncanary = [\"*t3*\"]");
    let a = f.env.fx.migration("create accounts", ACCOUNT_UP, ACCOUNT_DOWN);
    let out = f.env.dbm(&["up", "--all", "--format", "json"]);
    out.ok();
    // The canary goes first.
    assert_eq!(out.json()["targets"][0]["target"], f.name(3).as_str());
    for i in 1..=3 {
        f.exec(i, "INSERT INTO {s}account (id, name) VALUES (1, 'ann'), (2, 'ann')");
    }
    f.exec(1, "DELETE FROM {s}account WHERE id = 2");
    f.exec(2, "DELETE FROM {s}account WHERE id = 2");
    let b = f.env.fx.migration("unique names", UNIQUE_UP, UNIQUE_DOWN);
    let out = f.env.dbm(&["up", "--all", "--keep-going", "--format", "json"]);
    out.expect_code(23);
    let report = out.json();
    assert_eq!(f.results(&report), ["not-started", "not-started", "failed"]);
    assert!(
        report["targets"][1]["error"].as_str().unwrap().contains("canary"),
        "{report}"
    );
    for i in 1..=3 {
        assert_eq!(f.tracked(i), [a.clone()]);
    }
    // The canary group alone, once fixed.
    f.exec(3, "DELETE FROM {s}account WHERE id = 2");
    let out = f.env.dbm(&["up", "--fleet", "canary", "--format", "json"]);
    out.ok();
    assert_eq!(out.json()["targets"].as_array().unwrap().len(), 1);
    assert_eq!(f.tracked(3), [a.clone(), b.clone()]);
    assert_eq!(f.tracked(1), [a.clone()]);
});

/// Backups, stamps and reverts of a fleet of SQLite files, and the errors that come before
/// anything runs.
#[test]
fn sqlite_fleet_backup_stamp_down_and_bad_input() {
    let f = Fleet::new(Env::sqlite(), 3, "");
    let a = f.env.fx.migration("create accounts", ACCOUNT_UP, ACCOUNT_DOWN);
    let b = f.env.fx.migration("unique names", UNIQUE_UP, UNIQUE_DOWN);
    f.env.dbm(&["up", "--all"]).ok().contains("3 migrated");
    for i in 1..=3 {
        f.exec(i, "INSERT INTO account (id, name) VALUES (1, 'ann')");
    }

    // One backup per target, in a folder named after it.
    let out = f.env.dbm(&["backup", "--all", "--format", "json"]);
    out.ok();
    for i in 1..=3 {
        let dir = f.env.fx.path(&format!("backups/data_tenants_t{i}.db"));
        let files: Vec<_> = std::fs::read_dir(&dir).unwrap().collect();
        assert_eq!(files.len(), 1, "{}", dir.display());
    }
    assert_eq!(f.results(&out.json()), ["backed-up"; 3]);
    // `up --backup` backs each target up into its own folder first.
    let c = f.env.fx.migration(
        "add phone",
        "ALTER TABLE account ADD COLUMN phone TEXT",
        "ALTER TABLE account DROP COLUMN phone",
    );
    f.env.dbm(&["up", "--all", "--backup"]).ok().contains("3 migrated");
    for i in 1..=3 {
        let dir = f.env.fx.path(&format!("backups/data_tenants_t{i}.db"));
        assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 2, "{}", dir.display());
    }

    // down and stamp ask first, naming how many targets; without a terminal they refuse.
    f.env.dbm(&["down", "--all"]).expect_code(10).contains("no terminal");
    f.env.dbm(&["stamp", "--all", &a]).expect_code(10);
    assert_eq!(f.tracked(2), [a.clone(), b.clone(), c.clone()]);
    let out = f.env.dbm(&["down", "--all", "--yes", "--format", "json"]);
    out.ok();
    assert_eq!(f.results(&out.json()), ["reverted"; 3]);
    for i in 1..=3 {
        assert_eq!(f.tracked(i), [a.clone(), b.clone()]);
        assert_eq!(f.query(i, "SELECT name FROM account"), [["ann"]]);
    }
    let out = f.env.dbm(&["stamp", "--all", "--yes", &a, "--format", "json"]);
    out.ok();
    assert_eq!(f.results(&out.json()), ["stamped"; 3]);
    assert_eq!(f.tracked(1), [a.clone()]);
    assert_eq!(f.query(1, "SELECT name FROM account"), [["ann"]]);

    // The listing.
    let out = f.env.dbm(&["fleet", "--format", "json"]);
    out.ok();
    assert_eq!(out.json()["targets"].as_array().unwrap().len(), 3);

    // Bad input is refused before anything runs.
    f.env
        .dbm(&["up", "--fleet", "eu"])
        .expect_code(5)
        .contains("no fleet group `eu`");
    f.env.dbm(&["up", "--jobs", "2"]).expect_code(2).contains("--all");
    let toml = f.env.fx.read("Cargo.toml");
    f.env.fx.write(
        "Cargo.toml",
        &format!("{toml}urls = [\"sqlite://data/tenants/t2.db\"]\n"),
    );
    f.env
        .dbm(&["status", "--all"])
        .expect_code(5)
        .contains("lists one target twice");
    f.env.fx.write(
        "Cargo.toml",
        &format!(
            "{toml}query = \"SELECT name FROM sqlite_master WHERE 0\"\nquery-url = \"sqlite://data/tenants/t1.db\"\n"
        ),
    );
    f.env
        .dbm(&["up", "--all"])
        .expect_code(5)
        .contains("the fleet query returned no targets");
}

/// PostgreSQL: schemas listed by a query on a control table, an unreachable target, a run
/// killed halfway, and two runs at once.
#[test]
fn postgres_query_fleet_unreachable_kill_and_concurrent_runs() {
    let env = Env::postgres();
    env.exec(
        "CREATE TABLE public.tenants (schema_name TEXT); INSERT INTO public.tenants VALUES ('t1'), ('t2'), ('t3'), ('t4'), ('t5'), ('t6')",
    );
    let f = Fleet::new(
        env,
        6,
        "query = \"SELECT schema_name FROM public.tenants ORDER BY 1\"\nurls = [{ name = \"dead\", url = \"postgres://app:hunter2@127.0.0.1:1/app\" }]\n[workspace.metadata.dbm.fleet.groups]\ntenants = [\"t*\"]",
    );
    // The schemas come from both `schemas` and the query: a duplicate.
    f.env
        .dbm(&["status", "--all"])
        .expect_code(5)
        .contains("lists one target twice");
    let toml = f.env.fx.read("Cargo.toml");
    let schemas_line = toml.lines().find(|l| l.starts_with("schemas = ")).unwrap().to_string();
    f.env.fx.write("Cargo.toml", &toml.replace(&schemas_line, ""));
    let out = f.env.dbm(&["fleet", "--format", "json"]);
    out.ok();
    assert_eq!(out.json()["targets"].as_array().unwrap().len(), 7);
    assert!(!out.all().contains("hunter2"), "{}", out.all());

    let sleepy = |table: &str| {
        (
            format!("CREATE TABLE {table} (id INTEGER PRIMARY KEY); SELECT pg_sleep(0.4)"),
            format!("DROP TABLE {table}"),
        )
    };
    let a = f
        .env
        .fx
        .migration("one", "CREATE TABLE one (id INTEGER PRIMARY KEY)", "DROP TABLE one");
    // The unreachable target fails, named (redacted) with its cause; the others go on.
    let out = f
        .env
        .dbm(&["up", "--all", "--keep-going", "--jobs", "3", "--format", "json"]);
    out.expect_code(23);
    let report = out.json();
    assert!(!out.all().contains("hunter2"));
    let dead = report["targets"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["target"] == "dead")
        .unwrap();
    assert_eq!(dead["result"], "failed");
    assert_eq!(dead["exit_code"], 6);
    assert!(dead["url"].as_str().unwrap().contains("127.0.0.1:1"), "{dead}");
    assert!(dead["error"].as_str().unwrap().contains("refused"), "{dead}");
    assert_eq!(f.results(&report), ["applied"; 6]);
    let out = f.env.dbm(&["status", "--all"]);
    out.expect_code(6).contains("6 up to date").contains("1 unreachable");

    // Killed halfway: every schema has the migration entirely or not at all; a rerun
    // completes the rest.
    let b = f
        .env
        .fx
        .migration("two", "CREATE TABLE two (id INTEGER PRIMARY KEY)", "DROP TABLE two");
    f.env.dbm(&["up", "--fleet", "tenants", "--jobs", "1"]).ok(); // builds the runner
    let (up, down) = sleepy("three");
    let c = f.env.fx.migration("three", &up, &down);
    f.env.dbm(&["up", "--fleet", "t1"]).expect_code(5); // not a group: nothing ran
    let mut child = f.env.spawn(&["up", "--fleet", "tenants", "--jobs", "2"]);
    let started = std::time::Instant::now();
    while (1..=6).all(|i| !f.tracked(i).contains(&c)) {
        assert!(started.elapsed().as_secs() < 120, "no target was migrated");
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    child.kill().unwrap();
    child.wait().unwrap();
    std::thread::sleep(std::time::Duration::from_millis(500));
    let mut done = 0;
    for i in 1..=6 {
        let tracked = f.tracked(i).contains(&c);
        let table = !f
            .query(
                i,
                &format!(
                    "SELECT 1 FROM information_schema.tables WHERE table_schema = 't{i}' AND table_name = 'three'"
                ),
            )
            .is_empty();
        assert_eq!(tracked, table, "t{i}: tracked {tracked}, table {table}");
        done += tracked as usize;
    }
    assert!(done < 6, "the run finished before it was killed");
    let out = f.env.dbm(&["up", "--fleet", "tenants", "--format", "json"]);
    out.ok();
    let applied = f.results(&out.json()).iter().filter(|r| *r == "applied").count();
    assert_eq!(applied, 6 - done);

    // Two runs at once: each migration applied once per schema.
    let (up, down) = sleepy("four");
    let d = f.env.fx.migration("four", &up, &down);
    let first = f.env.spawn(&["up", "--fleet", "tenants", "--jobs", "3"]);
    let second = f.env.spawn(&["up", "--fleet", "tenants", "--jobs", "3"]);
    for child in [first, second] {
        let out = child.wait_with_output().unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    }
    for i in 1..=6 {
        assert_eq!(f.tracked(i), [a.clone(), b.clone(), c.clone(), d.clone()]);
        let ups = f.query(
            i,
            &format!("SELECT COUNT(*) FROM {{s}}dbm_history WHERE version = '{d}' AND direction = 'up'"),
        );
        assert_eq!(ups, [["1"]], "t{i}");
    }

    // A tenant whose table is held by a long transaction: with a lock timeout, its
    // migration gives up and rolls back, naming the blocker; the others go on.
    let e = f.env.fx.migration(
        "five",
        "ALTER TABLE two ADD COLUMN note TEXT",
        "ALTER TABLE two DROP COLUMN note",
    );
    f.exec(2, "INSERT INTO {s}two (id) VALUES (1)");
    let hold = crate::dry_run::blocking_session(&f.env, "t2.two", 30);
    let out = f.env.dbm(&[
        "up",
        "--fleet",
        "tenants",
        "--keep-going",
        "--db-lock-timeout",
        "500ms",
        "--format",
        "json",
    ]);
    crate::dry_run::release(&f.env, hold);
    out.expect_code(23);
    let report = out.json();
    assert_eq!(
        f.results(&report),
        ["applied", "failed", "applied", "applied", "applied", "applied"]
    );
    let t2 = &report["targets"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["target"] == "t2")
        .unwrap();
    assert!(t2["error"].as_str().unwrap().contains("lock timeout"), "{t2}");
    assert!(t2["error"].as_str().unwrap().contains("application `blocker`"), "{t2}");
    assert_eq!(f.tracked(2), [a.clone(), b.clone(), c.clone(), d.clone()]);
    assert_eq!(f.query(2, "SELECT COUNT(*) FROM {s}two"), [["1"]]);
    assert!(f.tracked(3).contains(&e));
}

/// MariaDB: databases listed by URL in a control table; the URLs carry the password, the
/// reports never do.
#[test]
fn mariadb_fleet_from_a_query_of_urls() {
    let env = Env::mariadb();
    let urls: Vec<String> = (1..=3).map(|i| env.scratch_url(&format!("tenant{i}"))).collect();
    env.exec(&format!(
        "CREATE TABLE tenants (url TEXT); INSERT INTO tenants VALUES {}",
        urls.iter().map(|u| format!("('{u}')")).collect::<Vec<_>>().join(", ")
    ));
    let toml = env.fx.read("Cargo.toml");
    env.fx.write(
        "Cargo.toml",
        &format!("{toml}\n[workspace.metadata.dbm.fleet]\nquery = \"SELECT url FROM tenants ORDER BY url\"\n"),
    );
    let password = crate::support::mariadb::MARIADB_PASSWORD;
    let a = env.fx.migration("create accounts", ACCOUNT_UP, ACCOUNT_DOWN);
    let out = env.dbm(&["status", "--all"]);
    out.expect_code(3).contains("3 with pending migrations");
    assert!(!out.all().contains(password), "{}", out.all());
    let out = env.dbm(&["up", "--all", "--format", "json"]);
    out.ok();
    assert!(!out.all().contains(password), "{}", out.all());
    let report = out.json();
    for t in report["targets"].as_array().unwrap() {
        assert_eq!(t["result"], "applied", "{t}");
    }
    for u in &urls {
        query(u, "INSERT INTO account (id, name) VALUES (1, 'ann')");
        assert_eq!(
            query(u, "SELECT CAST(version AS CHAR) FROM seaql_migrations"),
            [[a.clone()]]
        );
    }
    env.dbm(&["status", "--all"]).ok().contains("3 up to date");
    // Backups of each database, in folders of their own; then every migration reverted.
    env.dbm(&["backup", "--all"]).ok().contains("3 backed up");
    env.dbm(&["down", "--all", "--yes"]).ok().contains("3 reverted");
    for u in &urls {
        assert!(query(u, "SELECT CAST(version AS CHAR) FROM seaql_migrations").is_empty());
    }
}
