//! The emulator's state and every rule of the contract's hierarchy, without I/O.
//!
//! Time is a parameter (`now`: a monotonic instant for expiries, plus Unix seconds for stamps),
//! so the rules are testable without sleeping. The server keeps one [`State`] behind a mutex and
//! holds the lock only while one of these methods runs.

use std::collections::{HashMap, HashSet};
use std::time::{Duration, Instant};

use cyrisma_core::types::{
    ConvertedInstance, CreatedInstance, GradingPeriod, Instance, InstanceLogin, InstanceStatus, InstanceStatusChange,
    InstanceType, MfaChange, MfaType, User, WebhookEventType,
};
use cyrisma_core::wire::TextBool;
use serde_json::json;

use crate::clock;
use crate::failure::{ApiFailure, printable};
use crate::prng;
use crate::timeline::Period;

/// An organization or instance.
#[derive(Clone, Debug)]
pub(crate) struct Entity {
    /// `ccNNNNNN`; also the first label of its host.
    pub(crate) id: String,
    /// The number in the id, used to derive its seeded data.
    pub(crate) number: u32,
    pub(crate) name: String,
    pub(crate) short_name: String,
    pub(crate) parent_id: String,
    pub(crate) hierarchy: String,
    pub(crate) kind: InstanceType,
    pub(crate) is_consulting: bool,
    pub(crate) converted: bool,
    pub(crate) suspended: bool,
    pub(crate) endpoints: u64,
    pub(crate) tenant_id: String,
    pub(crate) agent_key: String,
    pub(crate) mfa: Option<MfaType>,
    pub(crate) country: String,
    pub(crate) created_at: i64,
    /// When provisioning completes (`None`: ready).
    pub(crate) ready_at: Option<Instant>,
    pub(crate) grading_period: GradingPeriod,
    /// How many vulnerability, data and baseline scans the seed gives it.
    pub(crate) seeded_scans: u32,
    /// Scans started later through the admin API: type code and finish time (Unix seconds).
    pub(crate) extra_scans: Vec<(u8, i64)>,
    /// Periods of scans beyond the seeded ones: a generated past and advances of the clock.
    pub(crate) periods: Vec<Period>,
}

impl Entity {
    pub(crate) fn is_organization(&self) -> bool {
        self.kind.is_organization()
    }

    pub(crate) fn status(&self, now: Instant) -> InstanceStatus {
        if self.suspended {
            InstanceStatus::Suspended
        } else if self.ready_at.is_some_and(|ready| now < ready) {
            InstanceStatus::Provisioning
        } else {
            InstanceStatus::Active
        }
    }

    pub(crate) fn host(&self, domain: &str) -> String {
        format!("{}.{}", self.id, domain)
    }

    /// The wire object (core model).
    pub(crate) fn to_instance(&self, domain: &str, now: Instant) -> Instance {
        Instance {
            instance_id: self.id.clone(),
            name: Some(self.name.clone()),
            short_name: Some(self.short_name.clone()),
            parent_id: Some(self.parent_id.clone()),
            hierarchy: Some(self.hierarchy.clone()),
            instance_type: Some(self.kind.clone()),
            is_consulting: Some(self.is_consulting),
            number_of_endpoints: Some(self.endpoints),
            url: Some(self.host(domain)),
            tenant_id: Some(self.tenant_id.clone()),
            agent_key: Some(self.agent_key.clone()),
            mfa: self.mfa.clone(),
            status: Some(self.status(now)),
            country: Some(self.country.clone()),
            created_at: Some(clock::rfc3339(self.created_at)),
            grading_period: Some(self.grading_period.clone()),
            ..Default::default()
        }
    }
}

/// A user under an organization.
#[derive(Clone, Debug)]
pub(crate) struct UserRecord {
    pub(crate) id: String,
    pub(crate) username: String,
    pub(crate) first_name: String,
    pub(crate) last_name: String,
    pub(crate) enabled: bool,
    pub(crate) instance_id: String,
}

impl UserRecord {
    pub(crate) fn to_user(&self) -> User {
        User {
            id: self.id.clone(),
            username: Some(self.username.clone()),
            first_name: Some(self.first_name.clone()),
            last_name: Some(self.last_name.clone()),
            enabled: Some(TextBool(self.enabled)),
            instance_id: Some(self.instance_id.clone()),
            ..Default::default()
        }
    }
}

/// A webhook registration (provisional contract).
#[derive(Clone, Debug)]
pub(crate) struct WebhookRecord {
    pub(crate) id: String,
    pub(crate) url: String,
    pub(crate) events: Vec<WebhookEventType>,
    pub(crate) secret: String,
}

#[derive(Clone, Debug)]
struct TokenRecord {
    generation: u64,
    expires_at: Instant,
    /// Entity indexes authenticated for reporting with this token.
    authenticated: HashSet<usize>,
}

#[derive(Clone, Debug)]
struct RefreshRecord {
    expires_at: Instant,
}

/// An event for webhook receivers, produced by a state change.
#[derive(Clone, Debug)]
pub(crate) struct PendingEvent {
    pub(crate) event_type: WebhookEventType,
    pub(crate) instance_id: Option<String>,
    pub(crate) data: serde_json::Value,
}

/// A fresh login.
#[derive(Clone, Debug)]
pub(crate) struct Grant {
    pub(crate) access_token: String,
    pub(crate) refresh_token: String,
    pub(crate) expires_in: u64,
}

/// What a reporting handler needs to know about the instance it serves.
#[derive(Clone, Debug)]
pub(crate) struct ReportingTarget {
    pub(crate) id: String,
    pub(crate) number: u32,
    pub(crate) seeded_scans: u32,
    pub(crate) extra_scans: Vec<(u8, i64)>,
    pub(crate) grading_period: GradingPeriod,
    pub(crate) endpoints: u64,
    pub(crate) periods: Vec<Period>,
    /// Days the emulator's clock has moved past the anchor.
    pub(crate) days_advanced: i64,
}

/// Fixed parameters of the state.
#[derive(Clone, Debug)]
pub(crate) struct Settings {
    pub(crate) domain: String,
    pub(crate) partner_id: String,
    pub(crate) token_ttl: Duration,
    pub(crate) refresh_ttl: Duration,
    pub(crate) provisioning_delay: Duration,
}

/// Everything the emulator remembers.
#[derive(Debug)]
pub(crate) struct State {
    pub(crate) settings: Settings,
    api_key: String,
    secret: String,
    entities: Vec<Entity>,
    by_id: HashMap<String, usize>,
    users: Vec<UserRecord>,
    user_by_id: HashMap<String, usize>,
    user_by_name: HashMap<String, usize>,
    tokens: HashMap<String, TokenRecord>,
    refresh_tokens: HashMap<String, RefreshRecord>,
    generation: u64,
    next_number: u32,
    next_user: u32,
    webhooks: Vec<WebhookRecord>,
    next_webhook: u32,
    events: Vec<PendingEvent>,
    days_advanced: i64,
    next_period: u32,
}

impl State {
    /// A state with seeded organizations, instances and users.
    pub(crate) fn new(
        settings: Settings,
        api_key: String,
        secret: String,
        entities: Vec<Entity>,
        users: Vec<UserRecord>,
    ) -> Self {
        let next_number = entities.iter().map(|entity| entity.number).max().unwrap_or(100_000) + 1;
        let next_user = users.iter().filter_map(|user| user.id.parse::<u32>().ok()).max().unwrap_or(5000) + 1;
        let next_period =
            entities.iter().flat_map(|entity| entity.periods.iter().map(|period| period.number)).max().unwrap_or(0) + 1;
        let mut state = Self {
            settings,
            api_key,
            secret,
            entities: Vec::new(),
            by_id: HashMap::new(),
            users: Vec::new(),
            user_by_id: HashMap::new(),
            user_by_name: HashMap::new(),
            tokens: HashMap::new(),
            refresh_tokens: HashMap::new(),
            generation: 0,
            next_number,
            next_user,
            webhooks: Vec::new(),
            next_webhook: 1,
            events: Vec::new(),
            days_advanced: 0,
            next_period,
        };
        for entity in entities {
            state.insert_entity(entity);
        }
        for user in users {
            state.insert_user(user);
        }
        state
    }

    fn insert_entity(&mut self, entity: Entity) -> usize {
        let index = self.entities.len();
        self.by_id.insert(entity.id.clone(), index);
        self.entities.push(entity);
        index
    }

    fn insert_user(&mut self, user: UserRecord) -> usize {
        let index = self.users.len();
        self.user_by_id.insert(user.id.clone(), index);
        self.user_by_name.insert(user.username.to_ascii_lowercase(), index);
        self.users.push(user);
        index
    }

    /// The current API secret.
    pub(crate) fn secret(&self) -> &str {
        &self.secret
    }

    /// Events produced since the last call.
    pub(crate) fn take_events(&mut self) -> Vec<PendingEvent> {
        std::mem::take(&mut self.events)
    }

    /// Registrations that want an event type.
    pub(crate) fn webhooks_for(&self, event_type: &WebhookEventType) -> Vec<WebhookRecord> {
        self.webhooks.iter().filter(|hook| hook.events.contains(event_type)).cloned().collect()
    }

    fn event(&mut self, event_type: WebhookEventType, instance_id: Option<&str>, data: serde_json::Value) {
        if self.webhooks.iter().any(|hook| hook.events.contains(&event_type)) {
            self.events.push(PendingEvent { event_type, instance_id: instance_id.map(str::to_owned), data });
        }
    }

    // ----- Credentials and tokens -----

    fn credentials_match(&self, api_key: &str, secret: &str) -> bool {
        use subtle_compare::eq;
        eq(api_key.as_bytes(), self.api_key.as_bytes()) & eq(secret.as_bytes(), self.secret.as_bytes())
    }

    /// The password grant.
    pub(crate) fn login_password(&mut self, api_key: &str, secret: &str, now: Instant) -> Result<Grant, ApiFailure> {
        if !self.credentials_match(api_key, secret) {
            return Err(ApiFailure::invalid_grant("The API key or secret is incorrect."));
        }
        Ok(self.issue(now))
    }

    /// The refresh grant \[ASSUMED\]: a refresh token is good for one renewal.
    pub(crate) fn login_refresh(&mut self, refresh_token: &str, now: Instant) -> Result<Grant, ApiFailure> {
        match self.refresh_tokens.remove(refresh_token) {
            Some(record) if now < record.expires_at => Ok(self.issue(now)),
            _ => Err(ApiFailure::invalid_grant("The refresh token is invalid or has expired.")),
        }
    }

    fn issue(&mut self, now: Instant) -> Grant {
        self.prune(now);
        self.generation += 1;
        let stamp = clock::token_stamp(clock::now_secs());
        let access_token = format!("{}{}", prng::random_alphanumeric(12), stamp);
        let refresh_token = format!("{}{}", prng::random_alphanumeric(12), stamp);
        self.tokens.insert(
            access_token.clone(),
            TokenRecord {
                generation: self.generation,
                expires_at: now + self.settings.token_ttl,
                authenticated: HashSet::new(),
            },
        );
        self.refresh_tokens
            .insert(refresh_token.clone(), RefreshRecord { expires_at: now + self.settings.refresh_ttl });
        Grant { access_token, refresh_token, expires_in: self.settings.token_ttl.as_secs() }
    }

    fn prune(&mut self, now: Instant) {
        self.tokens.retain(|_, record| now < record.expires_at);
        self.refresh_tokens.retain(|_, record| now < record.expires_at);
    }

    /// Rotates the secret: the old one stops working at once.
    pub(crate) fn regen_pass(&mut self, api_key: &str, secret: &str) -> Result<String, ApiFailure> {
        if !self.credentials_match(api_key, secret) {
            return Err(ApiFailure::invalid_grant("The API key or secret is incorrect."));
        }
        self.secret = prng::random_alphanumeric(32);
        Ok(self.secret.clone())
    }

    /// The generation of a live access token.
    pub(crate) fn check_token(&self, token: Option<&str>, now: Instant) -> Result<u64, ApiFailure> {
        token
            .and_then(|token| self.tokens.get(token))
            .filter(|record| now < record.expires_at)
            .map(|record| record.generation)
            .ok_or_else(ApiFailure::invalid_token)
    }

    /// The generation of a token, live or not (for the request log).
    pub(crate) fn token_generation(&self, token: &str) -> Option<u64> {
        self.tokens.get(token).map(|record| record.generation)
    }

    /// Expires every access and refresh token now.
    pub(crate) fn expire_tokens(&mut self) {
        self.tokens.clear();
        self.refresh_tokens.clear();
    }

    /// Replaces the secret (admin).
    pub(crate) fn set_secret(&mut self, secret: String) {
        self.secret = secret;
    }

    // ----- Structure -----

    fn entity(&self, id: &str) -> Result<usize, ApiFailure> {
        self.by_id.get(id.trim()).copied().ok_or_else(|| ApiFailure::no_instance(id))
    }

    /// The whole structure.
    pub(crate) fn list_instances(&self, now: Instant) -> Vec<Instance> {
        self.entities.iter().map(|entity| entity.to_instance(&self.settings.domain, now)).collect()
    }

    /// One instance as a one-element array.
    pub(crate) fn get_instance(&self, id: &str, now: Instant) -> Result<Vec<Instance>, ApiFailure> {
        let index = self.entity(id)?;
        Ok(vec![self.entities[index].to_instance(&self.settings.domain, now)])
    }

    /// Creates an organization or instance.
    pub(crate) fn create_instance(&mut self, form: &Form, now: Instant) -> Result<CreatedInstance, ApiFailure> {
        let instance_type = form.required("instance_type")?;
        let is_consulting = form.required("is_consulting")?;
        let parent_id = form.required("parent_instance_id")?;
        let name = form.required("name")?;
        let short_name = form.required("short_name")?;
        let country = form.required("country")?;
        let email = form.required("email")?;
        let kind = InstanceType::from_wire(instance_type);
        if kind.is_unknown() {
            return Err(ApiFailure::invalid("instance_type", "instance_type must be msp, mssp or standard"));
        }
        let is_consulting = parse_bool(is_consulting)
            .ok_or_else(|| ApiFailure::invalid("is_consulting", "is_consulting must be true or false"))?;
        if kind.is_organization() && is_consulting {
            return Err(ApiFailure::invalid("is_consulting", "organizations cannot be consulting instances"));
        }
        let mfa = match form.optional("mfa_type") {
            None => None,
            Some(code) => {
                let mfa = MfaType::from_wire(code);
                if mfa.is_unknown() {
                    return Err(ApiFailure::invalid("mfa_type", "mfa_type must be 0, 1 or 2"));
                }
                if !kind.is_organization() {
                    return Err(ApiFailure::invalid("mfa_type", "MFA settings apply only to organizations"));
                }
                Some(mfa)
            }
        };
        if !email.contains('@') {
            return Err(ApiFailure::invalid("email", "email must be an email address"));
        }
        let hierarchy = if kind.is_organization() {
            if parent_id != self.settings.partner_id {
                return Err(ApiFailure::invalid(
                    "parent_instance_id",
                    "organizations sit at the top: parent_instance_id must be the partner id",
                ));
            }
            format!("{}/", self.settings.partner_id)
        } else {
            if parent_id == self.settings.partner_id {
                return Err(ApiFailure::invalid("parent_instance_id", "parent_instance_id must be an organization"));
            }
            let parent = &self.entities[self.entity(parent_id)?];
            if !parent.is_organization() {
                return Err(ApiFailure::invalid("parent_instance_id", "parent_instance_id must be an organization"));
            }
            format!("{}/", parent.hierarchy)
        };
        let mfa = if kind.is_organization() { Some(mfa.unwrap_or(MfaType::None)) } else { None };
        let number = self.next_number;
        self.next_number += 1;
        let id = format!("cc{number:06}");
        let agent_key = prng::random_uuid();
        let delay = self.settings.provisioning_delay;
        let entity = Entity {
            id: id.clone(),
            number,
            name: name.to_owned(),
            short_name: short_name.to_owned(),
            parent_id: parent_id.to_owned(),
            hierarchy: format!("{hierarchy}{id}"),
            kind,
            is_consulting,
            converted: false,
            suspended: false,
            endpoints: 0,
            tenant_id: form.optional("tenant_id").unwrap_or_default().to_owned(),
            agent_key: agent_key.clone(),
            mfa,
            country: country.to_owned(),
            created_at: clock::now_secs(),
            ready_at: (!delay.is_zero()).then(|| now + delay),
            grading_period: GradingPeriod::Monthly,
            seeded_scans: 0,
            extra_scans: Vec::new(),
            periods: Vec::new(),
        };
        self.insert_entity(entity);
        if delay.is_zero() {
            self.provisioned(&id);
        }
        Ok(CreatedInstance { instance_id: id, agent_key: Some(agent_key), ..Default::default() })
    }

    /// Called when an instance's provisioning delay has passed: emits `instance.provisioned`.
    pub(crate) fn provisioned(&mut self, id: &str) {
        let Some(&index) = self.by_id.get(id) else { return };
        let entity = &self.entities[index];
        let data = json!({ "instance_id": entity.id, "name": entity.name, "status": "active" });
        self.event(WebhookEventType::InstanceProvisioned, Some(id), data);
    }

    /// Converts a consulting instance, once.
    pub(crate) fn convert(&mut self, form: &Form) -> Result<ConvertedInstance, ApiFailure> {
        let id = form.required("instance_id")?;
        let index = self.entity(id)?;
        let entity = &mut self.entities[index];
        if entity.converted {
            return Err(ApiFailure::conflict(format!("Instance {} was already converted.", entity.id)));
        }
        if !entity.is_consulting {
            return Err(ApiFailure::conflict(format!("Instance {} is not a consulting instance.", entity.id)));
        }
        entity.is_consulting = false;
        entity.converted = true;
        let answer = ConvertedInstance {
            instance_id: entity.id.clone(),
            name: Some(entity.name.clone()),
            consulting_status: Some("converted".to_owned()),
            ..Default::default()
        };
        let data = json!({ "instance_id": answer.instance_id, "name": answer.name, "consulting_status": "converted" });
        let id = answer.instance_id.clone();
        self.event(WebhookEventType::InstanceConverted, Some(&id), data);
        Ok(answer)
    }

    /// Suspends (`true`) or reactivates (`false`) an instance. Setting the state it already has
    /// succeeds without an event. Suspension withdraws the instance's reporting authentication.
    pub(crate) fn set_suspended(
        &mut self,
        form: &Form,
        suspend: bool,
        now: Instant,
    ) -> Result<InstanceStatusChange, ApiFailure> {
        let id = form.required("instance_id")?;
        let index = self.entity(id)?;
        let changed = self.entities[index].suspended != suspend;
        self.entities[index].suspended = suspend;
        if suspend {
            for record in self.tokens.values_mut() {
                record.authenticated.remove(&index);
            }
        }
        let entity = &self.entities[index];
        let answer = InstanceStatusChange {
            instance_id: entity.id.clone(),
            name: Some(entity.name.clone()),
            status: Some(entity.status(now)),
            ..Default::default()
        };
        if changed {
            let event_type =
                if suspend { WebhookEventType::InstanceSuspended } else { WebhookEventType::InstanceReactivated };
            let data = json!({ "instance_id": answer.instance_id, "name": answer.name, "status": answer.status });
            let id = answer.instance_id.clone();
            self.event(event_type, Some(&id), data);
        }
        Ok(answer)
    }

    /// Sets an organization's MFA method.
    pub(crate) fn set_mfa(&mut self, form: &Form) -> Result<MfaChange, ApiFailure> {
        let id = form.required("instance_id")?;
        let code = form.required("mfa_type")?;
        let mfa = MfaType::from_wire(code);
        if mfa.is_unknown() {
            return Err(ApiFailure::invalid("mfa_type", "mfa_type must be 0, 1 or 2"));
        }
        let index = self.entity(id)?;
        let entity = &mut self.entities[index];
        if !entity.is_organization() {
            return Err(ApiFailure::invalid("instance_id", "MFA settings apply only to organizations"));
        }
        entity.mfa = Some(mfa.clone());
        Ok(MfaChange { instance_id: entity.id.clone(), mfa_type: Some(mfa), ..Default::default() })
    }

    // ----- Users -----

    fn user(&self, reference: &str) -> Result<usize, ApiFailure> {
        let reference = reference.trim();
        self.user_by_id
            .get(reference)
            .or_else(|| self.user_by_name.get(&reference.to_ascii_lowercase()))
            .copied()
            .ok_or_else(|| ApiFailure::not_found(format!("No user {}", printable(reference))))
    }

    /// Creates a user under an organization.
    pub(crate) fn create_user(&mut self, form: &Form) -> Result<User, ApiFailure> {
        let instance_id = form.required("instance_id")?;
        let username = form.required("username")?;
        let first_name = form.required("first_name")?;
        let last_name = form.required("last_name")?;
        let index = self.entity(instance_id)?;
        if !self.entities[index].is_organization() {
            return Err(ApiFailure::invalid("instance_id", "users can be created only under organizations"));
        }
        if !username.contains('@') {
            return Err(ApiFailure::invalid("username", "username must be an email address"));
        }
        if self.user_by_name.contains_key(&username.to_ascii_lowercase()) {
            return Err(ApiFailure::conflict(format!("User {} already exists.", printable(username))));
        }
        let id = self.next_user.to_string();
        self.next_user += 1;
        let record = UserRecord {
            id,
            username: username.to_owned(),
            first_name: first_name.to_owned(),
            last_name: last_name.to_owned(),
            enabled: true,
            instance_id: self.entities[index].id.clone(),
        };
        let user = record.to_user();
        self.insert_user(record);
        self.user_event(WebhookEventType::UserCreated, &user);
        Ok(user)
    }

    fn user_event(&mut self, event_type: WebhookEventType, user: &User) {
        let data = serde_json::to_value(user).unwrap_or_default();
        let instance_id = user.instance_id.clone();
        self.event(event_type, instance_id.as_deref(), data);
    }

    /// Every user.
    pub(crate) fn list_users(&self) -> Vec<User> {
        self.users.iter().map(UserRecord::to_user).collect()
    }

    /// One user (by id or username) as a one-element array.
    pub(crate) fn get_user(&self, reference: &str) -> Result<Vec<User>, ApiFailure> {
        let index = self.user(reference)?;
        Ok(vec![self.users[index].to_user()])
    }

    /// Disables a user (idempotent).
    pub(crate) fn disable_user(&mut self, form: &Form) -> Result<User, ApiFailure> {
        let reference = form.required(cyrisma_core::assumed::DISABLE_USER_FIELD)?;
        let index = self.user(reference)?;
        let changed = self.users[index].enabled;
        self.users[index].enabled = false;
        let user = self.users[index].to_user();
        if changed {
            self.user_event(WebhookEventType::UserDisabled, &user);
        }
        Ok(user)
    }

    // ----- Instance authentication and reporting access -----

    /// Authenticates one instance for the token.
    pub(crate) fn authenticate_instance(
        &mut self,
        token: &str,
        id: &str,
        now: Instant,
    ) -> Result<InstanceLogin, ApiFailure> {
        self.check_token(Some(token), now)?;
        let index = self.entity(id)?;
        if self.entities[index].suspended {
            return Err(ApiFailure::suspended(&self.entities[index].id));
        }
        if let Some(record) = self.tokens.get_mut(token) {
            record.authenticated.insert(index);
        }
        Ok(InstanceLogin {
            success_token_inserts: vec![serde_json::Value::String(self.entities[index].id.clone())],
            ..Default::default()
        })
    }

    /// Authenticates every instance of the partner for the token; suspended ones refuse.
    pub(crate) fn authenticate_all(&mut self, token: &str, now: Instant) -> Result<InstanceLogin, ApiFailure> {
        self.check_token(Some(token), now)?;
        let mut answer = InstanceLogin::default();
        let mut accepted = Vec::new();
        for (index, entity) in self.entities.iter().enumerate() {
            if entity.suspended {
                answer.failed_token_inserts.push(serde_json::Value::String(entity.id.clone()));
            } else {
                answer.success_token_inserts.push(serde_json::Value::String(entity.id.clone()));
                accepted.push(index);
            }
        }
        if let Some(record) = self.tokens.get_mut(token) {
            record.authenticated.extend(accepted);
        }
        Ok(answer)
    }

    /// Checks a reporting call: live token, known host, not suspended, authenticated.
    pub(crate) fn reporting_access(
        &self,
        token: Option<&str>,
        host_id: &str,
        now: Instant,
    ) -> Result<ReportingTarget, ApiFailure> {
        let generation = self.check_token(token, now);
        let index =
            self.by_id.get(host_id).copied().ok_or_else(|| {
                ApiFailure::not_found(format!("No instance is served at host {}", printable(host_id)))
            })?;
        generation?;
        let entity = &self.entities[index];
        if entity.suspended {
            return Err(ApiFailure::suspended(&entity.id));
        }
        let authenticated =
            token.and_then(|token| self.tokens.get(token)).is_some_and(|record| record.authenticated.contains(&index));
        if !authenticated {
            return Err(ApiFailure::not_authenticated(&entity.id));
        }
        Ok(self.target(index))
    }

    fn target(&self, index: usize) -> ReportingTarget {
        let entity = &self.entities[index];
        ReportingTarget {
            id: entity.id.clone(),
            number: entity.number,
            seeded_scans: entity.seeded_scans,
            extra_scans: entity.extra_scans.clone(),
            grading_period: entity.grading_period.clone(),
            endpoints: entity.endpoints,
            periods: entity.periods.clone(),
            days_advanced: self.days_advanced,
        }
    }

    /// Days the clock has moved since start.
    pub(crate) fn days_advanced(&self) -> i64 {
        self.days_advanced
    }

    /// Moves the clock `days` forward and gives every active instance (not suspended, not
    /// provisioning) a new period of scans. Without `churn` an instance's new period shows the
    /// findings of its latest scans. Returns the period's number, the days moved in total and the
    /// instances scanned.
    pub(crate) fn advance(&mut self, days: u32, churn: bool, now: Instant) -> (u32, i64, Vec<String>) {
        self.days_advanced += i64::from(days);
        let number = self.next_period;
        self.next_period += 1;
        let day = self.days_advanced;
        let mut scanned = Vec::new();
        for entity in &mut self.entities {
            if entity.is_organization() || entity.status(now) != InstanceStatus::Active {
                continue;
            }
            // A generated past lies before the seeded scans, so without an advance the latest
            // findings are the seeded ones (presence 0).
            let latest = entity.periods.last().filter(|period| period.day > 0).map_or(0, |period| period.presence);
            let presence = if churn { number } else { latest };
            entity.periods.push(Period { number, presence, day });
            scanned.push(entity.id.clone());
        }
        (number, self.days_advanced, scanned)
    }

    /// Whether an instance host exists (for routing).
    pub(crate) fn has_host(&self, label: &str) -> bool {
        self.by_id.contains_key(label)
    }

    /// Starts (and at once completes) a new vulnerability scan on an instance (admin): emits
    /// `scan.completed`. Returns the scan's index and the target after the change.
    pub(crate) fn add_scan(&mut self, id: &str, scan_type: u8) -> Result<(u32, ReportingTarget), ApiFailure> {
        let index = self.entity(id)?;
        if !matches!(scan_type, 5 | 9 | 10 | 11) {
            return Err(ApiFailure::invalid("scan_type", "scan_type must be 5, 9, 10 or 11"));
        }
        let entity = &mut self.entities[index];
        if entity.is_organization() {
            return Err(ApiFailure::invalid("instance_id", "scans run on instances, not organizations"));
        }
        entity.extra_scans.push((scan_type, clock::now_secs()));
        let scan_index = entity.seeded_scans + entity.extra_scans.len() as u32 - 1;
        Ok((scan_index, self.target(index)))
    }

    /// Emits `scan.completed` with a payload built by the caller.
    pub(crate) fn scan_completed(&mut self, instance_id: &str, data: serde_json::Value) {
        self.event(WebhookEventType::ScanCompleted, Some(instance_id), data);
    }

    // ----- Webhooks -----

    /// Registers a webhook.
    pub(crate) fn create_webhook(&mut self, url: String, events: Vec<WebhookEventType>) -> WebhookRecord {
        let record = WebhookRecord {
            id: format!("wh{:06}", self.next_webhook),
            url,
            events,
            secret: format!("whsec_{}", prng::random_alphanumeric(32)),
        };
        self.next_webhook += 1;
        self.webhooks.push(record.clone());
        record
    }

    /// Every registration.
    pub(crate) fn webhooks(&self) -> &[WebhookRecord] {
        &self.webhooks
    }

    /// Deletes a registration.
    pub(crate) fn delete_webhook(&mut self, id: &str) -> Result<WebhookRecord, ApiFailure> {
        let position = self
            .webhooks
            .iter()
            .position(|hook| hook.id == id.trim())
            .ok_or_else(|| ApiFailure::not_found(format!("No webhook with id {}", printable(id))))?;
        Ok(self.webhooks.remove(position))
    }
}

fn parse_bool(value: &str) -> Option<bool> {
    match value.trim().to_ascii_lowercase().as_str() {
        "true" | "1" => Some(true),
        "false" | "0" => Some(false),
        _ => None,
    }
}

/// Constant-time comparison of credentials.
mod subtle_compare {
    /// Whether two byte strings are equal, in time that depends only on their lengths.
    pub(super) fn eq(a: &[u8], b: &[u8]) -> bool {
        if a.len() != b.len() {
            return false;
        }
        a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
    }
}

/// Decoded form or query fields. The first value of a name wins; values are trimmed, except
/// for secrets read with [`Form::raw`].
#[derive(Clone, Debug, Default)]
pub(crate) struct Form {
    pairs: Vec<(String, String)>,
}

impl Form {
    /// Decodes `application/x-www-form-urlencoded` bytes (also a query string).
    pub(crate) fn parse(bytes: &[u8]) -> Self {
        Self {
            pairs: form_urlencoded::parse(bytes).map(|(key, value)| (key.into_owned(), value.into_owned())).collect(),
        }
    }

    /// The raw value of the first field with this name.
    pub(crate) fn raw(&self, name: &str) -> Option<&str> {
        self.pairs.iter().find(|(key, _)| key == name).map(|(_, value)| value.as_str())
    }

    /// The first of several spellings that is present, raw.
    pub(crate) fn raw_any(&self, names: &[&str]) -> Option<&str> {
        names.iter().find_map(|name| self.raw(name))
    }

    /// A non-empty, trimmed value.
    pub(crate) fn optional(&self, name: &str) -> Option<&str> {
        self.raw(name).map(str::trim).filter(|value| !value.is_empty())
    }

    /// A required value: missing or empty is `400 invalid_request` naming the field.
    pub(crate) fn required(&self, name: &str) -> Result<&str, ApiFailure> {
        self.optional(name).ok_or_else(|| ApiFailure::missing(name))
    }
}
