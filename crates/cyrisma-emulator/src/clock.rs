//! Wall-clock time as Unix seconds and the three text forms the contract uses (the calendar
//! arithmetic is `cyrisma_core::civil`): `yyyyMMddHHmmss` (tokens), `YYYY-MM-DD HH:MM:SS` (scans) and RFC 3339 (`created_at`).

use std::time::{SystemTime, UNIX_EPOCH};

/// Seconds since the Unix epoch, now.
pub(crate) fn now_secs() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|elapsed| elapsed.as_secs() as i64).unwrap_or(0)
}

pub(crate) use cyrisma_core::civil::{civil, date, days_from_civil, rfc3339};

/// `yyyyMMddHHmmss`, the stamp at the end of tokens \[OBS\].
pub(crate) fn token_stamp(secs: i64) -> String {
    let c = civil(secs);
    format!("{:04}{:02}{:02}{:02}{:02}{:02}", c.year, c.month, c.day, c.hour, c.minute, c.second)
}

/// `YYYY-MM-DD HH:MM:SS`, the scan time format \[OBS\].
pub(crate) fn scan_time(secs: i64) -> String {
    let c = civil(secs);
    format!("{:04}-{:02}-{:02} {:02}:{:02}:{:02}", c.year, c.month, c.day, c.hour, c.minute, c.second)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_known_instants() {
        // 2023-11-01 00:04:26 UTC, the documented token's stamp.
        assert_eq!(token_stamp(1_698_797_066), "20231101000426");
        assert_eq!(scan_time(0), "1970-01-01 00:00:00");
        assert_eq!(rfc3339(951_782_400), "2000-02-29T00:00:00Z");
        assert_eq!(date(1_709_251_199), "2024-02-29");
    }
}
