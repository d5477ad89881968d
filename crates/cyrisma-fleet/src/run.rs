//! The fan-out every fleet operation shares: the transport's bounded fan-out over the selected
//! instances, progress events, results in instance-id order, and one failure record per instance
//! that failed or was not found.

use std::collections::BTreeSet;
use std::future::Future;
use std::sync::Arc;

use cyrisma_core::types::Instance;
use cyrisma_transport::{Client, InstanceClient};
use futures_util::StreamExt;

use crate::{DEFAULT_CONCURRENCY, Error, InstanceFailure, Selection};

/// What a fleet operation reports as it goes. A front end renders it (a progress bar) or ignores
/// it; events arrive on the task that awaits the operation, in order.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Progress {
    /// The structure was read: `total` instances are selected and will each finish once.
    Selected {
        /// How many instances the operation covers (explicit ids that are not listed excluded).
        total: usize,
    },
    /// One instance finished, successfully or not.
    Finished {
        /// The instance id.
        instance_id: String,
        /// Whether it succeeded.
        ok: bool,
    },
}

/// One instance that succeeded, with what the operation kept of it.
#[derive(Clone, Debug, PartialEq)]
pub struct Succeeded<K> {
    /// The instance id.
    pub instance_id: String,
    /// The instance's name, when the structure listing gave one.
    pub name: Option<String>,
    /// What the operation kept.
    pub value: K,
}

/// What a fan-out produced, each list in instance-id order.
#[derive(Clone, Debug, PartialEq)]
pub struct Outcome<K> {
    /// The instances that succeeded.
    pub succeeded: Vec<Succeeded<K>>,
    /// The instances that failed, and the explicit ids that are not in the structure.
    pub failures: Vec<InstanceFailure>,
    /// The structure listing the instances were chosen from (every organization and instance).
    pub structure: Arc<Vec<Instance>>,
}

impl<K> Outcome<K> {
    /// How many instances the operation covered, failed ones included.
    pub fn total(&self) -> usize {
        self.succeeded.len() + self.failures.len()
    }

    /// The instance's success, if it succeeded (a binary search: the list is in id order).
    pub fn success(&self, instance_id: &str) -> Option<&Succeeded<K>> {
        let found = self.succeeded.binary_search_by(|done| done.instance_id.as_str().cmp(instance_id));
        found.ok().map(|index| &self.succeeded[index])
    }

    /// Whether the operation covered the instance, successfully or not.
    pub fn covers(&self, instance_id: &str) -> bool {
        self.success(instance_id).is_some()
            || self.failures.binary_search_by(|failure| failure.instance_id.as_str().cmp(instance_id)).is_ok()
    }
}

/// Operations over the partner's customer instances, on one client, at most `concurrency`
/// instances at a time.
#[derive(Clone, Debug)]
pub struct Fleet {
    client: Client,
    concurrency: usize,
}

impl Fleet {
    /// Operations over `client`'s instances, [`DEFAULT_CONCURRENCY`] at a time.
    pub fn new(client: Client) -> Self {
        Self { client, concurrency: DEFAULT_CONCURRENCY }
    }

    /// At most `concurrency` instances at a time (at least one).
    pub fn with_concurrency(mut self, concurrency: usize) -> Self {
        self.concurrency = concurrency.max(1);
        self
    }

    /// The client.
    pub fn client(&self) -> &Client {
        &self.client
    }

    /// The concurrency.
    pub fn concurrency(&self) -> usize {
        self.concurrency
    }

    /// Runs `operation` on every selected instance, at most [`concurrency`](Self::concurrency)
    /// at a time. `on_success` is called as each instance completes successfully (to stream its
    /// result somewhere) and returns what the outcome keeps; an error from it stops the
    /// operation. `progress` gets a [`Progress::Selected`] once the structure is read, then one
    /// [`Progress::Finished`] per instance.
    pub async fn run<T, K, F, Fut>(
        &self,
        selection: &Selection,
        operation: F,
        mut progress: impl FnMut(Progress),
        mut on_success: impl FnMut(&str, Option<&str>, T) -> Result<K, Error>,
    ) -> Result<Outcome<K>, Error>
    where
        F: Fn(InstanceClient) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<T, cyrisma_transport::Error>> + Send + 'static,
        T: Send + 'static,
    {
        let filter = |instance: &cyrisma_core::types::Instance| selection.includes(instance);
        let mut stream = self.client.fan_out(filter, self.concurrency, operation).await?;
        let structure = Arc::clone(stream.structure());
        progress(Progress::Selected { total: stream.len() });
        let mut seen = BTreeSet::new();
        let mut succeeded = Vec::new();
        let mut failures = Vec::new();
        while let Some(item) = stream.next().await {
            seen.insert(item.instance_id.clone());
            let ok = item.result.is_ok();
            match item.result {
                Ok(value) => {
                    let value = on_success(&item.instance_id, item.name.as_deref(), value)?;
                    succeeded.push(Succeeded { instance_id: item.instance_id.clone(), name: item.name, value });
                }
                Err(error) => failures.push(InstanceFailure::from_error(item.instance_id.clone(), item.name, &error)),
            }
            progress(Progress::Finished { instance_id: item.instance_id, ok });
        }
        failures.extend(selection.unknown(&seen).map(|id| InstanceFailure::unknown(id.clone())));
        succeeded.sort_by(|a, b| a.instance_id.cmp(&b.instance_id));
        failures.sort_by(|a, b| a.instance_id.cmp(&b.instance_id));
        Ok(Outcome { succeeded, failures, structure })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_outcome_finds_its_instances_by_id() {
        let done = |id: &str, value: u32| Succeeded { instance_id: id.to_owned(), name: None, value };
        let outcome = Outcome {
            succeeded: vec![done("cc1", 1), done("cc3", 3), done("cc5", 5)],
            failures: vec![InstanceFailure::unknown("cc2".into()), InstanceFailure::unknown("cc4".into())],
            structure: Arc::default(),
        };
        for (id, value) in [("cc1", 1), ("cc3", 3), ("cc5", 5)] {
            assert_eq!(outcome.success(id).map(|done| done.value), Some(value), "{id}");
            assert!(outcome.covers(id), "{id}");
        }
        for id in ["cc2", "cc4"] {
            assert!(outcome.success(id).is_none(), "{id} failed");
            assert!(outcome.covers(id), "{id} was covered");
        }
        for id in ["cc0", "cc6", "cc", ""] {
            assert!(outcome.success(id).is_none() && !outcome.covers(id), "{id} was not covered");
        }
    }
}
