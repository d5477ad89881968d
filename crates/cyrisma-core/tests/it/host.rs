//! Instance host validation: unit cases, the bypass corpus and generated hosts.

use cyrisma_core::host::HostError;
use cyrisma_core::{BaseUrl, HostPolicy};
use proptest::prelude::*;

fn central() -> BaseUrl {
    BaseUrl::central("https://api.cyrisma.com/app").unwrap()
}

fn policy() -> HostPolicy {
    HostPolicy::for_central(&central()).unwrap()
}

/// Whether a string is a lower-case ASCII DNS name: labels of 1 to 63 `[a-z0-9-]`, at most 253.
fn is_dns_name(host: &str) -> bool {
    host.len() <= 253
        && host.split('.').all(|label| {
            (1..=63).contains(&label.len())
                && label.bytes().all(|byte| byte.is_ascii_lowercase() || byte.is_ascii_digit() || byte == b'-')
        })
}

/// The properties every accepted host must have.
fn assert_safe(raw: &str, host: &cyrisma_core::InstanceHost) {
    let name = host.as_str();
    assert!(name.is_ascii() && name == name.to_ascii_lowercase(), "{raw:?} -> {name:?}");
    assert!(is_dns_name(name), "{raw:?} -> {name:?}");
    assert!(name.ends_with(".cyrisma.com"), "a strict sub-domain: {raw:?} -> {name:?}");
    let base = central().instance(host);
    assert_eq!(base.host(), name);
    // The URL a transport builds really targets that host, with the central scheme and port.
    let uri: http::Uri = format!("{}/partner/scans/data", base.as_str()).parse().unwrap();
    assert_eq!(uri.host(), Some(name), "{raw:?}");
    assert_eq!(uri.port_u16(), None);
    assert_eq!(uri.scheme_str(), Some("https"));
}

#[test]
fn accepts_and_normalises_instance_hosts() {
    let policy = policy();
    let cases = [
        ("cc123456.cyrisma.com", "cc123456.cyrisma.com"),
        ("CC123456.CYRISMA.COM", "cc123456.cyrisma.com"),
        ("https://cc123456.cyrisma.com/app", "cc123456.cyrisma.com"),
        ("HTTPS://cc123456.cyrisma.com", "cc123456.cyrisma.com"),
        ("http://cc123456.cyrisma.com/", "cc123456.cyrisma.com"),
        ("cc123456.cyrisma.com/app/partner", "cc123456.cyrisma.com"),
        ("cc123456.cyrisma.com?x=1", "cc123456.cyrisma.com"),
        ("cc123456.cyrisma.com/next=https://x", "cc123456.cyrisma.com"),
        ("cc1.cyrisma.com.", "cc1.cyrisma.com"),
        ("a.b.c.cyrisma.com", "a.b.c.cyrisma.com"),
        ("eu-1.cyrisma.com", "eu-1.cyrisma.com"),
        ("ｃｃ１.cyrisma.com", "cc1.cyrisma.com"),
    ];
    for (raw, expected) in cases {
        let host = policy.validate(raw).unwrap_or_else(|error| panic!("{raw:?}: {error}"));
        assert_eq!(host.as_str(), expected, "{raw:?}");
        assert_safe(raw, &host);
    }
}

#[test]
fn refuses_malformed_hosts_with_a_precise_reason() {
    let policy = policy();
    let host = |text: &str| text.to_owned();
    let cases = [
        ("", HostError::Empty),
        ("https://", HostError::Empty),
        ("https:///cc1.cyrisma.com", HostError::Empty),
        (".", HostError::Empty),
        ("ftp://cc1.cyrisma.com", HostError::UnsupportedScheme { host: host("ftp://cc1.cyrisma.com") }),
        ("javascript://cc1.cyrisma.com", HostError::UnsupportedScheme { host: host("javascript://cc1.cyrisma.com") }),
        (" cc1.cyrisma.com", HostError::ForbiddenCharacter { host: host(" cc1.cyrisma.com"), character: ' ' }),
        ("cc1.cyrisma.com\n", HostError::ForbiddenCharacter { host: host("cc1.cyrisma.com"), character: '\n' }),
        ("cc1%2ecyrisma.com", HostError::ForbiddenCharacter { host: host("cc1%2ecyrisma.com"), character: '%' }),
        (
            "cc1\u{200B}.cyrisma.com",
            HostError::ForbiddenCharacter { host: host("cc1.cyrisma.com"), character: '\u{200B}' },
        ),
        ("cc1\u{AD}.cyrisma.com", HostError::ForbiddenCharacter { host: host("cc1.cyrisma.com"), character: '\u{AD}' }),
        ("user:pw@cc1.cyrisma.com", HostError::Userinfo { host: host("user:pw@cc1.cyrisma.com") }),
        ("cc1.cyrisma.com:443", HostError::Port { host: host("cc1.cyrisma.com:443") }),
        ("cc1.cyrisma.com:", HostError::Port { host: host("cc1.cyrisma.com:") }),
        ("fe80::1", HostError::IpLiteral { host: host("fe80::1") }),
        ("10.0.0.1", HostError::IpLiteral { host: host("10.0.0.1") }),
        ("0177.0.0.1", HostError::IpLiteral { host: host("0177.0.0.1") }),
        ("１２７.０.０.１", HostError::IpLiteral { host: host("１２７.０.０.１") }),
        ("cc1.cyrisma.123", HostError::IpLiteral { host: host("cc1.cyrisma.123") }),
        ("xn--zz.cyrisma.com", HostError::Idna { host: host("xn--zz.cyrisma.com") }),
        (".cyrisma.com", HostError::EmptyLabel { host: host(".cyrisma.com") }),
        ("cc1.cyrisma.com..", HostError::EmptyLabel { host: host("cc1.cyrisma.com..") }),
        ("cc_1.cyrisma.com", HostError::LabelCharacters { host: host("cc_1.cyrisma.com") }),
        ("cc*.cyrisma.com", HostError::LabelCharacters { host: host("cc*.cyrisma.com") }),
        ("cc1＠evil.test", HostError::LabelCharacters { host: host("cc1＠evil.test") }),
        ("evil.test／.cyrisma.com", HostError::LabelCharacters { host: host("evil.test／.cyrisma.com") }),
    ];
    for (raw, expected) in cases {
        assert_eq!(policy.validate(raw), Err(expected), "{raw:?}");
    }
    let long_label = format!("{}.cyrisma.com", "a".repeat(64));
    assert!(matches!(policy.validate(&long_label), Err(HostError::LabelTooLong { .. })));
    let max_label = format!("{}.cyrisma.com", "a".repeat(63));
    assert!(policy.validate(&max_label).is_ok());
    let long_name = format!("{}cyrisma.com", "abcdefghi.".repeat(25));
    assert!(matches!(policy.validate(&long_name), Err(HostError::TooLong { .. })), "{}", long_name.len());
    let huge = "a".repeat(100_000);
    assert!(matches!(policy.validate(&huge), Err(HostError::TooLong { .. })));
}

#[test]
fn bypass_corpus_is_refused() {
    let policy = policy();
    let corpus = [
        "cyrisma.com.evil.test",
        "cyrisma.com.evil.test.",
        "cc1.cyrisma.com.evil.test",
        "evilcyrisma.com",
        "evil-cyrisma.com",
        "cyrisma.comevil.test",
        "x@evil.test",
        "cc1.cyrisma.com@evil.test",
        "evil.test#.cyrisma.com",
        "evil.test?.cyrisma.com",
        "evil.test/.cyrisma.com",
        "https://evil.test/cc1.cyrisma.com",
        "127.0.0.1",
        "127.0.0.1.",
        "[::1]",
        "[::1]:443",
        "::1",
        "::ffff:127.0.0.1",
        "0x7f000001",
        "2130706433",
        "127.1",
        "%2e",
        "cc1%2ecyrisma%2ecom",
        "cc1.cyrisma.com:8443",
        "cc1..cyrisma.com",
        "cc1.cyrisma.com..",
        "cc1.cyrisma.com\\@evil.test",
        "cc1.cyrisma.com\\.evil.test",
        "сс123.суrisma.com",
        "cc123.суrisma.com",
        "cc123.cyrisma.сom",
        "cc1.cyrisma.com\u{202E}tset.live",
        "cc1.cyrisma.com\u{0}.evil.test",
        "cc1.cyrisma.com evil.test",
        "evil.test\tcc1.cyrisma.com",
        "cc1.cyrisma.com。evil。test",
        "localhost",
        "",
    ];
    let accepted: Vec<_> = corpus.iter().filter(|raw| policy.validate(raw).is_ok()).collect();
    assert!(accepted.is_empty(), "accepted: {accepted:?}");
}

#[test]
fn the_trailing_dot_is_normalised_away_once() {
    let policy = policy();
    assert_eq!(policy.validate("cc1.cyrisma.com.").unwrap().as_str(), "cc1.cyrisma.com");
    assert!(matches!(policy.validate("cyrisma.com."), Err(HostError::BareAllowedDomain { .. })));
    assert!(policy.validate("cyrisma.com.evil.test.").is_err());
    assert!(policy.validate("evil.test.cyrisma.com..").is_err());
}

#[test]
fn the_bare_allowed_domain_is_no_instance_host() {
    let policy = policy();
    for raw in ["cyrisma.com", "CYRISMA.COM", "https://cyrisma.com/app", "cyrisma.com.", "ｃｙｒｉｓｍａ.com"] {
        let error = policy.validate(raw).unwrap_err();
        assert!(matches!(error, HostError::BareAllowedDomain { .. }), "{raw:?}: {error:?}");
        assert!(error.to_string().contains("the allowed domain itself"), "{error}");
    }
    assert!(policy.validate("cc1.cyrisma.com").is_ok());
}

#[test]
fn homoglyphs_become_punycode_and_fall_outside_the_domain() {
    let error = policy().validate("сс123.суrisma.com").unwrap_err();
    let HostError::OutsideAllowedDomain { host, allowed_domain } = &error else {
        panic!("{error:?}");
    };
    assert!(host.starts_with("xn--") && host.contains(".xn--"), "{host}");
    assert_eq!(allowed_domain, "cyrisma.com");
    assert!(error.to_string().contains("configure the allowed domain"), "{error}");
}

#[test]
fn the_allowed_domain_follows_the_central_host() {
    let cases = [
        ("https://api.cyrisma.com/app", "cyrisma.com"),
        ("https://api.cyrisma.test:8443/app", "cyrisma.test"),
        ("https://API.EU.Cyrisma.com./app", "eu.cyrisma.com"),
    ];
    for (url, expected) in cases {
        let policy = HostPolicy::for_central(&BaseUrl::central(url).unwrap()).unwrap();
        assert_eq!(policy.allowed_domain(), expected, "{url}");
    }
    let test_policy = HostPolicy::for_central(&BaseUrl::central("http://api.cyrisma.test/app").unwrap()).unwrap();
    assert!(test_policy.validate("cc123456.cyrisma.test").is_ok());
    assert!(test_policy.validate("cc123456.cyrisma.com").is_err());
}

#[test]
fn no_allowed_domain_is_derived_from_ip_or_single_label_central_hosts() {
    for url in ["http://127.0.0.1:8080/app", "http://[::1]:8080/app", "http://2130706433/app"] {
        let error = HostPolicy::for_central(&BaseUrl::central(url).unwrap()).unwrap_err();
        assert!(matches!(error, HostError::CentralHostIsIp { .. }), "{url}: {error:?}");
        assert!(error.to_string().contains("configure the allowed domain explicitly"), "{error}");
    }
    for url in ["http://localhost:8080/app", "https://cyrisma.com/app"] {
        let error = HostPolicy::for_central(&BaseUrl::central(url).unwrap()).unwrap_err();
        assert!(matches!(error, HostError::CentralHostWithoutParent { .. }), "{url}: {error:?}");
        assert!(error.to_string().contains("configure the allowed domain explicitly"), "{error}");
    }
}

#[test]
fn explicit_allowed_domains_are_validated() {
    assert_eq!(HostPolicy::new("Cyrisma.COM.").unwrap().allowed_domain(), "cyrisma.com");
    assert_eq!(HostPolicy::new("cyrisma.test").unwrap().allowed_domain(), "cyrisma.test");
    for too_broad in ["com", "localhost", "test."] {
        let error = HostPolicy::new(too_broad).unwrap_err();
        assert!(matches!(error, HostError::AllowedDomainTooBroad { .. }), "{too_broad}: {error:?}");
    }
    for bad in ["", "127.0.0.1", "[::1]", "x@cyrisma.com", "cyrisma..com", "cyrisma.com:443", "*.cyrisma.com"] {
        let error = HostPolicy::new(bad).unwrap_err();
        assert!(matches!(error, HostError::InvalidAllowedDomain { .. }), "{bad:?}: {error:?}");
    }
    let policy = HostPolicy::new("cyrisma.com").unwrap();
    assert!(policy.validate("cc1.cyrisma.com").is_ok());
}

#[test]
fn error_messages_are_lower_case_sanitised_and_actionable() {
    let policy = policy();
    let errors = [
        policy.validate("cc1.cyrisma.com\u{1b}[31m").unwrap_err(),
        policy.validate("evil.test").unwrap_err(),
        policy.validate("127.1").unwrap_err(),
        HostPolicy::new("127.0.0.1").unwrap_err(),
        HostPolicy::new("com").unwrap_err(),
    ];
    for error in errors {
        let message = error.to_string();
        assert!(message.starts_with(|ch: char| ch.is_lowercase()), "{message}");
        assert!(!message.ends_with('.'), "{message}");
        assert!(!message.chars().any(char::is_control), "{message:?}");
    }
    insta::assert_snapshot!(
        "host_error_messages",
        [
            policy.validate("cc1.cyrisma.com\u{1b}[31m").unwrap_err().to_string(),
            policy.validate("evil.test").unwrap_err().to_string(),
            policy.validate("cc1.cyrisma.com:8443").unwrap_err().to_string(),
            policy.validate("x@evil.test").unwrap_err().to_string(),
            policy.validate("0x7f000001").unwrap_err().to_string(),
            HostPolicy::new("127.0.0.1").unwrap_err().to_string(),
            HostPolicy::new("com").unwrap_err().to_string(),
            HostPolicy::for_central(&BaseUrl::central("http://localhost:8080/app").unwrap()).unwrap_err().to_string(),
        ]
        .join("\n")
    );
}

/// Pieces the near-miss generator assembles hosts from.
fn piece() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => "[a-z0-9-]{1,12}",
        2 => Just("cyrisma.com".to_owned()),
        1 => Just("cyrisma".to_owned()),
        1 => Just("com".to_owned()),
        1 => Just("evil.test".to_owned()),
        1 => Just("CYRISMA.COM".to_owned()),
        1 => "[0-9]{1,10}",
        1 => "0x[0-9a-f]{1,8}",
        1 => "\\PC{1,4}",
        1 => prop::sample::select(vec!["с", "у", "ｃ", "．", "。", "xn--", "-", "_", "%2e", "ı", "ß"]).prop_map(str::to_owned),
    ]
}

/// Separators between pieces.
fn separator() -> impl Strategy<Value = &'static str> {
    prop::sample::select(vec![
        ".", ".", ".", ".", "", "..", "@", ":", "/", "\\", "#", "?", "%2e", "。", "．", " ", ":443/",
    ])
}

/// Hosts that look almost right: random labels and separators, the allowed domain at random
/// positions, random unicode, optional scheme and trailing dot.
fn near_miss() -> impl Strategy<Value = String> {
    (
        prop::sample::select(vec!["", "", "https://", "http://", "HTTPS://", "ftp://", "//"]),
        prop::collection::vec((piece(), separator()), 1..6),
        prop::sample::select(vec!["", "", ".", "..", "/app", ":8443", "."]),
        any::<bool>(),
    )
        .prop_map(|(scheme, parts, tail, end_with_domain)| {
            let mut host = scheme.to_owned();
            for (index, (piece, separator)) in parts.iter().enumerate() {
                host.push_str(piece);
                if index + 1 < parts.len() || end_with_domain {
                    host.push_str(separator);
                }
            }
            if end_with_domain {
                host.push_str("cyrisma.com");
            }
            host.push_str(tail);
            host
        })
}

#[test]
fn the_near_miss_generator_reaches_both_outcomes() {
    // The generated properties are implications ("accepted => safe"): make sure the generator
    // really produces accepted hosts, not only refused ones.
    use proptest::strategy::ValueTree;
    use proptest::test_runner::TestRunner;
    let mut runner = TestRunner::deterministic();
    let strategy = near_miss();
    let policy = policy();
    let accepted =
        (0..2_000).filter(|_| policy.validate(&strategy.new_tree(&mut runner).unwrap().current()).is_ok()).count();
    assert!((20..1_000).contains(&accepted), "{accepted} of 2000 accepted");
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(10_000))]

    #[test]
    fn arbitrary_strings_are_safe_when_accepted(raw in "\\PC{0,40}|.{0,40}") {
        if let Ok(host) = policy().validate(&raw) {
            assert_safe(&raw, &host);
        }
    }

    #[test]
    fn near_miss_hosts_are_safe_when_accepted(raw in near_miss()) {
        if let Ok(host) = policy().validate(&raw) {
            assert_safe(&raw, &host);
        }
    }

    #[test]
    fn real_looking_instance_hosts_are_accepted(digits in "[0-9]{6}", upper in any::<bool>(), scheme in any::<bool>()) {
        let mut raw = format!("cc{digits}.cyrisma.com");
        if upper {
            raw = raw.to_ascii_uppercase();
        }
        if scheme {
            raw = format!("https://{raw}/app");
        }
        let host = policy().validate(&raw).unwrap();
        prop_assert_eq!(host.as_str(), format!("cc{digits}.cyrisma.com"));
    }
}
