//! Bad input gets a clear message, a documented exit code, and no change.

use crate::support::{
    Fixture,
    pg::{PG_PASSWORD, PgCluster},
    run_in,
};

#[test]
fn outside_a_workspace() {
    let dir = tempfile::tempdir().unwrap();
    let out = run_in(dir.path(), &["status"], &[]);
    out.expect_code(4)
        .contains("could not find a cargo workspace")
        .contains("--manifest-path");
}

#[test]
fn without_a_migration_crate() {
    let fx = Fixture::bare();
    for cmd in ["status", "up", "create"] {
        let args: Vec<&str> = if cmd == "create" { vec![cmd, "x"] } else { vec![cmd] };
        let out = fx.dbm(&args);
        out.expect_code(4)
            .contains("no migration crate")
            .contains("cargo dbm init");
    }
    assert!(!fx.path("migration").exists());
    assert!(!fx.path("data").exists(), "no database was created");
}

#[test]
fn malformed_urls() {
    let fx = Fixture::init();
    for url in [
        "postgres://bob:hunter2@/nodb",
        "nosuch://bob:hunter2@x/y",
        "postgres://bob:hunter2@localhost",
    ] {
        let out = fx.dbm(&["status", "--database-url", url]);
        out.expect_code(5).contains("invalid database URL");
        assert!(!out.all().contains("hunter2"), "password printed: {}", out.all());
    }
    let out = fx.dbm_env(&["status"], &[("DATABASE_URL", "mysql://u:hunter2@h/db")]);
    out.expect_code(5).contains("MySQL");
    assert!(!out.all().contains("hunter2"));
}

#[test]
fn unreachable_database_hides_the_password() {
    let fx = Fixture::init();
    // A port nobody listens on.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let url = format!("postgres://bob:hunter2@127.0.0.1:{port}/app");
    for cmd in ["status", "up", "history"] {
        let out = fx.dbm(&[cmd, "--database-url", &url]);
        out.expect_code(6)
            .contains("could not connect")
            .contains("bob:***@127.0.0.1");
        assert!(!out.all().contains("hunter2"), "password printed: {}", out.all());
    }
}

#[test]
fn wrong_password_is_reported_without_any_password() {
    let pg = PgCluster::start();
    pg.create_database("app");
    let fx = Fixture::init();
    let url = format!("postgres://postgres:not-{PG_PASSWORD}@127.0.0.1:{}/app", pg.port());
    let out = fx.dbm(&["status", "--database-url", &url]);
    out.expect_code(6).contains("password authentication failed");
    assert!(!out.all().contains(PG_PASSWORD), "{}", out.all());
    let out = fx.dbm(&["status", "--database-url", &pg.url("app")]);
    assert!(!out.all().contains(PG_PASSWORD), "{}", out.all());
}

#[test]
fn json_errors_are_machine_readable() {
    let dir = tempfile::tempdir().unwrap();
    let out = run_in(dir.path(), &["status", "--format", "json"], &[]);
    out.expect_code(4);
    let v = out.json();
    assert_eq!(v["exit_code"], 4);
    assert!(v["error"].as_str().unwrap().contains("cargo workspace"));
}
