//! Static tables the reporting generator draws from: real CVEs with realistic CVSS v3 base
//! scores, findings without a CVE, common open ports, web application alerts and baseline
//! benchmarks.

/// Where a finding is usually seen.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Seen {
    /// Inside the network (workstations, servers).
    Internal,
    /// On internet-facing hosts.
    External,
    /// Both.
    Both,
}

/// A vulnerability finding.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Finding {
    pub(crate) cve: Option<&'static str>,
    pub(crate) title: &'static str,
    pub(crate) score: f64,
    pub(crate) seen: Seen,
}

const fn cve(id: &'static str, title: &'static str, score: f64, seen: Seen) -> Finding {
    Finding { cve: Some(id), title, score, seen }
}

const fn plain(title: &'static str, score: f64, seen: Seen) -> Finding {
    Finding { cve: None, title, score, seen }
}

use Seen::{Both, External, Internal};

/// Findings, CVE-identified and not.
pub(crate) const FINDINGS: &[Finding] = &[
    cve("CVE-2021-44228", "Apache Log4j2 JNDI Remote Code Execution (Log4Shell)", 10.0, Both),
    cve("CVE-2021-45046", "Apache Log4j2 Thread Context Lookup Remote Code Execution", 9.0, Both),
    cve("CVE-2017-0144", "Microsoft SMBv1 Remote Code Execution (EternalBlue)", 8.1, Internal),
    cve("CVE-2019-0708", "Remote Desktop Services Remote Code Execution (BlueKeep)", 9.8, Both),
    cve("CVE-2020-1472", "Netlogon Elevation of Privilege (Zerologon)", 10.0, Internal),
    cve("CVE-2020-0796", "Microsoft SMBv3 Compression Remote Code Execution (SMBGhost)", 10.0, Internal),
    cve("CVE-2021-34527", "Windows Print Spooler Remote Code Execution (PrintNightmare)", 8.8, Internal),
    cve("CVE-2021-26855", "Microsoft Exchange Server Server-Side Request Forgery (ProxyLogon)", 9.1, External),
    cve("CVE-2021-34473", "Microsoft Exchange Server Remote Code Execution (ProxyShell)", 9.8, External),
    cve("CVE-2022-41040", "Microsoft Exchange Server Server-Side Request Forgery (ProxyNotShell)", 8.8, External),
    cve("CVE-2022-41082", "Microsoft Exchange Server Remote Code Execution", 8.8, External),
    cve("CVE-2022-26134", "Atlassian Confluence OGNL Injection Remote Code Execution", 9.8, External),
    cve("CVE-2023-23397", "Microsoft Outlook Elevation of Privilege", 9.8, Internal),
    cve("CVE-2023-4966", "Citrix NetScaler ADC Sensitive Information Disclosure (Citrix Bleed)", 7.5, External),
    cve("CVE-2019-19781", "Citrix ADC and Gateway Path Traversal", 9.8, External),
    cve("CVE-2023-20198", "Cisco IOS XE Web UI Privilege Escalation", 10.0, External),
    cve("CVE-2024-3400", "Palo Alto Networks PAN-OS GlobalProtect Command Injection", 10.0, External),
    cve("CVE-2023-34362", "Progress MOVEit Transfer SQL Injection", 9.8, External),
    cve("CVE-2022-30190", "Microsoft Support Diagnostic Tool Remote Code Execution (Follina)", 7.8, Internal),
    cve("CVE-2014-0160", "OpenSSL TLS Heartbeat Information Disclosure (Heartbleed)", 7.5, Both),
    cve("CVE-2014-3566", "SSLv3 Padding Oracle On Downgraded Legacy Encryption (POODLE)", 3.4, Both),
    cve("CVE-2016-2183", "SSL Medium Strength Cipher Suites Supported (SWEET32)", 7.5, Both),
    cve("CVE-2015-4000", "TLS Logjam Diffie-Hellman Downgrade", 3.7, Both),
    cve("CVE-2013-2566", "SSL RC4 Cipher Suites Supported (Bar Mitzvah)", 5.9, Both),
    cve("CVE-2023-44487", "HTTP/2 Rapid Reset Denial of Service", 7.5, External),
    cve("CVE-2023-48795", "SSH Terrapin Prefix Truncation Weakness", 5.9, Both),
    cve("CVE-2024-6387", "OpenSSH Signal Handler Race Condition Remote Code Execution (regreSSHion)", 8.1, Both),
    cve("CVE-2018-15473", "OpenSSH Username Enumeration", 5.3, External),
    cve("CVE-2021-41773", "Apache HTTP Server 2.4.49 Path Traversal", 7.5, External),
    cve("CVE-2021-42013", "Apache HTTP Server 2.4.50 Path Traversal Remote Code Execution", 9.8, External),
    cve("CVE-2019-11510", "Pulse Connect Secure Arbitrary File Read", 10.0, External),
    cve("CVE-2018-13379", "Fortinet FortiOS SSL VPN Path Traversal", 9.8, External),
    cve("CVE-2022-40684", "Fortinet FortiOS Authentication Bypass", 9.8, External),
    cve("CVE-2023-27997", "Fortinet FortiOS SSL-VPN Heap Buffer Overflow", 9.8, External),
    cve("CVE-2024-21762", "Fortinet FortiOS SSL VPN Out-of-Bounds Write", 9.8, External),
    cve("CVE-2024-21887", "Ivanti Connect Secure Command Injection", 9.1, External),
    cve("CVE-2023-46805", "Ivanti Connect Secure Authentication Bypass", 8.2, External),
    cve("CVE-2022-22965", "Spring Framework Data Binding Remote Code Execution (Spring4Shell)", 9.8, Both),
    cve("CVE-2017-5638", "Apache Struts 2 Jakarta Multipart Parser Remote Code Execution", 9.8, External),
    cve("CVE-2020-1938", "Apache Tomcat AJP File Read/Inclusion (Ghostcat)", 9.8, Both),
    cve("CVE-2022-0847", "Linux Kernel Pipe Buffer Privilege Escalation (Dirty Pipe)", 7.8, Internal),
    cve("CVE-2021-4034", "Polkit pkexec Local Privilege Escalation (PwnKit)", 7.8, Internal),
    cve("CVE-2021-3156", "Sudo Heap-Based Buffer Overflow (Baron Samedit)", 7.8, Internal),
    cve("CVE-2023-36884", "Microsoft Office and Windows HTML Remote Code Execution", 8.8, Internal),
    cve("CVE-2023-21716", "Microsoft Word RTF Remote Code Execution", 9.8, Internal),
    cve("CVE-2022-37969", "Windows Common Log File System Driver Elevation of Privilege", 7.8, Internal),
    cve("CVE-2023-28252", "Windows Common Log File System Driver Elevation of Privilege", 7.8, Internal),
    cve("CVE-2024-21412", "Internet Shortcut Files Security Feature Bypass", 8.1, Internal),
    cve("CVE-2023-36025", "Windows SmartScreen Security Feature Bypass", 8.8, Internal),
    cve("CVE-2023-24880", "Windows SmartScreen Security Feature Bypass", 4.4, Internal),
    cve("CVE-2022-21907", "HTTP Protocol Stack Remote Code Execution", 9.8, Both),
    cve("CVE-2023-21554", "Microsoft Message Queuing Remote Code Execution (QueueJumper)", 9.8, Internal),
    cve("CVE-2024-38063", "Windows TCP/IP IPv6 Remote Code Execution", 9.8, Internal),
    cve("CVE-2023-24932", "Secure Boot Security Feature Bypass (BlackLotus)", 6.7, Internal),
    cve("CVE-2021-36934", "Windows SAM Database Permissions Elevation of Privilege (HiveNightmare)", 7.8, Internal),
    cve("CVE-2022-26923", "Active Directory Certificate Services Elevation of Privilege (Certifried)", 8.8, Internal),
    cve("CVE-2018-0886", "CredSSP Remote Code Execution", 7.5, Internal),
    cve("CVE-2019-1040", "Windows NTLM Tampering Vulnerability (Drop the MIC)", 5.9, Internal),
    cve("CVE-2017-11882", "Microsoft Office Equation Editor Memory Corruption", 7.8, Internal),
    cve("CVE-2022-3602", "OpenSSL X.509 Email Address Buffer Overflow", 7.5, Both),
    cve("CVE-2023-38545", "curl SOCKS5 Heap Buffer Overflow", 9.8, Internal),
    cve("CVE-2016-2107", "OpenSSL AES-NI Padding Oracle", 5.9, Both),
    cve("CVE-2023-36874", "Windows Error Reporting Service Elevation of Privilege", 7.8, Internal),
    cve("CVE-2024-30088", "Windows Kernel Elevation of Privilege", 7.0, Internal),
    cve("CVE-2024-43451", "NTLM Hash Disclosure Spoofing Vulnerability", 6.5, Internal),
    cve("CVE-2023-29357", "Microsoft SharePoint Server Elevation of Privilege", 9.8, External),
    plain("SMB Signing not required", 5.3, Internal),
    plain("SSL Certificate Cannot Be Trusted", 6.5, Both),
    plain("SSL Self-Signed Certificate", 6.5, Both),
    plain("TLS Version 1.0 Protocol Detection", 6.5, Both),
    plain("TLS Version 1.1 Deprecated Protocol", 6.5, Both),
    plain("SSH Weak Key Exchange Algorithms Enabled", 3.7, Both),
    plain("Microsoft Windows Unquoted Service Path Enumeration", 7.8, Internal),
    plain("ICMP Timestamp Request Remote Date Disclosure", 2.1, Both),
    plain("Web Server Allows Password Auto-Completion", 2.6, External),
    plain("Microsoft Windows LLMNR Detection", 3.1, Internal),
    plain("mDNS Detection (Local Network)", 0.0, Internal),
    plain("OS Identification", 0.0, Both),
    plain("Traceroute Information", 0.0, External),
];

/// How often each risk band is drawn, in percent: most findings are medium or low.
const BAND_WEIGHTS: [(&str, u64); 5] = [("Critical", 7), ("High", 20), ("Medium", 40), ("Low", 23), ("Info", 10)];

/// Draws a finding seen where `seen` says: first a risk band by [`BAND_WEIGHTS`], then a finding
/// of that band.
pub(crate) fn draw_finding(prng: &mut crate::prng::Prng, seen: Seen) -> &'static Finding {
    let mut roll = prng.below(100);
    let band = BAND_WEIGHTS
        .iter()
        .find(|(_, weight)| {
            if roll < *weight {
                true
            } else {
                roll -= weight;
                false
            }
        })
        .map_or("Medium", |(band, _)| *band);
    let fits = |finding: &&Finding| finding.seen == seen || finding.seen == Seen::Both;
    let candidates: Vec<&Finding> =
        FINDINGS.iter().filter(fits).filter(|finding| risk_for_score(finding.score) == band).collect();
    if candidates.is_empty() {
        // Never empty: every `Seen` has findings marked `Both` in the table.
        let any: Vec<&Finding> = FINDINGS.iter().filter(fits).collect();
        return any[prng.below(any.len() as u64) as usize];
    }
    candidates[prng.below(candidates.len() as u64) as usize]
}

/// A common open port.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Port {
    pub(crate) number: u16,
    pub(crate) description: &'static str,
    pub(crate) risk: &'static str,
    pub(crate) seen: Seen,
}

const fn port(number: u16, description: &'static str, risk: &'static str, seen: Seen) -> Port {
    Port { number, description, risk, seen }
}

/// Ports the scans report.
pub(crate) const PORTS: &[Port] = &[
    port(21, "FTP", "Medium", Both),
    port(22, "SSH", "Low", Both),
    port(23, "Telnet", "High", Both),
    port(25, "SMTP", "Low", External),
    port(53, "DNS", "Info", Both),
    port(80, "HTTP", "Low", Both),
    port(110, "POP3", "Medium", External),
    port(135, "Microsoft RPC Endpoint Mapper", "Medium", Internal),
    port(139, "NetBIOS Session Service", "Medium", Internal),
    port(143, "IMAP", "Medium", External),
    port(161, "SNMP", "Medium", Internal),
    port(389, "LDAP", "Medium", Internal),
    port(443, "HTTPS", "Info", Both),
    port(445, "Microsoft-DS (SMB)", "High", Internal),
    port(587, "SMTP Submission", "Low", External),
    port(636, "LDAPS", "Low", Internal),
    port(993, "IMAPS", "Low", External),
    port(1433, "Microsoft SQL Server", "High", Internal),
    port(1723, "PPTP VPN", "Medium", External),
    port(3306, "MySQL", "High", Both),
    port(3389, "Remote Desktop Protocol", "High", Both),
    port(5432, "PostgreSQL", "High", Internal),
    port(5900, "VNC", "High", Both),
    port(5985, "WinRM HTTP", "Medium", Internal),
    port(8080, "HTTP Alternate", "Low", Both),
    port(8443, "HTTPS Alternate", "Low", Both),
    port(9100, "Printer (JetDirect)", "Low", Internal),
];

/// A web application scanner alert.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Alert {
    pub(crate) reference: &'static str,
    pub(crate) name: &'static str,
    pub(crate) risk: &'static str,
    pub(crate) description: &'static str,
    pub(crate) solution: &'static str,
    pub(crate) reference_url: &'static str,
    pub(crate) param: &'static str,
    pub(crate) attack: &'static str,
    pub(crate) evidence: &'static str,
}

/// Alerts the web application scans report.
pub(crate) const ALERTS: &[Alert] = &[
    Alert {
        reference: "40012",
        name: "Cross Site Scripting (Reflected)",
        risk: "High",
        description: "<p>Cross-site Scripting (XSS) is an attack technique that involves echoing attacker-supplied code into a user's browser instance.</p>",
        solution: "<p>Validate all input and encode all output according to its context.</p>",
        reference_url: "https://owasp.org/www-community/attacks/xss/",
        param: "q",
        attack: "<scrIpt>alert(1);</scRipt>",
        evidence: "<scrIpt>alert(1);</scRipt>",
    },
    Alert {
        reference: "40018",
        name: "SQL Injection",
        risk: "High",
        description: "<p>SQL injection may be possible.</p>",
        solution: "<p>Use prepared statements with bound parameters; never build queries by concatenating input.</p>",
        reference_url: "https://cheatsheetseries.owasp.org/cheatsheets/SQL_Injection_Prevention_Cheat_Sheet.html",
        param: "id",
        attack: "1' OR '1'='1' -- ",
        evidence: "",
    },
    Alert {
        reference: "10038",
        name: "Content Security Policy (CSP) Header Not Set",
        risk: "Medium",
        description: "<p>Content Security Policy (CSP) is an added layer of security that helps to detect and mitigate certain types of attacks, including Cross Site Scripting (XSS) and data injection attacks.</p>",
        solution: "<p>Ensure that your web server, application server, load balancer, etc. is configured to set the Content-Security-Policy header.</p>",
        reference_url: "https://developer.mozilla.org/en-US/docs/Web/HTTP/CSP",
        param: "",
        attack: "",
        evidence: "",
    },
    Alert {
        reference: "10202",
        name: "Absence of Anti-CSRF Tokens",
        risk: "Medium",
        description: "<p>No Anti-CSRF tokens were found in a HTML submission form.</p>",
        solution: "<p>Use a vetted library or framework that provides anti-CSRF tokens, and check the token on every state-changing request.</p>",
        reference_url: "https://cwe.mitre.org/data/definitions/352.html",
        param: "",
        attack: "",
        evidence: "<form action=\"/login\" method=\"post\">",
    },
    Alert {
        reference: "10098",
        name: "Cross-Domain Misconfiguration",
        risk: "Medium",
        description: "<p>Web browser data loading may be possible, due to a Cross Origin Resource Sharing (CORS) misconfiguration on the web server.</p>",
        solution: "<p>Ensure that sensitive data is not available in an unauthenticated manner, and restrict Access-Control-Allow-Origin to trusted domains.</p>",
        reference_url: "https://developer.mozilla.org/en-US/docs/Web/HTTP/CORS",
        param: "",
        attack: "",
        evidence: "Access-Control-Allow-Origin: *",
    },
    Alert {
        reference: "90022",
        name: "Application Error Disclosure",
        risk: "Medium",
        description: "<p>This page contains an error/warning message that may disclose sensitive information like the location of the file that produced the unhandled exception.</p>",
        solution: "<p>Review the source code of this page. Implement custom error pages.</p>",
        reference_url: "https://owasp.org/www-project-top-ten/",
        param: "",
        attack: "",
        evidence: "HTTP/1.1 500 Internal Server Error",
    },
    Alert {
        reference: "10035",
        name: "Strict-Transport-Security Header Not Set",
        risk: "Low",
        description: "<p>HTTP Strict Transport Security (HSTS) is a web security policy mechanism whereby a web server declares that complying user agents are to interact with it using only secure HTTPS connections.</p>",
        solution: "<p>Ensure that your web server, application server, load balancer, etc. is configured to enforce Strict-Transport-Security.</p>",
        reference_url: "https://cheatsheetseries.owasp.org/cheatsheets/HTTP_Strict_Transport_Security_Cheat_Sheet.html",
        param: "",
        attack: "",
        evidence: "",
    },
    Alert {
        reference: "10021",
        name: "X-Content-Type-Options Header Missing",
        risk: "Low",
        description: "<p>The Anti-MIME-Sniffing header X-Content-Type-Options was not set to 'nosniff'.</p>",
        solution: "<p>Ensure that the application/web server sets the Content-Type header appropriately, and that it sets the X-Content-Type-Options header to 'nosniff' for all web pages.</p>",
        reference_url: "https://owasp.org/www-community/Security_Headers",
        param: "x-content-type-options",
        attack: "",
        evidence: "",
    },
    Alert {
        reference: "10054",
        name: "Cookie without SameSite Attribute",
        risk: "Low",
        description: "<p>A cookie has been set without the SameSite attribute, which means that the cookie can be sent as a result of a 'cross-site' request.</p>",
        solution: "<p>Ensure that the SameSite attribute is set to either 'lax' or ideally 'strict' for all cookies.</p>",
        reference_url: "https://tools.ietf.org/html/draft-ietf-httpbis-cookie-same-site",
        param: "session",
        attack: "",
        evidence: "Set-Cookie: session",
    },
    Alert {
        reference: "10063",
        name: "Permissions Policy Header Not Set",
        risk: "Low",
        description: "<p>Permissions Policy Header is an added layer of security that helps to restrict unauthorized access or usage of browser/client features by web resources.</p>",
        solution: "<p>Ensure that your web server, application server, load balancer, etc. is configured to set the Permissions-Policy header.</p>",
        reference_url: "https://developer.mozilla.org/en-US/docs/Web/HTTP/Headers/Permissions-Policy",
        param: "",
        attack: "",
        evidence: "",
    },
    Alert {
        reference: "10096",
        name: "Timestamp Disclosure - Unix",
        risk: "Info",
        description: "<p>A timestamp was disclosed by the application/web server.</p>",
        solution: "<p>Manually confirm that the timestamp data is not sensitive.</p>",
        reference_url: "https://cwe.mitre.org/data/definitions/200.html",
        param: "",
        attack: "",
        evidence: "1699999999",
    },
];

/// Baseline benchmarks.
pub(crate) const BENCHMARKS: &[&str] = &[
    "CIS Microsoft Windows 11 Enterprise Benchmark v3.0.0",
    "CIS Microsoft Windows 10 Enterprise Benchmark v3.0.0",
    "CIS Microsoft Windows Server 2022 Benchmark v3.0.0",
    "CIS Microsoft Windows Server 2019 Benchmark v3.0.0",
    "CIS Ubuntu Linux 22.04 LTS Benchmark v2.0.0",
];

/// Host name prefixes of internal assets.
pub(crate) const HOST_PREFIXES: &[&str] = &["WS", "WS", "WS", "LT", "LT", "SRV", "DC", "FS", "SQL", "PRN"];

/// Names of web applications.
pub(crate) const WEB_APPS: &[&str] = &["portal", "shop", "crm", "intranet", "api", "booking", "helpdesk", "www"];

/// The contract's risk level for a CVSS score (CVSS v3 bands).
pub(crate) fn risk_for_score(score: f64) -> &'static str {
    if score >= 9.0 {
        "Critical"
    } else if score >= 7.0 {
        "High"
    } else if score >= 4.0 {
        "Medium"
    } else if score > 0.0 {
        "Low"
    } else {
        "Info"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tables_are_well_formed() {
        for finding in FINDINGS {
            assert!((0.0..=10.0).contains(&finding.score), "{}", finding.title);
            if let Some(id) = finding.cve {
                let mut parts = id.split('-');
                assert_eq!(parts.next(), Some("CVE"));
                assert_eq!(parts.next().map(str::len), Some(4));
                assert!(
                    parts.next().is_some_and(|number| number.len() >= 4 && number.chars().all(|c| c.is_ascii_digit()))
                );
            }
        }
        let mut ids: Vec<_> = FINDINGS.iter().filter_map(|finding| finding.cve).collect();
        ids.sort_unstable();
        let before = ids.len();
        ids.dedup();
        assert_eq!(before, ids.len(), "duplicate CVE ids");
        assert_eq!(risk_for_score(9.8), "Critical");
        assert_eq!(risk_for_score(7.5), "High");
        assert_eq!(risk_for_score(5.3), "Medium");
        assert_eq!(risk_for_score(2.1), "Low");
        assert_eq!(risk_for_score(0.0), "Info");
    }
}
