//! One failure record for every fleet operation and every front end: the instance, its name, and
//! the status, error code, request id and message of what went wrong.

use serde::Serialize;

/// The message of a failure for an explicit id that is not in the partner's structure.
pub const UNKNOWN_INSTANCE: &str = "no such instance in the partner's structure";

/// An instance that could not be reached or read during a fleet operation.
///
/// Serialized with these six fields, in this order (the `errors` of `cyrisma report -o json`,
/// and Python's `InstanceFailure`); [`kind`](Self::kind) is for front ends that map failures to
/// exit codes and is not serialized.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct InstanceFailure {
    /// The instance id.
    pub instance_id: String,
    /// The instance's name, when the structure listing gave one.
    pub name: Option<String>,
    /// What went wrong (the transport error's message, never a secret).
    pub error: String,
    /// The HTTP status, when the API answered (404 for an id not in the structure).
    pub status: Option<u16>,
    /// The API's error code, when it sent one.
    pub code: Option<String>,
    /// The request id of the failed answer, when it had one.
    pub request_id: Option<String>,
    /// What kind of failure this is.
    #[serde(skip)]
    pub kind: FailureKind,
}

/// The kind of an [`InstanceFailure`], from the transport error's predicates (first match).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum FailureKind {
    /// An explicit id that is not in the partner's structure.
    UnknownInstance,
    /// A call may have taken effect, but no answer came back.
    Ambiguous,
    /// Missing or refused credentials.
    Auth,
    /// Rate limited (`429`, or `503` with `Retry-After`).
    RateLimited,
    /// The API did not answer in time.
    Timeout,
    /// Anything else.
    #[default]
    Other,
}

impl InstanceFailure {
    /// The record of an instance whose operation failed with `error`.
    pub fn from_error(instance_id: String, name: Option<String>, error: &cyrisma_transport::Error) -> Self {
        let kind = if error.is_ambiguous() {
            FailureKind::Ambiguous
        } else if error.is_auth() {
            FailureKind::Auth
        } else if error.is_rate_limited() {
            FailureKind::RateLimited
        } else if error.is_timeout() {
            FailureKind::Timeout
        } else {
            FailureKind::Other
        };
        Self {
            instance_id,
            name,
            error: format!("{error:#}"),
            status: error.status().map(|status| status.as_u16()),
            code: error.api_code().map(|code| code.as_str().to_owned()),
            request_id: error.request_id().map(str::to_owned),
            kind,
        }
    }

    /// The record of an explicit id that is not in the partner's structure (status 404).
    pub fn unknown(instance_id: String) -> Self {
        Self {
            instance_id,
            error: UNKNOWN_INSTANCE.to_owned(),
            status: Some(404),
            kind: FailureKind::UnknownInstance,
            ..Self::default()
        }
    }
}
