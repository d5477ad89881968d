//! Errors of the core, one family per direction: building a request, and reading a response.
//!
//! Messages are lower-case without a trailing period, name what was wrong, and never contain a
//! secret or a value the server sent (decode messages have quoted values removed). Their wording
//! is not part of the API: match on variants and use the accessors.

use http::StatusCode;

use crate::types::ErrorCode;

/// A request could not be built from the given input. Nothing was sent.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RequestError {
    /// A required field is empty or only white space.
    #[error("required field `{field}` is empty: give it a value")]
    EmptyField {
        /// The wire name of the field.
        field: &'static str,
    },
    /// A field has a value the API cannot accept.
    #[error("field `{field}` is invalid: {reason}")]
    InvalidField {
        /// The wire name of the field.
        field: &'static str,
        /// Why the value was refused (never the value itself).
        reason: &'static str,
    },
    /// A path parameter would change the path (it is empty, contains `/`, or is `.` or `..`).
    #[error("path parameter `{param}` is invalid: {reason}")]
    InvalidPathParameter {
        /// The placeholder name in the path template.
        param: &'static str,
        /// Why the value was refused.
        reason: &'static str,
    },
    /// The endpoint needs an access token and none was given.
    #[error("`{endpoint}` needs an access token: log in first")]
    MissingToken {
        /// The endpoint's name.
        endpoint: &'static str,
    },
    /// The request was aimed at the wrong kind of host.
    #[error("`{endpoint}` is served by the {expected} host, not the {actual} host")]
    WrongHost {
        /// The endpoint's name.
        endpoint: &'static str,
        /// The host kind the endpoint needs.
        expected: crate::base_url::HostKind,
        /// The host kind that was given.
        actual: crate::base_url::HostKind,
    },
    /// The token contains bytes that cannot go into an HTTP header.
    #[error("the access token contains characters that are not allowed in an http header")]
    InvalidToken,
    /// The final URI could not be assembled.
    #[error("cannot build the request uri for `{endpoint}`")]
    Uri {
        /// The endpoint's name.
        endpoint: &'static str,
        /// The cause.
        #[source]
        source: http::Error,
    },
}

/// A response could not be turned into the endpoint's typed result.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ResponseError {
    /// The server answered with a non-success status.
    #[error(transparent)]
    Api(Box<ApiError>),
    /// The server answered with success but the body does not match the contract.
    #[error(transparent)]
    Decode(Box<DecodeError>),
}

impl From<ApiError> for ResponseError {
    fn from(error: ApiError) -> Self {
        ResponseError::Api(Box::new(error))
    }
}

impl From<DecodeError> for ResponseError {
    fn from(error: DecodeError) -> Self {
        ResponseError::Decode(Box::new(error))
    }
}

impl ResponseError {
    /// The HTTP status of the response.
    pub fn status(&self) -> StatusCode {
        match self {
            ResponseError::Api(error) => error.status,
            ResponseError::Decode(error) => error.status,
        }
    }

    /// The `X-Request-Id` of the response, if the server sent one.
    pub fn request_id(&self) -> Option<&str> {
        match self {
            ResponseError::Api(error) => error.request_id.as_deref(),
            ResponseError::Decode(error) => error.request_id.as_deref(),
        }
    }

    /// The API error, if this is one.
    pub fn as_api(&self) -> Option<&ApiError> {
        match self {
            ResponseError::Api(error) => Some(error),
            ResponseError::Decode(_) => None,
        }
    }
}

/// A non-success answer from the API, with everything the server said about it.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
#[error("{}", self.describe())]
#[non_exhaustive]
pub struct ApiError {
    /// The HTTP status.
    pub status: StatusCode,
    /// The `error` code of the body, if the body was a JSON error object.
    pub code: Option<ErrorCode>,
    /// The `message` of the body.
    pub message: Option<String>,
    /// The `field` a validation error names.
    pub field: Option<String>,
    /// The `X-Request-Id` header.
    pub request_id: Option<String>,
    /// The raw `Retry-After` header, for 429 and 503.
    pub retry_after: Option<String>,
    /// The first bytes of a body that was not a JSON error object (control characters removed).
    pub body_excerpt: Option<String>,
}

/// How many bytes of a non-JSON error body are kept.
pub const BODY_EXCERPT_LIMIT: usize = 256;

impl ApiError {
    /// Builds an API error from a status alone.
    pub fn new(status: StatusCode) -> Self {
        Self { status, code: None, message: None, field: None, request_id: None, retry_after: None, body_excerpt: None }
    }

    /// Whether the status is `401 Unauthorized`.
    pub fn is_unauthorized(&self) -> bool {
        self.status == StatusCode::UNAUTHORIZED
    }

    /// Whether the instance has not been authenticated for the current token.
    pub fn is_instance_not_authenticated(&self) -> bool {
        self.code == Some(ErrorCode::InstanceNotAuthenticated)
    }

    /// Whether the instance is suspended.
    pub fn is_instance_suspended(&self) -> bool {
        self.code == Some(ErrorCode::InstanceSuspended)
    }

    /// Whether the status is `429` or `503`.
    pub fn is_rate_limited(&self) -> bool {
        self.status == StatusCode::TOO_MANY_REQUESTS || self.status == StatusCode::SERVICE_UNAVAILABLE
    }

    /// Whether the status is `404`.
    pub fn is_not_found(&self) -> bool {
        self.status == StatusCode::NOT_FOUND
    }

    fn describe(&self) -> String {
        let mut text = format!("the api answered {}", self.status);
        if let Some(code) = &self.code {
            text.push_str(&format!(" ({code})"));
        }
        if let Some(message) = &self.message {
            text.push_str(&format!(": {}", message.trim_end_matches('.')));
        }
        if let Some(field) = &self.field {
            text.push_str(&format!(" [field `{field}`]"));
        }
        if self.message.is_none() {
            if let Some(excerpt) = &self.body_excerpt {
                text.push_str(&format!(": body starts with {excerpt:?}"));
            } else {
                text.push_str(" with an empty body");
            }
        }
        if let Some(request_id) = &self.request_id {
            text.push_str(&format!(" (request id {request_id})"));
        }
        text
    }
}

/// A success response whose body does not match the contract.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
#[error("{}", self.describe())]
#[non_exhaustive]
pub struct DecodeError {
    /// The HTTP status.
    pub status: StatusCode,
    /// The name of the endpoint whose response failed to decode.
    pub endpoint: &'static str,
    /// The path of the failing field, if the body is JSON of the wrong shape.
    pub path: Option<String>,
    /// What went wrong (quoted values removed).
    pub message: String,
    /// Whether the body is not JSON at all, or is cut short.
    pub is_syntax: bool,
    /// The `X-Request-Id` header.
    pub request_id: Option<String>,
}

impl DecodeError {
    fn describe(&self) -> String {
        let mut text = format!("cannot decode the {} response of `{}`", self.status, self.endpoint);
        match &self.path {
            Some(path) => text.push_str(&format!(": field `{path}`: {}", self.message)),
            None => text.push_str(&format!(": {}", self.message)),
        }
        if let Some(request_id) = &self.request_id {
            text.push_str(&format!(" (request id {request_id})"));
        }
        text
    }
}
