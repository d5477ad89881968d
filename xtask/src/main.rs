//! Development automation: `cargo xtask <command>`.
//!
//! Commands:
//! - `tidy`: the repository rules (module docs, no `mod.rs`, dependency direction, no orphan
//!   snapshots); the same checks run as `#[test]`s under `cargo test`.

mod tidy;

use std::process::ExitCode;

fn main() -> ExitCode {
    let command = std::env::args().nth(1).unwrap_or_default();
    match command.as_str() {
        "tidy" => match tidy::run_all(&tidy::workspace_root()) {
            Ok(problems) if problems.is_empty() => {
                eprintln!("tidy: all checks pass");
                ExitCode::SUCCESS
            }
            Ok(problems) => {
                for problem in problems {
                    eprintln!("tidy: {problem}");
                }
                ExitCode::FAILURE
            }
            Err(error) => {
                eprintln!("tidy: {error:#}");
                ExitCode::FAILURE
            }
        },
        _ => {
            eprintln!("usage: cargo xtask tidy");
            ExitCode::from(2)
        }
    }
}
