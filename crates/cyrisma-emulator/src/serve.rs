//! The `serve` command: start, print the client environment, run until Ctrl-C.

use std::io::Write;

use crate::config::ServeArgs;
use crate::emulator::Emulator;
use crate::error::StartError;

/// Runs the emulator for `cyrisma-emulator` and `cyrisma emulator serve`: prints the
/// `export NAME=value` lines a client needs on `stdout`, human messages on `stderr`, and serves
/// until Ctrl-C (then shuts down gracefully).
pub async fn serve(args: &ServeArgs, stdout: &mut dyn Write, stderr: &mut dyn Write) -> Result<(), StartError> {
    let handle = Emulator::start(args.to_config()).await?;
    let _ = write!(stdout, "{}", handle.export_lines());
    let _ = stdout.flush();
    let tls = if handle.is_tls() { "https" } else { "plain http" };
    let _ = writeln!(
        stderr,
        "cyrisma-emulator: serving {tls} on {} (central host {}, instance hosts ccNNNNNN.{}); press Ctrl-C to stop",
        handle.addr(),
        handle.central_host(),
        handle.domain()
    );
    if let Some(path) = handle.ca_cert_path() {
        let _ = writeln!(stderr, "cyrisma-emulator: trust the CA in {}", path.display());
    }
    let _ = writeln!(
        stderr,
        "cyrisma-emulator: {} organizations and instances; admin api at {}/__emulator/ (loopback only)",
        handle.instances().len(),
        handle.base_url().trim_end_matches("/app")
    );
    let _ = stderr.flush();
    let _ = tokio::signal::ctrl_c().await;
    let _ = writeln!(stderr, "cyrisma-emulator: shutting down");
    handle.shutdown().await;
    Ok(())
}
