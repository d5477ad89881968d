//! Start-up: parse the command line, set up logging on stderr, run the command on a tokio
//! runtime, and turn the outcome into an exit code.

use std::process::ExitCode;

use clap::Parser;
use tracing_subscriber::filter::LevelFilter;

use crate::args::Cli;
use crate::exit::Code;
use crate::ui::Ui;

/// Runs `cyrisma` and returns its exit code.
pub(crate) fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(error) => {
            // Help and version go to stdout with 0; usage errors to stderr with 2.
            let _ = error.print();
            return if error.use_stderr() { Code::Usage.into() } else { Code::Success.into() };
        }
    };
    let ui = Ui::new(cli.global.color, cli.global.quiet, cli.global.no_progress);
    init_logging(cli.global.verbose, cli.global.quiet, ui.color());
    // One thread: a command's work is one fan-out at most, mostly TLS handshakes and small JSON
    // answers; a multi-thread runtime handed every wake-up between threads and cost more CPU
    // for the same run (`docs/benchmarks.md`, H4 and T4).
    let runtime = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
        Ok(runtime) => runtime,
        Err(error) => {
            let error = anyhow::Error::new(error).context("cannot start the async runtime");
            return crate::exit::report(&error, &ui).into();
        }
    };
    let result = runtime.block_on(crate::commands::run(cli, ui.clone()));
    // Do not wait for tasks left behind (an unanswered request, an emulator connection).
    runtime.shutdown_timeout(std::time::Duration::from_millis(200));
    match result {
        Ok(()) => Code::Success.into(),
        Err(error) => crate::exit::report(&error, &ui).into(),
    }
}

/// Logs go to stderr: warnings by default, `-v` info, `-vv` debug, `-vvv` trace, `-q` errors
/// only. The transport's spans carry no secret (and every `#[instrument]` here skips all
/// arguments).
fn init_logging(verbose: u8, quiet: bool, color: bool) {
    let level = match (quiet, verbose) {
        (true, _) => LevelFilter::ERROR,
        (false, 0) => LevelFilter::WARN,
        (false, 1) => LevelFilter::INFO,
        (false, 2) => LevelFilter::DEBUG,
        (false, _) => LevelFilter::TRACE,
    };
    let _ = tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_max_level(level)
        .with_ansi(color)
        .with_target(verbose >= 2)
        .try_init();
}
