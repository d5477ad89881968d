"""The snapshot history from Python and through real readers: `client.snapshot()` (sync and
async) writes runs that `cyrisma.History` reads as Arrow tables, DuckDB and pyarrow read the same
Hive-partitioned files, and their answers (counts per run, a grade trend, the set differences
behind a diff) agree with `History` and with the CLI's `cyrisma diff` on the same directory."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import duckdb
import polars
import pyarrow as pa
import pyarrow.dataset as ds
import pytest

import cyrisma

from conftest import Api, standard_instances
from test_fleet import run_cli


@pytest.fixture(scope="module")
def history(tmp_path_factory: pytest.TempPathFactory) -> Any:
    """Three runs: a first snapshot, one after a month of churn, one after another month with
    one instance failing; returns the directory, the emulator's env and the failing instance."""
    directory = tmp_path_factory.mktemp("history")
    home = tmp_path_factory.mktemp("home")
    emulator = cyrisma.Emulator(seed=11, organizations=2, instances=6, scans_per_instance=3)
    client = emulator.client()
    first = client.snapshot(directory)
    emulator.advance(30)
    second = client.snapshot(directory)
    instance_ids = sorted(instance.instance_id for instance in standard_instances(emulator))
    emulator.fail(500, endpoint="dashboards.get_overall_dashboard", host=instance_ids[0])
    emulator.advance(30)
    third = client.snapshot(directory)
    yield {
        "dir": directory,
        "home": home,
        "emulator": emulator,
        "runs": [first, second, third],
        "victim": instance_ids[0],
    }
    emulator.close()


def test_snapshots_record_runs_and_failures(history: Any) -> None:
    first, second, third = history["runs"]
    assert first.instances_failed == 0 and first.findings > 0
    assert [failure.instance_id for failure in third.errors] == [history["victim"]]
    assert third.instances_failed == 1
    runs = cyrisma.History(history["dir"]).runs()
    assert isinstance(runs, pa.Table)
    assert runs.column("run_id").to_pylist() == [first.run_id, second.run_id, third.run_id]
    assert runs.column("failed_instances").to_pylist()[-1] == history["victim"]


def test_the_async_twin_writes_a_run_too(api: Api, tmp_path: Path) -> None:
    with cyrisma.Emulator(seed=3, organizations=1, instances=3, scans_per_instance=2) as emulator:
        client = api.client(emulator)
        result = api(client.snapshot(tmp_path / "h"))
        assert result.instances_pulled > 0 and result.findings > 0
        assert cyrisma.History(tmp_path / "h").runs().num_rows == 1


def test_duckdb_and_pyarrow_read_the_dataset_as_history_does(history: Any) -> None:
    directory: Path = history["dir"]
    h = cyrisma.History(directory)
    runs = h.runs().to_pylist()
    # Counts per run: DuckDB over the Hive layout, joined on complete runs.
    counted = duckdb.sql(
        f"""
        SELECT f.run_id, count(*) AS n
        FROM read_parquet('{directory}/findings/*/*.parquet', hive_partitioning = true) f
        JOIN read_parquet('{directory}/runs/*/*.parquet', hive_partitioning = true) r USING (run_id)
        GROUP BY f.run_id ORDER BY f.run_id
        """
    ).fetchall()
    assert counted == [(run["run_id"], run["findings"]) for run in runs]
    # pyarrow's dataset API reads the partitions too.
    grades = ds.dataset(directory / "grades", format="parquet", partitioning="hive").to_table()
    assert "dt" in grades.column_names
    assert grades.num_rows == h.grades().num_rows
    # A grade trend per customer: DuckDB and History agree, run by run.
    instance = sorted({row["instance_id"] for row in h.grades().to_pylist()})[-1]
    trend = duckdb.sql(
        f"""
        SELECT g.current_grade FROM read_parquet('{directory}/grades/*/*.parquet', hive_partitioning = true) g
        JOIN read_parquet('{directory}/runs/*/*.parquet', hive_partitioning = true) r USING (run_id)
        WHERE g.instance_id = '{instance}' AND g.area = 'overall' ORDER BY r.started_at
        """
    ).fetchall()
    ours = [
        row["current_grade"]
        for row in h.grades().to_pylist()
        if row["instance_id"] == instance and row["area"] == "overall"
    ]
    assert [grade for (grade,) in trend] == ours


def test_the_set_differences_behind_a_diff_agree(history: Any) -> None:
    directory: Path = history["dir"]
    h = cyrisma.History(directory)
    runs = h.runs().column("run_id").to_pylist()
    for from_run, to_run in zip(runs, runs[1:]):
        diff = h.diff(from_run, to_run).to_pylist()
        appeared = {row["fingerprint"] for row in diff if row["change"] in ("new", "reopened")}
        gone = {row["fingerprint"] for row in diff if row["change"] in ("fixed", "not_covered")}

        def fingerprints(query: str) -> set[str]:
            return {fingerprint for (fingerprint,) in duckdb.sql(query).fetchall()}

        findings = f"read_parquet('{directory}/findings/*/*.parquet', hive_partitioning = true)"
        assert appeared == fingerprints(
            f"SELECT fingerprint FROM {findings} WHERE run_id = '{to_run}' "
            f"EXCEPT SELECT fingerprint FROM {findings} WHERE run_id = '{from_run}'"
        )
        assert gone == fingerprints(
            f"SELECT fingerprint FROM {findings} WHERE run_id = '{from_run}' "
            f"EXCEPT SELECT fingerprint FROM {findings} WHERE run_id = '{to_run}'"
        )
    # A month of churn fixed some findings; the failed instance's missing ones are never fixed.
    churn = h.diff(runs[0], runs[1]).to_pylist()
    assert any(row["change"] == "fixed" for row in churn)
    assert any(row["change"] == "new" for row in churn)
    failed = h.diff(runs[1], runs[2]).to_pylist()
    assert not [row for row in failed if row["change"] == "fixed" and row["instance_id"] == history["victim"]]
    assert [row for row in failed if row["change"] == "not_covered" and row["instance_id"] == history["victim"]]


def test_the_cli_and_python_give_the_same_diff(history: Any) -> None:
    directory: Path = history["dir"]
    result = run_cli(history["emulator"], history["home"], "diff", "--dir", str(directory), "--all", "-o", "json")
    assert result.returncode == 0, result.stderr
    cli = json.loads(result.stdout)
    ours = cyrisma.History(directory).diff(all=True).to_pylist()
    key = lambda row: (row["change"], row["fingerprint"])  # noqa: E731
    assert sorted(map(key, cli["findings"])) == sorted(map(key, ours))
    grades = cyrisma.History(directory).grade_changes().to_pylist()
    assert sorted(map(str, cli["grades"])) == sorted(map(str, grades))


def test_lifecycles_and_polars(history: Any) -> None:
    h = cyrisma.History(history["dir"])
    findings = h.findings()
    assert set(findings.column("status").to_pylist()) <= {"open", "fixed"}
    assert "fixed" in findings.column("status").to_pylist()
    frame = polars.from_arrow(h.instances())
    assert frame.height > 0 and "mean_days_to_fix" in frame.columns


def test_history_errors_are_clear(tmp_path: Path) -> None:
    with pytest.raises(cyrisma.InvalidArgumentError, match="two complete runs"):
        cyrisma.History(tmp_path).diff()
    assert cyrisma.History(tmp_path).runs().num_rows == 0
