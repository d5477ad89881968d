//! What a report covers (customers, period) and how it is branded (title, MSP name, logo).

use std::io::Read as _;
use std::path::Path;

use base64::Engine as _;

use crate::Error;

/// The largest logo file embedded (a logo is a small image; a page should stay light).
pub const MAX_LOGO_BYTES: u64 = 512 * 1024;

/// Which runs a report covers, counted back from the latest run (never from the clock).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum Period {
    /// Every run there is.
    #[default]
    All,
    /// Runs that started on or after this UTC date (`YYYY-MM-DD`), in microseconds.
    Since(i64),
    /// Runs within this many days before the latest run's start (inclusive).
    LastDays(u32),
}

impl Period {
    /// `YYYY-MM-DD`: the runs from that UTC date on.
    pub fn since(date: &str) -> Result<Self, Error> {
        let bad = || Error::Period(format!("`{date}` is not a date: use YYYY-MM-DD, for example 2026-01-31"));
        let mut parts = date.trim().splitn(3, '-');
        let (Some(year), Some(month), Some(day)) = (parts.next(), parts.next(), parts.next()) else {
            return Err(bad());
        };
        let digits = |text: &str, len: usize| text.len() == len && text.bytes().all(|byte| byte.is_ascii_digit());
        if !digits(year, 4) || !digits(month, 2) || !digits(day, 2) {
            return Err(bad());
        }
        let (year, month, day): (i64, u32, u32) =
            (year.parse().map_err(|_| bad())?, month.parse().map_err(|_| bad())?, day.parse().map_err(|_| bad())?);
        let days_in_month = match month {
            1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
            4 | 6 | 9 | 11 => 30,
            2 if (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 => 29,
            2 => 28,
            _ => return Err(bad()),
        };
        if day == 0 || day > days_in_month {
            return Err(bad());
        }
        Ok(Self::Since(cyrisma_core::civil::days_from_civil(year, month, day) * 86_400 * 1_000_000))
    }

    /// `N` followed by `d` (days), `w` (weeks), `m` (months of 30 days) or `y` (years of 365
    /// days): the runs that far back from the latest one.
    pub fn last(text: &str) -> Result<Self, Error> {
        let text = text.trim();
        let bad = || {
            Error::Period(format!(
                "`{text}` is not a period: use a number and d, w, m or y (for example 90d, 12w, 3m, 1y)"
            ))
        };
        let unit = text.chars().last().ok_or_else(bad)?;
        let number: u32 = text[..text.len() - unit.len_utf8()].parse().map_err(|_| bad())?;
        let days_per = match unit.to_ascii_lowercase() {
            'd' => 1,
            'w' => 7,
            'm' => 30,
            'y' => 365,
            _ => return Err(bad()),
        };
        if number == 0 {
            return Err(bad());
        }
        let days = number.checked_mul(days_per).filter(|days| *days <= 36_500).ok_or_else(bad)?;
        Ok(Self::LastDays(days))
    }

    /// Whether a run that started at `started_at` is inside the period ending with the run that
    /// started at `latest` (microseconds).
    pub fn contains(&self, started_at: i64, latest: i64) -> bool {
        match self {
            Self::All => true,
            Self::Since(start) => started_at >= *start,
            Self::LastDays(days) => started_at >= latest - i64::from(*days) * 86_400 * 1_000_000,
        }
    }
}

/// An image embedded in the pages as a `data:` URL.
#[derive(Clone, PartialEq, Eq)]
pub struct Logo {
    mime: &'static str,
    bytes: Vec<u8>,
}

impl std::fmt::Debug for Logo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Logo").field("mime", &self.mime).field("bytes", &self.bytes.len()).finish()
    }
}

impl Logo {
    /// An image from its bytes: PNG, JPEG, GIF, WebP or SVG, told by content, not by name.
    pub fn from_bytes(bytes: Vec<u8>) -> Result<Self, Error> {
        if bytes.len() as u64 > MAX_LOGO_BYTES {
            return Err(Error::Logo(format!(
                "the logo is {} bytes; the largest embedded is {MAX_LOGO_BYTES}: use a smaller image",
                bytes.len()
            )));
        }
        let mime = sniff(&bytes)
            .ok_or_else(|| Error::Logo("the logo is not a PNG, JPEG, GIF, WebP or SVG image".to_owned()))?;
        Ok(Self { mime, bytes })
    }

    /// An image from a file (at most [`MAX_LOGO_BYTES`]).
    pub fn read(path: &Path) -> Result<Self, Error> {
        let file = std::fs::File::open(path).map_err(Error::io_at("cannot open the logo", path))?;
        let meta = file.metadata().map_err(Error::io_at("cannot inspect the logo", path))?;
        if !meta.is_file() {
            return Err(Error::Logo(format!("the logo `{}` is not a regular file", path.display())));
        }
        let mut bytes = Vec::new();
        file.take(MAX_LOGO_BYTES + 1).read_to_end(&mut bytes).map_err(Error::io_at("cannot read the logo", path))?;
        Self::from_bytes(bytes).map_err(|error| match error {
            Error::Logo(message) => Error::Logo(format!("{}: {message}", path.display())),
            other => other,
        })
    }

    /// Its media type.
    pub fn mime(&self) -> &'static str {
        self.mime
    }

    /// The `data:` URL (base64; only the characters of base64 and the media type, so it is safe
    /// in an attribute as it is).
    pub fn data_url(&self) -> String {
        format!("data:{};base64,{}", self.mime, base64::engine::general_purpose::STANDARD.encode(&self.bytes))
    }
}

/// The media type of an image by its first bytes.
fn sniff(bytes: &[u8]) -> Option<&'static str> {
    if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        return Some("image/png");
    }
    if bytes.starts_with(&[0xff, 0xd8, 0xff]) {
        return Some("image/jpeg");
    }
    if bytes.starts_with(b"GIF87a") || bytes.starts_with(b"GIF89a") {
        return Some("image/gif");
    }
    if bytes.len() >= 12 && &bytes[..4] == b"RIFF" && &bytes[8..12] == b"WEBP" {
        return Some("image/webp");
    }
    // An SVG shown through `<img>` runs no script and loads nothing, so it is safe to embed.
    let text = std::str::from_utf8(bytes).ok()?;
    let head: String = text.trim_start_matches('\u{feff}').chars().take(1024).collect();
    (head.trim_start().starts_with('<') && head.contains("<svg")).then_some("image/svg+xml")
}

/// The report's title, the MSP's name and logo.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Branding {
    /// The pages' title (default: "Security report").
    pub title: Option<String>,
    /// The MSP's name, shown as "Prepared by ...".
    pub msp_name: Option<String>,
    /// The logo shown in every page's header.
    pub logo: Option<Logo>,
}

/// What a report covers and how it looks.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Options {
    /// Only these instances (empty: every instance the runs of the period pulled or tried to).
    pub instances: Vec<String>,
    /// Which runs.
    pub period: Period,
    /// Title, MSP name and logo.
    pub branding: Branding,
}
