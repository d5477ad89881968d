//! The fuzz harness, shared by the cargo-fuzz targets (`fuzz/fuzz_targets/*.rs`) and by the
//! stable corpus replay (`crates/cyrisma-core/tests/fuzz_corpus.rs`), which both include this file
//! with `#[path]`: what libFuzzer explores and what CI replays is the same code.
//!
//! Every function takes the raw fuzz input and panics only when a promise of the core is broken:
//!
//! - [`responses`]: any status and body, for every endpoint (the input's first line names the
//!   endpoint and the status, see [`split_response_input`]) → a typed value or a typed
//!   `ResponseError`, never a panic; a decode error names its endpoint and says something;
//! - [`scan_detail`], [`asset_list`], [`instance_list`], [`webhook_event`]: the heavy models, read
//!   straight from the body; a value that parses survives serialize → parse unchanged;
//! - [`form_encoder`]: `Params` and the form-bearing requests built from arbitrary field values →
//!   never a panic; what is encoded always decodes back to the same pairs, and secrets never show
//!   in `Debug`;
//! - [`webhook_verify`]: arbitrary header, body, secret and clock → never a panic; a fresh
//!   signature over the same input verifies, and any changed body byte is refused.

use std::fmt::Debug;

use arbitrary::{Arbitrary, Unstructured};
use bytes::Bytes;
use cyrisma_core::api::{auth, instances, users, webhooks};
use cyrisma_core::endpoint::{Endpoint, Params};
use cyrisma_core::types::{Asset, Instance, InstanceType, MfaType, ScanDetail, WebhookEvent, WebhookEventType};
use cyrisma_core::{AccessToken, ApiSecret, BaseUrl, HostPolicy, ResponseError, WebhookSecret};

/// What a response parser did with an input.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Outcome {
    /// A typed value.
    Parsed,
    /// A typed error.
    Rejected,
}

/// One endpoint's parser, by endpoint name.
pub(crate) type Parser = fn(&http::Response<Bytes>) -> Outcome;

macro_rules! parsers {
    ($(($resource:ident, $endpoint:ident, $id:ident)),* $(,)?) => {
        /// Every endpoint's `parse_response`, in the order of `cyrisma_core::api::ENDPOINTS`
        /// (from `cyrisma_core::for_each_endpoint!`).
        pub(crate) const PARSERS: &[(&str, Parser)] = &[$((
            cyrisma_core::api::$resource::$endpoint::METADATA.name,
            parse::<cyrisma_core::api::$resource::$endpoint::Request>,
        )),*];
    };
}

cyrisma_core::for_each_endpoint!(parsers);

/// Statuses the `responses` target picks from (second input byte).
pub(crate) const STATUSES: &[u16] = &[200, 200, 200, 200, 201, 204, 400, 401, 403, 404, 409, 429, 500, 502, 503, 302];

/// Runs one endpoint's `parse_response` and checks the error's promises.
pub(crate) fn parse<E>(response: &http::Response<Bytes>) -> Outcome
where
    E: Endpoint,
    E::Response: Debug,
{
    match E::parse_response(response) {
        Ok(value) => {
            let _ = format!("{value:?}");
            Outcome::Parsed
        }
        Err(error) => {
            let shown = format!("{error} {error:?}");
            assert!(!shown.is_empty());
            assert_eq!(error.status(), response.status());
            match &error {
                ResponseError::Decode(decode) => {
                    assert!(response.status().is_success(), "decode errors only for success statuses");
                    assert_eq!(decode.endpoint, E::METADATA.name);
                    assert!(!decode.message.is_empty(), "a decode error says what is wrong");
                }
                ResponseError::Api(api) => {
                    assert!(!response.status().is_success());
                    if let Some(excerpt) = &api.body_excerpt {
                        assert!(excerpt.len() <= 4 * cyrisma_core::error::BODY_EXCERPT_LIMIT);
                        assert!(!excerpt.chars().any(char::is_control), "excerpts carry no control characters");
                    }
                }
                _ => {}
            }
            Outcome::Rejected
        }
    }
}

/// Builds the response the `responses` target feeds (see [`split_response_input`]).
pub(crate) fn response_of(status: u16, body: &[u8]) -> http::Response<Bytes> {
    http::Response::builder()
        .status(status)
        .header("x-request-id", "req-fuzz")
        .header("content-type", "application/json")
        .body(Bytes::copy_from_slice(body))
        .expect("a valid response")
}

/// The longest first line of a `responses` input that is read as its header.
const MAX_HEADER: usize = 96;

/// FNV-1a, to turn a header that names no endpoint (the fuzzer's own inputs) into one anyway.
fn fnv1a(bytes: &[u8]) -> usize {
    let hash = bytes
        .iter()
        .fold(0xcbf2_9ce4_8422_2325_u64, |hash, byte| (hash ^ u64::from(*byte)).wrapping_mul(0x100_0000_01b3));
    usize::try_from(hash % (1 << 31)).unwrap_or_default()
}

/// Splits a `responses` input, `<endpoint name> <status>\n<body>` (a seed reads like
/// `instances.get_instance 404\n{"error": ...}`), into the endpoint's index in [`PARSERS`], the
/// status and the body. Seeds are keyed by endpoint name, so inserting an endpoint moves none of
/// them; a header that names no endpoint or status (a mutation) still picks one, by hash.
pub(crate) fn split_response_input(data: &[u8]) -> Option<(usize, u16, &[u8])> {
    let newline = data.iter().take(MAX_HEADER).position(|byte| *byte == b'\n')?;
    let (header, body) = (&data[..newline], &data[newline + 1..]);
    let (name, status) = match header.iter().rposition(|byte| *byte == b' ') {
        Some(space) => (&header[..space], &header[space + 1..]),
        None => (header, &[][..]),
    };
    let index = endpoint_index(name).unwrap_or_else(|| fnv1a(name) % PARSERS.len());
    let status = exact_status(status).unwrap_or_else(|| STATUSES[fnv1a(status) % STATUSES.len()]);
    Some((index, status, body))
}

/// The index in [`PARSERS`] of the endpoint with exactly this name.
pub(crate) fn endpoint_index(name: &[u8]) -> Option<usize> {
    PARSERS.iter().position(|(known, _)| known.as_bytes() == name)
}

/// A status written as three digits, 100 to 999.
pub(crate) fn exact_status(text: &[u8]) -> Option<u16> {
    let status: u16 = std::str::from_utf8(text).ok()?.parse().ok()?;
    (text.len() == 3 && (100..=999).contains(&status)).then_some(status)
}

/// Target `responses`: every endpoint's parser over any status and body.
pub(crate) fn responses(data: &[u8]) -> Option<Outcome> {
    let (index, status, body) = split_response_input(data)?;
    let (_, parser) = PARSERS[index];
    Some(parser(&response_of(status, body)))
}

/// A model that parses survives serialize → parse unchanged.
fn model_round_trip<M>(data: &[u8]) -> Outcome
where
    M: serde::de::DeserializeOwned + serde::Serialize + PartialEq + Debug,
{
    match cyrisma_core::wire::from_slice::<M>(data) {
        Ok(value) => {
            let written = serde_json::to_vec(&value).expect("a parsed model serializes");
            let again: M = cyrisma_core::wire::from_slice(&written).expect("a written model parses");
            if again != value {
                // serde_json's default float parser is fast but not correctly rounded, so a float
                // may move by an ulp on a round trip; everything else must be identical.
                let (before, after) = (serde_json::to_value(&value).unwrap(), serde_json::to_value(&again).unwrap());
                assert!(same_json(&before, &after), "a round trip changed the model: {value:?} became {again:?}");
            }
            Outcome::Parsed
        }
        Err(error) => {
            assert!(!error.message.is_empty());
            Outcome::Rejected
        }
    }
}

/// JSON equality, with floats equal within a few ulps.
fn same_json(a: &serde_json::Value, b: &serde_json::Value) -> bool {
    use serde_json::Value;
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => {
            x == y
                || match (x.as_f64(), y.as_f64()) {
                    (Some(x), Some(y)) => (x - y).abs() <= 4.0 * f64::EPSILON * x.abs().max(y.abs()),
                    _ => false,
                }
        }
        (Value::Array(x), Value::Array(y)) => x.len() == y.len() && x.iter().zip(y).all(|(x, y)| same_json(x, y)),
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|((kx, vx), (ky, vy))| kx == ky && same_json(vx, vy))
        }
        _ => a == b,
    }
}

/// Target `scan_detail`: the largest model (assets, vulnerabilities, ports, flaws).
pub(crate) fn scan_detail(data: &[u8]) -> Outcome {
    model_round_trip::<ScanDetail>(data)
}

/// Target `asset_list`: the asset endpoints' model with its casing variants.
pub(crate) fn asset_list(data: &[u8]) -> Outcome {
    model_round_trip::<Vec<Asset>>(data)
}

/// Target `instance_list`: the structure listing, whose `url`s become hosts.
pub(crate) fn instance_list(data: &[u8]) -> Outcome {
    let outcome = model_round_trip::<Vec<Instance>>(data);
    if let Ok(listed) = cyrisma_core::wire::from_slice::<Vec<Instance>>(data) {
        let policy = HostPolicy::new("cyrisma.com").expect("a valid domain");
        for instance in &listed {
            if let Some(Ok(host)) = instance.url.as_deref().map(|url| policy.validate(url)) {
                let host = host.as_str();
                assert!(host == "cyrisma.com" || host.ends_with(".cyrisma.com"), "{host} escaped the domain");
            }
        }
    }
    outcome
}

/// Target `webhook_event`: the webhook envelope.
pub(crate) fn webhook_event(data: &[u8]) -> Outcome {
    model_round_trip::<WebhookEvent>(data)
}

/// Arbitrary form fields.
#[derive(Arbitrary, Debug)]
pub(crate) struct FormInput {
    /// Fields: which of a fixed set of names, the value, and how it is added.
    pub fields: Vec<(u8, String, u8)>,
    /// Values for the form-bearing requests.
    pub strings: [String; 8],
    /// Flags for those requests.
    pub flags: u8,
}

const FIELD_NAMES: &[&str] =
    &["username", "password", "grant_type", "name", "email", "instance_id", "x y", "ä&=+%", "", "refresh_token"];

/// Target `form_encoder`: `Params` and the form-bearing requests from arbitrary values.
pub(crate) fn form_encoder(data: &[u8]) {
    let Ok(input) = FormInput::arbitrary_take_rest(Unstructured::new(data)) else { return };
    let mut params = Params::default();
    // The same fields with every secret replaced by a stand-in of the same length.
    let mut stand_in = Params::default();
    let mut expected: Vec<(&str, String)> = Vec::new();
    for (name, value, how) in &input.fields {
        let name = FIELD_NAMES[usize::from(*name) % FIELD_NAMES.len()];
        match how % 4 {
            0 => {
                let _ = stand_in.required(name, value);
                if params.required(name, value).is_ok() {
                    expected.push((name, value.trim().to_owned()));
                } else {
                    assert!(value.trim().is_empty(), "only empty required values are refused");
                }
            }
            1 => {
                stand_in.optional(name, Some(value));
                params.optional(name, Some(value));
                if !value.trim().is_empty() {
                    expected.push((name, value.trim().to_owned()));
                }
            }
            2 => {
                let _ = stand_in.secret(name, &"x".repeat(value.len()));
                if params.secret(name, value).is_ok() {
                    expected.push((name, value.clone()));
                } else {
                    assert!(value.is_empty(), "only empty secrets are refused");
                }
            }
            _ => {
                stand_in.push(name, value.clone());
                params.push(name, value.clone());
                expected.push((name, value.clone()));
            }
        }
    }
    let encoded = params.encode();
    assert!(encoded.is_ascii(), "form encoding is ASCII");
    let decoded: Vec<(String, String)> = form_urlencoded::parse(encoded.as_bytes()).into_owned().collect();
    let expected: Vec<(String, String)> = expected.into_iter().map(|(name, value)| (name.to_owned(), value)).collect();
    assert_eq!(decoded, expected, "the form decodes back to what was added");
    assert_eq!(format!("{params:?}"), format!("{stand_in:?}"), "a secret shows in Debug");
    build_requests(&input);
}

/// Builds the form-bearing requests from arbitrary values: a typed `RequestError` or a request
/// whose body decodes back to the given values, never a panic.
fn build_requests(input: &FormInput) {
    let central = BaseUrl::central("https://api.cyrisma.com/app").expect("a valid base url");
    let token = AccessToken::new(input.strings[7].clone());
    let [a, b, c, d, e, f, g, _] = &input.strings;
    let check = |built: Result<http::Request<cyrisma_core::endpoint::RequestBody>, cyrisma_core::RequestError>,
                 values: &[&str]| {
        match built {
            Ok(request) => {
                let body = request.body().as_bytes();
                let _ = format!("{request:?}");
                let pairs: Vec<(String, String)> = form_urlencoded::parse(body).into_owned().collect();
                for value in values {
                    let value = value.trim();
                    if !value.is_empty() {
                        assert!(pairs.iter().any(|(_, sent)| sent.trim() == value), "`{value}` not in the form");
                    }
                }
            }
            Err(error) => assert!(!error.to_string().is_empty()),
        }
    };
    let instance_type = match input.flags % 4 {
        0 => InstanceType::Msp,
        1 => InstanceType::Mssp,
        2 => InstanceType::Standard,
        _ => InstanceType::from_wire(a),
    };
    let mut create = instances::create_instance::Request::new(instance_type, input.flags & 4 != 0, a, b, c, d, e);
    create.city = Some(f.clone());
    create.street = Some(g.clone());
    if input.flags & 8 != 0 {
        create.mfa_type = Some(MfaType::from_wire(g));
    }
    check(create.to_http_request(&central, Some(&token)), &[a, b, c, d, e]);
    check(users::create_user::Request::new(a, b, c, d).to_http_request(&central, Some(&token)), &[a, b, c, d]);
    check(auth::login::Request::password(a, ApiSecret::new(b.clone())).to_http_request(&central, None), &[a]);
    check(auth::regen_pass::Request::new(c, ApiSecret::new(d.clone())).to_http_request(&central, None), &[c]);
    check(instances::set_mfa::Request::new(a, MfaType::from_wire(b)).to_http_request(&central, Some(&token)), &[]);
    let events = [WebhookEventType::from_wire(b), WebhookEventType::from_wire(c)];
    check(webhooks::create_webhook::Request::new(a, events).to_http_request(&central, Some(&token)), &[]);
    // `Debug` of a built request does not depend on the token's or the secret's value (only on
    // their length, through the body size).
    let stand_in_token = AccessToken::new("x".repeat(token.expose_secret().len()));
    let list = instances::list_instances::Request::new();
    if let (Ok(real), Ok(stand_in)) =
        (list.to_http_request(&central, Some(&token)), list.to_http_request(&central, Some(&stand_in_token)))
    {
        assert_eq!(format!("{real:?}"), format!("{stand_in:?}"), "the token shows in Debug");
    }
    let real = auth::login::Request::password(a, ApiSecret::new(b.clone()));
    let stand_in = auth::login::Request::password(a, ApiSecret::new("x".repeat(b.len())));
    assert_eq!(format!("{real:?}"), format!("{stand_in:?}"), "the secret shows in Debug");
    if let (Ok(real), Ok(stand_in)) = (real.to_http_request(&central, None), stand_in.to_http_request(&central, None)) {
        let length = |request: &http::Request<cyrisma_core::endpoint::RequestBody>| request.body().as_bytes().len();
        if length(&real) == length(&stand_in) {
            assert_eq!(format!("{real:?}"), format!("{stand_in:?}"), "the secret shows in Debug");
        }
    }
    for path_param in [a, b, c] {
        let _ = instances::get_instance::Request::new(path_param).to_http_request(&central, Some(&token));
        let _ = users::get_user::Request::new(path_param).to_http_request(&central, Some(&token));
    }
}

/// Arbitrary webhook deliveries.
#[derive(Arbitrary, Debug)]
pub(crate) struct WebhookInput {
    /// The signing secret.
    pub secret: String,
    /// A second secret (rotation).
    pub other: String,
    /// The header as received.
    pub header: String,
    /// The raw body.
    pub body: Vec<u8>,
    /// The signing time.
    pub timestamp: u64,
    /// Offset of the receiver's clock from the signing time.
    pub skew: i16,
    /// Which body byte to change.
    pub flip: u16,
}

/// Target `webhook_verify`: arbitrary header, body, secrets and clock.
pub(crate) fn webhook_verify(data: &[u8]) {
    let Ok(input) = WebhookInput::arbitrary_take_rest(Unstructured::new(data)) else { return };
    let secret = WebhookSecret::new(input.secret.clone());
    let other = WebhookSecret::new(input.other.clone());
    // The verifier reads at most 19 digits of `t=` (`sign` would write 20 for the largest
    // `u64`s, which no clock reaches): stay within what a receiver accepts.
    let timestamp = input.timestamp % 10_000_000_000_000_000_000;
    let now = timestamp.saturating_add_signed(i64::from(input.skew));
    let verifier = cyrisma_core::webhook::Verifier::new();
    // Arbitrary header: any answer but a panic.
    let _ = verifier.verify(&secret, &input.header, &input.body, now);
    let _ = verifier.verify_with_any(&[secret.clone(), other.clone()], &input.header, &input.body, now);
    let _ = verifier.verify_event(&secret, &input.header, &input.body, now);
    if secret.is_empty() || input.body.len() > cyrisma_core::webhook::MAX_BODY_BYTES {
        return;
    }
    // A fresh signature over the same input verifies (within the tolerance), and only then.
    let signed = cyrisma_core::webhook::sign(&secret, timestamp, &input.body);
    let within = u64::from(input.skew.unsigned_abs()) <= verifier.tolerance().as_secs();
    let clock_ok = timestamp.checked_add_signed(i64::from(input.skew)).is_some();
    let verdict = verifier.verify(&secret, &signed, &input.body, now);
    if within && clock_ok {
        assert!(verdict.is_ok(), "a fresh signature is accepted: {verdict:?}");
        if !other.is_empty() {
            // During a rotation either secret may sign (an empty one refuses everything).
            let both = [other.clone(), secret.clone()];
            assert!(verifier.verify_with_any(&both, &signed, &input.body, now).is_ok());
        }
    }
    // `Debug` does not depend on the secret's value.
    let stand_in = WebhookSecret::new("x".repeat(input.secret.len()));
    assert_eq!(format!("{secret:?} {verifier:?}"), format!("{stand_in:?} {verifier:?}"), "the secret shows in Debug");
    if !input.body.is_empty() {
        let mut changed = input.body.clone();
        let index = usize::from(input.flip) % changed.len();
        changed[index] ^= 1 << (input.flip % 8);
        assert!(verifier.verify(&secret, &signed, &changed, now).is_err(), "a changed body is refused");
    }
    // HMAC pads short keys with zero bytes, so `k` and `k\0` are the same key: compare without
    // trailing NULs (server-generated secrets never end with one).
    if input.other.trim_end_matches('\0') != input.secret.trim_end_matches('\0') && !input.other.is_empty() {
        assert!(verifier.verify(&other, &signed, &input.body, now).is_err(), "another secret is refused");
    }
}
