//! [`InstanceClient`]: the reporting calls of one instance, on that instance's host.
//!
//! The host is the instance's `url` field in the partner's structure listing, validated by the
//! core's [`HostPolicy`](cyrisma_core::HostPolicy) before any connection: a token never goes to a
//! host outside the allowed domain. The listing is fetched once and cached (a miss refreshes it
//! once); [`Client::refresh_instances`] refreshes it on demand.

use std::fmt;
use std::sync::Arc;

use cyrisma_core::api::{assets, dashboards, scans};
use cyrisma_core::types::{
    Asset, AssetType, BaselineDashboard, BaselineScans, Cves, DataDashboard, DataScans, Instance, OverallDashboard,
    ScanDetail, VulnerabilityDashboard, VulnerabilityScans,
};
use cyrisma_core::{BaseUrl, Endpoint};
use tokio::sync::OnceCell;

use crate::client::Client;
use crate::error::Error;
use crate::target::{InstanceScope, Target};

/// A client for the reporting calls of one instance. Cheap to clone.
///
/// Get one with [`Client::instance`] (by id) or [`Client::instance_for`] (from a listed
/// instance); a [fan-out](Client::fan_out) hands one to its operation for every instance.
#[derive(Clone)]
pub struct InstanceClient {
    client: Client,
    instance_id: Arc<str>,
    resolved: Arc<OnceCell<Resolved>>,
    group: Option<Arc<[String]>>,
}

#[derive(Clone, Debug)]
struct Resolved {
    base: BaseUrl,
    name: Option<String>,
}

impl InstanceClient {
    pub(crate) fn lazy(client: Client, instance_id: String) -> Self {
        Self { client, instance_id: instance_id.into(), resolved: Arc::new(OnceCell::new()), group: None }
    }

    pub(crate) fn resolved(client: Client, instance: &Instance, group: Option<Arc<[String]>>) -> Result<Self, Error> {
        let base = client.inner.instance_base(&instance.instance_id, instance.url.as_deref())?;
        let resolved = Resolved { base, name: instance.name.clone() };
        Ok(Self {
            client,
            instance_id: instance.instance_id.as_str().into(),
            resolved: Arc::new(OnceCell::new_with(Some(resolved))),
            group,
        })
    }

    /// The instance id.
    pub fn id(&self) -> &str {
        &self.instance_id
    }

    /// The instance's name, once its host is known (always for [`Client::instance_for`]).
    pub fn name(&self) -> Option<&str> {
        self.resolved.get().and_then(|resolved| resolved.name.as_deref())
    }

    /// The base URL, if the host is already known (no lookup).
    pub(crate) fn known_base(&self) -> Option<BaseUrl> {
        self.resolved.get().map(|resolved| resolved.base.clone())
    }

    /// The instance's base URL (`https://{host}/app`), looking the host up if needed.
    pub async fn base_url(&self) -> Result<BaseUrl, Error> {
        Ok(self.resolve().await?.base.clone())
    }

    /// Sends any instance-host endpoint of the core to this instance and returns its typed
    /// answer. Instance authentication, retries and timeouts apply as for the typed methods.
    pub async fn send<E: Endpoint>(&self, request: &E) -> Result<E::Response, Error> {
        let resolved = self.resolve().await?;
        let scope = InstanceScope { id: &self.instance_id, group: self.group.as_deref() };
        let target = Target { base: &resolved.base, instance: Some(scope) };
        self.client.inner.call(target, request).await
    }

    /// `GET /partner/scans/vulnerability`: the vulnerability scan summaries.
    pub async fn vulnerability_scans(&self) -> Result<VulnerabilityScans, Error> {
        self.send(&scans::list_vulnerability_scans::Request::new()).await
    }

    /// `GET /partner/scans/vulnerability/{scanId}`: one scan's assets and findings.
    pub async fn vulnerability_scan(&self, scan_id: &str) -> Result<ScanDetail, Error> {
        self.send(&scans::get_vulnerability_scan::Request::new(scan_id)).await
    }

    /// `GET /partner/scans/data`: the data scan summaries.
    pub async fn data_scans(&self) -> Result<DataScans, Error> {
        self.send(&scans::list_data_scans::Request::new()).await
    }

    /// `GET /partner/scans/baseline`: the secure baseline scan summaries.
    pub async fn baseline_scans(&self) -> Result<BaselineScans, Error> {
        self.send(&scans::list_baseline_scans::Request::new()).await
    }

    /// `GET /partner/dashboards/overall`: current and previous grades of every area.
    pub async fn dashboard_overall(&self) -> Result<OverallDashboard, Error> {
        self.send(&dashboards::get_overall_dashboard::Request::new()).await
    }

    /// `GET /partner/dashboards/data`: the data scan dashboard.
    pub async fn dashboard_data(&self) -> Result<DataDashboard, Error> {
        self.send(&dashboards::get_data_dashboard::Request::new()).await
    }

    /// `GET /partner/dashboards/baseline`: the secure baseline dashboard.
    pub async fn dashboard_baseline(&self) -> Result<BaselineDashboard, Error> {
        self.send(&dashboards::get_baseline_dashboard::Request::new()).await
    }

    /// `GET /partner/dashboards/vulnerability`: the vulnerability dashboard.
    pub async fn dashboard_vulnerability(&self) -> Result<VulnerabilityDashboard, Error> {
        self.send(&dashboards::get_vulnerability_dashboard::Request::new()).await
    }

    /// `GET /partner/dashboards/vulnerability/cve`: every CVE, or one.
    pub async fn cves(&self, cve_id: Option<&str>) -> Result<Cves, Error> {
        let request = match cve_id {
            Some(cve_id) => dashboards::list_cves::Request::new().with_cve_id(cve_id),
            None => dashboards::list_cves::Request::new(),
        };
        self.send(&request).await
    }

    /// `GET /partner/vulnerability/assets?assetType=`: the internal or external assets.
    pub async fn assets(&self, asset_type: AssetType) -> Result<Vec<Asset>, Error> {
        self.send(&assets::list_assets::Request::new(asset_type)).await
    }

    /// `GET /partner/vulnerability/assets/authenticated?assetId=`: one internal asset (an empty
    /// list if the instance knows no such asset).
    pub async fn authenticated_asset(&self, asset_id: &str) -> Result<Vec<Asset>, Error> {
        self.send(&assets::get_authenticated_asset::Request::new(asset_id)).await
    }

    /// `GET /partner/vulnerability/assets/ip?assetIp=`: one external IP asset (an empty list if
    /// the instance knows no such asset).
    pub async fn ip_asset(&self, asset_ip: &str) -> Result<Vec<Asset>, Error> {
        self.send(&assets::get_ip_asset::Request::new(asset_ip)).await
    }

    async fn resolve(&self) -> Result<&Resolved, Error> {
        self.resolved
            .get_or_try_init(|| async {
                let instance = self.client.inner.find_instance(&self.instance_id).await?;
                let base = self.client.inner.instance_base(&instance.instance_id, instance.url.as_deref())?;
                Ok(Resolved { base, name: instance.name })
            })
            .await
    }
}

impl fmt::Debug for InstanceClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("InstanceClient")
            .field("instance_id", &self.instance_id)
            .field("base_url", &self.resolved.get().map(|resolved| &resolved.base))
            .finish_non_exhaustive()
    }
}

impl Client {
    /// A client for the reporting calls of one instance. Its host is looked up in the partner's
    /// structure (listed once and cached) on first use, and validated against the allowed domain.
    pub fn instance(&self, instance_id: impl Into<String>) -> InstanceClient {
        InstanceClient::lazy(self.clone(), instance_id.into())
    }

    /// A client for the reporting calls of an instance value (from a listing): its `url` is
    /// validated against the allowed domain now.
    pub fn instance_for(&self, instance: &Instance) -> Result<InstanceClient, Error> {
        InstanceClient::resolved(self.clone(), instance, None)
    }

    /// Fetches the structure listing again and caches it (instance hosts are looked up there).
    pub async fn refresh_instances(&self) -> Result<Vec<Instance>, Error> {
        self.inner.structure_owned().await
    }
}
