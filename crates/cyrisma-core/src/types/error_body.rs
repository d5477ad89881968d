//! The body of an error response and its codes \[ASSUMED\]: `{"error": "<code>", "message": "..."}`.

use crate::wire::{model, wire_enum};

wire_enum! {
    /// The `error` code of an error body \[ASSUMED\].
    pub enum ErrorCode {
        /// Bad credentials or refresh token on login.
        InvalidGrant = "invalid_grant",
        /// A missing or invalid access token.
        InvalidToken = "invalid_token" | "unauthorized",
        /// A reporting call to an instance not authenticated for the current token.
        InstanceNotAuthenticated = "instance_not_authenticated",
        /// The instance is suspended.
        InstanceSuspended = "instance_suspended",
        /// Forbidden for another reason.
        Forbidden = "forbidden",
        /// A validation failure; `field` names the field.
        InvalidRequest = "invalid_request",
        /// Unknown id.
        NotFound = "not_found",
        /// The operation conflicts with the current state (a second conversion, say).
        Conflict = "conflict",
        /// Too many requests.
        RateLimited = "rate_limited",
        /// Temporarily unavailable.
        Unavailable = "unavailable",
        /// A server failure.
        InternalError = "internal_error",
    }
}

model! {
    /// An error response body \[ASSUMED\].
    pub struct ErrorBody {
        /// The error code.
        pub error: Option<ErrorCode> => "error" | "code",
        /// A human-readable message.
        pub message: Option<String> => "message" | "error_description",
        /// The field a validation error is about.
        pub field: Option<String> => "field",
    }
}

/// The models of this file, in the order of their Python classes: every `model!` above is listed
/// here (`types::tests` fails otherwise), and [`crate::types::MODELS`] joins the files' lists.
pub(super) const MODELS: &[&crate::wire::ModelSchema] = &[&ErrorBody::SCHEMA];
