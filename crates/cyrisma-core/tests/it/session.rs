//! The session state machine driven by a fake clock through long scripted scenarios.

use std::collections::BTreeMap;
use std::time::Duration;

use cyrisma_core::api::auth::login::{self, Grant, GrantKind};
use cyrisma_core::endpoint::Endpoint;
use cyrisma_core::session::{
    CurrentToken, Generation, InstanceAuth, InstanceAuthPlan, InstanceUnauthorizedAction, LoginAttempt, LoginAttemptId,
    LoginFailure, LoginFailureReason, LoginOutcome, LoginProgress, Session, SessionConfig, Timestamp, TokenPoll,
    UnauthorizedAction,
};
use cyrisma_core::{AccessToken, ApiSecret, RefreshToken};
use http::StatusCode;

const API_KEY: &str = "407cc078-46c7-11ed-8e42-000d3a3ba598";

fn secs(seconds: u64) -> Duration {
    Duration::from_secs(seconds)
}

fn at(seconds: u64) -> Timestamp {
    Timestamp::from_duration(secs(seconds))
}

fn at_millis(millis: u64) -> Timestamp {
    Timestamp::from_duration(Duration::from_millis(millis))
}

/// splitmix64: a tiny deterministic PRNG, so that "random" scenarios replay identically.
struct SplitMix64(u64);

impl SplitMix64 {
    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A uniform number of milliseconds in `lo..hi`.
    fn millis(&mut self, lo: u64, hi: u64) -> Duration {
        Duration::from_millis(lo + self.next_u64() % (hi - lo))
    }
}

fn response(token: &str, expires_in: Option<u64>, refresh: Option<&str>) -> login::Response {
    login::Response {
        access_token: AccessToken::new(token),
        expires_in,
        refresh_token: refresh.map(RefreshToken::new),
        ..Default::default()
    }
}

/// Expects `poll_token` to ask for a login, and returns the attempt.
fn expect_login(session: &mut Session, now: Timestamp) -> LoginAttempt {
    match session.poll_token(now) {
        TokenPoll::LogIn { attempt, .. } => attempt,
        other => panic!("expected a login at {now:?}, got {other:?}"),
    }
}

/// Expects `poll_token` to hand out a token, and returns it.
fn expect_ready(session: &mut Session, now: Timestamp) -> CurrentToken {
    match session.poll_token(now) {
        TokenPoll::Ready(current) => current,
        other => panic!("expected a token at {now:?}, got {other:?}"),
    }
}

/// Logs in with the password grant at `now` and returns the new generation.
fn log_in(session: &mut Session, now: Timestamp, token: &str) -> Generation {
    let attempt = expect_login(session, now);
    match session.handle_login_succeeded(attempt.id, response(token, Some(600), Some("refresh-1")), Duration::ZERO, now)
    {
        LoginProgress::Succeeded(generation) => generation,
        other => panic!("expected success, got {other:?}"),
    }
}

/// Reports a successful login and expects a new generation.
fn succeed(
    session: &mut Session,
    attempt: LoginAttemptId,
    response: login::Response,
    jitter: Duration,
    now: Timestamp,
) -> Generation {
    match session.handle_login_succeeded(attempt, response, jitter, now) {
        LoginProgress::Succeeded(generation) => generation,
        other => panic!("expected success, got {other:?}"),
    }
}

/// Reports a failed password login and expects it to end the attempt.
fn fail(session: &mut Session, attempt: LoginAttemptId, reason: LoginFailureReason, now: Timestamp) -> LoginFailure {
    match session.handle_login_failed(attempt, reason, now) {
        LoginProgress::Failed(failure) => failure,
        other => panic!("expected failure, got {other:?}"),
    }
}

/// A fake login server: issues numbered tokens that it alone knows the expiry of, and can be
/// scripted to refuse a grant.
#[derive(Default)]
struct FakeServer {
    issued: u64,
    /// Token text → expiry in server time.
    expiries: BTreeMap<String, Timestamp>,
    logins: BTreeMap<&'static str, u32>,
    refuse_refresh: bool,
    refuse_password: bool,
}

impl FakeServer {
    /// Answers a login received at `arrival`: a 600 s token and a refresh token, or a refusal.
    fn log_in(&mut self, request: &login::Request, arrival: Timestamp) -> Result<login::Response, StatusCode> {
        let grant = match &request.grant {
            Grant::Password { api_key, api_secret } => {
                assert_eq!(api_key, API_KEY);
                assert_eq!(api_secret.expose_secret(), "secret");
                "password"
            }
            Grant::RefreshToken { refresh_token } => {
                assert!(refresh_token.expose_secret().starts_with("refresh-"));
                "refresh"
            }
            _ => unreachable!("no other grant exists"),
        };
        *self.logins.entry(grant).or_default() += 1;
        if (grant == "refresh" && self.refuse_refresh) || (grant == "password" && self.refuse_password) {
            return Err(StatusCode::UNAUTHORIZED);
        }
        self.issued += 1;
        let token = format!("token-{}", self.issued);
        self.expiries.insert(token.clone(), arrival.saturating_add(secs(600)));
        Ok(response(&token, Some(600), Some(&format!("refresh-{}", self.issued))))
    }

    /// Whether the server accepts `token` for a request arriving at `arrival`.
    fn accepts(&self, token: &AccessToken, arrival: Timestamp) -> bool {
        self.expiries.get(token.expose_secret()).is_some_and(|expiry| arrival < *expiry)
    }

    fn total_logins(&self) -> u32 {
        self.logins.values().sum()
    }
}

/// Performs `attempt` against the server (taking `latency` each way), reporting every step to the
/// session, as a transport would; returns the time at which the login finished.
fn perform_login(
    session: &mut Session,
    server: &mut FakeServer,
    mut attempt: LoginAttempt,
    mut now: Timestamp,
    latency: Duration,
    jitter: Duration,
) -> (Timestamp, LoginProgress) {
    let secret = ApiSecret::new("secret");
    loop {
        let request = attempt.request(API_KEY, &secret);
        assert_eq!(request.grant_kind(), attempt.grant);
        let answer = server.log_in(&request, now.saturating_add(latency));
        now = now.saturating_add(latency * 2);
        let progress = match answer {
            Ok(response) => session.handle_login_succeeded(attempt.id, response, jitter, now),
            Err(status) => session.handle_login_failed(attempt.id, LoginFailureReason::Status(status), now),
        };
        match progress {
            LoginProgress::Retry(next) => attempt = next,
            other => return (now, other),
        }
    }
}

#[test]
fn sixty_minute_run_never_uses_an_expired_token() {
    for seed in 0..20 {
        let mut rng = SplitMix64(seed);
        let mut session = Session::default();
        let mut server = FakeServer::default();
        let mut now = Timestamp::ZERO;
        let end = at(3600);
        let mut requests = 0;
        let mut used_generations = Vec::new();
        while now < end {
            let current = match session.poll_token(now) {
                TokenPoll::Ready(current) => current,
                TokenPoll::LogIn { attempt, current } => {
                    let latency = rng.millis(5, 1500);
                    let jitter = rng.millis(0, 60_000);
                    let (done, progress) = perform_login(&mut session, &mut server, attempt, now, latency, jitter);
                    assert!(matches!(progress, LoginProgress::Succeeded(_)), "seed {seed}: {progress:?}");
                    // A proactive refresh hands out the old token meanwhile; use the new one after.
                    if let Some(old) = current {
                        assert!(now < old.expires_at);
                    }
                    now = done;
                    expect_ready(&mut session, now)
                }
                TokenPoll::Wait(id) => panic!("seed {seed}: nothing else is in flight, yet told to wait on {id:?}"),
                other => panic!("seed {seed}: {other:?}"),
            };
            assert!(now < current.expires_at, "seed {seed}: handed out an expired token at {now:?}");
            let latency = rng.millis(5, 2000);
            assert!(
                server.accepts(&current.token, now.saturating_add(latency)),
                "seed {seed}: the server refused {:?} at {now:?}",
                current.generation
            );
            used_generations.push(current.generation);
            requests += 1;
            now = now.saturating_add(latency * 2).saturating_add(rng.millis(1000, 5000));
        }
        assert!(requests > 500, "seed {seed}: only {requests} requests");
        let logins = server.total_logins();
        assert!((7..=8).contains(&logins), "seed {seed}: {logins} logins in 60 minutes");
        assert_eq!(server.logins.get("password"), Some(&1), "seed {seed}: only the first login uses the password");
        assert!(used_generations.windows(2).all(|pair| pair[0] <= pair[1]), "seed {seed}: generations went back");
        assert_eq!(session.generation().map(Generation::get), Some(u64::from(logins)));
    }
}

/// A login in flight in the concurrent simulation.
struct PendingLogin {
    attempt: LoginAttempt,
    /// When its answer comes back.
    done: Timestamp,
    answer: Result<login::Response, StatusCode>,
}

#[test]
fn sixty_minutes_of_interleaved_workers_share_each_login() {
    const WORKERS: usize = 8;
    for seed in 100..110 {
        let mut rng = SplitMix64(seed);
        let mut session = Session::default();
        let mut server = FakeServer::default();
        let secret = ApiSecret::new("secret");
        // Each worker's next wake-up; `None` while it waits on the login in flight.
        let mut next: Vec<Option<Timestamp>> = (0..WORKERS).map(|w| Some(at_millis(w as u64 * 7))).collect();
        let mut pending: Option<PendingLogin> = None;
        let (mut sent, mut waits, mut logical_logins) = (0u32, 0u32, 0u32);
        let end = at(3600);
        loop {
            let worker = (0..WORKERS).filter(|w| next[*w].is_some()).min_by_key(|w| next[*w]);
            let worker_time = worker.and_then(|w| next[w]);
            // The login's answer arrives before the next worker wakes.
            if let Some(login) = pending.as_ref().filter(|login| worker_time.is_none_or(|t| login.done <= t)) {
                let now = login.done;
                let id = login.attempt.id;
                let answer = pending.take().map(|login| login.answer);
                let progress = match answer {
                    Some(Ok(response)) => session.handle_login_succeeded(id, response, rng.millis(0, 60_000), now),
                    _ => panic!("seed {seed}: the server refuses nothing in this run"),
                };
                assert!(matches!(progress, LoginProgress::Succeeded(_)), "seed {seed}: {progress:?}");
                assert_eq!(session.login_outcome(id), LoginOutcome::Succeeded(session.generation().unwrap()));
                for slot in next.iter_mut().filter(|slot| slot.is_none()) {
                    *slot = Some(now);
                }
                continue;
            }
            let (Some(w), Some(now)) = (worker, worker_time) else { panic!("seed {seed}: everybody waits") };
            if now >= end {
                break;
            }
            match session.poll_token(now) {
                TokenPoll::Ready(current) => {
                    assert!(now < current.expires_at, "seed {seed}: expired token handed out");
                    let latency = rng.millis(5, 2000);
                    assert!(server.accepts(&current.token, now.saturating_add(latency)), "seed {seed}: refused");
                    sent += 1;
                    next[w] = Some(now.saturating_add(latency * 2).saturating_add(rng.millis(500, 4000)));
                }
                TokenPoll::LogIn { attempt, .. } => {
                    assert!(pending.is_none(), "seed {seed}: a second login while one is in flight");
                    logical_logins += 1;
                    let latency = rng.millis(100, 3000);
                    let answer = server.log_in(&attempt.request(API_KEY, &secret), now.saturating_add(latency));
                    pending = Some(PendingLogin { attempt, done: now.saturating_add(latency * 2), answer });
                    next[w] = None;
                }
                TokenPoll::Wait(id) => {
                    assert_eq!(Some(id), pending.as_ref().map(|login| login.attempt.id));
                    assert_eq!(session.login_outcome(id), LoginOutcome::Pending);
                    waits += 1;
                    next[w] = None;
                }
                other => panic!("seed {seed}: {other:?}"),
            }
        }
        assert!(sent > 4000, "seed {seed}: only {sent} requests");
        assert!(waits >= WORKERS as u32 - 1, "seed {seed}: the first login had {waits} waiters");
        assert!((7..=8).contains(&logical_logins), "seed {seed}: {logical_logins} logins");
        assert_eq!(server.total_logins(), logical_logins, "seed {seed}");
    }
}

#[test]
fn first_login_uses_the_password_grant_then_refresh() {
    let mut session = Session::default();
    assert_eq!(session.next_grant(), GrantKind::Password);
    let attempt = expect_login(&mut session, at(0));
    assert_eq!(attempt.grant, GrantKind::Password);
    assert!(attempt.refresh_token.is_none());
    let request = attempt.request(API_KEY, &ApiSecret::new("secret"));
    assert!(matches!(request.grant, Grant::Password { .. }));
    succeed(&mut session, attempt.id, response("token-1", Some(600), Some("refresh-1")), Duration::ZERO, at(1));
    assert!(session.has_refresh_token());
    assert_eq!(session.next_grant(), GrantKind::RefreshToken);

    let attempt = expect_login(&mut session, at(480));
    assert_eq!(attempt.grant, GrantKind::RefreshToken);
    let request = attempt.request(API_KEY, &ApiSecret::new("secret"));
    match &request.grant {
        Grant::RefreshToken { refresh_token } => assert_eq!(refresh_token.expose_secret(), "refresh-1"),
        other => panic!("expected the refresh grant, got {other:?}"),
    }
    // The refresh grant's form carries the refresh token, not the secret.
    let base = cyrisma_core::BaseUrl::central("https://api.cyrisma.com/app").unwrap();
    let built = request.to_http_request(&base, None).unwrap();
    let body = String::from_utf8(built.body().as_bytes().to_vec()).unwrap();
    assert!(body.contains("grant_type=refresh_token") && !body.contains("secret"), "{body}");
}

#[test]
fn expiry_and_refresh_times_follow_the_ttl_and_jitter() {
    let mut session = Session::default();
    let attempt = expect_login(&mut session, at(100));
    // Measured from the start of the login, not its end.
    succeed(&mut session, attempt.id, response("t", Some(600), None), secs(20), at(103));
    assert_eq!(session.expires_at(), Some(at(700)));
    assert_eq!(session.refresh_at(), Some(at(700 - 100)));
    assert_eq!(session.poll_timeout(), Some(at(600)));

    // A short token: the margin is half the lifetime, and the jitter cannot push refresh past expiry.
    let mut session = Session::default();
    let attempt = expect_login(&mut session, at(0));
    succeed(&mut session, attempt.id, response("t", Some(10), None), secs(3600), at(0));
    assert_eq!(session.expires_at(), Some(at(10)));
    assert_eq!(session.refresh_at(), Some(at(10)));

    // Missing and zero `expires_in` both mean 600 s.
    for expires_in in [None, Some(0)] {
        let mut session = Session::default();
        let attempt = expect_login(&mut session, at(0));
        succeed(&mut session, attempt.id, response("t", expires_in, None), Duration::ZERO, at(0));
        assert_eq!(session.expires_at(), Some(at(600)), "{expires_in:?}");
        assert_eq!(session.refresh_at(), Some(at(480)), "{expires_in:?}");
    }
}

#[test]
fn token_is_never_handed_out_at_or_after_expiry() {
    let mut session = Session::default();
    let attempt = expect_login(&mut session, at(0));
    succeed(&mut session, attempt.id, response("t", Some(600), Some("r")), Duration::ZERO, at(0));
    // A proactive refresh is started and hangs; others keep the usable token until expiry.
    let refresh = match session.poll_token(at(480)) {
        TokenPoll::LogIn { attempt, current: Some(current) } => {
            assert_eq!(current.token.expose_secret(), "t");
            attempt
        }
        other => panic!("expected a proactive refresh, got {other:?}"),
    };
    assert_eq!(expect_ready(&mut session, at(599)).token.expose_secret(), "t");
    assert!(session.is_token_usable(at_millis(599_999)));
    assert!(!session.is_token_usable(at(600)));
    assert!(matches!(session.poll_token(at(600)), TokenPoll::Wait(id) if id == refresh.id));
    assert!(matches!(session.poll_token(at(650)), TokenPoll::Wait(id) if id == refresh.id));
    succeed(&mut session, refresh.id, response("u", Some(600), Some("r2")), Duration::ZERO, at(651));
    let current = expect_ready(&mut session, at(651));
    assert_eq!(current.token.expose_secret(), "u");
    assert_eq!(current.expires_at, at(1080));
}

#[test]
fn failed_refresh_falls_back_to_the_password_grant() {
    let mut session = Session::default();
    let mut server = FakeServer::default();
    let attempt = expect_login(&mut session, at(0));
    let (now, progress) = perform_login(&mut session, &mut server, attempt, at(0), secs(1), Duration::ZERO);
    assert!(matches!(progress, LoginProgress::Succeeded(_)));

    server.refuse_refresh = true;
    let refresh = expect_login(&mut session, at(500));
    assert_eq!(refresh.grant, GrantKind::RefreshToken);
    // Step by step: the refresh failure turns into a password attempt with the same id.
    let refused = server.log_in(&refresh.request(API_KEY, &ApiSecret::new("secret")), at(500));
    assert_eq!(refused.err(), Some(StatusCode::UNAUTHORIZED));
    let fallback =
        match session.handle_login_failed(refresh.id, LoginFailureReason::Status(StatusCode::UNAUTHORIZED), at(501)) {
            LoginProgress::Retry(fallback) => fallback,
            other => panic!("expected a password fallback, got {other:?}"),
        };
    assert_eq!(fallback.id, refresh.id);
    assert_eq!(fallback.grant, GrantKind::Password);
    assert!(fallback.refresh_token.is_none());
    assert!(!session.has_refresh_token());
    assert_eq!(session.login_outcome(refresh.id), LoginOutcome::Pending);
    // Still single flight while the fallback runs.
    assert!(matches!(session.poll_token(at(501)), TokenPoll::Ready(_)));
    let (_, progress) = perform_login(&mut session, &mut server, fallback, at(501), secs(1), Duration::ZERO);
    let LoginProgress::Succeeded(generation) = progress else { panic!("expected success, got {progress:?}") };
    assert_eq!(generation.get(), 2);
    assert_eq!(session.login_outcome(refresh.id), LoginOutcome::Succeeded(generation));
    assert_eq!(server.logins.get("refresh"), Some(&1));
    assert_eq!(server.logins.get("password"), Some(&2));
    // The new login's refresh token is used next time.
    assert!(session.has_refresh_token());
    assert_eq!(now, at(2));
}

#[test]
fn failed_password_is_reported_once_and_not_looped() {
    let mut session = Session::default();
    let mut server = FakeServer { refuse_password: true, ..FakeServer::default() };
    let attempt = expect_login(&mut session, at(0));
    let id = attempt.id;
    // 50 callers wait on it.
    for _ in 0..50 {
        assert!(matches!(session.poll_token(at(0)), TokenPoll::Wait(waiting) if waiting == id));
    }
    let (now, progress) = perform_login(&mut session, &mut server, attempt, at(0), secs(1), Duration::ZERO);
    let LoginProgress::Failed(failure) = progress else { panic!("expected failure, got {progress:?}") };
    assert_eq!(failure.attempt, id);
    assert_eq!(failure.grant, GrantKind::Password);
    assert_eq!(failure.reason, LoginFailureReason::Status(StatusCode::UNAUTHORIZED));
    assert_eq!(server.total_logins(), 1, "one poll, one login");
    // Every waiter sees the same failure: not a success, not a new login on its behalf.
    for _ in 0..50 {
        assert_eq!(session.login_outcome(id), LoginOutcome::Failed(failure.clone()));
    }
    assert!(!session.is_token_usable(now));
    assert_eq!(session.generation(), None);
    // The next poll may try again, with a new attempt.
    let again = expect_login(&mut session, now);
    assert_ne!(again.id, id);
    assert_eq!(again.grant, GrantKind::Password);
}

#[test]
fn failed_refresh_and_password_keep_the_usable_token_and_back_off() {
    let mut session = Session::default();
    let mut server = FakeServer::default();
    let attempt = expect_login(&mut session, at(0));
    let (_, progress) = perform_login(&mut session, &mut server, attempt, at(0), Duration::ZERO, Duration::ZERO);
    assert!(matches!(progress, LoginProgress::Succeeded(_)), "{progress:?}");
    server.refuse_refresh = true;
    server.refuse_password = true;

    let refresh = expect_login(&mut session, at(480));
    let (now, progress) = perform_login(&mut session, &mut server, refresh, at(480), secs(1), Duration::ZERO);
    assert!(matches!(progress, LoginProgress::Failed(_)), "{progress:?}");
    assert_eq!(server.total_logins(), 3, "password, then refresh and its password fallback");
    // The token is still usable: it is handed out, and no new login for the retry interval.
    assert_eq!(now, at(484));
    assert_eq!(session.poll_timeout(), Some(at(494)));
    for second in 484..494 {
        assert_eq!(expect_ready(&mut session, at(second)).generation.get(), 1);
    }
    let retry = expect_login(&mut session, at(494));
    assert_eq!(retry.grant, GrantKind::Password, "the refresh token was dropped");
    fail(&mut session, retry.id, LoginFailureReason::NoResponse, at(495));
    // Never past expiry, however the logins fail.
    assert!(matches!(session.poll_token(at(600)), TokenPoll::LogIn { current: None, .. }));
}

#[test]
fn many_concurrent_waiters_cause_one_login() {
    let mut session = Session::default();
    let mut logins = 0;
    let mut waits = 0;
    let mut attempt = None;
    for caller in 0..200u64 {
        match session.poll_token(at_millis(caller)) {
            TokenPoll::LogIn { attempt: first, current: None } => {
                logins += 1;
                attempt = Some(first);
            }
            TokenPoll::Wait(id) => {
                assert_eq!(Some(id), attempt.as_ref().map(|attempt| attempt.id));
                waits += 1;
            }
            other => panic!("caller {caller}: {other:?}"),
        }
    }
    assert_eq!((logins, waits), (1, 199));
    let attempt = attempt.unwrap();
    assert_eq!(session.login_in_flight(), Some(attempt.id));
    succeed(&mut session, attempt.id, response("t", Some(600), Some("r")), Duration::ZERO, at(1));
    assert_eq!(session.login_outcome(attempt.id), LoginOutcome::Succeeded(session.generation().unwrap()));
    for caller in 0..200 {
        let current = expect_ready(&mut session, at(1));
        assert_eq!(current.generation.get(), 1, "caller {caller}");
    }
    assert_eq!(session.login_in_flight(), None);
}

#[test]
fn many_callers_reporting_the_same_401_cause_one_relogin() {
    let mut session = Session::default();
    let first = log_in(&mut session, at(0), "t1");
    let mut cleared = 0;
    let mut logins = 0;
    for _ in 0..20 {
        match session.handle_unauthorized(first) {
            UnauthorizedAction::Cleared => cleared += 1,
            UnauthorizedAction::Stale { current: None } => {}
            other => panic!("{other:?}"),
        }
        if let TokenPoll::LogIn { .. } = session.poll_token(at(10)) {
            logins += 1;
        }
    }
    assert_eq!((cleared, logins), (1, 1));
    assert!(!session.is_token_usable(at(10)), "the cleared token is not handed out");
}

#[test]
fn current_401_clears_the_token_and_leads_to_one_login() {
    let mut session = Session::default();
    let first = log_in(&mut session, at(0), "t1");
    assert_eq!(session.handle_unauthorized(first), UnauthorizedAction::Cleared);
    assert_eq!(session.generation(), None);
    // The refresh token survives a 401 to the access token: the refresh grant is tried first.
    let attempt = expect_login(&mut session, at(10));
    assert_eq!(attempt.grant, GrantKind::RefreshToken);
    succeed(&mut session, attempt.id, response("t2", Some(600), None), Duration::ZERO, at(11));
    let current = expect_ready(&mut session, at(11));
    assert_eq!(current.token.expose_secret(), "t2");
    assert!(current.generation > first);
    assert!(session.has_refresh_token(), "a refresh without a new refresh token keeps the old one");
}

#[test]
fn stale_401_does_not_discard_the_newer_token() {
    let mut session = Session::default();
    let first = log_in(&mut session, at(0), "t1");
    let attempt = expect_login(&mut session, at(480));
    succeed(&mut session, attempt.id, response("t2", Some(600), Some("r2")), Duration::ZERO, at(481));
    let second = session.generation().unwrap();
    assert!(second > first);
    // A request sent with the first token comes back 401 after the refresh.
    assert_eq!(session.handle_unauthorized(first), UnauthorizedAction::Stale { current: Some(second) });
    let replay = expect_ready(&mut session, at(482));
    assert_eq!(replay.generation, second);
    assert_eq!(replay.token.expose_secret(), "t2");
    // Nothing new was started.
    assert_eq!(session.login_in_flight(), None);
}

#[test]
fn instance_marks_reset_after_each_new_token() {
    let mut session = Session::default();
    let ids = ["cc1", "cc2", "cc3"];
    assert_eq!(session.poll_instance_auth(ids), InstanceAuthPlan::All);
    let first = log_in(&mut session, at(0), "t1");
    assert_eq!(session.instances_needing_auth(ids), ids);
    assert!(session.handle_instances_authenticated(first, ["cc1", "cc2", "cc3"]));
    assert_eq!(session.instances_needing_auth(ids), Vec::<&str>::new());
    assert_eq!(session.poll_instance_auth(ids), InstanceAuthPlan::None);

    // A proactive refresh: every instance needs authentication again.
    let attempt = expect_login(&mut session, at(480));
    succeed(&mut session, attempt.id, response("t2", Some(600), Some("r")), Duration::ZERO, at(481));
    let second = session.generation().unwrap();
    assert_eq!(session.instances_needing_auth(ids), ids);
    assert_eq!(session.poll_instance_auth(ids), InstanceAuthPlan::All);
    // A late report for the old token is ignored.
    assert!(!session.handle_instances_authenticated(first, ["cc1"]));
    assert_eq!(session.instance_auth("cc1"), InstanceAuth::Needed);
    assert!(session.handle_instances_authenticated(second, ["cc1", "cc3"]));
    assert_eq!(session.poll_instance_auth(ids), InstanceAuthPlan::One("cc2"));

    // A 401 for the token clears the marks too.
    assert_eq!(session.handle_unauthorized(second), UnauthorizedAction::Cleared);
    assert_eq!(session.instances_needing_auth(["cc1"]), ["cc1"]);
    let third = log_in(&mut session, at(490), "t3");
    assert_eq!(third.get(), 3);
    assert_eq!(session.instances_needing_auth(ids), ids);
}

#[test]
fn instance_plan_dedupes_and_picks_the_form() {
    let mut session = Session::default();
    let generation = log_in(&mut session, at(0), "t1");
    assert_eq!(session.poll_instance_auth(Vec::<&str>::new()), InstanceAuthPlan::None);
    assert_eq!(session.poll_instance_auth(["cc1", "cc1", "cc1"]), InstanceAuthPlan::One("cc1"));
    assert_eq!(session.instances_needing_auth(["cc2", "cc1", "cc2"]), ["cc2", "cc1"]);
    assert!(session.handle_instances_authenticated(generation, ["cc1"]));
    assert_eq!(session.poll_instance_auth(["cc1", "cc2"]), InstanceAuthPlan::One("cc2"));
    assert_eq!(session.poll_instance_auth(["cc1"]), InstanceAuthPlan::None);
}

#[test]
fn refused_instances_are_not_asked_again_for_the_same_token() {
    let mut session = Session::default();
    let generation = log_in(&mut session, at(0), "t1");
    assert_eq!(session.poll_instance_auth(["cc1", "cc2"]), InstanceAuthPlan::All);
    session.handle_instances_authenticated(generation, ["cc1"]);
    assert!(session.handle_instances_refused(generation, ["cc2"]));
    assert_eq!(session.instance_auth("cc2"), InstanceAuth::Refused);
    assert_eq!(session.poll_instance_auth(["cc1", "cc2"]), InstanceAuthPlan::None);
    // A new token gives the refused instance another chance.
    let attempt = expect_login(&mut session, at(480));
    succeed(&mut session, attempt.id, response("t2", Some(600), None), Duration::ZERO, at(480));
    assert_eq!(session.instance_auth("cc2"), InstanceAuth::Needed);
}

#[test]
fn instance_401_clears_only_that_instance_for_that_generation() {
    let mut session = Session::default();
    let first = log_in(&mut session, at(0), "t1");
    session.handle_instances_authenticated(first, ["cc1", "cc2"]);
    assert_eq!(session.handle_instance_unauthorized(first, "cc1"), InstanceUnauthorizedAction::Reauthenticate);
    assert_eq!(session.instance_auth("cc1"), InstanceAuth::Needed);
    assert_eq!(session.instance_auth("cc2"), InstanceAuth::Authenticated);
    assert_eq!(session.poll_instance_auth(["cc1", "cc2"]), InstanceAuthPlan::One("cc1"));
    // The token itself is untouched.
    assert_eq!(session.generation(), Some(first));

    // After a new token, a 401 for the old token's instance auth changes nothing.
    let attempt = expect_login(&mut session, at(480));
    succeed(&mut session, attempt.id, response("t2", Some(600), None), Duration::ZERO, at(480));
    let second = session.generation().unwrap();
    session.handle_instances_authenticated(second, ["cc1", "cc2"]);
    assert_eq!(
        session.handle_instance_unauthorized(first, "cc2"),
        InstanceUnauthorizedAction::Stale { current: Some(second) }
    );
    assert_eq!(session.instance_auth("cc2"), InstanceAuth::Authenticated);
}

#[test]
fn late_and_duplicate_reports_are_stale() {
    let mut session = Session::default();
    let attempt = expect_login(&mut session, at(0));
    assert!(matches!(
        session.handle_login_succeeded(attempt.id, response("t1", None, None), Duration::ZERO, at(1)),
        LoginProgress::Succeeded(_)
    ));
    // Reported twice: the second is ignored and does not create a new generation.
    assert!(matches!(
        session.handle_login_succeeded(attempt.id, response("t9", None, None), Duration::ZERO, at(1)),
        LoginProgress::Stale
    ));
    assert!(matches!(
        session.handle_login_failed(attempt.id, LoginFailureReason::NoResponse, at(1)),
        LoginProgress::Stale
    ));
    assert_eq!(session.generation().map(Generation::get), Some(1));
    assert_eq!(expect_ready(&mut session, at(2)).token.expose_secret(), "t1");
}

#[test]
fn an_empty_token_is_a_failed_login() {
    let mut session = Session::default();
    let attempt = expect_login(&mut session, at(0));
    let progress = session.handle_login_succeeded(attempt.id, response("", Some(600), None), Duration::ZERO, at(1));
    let LoginProgress::Failed(failure) = progress else { panic!("expected failure, got {progress:?}") };
    assert_eq!(failure.reason, LoginFailureReason::InvalidResponse);
    assert_eq!(session.generation(), None);
}

#[test]
fn stuck_login_times_out_and_the_next_caller_takes_over() {
    let mut config = SessionConfig::default();
    config.login_timeout = secs(60);
    let mut session = Session::new(config);
    let stuck = expect_login(&mut session, at(0));
    assert_eq!(session.poll_timeout(), Some(at(60)));
    assert!(matches!(session.poll_token(at(59)), TokenPoll::Wait(_)));
    let next = expect_login(&mut session, at(60));
    assert_ne!(next.id, stuck.id);
    assert_eq!(session.login_outcome(stuck.id), LoginOutcome::Abandoned);
    // The stuck one's late answer is not used.
    assert!(matches!(
        session.handle_login_succeeded(stuck.id, response("late", None, None), Duration::ZERO, at(61)),
        LoginProgress::Stale
    ));
    assert_eq!(session.generation(), None);
    assert_eq!(session.login_in_flight(), Some(next.id));
}

#[test]
fn abandoned_login_lets_waiters_poll_again() {
    let mut session = Session::default();
    let attempt = expect_login(&mut session, at(0));
    assert!(matches!(session.poll_token(at(0)), TokenPoll::Wait(_)));
    assert!(session.handle_login_abandoned(attempt.id));
    assert!(!session.handle_login_abandoned(attempt.id));
    assert_eq!(session.login_outcome(attempt.id), LoginOutcome::Abandoned);
    assert!(matches!(session.poll_token(at(1)), TokenPoll::LogIn { .. }));
    assert_eq!(session.login_outcome(attempt.id), LoginOutcome::Abandoned);
}

#[test]
fn old_outcomes_are_forgotten_not_confused() {
    let mut session = Session::default();
    let first = expect_login(&mut session, at(0));
    fail(&mut session, first.id, LoginFailureReason::NoResponse, at(0));
    for _ in 0..40 {
        let attempt = expect_login(&mut session, at(0));
        fail(&mut session, attempt.id, LoginFailureReason::NoResponse, at(0));
    }
    assert_eq!(session.login_outcome(first.id), LoginOutcome::Unknown);
}

#[test]
fn debug_output_never_shows_tokens() {
    let mut session = Session::default();
    let attempt = expect_login(&mut session, at(0));
    succeed(
        &mut session,
        attempt.id,
        response("CANARYaccess0020261122000000", Some(600), Some("CANARYrefresh0020261122000000")),
        Duration::ZERO,
        at(0),
    );
    let refresh = match session.poll_token(at(500)) {
        TokenPoll::LogIn { attempt, current } => {
            let text = format!("{attempt:?} {current:?} {current:#?}");
            assert!(!text.contains("CANARY"), "{text}");
            attempt
        }
        other => panic!("{other:?}"),
    };
    for text in [format!("{session:?}"), format!("{session:#?}"), format!("{refresh:#?}")] {
        assert!(!text.contains("CANARY"), "{text}");
        assert!(text.contains("<redacted>"), "{text}");
    }
}
