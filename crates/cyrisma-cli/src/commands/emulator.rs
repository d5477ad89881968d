//! `cyrisma emulator serve`: the emulator's own command (`cyrisma-emulator`), with its flags.

use anyhow::Context as _;
use clap::Parser;

use crate::args::{EmulatorServeArgs, ServeCli};
use crate::exit::{Code, Silent};

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
