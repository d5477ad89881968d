//! The compact change counts against the core's diff, on generated runs with churn, repeated
//! fingerprints, unpulled instances, uncovered assets, truncated scans and an unknown instance.

use std::collections::{BTreeMap, HashSet};
use std::sync::Arc;

use arrow_array::types::Int32Type;
use arrow_array::{ArrayRef, DictionaryArray, RecordBatch, StringArray};
use cyrisma_core::history::{ChangeKind, Fingerprint, FingerprintSet, Run, diff};

use super::*;

/// A small deterministic generator (xorshift).
struct Random(u64);

impl Random {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n
    }
}

/// One generated run: the instances it pulled, its coverage rows and its finding rows
/// (instance, class, asset, fingerprint).
struct Generated {
    pulled: Vec<String>,
    coverage: Vec<(String, String, String)>,
    findings: Vec<(String, String, String, Fingerprint)>,
}

const INSTANCES: [&str; 5] = ["i-a", "i-b", "i-c", "i-d", "i-unknown"];

fn generate(random: &mut Random, runs: usize) -> Vec<Generated> {
    let fingerprint = |instance: u64, class: u64, asset: u64, rule: u64| {
        Fingerprint::from_hex(&format!("{instance:02x}{class:02x}{asset:04x}{rule:024x}")).expect("hex")
    };
    (0..runs)
        .map(|run| {
            let mut generated = Generated { pulled: vec![], coverage: vec![], findings: vec![] };
            for (instance, name) in INSTANCES.iter().enumerate() {
                let pulled = *name != "i-unknown" && random.below(6) != 0;
                if pulled {
                    generated.pulled.push((*name).to_owned());
                }
                for class in 0..2u64 {
                    // Now and then a scan covers far fewer assets (truncated), or none.
                    let assets = match random.below(8) {
                        0 => 0,
                        1 => 2,
                        _ => 6 + random.below(4),
                    };
                    for asset in 0..assets {
                        let place = ((*name).to_owned(), format!("class-{class}"), format!("asset-{asset}"));
                        if random.below(3) == 0 {
                            generated.coverage.push(place.clone());
                        }
                        for rule in 0..3u64 {
                            // Rules come and go: a finding may be gone for a run and come back.
                            if random.below(3) != 0 || (run > 0 && rule == 2) {
                                let print = fingerprint(instance as u64, class, asset, rule);
                                generated.findings.push((place.0.clone(), place.1.clone(), place.2.clone(), print));
                                if random.below(20) == 0 {
                                    // The same fingerprint twice, at another place.
                                    let other = (place.0.clone(), "class-9".to_owned(), "asset-x".to_owned(), print);
                                    generated.findings.push(other);
                                }
                            }
                        }
                    }
                }
            }
            generated
        })
        .collect()
}

fn column(values: Vec<&str>, dictionary: bool) -> ArrayRef {
    if dictionary {
        Arc::new(values.into_iter().collect::<DictionaryArray<Int32Type>>())
    } else {
        Arc::new(StringArray::from(values))
    }
}

fn batch(rows: &[(String, String, String, Option<Fingerprint>)], dictionary: bool) -> RecordBatch {
    let mut columns: Vec<(&str, ArrayRef)> = vec![
        ("instance_id", column(rows.iter().map(|row| row.0.as_str()).collect(), dictionary)),
        ("scan_class", column(rows.iter().map(|row| row.1.as_str()).collect(), dictionary)),
        ("asset_key", column(rows.iter().map(|row| row.2.as_str()).collect(), dictionary)),
    ];
    if rows.iter().all(|row| row.3.is_some()) {
        let prints: Vec<String> = rows.iter().filter_map(|row| row.3.map(|print| print.to_hex())).collect();
        columns.push(("fingerprint", Arc::new(StringArray::from(prints))));
    }
    RecordBatch::try_from_iter(columns).expect("batch")
}

/// Per pair: per instance and kind, the count.
type Counts = Vec<BTreeMap<(String, ChangeKind), usize>>;

fn core_counts(runs: &[Generated]) -> (Counts, Vec<HashSet<Fingerprint>>) {
    let data: Vec<Run<u32>> = runs
        .iter()
        .map(|generated| {
            let mut run = Run::new();
            for instance in &generated.pulled {
                run.pulled(instance);
            }
            for (instance, class, asset) in &generated.coverage {
                run.covered(instance, class, asset);
            }
            for (row, (instance, class, asset, print)) in generated.findings.iter().enumerate() {
                run.finding(*print, instance, class, asset, row as u32);
            }
            run
        })
        .collect();
    let mut seen = FingerprintSet::default();
    let (mut counts, mut appeared) = (Vec::new(), Vec::new());
    for pair in data.windows(2) {
        let result = diff(&pair[0], &pair[1], &seen, false);
        let mut step = BTreeMap::new();
        let mut new = HashSet::new();
        for change in &result.changes {
            *step.entry((change.instance_id.to_owned(), change.kind)).or_default() += 1;
            if matches!(change.kind, ChangeKind::New | ChangeKind::Reopened) {
                new.insert(change.fingerprint);
            }
        }
        counts.push(step);
        appeared.push(new);
        seen.extend(pair[0].findings().map(|(print, _)| *print));
    }
    (counts, appeared)
}

fn compact_counts(runs: &[Generated], dictionary: bool) -> (Counts, Vec<HashSet<Key>>) {
    // The unknown instance has no outcome: it gets no number.
    let known: Vec<&str> = INSTANCES.iter().copied().filter(|name| *name != "i-unknown").collect();
    let numbers: Instances<'_> = known.iter().enumerate().map(|(at, name)| (*name, at as u32)).collect();
    let names = Names::default();
    let compact: Vec<Compact> = runs
        .iter()
        .map(|generated| {
            let mut run = Compact::new(known.len(), generated.pulled.iter().map(|name| numbers[name.as_str()]));
            let mut places = Places::default();
            // In two batches each, as a file of several row groups reads.
            let coverage: Vec<_> =
                generated.coverage.iter().map(|(i, c, a)| (i.clone(), c.clone(), a.clone(), None)).collect();
            for rows in coverage.chunks(coverage.len().div_ceil(2).max(1)) {
                places.read(&batch(rows, dictionary), "coverage", &numbers, &names).expect("places");
                run.covered(&places);
            }
            let findings: Vec<_> =
                generated.findings.iter().map(|(i, c, a, f)| (i.clone(), c.clone(), a.clone(), Some(*f))).collect();
            let mut row = 0;
            for rows in findings.chunks(findings.len().div_ceil(2).max(1)) {
                let batch = batch(rows, dictionary);
                places.read(&batch, "findings", &numbers, &names).expect("places");
                run.found(&batch, &places, row).expect("findings");
                row += rows.len() as u32;
            }
            run.finish();
            run
        })
        .collect();
    let mut seen = Seen::new(Vec::new());
    let (mut counts, mut appeared_sets) = (Vec::new(), Vec::new());
    for pair in compact.windows(2) {
        let mut step = BTreeMap::new();
        let mut new = HashSet::new();
        count_pair(&pair[0], &pair[1], &seen, |instance, kind, key| {
            *step.entry((known[instance as usize].to_owned(), kind)).or_default() += 1;
            if matches!(kind, ChangeKind::New | ChangeKind::Reopened) {
                new.insert(key);
            }
        });
        seen.add(pair[0].keys());
        counts.push(step);
        appeared_sets.push(new);
    }
    (counts, appeared_sets)
}

#[test]
fn counts_match_the_core_diff() {
    for seed in 1..40u64 {
        let runs = generate(&mut Random(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15)), 6);
        let (expected, expected_new) = core_counts(&runs);
        let expected: Counts = expected
            .into_iter()
            .map(|step| step.into_iter().filter(|((instance, _), _)| instance != "i-unknown").collect())
            .collect();
        let kinds: HashSet<ChangeKind> = expected.iter().flat_map(|step| step.keys().map(|(_, kind)| *kind)).collect();
        for dictionary in [false, true] {
            let (counts, new) = compact_counts(&runs, dictionary);
            assert_eq!(counts, expected, "seed {seed}, dictionary {dictionary}");
            let expected_new: Vec<HashSet<Key>> =
                expected_new.iter().map(|set| set.iter().map(key).collect()).collect();
            // Only the known instances' appearances are counted.
            let known_new: Vec<HashSet<Key>> = expected_new
                .iter()
                .map(|set| set.iter().copied().filter(|key| (key >> 120) as usize != 4).collect())
                .collect();
            assert_eq!(new, known_new, "seed {seed}, dictionary {dictionary}");
        }
        if seed == 1 {
            // The generator exercises every kind of change.
            for kind in [ChangeKind::New, ChangeKind::Reopened, ChangeKind::Fixed, ChangeKind::NotCovered] {
                assert!(kinds.contains(&kind), "no {kind:?} in the generated runs");
            }
        }
    }
}

#[test]
fn a_bad_fingerprint_is_an_error_naming_its_row() {
    let numbers: Instances<'_> = [("i-a", 0)].into_iter().collect();
    let mut run = Compact::new(1, [0]);
    let mut places = Places::default();
    let rows = vec![(
        "i-a".to_owned(),
        "c".to_owned(),
        "a".to_owned(),
        Some(Fingerprint::from_hex(&"0".repeat(32)).expect("hex")),
    )];
    let good = batch(&rows, false);
    let schema = good.schema();
    let mut columns: Vec<(&str, ArrayRef)> = schema
        .fields()
        .iter()
        .zip(good.columns())
        .map(|(field, column)| (field.name().as_str(), column.clone()))
        .collect();
    columns[3].1 = Arc::new(StringArray::from(vec!["not hex"]));
    let bad = RecordBatch::try_from_iter(columns).expect("batch");
    places.read(&bad, "findings", &numbers, &Names::default()).expect("places");
    let error = run.found(&bad, &places, 7).expect_err("a bad fingerprint");
    assert!(error.to_string().contains("row 7"), "{error}");
}

#[test]
fn keys_parse_as_fingerprints_do() {
    let mut random = Random(7);
    for _ in 0..1_000 {
        let hex: String = (0..32).map(|_| b"0123456789abcdefABCDEF"[random.below(22) as usize] as char).collect();
        let fingerprint = Fingerprint::from_hex(&hex).expect("hex");
        assert_eq!(parse_key(hex.as_bytes()), Some(key(&fingerprint)), "{hex}");
    }
    for bad in
        ["", "0", &"0".repeat(31), &"0".repeat(33), &format!("{}g", "0".repeat(31)), &format!("{}é", "0".repeat(30))]
    {
        assert_eq!(Fingerprint::from_hex(bad), None);
        assert_eq!(parse_key(bad.as_bytes()), None, "{bad:?}");
    }
    // Keys order as fingerprints do.
    let (low, high) =
        (Fingerprint::from_hex(&"0f".repeat(16)).expect("hex"), Fingerprint::from_hex(&"f0".repeat(16)).expect("hex"));
    assert_eq!(low.cmp(&high), key(&low).cmp(&key(&high)));
}
