"""Secret canary over the Python flows (issue 7).

The emulator is given a canary API secret (``+ / = &``, a space and a non-ASCII letter) and every
flow of the package runs against it, sync and async, with logging at maximum verbosity (the
root logger at DEBUG with a capturing handler; ``RUST_LOG=trace`` and ``RUST_BACKTRACE=full``
in the environment, although the binding installs no tracing subscriber, so nothing is
forwarded) and with forced errors: bad credentials, 5xx, timeouts, truncated and oversized
bodies, a refused connection, secret rotation failing at each point the package can reach
(store raising, a coroutine store given to the sync client, the answer lost after the server
committed), webhook verification with wrong secrets, and forced panics through the test hook
(``_cyrisma._test_panic``, enabled with ``CYRISMA_TEST_HOOKS=1``).

The client talks to the emulator through a loopback relay written here (plain HTTP, bytes passed
on unchanged), which records the wire, so the test learns the real access and refresh tokens
the emulator issued, and the rotated secret, and can look for them too.

Collected and searched: stdout and stderr at the file-descriptor level (``capfd``, so Rust's
output is included), every log record (formatted, with exception text), ``str``/``repr`` of every
exception with its ``__cause__``/``__context__`` chain, its attributes and its formatted
traceback, ``repr`` of every public object that can hold a secret (clients, instance clients,
``Secret``, the emulator, results), and every file the exports wrote. Each canary must appear
0 times in each form: plain, URL-encoded, form-encoded, base64 (standard and URL-safe, padded and
unpadded) and base64 of ``key:secret``.
"""

from __future__ import annotations

import asyncio
import base64
import json
import logging
import os
import re
import socket
import threading
import traceback
import urllib.parse
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

import cyrisma
from cyrisma import _cyrisma

SECRET = "Cn4ry+S3cr/t=&k ü-7Qx2"
WRONG = "Cn4ry+Wr0ng/=&z é-9Zz"
WEBHOOK_SECRET = "whsec_Cn4ry+Hook/=& ö-5Kk"

#: Log-in answers and token headers on the wire.
TOKEN_PATTERNS = [
    re.compile(rb'"(?:access_token|refresh_token)"\s*:\s*"([^"]+)"'),
    re.compile(rb"[Aa]uthorization: access_token ([^\r\n]+)"),
]


def forms(secret: str, key: str) -> set[str]:
    """The forms a secret can take in text."""
    raw = secret.encode()
    found = {
        secret,
        urllib.parse.quote(secret, safe=""),
        urllib.parse.quote_plus(secret),
        urllib.parse.urlencode({"x": secret})[2:],
    }
    for encoded in (base64.b64encode(raw), base64.urlsafe_b64encode(raw)):
        text = encoded.decode()
        found.add(text)
        found.add(text.rstrip("="))
        # A prefix that does not depend on the padding or on what follows the secret.
        found.add(text[: max(8, (len(raw) // 3) * 4 - 4)])
    for pair in (f"{key}:{secret}".encode(),):
        found.add(base64.b64encode(pair).decode())
        found.add(base64.b64encode(pair).decode().rstrip("="))
    return {form for form in found if form}


class Relay:
    """A loopback TCP relay in front of the emulator that records every byte in both directions."""

    def __init__(self, target_port: int) -> None:
        self.target_port = target_port
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.listener.settimeout(0.2)
        self.port = self.listener.getsockname()[1]
        self.wire = bytearray()
        self.lock = threading.Lock()
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self._accept, daemon=True)
        self.thread.start()

    def _accept(self) -> None:
        while not self.stopped.is_set():
            try:
                client, _ = self.listener.accept()
            except OSError:
                continue
            try:
                upstream = socket.create_connection(("127.0.0.1", self.target_port), timeout=5)
            except OSError:
                client.close()
                continue
            for source, sink in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(source, sink), daemon=True).start()

    def _pump(self, source: socket.socket, sink: socket.socket) -> None:
        source.settimeout(0.5)
        try:
            while not self.stopped.is_set():
                try:
                    chunk = source.recv(65536)
                except TimeoutError:
                    continue
                if not chunk:
                    break
                with self.lock:
                    self.wire.extend(chunk)
                sink.sendall(chunk)
        except OSError:
            pass
        finally:
            for end in (source, sink):
                try:
                    end.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

    def tokens(self) -> set[str]:
        with self.lock:
            wire = bytes(self.wire)
        return {match.decode() for pattern in TOKEN_PATTERNS for match in pattern.findall(wire)}

    def close(self) -> None:
        self.stopped.set()
        self.listener.close()
        self.thread.join(timeout=5)


class Capture(logging.Handler):
    """Every log record, formatted with its exception text."""

    def __init__(self) -> None:
        super().__init__(level=logging.DEBUG)
        self.setFormatter(logging.Formatter("%(levelname)s %(name)s %(message)s"))
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record) + " " + repr(record.args))


class Evidence:
    """Everything a user could see or store, as text."""

    def __init__(self) -> None:
        self.texts: list[tuple[str, str]] = []
        self.exceptions = 0
        self.objects = 0

    def add(self, what: str, text: str) -> None:
        self.texts.append((what, text))

    def obj(self, what: str, value: object) -> None:
        self.objects += 1
        self.add(f"repr({what})", repr(value))
        self.add(f"str({what})", str(value))

    def error(self, what: str, error: BaseException) -> None:
        self.exceptions += 1
        seen: set[int] = set()
        current: BaseException | None = error
        while current is not None and id(current) not in seen:
            seen.add(id(current))
            self.add(f"{what}: str", str(current))
            self.add(f"{what}: repr", repr(current))
            self.add(f"{what}: args", repr(current.args))
            for name, value in vars(current).items():
                self.add(f"{what}: .{name}", repr(value))
            current = current.__cause__ or current.__context__
        self.add(f"{what}: traceback", "".join(traceback.format_exception(error)))

    def expect_error(self, what: str, expected: type[BaseException], call: Callable[[], Any]) -> BaseException:
        try:
            call()
        except expected as error:
            self.error(what, error)
            logging.getLogger("canary.app").exception("%s failed", what)
            return error
        raise AssertionError(f"{what}: no {expected.__name__}")


@pytest.fixture
def setup(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[tuple[cyrisma.Emulator, Relay, dict[str, Any]]]:
    monkeypatch.setenv("RUST_LOG", "trace")
    monkeypatch.setenv("RUST_BACKTRACE", "full")
    monkeypatch.setenv("CYRISMA_TEST_HOOKS", "1")
    monkeypatch.chdir(tmp_path)
    with cyrisma.Emulator(
        seed=7, tls=False, organizations=2, instances=6, scans_per_instance=2, assets_per_scan=3, api_secret=SECRET
    ) as emu:
        relay = Relay(emu.port)
        parts = urllib.parse.urlsplit(emu.base_url)
        options = dict(emu.client_options())
        options["base_url"] = f"{parts.scheme}://{parts.hostname}:{relay.port}{parts.path}"
        options["api_secret"] = SECRET
        options.pop("ca_cert", None)
        try:
            yield emu, relay, options
        finally:
            relay.close()


def run_sync_flows(emu: cyrisma.Emulator, options: dict[str, Any], evidence: Evidence, tmp_path: Path,
                   rotated: list[cyrisma.Secret], monkeypatch: pytest.MonkeyPatch) -> None:
    client = cyrisma.Client(**options)
    evidence.obj("Client", client)
    listed = client.instances.list()
    evidence.obj("instances", listed)
    standard = [i.instance_id for i in listed if not i.is_organization and not i.is_suspended]
    organization = next(i.instance_id for i in listed if i.is_organization)
    evidence.obj("authenticate", client.instances.authenticate())
    evidence.obj("users", client.users.list())
    instance = client.instance(standard[0])
    evidence.obj("InstanceClient", instance)
    scans = instance.vulnerability_scans()
    evidence.obj("scans", scans)
    detail = instance.vulnerability_scan(scans[0].scan_id)
    evidence.add("detail.to_json", detail.to_json())
    evidence.obj("dashboard", instance.dashboard_overall())
    evidence.obj("report", client.report())
    evidence.obj("usage", client.usage())
    for fmt in ("jsonl", "json", "csv"):
        evidence.obj(f"export {fmt}", client.export_findings(tmp_path / f"findings.{fmt}", format=fmt))
    hook = client.webhooks.create("http://127.0.0.1:9/cyrisma-hook", ["scan.completed"])
    evidence.obj("webhook", hook)
    if isinstance(hook.secret, cyrisma.Secret):
        rotated.append(hook.secret)  # shown once by design, never in a repr
    client.webhooks.delete(hook.webhook_id)

    # From the environment.
    monkeypatch.setenv("CYRISMA_BASE_URL", options["base_url"])
    monkeypatch.setenv("CYRISMA_API_KEY", options["api_key"])
    monkeypatch.setenv("CYRISMA_API_SECRET", SECRET)
    monkeypatch.setenv("CYRISMA_RESOLVE", options["resolve"])
    monkeypatch.setenv("CYRISMA_ALLOWED_DOMAIN", options["allowed_domain"])
    from_env = cyrisma.Client.from_env()
    evidence.obj("Client.from_env", from_env)
    evidence.obj("from_env users", from_env.users.list())

    # Forced errors.
    bad = cyrisma.Client(**{**options, "api_secret": WRONG})
    evidence.obj("bad Client", bad)
    evidence.expect_error("bad credentials", cyrisma.AuthenticationError, lambda: bad.users.list())
    emu.fail(503, endpoint="users.list_users", retry_after="0")
    evidence.expect_error("5xx", cyrisma.ServerError, lambda: cyrisma.Client(**{**options, "max_retries": 0}).users.list())
    emu.clear_faults()
    emu.fail(500, endpoint="auth.login", times=1)
    evidence.expect_error("5xx at login", cyrisma.ServerError, lambda: cyrisma.Client(**{**options, "max_retries": 0}).users.list())
    emu.clear_faults()
    emu.delay(3, endpoint="users.list_users")
    evidence.expect_error("timeout", cyrisma.TimeoutError, lambda: cyrisma.Client(**{**options, "timeout": 0.3}).users.list())
    emu.clear_faults()
    emu.add_fault("truncated_body", endpoint="users.list_users", keep=7, complete=True)
    evidence.expect_error("decode", cyrisma.DecodeError, lambda: client.users.list())
    emu.clear_faults()
    emu.add_fault("truncated_body", endpoint="auth.login", keep=20, times=1)
    evidence.expect_error("truncated login", cyrisma.CyrismaError, lambda: cyrisma.Client(**{**options, "max_retries": 0}).users.list())
    emu.clear_faults()
    emu.add_fault("oversized_body", endpoint="dashboards.get_overall_dashboard", bytes=65 * 1024 * 1024)
    evidence.expect_error("oversized", cyrisma.CyrismaError, lambda: client.instance(standard[0]).dashboard_overall())
    emu.clear_faults()
    emu.add_fault("deep_json", endpoint="users.list_users", depth=10_000)
    evidence.expect_error("deep json", cyrisma.CyrismaError, lambda: client.users.list())
    emu.clear_faults()
    emu.fail(401, endpoint="users.list_users")
    evidence.expect_error("401 mid-session", cyrisma.AuthenticationError, lambda: client.users.list())
    emu.clear_faults()
    closed = socket.socket()
    closed.bind(("127.0.0.1", 0))
    port = closed.getsockname()[1]
    closed.close()
    refused = cyrisma.Client(**{**options, "base_url": f"http://api.{options['allowed_domain']}:{port}/app", "max_retries": 0})
    evidence.expect_error("refused", cyrisma.ConnectionError, lambda: refused.users.list())
    evidence.expect_error(
        "bad argument", cyrisma.InvalidArgumentError, lambda: cyrisma.Client(**{**options, "base_url": "ftp://nowhere"})
    )
    evidence.expect_error("missing instance", cyrisma.NotFoundError, lambda: client.instances.get("cc999999"))
    evidence.expect_error(
        "export with failures", cyrisma.CyrismaError,
        lambda: (emu.fail(500, endpoint="scans.list_vulnerability_scans"),
                 client.export_findings(tmp_path / "partial.csv", format="csv", instances=standard[:2])),
    )
    emu.clear_faults()

    # Secret rotation: store failing, a coroutine store in the sync client, the answer lost.
    def failing_store(secret: cyrisma.Secret) -> None:
        rotated.append(secret)
        logging.getLogger("canary.app").debug("store got %r", secret)
        raise OSError("disk full")

    error = evidence.expect_error("rotation store fails", cyrisma.SecretRotationError, lambda: client.rotate_secret(failing_store))
    assert isinstance(error, cyrisma.SecretRotationError) and error.secret is not None
    evidence.obj("SecretRotationError.secret", error.secret)
    # The rotated secret is the one to use now (the store failed, the emulator has it).
    options["api_secret"] = error.secret.get_secret_value()
    client = cyrisma.Client(**options)

    async def coroutine_store(secret: cyrisma.Secret) -> None:  # pragma: no cover - never awaited
        pass

    error = evidence.expect_error(
        "coroutine store in sync client", cyrisma.SecretRotationError, lambda: client.rotate_secret(coroutine_store)
    )
    assert isinstance(error, cyrisma.SecretRotationError) and error.secret is not None
    rotated.append(error.secret)
    options["api_secret"] = error.secret.get_secret_value()
    client = cyrisma.Client(**options)
    client.users.list()
    emu.drop_after_commit(endpoint="auth.regen_pass", times=1)
    evidence.expect_error("rotation answer lost", cyrisma.CyrismaError, lambda: client.rotate_secret(rotated.append))
    emu.clear_faults()
    # The emulator committed: its secret is now one nobody saw; give the client a known one.
    emu.set_api_secret(SECRET)
    options["api_secret"] = SECRET
    client = cyrisma.Client(**options)
    new = client.rotate_secret(rotated.append)
    evidence.obj("rotated Secret", new)
    evidence.obj("Client after rotation", client)
    evidence.obj("users after rotation", client.users.list())
    emu.set_api_secret(SECRET)

    # Webhook verification.
    body = json.dumps({"id": "evt_1", "type": "scan.completed", "data": {}}).encode()
    header = cyrisma.webhooks.sign(body, WEBHOOK_SECRET)
    evidence.obj("webhook event", cyrisma.webhooks.verify(body, header, WEBHOOK_SECRET))
    evidence.expect_error(
        "webhook mismatch", cyrisma.WebhookVerificationError, lambda: cyrisma.webhooks.verify(body + b" ", header, WEBHOOK_SECRET)
    )
    evidence.expect_error(
        "webhook wrong secret", cyrisma.WebhookVerificationError, lambda: cyrisma.webhooks.verify(body, header, [WRONG, SECRET])
    )
    evidence.obj("Secret", cyrisma.Secret(SECRET))
    evidence.obj("Emulator", emu)

    # Forced panics while a client (with its secret and tokens) is held.
    client = cyrisma.Client(**options)
    client.users.list()
    evidence.expect_error("panic in call", BaseException, lambda: _cyrisma._test_panic(client, "call"))
    evidence.expect_error("panic on runtime", RuntimeError, lambda: _cyrisma._test_panic(client, "runtime"))


async def run_async_flows(options: dict[str, Any], evidence: Evidence, tmp_path: Path, emu: cyrisma.Emulator,
                          rotated: list[cyrisma.Secret]) -> None:
    async with cyrisma.AsyncClient(**options) as client:
        evidence.obj("AsyncClient", client)
        listed = await client.instances.list()
        standard = [i.instance_id for i in listed if not i.is_organization and not i.is_suspended]
        evidence.obj("async users", await client.users.list())
        instance = client.instance(standard[0])
        evidence.obj("AsyncInstanceClient", instance)
        evidence.obj("async dashboards", await asyncio.gather(*(client.instance(i).dashboard_overall() for i in standard)))
        evidence.obj("async report", await client.report())
        evidence.obj("async export", await client.export_findings(tmp_path / "async.jsonl"))
        bad = cyrisma.AsyncClient(**{**options, "api_secret": WRONG})
        evidence.obj("bad AsyncClient", bad)
        try:
            await bad.users.list()
        except cyrisma.AuthenticationError as error:
            evidence.error("async bad credentials", error)
        else:
            raise AssertionError("async bad credentials: no error")
        emu.delay(3, endpoint="users.list_users")
        try:
            await cyrisma.AsyncClient(**{**options, "timeout": 0.3}).users.list()
        except cyrisma.TimeoutError as error:
            evidence.error("async timeout", error)
        else:
            raise AssertionError("async timeout: no error")
        emu.clear_faults()

        async def store(secret: cyrisma.Secret) -> None:
            rotated.append(secret)
            raise OSError("vault unreachable")

        try:
            await client.rotate_secret(store)
        except cyrisma.SecretRotationError as error:
            evidence.error("async rotation store fails", error)
        else:
            raise AssertionError("async rotation: no error")
        emu.set_api_secret(SECRET)
        native = cyrisma.Client(**options)
        try:
            # A hang guard only: a panic must complete the awaitable, not leave it pending.
            await asyncio.wait_for(_cyrisma._test_panic(native, "async"), timeout=60)
        except BaseException as error:  # noqa: BLE001 - a panic arrives as whatever pyo3 raises
            evidence.error("async panic", error)
        else:
            raise AssertionError("async panic: no error")


def test_no_canary_anywhere(
    setup: tuple[cyrisma.Emulator, Relay, dict[str, Any]],
    capfd: pytest.CaptureFixture[str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    emu, relay, options = setup
    capture = Capture()
    root = logging.getLogger()
    previous = root.level
    root.addHandler(capture)
    root.setLevel(logging.DEBUG)
    evidence = Evidence()
    rotated: list[cyrisma.Secret] = []
    try:
        run_sync_flows(emu, dict(options), evidence, tmp_path, rotated, monkeypatch)
        loop = asyncio.new_event_loop()
        try:
            loop.set_debug(True)
            loop.run_until_complete(run_async_flows(dict(options), evidence, tmp_path, emu, rotated))
        finally:
            loop.close()
    finally:
        root.removeHandler(capture)
        root.setLevel(previous)
    out, err = capfd.readouterr()
    evidence.add("stdout", out)
    evidence.add("stderr", err)
    evidence.add("log records", "\n".join(capture.lines))
    files = sorted(path for path in tmp_path.rglob("*") if path.is_file())
    for path in files:
        evidence.add(f"file {path.name}", path.read_text(encoding="utf-8", errors="replace"))

    # The canaries: the secrets given, the secrets the rotations produced, and the tokens the
    # emulator issued (read off the wire by the relay).
    tokens = relay.tokens()
    secrets = {SECRET, WRONG, WEBHOOK_SECRET} | {secret.get_secret_value() for secret in rotated}
    assert len(tokens) >= 4, f"the relay saw too few tokens to make the check meaningful: {len(tokens)}"
    assert len(rotated) >= 4, "the rotations did not hand out their secrets"
    assert "panicked" in err, "the forced panic printed nothing: the hook did not run"
    assert any(name.startswith("file findings") for name, _ in evidence.texts)
    canaries = {canary: forms(canary, options["api_key"]) for canary in secrets | tokens}

    hits: list[str] = []
    for what, text in evidence.texts:
        for canary, variants in canaries.items():
            for form in variants:
                if form in text:
                    hits.append(f"{what}: {form!r} (a form of a {'token' if canary in tokens else 'secret'})")
    figures = {
        "texts": len(evidence.texts),
        "bytes": sum(len(text) for _, text in evidence.texts),
        "exceptions": evidence.exceptions,
        "objects": evidence.objects,
        "log_records": len(capture.lines),
        "files": len(files),
        "canary_secrets": len(secrets),
        "canary_tokens": len(tokens),
        "forms_per_canary": min(len(v) for v in canaries.values()),
        "hits": len(hits),
    }
    print("canary figures:", json.dumps(figures))
    assert hits == [], "canaries leaked:\n" + "\n".join(hits[:50])


def test_the_forms_catch_a_leak() -> None:
    """The search is not vacuous: each form of the canary is found where it was put."""
    key = "partner-key"
    for form in forms(SECRET, key):
        text = f"prefix {form} suffix"
        assert any(variant in text for variant in forms(SECRET, key))
    assert urllib.parse.quote_plus(SECRET) in forms(SECRET, key)
    assert base64.b64encode(f"{key}:{SECRET}".encode()).decode() in forms(SECRET, key)
    raw = SECRET.encode()
    for encoded in (base64.b64encode(raw), base64.urlsafe_b64encode(raw)):
        assert encoded.decode() in forms(SECRET, key) and encoded.decode().rstrip("=") in forms(SECRET, key)
    assert urllib.parse.quote(SECRET, safe="") in forms(SECRET, key)
    assert all(ch in SECRET for ch in "+/=& ü")
