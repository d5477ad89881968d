//! The emulator's clock beyond the seed: periods of new scans, added by `POST /__emulator/advance`
//! (and [`crate::EmulatorHandle::advance`]) or generated as a past at start, and the churn that
//! decides which findings each period's scans show.
//!
//! A finding's identity (instance, asset, scan type, rule: CVE or title, port, alert reference)
//! never depends on the period; only whether it is present does. Each asset and scan type has a
//! fixed universe of findings: those of the latest seeded scan of that type (the "base") and
//! candidates that appear in later periods. Each finding has a life (a first period, and for some
//! a period from which it stays fixed) and within it shows in about four periods out of five, so
//! consecutive periods have fixed, new and reopened findings. Some assets are not scanned in a
//! period (always at least one in odd periods): a coverage gap, not a fix. Scores, titles, order
//! and scan ids vary by period without touching identities.

use serde::Serialize;

use crate::clock;
use crate::prng::Prng;

const DAY: i64 = 86_400;
/// The most days one advance may move the clock.
pub(crate) const MAX_ADVANCE_DAYS: u32 = 3_660;
/// The most periods of generated past.
pub const MAX_HISTORY_PERIODS: u32 = 120;
/// How often a finding shows in a period of its life.
const SHOWS: f64 = 0.8;

/// One round of scans on an instance.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Period {
    /// The round's number (1-based, shared by every instance scanned in it); later rounds have
    /// larger numbers.
    pub(crate) number: u32,
    /// Whose findings its scans show: its own number, an earlier round's (a rescan without churn),
    /// or `0` for the findings of the latest seeded scans as they are.
    pub(crate) presence: u32,
    /// The day of its scans, counted from the anchor (negative in a generated past).
    pub(crate) day: i64,
}

/// What an advance did.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct Advanced {
    /// The number of the new period of scans.
    pub period: u32,
    /// Days the clock has moved since start, in total.
    pub days_advanced: i64,
    /// The emulator's day now (`YYYY-MM-DD`), the day of the new scans.
    pub today: String,
    /// The instances that got new scans (active ones; suspended and provisioning ones get none).
    pub instances: Vec<String>,
}

/// A generated past of `periods` rounds, one per calendar month before the anchor's month (the
/// last in the month before it), on the anchor's day of the month (at most the 28th).
pub(crate) fn history(anchor: i64, periods: u32) -> Vec<Period> {
    let civil = clock::civil(anchor);
    let anchor_day = anchor.div_euclid(DAY);
    (1..=periods)
        .map(|number| {
            let months = civil.year * 12 + i64::from(civil.month - 1) - i64::from(periods - number + 1);
            let (year, month) = (months.div_euclid(12), months.rem_euclid(12) as u32 + 1);
            let day = clock::days_from_civil(year, month, civil.day.min(28)) - anchor_day;
            Period { number, presence: number, day }
        })
        .collect()
}

/// The same time of day `months` calendar months before `at`, on the same day of the month
/// (or the month's last day when it is shorter).
pub(crate) fn months_before(at: i64, months: u32) -> i64 {
    let civil = clock::civil(at);
    let index = civil.year * 12 + i64::from(civil.month - 1) - i64::from(months);
    let (year, month) = (index.div_euclid(12), index.rem_euclid(12) as u32 + 1);
    let (next_year, next_month) = if month == 12 { (year + 1, 1) } else { (year, month + 1) };
    let length = clock::days_from_civil(next_year, next_month, 1) - clock::days_from_civil(year, month, 1);
    let day = i64::from(civil.day).min(length) as u32;
    clock::days_from_civil(year, month, day) * DAY + at.rem_euclid(DAY)
}

/// A history of `periods` months ending at `anchor`, started at its `current`-th period: the
/// anchor of the seeded scans (`periods` months before `anchor`) and the days of each of the
/// `current` monthly advances that follow it.
pub(crate) fn monthly_advances(anchor: i64, periods: u32, current: u32) -> (i64, Vec<u32>) {
    let start = months_before(anchor, periods);
    let days = (1..=current.min(periods))
        .map(|k| {
            let (earlier, later) = (months_before(anchor, periods - k + 1), months_before(anchor, periods - k));
            u32::try_from((later - earlier).div_euclid(DAY)).unwrap_or(u32::MAX)
        })
        .collect();
    (start, days)
}

/// A stable 64-bit hash of a finding's rule (FNV-1a), to derive its life from.
pub(crate) fn rule_hash(rule: &str) -> u64 {
    rule.bytes().fold(0xcbf2_9ce4_8422_2325, |hash, byte| (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3))
}

/// Where a finding lives: instance number, scan type code, asset index and rule hash.
#[derive(Clone, Copy, Debug)]
pub(crate) struct FindingKey {
    pub(crate) instance: u32,
    pub(crate) code: u8,
    pub(crate) asset: u32,
    pub(crate) rule: u64,
}

/// Whether a finding shows in the scans of a period with this `presence`. `base`: it is in the
/// latest seeded scan of its type (presence `0` shows exactly those).
pub(crate) fn present(seed: u64, key: FindingKey, base: bool, presence: u32) -> bool {
    if presence == 0 {
        return base;
    }
    let labels = [u64::from(key.instance), u64::from(key.code), u64::from(key.asset), key.rule];
    let mut life = Prng::derive(seed, &[91, labels[0], labels[1], labels[2], labels[3]]);
    let first = if base { 0 } else { life.range(1, 24) as u32 };
    let fixed_from = if life.chance(0.35) { first + life.range(2, 10) as u32 } else { u32::MAX };
    if presence < first || presence >= fixed_from {
        return false;
    }
    Prng::derive(seed, &[92, labels[0], labels[1], labels[2], labels[3], u64::from(presence)]).chance(SHOWS)
}

/// The asset indexes a scan of type `code` does not cover in a period with this `presence`: none
/// for the seeded findings (`0`) or fewer than 3 assets, at least one in odd periods.
pub(crate) fn unscanned(seed: u64, instance: u32, code: u8, presence: u32, assets: u32) -> Vec<u32> {
    if presence == 0 || assets < 3 {
        return Vec::new();
    }
    let mut prng = Prng::derive(seed, &[94, u64::from(instance), u64::from(code), u64::from(presence)]);
    let count = if presence % 2 == 1 { 1 + prng.below(2) } else { prng.below(2) };
    let mut skipped = Vec::new();
    for _ in 0..count {
        let index = prng.below(u64::from(assets)) as u32;
        if !skipped.contains(&index) {
            skipped.push(index);
        }
    }
    skipped
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn history_is_one_period_per_month_before_the_anchor() {
        // 2025-06-16.
        let anchor = 1_750_032_000;
        let periods = history(anchor, 3);
        let dates: Vec<String> = periods.iter().map(|period| clock::date(anchor + period.day * DAY)).collect();
        assert_eq!(dates, ["2025-03-16", "2025-04-16", "2025-05-16"]);
        assert_eq!(periods.iter().map(|period| period.number).collect::<Vec<_>>(), [1, 2, 3]);
        // Across a year boundary, and day 31 clamped to 28.
        let dates: Vec<String> = history(1_738_281_600, 2) // 2025-01-31
            .iter()
            .map(|period| clock::date(1_738_281_600 + period.day * DAY))
            .collect();
        assert_eq!(dates, ["2024-11-28", "2024-12-28"]);
        assert!(history(anchor, 0).is_empty());
    }

    #[test]
    fn monthly_advances_end_at_the_anchor() {
        // 2025-03-31 10:00:00: shorter months clamp to their last day.
        let anchor = 1_743_415_200;
        assert_eq!(clock::date(months_before(anchor, 1)), "2025-02-28");
        assert_eq!(clock::date(months_before(anchor, 3)), "2024-12-31");
        assert_eq!(months_before(anchor, 12).rem_euclid(DAY), 36_000);
        let (start, days) = monthly_advances(anchor, 3, 3);
        assert_eq!(clock::date(start), "2024-12-31");
        assert_eq!(days, [31, 28, 31]);
        assert_eq!(start + i64::from(days.iter().sum::<u32>()) * DAY, anchor);
        // Fewer periods walked: a prefix of the same steps.
        assert_eq!(monthly_advances(anchor, 3, 1), (start, vec![31]));
        assert_eq!(monthly_advances(anchor, 3, 0), (start, vec![]));
        assert_eq!(monthly_advances(anchor, 0, 0), (anchor, vec![]));
    }

    #[test]
    fn churn_is_deterministic_and_moves() {
        let key = |rule: &str| FindingKey { instance: 100_004, code: 5, asset: 2, rule: rule_hash(rule) };
        let rules: Vec<String> = (0..200).map(|n| format!("CVE-2024-{n:04}")).collect();
        let mut fixed = 0;
        let mut reopened = 0;
        for rule in &rules {
            let shows: Vec<bool> = (1..=12).map(|presence| present(7, key(rule), true, presence)).collect();
            let again: Vec<bool> = (1..=12).map(|presence| present(7, key(rule), true, presence)).collect();
            assert_eq!(shows, again);
            assert!(present(7, key(rule), true, 0) && !present(7, key(rule), false, 0));
            fixed += shows.windows(2).filter(|pair| pair[0] && !pair[1]).count();
            reopened +=
                (2..shows.len()).filter(|&at| shows[at] && !shows[at - 1] && shows[..at - 1].contains(&true)).count();
        }
        assert!(fixed > 20 && reopened > 10, "fixed {fixed}, reopened {reopened}");
        for presence in (1..20).step_by(2) {
            assert!(!unscanned(7, 100_004, 9, presence, 8).is_empty());
        }
        assert!(unscanned(7, 100_004, 9, 0, 8).is_empty() && unscanned(7, 100_004, 9, 3, 2).is_empty());
    }
}
