//! `cyrisma webhooks ...`: registrations (provisional API), and `listen`, a local receiver on
//! 127.0.0.1 that verifies each delivery's signature over the raw bytes with
//! `cyrisma_core::webhook` (300 s tolerance, 1 MiB limit), drops duplicate event ids, and prints
//! each verified event as one JSON line on stdout. Refused deliveries are answered 401/400/413
//! and reported on stderr; nothing unverified reaches stdout.

use std::convert::Infallible;
use std::io::{BufRead, Write};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{SystemTime, UNIX_EPOCH};

use anyhow::Context as _;
use bytes::Bytes;
use cyrisma_core::WebhookSecret;
use cyrisma_core::api::webhooks::create_webhook;
use cyrisma_core::types::WebhookEventType;
use cyrisma_core::webhook::{DuplicateFilter, MAX_BODY_BYTES, Verifier, WEBHOOK_SIGNATURE_HEADER, WebhookError};
use http::{Method, Request, Response, StatusCode};
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;

use crate::args::{WebhooksCommand, WebhooksCreateArgs, WebhooksListenArgs, listen_addr};
use crate::commands::Context;
use crate::exit::CliError;
use crate::output::rows::{CreatedWebhookRow, DeletedWebhookRow, WebhookEventLine, WebhookRow};
use crate::ui::Ui;

/// Runs a `webhooks` command.
pub(crate) async fn run(context: &Context, command: WebhooksCommand) -> anyhow::Result<()> {
    match command {
        WebhooksCommand::List => {
            let client = context.client()?;
            let mut hooks = client.webhooks().list().await.context("cannot list webhooks")?;
            hooks.sort_by(|a, b| a.webhook_id.cmp(&b.webhook_id));
            let rows: Vec<WebhookRow> = hooks.iter().map(WebhookRow::from_core).collect();
            if rows.is_empty() {
                context.ui.note("no webhooks are registered");
            }
            context.out.api_rows(&hooks, &rows)
        }
        WebhooksCommand::Create(args) => create(context, args).await,
        WebhooksCommand::Delete(args) => {
            let client = context.client()?;
            let deleted = client
                .webhooks()
                .delete(&args.id)
                .await
                .with_context(|| format!("cannot delete webhook `{}`", args.id))?;
            let row = DeletedWebhookRow {
                webhook_id: deleted.webhook_id.clone().unwrap_or(args.id),
                deleted: deleted.deleted.unwrap_or(true),
            };
            context.out.api_one(&deleted, &row)
        }
        WebhooksCommand::Listen(args) => listen(context, args).await,
    }
}

async fn create(context: &Context, args: WebhooksCreateArgs) -> anyhow::Result<()> {
    let mut events = Vec::new();
    for name in args.events.iter().map(|name| name.trim()).filter(|name| !name.is_empty()) {
        let event = WebhookEventType::from_wire(name);
        if event.is_unknown() {
            let known: Vec<&str> = WebhookEventType::KNOWN.iter().map(WebhookEventType::as_str).collect();
            return Err(CliError::usage(format!("`{name}` is not an event type"))
                .with_hint(format!("use {}", known.join(", ")))
                .into());
        }
        events.push(event);
    }
    if events.is_empty() {
        events = WebhookEventType::KNOWN.to_vec();
    }
    let client = context.client()?;
    let created = client
        .webhooks()
        .create(&create_webhook::Request::new(args.url, events))
        .await
        .context("cannot create the webhook")?;
    let secret =
        created.secret.as_ref().filter(|secret| !secret.is_empty()).map(|secret| secret.expose_secret().to_owned());
    if secret.is_some() {
        context.ui.alert("the signing secret is shown only this once: store it now (`cyrisma webhooks listen --secret-stdin` reads it)");
    }
    let row = CreatedWebhookRow {
        webhook_id: created.webhook_id.clone(),
        url: created.url.clone(),
        events: created.events.to_comma_separated(),
        signing_secret: secret,
    };
    context.out.api_one(&created, &row)
}

/// What the receiver shares between connections.
struct Receiver {
    secret: WebhookSecret,
    verifier: Verifier,
    seen: Mutex<DuplicateFilter>,
    printed: AtomicU64,
    max_events: Option<u64>,
    done: tokio::sync::Notify,
    ui: Ui,
}

async fn listen(context: &Context, args: WebhooksListenArgs) -> anyhow::Result<()> {
    let secret = if args.secret_stdin {
        let mut line = String::new();
        std::io::stdin().lock().read_line(&mut line).context("cannot read the signing secret from stdin")?;
        line.trim_end_matches(['\r', '\n']).to_owned()
    } else {
        std::env::var("CYRISMA_WEBHOOK_SECRET").unwrap_or_default()
    };
    if secret.is_empty() {
        return Err(CliError::usage("no webhook signing secret given")
            .with_hint("pipe it in with `--secret-stdin`, or set `CYRISMA_WEBHOOK_SECRET`")
            .into());
    }
    let listener = tokio::net::TcpListener::bind(listen_addr(args.port))
        .await
        .with_context(|| format!("cannot listen on 127.0.0.1:{}", args.port))?;
    let addr = listener.local_addr().context("cannot read the listening address")?;
    context.ui.note(&format!("listening on http://{addr}/ for signed webhook deliveries; press Ctrl-C to stop"));
    let receiver = Arc::new(Receiver {
        secret: WebhookSecret::new(secret),
        verifier: Verifier::new(),
        seen: Mutex::new(DuplicateFilter::default()),
        printed: AtomicU64::new(0),
        max_events: args.max_events,
        done: tokio::sync::Notify::new(),
        ui: context.ui.clone(),
    });
    if args.max_events == Some(0) {
        return Ok(());
    }
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                let Ok((stream, _)) = accepted else { continue };
                let receiver = receiver.clone();
                tokio::spawn(async move {
                    let service = hyper::service::service_fn(move |request| handle(receiver.clone(), request));
                    let _ = hyper::server::conn::http1::Builder::new().serve_connection(TokioIo::new(stream), service).await;
                });
            }
            _ = receiver.done.notified() => break,
            _ = tokio::signal::ctrl_c() => break,
        }
    }
    Ok(())
}

fn answer(status: StatusCode) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(Bytes::new()));
    *response.status_mut() = status;
    response
}

async fn handle(receiver: Arc<Receiver>, request: Request<Incoming>) -> Result<Response<Full<Bytes>>, Infallible> {
    if request.method() != Method::POST {
        return Ok(answer(StatusCode::METHOD_NOT_ALLOWED));
    }
    let header = request
        .headers()
        .get(WEBHOOK_SIGNATURE_HEADER)
        .and_then(|value| value.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let body = match Limited::new(request.into_body(), MAX_BODY_BYTES + 1).collect().await {
        Ok(collected) => collected.to_bytes(),
        Err(_) => {
            receiver.ui.warn("refused a webhook delivery: the body is over 1 MiB or was cut short");
            return Ok(answer(StatusCode::PAYLOAD_TOO_LARGE));
        }
    };
    let now = SystemTime::now().duration_since(UNIX_EPOCH).map(|elapsed| elapsed.as_secs()).unwrap_or(0);
    let event = match receiver.verifier.verify_event(&receiver.secret, &header, &body, now) {
        Ok(event) => event,
        Err(error) => {
            receiver.ui.warn(&format!("refused a webhook delivery: {error}"));
            let status = match error {
                WebhookError::Signature(_) => StatusCode::UNAUTHORIZED,
                _ => StatusCode::BAD_REQUEST,
            };
            return Ok(answer(status));
        }
    };
    let first = receiver.seen.lock().unwrap_or_else(PoisonError::into_inner).first_delivery(&event.id, now);
    if !first {
        receiver.ui.note(&format!("dropped a duplicate delivery of event `{}`", event.id));
        return Ok(answer(StatusCode::OK));
    }
    let line = WebhookEventLine {
        id: event.id.clone(),
        event_type: event.event_type.as_str().to_owned(),
        created_at: event.created_at.clone(),
        partner_id: event.partner_id.clone(),
        instance_id: event.instance_id.clone(),
        data: event.data.clone(),
        signed_at: header_timestamp(&header),
    };
    if let Ok(mut text) = serde_json::to_vec(&line) {
        text.push(b'\n');
        let mut stdout = std::io::stdout().lock();
        let _ = stdout.write_all(&text).and_then(|()| stdout.flush());
    }
    let printed = receiver.printed.fetch_add(1, Ordering::SeqCst) + 1;
    if receiver.max_events.is_some_and(|max| printed >= max) {
        receiver.done.notify_one();
    }
    Ok(answer(StatusCode::NO_CONTENT))
}

/// The `t=` of a verified signature header.
fn header_timestamp(header: &str) -> u64 {
    header
        .split(',')
        .filter_map(|entry| entry.trim().strip_prefix("t="))
        .find_map(|value| value.trim().parse().ok())
        .unwrap_or(0)
}
