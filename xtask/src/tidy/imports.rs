//! Tidy check: no import circle between the files of a crate.
//!
//! Reads each crate's `src/**.rs` as tokens (no compiler), maps every file to its module path
//! (`src/api/auth.rs` is `api::auth`), and collects the references from one file to another:
//! `crate::a::b` and `super::x` paths anywhere (in `use` trees too, `crate::{a::X, b::{Y}}`).
//! Bare and `self::` paths to a file's own child modules are not references between files here:
//! a parent declares and dispatches to its children, the children may use what it shares. A path points at the deepest file module it names (`crate::api::auth::login::METADATA` is the
//! file `api/auth/login.rs`). Comments and string literals are skipped, `super` inside an inline
//! `mod tests { .. }` climbs out of the inline module first.
//!
//! The crate root (`lib.rs`, `main.rs`) is left out of the graph: it declares every module and
//! re-exports the public names, so `crate::Name` is a reference to the crate's facade, not to a
//! file. A circle (a strongly connected set of two or more files) is reported with the
//! references that close it, file and line.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// The crates whose files must not import each other in a circle (paths below the workspace
/// root). Every workspace crate is here; a test checks that.
pub(crate) const IMPORT_CIRCLE_CRATES: &[&str] = &[
    "crates/cyrisma-core",
    "crates/cyrisma-transport",
    "crates/cyrisma-emulator",
    "crates/cyrisma-dataset",
    "crates/cyrisma-fleet",
    "crates/cyrisma-report-html",
    "crates/cyrisma-cli",
    "bindings/python",
    "xtask",
];

/// One reference from a file to another: the target module and the line.
type Edges = BTreeMap<Vec<String>, BTreeMap<Vec<String>, usize>>;

/// Checks every crate of [`IMPORT_CIRCLE_CRATES`].
pub(crate) fn import_circles(root: &Path) -> Vec<String> {
    IMPORT_CIRCLE_CRATES.iter().flat_map(|krate| crate_circles(root, krate)).collect()
}

/// The circles of one crate (`krate` is its directory below `root`), one problem each.
pub(crate) fn crate_circles(root: &Path, krate: &str) -> Vec<String> {
    let src = root.join(krate).join("src");
    let files = module_files(&src);
    let edges = file_edges(&files);
    strongly_connected(&edges)
        .into_iter()
        .map(|component| {
            let mut lines = Vec::new();
            for from in &component {
                for (to, line) in &edges[from] {
                    if component.contains(to) {
                        lines.push(format!(
                            "    {} -> {} (line {line})",
                            file_name(&files, from),
                            file_name(&files, to)
                        ));
                    }
                }
            }
            let members: Vec<String> = component.iter().map(|module| file_name(&files, module)).collect();
            format!(
                "{krate}: import circle between files {{{}}}; move what they share into a leaf module:\n{}",
                members.join(", "),
                lines.join("\n")
            )
        })
        .collect()
}

fn file_name(files: &BTreeMap<Vec<String>, PathBuf>, module: &[String]) -> String {
    let src = files.get(module).and_then(|path| path.ancestors().nth(module.len()));
    match (files.get(module), src) {
        (Some(path), Some(src)) => path.strip_prefix(src).unwrap_or(path).display().to_string(),
        _ => module.join("::"),
    }
}

/// Every non-root source file by module path.
fn module_files(src: &Path) -> BTreeMap<Vec<String>, PathBuf> {
    let mut files = BTreeMap::new();
    for entry in walkdir::WalkDir::new(src).into_iter().filter_map(Result::ok) {
        let path = entry.path();
        if !entry.file_type().is_file() || path.extension().is_none_or(|ext| ext != "rs") {
            continue;
        }
        let Ok(relative) = path.strip_prefix(src) else { continue };
        let mut module: Vec<String> =
            relative.with_extension("").iter().map(|part| part.to_string_lossy().into_owned()).collect();
        if module.len() == 1 && (module[0] == "lib" || module[0] == "main") {
            continue;
        }
        if module.last().is_some_and(|last| last == "mod") {
            module.pop();
        }
        files.insert(module, path.to_path_buf());
    }
    files
}

#[derive(Clone, Debug, PartialEq)]
enum Tok {
    Ident(String),
    PathSep,
    Punct(char),
}

/// Identifiers, `::` and punctuation with line numbers; comments, strings, chars and numbers
/// are dropped.
fn lex(source: &str) -> Vec<(Tok, usize)> {
    let chars: Vec<char> = source.chars().collect();
    let mut tokens = Vec::new();
    let mut line = 1;
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let next = chars.get(i + 1).copied();
        if c == '\n' {
            line += 1;
            i += 1;
        } else if c == '/' && next == Some('/') {
            while i < chars.len() && chars[i] != '\n' {
                i += 1;
            }
        } else if c == '/' && next == Some('*') {
            let mut depth = 0usize;
            while i < chars.len() {
                if chars[i] == '/' && chars.get(i + 1) == Some(&'*') {
                    depth += 1;
                    i += 2;
                } else if chars[i] == '*' && chars.get(i + 1) == Some(&'/') {
                    depth -= 1;
                    i += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    line += usize::from(chars[i] == '\n');
                    i += 1;
                }
            }
        } else if c == 'r' && (next == Some('"') || (next == Some('#') && raw_string_start(&chars, i + 1))) {
            let mut hashes = 0;
            i += 1;
            while chars.get(i) == Some(&'#') {
                hashes += 1;
                i += 1;
            }
            i += 1;
            while i < chars.len() {
                if chars[i] == '"' && (0..hashes).all(|k| chars.get(i + 1 + k) == Some(&'#')) {
                    i += 1 + hashes;
                    break;
                }
                line += usize::from(chars[i] == '\n');
                i += 1;
            }
        } else if c == '"' {
            i += 1;
            while i < chars.len() && chars[i] != '"' {
                if chars[i] == '\\' {
                    i += 1;
                }
                line += usize::from(chars.get(i) == Some(&'\n'));
                i += 1;
            }
            i += 1;
        } else if c == '\'' {
            // A char literal ('x', '\n', '\u{..}') or a lifetime ('a): skip either.
            if next == Some('\\') {
                // The escaped character itself may be a quote (`'\''`).
                i += 3;
                while i < chars.len() && chars[i] != '\'' {
                    i += 1;
                }
                i += 1;
            } else if chars.get(i + 2) == Some(&'\'') {
                i += 3;
            } else {
                i += 1;
                while i < chars.len() && (chars[i].is_alphanumeric() || chars[i] == '_') {
                    i += 1;
                }
            }
        } else if c.is_alphabetic() || c == '_' {
            let start = i;
            while i < chars.len() && (chars[i].is_alphanumeric() || chars[i] == '_') {
                i += 1;
            }
            tokens.push((Tok::Ident(chars[start..i].iter().collect()), line));
        } else if c.is_ascii_digit() {
            while i < chars.len() && (chars[i].is_alphanumeric() || chars[i] == '_' || chars[i] == '.') {
                if chars[i] == '.' && !chars.get(i + 1).is_some_and(char::is_ascii_digit) {
                    break;
                }
                i += 1;
            }
        } else if c == ':' && next == Some(':') {
            tokens.push((Tok::PathSep, line));
            i += 2;
        } else {
            if !c.is_whitespace() {
                tokens.push((Tok::Punct(c), line));
            }
            i += 1;
        }
    }
    tokens
}

fn raw_string_start(chars: &[char], mut i: usize) -> bool {
    while chars.get(i) == Some(&'#') {
        i += 1;
    }
    chars.get(i) == Some(&'"')
}

/// The references between the files of one crate, by module path, with the first line of each.
fn file_edges(files: &BTreeMap<Vec<String>, PathBuf>) -> Edges {
    let mut edges: Edges = files.keys().map(|module| (module.clone(), BTreeMap::new())).collect();
    let modules: BTreeSet<Vec<String>> = files.keys().cloned().collect();
    for (module, path) in files {
        let Ok(source) = std::fs::read_to_string(path) else { continue };
        for (path, line) in references(&source, module) {
            if let Some(target) = resolve(&path, &modules)
                && target != *module
                && let Some(targets) = edges.get_mut(module)
            {
                targets.entry(target).or_insert(line);
            }
        }
    }
    edges
}

/// The deepest file module a path names, if any.
fn resolve(path: &[String], modules: &BTreeSet<Vec<String>>) -> Option<Vec<String>> {
    (1..=path.len()).rev().map(|len| path[..len].to_vec()).find(|prefix| modules.contains(prefix))
}

/// Every absolute module path a file refers to through `crate::` and `super::`, with its line.
fn references(source: &str, module: &[String]) -> Vec<(Vec<String>, usize)> {
    let tokens = lex(source);
    let mut found = Vec::new();
    // The inline modules (`mod name { .. }`) we are in, with the brace depth they opened at.
    let mut inline: Vec<(String, usize)> = Vec::new();
    let mut depth = 0usize;
    let mut i = 0;
    while i < tokens.len() {
        match &tokens[i].0 {
            Tok::Punct('{') => depth += 1,
            Tok::Punct('}') => {
                depth = depth.saturating_sub(1);
                if inline.last().is_some_and(|(_, opened)| *opened == depth) {
                    inline.pop();
                }
            }
            Tok::Ident(word) if word == "mod" => {
                if let (Some((Tok::Ident(name), _)), Some((Tok::Punct('{'), _))) =
                    (tokens.get(i + 1), tokens.get(i + 2))
                {
                    inline.push((name.clone(), depth));
                    depth += 1;
                    i += 3;
                    continue;
                }
            }
            Tok::Ident(_) => {
                // Only the start of a path: not after `::` (the middle of one) or `.` (a field).
                let starts = i == 0 || !matches!(tokens[i - 1].0, Tok::PathSep | Tok::Punct('.'));
                if starts {
                    let here: Vec<String> =
                        module.iter().cloned().chain(inline.iter().map(|(name, _)| name.clone())).collect();
                    let mut prefixes = Vec::new();
                    let next = use_tree(&tokens, i, &here, &mut prefixes);
                    for (path, line) in prefixes {
                        found.push((path, line));
                    }
                    if next > i {
                        i = next;
                        continue;
                    }
                }
            }
            _ => {}
        }
        i += 1;
    }
    found
}

/// Reads a path (and a `use` tree after it) starting at token `i`; pushes the absolute paths it
/// names. Returns the index after what it read, or `i` when no path starts here.
fn use_tree(tokens: &[(Tok, usize)], i: usize, here: &[String], out: &mut Vec<(Vec<String>, usize)>) -> usize {
    let Some((Tok::Ident(first), line)) = tokens.get(i) else { return i };
    if !matches!(tokens.get(i + 1), Some((Tok::PathSep, _))) {
        return i;
    }
    let mut base: Vec<String> = match first.as_str() {
        "crate" => Vec::new(),
        "super" => {
            let mut base = here.to_vec();
            base.pop();
            base
        }
        _ => return i,
    };
    let mut j = i + 1;
    // Further `super::` and idents.
    while let (Some((Tok::PathSep, _)), Some(next)) = (tokens.get(j), tokens.get(j + 1)) {
        match &next.0 {
            Tok::Ident(word) if word == "super" => {
                base.pop();
                j += 2;
            }
            Tok::Ident(word) => {
                base.push(word.clone());
                j += 2;
            }
            Tok::Punct('{') => {
                j = group(tokens, j + 2, &base, out);
                return j;
            }
            _ => break,
        }
    }
    out.push((base, *line));
    j
}

/// Reads the inside of a `use` group `{a::X, b::{Y, Z}}` below `base`; returns the index after
/// its closing brace.
fn group(tokens: &[(Tok, usize)], mut j: usize, base: &[String], out: &mut Vec<(Vec<String>, usize)>) -> usize {
    let mut path = base.to_vec();
    let mut line = tokens.get(j).map_or(0, |(_, line)| *line);
    while let Some((token, at)) = tokens.get(j) {
        match token {
            Tok::Ident(word) if word == "self" => {}
            Tok::Ident(word) if word == "as" => {
                // Skip the alias.
                j += 1;
            }
            Tok::Ident(word) => {
                if path.len() == base.len() {
                    line = *at;
                }
                path.push(word.clone());
            }
            Tok::Punct('{') => {
                j = group(tokens, j + 1, &path, out);
                path.truncate(base.len());
                continue;
            }
            Tok::Punct(',') => {
                if path.len() > base.len() {
                    out.push((path.clone(), line));
                }
                path.truncate(base.len());
            }
            Tok::Punct('}') => {
                if path.len() > base.len() {
                    out.push((path.clone(), line));
                } else {
                    out.push((base.to_vec(), line));
                }
                return j + 1;
            }
            _ => {}
        }
        j += 1;
    }
    j
}

/// Tarjan's strongly connected components with two or more members.
fn strongly_connected(edges: &Edges) -> Vec<BTreeSet<Vec<String>>> {
    struct Walk<'a> {
        edges: &'a Edges,
        index: BTreeMap<&'a Vec<String>, usize>,
        low: BTreeMap<&'a Vec<String>, usize>,
        stack: Vec<&'a Vec<String>>,
        on_stack: BTreeSet<&'a Vec<String>>,
        found: Vec<BTreeSet<Vec<String>>>,
    }
    impl<'a> Walk<'a> {
        fn visit(&mut self, node: &'a Vec<String>) {
            let next = self.index.len();
            self.index.insert(node, next);
            self.low.insert(node, next);
            self.stack.push(node);
            self.on_stack.insert(node);
            for target in self.edges.get(node).into_iter().flat_map(BTreeMap::keys) {
                if !self.edges.contains_key(target) {
                    continue;
                }
                if !self.index.contains_key(target) {
                    self.visit(target);
                    let low = self.low[node].min(self.low[target]);
                    self.low.insert(node, low);
                } else if self.on_stack.contains(target) {
                    let low = self.low[node].min(self.index[target]);
                    self.low.insert(node, low);
                }
            }
            if self.low[node] == self.index[node] {
                let mut component = BTreeSet::new();
                while let Some(member) = self.stack.pop() {
                    self.on_stack.remove(member);
                    component.insert(member.clone());
                    if member == node {
                        break;
                    }
                }
                if component.len() > 1 {
                    self.found.push(component);
                }
            }
        }
    }
    let mut walk = Walk {
        edges,
        index: BTreeMap::new(),
        low: BTreeMap::new(),
        stack: Vec::new(),
        on_stack: BTreeSet::new(),
        found: Vec::new(),
    };
    for node in edges.keys() {
        if !walk.index.contains_key(node) {
            walk.visit(node);
        }
    }
    walk.found.sort();
    walk.found
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(dir: &Path, file: &str, text: &str) {
        let path = dir.join(file);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }

    #[test]
    fn no_import_circles_between_files() {
        let problems = import_circles(&crate::tidy::workspace_root());
        assert!(problems.is_empty(), "tidy problems:\n{}", problems.join("\n"));
    }

    /// Every workspace member is checked now or listed as joining after the merge: none is
    /// skipped silently.
    #[test]
    fn every_workspace_crate_is_checked_or_listed() {
        let root = crate::tidy::workspace_root();
        let mut members = vec!["xtask".to_owned(), "bindings/python".to_owned()];
        for entry in std::fs::read_dir(root.join("crates")).unwrap() {
            let entry = entry.unwrap();
            if entry.path().join("Cargo.toml").exists() {
                members.push(format!("crates/{}", entry.file_name().to_string_lossy()));
            }
        }
        for member in members {
            assert!(IMPORT_CIRCLE_CRATES.contains(&member.as_str()), "{member} is not in IMPORT_CIRCLE_CRATES");
            assert!(!module_files(&root.join(&member).join("src")).is_empty(), "{member} has no source files");
        }
    }

    #[test]
    fn circles_are_found_through_use_trees_super_and_child_paths() {
        let dir = std::env::temp_dir().join(format!("xtask-imports-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        write(&dir, "src/lib.rs", "//! Root.\nmod a;\nmod b;\nmod c;\nmod d;\npub use a::A;\n");
        // a -> b through a nested use tree; b -> a through `super::`; c -> a only from a comment,
        // a string and an inline test module's `super::*`; c -> c/e -> d -> c through `crate::`;
        // a bare path to a child module (`e::h`) is not a reference between files.
        write(
            &dir,
            "src/a.rs",
            "//! A.\nuse crate::{c::X, b::{self, Y as Z}};\npub struct A;\nconst Q: char = '\\'';\n",
        );
        write(&dir, "src/b.rs", "//! B.\nfn f() -> super::a::A { super::a::A }\n");
        write(
            &dir,
            "src/c.rs",
            "//! C, not `crate::a::A`.\n// crate::a::A\nmod e;\nconst S: &str = \"crate::a::A\";\npub struct X;\n\
             fn g() { crate::c::e::h(); }\n#[cfg(test)]\nmod tests {\n    use super::*;\n}\n",
        );
        write(&dir, "src/c/e.rs", "//! E.\npub fn h() { let _ = crate::d::D; }\n");
        write(&dir, "src/d.rs", "//! D.\npub struct D;\nfn i() -> crate::c::X { crate::c::X }\n");

        let problems = crate_circles(&dir, ".");
        assert_eq!(problems.len(), 2, "{problems:#?}");
        assert!(problems[0].contains("{a.rs, b.rs}"), "{}", problems[0]);
        assert!(problems[0].contains("a.rs -> b.rs (line 2)") && problems[0].contains("b.rs -> a.rs (line 2)"));
        assert!(problems[1].contains("{c.rs, c/e.rs, d.rs}"), "{}", problems[1]);

        // Breaking the circles (a shared leaf module) makes the check pass.
        write(&dir, "src/b.rs", "//! B.\npub struct Y;\n");
        write(&dir, "src/c/e.rs", "//! E.\npub fn h() {}\n");
        write(&dir, "src/d.rs", "//! D.\npub struct D;\nfn i() { super::c::e::h(); super::c::h2() }\n");
        write(&dir, "src/c.rs", "//! C.\nmod e;\npub fn h2() { e::h() }\n");
        assert!(crate_circles(&dir, ".").is_empty(), "{:#?}", crate_circles(&dir, "."));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
