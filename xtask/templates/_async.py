#~ Template of python/cyrisma/_async.py (`cargo xtask codegen` fills the markers and drops these
#~ `#~` lines). Generated: {{IMPORTS}} and, for each namespace, its coroutines ({{ASYNC <class>}},
#~ one per row of the method table in xtask/src/codegen/table.rs).
#~ By hand: the wrapper classes' constructors and `__repr__`, and `AsyncClient` itself. Its
#~ methods are not one-endpoint calls (constructors from options, the environment or a profile;
#~ report, export, usage and snapshot across instances with progress callbacks; the secret
#~ rotation that awaits a user's store callback; context management): each has Python-only
#~ choices (keyword options, callbacks, which arguments are awaited) that the method table does
#~ not describe. Extending the table to them is the next step, not done.
"""The asynchronous client: the same surface as :class:`cyrisma.Client`, with coroutines.

Each coroutine awaits the native ``_*_async`` twin of the sync method, which runs the same Rust
future on the package's shared runtime (the GIL is released while it runs). The methods are real
coroutines, so ``asyncio.create_task``, ``asyncio.gather`` and task groups all accept them;
cancelling one cancels the Rust call.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Awaitable, Callable, Mapping, Sequence
from types import TracebackType
from typing import Literal

{{IMPORTS}}

__all__ = ["AsyncClient", "AsyncInstanceClient", "AsyncInstances", "AsyncUsers", "AsyncWebhooks"]

#: What ``rotate_secret`` hands the new secret to: a function or a coroutine function.
SecretStore = Callable[[Secret], "Awaitable[object] | object"]


class AsyncInstances:
    """``client.instances``: organizations and instances (see :class:`cyrisma.Instances`)."""

    __slots__ = ("_native",)

    def __init__(self, native: Instances) -> None:
        self._native = native

{{ASYNC Instances}}


class AsyncUsers:
    """``client.users``: users under organizations (see :class:`cyrisma.Users`)."""

    __slots__ = ("_native",)

    def __init__(self, native: Users) -> None:
        self._native = native

{{ASYNC Users}}


class AsyncWebhooks:
    """``client.webhooks``: webhook registrations (see :class:`cyrisma.Webhooks`)."""

    __slots__ = ("_native",)

    def __init__(self, native: Webhooks) -> None:
        self._native = native

{{ASYNC Webhooks}}


class AsyncInstanceClient:
    """``client.instance(id)``: the reporting calls of one instance (see :class:`cyrisma.InstanceClient`)."""

    __slots__ = ("_native",)

    def __init__(self, native: InstanceClient) -> None:
        self._native = native

    @property
    def id(self) -> str:
        """The instance id."""
        return self._native.id

    @property
    def name(self) -> str | None:
        """The instance's name, once its host has been looked up."""
        return self._native.name

    def __repr__(self) -> str:
        return f"AsyncInstanceClient(id={self.id!r})"

{{ASYNC InstanceClient}}


class AsyncClient:
    """The asynchronous CYRISMA client: :class:`cyrisma.Client`'s surface, with coroutines.

    Args:
        api_key: The partner API key.
        api_secret: The API secret (a ``str`` or a :class:`cyrisma.Secret`).
        base_url: The central base URL (default ``https://api.cyrisma.com/app``).
        resolve: Host-to-address overrides like curl's ``--resolve``
            (``"*.cyrisma.test=127.0.0.1"``), one string, a list, or a mapping
            ``{"*.cyrisma.test": "127.0.0.1"}``.
        ca_cert: A CA certificate to trust on top of the system's: a PEM file path or PEM text.
        allowed_domain: The domain instance hosts must belong to (default: the base URL's
            parent domain).
        timeout: The total time a call may take, retries included, in seconds (default 120).
        max_retries: Retries of a failed idempotent call (default 2).
        concurrency: How many instances ``report()`` and ``export_findings()`` fetch at once
            (default 8).
    """

    __slots__ = ("_client",)

    def __init__(
        self,
        *,
        api_key: str | None = None,
        api_secret: str | Secret | None = None,
        base_url: str | None = None,
        resolve: str | Sequence[str] | Mapping[str, str] | None = None,
        ca_cert: str | bytes | os.PathLike[str] | None = None,
        allowed_domain: str | None = None,
        timeout: float | None = None,
        max_retries: int | None = None,
        concurrency: int | None = None,
    ) -> None:
        self._client = Client(
            api_key=api_key,
            api_secret=api_secret,
            base_url=base_url,
            resolve=resolve,
            ca_cert=ca_cert,
            allowed_domain=allowed_domain,
            timeout=timeout,
            max_retries=max_retries,
            concurrency=concurrency,
        )

    @classmethod
    def from_env(
        cls,
        *,
        api_key: str | None = None,
        api_secret: str | Secret | None = None,
        base_url: str | None = None,
        resolve: str | Sequence[str] | Mapping[str, str] | None = None,
        ca_cert: str | bytes | os.PathLike[str] | None = None,
        allowed_domain: str | None = None,
        timeout: float | None = None,
        max_retries: int | None = None,
        concurrency: int | None = None,
    ) -> AsyncClient:
        """A client configured from the ``CYRISMA_*`` environment variables; arguments win."""
        client = cls.__new__(cls)
        client._client = Client.from_env(
            api_key=api_key,
            api_secret=api_secret,
            base_url=base_url,
            resolve=resolve,
            ca_cert=ca_cert,
            allowed_domain=allowed_domain,
            timeout=timeout,
            max_retries=max_retries,
            concurrency=concurrency,
        )
        return client

    @property
    def instances(self) -> AsyncInstances:
        """Organizations and instances."""
        return AsyncInstances(self._client.instances)

    @property
    def users(self) -> AsyncUsers:
        """Users under organizations."""
        return AsyncUsers(self._client.users)

    @property
    def webhooks(self) -> AsyncWebhooks:
        """Webhook registrations (provisional contract)."""
        return AsyncWebhooks(self._client.webhooks)

    def instance(self, instance_id: str) -> AsyncInstanceClient:
        """The reporting calls of one instance."""
        return AsyncInstanceClient(self._client.instance(instance_id))

    @property
    def base_url(self) -> str:
        """The central base URL."""
        return self._client.base_url

    @property
    def allowed_domain(self) -> str:
        """The domain instance hosts must belong to."""
        return self._client.allowed_domain

    @property
    def api_key(self) -> str:
        """The API key (an identifier, not a secret)."""
        return self._client.api_key

    @property
    def sync(self) -> Client:
        """The blocking client sharing this client's connections and session."""
        return self._client

    async def report(self, *, instances: Sequence[str] | None = None, concurrency: int | None = None) -> Report:
        """The cross-instance report (see :meth:`cyrisma.Client.report`)."""
        return await self._client._report_async(
            instances=list(instances) if instances is not None else None, concurrency=concurrency
        )

    async def export_findings(
        self,
        path: str | os.PathLike[str],
        *,
        format: Literal["jsonl", "json", "csv"] = "jsonl",
        instances: Sequence[str] | None = None,
        all_scans: bool = False,
        allow_partial: bool = False,
        concurrency: int | None = None,
    ) -> ExportSummary:
        """Writes every finding of the selected instances to ``path`` (see :meth:`cyrisma.Client.export_findings`)."""
        return await self._client._export_findings_async(
            path,
            format=format,
            instances=list(instances) if instances is not None else None,
            all_scans=all_scans,
            allow_partial=allow_partial,
            concurrency=concurrency,
        )

    async def usage(self, *, organization: str | None = None) -> list[UsageRow]:
        """Usage derived from the structure and the users (see :meth:`cyrisma.Client.usage`)."""
        return await self._client._usage_async(organization=organization)

    async def snapshot(
        self,
        dir: str | os.PathLike[str],
        *,
        instances: Sequence[str] | None = None,
        concurrency: int | None = None,
    ) -> SnapshotResult:
        """One run into the history dataset at ``dir`` (see :meth:`cyrisma.Client.snapshot`)."""
        return await self._client._snapshot_async(
            dir, instances=list(instances) if instances is not None else None, concurrency=concurrency
        )

    async def refresh_instances(self) -> list[Instance]:
        """Fetches the structure listing again (instance hosts are looked up there)."""
        return await self._client._refresh_instances_async()

    async def rotate_secret(self, store: SecretStore) -> Secret:
        """Rotates the API secret; ``store`` (a function or a coroutine function) must save it.

        See :meth:`cyrisma.Client.rotate_secret`. Once started, the rotation runs to its end (the
        new secret stored) even if this task is cancelled (``task.cancel()``, a timeout of
        ``asyncio.wait_for``); the cancellation is raised after that.
        """
        rotation = asyncio.ensure_future(self._client._rotate_secret_async(store))
        cancelled = False
        while not rotation.done():
            try:
                # `asyncio.wait` does not cancel the rotation when this task is cancelled.
                await asyncio.wait([rotation])
            except asyncio.CancelledError:
                cancelled = True
        if cancelled:
            failure = None if rotation.cancelled() else rotation.exception()
            raise asyncio.CancelledError() from failure
        return rotation.result()

    async def aclose(self) -> None:
        """Present for symmetry: connections close when the last reference to the client goes."""

    async def __aenter__(self) -> AsyncClient:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.aclose()

    def __repr__(self) -> str:
        return f"AsyncClient(base_url={self.base_url!r})"
