//! Provisional webhook signature signing and verification.

use std::time::Duration;

use cyrisma_core::WebhookSecret;
use cyrisma_core::types::WebhookEventType;
use cyrisma_core::webhook::{
    DuplicateFilter, MAX_BODY_BYTES, SignatureError, Verifier, WEBHOOK_SIGNATURE_HEADER, WebhookError, parse_event,
    sign, verify,
};

const NOW: u64 = 1_763_812_800;
const SECRET: &str = "whsec_CANARYsecret0123456789";

fn secret() -> WebhookSecret {
    WebhookSecret::new(SECRET)
}

/// A 1 KiB JSON event envelope.
fn body_1k() -> Vec<u8> {
    let head = r#"{"id":"evt_0001","type":"scan.completed","created_at":"2025-11-22T12:00:00Z","partner_id":"partner01","instance_id":"cc123456","data":{"scan_id":"4242","padding":""#;
    let tail = r#""}}"#;
    let mut body = head.as_bytes().to_vec();
    body.resize(1024 - tail.len(), b'x');
    body.extend_from_slice(tail.as_bytes());
    assert_eq!(body.len(), 1024);
    body
}

/// Splits a header produced by `sign` into its timestamp and hex signature.
fn parts(header: &str) -> (&str, &str) {
    let (t, v1) = header.split_once(',').unwrap();
    (t.strip_prefix("t=").unwrap(), v1.strip_prefix("v1=").unwrap())
}

#[test]
fn known_vector() {
    // HMAC-SHA256(key "whsec_test", "1700000000.{}"), computed independently with
    // `printf '1700000000.{}' | openssl dgst -sha256 -hmac whsec_test`.
    let secret = WebhookSecret::new("whsec_test");
    let header = sign(&secret, 1_700_000_000, b"{}");
    assert_eq!(header, "t=1700000000,v1=35495024f4ef3f94e5a93e22221544c4b75e9a42300cd965ab81cb85cd994e91");
    assert!(verify(&secret, &header, b"{}", 1_700_000_000).is_ok());
    assert_eq!(WEBHOOK_SIGNATURE_HEADER, "Cyrisma-Signature");
}

#[test]
fn a_valid_signature_is_accepted() {
    let body = body_1k();
    let header = sign(&secret(), NOW, &body);
    assert!(!header.contains(SECRET));
    let verified = verify(&secret(), &header, &body, NOW).unwrap();
    assert_eq!(verified.unix_secs(), NOW);
}

#[test]
fn every_single_bit_flip_of_the_body_is_rejected() {
    let body = body_1k();
    let header = sign(&secret(), NOW, &body);
    let mut flipped = body.clone();
    let mut rejected = 0;
    for byte in 0..flipped.len() {
        for bit in 0..8 {
            flipped[byte] ^= 1 << bit;
            assert_eq!(
                verify(&secret(), &header, &flipped, NOW),
                Err(SignatureError::Mismatch),
                "byte {byte} bit {bit}"
            );
            flipped[byte] ^= 1 << bit;
            rejected += 1;
        }
    }
    assert_eq!(rejected, 8 * 1024);
    assert_eq!(flipped, body);
}

#[test]
fn every_single_bit_flip_of_the_signature_is_rejected() {
    let body = body_1k();
    let header = sign(&secret(), NOW, &body);
    let (t, v1) = parts(&header);
    let mut hex = v1.as_bytes().to_vec();
    for index in 0..hex.len() {
        for bit in 0..8 {
            hex[index] ^= 1 << bit;
            let Ok(text) = std::str::from_utf8(&hex) else {
                hex[index] ^= 1 << bit;
                continue; // Not a string: cannot even be a header value.
            };
            let tampered = format!("t={t},v1={text}");
            assert!(verify(&secret(), &tampered, &body, NOW).is_err(), "char {index} bit {bit}: {tampered}");
            hex[index] ^= 1 << bit;
        }
    }
}

#[test]
fn every_single_bit_flip_of_the_signature_bytes_is_rejected() {
    let body = body_1k();
    let header = sign(&secret(), NOW, &body);
    let (t, v1) = parts(&header);
    let mut tag = hex::decode(v1).unwrap();
    for index in 0..tag.len() {
        for bit in 0..8 {
            tag[index] ^= 1 << bit;
            let tampered = format!("t={t},v1={}", hex::encode(&tag));
            assert_eq!(
                verify(&secret(), &tampered, &body, NOW),
                Err(SignatureError::Mismatch),
                "byte {index} bit {bit}"
            );
            tag[index] ^= 1 << bit;
        }
    }
}

#[test]
fn every_single_bit_flip_of_the_timestamp_is_rejected() {
    let body = body_1k();
    let header = sign(&secret(), NOW, &body);
    let (t, v1) = parts(&header);
    let mut digits = t.as_bytes().to_vec();
    for index in 0..digits.len() {
        for bit in 0..8 {
            digits[index] ^= 1 << bit;
            if let Ok(text) = std::str::from_utf8(&digits) {
                let tampered = format!("t={text},v1={v1}");
                assert!(verify(&secret(), &tampered, &body, NOW).is_err(), "char {index} bit {bit}: {tampered}");
                // Even with a clock that makes the tampered timestamp fresh, the HMAC fails.
                if let Ok(seconds) = text.parse::<u64>() {
                    assert_eq!(
                        verify(&secret(), &tampered, &body, seconds),
                        Err(SignatureError::Mismatch),
                        "char {index} bit {bit}: {tampered}"
                    );
                }
            }
            digits[index] ^= 1 << bit;
        }
    }
}

#[test]
fn skew_of_300_seconds_is_accepted_and_301_rejected_both_ways() {
    let body = body_1k();
    let header = sign(&secret(), NOW, &body);
    assert!(verify(&secret(), &header, &body, NOW + 300).is_ok());
    assert!(verify(&secret(), &header, &body, NOW - 300).is_ok());
    assert_eq!(
        verify(&secret(), &header, &body, NOW + 301),
        Err(SignatureError::TooOld { age_secs: 301, tolerance_secs: 300 })
    );
    assert_eq!(
        verify(&secret(), &header, &body, NOW - 301),
        Err(SignatureError::InFuture { ahead_secs: 301, tolerance_secs: 300 })
    );
    // A timestamp far away on either side, and the extremes of the range.
    assert!(verify(&secret(), &sign(&secret(), 0, &body), &body, NOW).is_err());
    assert!(verify(&secret(), &sign(&secret(), u64::MAX / 10, &body), &body, NOW).is_err());
    let verifier = Verifier::new().with_tolerance(Duration::from_secs(10));
    assert!(verifier.verify(&secret(), &header, &body, NOW + 10).is_ok());
    assert!(verifier.verify(&secret(), &header, &body, NOW + 11).is_err());
}

#[test]
fn a_wrong_or_empty_secret_is_rejected() {
    let body = body_1k();
    let header = sign(&secret(), NOW, &body);
    assert_eq!(verify(&WebhookSecret::new("whsec_other"), &header, &body, NOW), Err(SignatureError::Mismatch));
    assert_eq!(verify(&WebhookSecret::new(format!("{SECRET} ")), &header, &body, NOW), Err(SignatureError::Mismatch));
    // Anyone can compute an HMAC with an empty key: an empty secret never verifies.
    let forged = sign(&WebhookSecret::new(""), NOW, &body);
    assert_eq!(verify(&WebhookSecret::new(""), &forged, &body, NOW), Err(SignatureError::EmptySecret));
    assert_eq!(Verifier::new().verify_with_any(&[], &forged, &body, NOW), Err(SignatureError::EmptySecret));
}

#[test]
fn several_signatures_and_secrets_support_rotation() {
    let body = body_1k();
    let old = WebhookSecret::new("whsec_old");
    let new = WebhookSecret::new("whsec_new");
    let old_header = sign(&old, NOW, &body);
    let new_header = sign(&new, NOW, &body);
    let (_, old_sig) = parts(&old_header);
    let (_, new_sig) = parts(&new_header);
    let both = format!("t={NOW},v1={old_sig},v1={new_sig}");
    assert!(verify(&old, &both, &body, NOW).is_ok());
    assert!(verify(&new, &both, &body, NOW).is_ok());
    assert_eq!(verify(&secret(), &both, &body, NOW), Err(SignatureError::Mismatch));
    // The receiver's side of a rotation: it knows both secrets, the sender used one.
    let only_new = sign(&new, NOW, &body);
    let verifier = Verifier::new();
    assert!(verifier.verify_with_any(&[old.clone(), new.clone()], &only_new, &body, NOW).is_ok());
    assert_eq!(verifier.verify_with_any(&[old], &only_new, &body, NOW), Err(SignatureError::Mismatch));
}

#[test]
fn header_variants() {
    let body = body_1k();
    let header = sign(&secret(), NOW, &body);
    let (t, v1) = parts(&header);
    let upper = v1.to_ascii_uppercase();
    let accepted = [
        format!("t={t},v1={v1}"),
        format!("v1={v1},t={t}"),
        format!(" t={t} , v1={v1} "),
        format!("t={t},v0=deadbeef,v1={v1},v2=whatever"),
        format!("t={t},,v1={v1},"),
        format!("t={t},v1={},v1={v1}", "00".repeat(32)),
    ];
    for value in &accepted {
        assert!(verify(&secret(), value, &body, NOW).is_ok(), "{value}");
    }
    let malformed = [
        String::new(),
        "garbage".to_owned(),
        format!("v1={v1}"),
        format!("t=,v1={v1}"),
        format!("t=+{t},v1={v1}"),
        format!("t=-{t},v1={v1}"),
        format!("t={t}.0,v1={v1}"),
        format!("t=0x{t},v1={v1}"),
        format!("t=99999999999999999999,v1={v1}"),
        format!("t={t},t={t},v1={v1}"),
        format!("t={t};v1={v1}"),
        format!("t={t},v1={}", &v1[..63]),
        format!("t={t},v1={v1}00"),
        format!("t={t},v1={upper}"),
        format!("t={t},v1=zz{}", &v1[2..]),
        format!("t={t},v1"),
        format!("t={t},v1={}", "a".repeat(9000)),
    ];
    for value in &malformed {
        let error = verify(&secret(), value, &body, NOW).unwrap_err();
        assert!(matches!(error, SignatureError::MalformedHeader { .. }), "{value:.80}: {error:?}");
    }
    for value in [format!("t={t}"), format!("t={t},v0={v1}"), format!("t={t},V1={v1}")] {
        assert_eq!(verify(&secret(), &value, &body, NOW), Err(SignatureError::NoSignature), "{value}");
    }
}

#[test]
fn the_timestamp_is_signed_as_sent() {
    // Leading zeros change the signed string, so they do not verify against `sign`'s output.
    let body = body_1k();
    let header = sign(&secret(), NOW, &body);
    let (t, v1) = parts(&header);
    assert_eq!(verify(&secret(), &format!("t=0{t},v1={v1}"), &body, NOW), Err(SignatureError::Mismatch));
}

#[test]
fn oversized_bodies_are_rejected_before_the_hmac() {
    let body = vec![b'x'; MAX_BODY_BYTES + 1];
    let header = sign(&secret(), NOW, &body);
    assert_eq!(
        verify(&secret(), &header, &body, NOW),
        Err(SignatureError::BodyTooLarge { size: MAX_BODY_BYTES + 1, limit: MAX_BODY_BYTES })
    );
    // The size is checked first, even with a header that would not parse.
    assert!(matches!(verify(&secret(), "garbage", &body, NOW), Err(SignatureError::BodyTooLarge { .. })));
    let at_limit = vec![b'x'; MAX_BODY_BYTES];
    assert!(verify(&secret(), &sign(&secret(), NOW, &at_limit), &at_limit, NOW).is_ok());
    let small = Verifier::new().with_max_body_bytes(16);
    assert!(matches!(small.verify(&secret(), &header, &body_1k(), NOW), Err(SignatureError::BodyTooLarge { .. })));
}

#[test]
fn verify_event_parses_only_verified_bodies() {
    let body = body_1k();
    let header = sign(&secret(), NOW, &body);
    let event = Verifier::new().verify_event(&secret(), &header, &body, NOW).unwrap();
    assert_eq!(event.id, "evt_0001");
    assert_eq!(event.event_type, WebhookEventType::ScanCompleted);
    assert_eq!(event.instance_id.as_deref(), Some("cc123456"));
    assert_eq!(event.data["scan_id"], "4242");
    assert_eq!(event, parse_event(&body).unwrap());

    let error = Verifier::new().verify_event(&secret(), &header, b"{not json", NOW).unwrap_err();
    assert_eq!(error, WebhookError::Signature(SignatureError::Mismatch));
    let bad = br#"{"type":"scan.completed"}"#;
    let error = Verifier::new().verify_event(&secret(), &sign(&secret(), NOW, bad), bad, NOW).unwrap_err();
    assert!(matches!(error, WebhookError::Payload { .. }), "{error:?}");
    assert!(error.to_string().contains("missing field `id`"), "{error}");
}

#[test]
fn events_with_unknown_types_and_fields_are_kept() {
    let event = parse_event(br#"{"id":"evt_2","type":"instance.deleted","extra":1,"data":null}"#).unwrap();
    assert_eq!(event.event_type, WebhookEventType::Unknown("instance.deleted".into()));
    assert_eq!(event.extra["extra"], 1);
    let json = serde_json::to_value(&event).unwrap();
    assert_eq!(json["type"], "instance.deleted");
    assert_eq!(json["extra"], 1);
}

#[test]
fn duplicate_event_ids_are_dropped_within_the_window() {
    let mut filter = DuplicateFilter::default();
    assert!(filter.first_delivery("evt_1", NOW));
    assert!(!filter.first_delivery("evt_1", NOW + 60));
    assert!(!filter.first_delivery("evt_1", NOW + 24 * 3600));
    assert!(filter.first_delivery("evt_2", NOW + 60));
    assert!(filter.first_delivery("evt_1", NOW + 24 * 3600 + 1), "forgotten after 24 hours");
    assert!(!filter.is_empty());
}

#[test]
fn errors_read_well_and_never_show_the_secret() {
    let body = body_1k();
    let header = sign(&secret(), NOW, &body);
    let messages: Vec<String> = [
        verify(&secret(), &header, &vec![0; MAX_BODY_BYTES + 1], NOW).unwrap_err(),
        verify(&WebhookSecret::new(""), &header, &body, NOW).unwrap_err(),
        verify(&secret(), "t=x", &body, NOW).unwrap_err(),
        verify(&secret(), "t=1", &body, NOW).unwrap_err(),
        verify(&secret(), &header, &body, NOW + 301).unwrap_err(),
        verify(&secret(), &header, &body, NOW - 301).unwrap_err(),
        verify(&WebhookSecret::new("whsec_other"), &header, &body, NOW).unwrap_err(),
    ]
    .iter()
    .map(ToString::to_string)
    .collect();
    for message in &messages {
        assert!(message.starts_with(|ch: char| ch.is_lowercase()) && !message.ends_with('.'), "{message}");
        assert!(!message.contains(SECRET));
    }
    let debug = format!("{:?}", Verifier::new().verify_with_any(&[secret()], "t=1", &body, NOW));
    assert!(!debug.contains(SECRET));
    insta::assert_snapshot!("webhook_signature_error_messages", messages.join("\n"));
}
