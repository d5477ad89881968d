"""The CLI and the Python package run the same fleet layer: `cyrisma report -o json` and
`cyrisma export findings` (the built binary) and `client.report()` / `client.export_findings()`
against ONE emulator, with a failing instance (fault injection) and an unknown explicit id, give
identical rows and identical failure records.

The binary is `$CYRISMA_CLI`, else `$CARGO_TARGET_DIR/debug/cyrisma`, else the workspace's
`target/debug/cyrisma` (run-tests.sh builds it and sets `CYRISMA_CLI`)."""

from __future__ import annotations

import csv
import json
import os
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest

import cyrisma

from conftest import standard_instances

HANG_GUARD_SECONDS = 300
ROOT = Path(__file__).resolve().parents[3]


def cli_binary() -> Path:
    candidates = []
    if os.environ.get("CYRISMA_CLI"):
        candidates.append(Path(os.environ["CYRISMA_CLI"]))
    if os.environ.get("CARGO_TARGET_DIR"):
        candidates.append(Path(os.environ["CARGO_TARGET_DIR"]) / "debug" / "cyrisma")
    candidates.append(ROOT / "target" / "debug" / "cyrisma")
    for candidate in candidates:
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return candidate
    pytest.fail(
        "the cyrisma binary is not built: run `cargo build -p cyrisma-cli --bin cyrisma` "
        f"or set CYRISMA_CLI (looked at {[str(c) for c in candidates]})",
        pytrace=False,
    )


def run_cli(emulator: cyrisma.Emulator, home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {"PATH": os.environ.get("PATH", ""), "HOME": str(home), "XDG_CONFIG_HOME": str(home / "config")}
    env.update({"XDG_RUNTIME_DIR": str(home), "NO_COLOR": "1", "CYRISMA_CONFIG_DIR": str(home / "cyrisma")})
    env.update(emulator.env())
    env["CYRISMA_MAX_RETRIES"] = "0"
    return subprocess.run(
        [str(cli_binary()), *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=HANG_GUARD_SECONDS,
        stdin=subprocess.DEVNULL,
        check=False,
    )


def normalized(failures: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Failure records with the request id (different for every request, so for each front end's
    run) replaced by a placeholder, in the record and in its message."""
    out = []
    for failure in failures:
        record = dict(failure)
        if record.get("request_id"):
            record["error"] = record["error"].replace(record["request_id"], "<request-id>")
            record["request_id"] = "<request-id>"
        out.append(record)
    return out


def parse(text: str, fmt: str) -> list[dict[str, Any]]:
    if fmt == "jsonl":
        return [json.loads(line) for line in text.splitlines()]
    if fmt == "json":
        rows: list[dict[str, Any]] = json.loads(text)
        return rows
    return list(csv.DictReader(text.splitlines()))


def canonical(row: dict[str, Any]) -> str:
    return json.dumps(row, sort_keys=True)


@pytest.fixture
def faulty(emulator: cyrisma.Emulator) -> tuple[cyrisma.Emulator, str, list[str]]:
    """The emulator with one instance failing (500 on its dashboards and its scan listing), the
    victim's id, and an explicit selection: two healthy instances, the victim, an unknown id."""
    standard = standard_instances(emulator)
    victim = standard[1].instance_id
    emulator.fail(500, endpoint="dashboards.get_overall_dashboard", host=victim)
    emulator.fail(500, endpoint="scans.list_vulnerability_scans", host=victim)
    chosen = [standard[0].instance_id, victim, standard[2].instance_id, "cc424242"]
    return emulator, victim, chosen


def test_the_cli_and_python_report_the_same_rows_and_failures(
    faulty: tuple[cyrisma.Emulator, str, list[str]], tmp_path: Path
) -> None:
    emulator, victim, chosen = faulty
    client = emulator.client(max_retries=0)
    for selection in (None, chosen):
        args = ["report", "-o", "json"] + (["--instance", ",".join(selection)] if selection else [])
        run = run_cli(emulator, tmp_path, *args)
        assert run.returncode == 3, f"a partial failure:\n{run.stdout}\n{run.stderr}"
        document = json.loads(run.stdout)
        report = client.report(instances=selection)
        python = report.to_dict()
        assert document["instances"] == python["instances"]
        assert len(document["instances"]) >= 2
        assert normalized(document["errors"]) == normalized(python["errors"])
        assert normalized(document["errors"]) == normalized([f.to_dict() for f in report.errors])
        ids = [failure["instance_id"] for failure in document["errors"]]
        assert ids == ([victim, "cc424242"] if selection else [victim]), ids
        failed = document["errors"][0]
        assert failed["status"] == 500 and failed["request_id"], failed
        assert set(failed) == {"instance_id", "name", "error", "status", "code", "request_id"}
        if selection:
            unknown = document["errors"][1]
            assert (unknown["status"], unknown["request_id"]) == (404, None), unknown


@pytest.mark.parametrize("fmt", ["jsonl", "json", "csv"])
def test_the_cli_and_python_export_the_same_rows_and_failures(
    faulty: tuple[cyrisma.Emulator, str, list[str]], tmp_path: Path, fmt: str
) -> None:
    emulator, victim, chosen = faulty
    client = emulator.client(max_retries=0)
    selection = ",".join(chosen)
    cli_path = tmp_path / f"cli.{fmt}"
    python_path = tmp_path / f"python.{fmt}"
    run = run_cli(
        emulator, tmp_path, "export", "findings", "--format", fmt, "--out", str(cli_path),
        "--instance", selection, "--allow-partial",
    )
    assert run.returncode == 3, f"a partial failure:\n{run.stdout}\n{run.stderr}"
    summary = client.export_findings(python_path, format=fmt, instances=chosen, allow_partial=True)
    rows = parse(cli_path.read_text(), fmt)
    # Instances are written as they complete, so the order of their blocks may differ.
    assert sorted(map(canonical, rows)) == sorted(map(canonical, parse(python_path.read_text(), fmt)))
    if fmt == "csv":
        header = cli_path.read_text().splitlines()[0]
        assert header == python_path.read_text().splitlines()[0]
    assert len(rows) == summary.findings > 0
    assert {row["instance_id"] for row in rows} == {chosen[0], chosen[2]}
    # The failure records: the CLI lists them on stderr (`id: message`), Python in `errors`.
    assert [f.instance_id for f in summary.errors] == [victim, "cc424242"]
    stderr = re.sub(r"request id [^)\s]+", "request id <request-id>", run.stderr)
    for record in normalized([failure.to_dict() for failure in summary.errors]):
        assert f"{record['instance_id']}: {record['error']}\n" in stderr, stderr
    # Without --allow-partial neither front end writes a file, and both name the failures.
    strict = run_cli(emulator, tmp_path, "export", "findings", "--format", fmt, "--out", str(tmp_path / "no.out"),
                     "--instance", selection)
    assert strict.returncode == 3 and not (tmp_path / "no.out").exists()
    with pytest.raises(cyrisma.CyrismaError) as caught:
        client.export_findings(tmp_path / "no.py.out", format=fmt, instances=chosen)
    assert victim in str(caught.value) and "cc424242" in str(caught.value)
    assert not (tmp_path / "no.py.out").exists()
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".partial")]
