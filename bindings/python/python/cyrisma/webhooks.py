"""Receiving CYRISMA webhook deliveries (provisional contract).

A delivery is a ``POST`` of a JSON event envelope with the header
``Cyrisma-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<raw body>">``, keyed with the
signing secret shown once when the webhook was created. A receiver should:

1. call :func:`verify` on the **raw** body bytes, before any JSON parsing;
2. drop the delivery on :class:`cyrisma.WebhookVerificationError` (answer 400);
3. drop an event whose ``id`` it has already seen (deliveries are retried).

Example (any web framework)::

    event = cyrisma.webhooks.verify(request.body, request.headers["Cyrisma-Signature"], secret)
    if event.event_type == "scan.completed":
        ...
"""

from __future__ import annotations

from collections.abc import Sequence

from ._cyrisma import Secret, WebhookEvent, webhook_sign, webhook_verify

__all__ = ["SIGNATURE_HEADER", "TOLERANCE", "WebhookEvent", "sign", "verify"]

#: The header carrying a delivery's signature.
SIGNATURE_HEADER = "Cyrisma-Signature"

#: How far (in seconds, either direction) a delivery's timestamp may be from now by default.
TOLERANCE = 300


def verify(
    body: bytes | bytearray | memoryview | str,
    signature_header: str,
    secret: str | Secret | Sequence[str | Secret],
    *,
    tolerance: float | None = None,
    now: float | None = None,
) -> WebhookEvent:
    """Verifies a webhook delivery and returns its event.

    The signature is checked in constant time over the raw body; the timestamp must be within
    ``tolerance`` seconds of ``now``; only then is the body parsed.

    Args:
        body: The raw request body, exactly as received.
        signature_header: The value of the ``Cyrisma-Signature`` header.
        secret: The webhook's signing secret, or several (while rotating it): one match is enough.
        tolerance: How far the timestamp may be from now, in seconds (default 300).
        now: The current time in unix seconds (default: this machine's clock).

    Returns:
        The verified event envelope.

    Raises:
        cyrisma.WebhookVerificationError: The delivery must be dropped; ``reason`` says why.
        cyrisma.InvalidArgumentError: An argument has the wrong type.
    """
    return webhook_verify(body, signature_header, secret, tolerance=tolerance, now=now)


def sign(body: bytes | bytearray | memoryview | str, secret: str | Secret, *, timestamp: int | None = None) -> str:
    """Computes a ``Cyrisma-Signature`` value the way CYRISMA does, to test a receiver.

    Args:
        body: The raw body to sign.
        secret: The signing secret.
        timestamp: The unix seconds to sign with (default: now).

    Returns:
        The header value, ``t=<timestamp>,v1=<hex>``.
    """
    return webhook_sign(body, secret, timestamp=timestamp)
