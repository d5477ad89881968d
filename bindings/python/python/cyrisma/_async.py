"""The asynchronous client: the same surface as :class:`cyrisma.Client`, with coroutines.

Each coroutine awaits the native ``_*_async`` twin of the sync method, which runs the same Rust
future on the package's shared runtime (the GIL is released while it runs). The methods are real
coroutines, so ``asyncio.create_task``, ``asyncio.gather`` and task groups all accept them;
cancelling one cancels the Rust call.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Awaitable, Callable, Sequence
from types import TracebackType
from typing import Literal

from ._cyrisma import (
    Asset,
    BaselineDashboard,
    BaselineScans,
    Client,
    ConvertedInstance,
    CreatedInstance,
    Cves,
    DataDashboard,
    DataScans,
    DeletedWebhook,
    ExportSummary,
    Instance,
    InstanceClient,
    InstanceLogin,
    Instances,
    InstanceStatusChange,
    MfaChange,
    OverallDashboard,
    Report,
    ScanDetail,
    Secret,
    UsageRow,
    User,
    Users,
    VulnerabilityDashboard,
    VulnerabilityScans,
    Webhook,
    Webhooks,
)

__all__ = ["AsyncClient", "AsyncInstanceClient", "AsyncInstances", "AsyncUsers", "AsyncWebhooks"]

#: What ``rotate_secret`` hands the new secret to: a function or a coroutine function.
SecretStore = Callable[[Secret], "Awaitable[object] | object"]


class AsyncInstances:
    """``client.instances``: organizations and instances (see :class:`cyrisma.Instances`)."""

    __slots__ = ("_native",)

    def __init__(self, native: Instances) -> None:
        self._native = native

    async def list(self) -> list[Instance]:
        """Every organization and instance of the partner."""
        return await self._native._list_async()

    async def get(self, instance_id: str) -> Instance:
        """One organization or instance; ``NotFoundError`` if there is none."""
        return await self._native._get_async(instance_id)

    async def create(
        self,
        *,
        instance_type: str,
        parent_instance_id: str,
        name: str,
        short_name: str,
        country: str,
        email: str,
        is_consulting: bool = False,
        mfa_type: int | str | None = None,
        tenant_id: str | None = None,
        state: str | None = None,
        city: str | None = None,
        postal: str | None = None,
        street: str | None = None,
    ) -> CreatedInstance:
        """Creates an organization or instance; never retried once sent (see the sync client)."""
        return await self._native._create_async(
            instance_type=instance_type,
            parent_instance_id=parent_instance_id,
            name=name,
            short_name=short_name,
            country=country,
            email=email,
            is_consulting=is_consulting,
            mfa_type=mfa_type,
            tenant_id=tenant_id,
            state=state,
            city=city,
            postal=postal,
            street=street,
        )

    async def convert(self, instance_id: str) -> ConvertedInstance:
        """Converts a consulting instance into a managed one (once)."""
        return await self._native._convert_async(instance_id)

    async def suspend(self, instance_id: str) -> InstanceStatusChange:
        """Suspends an instance."""
        return await self._native._suspend_async(instance_id)

    async def reactivate(self, instance_id: str) -> InstanceStatusChange:
        """Reactivates a suspended instance."""
        return await self._native._reactivate_async(instance_id)

    async def set_mfa(self, instance_id: str, mfa_type: int | str) -> MfaChange:
        """Sets an organization's MFA method: 0 (none), 1 (email) or 2 (authenticator)."""
        return await self._native._set_mfa_async(instance_id, mfa_type)

    async def authenticate(self, instance_id: str | None = None) -> InstanceLogin:
        """Authenticates the current token for reporting on one instance, or on all of them."""
        return await self._native._authenticate_async(instance_id)

    async def wait_until_active(self, instance_id: str, timeout: float | None = None) -> Instance:
        """Polls the instance until it is active (``TimeoutError`` after ``timeout`` seconds, 300 by default)."""
        return await self._native._wait_until_active_async(instance_id, timeout)


class AsyncUsers:
    """``client.users``: users under organizations (see :class:`cyrisma.Users`)."""

    __slots__ = ("_native",)

    def __init__(self, native: Users) -> None:
        self._native = native

    async def list(self) -> list[User]:
        """Every user."""
        return await self._native._list_async()

    async def get(self, user_ref: str) -> User:
        """One user, by id or username; ``NotFoundError`` if there is none."""
        return await self._native._get_async(user_ref)

    async def create(self, *, instance_id: str, username: str, first_name: str, last_name: str) -> User:
        """Creates a user under an organization; never retried once sent."""
        return await self._native._create_async(
            instance_id=instance_id, username=username, first_name=first_name, last_name=last_name
        )

    async def disable(self, user_ref: str) -> User:
        """Disables a user, by id or username."""
        return await self._native._disable_async(user_ref)


class AsyncWebhooks:
    """``client.webhooks``: webhook registrations (see :class:`cyrisma.Webhooks`)."""

    __slots__ = ("_native",)

    def __init__(self, native: Webhooks) -> None:
        self._native = native

    async def list(self) -> list[Webhook]:
        """Every registration."""
        return await self._native._list_async()

    async def create(self, url: str, events: Sequence[str] | str) -> Webhook:
        """Registers ``url`` for ``events``; the answer's ``secret`` is shown only here."""
        return await self._native._create_async(url, events)

    async def delete(self, webhook_id: str) -> DeletedWebhook:
        """Deletes a registration."""
        return await self._native._delete_async(webhook_id)


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

    async def vulnerability_scans(self) -> VulnerabilityScans:
        """The vulnerability scan summaries."""
        return await self._native._vulnerability_scans_async()

    async def vulnerability_scan(self, scan_id: str) -> ScanDetail:
        """One scan's detail (parsed in Rust with the GIL released)."""
        return await self._native._vulnerability_scan_async(scan_id)

    async def data_scans(self) -> DataScans:
        """The data scan summaries."""
        return await self._native._data_scans_async()

    async def baseline_scans(self) -> BaselineScans:
        """The secure baseline scan summaries."""
        return await self._native._baseline_scans_async()

    async def dashboard_overall(self) -> OverallDashboard:
        """Current and previous grades of every area."""
        return await self._native._dashboard_overall_async()

    async def dashboard_data(self) -> DataDashboard:
        """The data dashboard."""
        return await self._native._dashboard_data_async()

    async def dashboard_baseline(self) -> BaselineDashboard:
        """The secure baseline dashboard."""
        return await self._native._dashboard_baseline_async()

    async def dashboard_vulnerability(self) -> VulnerabilityDashboard:
        """The vulnerability dashboard."""
        return await self._native._dashboard_vulnerability_async()

    async def cves(self, cve_id: str | None = None) -> Cves:
        """Every CVE found on the instance, or only ``cve_id``."""
        return await self._native._cves_async(cve_id)

    async def assets(self, kind: Literal["internal", "external"]) -> list[Asset]:
        """The ``internal`` or ``external`` assets."""
        return await self._native._assets_async(kind)

    async def authenticated_asset(self, asset_id: str) -> list[Asset]:
        """One internal asset by id (an empty list if unknown)."""
        return await self._native._authenticated_asset_async(asset_id)

    async def ip_asset(self, asset_ip: str) -> list[Asset]:
        """One external IP asset by address (an empty list if unknown)."""
        return await self._native._ip_asset_async(asset_ip)


class AsyncClient:
    """The asynchronous CYRISMA client: :class:`cyrisma.Client`'s surface, with coroutines.

    Args:
        api_key: The partner API key.
        api_secret: The API secret (a ``str`` or a :class:`cyrisma.Secret`).
        base_url: The central base URL (default ``https://api.cyrisma.com/app``).
        resolve: Host-to-address overrides like curl's ``--resolve``
            (``"*.cyrisma.test=127.0.0.1"``), one string or a list.
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
        resolve: str | Sequence[str] | None = None,
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
        resolve: str | Sequence[str] | None = None,
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
