#~ Template of python/cyrisma/_cyrisma.pyi (`cargo xtask codegen` fills the markers and drops
#~ these `#~` lines). Generated: {{ALL}}, every model class ({{MODELS}}, from the core's `model!`
#~ declarations and PY_MODELS) and each namespace's methods ({{METHODS <class>}}, from METHODS).
#~ By hand, checked against the extension module by stubtest: `Secret`, `Client` (its constructors
#~ and cross-instance methods take options and callbacks no core declaration describes), the
#~ namespaces' class lines, `Emulator` (a test server's controls, from cyrisma-emulator, not a
#~ wire model), and the rows and results of cyrisma-fleet and the history (`ReportEntry`,
#~ `InstanceFailure`, `Report`, `ExportSummary`, `SnapshotResult`, `History`, `UsageRow`): those
#~ are output rows of the shared layer, which has no schema declarations like `model!` yet.
"""Type stubs of the ``cyrisma._cyrisma`` extension module (checked by stubtest).

The public names are re-exported by the ``cyrisma`` package; use them from there.
"""

import builtins
import os
from collections.abc import Awaitable, Callable, Iterator, Mapping, Sequence
from types import TracebackType
from typing import Any, Literal, final

from cyrisma._async import AsyncClient

{{ALL}}

__version__: str

_Path = str | os.PathLike[str]
_Json = bytes | str

@final
class Secret:
    """A secret value; its ``repr()`` and ``str()`` never show it."""

    def __new__(cls, value: str) -> Secret: ...
    def get_secret_value(self) -> str:
        """The secret itself. Call this only where it goes into a credential store."""
    @property
    def is_raw_body(self) -> bool:
        """Whether this holds the raw answer of a rotation that could not be parsed."""
    def __bool__(self) -> bool: ...
    def __eq__(self, other: object, /) -> bool: ...
    def __hash__(self) -> int: ...

@final
class Client:
    """The synchronous CYRISMA client. Every method blocks with the GIL released; Ctrl-C
    interrupts it.

    Args:
        api_key: The partner API key.
        api_secret: The API secret (a ``str`` or a :class:`Secret`).
        base_url: The central base URL (default ``https://api.cyrisma.com/app``).
        resolve: Host-to-address overrides like curl's ``--resolve``, one string, a list, or a
            mapping ``{"*.cyrisma.test": "127.0.0.1"}``.
        ca_cert: A CA certificate to trust on top of the system's: a PEM file path or PEM text.
        allowed_domain: The domain instance hosts must belong to.
        timeout: The total time a call may take, retries included, in seconds (default 120).
        max_retries: Retries of a failed idempotent call (default 2).
        concurrency: How many instances ``report()`` and ``export_findings()`` fetch at once.
    """

    def __new__(
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
    ) -> Client: ...
    @staticmethod
    def from_env(
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
    ) -> Client:
        """A client configured from the ``CYRISMA_*`` environment variables; arguments win."""
    @property
    def instances(self) -> Instances: ...
    @property
    def users(self) -> Users: ...
    @property
    def webhooks(self) -> Webhooks: ...
    def instance(self, instance_id: str) -> InstanceClient: ...
    @property
    def base_url(self) -> str: ...
    @property
    def allowed_domain(self) -> str: ...
    @property
    def api_key(self) -> str: ...
    @property
    def connections_opened(self) -> int: ...
    @property
    def logins_performed(self) -> int: ...
    def report(self, *, instances: Sequence[str] | None = None, concurrency: int | None = None) -> Report:
        """The cross-instance report of grades and vulnerability counts."""
    def _report_async(
        self, *, instances: Sequence[str] | None = None, concurrency: int | None = None
    ) -> Awaitable[Report]: ...
    def export_findings(
        self,
        path: _Path,
        *,
        format: Literal["jsonl", "json", "csv"] = "jsonl",
        instances: Sequence[str] | None = None,
        all_scans: bool = False,
        allow_partial: bool = False,
        concurrency: int | None = None,
    ) -> ExportSummary:
        """Writes every finding of the selected instances to ``path``."""
    def _export_findings_async(
        self,
        path: _Path,
        *,
        format: Literal["jsonl", "json", "csv"] = "jsonl",
        instances: Sequence[str] | None = None,
        all_scans: bool = False,
        allow_partial: bool = False,
        concurrency: int | None = None,
    ) -> Awaitable[ExportSummary]: ...
    def usage(self, *, organization: str | None = None) -> list[UsageRow]:
        """Usage derived from the structure and the users."""
    def _usage_async(self, *, organization: str | None = None) -> Awaitable[list[UsageRow]]: ...
    def snapshot(
        self, dir: _Path, *, instances: Sequence[str] | None = None, concurrency: int | None = None
    ) -> SnapshotResult:
        """Pulls one run of every selected instance into the history dataset at ``dir``."""
    def _snapshot_async(
        self, dir: _Path, *, instances: Sequence[str] | None = None, concurrency: int | None = None
    ) -> Awaitable[SnapshotResult]: ...
    def refresh_instances(self) -> list[Instance]: ...
    def _refresh_instances_async(self) -> Awaitable[list[Instance]]: ...
    def rotate_secret(self, store: Callable[[Secret], object]) -> Secret:
        """Rotates the API secret; ``store`` must save the new one durably before anything else."""
    def _rotate_secret_async(self, store: Callable[[Secret], object]) -> Awaitable[Secret]: ...
    def close(self) -> None: ...
    def __enter__(self) -> Client: ...
    def __exit__(self, *args: object) -> bool: ...

@final
class Instances:
    """``client.instances``: organizations and instances."""

{{METHODS Instances}}

@final
class Users:
    """``client.users``: users under organizations."""

{{METHODS Users}}

@final
class Webhooks:
    """``client.webhooks``: webhook registrations (provisional contract)."""

{{METHODS Webhooks}}

@final
class InstanceClient:
    """``client.instance(id)``: the reporting calls of one instance."""

    @property
    def id(self) -> str: ...
    @property
    def name(self) -> str | None: ...
{{METHODS InstanceClient}}

@final
class Emulator:
    """An offline CYRISMA on loopback for tests, started on construction."""

    def __new__(
        cls,
        *,
        seed: int = 1,
        organizations: int = 3,
        instances: int = 12,
        scans_per_instance: int = 4,
        assets_per_scan: int = 8,
        tls: bool = True,
        domain: str = "cyrisma.test",
        api_key: str | None = None,
        api_secret: str | Secret | None = None,
        token_ttl: float | None = None,
        refresh_token_ttl: float | None = None,
        provisioning_delay: float | None = None,
        anchor_time: int | None = None,
        webhook_retries: int = 3,
        webhook_backoff: float | None = None,
        port: int = 0,
        history_periods: int = 0,
    ) -> Emulator: ...
    @property
    def base_url(self) -> str: ...
    @property
    def resolve(self) -> str: ...
    @property
    def ca_cert(self) -> str | None: ...
    @property
    def ca_cert_pem(self) -> str | None: ...
    @property
    def api_key(self) -> str: ...
    @property
    def api_secret(self) -> str: ...
    @property
    def allowed_domain(self) -> str: ...
    @property
    def port(self) -> int: ...
    @property
    def tls(self) -> bool: ...
    @property
    def partner_id(self) -> str: ...
    @property
    def running(self) -> bool: ...
    def env(self) -> dict[str, str]: ...
    def client_options(self) -> dict[str, Any]: ...
    def client(self, **overrides: Any) -> Client: ...
    def async_client(self, **overrides: Any) -> AsyncClient: ...
    def instance_base_url(self, instance_id: str) -> str: ...
    def instances(self) -> list[Instance]: ...
    def users(self) -> list[User]: ...
    def webhooks(self) -> list[dict[str, Any]]: ...
    def webhook_deliveries(self) -> list[dict[str, Any]]: ...
    def counters(self) -> dict[str, int]: ...
    def count(self, endpoint: str) -> int: ...
    def requests(self) -> list[dict[str, Any]]: ...
    def reset_counters(self) -> None: ...
    def reset(self) -> None: ...
    def add_fault(
        self,
        kind: Literal[
            "latency",
            "status",
            "expire_tokens",
            "drop_after_commit",
            "truncated_body",
            "oversized_body",
            "deep_json",
        ],
        *,
        endpoint: str = "*",
        host: str | None = None,
        skip: int = 0,
        times: int | None = None,
        **params: Any,
    ) -> int: ...
    def fail(
        self,
        status: int,
        *,
        endpoint: str = "*",
        host: str | None = None,
        skip: int = 0,
        times: int | None = None,
        retry_after: str | None = None,
    ) -> int: ...
    def delay(
        self,
        seconds: float,
        *,
        endpoint: str = "*",
        host: str | None = None,
        skip: int = 0,
        times: int | None = None,
    ) -> int: ...
    def drop_after_commit(
        self, *, endpoint: str = "*", host: str | None = None, skip: int = 0, times: int | None = None
    ) -> int: ...
    def faults(self) -> list[dict[str, Any]]: ...
    def remove_fault(self, fault_id: int) -> bool: ...
    def clear_faults(self) -> None: ...
    def expire_tokens(self) -> None: ...
    def set_close_after_response(self, close: bool) -> None: ...
    def trigger_scan(self, instance_id: str, scan_type: int = 5) -> str: ...
    def advance(self, days: int, churn: bool = True) -> int: ...
    def set_api_secret(self, secret: str | Secret) -> None: ...
    def close(self) -> None: ...
    def __enter__(self) -> Emulator: ...
    def __exit__(self, *args: object) -> bool: ...

def webhook_verify(
    body: bytes | bytearray | memoryview | str,
    signature_header: str,
    secret: str | Secret | Sequence[str | Secret],
    *,
    tolerance: float | None = None,
    now: float | None = None,
) -> WebhookEvent: ...
def _probe_call(a: object, b: object) -> None:
    """A no-op with two arguments (the P1 speed probe's binding call)."""

def _test_panic(client: Client, place: Literal["call", "runtime", "async"]) -> Any:
    """Panics while holding ``client`` (the canary tests' hook; needs ``CYRISMA_TEST_HOOKS=1``)."""

def _pull(
    client: Client,
    bookmarks: str,
    *,
    streams: Sequence[str] | None = None,
    instances: Sequence[str] | None = None,
    concurrency: int | None = None,
) -> _PullStream:
    """The fleet's incremental pull since ``bookmarks`` (JSON), one batch per instance (``cyrisma.dlt``'s engine)."""

def _pull_columns() -> dict[str, list[list[Any]]]:
    """Each pull stream's columns as ``[name, type, nullable, key]``."""

def webhook_sign(
    body: bytes | bytearray | memoryview | str, secret: str | Secret, *, timestamp: int | None = None
) -> str: ...


# ----- result classes -----

{{MODELS}}
@final
class ReportEntry:
    """One instance of :meth:`Client.report`."""

    @property
    def instance_id(self) -> str: ...
    @property
    def name(self) -> str | None: ...
    @property
    def grading_period(self) -> str | None: ...
    @property
    def overall_current(self) -> str | None: ...
    @property
    def overall_previous(self) -> str | None: ...
    @property
    def data_current(self) -> str | None: ...
    @property
    def data_previous(self) -> str | None: ...
    @property
    def vulnerability_current(self) -> str | None: ...
    @property
    def vulnerability_previous(self) -> str | None: ...
    @property
    def baseline_current(self) -> str | None: ...
    @property
    def baseline_previous(self) -> str | None: ...
    @property
    def compliance_current(self) -> str | None: ...
    @property
    def compliance_previous(self) -> str | None: ...
    @property
    def critical(self) -> int | None: ...
    @property
    def high(self) -> int | None: ...
    @property
    def medium(self) -> int | None: ...
    @property
    def low(self) -> int | None: ...
    def to_dict(self) -> dict[str, Any]: ...
    def _repr_html_(self) -> str:
        """The object as an HTML table (escaped), for Jupyter."""

@final
class InstanceFailure:
    """An instance that failed during a cross-instance operation."""

    @property
    def instance_id(self) -> str: ...
    @property
    def name(self) -> str | None: ...
    @property
    def error(self) -> str: ...
    @property
    def status(self) -> int | None: ...
    @property
    def code(self) -> str | None: ...
    @property
    def request_id(self) -> str | None: ...
    def to_dict(self) -> dict[str, Any]: ...
    def _repr_html_(self) -> str:
        """The object as an HTML table (escaped), for Jupyter."""

@final
class Report:
    """The cross-instance report (a sequence of :class:`ReportEntry`)."""

    @property
    def errors(self) -> list[InstanceFailure]: ...
    @property
    def instances(self) -> list[ReportEntry]: ...
    def __len__(self) -> int: ...
    def __getitem__(self, index: int, /) -> ReportEntry: ...
    def __iter__(self) -> Iterator[ReportEntry]: ...
    def to_dict(self) -> dict[str, Any]: ...
    def _repr_html_(self) -> str:
        """The object as an HTML table (escaped), for Jupyter."""

@final
class ExportSummary:
    """What :meth:`Client.export_findings` wrote."""

    @property
    def path(self) -> str: ...
    @property
    def format(self) -> str: ...
    @property
    def findings(self) -> int: ...
    @property
    def instances(self) -> int: ...
    @property
    def errors(self) -> list[InstanceFailure]: ...
    def to_dict(self) -> dict[str, Any]: ...
    def _repr_html_(self) -> str:
        """The object as an HTML table (escaped), for Jupyter."""

@final
class SnapshotResult:
    """What :meth:`Client.snapshot` wrote: one complete run of the history dataset."""

    @property
    def run_id(self) -> str: ...
    @property
    def started_at(self) -> str: ...
    @property
    def finished_at(self) -> str: ...
    @property
    def instances_pulled(self) -> int: ...
    @property
    def instances_failed(self) -> int: ...
    @property
    def instances_skipped(self) -> int: ...
    @property
    def findings(self) -> int: ...
    @property
    def errors(self) -> list[InstanceFailure]: ...
    def to_dict(self) -> dict[str, Any]: ...
    def _repr_html_(self) -> str:
        """The object as an HTML table (escaped), for Jupyter."""

@final
class History:
    """The snapshot history in a dataset directory or at ``s3://``, ``az://``, ``gs://`` locations; every
    method returns a ``pyarrow.Table``."""

    def __new__(cls, dir: _Path) -> History: ...
    @property
    def dir(self) -> str: ...
    def runs(self) -> Any:
        """Every complete run with its counts and the instances that failed, oldest first."""
    def diff(self, from_run: str | None = None, to_run: str | None = None, *, all: bool = False) -> Any:
        """The findings that changed between two runs (default: the last two)."""
    def grade_changes(self, from_run: str | None = None, to_run: str | None = None) -> Any:
        """The grades that changed between two runs, per instance and area."""
    def grades(self) -> Any:
        """Every area's grades on every pulled instance in every run: the grade trend."""
    def findings(self) -> Any:
        """Each finding's life: first and last seen, fixed at, times reopened, days open."""
    def instances(self) -> Any:
        """One row per instance: open and fixed findings, fixes, and the mean days to fix."""
    def report_html(
        self,
        out: _Path,
        *,
        instances: list[str] | None = None,
        since: str | None = None,
        period: str | None = None,
        title: str | None = None,
        msp_name: str | None = None,
        logo: _Path | None = None,
    ) -> str:
        """Writes the customer report pages into ``out``; returns the path of ``index.html``."""

@final
class _ArrowStream:
    def __arrow_c_stream__(self, requested_schema: object | None = None) -> object: ...

@final
class _PullStream:
    def __iter__(self) -> _PullStream: ...
    def __next__(self) -> dict[str, Any]: ...
    @property
    def result(self) -> dict[str, Any] | None:
        """The pull's outcome once the iterator is exhausted: bookmarks, counts and ``errors``."""

@final
class UsageRow:
    """One row of :meth:`Client.usage`."""

    @property
    def scope(self) -> str: ...
    @property
    def id(self) -> str | None: ...
    @property
    def name(self) -> str | None: ...
    @property
    def organization_id(self) -> str | None: ...
    @property
    def endpoints(self) -> int: ...
    @property
    def instances(self) -> int: ...
    @property
    def standard(self) -> int: ...
    @property
    def consulting(self) -> int: ...
    @property
    def suspended(self) -> int: ...
    @property
    def users(self) -> int | None: ...
    def to_dict(self) -> dict[str, Any]: ...
    def _repr_html_(self) -> str:
        """The object as an HTML table (escaped), for Jupyter."""

