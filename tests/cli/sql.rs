//! `cargo dbm sql` (#13): offline SQL scripts. A script applied with `sqlite3` or
//! `psql -v ON_ERROR_STOP=1 -f` to a fresh database reaches the schema and tracking rows
//! `cargo dbm up` reaches; the `--down` script takes it back.

use crate::dual;
use crate::support::*;

/// The schema (tables, columns, types, nullability) and the tracked versions of `url`.
fn shape(env: &Env, url: &str) -> Vec<String> {
    let columns = if env.is_postgres() {
        "SELECT table_name || '.' || column_name || ' ' || data_type || ' ' || is_nullable FROM information_schema.columns WHERE table_schema = current_schema() AND table_name <> 'dbm_history' ORDER BY 1"
    } else {
        "SELECT m.name || '.' || p.name || ' ' || p.type || ' ' || p.\"notnull\" FROM sqlite_master m JOIN pragma_table_info(m.name) p WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%' AND m.name <> 'dbm_history' ORDER BY 1"
    };
    let mut out: Vec<String> = query(url, columns).into_iter().map(|r| r.join(" ")).collect();
    let has_tracking = out.iter().any(|c| c.starts_with("seaql_migrations."));
    if has_tracking {
        out.extend(
            query(
                url,
                "SELECT 'tracked ' || version FROM seaql_migrations ORDER BY version",
            )
            .into_iter()
            .map(|r| r.join(" ")),
        );
    }
    out
}

/// Applies a script file the way the header says: `sqlite3 DB < FILE`, `psql -v ON_ERROR_STOP=1 -f FILE`.
fn apply(env: &Env, url: &str, file: &std::path::Path) {
    let out = if env.is_postgres() {
        std::process::Command::new("psql")
            .args(["-q", "-v", "ON_ERROR_STOP=1", "-f"])
            .arg(file)
            .arg(url)
            .output()
            .expect("psql")
    } else {
        let path = url.trim_start_matches("sqlite://");
        std::process::Command::new("sqlite3")
            .arg(path)
            .stdin(std::fs::File::open(file).unwrap())
            .output()
            .expect("sqlite3")
    };
    assert!(
        out.status.success(),
        "applying {} failed:\n{}\n{}",
        file.display(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A migration written with sea-query through the `SchemaManager`, as sea-orm-cli's template does.
const POSTS: &str = r#"use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Alias::new("post"))
                    .if_not_exists()
                    .col(ColumnDef::new(Alias::new("id")).integer().not_null().auto_increment().primary_key())
                    .col(ColumnDef::new(Alias::new("account_id")).integer().not_null())
                    .col(ColumnDef::new(Alias::new("title")).string().not_null().default("untitled"))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk-post-account")
                            .from(Alias::new("post"), Alias::new("account_id"))
                            .to(Alias::new("account"), Alias::new("id"))
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx-post-title")
                    .table(Alias::new("post"))
                    .col(Alias::new("title"))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table(Alias::new("post")).to_owned()).await
    }
}
"#;

dual!(a_script_applied_to_a_fresh_database_matches_up, |env| {
    env.fx.migration(
        "create accounts",
        "CREATE TABLE account (id INTEGER PRIMARY KEY, name TEXT NOT NULL)",
        "DROP TABLE account",
    );
    let posts = env.fx.migration_source("create posts", POSTS);
    env.fx.migration(
        "first account",
        "INSERT INTO account (id, name) VALUES (1, 'it''s me')",
        "DELETE FROM account WHERE id = 1",
    );

    let script = env.fx.path("up.sql");
    let out = env.dbm(&["sql", "base..head", "--output", script.to_str().unwrap()]);
    out.ok().contains("3 migration(s)");
    let text = std::fs::read_to_string(&script).unwrap();
    assert!(text.starts_with("-- cargo dbm sql: up base.."), "{text}");
    assert!(text.contains("scratch database"), "{text}");
    assert!(text.contains(&format!("-- {posts} (up)\nBEGIN;\n")), "{text}");
    assert!(text.contains("INSERT INTO \"seaql_migrations\""), "{text}");
    // The database itself was not touched.
    assert!(env.tables().is_empty(), "{:?}", env.tables());

    // The script on a fresh database, `up` on the workspace's: the same schema and rows.
    let fresh = env.scratch_url("fresh");
    apply(&env, &fresh, &script);
    env.dbm(&["up"]).ok();
    let expected = shape(&env, &env.url);
    assert!(expected.iter().any(|c| c.starts_with("post.title")), "{expected:?}");
    assert_eq!(shape(&env, &fresh), expected);
    assert_eq!(query(&fresh, "SELECT name FROM account"), [["it's me"]]);

    // With the database up to date, the default range is empty.
    env.dbm(&["sql"]).ok().contains("nothing to do");

    // The reverse script takes the fresh database back to base.
    let down = env.fx.path("down.sql");
    env.dbm(&["sql", "--down", "base..head", "-o", down.to_str().unwrap()])
        .ok();
    let text = std::fs::read_to_string(&down).unwrap();
    assert!(text.find(&format!("-- {posts} (down)")).unwrap() < text.find("create_accounts (down)").unwrap());
    apply(&env, &fresh, &down);
    let after = shape(&env, &fresh);
    assert!(
        !after.is_empty() && after.iter().all(|c| c.starts_with("seaql_migrations.")),
        "{after:?}"
    );
});

#[test]
fn a_script_needs_no_access_to_the_database() {
    let env = Env::postgres();
    env.fx.migration(
        "create accounts",
        "CREATE TABLE account (id INTEGER PRIMARY KEY, name TEXT NOT NULL)",
        "DROP TABLE account",
    );
    // Production cannot be reached; a scratch server can.
    let out = env.dbm(&[
        "sql",
        "--database-url",
        "postgres://deploy:s3cret@127.0.0.1:1/prod",
        "--scratch-url",
        &env.url,
    ]);
    out.ok();
    assert!(out.stdout.contains("CREATE TABLE account"), "{}", out.stdout);
    assert!(out.stdout.contains("could not be read"), "{}", out.stdout);
    assert!(!out.all().contains("s3cret"), "{}", out.all());
    // And the scratch server is left as it was.
    assert!(env.tables().is_empty(), "{:?}", env.tables());

    // A dry run needs the database, and says where to turn instead.
    env.dbm(&[
        "up",
        "--dry-run",
        "--database-url",
        "postgres://deploy:s3cret@127.0.0.1:1/prod",
    ])
    .expect_code(6)
    .contains("cargo dbm sql");

    // Ranges that do not resolve.
    env.dbm(&["sql", "head..base"])
        .expect_code(7)
        .contains("does not resolve");
    env.dbm(&["sql", "no_such_migration.."])
        .expect_code(7)
        .contains("no_such_migration");
}
