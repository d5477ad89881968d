//! The `serve` command: start, print the client environment, run until Ctrl-C or SIGTERM.

use std::io::Write;

use crate::config::ServeArgs;
use crate::emulator::Emulator;
use crate::error::StartError;

/// Runs the emulator for `cyrisma-emulator` and `cyrisma emulator serve`: prints the
/// `export NAME=value` lines a client needs on `stdout`, human messages on `stderr`, and serves
/// until Ctrl-C or SIGTERM (then shuts down gracefully, removing its temporary CA).
pub async fn serve(args: &ServeArgs, stdout: &mut dyn Write, stderr: &mut dyn Write) -> Result<(), StartError> {
    // Listen for the stop signals before the environment is printed: a script that reads the
    // lines and stops the emulator at once must get the graceful stop, not the default action.
    let stop = stop_signal();
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
    stop.await;
    let _ = writeln!(stderr, "cyrisma-emulator: shutting down");
    handle.shutdown().await;
    Ok(())
}

/// Waits for Ctrl-C (SIGINT) or, on Unix, SIGTERM (a plain `kill`, or a service manager), so that
/// either stop is graceful and leaves no temporary CA directory behind. The handlers are
/// installed when this is called, not when the future is first polled.
fn stop_signal() -> impl Future<Output = ()> {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let interrupt = signal(SignalKind::interrupt());
        let terminate = signal(SignalKind::terminate());
        async move {
            match (interrupt, terminate) {
                (Ok(mut interrupt), Ok(mut terminate)) => {
                    tokio::select! {
                        _ = interrupt.recv() => {}
                        _ = terminate.recv() => {}
                    }
                }
                _ => {
                    let _ = tokio::signal::ctrl_c().await;
                }
            }
        }
    }
    #[cfg(not(unix))]
    async {
        let _ = tokio::signal::ctrl_c().await;
    }
}
