//! Requests and responses of the `users` endpoints.
