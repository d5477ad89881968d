"""The pipelines against real loaders and databases: the dlt source into DuckDB and into a real
PostgreSQL server, and `cyrisma tap` into a real Singer target from PyPI
(`meltanolabs-target-postgres`) loading the same server. Each loads once, again with nothing new
(no findings), and after the emulator's clock moves (only the new scans' findings); keys match
the history dataset's (`client.snapshot`)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

import cyrisma
from conftest import Postgres
from test_fleet import HANG_GUARD_SECONDS, cli_binary

dlt = pytest.importorskip("dlt")
import cyrisma.dlt  # noqa: E402  (after the skip: the extra may be missing)


def snapshot_fingerprints(client: cyrisma.Client, directory: Path) -> set[str]:
    client.snapshot(str(directory))
    table = cyrisma.History(str(directory)).findings()
    return set(table.column("fingerprint").to_pylist())


def run_pipeline(pipeline: Any, client: cyrisma.Client) -> dict[str, int]:
    """Runs the source; returns the rows normalized per table in this run."""
    pipeline.run(cyrisma.dlt.source(client))
    counts: dict[str, int] = dict(pipeline.last_trace.last_normalize_info.row_counts)
    return counts


def check_dlt(pipeline: Any, emulator: cyrisma.Emulator, query: Any, tmp_path: Path) -> None:
    client = emulator.client()
    instances = sorted(
        i.instance_id for i in emulator.instances() if not i.is_organization and not i.is_suspended
    )

    first = run_pipeline(pipeline, client)
    assert first.get("findings", 0) > 0, first
    loaded = {row[0] for row in query("select fingerprint from cyrisma.findings")}
    assert len(loaded) == first["findings"]
    assert loaded == snapshot_fingerprints(client, tmp_path / "history"), "the dataset's fingerprints"
    bookmarks = pipeline.state["sources"]["cyrisma"]["bookmarks"]
    assert sorted(bookmarks) == instances, "one bookmark per instance"
    scans_before = {row[0] for row in query("select scan_id from cyrisma.scans")}

    # Nothing new: no findings, no scans.
    again = run_pipeline(pipeline, client)
    assert again.get("findings", 0) == 0 and again.get("scans", 0) == 0, again
    assert {row[0] for row in query("select fingerprint from cyrisma.findings")} == loaded

    # New scans: only theirs.
    emulator.advance(30)
    after = run_pipeline(pipeline, client)
    assert after.get("findings", 0) > 0 and after.get("scans", 0) > 0, after
    scans_after = {row[0] for row in query("select scan_id from cyrisma.scans")}
    new_scans = scans_after - scans_before
    assert len(new_scans) == after["scans"], "only new scans were loaded"
    load_id = pipeline.last_trace.last_normalize_info.loads_ids[-1]
    latest = query(f"select scan_id from cyrisma.findings where _dlt_load_id = '{load_id}'")
    assert latest and all(row[0] in new_scans for row in latest), "only the new scans' findings"
    merged = query("select count(*), count(distinct fingerprint) from cyrisma.findings")[0]
    assert merged[0] == merged[1], "merged on the fingerprint"
    assert pipeline.state["sources"]["cyrisma"]["bookmarks"] != bookmarks


def test_dlt_into_duckdb_loads_once_then_only_new_scans(emulator: cyrisma.Emulator, tmp_path: Path) -> None:
    duckdb = pytest.importorskip("duckdb")
    database = tmp_path / "warehouse.duckdb"
    pipeline = dlt.pipeline(
        pipeline_name="cyrisma_duckdb",
        destination=dlt.destinations.duckdb(str(database)),
        dataset_name="cyrisma",
        pipelines_dir=str(tmp_path / "pipelines"),
    )

    def query(sql: str) -> list[tuple[Any, ...]]:
        with duckdb.connect(str(database), read_only=True) as connection:
            rows: list[tuple[Any, ...]] = connection.execute(sql).fetchall()
            return rows

    check_dlt(pipeline, emulator, query, tmp_path)
    # Column types come from the dataset's schema, not from the first values seen.
    types = dict(query("select column_name, data_type from information_schema.columns where table_name = 'findings'"))
    assert types["score"] == "DOUBLE" and types["fingerprint"] == "VARCHAR", types


def test_dlt_into_postgres(emulator: cyrisma.Emulator, postgres: Postgres, tmp_path: Path) -> None:
    pipeline = dlt.pipeline(
        pipeline_name="cyrisma_postgres",
        destination=dlt.destinations.postgres(credentials=postgres.url()),
        dataset_name="cyrisma",
        pipelines_dir=str(tmp_path / "pipelines"),
    )
    check_dlt(pipeline, emulator, postgres.query, tmp_path)


def test_dlt_source_rejects_a_client_that_is_not_one() -> None:
    with pytest.raises(TypeError, match="cyrisma.Client"):
        cyrisma.dlt.source("not a client")


# ----- the Singer tap into a real Singer target -----


def target_postgres() -> Path:
    target = Path(sys.executable).parent / "target-postgres"
    if not target.exists():
        if os.environ.get("CI") == "true":
            pytest.fail("target-postgres is not installed (run-tests.sh installs it)", pytrace=False)
        pytest.skip("target-postgres is not installed: pip install meltanolabs-target-postgres")
    return target


def run_tap(emulator: cyrisma.Emulator, home: Path, *args: str) -> list[dict[str, Any]]:
    env = {"PATH": os.environ.get("PATH", ""), "HOME": str(home), "NO_COLOR": "1"}
    env.update({"XDG_RUNTIME_DIR": str(home), "CYRISMA_CONFIG_DIR": str(home / "cyrisma")})
    env.update(emulator.env())
    done = subprocess.run(
        [str(cli_binary()), "tap", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=HANG_GUARD_SECONDS,
        stdin=subprocess.DEVNULL,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return [json.loads(line) for line in done.stdout.splitlines()]


def load(messages: list[dict[str, Any]], postgres: Postgres, home: Path) -> dict[str, Any]:
    """Feeds the messages to target-postgres; returns the last state it emitted."""
    config = home / "target.json"
    config.write_text(
        json.dumps(
            {
                "host": postgres.host,
                "port": postgres.port,
                "user": postgres.user,
                "password": "trust",
                "database": postgres.dbname,
                "default_target_schema": "tap_cyrisma",
                "add_record_metadata": False,
                "activate_version": False,
            }
        )
    )
    done = subprocess.run(
        [str(target_postgres()), "--config", str(config)],
        input="".join(json.dumps(message) + "\n" for message in messages),
        capture_output=True,
        text=True,
        timeout=HANG_GUARD_SECONDS,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-4000:]
    states = [line for line in done.stdout.splitlines() if line.strip()]
    assert states, "the target emitted the state"
    state: dict[str, Any] = json.loads(states[-1])
    return state


def records(messages: list[dict[str, Any]], stream: str) -> list[dict[str, Any]]:
    return [m["record"] for m in messages if m["type"] == "RECORD" and m["stream"] == stream]


def test_tap_into_target_postgres(emulator: cyrisma.Emulator, postgres: Postgres, tmp_path: Path) -> None:
    first = run_tap(emulator, tmp_path)
    state = load(first, postgres, tmp_path)
    assert state == next(m["value"] for m in reversed(first) if m["type"] == "STATE")
    fingerprints = {row["fingerprint"] for row in records(first, "findings")}
    assert fingerprints
    loaded = {row[0] for row in postgres.query("select fingerprint from tap_cyrisma.findings")}
    assert loaded == fingerprints
    instances = postgres.query("select count(*) from tap_cyrisma.instances")[0][0]
    assert instances == len(records(first, "instances")) == len(state["bookmarks"])

    # With the last state: no findings.
    state_file = tmp_path / "state.json"
    state_file.write_text(json.dumps(state))
    again = run_tap(emulator, tmp_path, "--state", str(state_file))
    assert records(again, "findings") == [] and records(again, "scans") == []
    state = load(again, postgres, tmp_path)
    assert postgres.query("select count(*) from tap_cyrisma.findings")[0][0] == len(fingerprints)

    # After new scans: only theirs, merged on the fingerprint.
    emulator.advance(30)
    state_file.write_text(json.dumps(state))
    after = run_tap(emulator, tmp_path, "--state", str(state_file))
    new_scans = {row["scan_id"] for row in records(after, "scans")}
    new_findings = records(after, "findings")
    assert new_findings and all(row["scan_id"] in new_scans for row in new_findings)
    load(after, postgres, tmp_path)
    rows = postgres.query("select fingerprint, scan_id from tap_cyrisma.findings")
    assert {row[0] for row in rows} == fingerprints | {row["fingerprint"] for row in new_findings}
    assert len(rows) == len({row[0] for row in rows}), "one row per fingerprint"
    by_fingerprint = dict(rows)
    assert all(by_fingerprint[row["fingerprint"]] == row["scan_id"] for row in new_findings), "upserted"
    loaded_scans = {row[0] for row in postgres.query("select scan_id from tap_cyrisma.scans")}
    assert new_scans <= loaded_scans
