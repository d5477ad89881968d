"""The Python peers of the history dataset's benchmarks (`xtask/src/bench/dataset.rs`).

write SRC OUT REPEAT [ROW_GROUP_ROWS]
    E2's reference: reads SRC (the findings Parquet file the dataset's writer wrote) into a
    pyarrow Table (not timed), then times `pyarrow.parquet.write_table` of that table to OUT with
    the dataset's settings (WRITE_SETTINGS and `settings_for`, the `parquet` crate's defaults and
    what the dataset changes: Snappy, dictionary encoding with 1 MiB dictionary pages, but the
    fingerprint column with neither (DELTA_LENGTH_BYTE_ARRAY, uncompressed); statistics per chunk
    and per page with the column index for the filtered columns only (PRUNED_COLUMNS), the offset
    index for all; Parquet 1.0 data pages of at most 1 MiB and 20,000 rows, batches of 1,024
    values, row groups of 131,072 rows). The dataset also ends a row group at
    2 MiB encoded, which pyarrow cannot do: ROW_GROUP_ROWS, when given, is the row count of the
    dataset writer's row groups instead (the bench passes their mean).

diff DIR FROM TO REPEAT
    D1's reference: times one DuckDB query over the Hive-partitioned dataset in DIR that computes
    the diff's classes from FROM to TO and fetches the changed findings' rows as an Arrow table
    (see QUERY). A fresh in-memory connection per repetition; DuckDB uses every core.

Each mode prints one JSON line; times are seconds, one per repetition.
"""

from __future__ import annotations

import json
import statistics
import sys
import time

# The dataset's Parquet settings (crates/cyrisma-dataset/src/write.rs `writer_properties`, on the
# `parquet` crate's defaults), spelt out for pyarrow so that both sides write equivalent files;
# the per-column ones are in `settings_for`.
WRITE_SETTINGS = {
    "dictionary_pagesize_limit": 1024 * 1024,
    "write_page_index": True,
    "data_page_version": "1.0",
    "data_page_size": 1024 * 1024,
    "max_rows_per_page": 20_000,
    "write_batch_size": 1024,
    "row_group_size": 8 * 16_384,  # ROW_GROUP_ROWS = 8 x BATCH_ROWS in write.rs
}

# write.rs `UNIQUE_COLUMN`: the one column written without a dictionary or compression, encoded
# DELTA_LENGTH_BYTE_ARRAY.
UNIQUE_COLUMN = "fingerprint"

# write.rs `PRUNED_COLUMNS`: the only columns written with statistics.
PRUNED_COLUMNS = ["run_id", "instance_id", "scan_class", "kind", "risk_level"]


def settings_for(columns: list[str]) -> dict[str, object]:
    """WRITE_SETTINGS with write.rs `writer_properties`' per-column settings for these columns."""
    settings = dict(WRITE_SETTINGS)
    settings["use_dictionary"] = [name for name in columns if name != UNIQUE_COLUMN]
    settings["compression"] = {name: "none" if name == UNIQUE_COLUMN else "snappy" for name in columns}
    settings["column_encoding"] = {UNIQUE_COLUMN: "DELTA_LENGTH_BYTE_ARRAY"} if UNIQUE_COLUMN in columns else None
    settings["write_statistics"] = [name for name in columns if name in PRUNED_COLUMNS]
    return settings

QUERY = """
WITH
  f AS (SELECT * FROM read_parquet('{dir}/findings/*/*.parquet', hive_partitioning = true)),
  complete AS (SELECT run_id FROM read_parquet('{dir}/runs/*/*.parquet', hive_partitioning = true)),
  a AS (SELECT * FROM f WHERE run_id = '{from_run}'),
  b AS (SELECT * FROM f WHERE run_id = '{to_run}'),
  seen AS (
    SELECT DISTINCT fingerprint FROM f
    WHERE run_id < '{from_run}' AND run_id IN (SELECT run_id FROM complete)
  ),
  pulled AS (
    SELECT DISTINCT instance_id
    FROM read_parquet('{dir}/outcomes/*/*.parquet', hive_partitioning = true)
    WHERE run_id = '{to_run}' AND outcome = 'pulled'
  ),
  covered AS (
    SELECT DISTINCT instance_id, scan_class, asset_key
    FROM read_parquet('{dir}/coverage/*/*.parquet', hive_partitioning = true)
    WHERE run_id = '{to_run}'
    UNION
    SELECT DISTINCT instance_id, scan_class, asset_key FROM b
  ),
  appeared AS (
    SELECT CASE WHEN s.fingerprint IS NULL THEN 'new' ELSE 'reopened' END AS change, b.*
    FROM (SELECT * FROM b ANTI JOIN a USING (fingerprint)) b
    LEFT JOIN seen s USING (fingerprint)
  ),
  gone AS (
    SELECT CASE WHEN p.instance_id IS NOT NULL AND c.asset_key IS NOT NULL THEN 'fixed' ELSE 'not_covered' END
      AS change, a.*
    FROM (SELECT * FROM a ANTI JOIN b USING (fingerprint)) a
    LEFT JOIN pulled p ON p.instance_id = a.instance_id
    LEFT JOIN covered c
      ON c.instance_id = a.instance_id AND c.scan_class = a.scan_class AND c.asset_key = a.asset_key
  )
SELECT change, fingerprint, instance_id, scan_id, scan_class, asset_key, asset_name, asset_address, kind, rule,
       risk_level, score, title
FROM (SELECT * FROM appeared UNION ALL SELECT * FROM gone)
ORDER BY instance_id,
         CASE change WHEN 'new' THEN 0 WHEN 'reopened' THEN 1 WHEN 'fixed' THEN 2 ELSE 3 END,
         fingerprint
"""


def write(src: str, out: str, repeat: int, row_group_rows: int | None = None) -> None:
    import pyarrow.parquet as pq

    table = pq.read_table(src)
    settings = settings_for(table.column_names)
    if row_group_rows:
        settings["row_group_size"] = row_group_rows
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        pq.write_table(table, out, **settings)
        times.append(time.perf_counter() - start)
    print(json.dumps({"rows": table.num_rows, "times": times, "median": statistics.median(times)}))


def diff(directory: str, from_run: str, to_run: str, repeat: int) -> None:
    import duckdb

    query = QUERY.format(dir=directory, from_run=from_run, to_run=to_run)
    times = []
    counts: dict[str, int] = {}
    for _ in range(repeat):
        connection = duckdb.connect()
        start = time.perf_counter()
        relation = connection.sql(query)
        table = relation.to_arrow_table() if hasattr(relation, "to_arrow_table") else relation.fetch_arrow_table()
        times.append(time.perf_counter() - start)
        counts = {}
        for change in table.column("change").to_pylist():
            counts[change] = counts.get(change, 0) + 1
        connection.close()
    print(
        json.dumps(
            {
                "times": times,
                "median": statistics.median(times),
                "counts": counts,
                "threads": duckdb.connect().sql("SELECT current_setting('threads')").fetchall()[0][0],
                "version": duckdb.__version__,
            }
        )
    )


def main() -> None:
    mode = sys.argv[1]
    if mode == "write":
        write(sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5]) if len(sys.argv) > 5 else None)
    elif mode == "diff":
        diff(sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5]))
    else:
        raise SystemExit(f"unknown mode {mode}: write or diff")


if __name__ == "__main__":
    main()
