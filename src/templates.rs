//! The files under `templates/`, compiled into the binary and rendered with minijinja.
//! Files ending in `.j2` are rendered; the others are copied as they are.

use crate::error::{Error, Result};
use minijinja::Environment;
use serde::Serialize;

/// A template compiled into the binary.
#[derive(Clone, Copy, Debug)]
pub struct Template {
    pub name: &'static str,
    pub source: &'static str,
}

macro_rules! template {
    ($const:ident, $path:literal) => {
        pub const $const: Template = Template {
            name: $path,
            source: include_str!(concat!("../templates/", $path)),
        };
    };
}

template!(MIGRATION, "migration.rs.j2");
template!(CRATE_MANIFEST, "migration-crate/Cargo.toml.j2");
template!(CRATE_LIB, "migration-crate/src/lib.rs.j2");
template!(CRATE_MAIN, "migration-crate/src/main.rs.j2");
template!(RUNNER_MANIFEST, "runner/Cargo.toml.j2");
template!(RUNNER_MAIN, "runner/main.rs");
template!(ENTITIES_MANIFEST, "entities/Cargo.toml.j2");
template!(ENTITIES_MAIN, "entities/main.rs.j2");
template!(AUTOGEN_MIGRATION, "autogen.rs.j2");
template!(RUNNER_SEED_EXEC, "runner/seed_exec.rs");
template!(RUNNER_SEED_MODE, "runner/seed_mode.rs");
template!(RUNNER_PROTOCOL, "runner/protocol.rs");
template!(RUNNER_CAPTURE, "runner/capture.rs");
template!(RUNNER_COMPAT_V1, "runner/compat_v1.rs");
template!(RUNNER_COMPAT_V2, "runner/compat_v2.rs");

impl Template {
    /// Renders the template with `ctx`.
    pub fn render<S: Serialize>(&self, ctx: S) -> Result<String> {
        render_source(self.name, self.source, ctx)
    }
}

/// Renders any template text (a project-local override, say), naming it in errors.
pub fn render_source<S: Serialize>(name: &str, source: &str, ctx: S) -> Result<String> {
    let mut env = Environment::new();
    env.set_keep_trailing_newline(true);
    env.set_undefined_behavior(minijinja::UndefinedBehavior::Strict);
    env.add_template(name, source)
        .map_err(|e| Error::Config(format!("template `{name}`: {e}")))?;
    let tmpl = env
        .get_template(name)
        .map_err(|e| Error::Config(format!("template `{name}`: {e}")))?;
    tmpl.render(ctx)
        .map_err(|e| Error::Config(format!("template `{name}`: {e}")))
}
