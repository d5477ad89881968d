"""The exception tree of the ``cyrisma`` package.

Every exception the package raises derives from :class:`CyrismaError`::

    CyrismaError
    ├── APIError                      the API answered with an error status
    │   ├── BadRequestError           400 (``field`` names the refused field)
    │   ├── AuthenticationError       401, or a refused login
    │   ├── PermissionDeniedError     403 (a suspended instance, say)
    │   ├── NotFoundError             404, or an id that is not in the partner's structure
    │   ├── ConflictError             409 (a second conversion, a duplicate user)
    │   ├── RateLimitError            429, or a Retry-After longer than the client waits
    │   └── ServerError               5xx
    ├── TransportError                no usable answer came back
    │   ├── TimeoutError              also a builtins.TimeoutError
    │   └── ConnectionError           also a builtins.ConnectionError
    ├── AmbiguousOutcomeError         a call that is not safe to repeat may have taken effect
    ├── DecodeError                   a success answer that does not match the contract
    ├── SecretRotationError           rotate_secret could not finish safely
    ├── WebhookVerificationError      a webhook delivery failed its signature check
    ├── ForkError                     a client or emulator used in a child after os.fork()
    └── InvalidArgumentError          also a builtins.ValueError: a bad argument, named

Messages are lower-case, carry the status, the API's error code, its message and the request id
when there are some, and never contain a secret. Their wording is not part of the API: match on
the classes and read the attributes.
"""

from __future__ import annotations

import builtins
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ._cyrisma import Secret

__all__ = [
    "APIError",
    "AmbiguousOutcomeError",
    "AuthenticationError",
    "BadRequestError",
    "ConflictError",
    "ConnectionError",
    "CyrismaError",
    "DecodeError",
    "ForkError",
    "InvalidArgumentError",
    "NotFoundError",
    "PermissionDeniedError",
    "RateLimitError",
    "SecretRotationError",
    "ServerError",
    "TimeoutError",
    "TransportError",
    "WebhookVerificationError",
]


class CyrismaError(Exception):
    """The root of every error raised by the ``cyrisma`` package.

    Attributes:
        message: The full description (the same text as ``str(error)``).
    """

    message: str

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class APIError(CyrismaError):
    """The API answered with an error status.

    Attributes:
        status: The HTTP status (404 also when a lookup by id found nothing).
        code: The API's ``error`` code (``invalid_request``, ``conflict``, ...), if it sent one.
        message: The API's own message when it sent one, else the full description.
        request_id: The ``X-Request-Id`` of the answer: quote it to CYRISMA support.
        field: The field a validation error names, if any.
        endpoint: The name of the endpoint that failed (``instances.convert_instance``).
    """

    status: int
    code: str | None
    request_id: str | None
    field: str | None
    endpoint: str | None

    def __init__(
        self,
        message: str,
        *,
        status: int,
        code: str | None = None,
        server_message: str | None = None,
        request_id: str | None = None,
        field: str | None = None,
        endpoint: str | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = server_message if server_message else message
        self.request_id = request_id
        self.field = field
        self.endpoint = endpoint


class BadRequestError(APIError):
    """400: the API refused the request's content (``field`` names the field)."""


class AuthenticationError(APIError):
    """401, or a login the API refused: check the API key and secret."""


class PermissionDeniedError(APIError):
    """403: forbidden, for example a suspended instance (``code`` is ``instance_suspended``)."""


class NotFoundError(APIError):
    """404, or an id that is not in the partner's structure."""


class ConflictError(APIError):
    """409: the call conflicts with the current state (a second conversion, a duplicate user)."""


class RateLimitError(APIError):
    """429, or a ``Retry-After`` longer than the client is configured to wait.

    Attributes:
        retry_after: How long the server asked to wait, in seconds, when it said.
    """

    retry_after: float | None

    def __init__(
        self,
        message: str,
        *,
        status: int = 429,
        code: str | None = None,
        server_message: str | None = None,
        request_id: str | None = None,
        field: str | None = None,
        endpoint: str | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(
            message,
            status=status,
            code=code,
            server_message=server_message,
            request_id=request_id,
            field=field,
            endpoint=endpoint,
        )
        self.retry_after = retry_after


class ServerError(APIError):
    """5xx: the server failed (after the retries the client is configured for)."""


class TransportError(CyrismaError):
    """No usable answer came back: no connection, a timeout, a cut or oversized answer."""


class TimeoutError(TransportError, builtins.TimeoutError):  # noqa: A001
    """A connect, per-attempt or total timeout elapsed (also a ``builtins.TimeoutError``)."""


class ConnectionError(TransportError, builtins.ConnectionError):  # noqa: A001
    """No connection could be made, or it broke (also a ``builtins.ConnectionError``).

    Attributes:
        is_tls: Whether the TLS handshake failed (check ``ca_cert``).
    """

    is_tls: bool

    def __init__(self, message: str, *, is_tls: bool = False) -> None:
        super().__init__(message)
        self.is_tls = is_tls


class AmbiguousOutcomeError(CyrismaError):
    """A call that is not safe to repeat (create, convert, rotate) may have reached the server
    and no answer came back. It was not sent again: check the server's state before retrying.

    Attributes:
        endpoint: The name of the endpoint whose outcome is unknown.
    """

    endpoint: str | None

    def __init__(self, message: str, *, endpoint: str | None = None) -> None:
        super().__init__(message)
        self.endpoint = endpoint


class DecodeError(CyrismaError):
    """The API answered with success, but the body does not match the contract.

    Attributes:
        status: The HTTP status of the answer.
        request_id: The ``X-Request-Id`` of the answer.
        path: The path of the failing field, when known.
    """

    status: int | None
    request_id: str | None
    path: str | None

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        request_id: str | None = None,
        path: str | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.request_id = request_id
        self.path = path


class SecretRotationError(CyrismaError):
    """``rotate_secret`` could not finish safely.

    Attributes:
        saved: Whether ``store`` accepted what it was given. When ``False``, the new secret is in
            ``secret`` and exists nowhere else: save it by other means now (the old secret no
            longer works). When ``True``, either the raw answer was stored (the server's answer
            could not be read) or the new secret was stored but logging in with it failed.
        secret: The unsaved new secret, when ``saved`` is ``False``.
    """

    saved: bool
    secret: Secret | None

    def __init__(self, message: str, *, saved: bool, secret: Secret | None = None) -> None:
        super().__init__(message)
        self.saved = saved
        self.secret = secret


class WebhookVerificationError(CyrismaError):
    """A webhook delivery failed verification: drop it.

    Attributes:
        reason: ``body_too_large``, ``empty_secret``, ``malformed_header``, ``no_signature``,
            ``too_old``, ``in_future``, ``mismatch`` or ``payload``.
    """

    reason: str

    def __init__(self, message: str, *, reason: str) -> None:
        super().__init__(message)
        self.reason = reason


class ForkError(CyrismaError, builtins.RuntimeError):
    """A client or emulator created before ``os.fork()`` was used in the child process.

    Its connections and background threads belong to the parent: create a new client in the
    child (new clients work there).
    """


class InvalidArgumentError(CyrismaError, builtins.ValueError):
    """An argument (or a ``CYRISMA_*`` variable) has a value that cannot be used.

    Attributes:
        argument: The name of the argument or environment variable, when known.
    """

    argument: str | None

    def __init__(self, message: str, *, argument: str | None = None) -> None:
        super().__init__(message)
        self.argument = argument
