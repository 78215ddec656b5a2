//! `check`: the CI gate. Everything that makes the database and the migration crate
//! disagree, each with a readable reason.

use super::Ctx;
use crate::error::Result;
use crate::exit_codes;
use crate::plan::Status;

/// What kind of problem: in JSON as `partially-applied`, `missing`, `duplicate`,
/// `modified`, `out-of-order`, `unordered`, `entities`, `lint`, `pending`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Kind {
    /// A migration outside a transaction started and never finished.
    PartiallyApplied,
    /// Applied, with no file in the crate.
    Missing,
    /// Listed twice in the Migrator.
    Duplicate,
    /// Changed after it was applied.
    Modified,
    /// Pending, with a version that sorts before an applied one's.
    OutOfOrder,
    /// Listed in the Migrator before a migration with an earlier version.
    Unordered,
    /// A pending migration's SQL breaks a lock-safety rule (error level).
    Lint,
    /// The entities differ from the schema the migrations make.
    Entities,
    /// Not applied.
    Pending,
}

/// One reason the check fails.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Problem {
    pub kind: Kind,
    pub version: String,
    pub file: Option<std::path::PathBuf>,
    pub message: String,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::PartiallyApplied => "partially-applied",
            Kind::Missing => "missing",
            Kind::Duplicate => "duplicate",
            Kind::Modified => "modified",
            Kind::OutOfOrder => "out-of-order",
            Kind::Unordered => "unordered",
            Kind::Lint => "lint",
            Kind::Entities => "entities",
            Kind::Pending => "pending",
        }
    }
}

impl std::fmt::Display for Kind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Problem {
    /// The exit code of this kind of problem.
    pub fn exit_code(&self) -> i32 {
        match self.kind {
            Kind::PartiallyApplied => exit_codes::PARTIAL,
            Kind::Missing => exit_codes::HISTORY,
            Kind::Pending => exit_codes::PENDING,
            Kind::OutOfOrder | Kind::Unordered => exit_codes::OUT_OF_ORDER,
            Kind::Lint => exit_codes::LINT,
            Kind::Duplicate | Kind::Modified | Kind::Entities => exit_codes::DRIFT,
        }
    }
}

/// The problems found, most severe first (the first one's exit code is the command's).
/// With `entities`, the entities are also compared with the schema the migrations produce
/// (this compiles the migrations and the entities, on scratch databases).
/// With `lint`, the pending migrations' SQL is linted too (on a scratch database); findings
/// at error level are problems.
pub async fn check(ctx: &Ctx, entities: bool, lint: bool) -> Result<Vec<Problem>> {
    let (src, st) = ctx.status().await?;
    let mut out = state_problems(ctx, &st)?;
    if entities
        && !ctx.ws.entities.is_empty()
        && st.missing.is_empty()
        && st.duplicates().is_empty()
        && st.partial.is_empty()
    {
        let (migrated, wanted) = crate::tasks::schemas::schemas(ctx).await?;
        for c in crate::schema_diff::diff(&migrated, &wanted) {
            out.push(Problem {
                kind: Kind::Entities,
                version: String::new(),
                file: None,
                message: format!("the entities differ from the migrations: {c}"),
            });
        }
    }
    if lint
        && !crate::lint::rules_for(ctx.url.engine).is_empty()
        && st.pending().next().is_some()
        && st.missing.is_empty()
        && st.partial.is_empty()
        && st.duplicates().is_empty()
    {
        let range = crate::tasks::capture::range(&st, None, crate::runner::Direction::Up, true)?;
        let base = ctx.scratch_base(None)?;
        for f in crate::tasks::lint::findings(ctx, &src, &base, &range, true).await? {
            if f.severity == crate::lint::Severity::Error {
                out.push(Problem {
                    kind: Kind::Lint,
                    version: f.version.clone(),
                    file: Some(f.file.clone()),
                    message: format!(
                        "`{}` [{}]: {} — {}; fix: {}",
                        f.version, f.rule, f.statement, f.message, f.fix
                    ),
                });
            }
        }
    }
    out.extend(pending(&st));
    Ok(out)
}

/// The exit code of a check: the first (most severe) problem's, or 0.
pub fn exit_code(problems: &[Problem]) -> i32 {
    problems.first().map_or(exit_codes::OK, Problem::exit_code)
}

/// One database's problems that need nothing compiled (`check --no-lint` without entities;
/// `check --all` on each target), most severe first, pending last.
pub fn problems(ctx: &Ctx, st: &Status) -> Result<Vec<Problem>> {
    let mut out = state_problems(ctx, st)?;
    out.extend(pending(st));
    Ok(out)
}

fn pending(st: &Status) -> impl Iterator<Item = Problem> + '_ {
    st.pending().map(|e| Problem {
        kind: Kind::Pending,
        version: e.file.name.clone(),
        file: Some(e.file.file.clone()),
        message: format!("`{}` is not applied", e.file.name),
    })
}

/// What is wrong between the database and the crate, before entities, lint and pending.
fn state_problems(ctx: &Ctx, st: &Status) -> Result<Vec<Problem>> {
    let mut out = Vec::new();
    for p in &st.partial {
        out.push(Problem {
            kind: Kind::PartiallyApplied,
            version: p.version.clone(),
            file: None,
            message: format!(
                "{}; {}",
                crate::error::partial_message(std::slice::from_ref(p)),
                crate::error::partial_hint(std::slice::from_ref(p))
            ),
        });
    }
    for m in &st.missing {
        out.push(Problem {
            kind: Kind::Missing,
            version: m.version.clone(),
            file: None,
            message: format!("`{}` is applied but has no file in the migration crate", m.version),
        });
    }
    for v in st.duplicates() {
        out.push(Problem {
            kind: Kind::Duplicate,
            message: format!("`{v}` is listed more than once in the Migrator"),
            version: v,
            file: None,
        });
    }
    for group in st.same_version() {
        out.push(Problem {
            kind: Kind::Duplicate,
            message: format!(
                "{} share one version timestamp: their order depends only on their names; give one of them a new version (`cargo dbm rebase` does it for unapplied ones)",
                group.iter().map(|v| format!("`{v}`")).collect::<Vec<_>>().join(" and ")
            ),
            version: group.join(","),
            file: None,
        });
    }
    for e in st.modified() {
        out.push(Problem {
            kind: Kind::Modified,
            version: e.file.name.clone(),
            file: Some(e.file.file.clone()),
            message: format!(
                "`{}` was changed after it was applied ({})",
                e.file.name,
                ctx.ws.rel(&e.file.file)
            ),
        });
    }
    for o in st.out_of_order() {
        let file = st
            .entries
            .iter()
            .find(|e| e.file.name == o.version)
            .map(|e| e.file.file.clone());
        out.push(Problem {
            kind: Kind::OutOfOrder,
            message: format!(
                "{}; `cargo dbm up` refuses it: apply it with `cargo dbm up --out-of-order`, or move it after the applied head with `cargo dbm rebase`",
                crate::error::out_of_order_message(std::slice::from_ref(&o))
            ),
            version: o.version,
            file,
        });
    }
    for u in st.unordered() {
        out.push(Problem {
            kind: Kind::Unordered,
            message: format!(
                "the Migrator lists `{}` before `{}`, whose version is earlier: sea-orm-migration applies them in list order; list them in version order",
                u.listed_first, u.listed_next
            ),
            version: u.listed_next,
            file: Some(ctx.ws.migration()?.lib.clone()),
        });
    }
    Ok(out)
}
