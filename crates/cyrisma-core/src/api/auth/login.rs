//! `POST /partner/login/`: log in with the API key and secret, or renew with a refresh token.
//!
//! Evidence: \[DOC + OBS\] for the password grant and the response; the refresh grant's form is
//! \[ASSUMED\] (see [`crate::assumed::REFRESH_GRANT_TYPE`]). The documented renewal is simply to
//! log in again, so clients try the refresh grant first and fall back to the password grant.

use crate::endpoint::{Endpoint, Params, metadata};
use crate::error::RequestError;
use crate::secret::{AccessToken, ApiSecret, RefreshToken};
use crate::wire::{self, FieldError, model};

metadata! {
    name: "auth.login",
    method: POST,
    path: "/partner/login/",
    host: Central,
    auth: None,
    idempotent: true,
    body: Form,
    evidence: Doc,
    secret_fields: ["password", "refresh_token"],
    example: Request::password("407cc078-46c7-11ed-8e42-000d3a3ba598", ApiSecret::new("example-api-secret")),
}

/// How to log in.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub enum Grant {
    /// `grant_type=password` with the API key and secret \[DOC\].
    Password {
        /// The API key (sent as `username`).
        api_key: String,
        /// The API secret (sent as `password`).
        api_secret: ApiSecret,
    },
    /// `grant_type=refresh_token` with the refresh token \[ASSUMED\].
    RefreshToken {
        /// The refresh token of the last login.
        refresh_token: RefreshToken,
    },
}

/// Which grant a login uses, without its credentials.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum GrantKind {
    /// The password grant.
    Password,
    /// The refresh grant.
    RefreshToken,
}

/// The login request.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct Request {
    /// The grant to present.
    pub grant: Grant,
}

impl Request {
    /// A password-grant login.
    pub fn password(api_key: impl Into<String>, api_secret: ApiSecret) -> Self {
        Self { grant: Grant::Password { api_key: api_key.into(), api_secret } }
    }

    /// A refresh-grant login.
    pub fn refresh(refresh_token: RefreshToken) -> Self {
        Self { grant: Grant::RefreshToken { refresh_token } }
    }

    /// Which grant this request uses.
    pub fn grant_kind(&self) -> GrantKind {
        match self.grant {
            Grant::Password { .. } => GrantKind::Password,
            Grant::RefreshToken { .. } => GrantKind::RefreshToken,
        }
    }
}

model! {
    /// A successful login \[DOC\].
    pub struct Response {
        /// The access token (12 alphanumerics and a `yyyyMMddHHmmss` stamp \[OBS\]).
        pub access_token: AccessToken => "access_token" | "accessToken",
        /// The token type (`access`).
        pub token_type: Option<String> => "token_type" | "tokenType",
        /// Seconds until the access token expires ("generally" 600); authoritative.
        pub expires_in: Option<u64> => "expires_in" | "expiresIn",
        /// The refresh token.
        pub refresh_token: Option<RefreshToken> => "refresh_token" | "refreshToken",
        /// The client id (empty in the documented example).
        pub client_id: Option<String> => "client_id" | "clientId",
    }
}

impl Endpoint for Request {
    const METADATA: crate::endpoint::Metadata = METADATA;
    type Response = Response;

    fn form(&self, form: &mut Params) -> Result<(), RequestError> {
        match &self.grant {
            Grant::Password { api_key, api_secret } => {
                form.push("grant_type", "password");
                form.required("username", api_key)?;
                form.secret("password", api_secret.expose_secret())?;
            }
            Grant::RefreshToken { refresh_token } => {
                form.push("grant_type", crate::assumed::REFRESH_GRANT_TYPE);
                form.secret(crate::assumed::REFRESH_TOKEN_FIELD, refresh_token.expose_secret())?;
            }
        }
        Ok(())
    }

    fn parse_success(body: &[u8]) -> Result<Response, FieldError> {
        wire::from_slice(body)
    }
}
