//! Each rule: a migration that breaks it and one written the safe way. Statements are
//! sea-query's own output where sea-query can write them.

use super::*;
use sea_orm::sea_query::{
    ColumnDef, Expr, ForeignKey, ForeignKeyAction, Index, PostgresQueryBuilder, SqliteQueryBuilder, Table,
};

fn mig(version: &str, source: &str, statements: &[&str]) -> MigrationSql {
    MigrationSql {
        version: version.into(),
        file: PathBuf::from(format!("migration/src/{version}.rs")),
        source: source.into(),
        statements: statements.iter().map(|s| s.to_string()).collect(),
    }
}

const PLAIN: &str = "use sea_orm_migration::prelude::*;\n";
const NO_TX: &str = "impl MigrationTrait for Migration {\n    fn use_transaction(&self) -> Option<bool> {\n        Some(false)\n    }\n    async fn up(&self) {}\n}\n";

fn run_with(engine: Engine, migrations: &[MigrationSql], allow: &[String], rows: &HashMap<String, u64>) -> Vec<Finding> {
    lint(migrations, &Options { engine, allow, row_counts: rows }).unwrap()
}

fn pg(statements: &[&str]) -> Vec<Finding> {
    run_with(Engine::Postgres, &[mig("m1", PLAIN, statements)], &[], &HashMap::new())
}

fn pg_src(source: &str, statements: &[&str]) -> Vec<Finding> {
    run_with(Engine::Postgres, &[mig("m1", source, statements)], &[], &HashMap::new())
}

fn names(findings: &[Finding]) -> Vec<&str> {
    findings.iter().map(|f| f.rule.as_str()).collect()
}

/// The only finding is `rule`, on statement `index`, with the rule's default severity.
#[track_caller]
fn only(findings: &[Finding], rule: &str, index: usize) {
    assert_eq!(names(findings), [rule], "{findings:#?}");
    assert_eq!(findings[0].statement_index, index);
    let default = rules().into_iter().find(|r| r.0 == rule).unwrap().1;
    assert_eq!(findings[0].severity, default);
    assert!(!findings[0].message.is_empty() && !findings[0].fix.is_empty());
}

fn add_column_pg(col: &mut ColumnDef) -> String {
    Table::alter().table("user").add_column(col.to_owned()).to_owned().to_string(PostgresQueryBuilder)
}

fn create_user_pg() -> String {
    Table::create()
        .table("user")
        .col(ColumnDef::new("id").integer().not_null().auto_increment().primary_key())
        .col(ColumnDef::new("email").string().not_null())
        .to_owned()
        .to_string(PostgresQueryBuilder)
}

#[test]
fn lint_sea_query_output_is_what_the_tests_expect() {
    assert_eq!(
        add_column_pg(ColumnDef::new("phone").string().not_null()),
        r#"ALTER TABLE "user" ADD COLUMN "phone" varchar NOT NULL"#
    );
    assert_eq!(
        Index::create().name("idx-user-email").table("user").col("email").to_owned().to_string(PostgresQueryBuilder),
        r#"CREATE INDEX "idx-user-email" ON "user" ("email")"#
    );
}

#[test]
fn lint_pg_not_null_column_without_default() {
    let bad = add_column_pg(ColumnDef::new("phone").string().not_null());
    let f = pg(&[&bad]);
    only(&f, "adding-required-field", 0);
    assert_eq!(f[0].severity, Severity::Error);
    assert_eq!(f[0].statement, bad);
    assert!(f[0].fix.contains("NOT VALID"), "{}", f[0].fix);

    assert!(pg(&[&add_column_pg(ColumnDef::new("phone").string().null())]).is_empty());
    assert!(pg(&[&add_column_pg(ColumnDef::new("phone").string().not_null().default(""))]).is_empty());
}

#[test]
fn lint_pg_volatile_default() {
    let bad = add_column_pg(ColumnDef::new("token").uuid().not_null().default(Expr::cust("gen_random_uuid()")));
    only(&pg(&[&bad]), "adding-field-with-default", 0);
    // sea-query's auto_increment on an added column is a serial: a nextval() default.
    let serial = add_column_pg(ColumnDef::new("n").integer().not_null().auto_increment());
    assert!(serial.contains("serial"), "{serial}");
    only(&pg(&[&serial]), "adding-field-with-default", 0);

    assert!(pg(&[&add_column_pg(ColumnDef::new("n").integer().not_null().default(0))]).is_empty());
    assert!(pg(&[&add_column_pg(ColumnDef::new("at").timestamp_with_time_zone().not_null().default(Expr::current_timestamp()))]).is_empty());
}

#[test]
fn lint_pg_set_not_null() {
    let bad = Table::alter()
        .table("user")
        .modify_column(ColumnDef::new("phone").not_null())
        .to_owned()
        .to_string(PostgresQueryBuilder);
    assert!(bad.contains("SET NOT NULL"), "{bad}");
    only(&pg(&[&bad]), "adding-not-nullable-field", 0);

    // The safe way: the CHECK added NOT VALID in an earlier migration, validated here.
    let safe = pg(&[
        r#"ALTER TABLE "user" VALIDATE CONSTRAINT "user_phone_not_null""#,
        r#"ALTER TABLE "user" ALTER COLUMN "phone" SET NOT NULL"#,
        r#"ALTER TABLE "user" DROP CONSTRAINT "user_phone_not_null""#,
    ]);
    assert_eq!(names(&safe), ["ban-drop-constraint"], "{safe:#?}");
    assert_eq!(safe[0].severity, Severity::Info);
}

#[test]
fn lint_pg_index_without_concurrently() {
    let bad = Index::create().name("idx-user-email").table("user").col("email").to_owned().to_string(PostgresQueryBuilder);
    let f = pg(&[&bad]);
    only(&f, "require-concurrent-index-creation", 0);
    assert!(f[0].message.contains("SHARE lock"));
    assert!(f[0].fix.contains("use_transaction"));
    let unique = Index::create().name("u").table("user").col("email").unique().to_owned().to_string(PostgresQueryBuilder);
    only(&pg(&[&unique]), "require-concurrent-index-creation", 0);

    let safe = r#"CREATE INDEX CONCURRENTLY "idx-user-email" ON "user" ("email")"#;
    assert!(pg_src(NO_TX, &[safe]).is_empty());
    // CONCURRENTLY inside cargo dbm's transaction fails.
    only(&pg(&[safe]), "ban-concurrent-index-creation-in-transaction", 0);
}

#[test]
fn lint_pg_foreign_key_without_not_valid() {
    let bad = ForeignKey::create()
        .name("fk-post-user")
        .from("post", "user_id")
        .to("user", "id")
        .on_delete(ForeignKeyAction::Cascade)
        .to_owned()
        .to_string(PostgresQueryBuilder);
    assert_eq!(
        bad,
        r#"ALTER TABLE "post" ADD CONSTRAINT "fk-post-user" FOREIGN KEY ("user_id") REFERENCES "user" ("id") ON DELETE CASCADE"#
    );
    let f = pg(&[&bad]);
    only(&f, "adding-foreign-key-constraint", 0);
    assert!(f[0].message.contains("SHARE ROW EXCLUSIVE"));

    let add = format!("{bad} NOT VALID");
    assert!(pg(&[&add]).is_empty());
    let validate = r#"ALTER TABLE "post" VALIDATE CONSTRAINT "fk-post-user""#;
    assert!(pg(&[validate]).is_empty());
    // Validated in the transaction that added it: the scan holds the ADD's lock.
    only(&pg(&[&add, validate]), "constraint-missing-not-valid", 1);
}

#[test]
fn lint_pg_check_without_not_valid() {
    let bad = r#"ALTER TABLE "user" ADD CONSTRAINT "age-positive" CHECK ("age" >= 0)"#;
    only(&pg(&[bad]), "constraint-missing-not-valid", 0);
    assert!(pg(&[&format!("{bad} NOT VALID")]).is_empty());
}

#[test]
fn lint_pg_unique_constraint() {
    let f = pg(&[r#"ALTER TABLE "user" ADD CONSTRAINT "user-email" UNIQUE ("email")"#]);
    only(&f, "disallowed-unique-constraint", 0);
    let f = pg(&[&add_column_pg(ColumnDef::new("code").string().null().unique_key())]);
    only(&f, "disallowed-unique-constraint", 0);
    assert!(pg(&[r#"ALTER TABLE "user" ADD CONSTRAINT "user-email" UNIQUE USING INDEX "idx-user-email""#]).is_empty());
}

#[test]
fn lint_pg_type_change() {
    let bad = Table::alter()
        .table("user")
        .modify_column(ColumnDef::new("age").big_integer())
        .to_owned()
        .to_string(PostgresQueryBuilder);
    assert!(bad.contains("TYPE bigint"), "{bad}");
    only(&pg(&[&bad]), "changing-column-type", 0);
    // The safe way: a new column, backfilled.
    let safe = pg(&[
        &add_column_pg(ColumnDef::new("age_big").big_integer().null()),
        r#"UPDATE "user" SET "age_big" = "age" WHERE "id" BETWEEN 1 AND 1000"#,
    ]);
    assert!(safe.is_empty(), "{safe:#?}");
}

#[test]
fn lint_pg_renames_and_drops() {
    only(&pg(&[&Table::alter().table("user").rename_column("name", "full_name").to_owned().to_string(PostgresQueryBuilder)]), "renaming-column", 0);
    only(&pg(&[&Table::rename().table("user", "account").to_owned().to_string(PostgresQueryBuilder)]), "renaming-table", 0);
    only(&pg(&[&Table::alter().table("user").drop_column("phone").to_owned().to_string(PostgresQueryBuilder)]), "ban-drop-column", 0);
    only(&pg(&[&Table::drop().table("user").to_owned().to_string(PostgresQueryBuilder)]), "ban-drop-table", 0);
    only(&pg(&[&Table::drop().table("user").if_exists().cascade().to_owned().to_string(PostgresQueryBuilder)]), "ban-drop-table", 0);
    // The safe way: add and backfill; the old column is dropped in a later release.
    let safe = pg(&[
        &add_column_pg(ColumnDef::new("full_name").string().null()),
        r#"UPDATE "user" SET "full_name" = "name""#,
    ]);
    assert!(safe.is_empty(), "{safe:#?}");
}

#[test]
fn lint_pg_table_rewrites() {
    only(&pg(&[r#"VACUUM FULL "user""#]), "prefer-repack", 0);
    only(&pg(&[r#"CLUSTER "user" USING "user_pkey""#]), "prefer-repack", 0);
    assert!(pg(&[r#"VACUUM "user""#]).is_empty());
    only(&pg(&[r#"REINDEX TABLE "user""#]), "require-concurrent-reindex", 0);
    assert!(pg_src(NO_TX, &[r#"REINDEX TABLE CONCURRENTLY "user""#]).is_empty());
}

#[test]
fn lint_pg_tables_created_in_the_same_migration_are_not_flagged() {
    let create = create_user_pg();
    let f = pg(&[
        &create,
        &Index::create().name("idx-user-email").table("user").col("email").to_owned().to_string(PostgresQueryBuilder),
        &add_column_pg(ColumnDef::new("phone").string().not_null()),
        &Table::alter().table("user").modify_column(ColumnDef::new("phone").not_null()).to_owned().to_string(PostgresQueryBuilder),
        r#"ALTER TABLE "user" ADD CONSTRAINT "user-email" UNIQUE ("email")"#,
        r#"ALTER TABLE "user" ADD CONSTRAINT "age-positive" CHECK ("email" <> '')"#,
        &ForeignKey::create().name("fk").from("user", "id").to("account", "id").to_owned().to_string(PostgresQueryBuilder),
        &Table::alter().table("user").drop_column("phone").to_owned().to_string(PostgresQueryBuilder),
        &Table::rename().table("user", "person").to_owned().to_string(PostgresQueryBuilder),
        // still new under its new name
        &Index::create().name("idx-person-email").table("person").col("email").to_owned().to_string(PostgresQueryBuilder),
        &Table::drop().table("person").to_owned().to_string(PostgresQueryBuilder),
    ]);
    assert!(f.is_empty(), "{f:#?}");
    // The same statements on the table in the next migration are flagged.
    let next = run_with(
        Engine::Postgres,
        &[
            mig("m1", PLAIN, &[&create]),
            mig("m2", PLAIN, &[&Index::create().name("i").table("user").col("email").to_owned().to_string(PostgresQueryBuilder)]),
        ],
        &[],
        &HashMap::new(),
    );
    assert_eq!(names(&next), ["require-concurrent-index-creation"]);
    assert_eq!(next[0].version, "m2");
}

#[test]
fn lint_pg_unparsable_statement_is_info_and_does_not_hide_the_others() {
    let f = pg(&["THIS IS NOT SQL AT ALL (", r#"ALTER TABLE "user" DROP COLUMN "phone""#]);
    assert_eq!(names(&f), ["unparsable-statement", "ban-drop-column"], "{f:#?}");
    assert_eq!(f[0].severity, Severity::Info);
    assert_eq!((f[0].statement_index, f[1].statement_index), (0, 1));
}

#[test]
fn lint_pg_several_statements_in_one_string() {
    let f = pg(&[
        r#"CREATE TABLE "tag" ("id" serial PRIMARY KEY)"#,
        r#"CREATE INDEX "i1" ON "tag" ("id"); CREATE INDEX "i2" ON "user" ("email");"#,
    ]);
    assert_eq!(names(&f), ["require-concurrent-index-creation"], "{f:#?}");
    assert_eq!(f[0].statement_index, 1);
}

#[test]
fn lint_pg_identifier_too_long_names_it() {
    let long = "x".repeat(70);
    let f = pg(&[&format!(r#"CREATE TABLE "{long}" ("id" integer)"#)]);
    only(&f, "identifier-too-long", 0);
    assert!(f[0].message.contains(&long), "{}", f[0].message);
}

#[test]
fn lint_allow_marker_and_workspace_allow() {
    let drop = r#"ALTER TABLE "user" DROP COLUMN "phone""#;
    let rename = r#"ALTER TABLE "user" RENAME COLUMN "a" TO "b""#;
    let source = "// cargo-dbm: allow(ban-drop-column) -- the column is unused since v3\n";
    let f = pg_src(source, &[drop, rename]);
    assert_eq!(names(&f), ["renaming-column"]);
    let source = "    //   cargo-dbm:allow( ban-drop-column , renaming-column )\n";
    assert!(pg_src(source, &[drop, rename]).is_empty());
    // Only that migration.
    let f = run_with(
        Engine::Postgres,
        &[mig("m1", "// cargo-dbm: allow(ban-drop-column) -- ok\n", &[drop]), mig("m2", PLAIN, &[drop])],
        &[],
        &HashMap::new(),
    );
    assert_eq!(f.iter().map(|f| f.version.as_str()).collect::<Vec<_>>(), ["m2"]);
    // The workspace's list.
    let f = run_with(Engine::Postgres, &[mig("m1", PLAIN, &[drop, rename])], &["renaming-column".into()], &HashMap::new());
    assert_eq!(names(&f), ["ban-drop-column"]);
}

#[test]
fn lint_unknown_rule_names_are_config_errors() {
    let rows = HashMap::new();
    let m = [mig("m1", "// cargo-dbm: allow(ban-drop-colum) -- typo\n", &["SELECT 1"])];
    let err = lint(&m, &Options { engine: Engine::Postgres, allow: &[], row_counts: &rows }).unwrap_err();
    let Error::Config(msg) = &err else { panic!("{err:?}") };
    assert!(msg.contains("`ban-drop-colum`") && msg.contains("migration/src/m1.rs"), "{msg}");
    assert!(msg.contains("ban-drop-column, ") && msg.contains("sqlite-table-rebuild"), "{msg}");
    // Also on engines without rules, and for the workspace's list.
    assert!(lint(&m, &Options { engine: Engine::MySql, allow: &[], row_counts: &rows }).is_err());
    let m = [mig("m1", PLAIN, &["SELECT 1"])];
    let allow = ["nope".to_string()];
    let err = lint(&m, &Options { engine: Engine::Sqlite, allow: &allow, row_counts: &rows }).unwrap_err();
    assert!(matches!(&err, Error::Config(m) if m.contains("`nope` in `lint-allow`")), "{err:?}");
}

#[test]
fn lint_order_is_migration_statement_rule() {
    let f = run_with(
        Engine::Postgres,
        &[
            mig("m2", PLAIN, &[r#"ALTER TABLE "a" DROP COLUMN "x""#, r#"CREATE INDEX "i" ON "a" ("y")"#]),
            mig(
                "m1",
                PLAIN,
                &[
                    r#"ALTER TABLE "b" RENAME COLUMN "p" TO "q""#,
                    r#"ALTER TABLE "b" ADD COLUMN "z" integer NOT NULL, ADD CONSTRAINT "c" CHECK ("z" > 0), DROP COLUMN "w""#,
                ],
            ),
        ],
        &[],
        &HashMap::new(),
    );
    let got: Vec<(&str, usize, &str)> = f.iter().map(|f| (f.version.as_str(), f.statement_index, f.rule.as_str())).collect();
    assert_eq!(
        got,
        [
            ("m2", 0, "ban-drop-column"),
            ("m2", 1, "require-concurrent-index-creation"),
            ("m1", 0, "renaming-column"),
            ("m1", 1, "adding-required-field"),
            ("m1", 1, "ban-drop-column"),
            ("m1", 1, "constraint-missing-not-valid"),
        ]
    );
    let json = serde_json::to_value(&f[0]).unwrap();
    assert_eq!(json["severity"], "error");
    assert_eq!(json["rule"], "ban-drop-column");
}

#[test]
fn lint_mysql_has_no_rules_yet() {
    let f = run_with(Engine::MySql, &[mig("m1", PLAIN, &["DROP TABLE `user`"])], &[], &HashMap::new());
    assert!(f.is_empty());
}

#[test]
fn lint_rules_list() {
    let all = rules();
    let mut names: Vec<&str> = all.iter().map(|r| r.0).collect();
    names.sort_unstable();
    names.dedup();
    assert_eq!(names.len(), all.len(), "duplicate rule names");
    for (name, _, description) in &all {
        assert!(name.chars().all(|c| c.is_ascii_lowercase() || c == '-'), "{name}");
        assert!(!description.is_empty());
    }
    // Every squawk-sourced rule is squawk's name (squawk_rules() would panic otherwise).
    assert!(super::rules::squawk_rules().len() > 30);
    assert!(all.iter().any(|r| r.0 == "sqlite-table-rebuild" && r.1 == Severity::Warning));
}

#[test]
fn lint_use_transaction_detection() {
    assert!(super::postgres::opts_out_of_transaction(NO_TX));
    assert!(!super::postgres::opts_out_of_transaction(PLAIN));
    let some_true = NO_TX.replace("Some(false)", "Some(true)");
    assert!(!super::postgres::opts_out_of_transaction(&some_true));
}

// ---- SQLite

fn sqlite(statements: &[&str], rows: &[(&str, u64)]) -> Vec<Finding> {
    let rows: HashMap<String, u64> = rows.iter().map(|(t, n)| (t.to_string(), *n)).collect();
    run_with(Engine::Sqlite, &[mig("m1", PLAIN, statements)], &[], &rows)
}

#[test]
fn lint_sqlite_drops() {
    only(&sqlite(&[&Table::drop().table("user").to_owned().to_string(SqliteQueryBuilder)], &[]), "ban-drop-table", 0);
    only(&sqlite(&[&Table::alter().table("user").drop_column("phone").to_owned().to_string(SqliteQueryBuilder)], &[]), "ban-drop-column", 0);
    // Created in the same migration: not flagged.
    let create = Table::create()
        .table("tmp")
        .col(ColumnDef::new("id").integer().not_null().primary_key())
        .col(ColumnDef::new("x").integer())
        .to_owned()
        .to_string(SqliteQueryBuilder);
    let f = sqlite(
        &[&create, &Table::alter().table("tmp").drop_column("x").to_owned().to_string(SqliteQueryBuilder), &Table::drop().table("tmp").to_owned().to_string(SqliteQueryBuilder)],
        &[],
    );
    assert!(f.is_empty(), "{f:#?}");
    // Statements that take no such risk.
    assert!(sqlite(&[&Table::alter().table("user").add_column(ColumnDef::new("p").string().null()).to_owned().to_string(SqliteQueryBuilder)], &[]).is_empty());
}

fn rebuild_of_post() -> Vec<String> {
    vec![
        Table::create()
            .table("post_new_7f3a")
            .col(ColumnDef::new("id").integer().not_null().primary_key())
            .col(ColumnDef::new("title").string().not_null())
            .to_owned()
            .to_string(SqliteQueryBuilder),
        r#"INSERT INTO "post_new_7f3a" ("id", "title") SELECT "id", "title" FROM "post""#.into(),
        Table::drop().table("post").to_owned().to_string(SqliteQueryBuilder),
        Table::rename().table("post_new_7f3a", "post").to_owned().to_string(SqliteQueryBuilder),
        Index::create().name("idx-post-title").table("post").col("title").to_owned().to_string(SqliteQueryBuilder),
    ]
}

#[test]
fn lint_sqlite_rebuild_of_a_large_table_is_a_warning() {
    let stmts = rebuild_of_post();
    let stmts: Vec<&str> = stmts.iter().map(String::as_str).collect();
    let f = sqlite(&stmts, &[("post", 250_000)]);
    assert_eq!(names(&f), ["sqlite-table-rebuild"], "{f:#?}");
    assert_eq!((f[0].severity, f[0].statement_index), (Severity::Warning, 2));
    assert!(f[0].message.contains("`post` (250000 rows)"), "{}", f[0].message);

    let f = sqlite(&stmts, &[("post", 100_000)]);
    assert_eq!((names(&f), f[0].severity), (vec!["sqlite-table-rebuild"], Severity::Info));
    let f = sqlite(&stmts, &[]);
    assert_eq!(f[0].severity, Severity::Info);
    assert!(f[0].message.contains("row count unknown"));
    // The safe way for what a rebuild is often used for: a column added in place.
    assert!(sqlite(&[r#"ALTER TABLE "post" ADD COLUMN "summary" text"#], &[("post", 250_000)]).is_empty());
}

#[test]
fn lint_sqlite_rebuild_renaming_the_old_table_away() {
    let f = sqlite(
        &[
            r#"ALTER TABLE "Post" RENAME TO "_post_old""#,
            r#"CREATE TABLE "Post" ("id" integer NOT NULL PRIMARY KEY)"#,
            r#"INSERT INTO "Post" SELECT "id" FROM "_post_old""#,
            r#"DROP TABLE "_post_old""#,
        ],
        &[("post", 500_000)],
    );
    assert_eq!(names(&f), ["sqlite-table-rebuild"], "{f:#?}");
    assert_eq!((f[0].severity, f[0].statement_index), (Severity::Warning, 3));
    // Renamed away and dropped without a replacement: a drop.
    let f = sqlite(&[r#"ALTER TABLE "post" RENAME TO "old""#, r#"DROP TABLE "old""#], &[]);
    only(&f, "ban-drop-table", 1);
}

#[test]
fn lint_sqlite_allow_marker() {
    let stmts = rebuild_of_post();
    let f = run_with(
        Engine::Sqlite,
        &[mig("m1", "// cargo-dbm: allow(sqlite-table-rebuild) -- 2 s on prod data\n", &stmts.iter().map(String::as_str).collect::<Vec<_>>())],
        &[],
        &HashMap::from([("post".to_string(), 1_000_000)]),
    );
    assert!(f.is_empty());
}
