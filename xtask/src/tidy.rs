//! Repository rules checked as tests: every rule a reviewer would otherwise have to remember.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use anyhow::Context;
use cargo_metadata::{DependencyKind, MetadataCommand, Package, PackageId};

mod imports;
mod links;

/// Crates that must never be reachable from `cyrisma-core` through normal dependencies: the
/// core is sans-IO.
const FORBIDDEN_IN_CORE: &[&str] = &[
    "tokio",
    "hyper",
    "hyper-util",
    "mio",
    "socket2",
    "reqwest",
    "ureq",
    "curl",
    "isahc",
    "surf",
    "h2",
    "async-std",
    "rustls",
    "native-tls",
];

/// Which workspace crates each workspace crate may depend on (normal and build dependencies).
/// Dependencies point one way: core ← transport ← fleet ← {cli, python}; the emulator uses only
/// core; the HTML reports sit on the fleet layer, under the front ends.
const ALLOWED_WORKSPACE_DEPS: &[(&str, &[&str])] = &[
    ("cyrisma-core", &[]),
    ("cyrisma-transport", &["cyrisma-core"]),
    ("cyrisma-fleet", &["cyrisma-core", "cyrisma-transport", "cyrisma-dataset"]),
    ("cyrisma-emulator", &["cyrisma-core"]),
    ("cyrisma-dataset", &["cyrisma-core"]),
    ("cyrisma-report-html", &["cyrisma-core", "cyrisma-dataset", "cyrisma-fleet"]),
    (
        "cyrisma-cli",
        &[
            "cyrisma-core",
            "cyrisma-transport",
            "cyrisma-dataset",
            "cyrisma-fleet",
            "cyrisma-report-html",
            "cyrisma-emulator",
        ],
    ),
    (
        "cyrisma-python",
        &[
            "cyrisma-core",
            "cyrisma-transport",
            "cyrisma-dataset",
            "cyrisma-fleet",
            "cyrisma-report-html",
            "cyrisma-emulator",
        ],
    ),
    ("xtask", &["cyrisma-core"]),
];

/// Crates that the fleet layer and the HTML reports must not reach: they know no terminal and
/// no Python (front ends render their progress events, rows and errors).
const FORBIDDEN_IN_FLEET: &[&str] = &["pyo3", "indicatif", "console", "clap", "anyhow"];

/// The workspace root (the parent of `xtask/`).
pub(crate) fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().map(Path::to_path_buf).unwrap_or_default()
}

/// Runs every check and returns the problems found.
pub(crate) fn run_all(root: &Path) -> anyhow::Result<Vec<String>> {
    let mut problems = Vec::new();
    problems.extend(module_docs(root));
    problems.extend(no_mod_rs(root));
    problems.extend(no_pending_snapshots(root));
    problems.extend(orphan_snapshots(root));
    problems.extend(instrument_skips_all(root));
    problems.extend(dependency_rules(root)?);
    problems.extend(links::doc_links(root));
    problems.extend(imports::import_circles(root));
    Ok(problems)
}

/// Every Rust source file of the repository (outside `target/` and hidden folders).
fn rust_files(root: &Path) -> Vec<PathBuf> {
    walkdir::WalkDir::new(root)
        .into_iter()
        .filter_entry(|entry| {
            let name = entry.file_name().to_string_lossy();
            !(entry.depth() > 0 && (name.starts_with('.') || name == "target" || name == "node_modules"))
        })
        .filter_map(Result::ok)
        .filter(|entry| entry.file_type().is_file() && entry.path().extension().is_some_and(|ext| ext == "rs"))
        .map(|entry| entry.into_path())
        .collect()
}

fn relative(root: &Path, path: &Path) -> String {
    path.strip_prefix(root).unwrap_or(path).display().to_string()
}

/// Every `.rs` file starts with a `//!` line saying what it is for.
pub(crate) fn module_docs(root: &Path) -> Vec<String> {
    rust_files(root)
        .into_iter()
        .filter(|path| {
            let text = std::fs::read_to_string(path).unwrap_or_default();
            !text.starts_with("//!")
        })
        .map(|path| format!("{} does not start with a `//!` line saying what it is for", relative(root, &path)))
        .collect()
}

/// No `mod.rs`: modules are `foo.rs` next to `foo/`.
pub(crate) fn no_mod_rs(root: &Path) -> Vec<String> {
    rust_files(root)
        .into_iter()
        .filter(|path| path.file_name().is_some_and(|name| name == "mod.rs"))
        .map(|path| format!("{} is a `mod.rs`: use `foo.rs` next to `foo/`", relative(root, &path)))
        .collect()
}

fn snapshot_files(root: &Path) -> Vec<PathBuf> {
    walkdir::WalkDir::new(root)
        .into_iter()
        .filter_entry(|entry| {
            let name = entry.file_name().to_string_lossy();
            !(entry.depth() > 0 && (name.starts_with('.') || name == "target"))
        })
        .filter_map(Result::ok)
        .filter(|entry| entry.file_type().is_file())
        .map(|entry| entry.into_path())
        .filter(|path| {
            let name = path.file_name().map(|name| name.to_string_lossy().into_owned()).unwrap_or_default();
            name.ends_with(".snap") || name.ends_with(".snap.new") || name.ends_with(".pending-snap")
        })
        .collect()
}

/// No unreviewed snapshot is left in the tree.
pub(crate) fn no_pending_snapshots(root: &Path) -> Vec<String> {
    snapshot_files(root)
        .into_iter()
        .filter(|path| !path.to_string_lossy().ends_with(".snap"))
        .map(|path| format!("{} is an unreviewed snapshot: review it with `cargo insta review`", relative(root, &path)))
        .collect()
}

/// How a test module declares the prefix of snapshot names it derives (and checks itself).
const DERIVED_PREFIX: &str = concat!("DERIVED_SNAPSHOT_PREFIX", ": &str = \"");

/// Every snapshot belongs to a test that still exists: its test module names it (or derives it
/// under a declared `DERIVED_SNAPSHOT_PREFIX`), and a glob snapshot's fixture file still exists.
pub(crate) fn orphan_snapshots(root: &Path) -> Vec<String> {
    let mut problems = Vec::new();
    for path in snapshot_files(root).into_iter().filter(|path| path.to_string_lossy().ends_with(".snap")) {
        let Some(dir) = path.parent() else { continue };
        let Some(test_dir) = dir.parent() else { continue };
        let file_name = path.file_name().map(|name| name.to_string_lossy().into_owned()).unwrap_or_default();
        let stem = file_name.trim_end_matches(".snap");
        let (name, glob_file) = match stem.split_once('@') {
            Some((name, file)) => (name, Some(file)),
            None => (stem, None),
        };
        // `<binary>__<module>__<snapshot>`: the binary is the folder's `main.rs` or `<binary>.rs`.
        let parts: Vec<&str> = name.split("__").collect();
        let (module_parts, snapshot) = match parts.split_last() {
            Some((snapshot, rest)) if !rest.is_empty() => (&rest[1..], *snapshot),
            _ => continue,
        };
        let mut source = test_dir.to_path_buf();
        if module_parts.is_empty() {
            source.push(format!("{}.rs", parts[0]));
            if !source.exists() {
                source = test_dir.join("main.rs");
            }
        } else {
            for part in module_parts {
                source.push(part);
            }
            source.set_extension("rs");
        }
        let text = std::fs::read_to_string(&source).unwrap_or_default();
        // A module that derives its snapshot names (the CLI's help, one per command of the tree)
        // declares their prefix and checks its own orphans.
        let derived = text
            .split_once(DERIVED_PREFIX)
            .and_then(|(_, rest)| rest.split('"').next())
            .is_some_and(|prefix| !prefix.is_empty() && snapshot.starts_with(prefix));
        let named = derived
            || derived_from_endpoint_list(root, &path, module_parts, snapshot)
            || text.contains(&format!("\"{snapshot}\""))
            || text.contains(&format!("fn {snapshot}("));
        if !named {
            problems.push(format!(
                "{} is an orphan snapshot: no test named `{snapshot}` in {}",
                relative(root, &path),
                relative(root, &source)
            ));
            continue;
        }
        if let Some(glob_file) = glob_file {
            let fixtures = test_dir.join("..").join("fixtures");
            let exists = walkdir::WalkDir::new(&fixtures)
                .into_iter()
                .filter_map(Result::ok)
                .any(|entry| entry.path().to_string_lossy().replace('\\', "/").ends_with(glob_file));
            if !exists {
                problems
                    .push(format!("{} is an orphan snapshot: fixture `{glob_file}` is gone", relative(root, &path)));
            }
        }
    }
    problems
}

/// Whether a snapshot of the core's tests is one that `tests/it/endpoints.rs` derives from the
/// endpoint list: `it__<resource>__<endpoint>_request` or `..._responses` of a listed endpoint.
fn derived_from_endpoint_list(root: &Path, path: &Path, module_parts: &[&str], snapshot: &str) -> bool {
    let core_snapshots = root.join("crates/cyrisma-core/tests/it/snapshots");
    let [resource] = module_parts else { return false };
    path.parent() == Some(core_snapshots.as_path())
        && cyrisma_core::api::ENDPOINTS.iter().any(|metadata| {
            metadata.name.split_once('.').is_some_and(|(listed, endpoint)| {
                listed == *resource
                    && (snapshot == format!("{endpoint}_request") || snapshot == format!("{endpoint}_responses"))
            })
        })
}

/// No `#[instrument]` records arguments by default: every one says `skip_all`.
pub(crate) fn instrument_skips_all(root: &Path) -> Vec<String> {
    let mut problems = Vec::new();
    for path in rust_files(root) {
        if path.starts_with(root.join("xtask")) {
            continue;
        }
        let text = std::fs::read_to_string(&path).unwrap_or_default();
        for (number, line) in text.lines().enumerate() {
            let trimmed = line.trim_start();
            let instrument = trimmed.starts_with("#[instrument") || trimmed.starts_with("#[tracing::instrument");
            if instrument && !trimmed.contains("skip_all") {
                problems.push(format!(
                    "{}:{}: `#[instrument]` without `skip_all` records every argument, secrets included",
                    relative(root, &path),
                    number + 1
                ));
            }
        }
    }
    problems
}

/// The crate graph rules: dependency direction between workspace crates, and no I/O crate in the
/// normal dependency closure of `cyrisma-core`.
pub(crate) fn dependency_rules(root: &Path) -> anyhow::Result<Vec<String>> {
    let metadata =
        MetadataCommand::new().manifest_path(root.join("Cargo.toml")).exec().context("cannot read `cargo metadata`")?;
    let mut problems = Vec::new();
    let packages: BTreeMap<&PackageId, &Package> =
        metadata.packages.iter().map(|package| (&package.id, package)).collect();
    let workspace: BTreeSet<String> = metadata
        .workspace_members
        .iter()
        .filter_map(|id| packages.get(id))
        .map(|package| package.name.to_string())
        .collect();

    for id in &metadata.workspace_members {
        let Some(package) = packages.get(id) else { continue };
        let name = package.name.to_string();
        let allowed =
            ALLOWED_WORKSPACE_DEPS.iter().find(|(crate_name, _)| *crate_name == name).map(|(_, allowed)| *allowed);
        let Some(allowed) = allowed else {
            problems.push(format!(
                "workspace crate `{name}` has no entry in the dependency-direction table of xtask/src/tidy.rs"
            ));
            continue;
        };
        for dependency in &package.dependencies {
            let dep_name = dependency.name.to_string();
            if dependency.kind != DependencyKind::Development
                && workspace.contains(&dep_name)
                && !allowed.contains(&dep_name.as_str())
            {
                problems.push(format!("`{name}` depends on `{dep_name}`, against the dependency direction"));
            }
        }
    }

    for name in core_normal_closure(&metadata)? {
        if FORBIDDEN_IN_CORE.contains(&name.as_str()) {
            problems.push(format!(
                "`cyrisma-core` reaches `{name}` through normal dependencies: the core must stay sans-IO"
            ));
        }
    }
    for layer in ["cyrisma-fleet", "cyrisma-report-html"] {
        for name in normal_closure(&metadata, layer)? {
            if FORBIDDEN_IN_FLEET.contains(&name.as_str()) {
                problems.push(format!(
                    "`{layer}` reaches `{name}` through normal dependencies: terminals and Python belong to the front ends"
                ));
            }
        }
    }
    Ok(problems)
}

/// The names of every package reachable from `cyrisma-core` through normal dependencies
/// (what `cargo tree -p cyrisma-core -e normal` shows), including itself.
pub(crate) fn core_normal_closure(metadata: &cargo_metadata::Metadata) -> anyhow::Result<BTreeSet<String>> {
    normal_closure(metadata, "cyrisma-core")
}

/// The names of every package reachable from the workspace crate `root` through normal
/// dependencies, including itself.
fn normal_closure(metadata: &cargo_metadata::Metadata, root: &str) -> anyhow::Result<BTreeSet<String>> {
    let packages: BTreeMap<&PackageId, &Package> =
        metadata.packages.iter().map(|package| (&package.id, package)).collect();
    let resolve = metadata.resolve.as_ref().context("`cargo metadata` gave no dependency graph")?;
    let nodes: BTreeMap<&PackageId, &cargo_metadata::Node> =
        resolve.nodes.iter().map(|node| (&node.id, node)).collect();
    let core = metadata
        .workspace_members
        .iter()
        .find(|id| packages.get(id).is_some_and(|package| package.name.as_str() == root))
        .with_context(|| format!("no `{root}` in the workspace"))?;
    let mut seen = BTreeSet::new();
    let mut stack = vec![core];
    while let Some(id) = stack.pop() {
        if !seen.insert(id) {
            continue;
        }
        let Some(node) = nodes.get(id) else { continue };
        for dep in &node.deps {
            if dep.dep_kinds.iter().any(|kind| kind.kind == DependencyKind::Normal) {
                stack.push(&dep.pkg);
            }
        }
    }
    Ok(seen.into_iter().filter_map(|id| packages.get(id)).map(|package| package.name.to_string()).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn assert_clean(problems: Vec<String>) {
        assert!(problems.is_empty(), "tidy problems:\n{}", problems.join("\n"));
    }

    #[test]
    fn every_rust_file_starts_with_module_docs() {
        assert_clean(module_docs(&workspace_root()));
    }

    #[test]
    fn no_mod_rs_files() {
        assert_clean(no_mod_rs(&workspace_root()));
    }

    #[test]
    fn no_unreviewed_snapshots() {
        assert_clean(no_pending_snapshots(&workspace_root()));
    }

    #[test]
    fn no_orphan_snapshots() {
        assert_clean(orphan_snapshots(&workspace_root()));
    }

    #[test]
    fn instrument_always_skips_all() {
        assert_clean(instrument_skips_all(&workspace_root()));
    }

    #[test]
    fn dependency_direction_and_sans_io_core() {
        assert_clean(dependency_rules(&workspace_root()).unwrap());
    }

    /// The closure walk sees the core's real dependencies and none of its dev-dependencies, so
    /// the sans-IO check is not vacuous.
    #[test]
    fn core_closure_is_what_cargo_tree_shows() {
        let metadata = MetadataCommand::new().manifest_path(workspace_root().join("Cargo.toml")).exec().unwrap();
        let closure = core_normal_closure(&metadata).unwrap();
        for expected in ["cyrisma-core", "http", "serde", "serde_json", "bytes"] {
            assert!(closure.contains(expected), "{expected} missing from {closure:?}");
        }
        for dev_only in ["insta", "proptest"] {
            assert!(!closure.contains(dev_only), "dev-dependency {dev_only} counted as normal");
        }
    }

    /// The checks catch what they are meant to catch (so a passing tidy means something).
    #[test]
    fn checks_detect_violations() {
        let dir = std::env::temp_dir().join(format!("xtask-tidy-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("src/foo")).unwrap();
        std::fs::create_dir_all(dir.join("tests/it/snapshots")).unwrap();
        std::fs::write(dir.join("src/lib.rs"), "fn main() {}\n").unwrap();
        std::fs::write(dir.join("src/foo/mod.rs"), "//! Foo.\n#[instrument(fields(x))]\nfn f() {}\n").unwrap();
        std::fs::write(dir.join("tests/it/main.rs"), "//! Tests.\nmod auth;\n").unwrap();
        std::fs::write(dir.join("tests/it/auth.rs"), "//! Auth.\n#[test]\nfn kept() {}\n").unwrap();
        std::fs::write(dir.join("tests/it/snapshots/it__auth__gone.snap"), "x").unwrap();
        std::fs::write(dir.join("tests/it/snapshots/it__auth__kept.snap"), "x").unwrap();
        std::fs::write(dir.join("tests/it/snapshots/it__auth__kept.snap.new"), "x").unwrap();
        std::fs::write(dir.join("tests/it/help.rs"), "//! Help.\nconst DERIVED_SNAPSHOT_PREFIX: &str = \"help_\";\n")
            .unwrap();
        std::fs::write(dir.join("tests/it/snapshots/it__help__help_root.snap"), "x").unwrap();
        std::fs::write(dir.join("tests/it/snapshots/it__help__other.snap"), "x").unwrap();

        let docs = module_docs(&dir);
        assert_eq!(docs.len(), 1, "{docs:?}");
        assert!(docs[0].contains("src/lib.rs"));
        assert_eq!(no_mod_rs(&dir).len(), 1);
        assert_eq!(instrument_skips_all(&dir).len(), 1);
        let mut orphans = orphan_snapshots(&dir);
        orphans.sort();
        assert_eq!(orphans.len(), 2, "{orphans:?}");
        assert!(orphans[0].contains("it__auth__gone.snap"));
        assert!(orphans[1].contains("it__help__other.snap"));
        assert_eq!(no_pending_snapshots(&dir).len(), 1);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
