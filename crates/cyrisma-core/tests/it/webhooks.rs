//! Requests and responses of the `webhooks` endpoints.
