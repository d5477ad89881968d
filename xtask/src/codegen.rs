//! `cargo xtask codegen`: writes the Python surface from the core's model declarations.
//!
//! Inputs: `cyrisma_core::types::MODELS` and `ENUMS` (what `model!` and `wire_enum!` declare:
//! fields, Rust types, wire keys, docs), the Python-only choices and the namespaces' method table
//! in `codegen/table.rs`, and the hand-kept parts of the Python files in `xtask/templates/`.
//! Outputs (committed; their first lines say they are generated):
//!
//! - `bindings/python/src/models/generated.rs`: the pyo3 view class of every model, the
//!   attribute conversion of every enum, and the registration;
//! - `bindings/python/python/cyrisma/_cyrisma.pyi`: the stubs (model classes, the namespaces'
//!   methods and their `_async` twins, `__all__`);
//! - `bindings/python/python/cyrisma/_async.py`: the async namespaces' coroutines;
//! - `bindings/python/python/cyrisma/__init__.py`: the imports and `__all__`.
//!
//! A test fails when a committed file differs from what this writes (`cargo xtask codegen`
//! fixes it).

mod table;

use std::fmt::Write as _;
use std::path::Path;

use anyhow::{Context, bail};
use cyrisma_core::types::{ENUMS, MODELS};
use cyrisma_core::wire::{EnumSchema, FieldSchema, ModelSchema};

use table::{METHODS, Method, NAMESPACES, NOT_IN_PYTHON, PY_MODELS, PyModel};

/// The generated files, relative to the workspace root.
const RUST_MODELS: &str = "bindings/python/src/models/generated.rs";
const RUST_METHODS: &str = "bindings/python/src/client/generated.rs";
const STUBS: &str = "bindings/python/python/cyrisma/_cyrisma.pyi";
const ASYNC: &str = "bindings/python/python/cyrisma/_async.py";
const INIT: &str = "bindings/python/python/cyrisma/__init__.py";

/// The generated Python's lines are shorter than this.
const WIDTH: usize = 120;

/// Every generated file: its path (relative to the root) and its content.
pub(crate) fn render(root: &Path) -> anyhow::Result<Vec<(&'static str, String)>> {
    let classes = classes()?;
    // A template's `#~` lines say what it keeps by hand and why; they are not copied.
    let template = |name: &str| {
        let path = root.join("xtask/templates").join(name);
        let text = std::fs::read_to_string(&path).with_context(|| format!("cannot read {}", path.display()))?;
        anyhow::ensure!(text.starts_with("#~ "), "{} does not start with its `#~` header", path.display());
        Ok::<_, anyhow::Error>(text.split_inclusive('\n').filter(|line| !line.starts_with("#~")).collect::<String>())
    };
    let stubs = stubs(&classes, &template("_cyrisma.pyi")?)?;
    let exported = top_level_names(&stubs);
    let asynchronous = async_module(&exported, &template("_async.py")?)?;
    let init = init_module(&exported, &template("__init__.py")?)?;
    Ok(vec![
        (RUST_MODELS, rust_models(&classes)?),
        (RUST_METHODS, rust_methods()?),
        (STUBS, stubs),
        (ASYNC, asynchronous),
        (INIT, init),
    ])
}

/// Writes the generated files that changed; returns their paths.
pub(crate) fn write(root: &Path) -> anyhow::Result<Vec<&'static str>> {
    let mut written = Vec::new();
    for (path, text) in render(root)? {
        let full = root.join(path);
        if std::fs::read_to_string(&full).ok().as_deref() != Some(text.as_str()) {
            if let Some(parent) = full.parent() {
                std::fs::create_dir_all(parent)?;
            }
            std::fs::write(&full, text).with_context(|| format!("cannot write {}", full.display()))?;
            written.push(path);
        }
    }
    Ok(written)
}

/// The generated files whose committed content is not what `cargo xtask codegen` writes.
pub(crate) fn stale(root: &Path) -> anyhow::Result<Vec<&'static str>> {
    let mut stale = Vec::new();
    for (path, text) in render(root)? {
        if std::fs::read_to_string(root.join(path)).ok().as_deref() != Some(text.as_str()) {
            stale.push(path);
        }
    }
    Ok(stale)
}

/// A model with its Python choices.
struct Class {
    schema: &'static ModelSchema,
    py: &'static PyModel,
    /// The list field that makes the class a sequence (a model whose only field is a list of
    /// models).
    sequence: Option<(&'static FieldSchema, String)>,
}

fn classes() -> anyhow::Result<Vec<Class>> {
    let mut classes = Vec::new();
    for schema in MODELS {
        if NOT_IN_PYTHON.contains(&schema.name) {
            continue;
        }
        let Some(py) = PY_MODELS.iter().find(|py| py.model == schema.name) else {
            bail!(
                "the core model `{}` has no entry in xtask/src/codegen/table.rs (PY_MODELS, or NOT_IN_PYTHON)",
                schema.name
            );
        };
        let sequence = match schema.fields {
            [only] => list_of_model(only.rust_type).map(|child| (only, child)),
            _ => None,
        };
        let named = py.by_hand.iter().chain(py.docs).map(|(name, _)| name);
        for name in py.repr.iter().chain(named) {
            if !schema.fields.iter().any(|field| field.name == *name) {
                bail!("xtask/src/codegen/table.rs: `{}` has no field `{name}`", schema.name);
            }
        }
        classes.push(Class { schema, py, sequence });
    }
    for py in PY_MODELS {
        if !MODELS.iter().any(|schema| schema.name == py.model) {
            bail!("xtask/src/codegen/table.rs: `{}` is not a core model (cyrisma_core::types::MODELS)", py.model);
        }
    }
    Ok(classes)
}

/// The Rust type without white space.
fn compact(rust_type: &str) -> String {
    rust_type.chars().filter(|ch| !ch.is_whitespace()).collect()
}

/// `T` of `Vec<T>` when `T` is a Python model class.
fn list_of_model(rust_type: &str) -> Option<String> {
    let compact = compact(rust_type);
    let inner = compact.strip_prefix("Vec<")?.strip_suffix('>')?;
    (MODELS.iter().any(|schema| schema.name == inner) && !NOT_IN_PYTHON.contains(&inner)).then(|| inner.to_owned())
}

/// The Python type of a field's attribute.
fn py_type(rust_type: &str) -> anyhow::Result<String> {
    let compact = compact(rust_type);
    if let Some(inner) = compact.strip_prefix("Option<").and_then(|rest| rest.strip_suffix('>')) {
        return Ok(format!("{} | None", py_type(inner)?));
    }
    if let Some(inner) = compact.strip_prefix("Vec<").and_then(|rest| rest.strip_suffix('>')) {
        return Ok(format!("list[{}]", py_type(inner)?));
    }
    if let Some(inner) = compact.strip_prefix("CountOrList<").and_then(|rest| rest.strip_suffix('>')) {
        return Ok(format!("int | list[{}]", py_type(inner)?));
    }
    if let Some(schema) = ENUMS.iter().find(|schema| schema.name == compact) {
        return Ok(if schema.is_numeric() { "int | str" } else { "str" }.to_owned());
    }
    if MODELS.iter().any(|schema| schema.name == compact) {
        return Ok(compact);
    }
    Ok(match compact.as_str() {
        "String" => "str",
        "u32" | "u64" | "i64" => "int",
        "f64" => "float",
        "bool" | "TextBool" => "bool",
        "serde_json::Value" => "Any",
        "WebhookEvents" => "list[str]",
        "WebhookSecret" => "Secret",
        other => bail!(
            "no Python type for the Rust type `{other}`: add it to `py_type` in xtask/src/codegen.rs (and an `Attr` \
             impl in bindings/python/src/models.rs)"
        ),
    }
    .to_owned())
}

/// The first paragraph of a Rust doc comment as Python reStructuredText on one line: evidence
/// tags (`\[DOC\]`) dropped, links unwrapped, `code` as ``code``.
fn py_doc(doc: &str) -> String {
    let mut text = String::new();
    for line in doc.lines().map(str::trim) {
        if line.is_empty() {
            if text.is_empty() {
                continue;
            }
            break;
        }
        if !text.is_empty() {
            text.push(' ');
        }
        text.push_str(line);
    }
    // Evidence tags: ` \[OBS\]`, ` \[ASSUMED shape\]`.
    while let Some(start) = text.find("\\[") {
        let end = text[start..].find("\\]").map_or(text.len(), |end| start + end + 2);
        let start = if text[..start].ends_with(' ') { start - 1 } else { start };
        text.replace_range(start..end, "");
    }
    // Intra-doc links: [`Type::member`] names the Python attribute `member`.
    while let Some(start) = text.find("[`") {
        let Some(end) = text[start..].find("`]").map(|end| start + end) else { break };
        let target = text[start + 2..end].rsplit("::").next().unwrap_or_default().to_owned();
        text.replace_range(start..end + 2, &format!("`{target}`"));
    }
    text.replace('`', "``")
}

/// A field's Python docstring: its core doc (or the table's), with the values of an enum and
/// the wire key when it is not the attribute's name, unless the doc says them.
fn field_doc(class: &Class, field: &FieldSchema) -> String {
    if let Some((_, doc)) = class.py.docs.iter().find(|(name, _)| *name == field.name) {
        return (*doc).to_owned();
    }
    let mut doc = py_doc(field.doc);
    let bare = compact(field.rust_type);
    let bare = bare.strip_prefix("Option<").and_then(|rest| rest.strip_suffix('>')).unwrap_or(&bare);
    if let Some(schema) = ENUMS.iter().find(|schema| schema.name == bare)
        && !doc.contains("``")
        && (2..=6).contains(&schema.values.len())
    {
        let quoted: Vec<String> = schema.values.iter().map(|value| format!("``{value}``")).collect();
        let (last, rest) = quoted.split_last().unwrap_or((&quoted[0], &[]));
        let stem = doc.strip_suffix('.').unwrap_or(&doc).to_owned();
        doc = format!("{stem}: {} or {last}.", rest.join(", "));
    }
    if field.wire != field.name && !field.doc.contains(&format!("`{}`", field.wire)) {
        let stem = doc.strip_suffix('.').unwrap_or(&doc).to_owned();
        doc = format!("{stem} (wire ``{}``).", field.wire);
    }
    doc
}

/// Wraps `text` into `///` lines at `indent`, at most 120 columns.
fn rust_doc(out: &mut String, indent: &str, text: &str) {
    for paragraph in text.split('\n') {
        let mut line = String::new();
        for word in paragraph.split(' ') {
            if !line.is_empty() && indent.len() + 4 + line.len() + 1 + word.len() > 120 {
                let _ = writeln!(out, "{indent}/// {line}");
                line.clear();
            }
            if !line.is_empty() {
                line.push(' ');
            }
            line.push_str(word);
        }
        let _ = writeln!(out, "{indent}/// {line}");
    }
}

fn rust_models(classes: &[Class]) -> anyhow::Result<String> {
    let mut out = String::from(
        "//! Generated by `cargo xtask codegen` from the core's model declarations and \
         xtask/src/codegen/table.rs: do not edit.\n//!\n//! The Python view class of every wire model, the \
         attribute conversion of the wire enums, and the\n//! registration of the classes.\n\n\
         use pyo3::prelude::*;\n\n",
    );
    let (numeric, text): (Vec<&&EnumSchema>, Vec<&&EnumSchema>) = ENUMS.iter().partition(|schema| schema.is_numeric());
    for (name, enums) in [("text_enum_attr", text), ("numeric_enum_attr", numeric)] {
        let names: Vec<String> = enums.iter().map(|schema| format!("cyrisma_core::types::{}", schema.name)).collect();
        let _ = writeln!(out, "{name}! {{\n    {}\n}}\n", names.join(",\n    "));
    }
    for class in classes {
        let name = class.schema.name;
        out.push_str("model_class! {\n");
        rust_doc(&mut out, "    ", class.py.doc);
        let _ = writeln!(out, "    Py{name} = \"{name}\" (cyrisma_core::types::{name}) {{");
        let _ = writeln!(out, "        repr: [{}],", class.py.repr.join(", "));
        let mut fields = String::new();
        let mut lists = String::new();
        if class.sequence.is_none() {
            for field in class.schema.fields {
                if class.py.by_hand.iter().any(|(hand, _)| *hand == field.name) {
                    continue;
                }
                py_type(field.rust_type)?;
                match list_of_model(field.rust_type) {
                    Some(child) => {
                        rust_doc(&mut lists, "            ", &field_doc(class, field));
                        let _ = writeln!(
                            lists,
                            "            {0}: cyrisma_core::types::{child} = |model| &model.{0},",
                            field.name
                        );
                    }
                    None => {
                        rust_doc(&mut fields, "            ", &field_doc(class, field));
                        let _ = writeln!(fields, "            {},", field.name);
                    }
                }
            }
        }
        for (label, body) in [("fields", fields), ("lists", lists)] {
            if body.is_empty() {
                let _ = writeln!(out, "        {label}: {{}},");
            } else {
                let _ = write!(out, "        {label}: {{\n{body}        }},\n");
            }
        }
        if let Some((field, child)) = &class.sequence {
            let _ =
                writeln!(out, "        sequence: {0}: cyrisma_core::types::{child} = |model| &model.{0},", field.name);
        }
        if let Some(bulk) = class.py.bulk {
            let _ = writeln!(out, "        bulk: {bulk},");
        }
        out.push_str("    }\n}\n\n");
    }
    out.push_str(
        "/// Registers the model classes.\npub(crate) fn register(module: &Bound<'_, PyModule>) -> PyResult<()> {\n",
    );
    for class in classes {
        let _ = writeln!(out, "    module.add_class::<Py{}>()?;", class.schema.name);
    }
    out.push_str("    Ok(())\n}\n");
    Ok(out)
}

/// A Python docstring at `indent`.
fn docstring(indent: &str, doc: &str) -> String {
    let body = doc.replace('\n', &format!("\n{indent}"));
    format!("{indent}\"\"\"{body}\"\"\"")
}

fn stub_class(class: &Class) -> anyhow::Result<String> {
    let name = class.schema.name;
    let mut lines = vec!["@final".to_owned(), format!("class {name}:"), docstring("    ", class.py.doc), String::new()];
    let property = |lines: &mut Vec<String>, attr: &str, ty: &str| {
        lines.push("    @property".to_owned());
        lines.push(format!("    def {attr}(self) -> {ty}: ..."));
    };
    if let Some((field, child)) = &class.sequence {
        property(&mut lines, field.name, &format!("list[{child}]"));
        lines.push("    def __len__(self) -> int: ...".to_owned());
        lines.push(format!("    def __getitem__(self, index: int, /) -> {child}: ..."));
        lines.push(format!("    def __iter__(self) -> Iterator[{child}]: ..."));
    } else {
        for field in class.schema.fields {
            let ty = match class.py.by_hand.iter().find(|(hand, _)| *hand == field.name) {
                Some((_, ty)) => (*ty).to_owned(),
                None => py_type(field.rust_type)?,
            };
            property(&mut lines, field.name, &ty);
        }
    }
    for stub in class.py.extra_stubs {
        lines.extend(stub.lines().map(|line| format!("    {line}")));
    }
    lines.push("    def to_dict(self) -> dict[str, Any]: ...".to_owned());
    lines.push("    def to_json(self) -> str: ...".to_owned());
    lines.push("    @staticmethod".to_owned());
    lines.push(format!("    def from_json(data: bytes | str) -> {name}: ..."));
    property(&mut lines, "extra", "dict[str, Any]");
    Ok(lines.join("\n") + "\n")
}

/// Splits a parameter list at its top-level commas.
fn split_params(params: &str) -> Vec<String> {
    let mut parts = Vec::new();
    let mut depth = 0_i32;
    let mut current = String::new();
    for ch in params.chars() {
        match ch {
            '[' | '(' => depth += 1,
            ']' | ')' => depth -= 1,
            ',' if depth == 0 => {
                parts.push(current.trim().to_owned());
                current.clear();
                continue;
            }
            _ => {}
        }
        current.push(ch);
    }
    if !current.trim().is_empty() {
        parts.push(current.trim().to_owned());
    }
    parts
}

/// The Rust side of the table's methods that only send one endpoint's request: a blocking
/// method and its `_async` twin each (`twin_methods!` of `client.rs`), the `str` parameters passed
/// to the endpoint's `Request::new` in order.
fn rust_methods() -> anyhow::Result<String> {
    let mut out = String::from(
        "//! Generated by `cargo xtask codegen` from xtask/src/codegen/table.rs: do not edit.\n//!\n\
         //! The native methods of the table's rows that name a core endpoint: each builds the endpoint's\n\
         //! request from its arguments and sends it (the others are written by hand in `client.rs`).\n\n\
         use cyrisma_core::api;\n\nuse super::*;\n",
    );
    for class in NAMESPACES {
        let methods: Vec<&Method> = methods_of(class).filter(|method| method.endpoint.is_some()).collect();
        if methods.is_empty() {
            continue;
        }
        let client = match *class {
            "InstanceClient" => "let client = this.inner()?;",
            _ => "let client = this.handle.client()?;",
        };
        let _ = write!(out, "\ntwin_methods! {{\n    impl {class} {{\n");
        for (index, method) in methods.iter().enumerate() {
            let endpoint = method.endpoint.unwrap_or_default();
            let mut names: Vec<String> = Vec::new();
            for param in split_params(method.params) {
                let Some((name, "str")) = param.split_once(':').map(|(name, ty)| (name.trim(), ty.trim())) else {
                    bail!(
                        "xtask/src/codegen/table.rs: `{class}.{}` sends `{endpoint}`, but `{param}` is not `name: str`",
                        method.name
                    );
                };
                names.push(name.to_owned());
            }
            if index > 0 {
                out.push('\n');
            }
            rust_doc(&mut out, "        ", method.doc);
            let args: String = names.iter().map(|name| format!(", {name}: String")).collect();
            let _ = writeln!(out, "        fn {0} / _{0}_async (this, _py{args}) {{", method.name);
            let _ = writeln!(out, "            {client}");
            let _ = writeln!(out, "            let request = api::{endpoint}::Request::new({});", names.join(", "));
            let _ = writeln!(out, "            async move {{ Ok(client.send(&request).await?) }}");
            let _ = writeln!(out, "        }}");
        }
        let _ = writeln!(out, "    }}\n}}");
    }
    Ok(out)
}

/// `prefix(items)suffix` at `indent`: on one line, else the items on one indented line, else
/// one item a line (the layout of ruff's formatter).
fn layout(indent: &str, prefix: &str, items: &[String], suffix: &str) -> String {
    let one = format!("{indent}{prefix}{}{suffix}", items.join(", "));
    if one.len() < WIDTH {
        return one;
    }
    let middle = format!("{indent}    {}", items.join(", "));
    if middle.len() < WIDTH {
        return format!("{indent}{prefix}\n{middle}\n{indent}{suffix}");
    }
    let mut out = format!("{indent}{prefix}\n");
    for item in items {
        let _ = writeln!(out, "{indent}    {item},");
    }
    out + indent + suffix
}

fn methods_of(class: &str) -> impl Iterator<Item = &'static Method> + '_ {
    METHODS.iter().filter(move |method| method.class == class)
}

fn stub_methods(class: &str) -> String {
    // In a class with a `list` method, `list` is that method after its definition.
    let shadowed = methods_of(class).any(|method| method.name == "list");
    let mut lines = Vec::new();
    for method in methods_of(class) {
        let mut params = vec!["self".to_owned()];
        params.extend(split_params(method.params));
        let returns = |first: bool| {
            if shadowed && !(first && method.name == "list") {
                method.returns.replace("list[", "builtins.list[")
            } else {
                method.returns.to_owned()
            }
        };
        lines.push(layout("    ", &format!("def {}(", method.name), &params, &format!(") -> {}: ...", returns(true))));
        lines.push(layout(
            "    ",
            &format!("def _{}_async(", method.name),
            &params,
            &format!(") -> Awaitable[{}]: ...", returns(false)),
        ));
    }
    lines.join("\n")
}

fn async_methods(class: &str) -> String {
    let mut blocks = Vec::new();
    for method in methods_of(class) {
        let params = split_params(method.params);
        let mut all = vec!["self".to_owned()];
        all.extend(params.iter().cloned());
        let mut keyword = false;
        let mut args = Vec::new();
        for param in &params {
            if param == "*" {
                keyword = true;
                continue;
            }
            let name = param.split(':').next().unwrap_or(param).trim();
            args.push(if keyword { format!("{name}={name}") } else { name.to_owned() });
        }
        let mut block =
            layout("    ", &format!("async def {}(", method.name), &all, &format!(") -> {}:", method.returns));
        let _ = write!(block, "\n{}\n", docstring("        ", method.doc));
        block.push_str(&layout("        ", &format!("return await self._native._{}_async(", method.name), &args, ")"));
        blocks.push(block);
    }
    blocks.join("\n\n")
}

/// Replaces `{{MARKER}}` in a template, which must hold it.
fn fill(template: &mut String, marker: &str, text: &str) -> anyhow::Result<()> {
    let key = format!("{{{{{marker}}}}}");
    anyhow::ensure!(template.contains(&key), "the template has no `{key}`");
    *template = template.replacen(&key, text, 1);
    Ok(())
}

fn generated_header(template: &str) -> String {
    format!(
        "# Generated by `cargo xtask codegen`: do not edit. Sources: the core's model declarations,\n\
         # xtask/src/codegen/table.rs and xtask/templates/{template}.\n"
    )
}

fn stubs(classes: &[Class], template: &str) -> anyhow::Result<String> {
    let mut text = template.to_owned();
    let models: Vec<String> = classes.iter().map(stub_class).collect::<anyhow::Result<_>>()?;
    fill(&mut text, "MODELS", &models.join("\n"))?;
    for class in NAMESPACES {
        fill(&mut text, &format!("METHODS {class}"), &stub_methods(class))?;
    }
    let mut names = top_level_names(&text);
    names.sort();
    fill(&mut text, "ALL", &all_list(&names))?;
    Ok(generated_header("_cyrisma.pyi") + &text)
}

/// The names a stub file defines at the top level (classes, functions, `__version__`).
fn top_level_names(stubs: &str) -> Vec<String> {
    let mut names = Vec::new();
    for line in stubs.lines() {
        let rest = line.strip_prefix("class ").or_else(|| line.strip_prefix("def "));
        if let Some(rest) = rest {
            let name: String = rest.chars().take_while(|ch| ch.is_alphanumeric() || *ch == '_').collect();
            names.push(name);
        } else if line.starts_with("__version__:") {
            names.push("__version__".to_owned());
        }
    }
    names
}

/// Whether `name` is used in `text` as a name (not an attribute or part of a longer name).
fn uses(text: &str, name: &str) -> bool {
    text.match_indices(name).any(|(at, _)| {
        let before = text[..at].chars().next_back();
        let after = text[at + name.len()..].chars().next();
        let boundary = |ch: Option<char>| !ch.is_some_and(|ch| ch.is_alphanumeric() || ch == '_');
        boundary(before) && before != Some('.') && boundary(after)
    })
}

/// `from ._cyrisma import (...)` of `names`, sorted the way isort does (classes by name, case
/// aside, then the rest).
fn import_block(mut names: Vec<String>) -> String {
    names.sort_by_key(|name| (!name.starts_with(|ch: char| ch.is_ascii_uppercase()), name.to_lowercase()));
    format!("from ._cyrisma import (\n{})", names.iter().map(|name| format!("    {name},\n")).collect::<String>())
}

/// `__all__ = [...]` of `names`, one a line.
fn all_list(names: &[String]) -> String {
    format!("__all__ = [\n{}]", names.iter().map(|name| format!("    \"{name}\",\n")).collect::<String>())
}

fn async_module(exported: &[String], template: &str) -> anyhow::Result<String> {
    let mut text = template.to_owned();
    for class in NAMESPACES {
        fill(&mut text, &format!("ASYNC {class}"), &async_methods(class))?;
    }
    let names = exported.iter().filter(|name| uses(&text, name)).cloned().collect();
    fill(&mut text, "IMPORTS", &import_block(names))?;
    Ok(generated_header("_async.py") + &text)
}

fn init_module(exported: &[String], template: &str) -> anyhow::Result<String> {
    let mut text = template.to_owned();
    let public: Vec<String> = exported
        .iter()
        .filter(|name| name.starts_with(|ch: char| ch.is_ascii_uppercase()) || *name == "__version__")
        .cloned()
        .collect();
    fill(&mut text, "IMPORTS", &import_block(public))?;
    // `__all__`: every name the module imports.
    let mut names = Vec::new();
    let mut lines = text.lines();
    while let Some(line) = lines.next() {
        let Some(rest) = line.strip_prefix("from ").filter(|rest| !rest.starts_with("__future__")) else { continue };
        let Some((_, imported)) = rest.split_once(" import ") else { continue };
        if imported.trim() == "(" {
            for item in lines.by_ref() {
                if item.trim() == ")" {
                    break;
                }
                names.push(item.trim().trim_end_matches(',').to_owned());
            }
        } else {
            names.extend(imported.split(',').map(|name| name.trim().to_owned()));
        }
    }
    names.sort();
    names.dedup();
    fill(&mut text, "ALL", &all_list(&names))?;
    Ok(generated_header("__init__.py") + &text)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The committed Python surface is what the generator writes from the current sources.
    #[test]
    fn generated_python_surface_is_current() {
        let root = crate::tidy::workspace_root();
        let stale = stale(&root).expect("the generator runs");
        assert!(
            stale.is_empty(),
            "these generated files are not current with the core's models and xtask/src/codegen/table.rs:\n  {}\n\
             regenerate them with\n  cargo xtask codegen",
            stale.join("\n  ")
        );
    }

    #[test]
    fn rust_types_map_to_python_types() {
        assert_eq!(py_type("Option < String >").unwrap(), "str | None");
        assert_eq!(py_type("Vec<serde_json::Value>").unwrap(), "list[Any]");
        assert_eq!(py_type("Option<MfaType>").unwrap(), "int | str | None");
        assert_eq!(py_type("Option<Grade>").unwrap(), "str | None");
        assert_eq!(py_type("CountOrList<String>").unwrap(), "int | list[str]");
        assert!(py_type("HashMap<String, u8>").is_err());
    }

    #[test]
    fn docs_become_restructured_text() {
        assert_eq!(
            py_doc(" The scan's grade \\[ASSUMED shape\\]; `None` when\n empty.\n"),
            "The scan's grade; ``None`` when empty."
        );
        assert_eq!(py_doc(" See [`Asset::identifier`].\n\n More.\n"), "See ``identifier``.");
    }

    #[test]
    fn long_signatures_wrap_like_ruff() {
        let short = layout("    ", "def f(", &["self".to_owned()], ") -> None: ...");
        assert_eq!(short, "    def f(self) -> None: ...");
        let items: Vec<String> = (0..30).map(|index| format!("argument_{index}: int")).collect();
        let long = layout("    ", "def f(", &items, ") -> None: ...");
        assert!(long.starts_with("    def f(\n        argument_0: int,\n"));
        assert!(long.ends_with("        argument_29: int,\n    ) -> None: ..."));
    }

    #[test]
    fn names_are_found_as_names_only() {
        assert!(uses("x: Client = 1", "Client"));
        assert!(!uses("AsyncClient()", "Client"));
        assert!(!uses(":class:`cyrisma.Client`", "Client"));
    }
}
