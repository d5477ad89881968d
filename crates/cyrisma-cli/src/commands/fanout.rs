//! Running one operation over many instances (`report`, `export findings`): the transport's
//! bounded fan-out, a progress bar, results sorted by instance id, and the partial-failure
//! error that makes the exit code 3 and lists the instances that failed.

use std::collections::BTreeSet;
use std::future::Future;

use cyrisma_transport::{Client, InstanceClient};
use futures_util::StreamExt;

use crate::args::InstanceFilter;
use crate::commands::Context;
use crate::exit::{Code, PartialFailure, transport_code};
use crate::output::rows::InstanceError;

/// One instance that succeeded.
pub(crate) struct Succeeded<T> {
    pub(crate) instance_id: String,
    pub(crate) name: Option<String>,
    pub(crate) value: T,
}

/// One instance that failed.
pub(crate) struct Failed {
    pub(crate) instance_id: String,
    pub(crate) name: Option<String>,
    pub(crate) reason: String,
    pub(crate) code: Code,
}

/// What a fan-out produced, in instance-id order.
pub(crate) struct Outcome<T> {
    pub(crate) succeeded: Vec<Succeeded<T>>,
    pub(crate) failed: Vec<Failed>,
}

impl<T> Outcome<T> {
    /// The failures as JSON `errors`.
    pub(crate) fn errors(&self) -> Vec<InstanceError> {
        self.failed
            .iter()
            .map(|failed| InstanceError {
                instance_id: failed.instance_id.clone(),
                name: failed.name.clone(),
                error: failed.reason.clone(),
            })
            .collect()
    }

    /// `Ok` when every instance succeeded, else the partial-failure error.
    pub(crate) fn check(&self) -> anyhow::Result<()> {
        partial_failure(self.succeeded.len(), &self.failed)
    }
}

/// The partial-failure error for a list of failures, or `Ok` when there are none.
pub(crate) fn partial_failure(succeeded: usize, failed: &[Failed]) -> anyhow::Result<()> {
    if failed.is_empty() {
        return Ok(());
    }
    let code = if succeeded > 0 {
        Code::Partial
    } else {
        let codes: BTreeSet<u8> = failed.iter().map(|failed| failed.code as u8).collect();
        if codes.len() == 1 { failed[0].code } else { Code::Error }
    };
    Err(PartialFailure {
        total: succeeded + failed.len(),
        failed: failed.iter().map(|failed| (failed.instance_id.clone(), failed.reason.clone())).collect(),
        code,
    }
    .into())
}

/// Runs `operation` on every selected instance (the `--instance` ids, else every instance that
/// is not an organization and not suspended), at most `--concurrency` at a time. `on_success` is
/// called as each instance completes successfully (to stream its result) and returns what the
/// outcome keeps; the outcome is in instance-id order.
pub(crate) async fn run<T, K, F, Fut>(
    context: &Context,
    client: &Client,
    filter: &InstanceFilter,
    message: &str,
    operation: F,
    mut on_success: impl FnMut(&str, Option<&str>, T) -> anyhow::Result<K>,
) -> anyhow::Result<Outcome<K>>
where
    F: Fn(InstanceClient) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<T, cyrisma_transport::Error>> + Send + 'static,
    T: Send + 'static,
{
    let wanted: BTreeSet<String> =
        filter.instances.iter().map(|id| id.trim().to_owned()).filter(|id| !id.is_empty()).collect();
    let selector = {
        let wanted = wanted.clone();
        move |instance: &cyrisma_core::types::Instance| {
            if wanted.is_empty() {
                cyrisma_transport::fan_out::is_reportable(instance)
            } else {
                wanted.contains(&instance.instance_id)
            }
        }
    };
    let mut stream = client.fan_out(selector, context.concurrency(), operation).await?;
    let bar = context.ui.bar(stream.len() as u64, message);
    let mut seen = BTreeSet::new();
    let mut succeeded = Vec::new();
    let mut failed = Vec::new();
    while let Some(item) = stream.next().await {
        seen.insert(item.instance_id.clone());
        match item.result {
            Ok(value) => {
                let value = on_success(&item.instance_id, item.name.as_deref(), value)?;
                succeeded.push(Succeeded { instance_id: item.instance_id, name: item.name, value });
            }
            Err(error) => failed.push(Failed {
                instance_id: item.instance_id,
                name: item.name,
                code: transport_code(&error),
                // The whole chain: an api error's details are its source.
                reason: format!("{error:#}"),
            }),
        }
        bar.inc(1);
    }
    bar.finish_and_clear();
    for id in wanted.difference(&seen) {
        failed.push(Failed {
            instance_id: id.clone(),
            name: None,
            reason: "no such instance in the partner's structure".to_owned(),
            code: Code::Error,
        });
    }
    succeeded.sort_by(|a, b| a.instance_id.cmp(&b.instance_id));
    failed.sort_by(|a, b| a.instance_id.cmp(&b.instance_id));
    if wanted.is_empty() && succeeded.is_empty() && failed.is_empty() {
        context.ui.note("no instances to report on (organizations and suspended instances are left out)");
    }
    Ok(Outcome { succeeded, failed })
}
