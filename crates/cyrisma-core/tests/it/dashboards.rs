//! Requests and responses of the `dashboards` endpoints.
