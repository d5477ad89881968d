//! Requests and responses of the `assets` endpoints.
