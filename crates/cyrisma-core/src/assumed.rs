//! Every choice the contract marks \[ASSUMED\] that code depends on, in one place.
//!
//! CYRISMA has not published these details. The contract (`shared/spec/cyrisma-api.md`) fixes a
//! choice so that the core, the emulator, the CLI and the Python package agree; when the real
//! behaviour is known, correct it here (and in the shapes listed below), and the tests and the
//! emulator follow.
//!
//! Assumed wire shapes live with their models; each says so in its doc comment:
//! - `types::ErrorBody` and `types::ErrorCode`: the error body and its codes;
//! - `api::auth::regen_pass`: request fields and response keys;
//! - `api::instances::{suspend_instance, reactivate_instance, set_mfa}` bodies, `types::Instance`
//!   fields `status`, `country`, `created_at`, `grading_period`;
//! - `api::users::*` bodies;
//! - `types::{DataScan, BaselineScan}`, the data/baseline/vulnerability dashboards and CVEs;
//! - the whole `api::webhooks` module and [`crate::webhook`] (provisional).

use std::time::Duration;

/// `grant_type` of the refresh grant on `POST /partner/login/`.
pub const REFRESH_GRANT_TYPE: &str = "refresh_token";

/// Form field carrying the refresh token in the refresh grant.
pub const REFRESH_TOKEN_FIELD: &str = "refresh_token";

/// Keys of the regen-pass response that may carry the new secret, in order of preference.
pub const REGEN_PASS_SECRET_KEYS: &[&str] = &["password", "new_password", "secret", "api_secret"];

/// Key of the instance-login response listing instances that refused the token.
pub const FAILED_TOKEN_INSERTS_KEY: &str = "failed_token_inserts";

/// Form field naming the user in `PATCH /partner/users/disable` (an id or a username).
pub const DISABLE_USER_FIELD: &str = "user_id";

/// Header carrying a webhook delivery's signature (provisional).
pub const WEBHOOK_SIGNATURE_HEADER: &str = "Cyrisma-Signature";

/// How far a webhook timestamp may be from now and still be accepted (provisional).
pub const WEBHOOK_TOLERANCE: Duration = Duration::from_secs(300);

/// Dashboard area keys: `or` and `vn` are observed, `ds`, `sb` and `cp` are assumed.
pub const DASHBOARD_AREAS: &[&str] = &["or", "ds", "vn", "sb", "cp"];
