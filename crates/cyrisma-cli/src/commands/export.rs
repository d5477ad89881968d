//! `cyrisma export findings`: one row per vulnerability, open port and web flaw of the selected
//! instances, through the fleet layer (`cyrisma_fleet`): streamed as each instance completes into
//! a temporary file in the target's directory (mode 0600: findings are sensitive), which is
//! renamed over the target only on success, or to stdout. On a partial failure the file is
//! dropped unless `--allow-partial`. What is the CLI's own here: stdout, and escaping server text
//! when stdout is a terminal.

use std::io::{BufWriter, IsTerminal as _, Write};

use cyrisma_fleet::{Error, ExportFormat, FindingWriter, Fleet, ScanChoice, Selection};

use crate::args::{self, ExportCommand, ExportFindingsArgs};
use crate::commands::Context;
use crate::exit::{PartialFailure, fleet_error};
use crate::output::{TerminalJson, neutralize};

/// The names of standard output: the export is streamed there (never through a temporary file
/// renamed over `/dev/stdout`).
const STDOUT_NAMES: &[&str] = &["-", "/dev/stdout", "/dev/fd/1", "/proc/self/fd/1"];

/// Runs an `export` command.
pub(crate) async fn run(context: &Context, command: ExportCommand) -> anyhow::Result<()> {
    match command {
        ExportCommand::Findings(args) => findings(context, args).await,
    }
}

fn format(format: args::ExportFormat) -> ExportFormat {
    match format {
        args::ExportFormat::Jsonl => ExportFormat::Jsonl,
        args::ExportFormat::Csv => ExportFormat::Csv,
        args::ExportFormat::Json => ExportFormat::Json,
    }
}

async fn findings(context: &Context, args: ExportFindingsArgs) -> anyhow::Result<()> {
    let fleet = Fleet::new(context.client()?).with_concurrency(context.concurrency());
    let selection = Selection::ids(&args.filter.instances);
    let scans = ScanChoice::all(args.all_scans);
    let format = format(args.format);
    let progress = context.ui.fleet_progress("exporting");
    let nothing_selected = |instances: usize, failures: usize| {
        if selection.is_reportable() && instances == 0 && failures == 0 {
            context.ui.note("no instances to report on (organizations and suspended instances are left out)");
        }
    };
    if !STDOUT_NAMES.iter().any(|name| args.out.as_os_str() == *name) {
        return match fleet
            .export_findings_to_file(&selection, scans, &args.out, format, args.allow_partial, progress)
            .await
        {
            Ok(summary) => {
                nothing_selected(summary.instances as usize, summary.errors.len());
                context.ui.note(&format!(
                    "wrote {} findings from {} instances to `{}`",
                    summary.findings, summary.instances, summary.path
                ));
                PartialFailure::check(summary.instances as usize, &summary.errors)
            }
            Err(Error::Partial { total, failures, .. }) => {
                context.ui.warn(
                    "some instances failed, so no file was written: rerun, or pass `--allow-partial` to keep what succeeded",
                );
                PartialFailure::check(total - failures.len(), &failures)
            }
            Err(error) => Err(fleet_error(error)),
        };
    }
    // On a terminal, server text is shown escaped (the values stay the same); pipes get it
    // exactly.
    let terminal = std::io::stdout().is_terminal();
    let mut writer = stdout_writer(Box::new(BufWriter::new(std::io::stdout())), format, terminal)?;
    let outcome = match fleet.export_findings(&selection, scans, &mut writer, progress).await {
        // `cyrisma export ... --out - | head`: the reader has gone, so stop quietly and
        // successfully, as other command-line tools do (scripts with `pipefail` rely on it).
        Err(Error::Io { source, .. }) if source.kind() == std::io::ErrorKind::BrokenPipe => return Ok(()),
        other => other.map_err(fleet_error)?,
    };
    match writer.finish() {
        Err(error) if error.kind() == std::io::ErrorKind::BrokenPipe => return Ok(()),
        other => drop(other?),
    }
    nothing_selected(outcome.succeeded.len(), outcome.failures.len());
    PartialFailure::check(outcome.succeeded.len(), &outcome.failures)
}

/// The export writer for stdout: when it is a terminal, control and bidi characters are escaped
/// (as `\uXXXX` in JSON, visibly in CSV cells).
fn stdout_writer(
    sink: Box<dyn Write>,
    format: ExportFormat,
    terminal: bool,
) -> std::io::Result<FindingWriter<Box<dyn Write>>> {
    let sink = if terminal && format != ExportFormat::Csv {
        Box::new(TerminalJson::new(sink)) as Box<dyn Write>
    } else {
        sink
    };
    let writer = FindingWriter::new(sink, format)?;
    Ok(if terminal { writer.with_csv_escape(neutralize) } else { writer })
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use cyrisma_core::types::{ScanDetail, VulnerabilityScan};

    use super::*;

    /// A sink the test can read after the writer has taken it.
    #[derive(Clone, Default)]
    struct Shared(Arc<Mutex<Vec<u8>>>);

    impl Write for Shared {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }

        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    /// Exports one asset whose name and finding title carry a C1 CSI, a bidi override and an
    /// escape sequence, in `format`, to a terminal or not.
    fn export(format: ExportFormat, terminal: bool) -> String {
        let scan: VulnerabilityScan = serde_json::from_str(r#"{"scanId": "s1", "scanType": "5"}"#).unwrap();
        let detail: ScanDetail = serde_json::from_str(
            r#"{"assets": [{"assetId": "a1", "name": "pc\u009b31m\u202egnp.exe",
                "vulnerabilities": [{"cve": "CVE-2024-1", "title": "\u001b]52;c;evil\u0007 ok", "score": 5.0}]}]}"#,
        )
        .unwrap();
        let sink = Shared::default();
        let mut writer = stdout_writer(Box::new(sink.clone()), format, terminal).unwrap();
        assert_eq!(writer.write_scan("cc1", Some("Acme"), &scan, &detail).unwrap(), 1);
        writer.finish().unwrap();
        let bytes = sink.0.lock().unwrap().clone();
        String::from_utf8(bytes).unwrap()
    }

    fn raw_controls(text: &str) -> usize {
        text.chars().filter(|ch| *ch != '\n' && (ch.is_control() || ('\u{202a}'..='\u{202e}').contains(ch))).count()
    }

    #[test]
    fn json_exports_to_a_terminal_escape_what_could_drive_it_and_keep_the_values() {
        for format in [ExportFormat::Jsonl, ExportFormat::Json] {
            let exact = export(format, false);
            let shown = export(format, true);
            assert!(raw_controls(&exact) > 0, "a file or pipe gets the text exactly: {exact:?}");
            assert_eq!(raw_controls(&shown), 0, "{shown}");
            assert!(shown.contains(r"pc\u009b31m\u202egnp.exe"), "{shown}");
            let parse = |text: &str| -> Vec<serde_json::Value> {
                serde_json::Deserializer::from_str(text).into_iter().map(Result::unwrap).collect()
            };
            assert_eq!(parse(&shown), parse(&exact), "the same values once parsed");
        }
    }

    #[test]
    fn csv_exports_to_a_terminal_escape_cells() {
        let exact = export(ExportFormat::Csv, false);
        let shown = export(ExportFormat::Csv, true);
        assert!(raw_controls(&exact) > 0, "{exact:?}");
        assert_eq!(raw_controls(&shown), 0, "{shown}");
    }
}
