//! Everything the CLI says to a person, on stderr: notes, warnings, colour, and progress bars.
//!
//! Data goes to stdout (`output`); this module never writes there. Colour follows `--color`,
//! and `auto` means "stderr is a terminal and `NO_COLOR` is unset". Progress bars draw only when
//! stderr is a terminal, `--no-progress` and `-q` are absent; otherwise they are hidden and cost
//! nothing. Notes and warnings are silenced by `-q`.

use std::io::{IsTerminal, Write};
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressFinish, ProgressStyle};

use crate::args::ColorChoice;
use crate::output::neutralize;

/// The person-facing side of a run.
#[derive(Clone, Debug)]
pub(crate) struct Ui {
    color: bool,
    quiet: bool,
    progress: bool,
}

impl Ui {
    /// Decides colour and progress from the flags and the environment.
    pub(crate) fn new(color: Option<ColorChoice>, quiet: bool, no_progress: bool) -> Self {
        let stderr_tty = std::io::stderr().is_terminal();
        let no_color = std::env::var_os("NO_COLOR").is_some_and(|value| !value.is_empty());
        let color = match color.unwrap_or(ColorChoice::Auto) {
            ColorChoice::Always => true,
            ColorChoice::Never => false,
            ColorChoice::Auto => stderr_tty && !no_color,
        };
        Self { color, quiet, progress: stderr_tty && !no_progress && !quiet }
    }

    /// Whether colour is on (for stderr, and for table headers on a terminal).
    pub(crate) fn color(&self) -> bool {
        self.color
    }

    fn paint(&self, code: &str, text: &str) -> String {
        if self.color { format!("\u{1b}[{code}m{text}\u{1b}[0m") } else { text.to_owned() }
    }

    /// `error` in bold red.
    pub(crate) fn paint_error(&self, text: &str) -> String {
        self.paint("1;31", text)
    }

    /// `warning` in bold yellow.
    pub(crate) fn paint_warning(&self, text: &str) -> String {
        self.paint("1;33", text)
    }

    /// `hint` in bold cyan.
    pub(crate) fn paint_hint(&self, text: &str) -> String {
        self.paint("1;36", text)
    }

    /// Secondary text, dimmed.
    pub(crate) fn paint_dim(&self, text: &str) -> String {
        self.paint("2", text)
    }

    /// A line for a person, unless `-q`.
    pub(crate) fn note(&self, message: &str) {
        if !self.quiet {
            write_stderr(&format!("{}\n", neutralize(message)));
        }
    }

    /// A warning, unless `-q`.
    pub(crate) fn warn(&self, message: &str) {
        if !self.quiet {
            write_stderr(&format!("{}: {}\n", self.paint_warning("warning"), neutralize(message)));
        }
    }

    /// A warning that `-q` does not silence (losing it could lose access).
    pub(crate) fn alert(&self, message: &str) {
        write_stderr(&format!("{}: {}\n", self.paint_warning("warning"), neutralize(message)));
    }

    /// A bar counting `len` steps, or a hidden one.
    pub(crate) fn bar(&self, len: u64, message: &str) -> ProgressBar {
        if !self.progress {
            return ProgressBar::hidden();
        }
        let bar = ProgressBar::with_draw_target(Some(len), ProgressDrawTarget::stderr());
        let style = ProgressStyle::with_template("{msg} [{bar:30}] {pos}/{len} ({elapsed})")
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> ");
        bar.set_style(style);
        bar.set_message(message.to_owned());
        bar
    }

    /// Renders a fleet operation's progress events as a bar (hidden as [`Ui::bar`] is), which
    /// clears itself when the returned closure is dropped.
    pub(crate) fn fleet_progress(&self, message: &str) -> impl FnMut(cyrisma_fleet::Progress) + use<'_> {
        let message = message.to_owned();
        let mut bar: Option<ProgressBar> = None;
        move |event| match event {
            cyrisma_fleet::Progress::Selected { total } => {
                bar = Some(self.bar(total as u64, &message).with_finish(ProgressFinish::AndClear));
            }
            cyrisma_fleet::Progress::Finished { .. } => {
                if let Some(bar) = &bar {
                    bar.inc(1);
                }
            }
            _ => {}
        }
    }

    /// A spinner for a wait of unknown length, or a hidden one.
    pub(crate) fn spinner(&self, message: &str) -> ProgressBar {
        if !self.progress {
            return ProgressBar::hidden();
        }
        let spinner = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
        let style = ProgressStyle::with_template("{spinner} {msg} ({elapsed})")
            .unwrap_or_else(|_| ProgressStyle::default_spinner());
        spinner.set_style(style);
        spinner.set_message(message.to_owned());
        spinner.enable_steady_tick(Duration::from_millis(120));
        spinner
    }
}

/// Writes to stderr, ignoring failures (there is nowhere else to report them).
pub(crate) fn write_stderr(text: &str) {
    let mut stderr = std::io::stderr().lock();
    let _ = stderr.write_all(text.as_bytes());
    let _ = stderr.flush();
}
