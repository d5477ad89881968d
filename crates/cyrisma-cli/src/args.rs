//! The command line, declared with clap's derive API: global options, every command and its
//! flags. Nothing here does any work; `commands` carries the commands out.
//!
//! Every command's help leads with an example (`before_help`), and every global option has an
//! environment twin (`CYRISMA_*`). Precedence is flag, environment, profile, default: clap reads
//! the first two as text, and `commands::Context` resolves them with the profile through the
//! transport's one reader (`cyrisma_transport::Settings`), which checks every range. The API
//! secret is never an argument.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{ArgAction, Args, Parser, Subcommand, ValueEnum};

/// The `cyrisma` command line.
#[derive(Debug, Parser)]
#[command(
    name = "cyrisma",
    version,
    about = "Manage CYRISMA partner organizations, instances and users; pull grades, scans and findings from every instance",
    before_help = "Examples:\n  cyrisma --emulator report            # try it offline against the embedded emulator\n  cyrisma auth setup --api-key KEY     # store credentials (the secret is prompted for)\n  cyrisma instances list -o json",
    after_help = "Output:\n  table and csv show curated columns; json and jsonl of the resource commands print the API's\n  objects as sent (its field names, every field, unknown ones included)\n\nExit codes:\n  0 success, 1 error, 2 usage, 3 partial failure across instances, 4 authentication,\n  5 rate limited or timed out, 6 ambiguous outcome (check before retrying), 130 interrupted",
    max_term_width = 100
)]
pub(crate) struct Cli {
    #[command(flatten)]
    pub(crate) global: GlobalArgs,
    #[command(subcommand)]
    pub(crate) command: Command,
}

/// Options every command takes.
#[derive(Clone, Debug, Args)]
#[command(next_help_heading = "Global options")]
pub(crate) struct GlobalArgs {
    /// Profile to use from `config.toml` in the config dir [default: default]
    #[arg(long, global = true, env = "CYRISMA_PROFILE", hide_env_values = true, value_name = "NAME")]
    pub(crate) profile: Option<String>,
    /// Central API base URL [default: https://api.cyrisma.com/app]
    #[arg(long, global = true, env = "CYRISMA_BASE_URL", hide_env_values = true, value_name = "URL")]
    pub(crate) base_url: Option<String>,
    /// API key (the secret comes only from `CYRISMA_API_SECRET` or the credential store)
    #[arg(long, global = true, env = "CYRISMA_API_KEY", hide_env_values = true, value_name = "KEY")]
    pub(crate) api_key: Option<String>,
    /// Host-name overrides like curl's, comma-separated (`*.cyrisma.test=127.0.0.1`)
    #[arg(
        long,
        global = true,
        env = "CYRISMA_RESOLVE",
        hide_env_values = true,
        value_name = "HOST=ADDR,...",
        value_delimiter = ','
    )]
    pub(crate) resolve: Vec<String>,
    /// Extra certificate authority to trust (PEM file)
    #[arg(long, global = true, env = "CYRISMA_CA_CERT", hide_env_values = true, value_name = "PATH")]
    pub(crate) ca_cert: Option<PathBuf>,
    /// Domain that instance hosts must belong to [default: parent domain of the base URL]
    #[arg(long, global = true, env = "CYRISMA_ALLOWED_DOMAIN", hide_env_values = true, value_name = "DOMAIN")]
    pub(crate) allowed_domain: Option<String>,
    /// Directory of `config.toml` and `credentials.toml` [default: ~/.config/cyrisma]
    #[arg(long, global = true, env = "CYRISMA_CONFIG_DIR", hide_env_values = true, value_name = "PATH")]
    pub(crate) config_dir: Option<PathBuf>,
    /// Output format [default: table]
    #[arg(short = 'o', long, global = true, env = "CYRISMA_OUTPUT", hide_env_values = true, value_enum)]
    pub(crate) output: Option<OutputFormat>,
    /// Instances queried at once by fan-out commands [default: 8]
    #[arg(long, global = true, env = "CYRISMA_CONCURRENCY", hide_env_values = true, value_name = "N")]
    pub(crate) concurrency: Option<String>,
    /// Limit for each API call in seconds, retries included [default: 120]
    #[arg(long, global = true, env = "CYRISMA_TIMEOUT", hide_env_values = true, value_name = "SECONDS")]
    pub(crate) timeout: Option<String>,
    /// More logs on stderr (-v info, -vv debug, -vvv trace); never secrets
    #[arg(short = 'v', long = "verbose", global = true, action = ArgAction::Count)]
    pub(crate) verbose: u8,
    /// Only errors on stderr: no progress, notes or warnings
    #[arg(short = 'q', long, global = true, env = "CYRISMA_QUIET", hide_env_values = true)]
    pub(crate) quiet: bool,
    /// Hide progress bars (they are hidden anyway when stderr is not a terminal)
    #[arg(long, global = true, env = "CYRISMA_NO_PROGRESS", hide_env_values = true)]
    pub(crate) no_progress: bool,
    /// Run against an embedded emulator (TLS, seeded, 25 instances) with its own credentials
    #[arg(long, global = true, env = "CYRISMA_EMULATOR", hide_env_values = true)]
    pub(crate) emulator: bool,
    /// With `--emulator`: start it with N monthly periods of generated past (scan history with
    /// churning findings and moving grades)
    #[arg(
        long,
        global = true,
        env = "CYRISMA_EMULATOR_HISTORY",
        hide_env_values = true,
        value_name = "N",
        value_parser = clap::value_parser!(u32).range(0..=i64::from(cyrisma_emulator::MAX_HISTORY_PERIODS))
    )]
    pub(crate) emulator_history: Option<u32>,
    /// With `--emulator-history N`: start at the K-th (0 to N) of N monthly periods ending today;
    /// snapshots are dated by the emulator's clock
    #[arg(
        long,
        global = true,
        env = "CYRISMA_EMULATOR_PERIOD",
        hide_env_values = true,
        value_name = "K",
        value_parser = clap::value_parser!(u32).range(0..=i64::from(cyrisma_emulator::MAX_HISTORY_PERIODS))
    )]
    pub(crate) emulator_period: Option<u32>,
    /// When to use colour (`NO_COLOR` turns it off for `auto`)
    #[arg(long, global = true, env = "CYRISMA_COLOR", hide_env_values = true, value_enum, value_name = "WHEN")]
    pub(crate) color: Option<ColorChoice>,
}

/// How results are written to stdout.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum OutputFormat {
    // Aligned columns for people, fitted to the terminal
    Table,
    // One JSON document
    Json,
    // One JSON object per line
    Jsonl,
    // Comma-separated values with a header row
    Csv,
}

/// When to colour messages.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub(crate) enum ColorChoice {
    // When the stream is a terminal and `NO_COLOR` is not set
    Auto,
    // Always
    Always,
    // Never
    Never,
}

/// The commands.
#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Store, check, rotate and remove API credentials
    #[command(
        subcommand,
        before_help = "Examples:\n  cyrisma auth setup --api-key 407cc078-46c7-11ed-8e42-000d3a3ba598\n  cyrisma auth status"
    )]
    Auth(AuthCommand),
    /// Organizations and instances: list, create, convert, suspend, MFA, reporting login
    #[command(
        subcommand,
        before_help = "Examples:\n  cyrisma instances list\n  cyrisma instances get cc100004 -o json"
    )]
    Instances(InstancesCommand),
    /// Users under organizations
    #[command(
        subcommand,
        before_help = "Examples:\n  cyrisma users list --organization cc100001\n  cyrisma users disable jane@example.com"
    )]
    Users(UsersCommand),
    /// Vulnerability, data and secure-baseline scans of one instance
    #[command(
        subcommand,
        before_help = "Examples:\n  cyrisma scans vulnerability --instance cc100004\n  cyrisma scans vulnerability --instance cc100004 --scan SCAN_ID"
    )]
    Scans(ScansCommand),
    /// Risk dashboards and CVEs of one instance
    #[command(
        subcommand,
        before_help = "Examples:\n  cyrisma dashboards overall --instance cc100004\n  cyrisma dashboards cves --instance cc100004 --cve CVE-2021-44228"
    )]
    Dashboards(DashboardsCommand),
    /// Scanned assets of one instance
    #[command(
        subcommand,
        before_help = "Examples:\n  cyrisma assets list --instance cc100004\n  cyrisma assets show --instance cc100004 ASSET_ID"
    )]
    Assets(AssetsCommand),
    /// Current and previous grades of all five areas and vulnerability counts, for every instance;
    /// `report html` writes offline HTML pages from the history
    #[command(
        args_conflicts_with_subcommands = true,
        before_help = "Examples:\n  cyrisma report\n  cyrisma report --instance cc100004 --instance cc100005 -o csv\n  cyrisma report html --out ./report"
    )]
    Report(ReportArgs),
    /// Pull one run of grades, scans and findings from every instance into the history dataset
    #[command(
        before_help = "Examples:\n  cyrisma snapshot\n  cyrisma snapshot --dir ./history --instance cc100004,cc100005"
    )]
    Snapshot(SnapshotArgs),
    /// What changed between two snapshot runs: new, reopened, fixed and not covered findings, grade changes
    #[command(
        before_help = "Examples:\n  cyrisma diff\n  cyrisma diff --from RUN_ID --to RUN_ID -o csv > changes.csv\n  cyrisma diff --grades -o jsonl"
    )]
    Diff(DiffArgs),
    /// The snapshot history: runs, and each finding's life (first seen, fixed, reopened, days open)
    #[command(
        subcommand,
        before_help = "Examples:\n  cyrisma history runs\n  cyrisma history findings -o csv > lifecycles.csv\n  cyrisma history findings --per-instance"
    )]
    History(HistoryCommand),
    /// A Singer tap: instances, grades, scans and findings as SCHEMA, RECORD and STATE messages
    #[command(
        before_help = "Examples:\n  cyrisma tap --discover > catalog.json\n  cyrisma tap --config tap.json --state state.json | target-postgres --config pg.json"
    )]
    Tap(TapArgs),
    /// Export findings across instances to a file
    #[command(subcommand, before_help = "Examples:\n  cyrisma export findings --format csv --out findings.csv")]
    Export(ExportCommand),
    /// Endpoints per instance, per organization and in total; instance and user counts
    #[command(before_help = "Examples:\n  cyrisma usage\n  cyrisma usage -o json")]
    Usage(UsageArgs),
    /// Webhook registrations, and a local receiver that verifies deliveries (provisional API)
    #[command(
        subcommand,
        before_help = "Examples:\n  cyrisma webhooks create --url https://hooks.example.com/cyrisma --events scan.completed\n  cyrisma webhooks listen --port 8787 --secret-stdin < secret.txt"
    )]
    Webhooks(WebhooksCommand),
    /// Run the CYRISMA API emulator for dry runs and tests
    #[command(
        subcommand,
        before_help = "Examples:\n  cyrisma emulator serve --listen 127.0.0.1:8443\n  eval \"$(cyrisma emulator serve)\"   # in another shell: prints the CYRISMA_* variables\n  cyrisma emulator advance --days 30"
    )]
    Emulator(EmulatorCommand),
    /// Print a shell completion script
    #[command(
        before_help = "Examples:\n  cyrisma completions bash > ~/.local/share/bash-completion/completions/cyrisma\n  cyrisma completions zsh > \"${fpath[1]}/_cyrisma\""
    )]
    Completions(CompletionsArgs),
    /// Send any API call: the escape hatch
    #[command(
        before_help = "Examples:\n  cyrisma api GET /partner/instances/info/\n  cyrisma api GET /partner/dashboards/vulnerability/cve --instance cc100004 -f cve_id=CVE-2021-44228"
    )]
    Api(ApiArgs),
}

// ----- auth -----

/// `cyrisma auth ...`
#[derive(Debug, Subcommand)]
pub(crate) enum AuthCommand {
    /// Store the API key and secret of a profile (the secret is never an argument)
    #[command(
        before_help = "Examples:\n  cyrisma auth setup --api-key 407cc078-46c7-11ed-8e42-000d3a3ba598   # prompts for the secret\n  printf '%s' \"$SECRET\" | cyrisma auth setup --api-key KEY --secret-stdin"
    )]
    Setup(AuthSetupArgs),
    /// Log in with the stored credentials and show the token's expiry (never the token)
    #[command(before_help = "Examples:\n  cyrisma auth status\n  cyrisma auth status --profile staging -o json")]
    Status,
    /// Replace the API secret with a new one: stored before anything else, then verified
    #[command(
        name = "rotate-secret",
        before_help = "Examples:\n  cyrisma auth rotate-secret\n  cyrisma auth rotate-secret --profile customer-a"
    )]
    RotateSecret,
    /// Remove the stored secret and API key of a profile
    #[command(before_help = "Examples:\n  cyrisma auth logout\n  cyrisma auth logout --profile staging")]
    Logout,
}

/// `cyrisma auth setup`
#[derive(Debug, Args)]
pub(crate) struct AuthSetupArgs {
    /// Read the secret from standard input (one line) instead of prompting
    #[arg(long)]
    pub(crate) secret_stdin: bool,
    /// Where to keep the secret: the OS keyring when available (auto), the keyring only, or the file
    #[arg(long, value_enum, default_value_t = StorageChoice::Auto)]
    pub(crate) storage: StorageChoice,
    /// Log in with the credentials before storing them (off by default: CYRISMA wants the
    /// secret rotation to be a new integration's first call)
    #[arg(long)]
    pub(crate) verify: bool,
}

/// Where secrets are kept.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub(crate) enum StorageChoice {
    // The OS keyring when one is available, else `credentials.toml` (mode 0600)
    Auto,
    // The OS keyring only
    Keyring,
    // `credentials.toml` (mode 0600 in a 0700 directory)
    File,
}

// ----- instances -----

/// `cyrisma instances ...`
#[derive(Debug, Subcommand)]
pub(crate) enum InstancesCommand {
    /// List every organization and instance
    #[command(
        before_help = "Examples:\n  cyrisma instances list\n  cyrisma instances list --type standard --status suspended -o csv"
    )]
    List(InstancesListArgs),
    /// Show one organization or instance
    #[command(before_help = "Examples:\n  cyrisma instances get cc100004\n  cyrisma instances get cc100004 -o json")]
    Get(InstanceIdArg),
    /// Create an organization (msp, mssp) or an instance (standard)
    #[command(
        before_help = "Examples:\n  cyrisma instances create --type standard --parent cc100001 --name \"Acme Corp\" --short-name acme \\\n    --country US --email it@acme.example --wait"
    )]
    Create(Box<InstancesCreateArgs>),
    /// Convert a consulting instance into a managed one (once)
    #[command(before_help = "Examples:\n  cyrisma instances convert cc100042")]
    Convert(InstanceIdArg),
    /// Suspend an instance (it then refuses reporting)
    #[command(before_help = "Examples:\n  cyrisma instances suspend cc100042")]
    Suspend(InstanceIdArg),
    /// Reactivate a suspended instance
    #[command(before_help = "Examples:\n  cyrisma instances reactivate cc100042")]
    Reactivate(InstanceIdArg),
    /// Set an organization's MFA method
    #[command(
        name = "set-mfa",
        before_help = "Examples:\n  cyrisma instances set-mfa cc100001 authenticator\n  cyrisma instances set-mfa cc100001 none"
    )]
    SetMfa(SetMfaArgs),
    /// Authenticate one instance, or all, for reporting (reporting commands do it by themselves)
    #[command(before_help = "Examples:\n  cyrisma instances authenticate\n  cyrisma instances authenticate cc100004")]
    Authenticate(OptionalInstanceIdArg),
    /// Wait until a new instance has finished provisioning
    #[command(
        before_help = "Examples:\n  cyrisma instances wait cc100042\n  cyrisma instances wait cc100042 --wait-timeout 900"
    )]
    Wait(WaitArgs),
}

/// One instance id.
#[derive(Debug, Args)]
pub(crate) struct InstanceIdArg {
    /// Instance id (`cc100004`), as `cyrisma instances list` shows it
    #[arg(value_name = "INSTANCE_ID", value_parser = parse_id)]
    pub(crate) id: String,
}

/// An optional instance id.
#[derive(Debug, Args)]
pub(crate) struct OptionalInstanceIdArg {
    /// Instance id; all instances when absent
    #[arg(value_name = "INSTANCE_ID", value_parser = parse_id)]
    pub(crate) id: Option<String>,
}

/// `cyrisma instances list`
#[derive(Debug, Args)]
pub(crate) struct InstancesListArgs {
    /// Only this type: organizations (msp, mssp) or customer instances (standard)
    #[arg(long = "type", value_enum, value_name = "TYPE")]
    pub(crate) instance_type: Option<InstanceTypeArg>,
    /// Only this status: provisioning (being created), active, or suspended
    #[arg(long, value_enum)]
    pub(crate) status: Option<StatusArg>,
}

/// An instance type.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub(crate) enum InstanceTypeArg {
    // Managed service provider organization
    Msp,
    // Managed security service provider organization
    Mssp,
    // Customer instance
    Standard,
}

/// An instance status.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub(crate) enum StatusArg {
    // Being provisioned
    Provisioning,
    // Ready
    Active,
    // Suspended
    Suspended,
}

/// `cyrisma instances create`
#[derive(Debug, Args)]
pub(crate) struct InstancesCreateArgs {
    /// msp or mssp for an organization, standard for an instance
    #[arg(long = "type", value_enum, value_name = "TYPE")]
    pub(crate) instance_type: InstanceTypeArg,
    /// Create a consulting instance (it can be converted to managed once)
    #[arg(long)]
    pub(crate) consulting: bool,
    /// Id of the parent: the organization of a new instance (see `cyrisma instances list --type msp`)
    #[arg(long, value_name = "ID", value_parser = parse_id)]
    pub(crate) parent: String,
    /// Display name of the organization or instance
    #[arg(long)]
    pub(crate) name: String,
    /// Short name (a compact identifier of the customer)
    #[arg(long)]
    pub(crate) short_name: String,
    /// Country (it decides data residency)
    #[arg(long)]
    pub(crate) country: String,
    /// Contact email
    #[arg(long)]
    pub(crate) email: String,
    /// MFA method (organizations only)
    #[arg(long, value_enum)]
    pub(crate) mfa: Option<MfaArg>,
    /// Microsoft tenant id
    #[arg(long)]
    pub(crate) tenant_id: Option<String>,
    /// State or region
    #[arg(long)]
    pub(crate) state: Option<String>,
    /// City
    #[arg(long)]
    pub(crate) city: Option<String>,
    /// Postal code
    #[arg(long)]
    pub(crate) postal: Option<String>,
    /// Street address
    #[arg(long)]
    pub(crate) street: Option<String>,
    /// Wait until provisioning has finished
    #[arg(long)]
    pub(crate) wait: bool,
    /// How long --wait waits, in seconds (at most 10000000)
    #[arg(long, default_value_t = 600, value_name = "SECONDS", requires = "wait", value_parser = wait_seconds())]
    pub(crate) wait_timeout: u64,
}

/// An MFA method.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub(crate) enum MfaArg {
    // No MFA (0)
    #[value(alias = "0")]
    None,
    // A code by email (1)
    #[value(alias = "1")]
    Email,
    // An authenticator app, TOTP (2)
    #[value(alias = "2", alias = "totp")]
    Authenticator,
}

/// `cyrisma instances set-mfa`
#[derive(Debug, Args)]
pub(crate) struct SetMfaArgs {
    /// Organization id
    #[arg(value_name = "ORGANIZATION_ID", value_parser = parse_id)]
    pub(crate) id: String,
    /// MFA method
    #[arg(value_enum)]
    pub(crate) method: MfaArg,
}

/// `cyrisma instances wait`
#[derive(Debug, Args)]
pub(crate) struct WaitArgs {
    /// Instance id
    #[arg(value_name = "INSTANCE_ID", value_parser = parse_id)]
    pub(crate) id: String,
    /// How long to wait, in seconds (at most 10000000)
    #[arg(long, default_value_t = 600, value_name = "SECONDS", value_parser = wait_seconds())]
    pub(crate) wait_timeout: u64,
}

// ----- users -----

/// `cyrisma users ...`
#[derive(Debug, Subcommand)]
pub(crate) enum UsersCommand {
    /// List users
    #[command(before_help = "Examples:\n  cyrisma users list\n  cyrisma users list --organization cc100001 -o json")]
    List(UsersListArgs),
    /// Show one user, by id or username
    #[command(before_help = "Examples:\n  cyrisma users get jane@example.com")]
    Get(UserRefArg),
    /// Create a user under an organization (the user sets a password by self-service reset)
    #[command(
        before_help = "Examples:\n  cyrisma users create --organization cc100001 --username jane@example.com \\\n    --first-name Jane --last-name Doe"
    )]
    Create(UsersCreateArgs),
    /// Disable a user, by id or username
    #[command(before_help = "Examples:\n  cyrisma users disable jane@example.com")]
    Disable(UserRefArg),
}

/// `cyrisma users list`
#[derive(Debug, Args)]
pub(crate) struct UsersListArgs {
    /// Only users of this organization
    #[arg(long, value_name = "ID", value_parser = parse_id)]
    pub(crate) organization: Option<String>,
}

/// A user id or username.
#[derive(Debug, Args)]
pub(crate) struct UserRefArg {
    /// User id or username (an email address), as `cyrisma users list` shows them
    #[arg(value_name = "USER", value_parser = parse_id)]
    pub(crate) user: String,
}

/// `cyrisma users create`
#[derive(Debug, Args)]
pub(crate) struct UsersCreateArgs {
    /// Organization id
    #[arg(long, value_name = "ID", value_parser = parse_id)]
    pub(crate) organization: String,
    /// Username (an email address)
    #[arg(long)]
    pub(crate) username: String,
    /// First name
    #[arg(long)]
    pub(crate) first_name: String,
    /// Last name
    #[arg(long)]
    pub(crate) last_name: String,
}

// ----- scans, dashboards, assets -----

/// The instance a reporting command reads.
#[derive(Debug, Args)]
pub(crate) struct InstanceOpt {
    /// Instance id (`cc100004`)
    #[arg(long, value_name = "ID", value_parser = parse_id)]
    pub(crate) instance: String,
}

/// `cyrisma scans ...`
#[derive(Debug, Subcommand)]
pub(crate) enum ScansCommand {
    /// Vulnerability scan summaries, or one scan's findings with --scan
    #[command(
        before_help = "Examples:\n  cyrisma scans vulnerability --instance cc100004\n  cyrisma scans vulnerability --instance cc100004 --scan SCAN_ID -o csv"
    )]
    Vulnerability(VulnerabilityScansArgs),
    /// Sensitive-data scan summaries
    #[command(before_help = "Examples:\n  cyrisma scans data --instance cc100004")]
    Data(InstanceOpt),
    /// Secure-baseline scan summaries
    #[command(before_help = "Examples:\n  cyrisma scans baseline --instance cc100004")]
    Baseline(InstanceOpt),
}

/// `cyrisma scans vulnerability`
#[derive(Debug, Args)]
pub(crate) struct VulnerabilityScansArgs {
    #[command(flatten)]
    pub(crate) instance: InstanceOpt,
    /// Show this scan's findings (vulnerabilities, open ports, web flaws)
    #[arg(long, value_name = "SCAN_ID", value_parser = parse_id)]
    pub(crate) scan: Option<String>,
}

/// `cyrisma dashboards ...`
#[derive(Debug, Subcommand)]
pub(crate) enum DashboardsCommand {
    /// Current and previous grades of the five areas
    #[command(before_help = "Examples:\n  cyrisma dashboards overall --instance cc100004")]
    Overall(InstanceOpt),
    /// Data-scan grades and sensitive files
    #[command(before_help = "Examples:\n  cyrisma dashboards data --instance cc100004")]
    Data(InstanceOpt),
    /// Secure-baseline grades and targets
    #[command(before_help = "Examples:\n  cyrisma dashboards baseline --instance cc100004")]
    Baseline(InstanceOpt),
    /// Vulnerability grades and counts by severity
    #[command(before_help = "Examples:\n  cyrisma dashboards vulnerability --instance cc100004")]
    Vulnerability(InstanceOpt),
    /// CVEs found on the instance, or one
    #[command(
        before_help = "Examples:\n  cyrisma dashboards cves --instance cc100004\n  cyrisma dashboards cves --instance cc100004 --cve CVE-2021-44228"
    )]
    Cves(CvesArgs),
}

/// `cyrisma dashboards cves`
#[derive(Debug, Args)]
pub(crate) struct CvesArgs {
    #[command(flatten)]
    pub(crate) instance: InstanceOpt,
    /// Only this CVE
    #[arg(long, value_name = "CVE_ID", value_parser = parse_id)]
    pub(crate) cve: Option<String>,
}

/// `cyrisma assets ...`
#[derive(Debug, Subcommand)]
pub(crate) enum AssetsCommand {
    /// Internal and external assets
    #[command(
        before_help = "Examples:\n  cyrisma assets list --instance cc100004\n  cyrisma assets list --instance cc100004 --type external"
    )]
    List(AssetsListArgs),
    /// One asset's findings: an internal asset by id, or an external one by IP address
    #[command(
        before_help = "Examples:\n  cyrisma assets show --instance cc100004 ASSET_ID\n  cyrisma assets show --instance cc100004 203.0.113.7"
    )]
    Show(AssetsShowArgs),
}

/// `cyrisma assets list`
#[derive(Debug, Args)]
pub(crate) struct AssetsListArgs {
    #[command(flatten)]
    pub(crate) instance: InstanceOpt,
    /// Only internal or external assets
    #[arg(long = "type", value_enum, value_name = "TYPE")]
    pub(crate) asset_type: Option<AssetTypeArg>,
}

/// An asset type.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub(crate) enum AssetTypeArg {
    // Inside the customer network
    Internal,
    // Internet-facing
    External,
}

/// `cyrisma assets show`
#[derive(Debug, Args)]
pub(crate) struct AssetsShowArgs {
    #[command(flatten)]
    pub(crate) instance: InstanceOpt,
    /// Asset id (internal) or IP address (external)
    #[arg(value_name = "ASSET", value_parser = parse_id)]
    pub(crate) asset: String,
}

// ----- report, export, usage -----

/// Which instances a fan-out command covers.
#[derive(Debug, Args)]
pub(crate) struct InstanceFilter {
    /// Only these instances (repeat the flag, or separate with commas); default: every
    /// instance that is not an organization and not suspended
    #[arg(long = "instance", value_name = "ID", value_delimiter = ',', value_parser = parse_id)]
    pub(crate) instances: Vec<String>,
}

/// `cyrisma report`
#[derive(Debug, Args)]
pub(crate) struct ReportArgs {
    #[command(flatten)]
    pub(crate) filter: InstanceFilter,
    #[command(subcommand)]
    pub(crate) command: Option<ReportCommand>,
}

/// `cyrisma report ...`
#[derive(Debug, Subcommand)]
pub(crate) enum ReportCommand {
    /// Offline HTML pages from the history: index.html (the portfolio) and one page per customer
    #[command(
        before_help = "Examples:\n  cyrisma report html --out ./report\n  cyrisma report html --dir ./history --out ./report --period 6m --title \"Q3 review\" --msp-name \"Acme IT\" --logo logo.png"
    )]
    Html(ReportHtmlArgs),
}

/// `cyrisma report html`
#[derive(Debug, Args)]
pub(crate) struct ReportHtmlArgs {
    #[command(flatten)]
    pub(crate) dir: HistoryDir,
    /// Directory to write `index.html` and `<instance_id>.html` into (created when missing; each page is written to a
    /// temporary file and renamed into place)
    #[arg(long, value_name = "DIR")]
    pub(crate) out: PathBuf,
    /// Only these customers (repeat the flag, or separate with commas); default: every instance the runs of the
    /// period pulled or tried to
    #[arg(long = "instance", value_name = "ID", value_delimiter = ',', value_parser = parse_id)]
    pub(crate) instances: Vec<String>,
    /// Only the runs from this UTC date on (YYYY-MM-DD); default: every run
    #[arg(long, value_name = "DATE", conflicts_with = "period")]
    pub(crate) since: Option<String>,
    /// Only the runs this far back from the latest one: a number and d, w, m (30 days) or y (90d, 12w, 6m, 1y)
    #[arg(long, value_name = "PERIOD")]
    pub(crate) period: Option<String>,
    /// The pages' title [default: "Security report"]
    #[arg(long, value_name = "TEXT", env = "CYRISMA_REPORT_TITLE", hide_env_values = true)]
    pub(crate) title: Option<String>,
    /// The MSP's name, shown as "Prepared by ..."
    #[arg(long, value_name = "NAME", env = "CYRISMA_REPORT_MSP_NAME", hide_env_values = true)]
    pub(crate) msp_name: Option<String>,
    /// A logo to embed in every page (PNG, JPEG, GIF, WebP or SVG, at most 512 KiB)
    #[arg(long, value_name = "FILE", env = "CYRISMA_REPORT_LOGO", hide_env_values = true)]
    pub(crate) logo: Option<PathBuf>,
}

/// `cyrisma export ...`
#[derive(Debug, Subcommand)]
pub(crate) enum ExportCommand {
    /// One row per vulnerability, open port and web flaw of each instance's latest scans
    #[command(
        before_help = "Examples:\n  cyrisma export findings --format csv --out findings.csv\n  cyrisma export findings --format jsonl --out - --instance cc100004 | jq .risk_level"
    )]
    Findings(ExportFindingsArgs),
}

/// `cyrisma export findings`
#[derive(Debug, Args)]
pub(crate) struct ExportFindingsArgs {
    /// File format
    #[arg(long, value_enum, default_value_t = ExportFormat::Jsonl)]
    pub(crate) format: ExportFormat,
    /// File to write (`-` or `/dev/stdout` for stdout); a regular file is written to a temporary file and renamed on
    /// success, a symlink's target likewise (the link stays), a FIFO or device is written through
    #[arg(long, value_name = "FILE")]
    pub(crate) out: PathBuf,
    #[command(flatten)]
    pub(crate) filter: InstanceFilter,
    /// Keep the file when some instances failed (exit code 3 still says so)
    #[arg(long)]
    pub(crate) allow_partial: bool,
    /// Every vulnerability scan, not only the latest of each scan type
    #[arg(long)]
    pub(crate) all_scans: bool,
}

/// `cyrisma tap`
#[derive(Debug, Args)]
pub(crate) struct TapArgs {
    /// Print the catalog (each stream's JSON Schema, key properties and replication metadata) and exit
    #[arg(long)]
    pub(crate) discover: bool,
    /// JSON settings: `api_key`, `api_secret`, `base_url`, `resolve`, `ca_cert`, `allowed_domain` and the other
    /// `CYRISMA_*` settings by their lower-case names (flags win over it; it wins over environment and profile)
    #[arg(long, value_name = "FILE")]
    pub(crate) config: Option<PathBuf>,
    /// A catalog whose stream metadata selects streams (`"selected": true`); default: every stream
    #[arg(long, visible_alias = "properties", value_name = "FILE")]
    pub(crate) catalog: Option<PathBuf>,
    /// The last STATE message's value: one bookmark per instance; default: a first pull
    #[arg(long, value_name = "FILE")]
    pub(crate) state: Option<PathBuf>,
    #[command(flatten)]
    pub(crate) filter: InstanceFilter,
    /// Exit 0 when some instances failed (their bookmarks are kept, and stderr names them)
    #[arg(long)]
    pub(crate) allow_partial: bool,
}

/// An export file format.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub(crate) enum ExportFormat {
    // One JSON object per line
    Jsonl,
    // Comma-separated values with a header row (formula-guarded)
    Csv,
    // One JSON array
    Json,
}

/// Where the history dataset lives (`--dir`).
#[derive(Debug, Args)]
pub(crate) struct HistoryDir {
    /// The history dataset's directory, or a bucket (`s3://bucket/prefix`, `az://container/prefix`,
    /// `gs://bucket/prefix`); default: the profile's `history_dir`, else the platform's data
    /// directory (`$XDG_DATA_HOME/cyrisma/history`, else `~/.local/share/cyrisma/history`)
    #[arg(long, value_name = "DIR", env = "CYRISMA_HISTORY_DIR", hide_env_values = true)]
    pub(crate) dir: Option<PathBuf>,
}

/// `cyrisma snapshot`
#[derive(Debug, Args)]
pub(crate) struct SnapshotArgs {
    #[command(flatten)]
    pub(crate) dir: HistoryDir,
    #[command(flatten)]
    pub(crate) filter: InstanceFilter,
}

/// `cyrisma diff`
#[derive(Debug, Args)]
pub(crate) struct DiffArgs {
    #[command(flatten)]
    pub(crate) dir: HistoryDir,
    /// The earlier run (default: the run before `--to`)
    #[arg(long, value_name = "RUN")]
    pub(crate) from: Option<String>,
    /// The later run (default: the latest complete run)
    #[arg(long, value_name = "RUN")]
    pub(crate) to: Option<String>,
    /// List unchanged findings too
    #[arg(long)]
    pub(crate) all: bool,
    /// With `-o csv` / `-o jsonl`: the grade changes instead of the findings
    #[arg(long)]
    pub(crate) grades: bool,
}

/// `cyrisma history ...`
#[derive(Debug, Subcommand)]
pub(crate) enum HistoryCommand {
    /// Every complete run with its counts and the instances that failed
    #[command(before_help = "Examples:\n  cyrisma history runs\n  cyrisma history runs -o json")]
    Runs {
        #[command(flatten)]
        dir: HistoryDir,
    },
    /// Each finding's first and last sighting, fix, reopenings and days open; or per instance
    #[command(before_help = "Examples:\n  cyrisma history findings -o csv\n  cyrisma history findings --per-instance")]
    Findings {
        #[command(flatten)]
        dir: HistoryDir,
        /// One row per instance: open and fixed findings and the mean days to fix
        #[arg(long)]
        per_instance: bool,
    },
}

/// `cyrisma usage`
#[derive(Debug, Args)]
pub(crate) struct UsageArgs {
    /// Only rows of this organization (its instances and its total)
    #[arg(long, value_name = "ID", value_parser = parse_id)]
    pub(crate) organization: Option<String>,
}

// ----- webhooks -----

/// `cyrisma webhooks ...`
#[derive(Debug, Subcommand)]
pub(crate) enum WebhooksCommand {
    /// List webhook registrations
    #[command(before_help = "Examples:\n  cyrisma webhooks list")]
    List,
    /// Register a URL for events; the signing secret is shown once
    #[command(
        before_help = "Examples:\n  cyrisma webhooks create --url https://hooks.example.com/cyrisma \\\n    --events scan.completed,user.created"
    )]
    Create(WebhooksCreateArgs),
    /// Delete a registration
    #[command(before_help = "Examples:\n  cyrisma webhooks delete wh_0123")]
    Delete(WebhookIdArg),
    /// Receive deliveries on 127.0.0.1, verify their signatures and print each event as a JSON line
    #[command(
        before_help = "Examples:\n  cyrisma webhooks listen --port 8787 --secret-stdin < signing-secret.txt\n  CYRISMA_WEBHOOK_SECRET=... cyrisma webhooks listen --port 8787 | jq .type"
    )]
    Listen(WebhooksListenArgs),
}

/// `cyrisma webhooks create`
#[derive(Debug, Args)]
pub(crate) struct WebhooksCreateArgs {
    /// URL that receives the signed event deliveries (POST requests)
    #[arg(long)]
    pub(crate) url: String,
    /// Event types, comma-separated [default: every type]
    #[arg(long, value_delimiter = ',', value_name = "TYPE,...")]
    pub(crate) events: Vec<String>,
}

/// A webhook id.
#[derive(Debug, Args)]
pub(crate) struct WebhookIdArg {
    /// Webhook id, as `cyrisma webhooks list` shows it
    #[arg(value_name = "WEBHOOK_ID", value_parser = parse_id)]
    pub(crate) id: String,
}

/// `cyrisma webhooks listen`
#[derive(Debug, Args)]
pub(crate) struct WebhooksListenArgs {
    /// Port on 127.0.0.1 (0 picks a free one, printed on stderr)
    #[arg(long, default_value_t = 8787)]
    pub(crate) port: u16,
    /// Read the signing secret from standard input (else `CYRISMA_WEBHOOK_SECRET`)
    #[arg(long)]
    pub(crate) secret_stdin: bool,
    /// Stop after this many verified events
    #[arg(long, value_name = "N")]
    pub(crate) max_events: Option<u64>,
}

// ----- emulator, completions, api -----

/// `cyrisma emulator ...`
#[derive(Debug, Subcommand)]
pub(crate) enum EmulatorCommand {
    /// Serve the emulator until Ctrl-C; prints the `export CYRISMA_...` lines a client needs
    #[command(disable_help_flag = true, before_help = SERVE_EXAMPLES)]
    Serve(EmulatorServeArgs),
    /// Move a served emulator's clock forward: every active instance gets a new period of scans
    /// (some findings fixed, new or back) and the grades move
    #[command(
        before_help = "Examples:\n  cyrisma emulator advance --days 30   # the emulator `emulator serve` started\n  cyrisma emulator advance --days 7 --rescan"
    )]
    Advance(EmulatorAdvanceArgs),
}

/// `cyrisma emulator advance`
#[derive(Debug, Args)]
pub(crate) struct EmulatorAdvanceArgs {
    /// Days to move the clock forward (1 to 3660)
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=3660))]
    pub(crate) days: u32,
    /// A rescan: the new scans show the same findings as the latest ones (only scan ids, scores,
    /// titles and order change)
    #[arg(long)]
    pub(crate) rescan: bool,
}

const SERVE_EXAMPLES: &str =
    "Examples:\n  cyrisma emulator serve\n  cyrisma emulator serve --listen 127.0.0.1:8443 --instances 100 --seed 7";

/// `cyrisma emulator serve`: the emulator's flags, parsed apart by [`ServeCli`].
///
/// They are parsed on their own so that the `CYRISMA_*` variables of the global options never
/// flow into them (`CYRISMA_CA_CERT` would otherwise name the file the emulator writes its CA
/// to, and overwrite a real CA file).
#[derive(Debug, Args)]
pub(crate) struct EmulatorServeArgs {
    /// The emulator's flags: see `cyrisma emulator serve --help`
    #[arg(trailing_var_arg = true, allow_hyphen_values = true, value_name = "FLAGS")]
    pub(crate) args: Vec<std::ffi::OsString>,
}

/// The flags of `cyrisma emulator serve`, shared with `cyrisma-emulator`.
#[derive(Debug, Parser)]
#[command(
    name = "cyrisma emulator serve",
    about = "Serve the emulator until Ctrl-C; prints the `export CYRISMA_...` lines a client needs",
    before_help = SERVE_EXAMPLES,
    max_term_width = 100
)]
pub(crate) struct ServeCli {
    #[command(flatten)]
    pub(crate) serve: cyrisma_emulator::ServeArgs,
}

/// `cyrisma completions`
#[derive(Debug, Args)]
pub(crate) struct CompletionsArgs {
    /// Shell to generate for
    #[arg(value_enum)]
    pub(crate) shell: clap_complete::Shell,
}

/// `cyrisma api`
#[derive(Debug, Args)]
pub(crate) struct ApiArgs {
    /// HTTP method (GET, POST, PATCH, DELETE)
    #[arg(value_name = "METHOD")]
    pub(crate) method: String,
    /// Path below the base URL, as in the API reference (`/partner/instances/info/cc100004`)
    #[arg(value_name = "PATH")]
    pub(crate) path: String,
    /// Instance whose host serves the call (needed for reporting paths)
    #[arg(long, value_name = "ID", value_parser = parse_id)]
    pub(crate) instance: Option<String>,
    /// A query parameter (GET) or form field (other methods); repeatable
    #[arg(short = 'f', long = "field", value_name = "KEY=VALUE", value_parser = parse_field)]
    pub(crate) fields: Vec<(String, String)>,
}

/// The address `webhooks listen` binds: loopback only.
pub(crate) fn listen_addr(port: u16) -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], port))
}

/// The most seconds a duration flag takes (about 115 days): larger values are refused, since a
/// deadline that far is no deadline and `2^63` seconds overflows the clock.
pub(crate) const MAX_SECONDS: u64 = 10_000_000;

/// The parser of the whole-second wait flags: 0 to [`MAX_SECONDS`].
fn wait_seconds() -> clap::builder::RangedU64ValueParser<u64> {
    clap::value_parser!(u64).range(0..=MAX_SECONDS)
}

/// An id: any text but an empty or blank one (which would address the collection, not an item).
fn parse_id(text: &str) -> Result<String, String> {
    if text.trim().is_empty() { Err("give a non-empty id".to_owned()) } else { Ok(text.to_owned()) }
}

fn parse_field(text: &str) -> Result<(String, String), String> {
    match text.split_once('=') {
        Some((key, value)) if !key.trim().is_empty() => Ok((key.trim().to_owned(), value.to_owned())),
        _ => Err("write the field as `key=value`".to_owned()),
    }
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    use super::*;

    #[test]
    fn the_command_line_is_well_formed() {
        Cli::command().debug_assert();
    }

    #[test]
    fn fields_parse() {
        assert_eq!(parse_field("a=b=c"), Ok(("a".to_owned(), "b=c".to_owned())));
        assert!(parse_field("=x").is_err());
    }
}
