//! The history dataset's benchmarks for `cargo xtask bench` (rows E2 and D1; the harness in
//! `xtask/src/bench/dataset.rs` runs this binary and the Python peers and compares them):
//!
//! - `generate DIR FINDINGS`: writes three synthetic runs of about `FINDINGS` findings each with
//!   the dataset's own writer (real fingerprints, several hundred instances when big enough, and
//!   churn that makes findings new, reopened, fixed and not covered; see [`Synthetic`]);
//! - `write OUT FINDINGS REPEAT`: times writing one run's findings, typed rows already in memory,
//!   as a Parquet file with the writer the dataset writes each table with
//!   (`cyrisma_dataset::write::table_writer`: typed rows → Arrow arrays → Parquet, Snappy, the
//!   columns encoded on every core), and, for comparison, the same file written by `parquet`'s
//!   one-thread `ArrowWriter` (checked to be the same bytes) and the JSON path the dataset used
//!   before;
//! - `diff DIR REPEAT`: times `History::diff` of the last two runs (the whole report: rows of the
//!   changed findings, grade changes, truncation warnings) and prints its counts per change;
//! - `phases DIR`: for working on the diff, the CPU time of each reading step alone.
//!
//! Each mode prints one JSON line; times are seconds, one per repetition. The binary runs on
//! mimalloc, the allocator the `cyrisma` CLI ships with.

use std::collections::BTreeMap;
use std::fs::File;
use std::net::{IpAddr, Ipv4Addr};
use std::path::Path;
use std::time::Instant;

use cyrisma_core::history::{AssetIdentity, FindingKind, Fingerprint, FingerprintInput, ScanClass};
use cyrisma_dataset::encode::Encode;
use cyrisma_dataset::schema::{self, CoverageRow, FindingRow, GradeRow, OutcomeRow};
use cyrisma_dataset::write::{BATCH_ROWS, RunCounts, table_writer, writer_properties};
use cyrisma_dataset::{Dataset, RunWriter};
use cyrisma_fleet::History;
use parquet::arrow::ArrowWriter;

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// 2026-12-05T06:43:22Z; runs are 30 days apart.
const START: i64 = 1_796_453_002_000_000;
const MONTH: i64 = 30 * 86_400_000_000;
const CLASSES: [&str; 3] = ["external_ip", "internal_authenticated", "external_web_application"];
const RISKS: [&str; 4] = ["Critical", "High", "Medium", "Low"];
const GRADES: [&str; 6] = ["A", "B+", "B", "C", "D", "F"];
const AREAS: [&str; 5] = ["overall", "vulnerability", "data", "baseline", "compliance"];

/// One finding of the synthetic universe and the runs it is in (bit `r` set: present in run `r`).
struct Candidate {
    instance: u32,
    class: usize,
    asset: u32,
    kind: FindingKind,
    rule: String,
    presence: u8,
}

/// A deterministic universe of findings over three runs. Per finding (by a seeded generator):
/// 84% in every run, 4% gone in the last run, 4% new in the last run, 2% gone in the middle run
/// and back in the last (reopened), 2% in the first run only, 4% from the middle run on. In the
/// last run one instance fails (its findings are not covered) and every 25th asset of each scan
/// is not scanned (its findings are not covered; never enough to look truncated).
struct Synthetic {
    instances: u32,
    assets_per_instance: u32,
    candidates: Vec<Candidate>,
}

impl Synthetic {
    fn new(findings: usize) -> Self {
        // About 82% of the candidates are in the middle run (the rest: churn, and rules drawn twice).
        let candidates = findings * 1_000 / 822;
        let instances = (candidates / 2_500).clamp(4, 400) as u32;
        let per_instance = candidates / instances as usize;
        let assets_per_instance = (per_instance / 24).max(4) as u32;
        let mut rng = fastrand::Rng::with_seed(0x5eed);
        let mut candidates = Vec::with_capacity(candidates);
        for instance in 0..instances {
            for asset in 0..assets_per_instance {
                let class = (asset % 3) as usize;
                let count = 18 + rng.usize(..13);
                // One finding per rule and kind on an asset (as a scan reports them).
                let mut rules = std::collections::HashSet::new();
                for index in 0..count {
                    let (kind, rule) = match (class, index % 4) {
                        (2, _) => (FindingKind::WebFlaw, format!("{}", 10_000 + rng.u32(..400))),
                        (_, 0) => (FindingKind::OpenPort, format!("{}", [22, 53, 80, 443, 3389, 8080][index % 6])),
                        _ => {
                            (FindingKind::Vulnerability, format!("CVE-{}-{}", 2015 + rng.u32(..11), rng.u32(..40_000)))
                        }
                    };
                    if !rules.insert((kind, rule.clone())) {
                        continue;
                    }
                    let roll = rng.u32(..100);
                    let presence = match roll {
                        0..84 => 0b111,
                        84..88 => 0b011,
                        88..92 => 0b100,
                        92..94 => 0b101,
                        94..96 => 0b001,
                        _ => 0b110,
                    };
                    candidates.push(Candidate { instance, class, asset, kind, rule, presence });
                }
            }
        }
        Self { instances, assets_per_instance, candidates }
    }

    fn instance_id(instance: u32) -> String {
        format!("{:08x}-7c1e-4b7a-9d2f-{:012x}", 0x3a00_0000u32 + instance, u64::from(instance) * 7919)
    }

    fn address(instance: u32, asset: u32) -> Ipv4Addr {
        Ipv4Addr::new(10, (instance % 250) as u8, (asset / 250) as u8, (asset % 250) as u8 + 1)
    }

    /// Whether the asset's scan ran in this run (the last run skips every 25th asset).
    fn scanned(run: usize, asset: u32) -> bool {
        run < 2 || asset % 25 != 7
    }

    /// The instance that fails in the last run.
    fn failed(&self, run: usize, instance: u32) -> bool {
        run == 2 && instance == self.instances / 2
    }

    /// The findings of one run, as the snapshot writes them (grouped by instance, scan, asset).
    fn findings(&self, run: usize, run_id: &str) -> Vec<FindingRow> {
        let mut rows = Vec::new();
        let mut rng = fastrand::Rng::with_seed(run as u64);
        for candidate in &self.candidates {
            if candidate.presence & (1 << run) == 0
                || !Self::scanned(run, candidate.asset)
                || self.failed(run, candidate.instance)
            {
                continue;
            }
            let instance_id = Self::instance_id(candidate.instance);
            let address = Self::address(candidate.instance, candidate.asset);
            let class = ScanClass::from_name(CLASSES[candidate.class]);
            let asset = AssetIdentity::Ip(IpAddr::V4(address));
            let asset_key = asset.key();
            let fingerprint = Fingerprint::of(&FingerprintInput {
                instance_id: &instance_id,
                asset,
                scan_class: class.clone(),
                kind: candidate.kind,
                rule: &candidate.rule,
            });
            rows.push(FindingRow {
                run_id: run_id.to_owned(),
                scan_id: format!("{}-{run}-{}", candidate.instance, candidate.class),
                scan_class: class.as_str().to_owned(),
                asset_key,
                asset_id: None,
                asset_name: Some(format!("host-{}-{}.corp.example", candidate.instance, candidate.asset)),
                asset_address: Some(address.to_string()),
                kind: candidate.kind.as_str().to_owned(),
                risk_level: Some(RISKS[rng.usize(..RISKS.len())].to_owned()),
                score: Some(f64::from(rng.u32(10..100)) / 10.0),
                title: Some(format!("{} on {} affects the exposed service", candidate.rule, candidate.kind.as_str())),
                first_seen: Some(format!("2026-{:02}-{:02}T00:00:00Z", 1 + candidate.asset % 12, 1 + run * 9)),
                fingerprint: fingerprint.to_hex(),
                rule: candidate.rule.clone(),
                instance_id,
            });
        }
        rows
    }

    fn write_run(&self, dataset: &Dataset, run: usize) -> Result<usize, Box<dyn std::error::Error>> {
        let started_at = START + run as i64 * MONTH;
        let run_id = cyrisma_dataset::run_id(started_at, 0x1000 + run as u32);
        let mut writer = RunWriter::begin(dataset, &run_id, started_at, "bench")?;
        let mut failed = 0;
        for instance in 0..self.instances {
            let instance_id = Self::instance_id(instance);
            let fails = self.failed(run, instance);
            failed += i64::from(fails);
            writer.write(&[OutcomeRow {
                run_id: run_id.clone(),
                instance_id: instance_id.clone(),
                outcome: if fails { "failed" } else { "pulled" }.into(),
                status: fails.then_some(500),
                message: fails.then(|| "the server answered 500".into()),
                ..OutcomeRow::default()
            }])?;
            if fails {
                continue;
            }
            let grades: Vec<GradeRow> = AREAS
                .iter()
                .enumerate()
                .map(|(index, area)| GradeRow {
                    run_id: run_id.clone(),
                    instance_id: instance_id.clone(),
                    area: (*area).into(),
                    current_grade: Some(GRADES[(instance as usize + index + run) % GRADES.len()].into()),
                    previous_grade: Some(GRADES[(instance as usize + index) % GRADES.len()].into()),
                    grading_period: Some("monthly".into()),
                })
                .collect();
            writer.write(&grades)?;
            let coverage: Vec<CoverageRow> = (0..self.assets_per_instance)
                .filter(|asset| Self::scanned(run, *asset))
                .map(|asset| CoverageRow {
                    run_id: run_id.clone(),
                    instance_id: instance_id.clone(),
                    scan_class: CLASSES[(asset % 3) as usize].into(),
                    scan_id: format!("{instance}-{run}-{}", asset % 3),
                    asset_key: AssetIdentity::Ip(IpAddr::V4(Self::address(instance, asset))).key(),
                })
                .collect();
            writer.write(&coverage)?;
        }
        let findings = self.findings(run, &run_id);
        writer.write(&findings)?;
        let pulled = i64::from(self.instances) - failed;
        writer.commit(started_at + 60_000_000, RunCounts { pulled, failed, skipped: 0 })?;
        Ok(findings.len())
    }
}

/// This thread's CPU time in seconds (Linux; 0 elsewhere).
fn thread_cpu() -> f64 {
    std::fs::read_to_string("/proc/thread-self/schedstat")
        .ok()
        .and_then(|text| text.split_whitespace().next()?.parse::<f64>().ok())
        .map_or(0.0, |nanos| nanos / 1e9)
}

/// Prints one line of the result on stdout.
fn emit(line: &str) -> std::io::Result<()> {
    use std::io::Write as _;
    writeln!(std::io::stdout().lock(), "{line}")
}

fn median(values: &mut [f64]) -> f64 {
    values.sort_by(f64::total_cmp);
    values.get(values.len() / 2).copied().unwrap_or(f64::NAN)
}

fn json_list(values: &[f64]) -> String {
    let items: Vec<String> = values.iter().map(|value| format!("{value:.6}")).collect();
    format!("[{}]", items.join(","))
}

/// Writes rows as a run writes its tables: `cyrisma_dataset::write::table_writer` (typed rows
/// to Arrow arrays `BATCH_ROWS` at a time, the columns encoded on every core, the dataset's
/// properties), minus the run's fsync and rename. Returns the file's size.
fn write_dataset(rows: &[FindingRow], out: &Path) -> Result<u64, Box<dyn std::error::Error>> {
    let mut writer = table_writer(File::create(out)?, schema::FINDINGS)?;
    writer.write(rows)?;
    Ok(writer.into_inner()?.metadata()?.len())
}

/// The same file written by `parquet`'s one-thread `ArrowWriter` from record batches of
/// `BATCH_ROWS` typed rows.
fn write_arrow_writer(rows: &[FindingRow], out: &Path) -> Result<u64, Box<dyn std::error::Error>> {
    let mut writer =
        ArrowWriter::try_new(File::create(out)?, schema::arrow_schema(schema::FINDINGS), Some(writer_properties()))?;
    for chunk in rows.chunks(BATCH_ROWS) {
        writer.write(&FindingRow::encode(chunk)?)?;
    }
    Ok(writer.into_inner()?.metadata()?.len())
}

/// The path the dataset took before: rows serialized through serde into arrow-json's decoder.
fn write_json_path(rows: &[FindingRow], out: &Path) -> Result<u64, Box<dyn std::error::Error>> {
    let mut writer =
        ArrowWriter::try_new(File::create(out)?, schema::arrow_schema(schema::FINDINGS), Some(writer_properties()))?;
    for chunk in rows.chunks(BATCH_ROWS) {
        writer.write(&schema::record_batch(chunk, schema::FINDINGS)?)?;
    }
    Ok(writer.into_inner()?.metadata()?.len())
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).filter(|arg| arg != "--bench").collect();
    let arg = |index: usize| args.get(index).cloned().ok_or_else(|| format!("argument {index} is missing"));
    match arg(0)?.as_str() {
        "generate" => {
            let dir = arg(1)?;
            let findings: usize = arg(2)?.parse()?;
            let _ = std::fs::remove_dir_all(&dir);
            let dataset = Dataset::new(&dir);
            let synthetic = Synthetic::new(findings);
            let counts: Vec<usize> = (0..3).map(|run| synthetic.write_run(&dataset, run)).collect::<Result<_, _>>()?;
            let runs: Vec<String> = dataset.runs()?.into_iter().map(|run| format!("\"{}\"", run.run_id)).collect();
            emit(&format!(
                "{{\"runs\":[{}],\"findings\":[{}],\"instances\":{}}}",
                runs.join(","),
                counts.iter().map(usize::to_string).collect::<Vec<_>>().join(","),
                synthetic.instances
            ))?;
        }
        "write" => {
            let out = Path::new(&args[1]).to_owned();
            let findings: usize = arg(2)?.parse()?;
            let repeat: usize = arg(3)?.parse()?;
            let synthetic = Synthetic::new(findings);
            let rows = synthetic.findings(0, "r20261205T064322.000000Z-00001000");
            let json_out = out.with_extension("json-path.parquet");
            let arrow_out = out.with_extension("arrow-writer.parquet");
            let (mut dataset, mut arrow, mut json) = (Vec::new(), Vec::new(), Vec::new());
            let mut bytes = 0;
            for _ in 0..repeat {
                let start = Instant::now();
                bytes = write_dataset(&rows, &out)?;
                dataset.push(start.elapsed().as_secs_f64());
                let start = Instant::now();
                write_arrow_writer(&rows, &arrow_out)?;
                arrow.push(start.elapsed().as_secs_f64());
                let start = Instant::now();
                write_json_path(&rows, &json_out)?;
                json.push(start.elapsed().as_secs_f64());
            }
            // The dataset's writer must write the very file the one-thread `ArrowWriter` does.
            if std::fs::read(&out)? != std::fs::read(&arrow_out)? {
                return Err("the dataset's writer and ArrowWriter wrote different files".into());
            }
            let groups = parquet::file::reader::FileReader::metadata(
                &parquet::file::reader::SerializedFileReader::new(File::open(&out)?)?,
            )
            .num_row_groups();
            let _ = std::fs::remove_file(&json_out);
            let _ = std::fs::remove_file(&arrow_out);
            emit(&format!(
                "{{\"rows\":{},\"bytes\":{bytes},\"row_groups\":{groups},\"dataset\":{},\"arrow_writer\":{},\"json_path\":{},\"dataset_median\":{:.6},\"arrow_writer_median\":{:.6},\"json_path_median\":{:.6}}}",
                rows.len(),
                json_list(&dataset),
                json_list(&arrow),
                json_list(&json),
                median(&mut dataset.clone()),
                median(&mut arrow.clone()),
                median(&mut json.clone())
            ))?;
        }
        "diff" => {
            let history = History::new(Dataset::new(arg(1)?));
            let repeat: usize = arg(2)?.parse()?;
            let mut times = Vec::new();
            let mut counts = BTreeMap::new();
            let mut truncated = 0;
            for _ in 0..repeat {
                let start = Instant::now();
                let report = history.diff(None, None, false)?;
                times.push(start.elapsed().as_secs_f64());
                counts.clear();
                for row in &report.findings {
                    *counts.entry(row.change).or_insert(0u64) += 1;
                }
                truncated = report.warnings.len();
            }
            let counts: Vec<String> = counts.iter().map(|(change, count)| format!("\"{change}\":{count}")).collect();
            emit(&format!(
                "{{\"times\":{},\"median\":{:.6},\"counts\":{{{}}},\"warnings\":{truncated}}}",
                json_list(&times),
                median(&mut times.clone()),
                counts.join(",")
            ))?;
        }
        "phases" => {
            // Where a diff's time goes (for working on it): each step alone on this thread, in
            // CPU seconds of the thread (the machine may be shared).
            let dataset = Dataset::new(arg(1)?);
            let runs = dataset.runs()?;
            let run = &runs[runs.len() - 1];
            let mut phases = Vec::new();
            let mut phase = |name: &str, start: f64| phases.push(format!("\"{name}\":{:.3}", thread_cpu() - start));
            let start = thread_cpu();
            let batches =
                dataset.batches("findings", run, Some(&["instance_id", "scan_class", "asset_key", "fingerprint"]))?;
            phase("read_4_columns", start);
            let rows: usize = batches.iter().map(|batch| batch.num_rows()).sum();
            drop(batches);
            let start = thread_cpu();
            let fingerprints = dataset.fingerprints(run)?;
            phase("fingerprints", start);
            let start = thread_cpu();
            let data = dataset.load_run(run)?;
            phase("load_run", start);
            let wanted: Vec<u32> = (0..rows as u32).step_by(12).collect();
            let start = thread_cpu();
            let chosen = dataset.rows_at::<FindingRow>("findings", run, &wanted, None)?;
            phase("rows_at_1_in_12", start);
            let start = thread_cpu();
            let all = dataset.rows::<FindingRow>("findings", run)?;
            phase("rows_all", start);
            let start = thread_cpu();
            let seen = cyrisma_core::history::FingerprintSet::default();
            let from = dataset.load_run(&runs[runs.len() - 2])?;
            let result = cyrisma_core::history::diff(&from, &data, &seen, false);
            phase("load_from_and_diff", start);
            emit(&format!(
                "{{\"rows\":{rows},{},\"check\":{}}}",
                phases.join(","),
                fingerprints.len() + data.len() + chosen.len() + all.len() + result.changes.len()
            ))?;
        }
        other => return Err(format!("unknown mode {other}: generate, write or diff").into()),
    }
    Ok(())
}
