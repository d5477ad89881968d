"""``rotate_secret`` never loses the new secret: Ctrl-C (``KeyboardInterrupt``), ``task.cancel()``
and ``asyncio.wait_for`` timeouts during a rotation let it run to its end and store the secret,
then raise the interruption; a ``store`` that is not callable fails before anything is sent."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import textwrap
from typing import Any

import pytest

import cyrisma

REGEN = "auth.regen_pass"


async def await_regen(emulator: cyrisma.Emulator) -> None:
    for _ in range(3000):
        if emulator.count(REGEN) >= 1:
            return
        await asyncio.sleep(0.01)
    raise AssertionError("regen-pass never arrived")


def test_rotate_secret_without_a_store_fails_before_sending(emulator: cyrisma.Emulator) -> None:
    client = emulator.client()
    old = emulator.api_secret
    store: Any = None
    with pytest.raises(TypeError, match="nothing was sent"):
        client.rotate_secret(store)
    with pytest.raises(TypeError, match="nothing was sent"):
        client.rotate_secret("not a function")
    assert emulator.count(REGEN) == 0
    assert emulator.api_secret == old


@pytest.mark.asyncio
async def test_async_rotate_secret_without_a_store_fails_before_sending(emulator: cyrisma.Emulator) -> None:
    client = emulator.async_client()
    store: Any = None
    with pytest.raises(TypeError, match="nothing was sent"):
        await client.rotate_secret(store)
    assert emulator.count(REGEN) == 0


INTERRUPT = textwrap.dedent(
    """
    import os, signal, threading, cyrisma
    with cyrisma.Emulator(tls=False, organizations=1, instances=1) as emu:
        old = emu.api_secret
        client = emu.client(timeout=60)
        emu.delay(1.5, endpoint="auth.regen_pass")
        def interrupt():
            for _ in range(3000):
                if emu.count("auth.regen_pass") >= 1:
                    break
                threading.Event().wait(0.01)
            os.kill(os.getpid(), signal.SIGINT)
        threading.Thread(target=interrupt).start()
        stored = []
        try:
            client.rotate_secret(stored.append)
            print("not interrupted")
        except KeyboardInterrupt:
            print("interrupted")
        print("stored", [s.get_secret_value() for s in stored] == [emu.api_secret], emu.api_secret != old)
        print("count", emu.count("auth.regen_pass"))
    """
)


@pytest.mark.skipif(sys.platform == "win32", reason="SIGINT delivery differs on Windows")
def test_ctrl_c_during_a_rotation_stores_the_new_secret_then_interrupts() -> None:
    done = subprocess.run([sys.executable, "-c", INTERRUPT], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split("\n")[:3] == ["interrupted", "stored True True", "count 1"], done.stdout + done.stderr


@pytest.mark.asyncio
async def test_cancelling_a_rotation_task_stores_the_new_secret_then_cancels(emulator: cyrisma.Emulator) -> None:
    old = emulator.api_secret
    emulator.delay(1.5, endpoint=REGEN)
    client = emulator.async_client()
    stored: list[str] = []

    async def store(secret: cyrisma.Secret) -> None:
        stored.append(secret.get_secret_value())

    task = asyncio.create_task(client.rotate_secret(store))
    await await_regen(emulator)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert stored == [emulator.api_secret], "stored before the cancellation was raised"
    assert emulator.api_secret != old
    assert emulator.count(REGEN) == 1


@pytest.mark.asyncio
async def test_a_wait_for_timeout_during_a_rotation_stores_the_new_secret(emulator: cyrisma.Emulator) -> None:
    old = emulator.api_secret
    emulator.delay(1.5, endpoint=REGEN)
    client = emulator.async_client()
    stored: list[cyrisma.Secret] = []
    with pytest.raises(asyncio.TimeoutError):
        await asyncio.wait_for(client.rotate_secret(stored.append), timeout=0.3)
    assert [secret.get_secret_value() for secret in stored] == [emulator.api_secret]
    assert emulator.api_secret != old
    assert emulator.count(REGEN) == 1
    # The client goes on with the new secret.
    assert await client.users.list()
