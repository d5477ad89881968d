"""Shared fixtures: a fresh emulator per test (it starts in milliseconds), and a client in either
form, so that one test body checks the sync client and the async one."""

from __future__ import annotations

import asyncio
import inspect
import os
import socket
import subprocess
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import pytest

import cyrisma

T = TypeVar("T")


@pytest.fixture
def emulator() -> Iterator[cyrisma.Emulator]:
    """An HTTPS emulator with the default seeded data and instant provisioning."""
    with cyrisma.Emulator(seed=5, organizations=3, instances=9, scans_per_instance=4, assets_per_scan=6) as emu:
        yield emu


@pytest.fixture
def plain_emulator() -> Iterator[cyrisma.Emulator]:
    """A plain-HTTP emulator (loopback only), for tests that do not need TLS."""
    with cyrisma.Emulator(seed=5, tls=False, organizations=2, instances=4) as emu:
        yield emu


class Api:
    """Runs a client call in the fixture's mode: returns sync results as they are, and awaits
    coroutines on a private event loop."""

    def __init__(self, mode: str) -> None:
        self.mode = mode
        self._loop = asyncio.new_event_loop() if mode == "async" else None

    def client(self, emulator: cyrisma.Emulator, **overrides: Any) -> Any:
        if self.mode == "async":
            return emulator.async_client(**overrides)
        return emulator.client(**overrides)

    def __call__(self, result: Any) -> Any:
        if inspect.isawaitable(result):
            assert self.mode == "async", "the sync client returned an awaitable"
            assert self._loop is not None
            return self._loop.run_until_complete(_await(result))
        assert self.mode == "sync", f"the async client returned {type(result).__name__}, not a coroutine"
        return result

    def raises(self, expected: type[BaseException], call: Callable[[], Any]) -> BaseException:
        with pytest.raises(expected) as caught:
            self(call())
        return caught.value

    def close(self) -> None:
        if self._loop is not None:
            self._loop.close()


async def _await(awaitable: Any) -> Any:
    return await awaitable


@pytest.fixture(params=["sync", "async"])
def api(request: pytest.FixtureRequest) -> Iterator[Api]:
    """Runs each test twice: with ``cyrisma.Client`` and with ``cyrisma.AsyncClient``."""
    runner = Api(request.param)
    yield runner
    runner.close()


def standard_instances(emulator: cyrisma.Emulator) -> list[cyrisma.Instance]:
    """Active standard instances of the emulator, in id order."""
    return [
        instance
        for instance in emulator.instances()
        if not instance.is_organization and not instance.is_suspended and instance.status == "active"
    ]


def organizations(emulator: cyrisma.Emulator) -> list[cyrisma.Instance]:
    """Organizations of the emulator, in id order."""
    return [instance for instance in emulator.instances() if instance.is_organization]


# ----- A real PostgreSQL server (Debian's `postgresql`), for the pipeline tests -----

POSTGRES_WAIT_SECONDS = 60


def _postgres_bin() -> Path | None:
    """The newest `/usr/lib/postgresql/<version>/bin` with `initdb` and `pg_ctl`, or `PG_BIN`."""
    if os.environ.get("PG_BIN"):
        return Path(os.environ["PG_BIN"])
    found = sorted(
        Path("/usr/lib/postgresql").glob("*/bin/initdb"),
        key=lambda path: int(path.parent.parent.name) if path.parent.parent.name.isdigit() else 0,
    )
    return found[-1].parent if found else None


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@dataclass(frozen=True)
class Postgres:
    """A running server: connect as `user` (trust authentication on 127.0.0.1) to `dbname`."""

    host: str
    port: int
    user: str
    dbname: str

    def url(self) -> str:
        # Trust authentication ignores the password; some clients (dlt) insist on one.
        return f"postgresql://{self.user}:trust@{self.host}:{self.port}/{self.dbname}"

    def connect(self) -> Any:
        import psycopg2

        return psycopg2.connect(host=self.host, port=self.port, user=self.user, dbname=self.dbname)

    def query(self, sql: str) -> list[tuple[Any, ...]]:
        connection = self.connect()
        try:
            with connection.cursor() as cursor:
                cursor.execute(sql)
                rows: list[tuple[Any, ...]] = cursor.fetchall()
                return rows
        finally:
            connection.close()


@pytest.fixture(scope="session")
def postgres(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Postgres]:
    """A PostgreSQL server of its own in a temporary directory, on a free loopback port (no unix
    socket), stopped afterwards even when a test fails. As root (CI), `initdb` and `postgres`
    refuse to run, so they run as the `postgres` user the package creates (else `nobody`), which
    owns the directory. Skipped when the server is not installed, except under `CI=true`."""
    bin_dir = _postgres_bin()
    if bin_dir is None or not (bin_dir / "pg_ctl").exists():
        message = "PostgreSQL is not installed (apt-get install postgresql; .ci/run does it)"
        if os.environ.get("CI") == "true":
            pytest.fail(message, pytrace=False)
        pytest.skip(message)
    base = tmp_path_factory.mktemp("postgres")
    data = base / "data"
    log = base / "server.log"
    prefix: list[str] = []
    if os.geteuid() == 0:
        import pwd

        account = None
        for name in ("postgres", "nobody"):
            try:
                account = pwd.getpwnam(name)
                break
            except KeyError:
                continue
        assert account is not None, "no unprivileged user to run PostgreSQL as"
        # The user must reach the directory: open the path's parents for traversal only.
        for parent in [base, *base.parents]:
            if parent == Path("/"):
                break
            parent.chmod(parent.stat().st_mode | 0o001)
        os.chown(base, account.pw_uid, account.pw_gid)
        prefix = ["setpriv", f"--reuid={account.pw_uid}", f"--regid={account.pw_gid}", "--clear-groups", "--"]
    port = _free_port()
    env = {"PATH": os.environ.get("PATH", ""), "LC_ALL": "C", "HOME": str(base)}
    subprocess.run(
        [*prefix, str(bin_dir / "initdb"), "-D", str(data), "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync"],
        env=env,
        check=True,
        capture_output=True,
        timeout=POSTGRES_WAIT_SECONDS,
    )
    options = f"-p {port} -h 127.0.0.1 -c unix_socket_directories='' -c fsync=off"
    pg_ctl = [*prefix, str(bin_dir / "pg_ctl"), "-D", str(data)]
    try:
        started = subprocess.run(
            [*pg_ctl, "-o", options, "-l", str(log), "-w", "-t", str(POSTGRES_WAIT_SECONDS), "start"],
            env=env,
            capture_output=True,
            text=True,
            timeout=POSTGRES_WAIT_SECONDS + 10,
        )
        if started.returncode != 0:
            server_log = log.read_text() if log.exists() else ""
            pytest.fail(f"PostgreSQL did not start: {started.stderr}\n{server_log}", pytrace=False)
        yield Postgres(host="127.0.0.1", port=port, user="postgres", dbname="postgres")
    finally:
        subprocess.run(
            [*pg_ctl, "-m", "immediate", "-w", "-t", str(POSTGRES_WAIT_SECONDS), "stop"],
            env=env,
            capture_output=True,
            timeout=POSTGRES_WAIT_SECONDS + 10,
        )
