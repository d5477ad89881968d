//! Carrying out the commands: the shared [`Context`] (settings resolved flag > environment >
//! profile > default, the credential lookup, the client, the embedded emulator) and the dispatch
//! to one module per command group.

mod api;
mod assets;
mod auth;
mod dashboards;
mod emulator;
mod export;
mod history;
mod instances;
mod report;
mod scans;
mod usage;
mod users;
mod webhooks;

use std::io::IsTerminal;
use std::path::PathBuf;
use std::time::Duration;

use cyrisma_core::ApiSecret;
use cyrisma_emulator::{Emulator, EmulatorConfig, EmulatorHandle};
use cyrisma_transport::{Client, ClientBuilder, ClientConfig};

use crate::args::{Cli, Command, GlobalArgs, OutputFormat};
use crate::config::{self, ConfigFile, DEFAULT_PROFILE, Profile};
use crate::credentials::{Store, StoreKind};
use crate::exit::{CliError, Code};
use crate::output::Output;
use crate::ui::Ui;

/// Instances queried at once by fan-out commands, by default.
pub(crate) const DEFAULT_CONCURRENCY: u16 = 8;

/// Organizations and instances of the embedded emulator (`--emulator`).
const EMULATOR_ORGANIZATIONS: u32 = 3;
const EMULATOR_INSTANCES: u32 = 25;

/// Runs a parsed command line.
pub(crate) async fn run(cli: Cli, ui: Ui) -> anyhow::Result<()> {
    let Cli { global, command } = cli;
    match command {
        // These need neither a configuration nor credentials.
        Command::Completions(args) => completions(&args),
        Command::Emulator(crate::args::EmulatorCommand::Serve(args)) => emulator::serve(args).await,
        command => {
            // These handle Ctrl-C themselves (`auth rotate-secret` must not drop the one-time secret).
            let listens = matches!(
                command,
                Command::Webhooks(crate::args::WebhooksCommand::Listen(_))
                    | Command::Auth(crate::args::AuthCommand::RotateSecret)
            );
            let context = Context::new(global, ui).await?;
            let result = if listens {
                dispatch(&context, command).await
            } else {
                // Ctrl-C drops the command's future, so temporary files are removed on the way out.
                tokio::select! {
                    result = dispatch(&context, command) => result,
                    _ = tokio::signal::ctrl_c() => Err(CliError::new(Code::Interrupted, "interrupted").into()),
                }
            };
            if let Some(emulator) = context.emulator {
                emulator.shutdown().await;
            }
            result
        }
    }
}

async fn dispatch(context: &Context, command: Command) -> anyhow::Result<()> {
    match command {
        Command::Auth(command) => auth::run(context, command).await,
        Command::Instances(command) => instances::run(context, command).await,
        Command::Users(command) => users::run(context, command).await,
        Command::Scans(command) => scans::run(context, command).await,
        Command::Dashboards(command) => dashboards::run(context, command).await,
        Command::Assets(command) => assets::run(context, command).await,
        Command::Report(args) => report::run(context, args).await,
        Command::Snapshot(args) => history::snapshot(context, args).await,
        Command::Diff(args) => history::diff(context, args).await,
        Command::History(command) => history::run(context, command).await,
        Command::Export(command) => export::run(context, command).await,
        Command::Usage(args) => usage::run(context, args).await,
        Command::Webhooks(command) => webhooks::run(context, command).await,
        Command::Api(args) => api::run(context, args).await,
        Command::Completions(_) | Command::Emulator(_) => Ok(()),
    }
}

fn completions(args: &crate::args::CompletionsArgs) -> anyhow::Result<()> {
    let mut command = <Cli as clap::CommandFactory>::command();
    // Generated in memory: clap_complete panics when stdout is a closed pipe (`| head`).
    let mut script = Vec::new();
    clap_complete::generate(args.shell, &mut command, "cyrisma", &mut script);
    crate::output::write_stdout(&script)
}

/// Where the secret in use came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum SecretSource {
    /// `CYRISMA_API_SECRET`.
    Env,
    /// The credential store.
    Store(StoreKind),
    /// The embedded emulator's own.
    Emulator,
}

impl SecretSource {
    /// A short name for output.
    pub(crate) fn label(self) -> &'static str {
        match self {
            SecretSource::Env => "environment (CYRISMA_API_SECRET)",
            SecretSource::Store(StoreKind::Keyring) => "os keyring",
            SecretSource::Store(StoreKind::File) => "credentials file",
            SecretSource::Emulator => "embedded emulator",
        }
    }
}

/// The API key and secret a command uses.
pub(crate) struct Credentials {
    pub(crate) api_key: String,
    pub(crate) api_secret: ApiSecret,
    pub(crate) source: SecretSource,
}

/// Everything a command needs: settings, the person-facing side, stdout, and the profile.
pub(crate) struct Context {
    pub(crate) global: GlobalArgs,
    pub(crate) ui: Ui,
    pub(crate) out: Output,
    pub(crate) config_dir: PathBuf,
    pub(crate) config: ConfigFile,
    pub(crate) profile_name: String,
    pub(crate) profile: Profile,
    pub(crate) emulator: Option<EmulatorHandle>,
}

impl Context {
    async fn new(global: GlobalArgs, ui: Ui) -> anyhow::Result<Self> {
        let config_dir = config::config_dir(global.config_dir.as_deref())?;
        let config = ConfigFile::load(&config_dir)?;
        let profile_name =
            global.profile.clone().filter(|name| !name.trim().is_empty()).unwrap_or_else(|| DEFAULT_PROFILE.to_owned());
        let profile = config.profile(&profile_name);
        let format = global.output.or(profile.output).unwrap_or(OutputFormat::Table);
        let width = std::io::stdout().is_terminal().then(terminal_width).flatten();
        let out = Output::new(format, width, ui.color() && std::io::stdout().is_terminal());
        let emulator = if global.emulator {
            let config = EmulatorConfig::default().with_size(EMULATOR_ORGANIZATIONS, EMULATOR_INSTANCES, 4, 8);
            let handle = Emulator::start(config)
                .await
                .map_err(|error| anyhow::anyhow!("cannot start the embedded emulator: {error}"))?;
            ui.note(&format!("using the embedded emulator at {} (fake data, fake credentials)", handle.base_url()));
            Some(handle)
        } else {
            None
        };
        Ok(Self { global, ui, out, config_dir, config, profile_name, profile, emulator })
    }

    /// The credential store of the config dir.
    pub(crate) fn store(&self) -> Store<'_> {
        Store::new(&self.config_dir, &self.ui)
    }

    /// The API key: flag or environment, then the profile.
    pub(crate) fn api_key(&self) -> Option<String> {
        self.global.api_key.clone().or_else(|| self.profile.api_key.clone()).filter(|key| !key.trim().is_empty())
    }

    /// The base URL: flag or environment, then the profile, then production.
    pub(crate) fn base_url(&self) -> String {
        self.global
            .base_url
            .clone()
            .or_else(|| self.profile.base_url.clone())
            .unwrap_or_else(|| cyrisma_transport::DEFAULT_BASE_URL.to_owned())
    }

    /// Instances queried at once by fan-out commands.
    pub(crate) fn concurrency(&self) -> usize {
        usize::from(self.global.concurrency.or(self.profile.concurrency).unwrap_or(DEFAULT_CONCURRENCY))
    }

    /// The API key and secret to use: the emulator's with `--emulator`; otherwise the key from
    /// flag, environment or profile, and the secret from `CYRISMA_API_SECRET` or the store.
    pub(crate) fn credentials(&self) -> anyhow::Result<Credentials> {
        let credentials = self.load_credentials();
        // Debug builds only: `CYRISMA_FAILPOINT=panic` crashes here, with the secret in memory.
        crate::failpoint("credentials");
        credentials
    }

    fn load_credentials(&self) -> anyhow::Result<Credentials> {
        if let Some(emulator) = &self.emulator {
            return Ok(Credentials {
                api_key: emulator.api_key().to_owned(),
                api_secret: emulator.api_secret(),
                source: SecretSource::Emulator,
            });
        }
        let Some(api_key) = self.api_key() else {
            return Err(CliError::auth(format!("no api key for profile `{}`", self.profile_name))
                .with_hint("run `cyrisma auth setup`, or set `CYRISMA_API_KEY` and `CYRISMA_API_SECRET`; `cyrisma --emulator ...` needs no account")
                .into());
        };
        if let Some(secret) = std::env::var("CYRISMA_API_SECRET").ok().filter(|secret| !secret.is_empty()) {
            return Ok(Credentials { api_key, api_secret: ApiSecret::new(secret), source: SecretSource::Env });
        }
        match self.store().read(&self.profile_name, self.profile.secret_store)? {
            Some((api_secret, kind)) => Ok(Credentials { api_key, api_secret, source: SecretSource::Store(kind) }),
            None => Err(CliError::auth(format!("no api secret stored for profile `{}`", self.profile_name))
                .with_hint("run `cyrisma auth setup`, or set `CYRISMA_API_SECRET`")
                .into()),
        }
    }

    /// A client builder with every connection setting, without credentials.
    pub(crate) fn client_builder(&self) -> anyhow::Result<ClientBuilder> {
        let mut builder = ClientBuilder::from_config(ClientConfig::default());
        if let Some(emulator) = &self.emulator {
            builder = builder
                .base_url(emulator.base_url())
                .allowed_domain(emulator.allowed_domain())
                .resolve(&emulator.resolve());
            if let Some(pem) = emulator.ca_cert_pem() {
                builder = builder.add_ca_certificate_pem(pem.as_bytes().to_vec());
            }
        } else {
            builder = builder.base_url(self.base_url());
            let resolve = if self.global.resolve.is_empty() { &self.profile.resolve } else { &self.global.resolve };
            for entry in resolve.iter().map(|entry| entry.trim()).filter(|entry| !entry.is_empty()) {
                builder = builder.resolve(entry);
            }
            if let Some(path) = self.global.ca_cert.clone().or_else(|| self.profile.ca_cert.clone()) {
                builder = builder.add_ca_certificate_file(path);
            }
            if let Some(domain) = self.global.allowed_domain.clone().or_else(|| self.profile.allowed_domain.clone()) {
                builder = builder.allowed_domain(domain);
            }
            builder = builder.proxy_from_env();
        }
        if let Some(seconds) = self.global.timeout.or(self.profile.timeout) {
            let total = Duration::from_secs_f64(seconds);
            let config = builder.config();
            let (attempt, connect) = (config.attempt_timeout.min(total), config.connect_timeout.min(total));
            builder = builder.total_timeout(total).attempt_timeout(attempt).connect_timeout(connect);
        }
        if let Some(retries) = std::env::var("CYRISMA_MAX_RETRIES").ok().filter(|value| !value.trim().is_empty()) {
            let retries: u32 = retries.trim().parse().map_err(|_| {
                CliError::usage("environment variable `CYRISMA_MAX_RETRIES` is not a whole number")
                    .with_hint("set it like `2`")
            })?;
            builder = builder.max_retries(retries);
        }
        let concurrency = self.concurrency();
        builder = builder.concurrency(concurrency.max(16), 4);
        builder = builder.user_agent(concat!("cyrisma-cli/", env!("CARGO_PKG_VERSION")));
        Ok(builder)
    }

    /// A client with the resolved settings and credentials.
    pub(crate) fn client(&self) -> anyhow::Result<Client> {
        let credentials = self.credentials()?;
        self.client_with(&credentials)
    }

    /// A client with the resolved settings and the given credentials.
    pub(crate) fn client_with(&self, credentials: &Credentials) -> anyhow::Result<Client> {
        let builder = self.client_builder()?.credentials(credentials.api_key.clone(), credentials.api_secret.clone());
        builder.build().map_err(|error| {
            let usage = error.is_config();
            let error = anyhow::Error::new(error).context("cannot set up the api client");
            if usage { error.context(CliError::usage("the connection settings are not usable")) } else { error }
        })
    }

    /// Refuses commands that would store or change real credentials while `--emulator` is on.
    pub(crate) fn refuse_with_emulator(&self, what: &str) -> anyhow::Result<()> {
        if self.emulator.is_some() {
            return Err(CliError::usage(format!(
                "`{what}` does not work with `--emulator`: the embedded emulator has its own credentials"
            ))
            .with_hint("run `cyrisma emulator serve` in another shell and point a profile at it instead")
            .into());
        }
        Ok(())
    }
}

/// The terminal's width in columns, when known.
fn terminal_width() -> Option<usize> {
    console::Term::stdout().size_checked().map(|(_, columns)| usize::from(columns)).filter(|columns| *columns >= 20)
}
