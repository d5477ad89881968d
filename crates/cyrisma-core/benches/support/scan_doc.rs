//! Shared by the parse benches: a deterministic vulnerability scan detail generator (the body of
//! `GET /partner/scans/vulnerability/{scanId}`), a plain `#[derive(Deserialize)]` probe model
//! with the same fields as the production model (the J2 reference), the JSONL export used by E1
//! and J5, and the whole-process modes `cargo xtask bench` drives through environment variables.
//!
//! The document mixes IP assets (vulnerabilities and open ports) and web application assets
//! (flaws with HTML and instances); strings carry quotes, new lines and non-ASCII text, and scores
//! are floats. Only keys the production model knows are sent, as the emulator does, so `extra`
//! stays empty and J2 compares like with like.

#![allow(dead_code)]

use std::io::Write;
use std::time::Instant;

use cyrisma_core::Endpoint;
use cyrisma_core::api::scans::get_vulnerability_scan;
use cyrisma_core::export::JsonlWriter;
use cyrisma_core::types::{ScanDetail, VulnerabilityScan};
use serde::{Deserialize, Serialize};

/// A small deterministic PRNG (xorshift64*), so the document is byte-identical on every machine.
pub(crate) struct Rng(u64);

impl Rng {
    pub(crate) fn new(seed: u64) -> Self {
        Self(seed.max(1))
    }

    pub(crate) fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    pub(crate) fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }

    pub(crate) fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len() as u64) as usize]
    }
}

/// Risk level of the probe model: a plain derived enum with a catch-all.
#[derive(Clone, Copy, Debug, Serialize, Deserialize)]
pub(crate) enum ProbeRisk {
    Critical,
    High,
    Medium,
    Low,
    Info,
    #[serde(other)]
    Other,
}

/// The probe model: plain derived structs with the production model's fields.
#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct ProbeDetail {
    pub(crate) assets: Vec<ProbeAsset>,
}

#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct ProbeAsset {
    pub(crate) id: Option<String>,
    #[serde(rename = "assetId", skip_serializing_if = "Option::is_none")]
    pub(crate) asset_id: Option<String>,
    pub(crate) name: Option<String>,
    #[serde(rename = "ipAddress")]
    pub(crate) ip_address: Option<String>,
    #[serde(rename = "scanType", skip_serializing_if = "Option::is_none")]
    pub(crate) scan_type: Option<String>,
    #[serde(default)]
    pub(crate) vulnerabilities: Vec<ProbeVulnerability>,
    #[serde(rename = "openPorts", default)]
    pub(crate) open_ports: Vec<ProbePort>,
    #[serde(default)]
    pub(crate) flaws: Vec<ProbeFlaw>,
}

#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct ProbeVulnerability {
    pub(crate) cve: Option<String>,
    pub(crate) title: Option<String>,
    pub(crate) score: Option<f64>,
    #[serde(rename = "riskLevel")]
    pub(crate) risk_level: Option<ProbeRisk>,
    #[serde(rename = "firstSeen")]
    pub(crate) first_seen: Option<String>,
    #[serde(rename = "affectedUrls", skip_serializing_if = "Option::is_none")]
    pub(crate) affected_urls: Option<u64>,
}

#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct ProbePort {
    #[serde(rename = "portNumber")]
    pub(crate) port_number: Option<String>,
    #[serde(rename = "portDescription")]
    pub(crate) port_description: Option<String>,
    #[serde(rename = "riskLevel")]
    pub(crate) risk_level: Option<ProbeRisk>,
    #[serde(rename = "targetName")]
    pub(crate) target_name: Option<String>,
    #[serde(rename = "targetIp")]
    pub(crate) target_ip: Option<String>,
}

#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct ProbeFlaw {
    #[serde(rename = "alertId")]
    pub(crate) alert_id: Option<String>,
    #[serde(rename = "alertRef")]
    pub(crate) alert_ref: Option<String>,
    #[serde(rename = "alertName")]
    pub(crate) alert_name: Option<String>,
    #[serde(rename = "riskLevel")]
    pub(crate) risk_level: Option<ProbeRisk>,
    pub(crate) target: Option<String>,
    #[serde(rename = "alertCount")]
    pub(crate) alert_count: Option<u64>,
    #[serde(rename = "alertDesc")]
    pub(crate) alert_desc: Option<String>,
    #[serde(rename = "alertSolution")]
    pub(crate) alert_solution: Option<String>,
    #[serde(default)]
    pub(crate) references: Vec<String>,
    #[serde(default)]
    pub(crate) instances: Vec<ProbeInstance>,
}

#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct ProbeInstance {
    pub(crate) uri: Option<String>,
    pub(crate) method: Option<String>,
    pub(crate) param: Option<String>,
    pub(crate) attack: Option<String>,
    pub(crate) evidence: Option<String>,
}

const CVES: &[&str] = &[
    "CVE-2021-44228",
    "CVE-2022-22965",
    "CVE-2023-4966",
    "CVE-2019-0708",
    "CVE-2020-1472",
    "CVE-2023-23397",
    "CVE-2024-3400",
    "CVE-2017-0144",
    "CVE-2021-34527",
    "CVE-2022-30190",
];
const TITLES: &[&str] = &[
    "Apache Log4j2 JNDI features do not protect against attacker controlled \"LDAP\" endpoints",
    "Microsoft Windows Remote Desktop Services remote code execution (BlueKeep)",
    "Netlogon elevation of privilege vulnerability (Zerologon)",
    "SMBv1 server remote code execution\nsee MS17-010 for details",
    "OpenSSH < 9.3p2 agent forwarding: chargement de bibliothèques arbitraires",
    "TLS Version 1.0 Protocol Detection — Überprüfung empfohlen",
    "SSL certificate cannot be trusted (自己署名証明書)",
    "Print Spooler remote code execution vulnerability (PrintNightmare)",
    "Outlook elevation of privilege via UNC path \\\\attacker\\share",
    "PAN-OS GlobalProtect command injection",
];
const PORTS: &[(&str, &str)] = &[
    ("22", "SSH"),
    ("80", "HTTP"),
    ("135", "Microsoft RPC"),
    ("139", "NetBIOS Session Service"),
    ("443", "HTTPS"),
    ("445", "Microsoft-DS (SMB)"),
    ("3389", "Remote Desktop Protocol"),
    ("5985", "WinRM \"HTTP\""),
];
const RISKS: &[ProbeRisk] = &[ProbeRisk::Critical, ProbeRisk::High, ProbeRisk::Medium, ProbeRisk::Low, ProbeRisk::Info];
const ALERTS: &[&str] = &[
    "Cross Site Scripting (Reflected)",
    "SQL Injection - MySQL",
    "Content Security Policy (CSP) Header Not Set",
    "Cookie without SameSite Attribute",
    "Vulnerable JS Library (jQuery 1.12.4)",
];

fn ip(rng: &mut Rng) -> String {
    format!("10.{}.{}.{}", rng.below(256), rng.below(256), 1 + rng.below(254))
}

fn date(rng: &mut Rng) -> String {
    format!(
        "2026-{:02}-{:02} {:02}:{:02}:{:02}",
        1 + rng.below(12),
        1 + rng.below(28),
        rng.below(24),
        rng.below(60),
        rng.below(60)
    )
}

fn ip_asset(rng: &mut Rng, index: u64) -> ProbeAsset {
    let address = ip(rng);
    let name = format!("host-{index:06}.corp.example — poste n°{}", rng.below(1000));
    let vulnerabilities = (0..4 + rng.below(17))
        .map(|_| ProbeVulnerability {
            cve: (rng.below(5) != 0).then(|| rng.pick(CVES).to_owned()),
            title: Some(rng.pick(TITLES).to_owned()),
            score: Some(rng.below(101) as f64 / 10.0),
            risk_level: Some(RISKS[rng.below(RISKS.len() as u64) as usize]),
            first_seen: Some(date(rng)),
            affected_urls: (rng.below(4) == 0).then(|| rng.below(40)),
        })
        .collect();
    let open_ports = (0..1 + rng.below(6))
        .map(|_| {
            let (port, description) = PORTS[rng.below(PORTS.len() as u64) as usize];
            ProbePort {
                port_number: Some(port.to_owned()),
                port_description: Some(description.to_owned()),
                risk_level: Some(RISKS[rng.below(RISKS.len() as u64) as usize]),
                target_name: Some(name.clone()),
                target_ip: Some(address.clone()),
            }
        })
        .collect();
    ProbeAsset {
        id: Some(format!("{}", 100_000 + index)),
        asset_id: None,
        name: Some(name),
        ip_address: Some(address),
        scan_type: None,
        vulnerabilities,
        open_ports,
        flaws: Vec::new(),
    }
}

fn web_asset(rng: &mut Rng, index: u64) -> ProbeAsset {
    let target = format!("https://app{index}.customer.example/");
    let flaws = (0..2 + rng.below(5))
        .map(|flaw| ProbeFlaw {
            alert_id: Some(format!("{}", 10_000 + rng.below(90_000))),
            alert_ref: Some(format!("{}-{}", 40_000 + rng.below(1000), flaw)),
            alert_name: Some(rng.pick(ALERTS).to_owned()),
            risk_level: Some(RISKS[rng.below(RISKS.len() as u64) as usize]),
            target: Some(target.clone()),
            alert_count: Some(1 + rng.below(20)),
            alert_desc: Some(
                "<p>The page reflects user input without encoding it: \"<script>\" runs in the \
                 victim's browser.</p>\n<p>Lorsqu'un attaquant contrôle l'entrée, il peut voler la session.</p>"
                    .to_owned(),
            ),
            alert_solution: Some(
                "<p>Encode every value written into HTML; set a Content-Security-Policy header.</p>".to_owned(),
            ),
            references: vec![
                "https://owasp.org/www-community/attacks/xss/".to_owned(),
                "https://cwe.mitre.org/data/definitions/79.html".to_owned(),
            ],
            instances: (0..1 + rng.below(3))
                .map(|i| ProbeInstance {
                    uri: Some(format!("{target}search?q=test&page={i}")),
                    method: Some(if i % 2 == 0 { "GET" } else { "POST" }.to_owned()),
                    param: Some("q".to_owned()),
                    attack: Some("\"><scrIpt>alert(1);</scRipt>".to_owned()),
                    evidence: Some("\"><scrIpt>alert(1);</scRipt>".to_owned()),
                })
                .collect(),
        })
        .collect();
    ProbeAsset {
        id: Some(format!("{}", 100_000 + index)),
        asset_id: None,
        name: Some(format!("Web application {index}")),
        ip_address: Some(target),
        scan_type: None,
        vulnerabilities: Vec::new(),
        open_ports: Vec::new(),
        flaws,
    }
}

/// Generates a scan detail of at least `target_bytes` bytes (one asset past the target).
pub(crate) fn generate(target_bytes: usize) -> Vec<u8> {
    let mut rng = Rng::new(0x5eed_cafe);
    let mut out = Vec::with_capacity(target_bytes + 64 * 1024);
    out.extend_from_slice(b"{\"assets\":[");
    let mut index = 0u64;
    while out.len() < target_bytes || index == 0 {
        if index > 0 {
            out.push(b',');
        }
        let asset = if index % 10 == 9 { web_asset(&mut rng, index) } else { ip_asset(&mut rng, index) };
        serde_json::to_writer(&mut out, &asset).expect("serializing to a Vec cannot fail");
        index += 1;
    }
    out.extend_from_slice(b"]}");
    out
}

/// The document size for this run: `CYRISMA_BENCH_DOC_MB` (default 50 MB, as in the goals).
pub(crate) fn doc_bytes() -> usize {
    let mb: f64 = std::env::var("CYRISMA_BENCH_DOC_MB").ok().and_then(|value| value.parse().ok()).unwrap_or(50.0);
    (mb * 1_000_000.0) as usize
}

/// The scan summary the export rows carry (one scan of one instance, as the CLI exports them).
pub(crate) fn export_scan() -> VulnerabilityScan {
    serde_json::from_str(
        r#"{"scanId": "100042", "scanType": "5", "scanName": "Weekly internal", "scanFinished": "2026-11-20T03:12:44Z"}"#,
    )
    .expect("a scan summary")
}

/// Writes one JSONL row per vulnerability, open port and flaw of `detail` with the encoder
/// `cyrisma export findings --format jsonl` ships (`cyrisma_core::export`), flushed into the
/// writer's `Vec`; returns the number of rows. Like the CLI, callers keep one writer for every
/// scan they export (its buffers are reused).
pub(crate) fn export_jsonl(detail: &ScanDetail, scan: &VulnerabilityScan, writer: &mut JsonlWriter<Vec<u8>>) -> u64 {
    let rows = writer.write_scan("cc100042", Some("Acme Dental — Zürich \"HQ\""), scan, detail).expect("a Vec sink");
    writer.flush().expect("a Vec sink");
    rows
}

/// A criterion group with the settings every goal uses (10 samples, flat sampling).
pub(crate) fn group<'a>(
    c: &'a mut criterion::Criterion,
    name: &str,
    bytes: usize,
) -> criterion::BenchmarkGroup<'a, criterion::measurement::WallTime> {
    let mut group = c.benchmark_group(name);
    group
        .sample_size(10)
        .sampling_mode(criterion::SamplingMode::Flat)
        .warm_up_time(std::time::Duration::from_secs(1))
        .measurement_time(std::time::Duration::from_secs(4))
        .throughput(criterion::Throughput::Bytes(bytes as u64));
    group
}

/// E1: parse plus JSONL export (one writer for the whole run, as the CLI keeps one for the whole
/// export) vs parse alone, on the binary's global allocator.
pub(crate) fn e1_group(c: &mut criterion::Criterion, name: &str, doc: &[u8]) {
    use std::hint::black_box;
    let scan = export_scan();
    let mut e1 = group(c, name, doc.len());
    e1.bench_function("parse_and_export_jsonl", |b| {
        let mut writer = JsonlWriter::new(Vec::with_capacity(3 * doc.len()));
        b.iter(|| {
            writer.get_mut().clear();
            let detail = parse_typed(black_box(doc));
            export_jsonl(&detail, &scan, &mut writer);
            writer.get_ref().len()
        })
    });
    e1.bench_function("parse_only", |b| b.iter(|| parse_typed(black_box(doc))));
    e1.finish();
}

/// Typed parse with the production model, as the SDK does it.
pub(crate) fn parse_typed(doc: &[u8]) -> ScanDetail {
    get_vulnerability_scan::Request::parse_success(doc).expect("the generated document parses")
}

fn env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|value| !value.is_empty())
}

fn median(values: &mut [f64]) -> f64 {
    values.sort_by(f64::total_cmp);
    let mid = values.len() / 2;
    if values.len() % 2 == 1 { values[mid] } else { (values[mid - 1] + values[mid]) / 2.0 }
}

/// The whole-process modes, chosen by `CYRISMA_BENCH_MODE` (returns `false` when none is set,
/// and the caller runs its benchmarks):
///
/// - `write-doc`: writes the generated document to `CYRISMA_BENCH_DOC`;
/// - `parse-file`: parses `CYRISMA_BENCH_DOC` with the production model `CYRISMA_BENCH_REPEAT`
///   times (default 5) and prints `{"bytes":…,"median_ms":…}` (J7's Rust side);
/// - `value-file`: parses `CYRISMA_BENCH_DOC` into a `serde_json::Value`, once (J6's reference);
/// - `export-file`: parses `CYRISMA_BENCH_DOC` and exports it as JSONL, once (J5's workload; the
///   caller times the whole process).
pub(crate) fn run_mode() -> bool {
    let Some(mode) = env("CYRISMA_BENCH_MODE") else { return false };
    let path = env("CYRISMA_BENCH_DOC").expect("set CYRISMA_BENCH_DOC to the document's path");
    let mut stdout = std::io::stdout().lock();
    match mode.as_str() {
        "write-doc" => {
            let doc = generate(doc_bytes());
            std::fs::write(&path, &doc).expect("the document is written");
            writeln!(stdout, "{{\"bytes\":{}}}", doc.len()).expect("stdout");
        }
        "parse-file" => {
            let doc = std::fs::read(&path).expect("the document is readable");
            let repeat: usize = env("CYRISMA_BENCH_REPEAT").and_then(|value| value.parse().ok()).unwrap_or(5);
            drop(parse_typed(&doc));
            let mut times: Vec<f64> = (0..repeat.max(1))
                .map(|_| {
                    let start = Instant::now();
                    let detail = parse_typed(&doc);
                    drop(std::hint::black_box(detail));
                    start.elapsed().as_secs_f64() * 1000.0
                })
                .collect();
            writeln!(stdout, "{{\"bytes\":{},\"median_ms\":{:.3}}}", doc.len(), median(&mut times)).expect("stdout");
        }
        "value-file" => {
            let doc = std::fs::read(&path).expect("the document is readable");
            let value: serde_json::Value = serde_json::from_slice(&doc).expect("the document parses");
            let assets = value["assets"].as_array().map_or(0, Vec::len);
            writeln!(stdout, "{{\"bytes\":{},\"assets\":{assets}}}", doc.len()).expect("stdout");
        }
        "export-file" => {
            let doc = std::fs::read(&path).expect("the document is readable");
            let detail = parse_typed(&doc);
            let mut writer = JsonlWriter::new(Vec::with_capacity(doc.len()));
            export_jsonl(&detail, &export_scan(), &mut writer);
            let out = writer.get_ref();
            writeln!(stdout, "{{\"bytes\":{},\"jsonl_bytes\":{}}}", doc.len(), out.len()).expect("stdout");
        }
        other => panic!("unknown CYRISMA_BENCH_MODE `{other}`"),
    }
    true
}
