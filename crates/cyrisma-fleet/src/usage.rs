//! Usage: the structure and user listings, read together, through the core's
//! [`usage_rows`](cyrisma_core::usage::usage_rows).

use cyrisma_core::usage::{UsageRow, usage_rows};

use crate::{Error, Fleet};

impl Fleet {
    /// The usage rows (see [`cyrisma_core::usage::usage_rows`]); `organization` limits them to
    /// one organization (trimmed).
    pub async fn usage(&self, organization: Option<&str>) -> Result<Vec<UsageRow>, Error> {
        let client = self.client();
        let (instances, users) =
            futures_util::future::try_join(client.instances().list(), client.users().list()).await?;
        Ok(usage_rows(&instances, &users, organization.map(str::trim)))
    }
}
