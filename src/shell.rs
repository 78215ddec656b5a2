//! All human output goes through [`Shell`]: cargo-style status lines on stderr.
//! Machine output (`--format json`) goes to stdout through [`Shell::json`].

use console::{Style, Term};
use std::io::{IsTerminal, Write};

/// Output format chosen with `--format`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum Format {
    /// Text for people, on stderr.
    #[default]
    Human,
    /// JSON on stdout.
    Json,
}

/// The output channel of one invocation.
#[derive(Debug)]
pub struct Shell {
    pub format: Format,
    pub quiet: bool,
    stderr_tty: bool,
}

impl Shell {
    pub fn new(format: Format, quiet: bool) -> Self {
        Shell {
            format,
            quiet,
            stderr_tty: std::io::stderr().is_terminal(),
        }
    }

    /// Whether stderr is a terminal (progress bars and colours are only shown then).
    pub fn is_tty(&self) -> bool {
        self.stderr_tty
    }

    /// Whether stdin is a terminal (prompts are only possible then).
    pub fn stdin_is_tty(&self) -> bool {
        std::io::stdin().is_terminal() && self.stderr_tty
    }

    fn style(&self, s: Style) -> Style {
        if self.stderr_tty { s } else { s.force_styling(false) }
    }

    /// `   Verb message`, the verb right-aligned in green, as cargo prints.
    pub fn status(&self, verb: &str, msg: impl std::fmt::Display) {
        if self.quiet {
            return;
        }
        let verb = self.style(Style::new().green().bold()).apply_to(format!("{verb:>12}"));
        let _ = writeln!(std::io::stderr(), "{verb} {msg}");
    }

    /// A warning line.
    pub fn warn(&self, msg: impl std::fmt::Display) {
        let w = self.style(Style::new().yellow().bold()).apply_to("warning");
        let _ = writeln!(std::io::stderr(), "{w}: {msg}");
    }

    /// A note line, e.g. a hint.
    pub fn note(&self, msg: impl std::fmt::Display) {
        if self.quiet {
            return;
        }
        let n = self.style(Style::new().cyan().bold()).apply_to("note");
        let _ = writeln!(std::io::stderr(), "{n}: {msg}");
    }

    /// A plain line of human output on stderr.
    pub fn line(&self, msg: impl std::fmt::Display) {
        if self.quiet {
            return;
        }
        let _ = writeln!(std::io::stderr(), "{msg}");
    }

    /// Dim text, for secondary information in tables.
    pub fn dim(&self, s: impl std::fmt::Display) -> String {
        self.style(Style::new().dim()).apply_to(s).to_string()
    }

    /// Colours text with a style when on a terminal.
    pub fn paint(&self, s: impl std::fmt::Display, style: Style) -> String {
        self.style(style).apply_to(s).to_string()
    }

    /// An error with its hint.
    pub fn error(&self, err: &crate::Error) {
        let e = self.style(Style::new().red().bold()).apply_to("error");
        let mut out = std::io::stderr();
        let _ = writeln!(out, "{e}: {err}");
        if let Some(hint) = err.hint() {
            let h = self.style(Style::new().cyan().bold()).apply_to("help");
            let _ = writeln!(out, "  {h}: {hint}");
        }
    }

    /// Machine output: one JSON document on stdout.
    pub fn json(&self, value: &serde_json::Value) {
        let mut out = std::io::stdout().lock();
        let _ = serde_json::to_writer_pretty(&mut out, value);
        let _ = writeln!(out);
    }

    /// The terminal used by prompts and progress bars.
    pub fn term(&self) -> Term {
        Term::stderr()
    }
}

/// What a progress bar counts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Counting {
    Bytes,
    Rows,
}

impl Shell {
    /// A progress bar on stderr, shown only on a terminal (never with `--quiet` or JSON):
    /// a bar when `total` is known, else a counter with the rate.
    pub fn progress(&self, total: Option<u64>, what: &str, counting: Counting) -> indicatif::ProgressBar {
        use indicatif::{ProgressBar, ProgressDrawTarget, ProgressState, ProgressStyle};
        if !self.is_tty() || self.quiet || self.format == Format::Json {
            return ProgressBar::hidden();
        }
        let (count, rate) = match counting {
            Counting::Bytes => ("{bytes}", "{bytes_per_sec}"),
            Counting::Rows => ("{human_pos}", "rows {rate}"),
        };
        let (pb, template) = match total {
            Some(t) => {
                let of = if counting == Counting::Bytes {
                    "{total_bytes}"
                } else {
                    "{human_len}"
                };
                (
                    ProgressBar::new(t),
                    format!("{{prefix:>12.cyan.bold}} [{{bar:30}}] {count}/{of} {rate} {{eta}}"),
                )
            }
            None => (
                ProgressBar::new_spinner(),
                format!("{{prefix:>12.cyan.bold}} {{spinner}} {count} {rate}"),
            ),
        };
        let style = ProgressStyle::with_template(&template)
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> ")
            .with_key("rate", |s: &ProgressState, w: &mut dyn std::fmt::Write| {
                let _ = write!(w, "{}/s", indicatif::HumanCount(s.per_sec() as u64));
            });
        let pb = pb.with_style(style);
        pb.set_draw_target(ProgressDrawTarget::stderr());
        pb.set_prefix(what.to_string());
        pb
    }
}
