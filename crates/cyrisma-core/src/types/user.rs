//! The user object of the user endpoints.

use crate::wire::{TextBool, model};

model! {
    /// A user under an organization \[DOC\]. All fields are strings on the wire; `enabled` is
    /// `"true"` or `"false"`.
    pub struct User {
        /// The user id.
        pub id: String => "id" | "user_id" | "userId",
        /// The username (an email address).
        pub username: Option<String> => "username",
        /// First name.
        pub first_name: Option<String> => "first_name" | "firstName",
        /// Last name.
        pub last_name: Option<String> => "last_name" | "lastName",
        /// Whether the user may log in.
        pub enabled: Option<TextBool> => "enabled",
        /// The organization the user belongs to.
        pub instance_id: Option<String> => "instance_id" | "instanceId",
    }
}

impl User {
    /// Whether the user is enabled (a missing value counts as enabled).
    pub fn is_enabled(&self) -> bool {
        self.enabled.is_none_or(TextBool::get)
    }
}

/// The models of this file, in the order of their Python classes: every `model!` above is listed
/// here (`types::tests` fails otherwise), and [`crate::types::MODELS`] joins the files' lists.
pub(super) const MODELS: &[&crate::wire::ModelSchema] = &[&User::SCHEMA];
