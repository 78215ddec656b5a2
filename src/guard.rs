//! The guard in front of every destructive command (`down base`, `reset`, `restore`,
//! `seed --clear`): a protected database refuses unless explicitly allowed; otherwise a
//! prompt that names the database (password hidden) and defaults to "no"; `--yes` skips
//! it; without a terminal and without `--yes` the command refuses and changes nothing.

use crate::config::DbUrl;
use crate::error::{Error, Result};
use crate::shell::Shell;

/// Environment variable that marks the database as protected (`1`/`true`).
pub const PROTECTED_ENV: &str = "DBM_PROTECTED";

/// How the user answered in advance.
#[derive(Debug, Clone, Copy, Default)]
pub struct Consent {
    /// `--yes`: do not ask.
    pub yes: bool,
    /// `--allow-protected`: go ahead on a protected database.
    pub allow_protected: bool,
}

/// Whether the database is marked protected, by configuration or environment.
pub fn is_protected(configured: bool) -> bool {
    configured
        || std::env::var(PROTECTED_ENV)
            .map(|v| matches!(v.trim().to_ascii_lowercase().as_str(), "1" | "true" | "yes"))
            .unwrap_or(false)
}

/// Asks before `action` (e.g. "revert every migration") on `url`; `Ok(())` means go ahead.
pub fn confirm(shell: &Shell, url: &DbUrl, protected: bool, consent: Consent, action: &str) -> Result<()> {
    confirm_in(shell, &url.redacted(), protected, consent, action)
}

/// [`confirm`] for `action` in `place`: a redacted URL, or "each of 1000 fleet targets".
pub fn confirm_in(shell: &Shell, place: &str, protected: bool, consent: Consent, action: &str) -> Result<()> {
    if is_protected(protected) && !consent.allow_protected {
        return Err(Error::Refused {
            reason: format!("{place} is marked protected; refusing to {action}"),
            hint: format!(
                "pass `--allow-protected` if you really mean it (protection comes from `protected = true` under [workspace.metadata.dbm] or {PROTECTED_ENV})"
            ),
        });
    }
    if consent.yes {
        return Ok(());
    }
    if !shell.stdin_is_tty() {
        return Err(Error::Refused {
            reason: format!("`{action}` destroys data and there is no terminal to confirm it"),
            hint: "pass `--yes` to confirm non-interactively; nothing was changed".into(),
        });
    }
    let question = format!("This will {action} in {place}. Continue?");
    let term = shell.term();
    let answer = dialoguer::Confirm::new()
        .with_prompt(question)
        .default(false)
        .interact_on_opt(&term);
    // Ctrl-C (None) or an error counts as "no"; make sure the cursor is visible again.
    let _ = term.show_cursor();
    match answer {
        Ok(Some(true)) => Ok(()),
        _ => Err(Error::Refused {
            reason: "not confirmed".into(),
            hint: "nothing was changed".into(),
        }),
    }
}
