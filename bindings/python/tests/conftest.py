"""Shared fixtures: a fresh emulator per test (it starts in milliseconds), and a client in either
form, so that one test body checks the sync client and the async one."""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Callable, Iterator
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
