//! `--help` of every command, snapshotted so that the command-line surface is reviewed with
//! every change, and each one checked to lead with an example.

use std::process::Command;

use crate::support::BIN;

fn help(args: &[&str]) -> String {
    let output =
        Command::new(BIN).args(args).arg("--help").env_clear().env("COLUMNS", "100").output().expect("the binary runs");
    assert!(output.status.success(), "{args:?}: {}", String::from_utf8_lossy(&output.stderr));
    let text = String::from_utf8(output.stdout).expect("utf-8 help");
    assert!(text.starts_with("Examples:\n  cyrisma "), "{args:?} does not lead with an example:\n{text}");
    text
}

/// Every command path of the tree (`[]` is the root), with whether it is a leaf (a command that
/// runs, not only a group) and its `--help`, found by walking `--help` output: what a user sees is
/// what is enumerated.
pub(crate) fn command_tree() -> Vec<(Vec<String>, bool, String)> {
    let mut found = Vec::new();
    let mut pending = vec![Vec::<String>::new()];
    // Bounded: the tree is finite and each path is visited once.
    while let Some(path) = pending.pop() {
        assert!(found.len() < 1_000, "the command tree does not end");
        let args: Vec<&str> = path.iter().map(String::as_str).collect();
        let text = help(&args);
        let mut children = Vec::new();
        if let Some(commands) = text.split("Commands:\n").nth(1) {
            for line in commands.lines().take_while(|line| !line.trim().is_empty()) {
                let Some(word) = line.strip_prefix("  ").and_then(|rest| rest.split_whitespace().next()) else {
                    continue;
                };
                if line.starts_with("   ") || word == "help" {
                    continue;
                }
                let mut child = path.clone();
                child.push(word.to_owned());
                children.push(child);
            }
        }
        // A command with subcommands still runs by itself when its usage does not require one
        // (`cyrisma report` and `cyrisma report html`).
        let runs_alone = text
            .lines()
            .find_map(|line| line.strip_prefix("Usage: "))
            .is_some_and(|usage| !usage.trim_end().ends_with("<COMMAND>"));
        found.push((path, children.is_empty() || runs_alone, text));
        pending.extend(children);
    }
    found.sort();
    found
}

/// The first example of a command's `--help` (`cyrisma dashboards overall --instance cc100004`),
/// split into arguments after `cyrisma`.
pub(crate) fn first_example(text: &str) -> Vec<String> {
    let line = text.lines().nth(1).unwrap_or_default();
    let command = line.trim().strip_prefix("cyrisma ").unwrap_or_else(|| panic!("no example in `{line}`"));
    command.split_whitespace().map(str::to_owned).collect()
}

/// The snapshots of this module are named `help_<command path>`, one per command of the tree (the
/// tidy check leaves their orphans to [`every_command_help_is_snapshotted`]).
const DERIVED_SNAPSHOT_PREFIX: &str = "help_";

#[test]
fn every_command_help_is_snapshotted() {
    // Derived from the command tree: a new command gets its snapshot `help_<path>` (review the new
    // `.snap`), and the snapshot of a command that is gone fails below.
    let tree = command_tree();
    assert!(tree.len() > 40, "only {} commands found", tree.len());
    let mut names = Vec::new();
    for (path, _, text) in tree {
        let name =
            format!("{DERIVED_SNAPSHOT_PREFIX}{}", if path.is_empty() { "root".to_owned() } else { path.join("_") })
                .replace('-', "_");
        insta::with_settings!({ filters => crate::support::time_filters(), prepend_module_to_snapshot => true }, {
            insta::assert_snapshot!(name.as_str(), text);
        });
        names.push(format!("it__help__{name}.snap"));
    }
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/it/snapshots");
    for entry in std::fs::read_dir(&dir).unwrap() {
        let file = entry.unwrap().file_name().to_string_lossy().into_owned();
        if file.starts_with(&format!("it__help__{DERIVED_SNAPSHOT_PREFIX}")) && file.ends_with(".snap") {
            assert!(names.contains(&file), "{file} is the help of a command that is gone: delete it");
        }
    }
}
