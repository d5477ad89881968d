//! The hosts a client talks to: one connection pool per host (the central host's for the client's
//! whole life, the instance hosts' made on first use and dropped when done) and one [`HostGate`]
//! per host (its concurrency limit and back-pressure after `429`/`503`).
//!
//! A connection is driven by a task on the runtime that opened it (hyper's connection task). A
//! current-thread runtime runs its tasks only while some thread is in its `block_on`, so calls
//! made on one (a blocking front end driving every call on the caller's thread, with no hand-off
//! to a worker) get pools of their own: a connection parked there is never handed to a call on
//! another runtime, where nobody would drive it.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use bytes::Bytes;
use cyrisma_core::session::Timestamp;
use http_body_util::Full;
use hyper_util::client::legacy::Client as HyperClient;
use hyper_util::rt::{TokioExecutor, TokioTimer};
use tokio::runtime::{Handle, RuntimeFlavor};

use crate::connect::Connector;
use crate::gate::HostGate;
use crate::locks::lock;

/// A hyper client: one connection pool.
pub(crate) type Http = HyperClient<Connector, Full<Bytes>>;

/// At most this many instance hosts keep a pool (and so idle connections) at once, besides the
/// hosts of fan-out items in progress. A service that calls `client.instance(id)` for a thousand
/// instances outside a fan-out would otherwise keep a pool per instance host for the client's
/// whole life; past the cap the least recently used pool is dropped (a call still using it keeps
/// its own handle, so nothing in flight is cut). The pools of a fan-out's items in progress are
/// pinned instead: the fan-out drops each when its item completes ([`Hosts::release`]), and
/// evicting one mid-item would only cost a new connection (with 64 items in flight, every item's
/// second call used to open one).
pub(crate) const MAX_INSTANCE_POOLS: usize = 32;

/// The pools and gates of every host of one client.
pub(crate) struct Hosts {
    /// The pools of calls made on a multi-thread runtime (or outside any).
    shared: Pools,
    /// The pools of calls made on a current-thread runtime, made on first use.
    local: OnceLock<Pools>,
    /// Each host's concurrency limit and back-pressure after `429`/`503`.
    gates: Mutex<HashMap<String, Arc<HostGate>>>,
    connector: Connector,
    per_host: usize,
}

impl Hosts {
    /// The hosts reached through `connector`, each allowed `per_host` requests in flight.
    pub(crate) fn new(connector: Connector, per_host: usize) -> Self {
        Self {
            shared: Pools::new(&connector, per_host),
            local: OnceLock::new(),
            gates: Mutex::new(HashMap::new()),
            connector,
            per_host,
        }
    }

    /// The connector every pool shares.
    pub(crate) fn connector(&self) -> &Connector {
        &self.connector
    }

    /// The pools for a call made here: the current-thread runtime's own, or the shared ones.
    fn pools(&self) -> &Pools {
        let current_thread =
            Handle::try_current().is_ok_and(|runtime| runtime.runtime_flavor() == RuntimeFlavor::CurrentThread);
        if current_thread {
            self.local.get_or_init(|| Pools::new(&self.connector, self.per_host))
        } else {
            &self.shared
        }
    }

    /// The central host's pool, for a call made on the current runtime.
    pub(crate) fn central(&self) -> Http {
        self.pools().central.clone()
    }

    /// The pool of an instance host for a call made on the current runtime (made on first use;
    /// `in_fan_out` when a fan-out will release it).
    pub(crate) fn instance(&self, host_key: &str, in_fan_out: bool) -> Http {
        lock(&self.pools().instances)
            .get_or_make(host_key, in_fan_out, || http_client(&self.connector, self.per_host, !in_fan_out))
    }

    /// The gate of a host (made on first use).
    pub(crate) fn gate(&self, host_key: &str) -> Arc<HostGate> {
        lock(&self.gates).entry(host_key.to_owned()).or_insert_with(|| HostGate::new(self.per_host)).clone()
    }

    /// Drops the pool and the gate of an instance host nobody is using at `now` (its permits are
    /// all free): called when a fan-out item completes, so that idle sockets, their read buffers
    /// and hyper's per-connection state do not pile up with the number of instances (a
    /// 1,000-instance export once held 2,521 sockets). A call still between two attempts keeps
    /// the pool it holds; the next call to the host starts a new pool.
    pub(crate) fn release(&self, host_key: &str, now: Timestamp) {
        {
            let mut gates = lock(&self.gates);
            if let Some(gate) = gates.get(host_key) {
                // In use, or slowed down by a `429`/`503` that later calls must still honour:
                // keep both, but let the pool be evicted like any other from now on.
                if !gate.is_idle(now) {
                    drop(gates);
                    for pools in self.all() {
                        lock(&pools.instances).unpin(host_key);
                    }
                    return;
                }
                gates.remove(host_key);
            }
        }
        for pools in self.all() {
            let pool = lock(&pools.instances).remove(host_key);
            drop(pool);
        }
    }

    /// Both sets of pools (the current-thread ones if made).
    fn all(&self) -> impl Iterator<Item = &Pools> {
        std::iter::once(&self.shared).chain(self.local.get())
    }
}

/// The central host's pool and the instance hosts' pools of one kind of runtime.
struct Pools {
    /// The central host's pool.
    central: Http,
    /// One pool per instance host, dropped (with its idle connections, their buffers and hyper's
    /// per-connection channels) when a fan-out is done with the host (see [`Hosts::release`])
    /// or when it is the least recently used of more than [`MAX_INSTANCE_POOLS`].
    instances: Mutex<InstancePools>,
}

impl Pools {
    fn new(connector: &Connector, per_host: usize) -> Self {
        Self { central: http_client(connector, per_host, true), instances: Mutex::new(InstancePools::default()) }
    }
}

/// A hyper client (a connection pool) on the shared connector. `expiry` runs hyper's idle
/// timer (a task per pool) that closes connections idle for 60 s; a fan-out's instance pools do
/// without it, since the fan-out drops them as soon as their instance is done.
fn http_client(connector: &Connector, per_host: usize, expiry: bool) -> Http {
    let mut builder = HyperClient::builder(TokioExecutor::new());
    builder.timer(TokioTimer::new()).pool_idle_timeout(Duration::from_secs(60)).pool_max_idle_per_host(per_host);
    if expiry {
        builder.pool_timer(TokioTimer::new());
    }
    builder.build(connector.clone())
}

/// The instance hosts' pools with the order of their last use.
#[derive(Default)]
struct InstancePools {
    pools: HashMap<String, PoolEntry>,
    uses: u64,
}

struct PoolEntry {
    http: Http,
    last_use: u64,
    /// Used by a fan-out item in progress: never evicted; released when the item completes.
    pinned: bool,
}

impl InstancePools {
    /// The pool of `host_key`, made by `make` on first use (`pin`: for a fan-out item); drops the
    /// least recently used unpinned pool when there are more than [`MAX_INSTANCE_POOLS`].
    fn get_or_make(&mut self, host_key: &str, pin: bool, make: impl FnOnce() -> Http) -> Http {
        self.uses += 1;
        let uses = self.uses;
        if let Some(entry) = self.pools.get_mut(host_key) {
            entry.last_use = uses;
            entry.pinned |= pin;
            return entry.http.clone();
        }
        let http = make();
        self.pools.insert(host_key.to_owned(), PoolEntry { http: http.clone(), last_use: uses, pinned: pin });
        let unpinned = self.pools.values().filter(|entry| !entry.pinned);
        if unpinned.count() > MAX_INSTANCE_POOLS
            && let Some(oldest) = self
                .pools
                .iter()
                .filter(|(_, entry)| !entry.pinned)
                .min_by_key(|(_, entry)| entry.last_use)
                .map(|(key, _)| key.clone())
        {
            self.pools.remove(&oldest);
        }
        http
    }

    fn remove(&mut self, host_key: &str) -> Option<Http> {
        self.pools.remove(host_key).map(|entry| entry.http)
    }

    /// Makes a pool evictable again (a fan-out item that could not release it).
    fn unpin(&mut self, host_key: &str) {
        if let Some(entry) = self.pools.get_mut(host_key) {
            entry.pinned = false;
        }
    }
}
