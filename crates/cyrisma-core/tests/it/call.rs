//! The per-call decisions driven through long scenarios on a scripted clock.
//!
//! A small driver below plays the transport's part with no I/O: it takes scripted attempt
//! outcomes one by one, feeds them to a [`Call`] (and to the host's [`HostThrottle`] like the
//! transport's gate does), and advances a fake clock by every wait the call asks for. Each
//! scenario then checks the whole trace: which steps came out, when, and how the call ended.

use std::time::{Duration, SystemTime};

use cyrisma_core::Endpoint;
use cyrisma_core::api::auth::login;
use cyrisma_core::api::instances::{create_instance, list_instances};
use cyrisma_core::call::{Call, MAX_TOKEN_RENEWALS, Outcome, Step};
use cyrisma_core::endpoint::Metadata;
use cyrisma_core::retry::{GiveUpReason, RetryPolicy};
use cyrisma_core::session::Timestamp;
use cyrisma_core::throttle::HostThrottle;
use http::{HeaderMap, HeaderValue, StatusCode};

/// What the scripted server does on one attempt.
#[derive(Clone, Debug)]
enum Scripted {
    Status(u16),
    StatusRetryAfter(u16, &'static str),
    Refused,
    Reset,
    Tls,
}

/// How a driven call ended.
#[derive(Debug, PartialEq)]
enum End {
    Answer(u16),
    RateLimited(Duration),
    Fail(GiveUpReason),
    /// The script ran out before the call ended (the driver never loops unbounded).
    ScriptEnded,
}

/// One entry of the trace: the clock when the attempt's outcome came back, and the step.
type Trace = Vec<(Duration, Step)>;

const WALL: SystemTime = SystemTime::UNIX_EPOCH;

fn secs(seconds: u64) -> Duration {
    Duration::from_secs(seconds)
}

fn millis(millis: u64) -> Duration {
    Duration::from_millis(millis)
}

fn at(elapsed: Duration) -> Timestamp {
    Timestamp::ZERO.saturating_add(elapsed)
}

/// The fake transport: the clock, the host's throttle, and a fixed cost per attempt.
struct Driver {
    clock: Duration,
    throttle: HostThrottle,
    attempt_cost: Duration,
    samples: Vec<f64>,
}

impl Driver {
    fn new() -> Self {
        Self { clock: Duration::ZERO, throttle: HostThrottle::new(4), attempt_cost: millis(100), samples: vec![0.5] }
    }

    fn now(&self) -> Timestamp {
        at(self.clock)
    }

    /// Runs `call` against the script, the way the transport's driver does: wait out a host
    /// pause first, then one attempt, then the call's step.
    fn drive(&mut self, call: &mut Call, script: &[Scripted]) -> (End, Trace) {
        let mut trace = Trace::new();
        let mut script = script.iter();
        // Bounded: one script entry per attempt, and every pause is followed by an attempt.
        for index in 0..script.len() {
            if let Some(left) = self.throttle.poll_pause(self.now()) {
                match call.handle_host_paused(left, self.now()) {
                    Step::Wait(wait) => self.clock += wait,
                    Step::RateLimited { retry_after } => return (End::RateLimited(retry_after), trace),
                    other => panic!("a pause gives a wait or a rate limit, not {other:?}"),
                }
            }
            let Some(next) = script.next() else { break };
            self.clock += self.attempt_cost;
            let mut headers = HeaderMap::new();
            let outcome = match next {
                Scripted::Status(status) => {
                    Outcome::Response { status: StatusCode::from_u16(*status).unwrap(), headers: &headers }
                }
                Scripted::StatusRetryAfter(status, value) => {
                    headers.insert("retry-after", HeaderValue::from_static(value));
                    Outcome::Response { status: StatusCode::from_u16(*status).unwrap(), headers: &headers }
                }
                Scripted::Refused => Outcome::BeforeSend,
                Scripted::Reset => Outcome::AfterSend,
                Scripted::Tls => Outcome::Fatal,
            };
            if let Outcome::Response { status, headers } = outcome {
                self.throttle.handle_answer(status, headers, WALL + self.clock, self.now());
            }
            let sample = self.samples[index % self.samples.len()];
            let step = call.handle_attempt(outcome, self.now(), WALL + self.clock, sample);
            trace.push((self.clock, step));
            match step {
                Step::Answer => {
                    let status = match next {
                        Scripted::Status(status) | Scripted::StatusRetryAfter(status, _) => *status,
                        other => panic!("an answer needs a response, not {other:?}"),
                    };
                    return (End::Answer(status), trace);
                }
                Step::Replay => {}
                Step::Wait(wait) => self.clock += wait,
                Step::RateLimited { retry_after } => return (End::RateLimited(retry_after), trace),
                Step::Fail(reason) => return (End::Fail(reason), trace),
                other => panic!("unknown step {other:?}"),
            }
        }
        (End::ScriptEnded, trace)
    }
}

const LIST: Metadata = list_instances::Request::METADATA;
const CREATE: Metadata = create_instance::Request::METADATA;
const LOGIN: Metadata = login::Request::METADATA;

fn new_call(metadata: &Metadata, deadline: Duration) -> Call {
    Call::new(metadata, RetryPolicy::default(), at(deadline))
}

fn steps(trace: &Trace) -> Vec<Step> {
    trace.iter().map(|(_, step)| *step).collect()
}

#[test]
fn the_metadata_used_here_is_what_the_scenarios_assume() {
    let (list, create) = (LIST, CREATE);
    assert!(list.idempotent && !create.idempotent);
    assert_ne!(LOGIN.auth, LIST.auth);
}

#[test]
fn a_success_is_the_answer_at_once() {
    let mut driver = Driver::new();
    let mut call = new_call(&LIST, secs(60));
    let (end, trace) = driver.drive(&mut call, &[Scripted::Status(200), Scripted::Status(500)]);
    assert_eq!(end, End::Answer(200));
    assert_eq!(trace, vec![(millis(100), Step::Answer)]);
    assert_eq!(call.attempts(), 1);
}

#[test]
fn an_idempotent_call_rides_out_a_bad_minute() {
    // Refused, 503 with Retry-After, reset, 502 with full-jitter backoff: then the policy's three
    // attempts are spent and the 504 is the answer. The clock moves by each wait exactly.
    let mut policy = RetryPolicy::default();
    policy.max_retries = 4;
    let mut call = Call::new(&LIST, policy, at(secs(600)));
    let mut driver = Driver::new();
    driver.samples = vec![1.0];
    let script = [
        Scripted::Refused,
        Scripted::StatusRetryAfter(503, "3"),
        Scripted::Reset,
        Scripted::Status(502),
        Scripted::Status(504),
        Scripted::Status(200),
    ];
    let (end, trace) = driver.drive(&mut call, &script);
    assert_eq!(end, End::Answer(504), "{trace:?}");
    assert_eq!(
        trace,
        vec![
            // Backoff after attempt 1: up to 0.5 s; sample 1.0 takes all of it.
            (millis(100), Step::Wait(millis(500))),
            (millis(700), Step::Wait(secs(3))),
            // Attempt 3: up to 2 s.
            (millis(3_800), Step::Wait(secs(2))),
            (millis(5_900), Step::Wait(secs(4))),
            (millis(10_000), Step::Answer),
        ]
    );
    assert_eq!(call.attempts(), 5);
}

#[test]
fn a_call_that_is_not_idempotent_is_never_resent_once_it_may_have_reached_the_server() {
    // Refused twice (nothing was sent: retried), then a reset: the outcome is unknown.
    let mut driver = Driver::new();
    let mut call = new_call(&CREATE, secs(60));
    let (end, trace) =
        driver.drive(&mut call, &[Scripted::Refused, Scripted::Refused, Scripted::Reset, Scripted::Status(200)]);
    assert_eq!(end, End::Fail(GiveUpReason::AmbiguousOutcome));
    assert_eq!(trace.len(), 3);
    assert!(matches!(trace[0].1, Step::Wait(_)) && matches!(trace[1].1, Step::Wait(_)));

    // Any status, even a retryable one, is the answer: it is never sent twice.
    for status in [429, 500, 502, 503, 504] {
        let mut driver = Driver::new();
        let mut call = new_call(&CREATE, secs(60));
        let (end, trace) = driver.drive(&mut call, &[Scripted::StatusRetryAfter(status, "1"), Scripted::Status(200)]);
        assert_eq!(end, End::Answer(status));
        assert_eq!(steps(&trace), vec![Step::Answer]);
    }
}

#[test]
fn refused_connections_are_retried_until_the_attempts_are_spent() {
    let mut driver = Driver::new();
    let mut call = new_call(&CREATE, secs(60));
    let (end, trace) = driver.drive(&mut call, &[Scripted::Refused, Scripted::Refused, Scripted::Refused]);
    assert_eq!(end, End::Fail(GiveUpReason::Exhausted { attempts: 3 }));
    assert_eq!(trace.len(), 3);
}

#[test]
fn a_401_is_replayed_once_and_not_counted() {
    let mut driver = Driver::new();
    let mut call = new_call(&LIST, secs(60));
    let (end, trace) = driver.drive(&mut call, &[Scripted::Status(401), Scripted::Status(200)]);
    assert_eq!(end, End::Answer(200));
    assert_eq!(steps(&trace), vec![Step::Replay, Step::Answer]);
    assert_eq!(call.attempts(), 1);
    assert!(call.replayed());

    // A second 401 is the answer, even after retries in between.
    let mut driver = Driver::new();
    let mut call = new_call(&LIST, secs(60));
    let (end, trace) = driver.drive(&mut call, &[Scripted::Status(401), Scripted::Status(500), Scripted::Status(401)]);
    assert_eq!(end, End::Answer(401));
    assert!(matches!(steps(&trace)[..], [Step::Replay, Step::Wait(_), Step::Answer]), "{trace:?}");
    assert_eq!(call.attempts(), 2);
}

#[test]
fn a_401_to_a_call_without_a_token_is_the_answer() {
    let mut driver = Driver::new();
    let mut call = new_call(&LOGIN, secs(60));
    let (end, trace) = driver.drive(&mut call, &[Scripted::Status(401), Scripted::Status(200)]);
    assert_eq!(end, End::Answer(401));
    assert_eq!(steps(&trace), vec![Step::Answer]);
    assert!(!call.replayed());
}

#[test]
fn final_statuses_are_the_answer_and_fatal_failures_fail_at_once() {
    for status in [302, 400, 403, 404, 409, 422, 501, 505] {
        let mut driver = Driver::new();
        let mut call = new_call(&LIST, secs(60));
        let (end, _) = driver.drive(&mut call, &[Scripted::Status(status), Scripted::Status(200)]);
        assert_eq!(end, End::Answer(status));
    }
    let mut driver = Driver::new();
    let mut call = new_call(&LIST, secs(60));
    let (end, trace) = driver.drive(&mut call, &[Scripted::Refused, Scripted::Tls, Scripted::Status(200)]);
    assert_eq!(end, End::Fail(GiveUpReason::Unrecoverable));
    assert_eq!(trace.len(), 2);
}

#[test]
fn a_long_retry_after_is_rate_limited_instead_of_slept() {
    let mut driver = Driver::new();
    let mut call = new_call(&LIST, secs(3_600));
    let (end, trace) = driver.drive(&mut call, &[Scripted::StatusRetryAfter(429, "121"), Scripted::Status(200)]);
    assert_eq!(end, End::RateLimited(secs(121)));
    assert_eq!(trace.len(), 1);
    // 120 s exactly is still honoured.
    let mut driver = Driver::new();
    let mut call = new_call(&LIST, secs(3_600));
    let (end, trace) = driver.drive(&mut call, &[Scripted::StatusRetryAfter(429, "120"), Scripted::Status(200)]);
    assert_eq!(end, End::Answer(200));
    assert_eq!(trace[0], (millis(100), Step::Wait(secs(120))));
}

#[test]
fn an_http_date_retry_after_is_read_against_the_wall_clock() {
    // The fake wall clock starts at the epoch: 10 s after it, less the 100 ms attempt.
    let mut driver = Driver::new();
    let mut call = new_call(&LIST, secs(60));
    let script = [Scripted::StatusRetryAfter(503, "Thu, 01 Jan 1970 00:00:10 GMT"), Scripted::Status(200)];
    let (end, trace) = driver.drive(&mut call, &script);
    assert_eq!(end, End::Answer(200));
    assert_eq!(trace[0], (millis(100), Step::Wait(millis(9_900))));
    assert_eq!(trace[1].0, millis(10_100));
}

#[test]
fn a_wait_that_would_reach_the_deadline_stops_the_call() {
    // Deadline at 5 s: the first wait (3 s) fits, the second (3 s, from 3.2 s) does not, so the
    // 503 in hand is the answer.
    let mut driver = Driver::new();
    let mut call = new_call(&LIST, secs(5));
    let script = [Scripted::StatusRetryAfter(503, "3"), Scripted::StatusRetryAfter(503, "3"), Scripted::Status(200)];
    let (end, trace) = driver.drive(&mut call, &script);
    assert_eq!(end, End::Answer(503));
    assert_eq!(steps(&trace), vec![Step::Wait(secs(3)), Step::Answer]);

    // Without a response, the same cut is a failure: the attempts are deemed spent.
    let mut driver = Driver::new();
    driver.samples = vec![1.0];
    let mut call = new_call(&LIST, millis(550));
    let (end, trace) = driver.drive(&mut call, &[Scripted::Reset, Scripted::Status(200)]);
    assert_eq!(end, End::Fail(GiveUpReason::Exhausted { attempts: 1 }));
    assert_eq!(trace.len(), 1);
}

#[test]
fn a_host_pause_is_waited_out_or_fails_the_call() {
    // Another call's 429 paused the host for 30 s and halved its limit.
    let mut driver = Driver::new();
    driver.throttle.handle_response(StatusCode::TOO_MANY_REQUESTS, Some(secs(30)), Timestamp::ZERO);
    assert_eq!(driver.throttle.poll_limit(driver.now()), 2);
    let mut call = new_call(&LIST, secs(60));
    let (end, trace) = driver.drive(&mut call, &[Scripted::Status(200)]);
    assert_eq!(end, End::Answer(200));
    assert_eq!(trace, vec![(millis(30_100), Step::Answer)]);

    // A pause that would outlast the call's deadline fails it at once, with the time left.
    let mut driver = Driver::new();
    driver.throttle.handle_response(StatusCode::SERVICE_UNAVAILABLE, Some(secs(30)), Timestamp::ZERO);
    driver.clock = secs(5);
    let mut call = new_call(&LIST, secs(20));
    assert_eq!(driver.drive(&mut call, &[Scripted::Status(200)]), (End::RateLimited(secs(25)), vec![]));

    // One longer than the policy sleeps for, too, whatever the deadline.
    let mut driver = Driver::new();
    driver.throttle.handle_response(StatusCode::SERVICE_UNAVAILABLE, Some(secs(500)), Timestamp::ZERO);
    let mut call = new_call(&LIST, secs(3_600));
    assert_eq!(driver.drive(&mut call, &[Scripted::Status(200)]), (End::RateLimited(secs(500)), vec![]));
}

#[test]
fn a_429_storm_pauses_the_host_and_the_call_follows_it() {
    // The call's own 429s pause the host (the call waits the Retry-After itself, and the pause
    // then is already over), halve the host's limit, and the limit comes back 60 s after the
    // last one.
    let mut policy = RetryPolicy::default();
    policy.max_retries = 3;
    let mut call = Call::new(&LIST, policy, at(secs(600)));
    let mut driver = Driver::new();
    let script = [
        Scripted::StatusRetryAfter(429, "5"),
        Scripted::StatusRetryAfter(429, "10"),
        Scripted::StatusRetryAfter(503, "1"),
        Scripted::Status(200),
    ];
    let (end, trace) = driver.drive(&mut call, &script);
    assert_eq!(end, End::Answer(200));
    assert_eq!(
        trace,
        vec![
            (millis(100), Step::Wait(secs(5))),
            (millis(5_200), Step::Wait(secs(10))),
            (millis(15_300), Step::Wait(secs(1))),
            (millis(16_400), Step::Answer),
        ]
    );
    assert_eq!(driver.throttle.poll_limit(at(millis(16_400))), 1, "two 429s: 4 -> 2 -> 1");
    assert_eq!(driver.throttle.poll_limit(at(millis(65_100))), 1);
    assert_eq!(driver.throttle.poll_limit(at(millis(65_200))), 4, "60 s after the last 429");
}

#[test]
fn a_stale_token_is_renewed_a_bounded_number_of_times() {
    let mut call = new_call(&LIST, secs(60));
    let renewals = (0..100).take_while(|_| call.handle_stale_token()).count();
    assert_eq!(renewals, MAX_TOKEN_RENEWALS as usize);
    assert!(!call.handle_stale_token());
    assert_eq!(call.attempts(), 0, "renewing is not an attempt");
}

#[test]
fn a_retry_storm_of_many_calls_stays_within_the_rules() {
    // Many calls, each with a long pseudo-random script: no call makes more counted attempts
    // than the policy allows, a call that is not idempotent never retries after a possible
    // send, and every wait lies within the backoff ceiling or is the server's Retry-After.
    let policy = RetryPolicy::default();
    let mut seed: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut next = || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    for round in 0..500 {
        let metadata = if round % 2 == 0 { &LIST } else { &CREATE };
        let script: Vec<Scripted> = (0..12)
            .map(|_| match next() % 8 {
                0 => Scripted::Refused,
                1 => Scripted::Reset,
                2 => Scripted::Status(401),
                3 => Scripted::StatusRetryAfter(429, "2"),
                4 => Scripted::Status(500),
                5 => Scripted::Status(503),
                6 => Scripted::Status(404),
                _ => Scripted::Status(200),
            })
            .collect();
        let mut driver = Driver::new();
        driver.samples = vec![(next() % 1000) as f64 / 1000.0];
        let mut call = Call::new(metadata, policy.clone(), at(secs(600)));
        let (end, trace) = driver.drive(&mut call, &script);
        assert_ne!(end, End::ScriptEnded, "round {round}: {script:?} {trace:?}");
        assert!(call.attempts() <= policy.max_attempts(), "round {round}");
        let replays = trace.iter().filter(|(_, step)| *step == Step::Replay).count();
        assert!(replays <= 1, "round {round}");
        for ((_, step), scripted) in trace.iter().zip(script.iter()) {
            if let Step::Wait(wait) = step {
                assert!(*wait <= policy.max_backoff.max(secs(2)), "round {round}: {wait:?}");
            }
            if !metadata.idempotent && matches!(scripted, Scripted::Reset) {
                assert_eq!(*step, Step::Fail(GiveUpReason::AmbiguousOutcome), "round {round}");
            }
        }
    }
}
