//! Endpoints for organizations and instances: structure, provisioning, MFA and instance
//! authentication (central host).

pub mod authenticate_all_instances;
pub mod authenticate_instance;
pub mod convert_instance;
pub mod create_instance;
pub mod get_instance;
pub mod list_instances;
pub mod reactivate_instance;
pub mod set_mfa;
pub mod suspend_instance;
