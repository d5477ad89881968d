//! The state every connection of the emulator shares ([`Shared`]): the contract state, faults
//! and logs, requests in flight, the report generator and the webhook dispatcher. The server, the
//! endpoint handlers and the control API all use it; it uses none of them.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use cyrisma_core::endpoint::HostKind;
use tokio::sync::watch;

use crate::admin::Admin;
use crate::failure::ApiFailure;
use crate::inflight::{InFlight, InFlightGuard};
use crate::reporting::Generator;
use crate::state::State;
use crate::timeline::{Advanced, MAX_ADVANCE_DAYS};
use crate::webhook::Dispatcher;

/// Everything the connections share.
pub(crate) struct Shared {
    state: Mutex<State>,
    admin: Mutex<Admin>,
    in_flight: Arc<Mutex<InFlight>>,
    pub(crate) generator: Generator,
    pub(crate) domain: String,
    pub(crate) central_host: String,
    pub(crate) partner_id: String,
    pub(crate) provisioning_delay: Duration,
    pub(crate) close_after_response: AtomicBool,
    pub(crate) webhooks: Dispatcher,
    requests: AtomicU64,
    pub(crate) shutdown: watch::Receiver<bool>,
}

impl Shared {
    /// Moves the clock `days` forward and gives every active instance a new period of scans.
    /// With `churn` off the new scans show the same findings as the instance's latest ones (a
    /// rescan: only scan ids, scores, titles and order change).
    pub(crate) fn advance(&self, days: u32, churn: bool) -> Result<Advanced, ApiFailure> {
        if days == 0 || days > MAX_ADVANCE_DAYS {
            return Err(ApiFailure::invalid("days", format!("days must be between 1 and {MAX_ADVANCE_DAYS}")));
        }
        let (period, days_advanced, instances) = self.state().advance(days, churn, Instant::now());
        let today = crate::clock::date(self.generator.anchor + days_advanced * 86_400);
        Ok(Advanced { period, days_advanced, today, instances })
    }

    pub(crate) fn new(
        state: State,
        generator: Generator,
        domain: String,
        provisioning_delay: Duration,
        webhooks: Dispatcher,
        shutdown: watch::Receiver<bool>,
    ) -> Self {
        let partner_id = state.settings.partner_id.clone();
        Self {
            state: Mutex::new(state),
            admin: Mutex::new(Admin::default()),
            in_flight: Arc::new(Mutex::new(InFlight::default())),
            generator,
            central_host: format!("api.{domain}"),
            domain,
            partner_id,
            provisioning_delay,
            close_after_response: AtomicBool::new(false),
            webhooks,
            requests: AtomicU64::new(0),
            shutdown,
        }
    }

    /// The state, locked. A panic while it was held (never expected) does not poison it for good.
    pub(crate) fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Faults, counters and the log, locked.
    pub(crate) fn admin(&self) -> MutexGuard<'_, Admin> {
        self.admin.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Requests in flight, locked.
    pub(crate) fn in_flight(&self) -> MutexGuard<'_, InFlight> {
        self.in_flight.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Counts one request in flight for `host` until the guard is dropped.
    pub(crate) fn enter_in_flight(&self, host: &str) -> InFlightGuard {
        InFlightGuard::enter(&self.in_flight, host)
    }

    /// Emits `instance.provisioned` when a created instance's delay has passed.
    pub(crate) fn schedule_provisioning(self: &Arc<Self>, id: &str) {
        if self.provisioning_delay.is_zero() {
            self.flush_events();
            return;
        }
        let shared = Arc::clone(self);
        let id = id.to_owned();
        let mut shutdown = self.shutdown.clone();
        self.webhooks.runtime().spawn(async move {
            tokio::select! {
                () = tokio::time::sleep(shared.provisioning_delay) => {
                    shared.state().provisioned(&id);
                    shared.flush_events();
                }
                _ = shutdown.changed() => {}
            }
        });
    }

    /// Sends the events produced by state changes to the webhook receivers.
    pub(crate) fn flush_events(&self) {
        let deliveries = {
            let mut state = self.state();
            let events = state.take_events();
            events
                .into_iter()
                .map(|event| {
                    let hooks = state.webhooks_for(&event.event_type);
                    (event, hooks)
                })
                .collect::<Vec<_>>()
        };
        for (event, hooks) in deliveries {
            if !hooks.is_empty() {
                self.webhooks.deliver(&self.partner_id, event, hooks);
            }
        }
    }

    /// Adds a completed vulnerability scan to an instance and emits `scan.completed`.
    pub(crate) fn trigger_scan(&self, instance_id: &str, scan_type: u8) -> Result<String, ApiFailure> {
        let (index, target) = self.state().add_scan(instance_id, scan_type)?;
        let plan = self
            .generator
            .vulnerability_plans(&target)
            .into_iter()
            .find(|plan| plan.index == index)
            .ok_or_else(|| ApiFailure::not_found("the new scan could not be found"))?;
        let summary = self.generator.vulnerability_scan(&target, &plan);
        let data = serde_json::to_value(&summary).unwrap_or_default();
        self.state().scan_completed(&target.id, data);
        self.flush_events();
        Ok(plan.id)
    }

    /// The id of the next request (1, 2, ...).
    pub(crate) fn next_request_id(&self) -> u64 {
        self.requests.fetch_add(1, Ordering::Relaxed) + 1
    }

    /// Which host a `Host` value names: central, an instance (with its label), or neither.
    pub(crate) fn classify(&self, host: &str) -> Option<(HostKind, Option<String>)> {
        if host == self.central_host {
            return Some((HostKind::Central, None));
        }
        let label = host.strip_suffix(&self.domain)?.strip_suffix('.')?;
        if label.is_empty() || label.contains('.') || !self.state().has_host(label) {
            return None;
        }
        Some((HostKind::Instance, Some(label.to_owned())))
    }
}
