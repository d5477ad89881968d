//! Carrying out the commands: the shared [`Context`] (settings resolved flag > environment >
//! profile > default by the transport's one reader, the credential lookup, the client, the
//! embedded emulator) and the dispatch to one module per command group.

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
mod tap;
mod usage;
mod users;
mod webhooks;

use std::io::IsTerminal;
use std::path::PathBuf;

use cyrisma_core::ApiSecret;
use cyrisma_emulator::{Emulator, EmulatorConfig, EmulatorHandle};
use cyrisma_transport::{Client, ClientBuilder, ClientConfig, Layer, Origin, Resolved, Setting, Settings};

use crate::args::{Cli, Command, GlobalArgs, OutputFormat};
use crate::config::{self, ConfigFile, DEFAULT_PROFILE, Profile};
use crate::credentials::{Store, StoreKind};
use crate::exit::CliError;
use crate::output::Output;
use crate::ui::Ui;

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
            // `cyrisma tap --config FILE`: a settings layer between the flags and the environment.
            let file = match &command {
                Command::Tap(args) => tap::config_layer(args)?,
                _ => None,
            };
            let context = Context::new(global, ui, file).await?;
            let change = crate::exit::is_change(&command);
            let result = if listens {
                dispatch(&context, command).await
            } else {
                // Ctrl-C drops the command's future, so temporary files are removed on the way out.
                tokio::select! {
                    result = dispatch(&context, command) => result,
                    _ = tokio::signal::ctrl_c() => Err(crate::exit::interrupted(change)),
                }
            };
            // A change cut by a timeout may have happened: exit code 6, not "try again".
            let result = if change { result.map_err(crate::exit::ambiguous_if_cut) } else { result };
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
        Command::Tap(args) => tap::run(context, args).await,
        Command::Usage(args) => usage::run(context, args).await,
        Command::Webhooks(command) => webhooks::run(context, command).await,
        Command::Api(args) => api::run(context, args).await,
        Command::Emulator(crate::args::EmulatorCommand::Advance(args)) => emulator::advance(context, args).await,
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
    /// The connection settings and the fan-out width, resolved flag > environment > profile >
    /// default.
    settings: Resolved,
}

impl Context {
    async fn new(global: GlobalArgs, ui: Ui, file: Option<Layer>) -> anyhow::Result<Self> {
        let config_dir = config::config_dir(global.config_dir.as_deref())?;
        let config = ConfigFile::load(&config_dir)?;
        let profile_name =
            global.profile.clone().filter(|name| !name.trim().is_empty()).unwrap_or_else(|| DEFAULT_PROFILE.to_owned());
        let profile = config.profile(&profile_name);
        let settings = resolve_settings(&global, &profile_name, &profile, file)?;
        let format = global.output.or(profile.output).unwrap_or(OutputFormat::Table);
        let width = std::io::stdout().is_terminal().then(terminal_width).flatten();
        let out = Output::new(format, width, ui.color() && std::io::stdout().is_terminal());
        let emulator = if global.emulator {
            let history = global.emulator_history.unwrap_or(0);
            let mut config = EmulatorConfig::default()
                .with_size(EMULATOR_ORGANIZATIONS, EMULATOR_INSTANCES, 4, 8)
                .with_history_periods(history);
            if let Some(period) = global.emulator_period {
                if period > history {
                    return Err(CliError::usage(format!(
                        "`--emulator-period` ({period}) must be at most `--emulator-history` ({history})"
                    ))
                    .with_hint("e.g. `cyrisma --emulator --emulator-history 6 --emulator-period 2 snapshot`")
                    .into());
                }
                config = config.with_current_period(period);
            }
            let handle = Emulator::start(config)
                .await
                .map_err(|error| anyhow::anyhow!("cannot start the embedded emulator: {error}"))?;
            let mut note =
                format!("using the embedded emulator at {} (fake data, fake credentials)", handle.base_url());
            if let Some(period) = global.emulator_period {
                let today = cyrisma_dataset::date_of(handle.now_micros());
                note.push_str(&format!("; its clock is at {today}, period {period} of {history}"));
            }
            ui.note(&note);
            Some(handle)
        } else {
            None
        };
        Ok(Self { global, ui, out, config_dir, config, profile_name, profile, emulator, settings })
    }

    /// The credential store of the config dir.
    pub(crate) fn store(&self) -> Store<'_> {
        Store::new(&self.config_dir, &self.ui)
    }

    /// The API key: flag or environment, then the profile.
    pub(crate) fn api_key(&self) -> Option<String> {
        self.settings.config.api_key.clone()
    }

    /// The resolved connection settings (base URL, host overrides, CAs, limits), credentials
    /// included.
    pub(crate) fn connection(&self) -> &ClientConfig {
        &self.settings.config
    }

    /// Instances queried at once by fan-out commands.
    pub(crate) fn concurrency(&self) -> usize {
        self.settings.concurrency
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
        if let Some(api_secret) = self.settings.config.api_secret.clone() {
            return Ok(Credentials { api_key, api_secret, source: SecretSource::Env });
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
        let mut config = self.settings.config.clone();
        config.api_key = None;
        config.api_secret = None;
        if let Some(emulator) = &self.emulator {
            // The embedded emulator replaces the connection settings with its own.
            let defaults = ClientConfig::default();
            config.base_url = emulator.base_url().to_owned();
            config.allowed_domain = Some(emulator.allowed_domain().to_owned());
            config.resolve = defaults.resolve;
            config.ca_certificates = defaults.ca_certificates;
            let mut builder = ClientBuilder::from_config(config).resolve(&emulator.resolve());
            if let Some(pem) = emulator.ca_cert_pem() {
                builder = builder.add_ca_certificate_pem(pem.as_bytes().to_vec());
            }
            Ok(builder)
        } else {
            Ok(ClientBuilder::from_config(config).proxy_from_env())
        }
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

/// The connection settings and the fan-out width from the flags, the `CYRISMA_*` variables and
/// the profile, through the transport's one reader; an unusable value is a usage error naming the
/// flag, variable or profile key.
fn resolve_settings(
    global: &GlobalArgs,
    profile_name: &str,
    profile: &Profile,
    extra: Option<Layer>,
) -> anyhow::Result<Resolved> {
    let env = Layer::env();
    // clap reads a flag's environment twin into the same field; a value equal to the variable's
    // is left to the environment layer, so that an error names the variable.
    let mut flags = Layer::new(Origin::Flag);
    let resolve = (!global.resolve.is_empty()).then(|| global.resolve.join(","));
    for (setting, value) in [
        (Setting::BaseUrl, global.base_url.clone()),
        (Setting::ApiKey, global.api_key.clone()),
        (Setting::Resolve, resolve),
        (Setting::CaCert, global.ca_cert.as_ref().map(|path| path.display().to_string())),
        (Setting::AllowedDomain, global.allowed_domain.clone()),
        (Setting::Concurrency, global.concurrency.clone()),
        (Setting::Timeout, global.timeout.clone()),
    ] {
        let from_env = |value: &String| env.get(setting).is_some_and(|var| same_value(setting, var, value));
        flags.set(setting, value.filter(|value| !from_env(value)));
    }
    let mut file = Layer::new(Origin::Profile(profile_name.to_owned()));
    file.set(Setting::BaseUrl, profile.base_url.clone())
        .set(Setting::ApiKey, profile.api_key.clone())
        .set(Setting::Resolve, (!profile.resolve.is_empty()).then(|| profile.resolve.join(",")))
        .set(Setting::CaCert, profile.ca_cert.as_ref().map(|path| path.display().to_string()))
        .set(Setting::AllowedDomain, profile.allowed_domain.clone())
        .set(Setting::Concurrency, profile.concurrency.map(|width| width.to_string()))
        .set(Setting::Timeout, profile.timeout.map(|seconds| seconds.to_string()));
    let mut defaults = ClientConfig::default();
    defaults.user_agent = concat!("cyrisma-cli/", env!("CARGO_PKG_VERSION")).to_owned();
    let mut settings = Settings::new().layer(flags);
    if let Some(layer) = extra {
        settings = settings.layer(layer);
    }
    settings.layer(env).layer(file).resolve(defaults).map_err(|error| {
        CliError::usage(error.to_string())
            .with_hint("see the ranges in `docs/configuration.md`, or `cyrisma --help`")
            .into()
    })
}

/// Whether clap's value of a flag is its environment variable's (`--resolve` arrives split at
/// commas).
fn same_value(setting: Setting, var: &str, value: &str) -> bool {
    match setting {
        Setting::Resolve => {
            let entries = |text: &str| -> Vec<String> {
                text.split(',').map(str::trim).filter(|entry| !entry.is_empty()).map(str::to_owned).collect()
            };
            entries(var) == entries(value)
        }
        _ => var.trim() == value.trim(),
    }
}
