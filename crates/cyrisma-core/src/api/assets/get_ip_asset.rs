//! `GET /partner/vulnerability/assets/ip?assetIp=`: the detail of one external IP asset, with
//! its open ports.
//!
//! Evidence: \[OBS\]. The observed answer is an array (or an object) whose first element is the
//! asset; an `{"assets": [...]}` wrapper is accepted too (see [`Asset::list_from_slice`]). Key
//! casing varies: `OpenPorts`/`openPorts`, `PortNumber`/`portNumber`; both are read. The answer
//! normally holds one asset; an empty list means the instance knows no such asset.

use crate::endpoint::{Endpoint, Params, metadata};
use crate::error::RequestError;
use crate::types::Asset;
use crate::wire::FieldError;

metadata! {
    name: "assets.get_ip_asset",
    method: GET,
    path: "/partner/vulnerability/assets/ip",
    host: Instance,
    auth: AccessToken,
    idempotent: true,
    body: None,
    evidence: Obs,
    example: Request::new("2001:db8::10"),
}

/// Fetches one external IP asset by address.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct Request {
    /// The asset's IP address (`assetIp` of the asset list).
    pub asset_ip: String,
}

impl Request {
    /// Creates the request.
    pub fn new(asset_ip: impl Into<String>) -> Self {
        Self { asset_ip: asset_ip.into() }
    }
}

impl Endpoint for Request {
    const METADATA: crate::endpoint::Metadata = METADATA;
    type Response = Vec<Asset>;

    fn query(&self, query: &mut Params) -> Result<(), RequestError> {
        query.required("assetIp", &self.asset_ip)?;
        Ok(())
    }

    fn parse_success(body: &[u8]) -> Result<Vec<Asset>, FieldError> {
        Asset::list_from_slice(body)
    }
}
