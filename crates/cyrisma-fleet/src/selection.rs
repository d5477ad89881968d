//! Which instances an operation covers: explicit ids (an id that is not in the structure becomes
//! a failure record), a filter, or the default reportable set.

use std::collections::BTreeSet;
use std::fmt;
use std::sync::Arc;

use cyrisma_core::types::Instance;

/// The instances a fleet operation covers.
#[derive(Clone, Default)]
pub enum Selection {
    /// Every instance that is not an organization and not suspended.
    #[default]
    Reportable,
    /// These ids (trimmed, without duplicates); the ones the structure does not list are
    /// reported as failures.
    Ids(BTreeSet<String>),
    /// Every listed instance the predicate accepts.
    Matching(Arc<dyn Fn(&Instance) -> bool + Send + Sync>),
}

impl Selection {
    /// The default: every instance that is not an organization and not suspended.
    pub fn reportable() -> Self {
        Selection::Reportable
    }

    /// Explicit ids, trimmed, blanks dropped; no ids at all means [`Selection::Reportable`] (what
    /// a front end's empty `--instance` or `instances=None` means).
    pub fn ids<I, S>(ids: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let ids: BTreeSet<String> =
            ids.into_iter().map(|id| id.as_ref().trim().to_owned()).filter(|id| !id.is_empty()).collect();
        if ids.is_empty() { Selection::Reportable } else { Selection::Ids(ids) }
    }

    /// Every listed instance that `predicate` accepts.
    pub fn matching(predicate: impl Fn(&Instance) -> bool + Send + Sync + 'static) -> Self {
        Selection::Matching(Arc::new(predicate))
    }

    /// Whether this is the default reportable set.
    pub fn is_reportable(&self) -> bool {
        matches!(self, Selection::Reportable)
    }

    /// Whether `instance` is covered.
    pub fn includes(&self, instance: &Instance) -> bool {
        match self {
            Selection::Reportable => cyrisma_transport::fan_out::is_reportable(instance),
            Selection::Ids(ids) => ids.contains(&instance.instance_id),
            Selection::Matching(predicate) => predicate(instance),
        }
    }

    /// The explicit ids that are not in `seen`, in id order.
    pub fn unknown<'a>(&'a self, seen: &'a BTreeSet<String>) -> impl Iterator<Item = &'a String> + 'a {
        let ids = match self {
            Selection::Ids(ids) => Some(ids),
            _ => None,
        };
        ids.into_iter().flat_map(move |ids| ids.difference(seen))
    }
}

impl fmt::Debug for Selection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Selection::Reportable => f.write_str("Reportable"),
            Selection::Ids(ids) => f.debug_tuple("Ids").field(ids).finish(),
            Selection::Matching(_) => f.write_str("Matching(..)"),
        }
    }
}

#[cfg(test)]
mod tests {
    use cyrisma_core::types::{InstanceStatus, InstanceType};

    use super::*;

    fn instance(id: &str, kind: InstanceType, status: InstanceStatus) -> Instance {
        Instance { instance_id: id.into(), instance_type: Some(kind), status: Some(status), ..Instance::default() }
    }

    #[test]
    fn ids_are_trimmed_and_no_ids_mean_the_reportable_set() {
        assert!(Selection::ids([" ", ""]).is_reportable());
        assert!(Selection::ids(Vec::<String>::new()).is_reportable());
        let Selection::Ids(ids) = Selection::ids([" cc2", "cc1 ", "cc2"]) else { panic!("explicit ids") };
        assert_eq!(ids.into_iter().collect::<Vec<_>>(), ["cc1", "cc2"]);
    }

    #[test]
    fn each_selection_includes_what_it_says() {
        let active = instance("cc1", InstanceType::Standard, InstanceStatus::Active);
        let suspended = instance("cc2", InstanceType::Standard, InstanceStatus::Suspended);
        let org = instance("org1", InstanceType::Msp, InstanceStatus::Active);
        let reportable = Selection::reportable();
        assert!(reportable.includes(&active) && !reportable.includes(&suspended) && !reportable.includes(&org));
        let ids = Selection::ids(["cc2", "cc9"]);
        assert!(ids.includes(&suspended) && !ids.includes(&active));
        let seen: BTreeSet<String> = ["cc2".to_owned()].into();
        assert_eq!(ids.unknown(&seen).collect::<Vec<_>>(), ["cc9"]);
        assert_eq!(reportable.unknown(&seen).count(), 0);
        let matching = Selection::matching(|instance| instance.instance_id.starts_with("org"));
        assert!(matching.includes(&org) && !matching.includes(&active));
        assert_eq!(format!("{matching:?}"), "Matching(..)");
    }
}
