//! MySQL/MariaDB backups through the real `mariadb-dump` (or `mysqldump`) and client.
//!
//! - **Backup**: `mariadb-dump --single-transaction` (one consistent snapshot, no table
//!   locks on InnoDB), its SQL text compressed by cargo dbm on every core.
//! - **Verify**: the decompressed dump must start as a dump does and end with the tool's
//!   `-- Dump completed` line (a cut dump never has it).
//! - **Restore**: MySQL commits DDL implicitly, so loading over the live tables could never
//!   be undone halfway. The dump is loaded into a staging database on the same server
//!   first; only when it loaded completely are the tables swapped in with **one**
//!   `RENAME TABLE` statement (atomic in MySQL and MariaDB: other sessions see either the
//!   old tables or the new ones), the old ones moved to a trash database that is then
//!   dropped. A failed load leaves the live database untouched. Views, routines and events
//!   are not swapped (cargo dbm migrations manage tables).
//!
//! The password goes in `MYSQL_PWD`, never on the command line; the tools' messages pass
//! through [`redact_text`].

use super::quote;
use crate::backup::compress::Content;
use crate::backup::{TempFile, UntilClosed, decode_err, refuse};
use crate::config::{DbUrl, redact_text};
use crate::db::{Create, Db};
use crate::engine::{Decompress, Dump, Engine};
use crate::error::{Error, IoContext, Result};
use crate::shell::Shell;
use sea_orm::{ConnectionTrait, Statement};
use std::io::BufReader;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// The last line `mariadb-dump` and `mysqldump` write when they finish.
const COMPLETED: &[u8] = b"-- Dump completed";

/// The dump and client programs.
#[derive(Debug, Clone)]
struct Tools {
    dump: PathBuf,
    client: PathBuf,
}

impl Tools {
    /// `$MYSQL_DUMP`/`$MYSQL_CLIENT`, else `mariadb-dump`/`mariadb`, else
    /// `mysqldump`/`mysql`, on `PATH`.
    fn find() -> Result<Tools> {
        let find = |var: &str, names: &[&str]| -> Option<PathBuf> {
            if let Some(p) = std::env::var_os(var) {
                return Some(PathBuf::from(p));
            }
            let path = std::env::var_os("PATH")?;
            names
                .iter()
                .flat_map(|n| std::env::split_paths(&path).map(move |d| d.join(n)))
                .find(|p| p.is_file())
        };
        let missing = |what: &str| {
            Error::Tool {
            message: format!("{what} was not found on PATH"),
            hint: "install the MySQL/MariaDB client tools (Debian: `apt install mariadb-client`), or set MYSQL_DUMP and MYSQL_CLIENT to their paths".into(),
        }
        };
        Ok(Tools {
            dump: find("MYSQL_DUMP", &["mariadb-dump", "mysqldump"])
                .ok_or_else(|| missing("mariadb-dump (or mysqldump)"))?,
            client: find("MYSQL_CLIENT", &["mariadb", "mysql"])
                .ok_or_else(|| missing("the mariadb (or mysql) client"))?,
        })
    }

    /// The program with the URL's host, port, user and database as options, and its
    /// password in the environment.
    fn command(&self, tool: &Path, url: &DbUrl) -> Command {
        let mut c = Command::new(tool);
        if let Ok(u) = url::Url::parse(url.expose()) {
            if let Some(host) = u.host_str() {
                c.arg(format!("--host={}", host.trim_start_matches('[').trim_end_matches(']')));
            }
            c.arg(format!("--port={}", u.port().unwrap_or(3306)));
            c.arg("--protocol=TCP");
            if !u.username().is_empty() {
                c.arg(format!("--user={}", crate::config::percent_decode(u.username())));
            }
            match u.password() {
                Some(p) => c.env("MYSQL_PWD", crate::config::percent_decode(p)),
                None => c.env_remove("MYSQL_PWD"),
            };
        }
        c.arg("--default-character-set=utf8mb4");
        c.stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped());
        crate::process::die_with_parent(&mut c);
        c
    }
}

fn tool_error(stderr: &[u8]) -> String {
    let text = redact_text(&String::from_utf8_lossy(stderr));
    let lines: Vec<&str> = text.lines().map(str::trim).filter(|l| !l.is_empty()).collect();
    lines.iter().rev().take(6).rev().copied().collect::<Vec<_>>().join("; ")
}

/// `mariadb-dump --single-transaction` of the URL's database, as SQL text.
pub async fn dump(db: Db, url: &DbUrl, _shell: &Shell, _scratch: &Path) -> Result<Dump> {
    let version = db
        .conn
        .query_one_raw(Statement::from_string(db.backend(), "SELECT VERSION() AS v"))
        .await
        .ok()
        .flatten()
        .and_then(|r| r.try_get::<String>("", "v").ok());
    db.close().await;
    let tools = Tools::find()?;
    let database = url.database_name();
    let mut cmd = tools.command(&tools.dump, url);
    cmd.args([
        "--single-transaction",
        "--quick",
        "--routines",
        "--triggers",
        "--hex-blob",
        "--no-tablespaces",
        "--skip-comments",
        "--dump-date",
    ]);
    // `--skip-comments` also drops the completion line; ask for it back.
    cmd.arg("--comments");
    cmd.arg(&database);
    let mut child = cmd
        .spawn()
        .context(|| format!("could not run {}", tools.dump.display()))?;
    let mut stderr = child.stderr.take().expect("piped");
    let err_thread = std::thread::spawn(move || {
        let mut buf = Vec::new();
        let _ = std::io::Read::read_to_end(&mut stderr, &mut buf);
        buf
    });
    let stdout = child.stdout.take().expect("piped");
    let name = tools
        .dump
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    Ok(Dump {
        reader: Box::new(BufReader::with_capacity(1 << 20, stdout)),
        size: None,
        label: "Dumping",
        server_version: version,
        finish: Box::new(move |compressed| {
            if !compressed {
                let _ = child.kill();
            }
            let status = child.wait().context(|| format!("could not wait for {name}"))?;
            let err = err_thread.join().unwrap_or_default();
            if !status.success() {
                return Err(Error::Database {
                    doing: format!("dumping the database with {name}"),
                    reason: format!("{status}: {}", tool_error(&err)),
                });
            }
            Ok(())
        }),
    })
}

/// A verified dump, decompressed into an owner-only temporary file.
#[derive(Debug)]
pub struct Prepared {
    sql: TempFile,
    tools: Tools,
}

/// Keeps the last bytes written, to find the completion line.
struct Tail<W> {
    inner: W,
    tail: Vec<u8>,
}

impl<W: std::io::Write> std::io::Write for Tail<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.tail.extend_from_slice(&buf[..n]);
        if self.tail.len() > 4096 {
            self.tail.drain(..self.tail.len() - 256);
        }
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

pub async fn prepare(_url: &DbUrl, file: &Path, decompress: Decompress<'_>) -> Result<(Prepared, u64)> {
    let tools = Tools::find()?;
    let path = std::env::temp_dir().join(format!("cargo-dbm-restore-{}.sql", std::process::id()));
    let _ = std::fs::remove_file(&path);
    let out = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&path)
        .context(|| format!("could not create {}", path.display()))?;
    let sql = TempFile(Some(path.clone()));
    let mut w = UntilClosed {
        inner: Some(Tail {
            inner: std::io::BufWriter::with_capacity(1 << 20, out),
            tail: Vec::new(),
        }),
        head: Vec::new(),
    };
    let n = decompress(&mut w).map_err(|e| decode_err(file, e))?;
    let mut tail = w.inner.take().expect("never closed");
    std::io::Write::flush(&mut tail).context(|| format!("could not write {}", path.display()))?;
    match Content::sniff(&w.head) {
        Content::MySqlDump => {}
        other => {
            return Err(refuse(
                file,
                other.mismatch(Engine::MySql, "it does not contain a MySQL/MariaDB dump (mariadb-dump)"),
            ));
        }
    }
    if !tail.tail.windows(COMPLETED.len()).any(|w| w == COMPLETED) {
        return Err(refuse(
            file,
            "the dump is incomplete: it does not end with `-- Dump completed`",
        ));
    }
    Ok((Prepared { sql, tools }, n))
}

/// Loads the dump into a staging database, then swaps every table in with one `RENAME
/// TABLE` (see the module docs). Returns nothing left over: the database ends up with
/// exactly the backup's tables.
pub async fn apply(p: Prepared, url: &DbUrl, _file: &Path, shell: &Shell) -> Result<Vec<String>> {
    let live = url.database_name();
    // Unique on the server, not only on this machine: restores of other databases of the
    // same server may run at the same time from hosts (or containers) with the same pids.
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or_default();
    let tag = format!("{}_{:x}", std::process::id(), nanos & 0xffff_ffff_ffff);
    let staging = format!("dbm_restore_{tag}");
    let trash = format!("dbm_trash_{tag}");
    let server = url.with_database("information_schema")?;
    let admin = Db::open(&server, Create::No).await?.expect("a server always connects");
    let result = async {
        admin
            .exec(
                "creating the staging database",
                &format!("CREATE DATABASE {} CHARACTER SET utf8mb4", quote(&staging)),
            )
            .await?;
        load(&p, url, &staging, shell)?;
        swap(&admin, &live, &staging, &trash).await
    }
    .await;
    for db in [&staging, &trash] {
        let _ = admin
            .exec(
                "dropping the staging database",
                &format!("DROP DATABASE IF EXISTS {}", quote(db)),
            )
            .await;
    }
    admin.close().await;
    result.map(|()| Vec::new())
}

/// Runs the client on the dump, into `database`.
fn load(p: &Prepared, url: &DbUrl, database: &str, shell: &Shell) -> Result<()> {
    let path = p.sql.0.as_ref().expect("kept until applied");
    let input = std::fs::File::open(path).context(|| format!("could not read {}", path.display()))?;
    let size = input.metadata().map(|m| m.len()).ok();
    let mut cmd = p.tools.command(&p.tools.client, url);
    cmd.arg(format!("--database={database}")).arg("--batch");
    cmd.stdin(Stdio::from(input));
    let pb = shell.progress(size, "Loading", crate::shell::Counting::Bytes);
    let out = cmd
        .output()
        .context(|| format!("could not run {}", p.tools.client.display()));
    pb.finish_and_clear();
    let out = out?;
    if !out.status.success() {
        return Err(Error::Database {
            doing: "loading the backup into a staging database (the live database was not touched)".into(),
            reason: format!("{}: {}", out.status, tool_error(&out.stderr)),
        });
    }
    Ok(())
}

async fn tables(db: &Db, schema: &str) -> Result<Vec<String>> {
    let rows = db
        .conn
        .query_all_raw(Statement::from_sql_and_values(
            db.backend(),
            "SELECT CAST(table_name AS CHAR) AS name FROM information_schema.tables WHERE table_schema = ? AND table_type = 'BASE TABLE' ORDER BY table_name",
            [sea_orm::Value::from(schema.to_string())],
        ))
        .await
        .map_err(|e| Error::db("listing tables", e))?;
    rows.iter()
        .map(|r| {
            r.try_get::<String>("", "name")
                .map_err(|e| Error::db("listing tables", e))
        })
        .collect()
}

/// One `RENAME TABLE`: live → trash, staging → live.
async fn swap(admin: &Db, live: &str, staging: &str, trash: &str) -> Result<()> {
    let old = tables(admin, live).await?;
    let new = tables(admin, staging).await?;
    admin
        .exec(
            "creating the trash database",
            &format!("CREATE DATABASE {} CHARACTER SET utf8mb4", quote(trash)),
        )
        .await?;
    let q = |db: &str, t: &str| format!("{}.{}", quote(db), quote(t));
    let pairs: Vec<String> = old
        .iter()
        .map(|t| format!("{} TO {}", q(live, t), q(trash, t)))
        .chain(new.iter().map(|t| format!("{} TO {}", q(staging, t), q(live, t))))
        .collect();
    if pairs.is_empty() {
        return Ok(());
    }
    admin
        .exec(
            "swapping the restored tables in (one RENAME TABLE; the database is as it was)",
            &format!("RENAME TABLE {}", pairs.join(", ")),
        )
        .await
}
