//! Endpoints for webhook registrations (central host). PROVISIONAL: CYRISMA promises webhooks but
//! publishes no wire format; this follows the project's provisional contract.

pub mod create_webhook;
pub mod delete_webhook;
pub mod list_webhooks;
