//! Endpoints for partner credentials: logging in and rotating the API secret (central host).

pub mod login;
pub mod regen_pass;
