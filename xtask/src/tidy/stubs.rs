//! Tidy check: every Python-visible name of the extension module has an entry in its stubs.
//!
//! Reads `bindings/python/src/**.rs` as tokens (no compiler) and lists what pyo3 exposes:
//! `#[pyclass]` structs (with `name = "..."`), the methods and getters of `#[pymethods]` impls
//! (with `#[pyo3(name = "...")]` and `#[getter(name)]` renames, `#[new]` as `__new__`),
//! `#[pyfunction]`s, the `fn sync / _async` pairs of `twin_methods!`, and the classes declared
//! through `view_class!` / `model_class!` (their `fields`, `lists` and `sequence` getters, plus
//! the methods of the macros' own `impl $class` templates; a template method inside an optional
//! `$( ... )?` group is expected only on classes declared with a `sequence`). Each must appear
//! in `python/cyrisma/_cyrisma.pyi` as a `class`, a top-level `def`, or a member `def` or
//! attribute of its class (see [`EXEMPT`] for the names left out on purpose).

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// Names the stubs leave out on purpose: `__repr__` and `__str__` (every object has them), and
/// `__getattr__` (the models read wire keys and unknown fields through it; declaring it would make
/// mypy accept every misspelt attribute, so the stubs declare only the typed attributes).
const EXEMPT: &[&str] = &["__repr__", "__str__", "__getattr__"];

/// The macros that declare view classes.
const CLASS_MACROS: &[&str] = &["view_class", "model_class"];

#[derive(Clone, Debug, PartialEq)]
enum Tok {
    Ident(String),
    Str(String),
    Punct(char),
}

/// Splits Rust source into identifiers, string literals and punctuation, with line numbers;
/// comments, lifetimes, char and number literals are dropped.
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
        } else if c.is_whitespace() {
            i += 1;
        } else if c == '/' && next == Some('/') {
            while i < chars.len() && chars[i] != '\n' {
                i += 1;
            }
        } else if c == '/' && next == Some('*') {
            i += 2;
            while i + 1 < chars.len() && !(chars[i] == '*' && chars[i + 1] == '/') {
                line += usize::from(chars[i] == '\n');
                i += 1;
            }
            i += 2;
        } else if c == '"' || (c == 'r' && matches!(next, Some('"' | '#'))) {
            // A string literal, plain or raw (`r"..."`, `r#"..."#`).
            let start_line = line;
            let mut hashes = 0;
            if c == 'r' {
                i += 1;
                while chars.get(i) == Some(&'#') {
                    hashes += 1;
                    i += 1;
                }
            }
            i += 1;
            let mut text = String::new();
            while i < chars.len() {
                if c != 'r' && chars[i] == '\\' {
                    text.push(chars[i]);
                    text.extend(chars.get(i + 1));
                    i += 2;
                    continue;
                }
                if chars[i] == '"' && (0..hashes).all(|k| chars.get(i + 1 + k) == Some(&'#')) {
                    i += 1 + hashes;
                    break;
                }
                line += usize::from(chars[i] == '\n');
                text.push(chars[i]);
                i += 1;
            }
            tokens.push((Tok::Str(text), start_line));
        } else if c == '\'' {
            // A char literal (`'x'`, `'\n'`) or a lifetime (`'py`): both carry no names.
            if next == Some('\\') {
                i += 2;
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
        } else if c.is_alphanumeric() || c == '_' {
            let start = i;
            while i < chars.len() && (chars[i].is_alphanumeric() || chars[i] == '_') {
                i += 1;
            }
            tokens.push((Tok::Ident(chars[start..i].iter().collect()), line));
        } else {
            tokens.push((Tok::Punct(c), line));
            i += 1;
        }
    }
    tokens
}

fn is_punct(token: Option<&(Tok, usize)>, c: char) -> bool {
    matches!(token, Some((Tok::Punct(p), _)) if *p == c)
}

fn ident(token: Option<&(Tok, usize)>) -> Option<&str> {
    match token {
        Some((Tok::Ident(name), _)) => Some(name),
        _ => None,
    }
}

/// The index just past the group that opens at `open` (`(`, `[` or `{`), or the end.
fn group_end(tokens: &[(Tok, usize)], open: usize) -> usize {
    let mut depth = 0usize;
    for (index, (token, _)) in tokens.iter().enumerate().skip(open) {
        match token {
            Tok::Punct('(' | '[' | '{') => depth += 1,
            Tok::Punct(')' | ']' | '}') => {
                depth = depth.saturating_sub(1);
                if depth == 0 {
                    return index + 1;
                }
            }
            _ => {}
        }
    }
    tokens.len()
}

/// One attribute (`#[...]`): its name (the last path segment before any arguments) and the
/// tokens of its arguments.
#[derive(Debug, Default)]
struct Attribute {
    name: String,
    args: Vec<Tok>,
}

impl Attribute {
    fn parse(tokens: &[(Tok, usize)]) -> Self {
        let mut attribute = Attribute::default();
        for (index, (token, _)) in tokens.iter().enumerate() {
            match token {
                Tok::Ident(name) => attribute.name.clone_from(name),
                Tok::Punct('(') => {
                    let end = group_end(tokens, index);
                    attribute.args = tokens[index + 1..end.saturating_sub(1)].iter().map(|(t, _)| t.clone()).collect();
                    break;
                }
                _ => {}
            }
        }
        attribute
    }

    /// `name = "value"` in the arguments.
    fn named(&self) -> Option<&str> {
        self.args.windows(3).find_map(|window| match window {
            [Tok::Ident(key), Tok::Punct('='), Tok::Str(value)] if key == "name" => Some(value.as_str()),
            _ => None,
        })
    }
}

/// A Python-visible name: a class member (`class` is the Rust type or, for macro-declared
/// classes, the Python name) or a module-level function or class.
#[derive(Debug, Default)]
struct Found {
    /// Rust struct name → Python class name.
    classes: BTreeMap<String, String>,
    /// (Rust type, Python member name, where).
    members: Vec<(String, String, String)>,
    /// (Python class name, member, where) for macro-declared classes.
    macro_members: Vec<(String, String, String)>,
    /// (Python function name, where).
    functions: Vec<(String, String)>,
    /// Class macro name → (template method, only with a `sequence`).
    templates: BTreeMap<String, Vec<(String, bool)>>,
    /// Class macro name → the class macros it expands.
    includes: BTreeMap<String, Vec<String>>,
    /// (Python class name, class macro, has a sequence, where).
    invocations: Vec<(String, String, bool, String)>,
}

/// The member name of a method with these attributes, or `None` for a name given by a macro
/// variable.
fn member_name(attributes: &[Attribute], name: &str) -> String {
    if attributes.iter().any(|a| a.name == "new") {
        return "__new__".to_owned();
    }
    for attribute in attributes {
        if attribute.name == "pyo3"
            && let Some(renamed) = attribute.named()
        {
            return renamed.to_owned();
        }
        if attribute.name == "getter"
            && let [Tok::Ident(renamed)] = attribute.args.as_slice()
        {
            return renamed.clone();
        }
    }
    name.to_owned()
}

/// Scans the methods of an impl body (`tokens[start..end]`, inside the braces).
fn impl_methods(tokens: &[(Tok, usize)], start: usize, end: usize, mut each: impl FnMut(String, bool, usize)) {
    let mut attributes = Vec::new();
    let mut i = start;
    // Optional `$( ... )?` groups of a macro template: (end index).
    let mut optional_until: Vec<usize> = Vec::new();
    while i < end {
        optional_until.retain(|until| *until > i);
        if is_punct(tokens.get(i), '#') && is_punct(tokens.get(i + 1), '[') {
            let close = group_end(tokens, i + 1);
            attributes.push(Attribute::parse(&tokens[i + 2..close.saturating_sub(1)]));
            i = close;
        } else if is_punct(tokens.get(i), '$') && is_punct(tokens.get(i + 1), '(') {
            // `$( ... )?` is optional; `$( ... )*` repeats and is treated like plain code.
            let close = group_end(tokens, i + 1);
            if is_punct(tokens.get(close), '?') {
                optional_until.push(close);
            }
            i += 2;
        } else if ident(tokens.get(i)) == Some("fn") {
            if let Some(name) = ident(tokens.get(i + 1)) {
                each(member_name(&attributes, name), !optional_until.is_empty(), tokens[i].1);
                // The twin of `fn sync / _async`.
                if is_punct(tokens.get(i + 2), '/')
                    && let Some(twin) = ident(tokens.get(i + 3))
                {
                    each(twin.to_owned(), !optional_until.is_empty(), tokens[i].1);
                }
            }
            attributes.clear();
            // Skip to the body and over it.
            let mut j = i + 1;
            while j < end && !is_punct(tokens.get(j), '{') {
                j += 1;
            }
            i = group_end(tokens, j);
        } else {
            i += 1;
        }
    }
}

/// The item names at depth 0 of a `{ a, b: T = x, ... }` group (the first identifier after each
/// comma, attributes skipped).
fn section_names(tokens: &[(Tok, usize)], open: usize) -> Vec<String> {
    let end = group_end(tokens, open);
    let mut names = Vec::new();
    let mut expect = true;
    let mut i = open + 1;
    while i + 1 < end {
        if is_punct(tokens.get(i), '#') && is_punct(tokens.get(i + 1), '[') {
            i = group_end(tokens, i + 1);
            continue;
        }
        match &tokens[i].0 {
            Tok::Punct('(' | '[' | '{') => {
                i = group_end(tokens, i);
                continue;
            }
            Tok::Punct(',') => expect = true,
            Tok::Ident(name) if expect => {
                names.push(name.clone());
                expect = false;
            }
            _ => {}
        }
        i += 1;
    }
    names
}

/// Scans one file's tokens (`macro` is the `macro_rules!` being read, if any).
fn scan(tokens: &[(Tok, usize)], file: &str, macro_name: Option<&str>, found: &mut Found) {
    let mut attributes: Vec<Attribute> = Vec::new();
    let mut i = 0;
    let at = |index: usize| format!("{file}:{}", tokens.get(index).map_or(0, |t| t.1));
    while i < tokens.len() {
        let word = ident(tokens.get(i));
        if is_punct(tokens.get(i), '#') && is_punct(tokens.get(i + 1), '[') {
            let close = group_end(tokens, i + 1);
            attributes.push(Attribute::parse(&tokens[i + 2..close.saturating_sub(1)]));
            i = close;
            continue;
        }
        if word == Some("macro_rules") && is_punct(tokens.get(i + 1), '!') {
            let name = ident(tokens.get(i + 2)).unwrap_or_default().to_owned();
            let end = group_end(tokens, i + 3);
            let body = &tokens[i + 4..end.saturating_sub(1)];
            for (index, _) in body.iter().enumerate() {
                if let Some(called) = ident(body.get(index))
                    && CLASS_MACROS.contains(&called)
                    && is_punct(body.get(index + 1), '!')
                {
                    found.includes.entry(name.clone()).or_default().push(called.to_owned());
                }
            }
            scan(body, file, Some(&name), found);
            attributes.clear();
            i = end;
            continue;
        }
        if let Some(called) = word
            && CLASS_MACROS.contains(&called)
            && is_punct(tokens.get(i + 1), '!')
            && is_punct(tokens.get(i + 2), '{')
            && macro_name.is_none()
        {
            let end = group_end(tokens, i + 2);
            // `Class = "PyName" (Model) { ... }`, after any attributes.
            let mut j = i + 3;
            while is_punct(tokens.get(j), '#') {
                j = group_end(tokens, j + 1);
            }
            if let (Some(Tok::Str(python)), true) = (tokens.get(j + 2).map(|t| &t.0), is_punct(tokens.get(j + 1), '='))
            {
                let python = python.clone();
                if let Some(rust) = ident(tokens.get(j)) {
                    found.classes.insert(rust.to_owned(), python.clone());
                }
                let mut has_sequence = false;
                let mut k = j + 3;
                while k < end {
                    match (ident(tokens.get(k)), is_punct(tokens.get(k + 1), ':')) {
                        (Some("fields" | "lists"), true) if is_punct(tokens.get(k + 2), '{') => {
                            for name in section_names(tokens, k + 2) {
                                found.macro_members.push((python.clone(), name, at(k)));
                            }
                            k = group_end(tokens, k + 2);
                            continue;
                        }
                        (Some("sequence"), true) => {
                            has_sequence = true;
                            if let Some(name) = ident(tokens.get(k + 2)) {
                                found.macro_members.push((python.clone(), name.to_owned(), at(k)));
                            }
                        }
                        _ => {}
                    }
                    k += 1;
                }
                found.invocations.push((python, called.to_owned(), has_sequence, at(i)));
            }
            attributes.clear();
            i = end;
            continue;
        }
        if word == Some("twin_methods") && is_punct(tokens.get(i + 1), '!') && macro_name.is_none() {
            let end = group_end(tokens, i + 2);
            let mut j = i + 3;
            while j < end {
                if ident(tokens.get(j)) == Some("impl")
                    && let Some(target) = ident(tokens.get(j + 1))
                {
                    let body_end = group_end(tokens, j + 2);
                    let target = target.to_owned();
                    impl_methods(tokens, j + 3, body_end.saturating_sub(1), |name, _, line| {
                        found.members.push((target.clone(), name, format!("{file}:{line}")));
                    });
                    j = body_end;
                } else {
                    j += 1;
                }
            }
            attributes.clear();
            i = end;
            continue;
        }
        let has = |name: &str| attributes.iter().any(|a| a.name == name);
        if word == Some("struct") && has("pyclass") {
            if let Some(rust) = ident(tokens.get(i + 1)) {
                let python = attributes.iter().find(|a| a.name == "pyclass").and_then(Attribute::named);
                // `name = $pyname` in a macro template is declared by the invocations instead.
                if macro_name.is_none() {
                    found.classes.insert(rust.to_owned(), python.unwrap_or(rust).to_owned());
                }
            }
            attributes.clear();
        } else if word == Some("impl") && has("pymethods") {
            let mut j = i + 1;
            while j < tokens.len() && !is_punct(tokens.get(j), '{') {
                j += 1;
            }
            let end = group_end(tokens, j);
            let templated = is_punct(tokens.get(i + 1), '$');
            let target = ident(tokens.get(j - 1)).unwrap_or_default().to_owned();
            impl_methods(tokens, j + 1, end.saturating_sub(1), |name, optional, line| match (templated, macro_name) {
                (true, Some(macro_name)) => {
                    found.templates.entry(macro_name.to_owned()).or_default().push((name, optional));
                }
                _ => found.members.push((target.clone(), name, format!("{file}:{line}"))),
            });
            attributes.clear();
            i = end;
            continue;
        } else if word == Some("fn") && has("pyfunction") {
            if let Some(name) = ident(tokens.get(i + 1)) {
                found.functions.push((member_name(&attributes, name), at(i)));
            }
            attributes.clear();
        } else if is_punct(tokens.get(i), ';') || is_punct(tokens.get(i), '{') || is_punct(tokens.get(i), '}') {
            attributes.clear();
        }
        i += 1;
    }
}

/// What a `.pyi` file declares: top-level names, and the members of each class.
#[derive(Debug, Default)]
struct Stubs {
    top: BTreeSet<String>,
    members: BTreeMap<String, BTreeSet<String>>,
}

fn parse_stubs(text: &str) -> Stubs {
    let mut stubs = Stubs::default();
    let mut class: Option<String> = None;
    let name_of = |rest: &str| -> String { rest.chars().take_while(|c| c.is_alphanumeric() || *c == '_').collect() };
    for line in text.lines() {
        if let Some(rest) = line.strip_prefix("class ") {
            let name = name_of(rest);
            stubs.top.insert(name.clone());
            class = Some(name);
        } else if let Some(rest) = line.strip_prefix("def ") {
            stubs.top.insert(name_of(rest));
            class = None;
        } else if !line.starts_with(' ') && !line.trim().is_empty() && !line.starts_with('@') && !line.starts_with('#')
        {
            // A module-level assignment or import ends the class.
            let name = name_of(line);
            if !name.is_empty() {
                stubs.top.insert(name);
            }
            class = None;
        } else if let (Some(class), Some(member)) = (&class, line.strip_prefix("    ")) {
            let member = member.trim_start_matches("async ");
            let name = if let Some(rest) = member.strip_prefix("def ") { name_of(rest) } else { name_of(member) };
            let is_attribute = member[name.len()..].trim_start().starts_with(':');
            if !name.is_empty() && (member.starts_with("def ") || is_attribute) {
                stubs.members.entry(class.clone()).or_default().insert(name);
            }
        }
    }
    stubs
}

/// The problems of the sources (path, text) against the stub text.
fn check(sources: &[(String, String)], stub_text: &str) -> Vec<String> {
    let mut found = Found::default();
    for (path, text) in sources {
        scan(&lex(text), path, None, &mut found);
    }
    let stubs = parse_stubs(stub_text);
    let mut problems = BTreeSet::new();
    let mut unknown = Vec::new();
    let mut expect = |class: Option<&str>, member: &str, origin: &str| {
        if EXEMPT.contains(&member) {
            return;
        }
        let present = match class {
            Some(class) => stubs.members.get(class).is_some_and(|members| members.contains(member)),
            None => stubs.top.contains(member),
        };
        if !present {
            let what = class.map_or_else(|| member.to_owned(), |class| format!("{class}.{member}"));
            problems.insert(format!("{origin}: `{what}` is exposed to Python but has no entry in _cyrisma.pyi"));
        }
    };
    for python in found.classes.values() {
        expect(None, python, "bindings/python/src");
    }
    for (rust, member, origin) in &found.members {
        match found.classes.get(rust) {
            Some(python) => expect(Some(python), member, origin),
            None => {
                unknown.push(format!("{origin}: `#[pymethods]` on `{rust}`, which is not a `#[pyclass]` found here"))
            }
        }
    }
    for (python, member, origin) in &found.macro_members {
        expect(Some(python), member, origin);
    }
    for (function, origin) in &found.functions {
        expect(None, function, origin);
    }
    for (python, called, has_sequence, origin) in &found.invocations {
        expect(None, python, origin);
        // The macro's templates, and those of the class macros it expands.
        let mut macros = vec![called.clone()];
        let mut index = 0;
        while index < macros.len() {
            let more = found.includes.get(&macros[index]).cloned().unwrap_or_default();
            macros.extend(more.into_iter().filter(|m| !macros.contains(m)).collect::<Vec<_>>());
            index += 1;
        }
        for name in &macros {
            for (member, optional) in found.templates.get(name).into_iter().flatten() {
                if !optional || *has_sequence {
                    expect(Some(python), member, origin);
                }
            }
        }
    }
    problems.extend(unknown);
    problems.into_iter().collect()
}

/// Every `#[pyclass]`, `#[pymethods]` member and `#[pyfunction]` of the Python binding has an
/// entry in `python/cyrisma/_cyrisma.pyi`.
pub(crate) fn python_stubs(root: &Path) -> Vec<String> {
    let crate_dir = root.join("bindings/python");
    let stub_path = crate_dir.join("python/cyrisma/_cyrisma.pyi");
    let Ok(stub_text) = std::fs::read_to_string(&stub_path) else {
        return vec![format!("{}: cannot read the stubs", stub_path.display())];
    };
    let mut sources: Vec<(String, String)> = walkdir::WalkDir::new(crate_dir.join("src"))
        .into_iter()
        .filter_map(Result::ok)
        .filter(|entry| entry.file_type().is_file() && entry.path().extension().is_some_and(|ext| ext == "rs"))
        .map(|entry| {
            let path = entry.path().strip_prefix(root).unwrap_or(entry.path()).display().to_string();
            (path, std::fs::read_to_string(entry.path()).unwrap_or_default())
        })
        .collect();
    sources.sort();
    check(&sources, &stub_text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_python_method_has_a_stub() {
        let problems = python_stubs(&super::super::workspace_root());
        assert!(problems.is_empty(), "missing stubs:\n{}", problems.join("\n"));
    }

    /// The real binding is not vacuously clean: the scan sees its classes, methods, twins,
    /// functions and macro-declared classes.
    #[test]
    fn scan_sees_the_binding() {
        let root = super::super::workspace_root();
        let text = std::fs::read_to_string(root.join("bindings/python/src/client.rs")).unwrap();
        let mut found = Found::default();
        scan(&lex(&text), "client.rs", None, &mut found);
        assert_eq!(found.classes.get("Client").map(String::as_str), Some("Client"));
        let members: BTreeSet<(&str, &str)> = found.members.iter().map(|(c, m, _)| (c.as_str(), m.as_str())).collect();
        for expected in
            [("Client", "__new__"), ("Client", "from_env"), ("Instances", "list"), ("Instances", "_list_async")]
        {
            assert!(members.contains(&expected), "{expected:?} not found in {members:?}");
        }
    }

    const SOURCE: &str = r#"
//! A synthetic binding.
#[pyclass(name = "Thing", frozen)]
pub(crate) struct RustThing { a: u8 }

#[pymethods]
impl RustThing {
    #[new]
    fn new() -> Self { Self { a: b'{' as u8 } }
    /// Docs with a brace: {
    #[getter(size)]
    fn get_size(&self) -> u8 { let _ = "}"; 1 }
    #[pyo3(name = "renamed")]
    fn rust_name(&self) {}
    fn __repr__(&self) -> String { format!("{}", 1) }
}

twin_methods! {
    impl RustThing {
        fn fetch / _fetch_async (this, py) { async move { Ok(()) } }
    }
}

macro_rules! view_class {
    ($class:ident = $pyname:literal ($model:ty) { fields: { $($field:ident),* }, $( sequence: $seq:ident, )? }) => {
        #[::pyo3::pyclass(name = $pyname)]
        pub(crate) struct $class;
        #[::pyo3::pymethods]
        impl $class {
            $( #[getter] fn $field(&self) {} )*
            fn to_dict<'py>(&self, py: Python<'py>) {}
            $( fn __len__(&self) -> usize { 0 } )?
        }
    };
}

view_class! {
    /// A view.
    PyView = "View" (Model) { fields: { /// Docs.
        alpha, #[allow(x)] beta }, sequence: items, }
}

#[pyfunction]
#[pyo3(name = "_hidden")]
fn visible_in_rust() {}
"#;

    const COMPLETE: &str = "\
import builtins

class Thing:
    def __new__(cls) -> Thing: ...
    @property
    def size(self) -> int: ...
    def renamed(self) -> None: ...
    def fetch(self) -> None: ...
    def _fetch_async(self) -> None: ...

class View:
    alpha: int
    @property
    def beta(self) -> int: ...
    def items(self) -> list[int]: ...
    def to_dict(self) -> dict[str, int]: ...
    def __len__(self) -> int: ...

def _hidden() -> None: ...
";

    fn sources() -> Vec<(String, String)> {
        vec![("synthetic.rs".to_owned(), SOURCE.to_owned())]
    }

    #[test]
    fn complete_stubs_pass() {
        assert_eq!(check(&sources(), COMPLETE), Vec::<String>::new());
    }

    /// Removing any one entry from the stubs is reported, naming the missing member.
    #[test]
    fn each_missing_entry_fails() {
        for (line, expected) in [
            ("    def __new__(cls) -> Thing: ...", "Thing.__new__"),
            ("    def size(self) -> int: ...", "Thing.size"),
            ("    def renamed(self) -> None: ...", "Thing.renamed"),
            ("    def fetch(self) -> None: ...", "Thing.fetch"),
            ("    def _fetch_async(self) -> None: ...", "Thing._fetch_async"),
            ("    alpha: int", "View.alpha"),
            ("    def beta(self) -> int: ...", "View.beta"),
            ("    def items(self) -> list[int]: ...", "View.items"),
            ("    def to_dict(self) -> dict[str, int]: ...", "View.to_dict"),
            ("    def __len__(self) -> int: ...", "View.__len__"),
            ("def _hidden() -> None: ...", "`_hidden`"),
        ] {
            let stubs: String = COMPLETE.lines().filter(|l| *l != line).map(|l| format!("{l}\n")).collect();
            assert_ne!(stubs, COMPLETE, "{line:?} is not in the synthetic stubs");
            let problems = check(&sources(), &stubs);
            assert_eq!(problems.len(), 1, "removing {line:?} gave {problems:?}");
            assert!(problems[0].contains(expected), "{problems:?} does not name {expected}");
        }
        // A whole class missing: the class and every member are reported.
        let without_view: String = COMPLETE.replace("class View:", "class Other:");
        let problems = check(&sources(), &without_view);
        assert!(problems.iter().any(|p| p.contains("`View`")), "{problems:?}");
        assert!(problems.iter().any(|p| p.contains("`View.to_dict`")), "{problems:?}");
    }

    /// A template method in an optional group is expected only on classes with a sequence; the
    /// Rust names of renamed members are not expected.
    #[test]
    fn optional_template_methods_and_renames() {
        let without_sequence = SOURCE.replace("sequence: items, ", "");
        let stubs = COMPLETE
            .replace("    def __len__(self) -> int: ...\n", "")
            .replace("    def items(self) -> list[int]: ...\n", "");
        assert_eq!(check(&[("s.rs".to_owned(), without_sequence)], &stubs), Vec::<String>::new());
        let mut found = Found::default();
        scan(&lex(SOURCE), "s.rs", None, &mut found);
        let names: Vec<&str> = found.members.iter().map(|(_, m, _)| m.as_str()).collect();
        assert!(!names.contains(&"rust_name") && !names.contains(&"get_size") && !names.contains(&"new"), "{names:?}");
    }
}
