"""The history dataset on object storage, against a real S3 server: moto's server mode, started
here on a loopback port and stopped afterwards. `client.snapshot()` and `cyrisma snapshot` write
runs to `s3://`, `cyrisma.History`, `cyrisma diff` and `cyrisma history` read them back, pyarrow
and DuckDB read the same objects with Hive partitioning, a run killed before its `runs` object is
invisible, and the (recognisable, fake) credentials never appear in any output or error."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import cyrisma

from test_fleet import HANG_GUARD_SECONDS, cli_binary

boto3 = pytest.importorskip("boto3")
pytest.importorskip("moto")

ACCESS_KEY = "AKIACANARYHSTORE0001"
SECRET_KEY = "canary-hstore-secret-7f3a9c1e5b2d4"
SESSION_TOKEN = "canary-hstore-session-token-e8d1"
CANARIES = (ACCESS_KEY, SECRET_KEY, SESSION_TOKEN)
BUCKET = "cyrisma-history"


class S3Server:
    """A moto S3 server on 127.0.0.1 and the environment that points the tool at it."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.endpoint = f"http://127.0.0.1:{port}"
        self.env = {
            "AWS_ENDPOINT_URL": self.endpoint,
            "AWS_ACCESS_KEY_ID": ACCESS_KEY,
            "AWS_SECRET_ACCESS_KEY": SECRET_KEY,
            "AWS_SESSION_TOKEN": SESSION_TOKEN,
            "AWS_REGION": "us-east-1",
            "AWS_ALLOW_HTTP": "true",
        }

    def client(self) -> Any:
        return boto3.client(
            "s3",
            endpoint_url=self.endpoint,
            aws_access_key_id=ACCESS_KEY,
            aws_secret_access_key=SECRET_KEY,
            aws_session_token=SESSION_TOKEN,
            region_name="us-east-1",
        )

    def keys(self, prefix: str) -> list[str]:
        listed = self.client().list_objects_v2(Bucket=BUCKET, Prefix=prefix)
        return sorted(item["Key"] for item in listed.get("Contents", []))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@pytest.fixture(scope="module")
def s3() -> Iterator[S3Server]:
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        stdin=subprocess.DEVNULL,
    )
    try:
        for _ in range(600):  # bounded: 600 attempts, 50 ms apart
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if process.poll() is not None:
                    pytest.fail(f"moto server exited with {process.returncode}")
                time.sleep(0.05)
        else:
            pytest.fail("moto server did not start listening")
        server = S3Server(port)
        server.client().create_bucket(Bucket=BUCKET)
        with pytest.MonkeyPatch.context() as patch:
            for name, value in server.env.items():
                patch.setenv(name, value)
            yield server
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def cli(emulator: cyrisma.Emulator, home: Path, s3: S3Server, *args: str, **extra: str) -> Any:
    env = {"PATH": os.environ.get("PATH", ""), "HOME": str(home), "XDG_CONFIG_HOME": str(home / "config")}
    env.update({"XDG_RUNTIME_DIR": str(home), "NO_COLOR": "1", "CYRISMA_CONFIG_DIR": str(home / "cyrisma")})
    # A private temporary directory: the spool files of runs on the bucket go there.
    (home / "tmp").mkdir(exist_ok=True)
    env["TMPDIR"] = str(home / "tmp")
    env.update(emulator.env())
    env.update(s3.env)
    env["CYRISMA_MAX_RETRIES"] = "0"
    env.update(extra)
    return subprocess.run(
        [str(cli_binary()), *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=HANG_GUARD_SECONDS,
        stdin=subprocess.DEVNULL,
        check=False,
    )


def assert_no_canary(*texts: str) -> None:
    for text in texts:
        for canary in CANARIES:
            assert canary not in text, f"a credential leaked: {text!r}"


@pytest.fixture(scope="module")
def bucket_history(s3: S3Server) -> Iterator[dict[str, Any]]:
    """Two snapshots from Python into s3://BUCKET/py, a month of churn apart."""
    emulator = cyrisma.Emulator(seed=13, organizations=2, instances=5, scans_per_instance=3)
    client = emulator.client()
    location = f"s3://{BUCKET}/py"
    first = client.snapshot(location)
    emulator.advance(30)
    second = client.snapshot(location)
    yield {"location": location, "emulator": emulator, "runs": [first, second]}
    emulator.close()


def test_python_snapshots_to_s3_and_history_reads_them(bucket_history: dict[str, Any], s3: S3Server) -> None:
    first, second = bucket_history["runs"]
    assert first.findings > 0 and second.findings > 0
    history = cyrisma.History(bucket_history["location"])
    assert history.dir == bucket_history["location"]
    assert_no_canary(repr(history), str(first), repr(second))
    assert history.runs().column("run_id").to_pylist() == [first.run_id, second.run_id]
    changes = history.diff().column("change").to_pylist()
    assert changes, "a month of churn changes some findings"
    assert set(changes) <= {"new", "reopened", "fixed", "not_covered"}
    keys = s3.keys("py/")
    assert f"py/runs/dt={first.started_at[:10]}/{first.run_id}.parquet" in keys
    assert not [key for key in keys if key.endswith(".tmp") or "/." in key], keys


def test_cli_diff_and_history_read_the_bucket(bucket_history: dict[str, Any], s3: S3Server, tmp_path: Path) -> None:
    location = bucket_history["location"]
    emulator = bucket_history["emulator"]
    expected = cyrisma.History(location).diff(all=True)
    result = cli(emulator, tmp_path, s3, "diff", "--dir", location, "--all", "-o", "json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    cli_changes = sorted((row["fingerprint"], row["change"]) for row in report["findings"])
    py_changes = sorted(zip(expected.column("fingerprint").to_pylist(), expected.column("change").to_pylist()))
    assert cli_changes == py_changes
    result = cli(emulator, tmp_path, s3, "history", "runs", "--dir", location, "-o", "json")
    assert result.returncode == 0, result.stderr
    assert [run["run_id"] for run in json.loads(result.stdout)] == [run.run_id for run in bucket_history["runs"]]
    assert_no_canary(result.stdout, result.stderr)


def test_report_html_reads_the_bucket(bucket_history: dict[str, Any], s3: S3Server, tmp_path: Path) -> None:
    """`cyrisma report html` and `History.report_html` draw the same pages from a bucket."""
    location = bucket_history["location"]
    emulator = bucket_history["emulator"]
    out = tmp_path / "cli"
    result = cli(emulator, tmp_path, s3, "report", "html", "--dir", location, "--out", str(out))
    assert result.returncode == 0, result.stderr
    assert_no_canary(result.stdout, result.stderr)
    outcomes = cyrisma.History(location).runs()
    assert outcomes.num_rows == 2
    index = cyrisma.History(location).report_html(tmp_path / "py")
    assert index == str(tmp_path / "py" / "index.html")
    cli_pages = sorted(path.name for path in out.iterdir())
    py_pages = sorted(path.name for path in (tmp_path / "py").iterdir())
    assert cli_pages == py_pages
    assert "index.html" in cli_pages and len(cli_pages) > 1, cli_pages
    for name in cli_pages:
        assert (out / name).read_bytes() == (tmp_path / "py" / name).read_bytes(), name
    text = (out / "index.html").read_text(encoding="utf-8")
    assert "2 snapshots" in text, "the portfolio covers both runs in the bucket"
    assert_no_canary(text)


def bucket_filesystem(s3: S3Server) -> Any:
    import pyarrow.fs as pafs

    return pafs.S3FileSystem(
        access_key=ACCESS_KEY,
        secret_key=SECRET_KEY,
        session_token=SESSION_TOKEN,
        region="us-east-1",
        endpoint_override=f"127.0.0.1:{s3.port}",
        scheme="http",
    )


def test_pyarrow_and_duckdb_read_the_bucket_as_history_does(bucket_history: dict[str, Any], s3: S3Server) -> None:
    import duckdb
    import pyarrow.dataset as ds

    filesystem = bucket_filesystem(s3)
    findings = ds.dataset(f"{BUCKET}/py/findings", format="parquet", partitioning="hive", filesystem=filesystem)
    runs = ds.dataset(f"{BUCKET}/py/runs", format="parquet", partitioning="hive", filesystem=filesystem)
    table = findings.to_table(columns=["run_id", "dt"])
    counts: dict[str, int] = {}
    for run_id in table.column("run_id").to_pylist():
        counts[run_id] = counts.get(run_id, 0) + 1
    expected = {run.run_id: run.findings for run in bucket_history["runs"]}
    assert counts == expected
    assert set(table.column("dt").to_pylist()) == {run.started_at[:10] for run in bucket_history["runs"]}
    # DuckDB over the same objects (through the pyarrow datasets), complete runs only.
    con = duckdb.connect()
    con.register("findings", findings)
    con.register("runs", runs)
    rows = con.sql("SELECT f.run_id, count(*) FROM findings f JOIN runs r USING (run_id) GROUP BY f.run_id").fetchall()
    assert dict(rows) == expected


def test_duckdb_httpfs_reads_the_bucket(bucket_history: dict[str, Any], s3: S3Server) -> None:
    import duckdb

    con = duckdb.connect()
    try:
        con.execute("LOAD httpfs")
    except duckdb.Error:
        pytest.skip("DuckDB's httpfs extension is not installed (it is downloaded from DuckDB's site, not PyPI)")
    con.execute(
        f"""CREATE SECRET moto (TYPE s3, KEY_ID '{ACCESS_KEY}', SECRET '{SECRET_KEY}', SESSION_TOKEN '{SESSION_TOKEN}',
        REGION 'us-east-1', ENDPOINT '127.0.0.1:{s3.port}', URL_STYLE 'path', USE_SSL false)"""
    )
    rows = con.sql(
        f"""SELECT f.run_id, count(*)
        FROM read_parquet('s3://{BUCKET}/py/findings/*/*.parquet', hive_partitioning = true) f
        JOIN read_parquet('s3://{BUCKET}/py/runs/*/*.parquet', hive_partitioning = true) r USING (run_id)
        GROUP BY f.run_id"""
    ).fetchall()
    assert dict(rows) == {run.run_id: run.findings for run in bucket_history["runs"]}


def test_cli_snapshot_to_s3_twice(s3: S3Server, tmp_path: Path) -> None:
    location = f"s3://{BUCKET}/cli/nested/prefix"
    with cyrisma.Emulator(seed=7, organizations=1, instances=3, scans_per_instance=2) as emulator:
        for _ in range(2):
            result = cli(emulator, tmp_path, s3, "snapshot", "--dir", location, "-o", "json")
            assert result.returncode == 0, result.stderr
            assert location in result.stderr
            assert_no_canary(result.stdout, result.stderr)
            emulator.advance(30)
    runs = cyrisma.History(location).runs()
    assert runs.num_rows == 2
    assert all(key.startswith("cli/nested/prefix/") for key in s3.keys("cli/"))


@pytest.mark.parametrize("point", ["after-tables-closed", "after-first-rename", "before-runs-row"])
def test_a_run_killed_before_its_runs_object_is_invisible(s3: S3Server, tmp_path: Path, point: str) -> None:
    location = f"s3://{BUCKET}/killed-{point}"
    with cyrisma.Emulator(seed=9, organizations=1, instances=3, scans_per_instance=2) as emulator:
        assert cli(emulator, tmp_path, s3, "snapshot", "--dir", location).returncode == 0
        before = s3.keys(f"killed-{point}/")
        killed = cli(emulator, tmp_path, s3, "snapshot", "--dir", location, CYRISMA_DATASET_FAILPOINT=point)
        assert killed.returncode != 0
        after = s3.keys(f"killed-{point}/")
        assert [key for key in after if "/runs/" in key] == [key for key in before if "/runs/" in key]
        if point != "after-tables-closed":
            assert len(after) > len(before), "the killed run uploaded some tables"
        else:
            assert after == before
        assert cyrisma.History(location).runs().num_rows == 1
        # The killed process left its local spool files behind; once nothing has written to them
        # for a day, the next snapshot deletes them (and only them).
        spools = list((tmp_path / "tmp").glob(".cyrisma-*.parquet.tmp"))
        assert spools, "the killed run left spool files"
        day_old = time.time() - 2 * 86_400
        for spool in spools:
            os.utime(spool, (day_old, day_old))
        recent = tmp_path / "tmp" / ".cyrisma-1-0-findings-r20261201T000000.000000Z-0a1b2c3d.parquet.tmp"
        recent.write_bytes(b"a run in progress elsewhere")
        # The next snapshot writes a complete run; the orphans stay invisible.
        emulator.advance(30)
        assert cli(emulator, tmp_path, s3, "snapshot", "--dir", location).returncode == 0
        left = list((tmp_path / "tmp").glob(".cyrisma-*.parquet.tmp"))
        assert left == [recent], "the day-old spool files went, the recent one stayed"
        history = cyrisma.History(location)
        assert history.runs().num_rows == 2
        assert history.diff().num_rows >= 0


def test_location_errors_are_clear_and_keep_credentials_out(s3: S3Server, tmp_path: Path) -> None:
    with pytest.raises(cyrisma.CyrismaError) as missing:
        cyrisma.History("s3://no-such-bucket-here/h").runs()
    assert "no-such-bucket-here" in str(missing.value) and "bucket does not exist" in str(missing.value)
    with pytest.raises(ValueError) as scheme:
        cyrisma.History("ftp://host/h")
    assert "unsupported scheme" in str(scheme.value)
    with pytest.raises(ValueError) as inline:
        cyrisma.History(f"s3://{ACCESS_KEY}:{SECRET_KEY}@{BUCKET}/h")
    assert "cannot carry credentials" in str(inline.value)
    assert_no_canary(str(missing.value), str(scheme.value), str(inline.value), repr(inline.value))
    with cyrisma.Emulator(seed=7, organizations=1, instances=2, scans_per_instance=1) as emulator:
        for args in (
            ("snapshot", "--dir", "s3://no-such-bucket-here/h"),
            ("diff", "--dir", "s3://no-such-bucket-here/h", "-vv"),
            ("history", "runs", "--dir", f"s3://{ACCESS_KEY}:{SECRET_KEY}@{BUCKET}/h"),
            ("history", "runs", "--dir", "gopher://x/y"),
        ):
            result = cli(emulator, tmp_path, s3, *args)
            assert result.returncode != 0, args
            assert "s3://no-such-bucket-here/h" in result.stderr or "://…" in result.stderr, result.stderr
            assert_no_canary(result.stdout, result.stderr)
        # Wrong credentials against a closed port: the error names the location, not the secret.
        closed = cli(
            emulator,
            tmp_path,
            s3,
            "history",
            "runs",
            "--dir",
            f"s3://{BUCKET}/h",
            "-vv",
            AWS_ENDPOINT_URL=f"http://127.0.0.1:{free_port()}",
        )
        assert closed.returncode != 0
        assert f"s3://{BUCKET}/h" in closed.stderr
        assert_no_canary(closed.stdout, closed.stderr)


def test_a_findings_file_larger_than_a_part_uploads_in_parts_and_reads_back(s3: S3Server) -> None:
    """A run whose findings file is over the 8 MiB part size goes up as a multipart upload (the
    object's ETag counts its parts), read from its spool file a part at a time, and the object
    is the whole Parquet file: pyarrow reads every row and History counts them."""
    pq = pytest.importorskip("pyarrow.parquet")
    emulator = cyrisma.Emulator(seed=5, organizations=2, instances=40, scans_per_instance=2, assets_per_scan=500)
    try:
        location = f"s3://{BUCKET}/big"
        run = emulator.client().snapshot(location)
    finally:
        emulator.close()
    [key] = s3.keys("big/findings/")
    head = s3.client().head_object(Bucket=BUCKET, Key=key)
    assert head["ContentLength"] > 8 * 1024 * 1024, head["ContentLength"]
    parts = int(head["ETag"].strip('"').rsplit("-", 1)[1])
    assert parts == -(-head["ContentLength"] // (8 * 1024 * 1024)), head["ETag"]
    body = s3.client().get_object(Bucket=BUCKET, Key=key)["Body"].read()
    import io

    assert pq.read_table(io.BytesIO(body)).num_rows == run.findings
    runs = cyrisma.History(location).runs()
    assert runs.column("findings").to_pylist() == [run.findings]
    assert not [key for key in s3.keys("big/") if key.endswith(".tmp") or "/." in key]
