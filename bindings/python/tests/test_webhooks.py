"""``cyrisma.webhooks``: signatures over raw bytes, timestamps, several secrets, and a real
delivery from the emulator to a local receiver."""

from __future__ import annotations

import http.server
import threading
import time
from collections.abc import Iterator

import pytest
from conftest import organizations

import cyrisma

BODY = b'{"id":"evt_1","type":"user.created","created_at":"2026-01-01T00:00:00Z","partner_id":"p1","data":{"user_id":"7"}}'


def test_verify_returns_the_event() -> None:
    header = cyrisma.webhooks.sign(BODY, "whsec_a", timestamp=1_700_000_000)
    assert header.startswith("t=1700000000,v1=")
    event = cyrisma.webhooks.verify(BODY, header, "whsec_a", now=1_700_000_100)
    assert isinstance(event, cyrisma.WebhookEvent)
    assert (event.id, event.event_type, event.partner_id) == ("evt_1", "user.created", "p1")
    assert event.data == {"user_id": "7"}
    assert cyrisma.webhooks.verify(bytearray(BODY), header, cyrisma.Secret("whsec_a"), now=1_700_000_100).id == "evt_1"
    assert cyrisma.webhooks.SIGNATURE_HEADER == "Cyrisma-Signature"


@pytest.mark.parametrize(
    ("body", "header", "secret", "now", "reason"),
    [
        (BODY + b"x", "sign BODY", "whsec_a", 1_700_000_000, "mismatch"),
        (BODY, None, "whsec_b", 1_700_000_000, "mismatch"),
        (BODY, None, "whsec_a", 1_700_000_301, "too_old"),
        (BODY, None, "whsec_a", 1_699_999_699, "in_future"),
        (BODY, "garbage", "whsec_a", 1_700_000_000, "malformed_header"),
        (BODY, "t=1700000000,v0=abc", "whsec_a", 1_700_000_000, "no_signature"),
        (BODY, None, "", 1_700_000_000, "empty_secret"),
        (b"x" * (1024 * 1024 + 1), None, "whsec_a", 1_700_000_000, "body_too_large"),
        (b"not json", None, "whsec_a", 1_700_000_000, "payload"),
    ],
)
def test_refusals(body: bytes, header: str | None, secret: str, now: int, reason: str) -> None:
    if header is None:
        signed = cyrisma.webhooks.sign(body, "whsec_a", timestamp=1_700_000_000)
    elif header == "sign BODY":
        signed = cyrisma.webhooks.sign(BODY, "whsec_a", timestamp=1_700_000_000)
    else:
        signed = header
    with pytest.raises(cyrisma.WebhookVerificationError) as caught:
        cyrisma.webhooks.verify(body, signed, secret, now=now)
    assert caught.value.reason == reason
    assert "whsec_a" not in str(caught.value)


def test_tolerance_and_rotation() -> None:
    header = cyrisma.webhooks.sign(BODY, "whsec_new", timestamp=1_700_000_000)
    assert cyrisma.webhooks.verify(BODY, header, ["whsec_old", "whsec_new"], now=1_700_000_000).id == "evt_1"
    assert cyrisma.webhooks.verify(BODY, header, "whsec_new", now=1_700_000_300).id == "evt_1"
    with pytest.raises(cyrisma.WebhookVerificationError):
        cyrisma.webhooks.verify(BODY, header, "whsec_new", now=1_700_000_010, tolerance=5)
    # A tolerance beyond what a duration holds is an argument error, not a panic.
    for huge in (1e300, 2.0**64):
        with pytest.raises(ValueError, match="tolerance"):
            cyrisma.webhooks.verify(BODY, header, "whsec_new", now=1_700_000_000, tolerance=huge)


class _Receiver(http.server.BaseHTTPRequestHandler):
    received: list[tuple[str, bytes]] = []

    def do_POST(self) -> None:  # noqa: N802 - the http.server API
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        _Receiver.received.append((self.headers.get("Cyrisma-Signature", ""), body))
        self.send_response(204)
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def receiver() -> Iterator[str]:
    _Receiver.received = []
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Receiver)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/hooks"
    server.shutdown()
    server.server_close()


def test_a_real_delivery_from_the_emulator(emulator: cyrisma.Emulator, receiver: str) -> None:
    client = emulator.client()
    hook = client.webhooks.create(receiver, ["user.created"])
    assert hook.secret is not None
    org = organizations(emulator)[0].instance_id
    user = client.users.create(instance_id=org, username="hooked@example.com", first_name="H", last_name="K")
    deadline = time.monotonic() + 10
    while not _Receiver.received and time.monotonic() < deadline:
        time.sleep(0.05)
    assert _Receiver.received, emulator.webhook_deliveries()
    header, body = _Receiver.received[0]
    event = cyrisma.webhooks.verify(body, header, hook.secret)
    assert event.event_type == "user.created"
    assert event.to_dict()["data"]
    assert user.id in body.decode()
    # The emulator records an attempt once the receiver's answer is back, which can be a moment
    # after the receiver saw the body: wait (bounded) for the record.
    while not emulator.webhook_deliveries() and time.monotonic() < deadline:
        time.sleep(0.05)
    deliveries = emulator.webhook_deliveries()
    assert len(deliveries) == 1, deliveries
    assert deliveries[0]["delivered"] is True
