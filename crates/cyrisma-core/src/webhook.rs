//! Webhook delivery signatures: signing, verification and duplicate detection (PROVISIONAL).
//!
//! CYRISMA publishes no webhook wire format; this follows the project's provisional contract
//! \[ASSUMED\]. A delivery is a `POST` of a JSON [`WebhookEvent`] with the header
//!
//! ```text
//! Cyrisma-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<raw body>">
//! ```
//!
//! keyed with the registration's signing secret (shown once, when the webhook is created).
//! A receiver:
//!
//! 1. refuses a body over [`MAX_BODY_BYTES`] before computing anything;
//! 2. verifies the signature over the **raw bytes**, before any JSON parsing, comparing in
//!    constant time ([`verify`], or a [`Verifier`] for other limits or several secrets);
//! 3. refuses a timestamp more than [`WEBHOOK_TOLERANCE`] (300 s) away from its clock, in either
//!    direction (300 s is accepted, 301 s is not);
//! 4. parses the envelope ([`parse_event`]; [`Verifier::verify_event`] does 1 to 4 in one call);
//! 5. drops an event `id` it has already seen ([`DuplicateFilter`]).
//!
//! The header may carry several `v1=` entries (the sender signs with an old and a new secret
//! during a rotation): one match is enough. Entries of other schemes (`v0=`, `v2=`) are ignored.
//! The timestamp is decimal digits only (no sign), signed exactly as sent; a `v1` value is
//! exactly 64 lower-case hex digits, so that a signature has one spelling and every altered
//! character of the header is refused.
//! Time is always a parameter: this module reads no clock.
//!
//! ```
//! use cyrisma_core::WebhookSecret;
//! use cyrisma_core::webhook::{sign, verify};
//!
//! let secret = WebhookSecret::new("whsec_test");
//! let body = br#"{"id":"evt_1","type":"scan.completed","data":{}}"#;
//! let header = sign(&secret, 1_700_000_000, body);
//! assert!(verify(&secret, &header, body, 1_700_000_100).is_ok());
//! assert!(verify(&secret, &header, b"{}", 1_700_000_100).is_err());
//! ```

use std::collections::{HashMap, VecDeque};
use std::time::Duration;

use hmac::{Hmac, Mac};
use sha2::Sha256;

pub use crate::assumed::{WEBHOOK_SIGNATURE_HEADER, WEBHOOK_TOLERANCE};
use crate::secret::WebhookSecret;
use crate::types::WebhookEvent;
use crate::wire::{self, FieldError};

/// The largest webhook body verified (1 MiB); a larger one is refused before the HMAC.
pub const MAX_BODY_BYTES: usize = 1024 * 1024;

/// The signature scheme this version produces and checks.
pub const SIGNATURE_SCHEME: &str = "v1";

/// The longest `Cyrisma-Signature` value read; a longer one is malformed.
pub const MAX_HEADER_LEN: usize = 8 * 1024;

/// How long [`DuplicateFilter::default`] remembers event ids.
pub const DUPLICATE_WINDOW: Duration = Duration::from_secs(24 * 60 * 60);

/// How many event ids [`DuplicateFilter::default`] remembers at most.
pub const DUPLICATE_CAPACITY: usize = 100_000;

/// The length of an HMAC-SHA256 tag in bytes.
const TAG_LEN: usize = 32;

/// The longest timestamp accepted, in digits (`u64::MAX` has 20).
const MAX_TIMESTAMP_DIGITS: usize = 19;

type HmacSha256 = Hmac<Sha256>;

/// Why a webhook delivery was refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SignatureError {
    /// The body is over the size limit; nothing was computed.
    #[error("the webhook body is {size} bytes, over the {limit}-byte limit: it was not verified")]
    BodyTooLarge {
        /// The body's size.
        size: usize,
        /// The limit.
        limit: usize,
    },
    /// The signing secret is empty, which would accept anyone's signature.
    #[error("the webhook signing secret is empty: configure the secret shown when the webhook was created")]
    EmptySecret,
    /// The header cannot be read.
    #[error("the `Cyrisma-Signature` header is malformed: {reason}")]
    MalformedHeader {
        /// What is wrong with it.
        reason: &'static str,
    },
    /// The header has no `v1=` entry (perhaps only schemes this version does not know).
    #[error("the `Cyrisma-Signature` header carries no `v1` signature")]
    NoSignature,
    /// The timestamp is older than the tolerance allows: a delayed or replayed delivery.
    #[error(
        "the webhook timestamp is {age_secs} s old, beyond the {tolerance_secs} s tolerance: drop the delivery (it may be a replay)"
    )]
    TooOld {
        /// How old the timestamp is.
        age_secs: u64,
        /// The tolerance.
        tolerance_secs: u64,
    },
    /// The timestamp is further in the future than the tolerance allows.
    #[error(
        "the webhook timestamp is {ahead_secs} s in the future, beyond the {tolerance_secs} s tolerance: check this machine's clock"
    )]
    InFuture {
        /// How far ahead the timestamp is.
        ahead_secs: u64,
        /// The tolerance.
        tolerance_secs: u64,
    },
    /// No `v1` signature matches.
    #[error(
        "no `v1` signature matches the body: check the signing secret, and verify the raw body bytes before any parsing"
    )]
    Mismatch,
}

/// Why [`Verifier::verify_event`] refused a delivery.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum WebhookError {
    /// The signature check failed; the body was not parsed.
    #[error(transparent)]
    Signature(#[from] SignatureError),
    /// The signature is valid but the body is not an event envelope.
    #[error("the verified webhook body is not an event envelope: {}", describe(.path.as_deref(), .message))]
    Payload {
        /// The path of the failing field, if known.
        path: Option<String>,
        /// What went wrong (quoted values removed).
        message: String,
    },
}

fn describe(path: Option<&str>, message: &str) -> String {
    match path {
        Some(path) => format!("field `{path}`: {message}"),
        None => message.to_owned(),
    }
}

impl From<FieldError> for WebhookError {
    fn from(error: FieldError) -> Self {
        WebhookError::Payload { path: error.path, message: error.message }
    }
}

/// The timestamp of a delivery whose signature was verified.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct VerifiedTimestamp(u64);

impl VerifiedTimestamp {
    /// The signed timestamp, in Unix seconds.
    pub fn unix_secs(self) -> u64 {
        self.0
    }
}

/// Computes the `Cyrisma-Signature` header value for a body: `t=<timestamp>,v1=<hex>`.
///
/// This is what the sender (the emulator, or a test) does; receivers call [`verify`].
pub fn sign(secret: &WebhookSecret, timestamp_secs: u64, body: &[u8]) -> String {
    let timestamp = timestamp_secs.to_string();
    let tag = signed_payload_mac(secret, &timestamp, body).finalize().into_bytes();
    format!("t={timestamp},{SIGNATURE_SCHEME}={}", hex::encode(tag))
}

/// Verifies a delivery with the default limits (300 s tolerance, 1 MiB body): `header_value` is
/// the `Cyrisma-Signature` value, `body` the raw bytes as received, `now_unix_secs` the
/// receiver's clock.
pub fn verify(
    secret: &WebhookSecret,
    header_value: &str,
    body: &[u8],
    now_unix_secs: u64,
) -> Result<VerifiedTimestamp, SignatureError> {
    Verifier::new().verify(secret, header_value, body, now_unix_secs)
}

/// Parses a delivery's body into the event envelope. Call it only on a body [`verify`] accepted.
pub fn parse_event(body: &[u8]) -> Result<WebhookEvent, FieldError> {
    wire::from_slice(body)
}

/// Verifies deliveries with configurable limits.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Verifier {
    tolerance: Duration,
    max_body_bytes: usize,
}

impl Default for Verifier {
    fn default() -> Self {
        Self { tolerance: WEBHOOK_TOLERANCE, max_body_bytes: MAX_BODY_BYTES }
    }
}

impl Verifier {
    /// A verifier with the contract's limits: [`WEBHOOK_TOLERANCE`] and [`MAX_BODY_BYTES`].
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets how far (in whole seconds, either direction) a timestamp may be from now.
    pub fn with_tolerance(mut self, tolerance: Duration) -> Self {
        self.tolerance = tolerance;
        self
    }

    /// Sets the largest body verified.
    pub fn with_max_body_bytes(mut self, max_body_bytes: usize) -> Self {
        self.max_body_bytes = max_body_bytes;
        self
    }

    /// The timestamp tolerance.
    pub fn tolerance(&self) -> Duration {
        self.tolerance
    }

    /// The largest body verified.
    pub fn max_body_bytes(&self) -> usize {
        self.max_body_bytes
    }

    /// Verifies a delivery against one signing secret.
    pub fn verify(
        &self,
        secret: &WebhookSecret,
        header_value: &str,
        body: &[u8],
        now_unix_secs: u64,
    ) -> Result<VerifiedTimestamp, SignatureError> {
        self.verify_with_any(std::slice::from_ref(secret), header_value, body, now_unix_secs)
    }

    /// Verifies a delivery against several signing secrets (the receiver's side of a rotation):
    /// any `v1` signature made with any of them is accepted.
    pub fn verify_with_any(
        &self,
        secrets: &[WebhookSecret],
        header_value: &str,
        body: &[u8],
        now_unix_secs: u64,
    ) -> Result<VerifiedTimestamp, SignatureError> {
        if body.len() > self.max_body_bytes {
            return Err(SignatureError::BodyTooLarge { size: body.len(), limit: self.max_body_bytes });
        }
        if secrets.is_empty() || secrets.iter().any(WebhookSecret::is_empty) {
            return Err(SignatureError::EmptySecret);
        }
        let header = parse_header(header_value)?;
        self.check_timestamp(header.timestamp, now_unix_secs)?;
        for secret in secrets {
            let mac = signed_payload_mac(secret, header.timestamp_text, body);
            // `verify_slice` compares in constant time.
            if header.signatures.iter().any(|tag| mac.clone().verify_slice(tag).is_ok()) {
                return Ok(VerifiedTimestamp(header.timestamp));
            }
        }
        Err(SignatureError::Mismatch)
    }

    /// Verifies a delivery, then parses its envelope: the body is parsed only once its
    /// signature and timestamp are accepted.
    pub fn verify_event(
        &self,
        secret: &WebhookSecret,
        header_value: &str,
        body: &[u8],
        now_unix_secs: u64,
    ) -> Result<WebhookEvent, WebhookError> {
        self.verify(secret, header_value, body, now_unix_secs)?;
        Ok(parse_event(body)?)
    }

    fn check_timestamp(&self, timestamp: u64, now: u64) -> Result<(), SignatureError> {
        let tolerance_secs = self.tolerance.as_secs();
        if timestamp <= now {
            let age_secs = now - timestamp;
            if age_secs > tolerance_secs {
                return Err(SignatureError::TooOld { age_secs, tolerance_secs });
            }
        } else {
            let ahead_secs = timestamp - now;
            if ahead_secs > tolerance_secs {
                return Err(SignatureError::InFuture { ahead_secs, tolerance_secs });
            }
        }
        Ok(())
    }
}

/// The parts of a `Cyrisma-Signature` value.
struct SignatureHeader<'a> {
    /// The timestamp exactly as sent (it is what was signed).
    timestamp_text: &'a str,
    timestamp: u64,
    signatures: Vec<[u8; TAG_LEN]>,
}

/// Reads `t=<digits>,v1=<64 lower-case hex>[,v1=...][,<other>=...]`. Entries are separated by commas and
/// may be surrounded by white space; empty entries are skipped; unknown keys are ignored.
fn parse_header(value: &str) -> Result<SignatureHeader<'_>, SignatureError> {
    let malformed = |reason| SignatureError::MalformedHeader { reason };
    if value.len() > MAX_HEADER_LEN {
        return Err(malformed("it is longer than 8 KiB"));
    }
    let mut timestamp = None;
    let mut signatures = Vec::new();
    for entry in value.split(',').map(str::trim).filter(|entry| !entry.is_empty()) {
        let (key, item) = entry.split_once('=').ok_or(malformed("an entry is not `key=value`"))?;
        match key.trim() {
            "t" => {
                if timestamp.is_some() {
                    return Err(malformed("it has more than one timestamp (`t=`)"));
                }
                let text = item.trim();
                let valid = !text.is_empty()
                    && text.len() <= MAX_TIMESTAMP_DIGITS
                    && text.bytes().all(|byte| byte.is_ascii_digit());
                let seconds = valid.then(|| text.parse::<u64>().ok()).flatten();
                let seconds = seconds.ok_or(malformed("the timestamp (`t=`) is not a whole number of unix seconds"))?;
                timestamp = Some((text, seconds));
            }
            SIGNATURE_SCHEME => {
                // Only the canonical lower-case form: a signature has exactly one spelling.
                let text = item.trim();
                let mut tag = [0u8; TAG_LEN];
                let lower_hex = text.bytes().all(|byte| byte.is_ascii_digit() || (b'a'..=b'f').contains(&byte));
                let decoded = lower_hex && hex::decode_to_slice(text, &mut tag).is_ok();
                if !decoded {
                    return Err(malformed("a `v1` signature is not 64 lower-case hexadecimal digits"));
                }
                signatures.push(tag);
            }
            _ => {}
        }
    }
    let (timestamp_text, timestamp) = timestamp.ok_or(malformed("it has no timestamp (`t=`)"))?;
    if signatures.is_empty() {
        return Err(SignatureError::NoSignature);
    }
    Ok(SignatureHeader { timestamp_text, timestamp, signatures })
}

/// The HMAC-SHA256 state over `"<timestamp>.<body>"`, ready to finalize or verify.
fn signed_payload_mac(secret: &WebhookSecret, timestamp: &str, body: &[u8]) -> HmacSha256 {
    let mut mac = match HmacSha256::new_from_slice(secret.expose_secret().as_bytes()) {
        Ok(mac) => mac,
        // Invariant: HMAC takes keys of any length (long keys are hashed), so this never fails.
        Err(_) => unreachable!("hmac accepts keys of any length"),
    };
    mac.update(timestamp.as_bytes());
    mac.update(b".");
    mac.update(body);
    mac
}

/// Remembers the event ids seen within a time window, to drop duplicate deliveries.
///
/// Memory is bounded: once `capacity` ids are remembered, the oldest is forgotten first (a
/// duplicate of it would then pass). Time is a parameter, in Unix seconds.
#[derive(Clone, Debug)]
pub struct DuplicateFilter {
    window_secs: u64,
    capacity: usize,
    seen: HashMap<String, u64>,
    order: VecDeque<(u64, String)>,
}

impl Default for DuplicateFilter {
    /// Remembers [`DUPLICATE_CAPACITY`] ids for [`DUPLICATE_WINDOW`] (24 hours).
    fn default() -> Self {
        Self::new(DUPLICATE_WINDOW, DUPLICATE_CAPACITY)
    }
}

impl DuplicateFilter {
    /// A filter remembering up to `capacity` ids (at least one) for `window`.
    pub fn new(window: Duration, capacity: usize) -> Self {
        Self { window_secs: window.as_secs(), capacity: capacity.max(1), seen: HashMap::new(), order: VecDeque::new() }
    }

    /// Records that event `id` arrived at `now_unix_secs`. Returns `true` the first time within
    /// the window (process the event) and `false` for a duplicate (drop it).
    pub fn first_delivery(&mut self, id: &str, now_unix_secs: u64) -> bool {
        self.expire(now_unix_secs);
        if self.seen.contains_key(id) {
            return false;
        }
        while self.order.len() >= self.capacity {
            self.forget_oldest();
        }
        self.seen.insert(id.to_owned(), now_unix_secs);
        self.order.push_back((now_unix_secs, id.to_owned()));
        true
    }

    /// How many ids are remembered.
    pub fn len(&self) -> usize {
        self.seen.len()
    }

    /// Whether no id is remembered.
    pub fn is_empty(&self) -> bool {
        self.seen.is_empty()
    }

    fn expire(&mut self, now: u64) {
        while self.order.front().is_some_and(|(seen_at, _)| now.saturating_sub(*seen_at) > self.window_secs) {
            self.forget_oldest();
        }
    }

    fn forget_oldest(&mut self) {
        if let Some((_, id)) = self.order.pop_front() {
            self.seen.remove(&id);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_parsing_is_liberal_about_spacing_and_strict_about_values() {
        let tag = "ab".repeat(32);
        let value = format!(" t=12 , v0=zz ,v1={tag},, ");
        let header = parse_header(&value).ok().unwrap();
        assert_eq!((header.timestamp_text, header.timestamp, header.signatures.len()), ("12", 12, 1));
        for bad in ["t=+12,v1=00", "t=1,t=2", "v1=00", "t", "t=12,v1=xyz", &format!("t=1a,v1={tag}")] {
            assert!(parse_header(bad).is_err(), "{bad}");
        }
        assert_eq!(parse_header("t=1,v2=00").err(), Some(SignatureError::NoSignature));
    }

    #[test]
    fn duplicate_filter_forgets_after_the_window_and_at_capacity() {
        let mut filter = DuplicateFilter::new(Duration::from_secs(10), 2);
        assert!(filter.first_delivery("a", 100));
        assert!(!filter.first_delivery("a", 110));
        assert!(filter.first_delivery("a", 111));
        assert!(filter.first_delivery("b", 111));
        assert!(filter.first_delivery("c", 111));
        assert_eq!(filter.len(), 2);
        assert!(filter.first_delivery("a", 112), "the oldest id was forgotten at capacity");
    }
}
