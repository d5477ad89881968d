//! Finding fingerprints, the diff rules and lifecycles (`cyrisma_core::history`), pure logic.

use std::collections::{BTreeMap, HashSet};

use cyrisma_core::history::{
    AssetFingerprints, AssetIdentity, ChangeKind, FindingKind, Fingerprint, FingerprintInput, Lifecycle, Run,
    ScanClass, diff, grade_changes,
};
use cyrisma_core::types::{Grade, ScanType};
use proptest::prelude::*;

fn fp(instance: &str, asset: &str, class: &str, kind: FindingKind, rule: &str) -> Fingerprint {
    Fingerprint::of(&FingerprintInput {
        instance_id: instance,
        asset: AssetIdentity::from_key(asset),
        scan_class: ScanClass::from_name(class),
        kind,
        rule,
    })
}

proptest! {
    /// Moving bytes from one field to the next never gives the same fingerprint: every field is
    /// length-prefixed before hashing.
    #[test]
    fn different_field_splits_never_collide(
        text in "[a-z:./0-9]{0,24}",
        first_cut in 0usize..25,
        second_cut in 0usize..25,
    ) {
        let len = text.len();
        let (a, b) = (first_cut.min(len), second_cut.min(len));
        prop_assume!(a != b);
        let split = |cut: usize| {
            let (instance, rule) = text.split_at(cut);
            fp(instance, "id:x", "external_ip", FindingKind::OpenPort, rule)
        };
        prop_assert_ne!(split(a), split(b));
    }

    /// The same identity fields always give the same fingerprint, and any single field changed
    /// gives another.
    #[test]
    fn each_field_is_part_of_the_identity(instance in "[a-z0-9]{1,8}", asset in "[a-z0-9]{1,8}", rule in "[A-Z0-9-]{1,12}") {
        let asset_key = format!("id:{asset}");
        let base = fp(&instance, &asset_key, "external_ip", FindingKind::Vulnerability, &rule);
        prop_assert_eq!(base, fp(&instance, &asset_key, "external_ip", FindingKind::Vulnerability, &rule));
        prop_assert_ne!(base, fp(&format!("{instance}x"), &asset_key, "external_ip", FindingKind::Vulnerability, &rule));
        prop_assert_ne!(base, fp(&instance, &format!("id:{asset}x"), "external_ip", FindingKind::Vulnerability, &rule));
        prop_assert_ne!(base, fp(&instance, &asset_key, "internal_authenticated", FindingKind::Vulnerability, &rule));
        prop_assert_ne!(base, fp(&instance, &asset_key, "external_ip", FindingKind::WebFlaw, &rule));
        prop_assert_ne!(base, fp(&instance, &asset_key, "external_ip", FindingKind::Vulnerability, &format!("{rule}1")));
    }
}

#[test]
fn the_same_asset_written_differently_keeps_its_fingerprint() {
    let class = ScanClass::of(Some(&ScanType::ExternalWebApplication));
    let a = FingerprintInput {
        instance_id: "cc1",
        asset: AssetIdentity::of(None, None, Some("HTTPS://Shop.Example:443/login/?session=1")),
        scan_class: class.clone(),
        kind: FindingKind::WebFlaw,
        rule: "10038-1",
    };
    let b =
        FingerprintInput { asset: AssetIdentity::of(Some(""), None, Some("https://shop.example/login")), ..a.clone() };
    assert_eq!(Fingerprint::of(&a), Fingerprint::of(&b));
    let v4 = FingerprintInput { asset: AssetIdentity::of(None, Some("10.0.0.7"), None), ..a.clone() };
    let mapped = FingerprintInput { asset: AssetIdentity::of(None, Some("::ffff:10.0.0.7"), None), ..a };
    assert_eq!(Fingerprint::of(&v4), Fingerprint::of(&mapped));
}

/// A fingerprint is pinned: changing the hashing rules must be deliberate (bump the version tag
/// and the dataset's schema version).
#[test]
fn the_fingerprint_rules_are_pinned() {
    let value = fp("cc100001", "id:asset-1", "external_ip", FindingKind::Vulnerability, "CVE-2024-0001");
    insta::assert_snapshot!(value.to_hex(), @"502a838a88c614cd2750e049b5c6f630");
}

/// The hex digits without allocating are `to_hex`'s: lower-case pairs in byte order.
#[test]
fn hex_digits_are_lower_case_pairs_in_byte_order() {
    let bytes: [u8; 16] = std::array::from_fn(|index| (index * 17) as u8);
    let expected: String = bytes.iter().map(|byte| format!("{byte:02x}")).collect();
    let fingerprint = Fingerprint::from(bytes);
    assert_eq!(std::str::from_utf8(&fingerprint.hex_digits()).unwrap(), expected);
    assert_eq!(fingerprint.to_hex(), expected);
    assert_eq!(fingerprint.as_bytes(), &bytes);
    // Every byte value, in every position.
    for start in 0..=255u8 {
        let bytes: [u8; 16] = std::array::from_fn(|index| start.wrapping_add((index * 16) as u8));
        let expected: String = bytes.iter().map(|byte| format!("{byte:02x}")).collect();
        assert_eq!(std::str::from_utf8(&Fingerprint::from(bytes).hex_digits()).unwrap(), expected);
    }
}

/// One asset's fingerprints hash its shared fields once and give each finding the fingerprint
/// of all its fields, however many findings and in whatever order.
#[test]
fn an_assets_fingerprints_are_those_of_each_finding() {
    let prints = AssetFingerprints::new("cc100001", "id:asset-1", &ScanClass::from_name("external_ip"));
    let first = prints.of(FindingKind::Vulnerability, "CVE-2024-0001");
    let port = prints.of(FindingKind::OpenPort, "443/udp");
    assert_eq!(first.to_hex(), "502a838a88c614cd2750e049b5c6f630");
    assert_eq!(port, fp("cc100001", "id:asset-1", "external_ip", FindingKind::OpenPort, "443/udp"));
    assert_eq!(prints.of(FindingKind::Vulnerability, "CVE-2024-0001"), first);
    assert_ne!(port, first);
}

proptest! {
    /// The borrowed rule is the rule as written out: CVEs trimmed and upper-cased, alert
    /// references trimmed, ports without leading zeros and with their protocol lower-cased.
    #[test]
    fn rules_borrowed_or_owned_are_the_written_rules(raw in "[ a-zA-Z0-9/-]{0,16}") {
        let trimmed = raw.trim();
        prop_assert_eq!(FindingKind::Vulnerability.rule_of(Some(&raw)), trimmed.to_ascii_uppercase());
        prop_assert_eq!(FindingKind::WebFlaw.rule_of(Some(&raw)), trimmed);
        let (port, protocol) = trimmed.split_once('/').unwrap_or((trimmed, ""));
        let port = port.trim();
        let port = match port.parse::<u64>() {
            Ok(number) if port.bytes().all(|byte| byte.is_ascii_digit()) => number.to_string(),
            _ => port.to_owned(),
        };
        let protocol = protocol.trim().to_ascii_lowercase();
        let written = if protocol.is_empty() { port } else { format!("{port}/{protocol}") };
        prop_assert_eq!(FindingKind::OpenPort.rule_of(Some(&raw)), written.as_str());
        prop_assert_eq!(FindingKind::OpenPort.rule(Some(&raw)), written);
    }
}

/// A run builder for tests: `(instance, class, asset, rule)` findings plus extra covered assets.
struct Scenario {
    pulled: Vec<&'static str>,
    covered: Vec<(&'static str, &'static str, &'static str)>,
    findings: Vec<(&'static str, &'static str, &'static str, &'static str)>,
}

impl Scenario {
    fn run(&self) -> Run<&'static str> {
        let mut run = Run::new();
        for instance in &self.pulled {
            run.pulled(instance);
        }
        for (instance, class, asset) in &self.covered {
            run.covered(instance, class, asset);
        }
        for (instance, class, asset, rule) in &self.findings {
            run.finding(fp(instance, asset, class, FindingKind::Vulnerability, rule), instance, class, asset, *rule);
        }
        run
    }
}

const EXT: &str = "external_ip";

fn changes(
    from: &Run<&'static str>,
    to: &Run<&'static str>,
    seen: &HashSet<Fingerprint>,
    all: bool,
) -> Vec<(ChangeKind, &'static str)> {
    let mut out: Vec<_> =
        diff(from, to, seen, all).changes.iter().map(|change| (change.kind, *change.payload)).collect();
    out.sort();
    out
}

#[test]
fn diff_classifies_new_fixed_not_covered_and_unchanged() {
    let from = Scenario {
        pulled: vec!["cc1", "cc2"],
        covered: vec![],
        findings: vec![
            ("cc1", EXT, "id:a", "KEEP"),
            ("cc1", EXT, "id:a", "GONE"),
            ("cc1", EXT, "id:b", "UNSCANNED-ASSET"),
            ("cc1", "internal_authenticated", "id:a", "OTHER-CLASS"),
            ("cc2", EXT, "id:c", "FAILED-INSTANCE"),
        ],
    }
    .run();
    let to = Scenario {
        pulled: vec!["cc1"],
        covered: vec![],
        findings: vec![("cc1", EXT, "id:a", "KEEP"), ("cc1", EXT, "id:a", "BRAND-NEW")],
    }
    .run();
    assert_eq!(
        changes(&from, &to, &HashSet::new(), false),
        vec![
            (ChangeKind::New, "BRAND-NEW"),
            (ChangeKind::Fixed, "GONE"),
            (ChangeKind::NotCovered, "FAILED-INSTANCE"),
            (ChangeKind::NotCovered, "OTHER-CLASS"),
            (ChangeKind::NotCovered, "UNSCANNED-ASSET"),
        ]
    );
    assert!(changes(&from, &to, &HashSet::new(), true).contains(&(ChangeKind::Unchanged, "KEEP")));
}

#[test]
fn an_asset_scanned_clean_proves_a_fix() {
    let from = Scenario { pulled: vec!["cc1"], covered: vec![], findings: vec![("cc1", EXT, "id:a", "X")] }.run();
    let to = Scenario { pulled: vec!["cc1"], covered: vec![("cc1", EXT, "id:a")], findings: vec![] }.run();
    assert_eq!(changes(&from, &to, &HashSet::new(), false), vec![(ChangeKind::Fixed, "X")]);
}

#[test]
fn identical_runs_have_no_change_and_a_failed_instance_has_no_fix() {
    let scenario = Scenario {
        pulled: vec!["cc1"],
        covered: vec![],
        findings: vec![("cc1", EXT, "id:a", "X"), ("cc1", EXT, "id:b", "Y")],
    };
    let (first, second) = (scenario.run(), scenario.run());
    assert!(changes(&first, &second, &HashSet::new(), false).is_empty());
    let failed = Scenario { pulled: vec![], covered: vec![], findings: vec![] }.run();
    let result = diff(&first, &failed, &HashSet::new(), false);
    assert_eq!(result.count(ChangeKind::Fixed), 0);
    assert_eq!(result.count(ChangeKind::NotCovered), 2);
}

#[test]
fn a_finding_back_after_an_absence_is_reopened() {
    let earlier = Scenario { pulled: vec!["cc1"], covered: vec![], findings: vec![("cc1", EXT, "id:a", "X")] }.run();
    let from = Scenario { pulled: vec!["cc1"], covered: vec![("cc1", EXT, "id:a")], findings: vec![] }.run();
    let to = earlier.clone();
    let seen: HashSet<_> = earlier.findings().map(|(fingerprint, _)| *fingerprint).collect();
    assert_eq!(changes(&from, &to, &seen, false), vec![(ChangeKind::Reopened, "X")]);
    assert_eq!(changes(&from, &to, &HashSet::new(), false), vec![(ChangeKind::New, "X")]);
}

#[test]
fn a_truncated_scan_gives_not_covered_with_a_warning() {
    let assets = ["id:a", "id:b", "id:c", "id:d", "id:e", "id:f"];
    let from = Scenario {
        pulled: vec!["cc1"],
        covered: vec![],
        findings: assets.iter().map(|asset| ("cc1", EXT, *asset, "X")).collect(),
    }
    .run();
    // Only two of six assets in the later scan: the other four are not proven fixed.
    let to =
        Scenario { pulled: vec!["cc1"], covered: vec![("cc1", EXT, "id:a"), ("cc1", EXT, "id:b")], findings: vec![] }
            .run();
    let result = diff(&from, &to, &HashSet::new(), false);
    assert_eq!(result.count(ChangeKind::Fixed), 0);
    assert_eq!(result.count(ChangeKind::NotCovered), 6);
    assert_eq!(result.truncated.len(), 1);
    assert_eq!((result.truncated[0].assets_before, result.truncated[0].assets_now), (6, 2));
    // Four of six is ordinary churn: the two missing assets' findings stay not covered, the
    // covered ones are fixed.
    let to = Scenario {
        pulled: vec!["cc1"],
        covered: assets[..4].iter().map(|asset| ("cc1", EXT, *asset)).collect(),
        findings: vec![],
    }
    .run();
    let result = diff(&from, &to, &HashSet::new(), false);
    assert!(result.truncated.is_empty());
    assert_eq!((result.count(ChangeKind::Fixed), result.count(ChangeKind::NotCovered)), (4, 2));
}

#[test]
fn grade_changes_compare_only_instances_in_both_runs() {
    let key = |instance: &str, area: &str| (instance.to_owned(), area.to_owned());
    let from = BTreeMap::from([
        (key("cc1", "overall"), Some(Grade::C)),
        (key("cc1", "data"), Some(Grade::A)),
        (key("cc2", "overall"), Some(Grade::B)),
        (key("cc3", "overall"), Some(Grade::F)),
    ]);
    let to = BTreeMap::from([
        (key("cc1", "overall"), Some(Grade::BPlus)),
        (key("cc1", "data"), Some(Grade::AMinus)),
        (key("cc2", "overall"), None),
    ]);
    let changes: Vec<_> = grade_changes(&from, &to)
        .into_iter()
        .map(|change| (change.instance_id.clone(), change.area.clone(), change.direction()))
        .collect();
    assert_eq!(
        changes,
        vec![
            ("cc1".to_owned(), "data".to_owned(), "down"),
            ("cc1".to_owned(), "overall".to_owned(), "up"),
            ("cc2".to_owned(), "overall".to_owned(), "changed"),
        ]
    );
}

#[test]
fn lifecycle_tracks_first_seen_fixes_reopenings_and_time_to_fix() {
    const DAY: i64 = 86_400;
    let with = |rules: &[&'static str]| {
        Scenario {
            pulled: vec!["cc1"],
            covered: vec![("cc1", EXT, "id:a")],
            findings: rules.iter().map(|rule| ("cc1", EXT, "id:a", *rule)).collect(),
        }
        .run()
    };
    let failed = Scenario { pulled: vec![], covered: vec![], findings: vec![] }.run();
    let runs = [with(&["X", "Y"]), with(&["X"]), failed, with(&["X", "Y"]), with(&[])];
    let mut lifecycle = Lifecycle::new();
    let mut previous = None;
    for (index, run) in runs.iter().enumerate() {
        lifecycle.observe(previous, run, index as i64 * 10 * DAY);
        previous = Some(run);
    }
    let x = lifecycle.get(&fp("cc1", "id:a", EXT, FindingKind::Vulnerability, "X")).unwrap();
    let y = lifecycle.get(&fp("cc1", "id:a", EXT, FindingKind::Vulnerability, "Y")).unwrap();
    // X: seen in runs 0, 1, 3; run 2 failed (not a fix); fixed in run 4, after 40 days open.
    assert_eq!((x.first_seen, x.last_seen, x.fixed_at, x.times_reopened), (0, 30 * DAY, Some(40 * DAY), 1));
    assert_eq!(x.days_open(), 40);
    // Y: fixed in run 1 (10 days), back in run 3, fixed again in run 4 (10 more days).
    assert_eq!((y.first_seen, y.fixed_at, y.times_reopened), (0, Some(40 * DAY), 1));
    assert_eq!(y.days_open(), 20);
    let fixes = lifecycle.time_to_fix()["cc1"];
    assert_eq!(fixes.fixes, 3);
    assert_eq!(fixes.mean_days(), Some((10.0 + 10.0 + 40.0) / 3.0));
}

/// One finding of a generated run: (instance, class, asset, rule), small alphabets so that runs
/// share instances, classes, assets and findings.
type Place = (u8, u8, u8, u8);

/// A pulled instance of a generated run: its id, the places its scans covered, its findings.
type Pulled = (String, Vec<(String, String, String)>, Vec<Place>);

/// An instance as generated: its number, whether it was pulled, covered (class, asset), findings.
type Generated = (u8, bool, Vec<(u8, u8)>, Vec<Place>);

/// Changes as (instance, change, fingerprint), and truncated scans as (instance, class).
type Expected = (Vec<(String, ChangeKind, Fingerprint)>, Vec<(String, String)>);

/// The diff rules written out naively over strings (no interning, no caches, no ranks): what the
/// optimised [`diff`] must agree with, change for change and in the same order.
fn reference_changes(from: &[Pulled], to: &[Pulled], seen: &HashSet<Fingerprint>, all: bool) -> Expected {
    use std::collections::HashMap;
    let names = |place: &Place| {
        (format!("instance-{}", place.0), ["external_ip", "internal_authenticated"][place.1 as usize % 2].to_owned(), {
            format!("id:asset-{}", place.2)
        })
    };
    // Per run: pulled instances, coverage per (instance, class), findings by fingerprint.
    type Findings = HashMap<Fingerprint, (String, String, String)>;
    let build = |run: &[Pulled]| {
        let mut pulled = HashSet::new();
        let mut coverage: HashMap<(String, String), HashSet<String>> = HashMap::new();
        let mut findings = Findings::new();
        for (instance, covered, places) in run {
            pulled.insert(instance.clone());
            for (i, c, a) in covered {
                coverage.entry((i.clone(), c.clone())).or_default().insert(a.clone());
            }
            for place in places {
                let (i, c, a) = names(place);
                coverage.entry((i.clone(), c.clone())).or_default().insert(a.clone());
                let fingerprint = fp(&i, &a, &c, FindingKind::Vulnerability, &format!("CVE-{}", place.3));
                findings.entry(fingerprint).or_insert((i, c, a));
            }
        }
        (pulled, coverage, findings)
    };
    let (_, from_coverage, from_findings) = build(from);
    let (to_pulled, to_coverage, to_findings) = build(to);
    let mut truncated = Vec::new();
    for ((instance, class), assets) in &from_coverage {
        let now = to_coverage.get(&(instance.clone(), class.clone())).map_or(0, HashSet::len);
        if to_pulled.contains(instance) && now > 0 && assets.len() >= 4 && now * 2 < assets.len() {
            truncated.push((instance.clone(), class.clone()));
        }
    }
    let mut changes = Vec::new();
    for (fingerprint, (instance, _, _)) in &to_findings {
        let kind = match (from_findings.contains_key(fingerprint), seen.contains(fingerprint)) {
            (true, _) if !all => continue,
            (true, _) => ChangeKind::Unchanged,
            (false, true) => ChangeKind::Reopened,
            (false, false) => ChangeKind::New,
        };
        changes.push((instance.clone(), kind, *fingerprint));
    }
    for (fingerprint, (instance, class, asset)) in &from_findings {
        if to_findings.contains_key(fingerprint) {
            continue;
        }
        let fixed = to_pulled.contains(instance)
            && !truncated.contains(&(instance.clone(), class.clone()))
            && to_coverage.get(&(instance.clone(), class.clone())).is_some_and(|assets| assets.contains(asset));
        changes.push((instance.clone(), if fixed { ChangeKind::Fixed } else { ChangeKind::NotCovered }, *fingerprint));
    }
    changes.sort();
    truncated.sort();
    (changes, truncated)
}

fn generated_run(instances: &[Generated]) -> Vec<Pulled> {
    instances
        .iter()
        .filter(|(_, pulled, _, _)| *pulled)
        .map(|(instance, _, covered, places)| {
            let covered = covered
                .iter()
                .map(|(class, asset)| {
                    (
                        format!("instance-{instance}"),
                        ["external_ip", "internal_authenticated"][*class as usize % 2].to_owned(),
                        format!("id:asset-{asset}"),
                    )
                })
                .collect();
            let places = places.iter().map(|(_, class, asset, rule)| (*instance, *class, *asset, *rule)).collect();
            (format!("instance-{instance}"), covered, places)
        })
        .collect()
}

fn to_run(generated: &[Pulled]) -> Run<u32> {
    let mut run = Run::new();
    let mut row = 0;
    for (instance, covered, places) in generated {
        run.pulled(instance);
        for (i, c, a) in covered {
            run.covered(i, c, a);
        }
        for place in places {
            let class = ["external_ip", "internal_authenticated"][place.1 as usize % 2];
            let asset = format!("id:asset-{}", place.2);
            let fingerprint = fp(instance, &asset, class, FindingKind::Vulnerability, &format!("CVE-{}", place.3));
            run.finding(fingerprint, instance, class, &asset, row);
            row += 1;
        }
    }
    run
}

/// The same run as [`to_run`], recorded by symbols ([`Run::symbol`], `covered_at`, `finding_at`)
/// the way the dataset reader records it, with a query after each instance (the findings are
/// sorted on a query and must take later records after it).
fn to_run_by_symbols(generated: &[Pulled]) -> Run<u32> {
    let mut run = Run::new();
    let mut row = 0;
    for (instance, covered, places) in generated {
        run.pulled(instance);
        for (i, c, a) in covered {
            let place = (run.symbol(i), run.symbol(c), run.symbol(a));
            run.covered_at(place.0, place.1, place.2);
        }
        for place in places {
            let class = ["external_ip", "internal_authenticated"][place.1 as usize % 2];
            let asset = format!("id:asset-{}", place.2);
            let fingerprint = fp(instance, &asset, class, FindingKind::Vulnerability, &format!("CVE-{}", place.3));
            let (i, c, a) = (run.symbol(instance), run.symbol(class), run.symbol(&asset));
            run.finding_at(fingerprint, i, c, a, row);
            row += 1;
        }
        let _ = run.len();
    }
    run
}

#[test]
fn a_fingerprint_recorded_twice_keeps_its_first_payload_even_across_queries() {
    let one = fp("i", "id:a", "external_ip", FindingKind::Vulnerability, "CVE-1");
    let two = fp("i", "id:a", "external_ip", FindingKind::Vulnerability, "CVE-2");
    let mut run = Run::new();
    run.finding(one, "i", "external_ip", "id:a", 0u32);
    run.finding(two, "i", "external_ip", "id:a", 1);
    run.finding(one, "i", "external_ip", "id:a", 2);
    assert_eq!(run.len(), 2);
    assert!(run.contains(&one) && run.contains(&two));
    run.finding(two, "i", "external_ip", "id:a", 3);
    run.finding(one, "i", "external_ip", "id:a", 4);
    let payloads: BTreeMap<Fingerprint, u32> = run.findings().map(|(f, located)| (*f, located.payload)).collect();
    assert_eq!(payloads, BTreeMap::from([(one, 0), (two, 1)]));
    assert_eq!(run.len(), 2);
}

fn arbitrary_run() -> impl Strategy<Value = Vec<Generated>> {
    prop::collection::vec(
        (
            0u8..5,
            prop::bool::weighted(0.85),
            prop::collection::vec((0u8..2, 0u8..8), 0..6),
            prop::collection::vec((0u8..1, 0u8..2, 0u8..8, 0u8..6), 0..24),
        ),
        0..5,
    )
}

proptest! {
    /// The diff agrees with the rules written out naively, on runs that share and lose instances,
    /// classes, assets and findings (including repeated findings, places revisited out of order,
    /// failed instances and truncated scans), with and without unchanged findings.
    #[test]
    fn the_diff_agrees_with_the_rules_written_out_naively(
        earlier in arbitrary_run(),
        from in arbitrary_run(),
        to in arbitrary_run(),
        all in any::<bool>(),
    ) {
        let (earlier, from, to) = (generated_run(&earlier), generated_run(&from), generated_run(&to));
        let seen: HashSet<Fingerprint> = to_run(&earlier).findings().map(|(fingerprint, _)| *fingerprint).collect();
        let (from_run, to_run_) = (to_run(&from), to_run(&to));
        let result = diff(&from_run, &to_run_, &seen, all);
        let ours: Vec<(String, ChangeKind, Fingerprint)> =
            result.changes.iter().map(|change| (change.instance_id.to_owned(), change.kind, change.fingerprint)).collect();
        let (expected, truncated) = reference_changes(&from, &to, &seen, all);
        // Same changes, and already in the documented order (instance, change, fingerprint).
        prop_assert_eq!(&ours, &expected);
        let ours_truncated: Vec<(String, String)> =
            result.truncated.iter().map(|scan| (scan.instance_id.clone(), scan.scan_class.clone())).collect();
        prop_assert_eq!(ours_truncated, truncated);
        // Runs recorded by symbols give the same diff, payloads included.
        let (from_symbols, to_symbols) = (to_run_by_symbols(&from), to_run_by_symbols(&to));
        let by_symbols = diff(&from_symbols, &to_symbols, &seen, all);
        let key = |change: &cyrisma_core::history::Change<'_, u32>| {
            (change.instance_id.to_owned(), change.kind, change.fingerprint, *change.payload)
        };
        prop_assert_eq!(
            by_symbols.changes.iter().map(key).collect::<Vec<_>>(),
            result.changes.iter().map(key).collect::<Vec<_>>()
        );
        prop_assert_eq!(&by_symbols.truncated, &result.truncated);
        // Payloads point at the row of the run the change takes its columns from.
        for change in &result.changes {
            let run = if matches!(change.kind, ChangeKind::Fixed | ChangeKind::NotCovered) { &from_run } else { &to_run_ };
            let located = run.findings().find(|(fingerprint, _)| **fingerprint == change.fingerprint).map(|(_, l)| l.payload);
            prop_assert_eq!(located, Some(*change.payload));
        }
    }
}
