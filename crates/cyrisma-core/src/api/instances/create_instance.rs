//! `POST /partner/instances/create`: create an organization (`msp`, `mssp`) or an instance.
//!
//! Evidence: \[DOC\] for the fields and the response; the `provisioning` status that follows and
//! the validation errors are \[ASSUMED\]. Provisioning completes asynchronously, typically within
//! five minutes. Not idempotent: never retried once bytes were sent.

use crate::endpoint::{Endpoint, Params, metadata};
use crate::error::RequestError;
use crate::types::{CreatedInstance, InstanceType, MfaType};
use crate::wire::{self, FieldError};

metadata! {
    name: "instances.create_instance",
    method: POST,
    path: "/partner/instances/create",
    host: Central,
    auth: AccessToken,
    idempotent: false,
    body: Form,
    evidence: Doc,
    example: {
        let mut request = Request::new(
            InstanceType::Mssp,
            false,
            "partner01",
            "Fabrikam Security & Co",
            "fabrikam",
            "US",
            "ops@fabrikam.example",
        );
        request.mfa_type = Some(MfaType::Authenticator);
        request.city = Some("Austin".into());
        request
    },
}

/// Creates an organization or an instance under `parent_instance_id`.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct Request {
    /// `msp`, `mssp` or `standard`.
    pub instance_type: InstanceType,
    /// Whether it is a consulting instance.
    pub is_consulting: bool,
    /// The parent organization.
    pub parent_instance_id: String,
    /// The display name.
    pub name: String,
    /// The short name.
    pub short_name: String,
    /// The country (determines data residency).
    pub country: String,
    /// The contact email.
    pub email: String,
    /// The MFA method (organizations only).
    pub mfa_type: Option<MfaType>,
    /// The Microsoft tenant id.
    pub tenant_id: Option<String>,
    /// State or region.
    pub state: Option<String>,
    /// City.
    pub city: Option<String>,
    /// Postal code.
    pub postal: Option<String>,
    /// Street address.
    pub street: Option<String>,
}

impl Request {
    /// Creates the request with the required fields.
    pub fn new(
        instance_type: InstanceType,
        is_consulting: bool,
        parent_instance_id: impl Into<String>,
        name: impl Into<String>,
        short_name: impl Into<String>,
        country: impl Into<String>,
        email: impl Into<String>,
    ) -> Self {
        Self {
            instance_type,
            is_consulting,
            parent_instance_id: parent_instance_id.into(),
            name: name.into(),
            short_name: short_name.into(),
            country: country.into(),
            email: email.into(),
            mfa_type: None,
            tenant_id: None,
            state: None,
            city: None,
            postal: None,
            street: None,
        }
    }
}

impl Endpoint for Request {
    const METADATA: crate::endpoint::Metadata = METADATA;
    type Response = CreatedInstance;

    fn form(&self, form: &mut Params) -> Result<(), RequestError> {
        if self.instance_type.is_unknown() {
            return Err(RequestError::InvalidField { field: "instance_type", reason: "use msp, mssp or standard" });
        }
        if self.mfa_type.as_ref().is_some_and(|mfa| mfa.is_unknown()) {
            return Err(RequestError::InvalidField {
                field: "mfa_type",
                reason: "use 0 (none), 1 (email) or 2 (authenticator)",
            });
        }
        form.required("instance_type", self.instance_type.as_str())?
            .push("is_consulting", if self.is_consulting { "true" } else { "false" })
            .required("parent_instance_id", &self.parent_instance_id)?
            .required("name", &self.name)?
            .required("short_name", &self.short_name)?
            .required("country", &self.country)?
            .required("email", &self.email)?
            .optional("mfa_type", self.mfa_type.as_ref().map(|mfa| mfa.as_str()))
            .optional("tenant_id", self.tenant_id.as_deref())
            .optional("state", self.state.as_deref())
            .optional("city", self.city.as_deref())
            .optional("postal", self.postal.as_deref())
            .optional("street", self.street.as_deref());
        Ok(())
    }

    fn parse_success(body: &[u8]) -> Result<CreatedInstance, FieldError> {
        wire::from_slice(body)
    }
}
