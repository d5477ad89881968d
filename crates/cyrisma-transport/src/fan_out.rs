//! Fan-out: one operation over many instances, with bounded concurrency, streaming each
//! instance's result as it completes.
//!
//! The structure is listed once, the chosen instances are authenticated for reporting with the
//! all-instances form once (sent with the listing by a client that has not authenticated
//! instances yet, and again once per new token, as the session asks), and every
//! instance's operation runs on an [`InstanceClient`] that shares the client's pools, session and
//! concurrency limits. One instance failing never stops the others: its item carries the error.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use cyrisma_core::types::Instance;
use futures_util::stream::{self, BoxStream, Stream, StreamExt};

use crate::client::Client;
use crate::error::Error;
use crate::instance::InstanceClient;
use crate::target::InstanceScope;

/// Releases an instance host's pool and gate when dropped: at the end of its fan-out item, or
/// when the item is cancelled with the stream.
struct ReleaseHost {
    owner: Client,
    base: Option<cyrisma_core::BaseUrl>,
}

impl Drop for ReleaseHost {
    fn drop(&mut self) {
        if let Some(base) = &self.base {
            self.owner.inner.release_host(base);
        }
    }
}

/// The result of one instance in a fan-out.
#[non_exhaustive]
pub struct FanOutItem<T> {
    /// The instance id.
    pub instance_id: String,
    /// The instance's name, if the listing gave one.
    pub name: Option<String>,
    /// What the operation returned, or why the instance could not be reached.
    pub result: Result<T, Error>,
}

impl<T: fmt::Debug> fmt::Debug for FanOutItem<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FanOutItem")
            .field("instance_id", &self.instance_id)
            .field("name", &self.name)
            .field("result", &self.result)
            .finish()
    }
}

/// The stream of a fan-out's results, in order of completion. [`len`](Self::len) says how many
/// items it yields in all.
pub struct FanOut<T> {
    inner: BoxStream<'static, FanOutItem<T>>,
    len: usize,
    structure: Arc<Vec<Instance>>,
}

impl<T> FanOut<T> {
    /// How many instances the fan-out covers (items it yields in all).
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether the fan-out covers no instance.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The structure listing the fan-out chose its instances from: every organization and
    /// instance, chosen or not (no second listing needed for what the instances' results do not
    /// say).
    pub fn structure(&self) -> &Arc<Vec<Instance>> {
        &self.structure
    }
}

impl<T> Stream for FanOut<T> {
    type Item = FanOutItem<T>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.inner.as_mut().poll_next(cx)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        self.inner.size_hint()
    }
}

impl<T> fmt::Debug for FanOut<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FanOut").field("len", &self.len).finish_non_exhaustive()
    }
}

/// The default fan-out filter: standard instances (not organizations) that are not suspended.
pub fn is_reportable(instance: &Instance) -> bool {
    !instance.is_organization() && !instance.is_suspended()
}

impl Client {
    /// Runs `operation` for every instance of a fresh structure listing that `filter` accepts,
    /// at most `concurrency` at a time (and within the client's global and per-host limits),
    /// and streams each instance's result as it completes.
    ///
    /// Listing the structure is the only step whose failure fails the whole fan-out; after that,
    /// every chosen instance yields exactly one item. [`is_reportable`] is a sensible filter.
    ///
    /// ```no_run
    /// # async fn run(client: cyrisma_transport::Client) -> Result<(), cyrisma_transport::Error> {
    /// use futures_util::StreamExt;
    /// use cyrisma_transport::fan_out::is_reportable;
    ///
    /// let mut results = client.fan_out(is_reportable, 32, |instance| async move {
    ///     instance.dashboard_overall().await
    /// }).await?;
    /// while let Some(item) = results.next().await {
    ///     match item.result {
    ///         Ok(dashboard) => println!("{}: {:?}", item.instance_id, dashboard.current_or_grade),
    ///         Err(error) => eprintln!("{}: {error:#}", item.instance_id),
    ///     }
    /// }
    /// # Ok(())
    /// # }
    /// ```
    pub async fn fan_out<P, F, Fut, T>(&self, filter: P, concurrency: usize, operation: F) -> Result<FanOut<T>, Error>
    where
        P: Fn(&Instance) -> bool,
        F: Fn(InstanceClient) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<T, Error>> + Send + 'static,
        T: Send + 'static,
    {
        // The structure listing and the all-instances authentication both need only the access
        // token: sent at once, they cost one round trip instead of two (`docs/benchmarks.md`, H5).
        let (listed, ahead) =
            futures_util::future::join(self.inner.structure(true), self.inner.authenticate_all_ahead()).await;
        let listed = listed?;
        let structure = Arc::clone(&listed);
        let chosen: Vec<&Instance> = listed.iter().filter(|instance| filter(instance)).collect();
        let group: Arc<[String]> = chosen.iter().map(|instance| instance.instance_id.clone()).collect();
        let sent_ahead = ahead.is_some();
        if let Some(ahead) = ahead {
            self.inner.record_instances_ahead(ahead, &group);
        }
        let entries: Vec<(String, Option<String>, Result<InstanceClient, Error>)> = chosen
            .iter()
            .map(|instance| {
                let client = InstanceClient::resolved(self.clone(), instance, Some(group.clone()));
                (instance.instance_id.clone(), instance.name.clone(), client)
            })
            .collect();
        let concurrency = concurrency.max(1);
        // `concurrency` instances make their calls at once; the next `ahead` ones set up their
        // connection (TCP and TLS) meanwhile, without a permit, so that a permit freed by a
        // finished instance goes to one that can send at once: a handshake no longer holds a
        // slot in which no call is in flight (`docs/benchmarks.md`, H5).
        let ahead = concurrency.div_ceil(4);
        let authenticate = async {
            if let Some(first) = entries.iter().find(|(_, _, client)| client.is_ok()) {
                // One all-instances authentication up front; each operation re-checks by itself,
                // so a failure here is only logged.
                let scope = InstanceScope { id: &first.0, group: Some(&group) };
                if let Err(error) = self.inner.authenticate_instances(scope).await {
                    tracing::debug!(error = %error, "up-front instance authentication failed; each instance will try again");
                }
            }
        };
        if sent_ahead {
            // Nothing to wait for (the group's instances are authenticated already): each of the
            // first instances sets up its own connection and starts at once, instead of all
            // waiting for the slowest handshake of the first `concurrency + ahead`.
            authenticate.await;
        } else {
            // The first instances' connections are set up while the authentication is in flight.
            let first_bases: Vec<_> = entries
                .iter()
                .filter_map(|(_, _, client)| client.as_ref().ok()?.known_base())
                .take(concurrency + ahead)
                .collect();
            let prepare = futures_util::future::join_all(first_bases.iter().map(|base| self.inner.prepare_host(base)));
            futures_util::future::join(authenticate, prepare).await;
        }
        let len = entries.len();
        let operation = Arc::new(operation);
        let owner = self.clone();
        let permits = Arc::new(tokio::sync::Semaphore::new(concurrency));
        let inner = stream::iter(entries)
            .map(move |(instance_id, name, client)| {
                let operation = operation.clone();
                let owner = owner.clone();
                let permits = permits.clone();
                async move {
                    let result = match client {
                        Ok(client) => {
                            // When the instance's work is done (or abandoned with the stream), its
                            // host's pooled connections would only sit idle (with their read
                            // buffers) until the pool's timeout: release them.
                            let base = client.known_base();
                            let _release = ReleaseHost { owner: owner.clone(), base: base.clone() };
                            if let Some(base) = &base {
                                owner.inner.prepare_host(base).await;
                            }
                            // The semaphore is never closed.
                            let _permit = permits.acquire_owned().await.ok();
                            operation(client).await
                        }
                        Err(error) => Err(error),
                    };
                    FanOutItem { instance_id, name, result }
                }
            })
            .buffer_unordered(concurrency + ahead)
            .boxed();
        Ok(FanOut { inner, len, structure })
    }
}
