//! Endpoints for users under organizations (central host).

pub mod create_user;
pub mod disable_user;
pub mod get_user;
pub mod list_users;
