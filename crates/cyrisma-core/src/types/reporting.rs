//! Reporting models: scans, assets, dashboards and CVEs (instance hosts).
//!
//! Evidence, as the contract tags it:
//! - \[OBS\] the vulnerability scan summary and detail ([`VulnerabilityScans`], [`ScanDetail`],
//!   [`Asset`] and its arrays), the overall dashboard keys `or` and `vn`, and the asset
//!   endpoints;
//! - \[ASSUMED\] [`DataScans`], [`BaselineScans`], the `ds`, `sb` and `cp` keys of
//!   [`OverallDashboard`], [`DataDashboard`], [`BaselineDashboard`], [`VulnerabilityDashboard`]
//!   and [`Cves`].
//!
//! Scan details can be tens of megabytes, so these models stay cheap to parse: times are kept as
//! the strings the server sent (`YYYY-MM-DD HH:MM:SS`), nothing is parsed eagerly, and every
//! model is read in one pass from the response buffer. Key casing varies on the asset endpoints
//! (`openPorts` or `OpenPorts`); keys are matched exactly first, then ASCII case-insensitively,
//! and snake_case spellings are listed as aliases.
//!
//! Two fields whose type the sources disagree on read as a [`CountOrList`]: a vulnerability's
//! `affectedUrls` (observed as a count; the contract lists no type) and a baseline scan's
//! `targets` (a count \[ASSUMED\]; the baseline dashboard's `targets` is a list).

use std::fmt;
use std::marker::PhantomData;

use serde::de::{self, Deserializer, MapAccess, SeqAccess, Visitor};

use crate::types::{Grade, GradingPeriod, RiskLevel, ScanType};
use crate::wire::{self, FieldError, Lenient, LenientSeed, model};

// ---------------------------------------------------------------------------------------------
// Vulnerability scans [OBS]
// ---------------------------------------------------------------------------------------------

model! {
    /// One vulnerability scan in the summary of `GET /partner/scans/vulnerability` \[OBS\].
    ///
    /// Times are `YYYY-MM-DD HH:MM:SS` strings, kept as sent. The order of scans in a listing is
    /// not guaranteed.
    pub struct VulnerabilityScan {
        /// The scan id (the `{scanId}` of the detail endpoint).
        pub scan_id: String => "scan_id" | "scanId",
        /// The scan type (numeric on the wire, sometimes as a numeric string).
        pub scan_type: Option<ScanType> => "scan_type" | "scanType",
        /// The server's human name for the scan type.
        pub scan_type_name: Option<String> => "scan_type_name" | "scanTypeName",
        /// The scan's name.
        pub scan_name: Option<String> => "scan_name" | "scanName",
        /// When the scan started (`YYYY-MM-DD HH:MM:SS`).
        pub scan_started: Option<String> => "scan_started" | "scanStarted",
        /// When the scan finished (`YYYY-MM-DD HH:MM:SS`).
        pub scan_finished: Option<String> => "scan_finished" | "scanFinished",
        /// Critical findings.
        pub critical_vulnerabilities: Option<u64> => "critical_vulnerabilities" | "criticalVulnerabilities",
        /// High findings.
        pub high_vulnerabilities: Option<u64> => "high_vulnerabilities" | "highVulnerabilities",
        /// Medium findings.
        pub medium_vulnerabilities: Option<u64> => "medium_vulnerabilities" | "mediumVulnerabilities",
        /// Low findings.
        pub low_vulnerabilities: Option<u64> => "low_vulnerabilities" | "lowVulnerabilities",
        /// All findings.
        pub vulnerabilities: Option<u64> => "vulnerabilities",
        /// The scan's letter grade; `None` when empty.
        pub grade_alpha: Option<Grade> => "grade_alpha" | "gradeAlpha",
    }
}

impl VulnerabilityScan {
    /// Whether this is a web application scan (whose detail carries flaws rather than
    /// vulnerabilities and open ports).
    pub fn is_web_application(&self) -> bool {
        self.scan_type == Some(ScanType::ExternalWebApplication)
    }

    /// The total number of findings: `vulnerabilities` when sent, else the sum of the four
    /// severity counts when at least one was sent.
    pub fn total_vulnerabilities(&self) -> Option<u64> {
        if self.vulnerabilities.is_some() {
            return self.vulnerabilities;
        }
        let counts = [
            self.critical_vulnerabilities,
            self.high_vulnerabilities,
            self.medium_vulnerabilities,
            self.low_vulnerabilities,
        ];
        counts.iter().any(Option::is_some).then(|| counts.iter().flatten().sum())
    }
}

model! {
    /// The answer of `GET /partner/scans/vulnerability` \[OBS\].
    pub struct VulnerabilityScans {
        /// The scans, in no guaranteed order.
        pub vulnerability_scans: Vec<VulnerabilityScan> => "vulnerability_scans" | "vulnerabilityScans",
    }
}

// ---------------------------------------------------------------------------------------------
// Vulnerability scan detail and assets [OBS]
// ---------------------------------------------------------------------------------------------

model! {
    /// The answer of `GET /partner/scans/vulnerability/{scanId}` \[OBS\]: the scanned assets.
    ///
    /// Internal and external IP scans fill each asset's `vulnerabilities` and `open_ports`; web
    /// application scans fill its `flaws` \[DOC\].
    pub struct ScanDetail {
        /// The scanned assets.
        pub assets: Vec<Asset> => "assets",
    }
}

impl ScanDetail {
    /// Every vulnerability with the asset it was found on.
    pub fn vulnerabilities(&self) -> impl Iterator<Item = (&Asset, &Vulnerability)> + '_ {
        self.assets
            .iter()
            .flat_map(|asset| asset.vulnerabilities.iter().map(move |vulnerability| (asset, vulnerability)))
    }

    /// Every open port with the asset it was found on.
    pub fn open_ports(&self) -> impl Iterator<Item = (&Asset, &OpenPort)> + '_ {
        self.assets.iter().flat_map(|asset| asset.open_ports.iter().map(move |port| (asset, port)))
    }

    /// Every web application flaw with the asset it was found on.
    pub fn flaws(&self) -> impl Iterator<Item = (&Asset, &Flaw)> + '_ {
        self.assets.iter().flat_map(|asset| asset.flaws.iter().map(move |flaw| (asset, flaw)))
    }
}

model! {
    /// A scanned asset: an item of a scan detail, or of the asset endpoints \[OBS\].
    ///
    /// Both ids are optional because the scan detail and the three asset endpoints do not send
    /// the same keys; [`Asset::identifier`] picks the one that is there. On the asset list,
    /// `assetIp` and `ip` read into `ip_address`, and `scanType` is the human name of the scan
    /// type (`Internal Authenticated`), not the numeric code.
    pub struct Asset {
        /// The asset's id within the scan.
        pub id: Option<String> => "id",
        /// The asset's id in the instance (the `assetId` of the authenticated asset endpoint).
        pub asset_id: Option<String> => "assetId" | "asset_id",
        /// The asset's name.
        pub name: Option<String> => "name",
        /// The IP address, or the URL of a web application.
        pub ip_address: Option<String> => "ipAddress" | "ip_address" | "assetIp" | "asset_ip" | "ip",
        /// The human name of the scan type that found the asset (asset list only).
        pub scan_type: Option<String> => "scanType" | "scan_type",
        /// Vulnerabilities (IP-based scans).
        pub vulnerabilities: Vec<Vulnerability> => "vulnerabilities",
        /// Open ports (IP-based scans); sent as `openPorts` or `OpenPorts`.
        pub open_ports: Vec<OpenPort> => "openPorts" | "open_ports",
        /// Flaws (web application scans).
        pub flaws: Vec<Flaw> => "flaws",
    }
}

impl Asset {
    /// The asset's identifier: `assetId` when sent, else `id`.
    pub fn identifier(&self) -> Option<&str> {
        self.asset_id.as_deref().or(self.id.as_deref())
    }

    /// Reads the body of an asset endpoint liberally: a bare array of assets, one asset object,
    /// or an object with an `assets` array (`{"assets": [...]}`). `null` reads as no assets.
    ///
    /// The common shapes are parsed in one pass; an object whose `assets` key is not its first
    /// key is parsed a second time as the wrapper. Keys of a wrapper other than `assets` are not
    /// kept.
    pub fn list_from_slice(body: &[u8]) -> Result<Vec<Asset>, FieldError> {
        if first_byte(body) != Some(b'{') {
            return wire::from_slice_seed::<Vec<Asset>>(body);
        }
        if first_key(body).is_some_and(|key| key.eq_ignore_ascii_case(b"assets")) {
            return wire::from_slice::<ScanDetail>(body).map(|detail| detail.assets);
        }
        let asset: Asset = wire::from_slice(body)?;
        let is_wrapper = asset.identifier().is_none()
            && asset.ip_address.is_none()
            && asset.extra.keys().any(|key| key.eq_ignore_ascii_case("assets"));
        if is_wrapper {
            return wire::from_slice::<ScanDetail>(body).map(|detail| detail.assets);
        }
        Ok(vec![asset])
    }
}

/// The first byte that is not JSON white space.
fn first_byte(body: &[u8]) -> Option<u8> {
    body.iter().copied().find(|byte| !byte.is_ascii_whitespace())
}

/// The raw first key of a JSON object, if it has one without escapes.
fn first_key(body: &[u8]) -> Option<&[u8]> {
    let start = body.iter().position(|byte| *byte == b'{')?;
    let rest = &body[start + 1..];
    let quote = rest.iter().position(|byte| !byte.is_ascii_whitespace())?;
    if rest[quote] != b'"' {
        return None;
    }
    let key = &rest[quote + 1..];
    let end = key.iter().position(|byte| *byte == b'"' || *byte == b'\\')?;
    (key[end] == b'"').then(|| &key[..end])
}

model! {
    /// A vulnerability found on an asset by an IP-based scan \[OBS\].
    pub struct Vulnerability {
        /// The CVE id (`CVE-2021-44228`), when the finding has one.
        pub cve: Option<String> => "cve",
        /// The finding's title.
        pub title: Option<String> => "title",
        /// The CVSS score.
        pub score: Option<f64> => "score",
        /// `Critical`, `High`, `Medium`, `Low` or `Info`.
        pub risk_level: Option<RiskLevel> => "riskLevel" | "risk_level",
        /// When it was first seen (a date string, kept as sent).
        pub first_seen: Option<String> => "firstSeen" | "first_seen",
        /// The affected URLs: observed as a count on external assets; a list of URLs is read
        /// too. See [`Vulnerability::affected_url_count`].
        pub affected_urls: Option<CountOrList<String>> => "affectedUrls" | "affected_urls",
    }
}

/// A field that the server may send either as a count or as the list of what it counts: the
/// `affectedUrls` of a vulnerability (observed as a count on external assets) or the `targets`
/// of a baseline scan. It is written back in the form it was read.
///
/// Numbers and numeric strings read as [`CountOrList::Count`]; an array reads as
/// [`CountOrList::List`], and a single non-numeric value as a one-element list. As an `Option`
/// field, `null` and `""` read as `None`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CountOrList<T> {
    /// The items themselves.
    List(Vec<T>),
    /// Only how many there are.
    Count(u64),
}

impl<T> Default for CountOrList<T> {
    fn default() -> Self {
        CountOrList::List(Vec::new())
    }
}

impl<T> CountOrList<T> {
    /// How many there are: the count, or the length of the list.
    pub fn count(&self) -> u64 {
        match self {
            CountOrList::List(items) => items.len() as u64,
            CountOrList::Count(count) => *count,
        }
    }

    /// The items, if the server listed them (empty for a bare count).
    pub fn items(&self) -> &[T] {
        match self {
            CountOrList::List(items) => items,
            CountOrList::Count(_) => &[],
        }
    }
}

/// Reads a [`CountOrList`]; `None` stands for `null` and `""`.
struct CountOrListVisitor<T>(PhantomData<T>);

impl<'de, T: Lenient> Visitor<'de> for CountOrListVisitor<T> {
    type Value = Option<CountOrList<T>>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a count or an array")
    }

    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_u64<E: de::Error>(self, value: u64) -> Result<Self::Value, E> {
        Ok(Some(CountOrList::Count(value)))
    }

    fn visit_i64<E: de::Error>(self, value: i64) -> Result<Self::Value, E> {
        u64::try_from(value)
            .map(|count| Some(CountOrList::Count(count)))
            .map_err(|_| E::custom("expected a count or an array, found a negative number"))
    }

    fn visit_f64<E: de::Error>(self, value: f64) -> Result<Self::Value, E> {
        let count = value as u64;
        if value.fract() == 0.0 && count as f64 == value {
            Ok(Some(CountOrList::Count(count)))
        } else {
            Err(E::custom("expected a count or an array, found a fractional number"))
        }
    }

    fn visit_str<E: de::Error>(self, value: &str) -> Result<Self::Value, E> {
        let trimmed = value.trim();
        if trimmed.is_empty() {
            return Ok(None);
        }
        if let Ok(count) = trimmed.parse::<u64>() {
            return Ok(Some(CountOrList::Count(count)));
        }
        let item = T::deserialize_lenient(de::value::StrDeserializer::<E>::new(value))?;
        Ok(Some(CountOrList::List(vec![item])))
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
        let item = T::deserialize_lenient(de::value::MapAccessDeserializer::new(map))?;
        Ok(Some(CountOrList::List(vec![item])))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        // Cap the pre-allocation: the hint comes from the peer.
        let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(4096));
        while let Some(item) = seq.next_element_seed(LenientSeed::<T>::new())? {
            items.push(item);
        }
        Ok(Some(CountOrList::List(items)))
    }
}

impl<'de, T: Lenient> serde::Deserialize<'de> for CountOrList<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        <Self as Lenient>::deserialize_lenient(deserializer)
    }
}

impl<T: serde::Serialize> serde::Serialize for CountOrList<T> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            CountOrList::List(items) => items.serialize(serializer),
            CountOrList::Count(count) => serializer.serialize_u64(*count),
        }
    }
}

impl<T: Lenient> Lenient for CountOrList<T> {
    fn deserialize_lenient<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(CountOrListVisitor(PhantomData)).map(Option::unwrap_or_default)
    }

    fn lenient_option<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<Self>, D::Error> {
        deserializer.deserialize_any(CountOrListVisitor(PhantomData))
    }
}

impl Vulnerability {
    /// How many URLs are affected, when the server said.
    pub fn affected_url_count(&self) -> Option<u64> {
        self.affected_urls.as_ref().map(CountOrList::count)
    }
}

model! {
    /// An open port found on an asset by an IP-based scan \[OBS\].
    ///
    /// The asset endpoints send the keys in PascalCase (`PortNumber`) or camelCase; the
    /// authenticated asset endpoint sends `port`, `portName` and `severity`, read here as
    /// `port_number`, `port_description` and `risk_level`.
    pub struct OpenPort {
        /// The port number (a string on the wire, such as `"135"`); see [`OpenPort::port`].
        pub port_number: Option<String> => "portNumber" | "port_number" | "port",
        /// What usually listens on the port.
        pub port_description: Option<String> => "portDescription" | "port_description" | "portName" | "port_name",
        /// `Critical`, `High`, `Medium`, `Low` or `Info` (any case).
        pub risk_level: Option<RiskLevel> => "riskLevel" | "risk_level" | "severity",
        /// The scanned target's name.
        pub target_name: Option<String> => "targetName" | "target_name",
        /// The scanned target's IP address.
        pub target_ip: Option<String> => "targetIp" | "target_ip",
    }
}

impl OpenPort {
    /// The port number, if it is a valid one.
    pub fn port(&self) -> Option<u16> {
        self.port_number.as_deref().and_then(|port| port.trim().parse().ok())
    }
}

model! {
    /// A flaw found by a web application scan \[OBS\]. `alert_desc` and `alert_solution` are HTML
    /// from the server: escape or sanitise them before showing them in a page.
    pub struct Flaw {
        /// The alert id.
        pub alert_id: Option<String> => "alertId" | "alert_id",
        /// The alert's reference (rule) id.
        pub alert_ref: Option<String> => "alertRef" | "alert_ref",
        /// The alert's name.
        pub alert_name: Option<String> => "alertName" | "alert_name",
        /// `Critical`, `High`, `Medium`, `Low` or `Info`.
        pub risk_level: Option<RiskLevel> => "riskLevel" | "risk_level",
        /// The scanned web application.
        pub target: Option<String> => "target",
        /// How many URLs are affected.
        pub alert_count: Option<u64> => "alertCount" | "alert_count",
        /// The description (HTML).
        pub alert_desc: Option<String> => "alertDesc" | "alert_desc",
        /// The remedy (HTML).
        pub alert_solution: Option<String> => "alertSolution" | "alert_solution",
        /// References (URLs or HTML snippets).
        pub references: Vec<String> => "references",
        /// Where the flaw was seen.
        pub instances: Vec<FlawInstance> => "instances",
    }
}

model! {
    /// One place where a web application flaw was seen \[OBS\].
    pub struct FlawInstance {
        /// The URL.
        pub uri: Option<String> => "uri",
        /// The HTTP method.
        pub method: Option<String> => "method",
        /// The parameter involved.
        pub param: Option<String> => "param",
        /// The attack the scanner sent.
        pub attack: Option<String> => "attack",
        /// What in the response showed the flaw.
        pub evidence: Option<String> => "evidence",
    }
}

// ---------------------------------------------------------------------------------------------
// Data and baseline scans [ASSUMED]
// ---------------------------------------------------------------------------------------------

model! {
    /// One data (sensitive data) scan in `GET /partner/scans/data` \[ASSUMED shape\].
    pub struct DataScan {
        /// The scan id.
        pub scan_id: String => "scan_id" | "scanId",
        /// The scan's name.
        pub scan_name: Option<String> => "scan_name" | "scanName",
        /// When the scan started (`YYYY-MM-DD HH:MM:SS`).
        pub scan_started: Option<String> => "scan_started" | "scanStarted",
        /// When the scan finished (`YYYY-MM-DD HH:MM:SS`).
        pub scan_finished: Option<String> => "scan_finished" | "scanFinished",
        /// How many files were scanned.
        pub files_scanned: Option<u64> => "files_scanned" | "filesScanned",
        /// How many files hold sensitive data.
        pub sensitive_files: Option<u64> => "sensitive_files" | "sensitiveFiles",
        /// How many sensitive data matches were found.
        pub sensitive_matches: Option<u64> => "sensitive_matches" | "sensitiveMatches",
        /// The scan's letter grade; `None` when empty.
        pub grade_alpha: Option<Grade> => "grade_alpha" | "gradeAlpha",
    }
}

model! {
    /// The answer of `GET /partner/scans/data` \[ASSUMED shape\].
    pub struct DataScans {
        /// The scans, in no guaranteed order.
        pub data_scans: Vec<DataScan> => "data_scans" | "dataScans",
    }
}

model! {
    /// One secure baseline scan in `GET /partner/scans/baseline` \[ASSUMED shape\].
    pub struct BaselineScan {
        /// The scan id.
        pub scan_id: String => "scan_id" | "scanId",
        /// The scan's name.
        pub scan_name: Option<String> => "scan_name" | "scanName",
        /// When the scan started (`YYYY-MM-DD HH:MM:SS`).
        pub scan_started: Option<String> => "scan_started" | "scanStarted",
        /// When the scan finished (`YYYY-MM-DD HH:MM:SS`).
        pub scan_finished: Option<String> => "scan_finished" | "scanFinished",
        /// The benchmark checked against (a CIS benchmark name, say).
        pub benchmark: Option<String> => "benchmark",
        /// How many targets were checked (a count; a list of targets is read too).
        pub targets: Option<CountOrList<BaselineTarget>> => "targets",
        /// Checks passed.
        pub passed_checks: Option<u64> => "passed_checks" | "passedChecks",
        /// Checks failed.
        pub failed_checks: Option<u64> => "failed_checks" | "failedChecks",
        /// The scan's letter grade; `None` when empty.
        pub grade_alpha: Option<Grade> => "grade_alpha" | "gradeAlpha",
    }
}

impl BaselineScan {
    /// How many targets were checked, when the server said.
    pub fn target_count(&self) -> Option<u64> {
        self.targets.as_ref().map(CountOrList::count)
    }
}

model! {
    /// The answer of `GET /partner/scans/baseline` \[ASSUMED shape\].
    pub struct BaselineScans {
        /// The scans, in no guaranteed order.
        pub baseline_scans: Vec<BaselineScan> => "baseline_scans" | "baselineScans",
    }
}

// ---------------------------------------------------------------------------------------------
// Dashboards [DOC for meaning; OBS for `or`, `vn`; ASSUMED for the rest]
// ---------------------------------------------------------------------------------------------

model! {
    /// The answer of `GET /partner/dashboards/overall`: current and previous grades per area.
    ///
    /// The keys `current_or_grade`/`previous_or_grade` (overall risk) and `current_vn_grade`/
    /// `previous_vn_grade` (vulnerability) are \[OBS\]; `ds` (data), `sb` (secure baseline) and
    /// `cp` (compliance) are \[ASSUMED\] (see [`crate::assumed::DASHBOARD_AREAS`]). Grades are
    /// `None` until a scan happens in the current grading period.
    pub struct OverallDashboard {
        /// Overall risk, current period \[OBS\].
        pub current_or_grade: Option<Grade> => "current_or_grade",
        /// Overall risk, previous period \[OBS\].
        pub previous_or_grade: Option<Grade> => "previous_or_grade",
        /// Data scans, current period \[ASSUMED\].
        pub current_ds_grade: Option<Grade> => "current_ds_grade",
        /// Data scans, previous period \[ASSUMED\].
        pub previous_ds_grade: Option<Grade> => "previous_ds_grade",
        /// Vulnerability scans, current period \[OBS\].
        pub current_vn_grade: Option<Grade> => "current_vn_grade",
        /// Vulnerability scans, previous period \[OBS\].
        pub previous_vn_grade: Option<Grade> => "previous_vn_grade",
        /// Secure baseline, current period \[ASSUMED\].
        pub current_sb_grade: Option<Grade> => "current_sb_grade",
        /// Secure baseline, previous period \[ASSUMED\].
        pub previous_sb_grade: Option<Grade> => "previous_sb_grade",
        /// Compliance, current period \[ASSUMED\].
        pub current_cp_grade: Option<Grade> => "current_cp_grade",
        /// Compliance, previous period \[ASSUMED\].
        pub previous_cp_grade: Option<Grade> => "previous_cp_grade",
        /// `monthly` or `quarterly`.
        pub grading_period: Option<GradingPeriod> => "grading_period" | "gradingPeriod",
    }
}

/// One area of the overall dashboard with its two grades (see [`OverallDashboard::areas`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AreaGrades<'a> {
    /// The wire key of the area: `or`, `ds`, `vn`, `sb` or `cp`.
    pub key: &'static str,
    /// A human name for the area.
    pub name: &'static str,
    /// The grade of the current period, `None` until a scan happens in it.
    pub current: Option<&'a Grade>,
    /// The grade of the previous period.
    pub previous: Option<&'a Grade>,
}

fn area_grades<'a>(
    key: &'static str,
    name: &'static str,
    current: &'a Option<Grade>,
    previous: &'a Option<Grade>,
) -> AreaGrades<'a> {
    AreaGrades { key, name, current: current.as_ref(), previous: previous.as_ref() }
}

impl OverallDashboard {
    /// The five areas, in the order of [`crate::assumed::DASHBOARD_AREAS`]: overall risk, data,
    /// vulnerability, secure baseline and compliance.
    pub fn areas(&self) -> [AreaGrades<'_>; 5] {
        [
            area_grades("or", "Overall risk", &self.current_or_grade, &self.previous_or_grade),
            area_grades("ds", "Data", &self.current_ds_grade, &self.previous_ds_grade),
            area_grades("vn", "Vulnerability", &self.current_vn_grade, &self.previous_vn_grade),
            area_grades("sb", "Secure baseline", &self.current_sb_grade, &self.previous_sb_grade),
            area_grades("cp", "Compliance", &self.current_cp_grade, &self.previous_cp_grade),
        ]
    }

    /// The grades of one area by its wire key (`or`, `ds`, `vn`, `sb`, `cp`; any case).
    pub fn area(&self, key: &str) -> Option<AreaGrades<'_>> {
        self.areas().into_iter().find(|area| area.key.eq_ignore_ascii_case(key.trim()))
    }
}

model! {
    /// The answer of `GET /partner/dashboards/data` \[ASSUMED shape\].
    pub struct DataDashboard {
        /// The grade of the current period, `None` until a data scan happens in it.
        pub current_grade: Option<Grade> => "current_grade" | "currentGrade",
        /// The grade of the previous period.
        pub previous_grade: Option<Grade> => "previous_grade" | "previousGrade",
        /// `monthly` or `quarterly`.
        pub grading_period: Option<GradingPeriod> => "grading_period" | "gradingPeriod",
        /// How many files hold sensitive data.
        pub sensitive_files: Option<u64> => "sensitive_files" | "sensitiveFiles",
    }
}

model! {
    /// The answer of `GET /partner/dashboards/baseline` \[ASSUMED shape\].
    pub struct BaselineDashboard {
        /// The grade of the current period, `None` until a baseline scan happens in it.
        pub current_grade: Option<Grade> => "current_grade" | "currentGrade",
        /// The grade of the previous period.
        pub previous_grade: Option<Grade> => "previous_grade" | "previousGrade",
        /// `monthly` or `quarterly`.
        pub grading_period: Option<GradingPeriod> => "grading_period" | "gradingPeriod",
        /// The checked targets and their grades.
        pub targets: Vec<BaselineTarget> => "targets",
    }
}

model! {
    /// A target of the baseline dashboard: its name and grade \[ASSUMED shape\].
    pub struct BaselineTarget {
        /// The target's name (a host name, say).
        pub name: Option<String> => "name",
        /// The target's grade; `None` when empty.
        pub grade: Option<Grade> => "grade",
    }
}

model! {
    /// The answer of `GET /partner/dashboards/vulnerability` \[ASSUMED shape\].
    pub struct VulnerabilityDashboard {
        /// The grade of the current period, `None` until a vulnerability scan happens in it.
        pub current_grade: Option<Grade> => "current_grade" | "currentGrade",
        /// The grade of the previous period.
        pub previous_grade: Option<Grade> => "previous_grade" | "previousGrade",
        /// `monthly` or `quarterly`.
        pub grading_period: Option<GradingPeriod> => "grading_period" | "gradingPeriod",
        /// Critical findings.
        pub critical: Option<u64> => "critical",
        /// High findings.
        pub high: Option<u64> => "high",
        /// Medium findings.
        pub medium: Option<u64> => "medium",
        /// Low findings.
        pub low: Option<u64> => "low",
    }
}

// ---------------------------------------------------------------------------------------------
// CVE details [ASSUMED]
// ---------------------------------------------------------------------------------------------

model! {
    /// One CVE of `GET /partner/dashboards/vulnerability/cve` \[ASSUMED shape\].
    pub struct Cve {
        /// The CVE id (`CVE-2021-44228`).
        pub cve: String => "cve" | "cve_id" | "cveId",
        /// The CVE's title.
        pub title: Option<String> => "title",
        /// The CVSS score.
        pub score: Option<f64> => "score",
        /// `Critical`, `High`, `Medium`, `Low` or `Info`.
        pub risk_level: Option<RiskLevel> => "riskLevel" | "risk_level",
        /// How many assets it affects.
        pub affected_assets: Option<u64> => "affected_assets" | "affectedAssets",
        /// When it was first seen (a date string, kept as sent).
        pub first_seen: Option<String> => "first_seen" | "firstSeen",
    }
}

model! {
    /// The answer of `GET /partner/dashboards/vulnerability/cve` \[ASSUMED shape\].
    pub struct Cves {
        /// The CVEs (only the requested one when `cve_id` was given).
        pub cves: Vec<Cve> => "cves",
    }
}

impl Cves {
    /// The entry for one CVE id (compared case-insensitively).
    pub fn find(&self, cve_id: &str) -> Option<&Cve> {
        self.cves.iter().find(|cve| cve.cve.eq_ignore_ascii_case(cve_id.trim()))
    }
}

/// The models of this file, in the order of their Python classes: every `model!` above is listed
/// here (`types::tests` fails otherwise), and [`crate::types::MODELS`] joins the files' lists.
pub(super) const MODELS: &[&crate::wire::ModelSchema] = &[
    &VulnerabilityScan::SCHEMA,
    &VulnerabilityScans::SCHEMA,
    &ScanDetail::SCHEMA,
    &Asset::SCHEMA,
    &Vulnerability::SCHEMA,
    &OpenPort::SCHEMA,
    &Flaw::SCHEMA,
    &FlawInstance::SCHEMA,
    &DataScan::SCHEMA,
    &DataScans::SCHEMA,
    &BaselineScan::SCHEMA,
    &BaselineScans::SCHEMA,
    &BaselineTarget::SCHEMA,
    &OverallDashboard::SCHEMA,
    &DataDashboard::SCHEMA,
    &BaselineDashboard::SCHEMA,
    &VulnerabilityDashboard::SCHEMA,
    &Cve::SCHEMA,
    &Cves::SCHEMA,
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_key_is_found_without_parsing() {
        assert_eq!(first_key(b" { \"assets\": []}"), Some(&b"assets"[..]));
        assert_eq!(first_key(b"{\"a\\\"b\": 1}"), None);
        assert_eq!(first_key(b"{}"), None);
    }

    #[test]
    fn count_or_list_reads_counts_and_lists() {
        let count: CountOrList<String> = serde_json::from_str("3").unwrap();
        assert_eq!(count, CountOrList::Count(3));
        let count: CountOrList<String> = serde_json::from_str("\"4\"").unwrap();
        assert_eq!(count.count(), 4);
        let urls: CountOrList<String> =
            serde_json::from_str(r#"["https://a.example/", "https://b.example/x"]"#).unwrap();
        assert_eq!(urls.count(), 2);
        assert_eq!(serde_json::to_string(&urls).unwrap(), r#"["https://a.example/","https://b.example/x"]"#);
        let one: CountOrList<String> = serde_json::from_str("\"https://a.example/\"").unwrap();
        assert_eq!(one.items(), ["https://a.example/".to_owned()]);
        let target: CountOrList<BaselineTarget> = serde_json::from_str(r#"{"name": "dc01", "grade": "B"}"#).unwrap();
        assert_eq!(target.items()[0].grade, Some(Grade::B));
        assert!(serde_json::from_str::<CountOrList<String>>("-1").is_err());
        assert!(serde_json::from_str::<CountOrList<BaselineTarget>>("\"dc01\"").is_err());
    }
}
