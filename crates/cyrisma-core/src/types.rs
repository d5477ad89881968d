//! Wire models shared by several endpoints, and the enums of the contract.
//!
//! Models are declared with `model!`: public fields, a liberal single-pass parser, and an `extra`
//! map that keeps every field the server sent that the model does not know. They derive
//! `Default` so that callers (the emulator, tests) can build them with `..Default::default()`.

mod enums;
mod error_body;
mod instance;
mod reporting;
mod user;
mod webhook;

pub use enums::*;
pub use error_body::*;
pub use instance::*;
pub use reporting::*;
pub use user::*;
pub use webhook::*;

use crate::wire::{EnumSchema, ModelSchema};

/// Every wire model of this module, in the order the Python classes are declared: the input of
/// `cargo xtask codegen` (a model added here gets a Python class).
pub const MODELS: &[&ModelSchema] = &[
    &Instance::SCHEMA,
    &CreatedInstance::SCHEMA,
    &ConvertedInstance::SCHEMA,
    &InstanceStatusChange::SCHEMA,
    &MfaChange::SCHEMA,
    &InstanceLogin::SCHEMA,
    &User::SCHEMA,
    &VulnerabilityScan::SCHEMA,
    &VulnerabilityScans::SCHEMA,
    &ScanDetail::SCHEMA,
    &Asset::SCHEMA,
    &Vulnerability::SCHEMA,
    &OpenPort::SCHEMA,
    &Flaw::SCHEMA,
    &FlawInstance::SCHEMA,
    &DataScan::SCHEMA,
    &DataScans::SCHEMA,
    &BaselineScan::SCHEMA,
    &BaselineScans::SCHEMA,
    &BaselineTarget::SCHEMA,
    &OverallDashboard::SCHEMA,
    &DataDashboard::SCHEMA,
    &BaselineDashboard::SCHEMA,
    &VulnerabilityDashboard::SCHEMA,
    &Cve::SCHEMA,
    &Cves::SCHEMA,
    &Webhook::SCHEMA,
    &DeletedWebhook::SCHEMA,
    &WebhookEvent::SCHEMA,
    &ErrorBody::SCHEMA,
];

/// Every wire enum of this module (see [`MODELS`]).
pub const ENUMS: &[&EnumSchema] = &[
    &InstanceType::SCHEMA,
    &MfaType::SCHEMA,
    &InstanceStatus::SCHEMA,
    &GradingPeriod::SCHEMA,
    &ScanType::SCHEMA,
    &RiskLevel::SCHEMA,
    &Grade::SCHEMA,
    &AssetType::SCHEMA,
    &WebhookEventType::SCHEMA,
    &ErrorCode::SCHEMA,
];
