//! The enums of the contract, each with an `Unknown(String)` fallback.

use crate::wire::wire_enum;

wire_enum! {
    /// The type of an organization or instance (`instance_type`).
    pub enum InstanceType {
        /// A managed service provider organization.
        Msp = "msp",
        /// A managed security service provider organization.
        Mssp = "mssp",
        /// A standard customer instance.
        Standard = "standard",
    }
}

impl InstanceType {
    /// Whether this is an organization (MSP or MSSP), under which users and instances live.
    pub fn is_organization(&self) -> bool {
        matches!(self, InstanceType::Msp | InstanceType::Mssp)
    }
}

wire_enum! {
    /// An MFA method code (`mfa_type`): `0` none, `1` email, `2` authenticator (TOTP).
    pub enum MfaType {
        /// No MFA.
        None = "0" | "none",
        /// A code sent by email.
        Email = "1" | "email",
        /// An authenticator app (TOTP).
        Authenticator = "2" | "authenticator" | "totp",
    }
}

wire_enum! {
    /// The lifecycle state of an instance (`status`) \[ASSUMED\].
    pub enum InstanceStatus {
        /// Created, not ready yet (typically up to 5 minutes).
        Provisioning = "provisioning",
        /// Ready.
        Active = "active",
        /// Suspended: refuses instance authentication and reporting.
        Suspended = "suspended",
    }
}

wire_enum! {
    /// How often grades are computed (`grading_period`).
    pub enum GradingPeriod {
        /// Every month.
        Monthly = "monthly",
        /// Every quarter.
        Quarterly = "quarterly",
    }
}

wire_enum! {
    /// A vulnerability scan type (`scan_type`, numeric on the wire) \[OBS\].
    pub enum ScanType {
        /// Internal authenticated scan.
        InternalAuthenticated = "5",
        /// External IP scan.
        ExternalIp = "9",
        /// Internal unauthenticated scan.
        InternalUnauthenticated = "10",
        /// External web application scan.
        ExternalWebApplication = "11",
    }
}

impl ScanType {
    /// A human name for the scan type.
    pub fn label(&self) -> &str {
        match self {
            ScanType::InternalAuthenticated => "Internal Authenticated",
            ScanType::ExternalIp => "External IP",
            ScanType::InternalUnauthenticated => "Internal Unauthenticated",
            ScanType::ExternalWebApplication => "External Web Application",
            ScanType::Unknown(value) => value,
        }
    }
}

wire_enum! {
    /// A risk level (`riskLevel`), compared case-insensitively.
    pub enum RiskLevel {
        /// Critical.
        Critical = "Critical",
        /// High.
        High = "High",
        /// Medium.
        Medium = "Medium",
        /// Low.
        Low = "Low",
        /// Informational.
        Info = "Info" | "Informational",
    }
}

wire_enum! {
    /// A letter grade. Empty or missing until a scan happens in the current period, so grade
    /// fields are `Option<Grade>` and `""` reads as `None`.
    pub enum Grade {
        /// A.
        A = "A",
        /// A-.
        AMinus = "A-",
        /// B+.
        BPlus = "B+",
        /// B.
        B = "B",
        /// B-.
        BMinus = "B-",
        /// C+.
        CPlus = "C+",
        /// C.
        C = "C",
        /// C-.
        CMinus = "C-",
        /// D+.
        DPlus = "D+",
        /// D.
        D = "D",
        /// D-.
        DMinus = "D-",
        /// F.
        F = "F",
    }
}

wire_enum! {
    /// Which assets to list (`assetType`) \[OBS\].
    pub enum AssetType {
        /// Assets inside the customer network.
        Internal = "internal",
        /// Internet-facing assets.
        External = "external",
    }
}

wire_enum! {
    /// A webhook event type (provisional contract).
    pub enum WebhookEventType {
        /// An instance finished provisioning.
        InstanceProvisioned = "instance.provisioned",
        /// An instance was suspended.
        InstanceSuspended = "instance.suspended",
        /// An instance was reactivated.
        InstanceReactivated = "instance.reactivated",
        /// A consulting instance was converted.
        InstanceConverted = "instance.converted",
        /// A user was created.
        UserCreated = "user.created",
        /// A user was disabled.
        UserDisabled = "user.disabled",
        /// A scan completed.
        ScanCompleted = "scan.completed",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn enums_parse_liberally_and_keep_unknown_values() {
        assert_eq!(RiskLevel::from_wire(" critical "), RiskLevel::Critical);
        assert_eq!(RiskLevel::from_wire("Severe"), RiskLevel::Unknown("Severe".into()));
        let scan: ScanType = serde_json::from_str("9").unwrap();
        assert_eq!(scan, ScanType::ExternalIp);
        let scan: ScanType = serde_json::from_str("\"11\"").unwrap();
        assert_eq!(scan, ScanType::ExternalWebApplication);
        assert_eq!(serde_json::to_string(&ScanType::ExternalIp).unwrap(), "9");
        assert_eq!(serde_json::to_string(&Grade::BPlus).unwrap(), "\"B+\"");
        assert_eq!(MfaType::from_wire("totp"), MfaType::Authenticator);
    }
}
