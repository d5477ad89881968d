//! The session state machine: when to log in, when to refresh, which grant to present, how to
//! react to a `401`, and which instances still need instance authentication for the current token.
//!
//! [`Session`] is sans-IO in the style of `quinn-proto`: it never sends anything and never reads a
//! clock. The transport feeds it events with `handle_*(…, now)` and asks it what to do next with
//! `poll_*(now, …)`; every instant is a [`Timestamp`] the caller supplies.

use std::collections::{BTreeSet, VecDeque};
use std::time::Duration;

use http::StatusCode;

use crate::api::auth::login::{self, GrantKind};
use crate::secret::{AccessToken, ApiSecret, RefreshToken};

/// A monotonic instant, as the time elapsed since an origin the caller chooses once (for example
/// the `tokio::time::Instant` at which the client was built).
///
/// The session compares timestamps only with each other, so any origin works as long as one
/// session always gets timestamps from the same origin and clock.
#[derive(Clone, Copy, Debug, Default, Eq, Hash, Ord, PartialEq, PartialOrd)]
pub struct Timestamp(Duration);

impl Timestamp {
    /// The origin itself.
    pub const ZERO: Self = Self(Duration::ZERO);

    /// The instant `elapsed` after the origin.
    pub const fn from_duration(elapsed: Duration) -> Self {
        Self(elapsed)
    }

    /// The time elapsed since the origin.
    pub const fn as_duration(self) -> Duration {
        self.0
    }

    /// `self + duration`, or `None` on overflow.
    pub fn checked_add(self, duration: Duration) -> Option<Self> {
        self.0.checked_add(duration).map(Self)
    }

    /// `self - duration`, or `None` if that would be before the origin.
    pub fn checked_sub(self, duration: Duration) -> Option<Self> {
        self.0.checked_sub(duration).map(Self)
    }

    /// `self + duration`, saturating at the largest representable instant.
    pub fn saturating_add(self, duration: Duration) -> Self {
        Self(self.0.saturating_add(duration))
    }

    /// `self - duration`, saturating at the origin.
    pub fn saturating_sub(self, duration: Duration) -> Self {
        Self(self.0.saturating_sub(duration))
    }

    /// The time from `earlier` to `self`, or zero if `earlier` is later.
    pub fn saturating_duration_since(self, earlier: Timestamp) -> Duration {
        self.0.saturating_sub(earlier.0)
    }
}

/// The generation of an access token: 1 for the first token a session obtains, and one more for
/// every later token. A `401` names the generation of the token it answered, so that a stale
/// `401` never discards a newer token.
#[derive(Clone, Copy, Debug, Eq, Hash, Ord, PartialEq, PartialOrd)]
pub struct Generation(u64);

impl Generation {
    /// The number.
    pub const fn get(self) -> u64 {
        self.0
    }
}

/// Identifies one login attempt (one logical login: a refresh grant and its password fallback
/// share an id), so that waiters can ask for its outcome and late reports are recognised.
#[derive(Clone, Copy, Debug, Eq, Hash, Ord, PartialEq, PartialOrd)]
pub struct LoginAttemptId(u64);

impl LoginAttemptId {
    /// The number (attempts are numbered from 1 within a session).
    pub const fn get(self) -> u64 {
        self.0
    }
}

/// The timing rules of a [`Session`].
///
/// `Default` gives the documented values below, which suit the documented 600 s tokens.
#[derive(Clone, Debug, Eq, PartialEq)]
#[non_exhaustive]
pub struct SessionConfig {
    /// Token lifetime assumed when the login response has no `expires_in`, or `expires_in: 0`.
    /// Default: 600 s (the documented "generally 600 seconds").
    pub default_ttl: Duration,
    /// Upper bound of the refresh margin: a token is refreshed `min(max_refresh_margin, ttl / 2)`
    /// less the caller's jitter before it expires. Default: 120 s.
    pub max_refresh_margin: Duration,
    /// How long after a failed proactive refresh (while the token is still usable) the session
    /// waits before it asks for another one. Default: 10 s.
    pub refresh_retry_interval: Duration,
    /// How long a login may stay in flight before the session considers it abandoned and lets the
    /// next caller start a new one. It must exceed the transport's total request timeout twice
    /// over (a refresh and its password fallback). Default: 300 s.
    pub login_timeout: Duration,
}

impl Default for SessionConfig {
    fn default() -> Self {
        Self {
            default_ttl: Duration::from_secs(600),
            max_refresh_margin: Duration::from_secs(120),
            refresh_retry_interval: Duration::from_secs(10),
            login_timeout: Duration::from_secs(300),
        }
    }
}

impl SessionConfig {
    /// The lifetime of a token whose login response said `expires_in`.
    ///
    /// A missing value and `0` both mean [`default_ttl`](Self::default_ttl): a token that
    /// expires at once is not a meaningful answer, and should the server really mean it, the
    /// first `401` leads to exactly one new login (see [`Session::handle_unauthorized`]).
    pub fn token_ttl(&self, expires_in: Option<u64>) -> Duration {
        match expires_in {
            None | Some(0) => self.default_ttl,
            Some(seconds) => Duration::from_secs(seconds),
        }
    }

    /// How long before expiry a token of lifetime `ttl` is refreshed:
    /// `min(max_refresh_margin, ttl / 2) - jitter`, never negative.
    pub fn refresh_margin(&self, ttl: Duration, jitter: Duration) -> Duration {
        self.max_refresh_margin.min(ttl / 2).saturating_sub(jitter)
    }
}

/// A token the caller may send now.
#[derive(Clone, Debug, Eq, PartialEq)]
#[non_exhaustive]
pub struct CurrentToken {
    /// The access token.
    pub token: AccessToken,
    /// Its generation: pass it to [`Session::handle_unauthorized`] and the instance handlers.
    pub generation: Generation,
    /// When the session stops handing it out.
    pub expires_at: Timestamp,
}

/// A login the caller must perform now, then report with [`Session::handle_login_succeeded`],
/// [`Session::handle_login_failed`] or [`Session::handle_login_abandoned`].
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct LoginAttempt {
    /// The attempt's id.
    pub id: LoginAttemptId,
    /// The grant to present.
    pub grant: GrantKind,
    /// The refresh token to present (set for the refresh grant).
    pub refresh_token: Option<RefreshToken>,
}

impl LoginAttempt {
    /// The login request for this attempt. The API key and secret are used only for the password
    /// grant; the session never holds them.
    pub fn request(&self, api_key: &str, api_secret: &ApiSecret) -> login::Request {
        match (&self.grant, &self.refresh_token) {
            (GrantKind::RefreshToken, Some(refresh_token)) => login::Request::refresh(refresh_token.clone()),
            _ => login::Request::password(api_key, api_secret.clone()),
        }
    }
}

/// What [`Session::poll_token`] asks the caller to do.
#[derive(Clone, Debug)]
#[must_use]
#[non_exhaustive]
pub enum TokenPoll {
    /// Send the request with this token.
    Ready(CurrentToken),
    /// Perform this login (the caller is the one performer; everyone else is told to wait or
    /// keeps the still-usable token).
    LogIn {
        /// The login to perform.
        attempt: LoginAttempt,
        /// The current token if it is still usable (a proactive refresh): the caller may send its
        /// request with it while, or instead of waiting until, the refresh completes.
        current: Option<CurrentToken>,
    },
    /// A login is in flight and no token is usable: wait until it is reported, then check
    /// [`Session::login_outcome`] and poll again.
    Wait(LoginAttemptId),
}

/// Why a login failed.
#[derive(Clone, Copy, Debug, Eq, PartialEq)]
#[non_exhaustive]
pub enum LoginFailureReason {
    /// The server answered with this non-success status.
    Status(StatusCode),
    /// No usable answer: connection failure, timeout, cut response.
    NoResponse,
    /// A success status whose body is not a usable login response (for example an empty token).
    InvalidResponse,
}

/// A failed login, as reported to its performer and to every waiter.
#[derive(Clone, Debug, Eq, PartialEq)]
#[non_exhaustive]
pub struct LoginFailure {
    /// The attempt that failed.
    pub attempt: LoginAttemptId,
    /// The grant of the final step (the password grant, unless a failed refresh could not fall
    /// back).
    pub grant: GrantKind,
    /// Why it failed.
    pub reason: LoginFailureReason,
    /// When the failure was reported.
    pub at: Timestamp,
}

/// What became of a reported login step.
#[derive(Clone, Debug)]
#[must_use]
#[non_exhaustive]
pub enum LoginProgress {
    /// A new token is stored under this generation; poll for it.
    Succeeded(Generation),
    /// The refresh grant failed: perform this password-grant attempt now (same attempt id, so
    /// waiters keep waiting).
    Retry(LoginAttempt),
    /// The login failed; report it. The next poll may start a new login.
    Failed(LoginFailure),
    /// The report named an attempt that is no longer in flight (abandoned or already reported);
    /// it was ignored and any token it carried was discarded.
    Stale,
}

/// The outcome of a login attempt, for the callers that waited on it.
#[derive(Clone, Debug, Eq, PartialEq)]
#[non_exhaustive]
pub enum LoginOutcome {
    /// Still in flight.
    Pending,
    /// It produced the token of this generation.
    Succeeded(Generation),
    /// It failed: report this to the waiting caller (do not log in again on its behalf).
    Failed(LoginFailure),
    /// Its performer gave up or timed out without an answer: poll again.
    Abandoned,
    /// Too old to be remembered: poll again.
    Unknown,
}

/// How to react to a `401` for a token.
#[derive(Clone, Copy, Debug, Eq, PartialEq)]
#[must_use]
#[non_exhaustive]
pub enum UnauthorizedAction {
    /// The `401` was for the current token, which is now discarded: poll for a new token (this
    /// leads to one login however many callers report the same `401`), then replay once.
    Cleared,
    /// The `401` was for an older token, or the token was already discarded: nothing changed.
    /// Poll for the token to use (`current` is the newer one, if held) and replay once.
    Stale {
        /// The generation of the token the session holds now, if any.
        current: Option<Generation>,
    },
}

/// How to react to `instance_not_authenticated` for an instance.
#[derive(Clone, Copy, Debug, Eq, PartialEq)]
#[must_use]
#[non_exhaustive]
pub enum InstanceUnauthorizedAction {
    /// The instance's mark for the current token is cleared: authenticate it again, then replay.
    Reauthenticate,
    /// The `401` was for an older token: poll for the current token, authenticate as
    /// [`Session::poll_instance_auth`] says, then replay.
    Stale {
        /// The generation of the token the session holds now, if any.
        current: Option<Generation>,
    },
}

/// Where an instance stands for the current token.
#[derive(Clone, Copy, Debug, Eq, Hash, PartialEq)]
#[non_exhaustive]
pub enum InstanceAuth {
    /// It accepted the current token.
    Authenticated,
    /// It refused the current token (listed in `failed_token_inserts`, suspended for example).
    Refused,
    /// It has not been authenticated for the current token.
    Needed,
}

/// Which instance login call to make before reporting calls.
#[derive(Clone, Copy, Debug, Eq, Hash, PartialEq)]
#[must_use]
#[non_exhaustive]
pub enum InstanceAuthPlan<'a> {
    /// Every instance is already authenticated (or refused) for the current token.
    None,
    /// Call `POST /partner/instances/login/{id}` for this one instance.
    One(&'a str),
    /// More than one instance needs it: call `POST /partner/instances/login/` (all instances).
    All,
}

#[derive(Clone, Debug)]
struct Token {
    access: AccessToken,
    generation: Generation,
    refresh_at: Timestamp,
    expires_at: Timestamp,
}

impl Token {
    fn current(&self) -> CurrentToken {
        CurrentToken { token: self.access.clone(), generation: self.generation, expires_at: self.expires_at }
    }
}

#[derive(Clone, Copy, Debug)]
struct InFlight {
    id: LoginAttemptId,
    grant: GrantKind,
    started: Timestamp,
}

/// How many finished login attempts [`Session::login_outcome`] remembers.
const REMEMBERED_OUTCOMES: usize = 16;

/// The login and instance-authentication state of one partner session.
///
/// # Contract
///
/// The session decides; the transport acts. Every instant is a [`Timestamp`] from the caller.
///
/// **Getters** (no side effect): [`config`](Self::config), [`generation`](Self::generation),
/// [`expires_at`](Self::expires_at), [`refresh_at`](Self::refresh_at),
/// [`is_token_usable`](Self::is_token_usable), [`has_refresh_token`](Self::has_refresh_token),
/// [`next_grant`](Self::next_grant), [`login_in_flight`](Self::login_in_flight),
/// [`login_outcome`](Self::login_outcome), [`instance_auth`](Self::instance_auth),
/// [`instances_needing_auth`](Self::instances_needing_auth).
///
/// **Inputs** (`handle_*`): [`handle_login_succeeded`](Self::handle_login_succeeded),
/// [`handle_login_failed`](Self::handle_login_failed),
/// [`handle_login_abandoned`](Self::handle_login_abandoned),
/// [`handle_unauthorized`](Self::handle_unauthorized),
/// [`handle_instances_authenticated`](Self::handle_instances_authenticated),
/// [`handle_instances_refused`](Self::handle_instances_refused),
/// [`handle_instance_unauthorized`](Self::handle_instance_unauthorized).
///
/// **Outputs** (`poll_*`): [`poll_token`](Self::poll_token) (the token to send, a login to
/// perform, or wait), [`poll_instance_auth`](Self::poll_instance_auth) (which instance login to
/// call), [`poll_timeout`](Self::poll_timeout) (when the answer of `poll_token` next changes by
/// itself).
///
/// # Rules
///
/// - **Expiry.** A token obtained by an attempt started at `t` with lifetime `ttl` (from
///   `expires_in`, see [`SessionConfig::token_ttl`]) expires at `t + ttl`: measured from when
///   the login was *started*, so the round trip only makes the session more conservative. At
///   `now >= expires_at` the token is never handed out.
/// - **Proactive refresh.** From `refresh_at = expires_at - margin` on (the margin is
///   [`SessionConfig::refresh_margin`] with the jitter given at login, so
///   `refresh_at <= expires_at`), the first poll returns [`TokenPoll::LogIn`] with the
///   still-usable token alongside; while that refresh is in flight, other polls get
///   [`TokenPoll::Ready`] with the old token until it expires, then [`TokenPoll::Wait`].
/// - **Grants.** The refresh grant when a refresh token is held, else the password grant. A
///   failed refresh grant discards the refresh token and turns into a password attempt at once
///   ([`LoginProgress::Retry`], same attempt id). A failed password grant ends the attempt
///   ([`LoginProgress::Failed`]); waiters see the failure through
///   [`login_outcome`](Self::login_outcome), and the next poll may start a new login. A failed
///   *proactive* refresh keeps the usable token and is retried no sooner than
///   [`SessionConfig::refresh_retry_interval`] later.
/// - **Single flight.** At most one login is in flight. One that is neither reported nor
///   abandoned within [`SessionConfig::login_timeout`] is treated as abandoned by the next poll.
/// - **Generations.** Every new token gets the next [`Generation`]. A `401` for the current
///   generation discards the token (compare-and-clear); one for an older generation changes
///   nothing.
/// - **Instances.** Instance marks belong to one generation: every new token (and every
///   discarded one) resets them all.
///
/// The `Debug` output shows tokens only as `<redacted>`.
#[derive(Clone, Debug)]
pub struct Session {
    config: SessionConfig,
    token: Option<Token>,
    refresh_token: Option<RefreshToken>,
    last_generation: u64,
    last_attempt: u64,
    in_flight: Option<InFlight>,
    outcomes: VecDeque<(LoginAttemptId, LoginOutcome)>,
    refresh_not_before: Option<Timestamp>,
    authenticated: BTreeSet<String>,
    refused: BTreeSet<String>,
}

impl Default for Session {
    fn default() -> Self {
        Self::new(SessionConfig::default())
    }
}

impl Session {
    /// A session with no token yet: the first poll asks for a password login.
    pub fn new(config: SessionConfig) -> Self {
        Self {
            config,
            token: None,
            refresh_token: None,
            last_generation: 0,
            last_attempt: 0,
            in_flight: None,
            outcomes: VecDeque::with_capacity(REMEMBERED_OUTCOMES),
            refresh_not_before: None,
            authenticated: BTreeSet::new(),
            refused: BTreeSet::new(),
        }
    }

    // ---------------------------------------------------------------- getters

    /// The timing rules.
    pub fn config(&self) -> &SessionConfig {
        &self.config
    }

    /// The generation of the token held, usable or not.
    pub fn generation(&self) -> Option<Generation> {
        self.token.as_ref().map(|token| token.generation)
    }

    /// When the token held expires.
    pub fn expires_at(&self) -> Option<Timestamp> {
        self.token.as_ref().map(|token| token.expires_at)
    }

    /// When the token held is due for a proactive refresh.
    pub fn refresh_at(&self) -> Option<Timestamp> {
        self.token.as_ref().map(|token| token.refresh_at)
    }

    /// Whether a token is held and may still be sent at `now`.
    pub fn is_token_usable(&self, now: Timestamp) -> bool {
        self.usable(now).is_some()
    }

    /// Whether a refresh token is held.
    pub fn has_refresh_token(&self) -> bool {
        self.refresh_token.is_some()
    }

    /// The grant the next login would start with.
    pub fn next_grant(&self) -> GrantKind {
        if self.refresh_token.is_some() { GrantKind::RefreshToken } else { GrantKind::Password }
    }

    /// The login in flight, if any.
    pub fn login_in_flight(&self) -> Option<LoginAttemptId> {
        self.in_flight.map(|in_flight| in_flight.id)
    }

    /// The outcome of a login attempt, for a caller that waited on it.
    pub fn login_outcome(&self, attempt: LoginAttemptId) -> LoginOutcome {
        if self.login_in_flight() == Some(attempt) {
            return LoginOutcome::Pending;
        }
        self.outcomes
            .iter()
            .find(|(id, _)| *id == attempt)
            .map_or(LoginOutcome::Unknown, |(_, outcome)| outcome.clone())
    }

    /// Where an instance stands for the current token (always [`InstanceAuth::Needed`] without
    /// a token).
    pub fn instance_auth(&self, instance_id: &str) -> InstanceAuth {
        if self.authenticated.contains(instance_id) {
            InstanceAuth::Authenticated
        } else if self.refused.contains(instance_id) {
            InstanceAuth::Refused
        } else {
            InstanceAuth::Needed
        }
    }

    /// The instances among `ids` that need instance authentication for the current token, in
    /// order and without duplicates. Instances that refused the current token are left out (see
    /// [`instance_auth`](Self::instance_auth)).
    pub fn instances_needing_auth<'a>(&self, ids: impl IntoIterator<Item = &'a str>) -> Vec<&'a str> {
        let mut needed: Vec<&'a str> = Vec::new();
        for id in ids {
            if self.instance_auth(id) == InstanceAuth::Needed && !needed.contains(&id) {
                needed.push(id);
            }
        }
        needed
    }

    // ---------------------------------------------------------------- inputs

    /// Reports that login `attempt` answered with `response`. `jitter` (sampled by the caller,
    /// for example uniformly in `0..=60 s`) shortens the refresh margin so that many clients do
    /// not refresh in step; it is clamped so that the margin never goes negative.
    ///
    /// An empty access token counts as a failure ([`LoginFailureReason::InvalidResponse`]). A
    /// response without a refresh token keeps the one just presented (refresh grant) or leaves
    /// none (password grant).
    pub fn handle_login_succeeded(
        &mut self,
        attempt: LoginAttemptId,
        response: login::Response,
        jitter: Duration,
        now: Timestamp,
    ) -> LoginProgress {
        let Some(in_flight) = self.in_flight.filter(|in_flight| in_flight.id == attempt) else {
            return LoginProgress::Stale;
        };
        if response.access_token.is_empty() {
            return self.handle_login_failed(attempt, LoginFailureReason::InvalidResponse, now);
        }
        self.in_flight = None;
        let ttl = self.config.token_ttl(response.expires_in);
        let expires_at = in_flight.started.saturating_add(ttl);
        let refresh_at = expires_at.saturating_sub(self.config.refresh_margin(ttl, jitter));
        self.last_generation += 1;
        let generation = Generation(self.last_generation);
        self.token = Some(Token { access: response.access_token, generation, refresh_at, expires_at });
        match response.refresh_token.filter(|token| !token.is_empty()) {
            Some(refresh_token) => self.refresh_token = Some(refresh_token),
            None if in_flight.grant == GrantKind::Password => self.refresh_token = None,
            None => {}
        }
        self.refresh_not_before = None;
        self.reset_instances();
        self.remember(attempt, LoginOutcome::Succeeded(generation));
        LoginProgress::Succeeded(generation)
    }

    /// Reports that login `attempt` failed. A failed refresh grant falls back to the password
    /// grant at once ([`LoginProgress::Retry`]); a failed password grant ends the attempt.
    pub fn handle_login_failed(
        &mut self,
        attempt: LoginAttemptId,
        reason: LoginFailureReason,
        now: Timestamp,
    ) -> LoginProgress {
        let Some(in_flight) = self.in_flight.filter(|in_flight| in_flight.id == attempt) else {
            return LoginProgress::Stale;
        };
        if in_flight.grant == GrantKind::RefreshToken {
            self.refresh_token = None;
            self.in_flight = Some(InFlight { id: attempt, grant: GrantKind::Password, started: now });
            return LoginProgress::Retry(LoginAttempt { id: attempt, grant: GrantKind::Password, refresh_token: None });
        }
        self.in_flight = None;
        let failure = LoginFailure { attempt, grant: in_flight.grant, reason, at: now };
        if self.is_token_usable(now) {
            self.refresh_not_before = Some(now.saturating_add(self.config.refresh_retry_interval));
        }
        self.remember(attempt, LoginOutcome::Failed(failure.clone()));
        LoginProgress::Failed(failure)
    }

    /// Reports that the performer of `attempt` gave up without an answer (it was cancelled).
    /// Waiters see [`LoginOutcome::Abandoned`] and poll again. Returns whether `attempt` was in
    /// flight.
    pub fn handle_login_abandoned(&mut self, attempt: LoginAttemptId) -> bool {
        if self.login_in_flight() != Some(attempt) {
            return false;
        }
        self.in_flight = None;
        self.remember(attempt, LoginOutcome::Abandoned);
        true
    }

    /// Reports a `401` (other than `instance_not_authenticated`) to a request sent with the token
    /// of `generation`. Compare-and-clear: only the current generation's token is discarded.
    pub fn handle_unauthorized(&mut self, generation: Generation) -> UnauthorizedAction {
        if self.generation() != Some(generation) {
            return UnauthorizedAction::Stale { current: self.generation() };
        }
        self.token = None;
        self.refresh_not_before = None;
        self.reset_instances();
        UnauthorizedAction::Cleared
    }

    /// Records that `ids` accepted the token of `generation` (`success_token_inserts`). Ignored,
    /// returning `false`, unless `generation` is the current one.
    pub fn handle_instances_authenticated<'a>(
        &mut self,
        generation: Generation,
        ids: impl IntoIterator<Item = &'a str>,
    ) -> bool {
        if self.generation() != Some(generation) {
            return false;
        }
        for id in ids {
            self.refused.remove(id);
            self.authenticated.insert(id.to_owned());
        }
        true
    }

    /// Records that `ids` refused the token of `generation` (`failed_token_inserts`), so that
    /// they are not asked again for this token. Ignored, returning `false`, unless `generation`
    /// is the current one.
    pub fn handle_instances_refused<'a>(
        &mut self,
        generation: Generation,
        ids: impl IntoIterator<Item = &'a str>,
    ) -> bool {
        if self.generation() != Some(generation) {
            return false;
        }
        for id in ids {
            self.authenticated.remove(id);
            self.refused.insert(id.to_owned());
        }
        true
    }

    /// Reports `401 instance_not_authenticated` from `instance_id` to a request sent with the
    /// token of `generation`: clears that instance's mark, for that generation only.
    pub fn handle_instance_unauthorized(
        &mut self,
        generation: Generation,
        instance_id: &str,
    ) -> InstanceUnauthorizedAction {
        if self.generation() != Some(generation) {
            return InstanceUnauthorizedAction::Stale { current: self.generation() };
        }
        self.authenticated.remove(instance_id);
        self.refused.remove(instance_id);
        InstanceUnauthorizedAction::Reauthenticate
    }

    // ---------------------------------------------------------------- outputs

    /// What the caller about to send a request must do: send it with a token, perform a login,
    /// or wait for the login in flight. See the type's rules.
    pub fn poll_token(&mut self, now: Timestamp) -> TokenPoll {
        self.expire_stuck_login(now);
        let usable = self.usable(now).map(Token::current);
        if let Some(in_flight) = self.in_flight {
            return match usable {
                Some(current) => TokenPoll::Ready(current),
                None => TokenPoll::Wait(in_flight.id),
            };
        }
        match usable {
            Some(current) if !self.refresh_due(now) => TokenPoll::Ready(current),
            current => TokenPoll::LogIn { attempt: self.start_attempt(now), current },
        }
    }

    /// Which instance login call to make before reporting calls to `ids`: none, the one-instance
    /// form, or the all-instances form when more than one instance needs it. Record the answer
    /// with [`handle_instances_authenticated`](Self::handle_instances_authenticated) and
    /// [`handle_instances_refused`](Self::handle_instances_refused) against the generation of
    /// the token that call was sent with.
    pub fn poll_instance_auth<'a>(&self, ids: impl IntoIterator<Item = &'a str>) -> InstanceAuthPlan<'a> {
        match self.instances_needing_auth(ids).as_slice() {
            [] => InstanceAuthPlan::None,
            [one] => InstanceAuthPlan::One(one),
            _ => InstanceAuthPlan::All,
        }
    }

    /// The next instant at which [`poll_token`](Self::poll_token) may answer differently with no
    /// other input (a refresh falls due, the token expires, a stuck login times out), for a
    /// transport that refreshes in the background. An instant in the past means "poll now";
    /// `None` means no token is held and no login is in flight (the next poll logs in).
    pub fn poll_timeout(&self) -> Option<Timestamp> {
        let stuck = self.in_flight.map(|in_flight| in_flight.started.saturating_add(self.config.login_timeout));
        let token = self.token.as_ref().map(|token| match (self.in_flight, self.refresh_not_before) {
            (Some(_), _) => token.expires_at,
            (None, Some(not_before)) => token.refresh_at.max(not_before).min(token.expires_at),
            (None, None) => token.refresh_at,
        });
        [stuck, token].into_iter().flatten().min()
    }

    // ---------------------------------------------------------------- internals

    fn usable(&self, now: Timestamp) -> Option<&Token> {
        self.token.as_ref().filter(|token| now < token.expires_at)
    }

    fn refresh_due(&self, now: Timestamp) -> bool {
        let past_refresh_at = self.token.as_ref().is_some_and(|token| now >= token.refresh_at);
        past_refresh_at && self.refresh_not_before.is_none_or(|not_before| now >= not_before)
    }

    fn start_attempt(&mut self, now: Timestamp) -> LoginAttempt {
        self.last_attempt += 1;
        let id = LoginAttemptId(self.last_attempt);
        let grant = self.next_grant();
        self.in_flight = Some(InFlight { id, grant, started: now });
        LoginAttempt { id, grant, refresh_token: self.refresh_token.clone() }
    }

    fn expire_stuck_login(&mut self, now: Timestamp) {
        if let Some(in_flight) = self.in_flight
            && now >= in_flight.started.saturating_add(self.config.login_timeout)
        {
            self.handle_login_abandoned(in_flight.id);
        }
    }

    fn reset_instances(&mut self) {
        self.authenticated.clear();
        self.refused.clear();
    }

    fn remember(&mut self, attempt: LoginAttemptId, outcome: LoginOutcome) {
        if self.outcomes.len() == REMEMBERED_OUTCOMES {
            self.outcomes.pop_front();
        }
        self.outcomes.push_back((attempt, outcome));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secs(seconds: u64) -> Duration {
        Duration::from_secs(seconds)
    }

    #[test]
    fn refresh_margin_is_clamped() {
        let config = SessionConfig::default();
        assert_eq!(config.refresh_margin(secs(600), Duration::ZERO), secs(120));
        assert_eq!(config.refresh_margin(secs(600), secs(30)), secs(90));
        assert_eq!(config.refresh_margin(secs(100), Duration::ZERO), secs(50));
        assert_eq!(config.refresh_margin(secs(100), secs(500)), Duration::ZERO);
        assert_eq!(config.refresh_margin(Duration::ZERO, secs(1)), Duration::ZERO);
    }

    #[test]
    fn ttl_defaults_for_missing_and_zero() {
        let config = SessionConfig::default();
        assert_eq!(config.token_ttl(None), secs(600));
        assert_eq!(config.token_ttl(Some(0)), secs(600));
        assert_eq!(config.token_ttl(Some(42)), secs(42));
    }

    #[test]
    fn timestamp_arithmetic_saturates_and_checks() {
        let t = Timestamp::from_duration(secs(10));
        assert_eq!(t.checked_sub(secs(11)), None);
        assert_eq!(t.saturating_sub(secs(11)), Timestamp::ZERO);
        assert_eq!(t.checked_add(secs(5)), Some(Timestamp::from_duration(secs(15))));
        assert_eq!(Timestamp::from_duration(Duration::MAX).checked_add(secs(1)), None);
        assert_eq!(Timestamp::from_duration(Duration::MAX).saturating_add(secs(1)).as_duration(), Duration::MAX);
        assert_eq!(t.saturating_duration_since(Timestamp::from_duration(secs(15))), Duration::ZERO);
        assert_eq!(t.saturating_duration_since(Timestamp::ZERO), secs(10));
    }
}
