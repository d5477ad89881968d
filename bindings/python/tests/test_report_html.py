"""Customer report pages from Python: ``History.report_html`` writes the same files as ``cyrisma
report html`` on the same history, refuses bad arguments with clear errors, and the results of
``client.report()`` and ``client.snapshot()`` show as escaped HTML tables in Jupyter
(``_repr_html_``)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

import cyrisma

from conftest import organizations, standard_instances
from test_fleet import run_cli

HOSTILE = "<img src=x onerror=alert(1)> O'Neil \"&\" Sons"


@pytest.fixture(scope="module")
def history(tmp_path_factory: pytest.TempPathFactory) -> Any:
    """Two runs a month apart, the second with one instance failing."""
    directory = tmp_path_factory.mktemp("history")
    emulator = cyrisma.Emulator(seed=13, organizations=2, instances=5, scans_per_instance=3)
    client = emulator.client()
    client.snapshot(directory)
    victim = sorted(instance.instance_id for instance in standard_instances(emulator))[0]
    emulator.fail(500, endpoint="dashboards.get_overall_dashboard", host=victim)
    emulator.advance(30)
    second = client.snapshot(directory)
    yield {"dir": directory, "emulator": emulator, "victim": victim, "second": second}
    emulator.close()


def files(directory: Path) -> dict[str, bytes]:
    return {path.name: path.read_bytes() for path in sorted(directory.iterdir())}


def test_report_html_writes_the_pages_of_the_cli(history: Any, tmp_path: Path) -> None:
    out = tmp_path / "py"
    index = cyrisma.History(history["dir"]).report_html(out, title="Q3 <review>", msp_name="Northwind IT")
    assert index == str(out / "index.html")
    names = set(files(out))
    ids = {instance.instance_id for instance in standard_instances(history["emulator"])}
    assert names == {"index.html"} | {f"{instance_id}.html" for instance_id in ids}
    page = (out / "index.html").read_text(encoding="utf-8")
    assert "Q3 &#60;review&#62;" in page and "Prepared by <bdi>Northwind IT</bdi>" in page
    assert history["victim"] in page.split("Failed pulls in the latest snapshot")[1]
    # The CLI on the same history writes the same bytes.
    cli_out = tmp_path / "cli"
    done = run_cli(
        history["emulator"],
        tmp_path / "home",
        "report",
        "html",
        "--dir",
        str(history["dir"]),
        "--out",
        str(cli_out),
        "--title",
        "Q3 <review>",
        "--msp-name",
        "Northwind IT",
    )
    assert done.returncode == 0, done.stderr
    assert files(cli_out) == files(out)


def test_report_html_options_and_errors(history: Any, tmp_path: Path) -> None:
    history_ = cyrisma.History(history["dir"])
    victim = history["victim"]
    history_.report_html(tmp_path / "one", instances=[victim], period="1y")
    assert set(files(tmp_path / "one")) == {"index.html", f"{victim}.html"}
    logo = tmp_path / "logo.gif"
    logo.write_bytes(b"GIF89a-python-logo")
    history_.report_html(tmp_path / "logo", logo=logo)
    assert "data:image/gif;base64," in (tmp_path / "logo" / "index.html").read_text(encoding="utf-8")
    with pytest.raises(ValueError, match="90d"):
        history_.report_html(tmp_path / "x", period="3 months")
    with pytest.raises(ValueError, match="YYYY-MM-DD"):
        history_.report_html(tmp_path / "x", since="2026-02-30")
    with pytest.raises(ValueError, match="not both"):
        history_.report_html(tmp_path / "x", since="2026-01-01", period="3m")
    with pytest.raises(ValueError, match="no instance cc999999"):
        history_.report_html(tmp_path / "x", instances=["cc999999"])
    with pytest.raises(ValueError, match="PNG, JPEG"):
        (tmp_path / "logo.txt").write_text("not an image", encoding="utf-8")
        history_.report_html(tmp_path / "x", logo=tmp_path / "logo.txt")
    taken = tmp_path / "file.html"
    taken.write_text("mine", encoding="utf-8")
    with pytest.raises(ValueError, match="not a directory"):
        history_.report_html(taken)
    assert taken.read_text(encoding="utf-8") == "mine"
    with pytest.raises(ValueError, match="cyrisma snapshot"):
        cyrisma.History(tmp_path / "empty").report_html(tmp_path / "y")


def test_results_show_as_escaped_html_tables(emulator: cyrisma.Emulator) -> None:
    client = emulator.client()
    created = client.instances.create(
        instance_type="standard",
        parent_instance_id=organizations(emulator)[0].instance_id,
        name=HOSTILE,
        short_name="hostile",
        country="US",
        email="it@example.com",
    )
    client.instances.wait_until_active(created.instance_id, timeout=30)
    report = client.report()
    html = report._repr_html_()
    assert "<img" not in html
    assert "&#60;img src=x onerror=alert(1)&#62; O&#39;Neil &#34;&#38;&#34; Sons" in html
    assert f"instances ({len(report)})" in html and "errors (0)" in html
    for entry in report:
        assert entry.instance_id in html
    row = report[0]._repr_html_()
    assert "<table>" in row and report[0].instance_id in row and "overall_current" in row
    failed = client.report(instances=["cc999999"])
    assert "errors (1)" in failed._repr_html_()
    assert "cc999999" in failed.errors[0]._repr_html_()
