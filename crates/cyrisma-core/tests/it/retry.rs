//! The retry policy driven through scripted failures.

use std::time::{Duration, SystemTime};

use cyrisma_core::retry::{Decision, GiveUpReason, Phase, RetryPolicy, is_retryable_status, parse_retry_after};
use http::StatusCode;
use proptest::prelude::*;

/// A fixed wall-clock "now" (2001-09-09T01:46:40Z).
fn now() -> SystemTime {
    SystemTime::UNIX_EPOCH + Duration::from_secs(1_000_000_000)
}

fn response(status: u16, retry_after: Option<&str>) -> Phase<'_> {
    Phase::Response { status: StatusCode::from_u16(status).unwrap(), retry_after }
}

fn millis(millis: u64) -> Duration {
    Duration::from_millis(millis)
}

/// What the rules of the module documentation say, restated independently for the table.
#[derive(Debug, PartialEq)]
enum Expected {
    Retry,
    Exhausted,
    Ambiguous,
    NotIdempotent,
    Unauthorized,
    Final,
}

const STATUSES: &[u16] = &[
    200, 204, 302, 400, 401, 403, 404, 405, 408, 409, 410, 413, 422, 425, 429, 431, 499, 500, 501, 502, 503, 504, 505,
    507, 511, 599,
];

fn expected(idempotent: bool, phase: Phase<'_>, attempt: u32, max_attempts: u32) -> Expected {
    let retryable = match phase {
        Phase::BeforeSend => true,
        Phase::AfterSend if idempotent => true,
        Phase::AfterSend => return Expected::Ambiguous,
        Phase::Response { status, .. } => {
            let code = status.as_u16();
            if code == 401 {
                return Expected::Unauthorized;
            }
            if ![429, 500, 502, 503, 504].contains(&code) {
                return Expected::Final;
            }
            if !idempotent {
                return Expected::NotIdempotent;
            }
            true
        }
        _ => unreachable!("no other phase exists"),
    };
    assert!(retryable);
    if attempt >= max_attempts { Expected::Exhausted } else { Expected::Retry }
}

#[test]
fn exhaustive_table_of_idempotency_phase_status_and_attempt() {
    let policy = RetryPolicy::default();
    let mut phases = vec![Phase::BeforeSend, Phase::AfterSend];
    phases.extend(STATUSES.iter().map(|status| response(*status, None)));
    let mut checked = 0;
    for idempotent in [true, false] {
        for phase in &phases {
            for attempt in 1..=5 {
                for sample in [0.0, 0.25, 0.999_999] {
                    let decision = policy.decide(idempotent, *phase, attempt, sample, now());
                    let case = format!("idempotent={idempotent} phase={phase:?} attempt={attempt} sample={sample}");
                    match (expected(idempotent, *phase, attempt, 3), decision) {
                        (Expected::Retry, Decision::RetryAfter(delay)) => {
                            assert_eq!(delay, policy.backoff(attempt, sample), "{case}");
                            assert!(delay <= millis(500) * 2u32.pow(attempt - 1), "{case}");
                        }
                        (Expected::Exhausted, Decision::GiveUp(GiveUpReason::Exhausted { attempts })) => {
                            assert_eq!(attempts, attempt, "{case}");
                        }
                        (Expected::Ambiguous, Decision::GiveUp(GiveUpReason::AmbiguousOutcome))
                        | (Expected::Unauthorized, Decision::GiveUp(GiveUpReason::Unauthorized)) => {}
                        (Expected::NotIdempotent, Decision::GiveUp(GiveUpReason::NotIdempotent { status })) => {
                            assert_eq!(Phase::Response { status, retry_after: None }, *phase, "{case}");
                        }
                        (Expected::Final, Decision::GiveUp(GiveUpReason::Status { status })) => {
                            assert_eq!(Phase::Response { status, retry_after: None }, *phase, "{case}");
                        }
                        (expected, decision) => panic!("{case}: expected {expected:?}, got {decision:?}"),
                    }
                    checked += 1;
                }
            }
        }
    }
    assert_eq!(checked, 2 * (2 + STATUSES.len()) * 5 * 3);
}

#[test]
fn retryable_statuses_are_exactly_429_and_500_502_503_504() {
    let retryable: Vec<u16> =
        (100..=599).filter(|code| is_retryable_status(StatusCode::from_u16(*code).unwrap())).collect();
    assert_eq!(retryable, [429, 500, 502, 503, 504]);
}

#[test]
fn non_idempotent_calls_are_retried_only_before_send() {
    let policy = RetryPolicy::default();
    assert!(matches!(policy.decide(false, Phase::BeforeSend, 1, 0.5, now()), Decision::RetryAfter(_)));
    assert_eq!(policy.decide(false, Phase::AfterSend, 1, 0.5, now()), Decision::GiveUp(GiveUpReason::AmbiguousOutcome));
    // Even a 429 with a short Retry-After: the request reached the server.
    assert_eq!(
        policy.decide(false, response(429, Some("1")), 1, 0.5, now()),
        Decision::GiveUp(GiveUpReason::NotIdempotent { status: StatusCode::TOO_MANY_REQUESTS })
    );
}

#[test]
fn unauthorized_is_left_to_the_session() {
    let policy = RetryPolicy::default();
    for idempotent in [true, false] {
        assert_eq!(
            policy.decide(idempotent, response(401, Some("1")), 1, 0.5, now()),
            Decision::GiveUp(GiveUpReason::Unauthorized)
        );
    }
}

#[test]
fn retry_after_seconds_are_honoured_exactly() {
    let policy = RetryPolicy::default();
    for (header, seconds) in [("3", 3), (" 7 ", 7), ("0", 0), ("120", 120), ("0003", 3)] {
        for status in [429, 503, 500, 502, 504] {
            assert_eq!(
                policy.decide(true, response(status, Some(header)), 1, 0.999, now()),
                Decision::RetryAfter(Duration::from_secs(seconds)),
                "{status} {header:?}"
            );
        }
    }
}

#[test]
fn retry_after_http_dates_are_relative_to_now() {
    let policy = RetryPolicy::default();
    let future = httpdate::fmt_http_date(now() + Duration::from_secs(42));
    assert_eq!(
        policy.decide(true, response(429, Some(&future)), 1, 0.5, now()),
        Decision::RetryAfter(Duration::from_secs(42))
    );
    let past = httpdate::fmt_http_date(now() - Duration::from_secs(3600));
    assert_eq!(policy.decide(true, response(503, Some(&past)), 1, 0.5, now()), Decision::RetryAfter(Duration::ZERO));
    assert_eq!(parse_retry_after(&httpdate::fmt_http_date(now()), now()), Some(Duration::ZERO));
    // The three date formats HTTP allows.
    for date in ["Sun, 09 Sep 2001 01:47:00 GMT", "Sunday, 09-Sep-01 01:47:00 GMT", "Sun Sep  9 01:47:00 2001"] {
        assert_eq!(parse_retry_after(date, now()), Some(Duration::from_secs(20)), "{date}");
    }
}

#[test]
fn garbage_retry_after_falls_back_to_backoff() {
    let policy = RetryPolicy::default();
    for header in ["", "soon", "-1", "1.5", "1e3", "+5", "3 seconds", "Sun, 99 Sep 2001 01:47:00 GMT"] {
        assert_eq!(parse_retry_after(header, now()), None, "{header:?}");
        for attempt in 1..=2 {
            assert_eq!(
                policy.decide(true, response(429, Some(header)), attempt, 0.5, now()),
                Decision::RetryAfter(policy.backoff(attempt, 0.5)),
                "{header:?} attempt {attempt}"
            );
        }
    }
}

#[test]
fn retry_after_above_the_cap_is_rate_limited() {
    let policy = RetryPolicy::default();
    assert_eq!(
        policy.decide(true, response(429, Some("121")), 1, 0.5, now()),
        Decision::RateLimited { retry_after: Duration::from_secs(121) }
    );
    let far = httpdate::fmt_http_date(now() + Duration::from_secs(3600));
    assert_eq!(
        policy.decide(true, response(503, Some(&far)), 1, 0.5, now()),
        Decision::RateLimited { retry_after: Duration::from_secs(3600) }
    );
    // Reported as rate limited even when no attempt is left, so the caller learns how long.
    assert_eq!(
        policy.decide(true, response(429, Some("600")), 3, 0.5, now()),
        Decision::RateLimited { retry_after: Duration::from_secs(600) }
    );
    // A short one on the last attempt is plain exhaustion.
    assert_eq!(
        policy.decide(true, response(429, Some("1")), 3, 0.5, now()),
        Decision::GiveUp(GiveUpReason::Exhausted { attempts: 3 })
    );
    // The cap is configurable.
    let mut strict = RetryPolicy::default();
    strict.max_retry_after = Duration::from_secs(5);
    assert_eq!(
        strict.decide(true, response(429, Some("6")), 1, 0.5, now()),
        Decision::RateLimited { retry_after: Duration::from_secs(6) }
    );
    assert_eq!(
        strict.decide(true, response(429, Some("5")), 1, 0.5, now()),
        Decision::RetryAfter(Duration::from_secs(5))
    );
}

#[test]
fn backoff_bounds_and_growth() {
    let policy = RetryPolicy::default();
    let ceilings = [500, 1_000, 2_000, 4_000, 8_000, 16_000, 30_000, 30_000, 30_000];
    for (index, ceiling) in ceilings.iter().enumerate() {
        let attempt = index as u32 + 1;
        assert_eq!(policy.backoff(attempt, 0.0), Duration::ZERO, "attempt {attempt}");
        assert_eq!(policy.backoff(attempt, 1.0), millis(*ceiling), "attempt {attempt}");
        let almost = policy.backoff(attempt, 0.9999);
        assert!(
            almost < millis(*ceiling) && almost >= millis(*ceiling) * 9999 / 10000,
            "attempt {attempt}: {almost:?}"
        );
        assert_eq!(policy.backoff(attempt, 0.5), millis(*ceiling) / 2, "attempt {attempt}");
    }
    // Monotone in the attempt for a fixed sample.
    for sample in [0.1, 0.5, 0.9] {
        let delays: Vec<Duration> = (1..=12).map(|attempt| policy.backoff(attempt, sample)).collect();
        assert!(delays.windows(2).all(|pair| pair[0] <= pair[1]), "{delays:?}");
    }
    // Out-of-range samples are clamped.
    assert_eq!(policy.backoff(2, -3.0), Duration::ZERO);
    assert_eq!(policy.backoff(2, f64::NAN), Duration::ZERO);
    assert_eq!(policy.backoff(2, 7.0), millis(1_000));
    assert_eq!(policy.backoff(2, f64::INFINITY), millis(1_000));
}

#[test]
fn defaults_are_the_documented_ones() {
    let policy = RetryPolicy::default();
    assert_eq!(policy.max_retries, 2);
    assert_eq!(policy.max_attempts(), 3);
    assert_eq!(policy.base_delay, millis(500));
    assert_eq!(policy.max_backoff, Duration::from_secs(30));
    assert_eq!(policy.max_retry_after, Duration::from_secs(120));
    assert_eq!(RetryPolicy::never().max_attempts(), 1);
}

/// Runs a call that fails the same way every time, sleeping as told; returns the attempts made
/// and the final decision.
fn run_until_done(policy: &RetryPolicy, idempotent: bool, phase: Phase<'_>, seed: u64) -> (u32, Decision, Duration) {
    let mut state = seed;
    let mut attempt = 1;
    let mut slept = Duration::ZERO;
    loop {
        state = state.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
        let sample = (state >> 11) as f64 / (1u64 << 53) as f64;
        match policy.decide(idempotent, phase, attempt, sample, now()) {
            Decision::RetryAfter(delay) => {
                slept += delay;
                attempt += 1;
                assert!(attempt <= 1000, "runaway retries");
            }
            done => return (attempt, done, slept),
        }
    }
}

#[test]
fn never_more_than_max_attempts() {
    for max_retries in 0..6 {
        let mut policy = RetryPolicy::default();
        policy.max_retries = max_retries;
        for (idempotent, phase) in [
            (true, Phase::BeforeSend),
            (false, Phase::BeforeSend),
            (true, Phase::AfterSend),
            (true, response(429, None)),
            (true, response(503, Some("1"))),
            (true, response(502, Some("garbage"))),
        ] {
            for seed in 0..5 {
                let (attempts, decision, slept) = run_until_done(&policy, idempotent, phase, seed);
                assert_eq!(attempts, max_retries + 1, "{idempotent} {phase:?}");
                assert_eq!(decision, Decision::GiveUp(GiveUpReason::Exhausted { attempts }));
                if phase == response(503, Some("1")) {
                    assert_eq!(slept, Duration::from_secs(u64::from(max_retries)));
                } else {
                    let bound: Duration = (1..=max_retries).map(|attempt| policy.backoff(attempt, 1.0)).sum();
                    assert!(slept <= bound, "{phase:?}: slept {slept:?} > {bound:?}");
                }
            }
        }
    }
    // Final answers stop at the first attempt.
    let policy = RetryPolicy::default();
    for (idempotent, phase) in [(false, Phase::AfterSend), (true, response(404, None)), (false, response(503, None))] {
        assert_eq!(run_until_done(&policy, idempotent, phase, 1).0, 1, "{phase:?}");
    }
}

#[test]
fn attempt_zero_reads_as_the_first_attempt() {
    let policy = RetryPolicy::default();
    assert_eq!(policy.decide(true, Phase::BeforeSend, 0, 1.0, now()), Decision::RetryAfter(millis(500)));
    assert_eq!(
        RetryPolicy::never().decide(true, Phase::BeforeSend, 0, 1.0, now()),
        Decision::GiveUp(GiveUpReason::Exhausted { attempts: 1 })
    );
}

proptest! {
    #[test]
    fn backoff_never_exceeds_its_ceiling(attempt in 0u32..200, sample in 0.0f64..1.0) {
        let policy = RetryPolicy::default();
        let delay = policy.backoff(attempt, sample);
        prop_assert!(delay <= policy.max_backoff);
        prop_assert!(delay <= policy.backoff(attempt, 1.0));
        prop_assert!(delay <= policy.base_delay.saturating_mul(2u32.saturating_pow(attempt.saturating_sub(1))));
    }

    #[test]
    fn any_decision_respects_the_rules(
        idempotent in any::<bool>(),
        status in 100u16..600,
        attempt in 0u32..10,
        seconds in proptest::option::of(0u64..1000),
        sample in 0.0f64..1.0,
    ) {
        let policy = RetryPolicy::default();
        let header = seconds.map(|seconds| seconds.to_string());
        let phase = Phase::Response { status: StatusCode::from_u16(status).unwrap(), retry_after: header.as_deref() };
        match policy.decide(idempotent, phase, attempt, sample, now()) {
            Decision::RetryAfter(delay) => {
                prop_assert!(idempotent && is_retryable_status(StatusCode::from_u16(status).unwrap()));
                prop_assert!(attempt.max(1) < policy.max_attempts());
                prop_assert!(delay <= policy.max_retry_after);
                if let Some(seconds) = seconds {
                    prop_assert_eq!(delay, Duration::from_secs(seconds));
                }
            }
            Decision::RateLimited { retry_after } => {
                prop_assert!(idempotent);
                prop_assert!(retry_after > policy.max_retry_after);
            }
            Decision::GiveUp(_) => {}
            other => prop_assert!(false, "unexpected {:?}", other),
        }
    }
}
