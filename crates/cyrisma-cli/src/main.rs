//! `cyrisma`: the command-line tool for the CYRISMA Partner API.
//!
//! The modules: `args` (the clap command line), `commands` (one module per command group),
//! `output` (stdout: tables, JSON, JSONL, CSV), `ui` (stderr: messages, colour, progress),
//! `config` (profiles), `credentials` (the secret store), `exit` (exit codes and errors),
//! `ownfile` (the config dir's files only as regular files),
//! `reference` (tests only: renders `docs/cli-reference.md`), and `app` (start-up: parsing,
//! logging, the runtime). `main` installs the panic hook and holds the debug-build failpoint.

mod app;
mod args;
mod commands;
mod config;
mod credentials;
mod exit;
mod output;
mod ownfile;
#[cfg(test)]
mod reference;
mod ui;

use std::panic::{self, AssertUnwindSafe, PanicHookInfo};

/// The global allocator: mimalloc, chosen by measurement (`docs/benchmarks.md`, goal J5).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    panic::set_hook(Box::new(report_panic));
    let run = || {
        let code = app::main();
        // Commands that never load credentials still reach a failpoint, at the very end.
        failpoint("exit");
        code
    };
    match panic::catch_unwind(AssertUnwindSafe(run)) {
        Ok(code) => code,
        // The hook has already said what happened; the code is the documented "error".
        Err(_) => exit::Code::Error.into(),
    }
}

/// The environment variable of the debug-build failpoints.
#[cfg(debug_assertions)]
const FAILPOINT_VAR: &str = "CYRISMA_FAILPOINT";

/// A debug-build-only failpoint for tests: with `CYRISMA_FAILPOINT=panic`, the first failpoint
/// reached panics (the one after the credentials are loaded, else the one at exit), so that
/// tests can check what a crash shows while a secret is in memory. Release builds compile it
/// to nothing.
pub(crate) fn failpoint(point: &str) {
    #[cfg(debug_assertions)]
    {
        static FIRED: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);
        let armed = std::env::var_os(FAILPOINT_VAR).is_some_and(|value| value == "panic");
        if armed && !FIRED.swap(true, std::sync::atomic::Ordering::SeqCst) {
            panic!("forced panic at the `{point}` failpoint ({FAILPOINT_VAR}=panic)");
        }
    }
    #[cfg(not(debug_assertions))]
    let _ = point;
}

/// The panic hook: a crash is a bug, and says so on stderr in the CLI's error format, with what
/// happened, where, how to report it and the exit code. The panic message goes through the
/// terminal escaping and has `CYRISMA_API_SECRET` scrubbed from it, in case a value reached it.
fn report_panic(info: &PanicHookInfo<'_>) {
    let payload = info
        .payload()
        .downcast_ref::<&str>()
        .map(|text| (*text).to_owned())
        .or_else(|| info.payload().downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "no message".to_owned());
    let mut message: String = payload.chars().take(500).collect();
    if let Some(secret) = std::env::var("CYRISMA_API_SECRET").ok().filter(|secret| !secret.is_empty()) {
        message = message.replace(&secret, "<redacted>");
    }
    let location = info.location().map(|at| format!(" at {}:{}", at.file(), at.line())).unwrap_or_default();
    let thread = std::thread::current().name().unwrap_or("unnamed").to_owned();
    let backtrace = match std::env::var_os("RUST_BACKTRACE") {
        Some(value) if value != "0" => format!("\n{}\n", std::backtrace::Backtrace::force_capture()),
        _ => String::new(),
    };
    ui::write_stderr(&format!(
        "error: internal error: cyrisma crashed in thread `{thread}`{location}: {message}\n  \
         this is a bug in cyrisma, not a problem with your data or configuration\n{backtrace}\n\
         hint: please report it to the cyrisma maintainers with the command you ran (without keys or secrets), \
         this message and `cyrisma --version` (set RUST_BACKTRACE=1 for a backtrace); exit code {code}\n",
        location = output::neutralize(&location),
        message = output::neutralize(&message),
        code = exit::Code::Error as u8,
    ));
}
