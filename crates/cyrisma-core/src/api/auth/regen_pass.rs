//! `POST /partner/login/regen-pass`: replace the temporary API secret with a new one.
//!
//! Evidence: \[DOC\] for the path and the rule that the new secret is returned **once** (CYRISMA
//! keeps only a hash); request fields and response keys are \[ASSUMED\] (see
//! [`crate::assumed::REGEN_PASS_SECRET_KEYS`]).
//!
//! This endpoint is not idempotent and must never be retried automatically: the old secret stops
//! working as soon as the server commits. Callers persist the new secret before doing anything
//! else, and save the raw body (mode 0600) if it cannot be parsed.

use crate::endpoint::{Endpoint, Params, metadata};
use crate::error::RequestError;
use crate::secret::ApiSecret;
use crate::wire::{self, FieldError, model};

metadata! {
    name: "auth.regen_pass",
    method: POST,
    path: "/partner/login/regen-pass",
    host: Central,
    auth: None,
    idempotent: false,
    body: Form,
    evidence: Assumed,
    secret_fields: ["password"],
    example: Request::new("407cc078-46c7-11ed-8e42-000d3a3ba598", ApiSecret::new("example-api-secret")),
}

/// The regen-pass request: the API key and the current secret.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct Request {
    /// The API key (sent as `username`).
    pub api_key: String,
    /// The current secret (sent as `password`).
    pub api_secret: ApiSecret,
}

impl Request {
    /// Creates the request.
    pub fn new(api_key: impl Into<String>, api_secret: ApiSecret) -> Self {
        Self { api_key: api_key.into(), api_secret }
    }
}

model! {
    /// The new secret \[ASSUMED\]: `{"username": "<api key>", "password": "<new secret>"}`; the
    /// secret is also read from `new_password`, `secret` or `api_secret`.
    pub struct Response {
        /// The API key.
        pub username: Option<String> => "username",
        /// The new API secret. Shown once: persist it before anything else.
        pub password: ApiSecret => "password" | "new_password" | "secret" | "api_secret",
    }
}

impl Endpoint for Request {
    const METADATA: crate::endpoint::Metadata = METADATA;
    type Response = Response;

    fn form(&self, form: &mut Params) -> Result<(), RequestError> {
        form.required("username", &self.api_key)?;
        form.secret("password", self.api_secret.expose_secret())?;
        Ok(())
    }

    fn parse_success(body: &[u8]) -> Result<Response, FieldError> {
        wire::from_slice(body)
    }
}
