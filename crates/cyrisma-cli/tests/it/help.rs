//! `--help` of every command, snapshotted so that the command-line surface is reviewed with
//! every change, and each one checked to lead with an example.

use std::process::Command;

use crate::support::{BIN, snapshot};

fn help(args: &[&str]) -> String {
    let output =
        Command::new(BIN).args(args).arg("--help").env_clear().env("COLUMNS", "100").output().expect("the binary runs");
    assert!(output.status.success(), "{args:?}: {}", String::from_utf8_lossy(&output.stderr));
    let text = String::from_utf8(output.stdout).expect("utf-8 help");
    assert!(text.starts_with("Examples:\n  cyrisma "), "{args:?} does not lead with an example:\n{text}");
    text
}

macro_rules! help_snapshots {
    ($($test:ident => $name:literal [$($arg:literal),*];)*) => {
        $(
            #[test]
            fn $test() {
                snapshot!($name, help(&[$($arg),*]));
            }
        )*
    };
}

help_snapshots! {
    help_root => "help_root" [];
    help_auth => "help_auth" ["auth"];
    help_auth_setup => "help_auth_setup" ["auth", "setup"];
    help_auth_status => "help_auth_status" ["auth", "status"];
    help_auth_rotate_secret => "help_auth_rotate_secret" ["auth", "rotate-secret"];
    help_auth_logout => "help_auth_logout" ["auth", "logout"];
    help_instances => "help_instances" ["instances"];
    help_instances_list => "help_instances_list" ["instances", "list"];
    help_instances_get => "help_instances_get" ["instances", "get"];
    help_instances_create => "help_instances_create" ["instances", "create"];
    help_instances_convert => "help_instances_convert" ["instances", "convert"];
    help_instances_suspend => "help_instances_suspend" ["instances", "suspend"];
    help_instances_reactivate => "help_instances_reactivate" ["instances", "reactivate"];
    help_instances_set_mfa => "help_instances_set_mfa" ["instances", "set-mfa"];
    help_instances_authenticate => "help_instances_authenticate" ["instances", "authenticate"];
    help_instances_wait => "help_instances_wait" ["instances", "wait"];
    help_users => "help_users" ["users"];
    help_users_list => "help_users_list" ["users", "list"];
    help_users_get => "help_users_get" ["users", "get"];
    help_users_create => "help_users_create" ["users", "create"];
    help_users_disable => "help_users_disable" ["users", "disable"];
    help_scans => "help_scans" ["scans"];
    help_scans_vulnerability => "help_scans_vulnerability" ["scans", "vulnerability"];
    help_scans_data => "help_scans_data" ["scans", "data"];
    help_scans_baseline => "help_scans_baseline" ["scans", "baseline"];
    help_dashboards => "help_dashboards" ["dashboards"];
    help_dashboards_overall => "help_dashboards_overall" ["dashboards", "overall"];
    help_dashboards_data => "help_dashboards_data" ["dashboards", "data"];
    help_dashboards_baseline => "help_dashboards_baseline" ["dashboards", "baseline"];
    help_dashboards_vulnerability => "help_dashboards_vulnerability" ["dashboards", "vulnerability"];
    help_dashboards_cves => "help_dashboards_cves" ["dashboards", "cves"];
    help_assets => "help_assets" ["assets"];
    help_assets_list => "help_assets_list" ["assets", "list"];
    help_assets_show => "help_assets_show" ["assets", "show"];
    help_report => "help_report" ["report"];
    help_report_html => "help_report_html" ["report", "html"];
    help_snapshot => "help_snapshot" ["snapshot"];
    help_diff => "help_diff" ["diff"];
    help_history => "help_history" ["history"];
    help_history_runs => "help_history_runs" ["history", "runs"];
    help_history_findings => "help_history_findings" ["history", "findings"];
    help_export => "help_export" ["export"];
    help_export_findings => "help_export_findings" ["export", "findings"];
    help_usage => "help_usage" ["usage"];
    help_webhooks => "help_webhooks" ["webhooks"];
    help_webhooks_list => "help_webhooks_list" ["webhooks", "list"];
    help_webhooks_create => "help_webhooks_create" ["webhooks", "create"];
    help_webhooks_delete => "help_webhooks_delete" ["webhooks", "delete"];
    help_webhooks_listen => "help_webhooks_listen" ["webhooks", "listen"];
    help_emulator => "help_emulator" ["emulator"];
    help_emulator_serve => "help_emulator_serve" ["emulator", "serve"];
    help_completions => "help_completions" ["completions"];
    help_api => "help_api" ["api"];
}

/// Every command path of the tree (`[]` is the root), with whether it is a leaf (a command that
/// runs, not only a group), found by walking `--help` output: what a user sees is what is enumerated.
pub(crate) fn command_tree() -> Vec<(Vec<String>, bool)> {
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
        found.push((path, children.is_empty() || runs_alone));
        pending.extend(children);
    }
    found.sort();
    found
}

/// The leaf commands, as `auth setup`, `report`, ...
pub(crate) fn leaf_commands() -> Vec<String> {
    command_tree().into_iter().filter(|(_, leaf)| *leaf).map(|(path, _)| path.join(" ")).collect()
}

#[test]
fn every_command_has_a_help_snapshot() {
    // A new command without a snapshot above fails here.
    let source = include_str!("help.rs");
    for (path, _) in command_tree() {
        let name =
            if path.is_empty() { "help_root".to_owned() } else { format!("help_{}", path.join("_").replace('-', "_")) };
        assert!(source.contains(&format!("\"{name}\"")), "no help snapshot for `cyrisma {}`", path.join(" "));
    }
}
