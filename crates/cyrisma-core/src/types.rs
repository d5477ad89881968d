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
///
/// Joined from the `MODELS` list at the end of each area's file (instance, user, reporting,
/// webhook, error body, in this order), so a new model is listed in the file that declares it. A
/// test fails when a `model!` of an area is missing from its list, and `tests/it/models.rs` fails
/// when a model that a response can hold is missing.
pub const MODELS: &[&ModelSchema] = &join::<{ count(AREAS) }>(AREAS);

/// The areas' model lists, in Python class order.
const AREAS: &[&[&ModelSchema]] =
    &[instance::MODELS, user::MODELS, reporting::MODELS, webhook::MODELS, error_body::MODELS];

/// How many models the areas declare.
const fn count(areas: &[&[&ModelSchema]]) -> usize {
    let (mut total, mut area) = (0, 0);
    while area < areas.len() {
        total += areas[area].len();
        area += 1;
    }
    total
}

/// The areas' lists one after the other (`N` is [`count`] of them).
const fn join<const N: usize>(areas: &[&[&'static ModelSchema]]) -> [&'static ModelSchema; N] {
    let mut joined = [&ErrorBody::SCHEMA; N];
    let (mut area, mut at) = (0, 0);
    while area < areas.len() {
        let mut index = 0;
        while index < areas[area].len() {
            joined[at] = areas[area][index];
            at += 1;
            index += 1;
        }
        area += 1;
    }
    joined
}

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

    /// Every `model!` of `src/types/<area>.rs` is in its area's list (so in [`MODELS`] and in
    /// Python), whether or not a response reaches it.
    #[test]
    fn every_declared_model_is_listed() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src/types");
        let mut declared = Vec::new();
        for entry in std::fs::read_dir(&root).unwrap() {
            let text = std::fs::read_to_string(entry.unwrap().path()).unwrap();
            for block in text.split("model! {").skip(1) {
                let after = block.split_once("pub struct ").expect("a model! declares a struct").1;
                let name: String = after.chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '_').collect();
                declared.push(name);
            }
        }
        declared.sort_unstable();
        let mut listed: Vec<String> = MODELS.iter().map(|schema| schema.name.to_owned()).collect();
        listed.sort_unstable();
        assert_eq!(declared, listed, "a `model!` of src/types/ is missing from its file's `MODELS` (or listed twice)");
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
