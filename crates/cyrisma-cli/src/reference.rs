//! The CLI reference, `docs/cli-reference.md`, generated from the clap command tree (and the
//! emulator's own flags), so that it cannot drift from `--help`.
//!
//! Only tests use it: `reference_is_current` compares the checked-in file with a fresh
//! rendering and, with `CYRISMA_UPDATE_DOCS=1`, writes it:
//!
//! ```sh
//! CYRISMA_UPDATE_DOCS=1 cargo test -p cyrisma-cli --bin cyrisma reference
//! ```

use std::fmt::Write as _;

use clap::{Arg, Command, CommandFactory};

use crate::args::{Cli, ServeCli};
use crate::exit::Code;

/// Every exit code, in order.
const CODES: [Code; 8] = [
    Code::Success,
    Code::Error,
    Code::Usage,
    Code::Partial,
    Code::Auth,
    Code::Throttled,
    Code::Ambiguous,
    Code::Interrupted,
];

/// What an exit code means and what to do about it. The match is exhaustive, so a new code
/// cannot go undocumented.
fn meaning(code: Code) -> (&'static str, &'static str) {
    match code {
        Code::Success => ("success", "nothing"),
        Code::Error => (
            "an error (including an internal error: a crash prints how to report it)",
            "read the `error:` line and its `hint:`",
        ),
        Code::Usage => ("usage: bad flags, arguments or configuration", "see `--help` of the command"),
        Code::Partial => (
            "partial failure across instances: the output was written and the failed instances are listed",
            "retry the listed instances with `--instance`",
        ),
        Code::Auth => (
            "authentication: missing or refused credentials",
            "check with `cyrisma auth status`, store new ones with `cyrisma auth setup`",
        ),
        Code::Throttled => {
            ("rate limited or timed out", "try again later, or raise `--timeout` / lower `--concurrency`")
        }
        Code::Ambiguous => (
            "ambiguous outcome: a change may have happened",
            "check the current state (for example `cyrisma instances list`) before retrying",
        ),
        Code::Interrupted => ("interrupted by Ctrl-C", "nothing: no partial output file is left"),
    }
}

/// Renders the whole reference as Markdown.
pub(crate) fn render() -> String {
    let mut root = Cli::command();
    root.build();
    let mut out = String::new();
    out.push_str("# CLI reference\n\n");
    out.push_str(
        "<!-- Generated from the clap definitions by crates/cyrisma-cli/src/reference.rs: do not edit.\n     \
         Regenerate with: CYRISMA_UPDATE_DOCS=1 cargo test -p cyrisma-cli --bin cyrisma reference -->\n\n",
    );
    let _ = writeln!(out, "{}\n", text(root.get_long_about().or(root.get_about())));
    out.push_str("Every command prints data on stdout and messages on stderr, and takes the ");
    out.push_str("[global options](#global-options). The API secret is never an argument: it comes from ");
    out.push_str("`CYRISMA_API_SECRET` or the credential store (`cyrisma auth setup`).\n\n");
    out.push_str(
        "Output (`-o`): `table` and `csv` show curated columns with friendly names. `json` and `jsonl` of the ",
    );
    out.push_str(
        "resource commands (`instances`, `users`, `scans`, `dashboards` including `cves`, `assets`, `webhooks`) ",
    );
    out.push_str(
        "print the API's objects as it sent them: its own field names and every field, unknown ones included, ",
    );
    out.push_str(
        "with values typed as parsed (booleans as booleans, numbers as numbers). `report`, `usage`, `auth` and ",
    );
    out.push_str("`export` print rows of their own.\n\n");

    out.push_str("## Commands\n\n");
    let mut leaves = Vec::new();
    collect(&root, &mut Vec::new(), &mut leaves);
    for (path, about) in &leaves {
        let _ = writeln!(out, "- [`cyrisma {path}`](#{}): {about}", anchor(&format!("cyrisma {path}")));
    }
    out.push('\n');

    out.push_str("## Usage\n\n```text\n");
    out.push_str(root.render_usage().to_string().trim_end());
    out.push_str("\n```\n\n");
    // `no-run`: the examples hold placeholders (`KEY`) and servers that run until Ctrl-C, so the
    // documentation's example runner leaves them out.
    if let Some(examples) = root.get_before_help() {
        let _ = writeln!(out, "```sh no-run\n{}\n```\n", examples_block(&examples.to_string()));
    }

    out.push_str("## Global options\n\n");
    out.push_str("Every command takes these. Precedence: flag, then environment variable, then the profile in ");
    out.push_str("`config.toml`, then the default.\n\n");
    let globals: Vec<&Arg> = root.get_arguments().filter(|arg| shown(arg)).collect();
    options_table(&mut out, &globals);

    out.push_str("## Exit codes\n\n| Code | Meaning | What to do |\n| --- | --- | --- |\n");
    for code in CODES {
        let (what, todo) = meaning(code);
        let _ = writeln!(out, "| {} | {} | {} |", code as u8, what, todo);
    }
    out.push('\n');

    for sub in root.get_subcommands().filter(|sub| !sub.is_hide_set()) {
        section(&mut out, sub, &["cyrisma"], 2);
    }
    out
}

/// Whether an argument belongs in the reference: not hidden, not clap's own help and version.
fn shown(arg: &Arg) -> bool {
    !arg.is_hide_set() && !matches!(arg.get_id().as_str(), "help" | "version")
}

fn collect(command: &Command, path: &mut Vec<String>, leaves: &mut Vec<(String, String)>) {
    for sub in command.get_subcommands().filter(|sub| !sub.is_hide_set() && sub.get_name() != "help") {
        path.push(sub.get_name().to_owned());
        if sub.has_subcommands() {
            collect(sub, path, leaves);
        } else {
            leaves.push((path.join(" "), text(sub.get_about())));
        }
        path.pop();
    }
}

fn text(styled: Option<&clap::builder::StyledStr>) -> String {
    styled.map(|text| text.to_string().trim().to_owned()).unwrap_or_default()
}

/// GitHub's heading anchor: lower case, spaces to `-`, punctuation dropped.
fn anchor(heading: &str) -> String {
    heading
        .chars()
        .filter_map(|ch| match ch {
            ' ' => Some('-'),
            ch if ch.is_alphanumeric() || ch == '-' || ch == '_' => Some(ch.to_ascii_lowercase()),
            _ => None,
        })
        .collect()
}

/// The example lines of a `before_help`, without the `Examples:` title and the indent.
fn examples_block(before_help: &str) -> String {
    before_help
        .lines()
        .filter(|line| line.trim() != "Examples:")
        .map(|line| line.strip_prefix("  ").unwrap_or(line))
        .collect::<Vec<_>>()
        .join("\n")
}

fn section(out: &mut String, command: &Command, parents: &[&str], level: usize) {
    let mut path: Vec<&str> = parents.to_vec();
    path.push(command.get_name());
    let full = path.join(" ");
    let _ = writeln!(out, "{} `{full}`\n", "#".repeat(level.min(6)));
    let about = text(command.get_long_about().or(command.get_about()));
    if !about.is_empty() {
        let _ = writeln!(out, "{about}\n");
    }
    // `emulator serve` takes the emulator's own flags, parsed apart: document those.
    let serve;
    let command = if full == "cyrisma emulator serve" {
        let mut cli = ServeCli::command();
        cli.build();
        serve = cli;
        &serve
    } else {
        command
    };
    let mut usage_command = command.clone();
    let usage = usage_command.render_usage().to_string();
    let usage = usage.trim_start_matches("Usage: ").trim();
    let _ = writeln!(out, "```text\nUsage: {}\n```\n", usage.replace("cyrisma emulator serve", &full));
    if let Some(examples) = command.get_before_help() {
        let _ = writeln!(out, "Examples:\n\n```sh no-run\n{}\n```\n", examples_block(&examples.to_string()));
    }
    if command.has_subcommands() {
        out.push_str("Commands:\n\n");
        for sub in command.get_subcommands().filter(|sub| !sub.is_hide_set() && sub.get_name() != "help") {
            let name = format!("{full} {}", sub.get_name());
            let _ = writeln!(out, "- [`{name}`](#{}): {}", anchor(&name), text(sub.get_about()));
        }
        out.push('\n');
    }
    let positionals: Vec<&Arg> =
        command.get_arguments().filter(|arg| arg.is_positional() && !arg.is_global_set() && shown(arg)).collect();
    if !positionals.is_empty() {
        out.push_str("Arguments:\n\n| Argument | Description |\n| --- | --- |\n");
        for arg in positionals {
            let name = arg
                .get_value_names()
                .map(|names| names.iter().map(ToString::to_string).collect::<Vec<_>>().join(" "))
                .unwrap_or_else(|| arg.get_id().to_string().to_uppercase());
            let required = if arg.is_required_set() { format!("<{name}>") } else { format!("[{name}]") };
            let _ = writeln!(out, "| `{required}` | {} |", describe(arg));
        }
        out.push('\n');
    }
    let options: Vec<&Arg> =
        command.get_arguments().filter(|arg| !arg.is_positional() && !arg.is_global_set() && shown(arg)).collect();
    if !options.is_empty() {
        out.push_str("Options:\n\n");
        options_table(out, &options);
    }
    if command.has_subcommands() {
        for sub in command.get_subcommands().filter(|sub| !sub.is_hide_set() && sub.get_name() != "help") {
            section(out, sub, &path, level + 1);
        }
    }
}

fn options_table(out: &mut String, args: &[&Arg]) {
    out.push_str("| Option | Description | Default | Environment |\n| --- | --- | --- | --- |\n");
    for arg in args {
        let mut flag = String::new();
        if let Some(short) = arg.get_short() {
            let _ = write!(flag, "-{short}, ");
        }
        if let Some(long) = arg.get_long() {
            let _ = write!(flag, "--{long}");
        }
        let takes_value = arg.get_num_args().is_some_and(|range| range.takes_values())
            && !matches!(arg.get_action(), clap::ArgAction::SetTrue | clap::ArgAction::Count);
        if takes_value {
            let value = arg
                .get_value_names()
                .map(|names| names.iter().map(ToString::to_string).collect::<Vec<_>>().join(" "))
                .unwrap_or_else(|| arg.get_id().to_string().to_uppercase().replace('-', "_"));
            let _ = write!(flag, " <{value}>");
        }
        let (mut help, written_default) = split_default(&describe(arg));
        if arg.is_required_set() {
            help = format!("Required. {help}");
        }
        let defaults: Vec<String> = if takes_value {
            arg.get_default_values().iter().map(|value| value.to_string_lossy().into_owned()).collect()
        } else {
            // A flag's `false` and a counter's `0` say nothing.
            Vec::new()
        };
        let default = match (defaults.is_empty(), written_default) {
            (false, _) => format!("`{}`", defaults.join(",")),
            (true, Some(written)) => written,
            (true, None) => String::new(),
        };
        let env = arg.get_env().map(|env| format!("`{}`", env.to_string_lossy())).unwrap_or_default();
        let _ = writeln!(out, "| `{flag}` | {help} | {default} | {env} |");
    }
    out.push('\n');
}

/// Splits a `[default: X]` written into a help text (for defaults resolved after parsing, such
/// as the profile's) into the help without it and the default.
fn split_default(help: &str) -> (String, Option<String>) {
    if let Some(start) = help.find(" [default: ")
        && let Some(length) = help[start..].find(']')
    {
        let value = &help[start + " [default: ".len()..start + length];
        let rest = format!("{}{}", &help[..start], &help[start + length + 1..]);
        let value = if value.contains(' ') { value.to_owned() } else { format!("`{value}`") };
        return (rest, Some(value));
    }
    (help.to_owned(), None)
}

/// An argument's help, with its possible values, escaped for a table cell.
fn describe(arg: &Arg) -> String {
    let mut help = text(arg.get_long_help().or(arg.get_help())).replace('\n', " ");
    let values: Vec<String> = arg
        .get_possible_values()
        .iter()
        .filter(|value| !value.is_hide_set())
        .map(|value| match value.get_help() {
            Some(help) => format!("`{}` ({})", value.get_name(), help.to_string().trim()),
            None => format!("`{}`", value.get_name()),
        })
        .collect();
    if !values.is_empty() && !matches!(arg.get_action(), clap::ArgAction::SetTrue) {
        let _ = write!(help, ". Values: {}", values.join(", "));
    }
    help.replace('|', "\\|")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reference_path() -> std::path::PathBuf {
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/cli-reference.md")
    }

    #[test]
    fn reference_is_current() {
        let rendered = render();
        let path = reference_path();
        if std::env::var_os("CYRISMA_UPDATE_DOCS").is_some_and(|value| value == "1") {
            std::fs::write(&path, &rendered).expect("docs/cli-reference.md is written");
            return;
        }
        let current = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(
            current == rendered,
            "docs/cli-reference.md is not current with the clap definitions; regenerate it with\n  \
             CYRISMA_UPDATE_DOCS=1 cargo test -p cyrisma-cli --bin cyrisma reference\nand review the diff"
        );
    }

    #[test]
    fn reference_covers_every_command_option_and_exit_code() {
        let rendered = render();
        let mut root = Cli::command();
        root.build();
        let mut leaves = Vec::new();
        collect(&root, &mut Vec::new(), &mut leaves);
        assert!(leaves.len() >= 30, "only {} leaf commands found", leaves.len());
        for (path, about) in &leaves {
            assert!(rendered.contains(&format!("`cyrisma {path}`\n")), "no section for `cyrisma {path}`");
            assert!(!about.is_empty(), "`cyrisma {path}` has no about text");
        }
        // Every long option of every command, globals included, appears in some options table.
        fn walk(command: &Command, rendered: &str) {
            for arg in command.get_arguments().filter(|arg| shown(arg)) {
                if let Some(long) = arg.get_long() {
                    let flag = format!("--{long}");
                    let listed = rendered.lines().any(|line| line.starts_with("| `") && line.contains(&flag));
                    assert!(listed, "{flag} of {} is missing", command.get_name());
                }
                if let Some(env) = arg.get_env() {
                    assert!(rendered.contains(&format!("`{}`", env.to_string_lossy())), "{env:?} is missing");
                }
            }
            for sub in command.get_subcommands() {
                walk(sub, rendered);
            }
        }
        walk(&root, &rendered);
        let mut serve = ServeCli::command();
        serve.build();
        walk(&serve, &rendered);
        for code in CODES {
            assert!(rendered.contains(&format!("\n| {} | ", code as u8)), "exit code {} is missing", code as u8);
        }
    }
}
