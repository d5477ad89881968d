//! The emulator's options: [`EmulatorConfig`] for the library and [`ServeArgs`], the command-line
//! flags (`cyrisma-emulator`, and `cyrisma emulator serve` through `#[command(flatten)]`).

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use cyrisma_core::ApiSecret;

/// Everything [`crate::Emulator::start`] needs. `Default` is the command's defaults: loopback on a
/// free port, TLS, `cyrisma.test`, a generated key and secret, 600-second tokens, seed 1.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct EmulatorConfig {
    /// Where to listen: must be a loopback address (`127.0.0.1:0` picks a free port).
    pub listen: SocketAddr,
    /// HTTPS with a generated CA and wildcard certificate (`true`) or plain HTTP.
    pub tls: bool,
    /// The domain: central host `api.<domain>`, instance hosts `ccNNNNNN.<domain>`.
    pub domain: String,
    /// The API key (generated, UUID-shaped, when `None`).
    pub api_key: Option<String>,
    /// The initial API secret (generated when `None`).
    pub api_secret: Option<ApiSecret>,
    /// Lifetime of access tokens (`expires_in`).
    pub token_ttl: Duration,
    /// Lifetime of refresh tokens.
    pub refresh_token_ttl: Duration,
    /// Seed of the generated data.
    pub seed: u64,
    /// Number of organizations (`msp`/`mssp`).
    pub organizations: u32,
    /// Number of standard instances, spread over the organizations.
    pub instances: u32,
    /// Vulnerability scans per instance (types cycle 5, 9, 10, 11); data and baseline scans
    /// follow from it.
    pub scans_per_instance: u32,
    /// Assets per vulnerability scan.
    pub assets_per_scan: u32,
    /// How long a created instance stays `provisioning`.
    pub provisioning_delay: Duration,
    /// Where to write the CA certificate (PEM); a temporary directory owned by the handle when
    /// `None`.
    pub ca_cert_path: Option<PathBuf>,
    /// The instant (Unix seconds) seeded times count back from; the start of the current UTC day
    /// when `None`. Fix it to make two runs byte-identical across days.
    pub anchor_time: Option<i64>,
    /// How many times a failed webhook delivery is retried.
    pub webhook_retries: u32,
    /// The first retry delay of webhook deliveries (doubled each time).
    pub webhook_backoff: Duration,
    /// Monthly periods of generated past: each instance gets one round of scans of every type
    /// (vulnerability types 5, 9, 10, 11, data, baseline) per calendar month before the anchor's
    /// month, with churning findings, so history and grade trends exist from the start.
    /// At most [`crate::MAX_HISTORY_PERIODS`].
    pub history_periods: u32,
    /// With `Some(k)` (at most `history_periods`), the `history_periods` monthly periods end at
    /// the anchor's day instead of lying before it, and the emulator starts at the `k`-th: its
    /// seeded scans are dated `history_periods` months before the anchor, followed by `k` monthly
    /// periods of new scans exactly as `k` advances of the clock would add them, and its clock
    /// ([`crate::EmulatorHandle::now_micros`]) stands `history_periods - k` months before the
    /// anchor. Emulators started with the same seed, size, history and anchor day and successive
    /// `k` show one history growing a month at a time (same fingerprints, churning findings,
    /// moving grades), so separate processes can snapshot it month by month.
    pub current_period: Option<u32>,
}

impl Default for EmulatorConfig {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            tls: true,
            domain: DEFAULT_DOMAIN.to_owned(),
            api_key: None,
            api_secret: None,
            token_ttl: Duration::from_secs(600),
            refresh_token_ttl: Duration::from_secs(86_400),
            seed: 1,
            organizations: 3,
            instances: 12,
            scans_per_instance: 4,
            assets_per_scan: 8,
            provisioning_delay: Duration::from_secs(5),
            ca_cert_path: None,
            anchor_time: None,
            webhook_retries: 3,
            webhook_backoff: Duration::from_millis(200),
            history_periods: 0,
            current_period: None,
        }
    }
}

/// The default domain.
pub const DEFAULT_DOMAIN: &str = "cyrisma.test";

impl EmulatorConfig {
    /// Plain HTTP on loopback and otherwise the defaults: handy for tests.
    pub fn plain() -> Self {
        Self { tls: false, ..Self::default() }
    }

    /// Sets the listen address.
    pub fn with_listen(mut self, listen: SocketAddr) -> Self {
        self.listen = listen;
        self
    }

    /// Turns TLS on or off.
    pub fn with_tls(mut self, tls: bool) -> Self {
        self.tls = tls;
        self
    }

    /// Sets the domain.
    pub fn with_domain(mut self, domain: impl Into<String>) -> Self {
        self.domain = domain.into();
        self
    }

    /// Sets the credentials.
    pub fn with_credentials(mut self, api_key: impl Into<String>, api_secret: ApiSecret) -> Self {
        self.api_key = Some(api_key.into());
        self.api_secret = Some(api_secret);
        self
    }

    /// Sets the access-token lifetime.
    pub fn with_token_ttl(mut self, ttl: Duration) -> Self {
        self.token_ttl = ttl;
        self
    }

    /// Sets the seed.
    pub fn with_seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }

    /// Sets the size of the seeded data.
    pub fn with_size(
        mut self,
        organizations: u32,
        instances: u32,
        scans_per_instance: u32,
        assets_per_scan: u32,
    ) -> Self {
        self.organizations = organizations;
        self.instances = instances;
        self.scans_per_instance = scans_per_instance;
        self.assets_per_scan = assets_per_scan;
        self
    }

    /// Sets the provisioning delay.
    pub fn with_provisioning_delay(mut self, delay: Duration) -> Self {
        self.provisioning_delay = delay;
        self
    }

    /// Sets where the CA certificate is written.
    pub fn with_ca_cert_path(mut self, path: impl Into<PathBuf>) -> Self {
        self.ca_cert_path = Some(path.into());
        self
    }

    /// Fixes the anchor of seeded times.
    pub fn with_anchor_time(mut self, unix_secs: i64) -> Self {
        self.anchor_time = Some(unix_secs);
        self
    }

    /// Sets the monthly periods of generated past.
    pub fn with_history_periods(mut self, periods: u32) -> Self {
        self.history_periods = periods;
        self
    }

    /// Starts the emulator at the `period`-th of its `history_periods` monthly periods, which then
    /// end at the anchor's day (see [`EmulatorConfig::current_period`]).
    pub fn with_current_period(mut self, period: u32) -> Self {
        self.current_period = Some(period);
        self
    }

    /// Sets the webhook retry policy.
    pub fn with_webhook_retries(mut self, retries: u32, backoff: Duration) -> Self {
        self.webhook_retries = retries;
        self.webhook_backoff = backoff;
        self
    }
}

/// The flags of `cyrisma-emulator` and `cyrisma emulator serve`.
#[derive(Clone, Debug, clap::Args)]
#[non_exhaustive]
pub struct ServeArgs {
    /// Loopback address to listen on; port 0 picks a free port (printed at start).
    #[arg(long, default_value = "127.0.0.1:0", value_name = "ADDR:PORT")]
    pub listen: SocketAddr,
    /// Serve HTTPS with a CA and wildcard certificate generated at start (the default).
    #[arg(long, overrides_with = "no_tls")]
    pub tls: bool,
    /// Serve plain HTTP instead (loopback only).
    #[arg(long = "no-tls", overrides_with = "tls")]
    pub no_tls: bool,
    /// Domain of the central host (`api.<domain>`) and instance hosts (`ccNNNNNN.<domain>`).
    #[arg(long, default_value = DEFAULT_DOMAIN, value_name = "DOMAIN")]
    pub domain: String,
    /// API key to accept (generated and printed when absent).
    #[arg(long, value_name = "UUID")]
    pub api_key: Option<String>,
    /// Initial API secret to accept (generated and printed when absent). A fake, emulator-only
    /// secret: never pass a real one.
    #[arg(long, value_name = "SECRET")]
    pub api_secret: Option<String>,
    /// Access-token lifetime in seconds (`expires_in`).
    #[arg(long, default_value_t = 600, value_name = "SECONDS")]
    pub token_ttl: u64,
    /// Seed of the generated data (same seed, same data).
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Number of organizations.
    #[arg(long, default_value_t = 3)]
    pub organizations: u32,
    /// Number of instances, spread over the organizations.
    #[arg(long, default_value_t = 12)]
    pub instances: u32,
    /// Vulnerability scans per instance (types cycle 5, 9, 10, 11).
    #[arg(long, default_value_t = 4)]
    pub scans_per_instance: u32,
    /// Assets per vulnerability scan.
    #[arg(long, default_value_t = 8)]
    pub assets_per_scan: u32,
    /// Seconds a created instance stays `provisioning`.
    #[arg(long, default_value_t = 5, value_name = "SECONDS")]
    pub provisioning_delay: u64,
    /// Where to write the CA certificate (PEM); a temporary file when absent.
    #[arg(long, value_name = "PATH")]
    pub ca_cert: Option<PathBuf>,
    /// Start with a generated past of N monthly periods of scans (churning findings, moving
    /// grades) before the current month; `POST /__emulator/advance` adds more later.
    #[arg(long, default_value_t = 0, value_name = "N")]
    pub history: u32,
}

impl ServeArgs {
    /// The library configuration these flags describe.
    pub fn to_config(&self) -> EmulatorConfig {
        EmulatorConfig {
            listen: self.listen,
            tls: !self.no_tls,
            domain: self.domain.clone(),
            api_key: self.api_key.clone(),
            api_secret: self.api_secret.clone().map(ApiSecret::new),
            token_ttl: Duration::from_secs(self.token_ttl),
            seed: self.seed,
            organizations: self.organizations,
            instances: self.instances,
            scans_per_instance: self.scans_per_instance,
            assets_per_scan: self.assets_per_scan,
            provisioning_delay: Duration::from_secs(self.provisioning_delay),
            ca_cert_path: self.ca_cert.clone(),
            history_periods: self.history,
            ..EmulatorConfig::default()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Debug, Parser)]
    struct Cli {
        #[command(flatten)]
        serve: ServeArgs,
    }

    #[test]
    fn flags_become_a_configuration() {
        let defaults = Cli::parse_from(["emulator"]).serve.to_config();
        assert!(defaults.tls);
        assert_eq!(defaults.listen, SocketAddr::from(([127, 0, 0, 1], 0)));
        assert_eq!(defaults.domain, "cyrisma.test");
        assert_eq!(defaults.token_ttl, Duration::from_secs(600));
        assert!(defaults.api_key.is_none() && defaults.api_secret.is_none());
        let cli = Cli::parse_from([
            "emulator",
            "--listen",
            "127.0.0.1:8443",
            "--no-tls",
            "--domain",
            "emu.test",
            "--api-key",
            "k",
            "--api-secret",
            "s",
            "--token-ttl",
            "5",
            "--seed",
            "9",
            "--organizations",
            "4",
            "--instances",
            "40",
            "--scans-per-instance",
            "10",
            "--assets-per-scan",
            "200",
            "--provisioning-delay",
            "0",
            "--ca-cert",
            "/tmp/ca.pem",
            "--history",
            "6",
        ]);
        let config = cli.serve.to_config();
        assert!(!config.tls);
        assert_eq!(config.listen.port(), 8443);
        assert_eq!((config.domain.as_str(), config.api_key.as_deref()), ("emu.test", Some("k")));
        assert_eq!(config.api_secret.as_ref().map(ApiSecret::expose_secret), Some("s"));
        assert_eq!((config.token_ttl, config.seed), (Duration::from_secs(5), 9));
        assert_eq!(
            (config.organizations, config.instances, config.scans_per_instance, config.assets_per_scan),
            (4, 40, 10, 200)
        );
        assert_eq!(config.provisioning_delay, Duration::ZERO);
        assert_eq!(config.ca_cert_path, Some(PathBuf::from("/tmp/ca.pem")));
        assert_eq!((config.history_periods, defaults.history_periods), (6, 0));
        // The last of --tls / --no-tls wins.
        assert!(Cli::parse_from(["emulator", "--no-tls", "--tls"]).serve.to_config().tls);
        assert!(!Cli::parse_from(["emulator", "--tls", "--no-tls"]).serve.to_config().tls);
    }
}
