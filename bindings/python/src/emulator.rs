//! `cyrisma.Emulator`: the Rust emulator of the CYRISMA API on loopback, for users' own test
//! suites (like moto's server): it starts on construction, tells a client how to reach it, gives
//! a ready `client()`, and exposes the admin controls (faults, counters, request log).

use std::sync::Mutex;
use std::time::Duration;

use cyrisma_core::ApiSecret;
use cyrisma_emulator::{Emulator as RustEmulator, EmulatorConfig, EmulatorHandle, Fault};
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyTuple};

use crate::config;
use crate::convert::{to_json, to_python};
use crate::errors::Failure;
use crate::models::{IntoPython, Secret, quoted};
use crate::runtime::{self, check_pid};

/// A running emulator.
#[pyclass(module = "cyrisma._cyrisma", name = "Emulator", frozen)]
pub(crate) struct Emulator {
    handle: Mutex<Option<EmulatorHandle>>,
    pid: u32,
}

impl Emulator {
    /// Runs `action` on the running emulator.
    fn with<T>(&self, action: impl FnOnce(&EmulatorHandle) -> T) -> Result<T, Failure> {
        check_pid(self.pid, "emulator")?;
        let guard = self.handle.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        match guard.as_ref() {
            Some(handle) => Ok(action(handle)),
            None => Err(Failure::Emulator("the emulator was stopped".to_owned())),
        }
    }

    /// Reads connection details, also in a forked child (the server keeps running in the parent,
    /// and children may connect to it).
    fn info<T>(&self, action: impl FnOnce(&EmulatorHandle) -> T) -> Result<T, Failure> {
        let guard = self.handle.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        match guard.as_ref() {
            Some(handle) => Ok(action(handle)),
            None => Err(Failure::Emulator("the emulator was stopped".to_owned())),
        }
    }

    /// The client arguments that reach this emulator.
    fn client_kwargs<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let (base_url, resolve, ca_cert, domain, api_key, secret) = self.info(|handle| {
            (
                handle.base_url().to_owned(),
                handle.resolve(),
                handle.ca_cert_path().map(|path| path.display().to_string()),
                handle.allowed_domain().to_owned(),
                handle.api_key().to_owned(),
                handle.api_secret(),
            )
        })?;
        let kwargs = PyDict::new(py);
        kwargs.set_item("base_url", base_url)?;
        kwargs.set_item("resolve", resolve)?;
        kwargs.set_item("ca_cert", ca_cert)?;
        kwargs.set_item("allowed_domain", domain)?;
        kwargs.set_item("api_key", api_key)?;
        kwargs.set_item("api_secret", Py::new(py, Secret::new(secret.expose_secret()))?)?;
        Ok(kwargs)
    }

    fn make_client<'py>(
        &self,
        py: Python<'py>,
        class: &str,
        overrides: Option<&Bound<'py, PyDict>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let kwargs = self.client_kwargs(py)?;
        if let Some(overrides) = overrides {
            kwargs.update(overrides.as_mapping())?;
        }
        py.import("cyrisma")?.getattr(class)?.call((), Some(&kwargs))
    }

    fn fault(&self, fault: Fault) -> Result<u64, Failure> {
        self.with(|handle| handle.add_fault(fault))
    }
}

impl Drop for Emulator {
    fn drop(&mut self) {
        // In a forked child the server belongs to the parent: leave its tasks, sockets and CA file
        // alone.
        if self.pid != std::process::id()
            && let Some(handle) = self.handle.get_mut().unwrap_or_else(std::sync::PoisonError::into_inner).take()
        {
            std::mem::forget(handle);
        }
    }
}

/// Builds a fault from keyword arguments, with the emulator's own JSON reader.
fn fault_from(
    kind: &str,
    endpoint: &str,
    host: Option<String>,
    skip: u32,
    times: Option<u32>,
    params: Option<&Bound<'_, PyDict>>,
) -> Result<Fault, Failure> {
    let mut object = serde_json::Map::new();
    if let Some(params) = params
        && let serde_json::Value::Object(extra) = to_json(params.as_any(), "params")?
    {
        object.extend(extra);
    }
    object.insert("kind".to_owned(), kind.into());
    object.insert("endpoint".to_owned(), endpoint.into());
    if let Some(host) = host {
        object.insert("host".to_owned(), host.into());
    }
    object.insert("skip".to_owned(), skip.into());
    if let Some(times) = times {
        object.insert("times".to_owned(), times.into());
    }
    serde_json::from_value(serde_json::Value::Object(object)).map_err(|error| {
        Failure::argument(
            "kind",
            format!(
                "not a valid fault ({error}): kinds are latency(ms), status(status, retry_after), expire_tokens, drop_after_commit, truncated_body(keep, complete), oversized_body(bytes), deep_json(depth)"
            ),
        )
    })
}

fn duration(value: Option<&Bound<'_, PyAny>>, name: &str, default: Duration) -> Result<Duration, Failure> {
    match value {
        None => Ok(default),
        Some(value) if value.is_none() => Ok(default),
        Some(value) => {
            let seconds: f64 = value
                .extract()
                .map_err(|_| Failure::argument(name, format!("`{name}` must be a number of seconds")))?;
            if seconds.is_finite() && (0.0..1e9).contains(&seconds) {
                Ok(Duration::from_secs_f64(seconds))
            } else {
                Err(Failure::argument(name, format!("`{name}` must be a non-negative number of seconds")))
            }
        }
    }
}

#[pymethods]
impl Emulator {
    /// Starts an emulator on ``127.0.0.1`` (a free port unless ``port`` is given), seeded with
    /// deterministic data: ``organizations`` organizations, ``instances`` instances, each with
    /// ``scans_per_instance`` vulnerability scans of ``assets_per_scan`` assets. With ``tls``
    /// (the default) it serves HTTPS with a CA generated at start (``ca_cert``).
    #[new]
    #[pyo3(signature = (
        *, seed=1, organizations=3, instances=12, scans_per_instance=4, assets_per_scan=8, tls=true,
        domain="cyrisma.test", api_key=None, api_secret=None, token_ttl=None, refresh_token_ttl=None,
        provisioning_delay=None, anchor_time=None, webhook_retries=3, webhook_backoff=None, port=0,
        history_periods=0,
    ))]
    #[allow(clippy::too_many_arguments)]
    fn new(
        py: Python<'_>,
        seed: u64,
        organizations: u32,
        instances: u32,
        scans_per_instance: u32,
        assets_per_scan: u32,
        tls: bool,
        domain: &str,
        api_key: Option<String>,
        api_secret: Option<&Bound<'_, PyAny>>,
        token_ttl: Option<&Bound<'_, PyAny>>,
        refresh_token_ttl: Option<&Bound<'_, PyAny>>,
        provisioning_delay: Option<&Bound<'_, PyAny>>,
        anchor_time: Option<i64>,
        webhook_retries: u32,
        webhook_backoff: Option<&Bound<'_, PyAny>>,
        port: u16,
        history_periods: u32,
    ) -> PyResult<Self> {
        let defaults = EmulatorConfig::default();
        let mut config = EmulatorConfig::default()
            .with_listen(std::net::SocketAddr::from(([127, 0, 0, 1], port)))
            .with_tls(tls)
            .with_domain(domain)
            .with_seed(seed)
            .with_size(organizations, instances, scans_per_instance, assets_per_scan)
            .with_token_ttl(duration(token_ttl, "token_ttl", defaults.token_ttl)?)
            .with_provisioning_delay(duration(provisioning_delay, "provisioning_delay", Duration::ZERO)?)
            .with_webhook_retries(
                webhook_retries,
                duration(webhook_backoff, "webhook_backoff", defaults.webhook_backoff)?,
            );
        config.refresh_token_ttl = duration(refresh_token_ttl, "refresh_token_ttl", defaults.refresh_token_ttl)?;
        config.api_key = api_key;
        if let Some(secret) = api_secret.filter(|value| !value.is_none()) {
            let secret = match secret.cast::<Secret>() {
                Ok(secret) => secret.get().expose().to_owned(),
                Err(_) => config::text(secret, "api_secret")?,
            };
            config.api_secret = Some(ApiSecret::new(secret));
        }
        if let Some(anchor) = anchor_time {
            config = config.with_anchor_time(anchor);
        }
        config = config.with_history_periods(history_periods);
        let handle = runtime::wait(py, async move {
            RustEmulator::start(config)
                .await
                .map_err(|error| Failure::Emulator(format!("cannot start the emulator: {error}")))
        })?;
        Ok(Self { handle: Mutex::new(Some(handle)), pid: std::process::id() })
    }

    /// The central base URL (``https://api.cyrisma.test:PORT/app``).
    #[getter]
    fn base_url(&self) -> PyResult<String> {
        Ok(self.info(|handle| handle.base_url().to_owned())?)
    }

    /// The host-to-address override a client needs (``*.cyrisma.test=127.0.0.1``).
    #[getter]
    fn resolve(&self) -> PyResult<String> {
        Ok(self.info(EmulatorHandle::resolve)?)
    }

    /// The path of the CA certificate (PEM) to trust, with TLS.
    #[getter]
    fn ca_cert(&self) -> PyResult<Option<String>> {
        Ok(self.info(|handle| handle.ca_cert_path().map(|path| path.display().to_string()))?)
    }

    /// The CA certificate as PEM text, with TLS.
    #[getter]
    fn ca_cert_pem(&self) -> PyResult<Option<String>> {
        Ok(self.info(|handle| handle.ca_cert_pem().map(str::to_owned))?)
    }

    /// The API key the emulator accepts.
    #[getter]
    fn api_key(&self) -> PyResult<String> {
        Ok(self.info(|handle| handle.api_key().to_owned())?)
    }

    /// The API secret the emulator currently accepts (a fake one; the new one after a rotation).
    #[getter]
    fn api_secret(&self) -> PyResult<String> {
        Ok(self.info(|handle| handle.api_secret().expose_secret().to_owned())?)
    }

    /// The domain instance hosts belong to (``cyrisma.test``).
    #[getter]
    fn allowed_domain(&self) -> PyResult<String> {
        Ok(self.info(|handle| handle.allowed_domain().to_owned())?)
    }

    /// The port the emulator listens on.
    #[getter]
    fn port(&self) -> PyResult<u16> {
        Ok(self.info(|handle| handle.addr().port())?)
    }

    /// Whether it serves HTTPS.
    #[getter]
    fn tls(&self) -> PyResult<bool> {
        Ok(self.info(EmulatorHandle::is_tls)?)
    }

    /// The partner id of the emulated partner.
    #[getter]
    fn partner_id(&self) -> PyResult<String> {
        Ok(self.info(|handle| handle.partner_id().to_owned())?)
    }

    /// The ``CYRISMA_*`` environment a client (or the CLI) needs, as a dict.
    fn env(&self) -> PyResult<std::collections::BTreeMap<&'static str, String>> {
        Ok(self.info(|handle| handle.env().into_iter().collect())?)
    }

    /// The keyword arguments of :class:`Client` that reach this emulator.
    fn client_options<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        self.client_kwargs(py)
    }

    /// A :class:`Client` for this emulator; keyword arguments override its settings.
    #[pyo3(signature = (**overrides))]
    fn client<'py>(&self, py: Python<'py>, overrides: Option<&Bound<'py, PyDict>>) -> PyResult<Bound<'py, PyAny>> {
        self.make_client(py, "Client", overrides)
    }

    /// An :class:`AsyncClient` for this emulator; keyword arguments override its settings.
    #[pyo3(signature = (**overrides))]
    fn async_client<'py>(
        &self,
        py: Python<'py>,
        overrides: Option<&Bound<'py, PyDict>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        self.make_client(py, "AsyncClient", overrides)
    }

    /// The base URL of an instance host (``https://cc100004.cyrisma.test:PORT/app``).
    fn instance_base_url(&self, instance_id: &str) -> PyResult<String> {
        Ok(self.info(|handle| handle.instance_base_url(instance_id))?)
    }

    /// Every organization and instance, as the structure listing shows them now.
    fn instances(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        self.with(EmulatorHandle::instances)?.into_python(py)
    }

    /// Every user.
    fn users(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        self.with(EmulatorHandle::users)?.into_python(py)
    }

    /// The webhook registrations, as dicts with ``webhook_id``, ``url`` and ``events``.
    fn webhooks<'py>(&self, py: Python<'py>) -> PyResult<Vec<Bound<'py, PyDict>>> {
        let hooks = self.with(EmulatorHandle::webhooks)?;
        hooks
            .into_iter()
            .map(|(id, url, events)| {
                let dict = PyDict::new(py);
                dict.set_item("webhook_id", id)?;
                dict.set_item("url", url)?;
                dict.set_item("events", events)?;
                Ok(dict)
            })
            .collect()
    }

    /// Every webhook delivery attempt so far, as dicts.
    fn webhook_deliveries<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let deliveries = self.with(EmulatorHandle::webhook_deliveries)?;
        to_python(py, &deliveries)
    }

    /// Requests per endpoint name (``auth.login``, ``scans.list_vulnerability_scans``, ...).
    fn counters(&self) -> PyResult<std::collections::BTreeMap<String, u64>> {
        Ok(self.with(EmulatorHandle::counters)?)
    }

    /// Requests to one endpoint so far.
    fn count(&self, endpoint: &str) -> PyResult<u64> {
        Ok(self.with(|handle| handle.count(endpoint))?)
    }

    /// The request log, oldest first, as dicts (it never holds a secret).
    fn requests<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let requests = self.with(EmulatorHandle::requests)?;
        to_python(py, &requests)
    }

    /// Clears the counters and the request log.
    fn reset_counters(&self) -> PyResult<()> {
        Ok(self.with(EmulatorHandle::reset_counters)?)
    }

    /// Removes every fault, clears counters and the log, and keeps connections alive again.
    fn reset(&self) -> PyResult<()> {
        Ok(self.with(EmulatorHandle::reset)?)
    }

    /// Adds a fault; returns its id. ``kind`` is ``latency`` (``ms=``), ``status`` (``status=``,
    /// ``retry_after=``), ``expire_tokens``, ``drop_after_commit``, ``truncated_body``
    /// (``keep=``, ``complete=``), ``oversized_body`` (``bytes=``) or ``deep_json``
    /// (``depth=``). It applies to ``endpoint`` (a name such as ``instances.create_instance``, or
    /// ``*``) and ``host`` (an instance id or host name), lets ``skip`` matching requests
    /// through, then affects ``times`` of them (all when ``None``).
    #[pyo3(signature = (kind, *, endpoint="*", host=None, skip=0, times=None, **params))]
    fn add_fault(
        &self,
        kind: &str,
        endpoint: &str,
        host: Option<String>,
        skip: u32,
        times: Option<u32>,
        params: Option<&Bound<'_, PyDict>>,
    ) -> PyResult<u64> {
        let fault = fault_from(kind, endpoint, host, skip, times, params)?;
        Ok(self.fault(fault)?)
    }

    /// Answers ``status`` (with the contract's error body) instead of handling matching
    /// requests; ``429``/``503`` carry ``Retry-After`` (``retry_after``, default ``"1"``).
    #[pyo3(signature = (status, *, endpoint="*", host=None, skip=0, times=None, retry_after=None))]
    #[allow(clippy::too_many_arguments)]
    fn fail(
        &self,
        py: Python<'_>,
        status: u16,
        endpoint: &str,
        host: Option<String>,
        skip: u32,
        times: Option<u32>,
        retry_after: Option<String>,
    ) -> PyResult<u64> {
        let params = PyDict::new(py);
        params.set_item("status", status)?;
        params.set_item("retry_after", retry_after)?;
        let fault = fault_from("status", endpoint, host, skip, times, Some(&params))?;
        Ok(self.fault(fault)?)
    }

    /// Delays matching requests by ``seconds``.
    #[pyo3(signature = (seconds, *, endpoint="*", host=None, skip=0, times=None))]
    fn delay(
        &self,
        seconds: &Bound<'_, PyAny>,
        endpoint: &str,
        host: Option<String>,
        skip: u32,
        times: Option<u32>,
    ) -> PyResult<u64> {
        let wait = duration(Some(seconds), "seconds", Duration::ZERO)?;
        let mut fault = Fault::latency(u64::try_from(wait.as_millis()).unwrap_or(u64::MAX)).on(endpoint).skip(skip);
        if let Some(host) = host {
            fault = fault.at_host(host);
        }
        if let Some(times) = times {
            fault = fault.times(times);
        }
        Ok(self.fault(fault)?)
    }

    /// Handles matching requests (the change is made), then closes the connection without an
    /// answer: the client sees an ambiguous outcome.
    #[pyo3(signature = (*, endpoint="*", host=None, skip=0, times=None))]
    fn drop_after_commit(&self, endpoint: &str, host: Option<String>, skip: u32, times: Option<u32>) -> PyResult<u64> {
        let mut fault = Fault::drop_after_commit().on(endpoint).skip(skip);
        if let Some(host) = host {
            fault = fault.at_host(host);
        }
        if let Some(times) = times {
            fault = fault.times(times);
        }
        Ok(self.fault(fault)?)
    }

    /// The faults, as dicts with how often each matched (``seen``) and fired (``fired``).
    fn faults<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let faults = self.with(EmulatorHandle::faults)?;
        to_python(py, &faults)
    }

    /// Removes one fault; whether it existed.
    fn remove_fault(&self, fault_id: u64) -> PyResult<bool> {
        Ok(self.with(|handle| handle.remove_fault(fault_id))?)
    }

    /// Removes every fault.
    fn clear_faults(&self) -> PyResult<()> {
        Ok(self.with(EmulatorHandle::clear_faults)?)
    }

    /// Expires every access and refresh token now.
    fn expire_tokens(&self) -> PyResult<()> {
        Ok(self.with(EmulatorHandle::expire_tokens)?)
    }

    /// Closes every connection after its next answer (``True``) or keeps them alive.
    fn set_close_after_response(&self, close: bool) -> PyResult<()> {
        Ok(self.with(|handle| handle.set_close_after_response(close))?)
    }

    /// Adds a completed vulnerability scan (type 5, 9, 10 or 11) to an instance, which emits
    /// ``scan.completed``; returns the scan id.
    #[pyo3(signature = (instance_id, scan_type=5))]
    fn trigger_scan(&self, instance_id: &str, scan_type: u8) -> PyResult<String> {
        self.with(|handle| handle.trigger_scan(instance_id, scan_type))?
            .map_err(|message| Failure::argument("instance_id", message).into())
    }

    /// Moves the emulator's clock ``days`` (1 to 3660) forward: every active instance gets a new
    /// period of scans of each type with churning findings (``churn=False``: a rescan with the
    /// same findings); returns the period's number.
    #[pyo3(signature = (days, churn=true))]
    fn advance(&self, days: u32, churn: bool) -> PyResult<u32> {
        self.with(|handle| if churn { handle.advance(days) } else { handle.rescan(days) })?
            .map(|advanced| advanced.period)
            .map_err(|message| Failure::argument("days", message).into())
    }

    /// Replaces the API secret (as if CYRISMA support issued a new temporary one).
    fn set_api_secret(&self, secret: &Bound<'_, PyAny>) -> PyResult<()> {
        let secret = match secret.cast::<Secret>() {
            Ok(secret) => secret.get().expose().to_owned(),
            Err(_) => config::text(secret, "secret")?,
        };
        Ok(self.with(|handle| handle.set_api_secret(&ApiSecret::new(secret)))?)
    }

    /// Whether the emulator is running.
    #[getter]
    fn running(&self) -> bool {
        self.handle.lock().unwrap_or_else(std::sync::PoisonError::into_inner).is_some()
    }

    /// Stops the emulator: no new connections, open ones get up to 5 s to finish.
    fn close(&self, py: Python<'_>) -> PyResult<()> {
        let handle = self.handle.lock().unwrap_or_else(std::sync::PoisonError::into_inner).take();
        if let Some(handle) = handle {
            if check_pid(self.pid, "emulator").is_err() {
                // The parent's server tasks do not exist here; just forget the handle.
                std::mem::forget(handle);
                return Ok(());
            }
            runtime::wait(py, async move {
                handle.shutdown().await;
                Ok(())
            })?;
        }
        Ok(())
    }

    fn __enter__(slf: Py<Self>) -> Py<Self> {
        slf
    }

    #[pyo3(signature = (*_args))]
    fn __exit__(&self, py: Python<'_>, _args: &Bound<'_, PyTuple>) -> PyResult<bool> {
        self.close(py)?;
        Ok(false)
    }

    fn __repr__(&self) -> String {
        match self.info(|handle| (handle.base_url().to_owned(), handle.is_tls())) {
            Ok((base_url, tls)) => {
                format!("Emulator(base_url={}, tls={})", quoted(&base_url), if tls { "True" } else { "False" })
            }
            Err(_) => "Emulator(stopped)".to_owned(),
        }
    }
}
