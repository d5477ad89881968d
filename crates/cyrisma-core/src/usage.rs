//! Usage and utilization, derived from the structure and user listings.
//!
//! CYRISMA publishes no usage endpoint; the contract derives usage from `GET
//! /partner/instances/info/` and `GET /partner/users/info` \[ASSUMED derivation\]: endpoints
//! (`number_of_endpoints`) per instance, per organization and in total; standard, consulting and
//! suspended instance counts; users per organization. Every front end (CLI, Python) computes it
//! here, so their figures cannot drift apart.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::types::{Instance, User};

/// The columns of a usage row, in order (the serialized field names).
pub const COLUMNS: &[&str] = &[
    "scope",
    "id",
    "name",
    "organization_id",
    "endpoints",
    "instances",
    "standard",
    "consulting",
    "suspended",
    "users",
];

/// One line of the usage: an instance, an organization's total, or the grand total.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct UsageRow {
    /// `instance`, `organization` or `total`.
    pub scope: &'static str,
    /// The instance or organization id (`None` for the total).
    pub id: Option<String>,
    /// Its name.
    pub name: Option<String>,
    /// The organization an instance belongs to (for an organization, its parent).
    pub organization_id: Option<String>,
    /// Endpoints (agents) deployed.
    pub endpoints: u64,
    /// Instances counted.
    pub instances: u64,
    /// Standard (not consulting) instances.
    pub standard: u64,
    /// Consulting instances.
    pub consulting: u64,
    /// Suspended instances.
    pub suspended: u64,
    /// Users (organizations and the total only).
    pub users: Option<u64>,
}

/// The usage rows, grouped by organization: each organization's instances, then its total; the
/// grand total last (unless `only` names one organization, whose rows alone are returned).
pub fn usage_rows(instances: &[Instance], users: &[User], only: Option<&str>) -> Vec<UsageRow> {
    let mut users_per_org: BTreeMap<String, u64> = BTreeMap::new();
    for user in users {
        if let Some(org) = &user.instance_id {
            *users_per_org.entry(org.clone()).or_default() += 1;
        }
    }
    let organizations: BTreeMap<&str, &Instance> = instances
        .iter()
        .filter(|instance| instance.is_organization())
        .map(|instance| (instance.instance_id.as_str(), instance))
        .collect();
    let mut groups: BTreeMap<String, Vec<&Instance>> = BTreeMap::new();
    for org in organizations.keys() {
        groups.entry((*org).to_owned()).or_default();
    }
    for instance in instances.iter().filter(|instance| !instance.is_organization()) {
        groups.entry(instance.parent_id.clone().unwrap_or_default()).or_default().push(instance);
    }
    let mut rows = Vec::new();
    let mut grand = UsageRow { scope: "total", users: Some(users.len() as u64), ..UsageRow::default() };
    for (org_id, mut members) in groups {
        if only.is_some_and(|only| only != org_id) {
            continue;
        }
        members.sort_by(|a, b| a.instance_id.cmp(&b.instance_id));
        let org = organizations.get(org_id.as_str());
        let mut total = UsageRow {
            scope: "organization",
            id: (!org_id.is_empty()).then(|| org_id.clone()),
            name: org.and_then(|org| org.name.clone()),
            organization_id: org.and_then(|org| org.parent_id.clone()),
            endpoints: org.and_then(|org| org.number_of_endpoints).unwrap_or(0),
            users: Some(users_per_org.get(&org_id).copied().unwrap_or(0)),
            ..UsageRow::default()
        };
        for member in members {
            let row = instance_row(member);
            add(&mut total, &row);
            rows.push(row);
        }
        add(&mut grand, &total);
        rows.push(total);
    }
    if only.is_none() {
        rows.push(grand);
    }
    rows
}

fn instance_row(instance: &Instance) -> UsageRow {
    let consulting = instance.is_consulting.unwrap_or(false);
    UsageRow {
        scope: "instance",
        id: Some(instance.instance_id.clone()),
        name: instance.name.clone(),
        organization_id: instance.parent_id.clone(),
        endpoints: instance.number_of_endpoints.unwrap_or(0),
        instances: 1,
        standard: u64::from(!consulting),
        consulting: u64::from(consulting),
        suspended: u64::from(instance.is_suspended()),
        users: None,
    }
}

/// Adds a row into a total. Totals saturate at `u64::MAX` instead of wrapping around (or
/// panicking in a debug build) when a server reports counts near 2^64.
fn add(total: &mut UsageRow, row: &UsageRow) {
    total.endpoints = total.endpoints.saturating_add(row.endpoints);
    total.instances = total.instances.saturating_add(row.instances);
    total.standard = total.standard.saturating_add(row.standard);
    total.consulting = total.consulting.saturating_add(row.consulting);
    total.suspended = total.suspended.saturating_add(row.suspended);
}

#[cfg(test)]
mod tests {
    use crate::types::{InstanceStatus, InstanceType};

    use super::*;

    fn instance(id: &str, kind: InstanceType, parent: Option<&str>, endpoints: u64) -> Instance {
        Instance {
            instance_id: id.into(),
            instance_type: Some(kind),
            parent_id: parent.map(str::to_owned),
            number_of_endpoints: Some(endpoints),
            ..Instance::default()
        }
    }

    fn user(id: &str, org: &str) -> User {
        User { id: id.into(), instance_id: Some(org.into()), ..User::default() }
    }

    #[test]
    fn the_columns_are_the_serialized_field_names_in_order() {
        let value = serde_json::to_value(UsageRow::default()).expect("serializes");
        let text = serde_json::to_string(&UsageRow::default()).expect("serializes");
        assert_eq!(value.as_object().expect("an object").len(), COLUMNS.len());
        let positions: Vec<usize> =
            COLUMNS.iter().map(|key| text.find(&format!("\"{key}\":")).expect("a key")).collect();
        assert!(positions.windows(2).all(|pair| pair[0] < pair[1]), "in order: {text}");
    }

    #[test]
    fn endpoints_add_up_per_organization_and_in_total() {
        let mut suspended = instance("cc3", InstanceType::Standard, Some("org1"), 7);
        suspended.status = Some(InstanceStatus::Suspended);
        suspended.is_consulting = Some(true);
        let instances = vec![
            instance("org1", InstanceType::Msp, None, 0),
            instance("cc1", InstanceType::Standard, Some("org1"), 10),
            suspended,
            instance("cc2", InstanceType::Standard, Some("org2"), 5),
            instance("org2", InstanceType::Mssp, None, 1),
        ];
        // Two users under org1, and one whose organization is not known.
        let users = vec![user("u1", "org1"), user("u2", "org1"), User { id: "u3".into(), ..User::default() }];
        let rows = usage_rows(&instances, &users, None);
        let summary: Vec<String> = rows
            .iter()
            .map(|row| {
                format!(
                    "{} {:?} endpoints={} instances={} consulting={} suspended={} users={:?}",
                    row.scope, row.id, row.endpoints, row.instances, row.consulting, row.suspended, row.users
                )
            })
            .collect();
        assert_eq!(
            summary,
            [
                "instance Some(\"cc1\") endpoints=10 instances=1 consulting=0 suspended=0 users=None",
                "instance Some(\"cc3\") endpoints=7 instances=1 consulting=1 suspended=1 users=None",
                "organization Some(\"org1\") endpoints=17 instances=2 consulting=1 suspended=1 users=Some(2)",
                "instance Some(\"cc2\") endpoints=5 instances=1 consulting=0 suspended=0 users=None",
                "organization Some(\"org2\") endpoints=6 instances=1 consulting=0 suspended=0 users=Some(0)",
                "total None endpoints=23 instances=3 consulting=1 suspended=1 users=Some(3)",
            ]
        );
        assert_eq!(usage_rows(&instances, &users, Some("org2")).len(), 2);
    }

    #[test]
    fn totals_near_2_pow_64_saturate_instead_of_wrapping() {
        let instances = vec![
            instance("org1", InstanceType::Msp, None, 0),
            instance("cc1", InstanceType::Standard, Some("org1"), u64::MAX),
            instance("cc2", InstanceType::Standard, Some("org1"), 5),
        ];
        let rows = usage_rows(&instances, &[], None);
        let org = rows.iter().find(|row| row.scope == "organization").unwrap();
        assert_eq!(org.endpoints, u64::MAX, "not 4");
        assert_eq!(rows.last().unwrap().endpoints, u64::MAX);
        assert_eq!(org.instances, 2);
    }
}
