//! Charts as inline SVG, drawn here: the grade trend of the five areas, the overall grade's
//! sparkline, and severity bars. No JavaScript, nothing fetched, and they print.
//!
//! Each chart is `role="img"` with a label that says what it shows in words; the pages put the
//! same figures in a table next to it for screen readers and for reading exact values. No string
//! from the server is ever drawn into a chart (only grades, dates and fixed labels), and every
//! text is escaped all the same.

use std::fmt::Write as _;

use crate::collect::{AREAS, AreaGrades, Severity, rank};

/// The colours of the five areas (with a dash pattern and a marker each, so the lines are told
/// apart in greyscale print and by people who do not see colours).
const STYLES: [(&str, &str, Marker); 5] = [
    ("#1f3a93", "", Marker::Circle),
    ("#c0392b", "6 3", Marker::Square),
    ("#16a085", "2 3", Marker::Diamond),
    ("#8e44ad", "8 3 2 3", Marker::Triangle),
    ("#d35400", "1 2", Marker::Cross),
];

#[derive(Clone, Copy)]
enum Marker {
    Circle,
    Square,
    Diamond,
    Triangle,
    Cross,
}

/// Text escaped for SVG and HTML (content and attributes).
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for ch in text.chars() {
        match ch {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(ch),
        }
    }
    out
}

/// The letter on the y axis for each rank shown (A, B, C, D, F).
const AXIS: [(u8, &str); 5] = [(11, "A"), (8, "B"), (5, "C"), (2, "D"), (0, "F")];

/// A coordinate, written with `{:.1}` exactly as an `f64` is (one decimal of the exact value,
/// rounded) but without the standard library's exact formatting, which a page's charts spent a
/// few percent of a report's time in: the value is scaled to tenths and rounded, and one too close
/// to a tie between two tenths for that to be certain is written by the standard library.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Tenths(pub(crate) f64);

impl std::fmt::Display for Tenths {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let value = self.0;
        let magnitude = (value * 10.0).abs();
        // Below 1e9 tenths the scaled value is within 1e-7 of the exact one.
        if f.precision() == Some(1) && f.width().is_none() && magnitude < 1e9 && (magnitude.fract() - 0.5).abs() > 1e-6
        {
            let tenths = magnitude.round() as u64;
            let sign = if value.is_sign_negative() { "-" } else { "" };
            return write!(f, "{sign}{}.{}", tenths / 10, tenths % 10);
        }
        std::fmt::Display::fmt(&value, f)
    }
}

fn marker(out: &mut String, kind: Marker, x: f64, y: f64, colour: &str) {
    let t = Tenths;
    let _ = match kind {
        Marker::Circle => write!(out, r#"<circle cx="{:.1}" cy="{:.1}" r="3.5" fill="{colour}"/>"#, t(x), t(y)),
        Marker::Square => {
            write!(out, r#"<rect x="{:.1}" y="{:.1}" width="7" height="7" fill="{colour}"/>"#, t(x - 3.5), t(y - 3.5))
        }
        Marker::Diamond => write!(
            out,
            r#"<path d="M{:.1} {:.1}L{:.1} {:.1}L{:.1} {:.1}L{:.1} {:.1}Z" fill="{colour}"/>"#,
            t(x),
            t(y - 4.5),
            t(x + 4.5),
            t(y),
            t(x),
            t(y + 4.5),
            t(x - 4.5),
            t(y)
        ),
        Marker::Triangle => write!(
            out,
            r#"<path d="M{:.1} {:.1}L{:.1} {:.1}L{:.1} {:.1}Z" fill="{colour}"/>"#,
            t(x),
            t(y - 4.5),
            t(x + 4.5),
            t(y + 3.5),
            t(x - 4.5),
            t(y + 3.5)
        ),
        Marker::Cross => write!(
            out,
            r#"<path d="M{:.1} {:.1}L{:.1} {:.1}M{:.1} {:.1}L{:.1} {:.1}" stroke="{colour}" stroke-width="2"/>"#,
            t(x - 4.0),
            t(y - 4.0),
            t(x + 4.0),
            t(y + 4.0),
            t(x - 4.0),
            t(y + 4.0),
            t(x + 4.0),
            t(y - 4.0)
        ),
    };
}

/// A sentence that says what a series of grades did.
pub fn describe(label: &str, grades: &[Option<String>]) -> String {
    let known: Vec<&String> = grades.iter().flatten().filter(|grade| rank(grade).is_some()).collect();
    match (known.first(), known.last()) {
        (Some(first), Some(last)) if known.len() > 1 => {
            format!("{label}: from {first} to {last} over {} runs with a grade", known.len())
        }
        (Some(only), _) => format!("{label}: {only} (one run with a grade)"),
        _ => format!("{label}: no grade yet"),
    }
}

/// The five areas' grades over the runs (x: the runs, labelled with their dates; y: the grade).
pub fn trend(areas: &[AreaGrades], dates: &[String]) -> String {
    let (width, height) = (680.0, 250.0);
    let (left, right, top, bottom) = (34.0, 150.0, 14.0, 40.0);
    let plot_w = width - left - right;
    let plot_h = height - top - bottom;
    let runs = dates.len().max(1);
    let x = |index: usize| -> f64 {
        if runs == 1 { left + plot_w / 2.0 } else { left + plot_w * index as f64 / (runs - 1) as f64 }
    };
    let y = |rank: u8| -> f64 { top + plot_h * (1.0 - f64::from(rank) / 11.0) };
    let summary: Vec<String> = areas.iter().map(|area| describe(area.label, &area.grades)).collect();
    let mut out = String::new();
    let _ = write!(
        out,
        r#"<svg class="chart trend" viewBox="0 0 {width} {height}" width="100%" role="img" aria-label="{}" xmlns="http://www.w3.org/2000/svg">"#,
        escape(&format!("Grade trend per area. {}.", summary.join("; ")))
    );
    for (rank, letter) in AXIS {
        let _ = write!(
            out,
            r##"<line x1="{left}" x2="{:.1}" y1="{:.1}" y2="{:.1}" stroke="#d5d8dc" stroke-width="1"/><text x="{:.1}" y="{:.1}" font-size="11" text-anchor="end" fill="#555">{letter}</text>"##,
            Tenths(left + plot_w),
            Tenths(y(rank)),
            Tenths(y(rank)),
            Tenths(left - 8.0),
            Tenths(y(rank) + 4.0)
        );
    }
    // Date labels: at most 8, evenly picked, always the first and the last.
    let step = runs.div_ceil(8).max(1);
    for (index, date) in dates.iter().enumerate() {
        let last = index + 1 == runs;
        if index % step == 0 || (last && (index % step) * 2 >= step) {
            let _ = write!(
                out,
                r##"<text x="{:.1}" y="{:.1}" font-size="10" text-anchor="middle" fill="#555">{}</text>"##,
                Tenths(x(index)),
                Tenths(height - bottom + 16.0),
                escape(date)
            );
        }
    }
    for (area, (colour, dash, kind)) in areas.iter().zip(STYLES) {
        let points: Vec<(usize, u8)> = area
            .grades
            .iter()
            .enumerate()
            .filter_map(|(index, grade)| Some((index, rank(grade.as_deref()?)?)))
            .collect();
        // One polyline per unbroken stretch: a run without a grade leaves a gap.
        let mut stretch: Vec<(usize, u8)> = Vec::new();
        let flush = |stretch: &mut Vec<(usize, u8)>, out: &mut String| {
            if stretch.len() > 1 {
                let coords: Vec<String> = stretch
                    .iter()
                    .map(|(index, rank)| format!("{:.1},{:.1}", Tenths(x(*index)), Tenths(y(*rank))))
                    .collect();
                let dash = if dash.is_empty() { String::new() } else { format!(r#" stroke-dasharray="{dash}""#) };
                let _ = write!(
                    out,
                    r#"<polyline points="{}" fill="none" stroke="{colour}" stroke-width="2"{dash}/>"#,
                    coords.join(" ")
                );
            }
            stretch.clear();
        };
        for point in &points {
            if stretch.last().is_some_and(|(index, _)| index + 1 != point.0) {
                flush(&mut stretch, &mut out);
            }
            stretch.push(*point);
        }
        flush(&mut stretch, &mut out);
        for (index, rank) in &points {
            marker(&mut out, kind, x(*index), y(*rank), colour);
        }
    }
    // The legend, right of the plot.
    for (position, (area, (colour, dash, kind))) in areas.iter().zip(STYLES).enumerate() {
        let ly = top + 10.0 + position as f64 * 20.0;
        let lx = width - right + 14.0;
        let dash = if dash.is_empty() { String::new() } else { format!(r#" stroke-dasharray="{dash}""#) };
        let _ = write!(
            out,
            r#"<line x1="{:.1}" x2="{:.1}" y1="{:.1}" y2="{:.1}" stroke="{colour}" stroke-width="2"{dash}/>"#,
            Tenths(lx),
            Tenths(lx + 24.0),
            Tenths(ly),
            Tenths(ly)
        );
        marker(&mut out, kind, lx + 12.0, ly, colour);
        let _ = write!(
            out,
            r##"<text x="{:.1}" y="{:.1}" font-size="11" fill="#222">{}</text>"##,
            Tenths(lx + 30.0),
            Tenths(ly + 4.0),
            escape(area.label)
        );
    }
    out.push_str("</svg>");
    out
}

/// A small line of the overall grade over the runs, for the portfolio table.
pub fn sparkline(grades: &[Option<String>]) -> String {
    let (width, height, pad) = (120.0, 28.0, 4.0);
    let runs = grades.len().max(1);
    let x = |index: usize| -> f64 {
        if runs == 1 { width / 2.0 } else { pad + (width - 2.0 * pad) * index as f64 / (runs - 1) as f64 }
    };
    let y = |rank: u8| -> f64 { pad + (height - 2.0 * pad) * (1.0 - f64::from(rank) / 11.0) };
    let points: Vec<(usize, u8)> =
        grades.iter().enumerate().filter_map(|(index, grade)| Some((index, rank(grade.as_deref()?)?))).collect();
    let known: Vec<&str> = grades.iter().map(|grade| grade.as_deref().unwrap_or("none")).collect();
    let mut out = String::new();
    let _ = write!(
        out,
        r#"<svg class="chart spark" viewBox="0 0 {width} {height}" width="{width}" height="{height}" role="img" aria-label="{}" xmlns="http://www.w3.org/2000/svg">"#,
        escape(&format!("Overall grade per run: {}", known.join(", ")))
    );
    let _ = write!(
        out,
        r##"<line x1="{pad}" x2="{:.1}" y1="{:.1}" y2="{:.1}" stroke="#e5e7e9" stroke-width="1"/>"##,
        Tenths(width - pad),
        Tenths(y(5)),
        Tenths(y(5))
    );
    if points.len() > 1 {
        let coords: Vec<String> =
            points.iter().map(|(index, rank)| format!("{:.1},{:.1}", Tenths(x(*index)), Tenths(y(*rank)))).collect();
        let _ = write!(
            out,
            r##"<polyline points="{}" fill="none" stroke="#1f3a93" stroke-width="1.5"/>"##,
            coords.join(" ")
        );
    }
    if let Some((index, rank)) = points.last() {
        let _ = write!(
            out,
            r##"<circle cx="{:.1}" cy="{:.1}" r="2.5" fill="#1f3a93"/>"##,
            Tenths(x(*index)),
            Tenths(y(*rank))
        );
    }
    out.push_str("</svg>");
    out
}

/// Horizontal bars of the vulnerability counts by severity.
pub fn severity_bars(severity: &Severity) -> String {
    const COLOURS: [&str; 4] = ["#7b241c", "#c0392b", "#d68910", "#2874a6"];
    let levels = severity.levels();
    let max = levels.iter().filter_map(|(_, count)| *count).max().unwrap_or(0).max(1) as f64;
    let (width, bar_h, gap, label_w) = (360.0, 16.0, 8.0, 70.0);
    let height = 4.0 * (bar_h + gap);
    let words: Vec<String> = levels
        .iter()
        .map(|(level, count)| format!("{level} {}", count.map_or("unknown".to_owned(), |count| count.to_string())))
        .collect();
    let mut out = String::new();
    let _ = write!(
        out,
        r#"<svg class="chart bars" viewBox="0 0 {width} {height}" width="{width}" role="img" aria-label="{}" xmlns="http://www.w3.org/2000/svg">"#,
        escape(&format!("Vulnerabilities by severity: {}", words.join(", ")))
    );
    for (index, ((level, count), colour)) in levels.iter().zip(COLOURS).enumerate() {
        let top = index as f64 * (bar_h + gap);
        let value = count.unwrap_or(0).max(0) as f64;
        let bar = (width - label_w - 50.0) * value / max;
        let _ = write!(
            out,
            r##"<text x="0" y="{:.1}" font-size="12" fill="#222">{level}</text><rect x="{label_w}" y="{:.1}" width="{:.1}" height="{bar_h}" fill="{colour}"/><text x="{:.1}" y="{:.1}" font-size="12" fill="#222">{}</text>"##,
            Tenths(top + 12.5),
            Tenths(top),
            Tenths(bar),
            Tenths(label_w + bar + 6.0),
            Tenths(top + 12.5),
            count.map_or("–".to_owned(), |count| count.to_string())
        );
    }
    out.push_str("</svg>");
    out
}

/// The labels of the areas, in chart order.
pub fn area_labels() -> [&'static str; 5] {
    AREAS.map(|(_, label)| label)
}

#[cfg(test)]
mod tests {
    use super::Tenths;

    #[test]
    fn tenths_are_written_as_the_standard_library_writes_them() {
        let mut values =
            vec![0.0, -0.0, 0.05, -0.05, 0.25, 0.35, 0.45, 1.25, 2.5, -2.5, 1e8, 99_999_999.95, 1e12, f64::NAN];
        values.extend([f64::INFINITY, f64::MIN_POSITIVE, -0.04, 123.456, 0.1 + 0.2]);
        // A grid like the charts' (fractions of a plot's width) and pseudo-random values.
        for numerator in 0..2_000 {
            for denominator in [3.0, 7.0, 11.0, 13.0, 40.0] {
                values.push(f64::from(numerator) * 496.0 / denominator - 200.0);
            }
        }
        let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
        for _ in 0..20_000 {
            state = state.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
            values.push((state >> 11) as f64 / (1u64 << 53) as f64 * 2_000.0 - 1_000.0);
        }
        for value in values {
            assert_eq!(format!("{:.1}", Tenths(value)), format!("{value:.1}"), "{value:e}");
            assert_eq!(format!("{}", Tenths(value)), format!("{value}"), "{value:e}");
        }
    }
}
