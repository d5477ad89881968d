//! `PATCH /partner/instances/mfa`: change the MFA method of an organization.
//!
//! Evidence: \[DOC\] for the path and the codes (`0` none, `1` email, `2` authenticator/TOTP);
//! the form fields `instance_id`, `mfa_type` and the response `{"instance_id","mfa_type"}` are
//! \[ASSUMED\]. MFA settings apply only to organizations \[DOC\]; the server refuses other
//! instances with `400` `invalid_request` \[ASSUMED\].
//!
//! Idempotent: the call sets the method rather than toggling it, so sending it twice leaves the
//! same method as sending it once, and a lost answer may be retried.

use crate::endpoint::{Endpoint, Params, metadata};
use crate::error::RequestError;
use crate::types::{MfaChange, MfaType};
use crate::wire::{self, FieldError};

metadata! {
    name: "instances.set_mfa",
    method: PATCH,
    path: "/partner/instances/mfa",
    host: Central,
    auth: AccessToken,
    idempotent: true,
    body: Form,
    evidence: Assumed,
    example: Request::new("org1001", MfaType::Authenticator),
}

/// Sets the MFA method of an organization.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct Request {
    /// The organization.
    pub instance_id: String,
    /// The new method; [`MfaType::Unknown`] is refused before sending.
    pub mfa_type: MfaType,
}

impl Request {
    /// Creates the request.
    pub fn new(instance_id: impl Into<String>, mfa_type: MfaType) -> Self {
        Self { instance_id: instance_id.into(), mfa_type }
    }
}

impl Endpoint for Request {
    const METADATA: crate::endpoint::Metadata = METADATA;
    type Response = MfaChange;

    fn form(&self, form: &mut Params) -> Result<(), RequestError> {
        if self.mfa_type.is_unknown() {
            return Err(RequestError::InvalidField {
                field: "mfa_type",
                reason: "use 0 (none), 1 (email) or 2 (authenticator)",
            });
        }
        form.required("instance_id", &self.instance_id)?.required("mfa_type", self.mfa_type.as_str())?;
        Ok(())
    }

    fn parse_success(body: &[u8]) -> Result<MfaChange, FieldError> {
        wire::from_slice(body)
    }
}
