//! `cyrisma export findings`: one row per vulnerability, open port and web flaw of the selected
//! instances, streamed as each instance completes into a temporary file in the target's
//! directory (mode 0600: findings are sensitive), which is renamed over the target only on
//! success. On a partial failure the file is dropped unless `--allow-partial`. A symlink, FIFO,
//! device or `/dev/stdout` given as the target is written through, never replaced (`outfile`).

use std::io::Write;

use cyrisma_core::export::{self, JsonlWriter};
use cyrisma_core::types::{ScanDetail, VulnerabilityScan};
use cyrisma_transport::InstanceClient;

use crate::args::{ExportCommand, ExportFindingsArgs, ExportFormat};
use crate::commands::{Context, fanout};
use crate::outfile::OutFile;
use crate::output::rows::ExportRow;
use crate::output::{CsvRows, Row, TerminalJson};

/// Runs an `export` command.
pub(crate) async fn run(context: &Context, command: ExportCommand) -> anyhow::Result<()> {
    match command {
        ExportCommand::Findings(args) => findings(context, args).await,
    }
}

async fn findings(context: &Context, args: ExportFindingsArgs) -> anyhow::Result<()> {
    let client = context.client()?;
    let target = OutFile::open(&args.out)?;
    // On a terminal, server text is shown escaped (the values stay the same); files and pipes
    // get it exactly.
    let terminal = target.is_terminal();
    let mut writer = FindingWriter::new(target.writer()?, args.format, terminal)?;
    let all_scans = args.all_scans;
    let mut written: u64 = 0;
    let mut write_error: Option<anyhow::Error> = None;
    let outcome = fanout::run(
        context,
        &client,
        &args.filter,
        "exporting",
        move |instance| collect(instance, all_scans),
        |instance_id, name, scans: Vec<(VulnerabilityScan, ScanDetail)>| {
            let mut rows = 0;
            for (scan, detail) in &scans {
                match writer.write_scan(instance_id, name, scan, detail) {
                    Ok(count) => rows += count,
                    Err(error) => {
                        write_error.get_or_insert(error);
                        anyhow::bail!("cannot write the export");
                    }
                }
            }
            written += rows;
            Ok(rows as usize)
        },
    )
    .await;
    if let Some(error) = write_error {
        if !target.is_replaced() && is_broken_pipe(&error) {
            // `cyrisma export ... --out - | head`: the reader has gone, so stop quietly and
            // successfully, as other command-line tools do (scripts with `pipefail` rely on it).
            return Ok(());
        }
        return Err(error.context(format!("cannot write `{}`", args.out.display())));
    }
    let outcome = outcome?;
    let sink = match writer.finish() {
        Err(error) if !target.is_replaced() && is_broken_pipe(&error) => return Ok(()),
        other => other?,
    };
    let check = outcome.check();
    let instances = outcome.succeeded.len();
    match (&check, args.allow_partial) {
        (Err(_), false) if target.is_replaced() => {
            drop(sink);
            drop(target);
            context.ui.warn("some instances failed, so no file was written: rerun, or pass `--allow-partial` to keep what succeeded");
        }
        _ => {
            let path = target.commit(sink)?;
            if let Some(path) = path {
                context
                    .ui
                    .note(&format!("wrote {written} findings from {instances} instances to `{}`", path.display()));
            }
        }
    }
    check
}

/// The scans of one instance to export: the latest scan of each scan type (or every scan), with
/// their details. Their rows (`cyrisma_core::export`) borrow from these when written.
async fn collect(
    instance: InstanceClient,
    all_scans: bool,
) -> Result<Vec<(VulnerabilityScan, ScanDetail)>, cyrisma_transport::Error> {
    let scans = instance.vulnerability_scans().await?.vulnerability_scans;
    let chosen = if all_scans { scans } else { export::latest_per_type(scans) };
    let details =
        futures_util::future::try_join_all(chosen.iter().map(|scan| instance.vulnerability_scan(&scan.scan_id)))
            .await?;
    Ok(chosen.into_iter().zip(details).collect())
}

/// Whether an error comes from writing into a pipe whose reader has gone.
fn is_broken_pipe(error: &anyhow::Error) -> bool {
    error.chain().any(|cause| {
        cause.downcast_ref::<std::io::Error>().is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    })
}

/// Writes export rows in one of the three formats, a scan's findings at a time. JSONL (the format
/// for large exports) is the core's encoder, with no allocation per row.
enum FindingWriter {
    Jsonl(JsonlWriter<Box<dyn Write>>),
    Json { sink: Box<dyn Write>, first: bool, line: Vec<u8> },
    Csv(Box<CsvRows<Box<dyn Write>>>),
}

impl FindingWriter {
    /// `terminal`: the sink is a terminal, so control and bidi characters are escaped (as
    /// `\uXXXX` in JSON, visibly in CSV cells).
    fn new(sink: Box<dyn Write>, format: ExportFormat, terminal: bool) -> anyhow::Result<Self> {
        let mut sink = if terminal && !matches!(format, ExportFormat::Csv) {
            Box::new(TerminalJson::new(sink)) as Box<dyn Write>
        } else {
            sink
        };
        Ok(match format {
            ExportFormat::Jsonl => FindingWriter::Jsonl(JsonlWriter::new(sink)),
            ExportFormat::Json => {
                sink.write_all(b"[")?;
                FindingWriter::Json { sink, first: true, line: Vec::new() }
            }
            ExportFormat::Csv => {
                FindingWriter::Csv(Box::new(CsvRows::new(sink, ExportRow::COLUMNS)?.for_terminal(terminal)))
            }
        })
    }

    /// Writes every finding of a scan; returns how many rows that was.
    fn write_scan(
        &mut self,
        instance_id: &str,
        name: Option<&str>,
        scan: &VulnerabilityScan,
        detail: &ScanDetail,
    ) -> anyhow::Result<u64> {
        if let FindingWriter::Jsonl(writer) = self {
            return Ok(writer.write_scan(instance_id, name, scan, detail)?);
        }
        let mut count = 0;
        for row in export::finding_rows(instance_id, name, scan, detail) {
            match self {
                FindingWriter::Jsonl(writer) => writer.write_row(&row)?,
                FindingWriter::Json { sink, first, line } => {
                    line.clear();
                    line.extend_from_slice(if *first { b"\n  " } else { b",\n  " });
                    export::encode_row(&row, line);
                    sink.write_all(line)?;
                    *first = false;
                }
                FindingWriter::Csv(rows) => rows.write(&ExportRow::from_core(&row).cells())?,
            }
            count += 1;
        }
        Ok(count)
    }

    fn finish(self) -> anyhow::Result<Box<dyn Write>> {
        let mut sink = match self {
            FindingWriter::Jsonl(writer) => writer.into_inner()?,
            FindingWriter::Json { mut sink, first, .. } => {
                sink.write_all(if first { b"]\n" } else { b"\n]\n" })?;
                sink
            }
            FindingWriter::Csv(rows) => rows.finish()?,
        };
        sink.flush()?;
        Ok(sink)
    }
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

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
        let mut writer = FindingWriter::new(Box::new(sink.clone()), format, terminal).unwrap();
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
