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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schemas_describe_the_declarations() {
        let id = &Instance::SCHEMA.fields[0];
        assert_eq!((id.name, id.wire, id.aliases), ("instance_id", "instance_id", &["instanceId", "id"][..]));
        assert_eq!(id.rust_type.replace(' ', ""), "String");
        assert_eq!(id.doc.trim(), "The instance id.");
        let name = &Instance::SCHEMA.fields[1];
        assert_eq!(name.rust_type.replace(' ', ""), "Option<String>");
        assert_eq!(Instance::SCHEMA.fields.len(), 16);
        assert!(Instance::SCHEMA.doc.contains("An organization or instance"));
        assert!(MfaType::SCHEMA.is_numeric() && ScanType::SCHEMA.is_numeric());
        assert!(!Grade::SCHEMA.is_numeric() && !InstanceStatus::SCHEMA.is_numeric());
        assert_eq!(InstanceStatus::SCHEMA.values.len(), InstanceStatus::KNOWN.len());
    }

    #[test]
    fn registries_list_each_declaration_once() {
        let mut models: Vec<&str> = MODELS.iter().map(|schema| schema.name).collect();
        models.sort_unstable();
        models.dedup();
        assert_eq!(models.len(), MODELS.len());
        let mut enums: Vec<&str> = ENUMS.iter().map(|schema| schema.name).collect();
        enums.sort_unstable();
        enums.dedup();
        assert_eq!(enums.len(), ENUMS.len());
    }
}
