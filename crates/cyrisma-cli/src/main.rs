//! `cyrisma`: the command-line tool for the CYRISMA Partner API.
//!
//! The modules: `args` (the clap command line), `commands` (one module per command group),
//! `output` (stdout: tables, JSON, JSONL, CSV), `ui` (stderr: messages, colour, progress),
//! `config` (profiles), `credentials` (the secret store), `exit` (exit codes and errors), and
//! `app` (start-up: parsing, logging, the runtime).

mod app;
mod args;
mod commands;
mod config;
mod credentials;
mod exit;
mod output;
mod ui;

fn main() -> std::process::ExitCode {
    app::main()
}
