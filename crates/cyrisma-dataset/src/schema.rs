//! The tables of the dataset, column by column: one row struct per table, its Arrow schema, and
//! the column list that `docs/history.md` documents (a test compares the two).
//!
//! Every table has `run_id`. Times are UTC timestamps in microseconds; counts are 64-bit
//! integers; grades are their letters (`A`, `B+`, ...). Changing a column means a new
//! [`SCHEMA_VERSION`](crate::SCHEMA_VERSION), a new entry in
//! [`SCHEMA_HASHES`](crate::SCHEMA_HASHES) and the docs updated (tests fail otherwise).

use std::sync::Arc;

use arrow_schema::{DataType, Field, Schema, TimeUnit};
use serde::{Deserialize, Serialize};

/// One column of a table, as documented.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Column {
    /// Its name.
    pub name: &'static str,
    /// Its type as the docs name it (`string`, `int64`, `float64`, `bool`, `timestamp`).
    pub kind: &'static str,
    /// Whether it may be null.
    pub nullable: bool,
    /// What it holds.
    pub doc: &'static str,
}

/// The Arrow type of a documented column type.
fn data_type(kind: &str) -> DataType {
    match kind {
        "int64" => DataType::Int64,
        "int32" => DataType::Int32,
        "float64" => DataType::Float64,
        "bool" => DataType::Boolean,
        "timestamp" => DataType::Timestamp(TimeUnit::Microsecond, Some("+00:00".into())),
        _ => DataType::Utf8,
    }
}

/// The Arrow schema of a table's columns.
pub fn arrow_schema(columns: &[Column]) -> Arc<Schema> {
    Arc::new(Schema::new(
        columns
            .iter()
            .map(|column| Field::new(column.name, data_type(column.kind), column.nullable))
            .collect::<Vec<_>>(),
    ))
}

/// Declares a table: its row struct (serde, in column order) and its [`Column`] list.
macro_rules! table {
    (
        $(#[$meta:meta])*
        $row:ident, $columns:ident = $name:literal {
            $( $field:ident : $ty:ty = $kind:literal, $nullable:literal, $doc:literal; )+
        }
    ) => {
        $(#[$meta])*
        #[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
        pub struct $row {
            $( #[doc = $doc] pub $field: $ty, )+
        }

        #[doc = concat!("The columns of the `", $name, "` table, in order.")]
        pub const $columns: &[Column] = &[
            $( Column { name: stringify!($field), kind: $kind, nullable: $nullable, doc: $doc }, )+
        ];

        impl crate::encode::Encode for $row {
            fn schema() -> arrow_schema::SchemaRef {
                arrow_schema($columns)
            }

            fn arrays(rows: &[Self]) -> Vec<arrow_array::ArrayRef> {
                use crate::encode::EncodeValue;
                // All columns in one pass over the rows: each row's fields are read while in cache.
                let first = rows.first();
                $( let mut $field = <$ty as EncodeValue>::builder(rows.len(), first.map(|row| &row.$field)); )+
                for row in rows {
                    $( <$ty as EncodeValue>::append(&mut $field, &row.$field); )+
                }
                vec![$( <$ty as EncodeValue>::finish($field, $kind), )+]
            }
        }

        impl crate::decode::Decode for $row {
            fn decode_rows(batch: &arrow_array::RecordBatch, indices: &[usize]) -> Result<Vec<Self>, String> {
                crate::decode::check_indices(batch, indices)?;
                $(
                    let $field = <$ty as crate::decode::DecodeValue>::reader(
                        batch.column_by_name(stringify!($field)).map(|column| column.as_ref()),
                        stringify!($field),
                    )?;
                )+
                Ok(indices
                    .iter()
                    .map(|index| Self { $( $field: <$ty as crate::decode::DecodeValue>::read(&$field, *index), )+ })
                    .collect())
            }
        }
    };
}

table! {
    /// One snapshot run (`runs`): written last, so a run exists only once this row does.
    RunRow, RUNS = "runs" {
        run_id: String = "string", false, "The run's id: `r<start, UTC>-<8 random hex digits>`, unique and ordered by time.";
        started_at: i64 = "timestamp", false, "When the run started (UTC); its date is the `dt` partition.";
        finished_at: i64 = "timestamp", false, "When the run finished writing.";
        tool_version: String = "string", false, "The version of the `cyrisma` tool that wrote it.";
        schema_version: i32 = "int32", false, "The dataset schema version of every file of the run.";
        instances_pulled: i64 = "int64", false, "Instances whose data was pulled completely.";
        instances_failed: i64 = "int64", false, "Instances that failed (see `outcomes`).";
        instances_skipped: i64 = "int64", false, "Instances listed but not selected (for example suspended ones).";
    }
}

table! {
    /// Each selected instance's outcome in a run (`outcomes`), with the failure record.
    OutcomeRow, OUTCOMES = "outcomes" {
        run_id: String = "string", false, "The run.";
        instance_id: String = "string", false, "The instance.";
        instance_name: Option<String> = "string", true, "The instance's name.";
        outcome: String = "string", false, "`pulled` or `failed`.";
        status: Option<i64> = "int64", true, "The HTTP status of the failure, when there was an answer.";
        error_code: Option<String> = "string", true, "The API's error code, when it sent one.";
        request_id: Option<String> = "string", true, "The request id of the failed call, when the server sent one.";
        message: Option<String> = "string", true, "What went wrong (no secret is ever part of it).";
    }
}

table! {
    /// The structure: every instance listed at the time of the run (`instances`), with the
    /// dashboards' counts for the pulled ones.
    InstanceRow, INSTANCES = "instances" {
        run_id: String = "string", false, "The run.";
        instance_id: String = "string", false, "The instance.";
        name: Option<String> = "string", true, "Its name.";
        short_name: Option<String> = "string", true, "Its short name.";
        parent_id: Option<String> = "string", true, "Its organization's instance id (for standard instances).";
        instance_type: Option<String> = "string", true, "`organization`, `standard` or another type the server sent.";
        status: Option<String> = "string", true, "`active`, `suspended`, ... as sent.";
        is_consulting: Option<bool> = "bool", true, "Whether it is a consulting instance.";
        url: Option<String> = "string", true, "Its reporting host.";
        number_of_endpoints: Option<i64> = "int64", true, "Its endpoint count.";
        selected: bool = "bool", false, "Whether the run pulled it (reportable and selected).";
        critical: Option<i64> = "int64", true, "Critical vulnerabilities (vulnerability dashboard).";
        high: Option<i64> = "int64", true, "High vulnerabilities (vulnerability dashboard).";
        medium: Option<i64> = "int64", true, "Medium vulnerabilities (vulnerability dashboard).";
        low: Option<i64> = "int64", true, "Low vulnerabilities (vulnerability dashboard).";
        sensitive_files: Option<i64> = "int64", true, "Sensitive files (data dashboard).";
    }
}

table! {
    /// The grades of the five areas per pulled instance (`grades`).
    GradeRow, GRADES = "grades" {
        run_id: String = "string", false, "The run.";
        instance_id: String = "string", false, "The instance.";
        area: String = "string", false, "`overall`, `vulnerability`, `data`, `baseline` or `compliance`.";
        current_grade: Option<String> = "string", true, "The current period's grade (null: none yet).";
        previous_grade: Option<String> = "string", true, "The previous period's grade.";
        grading_period: Option<String> = "string", true, "The grading period the dashboard reported.";
    }
}

table! {
    /// The scan lists of each pulled instance (`scans`): vulnerability, data and baseline scans.
    ScanRow, SCANS = "scans" {
        run_id: String = "string", false, "The run.";
        instance_id: String = "string", false, "The instance.";
        scan_kind: String = "string", false, "`vulnerability`, `data` or `baseline`.";
        scan_id: String = "string", false, "The scan's id.";
        scan_class: Option<String> = "string", true, "Vulnerability scans: the class findings are matched in (`external_ip`, ...).";
        scan_name: Option<String> = "string", true, "The scan's name.";
        scan_started: Option<String> = "string", true, "When it started, as sent.";
        scan_finished: Option<String> = "string", true, "When it finished, as sent (null: not finished).";
        grade: Option<String> = "string", true, "Its grade.";
        critical: Option<i64> = "int64", true, "Vulnerability scans: critical findings.";
        high: Option<i64> = "int64", true, "Vulnerability scans: high findings.";
        medium: Option<i64> = "int64", true, "Vulnerability scans: medium findings.";
        low: Option<i64> = "int64", true, "Vulnerability scans: low findings.";
        files_scanned: Option<i64> = "int64", true, "Data scans: files scanned.";
        sensitive_files: Option<i64> = "int64", true, "Data scans: sensitive files.";
        passed_checks: Option<i64> = "int64", true, "Baseline scans: passed checks.";
        failed_checks: Option<i64> = "int64", true, "Baseline scans: failed checks.";
        collected: bool = "bool", false, "Whether its findings are in `findings` (the latest completed scan of its type).";
        assets: Option<i64> = "int64", true, "Collected scans: how many assets it covered.";
    }
}

table! {
    /// The findings of the latest completed vulnerability scan of each type (`findings`).
    FindingRow, FINDINGS = "findings" {
        run_id: String = "string", false, "The run.";
        instance_id: String = "string", false, "The instance.";
        scan_id: String = "string", false, "The scan it came from.";
        scan_class: String = "string", false, "The scan's class (its type): `internal_authenticated`, `external_ip`, `internal_unauthenticated`, `external_web_application`, `type_<code>` or `unknown`.";
        asset_key: String = "string", false, "The asset's identity as fingerprinted: `id:<asset id>`, `ip:<address>`, `url:<url>` or `none`.";
        asset_id: Option<String> = "string", true, "The asset's id, as sent.";
        asset_name: Option<String> = "string", true, "The asset's name.";
        asset_address: Option<String> = "string", true, "The asset's IP address, as sent.";
        kind: String = "string", false, "`vulnerability`, `open_port` or `web_flaw`.";
        rule: String = "string", false, "The normalised rule: CVE, port (`443`, `53/udp`) or alert reference.";
        risk_level: Option<String> = "string", true, "The risk level, as sent.";
        score: Option<f64> = "float64", true, "The vulnerability's score.";
        title: Option<String> = "string", true, "The vulnerability's title, the port's description or the flaw's name.";
        first_seen: Option<String> = "string", true, "When the server first saw the vulnerability, as sent.";
        fingerprint: String = "string", false, "The finding's stable identity (32 hex digits; see the history guide).";
    }
}

table! {
    /// Which assets each collected scan covered (`coverage`), findings or not: what makes a
    /// missing finding `fixed` rather than `not_covered`.
    CoverageRow, COVERAGE = "coverage" {
        run_id: String = "string", false, "The run.";
        instance_id: String = "string", false, "The instance.";
        scan_class: String = "string", false, "The scan's class.";
        scan_id: String = "string", false, "The scan.";
        asset_key: String = "string", false, "The asset's identity (as in `findings`).";
    }
}

table! {
    /// Usage per customer at the time of the run (`usage`), as `cyrisma usage` shows it.
    UsageRow, USAGE = "usage" {
        run_id: String = "string", false, "The run.";
        scope: String = "string", false, "`organization`, `unassigned` or `total`.";
        id: Option<String> = "string", true, "The organization's instance id.";
        name: Option<String> = "string", true, "The organization's name.";
        endpoints: i64 = "int64", false, "Endpoints of its instances.";
        instances: i64 = "int64", false, "Its instances.";
        standard: i64 = "int64", false, "Its standard instances.";
        consulting: i64 = "int64", false, "Its consulting instances.";
        suspended: i64 = "int64", false, "Its suspended instances.";
        users: Option<i64> = "int64", true, "Its users, when listed.";
    }
}

/// Every table: its name and columns, `runs` last (the order a run's files are committed in).
pub const TABLES: &[(&str, &[Column])] = &[
    ("outcomes", OUTCOMES),
    ("instances", INSTANCES),
    ("grades", GRADES),
    ("scans", SCANS),
    ("findings", FINDINGS),
    ("coverage", COVERAGE),
    ("usage", USAGE),
    ("runs", RUNS),
];

/// Rows of any serializable type as one Arrow record batch with the given columns (rows
/// serialize to objects whose keys are the column names; missing keys are nulls). This is how
/// the front ends hand rows to Arrow readers (pyarrow, Polars) without copying them field by field.
pub fn record_batch<R: Serialize>(rows: &[R], columns: &[Column]) -> Result<arrow_array::RecordBatch, String> {
    let schema = arrow_schema(columns);
    let mut decoder = arrow_json::ReaderBuilder::new(schema.clone())
        .with_batch_size(rows.len().max(1))
        .build_decoder()
        .map_err(|error| error.to_string())?;
    decoder.serialize(rows).map_err(|error| error.to_string())?;
    Ok(decoder
        .flush()
        .map_err(|error| error.to_string())?
        .unwrap_or_else(|| arrow_array::RecordBatch::new_empty(schema)))
}
