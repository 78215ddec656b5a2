//! Migrations from two branches meet (#12): a database that applied the other branch's
//! newer migration has a pending one older than an applied one. `status`, `check`, `up`,
//! `down`, `heads` and `history` on SQLite and PostgreSQL.

use crate::dual;
use crate::support::*;

/// `cargo dbm create`, then the file and its registration renamed to `version` (a version
/// chosen by the test, as if written on another branch at another time).
pub fn migration_at(fx: &Fixture, version: &str, up: &str, down: &str) {
    let created = fx.migration(version, up, down);
    let src = fx.migration_src();
    std::fs::rename(src.join(format!("{created}.rs")), src.join(format!("{version}.rs"))).unwrap();
    let lib = std::fs::read_to_string(src.join("lib.rs")).unwrap();
    std::fs::write(src.join("lib.rs"), lib.replace(&created, version)).unwrap();
}

/// The Migrator's `Box::new` lines sorted by version, as the merge driver leaves them.
pub fn sort_registrations(fx: &Fixture) {
    let path = fx.migration_src().join("lib.rs");
    let lib = std::fs::read_to_string(&path).unwrap();
    let mut boxes: Vec<&str> = lib
        .lines()
        .filter(|l| l.trim_start().starts_with("Box::new("))
        .collect();
    boxes.sort_by_key(|l| l.trim().trim_end_matches(',').to_string());
    let mut sorted = boxes.into_iter();
    let out: Vec<String> = lib
        .lines()
        .map(|l| {
            if l.trim_start().starts_with("Box::new(") {
                let b = sorted.next().unwrap().trim().trim_end_matches(',');
                format!("            {b},")
            } else {
                l.to_string()
            }
        })
        .collect();
    std::fs::write(&path, out.join("\n") + "\n").unwrap();
}

pub const A: &str = "m20240101_000000_create_a";
pub const B: &str = "m20240102_000000_create_b";
pub const C: &str = "m20240103_000000_create_c";

/// Main's `a` and the other branch's `c` are applied; this branch's `b` (between them) is
/// merged in, pending.
pub fn merged_state(env: &Env) {
    migration_at(&env.fx, A, "CREATE TABLE a (id INTEGER PRIMARY KEY)", "DROP TABLE a");
    migration_at(&env.fx, C, "CREATE TABLE c (id INTEGER PRIMARY KEY)", "DROP TABLE c");
    env.dbm(&["up"]).ok();
    env.exec("INSERT INTO a (id) VALUES (1); INSERT INTO c (id) VALUES (3)");
    migration_at(&env.fx, B, "CREATE TABLE b (id INTEGER PRIMARY KEY)", "DROP TABLE b");
}

fn history_directions(env: &Env) -> Vec<String> {
    env.query("SELECT direction, version FROM dbm_history ORDER BY id")
        .into_iter()
        .map(|r| format!("{} {}", r[0], r[1]))
        .collect()
}

dual!(a_pending_migration_older_than_an_applied_one, |env| {
    merged_state(&env);

    // Listed after `c` (a merge without the driver): the list is out of version order too.
    let out = env.dbm(&["check", "--no-entities"]);
    out.expect_code(20)
        .contains(&format!("lists `{C}` before `{B}`"))
        .contains(&format!("`{B}` sorts before the applied `{C}`"));
    sort_registrations(&env.fx);

    // status marks it, and carries it in JSON.
    let out = env.dbm(&["status"]);
    out.expect_code(3)
        .contains(&format!("out of order: sorts before the applied {C}"))
        .contains("cargo dbm up --out-of-order")
        .contains("cargo dbm rebase");
    let v = env.dbm(&["status", "--format", "json"]).json();
    assert_eq!(v["out_of_order"][0]["version"], B);
    assert_eq!(v["out_of_order"][0]["precedes"], serde_json::json!([C]));
    assert_eq!(v["unordered"], serde_json::json!([]));
    let b = v["migrations"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["version"] == B)
        .unwrap();
    assert_eq!(b["out_of_order"], true);

    // check fails with its own exit code, and says so in JSON.
    let out = env.dbm(&["check", "--no-entities", "--format", "json"]);
    out.expect_code(20);
    let problems = out.json();
    assert!(problems.to_string().contains("out-of-order"), "{problems}");

    // up refuses and changes nothing.
    let before = env.tables();
    env.dbm(&["up"])
        .expect_code(20)
        .contains(&format!("`{B}` sorts before the applied `{C}`"))
        .contains("--out-of-order")
        .contains("cargo dbm rebase");
    assert_eq!(env.tables(), before);
    assert_eq!(env.tracked(), [A, C]);

    // heads shows the branch point.
    env.dbm(&["heads"])
        .ok()
        .contains(&format!("{C} (head)"))
        .contains(&format!("{A} (branch point"))
        .contains(&format!("{B} (pending, out of order"));

    // --out-of-order applies it and records it.
    env.dbm(&["up", "--out-of-order"]).ok().contains(&format!(
        "applied out of order (before migrations already applied), recorded in dbm_history: {B}"
    ));
    assert_eq!(env.tracked(), [A, B, C]);
    let hist = history_directions(&env);
    assert_eq!(hist[hist.len() - 2..], [format!("up {B}"), format!("out-of-order {B}")]);
    env.dbm(&["history"])
        .ok()
        .contains(&format!("out of order (after {C})"));
    let heads = env.dbm(&["heads", "--format", "json"]).json();
    assert_eq!(heads["applied_out_of_order"][0]["version"], B);
    assert_eq!(heads["applied_out_of_order"][0]["after"], C);
    assert_eq!(heads["branch_point"], A);
    env.dbm(&["check", "--no-entities"]).ok();

    // down reverts what the database applied last: b, not c, and says why.
    env.dbm(&["down"])
        .ok()
        .contains("in the order this database applied them");
    assert_eq!(env.tracked(), [A, C]);
    assert!(!env.tables().contains(&"b".to_string()));
    assert_eq!(env.query("SELECT id FROM c"), [["3"]]);

    // The configuration key allows it for this database.
    let manifest = env.fx.read("Cargo.toml");
    env.fx.write(
        "Cargo.toml",
        &manifest.replace(
            "[workspace.metadata.dbm]\n",
            "[workspace.metadata.dbm]\nout-of-order = true\n",
        ),
    );
    env.dbm(&["up"]).ok().contains("applied out of order");
    assert_eq!(env.tracked(), [A, B, C]);

    // down 2: b, then c (the database's order), a stays with its row.
    env.dbm(&["down", "2"]).ok();
    assert_eq!(env.tracked(), [A]);
    let hist = history_directions(&env);
    assert_eq!(hist[hist.len() - 2..], [format!("down {B}"), format!("down {C}")]);
    assert_eq!(env.query("SELECT id FROM a"), [["1"]]);

    // Nothing applied after a any more: in order again.
    env.dbm(&["up"]).ok();
    assert_eq!(env.tracked(), [A, B, C]);
    env.dbm(&["check", "--no-entities"]).ok();
});

dual!(a_rebase_moves_the_branch_after_the_applied_head, |env| {
    merged_state(&env);
    sort_registrations(&env.fx);
    env.dbm(&["up"]).expect_code(20);
    let out = env.dbm(&["rebase", "--format", "json"]);
    out.ok();
    let v = out.json();
    let renamed = v["renames"][0]["to"].as_str().unwrap().to_string();
    assert_eq!(v["renames"][0]["from"], B);
    assert!(renamed.as_str() > C && renamed.ends_with("_create_b"), "{renamed}");
    // In order now: no refusal, no out-of-order record.
    env.dbm(&["check", "--no-entities"]).expect_code(3);
    env.dbm(&["up"]).ok();
    assert_eq!(env.tracked(), [A.to_string(), C.to_string(), renamed.clone()]);
    assert!(
        !history_directions(&env).iter().any(|h| h.starts_with("out-of-order")),
        "{:?}",
        history_directions(&env)
    );
    env.dbm(&["check", "--no-entities"]).ok();
    env.dbm(&["down"]).ok();
    assert_eq!(env.tracked(), [A, C]);
});
