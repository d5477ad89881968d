//! The [`Endpoint`] trait, its declarative [`Metadata`], and the pieces every endpoint shares:
//! query and form parameters and the request body type. Base URLs live in [`crate::base_url`]
//! (re-exported here).
//!
//! An endpoint is a `Request` struct (one file per endpoint under `api/`) that knows its metadata,
//! its path parameters, its query and form fields, and the type of its response. The provided
//! methods turn it into an `http::Request` and turn an `http::Response` back into its typed
//! response or a [`ResponseError`]. Nothing here does I/O.

use std::fmt;

use bytes::Bytes;
use http::header::{ACCEPT, AUTHORIZATION, CONTENT_TYPE};
use http::{HeaderValue, Method};
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};

pub use crate::base_url::{BaseUrl, BaseUrlError, HostKind, INSTANCE_PATH_PREFIX};
use crate::error::{ApiError, DecodeError, RequestError, ResponseError};
use crate::secret::AccessToken;
use crate::wire::FieldError;

/// The fixed facts about an endpoint, declared once in its file with `metadata!`.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct Metadata {
    /// A stable name, `<resource>.<endpoint>` (used in errors, logs and counters).
    pub name: &'static str,
    /// The HTTP method.
    pub method: Method,
    /// The path template below the base URL, with `{param}` placeholders.
    pub path: &'static str,
    /// Which host serves it.
    pub host: HostKind,
    /// Which credentials it needs.
    pub auth: AuthKind,
    /// Whether sending it twice has the same effect as sending it once (decides retries).
    pub idempotent: bool,
    /// How the request body is encoded.
    pub body: BodyKind,
    /// Form fields that carry secrets (redacted in logs and snapshots).
    pub secret_fields: &'static [&'static str],
    /// How sure the contract is about this endpoint.
    pub evidence: Evidence,
}

impl Metadata {
    /// Whether the endpoint belongs to the provisional (unpublished) part of the contract.
    pub fn is_provisional(&self) -> bool {
        self.evidence == Evidence::Provisional
    }
}

/// Which credentials an endpoint needs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum AuthKind {
    /// None (the credentials travel in the form body: login and regen-pass).
    None,
    /// `Authorization: access_token <token>`.
    AccessToken,
}

/// How a request body is encoded.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum BodyKind {
    /// No body.
    None,
    /// `application/x-www-form-urlencoded`.
    Form,
}

/// The contract's evidence tag for an endpoint.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Evidence {
    /// Stated by CYRISMA's documentation.
    Doc,
    /// Observed in a production client.
    Obs,
    /// The path is documented, the body is assumed.
    Assumed,
    /// Not published at all: the project's provisional contract.
    Provisional,
}

/// Declares `pub const METADATA: Metadata` and `pub fn example() -> Request` (an example request,
/// which the core's request snapshot of the endpoint is built from) for the endpoint file it
/// appears in.
macro_rules! metadata {
    (
        name: $name:literal,
        method: $method:ident,
        path: $path:literal,
        host: $host:ident,
        auth: $auth:ident,
        idempotent: $idempotent:literal,
        body: $body:ident,
        evidence: $evidence:ident
        $(, secret_fields: [$($secret:literal),* $(,)?])?,
        example: $example:expr
        $(,)?
    ) => {
        /// The fixed facts about this endpoint.
        pub const METADATA: $crate::endpoint::Metadata = $crate::endpoint::Metadata {
            name: $name,
            method: ::http::Method::$method,
            path: $path,
            host: $crate::endpoint::HostKind::$host,
            auth: $crate::endpoint::AuthKind::$auth,
            idempotent: $idempotent,
            body: $crate::endpoint::BodyKind::$body,
            secret_fields: &[$($($secret),*)?],
            evidence: $crate::endpoint::Evidence::$evidence,
        };

        /// An example request of this endpoint: the core's request snapshot of the endpoint is
        /// built from it (`tests/it/endpoints.rs`).
        pub fn example() -> Request {
            $example
        }
    };
}

pub(crate) use metadata;

/// One endpoint of the API: a typed request that knows how to become an `http::Request` and how
/// to read its `http::Response`.
pub trait Endpoint {
    /// The endpoint's fixed facts.
    const METADATA: Metadata;

    /// The typed result of a success response.
    type Response;

    /// Values for the `{param}` placeholders of the path template, by placeholder name.
    fn path_params(&self) -> Vec<(&'static str, &str)> {
        Vec::new()
    }

    /// Adds the query-string parameters.
    fn query(&self, _query: &mut Params) -> Result<(), RequestError> {
        Ok(())
    }

    /// Adds the form fields of the body (for [`BodyKind::Form`] endpoints).
    fn form(&self, _form: &mut Params) -> Result<(), RequestError> {
        Ok(())
    }

    /// Reads the body of a success response.
    fn parse_success(body: &[u8]) -> Result<Self::Response, FieldError>;

    /// Builds the `http::Request`. The base URL must be of the endpoint's host kind, and a token
    /// must be given when the endpoint needs one. The body never leaves this function in a form
    /// whose `Debug` shows it (see [`RequestBody`]).
    fn to_http_request(
        &self,
        base: &BaseUrl,
        token: Option<&AccessToken>,
    ) -> Result<http::Request<RequestBody>, RequestError> {
        let metadata = Self::METADATA;
        if base.kind() != metadata.host {
            return Err(RequestError::WrongHost {
                endpoint: metadata.name,
                expected: metadata.host,
                actual: base.kind(),
            });
        }
        let path = render_path(metadata.path, &self.path_params())?;
        let mut query = Params::default();
        self.query(&mut query)?;
        let mut uri = format!("{}{}", base.as_str(), path);
        if !query.is_empty() {
            uri.push('?');
            uri.push_str(&query.encode());
        }
        let mut builder = http::Request::builder()
            .method(metadata.method.clone())
            .uri(uri)
            .header(ACCEPT, HeaderValue::from_static("application/json"));
        if metadata.auth == AuthKind::AccessToken {
            let token = token.ok_or(RequestError::MissingToken { endpoint: metadata.name })?;
            builder = builder.header(AUTHORIZATION, authorization_header(token)?);
        }
        let body = match metadata.body {
            BodyKind::None => Bytes::new(),
            BodyKind::Form => {
                let mut form = Params::default();
                self.form(&mut form)?;
                builder = builder.header(CONTENT_TYPE, HeaderValue::from_static("application/x-www-form-urlencoded"));
                Bytes::from(form.encode())
            }
        };
        builder.body(RequestBody(body)).map_err(|source| RequestError::Uri { endpoint: metadata.name, source })
    }

    /// Reads an `http::Response` into the typed result, or a typed error for a non-success
    /// status or a body that does not match the contract. Parses from the one response buffer.
    fn parse_response(response: &http::Response<Bytes>) -> Result<Self::Response, ResponseError> {
        let status = response.status();
        if !status.is_success() {
            return Err(ResponseError::from(api_error(response)));
        }
        Self::parse_success(response.body()).map_err(|error| {
            ResponseError::from(DecodeError {
                status,
                endpoint: Self::METADATA.name,
                path: error.path,
                message: error.message,
                is_syntax: error.is_syntax,
                request_id: request_id(response.headers()),
            })
        })
    }
}

/// The body of a built request. Its `Debug` shows only the length, because form bodies carry
/// credentials (login, regen-pass).
#[derive(Clone, Default, PartialEq, Eq)]
pub struct RequestBody(pub Bytes);

impl RequestBody {
    /// The raw bytes, for the transport to send.
    pub fn into_bytes(self) -> Bytes {
        self.0
    }

    /// The raw bytes.
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }
}

impl fmt::Debug for RequestBody {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "RequestBody(<{} bytes>)", self.0.len())
    }
}

/// Builds the `Authorization: access_token <token>` header, marked sensitive.
pub fn authorization_header(token: &AccessToken) -> Result<HeaderValue, RequestError> {
    let mut value = HeaderValue::try_from(format!("access_token {}", token.expose_secret()))
        .map_err(|_| RequestError::InvalidToken)?;
    value.set_sensitive(true);
    Ok(value)
}

/// The `X-Request-Id` header, if present and printable.
pub fn request_id(headers: &http::HeaderMap) -> Option<String> {
    headers.get("x-request-id").and_then(|value| value.to_str().ok()).map(str::to_owned)
}

/// Reads a non-success response into an [`ApiError`]: the JSON error body when there is one,
/// else the first bytes of whatever was sent.
pub fn api_error(response: &http::Response<Bytes>) -> ApiError {
    let mut error = ApiError::new(response.status());
    error.request_id = request_id(response.headers());
    error.retry_after =
        response.headers().get(http::header::RETRY_AFTER).and_then(|value| value.to_str().ok()).map(str::to_owned);
    let body = response.body();
    match serde_json::from_slice::<crate::types::ErrorBody>(body) {
        Ok(parsed) if parsed.error.is_some() || parsed.message.is_some() => {
            error.code = parsed.error;
            error.message = parsed.message;
            error.field = parsed.field;
        }
        _ => error.body_excerpt = excerpt(body),
    }
    error
}

fn excerpt(body: &[u8]) -> Option<String> {
    let cut = &body[..body.len().min(crate::error::BODY_EXCERPT_LIMIT)];
    let text: String = String::from_utf8_lossy(cut).chars().map(|ch| if ch.is_control() { ' ' } else { ch }).collect();
    let text = text.trim();
    (!text.is_empty()).then(|| text.to_owned())
}

/// Characters kept as they are in a path segment (RFC 3986 unreserved); all else is encoded.
const PATH_SEGMENT: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'.').remove(b'_').remove(b'~');

fn render_path(template: &'static str, params: &[(&'static str, &str)]) -> Result<String, RequestError> {
    let mut path = String::with_capacity(template.len() + 16);
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        path.push_str(&rest[..open]);
        let close = rest[open..].find('}').map(|offset| open + offset).unwrap_or(rest.len() - 1);
        let name = &rest[open + 1..close];
        let value = params.iter().find(|(param, _)| *param == name).map(|(_, value)| *value).ok_or(
            RequestError::InvalidPathParameter { param: param_name(template, name), reason: "no value was given" },
        )?;
        let param = param_name(template, name);
        let trimmed = value.trim();
        if trimmed.is_empty() {
            return Err(RequestError::InvalidPathParameter { param, reason: "it is empty" });
        }
        if value.contains('/') || value.contains('\\') {
            return Err(RequestError::InvalidPathParameter { param, reason: "it contains a slash" });
        }
        if trimmed == "." || trimmed == ".." {
            return Err(RequestError::InvalidPathParameter { param, reason: "it is a dot segment" });
        }
        if value.chars().any(char::is_control) {
            return Err(RequestError::InvalidPathParameter { param, reason: "it contains control characters" });
        }
        path.extend(utf8_percent_encode(trimmed, PATH_SEGMENT));
        rest = &rest[close + 1..];
    }
    path.push_str(rest);
    Ok(path)
}

/// The placeholder's name as a `'static` slice of the template.
fn param_name(template: &'static str, name: &str) -> &'static str {
    template.find(name).map(|start| &template[start..start + name.len()]).unwrap_or("?")
}

/// Ordered query or form parameters.
#[derive(Clone, Default)]
pub struct Params {
    pairs: Vec<(&'static str, String, bool)>,
}

impl Params {
    /// Adds a required field: empty or white-space-only values are refused.
    pub fn required(&mut self, name: &'static str, value: &str) -> Result<&mut Self, RequestError> {
        if value.trim().is_empty() {
            return Err(RequestError::EmptyField { field: name });
        }
        self.pairs.push((name, value.trim().to_owned(), false));
        Ok(self)
    }

    /// Adds an optional field; `None` and empty values are left out.
    pub fn optional(&mut self, name: &'static str, value: Option<&str>) -> &mut Self {
        if let Some(value) = value.map(str::trim).filter(|value| !value.is_empty()) {
            self.pairs.push((name, value.to_owned(), false));
        }
        self
    }

    /// Adds a required field that carries a secret (kept verbatim, never trimmed).
    pub fn secret(&mut self, name: &'static str, value: &str) -> Result<&mut Self, RequestError> {
        if value.is_empty() {
            return Err(RequestError::EmptyField { field: name });
        }
        self.pairs.push((name, value.to_owned(), true));
        Ok(self)
    }

    /// Adds a field exactly as given.
    pub fn push(&mut self, name: &'static str, value: impl Into<String>) -> &mut Self {
        self.pairs.push((name, value.into(), false));
        self
    }

    /// Whether no parameter was added.
    pub fn is_empty(&self) -> bool {
        self.pairs.is_empty()
    }

    /// The names of the parameters, in order.
    pub fn names(&self) -> impl Iterator<Item = &'static str> + '_ {
        self.pairs.iter().map(|(name, _, _)| *name)
    }

    /// The value of a parameter that is not a secret.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.pairs.iter().find(|(key, _, secret)| *key == name && !secret).map(|(_, value, _)| value.as_str())
    }

    /// `application/x-www-form-urlencoded` encoding of all parameters.
    pub fn encode(&self) -> String {
        let mut serializer = form_urlencoded::Serializer::new(String::new());
        for (name, value, _) in &self.pairs {
            serializer.append_pair(name, value);
        }
        serializer.finish()
    }
}

impl fmt::Debug for Params {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut map = f.debug_map();
        for (name, value, secret) in &self.pairs {
            if *secret {
                map.entry(name, &"<redacted>");
            } else {
                map.entry(name, value);
            }
        }
        map.finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn path_parameters_are_encoded_and_checked() {
        let path = render_path("/partner/users/info/{userRef}", &[("userRef", "a b@c")]).unwrap();
        assert_eq!(path, "/partner/users/info/a%20b%40c");
        for bad in ["", " ", "a/b", "..", ".", "a\\b", "a\nb"] {
            let error = render_path("/x/{id}", &[("id", bad)]).unwrap_err();
            assert!(matches!(error, RequestError::InvalidPathParameter { param: "id", .. }), "{bad:?}");
        }
    }

    #[test]
    fn params_debug_redacts_secrets() {
        let mut params = Params::default();
        params.required("username", "key").unwrap();
        params.secret("password", "canary").unwrap();
        let debug = format!("{params:?}");
        assert!(!debug.contains("canary"), "{debug}");
        assert_eq!(params.encode(), "username=key&password=canary");
        assert!(params.required("x", "  ").is_err());
    }
}
