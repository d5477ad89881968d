#~ Template of python/cyrisma/__init__.py (`cargo xtask codegen` fills the markers and drops
#~ these `#~` lines). Generated: {{IMPORTS}} (every public name of the stubs) and {{ALL}}.
#~ By hand, because no declaration describes them: the package docstring and the imports of the
#~ pure Python modules (`_async`, `_exceptions`, `webhooks`), whose names {{ALL}} then lists.
"""Python client for the CYRISMA Partner API, over the project's Rust engine.

>>> import cyrisma
>>> client = cyrisma.Client.from_env()                     # doctest: +SKIP
>>> for instance in client.instances.list():               # doctest: +SKIP
...     print(instance.instance_id, instance.name)
>>> scans = client.instance("cc123456").vulnerability_scans()  # doctest: +SKIP

- :class:`Client` blocks (with the GIL released; Ctrl-C interrupts it); :class:`AsyncClient`
  has the same surface with coroutines.
- Results are typed objects whose attributes follow the contract (``scan.scan_id``,
  ``vulnerability.risk_level``); ``to_dict()`` gives everything the server sent.
- Every error is a :class:`CyrismaError`; see ``cyrisma._exceptions`` for the tree.
- :class:`Emulator` runs an offline CYRISMA for tests; ``cyrisma.webhooks`` verifies deliveries.

Fork safety: a client (or emulator) made before ``os.fork()`` raises :class:`ForkError` when used
in the child; clients created in the child work normally.
"""

from __future__ import annotations

from . import webhooks
from ._async import AsyncClient, AsyncInstanceClient, AsyncInstances, AsyncUsers, AsyncWebhooks
{{IMPORTS}}
from ._exceptions import (
    AmbiguousOutcomeError,
    APIError,
    AuthenticationError,
    BadRequestError,
    ConflictError,
    ConnectionError,
    CyrismaError,
    DecodeError,
    ForkError,
    InvalidArgumentError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
    SecretRotationError,
    ServerError,
    TimeoutError,
    TransportError,
    WebhookVerificationError,
)

{{ALL}}
