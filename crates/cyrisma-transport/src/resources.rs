//! The typed methods of the central host, grouped like the API: [`Instances`], [`Users`] and
//! [`Webhooks`]. Each is a thin wrapper that builds the core request and sends it.

use std::time::Duration;

use cyrisma_core::Endpoint;
use cyrisma_core::api::{instances, users, webhooks};
use cyrisma_core::types::{
    ConvertedInstance, CreatedInstance, DeletedWebhook, Instance, InstanceLogin, InstanceStatus, InstanceStatusChange,
    MfaChange, MfaType, User, Webhook,
};
use tokio::time::Instant;

use crate::client::Client;
use crate::error::{Error, ErrorKind, TimeoutKind};

impl Client {
    /// Organizations and instances: structure, provisioning, MFA and instance authentication.
    pub fn instances(&self) -> Instances<'_> {
        Instances { client: self }
    }

    /// Users under organizations.
    pub fn users(&self) -> Users<'_> {
        Users { client: self }
    }

    /// Webhook registrations (provisional contract).
    pub fn webhooks(&self) -> Webhooks<'_> {
        Webhooks { client: self }
    }
}

/// The instance calls of the central host; from [`Client::instances`].
#[derive(Clone, Copy, Debug)]
pub struct Instances<'a> {
    client: &'a Client,
}

impl Instances<'_> {
    /// `GET /partner/instances/info/`: every organization and instance (also refreshes the cache
    /// instance hosts are looked up in).
    pub async fn list(&self) -> Result<Vec<Instance>, Error> {
        self.client.refresh_instances().await
    }

    /// `GET /partner/instances/info/{id}`: one organization or instance.
    pub async fn get(&self, instance_id: &str) -> Result<Instance, Error> {
        let found = self.client.send(&instances::get_instance::Request::new(instance_id)).await?;
        found
            .into_iter()
            .next()
            .ok_or_else(|| Error::new(ErrorKind::NotFound { resource: "instance", id: instance_id.to_owned() }))
    }

    /// `POST /partner/instances/create`: creates an organization or instance. Never retried once
    /// sent: on an [ambiguous](Error::is_ambiguous) error, list the instances to see whether it
    /// was created.
    pub async fn create(&self, request: &instances::create_instance::Request) -> Result<CreatedInstance, Error> {
        self.client.send(request).await
    }

    /// `PATCH /partner/instances/convert`: converts a consulting instance into a managed one.
    pub async fn convert(&self, instance_id: &str) -> Result<ConvertedInstance, Error> {
        self.client.send(&instances::convert_instance::Request::new(instance_id)).await
    }

    /// `PATCH /partner/instances/suspend`: suspends an instance.
    pub async fn suspend(&self, instance_id: &str) -> Result<InstanceStatusChange, Error> {
        self.client.send(&instances::suspend_instance::Request::new(instance_id)).await
    }

    /// `PATCH /partner/instances/reactivate`: reactivates a suspended instance.
    pub async fn reactivate(&self, instance_id: &str) -> Result<InstanceStatusChange, Error> {
        self.client.send(&instances::reactivate_instance::Request::new(instance_id)).await
    }

    /// `PATCH /partner/instances/mfa`: sets an organization's MFA method.
    pub async fn set_mfa(&self, instance_id: &str, mfa_type: MfaType) -> Result<MfaChange, Error> {
        self.client.send(&instances::set_mfa::Request::new(instance_id, mfa_type)).await
    }

    /// `POST /partner/instances/login/{id}` (one instance) or `POST /partner/instances/login/`
    /// (all instances): authenticates for reporting with the current token. Reporting calls do
    /// this by themselves; this is for explicit control.
    pub async fn authenticate(&self, instance_id: Option<&str>) -> Result<InstanceLogin, Error> {
        match instance_id {
            Some(id) => self.authenticate_with(&instances::authenticate_instance::Request::new(id), Some(id)).await,
            None => self.authenticate_with(&instances::authenticate_all_instances::Request::new(), None).await,
        }
    }

    async fn authenticate_with<E: Endpoint<Response = InstanceLogin>>(
        &self,
        request: &E,
        single: Option<&str>,
    ) -> Result<InstanceLogin, Error> {
        let inner = &self.client.inner;
        let exchange = inner.exchange(inner.central_target(), request, &inner.config.retry).await?;
        let login =
            E::parse_response(&exchange.response).map_err(|error| Error::from_response(E::METADATA.name, error))?;
        if let Some(generation) = exchange.generation {
            let asked: Vec<String> = single.map(|id| vec![id.to_owned()]).unwrap_or_default();
            inner.auth.record_instance_login(generation, &login, &asked, single);
        }
        Ok(login)
    }

    /// Polls `GET /partner/instances/info/{id}` until the instance is `active` (or reports no
    /// status at all), waiting 1 s between polls and up to 15 s as time goes by. Fails if the
    /// instance is suspended, or with a timeout error once `timeout` has passed.
    pub async fn wait_until_active(&self, instance_id: &str, timeout: Duration) -> Result<Instance, Error> {
        // A timeout too far for the clock (2^63 s) waits as good as forever, without overflow.
        let start = Instant::now();
        let deadline = start.checked_add(timeout).unwrap_or_else(|| start + Duration::from_secs(100 * 365 * 86_400));
        let mut pause = Duration::from_secs(1);
        loop {
            let instance = self.get(instance_id).await?;
            match instance.status {
                Some(InstanceStatus::Active) | None => return Ok(instance),
                Some(InstanceStatus::Suspended) => {
                    return Err(Error::new(ErrorKind::InstanceSuspended { instance_id: instance_id.to_owned() }));
                }
                _ => {}
            }
            let now = Instant::now();
            if now >= deadline {
                return Err(Error::new(ErrorKind::Timeout {
                    what: TimeoutKind::Activation(instance_id.to_owned()),
                    after: timeout,
                }));
            }
            tokio::time::sleep(pause.min(deadline - now)).await;
            pause = (pause * 2).min(Duration::from_secs(15));
        }
    }
}

/// The user calls; from [`Client::users`].
#[derive(Clone, Copy, Debug)]
pub struct Users<'a> {
    client: &'a Client,
}

impl Users<'_> {
    /// `GET /partner/users/info`: every user.
    pub async fn list(&self) -> Result<Vec<User>, Error> {
        self.client.send(&users::list_users::Request::new()).await
    }

    /// `GET /partner/users/info/{ref}`: one user, by id or username.
    pub async fn get(&self, user_ref: &str) -> Result<User, Error> {
        let found = self.client.send(&users::get_user::Request::new(user_ref)).await?;
        found
            .into_iter()
            .next()
            .ok_or_else(|| Error::new(ErrorKind::NotFound { resource: "user", id: user_ref.to_owned() }))
    }

    /// `POST /partner/instances/users/create`: creates a user under an organization. Never
    /// retried once sent: on an [ambiguous](Error::is_ambiguous) error, list the users to see
    /// whether it was created.
    pub async fn create(&self, request: &users::create_user::Request) -> Result<User, Error> {
        self.client.send(request).await
    }

    /// `PATCH /partner/users/disable`: disables a user, by id or username.
    pub async fn disable(&self, user_ref: &str) -> Result<User, Error> {
        self.client.send(&users::disable_user::Request::new(user_ref)).await
    }
}

/// The webhook registration calls (provisional contract); from [`Client::webhooks`].
#[derive(Clone, Copy, Debug)]
pub struct Webhooks<'a> {
    client: &'a Client,
}

impl Webhooks<'_> {
    /// `GET /partner/webhooks`: every registration.
    pub async fn list(&self) -> Result<Vec<Webhook>, Error> {
        self.client.send(&webhooks::list_webhooks::Request::new()).await
    }

    /// `POST /partner/webhooks`: registers a URL. The signing secret is in the answer only: store
    /// it. Never retried once sent.
    pub async fn create(&self, request: &webhooks::create_webhook::Request) -> Result<Webhook, Error> {
        self.client.send(request).await
    }

    /// `DELETE /partner/webhooks/{id}`: deletes a registration.
    pub async fn delete(&self, webhook_id: &str) -> Result<DeletedWebhook, Error> {
        self.client.send(&webhooks::delete_webhook::Request::new(webhook_id)).await
    }
}
