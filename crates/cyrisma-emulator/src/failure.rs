//! The contract's error answers: a status and `{"error": "<code>", "message": "...", "field"}`,
//! serialized with the core's [`ErrorBody`].

use bytes::Bytes;
use cyrisma_core::types::{ErrorBody, ErrorCode};
use http::StatusCode;

/// An error answer of the API.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct ApiFailure {
    pub(crate) status: StatusCode,
    pub(crate) code: ErrorCode,
    pub(crate) message: String,
    pub(crate) field: Option<String>,
}

impl ApiFailure {
    pub(crate) fn new(status: StatusCode, code: ErrorCode, message: impl Into<String>) -> Self {
        Self { status, code, message: message.into(), field: None }
    }

    /// `400 invalid_request` about a form or query field.
    pub(crate) fn invalid(field: &str, message: impl Into<String>) -> Self {
        Self {
            status: StatusCode::BAD_REQUEST,
            code: ErrorCode::InvalidRequest,
            message: message.into(),
            field: Some(field.to_owned()),
        }
    }

    /// `400 invalid_request`: a required field is missing.
    pub(crate) fn missing(field: &str) -> Self {
        Self::invalid(field, format!("{field} is required"))
    }

    /// `404 not_found` for an unknown instance.
    pub(crate) fn no_instance(id: &str) -> Self {
        Self::new(StatusCode::NOT_FOUND, ErrorCode::NotFound, format!("No instance with id {}", printable(id)))
    }

    /// `404 not_found`.
    pub(crate) fn not_found(message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, ErrorCode::NotFound, message)
    }

    /// `409 conflict`.
    pub(crate) fn conflict(message: impl Into<String>) -> Self {
        Self::new(StatusCode::CONFLICT, ErrorCode::Conflict, message)
    }

    /// `401 invalid_token`.
    pub(crate) fn invalid_token() -> Self {
        Self::new(StatusCode::UNAUTHORIZED, ErrorCode::InvalidToken, "The access token is invalid or has expired.")
    }

    /// `401 invalid_grant`.
    pub(crate) fn invalid_grant(message: impl Into<String>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, ErrorCode::InvalidGrant, message)
    }

    /// `403 instance_suspended`.
    pub(crate) fn suspended(id: &str) -> Self {
        Self::new(StatusCode::FORBIDDEN, ErrorCode::InstanceSuspended, format!("Instance {id} is suspended."))
    }

    /// `401 instance_not_authenticated`.
    pub(crate) fn not_authenticated(id: &str) -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            ErrorCode::InstanceNotAuthenticated,
            format!(
                "Instance {id} is not authenticated for this access token: call POST /partner/instances/login/{id} first."
            ),
        )
    }

    /// The JSON body.
    pub(crate) fn body(&self) -> Bytes {
        let body = ErrorBody {
            error: Some(self.code.clone()),
            message: Some(self.message.clone()),
            field: self.field.clone(),
            ..Default::default()
        };
        // Serializing a map of strings cannot fail.
        Bytes::from(serde_json::to_vec(&body).unwrap_or_default())
    }
}

/// A value from a request, made safe to echo in a message: at most 64 printable characters.
pub(crate) fn printable(value: &str) -> String {
    value.chars().filter(|ch| !ch.is_control()).take(64).collect()
}
