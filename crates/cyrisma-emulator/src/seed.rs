//! The seeded structure: organizations, instances and users, deterministic for a seed.
//!
//! Only the small structure is stored. Reporting data (scans, assets, dashboards, CVEs) is
//! generated on request from `(seed, instance number, scan index)` by [`crate::reporting`], so the
//! state stays small at 1,000 instances × 10 scans × 200 assets.

use cyrisma_core::types::{GradingPeriod, InstanceType, MfaType};

use crate::prng::Prng;
use crate::state::{Entity, UserRecord};
use crate::timeline;

/// What to seed.
#[derive(Clone, Debug)]
pub(crate) struct SeedPlan {
    pub(crate) seed: u64,
    pub(crate) partner_id: String,
    pub(crate) organizations: u32,
    pub(crate) instances: u32,
    pub(crate) scans_per_instance: u32,
    /// Unix seconds that seeded times count back from.
    pub(crate) anchor: i64,
    /// Monthly periods of generated past before the anchor's month.
    pub(crate) history_periods: u32,
}

/// The first entity number (`cc100001`).
pub(crate) const FIRST_NUMBER: u32 = 100_001;

const ORG_PREFIXES: &[&str] = &[
    "Northwind",
    "Bluewave",
    "Granite",
    "Summit",
    "Ironclad",
    "Beacon",
    "Keystone",
    "Harbor",
    "Pinnacle",
    "Redwood",
    "Silverline",
    "Trident",
    "Cobalt",
    "Evergreen",
    "Lighthouse",
    "Meridian",
];
const ORG_SUFFIXES: &[&str] = &[
    "IT Services",
    "Managed Services",
    "Cyber",
    "Technology Partners",
    "Networks",
    "Secure",
    "Tech Group",
    "Solutions",
];
const CUSTOMER_PREFIXES: &[&str] = &[
    "Contoso",
    "Fabrikam",
    "Lakeside",
    "Riverbend",
    "Oakridge",
    "Maple",
    "Sunrise",
    "Hilltop",
    "Bayview",
    "Cedar",
    "Prairie",
    "Harborview",
    "Stonegate",
    "Willow",
    "Crescent",
    "Brookfield",
    "Juniper",
    "Aspen",
    "Pioneer",
    "Westfield",
    "Eastgate",
    "Kingsley",
    "Marlow",
    "Tidewater",
];
const CUSTOMER_KINDS: &[&str] = &[
    "Dental",
    "Legal",
    "Pediatrics",
    "Accounting",
    "Logistics",
    "Realty",
    "Veterinary Clinic",
    "Manufacturing",
    "Credit Union",
    "Insurance",
    "Architects",
    "Family Medicine",
    "School District",
    "Engineering",
    "Hotels",
    "Construction",
    "Pharmacy",
    "Law Group",
];
const COUNTRIES: &[&str] = &["US", "US", "US", "US", "CA", "CA", "GB", "AU", "DE", "NL", "NZ", "IE"];
const FIRST_NAMES: &[&str] = &[
    "Alex", "Jordan", "Sam", "Taylor", "Morgan", "Casey", "Jamie", "Riley", "Avery", "Quinn", "Priya", "Mateo",
    "Aisha", "Chen", "Olga", "Kwame", "Sofia", "Liam", "Noah", "Emma",
];
const LAST_NAMES: &[&str] = &[
    "Smith", "Johnson", "Nguyen", "Garcia", "Brown", "Patel", "Kim", "Martin", "Lopez", "Clark", "Okafor", "Novak",
    "Rossi", "Schmidt", "Dubois", "Hughes", "Walsh", "Tanaka",
];

fn slug(text: &str) -> String {
    text.chars().filter(|ch| ch.is_ascii_alphanumeric()).map(|ch| ch.to_ascii_lowercase()).collect()
}

fn uuid_from(prng: &mut Prng) -> String {
    let hex = format!("{:016x}{:016x}", prng.next_u64(), prng.next_u64());
    format!("{}-{}-4{}-a{}-{}", &hex[0..8], &hex[8..12], &hex[13..16], &hex[17..20], &hex[20..32])
}

/// Builds the seeded organizations, instances and users.
pub(crate) fn build(plan: &SeedPlan) -> (Vec<Entity>, Vec<UserRecord>) {
    let mut entities = Vec::with_capacity((plan.organizations + plan.instances) as usize);
    let mut users = Vec::new();
    let mut next_user = 5001u32;
    let mut number = FIRST_NUMBER;
    let history = timeline::history(plan.anchor, plan.history_periods);
    for org in 0..plan.organizations {
        let mut prng = Prng::derive(plan.seed, &[1, u64::from(org)]);
        let name = format!("{} {}", prng.pick(ORG_PREFIXES), prng.pick(ORG_SUFFIXES));
        let short_name = format!("{}{}", slug(&name).chars().take(10).collect::<String>(), org + 1);
        let id = format!("cc{number:06}");
        let kind = if prng.chance(0.6) { InstanceType::Msp } else { InstanceType::Mssp };
        let mfa = match prng.below(3) {
            0 => MfaType::None,
            1 => MfaType::Email,
            _ => MfaType::Authenticator,
        };
        entities.push(Entity {
            hierarchy: format!("{}/{}", plan.partner_id, id),
            id,
            number,
            name,
            short_name: short_name.clone(),
            parent_id: plan.partner_id.clone(),
            kind,
            is_consulting: false,
            converted: false,
            suspended: false,
            endpoints: 0,
            tenant_id: String::new(),
            agent_key: uuid_from(&mut prng),
            mfa: Some(mfa),
            country: (*prng.pick(COUNTRIES)).to_owned(),
            created_at: plan.anchor - 86_400 * prng.range(400, 1500) as i64,
            ready_at: None,
            grading_period: GradingPeriod::Monthly,
            seeded_scans: 0,
            extra_scans: Vec::new(),
            periods: Vec::new(),
        });
        number += 1;
        let user_count = prng.range(2, 4);
        for _ in 0..user_count {
            let first = *prng.pick(FIRST_NAMES);
            let last = *prng.pick(LAST_NAMES);
            let id = next_user.to_string();
            next_user += 1;
            users.push(UserRecord {
                username: format!(
                    "{}.{}.{}@{}.example",
                    first.to_ascii_lowercase(),
                    last.to_ascii_lowercase(),
                    id,
                    short_name
                ),
                id,
                first_name: first.to_owned(),
                last_name: last.to_owned(),
                enabled: !prng.chance(0.1),
                instance_id: entities[org as usize].id.clone(),
            });
        }
    }
    for instance in 0..plan.instances {
        if plan.organizations == 0 {
            break;
        }
        let mut prng = Prng::derive(plan.seed, &[2, u64::from(instance)]);
        let parent = &entities[(instance % plan.organizations) as usize];
        let (parent_id, parent_hierarchy) = (parent.id.clone(), parent.hierarchy.clone());
        let name = format!("{} {}", prng.pick(CUSTOMER_PREFIXES), prng.pick(CUSTOMER_KINDS));
        let short_name = format!("{}{}", slug(&name).chars().take(12).collect::<String>(), instance + 1);
        let id = format!("cc{number:06}");
        let is_consulting = prng.chance(0.15);
        let suspended = prng.chance(0.05);
        entities.push(Entity {
            hierarchy: format!("{parent_hierarchy}/{id}"),
            id,
            number,
            name,
            short_name: short_name.clone(),
            parent_id,
            kind: InstanceType::Standard,
            is_consulting,
            converted: false,
            suspended,
            endpoints: prng.range(3, 250),
            tenant_id: if prng.chance(0.5) { uuid_from(&mut prng) } else { String::new() },
            agent_key: uuid_from(&mut prng),
            mfa: None,
            country: (*prng.pick(COUNTRIES)).to_owned(),
            created_at: plan.anchor - 86_400 * prng.range(60, 900) as i64,
            ready_at: None,
            grading_period: if prng.chance(0.8) { GradingPeriod::Monthly } else { GradingPeriod::Quarterly },
            seeded_scans: plan.scans_per_instance,
            extra_scans: Vec::new(),
            periods: history.clone(),
        });
        number += 1;
    }
    (entities, users)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan(seed: u64) -> SeedPlan {
        SeedPlan {
            seed,
            partner_id: "partner01".into(),
            organizations: 3,
            instances: 20,
            scans_per_instance: 4,
            anchor: 1_750_000_000,
            history_periods: 0,
        }
    }

    #[test]
    fn seeding_is_deterministic() {
        let (a, users_a) = build(&plan(7));
        let (b, users_b) = build(&plan(7));
        let (c, _) = build(&plan(8));
        assert_eq!(format!("{a:?}{users_a:?}"), format!("{b:?}{users_b:?}"));
        assert_ne!(format!("{a:?}"), format!("{c:?}"));
        assert_eq!(a.len(), 23);
        assert!(a[..3].iter().all(Entity::is_organization));
        assert!(a[3..].iter().all(|entity| !entity.is_organization() && entity.mfa.is_none()));
        assert!(users_a.iter().all(|user| a[..3].iter().any(|org| org.id == user.instance_id)));
    }
}
