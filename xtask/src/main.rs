//! Development automation: `cargo xtask <command>`.
//!
//! Commands:
//! - `ci`: everything CI runs, in order: clippy with warnings denied, every test of the workspace
//!   (the tidy checks included), the Python package's suite, then `bench --quick` (a smoke run
//!   of the benchmark harness). This is the README's test command.
//! - `tidy`: the repository rules (module docs, no `mod.rs`, dependency direction, no orphan
//!   snapshots); the same checks run as `#[test]`s under `cargo test`.
//! - `bench [--quick]`: every benchmark, and `docs/benchmarks.md` from the figures (see
//!   `bench.rs`); `--quick` is a smoke run of the harness that judges no figure.
//! - `codegen [--check]`: writes the Python surface (model classes, stubs, async twins, exports)
//!   from the core's model declarations and the method table (see `codegen.rs`); `--check` only
//!   lists stale files. A test fails when the committed files are stale.

mod bench;
mod codegen;
mod tidy;

use std::process::{Command, ExitCode};

/// Runs one step of CI with inherited output, failing with a message that names the step.
fn step(name: &str, program: &str, args: &[&str]) -> anyhow::Result<()> {
    eprintln!("xtask ci: {name}: {program} {}", args.join(" "));
    let status = Command::new(program)
        .args(args)
        .current_dir(tidy::workspace_root())
        .status()
        .map_err(|error| anyhow::anyhow!("cannot start `{program}`: {error}"))?;
    anyhow::ensure!(status.success(), "step `{name}` failed ({status})");
    Ok(())
}

fn ci() -> anyhow::Result<()> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    let has_clippy =
        Command::new(&cargo).args(["clippy", "--version"]).output().is_ok_and(|output| output.status.success());
    if has_clippy {
        step("lint", &cargo, &["clippy", "--workspace", "--all-targets", "--locked", "--", "-D", "warnings"])?;
    } else {
        eprintln!("xtask ci: lint: skipped, `cargo clippy` is not installed on this machine");
    }
    step("test", &cargo, &["test", "--workspace", "--locked"])?;
    // The Python package, as a user installs it: a venv, `pip install ./bindings/python`, pytest,
    // mypy --strict and stubtest.
    step("python", "bash", &["bindings/python/run-tests.sh"])?;
    // A smoke run of the benchmark harness (tiny sizes, dev-profile binaries, the Python tests'
    // venv): checks that it works end to end, judges no figure, leaves docs/benchmarks.md alone.
    let started = std::time::Instant::now();
    step("bench smoke", &cargo, &["xtask", "bench", "--quick"])?;
    eprintln!("xtask ci: bench smoke took {:.0} s", started.elapsed().as_secs_f64());
    Ok(())
}

fn main() -> ExitCode {
    let command = std::env::args().nth(1).unwrap_or_default();
    match command.as_str() {
        "ci" => match ci() {
            Ok(()) => {
                eprintln!("xtask ci: all steps passed");
                ExitCode::SUCCESS
            }
            Err(error) => {
                eprintln!("xtask ci: {error:#}");
                ExitCode::FAILURE
            }
        },
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
        "bench" => {
            let quick = std::env::args().skip(2).any(|arg| arg == "--quick");
            match bench::run(quick) {
                Ok(()) => ExitCode::SUCCESS,
                Err(error) => {
                    eprintln!("xtask bench: {error:#}");
                    ExitCode::FAILURE
                }
            }
        }
        "codegen" if std::env::args().skip(2).any(|arg| arg == "--check") => {
            match codegen::stale(&tidy::workspace_root()) {
                Ok(stale) if stale.is_empty() => {
                    eprintln!("codegen: every generated file is current");
                    ExitCode::SUCCESS
                }
                Ok(stale) => {
                    for path in stale {
                        eprintln!("codegen: {path} is stale; run `cargo xtask codegen`");
                    }
                    ExitCode::FAILURE
                }
                Err(error) => {
                    eprintln!("codegen: {error:#}");
                    ExitCode::FAILURE
                }
            }
        }
        "codegen" => match codegen::write(&tidy::workspace_root()) {
            Ok(written) if written.is_empty() => {
                eprintln!("codegen: every generated file is current");
                ExitCode::SUCCESS
            }
            Ok(written) => {
                for path in written {
                    eprintln!("codegen: wrote {path}");
                }
                ExitCode::SUCCESS
            }
            Err(error) => {
                eprintln!("codegen: {error:#}");
                ExitCode::FAILURE
            }
        },
        _ => {
            eprintln!("usage: cargo xtask <ci|tidy|codegen [--check]|bench [--quick]>");
            ExitCode::from(2)
        }
    }
}
