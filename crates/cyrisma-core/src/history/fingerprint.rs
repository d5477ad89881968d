//! A finding's stable identity: a hash of who, where and what, never of how bad or when.
//!
//! The fingerprint is SHA-256, truncated to 128 bits, over a version tag and five fields, each
//! prefixed with its length in bytes (so `"ab" + "c"` and `"a" + "bc"` never hash alike):
//!
//! 1. the instance id;
//! 2. the asset identity: `id:<asset id>`, else `ip:<normalised address>`, else
//!    `url:<normalised URL>` (see [`AssetIdentity`]);
//! 3. the scan class (the scan type: [`ScanClass`]);
//! 4. the finding kind (`vulnerability`, `open_port`, `web_flaw`);
//! 5. the rule: the CVE (upper-cased), the port (with its protocol when the server sends one), or
//!    the web flaw's alert reference (else its alert id).
//!
//! Severity, score, title, description, first-seen dates and scan ids are never part of it: they
//! change between scans of the same finding, and a volatile field in the identity is how other
//! tools end up with duplicates on every reimport.
//!
//! A vulnerability without a CVE, a port without a number or a flaw without a reference has an
//! empty rule: all such findings of one kind on one asset share one identity.

use std::borrow::Cow;
use std::fmt;
use std::net::IpAddr;

use sha2::{Digest, Sha256};

use crate::types::ScanType;

/// The tag hashed before the fields; a change of the rules above changes it.
const VERSION_TAG: &[u8] = b"cyrisma-finding-v1";

/// A finding's stable identity (128 bits), shown and stored as 32 lower-case hex digits.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Fingerprint([u8; 16]);

impl Fingerprint {
    /// The fingerprint of one finding.
    pub fn of(input: &FingerprintInput<'_>) -> Self {
        AssetFingerprints::new(input.instance_id, &input.asset.key(), &input.scan_class).of(input.kind, input.rule)
    }

    /// The 16 bytes.
    pub fn as_bytes(&self) -> &[u8; 16] {
        &self.0
    }

    /// Reads 32 hex digits (either case); `None` for anything else.
    pub fn from_hex(text: &str) -> Option<Self> {
        Self::from_hex_bytes(text.as_bytes())
    }

    /// [`Fingerprint::from_hex`] of the digits as bytes (a column's bytes, with no `str` check).
    pub fn from_hex_bytes(text: &[u8]) -> Option<Self> {
        if text.len() != 32 {
            return None;
        }
        // Table lookups rather than branches: fingerprints are random digits, which make
        // branches on the digit's range mispredict about once in three.
        let (mut bytes, mut invalid) = ([0; 16], 0);
        for (byte, pair) in bytes.iter_mut().zip(text.chunks_exact(2)) {
            let (high, low) = (HEX_DIGITS[usize::from(pair[0])], HEX_DIGITS[usize::from(pair[1])]);
            invalid |= high | low;
            *byte = (high << 4) | (low & 0x0f);
        }
        (invalid & 0xf0 == 0).then_some(Self(bytes))
    }

    /// The 32 lower-case hex digits.
    pub fn to_hex(&self) -> String {
        hex::encode(self.0)
    }

    /// [`Fingerprint::to_hex`]'s digits as ASCII bytes, without allocating (for encoders that
    /// write millions of them).
    pub fn hex_digits(&self) -> [u8; 32] {
        // Two digits per byte from a table: `hex::encode_to_slice` checks and converts each
        // nibble apart, which showed in a snapshot's profile (half a million fingerprints).
        let mut digits = [0; 32];
        for (pair, byte) in digits.chunks_exact_mut(2).zip(self.0) {
            pair.copy_from_slice(&HEX_PAIRS[usize::from(byte)]);
        }
        digits
    }
}

impl From<[u8; 16]> for Fingerprint {
    /// A fingerprint from its 16 bytes (as stored elsewhere, or made up by a test).
    fn from(bytes: [u8; 16]) -> Self {
        Self(bytes)
    }
}

/// Each byte's two lower-case hex digits.
const HEX_PAIRS: [[u8; 2]; 256] = {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut table = [[0; 2]; 256];
    let mut byte = 0;
    while byte < 256 {
        table[byte] = [DIGITS[byte >> 4], DIGITS[byte & 0x0f]];
        byte += 1;
    }
    table
};

/// The value of each byte as a hex digit (either case), 0xff for a byte that is not one.
const HEX_DIGITS: [u8; 256] = {
    let mut table = [0xff; 256];
    let mut digit = 0;
    while digit < 16 {
        let value = digit as u8;
        if digit < 10 {
            table[b'0' as usize + digit] = value;
        } else {
            table[b'a' as usize + digit - 10] = value;
            table[b'A' as usize + digit - 10] = value;
        }
        digit += 1;
    }
    table
};

impl fmt::Display for Fingerprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_hex())
    }
}

impl fmt::Debug for Fingerprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Fingerprint({})", self.to_hex())
    }
}

/// The fingerprints of the findings on one asset from scans of one class: the fields they share
/// (the version tag, the instance, the asset and the scan class) are hashed once, and each
/// finding hashes only its kind and rule. `AssetFingerprints::new(i, &asset.key(), &c).of(k, r)`
/// is [`Fingerprint::of`] of those fields.
#[derive(Clone)]
pub struct AssetFingerprints {
    shared: Sha256,
}

impl AssetFingerprints {
    /// The shared fields: the instance id, the asset's [`AssetIdentity::key`] and the scan class.
    pub fn new(instance_id: &str, asset_key: &str, scan_class: &ScanClass) -> Self {
        let mut shared = Sha256::new();
        shared.update(VERSION_TAG);
        for field in [instance_id, asset_key, scan_class.as_str()] {
            field_into(&mut shared, field);
        }
        Self { shared }
    }

    /// The fingerprint of the finding of `kind` with `rule` (normalised by [`FindingKind::rule`]).
    pub fn of(&self, kind: FindingKind, rule: &str) -> Fingerprint {
        let mut hasher = self.shared.clone();
        field_into(&mut hasher, kind.as_str());
        field_into(&mut hasher, rule);
        let digest = hasher.finalize();
        let mut bytes = [0; 16];
        bytes.copy_from_slice(&digest[..16]);
        Fingerprint(bytes)
    }
}

impl fmt::Debug for AssetFingerprints {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("AssetFingerprints")
    }
}

/// One field, prefixed with its length in bytes.
fn field_into(hasher: &mut Sha256, field: &str) {
    hasher.update((field.len() as u64).to_le_bytes());
    hasher.update(field.as_bytes());
}

/// The fields a fingerprint is made of.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FingerprintInput<'a> {
    /// The instance id.
    pub instance_id: &'a str,
    /// Which asset.
    pub asset: AssetIdentity,
    /// Which class of scan found it.
    pub scan_class: ScanClass,
    /// What kind of finding.
    pub kind: FindingKind,
    /// The rule, already normalised by [`FindingKind::rule`].
    pub rule: &'a str,
}

/// Which asset a finding is on: the asset id when the server sends one, else its normalised IP
/// address, else its normalised URL (web application scans).
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum AssetIdentity {
    /// The server's asset id (trimmed).
    Id(String),
    /// The asset's IP address, in canonical form (IPv4-mapped IPv6 addresses as IPv4).
    Ip(IpAddr),
    /// The asset's URL: scheme and host lower-cased, default port, query and fragment dropped,
    /// no trailing `/`.
    Url(String),
    /// Nothing identifies the asset.
    Unknown,
}

impl AssetIdentity {
    /// The identity from what an asset carries: the first of asset id, IP address and URL that is
    /// present and not empty. An address that does not parse as an IP is taken as a URL or host.
    pub fn of(asset_id: Option<&str>, address: Option<&str>, url: Option<&str>) -> Self {
        if let Some(id) = asset_id.map(str::trim).filter(|id| !id.is_empty()) {
            return Self::Id(id.to_owned());
        }
        if let Some(address) = address.map(str::trim).filter(|address| !address.is_empty()) {
            return match normalise_ip(address) {
                Some(ip) => Self::Ip(ip),
                None => Self::Url(normalise_url(address)),
            };
        }
        match url.map(str::trim).filter(|url| !url.is_empty()) {
            Some(url) => match normalise_ip(url) {
                Some(ip) => Self::Ip(ip),
                None => Self::Url(normalise_url(url)),
            },
            None => Self::Unknown,
        }
    }

    /// Reads back what [`AssetIdentity::key`] wrote.
    pub fn from_key(key: &str) -> Self {
        if let Some(id) = key.strip_prefix("id:") {
            Self::Id(id.to_owned())
        } else if let Some(ip) = key.strip_prefix("ip:").and_then(|ip| ip.parse().ok()) {
            Self::Ip(ip)
        } else if let Some(url) = key.strip_prefix("url:") {
            Self::Url(url.to_owned())
        } else {
            Self::Unknown
        }
    }

    /// The identity as one string (`id:…`, `ip:…`, `url:…` or `none`), as hashed and as stored in
    /// the dataset's `asset_key` column.
    pub fn key(&self) -> String {
        // Concatenated rather than `format!`ted: a snapshot makes one per asset of every scan.
        let prefixed = |prefix: &str, text: &str| {
            let mut key = String::with_capacity(prefix.len() + text.len());
            key.push_str(prefix);
            key.push_str(text);
            key
        };
        match self {
            Self::Id(id) => prefixed("id:", id),
            Self::Ip(ip) => format!("ip:{ip}"),
            Self::Url(url) => prefixed("url:", url),
            Self::Unknown => "none".to_owned(),
        }
    }
}

/// An IP address in canonical form, with surrounding brackets tolerated; `None` when it is not one.
pub fn normalise_ip(text: &str) -> Option<IpAddr> {
    let text = text.trim();
    let text = text.strip_prefix('[').and_then(|rest| rest.strip_suffix(']')).unwrap_or(text);
    let ip: IpAddr = text.parse().ok()?;
    Some(match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(IpAddr::V6(v6), IpAddr::V4),
        v4 => v4,
    })
}

/// A URL (or bare host) in the form findings are matched on: scheme and host lower-cased, the
/// scheme's default port dropped, query and fragment dropped, and no trailing `/`. Text that is
/// not a URL is only trimmed and lower-cased.
pub fn normalise_url(text: &str) -> String {
    let text = text.trim();
    let without_fragment = text.split('#').next().unwrap_or(text);
    let without_query = without_fragment.split('?').next().unwrap_or(without_fragment);
    let Some((scheme, rest)) = without_query.split_once("://") else {
        return without_query.trim_end_matches('/').to_ascii_lowercase();
    };
    let scheme = scheme.to_ascii_lowercase();
    let (authority, path) = match rest.find('/') {
        Some(slash) => rest.split_at(slash),
        None => (rest, ""),
    };
    let authority = authority.rsplit_once('@').map_or(authority, |(_, host)| host).to_ascii_lowercase();
    let default_port = match scheme.as_str() {
        "http" => Some(":80"),
        "https" => Some(":443"),
        _ => None,
    };
    let authority = match default_port {
        Some(port) => authority.strip_suffix(port).unwrap_or(&authority).to_owned(),
        None => authority,
    };
    let path = path.trim_end_matches('/');
    format!("{scheme}://{authority}{path}")
}

/// The class of scan that found a finding: its scan type. A finding is only called fixed when a
/// later scan of the same class covered its asset (an unauthenticated scan cannot see what an
/// authenticated one found).
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ScanClass(String);

impl ScanClass {
    /// The class of a scan type: `internal_authenticated`, `external_ip`,
    /// `internal_unauthenticated`, `external_web_application`, `type_<code>` for a type the
    /// contract does not list, `unknown` when no type was sent.
    pub fn of(scan_type: Option<&ScanType>) -> Self {
        Self(match scan_type {
            Some(ScanType::InternalAuthenticated) => "internal_authenticated".to_owned(),
            Some(ScanType::ExternalIp) => "external_ip".to_owned(),
            Some(ScanType::InternalUnauthenticated) => "internal_unauthenticated".to_owned(),
            Some(ScanType::ExternalWebApplication) => "external_web_application".to_owned(),
            Some(ScanType::Unknown(code)) => format!("type_{}", code.trim()),
            None => "unknown".to_owned(),
        })
    }

    /// A class read back from the dataset.
    pub fn from_name(name: &str) -> Self {
        Self(name.to_owned())
    }

    /// The class's name.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// What kind of finding.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum FindingKind {
    /// A vulnerability (rule: its CVE).
    Vulnerability,
    /// An open port (rule: the port, and its protocol when sent).
    OpenPort,
    /// A web application flaw (rule: its alert reference, else its alert id).
    WebFlaw,
}

impl FindingKind {
    /// The name used in rows: `vulnerability`, `open_port`, `web_flaw`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Vulnerability => "vulnerability",
            Self::OpenPort => "open_port",
            Self::WebFlaw => "web_flaw",
        }
    }

    /// The kind of a row's `kind` column.
    pub fn from_name(name: &str) -> Option<Self> {
        match name {
            "vulnerability" => Some(Self::Vulnerability),
            "open_port" => Some(Self::OpenPort),
            "web_flaw" => Some(Self::WebFlaw),
            _ => None,
        }
    }

    /// The normalised rule of a finding of this kind, from its raw identifier (the CVE, the port
    /// number, the alert reference or id): trimmed; CVEs upper-cased; ports as `443` or
    /// `443/udp` (leading zeros dropped, protocol lower-cased).
    pub fn rule(self, raw: Option<&str>) -> String {
        self.rule_of(raw).into_owned()
    }

    /// [`FindingKind::rule`], borrowed from `raw` when normalising changes nothing (most rules).
    pub fn rule_of(self, raw: Option<&str>) -> Cow<'_, str> {
        let raw = raw.unwrap_or("").trim();
        match self {
            Self::Vulnerability if raw.bytes().any(|byte| byte.is_ascii_lowercase()) => {
                Cow::Owned(raw.to_ascii_uppercase())
            }
            Self::Vulnerability | Self::WebFlaw => Cow::Borrowed(raw),
            Self::OpenPort => {
                let (port, protocol) = raw.split_once('/').unwrap_or((raw, ""));
                let port = port.trim();
                let port = if !port.is_empty() && port.bytes().all(|byte| byte.is_ascii_digit()) {
                    let stripped = port.trim_start_matches('0');
                    if stripped.is_empty() { "0" } else { stripped }
                } else {
                    port
                };
                let protocol = protocol.trim().to_ascii_lowercase();
                if protocol.is_empty() { Cow::Borrowed(port) } else { Cow::Owned(format!("{port}/{protocol}")) }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_normalise_to_one_form() {
        assert_eq!(normalise_url("HTTPS://Shop.Example.com:443/Login/?next=1#top"), "https://shop.example.com/Login");
        assert_eq!(normalise_url("http://a.example:8080/"), "http://a.example:8080");
        assert_eq!(normalise_url("https://user@a.example/x"), "https://a.example/x");
        assert_eq!(normalise_url("Host.Example/"), "host.example");
    }

    #[test]
    fn ips_normalise_to_one_form() {
        assert_eq!(normalise_ip(" 10.0.0.1 "), Some("10.0.0.1".parse().unwrap()));
        assert_eq!(normalise_ip("::ffff:10.0.0.1"), Some("10.0.0.1".parse().unwrap()));
        assert_eq!(normalise_ip("[2001:DB8::1]"), Some("2001:db8::1".parse().unwrap()));
        assert_eq!(normalise_ip("shop.example"), None);
    }

    #[test]
    fn asset_identity_prefers_id_then_ip_then_url() {
        assert_eq!(AssetIdentity::of(Some(" a1 "), Some("10.0.0.1"), None), AssetIdentity::Id("a1".into()));
        assert_eq!(AssetIdentity::of(Some(""), Some("10.0.0.1"), None).key(), "ip:10.0.0.1");
        assert_eq!(AssetIdentity::of(None, None, Some("https://X.example/")).key(), "url:https://x.example");
        assert_eq!(AssetIdentity::of(None, None, None), AssetIdentity::Unknown);
        for identity in [
            AssetIdentity::Id("a:b".into()),
            AssetIdentity::Ip("10.0.0.2".parse().unwrap()),
            AssetIdentity::Url("https://x.example/a".into()),
            AssetIdentity::Unknown,
        ] {
            assert_eq!(AssetIdentity::from_key(&identity.key()), identity);
        }
    }

    #[test]
    fn rules_normalise() {
        assert_eq!(FindingKind::Vulnerability.rule(Some(" cve-2024-1 ")), "CVE-2024-1");
        assert_eq!(FindingKind::OpenPort.rule(Some("0443")), "443");
        assert_eq!(FindingKind::OpenPort.rule(Some("53/UDP")), "53/udp");
        assert_eq!(FindingKind::OpenPort.rule(None), "");
        assert_eq!(FindingKind::WebFlaw.rule(Some("10038-1")), "10038-1");
    }

    #[test]
    fn hex_round_trips() {
        let input = FingerprintInput {
            instance_id: "cc1",
            asset: AssetIdentity::Unknown,
            scan_class: ScanClass::of(None),
            kind: FindingKind::WebFlaw,
            rule: "",
        };
        let fingerprint = Fingerprint::of(&input);
        assert_eq!(Fingerprint::from_hex(&fingerprint.to_hex()), Some(fingerprint));
        assert_eq!(fingerprint.to_hex().len(), 32);
        assert_eq!(Fingerprint::from_hex("xyz"), None);
        // Either case reads; a wrong length or any non-hex digit anywhere does not.
        let upper = fingerprint.to_hex().to_uppercase();
        assert_eq!(Fingerprint::from_hex(&upper), Some(fingerprint));
        let all = "0123456789abcdefABCDEF0123456789";
        assert_eq!(Fingerprint::from_hex(all).map(|fp| fp.to_hex()), Some("0123456789abcdefabcdef0123456789".into()));
        for position in 0..32 {
            for bad in ["g", "G", " ", "/", ":", "@", "`", "é"] {
                let mut text = all.to_owned();
                text.replace_range(position..=position, bad);
                assert_eq!(Fingerprint::from_hex(&text), None, "{text}");
            }
        }
        assert_eq!(Fingerprint::from_hex(&all[..31]), None);
        assert_eq!(Fingerprint::from_hex(&format!("{all}0")), None);
    }
}
