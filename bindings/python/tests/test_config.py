"""Every ``CYRISMA_*`` variable of ``docs/configuration.md``: the shared settings are honoured by
``Client.from_env()`` with the ranges of the doc's table (the CLI's too: the Rust test
``crates/cyrisma-cli/tests/it/config_vars.rs`` checks that table against the transport's reader
and runs the same values through the binary), and the CLI's own variables are ignored here."""

from __future__ import annotations

import re
import socket
import threading
from pathlib import Path
from typing import Any

import pytest

import cyrisma

DOC = Path(__file__).resolve().parents[3] / "docs" / "configuration.md"

WORKS, REFUSED, FAILS = "works", "refused", "fails"

SECONDS = [("0", REFUSED), ("-1", REFUSED), ("1000001", REFUSED), ("1000000", WORKS)]
REQUESTS = [("0", REFUSED), ("65537", REFUSED), ("65536", WORKS)]

# The same values as the CLI's cases. The emulator's variables are set for every case, so the
# first six work with their emulator value and fail when changed.
CASES: dict[str, list[tuple[str, str]]] = {
    "CYRISMA_BASE_URL": [("http://api.example.com/app", FAILS)],
    "CYRISMA_API_KEY": [("00000000-0000-4000-8000-000000000bad", FAILS)],
    "CYRISMA_API_SECRET": [("not-the-secret", FAILS)],
    "CYRISMA_RESOLVE": [("nonsense", REFUSED)],
    "CYRISMA_CA_CERT": [("/nonexistent/ca.pem", FAILS)],
    "CYRISMA_ALLOWED_DOMAIN": [("example.org", FAILS)],
    "CYRISMA_TIMEOUT": SECONDS,
    "CYRISMA_CONNECT_TIMEOUT": SECONDS,
    "CYRISMA_ATTEMPT_TIMEOUT": SECONDS,
    "CYRISMA_MAX_RETRIES": [("-1", REFUSED), ("101", REFUSED), ("100", WORKS)],
    "CYRISMA_CONCURRENCY": [("0", REFUSED), ("1025", REFUSED), ("1024", WORKS)],
    "CYRISMA_MAX_CONCURRENCY": REQUESTS,
    "CYRISMA_MAX_CONCURRENCY_PER_HOST": REQUESTS,
    "CYRISMA_MAX_BODY_SIZE": [("0", REFUSED), ("1099511627777", REFUSED), ("16", FAILS), ("1099511627776", WORKS)],
    # Its effect is seen on the wire by test_user_agent_reaches_the_server.
    "CYRISMA_USER_AGENT": [("config-test/1", WORKS)],
}

# The variables whose cases run a report (as the CLI's cases run `cyrisma report`).
FAN_OUT = {"CYRISMA_ALLOWED_DOMAIN", "CYRISMA_CONCURRENCY", "CYRISMA_MAX_CONCURRENCY", "CYRISMA_MAX_CONCURRENCY_PER_HOST"}

# The CLI's own variables, with a value Python must not trip over.
CLI_ONLY = {
    "CYRISMA_PROFILE": "staging",
    "CYRISMA_CONFIG_DIR": "/nonexistent",
    "CYRISMA_OUTPUT": "yaml",
    "CYRISMA_QUIET": "maybe",
    "CYRISMA_NO_PROGRESS": "maybe",
    "CYRISMA_EMULATOR": "maybe",
    "CYRISMA_EMULATOR_HISTORY": "many",
    "CYRISMA_EMULATOR_PERIOD": "later",
    "CYRISMA_HISTORY_DIR": "/nonexistent",
    "CYRISMA_REPORT_TITLE": "Ignored <title>",
    "CYRISMA_REPORT_MSP_NAME": "Ignored MSP",
    "CYRISMA_REPORT_LOGO": "/nonexistent/logo.png",
    "CYRISMA_COLOR": "pink",
    "CYRISMA_KEYRING": "off",
    "CYRISMA_WEBHOOK_SECRET": "x",
    "CYRISMA_FAILPOINT": "panic",
}


def doc_text() -> str:
    return DOC.read_text(encoding="utf-8")


def shared_rows() -> dict[str, str]:
    """The doc's shared table: variable -> allowed."""
    section = doc_text().split("## Settings shared by the CLI, Rust and Python")[1].split("\n## ")[0]
    rows = {}
    for line in section.splitlines():
        if line.startswith("| `CYRISMA_"):
            cells = [cell.strip() for cell in line.split("|")]
            rows[cells[1].strip("`")] = cells[5]
    return rows


def test_every_documented_variable_has_a_case() -> None:
    rows = shared_rows()
    assert len(rows) == 15
    assert set(rows) == set(CASES)
    names = {name.rstrip("_") for name in re.findall(r"CYRISMA_[A-Z_]+", doc_text())} - {"CYRISMA"}
    assert names == set(CASES) | set(CLI_ONLY)


def outcome(var: str, value: str) -> tuple[str, Any]:
    """What ``from_env()`` and a call give with ``var`` set to ``value``."""
    try:
        client = cyrisma.Client.from_env()
    except cyrisma.InvalidArgumentError as error:
        if error.argument == var:
            return REFUSED, error
        return FAILS, error
    except cyrisma.CyrismaError as error:
        return FAILS, error
    try:
        client.users.list()
        report = client.report() if var in FAN_OUT else None
    except cyrisma.CyrismaError as error:
        return FAILS, error
    if report is not None and (report.errors or not report.instances):
        # Instance hosts outside the allowed domain are refused, instance by instance.
        return FAILS, report.errors
    return WORKS, None


@pytest.mark.parametrize("var", sorted(CASES))
def test_shared_variables_are_honoured_with_their_ranges(
    var: str, emulator: cyrisma.Emulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    allowed = shared_rows()[var]
    for name, value in emulator.env().items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("CYRISMA_MAX_RETRIES", "0")
    for value, expected in CASES[var]:
        monkeypatch.setenv(var, value)
        got, error = outcome(var, value)
        assert got == expected, f"{var}={value}: {error!r}"
        if expected == REFUSED:
            assert allowed in str(error), str(error)
            if var != "CYRISMA_RESOLVE":  # the one entry it could not read is quoted
                assert f"`{value}`" not in str(error)
    monkeypatch.delenv(var)


@pytest.mark.parametrize(
    ("argument", "refused", "accepted"),
    [
        ("timeout", [0, -1, 1000001], 1000000),
        ("max_retries", [-1, 101], 100),
        ("concurrency", [0, 1025], 1024),
    ],
)
def test_arguments_have_the_ranges_of_their_variables(
    argument: str, refused: list[int], accepted: int, emulator: cyrisma.Emulator
) -> None:
    allowed = shared_rows()[f"CYRISMA_{argument.upper()}"]
    for value in refused:
        with pytest.raises(cyrisma.InvalidArgumentError) as caught:
            emulator.client(**{argument: value})
        assert caught.value.argument == argument
        assert allowed in str(caught.value)
    assert emulator.client(**{argument: accepted}).users.list()


def test_arguments_win_over_variables(emulator: cyrisma.Emulator, monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in emulator.env().items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("CYRISMA_TIMEOUT", "0")
    assert cyrisma.Client.from_env(timeout=5).users.list()
    monkeypatch.setenv("CYRISMA_TIMEOUT", "5")
    monkeypatch.setenv("CYRISMA_CONCURRENCY", "1025")
    assert cyrisma.Client.from_env(concurrency=3).report()


def test_cli_only_variables_are_ignored(emulator: cyrisma.Emulator, monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in emulator.env().items():
        monkeypatch.setenv(name, value)
    for name, value in CLI_ONLY.items():
        monkeypatch.setenv(name, value)
    assert cyrisma.Client.from_env().users.list()


def test_user_agent_reaches_the_server(monkeypatch: pytest.MonkeyPatch) -> None:
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    heads: list[bytes] = []

    def serve() -> None:
        connection, _ = listener.accept()
        with connection:
            head = b""
            for _ in range(200):  # bounded: the head ends at an empty line or at the end
                chunk = connection.recv(4096)
                head += chunk
                if not chunk or b"\r\n\r\n" in head:
                    break
            heads.append(head)
            connection.sendall(b"HTTP/1.1 503 Service Unavailable\r\ncontent-length: 0\r\nconnection: close\r\n\r\n")

    server = threading.Thread(target=serve)
    server.start()
    monkeypatch.setenv("CYRISMA_USER_AGENT", "config-test/1")
    monkeypatch.setenv("CYRISMA_MAX_RETRIES", "0")
    try:
        client = cyrisma.Client.from_env(
            base_url=f"http://127.0.0.1:{port}/app", allowed_domain="cyrisma.test", api_key="k", api_secret="s"
        )
        with pytest.raises(cyrisma.CyrismaError):
            client.users.list()
    finally:
        # Unblock the accept if the client never connected.
        socket.create_connection(("127.0.0.1", port)).close()
        server.join()
        listener.close()
    assert b"user-agent: config-test/1" in heads[0].lower()
