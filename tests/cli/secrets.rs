//! No secret of a database URL is ever printed (issue #10): not the userinfo password, not
//! `password=`/`sslpassword=` in the query string, by any command, in either format, from
//! any of the places a URL comes from, and not when the connection fails.

use crate::support::{
    Fixture, Output,
    pg::{PG_PASSWORD, PgCluster},
};

/// A port on 127.0.0.1 that nobody listens on (connecting to it is refused).
fn closed_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

#[track_caller]
fn assert_hidden(out: &Output, secrets: &[&str], what: &str) {
    for s in secrets {
        assert!(
            !out.stdout.contains(s) && !out.stderr.contains(s),
            "`{what}` printed {s:?}\n--- stdout\n{}\n--- stderr\n{}",
            out.stdout,
            out.stderr
        );
    }
}

/// `info`, `status` (both formats), `history` and `backup`, with the URL given by
/// `--database-url`, `DATABASE_URL` and `.env`, against a server that refuses connections.
#[test]
fn query_string_passwords_are_never_printed() {
    let fx = Fixture::init();
    let port = closed_port();
    let url = format!("postgres://app@127.0.0.1:{port}/db?password=hunter2&sslpassword=s3cr3t");
    let shown = format!("postgres://app@127.0.0.1:{port}/db?password=***&sslpassword=***");
    let secrets = ["hunter2", "s3cr3t"];
    let commands: &[&[&str]] = &[
        &["info"],
        &["info", "--format", "json"],
        &["status"],
        &["status", "--format", "json"],
        &["history"],
        &["backup"],
    ];
    for cmd in commands {
        let what = cmd.join(" ");
        let mut args = cmd.to_vec();
        args.extend(["--database-url", &url]);
        let by_flag = fx.dbm(&args);
        assert_hidden(&by_flag, &secrets, &format!("{what} --database-url"));
        let by_env = fx.dbm_env(cmd, &[("DATABASE_URL", &url)]);
        assert_hidden(&by_env, &secrets, &format!("{what} with DATABASE_URL"));
        for out in [&by_flag, &by_env] {
            if cmd[0] == "info" {
                out.ok().contains(&shown);
            } else {
                out.expect_code(6).contains(&shown).contains("refused");
            }
        }
    }
    let out = fx.dbm_env(&["info", "--format", "json"], &[("DATABASE_URL", &url)]);
    assert_eq!(out.json()["database"], shown.as_str());
    assert_eq!(out.json()["database_source"], "environment");

    fx.write(".env", &format!("DATABASE_URL={url}\n"));
    for cmd in commands {
        let out = fx.dbm(cmd);
        assert_hidden(&out, &secrets, &format!("{} with .env", cmd.join(" ")));
        out.contains(&shown);
    }
}

/// Passwords with `@`, `:`, `/`, `?`, percent-encoded, or in both places: no piece shows,
/// whether the URL is valid (`info` prints it) or not (the error quotes it).
#[test]
fn odd_passwords_are_hidden_whole() {
    let fx = Fixture::init();
    let port = closed_port();
    for (password, valid) in [
        ("pa55@w0rd", true),
        ("pa55:w0rd", true),
        ("pa55%40w0rd%2F", true),
        ("pa55/w0rd", false),
        ("pa55?w0rd", false),
    ] {
        let url = format!("postgres://app:{password}@127.0.0.1:{port}/db?sslpassword=pa55w0rd");
        for args in [vec!["info"], vec!["status", "--format", "json"]] {
            let mut args = args;
            args.extend(["--database-url", &url]);
            let out = fx.dbm(&args);
            assert_hidden(&out, &["pa55", "w0rd"], &format!("{} ({password})", args[0]));
            match (valid, args[0]) {
                (true, "info") => {
                    out.ok()
                        .contains(&format!("postgres://app:***@127.0.0.1:{port}/db?sslpassword=***"));
                }
                (true, _) => {
                    out.expect_code(6);
                }
                (false, _) => {
                    out.expect_code(5).contains("invalid database URL").contains("app:***@");
                }
            }
        }
    }
}

/// Against a real server: a URL whose password is in the query string works, and the
/// commands that print the URL (including `backup`, which hands it to `pg_dump`) do not
/// print the password.
#[test]
fn a_working_query_string_password_is_not_printed() {
    let pg = PgCluster::start();
    pg.create_database("app");
    let fx = Fixture::init();
    let url = format!(
        "postgres://postgres@127.0.0.1:{}/app?password={PG_PASSWORD}&sslpassword=s3cr3t",
        pg.port()
    );
    let secrets = [PG_PASSWORD, "s3cr3t"];
    for cmd in [
        &["info"][..],
        &["status"],
        &["status", "--format", "json"],
        &["backup"],
        &["backup", "--list"],
    ] {
        let out = fx.dbm_env(cmd, &[("DATABASE_URL", &url)]);
        out.ok();
        assert_hidden(&out, &secrets, &cmd.join(" "));
    }
    let out = fx.dbm_env(&["status", "--format", "json"], &[("DATABASE_URL", &url)]);
    assert_eq!(
        out.json()["database"],
        format!(
            "postgres://postgres@127.0.0.1:{}/app?password=***&sslpassword=***",
            pg.port()
        )
        .as_str()
    );
}
