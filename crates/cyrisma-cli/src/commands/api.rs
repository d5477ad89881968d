//! `cyrisma api METHOD PATH`: the escape hatch for any call of the contract.
//!
//! The method and path are matched with the core's router, and the call is sent as the typed
//! endpoint it names (one arm per endpoint of `cyrisma_core::for_each_endpoint!`), so it goes
//! through the same request building, authentication, host validation, retries and error
//! handling as every typed command; only the answer is kept as raw JSON. `-f key=value` fields go into the
//! query string of body-less calls and into the form body of the others. Login and secret
//! rotation are refused here: `cyrisma auth status` and `cyrisma auth rotate-secret` do them
//! safely.

use std::marker::PhantomData;

use cyrisma_core::api::{EndpointId, Matched, RouteError, route};
use cyrisma_core::endpoint::{BodyKind, HostKind, Metadata, Params};
use cyrisma_core::wire::FieldError;
use cyrisma_core::{Endpoint, RequestError};
use cyrisma_transport::Client;

use crate::args::ApiArgs;
use crate::commands::Context;
use crate::exit::CliError;

/// Any endpoint `E`, with path parameters and fields given at run time and a raw JSON answer.
struct Raw<E> {
    params: Vec<(&'static str, String)>,
    fields: Vec<(&'static str, String)>,
    endpoint: PhantomData<fn() -> E>,
}

impl<E: Endpoint> Endpoint for Raw<E> {
    const METADATA: Metadata = E::METADATA;
    type Response = serde_json::Value;

    fn path_params(&self) -> Vec<(&'static str, &str)> {
        self.params.iter().map(|(name, value)| (*name, value.as_str())).collect()
    }

    fn query(&self, query: &mut Params) -> Result<(), RequestError> {
        if Self::METADATA.body == BodyKind::None {
            for (name, value) in &self.fields {
                query.push(name, value.clone());
            }
        }
        Ok(())
    }

    fn form(&self, form: &mut Params) -> Result<(), RequestError> {
        if Self::METADATA.body == BodyKind::Form {
            for (name, value) in &self.fields {
                form.push(name, value.clone());
            }
        }
        Ok(())
    }

    fn parse_success(body: &[u8]) -> Result<serde_json::Value, FieldError> {
        if body.iter().all(u8::is_ascii_whitespace) {
            return Ok(serde_json::Value::Null);
        }
        cyrisma_core::wire::from_slice(body)
    }
}

/// Runs `api`.
pub(crate) async fn run(context: &Context, args: ApiArgs) -> anyhow::Result<()> {
    let (matched, path, query) = resolve(&args.method, &args.path, args.instance.is_some())?;
    let method = &matched.metadata.method;
    let mut fields: Vec<(&'static str, String)> = Vec::new();
    if let Some(query) = query {
        for (name, value) in form_urlencoded_pairs(&query) {
            fields.push((leak(name), value));
        }
    }
    for (name, value) in args.fields {
        fields.push((leak(name), value));
    }
    let client = context.client()?;
    let call = Call { client: &client, instance: args.instance.as_deref(), params: matched.params.clone(), fields };
    let value = dispatch(matched.id, call).await.map_err(|error| error.context(format!("{method} {path} failed")))?;
    context.out.document(&value)
}

/// Finds the endpoint of a method and a path (with or without the `/app` prefix and a query),
/// and checks that `cyrisma api` may call it on the host given (`--instance` or not). Answers
/// the match, the path and the query string.
fn resolve(method: &str, path: &str, instance: bool) -> Result<(Matched, String, Option<String>), CliError> {
    let method = http::Method::from_bytes(method.trim().to_ascii_uppercase().as_bytes())
        .map_err(|_| CliError::usage(format!("`{method}` is not an http method")))?;
    let (path, query) = match path.trim().split_once('?') {
        Some((path, query)) => (path.to_owned(), Some(query.to_owned())),
        None => (path.trim().to_owned(), None),
    };
    let path = path.strip_prefix("/app").filter(|rest| rest.starts_with('/')).unwrap_or(&path).to_owned();
    let matched = route(&method, &path).map_err(|error| match error {
        RouteError::MethodNotAllowed { allowed } => {
            let allowed: Vec<String> = allowed.iter().map(ToString::to_string).collect();
            CliError::usage(format!("`{path}` does not take {method}"))
                .with_hint(format!("it takes {}", allowed.join(", ")))
        }
        _ => CliError::usage(format!("no endpoint of the api has the path `{path}`")).with_hint(
            "paths start with `/partner/`, as in the api reference: `cyrisma api GET /partner/instances/info/`",
        ),
    })?;
    if matches!(matched.id, EndpointId::Login | EndpointId::RegenPass) {
        return Err(CliError::usage(format!("`{}` is not available through `cyrisma api`", matched.id)).with_hint(
            "use `cyrisma auth status` to log in, and `cyrisma auth rotate-secret` to rotate the secret safely",
        ));
    }
    match (matched.metadata.host, instance) {
        (HostKind::Instance, false) => {
            Err(CliError::usage(format!("`{path}` is served by an instance host: give `--instance ID`")))
        }
        (HostKind::Central, true) => {
            Err(CliError::usage(format!("`{path}` is served by the central host: drop `--instance`")))
        }
        _ => Ok((matched, path, query)),
    }
}

/// Field names must be `'static` for the core's parameter lists; the process is short-lived.
fn leak(name: String) -> &'static str {
    Box::leak(name.into_boxed_str())
}

fn form_urlencoded_pairs(query: &str) -> Vec<(String, String)> {
    form_urlencoded::parse(query.as_bytes()).map(|(name, value)| (name.into_owned(), value.into_owned())).collect()
}

/// One call's inputs.
struct Call<'a> {
    client: &'a Client,
    instance: Option<&'a str>,
    params: Vec<(&'static str, String)>,
    fields: Vec<(&'static str, String)>,
}

impl Call<'_> {
    async fn send<E: Endpoint>(self) -> Result<serde_json::Value, cyrisma_transport::Error> {
        let request = Raw::<E> { params: self.params, fields: self.fields, endpoint: PhantomData };
        match self.instance {
            Some(instance) => self.client.instance(instance.to_owned()).send(&request).await,
            None => self.client.send(&request).await,
        }
    }
}

macro_rules! dispatch_every_endpoint {
    ($(($resource:ident, $endpoint:ident, $id:ident)),* $(,)?) => {
        /// Sends the call as the endpoint `id`: one arm per endpoint of
        /// `cyrisma_core::for_each_endpoint!`, so every endpoint of the contract is callable.
        async fn dispatch(id: EndpointId, call: Call<'_>) -> anyhow::Result<serde_json::Value> {
            match id {
                $(EndpointId::$id => call
                    .send::<cyrisma_core::api::$resource::$endpoint::Request>()
                    .await
                    .map_err(anyhow::Error::new),)*
                _ => Err(CliError::usage(format!("`{id}` is not available through `cyrisma api`")).into()),
            }
        }
    };
}

cyrisma_core::for_each_endpoint!(dispatch_every_endpoint);

#[cfg(test)]
mod tests {
    use super::*;

    /// Every endpoint of the contract resolves to itself from its method and path (as the api
    /// reference writes it, or with `/app` and a query), except the two credential calls, which
    /// are refused with a hint.
    #[test]
    fn every_endpoint_resolves_from_its_method_and_path() {
        for &id in EndpointId::ALL {
            let metadata = id.metadata();
            let path =
                metadata.path.replace("{instanceId}", "cc1").replace("{userRef}", "u%401").replace("{scanId}", "7");
            let path = path.replace("{webhookId}", "w1");
            let instance = metadata.host == HostKind::Instance;
            for written in [path.clone(), format!("/app{path}?x=1")] {
                let resolved = resolve(metadata.method.as_str(), &written, instance);
                if matches!(id, EndpointId::Login | EndpointId::RegenPass) {
                    let error = resolved.expect_err("refused");
                    assert!(error.to_string().contains("not available"), "{id}: {error}");
                    continue;
                }
                let (matched, shown, query) = resolved.unwrap_or_else(|error| panic!("{id} {written}: {error}"));
                assert_eq!((matched.id, shown.as_str()), (id, path.as_str()));
                assert_eq!(query.is_some(), written.contains('?'));
                assert!(resolve(metadata.method.as_str(), &written, !instance).is_err(), "{id} on the wrong host");
            }
        }
        assert!(resolve("FETCH!", "/partner/login", false).is_err());
        assert!(resolve("GET", "/partner/nothing", false).is_err());
    }
}
