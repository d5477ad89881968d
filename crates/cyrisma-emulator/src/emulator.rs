//! Starting the emulator, and the [`EmulatorHandle`] that tells clients how to reach it and gives
//! tests the admin controls in-process.

use std::collections::BTreeMap;
use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Instant;

use cyrisma_core::ApiSecret;
use cyrisma_core::types::{Instance, User};
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::admin::{Fault, FaultInfo, RequestRecord};
use crate::config::EmulatorConfig;
use crate::error::StartError;
use crate::inflight::InFlightStats;
use crate::prng;
use crate::reporting::Generator;
use crate::seed::{self, SeedPlan};
use crate::server;
use crate::shared::Shared;
use crate::state::{Settings, State};
use crate::webhook::{DeliveryRecord, Dispatcher};

/// The partner id of the emulated partner.
pub const PARTNER_ID: &str = "partner01";

/// The emulator. Start it with [`Emulator::start`].
#[derive(Debug)]
#[non_exhaustive]
pub struct Emulator;

/// A running emulator. Dropping it shuts the server down (without waiting); call
/// [`EmulatorHandle::shutdown`] to wait until it has stopped.
pub struct EmulatorHandle {
    shared: Arc<Shared>,
    addr: SocketAddr,
    base_url: String,
    scheme: &'static str,
    ca_cert_path: Option<PathBuf>,
    ca_cert_pem: Option<String>,
    ca_cert_der: Option<Vec<u8>>,
    api_key: String,
    /// Seconds between the wall clock and the emulator's before any advance: the anchor's day
    /// against the real day the emulator started on.
    clock_offset: i64,
    shutdown: watch::Sender<bool>,
    server: Option<JoinHandle<()>>,
    _temp_dir: Option<tempfile::TempDir>,
}

impl std::fmt::Debug for EmulatorHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EmulatorHandle")
            .field("base_url", &self.base_url)
            .field("addr", &self.addr)
            .field("ca_cert_path", &self.ca_cert_path)
            .finish_non_exhaustive()
    }
}

fn valid_domain(domain: &str) -> bool {
    !domain.is_empty()
        && domain.len() <= 200
        && domain.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && label.bytes().all(|byte| byte.is_ascii_lowercase() || byte.is_ascii_digit() || byte == b'-')
                && !label.starts_with('-')
                && !label.ends_with('-')
        })
        && domain.parse::<IpAddr>().is_err()
}

impl Emulator {
    /// Seeds the state, generates the certificates (with TLS), binds the listener and starts
    /// serving. Must be called inside a tokio runtime (the server runs as tasks on it).
    pub async fn start(config: EmulatorConfig) -> Result<EmulatorHandle, StartError> {
        if !config.listen.ip().is_loopback() {
            return Err(StartError::NotLoopback { addr: config.listen });
        }
        let domain = config.domain.trim().trim_end_matches('.').to_ascii_lowercase();
        if !valid_domain(&domain) {
            return Err(StartError::Config(format!(
                "domain `{}` is not a dns name of lower-case letters, digits and hyphens",
                crate::failure::printable(&config.domain)
            )));
        }
        if config.instances > 0 && config.organizations == 0 {
            return Err(StartError::Config("instances live under organizations: use at least one organization".into()));
        }
        if config.organizations.saturating_add(config.instances) > 800_000 {
            return Err(StartError::Config("at most 800000 organizations and instances".into()));
        }
        if config.scans_per_instance > 400 {
            return Err(StartError::Config("at most 400 scans per instance".into()));
        }
        if config.history_periods > crate::MAX_HISTORY_PERIODS {
            return Err(StartError::Config(format!(
                "at most {} periods of generated history",
                crate::MAX_HISTORY_PERIODS
            )));
        }
        if config.assets_per_scan > 20_000 {
            return Err(StartError::Config("at most 20000 assets per scan".into()));
        }
        let api_key = config.api_key.clone().map(|key| key.trim().to_owned()).unwrap_or_else(prng::random_uuid);
        let secret = match &config.api_secret {
            Some(secret) if !secret.is_empty() => secret.expose_secret().to_owned(),
            _ => prng::random_alphanumeric(32),
        };
        if api_key.is_empty() {
            return Err(StartError::Config("the api key is empty".into()));
        }
        let now = crate::clock::now_secs();
        let today = now - now.rem_euclid(86_400);
        let anchor = config.anchor_time.unwrap_or(today);
        let (anchor, history_periods, advances) = match config.current_period {
            None => (anchor, config.history_periods, Vec::new()),
            Some(current) if current > config.history_periods => {
                return Err(StartError::Config(format!(
                    "the current period ({current}) must be at most the periods of history ({})",
                    config.history_periods
                )));
            }
            Some(current) => {
                let (start, advances) = crate::timeline::monthly_advances(anchor, config.history_periods, current);
                (start, 0, advances)
            }
        };

        let plan = SeedPlan {
            seed: config.seed,
            partner_id: PARTNER_ID.to_owned(),
            organizations: config.organizations,
            instances: config.instances,
            scans_per_instance: config.scans_per_instance,
            anchor,
            history_periods,
        };
        let (entities, users) = seed::build(&plan);
        let settings = Settings {
            domain: domain.clone(),
            partner_id: PARTNER_ID.to_owned(),
            token_ttl: config.token_ttl,
            refresh_ttl: config.refresh_token_ttl,
            provisioning_delay: config.provisioning_delay,
        };
        let mut state = State::new(settings, api_key.clone(), secret, entities, users);
        for days in advances {
            state.advance(days, true, Instant::now());
        }
        let generator = Generator::new(config.seed, config.assets_per_scan, anchor);

        let (certificates, temp_dir, ca_cert_path) = if config.tls {
            let certificates = crate::tls::generate(&domain)?;
            let (temp_dir, path) = match &config.ca_cert_path {
                Some(path) => (None, path.clone()),
                None => {
                    let dir = tempfile::Builder::new()
                        .prefix("cyrisma-emulator-")
                        .tempdir()
                        .map_err(|source| StartError::WriteCa { path: std::env::temp_dir(), source })?;
                    let path = dir.path().join("ca.pem");
                    (Some(dir), path)
                }
            };
            std::fs::write(&path, certificates.ca_pem.as_bytes())
                .map_err(|source| StartError::WriteCa { path: path.clone(), source })?;
            (Some(certificates), temp_dir, Some(path))
        } else {
            (None, None, None)
        };

        let listener = TcpListener::bind(config.listen)
            .await
            .map_err(|source| StartError::Bind { addr: config.listen, source })?;
        let addr = listener.local_addr().map_err(|source| StartError::Bind { addr: config.listen, source })?;

        let (shutdown, shutdown_rx) = watch::channel(false);
        let dispatcher = Dispatcher::new(config.webhook_retries, config.webhook_backoff, shutdown_rx.clone());
        let shared =
            Arc::new(Shared::new(state, generator, domain.clone(), config.provisioning_delay, dispatcher, shutdown_rx));
        let acceptor =
            certificates.as_ref().map(|certs| tokio_rustls::TlsAcceptor::from(Arc::clone(&certs.server_config)));
        let server = tokio::spawn(server::run(listener, Arc::clone(&shared), acceptor));

        let scheme = if config.tls { "https" } else { "http" };
        let base_url = format!("{scheme}://api.{domain}:{}/app", addr.port());
        Ok(EmulatorHandle {
            shared,
            addr,
            base_url,
            scheme,
            ca_cert_path,
            ca_cert_pem: certificates.as_ref().map(|certs| certs.ca_pem.clone()),
            ca_cert_der: certificates.as_ref().map(|certs| certs.ca_der.to_vec()),
            api_key,
            clock_offset: anchor - today,
            shutdown,
            server: Some(server),
            _temp_dir: temp_dir,
        })
    }
}

impl EmulatorHandle {
    /// The central base URL, such as `https://api.cyrisma.test:41234/app`.
    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// The base URL of an instance host, such as `https://cc100004.cyrisma.test:41234/app`.
    pub fn instance_base_url(&self, instance_id: &str) -> String {
        format!("{}://{}.{}:{}/app", self.scheme, instance_id, self.shared.domain, self.addr.port())
    }

    /// The address the server listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The domain (`cyrisma.test`).
    pub fn domain(&self) -> &str {
        &self.shared.domain
    }

    /// The allowed domain for instance hosts: the domain.
    pub fn allowed_domain(&self) -> &str {
        &self.shared.domain
    }

    /// The central host name (`api.cyrisma.test`).
    pub fn central_host(&self) -> &str {
        &self.shared.central_host
    }

    /// The host-to-address overrides, as `(pattern, address)`: `("*.cyrisma.test", 127.0.0.1)`.
    pub fn resolve_overrides(&self) -> Vec<(String, IpAddr)> {
        vec![(format!("*.{}", self.shared.domain), self.addr.ip())]
    }

    /// The overrides in the `HOST=ADDR` form of `CYRISMA_RESOLVE`: `*.cyrisma.test=127.0.0.1`.
    pub fn resolve(&self) -> String {
        self.resolve_overrides()
            .iter()
            .map(|(pattern, address)| format!("{pattern}={address}"))
            .collect::<Vec<_>>()
            .join(",")
    }

    /// Whether the server speaks TLS.
    pub fn is_tls(&self) -> bool {
        self.scheme == "https"
    }

    /// Where the CA certificate (PEM) was written, with TLS.
    pub fn ca_cert_path(&self) -> Option<&Path> {
        self.ca_cert_path.as_deref()
    }

    /// The CA certificate, PEM, with TLS.
    pub fn ca_cert_pem(&self) -> Option<&str> {
        self.ca_cert_pem.as_deref()
    }

    /// The CA certificate, DER, with TLS.
    pub fn ca_cert_der(&self) -> Option<&[u8]> {
        self.ca_cert_der.as_deref()
    }

    /// The API key.
    pub fn api_key(&self) -> &str {
        &self.api_key
    }

    /// The current API secret (the new one after a regen-pass).
    pub fn api_secret(&self) -> ApiSecret {
        ApiSecret::new(self.shared.state().secret())
    }

    /// The partner id.
    pub fn partner_id(&self) -> &str {
        &self.shared.partner_id
    }

    /// The environment a client needs, in order: `CYRISMA_BASE_URL`, `CYRISMA_RESOLVE`,
    /// `CYRISMA_CA_CERT` (with TLS), `CYRISMA_ALLOWED_DOMAIN`, `CYRISMA_API_KEY`,
    /// `CYRISMA_API_SECRET`. The secret is the emulator's fake one.
    pub fn env(&self) -> Vec<(&'static str, String)> {
        let mut env = vec![("CYRISMA_BASE_URL", self.base_url.clone()), ("CYRISMA_RESOLVE", self.resolve())];
        if let Some(path) = &self.ca_cert_path {
            env.push(("CYRISMA_CA_CERT", path.display().to_string()));
        }
        env.push(("CYRISMA_ALLOWED_DOMAIN", self.shared.domain.clone()));
        env.push(("CYRISMA_API_KEY", self.api_key.clone()));
        env.push(("CYRISMA_API_SECRET", self.api_secret().expose_secret().to_owned()));
        env
    }

    /// [`EmulatorHandle::env`] as `export NAME=value` lines (values single-quoted when needed).
    pub fn export_lines(&self) -> String {
        self.env().iter().map(|(name, value)| format!("export {name}={}\n", shell_quote(value))).collect()
    }

    // ----- State snapshots -----

    /// Every organization and instance, as the structure listing shows them.
    pub fn instances(&self) -> Vec<Instance> {
        self.shared.state().list_instances(Instant::now())
    }

    /// One organization or instance.
    pub fn instance(&self, id: &str) -> Option<Instance> {
        self.shared.state().get_instance(id, Instant::now()).ok().and_then(|mut found| found.pop())
    }

    /// Every user.
    pub fn users(&self) -> Vec<User> {
        self.shared.state().list_users()
    }

    /// The webhook registrations, as `(id, url, event types)`.
    pub fn webhooks(&self) -> Vec<(String, String, Vec<String>)> {
        self.shared
            .state()
            .webhooks()
            .iter()
            .map(|hook| (hook.id.clone(), hook.url.clone(), hook.events.iter().map(ToString::to_string).collect()))
            .collect()
    }

    /// Every webhook delivery attempt so far.
    pub fn webhook_deliveries(&self) -> Vec<DeliveryRecord> {
        self.shared.webhooks.deliveries()
    }

    // ----- Admin -----

    /// Requests per endpoint name (`unrouted` for requests that matched none).
    pub fn counters(&self) -> BTreeMap<String, u64> {
        self.shared.admin().counters()
    }

    /// Requests to one endpoint.
    pub fn count(&self, endpoint: &str) -> u64 {
        self.shared.admin().counters().get(endpoint).copied().unwrap_or(0)
    }

    /// The request log, oldest first (never holds a secret).
    pub fn requests(&self) -> Vec<RequestRecord> {
        self.shared.admin().requests()
    }

    /// Clears the counters and the log.
    pub fn reset_counters(&self) {
        self.shared.admin().reset_counters();
    }

    /// Requests in flight now, and the most handled at once overall and for one host since the
    /// start or the last [`EmulatorHandle::reset_in_flight_max`] (like
    /// `GET /__emulator/in-flight`). Admin requests do not count.
    pub fn in_flight(&self) -> InFlightStats {
        self.shared.in_flight().stats()
    }

    /// Starts the highest in-flight counts again from the current ones.
    pub fn reset_in_flight_max(&self) {
        self.shared.in_flight().reset_max();
    }

    /// Removes every fault, clears counters and the log, starts the highest in-flight counts
    /// again, and keeps connections alive again (like `POST /__emulator/reset`).
    pub fn reset(&self) {
        self.shared.admin().reset();
        self.shared.in_flight().reset_max();
        self.shared.close_after_response.store(false, Ordering::Relaxed);
    }

    /// Adds a fault; returns its id.
    pub fn add_fault(&self, fault: Fault) -> u64 {
        self.shared.admin().add_fault(fault)
    }

    /// Removes a fault.
    pub fn remove_fault(&self, id: u64) -> bool {
        self.shared.admin().remove_fault(id)
    }

    /// The faults, with how often each matched and fired.
    pub fn faults(&self) -> Vec<FaultInfo> {
        self.shared.admin().faults()
    }

    /// Removes every fault.
    pub fn clear_faults(&self) {
        self.shared.admin().clear_faults();
    }

    /// Expires every access and refresh token now.
    pub fn expire_tokens(&self) {
        self.shared.state().expire_tokens();
    }

    /// Closes every connection after its next answer (`true`) or keeps them alive (`false`).
    pub fn set_close_after_response(&self, close: bool) {
        self.shared.close_after_response.store(close, Ordering::Relaxed);
    }

    /// Adds a completed vulnerability scan (`scan_type` 5, 9, 10 or 11) to an instance and emits
    /// `scan.completed`; returns the scan id.
    pub fn trigger_scan(&self, instance_id: &str, scan_type: u8) -> Result<String, String> {
        self.shared.trigger_scan(instance_id, scan_type).map_err(|failure| failure.message)
    }

    /// Moves the emulator's clock `days` (1 to 3660) forward: every active instance gets a new
    /// period of scans of each type dated on the new day, with churning findings (some fixed, some
    /// new, some back, some assets not scanned), and the dashboards' grades move with them.
    pub fn advance(&self, days: u32) -> Result<crate::Advanced, String> {
        self.shared.advance(days, true).map_err(|failure| failure.message)
    }

    /// The emulator's clock, in microseconds since the Unix epoch: the wall clock moved to the
    /// anchor's day (the seeded scans' day, see [`EmulatorConfig::current_period`]), then by every
    /// advance since. Without a fixed anchor, a current period or an advance, the wall clock.
    pub fn now_micros(&self) -> i64 {
        let wall = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |elapsed| i64::try_from(elapsed.as_micros()).unwrap_or(i64::MAX));
        let moved = self.clock_offset + self.shared.state().days_advanced() * 86_400;
        wall.saturating_add(moved.saturating_mul(1_000_000))
    }

    /// Like [`Self::advance`], but the new scans show the same findings on the same assets as each
    /// instance's latest ones: only scan ids, scores, titles and order change (a rescan).
    pub fn rescan(&self, days: u32) -> Result<crate::Advanced, String> {
        self.shared.advance(days, false).map_err(|failure| failure.message)
    }

    /// Replaces the API secret (as if CYRISMA Support issued a new temporary one).
    pub fn set_api_secret(&self, secret: &ApiSecret) {
        self.shared.state().set_secret(secret.expose_secret().to_owned());
    }

    /// Stops accepting connections, lets open ones finish (up to 5 s), and waits for the server.
    pub async fn shutdown(mut self) {
        let _ = self.shutdown.send(true);
        if let Some(server) = self.server.take() {
            let _ = server.await;
        }
    }
}

impl Drop for EmulatorHandle {
    fn drop(&mut self) {
        let _ = self.shutdown.send(true);
    }
}

fn shell_quote(value: &str) -> String {
    let plain =
        !value.is_empty() && value.bytes().all(|byte| byte.is_ascii_alphanumeric() || b"-_./:=,@%+".contains(&byte));
    if plain { value.to_owned() } else { format!("'{}'", value.replace('\'', "'\\''")) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn domains_and_quoting() {
        assert!(valid_domain("cyrisma.test"));
        assert!(!valid_domain("Cyrisma.test"));
        assert!(!valid_domain("127.0.0.1"));
        assert!(!valid_domain("a..b"));
        assert_eq!(shell_quote("https://api.cyrisma.test:1/app"), "https://api.cyrisma.test:1/app");
        assert_eq!(shell_quote("*.cyrisma.test=127.0.0.1"), "'*.cyrisma.test=127.0.0.1'");
        assert_eq!(shell_quote("/tmp/a b"), "'/tmp/a b'");
        assert_eq!(shell_quote("it's"), "'it'\\''s'");
    }
}
