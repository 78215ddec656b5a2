//! `cargo dbm create NAME --autogenerate` (#5): the generated file compiles, applying it
//! makes the difference empty, its `down` restores the previous schema, on every engine.

use crate::support::Env;
use crate::tri;

const ITEM: &str = r#"use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "item")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    pub count: i64,
    pub small: i16,
    pub ratio: f32,
    pub score: f64,
    pub active: bool,
    #[sea_orm(unique)]
    pub code: String,
    pub label: Option<String>,
    #[sea_orm(column_type = "Text")]
    pub notes: String,
    #[sea_orm(indexed)]
    pub day: Date,
    pub at: DateTime,
    pub at_tz: DateTimeWithTimeZone,
    #[sea_orm(column_type = "Decimal(Some((10, 2)))")]
    pub price: Decimal,
    pub uid: Uuid,
    pub meta: Json,
    pub raw: Vec<u8>,
    #[sea_orm(default_value = 7)]
    pub stock: i32,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
"#;

const COMMENT: &str = r#"use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "comment")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    pub post_id: i32,
    pub text: String,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(belongs_to = "super::post::Entity", from = "Column::PostId", to = "super::post::Column::Id", on_delete = "Cascade")]
    Post,
}

impl Related<super::post::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Post.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
"#;

fn autogen(env: &Env, name: &str) -> serde_json::Value {
    let out = env.dbm(&["create", name, "--autogenerate", "--format", "json"]);
    out.ok();
    out.json()
}

/// The `user` table, quoted (MySQL quotes with backticks).
fn user_table(env: &Env) -> &'static str {
    if env.is_mariadb() { "`user`" } else { "\"user\"" }
}

fn tables_and_columns(env: &Env) -> Vec<(String, Vec<String>)> {
    env.tables()
        .into_iter()
        .map(|t| {
            let c = env.columns(&t);
            (t, c)
        })
        .collect()
}

tri!(autogenerate_writes_what_the_entities_need, |env| {
    // 1. From nothing: the entities' tables (user, post, item with many column types).
    env.fx.write("entity/src/item.rs", ITEM);
    env.fx
        .write("entity/src/lib.rs", "pub mod item;\npub mod post;\npub mod user;\n");
    let first = autogen(&env, "initial schema");
    let file = first["created"]["file"].as_str().unwrap().to_string();
    let text = std::fs::read_to_string(&file).unwrap();
    assert!(text.contains("manager\n            .create_table("), "{text}");
    assert!(text.contains("Alias::new(\"item\")"));
    env.dbm(&["up"]).ok();
    let mut tables = env.tables();
    tables.retain(|t| t != "dbm_history" && t != "seaql_migrations");
    assert_eq!(tables, ["item", "post", "user"]);
    assert_eq!(env.columns("item").len(), 17);
    // Applied, the difference is empty: nothing more to write.
    let again = autogen(&env, "nothing");
    assert!(again["created"].is_null(), "{again}");
    env.dbm(&["verify"]).ok();
    env.dbm(&["check"]).ok();

    // 2. Entities change: a new column, a dropped column, a nullability change, a new table
    //    with a foreign key, a rename declared with renamed_from.
    env.exec(&format!(
        "INSERT INTO {} (id, name, email) VALUES (1, 'Ada', 'ada@example.com')",
        user_table(&env)
    ));
    env.exec("INSERT INTO post (id, user_id, title, body) VALUES (1, 1, 'Hello', 'World')");
    let user = env.fx.read("entity/src/user.rs").replace(
        "    pub name: String,\n",
        "    #[sea_orm(renamed_from = \"name\")]\n    pub full_name: String,\n    pub phone: Option<String>,\n",
    );
    env.fx.write("entity/src/user.rs", &user);
    let post = env.fx.read("entity/src/post.rs").replace(
        "    pub title: String,\n    pub body: String,\n",
        "    pub title: Option<String>,\n",
    );
    env.fx.write("entity/src/post.rs", &post);
    env.fx.write("entity/src/comment.rs", COMMENT);
    env.fx.write(
        "entity/src/lib.rs",
        "pub mod comment;\npub mod item;\npub mod post;\npub mod user;\n",
    );
    let before = tables_and_columns(&env);
    // The CI gate sees that the entities moved away from the migrations.
    env.dbm(&["check"])
        .expect_code(13)
        .contains("the entities differ from the migrations")
        .contains("--autogenerate");
    let verify = env.dbm(&["verify"]);
    verify.expect_code(14).contains("differs from the entities");
    // No migration caused the drift: none is blamed.
    assert!(!verify.stderr.contains("migration `m"), "{}", verify.stderr);

    let second = autogen(&env, "user phone and comments");
    let changes: Vec<&str> = second["changes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap())
        .collect();
    assert!(changes.contains(&"table `comment` added (3 columns)"), "{changes:?}");
    assert!(
        changes.iter().any(|c| c.starts_with("column `post.body` dropped")),
        "{changes:?}"
    );
    let destructive = second["destructive"].as_array().unwrap();
    assert_eq!(destructive.len(), 1, "only post.body destroys data: {destructive:?}");
    let text = std::fs::read_to_string(second["created"]["file"].as_str().unwrap()).unwrap();
    assert!(text.contains("WARNING: column `post.body` dropped"), "{text}");

    env.dbm(&["up"]).ok();
    // SQLite rebuilds the table in the entity's column order; PostgreSQL appends the new column.
    let mut user_cols = env.columns("user");
    user_cols.sort();
    assert_eq!(user_cols, ["email", "full_name", "id", "phone"]);
    assert_eq!(
        env.query(&format!("SELECT full_name FROM {}", user_table(&env))),
        [["Ada"]],
        "the rename kept the data"
    );
    assert_eq!(env.columns("post"), ["id", "user_id", "title"]);
    assert_eq!(env.query("SELECT title FROM post"), [["Hello"]]);
    env.exec("INSERT INTO post (id, user_id, title) VALUES (2, 1, NULL)");
    assert_eq!(env.columns("comment"), ["id", "post_id", "text"]);
    assert!(autogen(&env, "nothing again")["created"].is_null());

    // 3. Its down restores the previous schema. Restoring `post.body` (NOT NULL, no default)
    //    cannot invent values for existing rows: the file says so, and the down fails safely.
    assert!(
        text.contains("WARNING: in `down`: column `post.body` is NOT NULL without a default"),
        "{text}"
    );
    // (MySQL commits DDL as it goes: a down that fails there cannot be rolled back, see
    // `mariadb::a_migration_that_fails_halfway_is_reported_as_partially_applied`.)
    if !env.is_mariadb() {
        env.dbm(&["down"]).expect_code(9).contains("rolled back");
        assert_eq!(
            env.query(&format!("SELECT full_name FROM {}", user_table(&env))),
            [["Ada"]],
            "nothing changed"
        );
    }
    env.exec("DELETE FROM post");
    env.dbm(&["down"]).ok();
    assert_eq!(tables_and_columns(&env), before);
    assert_eq!(env.query(&format!("SELECT name FROM {}", user_table(&env))), [["Ada"]]);
    env.dbm(&["verify"]).ok();
});

const FEELING: &str = r#"use sea_orm::entity::prelude::*;

#[derive(Debug, Clone, PartialEq, Eq, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "Enum", enum_name = "mood")]
pub enum Mood {
    #[sea_orm(string_value = "happy")]
    Happy,
    #[sea_orm(string_value = "sad")]
    Sad,
}

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "feeling")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    pub mood: Mood,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
"#;

#[test]
fn postgres_enums_are_created_extended_and_dropped() {
    let env = Env::postgres();
    let labels = |env: &Env| {
        env.query(
            "SELECT e.enumlabel::text FROM pg_enum e JOIN pg_type t ON t.oid = e.enumtypid \
             WHERE t.typname = 'mood' ORDER BY e.enumsortorder",
        )
        .into_iter()
        .map(|r| r[0].clone())
        .collect::<Vec<_>>()
    };
    env.fx.write("entity/src/feeling.rs", FEELING);
    env.fx
        .write("entity/src/lib.rs", "pub mod feeling;\npub mod post;\npub mod user;\n");
    let first = autogen(&env, "initial schema");
    let text = std::fs::read_to_string(first["created"]["file"].as_str().unwrap()).unwrap();
    assert!(text.contains(".create_type("), "{text}");
    env.dbm(&["up"]).ok();
    assert_eq!(labels(&env), ["happy", "sad"]);
    assert_eq!(
        env.query("SELECT udt_name::text FROM information_schema.columns WHERE table_name = 'feeling' AND column_name = 'mood'"),
        [["mood"]]
    );
    env.exec("INSERT INTO feeling (id, mood) VALUES (1, 'sad')");
    assert!(autogen(&env, "nothing")["created"].is_null());

    // A new value: the type is extended in place, the row keeps its value.
    let more = FEELING.replace(
        "    Sad,\n}",
        "    Sad,\n    #[sea_orm(string_value = \"calm\")]\n    Calm,\n}",
    );
    env.fx.write("entity/src/feeling.rs", &more);
    let second = autogen(&env, "calm mood");
    let text = std::fs::read_to_string(second["created"]["file"].as_str().unwrap()).unwrap();
    assert!(text.contains("calm"), "{text}");
    env.dbm(&["up"]).ok();
    assert_eq!(labels(&env), ["happy", "sad", "calm"]);
    env.exec("INSERT INTO feeling (id, mood) VALUES (2, 'calm')");
    assert!(autogen(&env, "nothing again")["created"].is_null());
    env.dbm(&["check"]).ok();

    // The entity goes away: its table and then its type are dropped.
    env.fx.write("entity/src/lib.rs", "pub mod post;\npub mod user;\n");
    std::fs::remove_file(env.fx.path("entity/src/feeling.rs")).unwrap();
    autogen(&env, "drop feelings");
    env.dbm(&["up"]).ok();
    assert!(labels(&env).is_empty());
    assert!(!env.tables().contains(&"feeling".to_string()));
}
