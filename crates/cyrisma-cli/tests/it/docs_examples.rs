//! Every shell example of the documentation runs: each ```` ```sh ```` block of `README.md`, the
//! crates' and the Python package's READMEs and `docs/**/*.md` (not those marked `no-run`) is run with `bash -euo pipefail`, with the built
//! `cyrisma` on `PATH`, a private HOME, and the `CYRISMA_*` variables of an emulator on
//! 127.0.0.1. The blocks of one page run in order, in one temporary directory, against one
//! emulator; a failing block is reported with its file, line and output.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use crate::support::{self, BIN, Env};

/// One runnable block: where it is and what it says.
#[derive(Debug)]
struct Block {
    file: PathBuf,
    line: usize,
    code: String,
}

/// The workspace root.
fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..").canonicalize().expect("the workspace root exists")
}

/// Generated pages whose `sh` blocks are clap's help examples (placeholders such as `KEY`, and
/// servers that run until Ctrl-C); a test in `src/reference.rs` checks the page is current.
const GENERATED: &[&str] = &["docs/cli-reference.md"];

/// The pages whose examples run: `README.md`, the crates' and the Python package's READMEs, and
/// every Markdown file under `docs/`, except the generated ones.
fn pages(root: &Path) -> Vec<PathBuf> {
    let mut pages = vec![root.join("README.md"), root.join("bindings/python/README.md")];
    if let Ok(crates) = std::fs::read_dir(root.join("crates")) {
        pages.extend(crates.flatten().map(|entry| entry.path().join("README.md")).filter(|path| path.is_file()));
    }
    let mut stack = vec![root.join("docs")];
    while let Some(dir) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else { continue };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|ext| ext == "md")
                && !GENERATED.iter().any(|generated| path == root.join(generated))
            {
                pages.push(path);
            }
        }
    }
    pages.sort();
    pages
}

/// The ```` ```sh ```` blocks of a Markdown text, with the line of their opening fence;
/// `sh no-run` and every other language are left out.
fn sh_blocks(file: &Path, text: &str) -> Vec<Block> {
    let mut blocks = Vec::new();
    let mut open: Option<(usize, String, bool, String)> = None;
    for (index, line) in text.lines().enumerate() {
        let trimmed = line.trim_start();
        match &mut open {
            Some((start, fence, runs, code)) => {
                if trimmed.starts_with(fence.as_str()) && trimmed.trim_start_matches('`').trim().is_empty() {
                    if *runs {
                        blocks.push(Block { file: file.to_path_buf(), line: *start, code: std::mem::take(code) });
                    }
                    open = None;
                } else {
                    code.push_str(line);
                    code.push('\n');
                }
            }
            None => {
                let ticks = trimmed.chars().take_while(|c| *c == '`').count();
                if ticks >= 3 {
                    let info: Vec<&str> = trimmed[ticks..].split_whitespace().collect();
                    let runs = info.first() == Some(&"sh") && !info.contains(&"no-run");
                    open = Some((index + 1, "`".repeat(ticks), runs, String::new()));
                }
            }
        }
    }
    blocks
}

/// What running one block produced.
struct Outcome {
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

/// Runs one block with `bash -euo pipefail` in `workdir`, with the environment of `env` and the
/// built binary first on `PATH`. A generous hang guard kills it after ten minutes.
fn run_block(env: &Env, workdir: &Path, block: &Block) -> Outcome {
    let bin_dir = Path::new(BIN).parent().expect("the binary has a directory");
    let path = std::env::var_os("PATH").unwrap_or_default();
    let path = std::env::join_paths(std::iter::once(bin_dir.to_path_buf()).chain(std::env::split_paths(&path)))
        .expect("a valid PATH");
    let out_path = workdir.join(".block-stdout");
    let err_path = workdir.join(".block-stderr");
    let mut command: Command = env.command_with("bash", &["-euo", "pipefail", "-c", &block.code]);
    command
        .env("PATH", path)
        // The pages use the default config dir under HOME, as a user would.
        .env_remove("CYRISMA_CONFIG_DIR")
        .current_dir(workdir)
        .stdin(Stdio::null())
        .stdout(std::fs::File::create(&out_path).expect("a stdout file"))
        .stderr(std::fs::File::create(&err_path).expect("a stderr file"));
    // Its own process group, so that servers a failing block started in the background are
    // stopped with it.
    #[cfg(unix)]
    std::os::unix::process::CommandExt::process_group(&mut command, 0);
    let mut child = command.spawn().expect("bash runs");
    // Hang guard only (never a speed limit): 6,000 polls of 100 ms.
    let mut code = None;
    for _ in 0..6_000 {
        if let Some(status) = child.try_wait().expect("the block's status") {
            code = Some(status.code().unwrap_or(-1));
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    if code.is_none() {
        let _ = child.kill();
        let _ = child.wait();
    }
    stop_group(child.id());
    let read = |path: &Path| String::from_utf8_lossy(&std::fs::read(path).unwrap_or_default()).into_owned();
    Outcome { code, stdout: read(&out_path), stderr: read(&err_path) }
}

/// Stops whatever is left of a block's process group (background servers of a failed block):
/// SIGINT first, which emulators treat as Ctrl-C (a graceful stop that removes their temporary
/// CA), then SIGTERM for what ignores it (background jobs of a non-interactive shell do).
fn stop_group(pid: u32) {
    #[cfg(unix)]
    {
        let group = format!("-{pid}");
        let signal = |name: &str| {
            Command::new("kill")
                .args([name, "--", &group])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status()
                .is_ok_and(|status| status.success())
        };
        if !signal("-INT") {
            return; // the group is gone
        }
        // Bounded: 40 polls of 50 ms for a graceful stop, then SIGTERM.
        for _ in 0..40 {
            if !signal("-0") {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        signal("-TERM");
    }
    #[cfg(not(unix))]
    let _ = pid;
}

/// Runs every block of one page in order, in one temporary directory against one emulator;
/// returns a report for each block that failed.
fn run_page(root: &Path, blocks: &[Block]) -> Vec<String> {
    let env = Env::start(support::small());
    let workdir = tempfile::tempdir().expect("a working directory");
    let mut failures = Vec::new();
    for block in blocks {
        let outcome = run_block(&env, workdir.path(), block);
        if outcome.code != Some(0) {
            let file = block.file.strip_prefix(root).unwrap_or(&block.file).display().to_string();
            let status =
                outcome.code.map_or_else(|| "killed after 10 minutes".to_owned(), |code| format!("exit code {code}"));
            failures.push(format!(
                "{file}:{}: the example failed ({status})\n----- block -----\n{}----- stdout -----\n{}----- stderr -----\n{}",
                block.line, block.code, outcome.stdout, outcome.stderr
            ));
        }
    }
    failures
}

#[test]
fn every_shell_example_in_the_docs_runs() {
    let root = workspace_root();
    let mut failures = Vec::new();
    let mut ran = 0;
    let mut pages_with_examples = Vec::new();
    for page in pages(&root) {
        let text = std::fs::read_to_string(&page).expect("the page is readable");
        let blocks = sh_blocks(&page, &text);
        if blocks.is_empty() {
            continue;
        }
        ran += blocks.len();
        pages_with_examples.push(page.strip_prefix(&root).unwrap_or(&page).display().to_string());
        failures.extend(run_page(&root, &blocks));
    }
    eprintln!("ran {ran} shell examples from {}", pages_with_examples.join(", "));
    // The guides teach the CLI with runnable examples: finding none means the scan is broken.
    assert!(
        pages_with_examples.iter().any(|page| page == "docs/getting-started.md"),
        "no runnable example found in docs/getting-started.md (found: {pages_with_examples:?})"
    );
    assert!(failures.is_empty(), "{} of {ran} doc examples failed:\n\n{}", failures.len(), failures.join("\n\n"));
}

/// The scanner picks `sh` blocks only, skips `no-run`, and the runner reports a failing block
/// with its place and output, and stops what it left running (so a passing run means
/// something, and a failing one leaves no server behind).
#[test]
fn a_failing_example_is_reported_with_its_place() {
    let scratch = tempfile::tempdir().expect("a scratch directory");
    let pid_file = scratch.path().join("background.pid");
    let text = format!(
        "# Page\n\n```sh\necho first > note.txt\n```\n\n```sh no-run\nexit 9\n```\n\n```python\nraise SystemExit(1)\n```\n\n\
         ```sh\ngrep -q first note.txt\ncyrisma instances list -o json | grep -q instance_id\nsleep 600 &\n\
         echo \"$!\" > '{}'\necho visible-output\nfalse\necho never\n```\n",
        pid_file.display()
    );
    let root = Path::new("/virtual");
    let blocks = sh_blocks(&root.join("docs/page.md"), &text);
    assert_eq!(blocks.iter().map(|block| block.line).collect::<Vec<_>>(), vec![3, 15]);
    let failures = run_page(root, &blocks);
    assert_eq!(failures.len(), 1, "{failures:#?}");
    let failure = &failures[0];
    assert!(failure.starts_with("docs/page.md:15: the example failed (exit code 1)"), "{failure}");
    let stdout = failure.split("----- stdout -----\n").nth(1).and_then(|rest| rest.split("----- stderr -----").next());
    assert_eq!(stdout, Some("visible-output\n"), "{failure}");

    // The background `sleep` of the failed block was stopped with its process group.
    let pid = std::fs::read_to_string(&pid_file).expect("the block wrote its background pid");
    let alive = || {
        Command::new("kill")
            .args(["-0", pid.trim()])
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|status| status.success())
    };
    let mut stopped = false;
    for _ in 0..100 {
        if !alive() {
            stopped = true;
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(stopped, "the background process {} of the failed block is still running", pid.trim());
}
