//! Rotating the API secret: `POST /partner/login/regen-pass`, whose answer carries the new
//! secret exactly once (CYRISMA keeps only a hash).
//!
//! [`Client::rotate_secret`] sends the call exactly once (never retried, not even after a
//! connection failure), hands the new secret to a caller-supplied durable [`SecretSink`] before
//! it returns or does anything else, and then verifies the new secret with a password login. The
//! errors tell apart what the caller must do next:
//!
//! - not sent (a connection error, [`Error::is_connect`]): nothing changed, try again;
//! - refused by the server ([`Error::is_api`]): nothing changed, the old secret still works;
//! - sent with no answer ([`Error::is_ambiguous`]): the secret may have been rotated and its new
//!   value lost; log in with the old secret to find out;
//! - the sink failed ([`ErrorKind::SecretNotSaved`]): the new secret (or the raw body) is inside
//!   the error ([`Error::unsaved_secret`]), to be saved by other means at once;
//! - the answer could not be parsed ([`ErrorKind::SecretUnreadable`]): the raw body went to the
//!   sink;
//! - verification failed ([`ErrorKind::SecretNotVerified`]): the new secret was saved.

use std::future::Future;

use cyrisma_core::api::auth::{login, regen_pass};
use cyrisma_core::retry::RetryPolicy;
use cyrisma_core::{ApiSecret, Endpoint};

use crate::client::Client;
use crate::error::{BoxError, Error, ErrorKind, NewSecret, TimeoutKind};
use crate::send::ambiguity_hint;

/// Where a rotated secret is stored durably (a credential store, a 0600 file) before
/// [`Client::rotate_secret`] goes on. Any `FnOnce(NewSecret) -> impl Future<Output = Result<(),
/// E>>` is a sink.
pub trait SecretSink: Send {
    /// Stores the new secret (or, if it could not be parsed, the raw answer) durably. Return
    /// only once it is safe.
    fn save(self, secret: NewSecret) -> impl Future<Output = Result<(), BoxError>> + Send;
}

impl<F, Fut, E> SecretSink for F
where
    F: FnOnce(NewSecret) -> Fut + Send,
    Fut: Future<Output = Result<(), E>> + Send,
    E: Into<BoxError>,
{
    async fn save(self, secret: NewSecret) -> Result<(), BoxError> {
        self(secret).await.map_err(Into::into)
    }
}

impl Client {
    /// Rotates the API secret; see the [module documentation](crate::rotate) for the steps and
    /// the errors. On success the client uses the new secret from then on, and returns it.
    pub async fn rotate_secret<S: SecretSink>(&self, sink: S) -> Result<ApiSecret, Error> {
        let inner = &self.inner;
        let (api_key, current) = inner.credentials();
        let request = regen_pass::Request::new(api_key.clone(), current);
        let exchange = match inner.exchange(inner.central_target(), &request, &RetryPolicy::never()).await {
            Ok(exchange) => exchange,
            // The total timeout cut the call short: it may have been sent.
            Err(error) if matches!(error.kind(), ErrorKind::Timeout { what: TimeoutKind::Total(_), .. }) => {
                return Err(Error::new(ErrorKind::Ambiguous {
                    endpoint: regen_pass::METADATA.name,
                    hint: ambiguity_hint(regen_pass::METADATA.name),
                    source: Some(Box::new(error)),
                }));
            }
            Err(error) => return Err(error),
        };
        let new_secret = match regen_pass::Request::parse_response(&exchange.response) {
            Ok(answer) if !answer.password.is_empty() => NewSecret::Secret(answer.password),
            Ok(_) => NewSecret::RawBody(exchange.response.body().clone()),
            Err(error) if !exchange.response.status().is_success() => {
                return Err(Error::from_response(regen_pass::METADATA.name, error));
            }
            Err(_) => NewSecret::RawBody(exchange.response.body().clone()),
        };
        if let Err(source) = sink.save(new_secret.clone()).await {
            return Err(Error::new(ErrorKind::SecretNotSaved { unsaved: new_secret, source }));
        }
        let NewSecret::Secret(secret) = new_secret else {
            return Err(Error::new(ErrorKind::SecretUnreadable));
        };
        inner.set_api_secret(secret.clone());
        let verify = login::Request::password(api_key, secret.clone());
        match inner.call(inner.central_target(), &verify).await {
            Ok(_) => Ok(secret),
            Err(error) => Err(Error::new(ErrorKind::SecretNotVerified { source: Box::new(error) })),
        }
    }
}
