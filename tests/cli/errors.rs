//! Bad input gets a clear message, a documented exit code, and no change.

use crate::support::{
    Fixture,
    pg::{PG_PASSWORD, PgCluster},
    run_in,
};
use std::time::{Duration, Instant};

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
    // MySQL is supported: an unreachable server is a connection error naming the fix.
    let url = format!("mysql://u:hunter2@127.0.0.1:{}/db", closed_port());
    let out = fx.dbm_env(&["status"], &[("DATABASE_URL", url.as_str())]);
    out.expect_code(6).contains("MySQL/MariaDB server running");
    assert!(!out.all().contains("hunter2"));
}

/// A port on 127.0.0.1 that nobody listens on (connecting to it is refused).
fn closed_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Runs `cargo dbm ARGS` in the fixture and returns the output with how long it took.
fn timed(fx: &Fixture, args: &[&str], env: &[(&str, &str)]) -> (crate::support::Output, Duration) {
    let start = Instant::now();
    let out = fx.dbm_env(args, env);
    (out, start.elapsed())
}

/// Issue #10: a refused connection used to be retried for 34 s and then reported as "pool
/// timed out". It fails at once, says "refused" and names where it tried.
#[test]
fn a_refused_connection_fails_at_once_and_names_host_and_port() {
    let fx = Fixture::init();
    let port = closed_port();
    let url = format!("postgres://bob:hunter2@127.0.0.1:{port}/app");
    for cmd in ["status", "up", "history"] {
        let (out, took) = timed(&fx, &[cmd, "--database-url", &url], &[]);
        out.expect_code(6)
            .contains("could not connect")
            .contains("bob:***@127.0.0.1")
            .contains(&format!("connection refused by 127.0.0.1:{port}"))
            .contains(&format!(
                "is the PostgreSQL server running and accepting connections on 127.0.0.1:{port}?"
            ));
        assert!(!out.all().contains("hunter2"), "password printed: {}", out.all());
        assert!(!out.all().contains("pool timed out"), "{}", out.all());
        // A sanity bound, not a benchmark: it used to take 34 s.
        assert!(took < Duration::from_secs(15), "`{cmd}` took {took:?}");
    }
    let (out, _) = timed(&fx, &["status", "--format", "json", "--database-url", &url], &[]);
    out.expect_code(6);
    let v = out.json();
    assert!(v["error"].as_str().unwrap().contains("refused"), "{v}");
    assert!(
        v["hint"].as_str().unwrap().contains(&format!("127.0.0.1:{port}")),
        "{v}"
    );
}

#[test]
fn an_unknown_host_is_named() {
    let fx = Fixture::init();
    let (out, took) = timed(
        &fx,
        &[
            "status",
            "--database-url",
            "postgres://bob:hunter2@nonexistent.invalid:5432/app",
        ],
        &[],
    );
    out.expect_code(6)
        .contains("could not resolve host `nonexistent.invalid`")
        .contains("check the host name `nonexistent.invalid` in the URL");
    assert!(!out.all().contains("hunter2"), "password printed: {}", out.all());
    assert!(took < Duration::from_secs(15), "took {took:?}");
}

/// A server that accepts the TCP connection and never answers (a stand-in for a black-holed
/// network): the connect timeout ends the wait, and `--connect-timeout` or
/// `CARGO_DBM_CONNECT_TIMEOUT` sets it.
#[test]
fn a_server_that_never_answers_times_out() {
    let fx = Fixture::init();
    // The kernel completes the handshake for the backlog; nothing ever reads or replies.
    let silent = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = silent.local_addr().unwrap().port();
    let url = format!("postgres://bob:hunter2@127.0.0.1:{port}/app");
    let flag: &[&str] = &["status", "--connect-timeout", "1", "--database-url", &url];
    let env_var: &[&str] = &["status", "--database-url", &url];
    for (args, env) in [(flag, &[][..]), (env_var, &[("CARGO_DBM_CONNECT_TIMEOUT", "1.5")][..])] {
        let (out, took) = timed(&fx, args, env);
        out.expect_code(6)
            .contains(&format!("no answer from 127.0.0.1:{port} within"))
            .contains("timed out")
            .contains("--connect-timeout");
        assert!(!out.all().contains("hunter2"), "password printed: {}", out.all());
        assert!(took >= Duration::from_secs(1), "gave up before the timeout: {took:?}");
        assert!(took < Duration::from_secs(15), "took {took:?}");
    }
    for bad in ["--connect-timeout=0", "--connect-timeout=-1", "--connect-timeout=soon"] {
        fx.dbm(&["status", bad, "--database-url", &url])
            .expect_code(2)
            .contains("number of seconds");
    }
    drop(silent);
}

/// Authentication failures and a missing database come from the server at once, in its
/// words, with the fix.
#[test]
fn wrong_password_and_missing_database_name_the_cause() {
    let pg = PgCluster::start();
    pg.create_database("app");
    let fx = Fixture::init();
    let port = pg.port();
    let url = format!("postgres://postgres:not-{PG_PASSWORD}@127.0.0.1:{port}/app");
    let (out, took) = timed(&fx, &["status", "--database-url", &url], &[]);
    out.expect_code(6)
        .contains("password authentication failed for user \"postgres\"")
        .contains("check the user (`postgres`) and the password in the URL");
    assert!(!out.all().contains(PG_PASSWORD), "{}", out.all());
    assert!(took < Duration::from_secs(15), "took {took:?}");
    // The same password in the query string, wrong and right.
    let url = format!("postgres://postgres@127.0.0.1:{port}/app?password=not-{PG_PASSWORD}");
    let out = fx.dbm(&["status", "--database-url", &url]);
    out.expect_code(6).contains("password authentication failed");
    assert!(!out.all().contains(PG_PASSWORD), "{}", out.all());
    let out = fx.dbm(&["status", "--database-url", &pg.url("app")]);
    out.ok();
    assert!(!out.all().contains(PG_PASSWORD), "{}", out.all());

    let url = pg.url("no_such_db");
    let (out, took) = timed(&fx, &["status", "--database-url", &url], &[]);
    out.expect_code(6)
        .contains("database \"no_such_db\" does not exist")
        .contains(&format!("createdb -h 127.0.0.1 -p {port} -U postgres no_such_db"));
    assert!(!out.all().contains(PG_PASSWORD), "{}", out.all());
    assert!(took < Duration::from_secs(15), "took {took:?}");
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
