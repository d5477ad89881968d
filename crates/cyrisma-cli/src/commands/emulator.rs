//! `cyrisma emulator serve`: the emulator's own command (`cyrisma-emulator`), with its flags; and
//! `cyrisma emulator advance`, which moves a served emulator's clock.

use std::net::{IpAddr, SocketAddr};

use anyhow::Context as _;
use clap::Parser;
use cyrisma_core::endpoint::BaseUrl;
use cyrisma_emulator::RemoteEmulator;
use cyrisma_transport::CaSource;

use crate::args::{EmulatorAdvanceArgs, EmulatorServeArgs, ServeCli};
use crate::commands::Context;
use crate::exit::{CliError, Code, Silent};

/// Serves the emulator until Ctrl-C: the `export CYRISMA_...` lines on stdout, messages on
/// stderr. The flags are parsed here, apart from the global options and their variables.
pub(crate) async fn serve(args: EmulatorServeArgs) -> anyhow::Result<()> {
    let argv = std::iter::once(std::ffi::OsString::from("cyrisma emulator serve")).chain(args.args);
    let cli = match ServeCli::try_parse_from(argv) {
        Ok(cli) => cli,
        Err(error) => {
            let _ = error.print();
            return if error.use_stderr() { Err(Silent(Code::Usage).into()) } else { Ok(()) };
        }
    };
    let mut stdout = std::io::stdout();
    let mut stderr = std::io::stderr();
    cyrisma_emulator::serve(&cli.serve, &mut stdout, &mut stderr).await.context("cannot run the emulator")
}

/// Moves a served emulator's clock through its admin API (`POST /__emulator/advance`). The
/// emulator is the one the connection settings name (`CYRISMA_BASE_URL`, `CYRISMA_RESOLVE` and
/// `CYRISMA_CA_CERT` as `cyrisma emulator serve` prints them); no credential is sent.
pub(crate) async fn advance(context: &Context, args: EmulatorAdvanceArgs) -> anyhow::Result<()> {
    if context.emulator.is_some() {
        return Err(CliError::usage(
            "`emulator advance` moves a served emulator; the embedded one lives for one command",
        )
        .with_hint(
            "use `--emulator-history N --emulator-period K` to start the embedded emulator K months into its history",
        )
        .into());
    }
    let config = context.connection();
    let base = BaseUrl::central(&config.base_url)
        .map_err(|error| CliError::usage(format!("the base url is not usable: {error}")))?;
    let (host, port) = (base.host().to_owned(), base.port_or_default());
    let addr = config
        .resolve
        .lookup(&host, port)
        .or_else(|| host.trim_matches(['[', ']']).parse::<IpAddr>().ok().map(|ip| SocketAddr::new(ip, port)))
        .ok_or_else(|| {
            CliError::usage(format!("cannot tell where the emulator of `{host}` listens")).with_hint(
                "set the CYRISMA_* variables `cyrisma emulator serve` prints (CYRISMA_RESOLVE names its address)",
            )
        })?;
    if !addr.ip().is_loopback() {
        return Err(CliError::usage(format!("`{host}` resolves to {addr}, not a loopback address: not an emulator"))
            .with_hint("`emulator advance` only moves an emulator served on this machine by `cyrisma emulator serve`")
            .into());
    }
    let ca = if base.is_https() {
        let mut pem = Vec::new();
        for source in &config.ca_certificates {
            match source {
                CaSource::Path(path) => pem.extend(
                    std::fs::read(path)
                        .with_context(|| format!("cannot read the ca certificate {}", path.display()))?,
                ),
                CaSource::Pem(text) => pem.extend_from_slice(text),
                _ => {}
            }
            pem.push(b'\n');
        }
        if pem.iter().all(u8::is_ascii_whitespace) {
            return Err(CliError::usage("no ca certificate for the emulator's https")
                .with_hint("set CYRISMA_CA_CERT as `cyrisma emulator serve` prints it")
                .into());
        }
        Some(pem)
    } else {
        None
    };
    let remote =
        RemoteEmulator::new(addr, &host, port, ca.as_deref()).map_err(|error| CliError::usage(error.to_string()))?;
    let answer = tokio::time::timeout(config.total_timeout, remote.advance(args.days, !args.rescan))
        .await
        .map_err(|_| {
            CliError::new(Code::Ambiguous, "the emulator did not answer in time: its clock may have moved")
                .with_hint("check `cyrisma scans vulnerability --instance ID` before advancing again")
        })?
        .context("cannot advance the emulator")?;
    if let Some(today) = answer.get("today").and_then(serde_json::Value::as_str) {
        let instances = answer.get("instances").and_then(serde_json::Value::as_array).map_or(0, Vec::len);
        context.ui.note(&format!("the emulator's clock is at {today}: {instances} instances got new scans"));
    }
    context.out.document(&answer)
}
