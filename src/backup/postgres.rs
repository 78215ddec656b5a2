//! PostgreSQL through the real `pg_dump` and `pg_restore`.
//!
//! The tools are found as `$PG_DUMP`/`$PG_RESTORE`, else in the highest
//! `/usr/lib/postgresql/<major>/bin` (Debian's layout: `/usr/bin/pg_dump` is a wrapper that
//! picks a version on its own), else on `PATH`. A `pg_dump` older than the server is refused
//! up front, naming both versions. The password goes in `PGPASSWORD`, never on the command
//! line; the tools' messages pass through [`redact_text`] before they are shown. Both tools
//! die with `cargo dbm` (`PR_SET_PDEATHSIG`), so a killed restore's transaction rolls back.

use crate::config::{DbUrl, redact_text};
use crate::error::{Error, Result};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// `pg_dump` and `pg_restore`, with `pg_dump`'s version.
#[derive(Debug, Clone)]
pub struct Tools {
    pub pg_dump: PathBuf,
    pub pg_restore: PathBuf,
    /// e.g. `15.4`.
    pub version: String,
    pub major: u32,
}

const HINT: &str = "install the PostgreSQL client tools matching the server (Debian: `apt-get install postgresql-client-<major>`), or point PG_DUMP and PG_RESTORE at them";

fn highest_debian_bin(tool: &str) -> Option<PathBuf> {
    let mut found: Vec<(Vec<u32>, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .flatten()
        .filter_map(|e| {
            let name = e.file_name().into_string().ok()?;
            let key = name
                .split('.')
                .map(|p| p.parse::<u32>().ok())
                .collect::<Option<Vec<u32>>>()?;
            let p = e.path().join("bin").join(tool);
            p.is_file().then_some((key, p))
        })
        .collect();
    found.sort();
    found.pop().map(|(_, p)| p)
}

fn find_tool(tool: &str, env: &str, beside: Option<&Path>) -> Result<PathBuf> {
    if let Some(p) = std::env::var_os(env).filter(|v| !v.is_empty()) {
        let p = PathBuf::from(p);
        let resolved = if p.components().count() == 1 {
            which::which(&p).ok()
        } else {
            p.is_file().then(|| p.clone())
        };
        return resolved.ok_or_else(|| Error::Tool {
            message: format!("{env}={} does not name a {tool} program", p.display()),
            hint: HINT.into(),
        });
    }
    if let Some(dir) = beside {
        let p = dir.join(tool);
        if p.is_file() {
            return Ok(p);
        }
    }
    highest_debian_bin(tool)
        .or_else(|| which::which(tool).ok())
        .ok_or_else(|| Error::Tool {
            message: format!("`{tool}` was not found (looked at ${env}, /usr/lib/postgresql/*/bin and PATH)"),
            hint: HINT.into(),
        })
}

/// Parses `pg_dump (PostgreSQL) 15.4 (Debian 15.4-1)` → (`15.4`, 15).
pub fn parse_version(out: &str) -> Option<(String, u32)> {
    let v = out.split(')').nth(1)?.split_whitespace().next()?;
    let major = v.split(|c: char| !c.is_ascii_digit()).next()?.parse().ok()?;
    Some((v.to_string(), major))
}

impl Tools {
    /// Finds `pg_dump` and `pg_restore` and reads `pg_dump --version`.
    pub fn find() -> Result<Tools> {
        let pg_dump = find_tool("pg_dump", "PG_DUMP", None)?;
        let pg_restore = find_tool("pg_restore", "PG_RESTORE", pg_dump.parent())?;
        let out = Command::new(&pg_dump)
            .arg("--version")
            .stdin(Stdio::null())
            .output()
            .map_err(|e| Error::Tool {
                message: format!("could not run {}: {e}", pg_dump.display()),
                hint: HINT.into(),
            })?;
        let text = String::from_utf8_lossy(&out.stdout);
        let (version, major) = parse_version(&text).ok_or_else(|| Error::Tool {
            message: format!(
                "{} --version printed {:?}, not a pg_dump version",
                pg_dump.display(),
                text.trim()
            ),
            hint: HINT.into(),
        })?;
        Ok(Tools {
            pg_dump,
            pg_restore,
            version,
            major,
        })
    }

    /// Refuses a `pg_dump` older than the server (`server_num` as `SHOW server_version_num`).
    pub fn check_server(&self, server_num: u32, server_version: &str) -> Result<()> {
        let server_major = if server_num >= 100_000 {
            server_num / 10_000
        } else {
            server_num / 100
        };
        if self.major < server_major {
            return Err(Error::Tool {
                message: format!(
                    "pg_dump {} ({}) is older than the PostgreSQL {server_version} server; it cannot dump it",
                    self.version,
                    self.pg_dump.display()
                ),
                hint: format!(
                    "install pg_dump {server_major} or newer (Debian: `apt-get install postgresql-client-{server_major}`), or point PG_DUMP and PG_RESTORE at it"
                ),
            });
        }
        Ok(())
    }

    /// Starts `tool` with `args`, connected to `url` when given, stdout and stderr piped
    /// (stdin piped when `stdin` is set, else closed).
    pub fn spawn(&self, tool: &Path, url: Option<&DbUrl>, args: &[String], stdin: bool) -> Result<std::process::Child> {
        let mut cmd = match url {
            Some(url) => self.command(tool, url),
            None => {
                let mut c = Command::new(tool);
                crate::process::die_with_parent(&mut c);
                c
            }
        };
        cmd.args(args)
            .stdin(if stdin { Stdio::piped() } else { Stdio::null() })
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let name = tool
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        cmd.spawn().map_err(|e| Error::Tool {
            message: format!("could not run {}: {e}", tool.display()),
            hint: format!("check that {name} is installed and executable"),
        })
    }

    /// `tool --dbname=<url without password>` with the password in `PGPASSWORD`.
    pub fn command(&self, tool: &Path, url: &DbUrl) -> Command {
        let mut cmd = Command::new(tool);
        let (conn, password) = split_password(url.expose());
        cmd.arg(format!("--dbname={conn}"));
        if let Some(pw) = password {
            cmd.env("PGPASSWORD", pw);
        }
        cmd.stdin(Stdio::null());
        crate::process::die_with_parent(&mut cmd);
        cmd
    }
}

/// A `pg_restore --list` table of contents without the entry that creates `schema` itself,
/// so that `pg_restore --clean` replaces the schema's objects but never drops the schema
/// (which would fail on any table created after the backup).
pub fn toc_without_schema_entry(toc: &str, schema: &str) -> String {
    toc.lines()
        .filter(|line| {
            let f: Vec<&str> = line.split_whitespace().collect();
            !(f.len() >= 6 && !line.starts_with(';') && f[3] == "SCHEMA" && f[4] == "-" && f[5] == schema)
        })
        .map(|l| format!("{l}\n"))
        .collect()
}

/// The URL without its password, and the (percent-decoded) password.
fn split_password(raw: &str) -> (String, Option<String>) {
    match url::Url::parse(raw) {
        Ok(mut u) => {
            let pw = u.password().map(crate::config::percent_decode);
            let _ = u.set_password(None);
            (u.to_string(), pw)
        }
        Err(_) => (raw.to_string(), None),
    }
}

/// A tool's stderr, redacted and trimmed to what helps.
pub fn tool_error(stderr: &[u8]) -> String {
    let text = redact_text(&String::from_utf8_lossy(stderr));
    let lines: Vec<&str> = text.lines().map(str::trim).filter(|l| !l.is_empty()).collect();
    let shown: Vec<&str> = lines.iter().rev().take(6).rev().copied().collect();
    shown.join("; ")
}

/// A writer into a child's stdin that, once the child closes it (as `pg_restore --list`
/// does after reading the table of contents), discards the rest: decompression goes on to
/// the end so that every checksum is still verified.
pub struct UntilClosed<W> {
    pub inner: Option<W>,
    /// The first bytes written, to recognise the content.
    pub head: Vec<u8>,
}

impl<W: std::io::Write> std::io::Write for UntilClosed<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if self.head.len() < 64 {
            let k = (64 - self.head.len()).min(buf.len());
            self.head.extend_from_slice(&buf[..k]);
        }
        if let Some(w) = &mut self.inner
            && let Err(e) = w.write_all(buf)
        {
            if e.kind() == std::io::ErrorKind::BrokenPipe {
                self.inner = None;
            } else {
                return Err(e);
            }
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        if let Some(w) = &mut self.inner {
            match w.flush() {
                Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => self.inner = None,
                r => return r,
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_schema_entry_is_left_out_of_the_list() {
        let toc = ";\n; Archive created at ...\n6; 2615 16386 SCHEMA - tenant app\n218; 1259 16387 TABLE tenant account app\n7; 2615 16390 SCHEMA - tenant2 app\n";
        let out = toc_without_schema_entry(toc, "tenant");
        assert!(!out.contains("SCHEMA - tenant app"));
        assert!(out.contains("TABLE tenant account app"));
        assert!(out.contains("SCHEMA - tenant2 app"));
        assert!(out.starts_with(";\n"));
    }

    #[test]
    fn versions_and_passwords() {
        assert_eq!(
            parse_version("pg_dump (PostgreSQL) 15.4 (Debian 15.4-1.pgdg120+1)\n"),
            Some(("15.4".into(), 15))
        );
        assert_eq!(parse_version("pg_dump (PostgreSQL) 9.6.24"), Some(("9.6.24".into(), 9)));
        let (u, p) = split_password("postgres://bob:p%40ss@db:5432/app?sslmode=disable");
        assert_eq!(u, "postgres://bob@db:5432/app?sslmode=disable");
        assert_eq!(p.as_deref(), Some("p@ss"));
        let (u, p) = split_password("postgres://db/app");
        assert_eq!(u, "postgres://db/app");
        assert_eq!(p, None);
    }
}
