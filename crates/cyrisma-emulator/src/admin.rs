//! Fault injection, request counters and the request log: the data behind the admin API
//! (`/__emulator/...` on the central host) and the handle's admin methods.
//!
//! A [`Fault`] is scoped to an endpoint name (the core's `Metadata.name`, such as
//! `scans.get_vulnerability_scan`) or `*`, lets the first `skip` matching requests through, and
//! then affects `times` requests (every one when `times` is absent).

use std::collections::{BTreeMap, VecDeque};

use serde::{Deserialize, Serialize};

/// The most request records kept (the oldest are dropped first).
pub const REQUEST_LOG_CAPACITY: usize = 10_000;

/// A fault to inject.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Fault {
    /// The endpoint name it applies to, or `*` for every API endpoint.
    #[serde(default = "any_endpoint")]
    pub endpoint: String,
    /// Only requests to this host (`cc100004.cyrisma.test`, or just the instance id `cc100004`);
    /// every host when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host: Option<String>,
    /// How many matching requests to let through before the fault starts.
    #[serde(default)]
    pub skip: u32,
    /// How many requests it affects; every matching request when `None`.
    #[serde(default)]
    pub times: Option<u32>,
    /// What it does.
    #[serde(flatten)]
    pub kind: FaultKind,
}

fn any_endpoint() -> String {
    "*".to_owned()
}

/// What a fault does.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
#[non_exhaustive]
pub enum FaultKind {
    /// Waits this long before handling the request.
    Latency {
        /// Milliseconds.
        ms: u64,
    },
    /// Answers with this status and the contract's error body, without handling the request
    /// (nothing changes). `429` and `503` carry `Retry-After` (default `"1"`); `401` is
    /// `invalid_token`.
    Status {
        /// The status code.
        status: u16,
        /// The `Retry-After` value (seconds or an HTTP date).
        #[serde(default)]
        retry_after: Option<String>,
    },
    /// Expires every access and refresh token, then handles the request.
    ExpireTokens,
    /// Handles the request (the change is committed), then closes the connection without an
    /// answer: an ambiguous outcome.
    DropAfterCommit,
    /// Handles the request, then sends only the first `keep` bytes of the body (half when absent).
    /// With `complete` the message is well-formed (`Content-Length` is the cut length); otherwise
    /// the full length is announced and the connection is closed early.
    TruncatedBody {
        /// Bytes of the body to send.
        #[serde(default)]
        keep: Option<usize>,
        /// Whether the cut body is sent as a complete message.
        #[serde(default)]
        complete: bool,
    },
    /// Answers `200` with a valid JSON document of exactly `bytes` bytes (streamed), instead of
    /// the real answer. The request is handled first.
    OversizedBody {
        /// Size of the body.
        bytes: u64,
    },
    /// Answers `200` with JSON nested `depth` levels deep (`[[[…]]]`) instead of the real answer.
    /// The request is handled first.
    DeepJson {
        /// Nesting depth.
        depth: usize,
    },
}

impl Fault {
    /// A fault on every endpoint, every time.
    pub fn new(kind: FaultKind) -> Self {
        Self { endpoint: any_endpoint(), host: None, skip: 0, times: None, kind }
    }

    /// Limits it to one endpoint (core `Metadata.name`).
    pub fn on(mut self, endpoint: impl Into<String>) -> Self {
        self.endpoint = endpoint.into();
        self
    }

    /// Limits it to one host: a host name or an instance id.
    pub fn at_host(mut self, host: impl Into<String>) -> Self {
        self.host = Some(host.into());
        self
    }

    /// Lets `skip` matching requests through first.
    pub fn skip(mut self, skip: u32) -> Self {
        self.skip = skip;
        self
    }

    /// Affects `times` requests, then stops.
    pub fn times(mut self, times: u32) -> Self {
        self.times = Some(times);
        self
    }

    /// Added latency.
    pub fn latency(ms: u64) -> Self {
        Self::new(FaultKind::Latency { ms })
    }

    /// A status answer (`429`, `500`, `503`, `401`, ...).
    pub fn status(status: u16) -> Self {
        Self::new(FaultKind::Status { status, retry_after: None })
    }

    /// `429` with `Retry-After`.
    pub fn rate_limited(retry_after: impl Into<String>) -> Self {
        Self::new(FaultKind::Status { status: 429, retry_after: Some(retry_after.into()) })
    }

    /// `503` with `Retry-After`.
    pub fn unavailable(retry_after: impl Into<String>) -> Self {
        Self::new(FaultKind::Status { status: 503, retry_after: Some(retry_after.into()) })
    }

    /// A `401 invalid_token` on the `n`th request (1-based) to an endpoint, once.
    pub fn unauthorized_on_nth(endpoint: impl Into<String>, n: u32) -> Self {
        Self::status(401).on(endpoint).skip(n.saturating_sub(1)).times(1)
    }

    /// Expire all tokens when a matching request arrives.
    pub fn expire_tokens() -> Self {
        Self::new(FaultKind::ExpireTokens)
    }

    /// Commit, then close the connection without answering.
    pub fn drop_after_commit() -> Self {
        Self::new(FaultKind::DropAfterCommit)
    }

    /// A truncated body.
    pub fn truncated_body(keep: Option<usize>, complete: bool) -> Self {
        Self::new(FaultKind::TruncatedBody { keep, complete })
    }

    /// An oversized body.
    pub fn oversized_body(bytes: u64) -> Self {
        Self::new(FaultKind::OversizedBody { bytes })
    }

    /// Deeply nested JSON.
    pub fn deep_json(depth: usize) -> Self {
        Self::new(FaultKind::DeepJson { depth })
    }
}

/// A fault as registered, with its id and how often it has matched and fired.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct FaultInfo {
    /// The id (for removal).
    pub id: u64,
    /// The fault.
    #[serde(flatten)]
    pub fault: Fault,
    /// Matching requests seen.
    pub seen: u64,
    /// Requests it affected.
    pub fired: u64,
}

/// One request, as logged. It never holds a secret, a token or a password: the query string keeps
/// only parameter names that cannot carry one, and the token appears as its generation number.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct RequestRecord {
    /// Sequence number (1-based, never reset).
    pub seq: u64,
    /// HTTP method.
    pub method: String,
    /// The host the request named (`api.cyrisma.test`, `cc100004.cyrisma.test`).
    pub host: String,
    /// The path, with a query string whose sensitive values are redacted.
    pub path: String,
    /// The endpoint name, or `unrouted`.
    pub endpoint: String,
    /// The status sent (`0` when the connection was closed without an answer).
    pub status: u16,
    /// The generation of the access token presented (1 for the first login, ...), if it was one
    /// the emulator issued.
    pub token_generation: Option<u64>,
    /// The kinds of the faults that fired.
    pub faults: Vec<String>,
}

/// The name used for requests that match no endpoint.
pub const UNROUTED: &str = "unrouted";

#[derive(Clone, Debug)]
struct ActiveFault {
    info: FaultInfo,
}

/// Faults, counters and the log.
#[derive(Debug, Default)]
pub(crate) struct Admin {
    faults: Vec<ActiveFault>,
    next_fault: u64,
    counters: BTreeMap<String, u64>,
    log: VecDeque<RequestRecord>,
    next_seq: u64,
}

/// The faults that fire for one request, in registration order.
#[derive(Clone, Debug, Default)]
pub(crate) struct Fired {
    pub(crate) kinds: Vec<FaultKind>,
}

impl Fired {
    pub(crate) fn latency_ms(&self) -> u64 {
        self.kinds.iter().map(|kind| if let FaultKind::Latency { ms } = kind { *ms } else { 0 }).sum()
    }

    pub(crate) fn expire_tokens(&self) -> bool {
        self.kinds.iter().any(|kind| matches!(kind, FaultKind::ExpireTokens))
    }

    pub(crate) fn status(&self) -> Option<(u16, Option<String>)> {
        self.kinds.iter().find_map(|kind| match kind {
            FaultKind::Status { status, retry_after } => Some((*status, retry_after.clone())),
            _ => None,
        })
    }

    pub(crate) fn drop_after_commit(&self) -> bool {
        self.kinds.iter().any(|kind| matches!(kind, FaultKind::DropAfterCommit))
    }

    /// The first body-mangling fault.
    pub(crate) fn body(&self) -> Option<&FaultKind> {
        self.kinds.iter().find(|kind| {
            matches!(
                kind,
                FaultKind::TruncatedBody { .. } | FaultKind::OversizedBody { .. } | FaultKind::DeepJson { .. }
            )
        })
    }

    pub(crate) fn names(&self) -> Vec<String> {
        self.kinds.iter().map(|kind| kind_name(kind).to_owned()).collect()
    }
}

fn kind_name(kind: &FaultKind) -> &'static str {
    match kind {
        FaultKind::Latency { .. } => "latency",
        FaultKind::Status { .. } => "status",
        FaultKind::ExpireTokens => "expire_tokens",
        FaultKind::DropAfterCommit => "drop_after_commit",
        FaultKind::TruncatedBody { .. } => "truncated_body",
        FaultKind::OversizedBody { .. } => "oversized_body",
        FaultKind::DeepJson { .. } => "deep_json",
    }
}

impl Admin {
    /// Registers a fault.
    pub(crate) fn add_fault(&mut self, fault: Fault) -> u64 {
        self.next_fault += 1;
        let id = self.next_fault;
        self.faults.push(ActiveFault { info: FaultInfo { id, fault, seen: 0, fired: 0 } });
        id
    }

    /// Removes a fault.
    pub(crate) fn remove_fault(&mut self, id: u64) -> bool {
        let before = self.faults.len();
        self.faults.retain(|fault| fault.info.id != id);
        before != self.faults.len()
    }

    /// Every fault.
    pub(crate) fn faults(&self) -> Vec<FaultInfo> {
        self.faults.iter().map(|fault| fault.info.clone()).collect()
    }

    /// Removes every fault.
    pub(crate) fn clear_faults(&mut self) {
        self.faults.clear();
    }

    /// Counts a request to an endpoint on a host and decides which faults fire for it.
    pub(crate) fn arrive(&mut self, endpoint: &str, host: &str) -> Fired {
        *self.counters.entry(endpoint.to_owned()).or_default() += 1;
        let mut fired = Fired::default();
        if endpoint == UNROUTED {
            return fired;
        }
        for fault in &mut self.faults {
            let info = &mut fault.info;
            if info.fault.endpoint != "*" && info.fault.endpoint != endpoint {
                continue;
            }
            let label = host.split('.').next().unwrap_or_default();
            if info
                .fault
                .host
                .as_deref()
                .is_some_and(|wanted| !wanted.eq_ignore_ascii_case(host) && !wanted.eq_ignore_ascii_case(label))
            {
                continue;
            }
            info.seen += 1;
            if info.seen <= u64::from(info.fault.skip) {
                continue;
            }
            if info.fault.times.is_some_and(|times| info.fired >= u64::from(times)) {
                continue;
            }
            info.fired += 1;
            fired.kinds.push(info.fault.kind.clone());
        }
        fired
    }

    /// Appends a record to the log.
    pub(crate) fn record(&mut self, mut record: RequestRecord) {
        self.next_seq += 1;
        record.seq = self.next_seq;
        if self.log.len() >= REQUEST_LOG_CAPACITY {
            self.log.pop_front();
        }
        self.log.push_back(record);
    }

    /// The counters by endpoint name.
    pub(crate) fn counters(&self) -> BTreeMap<String, u64> {
        self.counters.clone()
    }

    /// The log, oldest first.
    pub(crate) fn requests(&self) -> Vec<RequestRecord> {
        self.log.iter().cloned().collect()
    }

    /// Clears the counters and the log.
    pub(crate) fn reset_counters(&mut self) {
        self.counters.clear();
        self.log.clear();
    }

    /// Clears faults, counters and the log.
    pub(crate) fn reset(&mut self) {
        self.clear_faults();
        self.reset_counters();
    }
}

/// Query parameters whose values may be logged; every other value is redacted.
const LOGGABLE_QUERY: &[&str] = &["instance_id", "assetType", "assetId", "assetIp", "cve_id", "scan_id"];

/// A path and query for the log: values of parameters not known to be harmless are redacted.
pub(crate) fn loggable_path(path: &str, query: Option<&str>) -> String {
    let Some(query) = query.filter(|query| !query.is_empty()) else {
        return path.to_owned();
    };
    let mut serializer = form_urlencoded::Serializer::new(String::new());
    for (key, value) in form_urlencoded::parse(query.as_bytes()) {
        if LOGGABLE_QUERY.iter().any(|name| name.eq_ignore_ascii_case(&key)) {
            serializer.append_pair(&key, &value);
        } else {
            serializer.append_pair(&key, "<redacted>");
        }
    }
    format!("{path}?{}", serializer.finish())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn faults_skip_and_stop() {
        let mut admin = Admin::default();
        admin.add_fault(Fault::unauthorized_on_nth("a.b", 3));
        let fired: Vec<bool> = (0..5).map(|_| admin.arrive("a.b", "api.x.test").status().is_some()).collect();
        assert_eq!(fired, [false, false, true, false, false]);
        assert!(admin.arrive("c.d", "api.x.test").status().is_none());
        assert_eq!(admin.counters()["a.b"], 5);
        let info = &admin.faults()[0];
        assert_eq!((info.seen, info.fired), (5, 1));
        admin.add_fault(Fault::status(503).at_host("cc100004"));
        assert!(admin.arrive("a.b", "cc100004.x.test").status().is_some());
        assert!(admin.arrive("a.b", "CC100004.x.test").status().is_some());
        assert!(admin.arrive("a.b", "cc100005.x.test").status().is_none());
    }

    #[test]
    fn fault_json_round_trips() {
        let fault: Fault = serde_json::from_str(
            r#"{"endpoint":"auth.login","times":2,"kind":"status","status":429,"retry_after":"3"}"#,
        )
        .unwrap();
        assert_eq!(fault, Fault::rate_limited("3").on("auth.login").times(2));
        let fault: Fault = serde_json::from_str(r#"{"kind":"drop_after_commit"}"#).unwrap();
        assert_eq!(fault, Fault::drop_after_commit());
        let text = serde_json::to_string(&Fault::deep_json(5)).unwrap();
        assert!(text.contains(r#""kind":"deep_json""#), "{text}");
    }

    #[test]
    fn log_paths_redact_unknown_query_values() {
        assert_eq!(
            loggable_path("/x", Some("assetType=internal&token=abc")),
            "/x?assetType=internal&token=%3Credacted%3E"
        );
        assert_eq!(loggable_path("/x", None), "/x");
    }
}
