//! Every relative link and image in the repository's Markdown files resolves: the file exists,
//! and a `#anchor` names a heading of the target page (GitHub's slug rules).
//!
//! Links to other sites (`https:`, `mailto:`, ...) are not followed: tests run offline. Code
//! blocks and inline code are skipped, since they show links rather than make them.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Folders never searched for Markdown files (build output, fuzzing scratch, virtual envs).
const SKIPPED_DIRS: &[&str] = &["target", "node_modules", ".venv", "venv"];

/// Every Markdown file of the repository, outside build output and hidden folders.
pub(crate) fn markdown_files(root: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = walkdir::WalkDir::new(root)
        .into_iter()
        .filter_entry(|entry| {
            let name = entry.file_name().to_string_lossy();
            let fuzz_work = entry.path().ends_with("fuzz/work") || entry.path().ends_with("fuzz/corpus");
            !(entry.depth() > 0 && (name.starts_with('.') || SKIPPED_DIRS.contains(&name.as_ref()) || fuzz_work))
        })
        .filter_map(Result::ok)
        .filter(|entry| entry.file_type().is_file() && entry.path().extension().is_some_and(|ext| ext == "md"))
        .map(|entry| entry.into_path())
        .collect();
    files.sort();
    files
}

/// Every relative link or image in every Markdown file resolves, anchors included.
pub(crate) fn doc_links(root: &Path) -> Vec<String> {
    let mut anchors_cache: BTreeMap<PathBuf, Option<BTreeSet<String>>> = BTreeMap::new();
    let mut problems = Vec::new();
    for file in markdown_files(root) {
        let Ok(text) = std::fs::read_to_string(&file) else {
            problems.push(format!("{}: cannot read the file", relative(root, &file)));
            continue;
        };
        for (line, target) in links(&text) {
            if let Some(problem) = check_link(root, &file, &target, &mut anchors_cache) {
                problems.push(format!("{}:{line}: link `{target}`: {problem}", relative(root, &file)));
            }
        }
    }
    problems
}

fn relative(root: &Path, path: &Path) -> String {
    path.strip_prefix(root).unwrap_or(path).display().to_string()
}

/// Checks one link target; returns what is wrong with it.
fn check_link(
    root: &Path,
    file: &Path,
    target: &str,
    anchors_cache: &mut BTreeMap<PathBuf, Option<BTreeSet<String>>>,
) -> Option<String> {
    if is_external(target) {
        return None;
    }
    let (path_part, anchor) = match target.split_once('#') {
        Some((path, anchor)) => (path, Some(anchor)),
        None => (target, None),
    };
    // A query (`?raw=true`) does not change which file is meant.
    let path_part = path_part.split('?').next().unwrap_or_default();
    let path_part = percent_decode(path_part);
    let resolved = if path_part.is_empty() {
        file.to_path_buf()
    } else if let Some(from_root) = path_part.strip_prefix('/') {
        root.join(from_root)
    } else {
        file.parent().unwrap_or(root).join(&path_part)
    };
    if !resolved.exists() {
        return Some(format!("`{}` does not exist", path_part));
    }
    let anchor = anchor.filter(|anchor| !anchor.is_empty())?;
    if resolved.extension().is_none_or(|ext| ext != "md") {
        // Anchors into source files (`#L10`) are GitHub's line links: not checked.
        return None;
    }
    let anchors = anchors_cache
        .entry(resolved.clone())
        .or_insert_with(|| std::fs::read_to_string(&resolved).ok().map(|text| heading_anchors(&text)));
    match anchors {
        Some(anchors) if anchors.contains(&percent_decode(anchor).to_lowercase()) => None,
        Some(_) => Some(format!("no heading of `{}` has the anchor `#{anchor}`", relative(root, &resolved))),
        None => Some(format!("cannot read `{}`", relative(root, &resolved))),
    }
}

/// Whether a link goes to another site or scheme (not checked offline).
fn is_external(target: &str) -> bool {
    let scheme_end = target.find(':');
    let first_slash = target.find('/').unwrap_or(usize::MAX);
    let first_hash = target.find('#').unwrap_or(usize::MAX);
    // `scheme:` before any `/` or `#` (`https://`, `mailto:`), or protocol-relative `//host`.
    scheme_end.is_some_and(|end| end > 0 && end < first_slash && end < first_hash) || target.starts_with("//")
}

/// Decodes `%20` and friends in a link target.
fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut index = 0;
    while index < bytes.len() {
        if bytes[index] == b'%'
            && let Some(hex) = bytes.get(index + 1..index + 3)
            && let Some(byte) = std::str::from_utf8(hex).ok().and_then(|hex| u8::from_str_radix(hex, 16).ok())
        {
            out.push(byte);
            index += 3;
            continue;
        }
        out.push(bytes[index]);
        index += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The link targets of a Markdown text with their line numbers: inline links and images
/// (`[text](target)`, `![alt](target)`) and reference definitions (`[name]: target`), outside
/// fenced code blocks and inline code.
pub(crate) fn links(text: &str) -> Vec<(usize, String)> {
    let mut found = Vec::new();
    let mut fence: Option<String> = None;
    for (index, raw_line) in text.lines().enumerate() {
        let line_number = index + 1;
        let trimmed = raw_line.trim_start();
        if let Some(marker) = &fence {
            if trimmed.starts_with(marker.as_str())
                && trimmed.trim_start_matches(marker.chars().next().unwrap_or('`')).trim().is_empty()
            {
                fence = None;
            }
            continue;
        }
        if let Some(marker) = fence_marker(trimmed) {
            fence = Some(marker);
            continue;
        }
        let line = strip_inline_code(raw_line);
        if let Some(target) = reference_definition(&line) {
            found.push((line_number, target));
            continue;
        }
        let mut rest = line.as_str();
        while let Some(start) = rest.find("](") {
            let after = &rest[start + 2..];
            let Some(end) = closing_paren(after) else { break };
            let target = link_destination(&after[..end]);
            if !target.is_empty() {
                found.push((line_number, target));
            }
            rest = &after[end..];
        }
    }
    found
}

/// The fence that opens a code block on this line (```` ``` ```` or `~~~`, three or more).
fn fence_marker(trimmed: &str) -> Option<String> {
    for fence_char in ['`', '~'] {
        let count = trimmed.chars().take_while(|c| *c == fence_char).count();
        if count >= 3 {
            return Some(std::iter::repeat_n(fence_char, count).collect());
        }
    }
    None
}

/// The line with inline code spans (`` `...` ``) blanked out.
fn strip_inline_code(line: &str) -> String {
    let mut out = String::with_capacity(line.len());
    let mut chars = line.char_indices().peekable();
    while let Some((start, c)) = chars.next() {
        if c != '`' {
            out.push(c);
            continue;
        }
        let mut ticks = 1;
        while chars.peek().is_some_and(|(_, next)| *next == '`') {
            chars.next();
            ticks += 1;
        }
        let delimiter: String = std::iter::repeat_n('`', ticks).collect();
        let after = start + ticks;
        match line[after..].find(&delimiter) {
            Some(offset) => {
                let close_end = after + offset + ticks;
                while chars.peek().is_some_and(|(index, _)| *index < close_end) {
                    chars.next();
                }
                out.push_str("code");
            }
            None => out.push_str(&delimiter),
        }
    }
    out
}

/// `[name]: target` at the start of a line.
fn reference_definition(line: &str) -> Option<String> {
    let trimmed = line.trim_start();
    let rest = trimmed.strip_prefix('[')?;
    let close = rest.find("]:")?;
    if close == 0 || rest[..close].contains('[') {
        return None;
    }
    let target = link_destination(rest[close + 2..].trim());
    (!target.is_empty()).then_some(target)
}

/// Where the `)` closing an inline link's destination is, allowing balanced parentheses.
fn closing_paren(text: &str) -> Option<usize> {
    let mut depth = 0usize;
    for (index, c) in text.char_indices() {
        match c {
            '(' => depth += 1,
            ')' if depth == 0 => return Some(index),
            ')' => depth -= 1,
            _ => {}
        }
    }
    None
}

/// The destination of a link: `<...>` or the first word, without a title.
fn link_destination(inner: &str) -> String {
    let inner = inner.trim();
    if let Some(rest) = inner.strip_prefix('<') {
        return rest.split('>').next().unwrap_or_default().to_owned();
    }
    inner.split_whitespace().next().unwrap_or_default().to_owned()
}

/// The anchors of a page's headings (ATX `#` headings, outside code blocks), GitHub style:
/// duplicates get `-1`, `-2`, ...; plus explicit `id="..."` and `name="..."` anchors.
pub(crate) fn heading_anchors(text: &str) -> BTreeSet<String> {
    let mut anchors = BTreeSet::new();
    let mut seen: BTreeMap<String, usize> = BTreeMap::new();
    let mut fence: Option<String> = None;
    for line in text.lines() {
        let trimmed = line.trim_start();
        if let Some(marker) = &fence {
            if trimmed.starts_with(marker.as_str()) {
                fence = None;
            }
            continue;
        }
        if let Some(marker) = fence_marker(trimmed) {
            fence = Some(marker);
            continue;
        }
        for attribute in ["id=\"", "name=\""] {
            let mut rest = line;
            while let Some(start) = rest.find(attribute) {
                let after = &rest[start + attribute.len()..];
                if let Some(end) = after.find('"') {
                    anchors.insert(after[..end].to_lowercase());
                }
                rest = after;
            }
        }
        let hashes = trimmed.chars().take_while(|c| *c == '#').count();
        if !(1..=6).contains(&hashes) || !trimmed[hashes..].starts_with([' ', '\t']) && trimmed.len() > hashes {
            continue;
        }
        let title = trimmed[hashes..].trim().trim_end_matches('#').trim();
        let slug = slug(title);
        let count = seen.entry(slug.clone()).or_insert(0);
        let anchor = if *count == 0 { slug.clone() } else { format!("{slug}-{count}") };
        *count += 1;
        anchors.insert(anchor);
    }
    anchors
}

/// GitHub's heading slug: the heading's text (inline markup removed), lower-cased, every
/// character other than letters, digits, `-`, `_` and spaces dropped, spaces turned into `-`.
pub(crate) fn slug(title: &str) -> String {
    // `[text](url)` shows as `text`.
    let mut text = String::new();
    let mut rest = title;
    while let Some(start) = rest.find('[') {
        text.push_str(&rest[..start]);
        let after = &rest[start + 1..];
        match after.find("](").and_then(|close| closing_paren(&after[close + 2..]).map(|end| (close, close + 2 + end)))
        {
            Some((close, end)) => {
                text.push_str(&after[..close]);
                rest = &after[end + 1..];
            }
            None => {
                text.push('[');
                rest = after;
            }
        }
    }
    text.push_str(rest);
    text.chars()
        .filter(|c| !matches!(c, '`' | '*'))
        .flat_map(char::to_lowercase)
        .filter(|c| c.is_alphanumeric() || matches!(c, '-' | '_' | ' '))
        .map(|c| if c == ' ' { '-' } else { c })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_doc_link_resolves() {
        let problems = doc_links(&crate::tidy::workspace_root());
        assert!(problems.is_empty(), "broken links in the docs:\n{}", problems.join("\n"));
    }

    #[test]
    fn slugs_follow_github() {
        assert_eq!(slug("Exit codes"), "exit-codes");
        assert_eq!(
            slug("`cyrisma auth rotate-secret`: what can go wrong"),
            "cyrisma-auth-rotate-secret-what-can-go-wrong"
        );
        assert_eq!(slug("Flags, variables & keys (CLI)"), "flags-variables--keys-cli");
        assert_eq!(slug("The [emulator](emulator.md) guide"), "the-emulator-guide");
        assert_eq!(slug("snake_case stays"), "snake_case-stays");
        let anchors = heading_anchors("# A\n## A\n```\n# not a heading\n```\n### B #\n<a id=\"Custom\"></a>\n");
        let expected: BTreeSet<String> = ["a", "a-1", "b", "custom"].into_iter().map(String::from).collect();
        assert_eq!(anchors, expected);
    }

    #[test]
    fn links_are_found_outside_code() {
        let text = "See [a](a.md) and ![img](img/x.png \"title\").\n\
                    `[not](code.md)` and [b](<b c.md>)\n\
                    ```sh\n[no](fenced.md)\n```\n\
                    [ref]: ref.md#part\n\
                    [web](https://example.com) [f(x)](f(x).md)\n";
        let targets: Vec<(usize, String)> = links(text);
        let expected: Vec<(usize, String)> = vec![
            (1, "a.md".into()),
            (1, "img/x.png".into()),
            (2, "b c.md".into()),
            (6, "ref.md#part".into()),
            (7, "https://example.com".into()),
            (7, "f(x).md".into()),
        ];
        assert_eq!(targets, expected);
        assert!(is_external("https://example.com"));
        assert!(is_external("mailto:a@example.com"));
        assert!(!is_external("docs/a.md#x:y"));
        assert!(!is_external("#anchor"));
    }

    /// The check fails on a missing file and on a missing anchor, and passes on good links (so
    /// a clean run means something).
    #[test]
    fn broken_links_are_detected() {
        let dir = std::env::temp_dir().join(format!("xtask-tidy-links-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("docs")).unwrap();
        std::fs::create_dir_all(dir.join("target")).unwrap();
        std::fs::write(
            dir.join("README.md"),
            "# Top\n[ok](docs/guide.md) [ok anchor](docs/guide.md#set-up) [self](#top) [web](https://x.test/nothing)\n\
             [missing](docs/missing.md)\n[bad anchor](docs/guide.md#nowhere)\n![missing image](docs/img.png)\n",
        )
        .unwrap();
        std::fs::write(dir.join("docs/guide.md"), "# Guide\n## Set-up\n[back](../README.md#top)\n").unwrap();
        // Build output is not checked.
        std::fs::write(dir.join("target/junk.md"), "[x](nothing.md)\n").unwrap();

        let problems = doc_links(&dir);
        assert_eq!(problems.len(), 3, "{problems:#?}");
        assert!(problems[0].starts_with("README.md:3:") && problems[0].contains("docs/missing.md"), "{problems:?}");
        assert!(problems[1].starts_with("README.md:4:") && problems[1].contains("#nowhere"), "{problems:?}");
        assert!(problems[2].starts_with("README.md:5:") && problems[2].contains("docs/img.png"), "{problems:?}");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
