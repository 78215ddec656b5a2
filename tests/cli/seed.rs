//! `seed`: files of a profile inserted in foreign-key order with typed values, all or
//! nothing; `--clear` guarded; `--dump` round trips; Rust seed functions in the same
//! transaction. One body, three backends (SQLite, a throwaway PostgreSQL cluster, a
//! throwaway MariaDB server).

use crate::support::{Env, no_build_cargo};
use crate::tri;

const SCHEMA_UP: &str = "CREATE TABLE \"user\" (id INTEGER PRIMARY KEY, name TEXT NOT NULL, email TEXT NOT NULL UNIQUE, active BOOLEAN NOT NULL DEFAULT TRUE, score DOUBLE PRECISION, born DATE, created_at TIMESTAMP, note TEXT); \
CREATE TABLE post (id INTEGER PRIMARY KEY, user_id INTEGER NOT NULL REFERENCES \"user\"(id), title TEXT NOT NULL, views BIGINT)";
const SCHEMA_DOWN: &str = "DROP TABLE post; DROP TABLE \"user\"";

const USERS_YAML: &str = "\
- id: 1
  name: Ada
  email: ada@example.com
  active: true
  score: 1.5
  born: 1815-12-10
  created_at: 2024-01-02T03:04:05
  note: null
- id: 2
  name: Bob
  email: bob@example.com
  active: false
  score: 2.25
  born: \"2000-02-29\"
  created_at: 2024-01-02 03:04:05
  note: \"it's \\\"quoted\\\", with, commas\"
- id: 3
  name: Cy
  email: cy@example.com
";

/// The child's file sorts before its parent's: order must come from the schema.
const POSTS_CSV: &str = "id,user_id,title,views\n1,1,Hello,10\n2,1,\"Second, with comma\",\n3,2,\"\",9000000000\n";

/// The SQL of these tests in the engine's dialect: MySQL quotes identifiers with
/// backticks and casts to `CHAR`, not `TEXT`.
fn sql(env: &Env, sql: &str) -> String {
    if env.is_mariadb() {
        sql.replace('"', "`").replace(" AS TEXT)", " AS CHAR)")
    } else {
        sql.to_string()
    }
}

fn query(env: &Env, s: &str) -> Vec<Vec<String>> {
    env.query(&sql(env, s))
}

fn schema(env: &Env) {
    env.fx
        .migration("create schema", &sql(env, SCHEMA_UP), &sql(env, SCHEMA_DOWN));
    env.dbm(&["up"]).ok();
}

fn users(env: &Env) -> Vec<Vec<String>> {
    query(
        env,
        "SELECT id, name, email, CASE WHEN active THEN 'yes' ELSE 'no' END, CAST(score AS TEXT), CAST(born AS TEXT), CAST(created_at AS TEXT), note FROM \"user\" ORDER BY id",
    )
}

fn posts(env: &Env) -> Vec<Vec<String>> {
    query(
        env,
        "SELECT id, user_id, title, CAST(views AS TEXT) FROM post ORDER BY id",
    )
}

fn count(env: &Env, table: &str) -> usize {
    query(env, &format!("SELECT CAST(count(*) AS TEXT) FROM {table}"))[0][0]
        .parse()
        .unwrap()
}

fn write_default(env: &Env) {
    env.fx.write("seeds/default/user.yaml", USERS_YAML);
    env.fx.write("seeds/default/0_post.csv", POSTS_CSV);
}

tri!(files_load_in_foreign_key_order_with_typed_values, |env| {
    schema(&env);
    write_default(&env);
    let out = env.dbm(&["seed", "--format", "json"]);
    out.ok();
    let v = out.json();
    assert_eq!(v["rows"], 6);
    assert_eq!(v["profile"], "default");
    assert_eq!(v["tables"][0]["table"], "user", "parents first: {v}");
    let s = |x: &str| x.to_string();
    assert_eq!(
        users(&env),
        [
            [
                s("1"),
                s("Ada"),
                s("ada@example.com"),
                s("yes"),
                s("1.5"),
                s("1815-12-10"),
                s("2024-01-02 03:04:05"),
                s("NULL")
            ],
            [
                s("2"),
                s("Bob"),
                s("bob@example.com"),
                s("no"),
                s("2.25"),
                s("2000-02-29"),
                s("2024-01-02 03:04:05"),
                s("it's \"quoted\", with, commas")
            ],
            // Columns left out take their defaults.
            [
                s("3"),
                s("Cy"),
                s("cy@example.com"),
                s("yes"),
                s("NULL"),
                s("NULL"),
                s("NULL"),
                s("NULL")
            ],
        ]
    );
    assert_eq!(
        posts(&env),
        [
            [s("1"), s("1"), s("Hello"), s("10")],
            // An empty CSV field is NULL, a quoted empty one the empty string.
            [s("2"), s("1"), s("Second, with comma"), s("NULL")],
            [s("3"), s("2"), s(""), s("9000000000")],
        ]
    );
    // Human output names the tables and counts.
    let out = env.dbm(&["seed", "--clear", "--yes"]);
    out.ok()
        .contains("Seeded user (3 rows)")
        .contains("Seeded post (3 rows)");
    assert_eq!(count(&env, "post"), 3);
});

tri!(profiles_minimal_and_named, |env| {
    schema(&env);
    write_default(&env);
    env.fx.write(
        "seeds/minimal/user.json",
        r#"[{"id": 10, "name": "Min", "email": "min@example.com"}]"#,
    );
    env.fx.write(
        "seeds/demo/01_user.yml",
        "- {id: 20, name: Demo, email: demo@example.com}\n",
    );
    env.dbm(&["seed", "--minimal"]).ok().contains("profile `minimal`");
    assert_eq!(count(&env, "\"user\""), 1);
    env.dbm(&["seed", "--profile", "demo"]).ok();
    let ids: Vec<String> = query(&env, "SELECT id FROM \"user\" ORDER BY id")
        .into_iter()
        .map(|r| r[0].clone())
        .collect();
    assert_eq!(ids, ["10", "20"]);
    // A profile that does not exist says which do.
    env.dbm(&["seed", "--profile", "nope"])
        .expect_code(5)
        .contains("no seed profile `nope`")
        .contains("default, demo, minimal");
});

tri!(one_bad_row_inserts_nothing, |env| {
    schema(&env);
    write_default(&env);
    // A bad value in the last file (posts load after users).
    env.fx.write(
        "seeds/default/0_post.csv",
        "id,user_id,title,views\n1,1,Hello,10\n2,one,Bad,\n",
    );
    env.dbm(&["seed"])
        .expect_code(17)
        .contains("0_post.csv` line 3, column `user_id`")
        .contains("expected an integer, found \"one\"")
        .contains("nothing was inserted");
    assert_eq!(count(&env, "\"user\""), 0);

    // A foreign key the database refuses: found by the database, reported by line.
    env.fx.write(
        "seeds/default/0_post.csv",
        "id,user_id,title,views\n1,1,Hello,10\n2,1,Fine,\n3,99,Orphan,\n4,2,Fine,\n",
    );
    let out = env.dbm(&["seed"]);
    out.expect_code(17).contains("0_post.csv` line 4");
    assert!(out.all().to_lowercase().contains("foreign key"), "{}", out.all());
    assert_eq!(count(&env, "\"user\""), 0);
    assert_eq!(count(&env, "post"), 0);

    // A duplicate inside one batch: the row is found by bisection.
    env.fx.write("seeds/default/0_post.csv", "id,user_id,title\n");
    env.fx.write(
        "seeds/default/user.yaml",
        "- {id: 1, name: A, email: a@x}\n- {id: 2, name: B, email: b@x}\n- {id: 3, name: C, email: a@x}\n",
    );
    env.dbm(&["seed"]).expect_code(17).contains("user.yaml` row 3");
    assert_eq!(count(&env, "\"user\""), 0);

    // Unknown column, unknown table, missing required value.
    env.fx
        .write("seeds/default/user.yaml", "- {id: 1, name: A, emial: a@x}\n");
    env.dbm(&["seed"])
        .expect_code(17)
        .contains("user.yaml` row 1: the table `user` has no column `emial`")
        .contains("email");
    env.fx.write("seeds/default/user.yaml", "- {id: 1, name: A}\n");
    env.dbm(&["seed"]).expect_code(17).contains("no value for `user.email`");
    env.fx.write("seeds/default/user.yaml", "");
    env.fx.write("seeds/default/comments.yaml", "- {id: 1}\n");
    env.dbm(&["seed"])
        .expect_code(17)
        .contains("the database has no table `comments`");
    std::fs::remove_file(env.fx.path("seeds/default/comments.yaml")).unwrap();
    env.fx.write("seeds/default/user.yaml", "- {id: 1, name: [A\n");
    env.dbm(&["seed"]).expect_code(17).contains("invalid YAML");
    assert_eq!(count(&env, "\"user\""), 0);
});

tri!(clear_is_guarded_and_replaces_the_rows, |env| {
    schema(&env);
    write_default(&env);
    env.dbm(&["seed"]).ok();
    // Seeding again without --clear collides with the rows already there.
    env.dbm(&["seed"]).expect_code(17);
    assert_eq!(count(&env, "\"user\""), 3);
    // --clear destroys data: without a terminal and without --yes it refuses.
    env.dbm(&["seed", "--clear"]).expect_code(10).contains("--yes");
    assert_eq!(count(&env, "\"user\""), 3);
    assert_eq!(count(&env, "post"), 3);
    // Protected databases refuse even with --yes.
    env.fx
        .dbm_env(&["seed", "--clear", "--yes"], &[("DBM_PROTECTED", "1")])
        .expect_code(10);
    // Only posts seeded: clearing them leaves the users; clearing users clears posts too.
    std::fs::remove_file(env.fx.path("seeds/default/user.yaml")).unwrap();
    env.dbm(&["seed", "--clear", "--yes"]).ok().contains("Cleared post");
    assert_eq!(count(&env, "\"user\""), 3);
    assert_eq!(count(&env, "post"), 3);
    env.fx.write(
        "seeds/minimal/user.yaml",
        "- {id: 7, name: Solo, email: solo@example.com}\n",
    );
    env.dbm(&["seed", "--minimal", "--clear", "--yes"])
        .ok()
        .contains("Cleared post, user");
    assert_eq!(count(&env, "post"), 0);
    assert_eq!(count(&env, "\"user\""), 1);
});

tri!(dump_writes_files_that_load_back_to_the_same_rows, |env| {
    schema(&env);
    write_default(&env);
    env.dbm(&["seed"]).ok();
    let (u, p) = (users(&env), posts(&env));
    env.dbm(&["seed", "--dump", "--profile", "snap"])
        .ok()
        .contains("Dumped user (3 rows)");
    assert!(env.fx.path("seeds/snap/user.yaml").exists());
    assert!(env.fx.path("seeds/snap/post.yaml").exists());
    assert!(
        !env.fx.path("seeds/snap/seaql_migrations.yaml").exists(),
        "tracking tables are not dumped"
    );
    env.dbm(&["seed", "--dump", "--profile", "snapcsv", "--dump-format", "csv"])
        .ok();
    env.dbm(&["seed", "--dump", "--profile", "snapjson", "--dump-format", "json"])
        .ok();
    for profile in ["snap", "snapcsv", "snapjson"] {
        env.dbm(&["seed", "--profile", profile, "--clear", "--yes"]).ok();
        assert_eq!(users(&env), u, "{profile}");
        assert_eq!(posts(&env), p, "{profile}");
    }
    // Dumping again replaces the files in place.
    env.dbm(&["seed", "--dump", "--profile", "snap", "--dump-format", "csv"])
        .ok();
    assert!(!env.fx.path("seeds/snap/user.yaml").exists());
    env.dbm(&["seed", "--profile", "snap", "--clear", "--yes"]).ok();
    assert_eq!(users(&env), u);
});

const SEEDS_RS: &str = r#"//! Rust seed functions: one per profile.
use sea_orm_migration::sea_orm::{ConnectionTrait, DatabaseTransaction, DbErr, Statement};

fn hash(s: &str) -> u64 {
    s.bytes().fold(0xcbf29ce484222325u64, |h, b| (h ^ b as u64).wrapping_mul(0x100000001b3))
}

/// A post per user seeded by the files, with a computed title.
pub async fn default(db: &DatabaseTransaction) -> Result<(), DbErr> {
    let backend = db.get_database_backend();
    let rows = db
        .query_all_raw(Statement::from_string(
            backend,
            match backend {
                sea_orm_migration::sea_orm::DbBackend::MySql => "SELECT id, email FROM `user` ORDER BY id",
                _ => "SELECT id, email FROM \"user\" ORDER BY id",
            },
        ))
        .await?;
    for r in rows {
        let id: i32 = r.try_get_by_index(0)?;
        let email: String = r.try_get_by_index(1)?;
        let title = format!("{:016x}", hash(&email));
        db.execute_raw(Statement::from_sql_and_values(
            backend,
            match backend {
                sea_orm_migration::sea_orm::DbBackend::Postgres => "INSERT INTO post (id, user_id, title) VALUES ($1, $2, $3)",
                _ => "INSERT INTO post (id, user_id, title) VALUES (?, ?, ?)",
            },
            [(100 + id).into(), id.into(), title.into()],
        ))
        .await?;
    }
    Ok(())
}

/// Fails after the files went in: they must be rolled back too.
pub async fn broken(_db: &DatabaseTransaction) -> Result<(), DbErr> {
    Err(DbErr::Custom("the hash service is down".into()))
}
"#;

tri!(rust_seed_functions_share_the_transaction, |env| {
    schema(&env);
    env.fx.write(
        "seeds/default/user.yaml",
        "- {id: 1, name: A, email: a@example.com}\n- {id: 2, name: B, email: b@example.com}\n",
    );
    env.fx
        .write("seeds/broken/user.yaml", "- {id: 1, name: A, email: a@example.com}\n");
    // Files only: no build.
    env.dbm(&["seed", "--profile", "broken"]).ok();
    env.dbm(&["seed", "--profile", "broken", "--clear", "--yes"]).ok();
    assert_eq!(count(&env, "\"user\""), 1);

    std::fs::write(env.fx.path("migration/src/seeds.rs"), SEEDS_RS).unwrap();
    let lib = env.fx.read("migration/src/lib.rs");
    std::fs::write(env.fx.path("migration/src/lib.rs"), format!("{lib}\npub mod seeds;\n")).unwrap();
    env.dbm(&["seed", "--clear", "--yes"])
        .ok()
        .contains("Ran seeds::default");
    assert_eq!(count(&env, "\"user\""), 2);
    let titles = env.query("SELECT id, user_id, title FROM post ORDER BY id");
    assert_eq!(titles.len(), 2);
    assert_eq!(titles[0][0], "101");
    assert_eq!(titles[0][2].len(), 16, "{titles:?}");

    // The function fails: the files' rows are rolled back with it, and the clear too.
    env.dbm(&["seed", "--profile", "broken", "--clear", "--yes"])
        .expect_code(17)
        .contains("the hash service is down")
        .contains("rolled back");
    assert_eq!(count(&env, "\"user\""), 2);
    assert_eq!(count(&env, "post"), 2);

    // A bad row is still located through the runner.
    env.fx.write(
        "seeds/default/user.yaml",
        "- {id: 5, name: A, email: a5@example.com}\n- {id: 5, name: B, email: b5@example.com}\n",
    );
    env.dbm(&["seed"]).expect_code(17).contains("user.yaml` row 2");
    assert_eq!(count(&env, "\"user\""), 2);
});

#[test]
fn a_files_only_seed_compiles_nothing() {
    let env = Env::sqlite();
    schema(&env);
    write_default(&env);
    let wrapper = no_build_cargo(env.fx.root());
    let out = env.fx.dbm_env(&["seed"], &[("CARGO", wrapper.to_str().unwrap())]);
    out.ok();
    assert!(!out.all().contains("build attempted"));
    assert_eq!(count(&env, "post"), 3);
}

tri!(a_large_csv_streams_and_still_rolls_back_whole, |env| {
    schema(&env);
    env.fx
        .write("seeds/default/user.yaml", "- {id: 1, name: A, email: a@example.com}\n");
    // Several streamed chunks; the bad value is deep in the file.
    let mut csv = String::from("id,user_id,title,views\n");
    for i in 1..=45_000 {
        csv.push_str(&format!("{i},1,post {i},{i}\n"));
    }
    env.fx.write("seeds/default/post.csv", &csv);
    env.dbm(&["seed"]).ok().contains("Seeded post (45000 rows)");
    assert_eq!(count(&env, "post"), 45_000);
    csv.push_str("45001,1,late,12x\n");
    env.fx.write("seeds/default/post.csv", &csv);
    env.dbm(&["seed", "--clear", "--yes"])
        .expect_code(17)
        .contains("post.csv` line 45002, column `views`");
    // The clear and the 45,000 rows before the bad one were rolled back.
    assert_eq!(count(&env, "post"), 45_000);
    assert_eq!(count(&env, "\"user\""), 1);
});

/// PostgreSQL: serial sequences move past the seeded ids, so the application's next insert
/// does not collide with a seeded row.
#[test]
fn postgres_sequences_follow_the_seeded_ids() {
    let env = Env::postgres();
    env.fx.migration(
        "create tags",
        "CREATE TABLE tag (id SERIAL PRIMARY KEY, name TEXT NOT NULL)",
        "DROP TABLE tag",
    );
    env.dbm(&["up"]).ok();
    env.fx
        .write("seeds/default/tag.yaml", "- {id: 1, name: a}\n- {id: 5, name: b}\n");
    env.dbm(&["seed"]).ok();
    let next = env.query("INSERT INTO tag (name) VALUES ('app') RETURNING id");
    assert_eq!(next[0][0], "6");
}

/// MariaDB: the values MySQL stores its own way (booleans as `tinyint(1)`, UUIDs as
/// `binary(16)`, JSON as `longtext`, times in its own spelling under a strict `sql_mode`) are
/// seeded from their ordinary spelling, and dumped back to files that load the same rows.
#[test]
fn mariadb_typed_values_seed_and_dump_back() {
    let env = Env::mariadb();
    env.fx.migration(
        "create things",
        "CREATE TABLE thing (id INTEGER PRIMARY KEY, flag BOOLEAN NOT NULL, uid BINARY(16), at DATETIME, ts TIMESTAMP NULL, day DATE, meta JSON, raw BLOB, price DECIMAL(10, 2))",
        "DROP TABLE thing",
    );
    env.dbm(&["up"]).ok();
    env.fx.write(
        "seeds/default/thing.yaml",
        "- {id: 1, flag: true, uid: 67e55044-10b1-426f-9247-bb680e5fe0c8, at: \"2024-01-02T03:04:05\", ts: \"2024-01-02 03:04:05\", day: 2024-02-29, meta: {a: [1, 2]}, raw: \"\\\\x00ff\", price: 1.5}\n\
         - {id: 2, flag: false, at: \"2024-01-02 03:04:05.250\", ts: \"2024-01-02T03:04:05\"}\n\
         - {id: 3, flag: 0}\n",
    );
    env.fx.write("seeds/flags/thing.csv", "id,flag\n1,true\n2,false\n3,1\n");
    let rows = |env: &Env| {
        env.query(
            "SELECT CAST(id AS CHAR), CAST(flag AS CHAR), LOWER(HEX(uid)), CAST(at AS CHAR), CAST(ts AS CHAR), CAST(day AS CHAR), CAST(JSON_EXTRACT(meta, '$.a[1]') AS CHAR), LOWER(HEX(raw)), CAST(price AS CHAR) FROM thing ORDER BY id",
        )
    };
    env.dbm(&["seed"]).ok();
    let seeded = rows(&env);
    let s = |x: &str| x.to_string();
    assert_eq!(
        seeded[0],
        [
            s("1"),
            s("1"),
            s("67e5504410b1426f9247bb680e5fe0c8"),
            s("2024-01-02 03:04:05"),
            s("2024-01-02 03:04:05"),
            s("2024-02-29"),
            s("2"),
            s("00ff"),
            s("1.50")
        ]
    );
    assert_eq!(seeded[1][1], "0");
    assert_eq!(seeded[1][3], "2024-01-02 03:04:05");
    assert_eq!(seeded[1][4], "2024-01-02 03:04:05");
    assert_eq!(seeded[2][1], "0");
    for format in ["yaml", "csv", "json"] {
        env.dbm(&["seed", "--dump", "--profile", "snap", "--dump-format", format])
            .ok();
        env.dbm(&["seed", "--profile", "snap", "--clear", "--yes"]).ok();
        assert_eq!(rows(&env), seeded, "{format}");
    }
    env.dbm(&["seed", "--profile", "flags", "--clear", "--yes"]).ok();
    let flags: Vec<String> = rows(&env).into_iter().map(|r| r[1].clone()).collect();
    assert_eq!(flags, ["1", "0", "1"]);
}
