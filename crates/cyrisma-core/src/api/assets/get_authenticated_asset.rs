//! `GET /partner/vulnerability/assets/authenticated?assetId=`: the detail of one asset seen by
//! internal authenticated scans, with its open ports.
//!
//! Evidence: \[OBS\]. The observed answer is an array whose first element is the asset; an
//! object and an `{"assets": [...]}` wrapper are accepted too (see [`Asset::list_from_slice`]).
//! Open ports were seen as `{port, portName, severity}`. The answer normally holds one asset; an
//! empty list means the instance knows no such asset.

use crate::endpoint::{Endpoint, Params, metadata};
use crate::error::RequestError;
use crate::types::Asset;
use crate::wire::FieldError;

metadata! {
    name: "assets.get_authenticated_asset",
    method: GET,
    path: "/partner/vulnerability/assets/authenticated",
    host: Instance,
    auth: AccessToken,
    idempotent: true,
    body: None,
    evidence: Obs,
    example: Request::new("A-7731"),
}

/// Fetches one internal authenticated asset by id.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct Request {
    /// The asset's id (`assetId` of the asset list).
    pub asset_id: String,
}

impl Request {
    /// Creates the request.
    pub fn new(asset_id: impl Into<String>) -> Self {
        Self { asset_id: asset_id.into() }
    }
}

impl Endpoint for Request {
    const METADATA: crate::endpoint::Metadata = METADATA;
    type Response = Vec<Asset>;

    fn query(&self, query: &mut Params) -> Result<(), RequestError> {
        query.required("assetId", &self.asset_id)?;
        Ok(())
    }

    fn parse_success(body: &[u8]) -> Result<Vec<Asset>, FieldError> {
        Asset::list_from_slice(body)
    }
}
