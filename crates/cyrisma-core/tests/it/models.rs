//! `types::MODELS` (the input of the Python code generator) is complete: every model an
//! endpoint's response can hold, at any depth, is listed.

use cyrisma_core::types::{ENUMS, ErrorBody, MODELS};
use cyrisma_core::wire::ModelSchema;

/// Types that appear in models' fields and responses and are neither models nor enums: the
/// containers and the small wrappers of `wire` and `types` (each has no fields of its own that
/// could hide a model). A new type here needs a reason.
const NOT_MODELS: &[&str] = &[
    "Option",
    "Vec",
    "String",
    "Value",
    "Map",
    "Extra",
    "CountOrList",
    "TextBool",
    "WebhookEvents",
    "WebhookSecret",
    "ApiSecret",
    "AccessToken",
    "RefreshToken",
];

/// The type names (upper-case identifiers) in a Rust type, `alloc::vec::Vec<x::Asset>` →
/// `Vec`, `Asset`.
fn type_names(rust_type: &str) -> Vec<&str> {
    rust_type
        .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .filter(|word| word.starts_with(|c: char| c.is_ascii_uppercase()))
        .collect()
}

/// The endpoints' own response models (declared in their endpoint file, not shared, so not
/// in `MODELS`), by their full type name.
fn local_responses() -> Vec<(&'static str, &'static ModelSchema)> {
    use cyrisma_core::api::auth::{login, regen_pass};
    vec![
        (std::any::type_name::<login::Response>(), &login::Response::SCHEMA),
        (std::any::type_name::<regen_pass::Response>(), &regen_pass::Response::SCHEMA),
    ]
}

macro_rules! response_types {
    ($(($resource:ident, $endpoint:ident, $id:ident)),* $(,)?) => {
        [$((
            stringify!($resource.$endpoint),
            std::any::type_name::<<cyrisma_core::api::$resource::$endpoint::Request as cyrisma_core::Endpoint>::Response>(),
        )),*]
    };
}

#[test]
fn every_model_a_response_can_hold_is_listed() {
    // From every endpoint's response type (and the error body every endpoint can answer
    // with), through the field types of every model found: each type is a listed model, a
    // listed enum, or one of `NOT_MODELS`; a model missing from `MODELS` (so from Python)
    // fails here.
    let model = |name: &str| MODELS.iter().copied().find(|schema| schema.name == name);
    let local = local_responses();
    let mut pending: Vec<(String, &'static ModelSchema)> = vec![("error bodies".into(), &ErrorBody::SCHEMA)];
    for (endpoint, response) in cyrisma_core::for_each_endpoint!(response_types) {
        if response.contains("::api::") {
            let (_, schema) = local.iter().find(|(name, _)| *name == response).unwrap_or_else(|| {
                panic!("{endpoint} answers with its own type `{response}`: add it to `local_responses`")
            });
            pending.push((endpoint.to_owned(), schema));
            continue;
        }
        for name in type_names(response) {
            if let Some(schema) = model(name) {
                pending.push((endpoint.to_owned(), schema));
            } else {
                assert!(
                    NOT_MODELS.contains(&name) || ENUMS.iter().any(|schema| schema.name == name),
                    "{endpoint} answers with `{name}`, which is not in `types::MODELS` (the `MODELS` list of its file in src/types/) nor `ENUMS`"
                );
            }
        }
    }
    let mut seen: Vec<(&str, &str)> = Vec::new();
    let mut reached = 0;
    // Bounded: each model is expanded once, and there are finitely many.
    while let Some((from, schema)) = pending.pop() {
        // Keyed by name and doc: the endpoints' own responses are all called `Response`.
        if seen.contains(&(schema.name, schema.doc)) {
            continue;
        }
        seen.push((schema.name, schema.doc));
        reached += 1;
        assert!(reached <= 10 * (MODELS.len() + local.len()), "the model graph does not end");
        for field in schema.fields {
            for name in type_names(field.rust_type) {
                let path = format!("{from} → {}.{}", schema.name, field.name);
                if let Some(schema) = model(name) {
                    pending.push((path, schema));
                } else {
                    assert!(
                        NOT_MODELS.contains(&name) || ENUMS.iter().any(|schema| schema.name == name),
                        "`{name}` (reached by {path}) is not in `types::MODELS` (the `MODELS` list of its file in src/types/) nor `ENUMS`"
                    );
                }
            }
        }
    }
    let names: Vec<&str> = seen.iter().map(|(name, _)| *name).collect();
    assert!(names.contains(&"ScanDetail") && names.contains(&"FlawInstance"), "{names:?}");
}
