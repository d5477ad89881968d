//! `cyrisma.Client` and its resource namespaces: thin wrappers that convert the arguments, call
//! the transport, and convert the result.
//!
//! Every operation exists twice, from one definition ([`twin_methods`]): a blocking method
//! (`list`) for `cyrisma.Client`, and an awaitable twin (`_list_async`) that the Python
//! `cyrisma.AsyncClient` (in `python/cyrisma/_async.py`) wraps in a coroutine. Both run the same
//! Rust future on the module's runtime, with the GIL released.

use std::sync::Arc;
use std::time::Duration;

use cyrisma_core::api::{instances, users, webhooks};
use cyrisma_core::types::{AssetType, InstanceType, MfaType, WebhookEventType};
use cyrisma_transport::{Client as Transport, InstanceClient as TransportInstance};
use pyo3::prelude::*;
use pyo3::types::PyString;

use cyrisma_transport::{BoxError, NewSecret};
use pyo3::exceptions::PyTypeError;
use pyo3_async_runtimes::TaskLocals;
use pyo3_async_runtimes::generic::ContextExt;

use crate::config::{self, ClientOptions};
use crate::errors::Failure;
use crate::fleet;
use crate::models::{IntoPython, Secret, SecretValue, quoted};
use crate::runtime::{self, CyrismaRuntime, ProcessBound};

/// Defines each operation as a blocking method and an awaitable `_async` twin.
macro_rules! twin_methods {
    (
        impl $class:ident {
            $(
                $(#[$meta:meta])*
                fn $name:ident / $async_name:ident ($this:ident, $py:ident $(, $arg:ident : $ty:ty)* $(,)?) $body:block
            )*
        }
    ) => {
        #[pymethods]
        impl $class {
            $(
                $(#[$meta])*
                fn $name(&self, $py: Python<'_>, $($arg: $ty),*) -> PyResult<Py<PyAny>> {
                    let $this = self;
                    let future = $body;
                    runtime::block_on($py, future)
                }

                $(#[$meta])*
                fn $async_name<'py>(&self, $py: Python<'py>, $($arg: $ty),*) -> PyResult<Bound<'py, PyAny>> {
                    let $this = self;
                    let future = $body;
                    runtime::awaitable($py, future)
                }
            )*
        }
    };
}

// The methods that only send one endpoint's request, written by `cargo xtask codegen` from its
// method table (the rest of this file is written by hand).
mod generated;

/// What every object of one client shares: the transport client (pools, session, limits), the
/// pid that created it, and the fan-out width.
pub(crate) struct Handle {
    client: ProcessBound<Transport>,
    concurrency: usize,
}

impl Drop for Handle {
    /// Drops the transport, then lets the caller runtime close the idle connections its blocking
    /// calls left there (their tasks run only while that runtime is driven).
    fn drop(&mut self) {
        if let Some(client) = self.client.take() {
            drop(client);
            runtime::settle_caller_runtime();
        }
    }
}

impl Handle {
    /// The transport client, refused in a forked child.
    pub(crate) fn client(&self) -> Result<Transport, Failure> {
        Ok(self.client.get()?.clone())
    }

    /// The transport client for reading its settings (no I/O).
    fn settings(&self) -> Option<&Transport> {
        self.client.peek()
    }

    /// The fan-out width, or `requested`.
    fn concurrency(&self, requested: Option<&Bound<'_, PyAny>>) -> Result<usize, Failure> {
        match requested {
            Some(value) if !value.is_none() => config::read_concurrency(value),
            _ => Ok(self.concurrency),
        }
    }
}

/// The synchronous CYRISMA client. Every method blocks until the answer is there, with the GIL
/// released; Ctrl-C interrupts it.
#[pyclass(module = "cyrisma._cyrisma", name = "Client", frozen)]
pub(crate) struct Client {
    handle: Arc<Handle>,
}

impl Client {
    fn build(options: ClientOptions) -> Result<Self, Failure> {
        let (builder, concurrency) = options.builder()?;
        let runtime = runtime::runtime()?;
        // Building needs no I/O, but the connector may want a runtime context.
        let _context = runtime.enter();
        let client = builder.build()?;
        Ok(Self { handle: Arc::new(Handle { client: ProcessBound::new(client, "client"), concurrency }) })
    }

    /// The transport client and the fan-out width (`requested`, else the client's), for the
    /// module's functions over a client (`_pull`).
    pub(crate) fn fleet_parts(&self, requested: Option<&Bound<'_, PyAny>>) -> Result<(Transport, usize), Failure> {
        Ok((self.handle.client()?, self.handle.concurrency(requested)?))
    }
}

#[pymethods]
impl Client {
    #[new]
    #[pyo3(signature = (
        *, api_key=None, api_secret=None, base_url=None, resolve=None, ca_cert=None, allowed_domain=None,
        timeout=None, max_retries=None, concurrency=None,
    ))]
    #[allow(clippy::too_many_arguments)]
    fn new(
        api_key: Option<&Bound<'_, PyAny>>,
        api_secret: Option<&Bound<'_, PyAny>>,
        base_url: Option<&Bound<'_, PyAny>>,
        resolve: Option<&Bound<'_, PyAny>>,
        ca_cert: Option<&Bound<'_, PyAny>>,
        allowed_domain: Option<&Bound<'_, PyAny>>,
        timeout: Option<&Bound<'_, PyAny>>,
        max_retries: Option<&Bound<'_, PyAny>>,
        concurrency: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Self> {
        let options = ClientOptions::from_args(
            api_key,
            api_secret,
            base_url,
            resolve,
            ca_cert,
            allowed_domain,
            timeout,
            max_retries,
            concurrency,
        )?;
        Ok(Self::build(options)?)
    }

    /// A client configured from the ``CYRISMA_*`` environment variables (the ones the CLI and
    /// the emulator use: ``CYRISMA_BASE_URL``, ``CYRISMA_API_KEY``, ``CYRISMA_API_SECRET``,
    /// ``CYRISMA_RESOLVE``, ``CYRISMA_CA_CERT``, ``CYRISMA_ALLOWED_DOMAIN``, ``CYRISMA_TIMEOUT``,
    /// ``CYRISMA_MAX_RETRIES``, ``CYRISMA_CONCURRENCY``), with any argument given here taking
    /// precedence.
    #[staticmethod]
    #[pyo3(signature = (
        *, api_key=None, api_secret=None, base_url=None, resolve=None, ca_cert=None, allowed_domain=None,
        timeout=None, max_retries=None, concurrency=None,
    ))]
    #[allow(clippy::too_many_arguments)]
    fn from_env(
        api_key: Option<&Bound<'_, PyAny>>,
        api_secret: Option<&Bound<'_, PyAny>>,
        base_url: Option<&Bound<'_, PyAny>>,
        resolve: Option<&Bound<'_, PyAny>>,
        ca_cert: Option<&Bound<'_, PyAny>>,
        allowed_domain: Option<&Bound<'_, PyAny>>,
        timeout: Option<&Bound<'_, PyAny>>,
        max_retries: Option<&Bound<'_, PyAny>>,
        concurrency: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Self> {
        let options = ClientOptions::from_args(
            api_key,
            api_secret,
            base_url,
            resolve,
            ca_cert,
            allowed_domain,
            timeout,
            max_retries,
            concurrency,
        )?;
        Ok(Self::build(options.with_environment())?)
    }

    /// Organizations and instances: structure, provisioning, MFA, instance authentication.
    #[getter]
    fn instances(&self) -> Instances {
        Instances { handle: self.handle.clone() }
    }

    /// Users under organizations.
    #[getter]
    fn users(&self) -> Users {
        Users { handle: self.handle.clone() }
    }

    /// Webhook registrations (provisional contract).
    #[getter]
    fn webhooks(&self) -> Webhooks {
        Webhooks { handle: self.handle.clone() }
    }

    /// The reporting calls of one instance.
    fn instance(&self, instance_id: &Bound<'_, PyAny>) -> PyResult<InstanceClient> {
        let instance_id = config::text(instance_id, "instance_id")?;
        let client = self.handle.client()?;
        Ok(InstanceClient { inner: ProcessBound::new(client.instance(instance_id), "client") })
    }

    /// The central base URL.
    #[getter]
    fn base_url(&self) -> String {
        self.handle.settings().map(|client| client.base_url().to_string()).unwrap_or_default()
    }

    /// The domain instance hosts must belong to.
    #[getter]
    fn allowed_domain(&self) -> String {
        self.handle.settings().map(|client| client.allowed_domain().to_owned()).unwrap_or_default()
    }

    /// The API key (an identifier, not a secret).
    #[getter]
    fn api_key(&self) -> String {
        self.handle.settings().map(Transport::api_key).unwrap_or_default()
    }

    /// How many connections the client has opened so far.
    #[getter]
    fn connections_opened(&self) -> u64 {
        self.handle.settings().map_or(0, Transport::connections_opened)
    }

    /// How many logins the client has performed so far.
    #[getter]
    fn logins_performed(&self) -> u64 {
        self.handle.settings().map_or(0, Transport::logins_performed)
    }

    /// Releases nothing by itself: connections close when the last reference to the client goes.
    /// Present so that a client can be used in a ``with`` block.
    fn close(&self) {}

    fn __enter__(slf: Py<Self>) -> Py<Self> {
        slf
    }

    #[pyo3(signature = (*_args))]
    fn __exit__(&self, _args: &Bound<'_, pyo3::types::PyTuple>) -> bool {
        false
    }

    fn __repr__(&self) -> String {
        format!("Client(base_url={})", quoted(&self.base_url()))
    }

    /// Rotates the API secret (``POST /partner/login/regen-pass``): sent exactly once, never
    /// retried. ``store`` is called with the new :class:`Secret` before anything else happens and
    /// must save it durably (raise if it cannot); then the client logs in with it and returns it.
    ///
    /// Once started, the rotation runs to its end (the new secret stored) even when Ctrl-C
    /// (``KeyboardInterrupt``) arrives; the interruption is raised after that. A ``store`` that
    /// is not callable is refused before anything is sent.
    fn rotate_secret(&self, py: Python<'_>, store: Py<PyAny>) -> PyResult<Py<PyAny>> {
        check_store(py, &store)?;
        let client = self.handle.client()?;
        let secret = wait_to_the_end(py, rotate(client, store, false))?;
        secret.into_python(py)
    }

    /// The awaitable twin of :meth:`rotate_secret`; ``store`` may be a coroutine function. The
    /// rotation runs on its own task: cancelling the awaitable does not stop it.
    fn _rotate_secret_async<'py>(&self, py: Python<'py>, store: Py<PyAny>) -> PyResult<Bound<'py, PyAny>> {
        check_store(py, &store)?;
        let client = self.handle.client()?;
        runtime::awaitable(py, rotate(client, store, true))
    }
}

/// How often a blocking rotation looks at Python's signals while it waits.
const ROTATION_SIGNAL_CHECK: Duration = Duration::from_millis(100);

/// Refuses a `store` that cannot be called, before anything is sent.
fn check_store(py: Python<'_>, store: &Py<PyAny>) -> PyResult<()> {
    if store.bind(py).is_callable() {
        Ok(())
    } else {
        Err(PyTypeError::new_err("`store` must be a function that saves the new secret durably; nothing was sent"))
    }
}

/// Waits for a rotation with the GIL released, running Python's signal handlers meanwhile, but
/// never abandoning it: an interruption (Ctrl-C's `KeyboardInterrupt`, or any exception a signal
/// handler raises) is kept and raised once the rotation has ended, so that the new secret reaches
/// `store` first. The rotation is bounded by the client's timeouts.
fn wait_to_the_end<F>(py: Python<'_>, future: F) -> PyResult<SecretValue>
where
    F: Future<Output = Result<SecretValue, Failure>> + Send + 'static,
{
    use std::sync::mpsc::{RecvTimeoutError, sync_channel};
    let (sender, receiver) = sync_channel(1);
    runtime::runtime()?.spawn(async move {
        let _ = sender.send(future.await);
    });
    let mut receiver = receiver;
    let mut interrupted: Option<PyErr> = None;
    loop {
        let (received, back) = py.detach(move || (receiver.recv_timeout(ROTATION_SIGNAL_CHECK), receiver));
        receiver = back;
        match received {
            Ok(result) => {
                return match interrupted {
                    Some(interruption) => {
                        if let Err(failure) = result {
                            // Both are worth knowing: the interruption says why, the failure what.
                            interruption.set_cause(py, Some(PyErr::from(failure)));
                        }
                        Err(interruption)
                    }
                    None => result.map_err(PyErr::from),
                };
            }
            Err(RecvTimeoutError::Timeout) => {
                if let Err(error) = py.check_signals() {
                    interrupted.get_or_insert(error);
                }
            }
            Err(RecvTimeoutError::Disconnected) => {
                return Err(pyo3::exceptions::PyRuntimeError::new_err(
                    "the cyrisma operation stopped unexpectedly (a panic in the runtime)",
                ));
            }
        }
    }
}

/// How long `wait_until_active` waits when no `timeout` is given.
const DEFAULT_ACTIVATION_TIMEOUT: Duration = Duration::from_secs(300);

/// Rotates the secret, handing the new one to the Python `store` callable. The rotation runs on a
/// task of its own, so that dropping this future (a cancelled awaitable) does not stop it once the
/// request may have left: it runs to its end and stores the new secret.
async fn rotate(client: Transport, store: Py<PyAny>, allow_awaitable: bool) -> Result<SecretValue, Failure> {
    // Read here, inside the awaitable's task: its event loop, which runs a coroutine `store`.
    let locals = if allow_awaitable { <CyrismaRuntime as ContextExt>::get_task_locals() } else { None };
    let sink = move |secret: NewSecret| store_secret(store, secret, locals);
    let rotation = runtime::runtime()?.spawn(async move { client.rotate_secret(sink).await });
    match rotation.await {
        Ok(result) => Ok(SecretValue(result?)),
        Err(_) => Err(Failure::from(pyo3::exceptions::PyRuntimeError::new_err(
            "the secret rotation stopped unexpectedly (a panic in the runtime)",
        ))),
    }
}

/// Calls `store(secret)` off the runtime's workers, and awaits what it returns when it is an
/// awaitable (async client only).
async fn store_secret(store: Py<PyAny>, secret: NewSecret, locals: Option<TaskLocals>) -> Result<(), BoxError> {
    let call = tokio::task::spawn_blocking(move || {
        runtime::python_call(|| {
            Python::attach(|py| -> PyResult<Option<Py<PyAny>>> {
                let argument = Py::new(py, Secret::from_new_secret(&secret))?;
                let result = store.call1(py, (argument,))?;
                if result.bind(py).hasattr("__await__")? { Ok(Some(result)) } else { Ok(None) }
            })
        })
        .unwrap_or_else(|| Err(crate::errors::exiting()))
    });
    let pending = match call.await {
        Ok(result) => result?,
        Err(error) => return Err(Box::new(error)),
    };
    let Some(awaitable) = pending else { return Ok(()) };
    let Some(locals) = locals else {
        let error = runtime::python_call(|| {
            Python::attach(|py| {
                // Close the coroutine so that Python does not warn that it was never awaited.
                let _ = awaitable.bind(py).call_method0("close");
                PyTypeError::new_err("`store` returned an awaitable: give Client a plain function (or use AsyncClient)")
            })
        })
        .unwrap_or_else(crate::errors::exiting);
        return Err(Box::new(error));
    };
    let future = runtime::python_call(|| {
        Python::attach(|py| pyo3_async_runtimes::into_future_with_locals(&locals, awaitable.into_bound(py)))
    })
    .unwrap_or_else(|| Err(crate::errors::exiting()))?;
    future.await?;
    Ok(())
}

/// ``client.instances``: organizations and instances.
#[pyclass(module = "cyrisma._cyrisma", name = "Instances", frozen)]
pub(crate) struct Instances {
    handle: Arc<Handle>,
}

/// The MFA method from `0`/`1`/`2` or `none`/`email`/`authenticator`/`totp`.
fn mfa_type(value: &Bound<'_, PyAny>) -> Result<MfaType, Failure> {
    let invalid = || {
        Failure::argument(
            "mfa_type",
            "`mfa_type` must be 0 (none), 1 (email) or 2 (authenticator), or one of those names",
        )
    };
    let text = if let Ok(text) = value.cast::<PyString>() {
        text.to_cow().map_err(Failure::from)?.into_owned()
    } else if value.is_instance_of::<pyo3::types::PyInt>() && !value.is_instance_of::<pyo3::types::PyBool>() {
        value.extract::<i64>().map_err(|_| invalid())?.to_string()
    } else {
        return Err(invalid());
    };
    let parsed = MfaType::from_wire(&text);
    if parsed.is_unknown() { Err(invalid()) } else { Ok(parsed) }
}

fn instance_type(value: &str) -> Result<InstanceType, Failure> {
    let parsed = InstanceType::from_wire(value);
    if parsed.is_unknown() {
        Err(Failure::argument("instance_type", "`instance_type` must be `msp`, `mssp` or `standard`"))
    } else {
        Ok(parsed)
    }
}

fn events(value: &Bound<'_, PyAny>) -> Result<Vec<WebhookEventType>, Failure> {
    let names: Vec<String> = if let Ok(text) = value.cast::<PyString>() {
        text.to_cow().map_err(Failure::from)?.split(',').map(|name| name.trim().to_owned()).collect()
    } else {
        value.extract::<Vec<String>>().map_err(|_| {
            Failure::argument("events", "`events` must be a list of event types such as [\"scan.completed\"]")
        })?
    };
    let mut events = Vec::new();
    for name in names.iter().filter(|name| !name.trim().is_empty()) {
        let event = WebhookEventType::from_wire(name);
        if event.is_unknown() {
            let known: Vec<&str> = WebhookEventType::KNOWN.iter().map(WebhookEventType::as_str).collect();
            return Err(Failure::argument(
                "events",
                format!("`events` holds an unknown event type: use {}", known.join(", ")),
            ));
        }
        events.push(event);
    }
    if events.is_empty() {
        return Err(Failure::argument("events", "`events` must name at least one event type"));
    }
    Ok(events)
}

twin_methods! {
    impl Instances {
        /// Every organization and instance of the partner (``GET /partner/instances/info/``).
        fn list / _list_async (this, _py) {
            let client = this.handle.client()?;
            async move { Ok(client.instances().list().await?) }
        }

        /// One organization or instance (``GET /partner/instances/info/{id}``); ``NotFoundError``
        /// if there is none.
        fn get / _get_async (this, _py, instance_id: String) {
            let client = this.handle.client()?;
            async move { Ok(client.instances().get(&instance_id).await?) }
        }

        /// Creates an organization (``msp``, ``mssp``) or an instance (``standard``) under
        /// ``parent_instance_id``. Never retried once sent: on ``AmbiguousOutcomeError``, list the
        /// instances to see whether it was created. Provisioning then completes in the background
        /// (see :meth:`wait_until_active`).
        #[pyo3(signature = (
            *, instance_type, parent_instance_id, name, short_name, country, email, is_consulting=false,
            mfa_type=None, tenant_id=None, state=None, city=None, postal=None, street=None,
        ))]
        #[allow(clippy::too_many_arguments)]
        fn create / _create_async (
            this,
            _py,
            instance_type: String,
            parent_instance_id: String,
            name: String,
            short_name: String,
            country: String,
            email: String,
            is_consulting: bool,
            mfa_type: Option<Bound<'_, PyAny>>,
            tenant_id: Option<String>,
            state: Option<String>,
            city: Option<String>,
            postal: Option<String>,
            street: Option<String>,
        ) {
            let client = this.handle.client()?;
            let mut request = instances::create_instance::Request::new(
                self::instance_type(&instance_type)?,
                is_consulting,
                parent_instance_id,
                name,
                short_name,
                country,
                email,
            );
            request.mfa_type = mfa_type.as_ref().filter(|value| !value.is_none()).map(self::mfa_type).transpose()?;
            request.tenant_id = tenant_id;
            request.state = state;
            request.city = city;
            request.postal = postal;
            request.street = street;
            async move { Ok(client.instances().create(&request).await?) }
        }

        /// Converts a consulting instance into a managed one (once).
        fn convert / _convert_async (this, _py, instance_id: String) {
            let client = this.handle.client()?;
            async move { Ok(client.instances().convert(&instance_id).await?) }
        }

        /// Suspends an instance.
        fn suspend / _suspend_async (this, _py, instance_id: String) {
            let client = this.handle.client()?;
            async move { Ok(client.instances().suspend(&instance_id).await?) }
        }

        /// Reactivates a suspended instance.
        fn reactivate / _reactivate_async (this, _py, instance_id: String) {
            let client = this.handle.client()?;
            async move { Ok(client.instances().reactivate(&instance_id).await?) }
        }

        /// Sets an organization's MFA method: 0 (or ``"none"``), 1 (``"email"``) or 2
        /// (``"authenticator"``).
        fn set_mfa / _set_mfa_async (this, _py, instance_id: String, mfa_type: Bound<'_, PyAny>) {
            let client = this.handle.client()?;
            let mfa = self::mfa_type(&mfa_type)?;
            async move { Ok(client.instances().set_mfa(&instance_id, mfa).await?) }
        }

        /// Authenticates the current token for reporting on one instance, or on all of them when
        /// ``instance_id`` is ``None``. Reporting calls do this by themselves.
        #[pyo3(signature = (instance_id=None))]
        fn authenticate / _authenticate_async (this, _py, instance_id: Option<String>) {
            let client = this.handle.client()?;
            async move { Ok(client.instances().authenticate(instance_id.as_deref()).await?) }
        }

        /// Polls the instance until it is ``active`` and returns it; ``TimeoutError`` after
        /// ``timeout`` seconds, ``CyrismaError`` if it is suspended.
        #[pyo3(signature = (instance_id, timeout=None))]
        fn wait_until_active / _wait_until_active_async (this, _py, instance_id: String, timeout: Option<Bound<'_, PyAny>>) {
            let client = this.handle.client()?;
            let timeout: Duration = match timeout.as_ref().filter(|value| !value.is_none()) {
                Some(value) => config::seconds(value, "timeout")?,
                None => DEFAULT_ACTIVATION_TIMEOUT,
            };
            async move { Ok(client.instances().wait_until_active(&instance_id, timeout).await?) }
        }
    }
}

/// ``client.users``: users under organizations.
#[pyclass(module = "cyrisma._cyrisma", name = "Users", frozen)]
pub(crate) struct Users {
    handle: Arc<Handle>,
}

twin_methods! {
    impl Users {
        /// Every user (``GET /partner/users/info``).
        fn list / _list_async (this, _py) {
            let client = this.handle.client()?;
            async move { Ok(client.users().list().await?) }
        }

        /// One user, by id or username; ``NotFoundError`` if there is none.
        fn get / _get_async (this, _py, user_ref: String) {
            let client = this.handle.client()?;
            async move { Ok(client.users().get(&user_ref).await?) }
        }

        /// Creates a user under an organization (the user sets a password through self-service
        /// reset). Never retried once sent.
        #[pyo3(signature = (*, instance_id, username, first_name, last_name))]
        fn create / _create_async (this, _py, instance_id: String, username: String, first_name: String, last_name: String) {
            let client = this.handle.client()?;
            let request = users::create_user::Request::new(instance_id, username, first_name, last_name);
            async move { Ok(client.users().create(&request).await?) }
        }

        /// Disables a user, by id or username.
        fn disable / _disable_async (this, _py, user_ref: String) {
            let client = this.handle.client()?;
            async move { Ok(client.users().disable(&user_ref).await?) }
        }
    }
}

/// ``client.webhooks``: webhook registrations (provisional contract).
#[pyclass(module = "cyrisma._cyrisma", name = "Webhooks", frozen)]
pub(crate) struct Webhooks {
    handle: Arc<Handle>,
}

twin_methods! {
    impl Webhooks {
        /// Every registration.
        fn list / _list_async (this, _py) {
            let client = this.handle.client()?;
            async move { Ok(client.webhooks().list().await?) }
        }

        /// Registers ``url`` for ``events`` (a list of event types, or one comma-separated
        /// string). The answer's ``secret`` is shown only here: store it.
        fn create / _create_async (this, _py, url: String, events: Bound<'_, PyAny>) {
            let client = this.handle.client()?;
            let request = webhooks::create_webhook::Request::new(url, self::events(&events)?);
            async move { Ok(client.webhooks().create(&request).await?) }
        }

        /// Deletes a registration.
        fn delete / _delete_async (this, _py, webhook_id: String) {
            let client = this.handle.client()?;
            async move { Ok(client.webhooks().delete(&webhook_id).await?) }
        }
    }
}

/// ``client.instance(id)``: the reporting calls of one instance, on its own host.
#[pyclass(module = "cyrisma._cyrisma", name = "InstanceClient", frozen)]
pub(crate) struct InstanceClient {
    inner: ProcessBound<TransportInstance>,
}

impl InstanceClient {
    fn inner(&self) -> Result<TransportInstance, Failure> {
        Ok(self.inner.get()?.clone())
    }
}

#[pymethods]
impl InstanceClient {
    /// The instance id.
    #[getter]
    fn id(&self) -> &str {
        self.inner.peek().map_or("", TransportInstance::id)
    }

    /// The instance's name, once its host has been looked up.
    #[getter]
    fn name(&self) -> Option<&str> {
        self.inner.peek().and_then(TransportInstance::name)
    }

    fn __repr__(&self) -> String {
        format!("InstanceClient(id={})", quoted(self.id()))
    }
}

fn asset_type(value: &str) -> Result<AssetType, Failure> {
    let parsed = AssetType::from_wire(value);
    if parsed.is_unknown() {
        Err(Failure::argument("kind", "`kind` must be `internal` or `external`"))
    } else {
        Ok(parsed)
    }
}

twin_methods! {
    impl InstanceClient {
        /// Every CVE found on the instance, or only ``cve_id``.
        #[pyo3(signature = (cve_id=None))]
        fn cves / _cves_async (this, _py, cve_id: Option<String>) {
            let instance = this.inner()?;
            async move { Ok(instance.cves(cve_id.as_deref()).await?) }
        }

        /// The ``internal`` or ``external`` assets.
        fn assets / _assets_async (this, _py, kind: String) {
            let instance = this.inner()?;
            let kind = asset_type(&kind)?;
            async move { Ok(instance.assets(kind).await?) }
        }
    }
}

twin_methods! {
    impl Client {
        /// The cross-instance report: current and previous grades of the five areas and the
        /// vulnerability counts of every instance (``instances``, or every instance that is not an
        /// organization and not suspended), fetched ``concurrency`` at a time. Instances that
        /// failed are in ``errors``; the others are still reported.
        #[pyo3(signature = (*, instances=None, concurrency=None))]
        fn report / _report_async (this, _py, instances: Option<Vec<String>>, concurrency: Option<Bound<'_, PyAny>>) {
            let client = this.handle.client()?;
            let concurrency = this.handle.concurrency(concurrency.as_ref())?;
            fleet::report(client, instances, concurrency)
        }

        /// Writes one row per vulnerability, open port and web flaw of the latest scan of each
        /// type (every scan with ``all_scans``) of the selected instances to ``path``, as
        /// ``jsonl``, ``json`` or ``csv`` (the CLI's columns). The file is written to a temporary
        /// file (mode 0600) and renamed over ``path`` only when complete. If an instance fails,
        /// nothing is written and ``CyrismaError`` lists the failures, unless ``allow_partial``.
        #[pyo3(signature = (path, *, format="jsonl", instances=None, all_scans=false, allow_partial=false, concurrency=None))]
        #[allow(clippy::too_many_arguments)]
        fn export_findings / _export_findings_async (
            this,
            _py,
            path: std::path::PathBuf,
            format: &str,
            instances: Option<Vec<String>>,
            all_scans: bool,
            allow_partial: bool,
            concurrency: Option<Bound<'_, PyAny>>,
        ) {
            let client = this.handle.client()?;
            let concurrency = this.handle.concurrency(concurrency.as_ref())?;
            let format = fleet::parse_format(format)?;
            fleet::export_findings(client, path, format, instances, all_scans, allow_partial, concurrency)
        }

        /// Pulls one run of grades, scans and findings (the latest completed scan of each type)
        /// from every selected instance into the history dataset at ``dir`` (Hive-partitioned
        /// Parquet, the layout ``cyrisma snapshot`` writes) and commits it whole. Instances that
        /// fail are listed in the result's ``errors``; what succeeded is still written.
        #[pyo3(signature = (dir, *, instances=None, concurrency=None))]
        fn snapshot / _snapshot_async (
            this,
            _py,
            dir: std::path::PathBuf,
            instances: Option<Vec<String>>,
            concurrency: Option<Bound<'_, PyAny>>,
        ) {
            let client = this.handle.client()?;
            let concurrency = this.handle.concurrency(concurrency.as_ref())?;
            fleet::snapshot(client, dir, instances, concurrency)
        }

        /// Usage derived from the structure and the users: endpoints (agents) per instance, per
        /// organization and in total; standard, consulting and suspended counts; users per
        /// organization. One row per instance, then its organization's total, then the grand
        /// total (left out when ``organization`` limits the rows to one organization).
        #[pyo3(signature = (*, organization=None))]
        fn usage / _usage_async (this, _py, organization: Option<String>) {
            let client = this.handle.client()?;
            fleet::usage(client, organization)
        }

        /// Fetches the structure listing again (instance hosts are looked up there).
        fn refresh_instances / _refresh_instances_async (this, _py) {
            let client = this.handle.client()?;
            async move { Ok(client.refresh_instances().await?) }
        }
    }
}

/// The canary tests' panic hook: panics while `client`'s transport (with its secret and tokens)
/// is held, in the binding call itself (`"call"`), in a task on the runtime under a blocking wait
/// (`"runtime"`), or in a task behind an awaitable (`"async"`), so that a test can check what a
/// panic prints and raises. Refused unless the environment has `CYRISMA_TEST_HOOKS=1`.
#[pyfunction]
#[pyo3(name = "_test_panic")]
pub(crate) fn test_panic<'py>(py: Python<'py>, client: &Client, place: &str) -> PyResult<Bound<'py, PyAny>> {
    if std::env::var("CYRISMA_TEST_HOOKS").as_deref() != Ok("1") {
        return Err(pyo3::exceptions::PyRuntimeError::new_err("test hooks are disabled: set CYRISMA_TEST_HOOKS=1"));
    }
    let transport = client.handle.client()?;
    let task = async move {
        let _held = transport;
        if std::hint::black_box(true) {
            panic!("forced panic on the runtime (test hook)");
        }
        Ok::<(), Failure>(())
    };
    match place {
        "call" => panic!("forced panic in a binding call (test hook), client {}", client.base_url()),
        "runtime" => runtime::wait(py, task).map(|()| py.None().into_bound(py)),
        "async" => runtime::awaitable(py, task),
        _ => Err(Failure::argument("place", "`place` must be `call`, `runtime` or `async`").into()),
    }
}
