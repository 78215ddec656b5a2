//! A Migrator that is a module of an application's library (`app::migrator`), with no
//! migration crate: found without configuration, read where it is, written next to it.
//! The workspace is `tests/fixtures/v2-in-app` (sea-orm 2.0, hand-written entities in
//! `app::entities`).

use crate::support::*;
use std::collections::BTreeMap;
use std::path::Path;

/// A copy of the fixture in a temp dir (its folder name names the default SQLite file).
fn fixture() -> Fixture {
    let dir = tempfile::Builder::new().prefix("dbm-in-app-").tempdir().unwrap();
    copy_dir(&repo().join("tests/fixtures/v2-in-app"), dir.path());
    Fixture { dir, env: Vec::new() }
}

fn sqlite() -> Env {
    let fx = fixture();
    let url = format!("sqlite://{}", fx.sqlite_path().display());
    Env {
        fx,
        url,
        backend: Backend::Sqlite,
    }
}

fn postgres() -> Env {
    let pg = pg::PgCluster::start();
    let url = pg.create_database("app");
    let mut fx = fixture();
    fx.env.push(("DATABASE_URL".into(), url.clone()));
    Env {
        fx,
        url,
        backend: Backend::Postgres(pg),
    }
}

/// Every file of the `app` crate, with its content.
fn crate_files(root: &Path) -> BTreeMap<String, String> {
    fn walk(dir: &Path, root: &Path, out: &mut BTreeMap<String, String>) {
        for e in std::fs::read_dir(dir).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                walk(&p, root, out);
            } else {
                let rel = p.strip_prefix(root).unwrap().display().to_string();
                out.insert(rel, std::fs::read_to_string(&p).unwrap());
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(&root.join("app"), root, &mut out);
    out
}

const MIGRATIONS: [&str; 8] = [
    "m20240105_000001_create_member",
    "m20240105_000002_create_author",
    "m20240112_000001_create_book",
    "m20240120_000001_create_loan_and_note",
    "m20240126_000001_create_fine_and_reservation",
    "m20240201_000001_add_member_phone",
    "m20240215_000001_create_indexes",
    "m20240301_000001_member_name_optional",
];

fn scenario(env: Env) {
    let fx = &env.fx;
    let before = crate_files(fx.root());

    // `init` names the crate and the module, reads the list, and changes no file of the crate.
    fx.dbm(&["init"]).ok().contains(
        "Adopted Migrator `app::migrator::Migrator` of crate `app` in app/src/migrator/mod.rs (8 migrations)",
    );
    assert_eq!(before, crate_files(fx.root()), "init changed a file of the crate");
    assert!(fx.read("Cargo.toml").contains("migration-crate = \"app\""));

    // The entities of the same crate are found; the migrations are not entities.
    let info = fx.dbm(&["info", "--format", "json"]);
    info.ok();
    let v = info.json();
    assert_eq!(v["migration_crate"]["migrator"], "migrator::Migrator");
    let crates = v["entity_crates"].as_array().unwrap();
    assert_eq!(crates.len(), 1, "{v}");
    assert_eq!(crates[0]["name"], "app");
    let modules: Vec<&str> = crates[0]["entities"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["module"].as_str().unwrap())
        .collect();
    assert_eq!(
        modules,
        [
            "entities::author",
            "entities::book",
            "entities::fine",
            "entities::loan",
            "entities::member",
            "entities::note",
            "entities::reservation"
        ]
    );

    // `status` lists the migrations from the source: no build.
    let aside = tempfile::tempdir().unwrap();
    let cargo = no_build_cargo(aside.path());
    let out = fx.dbm_env(&["status"], &[("CARGO", cargo.to_str().unwrap())]);
    out.expect_code(3).contains("8 pending");
    for m in MIGRATIONS {
        out.contains(m);
    }

    fx.dbm(&["up"]).ok();
    assert_eq!(env.tracked(), MIGRATIONS);
    fx.dbm(&["status"]).ok().contains("8 applied, 0 pending");
    // The entities in the same crate match what the migrations produce.
    fx.dbm(&["check"]).ok();

    // `create` writes next to the Migrator's module and registers it there.
    let version = fx.migration("add x", "CREATE TABLE x (id INTEGER PRIMARY KEY)", "DROP TABLE x");
    assert!(version.ends_with("_add_x"), "{version}");
    assert!(fx.path(&format!("app/src/migrator/{version}.rs")).is_file());
    assert!(!fx.path(&format!("app/src/{version}.rs")).exists());
    let module = fx.read("app/src/migrator/mod.rs");
    assert!(
        module.contains(&format!("mod m20240301_000001_member_name_optional;\nmod {version};\n")),
        "{module}"
    );
    assert!(
        module.contains(&format!("Box::new({version}::Migration),\n        ]")),
        "{module}"
    );
    assert_eq!(before["app/src/lib.rs"], fx.read("app/src/lib.rs"));

    fx.dbm(&["up"]).ok();
    assert!(env.tables().contains(&"x".to_string()));
    fx.dbm(&["down"]).ok();
    assert!(!env.tables().contains(&"x".to_string()));
    assert_eq!(env.tracked(), MIGRATIONS);
    fx.dbm(&["status"]).expect_code(3).contains("1 pending");
}

mod scenario {
    use super::*;

    #[test]
    fn sqlite() {
        scenario(super::sqlite());
    }

    #[test]
    fn postgres() {
        scenario(super::postgres());
    }
}

/// Sets the modification time of every file under `dir` an hour back, so that what is
/// read from them may be cached.
fn backdate(dir: &Path) {
    let old = std::time::SystemTime::now() - std::time::Duration::from_secs(3600);
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            backdate(&p);
        } else {
            std::fs::File::options()
                .write(true)
                .open(&p)
                .unwrap()
                .set_modified(old)
                .unwrap();
        }
    }
}

#[test]
fn a_private_module_says_which_mod_to_make_pub() {
    let fx = fixture();
    let aside = tempfile::tempdir().unwrap();
    let cache = [("CARGO_DBM_CACHE_DIR", aside.path().to_str().unwrap())];
    // Found once and cached; the edit below must be seen through the cache.
    backdate(fx.root());
    fx.dbm_env(&["status"], &cache).expect_code(3);
    assert!(aside.path().join("migrators").is_dir(), "the search was cached");
    let lib = fx.read("app/src/lib.rs");
    let private = lib
        .replace("pub mod migrator;", "mod migrator;")
        .replace("pub use migrator::Migrator;\n", "");
    fx.write("app/src/lib.rs", &private);
    let manifest = fx.read("Cargo.toml");
    for cmd in ["status", "init"] {
        fx.dbm_env(&[cmd], &cache)
            .expect_code(5)
            .contains("the Migrator `app::migrator::Migrator` cannot be named from outside its crate")
            .contains("`mod migrator`")
            .contains("make it `pub mod migrator`");
    }
    assert_eq!(manifest, fx.read("Cargo.toml"), "init wrote nothing");
    assert!(!fx.path("app/src/m20240105_000001_create_member.rs").exists());

    // A public re-export is a public path: the module may stay private.
    fx.write("app/src/lib.rs", &lib.replace("pub mod migrator;", "mod migrator;"));
    let out = fx.dbm(&["status", "--format", "json"]);
    out.expect_code(3);
    fx.dbm(&["info", "--format", "json"]).ok();
    let v = fx.dbm(&["info", "--format", "json"]).json();
    assert_eq!(v["migration_crate"]["migrator"], "Migrator");
}

#[test]
fn two_migrators_ask_for_the_key_and_the_key_chooses() {
    let fx = fixture();
    // A second library with a Migrator of its own, as a workspace moving to a migration crate.
    fx.write(
        "legacy/Cargo.toml",
        "[package]\nname = \"legacy\"\nversion = \"0.1.0\"\nedition = \"2021\"\npublish = false\n\n[dependencies]\nsea-orm-migration = \"2.0.4\"\n",
    );
    fx.write(
        "legacy/src/lib.rs",
        "pub use sea_orm_migration::prelude::*;\n\npub struct Migrator;\n\nimpl MigratorTrait for Migrator {\n    fn migrations() -> Vec<Box<dyn MigrationTrait>> {\n        vec![]\n    }\n}\n",
    );
    let manifest = fx
        .read("Cargo.toml")
        .replace("members = [\"app\"]", "members = [\"app\", \"legacy\"]");
    fx.write("Cargo.toml", &manifest);

    fx.dbm(&["status"])
        .expect_code(5)
        .contains("several Migrators in the workspace")
        .contains("`app::migrator::Migrator` (")
        .contains("`legacy::Migrator` (")
        .contains("migrator = \"");
    fx.write(
        "Cargo.toml",
        &format!("{manifest}\n[workspace.metadata.dbm]\nmigrator = \"app::migrator::Migrator\"\n"),
    );
    fx.dbm(&["status"]).expect_code(3).contains("8 pending");
    fx.dbm(&["init"]).ok().contains("Migrator `app::migrator::Migrator`");
    fx.write(
        "Cargo.toml",
        &format!("{manifest}\n[workspace.metadata.dbm]\nmigrator = \"legacy::Migrator\"\n"),
    );
    fx.dbm(&["status"]).ok().contains("0 applied, 0 pending");
}

#[test]
fn seed_functions_live_next_to_the_migrator() {
    let env = sqlite();
    let fx = &env.fx;
    fx.dbm(&["up"]).ok();
    fx.write(
        "app/src/migrator/seeds.rs",
        "use sea_orm_migration::sea_orm::{ConnectionTrait, DatabaseTransaction, DbErr};\n\n\
         pub async fn default(db: &DatabaseTransaction) -> Result<(), DbErr> {\n    \
         db.execute_unprepared(\"INSERT INTO author (name) VALUES ('Ursula')\").await?;\n    Ok(())\n}\n",
    );
    let module = fx.read("app/src/migrator/mod.rs");
    fx.write(
        "app/src/migrator/mod.rs",
        &module.replacen("\nmod m2024", "\npub mod seeds;\nmod m2024", 1),
    );
    fx.dbm(&["seed"]).ok().contains("Ran seeds::default");
    assert_eq!(env.query("SELECT name FROM author"), [["Ursula"]]);
}
