//! Requests and responses of the `scans` endpoints.
