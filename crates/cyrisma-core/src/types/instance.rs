//! The instance object of `GET /partner/instances/info/` and the small results of the
//! provisioning calls.

use crate::types::{GradingPeriod, InstanceStatus, InstanceType, MfaType};
use crate::wire::model;

model! {
    /// An organization or instance, as listed by `GET /partner/instances/info/` \[DOC\].
    ///
    /// `status`, `country`, `created_at` and `grading_period` are \[ASSUMED\] additions.
    pub struct Instance {
        /// The instance id.
        pub instance_id: String => "instance_id" | "instanceId" | "id",
        /// The display name.
        pub name: Option<String> => "name",
        /// The short name.
        pub short_name: Option<String> => "short_name" | "shortName",
        /// The parent organization's id.
        pub parent_id: Option<String> => "parent_id" | "parentId",
        /// The tree path of the instance in the partner's hierarchy.
        pub hierarchy: Option<String> => "hierarchy",
        /// `msp`, `mssp` or `standard`.
        pub instance_type: Option<InstanceType> => "instance_type" | "instanceType",
        /// Whether this is a consulting instance.
        pub is_consulting: Option<bool> => "is_consulting" | "isConsulting",
        /// The number of agents deployed: the usage figure.
        pub number_of_endpoints: Option<u64> => "number_of_endpoints" | "numberOfEndpoints",
        /// The instance host (for example `cc123456.cyrisma.com`); untrusted until validated.
        pub url: Option<String> => "url",
        /// The Microsoft tenant id.
        pub tenant_id: Option<String> => "tenant_id" | "tenantId",
        /// The key agents use to enrol.
        pub agent_key: Option<String> => "agent_key" | "agentKey",
        /// The MFA method of an organization.
        pub mfa: Option<MfaType> => "mfa" | "mfa_type",
        /// The lifecycle state \[ASSUMED\].
        pub status: Option<InstanceStatus> => "status",
        /// The country, which determines data residency \[ASSUMED\] in listings.
        pub country: Option<String> => "country",
        /// When it was created, RFC 3339 \[ASSUMED\].
        pub created_at: Option<String> => "created_at" | "createdAt",
        /// The grading period \[ASSUMED\].
        pub grading_period: Option<GradingPeriod> => "grading_period" | "gradingPeriod",
    }
}

impl Instance {
    /// Whether this is an organization (MSP or MSSP).
    pub fn is_organization(&self) -> bool {
        self.instance_type.as_ref().is_some_and(InstanceType::is_organization)
    }

    /// Whether the instance is suspended.
    pub fn is_suspended(&self) -> bool {
        self.status == Some(InstanceStatus::Suspended)
    }
}

model! {
    /// The answer to creating an organization or instance \[DOC\].
    pub struct CreatedInstance {
        /// The new id.
        pub instance_id: String => "instance_id" | "instanceId",
        /// The key agents use to enrol.
        pub agent_key: Option<String> => "agent_key" | "agentKey",
    }
}

model! {
    /// The answer to converting a consulting instance \[DOC\].
    pub struct ConvertedInstance {
        /// The instance id.
        pub instance_id: String => "instance_id" | "instanceId",
        /// The name.
        pub name: Option<String> => "name",
        /// The consulting status after conversion.
        pub consulting_status: Option<String> => "consulting_status" | "consultingStatus",
    }
}

model! {
    /// The answer to suspending or reactivating an instance \[ASSUMED\].
    pub struct InstanceStatusChange {
        /// The instance id.
        pub instance_id: String => "instance_id" | "instanceId",
        /// The name.
        pub name: Option<String> => "name",
        /// The new status.
        pub status: Option<InstanceStatus> => "status",
    }
}

model! {
    /// The answer to changing an organization's MFA method \[ASSUMED\].
    pub struct MfaChange {
        /// The organization id.
        pub instance_id: String => "instance_id" | "instanceId",
        /// The new MFA method.
        pub mfa_type: Option<MfaType> => "mfa_type" | "mfaType" | "mfa",
    }
}

model! {
    /// The answer to instance authentication \[OBS\]: which instances accepted the token.
    ///
    /// Elements are instance id strings \[ASSUMED\]; objects with an `instance_id` or `id` are
    /// also read, through [`InstanceLogin::succeeded_ids`].
    pub struct InstanceLogin {
        /// Instances that accepted the token.
        pub success_token_inserts: Vec<serde_json::Value> => "success_token_inserts" | "successTokenInserts",
        /// Instances that refused it (suspended ones, for example) \[ASSUMED\].
        pub failed_token_inserts: Vec<serde_json::Value> => "failed_token_inserts" | "failedTokenInserts",
    }
}

impl InstanceLogin {
    /// The ids of the instances that accepted the token.
    pub fn succeeded_ids(&self) -> Vec<String> {
        self.success_token_inserts.iter().filter_map(instance_ref).collect()
    }

    /// The ids of the instances that refused the token.
    pub fn failed_ids(&self) -> Vec<String> {
        self.failed_token_inserts.iter().filter_map(instance_ref).collect()
    }
}

fn instance_ref(value: &serde_json::Value) -> Option<String> {
    match value {
        serde_json::Value::String(id) => Some(id.clone()),
        serde_json::Value::Number(id) => Some(id.to_string()),
        serde_json::Value::Object(object) => {
            ["instance_id", "instanceId", "id"].iter().find_map(|key| object.get(*key)).and_then(instance_ref)
        }
        _ => None,
    }
}

/// The models of this file, in the order of their Python classes: every `model!` above is listed
/// here (`types::tests` fails otherwise), and [`crate::types::MODELS`] joins the files' lists.
pub(super) const MODELS: &[&crate::wire::ModelSchema] = &[
    &Instance::SCHEMA,
    &CreatedInstance::SCHEMA,
    &ConvertedInstance::SCHEMA,
    &InstanceStatusChange::SCHEMA,
    &MfaChange::SCHEMA,
    &InstanceLogin::SCHEMA,
];
