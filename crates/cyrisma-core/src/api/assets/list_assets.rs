//! `GET /partner/vulnerability/assets?assetType=internal|external`: the instance's assets of one
//! type.
//!
//! Evidence: \[OBS\]. The observed answer is a bare array of assets (`scanType`, `assetId`,
//! `assetIp` or `ip`); an `{"assets": [...]}` wrapper and a single object are accepted too (see
//! [`Asset::list_from_slice`]).

use crate::endpoint::{Endpoint, Params, metadata};
use crate::error::RequestError;
use crate::types::{Asset, AssetType};
use crate::wire::FieldError;

metadata! {
    name: "assets.list_assets",
    method: GET,
    path: "/partner/vulnerability/assets",
    host: Instance,
    auth: AccessToken,
    idempotent: true,
    body: None,
    evidence: Obs,
    example: Request::new(AssetType::Internal),
}

/// Lists the internal or external assets of an instance.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct Request {
    /// `internal` or `external`.
    pub asset_type: AssetType,
}

impl Request {
    /// Creates the request.
    pub fn new(asset_type: AssetType) -> Self {
        Self { asset_type }
    }
}

impl Endpoint for Request {
    const METADATA: crate::endpoint::Metadata = METADATA;
    type Response = Vec<Asset>;

    fn query(&self, query: &mut Params) -> Result<(), RequestError> {
        if self.asset_type.is_unknown() {
            return Err(RequestError::InvalidField { field: "assetType", reason: "use internal or external" });
        }
        query.required("assetType", self.asset_type.as_str())?;
        Ok(())
    }

    fn parse_success(body: &[u8]) -> Result<Vec<Asset>, FieldError> {
        Asset::list_from_slice(body)
    }
}
