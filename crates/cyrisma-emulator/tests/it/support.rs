//! A minimal client for the contract tests: requests built by `cyrisma-core`, sent over real
//! loopback sockets (plain or TLS with SNI) with hyper's connection API, answers parsed by
//! `cyrisma-core`.

use std::sync::Arc;

use bytes::Bytes;
use cyrisma_core::api::{auth, instances};
use cyrisma_core::endpoint::RequestBody;
use cyrisma_core::{AccessToken, BaseUrl, Endpoint, HostPolicy, ResponseError};
use cyrisma_emulator::{Emulator, EmulatorConfig, EmulatorHandle};
use http::header::HOST;
use http::{Method, Request, Response};
use http_body_util::{BodyExt, Full};
use hyper::client::conn::http1;
use hyper_util::rt::TokioIo;
use rustls::pki_types::{CertificateDer, ServerName};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;

/// A fixed anchor (2025-06-16 00:00:00 UTC), so that runs are reproducible.
pub(crate) const ANCHOR: i64 = 1_750_032_000;

/// An emulator and a client for it.
pub(crate) struct Harness {
    pub(crate) emu: EmulatorHandle,
    pub(crate) base: BaseUrl,
    pub(crate) policy: HostPolicy,
    tls: Option<TlsConnector>,
}

/// A small plain-HTTP configuration: 2 organizations, 6 instances, 4 scans of 6 assets.
pub(crate) fn small() -> EmulatorConfig {
    EmulatorConfig::plain()
        .with_seed(11)
        .with_size(2, 6, 4, 6)
        .with_anchor_time(ANCHOR)
        .with_provisioning_delay(std::time::Duration::ZERO)
}

/// A rustls client configuration trusting only the emulator's CA.
pub(crate) fn tls_connector(emu: &EmulatorHandle) -> TlsConnector {
    let mut roots = rustls::RootCertStore::empty();
    roots.add(CertificateDer::from(emu.ca_cert_der().expect("tls is on").to_vec())).expect("the ca parses");
    let config = rustls::ClientConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
        .with_safe_default_protocol_versions()
        .expect("protocol versions")
        .with_root_certificates(roots)
        .with_no_client_auth();
    TlsConnector::from(Arc::new(config))
}

/// An error from the test client's transport.
#[derive(Debug)]
pub(crate) struct TransportError(#[allow(dead_code, reason = "shown by Debug when a test fails")] pub(crate) String);

impl Harness {
    pub(crate) async fn start(config: EmulatorConfig) -> Self {
        let emu = Emulator::start(config).await.expect("the emulator starts");
        let base = BaseUrl::central(emu.base_url()).expect("a valid base url");
        let policy = HostPolicy::new(emu.allowed_domain()).expect("a valid allowed domain");
        let tls = emu.is_tls().then(|| tls_connector(&emu));
        Self { emu, base, policy, tls }
    }

    /// The base URL of an instance, validated by the core's host policy from its `url` field.
    pub(crate) fn instance_base(&self, instance_id: &str) -> BaseUrl {
        let instance = self.emu.instance(instance_id).expect("a known instance");
        let host = self.policy.validate(instance.url.as_deref().expect("a url")).expect("a valid instance host");
        self.base.instance(&host)
    }

    /// Sends an `http::Request` on a new connection and reads the whole answer.
    pub(crate) async fn send(&self, request: Request<Bytes>) -> Result<Response<Bytes>, TransportError> {
        let host = request.uri().host().expect("an absolute uri").to_owned();
        let (mut sender, connection) = self.connect(&host).await?;
        let driver = tokio::spawn(connection);
        let response = send_on(&mut sender, request).await;
        drop(sender);
        let _ = driver.await;
        response
    }

    /// Opens a connection for `host` (dialing the emulator's loopback address; SNI = `host`).
    pub(crate) async fn connect(
        &self,
        host: &str,
    ) -> Result<(http1::SendRequest<Full<Bytes>>, Driver), TransportError> {
        let stream = TcpStream::connect(self.emu.addr()).await.map_err(|error| TransportError(error.to_string()))?;
        match &self.tls {
            None => {
                let (sender, connection) =
                    http1::handshake(TokioIo::new(stream)).await.map_err(|error| TransportError(error.to_string()))?;
                Ok((sender, Box::pin(async move { connection.await.map_err(|error| error.to_string()) })))
            }
            Some(connector) => {
                let name = ServerName::try_from(host.to_owned()).map_err(|error| TransportError(error.to_string()))?;
                let stream =
                    connector.connect(name, stream).await.map_err(|error| TransportError(error.to_string()))?;
                let (sender, connection) =
                    http1::handshake(TokioIo::new(stream)).await.map_err(|error| TransportError(error.to_string()))?;
                Ok((sender, Box::pin(async move { connection.await.map_err(|error| error.to_string()) })))
            }
        }
    }

    /// Sends a core endpoint to a base URL and returns the raw answer.
    pub(crate) async fn raw<E: Endpoint>(
        &self,
        endpoint: &E,
        base: &BaseUrl,
        token: Option<&AccessToken>,
    ) -> Response<Bytes> {
        let request = endpoint.to_http_request(base, token).expect("the request builds");
        self.send(request.map(RequestBody::into_bytes)).await.expect("an answer")
    }

    /// Sends a central endpoint and parses the answer with the core.
    pub(crate) async fn central<E: Endpoint>(
        &self,
        endpoint: &E,
        token: Option<&AccessToken>,
    ) -> Result<E::Response, ResponseError> {
        E::parse_response(&self.raw(endpoint, &self.base, token).await)
    }

    /// Sends a reporting endpoint to an instance host and parses the answer with the core.
    pub(crate) async fn on<E: Endpoint>(
        &self,
        instance_id: &str,
        endpoint: &E,
        token: &AccessToken,
    ) -> Result<E::Response, ResponseError> {
        let base = self.instance_base(instance_id);
        E::parse_response(&self.raw(endpoint, &base, Some(token)).await)
    }

    /// Logs in with the password grant.
    pub(crate) async fn login(&self) -> auth::login::Response {
        let request = auth::login::Request::password(self.emu.api_key(), self.emu.api_secret());
        self.central(&request, None).await.expect("login succeeds")
    }

    /// Logs in and returns the access token.
    pub(crate) async fn token(&self) -> AccessToken {
        self.login().await.access_token
    }

    /// Logs in and authenticates every instance for reporting.
    pub(crate) async fn reporting_token(&self) -> AccessToken {
        let token = self.token().await;
        self.central(&instances::authenticate_all_instances::Request::new(), Some(&token))
            .await
            .expect("authenticated");
        token
    }

    /// A raw request on the central or another host: `host` names the Host (and SNI).
    pub(crate) async fn request(
        &self,
        method: Method,
        host: &str,
        path_and_query: &str,
        headers: &[(&str, &str)],
        body: &str,
    ) -> Response<Bytes> {
        let scheme = if self.emu.is_tls() { "https" } else { "http" };
        let uri = format!("{scheme}://{host}:{}{path_and_query}", self.emu.addr().port());
        let mut builder = Request::builder().method(method).uri(uri);
        for (name, value) in headers {
            builder = builder.header(*name, *value);
        }
        self.send(builder.body(Bytes::from(body.to_owned())).expect("a request")).await.expect("an answer")
    }

    /// A form `POST`/`PATCH` on the central host.
    pub(crate) async fn form(
        &self,
        method: Method,
        path: &str,
        token: Option<&AccessToken>,
        body: &str,
    ) -> Response<Bytes> {
        let auth = token.map(|token| format!("access_token {}", token.expose_secret()));
        let mut headers = vec![("content-type", "application/x-www-form-urlencoded")];
        if let Some(auth) = &auth {
            headers.push(("authorization", auth.as_str()));
        }
        let host = self.emu.central_host().to_owned();
        self.request(method, &host, &format!("/app{path}"), &headers, body).await
    }

    /// Ids of the seeded standard instances that are not suspended.
    pub(crate) fn active_instances(&self) -> Vec<String> {
        self.emu
            .instances()
            .into_iter()
            .filter(|instance| !instance.is_organization() && !instance.is_suspended())
            .map(|instance| instance.instance_id)
            .collect()
    }

    /// Ids of the organizations.
    pub(crate) fn organizations(&self) -> Vec<String> {
        self.emu
            .instances()
            .into_iter()
            .filter(|instance| instance.is_organization())
            .map(|instance| instance.instance_id)
            .collect()
    }
}

/// The future that drives a client connection.
pub(crate) type Driver = std::pin::Pin<Box<dyn std::future::Future<Output = Result<(), String>> + Send>>;

/// Sends one request on an open connection (origin-form target, `Host` from the URI).
pub(crate) async fn send_on(
    sender: &mut http1::SendRequest<Full<Bytes>>,
    request: Request<Bytes>,
) -> Result<Response<Bytes>, TransportError> {
    let (mut parts, body) = request.into_parts();
    let authority = parts.uri.authority().expect("an absolute uri").as_str().to_owned();
    parts.headers.entry(HOST).or_insert_with(|| authority.parse().expect("a host header"));
    let target = parts.uri.path_and_query().map_or("/", |path| path.as_str()).to_owned();
    parts.uri = target.parse().expect("an origin-form target");
    let request = Request::from_parts(parts, Full::new(body));
    sender.ready().await.map_err(|error| TransportError(error.to_string()))?;
    let response = sender.send_request(request).await.map_err(|error| TransportError(error.to_string()))?;
    let (parts, body) = response.into_parts();
    let body = body.collect().await.map_err(|error| TransportError(error.to_string()))?.to_bytes();
    Ok(Response::from_parts(parts, body))
}

/// The `error` code and `field` of an API error.
pub(crate) fn api_error<T: std::fmt::Debug>(result: Result<T, ResponseError>) -> (u16, String, Option<String>) {
    match result {
        Err(ResponseError::Api(error)) => {
            (error.status.as_u16(), error.code.map(|code| code.to_string()).unwrap_or_default(), error.field)
        }
        other => panic!("expected an api error, got {other:?}"),
    }
}

/// The JSON of an answer.
pub(crate) fn json(response: &Response<Bytes>) -> serde_json::Value {
    serde_json::from_slice(response.body()).expect("a json body")
}
