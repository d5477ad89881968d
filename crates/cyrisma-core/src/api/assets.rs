//! Endpoints for vulnerability assets (instance hosts) \[OBS\].

pub mod get_authenticated_asset;
pub mod get_ip_asset;
pub mod list_assets;
