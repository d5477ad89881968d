//! A client of a running emulator's admin API (`/__emulator/...`, see the control module): what
//! `cyrisma emulator advance` uses to move a served emulator's clock from another process. It
//! talks to a loopback address only (the admin API answers nothing else), over HTTPS verified
//! with the emulator's CA, or plain HTTP.

use std::net::SocketAddr;
use std::sync::Arc;

use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper_util::rt::TokioIo;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName};
use serde_json::Value;

/// The largest admin answer read.
const MAX_ANSWER: usize = 1 << 20;

/// Why an admin call failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RemoteError {
    /// The address is not a loopback address.
    #[error("the emulator's admin api answers on loopback addresses only, not {0}")]
    NotLoopback(SocketAddr),
    /// The CA certificate is missing or unusable.
    #[error("cannot use the emulator's ca certificate: {0}")]
    Ca(String),
    /// The connection, TLS handshake or exchange failed.
    #[error("cannot reach the emulator at {addr}: {message}")]
    Connect {
        /// Where.
        addr: SocketAddr,
        /// What went wrong.
        message: String,
    },
    /// The emulator answered with an error.
    #[error("the emulator answered {status}: {message}")]
    Refused {
        /// The HTTP status.
        status: u16,
        /// Its message.
        message: String,
    },
}

/// A running emulator reached through its admin API.
#[derive(Clone)]
pub struct RemoteEmulator {
    addr: SocketAddr,
    host: String,
    authority: String,
    tls: Option<tokio_rustls::TlsConnector>,
}

impl std::fmt::Debug for RemoteEmulator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RemoteEmulator").field("addr", &self.addr).field("host", &self.authority).finish()
    }
}

impl RemoteEmulator {
    /// The emulator listening on `addr` whose central host is `host` (`api.cyrisma.test`) on
    /// `port`: HTTPS trusting only `ca_pem` (the CA `cyrisma emulator serve` wrote) when given,
    /// plain HTTP otherwise.
    pub fn new(addr: SocketAddr, host: &str, port: u16, ca_pem: Option<&[u8]>) -> Result<Self, RemoteError> {
        if !addr.ip().is_loopback() {
            return Err(RemoteError::NotLoopback(addr));
        }
        let tls = match ca_pem {
            None => None,
            Some(pem) => {
                let mut roots = rustls::RootCertStore::empty();
                for certificate in CertificateDer::pem_slice_iter(pem) {
                    let certificate = certificate.map_err(|error| RemoteError::Ca(error.to_string()))?;
                    roots.add(certificate).map_err(|error| RemoteError::Ca(error.to_string()))?;
                }
                if roots.is_empty() {
                    return Err(RemoteError::Ca("no certificate in it".into()));
                }
                let provider = Arc::new(rustls::crypto::ring::default_provider());
                let mut config = rustls::ClientConfig::builder_with_provider(provider)
                    .with_safe_default_protocol_versions()
                    .map_err(|error| RemoteError::Ca(error.to_string()))?
                    .with_root_certificates(roots)
                    .with_no_client_auth();
                config.alpn_protocols = vec![b"http/1.1".to_vec()];
                Some(tokio_rustls::TlsConnector::from(Arc::new(config)))
            }
        };
        Ok(Self { addr, host: host.to_owned(), authority: format!("{host}:{port}"), tls })
    }

    /// `POST /__emulator/advance`: moves the clock `days` forward with a new period of scans for
    /// every active instance (`churn` off: a rescan). Returns the emulator's answer
    /// ([`crate::Advanced`] as JSON).
    pub async fn advance(&self, days: u32, churn: bool) -> Result<Value, RemoteError> {
        self.post("/__emulator/advance", &serde_json::json!({ "days": days, "churn": churn })).await
    }

    async fn post(&self, path: &str, body: &Value) -> Result<Value, RemoteError> {
        let failed = |message: String| RemoteError::Connect { addr: self.addr, message };
        let tcp = tokio::net::TcpStream::connect(self.addr).await.map_err(|error| failed(error.to_string()))?;
        let request = http::Request::post(path)
            .header(http::header::HOST, &self.authority)
            .header(http::header::CONTENT_TYPE, "application/json")
            .header(http::header::USER_AGENT, concat!("cyrisma-emulator/", env!("CARGO_PKG_VERSION")))
            .body(Full::new(Bytes::from(serde_json::to_vec(body).unwrap_or_default())))
            .map_err(|error| failed(error.to_string()))?;
        let response = match &self.tls {
            Some(connector) => {
                let name = ServerName::try_from(self.host.clone()).map_err(|error| failed(error.to_string()))?;
                let stream = connector.connect(name, tcp).await.map_err(|error| failed(error.to_string()))?;
                exchange(TokioIo::new(stream), request).await
            }
            None => exchange(TokioIo::new(tcp), request).await,
        }
        .map_err(failed)?;
        let (status, answer) = response;
        let value: Value = serde_json::from_slice(&answer).unwrap_or(Value::Null);
        if !(200..300).contains(&status) {
            let message = value.get("message").and_then(Value::as_str).unwrap_or("no message").to_owned();
            return Err(RemoteError::Refused { status, message: crate::failure::printable(&message) });
        }
        Ok(value)
    }
}

async fn exchange<S>(io: TokioIo<S>, request: http::Request<Full<Bytes>>) -> Result<(u16, Bytes), String>
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    let (mut sender, connection) =
        hyper::client::conn::http1::handshake(io).await.map_err(|error| error.to_string())?;
    let driver = tokio::spawn(connection);
    let response = sender.send_request(request).await.map_err(|error| error.to_string());
    let result = match response {
        Ok(response) => {
            let status = response.status().as_u16();
            Limited::new(response.into_body(), MAX_ANSWER)
                .collect()
                .await
                .map(|body| (status, body.to_bytes()))
                .map_err(|error| error.to_string())
        }
        Err(error) => Err(error),
    };
    driver.abort();
    result
}
