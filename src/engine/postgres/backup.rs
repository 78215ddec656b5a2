//! PostgreSQL through the real `pg_dump` and `pg_restore`.
//!
//! The tools are found as `$PG_DUMP`/`$PG_RESTORE`, else in the highest
//! `/usr/lib/postgresql/<major>/bin` (Debian's layout: `/usr/bin/pg_dump` is a wrapper that
//! picks a version on its own), else on `PATH`. A `pg_dump` older than the server is refused
//! up front, naming both versions. The password goes in `PGPASSWORD`, never on the command
//! line; the tools' messages pass through [`redact_text`] before they are shown. Both tools
//! die with `cargo dbm` (`PR_SET_PDEATHSIG`), so a killed restore's transaction rolls back.

use crate::backup::compress::{self, Content};
use crate::backup::{TempFile, UntilClosed, decode_err, drain, refuse};
use crate::config::{DbUrl, redact_text};
use crate::db::{Create, Db};
use crate::engine::{Decompress, Dump, Engine};
use crate::error::{Error, IoContext, Result};
use crate::shell::{Counting, Shell};
use sea_orm::{ConnectionTrait, Statement};
use std::io::BufReader;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// `pg_dump --format=custom --compress=0` (the compression is cargo dbm's, on every core),
/// after checking that this `pg_dump` can dump the server.
pub async fn dump(db: Db, url: &DbUrl, _shell: &Shell, _scratch: &Path) -> Result<Dump> {
    let (num, version) = server_version(&db).await;
    db.close().await;
    let tools = Tools::find()?;
    tools.check_server(num, &version)?;
    let mut args: Vec<String> = ["--format=custom", "--compress=0", "--no-password"]
        .map(String::from)
        .into();
    // With a schema configured, the application's data is that schema: other schemas of
    // the database may belong to other applications.
    if let Some(schema) = &url.schema {
        args.push(format!("--schema={schema}"));
    }
    let mut child = tools.spawn(&tools.pg_dump, Some(url), &args, false)?;
    let mut stderr = child.stderr.take().expect("piped");
    let err_thread = std::thread::spawn(move || {
        let mut buf = Vec::new();
        let _ = std::io::Read::read_to_end(&mut stderr, &mut buf);
        buf
    });
    let stdout = child.stdout.take().expect("piped");
    Ok(Dump {
        reader: Box::new(BufReader::with_capacity(1 << 20, stdout)),
        size: None,
        label: "Dumping",
        server_version: Some(version),
        finish: Box::new(move |compressed| {
            if !compressed {
                let _ = child.kill();
            }
            let status = child.wait().context(|| "could not wait for pg_dump".to_string())?;
            let err = err_thread.join().unwrap_or_default();
            if !status.success() {
                return Err(Error::Database {
                    doing: "dumping the database with pg_dump".into(),
                    reason: format!("{status}: {}", tool_error(&err)),
                });
            }
            Ok(())
        }),
    })
}

/// `SHOW server_version_num` and `SHOW server_version`.
async fn server_version(db: &Db) -> (u32, String) {
    let get = |sql: &'static str| async move {
        db.conn
            .query_one_raw(Statement::from_string(db.backend(), sql))
            .await
            .ok()
            .flatten()
            .and_then(|r| r.try_get_by_index::<String>(0).ok())
            .unwrap_or_default()
    };
    let num = get("SHOW server_version_num").await.trim().parse().unwrap_or(0);
    let version = get("SHOW server_version").await;
    let version = version.split_whitespace().next().unwrap_or("?").to_string();
    (num, version)
}

/// A verified archive: its table of contents, read by `pg_restore --list`.
#[derive(Debug)]
pub struct Prepared {
    tools: Tools,
    /// `schema.table` of every table in the archive.
    tables: Vec<String>,
    /// The archive's table of contents (`pg_restore --list`).
    toc: String,
}

/// Feeds the decompressed archive to `pg_restore --list`, which reads its table of contents
/// (the rest is decompressed anyway, so that every checksum is verified).
pub async fn prepare(_url: &DbUrl, file: &Path, decompress: Decompress<'_>) -> Result<(Prepared, u64)> {
    let tools = Tools::find()?;
    let mut child = tools.spawn(&tools.pg_restore, None, &["--list".to_string()], true)?;
    let stdin = child.stdin.take().expect("piped");
    let (out_t, err_t) = drain(&mut child);
    let mut w = UntilClosed {
        inner: Some(stdin),
        head: Vec::new(),
    };
    let r = decompress(&mut w);
    drop(w.inner.take());
    let status = child.wait().context(|| "could not wait for pg_restore".to_string())?;
    let toc = out_t.join().unwrap_or_default();
    let err = err_t.join().unwrap_or_default();
    let n = r.map_err(|e| decode_err(file, e))?;
    match Content::sniff(&w.head) {
        Content::PgCustom => {}
        other => {
            return Err(refuse(
                file,
                other.mismatch(
                    Engine::Postgres,
                    "it does not contain a PostgreSQL custom-format dump (pg_dump -Fc)",
                ),
            ));
        }
    }
    if !status.success() || toc.is_empty() {
        return Err(refuse(
            file,
            format!("pg_restore --list rejects it: {}", tool_error(&err)),
        ));
    }
    let toc = String::from_utf8_lossy(&toc).into_owned();
    Ok((
        Prepared {
            tables: toc_tables(&toc),
            toc,
            tools,
        },
        n,
    ))
}

/// `pg_restore --clean --if-exists --single-transaction`, fed the decompressed stream: the
/// replacement is one transaction, rolled back whole if anything fails.
pub async fn apply(p: Prepared, url: &DbUrl, file: &Path, shell: &Shell) -> Result<Vec<String>> {
    let Prepared { tools, tables, toc } = p;
    let mut f = std::fs::File::open(file).context(|| format!("could not open {}", file.display()))?;
    let mut args: Vec<String> = [
        "--clean",
        "--if-exists",
        "--single-transaction",
        "--exit-on-error",
        "--no-owner",
        "--no-privileges",
        "--no-password",
    ]
    .map(String::from)
    .into();
    // With a schema configured, only that schema is restored (a whole-database archive
    // included), and the schema itself is kept: its objects are replaced.
    let _list = match &url.schema {
        Some(schema) => {
            // A restore into a new database: the schema may not exist yet.
            if let Some(db) = Db::open(url, Create::No).await? {
                let created = crate::db::tracking::create_schema(&db).await;
                db.close().await;
                created?;
            }
            let list = TempFile(Some(
                std::env::temp_dir().join(format!("cargo-dbm-restore-{}.list", std::process::id())),
            ));
            let path = list.0.clone().expect("just set");
            std::fs::write(&path, toc_without_schema_entry(&toc, schema))
                .context(|| format!("could not write {}", path.display()))?;
            args.push(format!("--schema={schema}"));
            args.push(format!("--use-list={}", path.display()));
            Some(list)
        }
        None => None,
    };
    let mut child = tools.spawn(&tools.pg_restore, Some(url), &args, true)?;
    let stdin = child.stdin.take().expect("piped");
    let (_out_t, err_t) = drain(&mut child);
    let size = f.metadata().map(|m| m.len()).ok();
    let pb = shell.progress(size, "Restoring", Counting::Bytes);
    let mut w = std::io::BufWriter::with_capacity(1 << 20, stdin);
    let r = compress::decompress(&mut f, &mut w, &|n| pb.set_position(n));
    drop(w);
    pb.finish_and_clear();
    if r.is_err() {
        // pg_restore sees a cut stream and rolls back; make sure it does not wait.
        let _ = child.kill();
    }
    let status = child.wait().context(|| "could not wait for pg_restore".to_string())?;
    let err = err_t.join().unwrap_or_default();
    if !status.success() {
        return Err(Error::Database {
            doing: "restoring with pg_restore (its transaction was rolled back; the database is as it was)".into(),
            reason: format!("{status}: {}", tool_error(&err)),
        });
    }
    r.map_err(|e| decode_err(file, e))?;
    Ok(left_over(url, &tables).await)
}

/// `schema.table` of the TABLE entries of `pg_restore --list`
/// (`215; 1259 16385 TABLE public account postgres`).
fn toc_tables(toc: &str) -> Vec<String> {
    toc.lines()
        .filter(|l| !l.trim_start().starts_with(';'))
        .filter_map(|l| {
            let mut f = l.split_whitespace().skip(3);
            (f.next()? == "TABLE").then_some(())?;
            let schema = f.next()?;
            let name = f.next()?;
            Some(format!("{schema}.{name}"))
        })
        .collect()
}

/// Tables of the archive's schemas that exist in the database but not in the archive:
/// `pg_restore --clean` replaces only what the archive holds, so these are left as they were.
async fn left_over(url: &DbUrl, tables: &[String]) -> Vec<String> {
    let mut schemas: Vec<&str> = tables.iter().filter_map(|t| t.split('.').next()).collect();
    schemas.sort();
    schemas.dedup();
    if schemas.is_empty() {
        schemas.push("public");
    }
    let Ok(Some(db)) = Db::open(url, Create::No).await else {
        return Vec::new();
    };
    let list = schemas
        .iter()
        .map(|s| format!("'{}'", s.replace('\'', "''")))
        .collect::<Vec<_>>()
        .join(", ");
    let sql = format!(
        "SELECT table_schema || '.' || table_name AS t FROM information_schema.tables WHERE table_type = 'BASE TABLE' AND table_schema IN ({list}) ORDER BY 1"
    );
    let rows = db
        .conn
        .query_all_raw(Statement::from_string(db.backend(), sql))
        .await
        .unwrap_or_default();
    db.close().await;
    rows.iter()
        .filter_map(|r| r.try_get::<String>("", "t").ok())
        .filter(|t| !tables.contains(t))
        .collect()
}

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
