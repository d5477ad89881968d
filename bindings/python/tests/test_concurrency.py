"""Concurrency: one client shared by many threads and by many asyncio tasks, with the GIL
released while calls run."""

from __future__ import annotations

import asyncio
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from conftest import standard_instances

import cyrisma


def test_many_threads_share_one_client(emulator: cyrisma.Emulator) -> None:
    client = emulator.client()
    ids = [instance.instance_id for instance in standard_instances(emulator)]

    def work(index: int) -> tuple[str, str | None]:
        instance_id = ids[index % len(ids)]
        dashboard = client.instance(instance_id).dashboard_overall()
        return instance_id, dashboard.current_or_grade

    with ThreadPoolExecutor(max_workers=16) as pool:
        results = list(pool.map(work, range(160)))
    assert len(results) == 160
    by_instance: dict[str, set[str | None]] = {}
    for instance_id, grade in results:
        by_instance.setdefault(instance_id, set()).add(grade)
    assert all(len(grades) == 1 for grades in by_instance.values())
    assert client.logins_performed == 1
    assert emulator.count("auth.login") == 1


def test_blocking_calls_release_the_gil(plain_emulator: cyrisma.Emulator) -> None:
    plain_emulator.delay(0.4, endpoint="users.list_users")
    client = plain_emulator.client()
    client.instances.list()  # log in first
    ticks = 0
    stop = threading.Event()

    def spin() -> None:
        nonlocal ticks
        while not stop.is_set():
            ticks += 1

    spinner = threading.Thread(target=spin)
    spinner.start()
    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(lambda _: client.users.list(), range(8)))
    elapsed = time.monotonic() - started
    stop.set()
    spinner.join()
    # Eight 0.4 s calls overlap (they would take 3.2 s one after the other), and a pure-Python
    # thread kept running meanwhile.
    assert elapsed < 2.0, elapsed
    assert ticks > 1000


@pytest.mark.asyncio
async def test_many_tasks_share_one_async_client(emulator: cyrisma.Emulator) -> None:
    client = emulator.async_client()
    ids = [instance.instance_id for instance in standard_instances(emulator)]
    tasks = [asyncio.create_task(client.instance(ids[i % len(ids)]).vulnerability_scans()) for i in range(200)]
    results = await asyncio.gather(*tasks)
    assert all(len(scans) == 4 for scans in results)
    assert emulator.count("auth.login") == 1


@pytest.mark.asyncio
async def test_async_calls_do_not_block_the_event_loop(plain_emulator: cyrisma.Emulator) -> None:
    plain_emulator.delay(0.5, endpoint="users.list_users")
    client = plain_emulator.async_client()
    await client.instances.list()
    ticks = 0

    async def ticker() -> None:
        nonlocal ticks
        while True:
            ticks += 1
            await asyncio.sleep(0.01)

    ticking = asyncio.create_task(ticker())
    await asyncio.gather(*(client.users.list() for _ in range(10)))
    ticking.cancel()
    assert ticks >= 20


@pytest.mark.asyncio
async def test_cancelling_a_task_cancels_the_call(plain_emulator: cyrisma.Emulator) -> None:
    plain_emulator.delay(5, endpoint="users.list_users")
    client = plain_emulator.async_client()
    task = asyncio.create_task(client.users.list())
    await asyncio.sleep(0.2)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    plain_emulator.clear_faults()
    assert await asyncio.wait_for(client.instances.list(), timeout=5)
