//! The harness: an in-process emulator on 127.0.0.1 (TLS, fixed seed and anchor time), a
//! private temporary HOME and config dir, and a runner for the built `cyrisma` binary with a
//! clean environment. Snapshots go through `snapshot!`, which filters ports, temporary paths and
//! times.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use cyrisma_core::ApiSecret;
use cyrisma_emulator::{Emulator, EmulatorConfig, EmulatorHandle};

/// The built binary.
pub(crate) const BIN: &str = env!("CARGO_BIN_EXE_cyrisma");

/// A fixed anchor for seeded times (2025-06-16 00:00:00 UTC): same data every day.
pub(crate) const ANCHOR: i64 = 1_750_032_000;

/// The emulator's API key in tests.
pub(crate) const API_KEY: &str = "00000000-0000-4000-8000-00000000c11a";

/// The emulator's initial API secret in tests (a fake).
pub(crate) const API_SECRET: &str = "test-secret-not-real-0001";

/// The emulator configuration of most tests: 2 organizations, 6 instances, 4 scans of 3 assets.
pub(crate) fn small() -> EmulatorConfig {
    EmulatorConfig::default()
        .with_seed(7)
        .with_size(2, 6, 4, 3)
        .with_anchor_time(ANCHOR)
        .with_provisioning_delay(Duration::from_secs(1))
        .with_credentials(API_KEY, ApiSecret::new(API_SECRET))
}

/// What one run of the binary produced.
#[derive(Debug)]
pub(crate) struct Run {
    pub(crate) code: i32,
    pub(crate) stdout: String,
    pub(crate) stderr: String,
}

impl Run {
    /// Exit code, stdout and stderr, for a snapshot.
    pub(crate) fn transcript(&self) -> String {
        format!("exit code: {}\n----- stdout -----\n{}----- stderr -----\n{}", self.code, self.stdout, self.stderr)
    }

    /// Asserts success and returns stdout.
    #[track_caller]
    pub(crate) fn ok(&self) -> &str {
        assert_eq!(self.code, 0, "{}", self.transcript());
        &self.stdout
    }

    /// Parses stdout as JSON.
    #[track_caller]
    pub(crate) fn json(&self) -> serde_json::Value {
        serde_json::from_str(self.ok())
            .unwrap_or_else(|error| panic!("stdout is not json ({error}):\n{}", self.transcript()))
    }
}

/// A test environment: an emulator, a temporary home, and the runner.
pub(crate) struct Env {
    pub(crate) emu: EmulatorHandle,
    pub(crate) home: tempfile::TempDir,
    /// Runs the emulator's tasks for as long as the environment lives.
    _runtime: tokio::runtime::Runtime,
    /// Whether to pass the emulator's secret as `CYRISMA_API_SECRET`.
    pub(crate) secret_in_env: bool,
}

impl Env {
    /// Starts an emulator with `config`; commands get its secret through `CYRISMA_API_SECRET`.
    pub(crate) fn start(config: EmulatorConfig) -> Self {
        let runtime =
            tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("a runtime");
        let emu = runtime.block_on(Emulator::start(config)).expect("the emulator starts");
        let home = tempfile::tempdir().expect("a temporary home");
        Self { emu, home, _runtime: runtime, secret_in_env: true }
    }

    /// The default small emulator.
    pub(crate) fn small() -> Self {
        Self::start(small())
    }

    /// The config dir given to the binary.
    pub(crate) fn config_dir(&self) -> PathBuf {
        self.home.path().join("config").join("cyrisma")
    }

    /// A command for the binary with a clean environment pointing at the emulator.
    pub(crate) fn command(&self, args: &[&str]) -> Command {
        self.command_with(BIN, args)
    }

    /// Like [`Env::command`], but running `program` (a wrapper such as `sh`) with the
    /// environment.
    pub(crate) fn command_with(&self, program: &str, args: &[&str]) -> Command {
        let mut command = Command::new(program);
        command.args(args).env_clear();
        if let Some(path) = std::env::var_os("PATH") {
            command.env("PATH", path);
        }
        command
            .env("HOME", self.home.path())
            .env("XDG_CONFIG_HOME", self.home.path().join("config"))
            .env("CYRISMA_CONFIG_DIR", self.config_dir())
            // No session bus: the OS keyring is unavailable, as on a headless CI machine.
            .env("XDG_RUNTIME_DIR", self.home.path())
            .env("COLUMNS", "100")
            .env("NO_COLOR", "1")
            .env("CYRISMA_BASE_URL", self.emu.base_url())
            .env("CYRISMA_RESOLVE", self.emu.resolve())
            .env("CYRISMA_ALLOWED_DOMAIN", self.emu.allowed_domain())
            .env("CYRISMA_API_KEY", self.emu.api_key());
        if let Some(path) = self.emu.ca_cert_path() {
            command.env("CYRISMA_CA_CERT", path);
        }
        if self.secret_in_env {
            command.env("CYRISMA_API_SECRET", self.emu.api_secret().expose_secret());
        }
        command
    }

    /// Runs the binary with `args`.
    pub(crate) fn run(&self, args: &[&str]) -> Run {
        run_command(self.command(args), None)
    }

    /// Runs the binary with `args` and `stdin`.
    pub(crate) fn run_stdin(&self, args: &[&str], stdin: &str) -> Run {
        run_command(self.command(args), Some(stdin))
    }

    /// Runs a prepared command.
    pub(crate) fn run_command(&self, command: Command, stdin: Option<&str>) -> Run {
        run_command(command, stdin)
    }

    /// Replaces the emulator's URLs, ports and the home path in `text` with stable markers.
    pub(crate) fn filter(&self, text: &str) -> String {
        let port = format!(":{}", self.emu.addr().port());
        let mut text = text.replace(&port, ":[PORT]");
        text = text.replace(&self.home.path().display().to_string(), "[HOME]");
        if let Some(path) = self.emu.ca_cert_path() {
            text = text.replace(&path.display().to_string(), "[CA]");
        }
        text
    }
}

fn run_command(mut command: Command, stdin: Option<&str>) -> Run {
    command.stdin(if stdin.is_some() { Stdio::piped() } else { Stdio::null() });
    command.stdout(Stdio::piped()).stderr(Stdio::piped());
    let mut child = command.spawn().expect("the binary runs");
    if let Some(input) = stdin {
        let mut pipe = child.stdin.take().expect("a stdin pipe");
        pipe.write_all(input.as_bytes()).expect("stdin is written");
    }
    let output = child.wait_with_output().expect("the binary finishes");
    Run {
        code: output.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

/// Unix mode bits of a path.
#[cfg(unix)]
pub(crate) fn mode(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).unwrap_or_else(|error| panic!("{}: {error}", path.display())).permissions().mode() & 0o777
}

/// Filters applied to every snapshot: times, dates and durations.
pub(crate) fn time_filters() -> Vec<(&'static str, &'static str)> {
    vec![(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z", "[TIME]"), (r"\(\d+(\.\d+)?m?s\)", "([DURATION])")]
}

/// Asserts a snapshot of `text` under `name`, with the time filters.
macro_rules! snapshot {
    ($name:literal, $text:expr) => {
        insta::with_settings!({ filters => $crate::support::time_filters(), prepend_module_to_snapshot => true }, {
            insta::assert_snapshot!($name, $text);
        })
    };
}

pub(crate) use snapshot;
