//! `cyrisma-emulator`: serve the CYRISMA Partner API emulator until Ctrl-C.
//!
//! The flags are [`cyrisma_emulator::ServeArgs`], shared with `cyrisma emulator serve`.

use std::process::ExitCode;

use clap::Parser;

/// A stateful emulator of the CYRISMA Partner API on loopback: prints the environment a client
/// needs (`export NAME=value` lines on stdout) and serves until Ctrl-C.
#[derive(Debug, Parser)]
#[command(name = "cyrisma-emulator", version)]
struct Cli {
    #[command(flatten)]
    serve: cyrisma_emulator::ServeArgs,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build() {
        Ok(runtime) => runtime,
        Err(error) => {
            let _ = std::io::Write::write_fmt(
                &mut std::io::stderr(),
                format_args!("cyrisma-emulator: cannot start the runtime: {error}\n"),
            );
            return ExitCode::FAILURE;
        }
    };
    let mut stdout = std::io::stdout();
    let mut stderr = std::io::stderr();
    match runtime.block_on(cyrisma_emulator::serve(&cli.serve, &mut stdout, &mut stderr)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            let mut message = format!("cyrisma-emulator: {error}");
            let mut source = std::error::Error::source(&error);
            while let Some(cause) = source {
                message.push_str(&format!(": {cause}"));
                source = cause.source();
            }
            let _ = std::io::Write::write_fmt(&mut stderr, format_args!("{message}\n"));
            ExitCode::FAILURE
        }
    }
}
