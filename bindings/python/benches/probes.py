"""Python speed probes P1-P5 (ids from ``perf-anchors.md``), each a ratio measured in one run.

Usage: ``python bindings/python/benches/probes.py [--json] [--quick] [--only P4,P5]``

- ``--json``: one JSON object per line, ``{"id", "what", "measured", "ratio", "goal", "pass",
  "note"}``; ``ratio`` and ``pass`` are ``null`` when a probe could not run (``note`` says why).
  Without it, a human-readable table.
- ``--quick``: tiny sizes and few rounds, only to check that the probes work (figures are
  meaningless then).

Exit status: 0 when every probe ran (whether or not it met its goal, and when a peer is missing),
1 when a probe raised (its line is still printed, with the error in ``note``).

Every probe alternates the measured path and its reference round by round (the machines are
shared and noisy, so both see the same conditions) and reports medians. The probes start their
own offline emulator through ``cyrisma.Emulator`` (plain HTTP on 127.0.0.1, so that the peers
need no CA set-up; TLS costs are measured by the transport benchmarks).

- P1: a trivial 2-argument binding call (``cyrisma._cyrisma._probe_call(a, b)``, a no-op) against
  a 2-argument Python ``def`` in the same session. Goal <= 1.6x and <= 100 ns.
- P2: two threads each parsing the same big scan detail (``ScanDetail.from_json``) against the
  same two parses in a row. Goal >= 1.4x on 2 cores (the GIL is released while parsing and
  while freeing).
- P3: ``ScanDetail.from_json`` (typed, not materialised) and ``from_json(...).to_dict()`` (as
  dicts) against ``orjson.loads`` of the same bytes. Goals >= 2x and >= 0.8x.
- P4: per-call latency of the blocking ``client.instances.list()`` against ``httpx.Client``
  doing the same authenticated GET (and parsing the JSON) against the same emulator. Goal <=
  0.3x. The note gives the emulator's floor: a raw keep-alive socket sending the same
  pre-encoded GET (no pool, no parsing), measured in the same rounds.
- P5: ``AsyncClient.report()`` (login, structure, instance authentication, two dashboards per
  instance, 64 in flight) against ``aiohttp`` doing the same logins, instance authentication and
  reporting calls with the same concurrency. Goal >= 3x.

Needs, besides the installed ``cyrisma`` wheel: ``orjson`` (P3), ``httpx`` (P4), ``aiohttp``
(P5); ``msgspec`` is read when installed (an extra typed-decode figure in P3's note). A probe
whose peer is missing reports ``null``. ``uvloop`` is used for the aiohttp peer when installed.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import statistics
import sys
import threading
import time
import timeit
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

import cyrisma


def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def alternate(rounds: int, measured: Callable[[], float], reference: Callable[[], float]) -> tuple[float, float]:
    """Runs both one round after the other ``rounds`` times (after one warm-up each); medians."""
    measured()
    reference()
    ours: list[float] = []
    theirs: list[float] = []
    for index in range(rounds):
        # Swap the order every round so that neither always runs first.
        if index % 2 == 0:
            ours.append(measured())
            theirs.append(reference())
        else:
            theirs.append(reference())
            ours.append(measured())
    return median(ours), median(theirs)


def timed(action: Callable[[], Any]) -> Callable[[], float]:
    def run() -> float:
        started = time.perf_counter()
        action()
        return time.perf_counter() - started

    return run


def ms(seconds: float) -> str:
    """Milliseconds with three significant digits."""
    return f"{seconds * 1e3:.3g} ms"


def result(
    probe: str, what: str, measured: str, ratio: float | None, goal: str, passed: bool | None, note: str = ""
) -> dict[str, Any]:
    return {
        "id": probe,
        "what": what,
        "measured": measured,
        "ratio": None if ratio is None else round(ratio, 3),
        "goal": goal,
        "pass": passed,
        "note": note,
    }


# ----- P1 -----


def python_call(a: object, b: object) -> None:
    return None


def probe_p1(quick: bool) -> dict[str, Any]:
    what = "binding call overhead: a 2-argument no-op binding call vs a 2-argument Python def"
    goal = "<= 1.6x and <= 100 ns"
    probe = getattr(cyrisma._cyrisma, "_probe_call", None)
    if probe is None:
        return result("P1", what, "not measured", None, goal, None, "this build has no _probe_call")
    number = 20_000 if quick else 1_000_000
    rounds = 3 if quick else 9
    a, b = 1, "x"

    def per_call(function: Callable[[object, object], object]) -> Callable[[], float]:
        timer = timeit.Timer("f(a, b)", globals={"f": function, "a": a, "b": b})
        # The empty loop is subtracted from both, so each figure is the call alone.
        empty = timeit.Timer("pass")
        return lambda: (timer.timeit(number) - empty.timeit(number)) / number

    ours, reference = alternate(rounds, per_call(probe), per_call(python_call))
    ratio = ours / reference if reference > 0 else None
    passed = None if ratio is None else (ratio <= 1.6 and ours <= 100e-9)
    measured = f"binding {ours * 1e9:.1f} ns vs Python def {reference * 1e9:.1f} ns per call"
    return result("P1", what, measured, ratio, goal, passed, f"median of {rounds} alternated rounds of {number} calls")


# ----- P2 and P3 -----


#: The emulator's limit of assets per scan; bigger documents join the assets of several scans.
MAX_ASSETS_PER_SCAN = 20_000


def scan_detail_bytes(assets: int) -> bytes:
    """A deterministic scan detail with `assets` assets (about 1.2 kB each), from the emulator."""
    per_scan = min(assets, MAX_ASSETS_PER_SCAN)
    needed = -(-assets // per_scan)
    with cyrisma.Emulator(
        tls=False, organizations=1, instances=1, scans_per_instance=2 * needed + 2, assets_per_scan=per_scan
    ) as emu:
        client = emu.client(timeout=300)
        instance_id = next(i.instance_id for i in emu.instances() if not i.is_organization)
        instance = client.instance(instance_id)
        scans = [scan for scan in instance.vulnerability_scans() if not scan.is_web_application][:needed]
        documents = [json.loads(instance.vulnerability_scan(scan.scan_id).to_json()) for scan in scans]
    merged = documents[0]
    for document in documents[1:]:
        merged["assets"].extend(document["assets"])
    merged["assets"] = merged["assets"][:assets]
    return json.dumps(merged, ensure_ascii=False, separators=(",", ":")).encode()


def probe_p2(raw: bytes, rounds: int) -> dict[str, Any]:
    what = "two threads parsing a scan detail vs the same two parses in a row (GIL released)"
    goal = ">= 1.4x on 2 cores"

    def serial() -> None:
        cyrisma.ScanDetail.from_json(raw)
        cyrisma.ScanDetail.from_json(raw)

    def parallel() -> None:
        threads = [threading.Thread(target=cyrisma.ScanDetail.from_json, args=(raw,)) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()

    two, one = alternate(rounds, timed(parallel), timed(serial))
    ratio = one / two
    cores = os.cpu_count() or 1
    passed = ratio >= 1.4 if cores >= 2 else None
    measured = f"{ms(one)} serial vs {ms(two)} in two threads ({len(raw) / 1e6:.1f} MB each)"
    note = f"median of {rounds} alternated rounds; {cores} cores visible"
    return result("P2", what, measured, ratio, goal, passed, note)


def probe_p3(raw: bytes, rounds: int) -> list[dict[str, Any]]:
    try:
        import orjson
    except ImportError:
        return [
            result("P3", "typed scan detail vs orjson.loads", "not measured", None, ">= 2x / >= 0.8x", None,
                   "orjson is not installed")
        ]
    size = len(raw) / 1e6
    parse, reference = alternate(rounds, timed(lambda: cyrisma.ScanDetail.from_json(raw)), timed(lambda: orjson.loads(raw)))
    dicts, reference_dicts = alternate(
        rounds, timed(lambda: cyrisma.ScanDetail.from_json(raw).to_dict()), timed(lambda: orjson.loads(raw))
    )
    same = cyrisma.ScanDetail.from_json(raw).to_dict() == orjson.loads(raw)
    extra = ""
    try:
        import msgspec

        decoder = msgspec.json.Decoder()
        typed, _ = alternate(rounds, timed(lambda: decoder.decode(raw)), timed(lambda: None))
        extra = f"; msgspec.json.decode (untyped) {ms(typed)}"
    except ImportError:
        pass
    first = result(
        "P3",
        "typed scan detail, not materialised (ScanDetail.from_json) vs orjson.loads",
        f"{ms(parse)} vs orjson.loads {ms(reference)} ({size:.1f} MB)",
        reference / parse,
        ">= 2x",
        reference / parse >= 2.0,
        f"median of {rounds} alternated rounds{extra}",
    )
    second = result(
        "P3",
        "typed scan detail as dicts (from_json(...).to_dict()) vs orjson.loads",
        f"{ms(dicts)} vs orjson.loads {ms(reference_dicts)} ({size:.1f} MB)",
        reference_dicts / dicts,
        ">= 0.8x",
        reference_dicts / dicts >= 0.8,
        f"median of {rounds} alternated rounds; same dicts as orjson: {same}",
    )
    return [first, second]


# ----- P4 and P5 -----


def login_form(emu: cyrisma.Emulator) -> dict[str, str]:
    return {"grant_type": "password", "username": emu.api_key, "password": emu.api_secret}


def probe_p4(emu: cyrisma.Emulator, quick: bool) -> dict[str, Any]:
    what = "blocking call latency: client.instances.list() vs httpx.Client GET of the same endpoint"
    goal = "<= 0.3x"
    try:
        import httpx
    except ImportError:
        return result("P4", what, "not measured", None, goal, None, "httpx is not installed")
    calls = 30 if quick else 400
    rounds = 3 if quick else 7
    # The emulator's host names resolve to 127.0.0.1 only through the client's `resolve`
    # override; httpx has none, so it connects to 127.0.0.1 and sends the same Host header.
    parts = urlsplit(emu.base_url.rstrip("/"))
    base = f"{parts.scheme}://127.0.0.1:{parts.port}{parts.path}"
    client = emu.client()
    client.instances.list()  # logs in once, like the httpx peer below
    with httpx.Client(headers={"Host": parts.netloc}) as peer:
        response = peer.post(f"{base}/partner/login/", data=login_form(emu))
        response.raise_for_status()
        headers = {"Authorization": f"access_token {response.json()['access_token']}", "Accept": "application/json"}
        url = f"{base}/partner/instances/info/"
        expected = len(client.instances.list())

        # The calling thread's CPU per call: all of either client's work (the blocking client
        # drives its connection on the calling thread), none of the emulator's (its threads).
        thread_cpu: dict[str, list[float]] = {"cyrisma": [], "httpx": []}

        def ours() -> float:
            cpu, started = time.thread_time(), time.perf_counter()
            for _ in range(calls):
                client.instances.list()
            took = (time.perf_counter() - started) / calls
            thread_cpu["cyrisma"].append((time.thread_time() - cpu) / calls)
            return took

        def theirs() -> float:
            cpu, started = time.thread_time(), time.perf_counter()
            for _ in range(calls):
                got = peer.get(url, headers=headers)
                got.raise_for_status()
                got.json()
            took = (time.perf_counter() - started) / calls
            thread_cpu["httpx"].append((time.thread_time() - cpu) / calls)
            return took

        check = peer.get(url, headers=headers).json()
        listed = check if isinstance(check, list) else next((v for v in check.values() if isinstance(v, list)), [])
        floor = raw_get_latency(parts, f"{parts.path}/partner/instances/info/", headers, calls)
        floors: list[float] = []

        def theirs_then_floor() -> float:
            # The floor runs in every round too, right after httpx, under the same conditions.
            took = theirs()
            floors.append(floor())
            return took

        mine, reference = alternate(rounds, ours, theirs_then_floor)
        floor_s = median(floors[1:])
        ours_cpu, theirs_cpu = median(thread_cpu["cyrisma"][1:]), median(thread_cpu["httpx"][1:])
    ratio = mine / reference
    measured = f"{mine * 1e6:.0f} us per call vs httpx.Client {reference * 1e6:.0f} us ({expected} instances listed)"
    note = (
        f"median of {rounds} alternated rounds of {calls} sequential calls, keep-alive; httpx saw {len(listed)} items; "
        f"the emulator's floor: a raw keep-alive socket sending the same pre-encoded GET and reading the answer "
        f"(no parsing) takes {floor_s * 1e6:.0f} us = {floor_s / reference:.3f}x httpx, so the goal needs the "
        f"binding within {max(0.3 * reference - floor_s, 0.0) * 1e6:.0f} us of it (it is {(mine - floor_s) * 1e6:.0f} us "
        f"above it: the request through hyper's pool and connection, both driven on the calling thread, parsing "
        f"and the result list); "
        + (
            f"the floor alone is above the goal ({floor_s / reference:.3f}x > 0.3x), so no client of this emulator "
            f"can meet it on this machine now"
            if floor_s > 0.3 * reference
            else f"the floor is below the goal, so the binding's own {(mine - floor_s) * 1e6:.0f} us decide"
        )
        + f"; the calling thread's CPU per call (all of the client's work, none of the emulator's): cyrisma "
        f"{ours_cpu * 1e6:.0f} us, httpx {theirs_cpu * 1e6:.0f} us ({ours_cpu / theirs_cpu:.3f}x)"
    )
    return result("P4", what, measured, ratio, goal, ratio <= 0.3, note)


def raw_get_latency(parts: Any, path: str, headers: dict[str, str], calls: int) -> Callable[[], float]:
    """The latency floor of a client of this emulator: a blocking keep-alive socket that sends a
    pre-encoded GET and reads the answer by its Content-Length, nothing else (no parsing, no
    pool). Returns a timer of `calls` sequential calls (seconds per call)."""
    import socket

    lines = [f"GET {path} HTTP/1.1", f"Host: {parts.netloc}"] + [f"{k}: {v}" for k, v in headers.items()]
    request = ("\r\n".join(lines) + "\r\n\r\n").encode()
    sock = socket.create_connection(("127.0.0.1", parts.port))
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def one() -> None:
        sock.sendall(request)
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = sock.recv(65536)
            if not chunk:
                raise ConnectionError("the emulator closed the connection")
            data += chunk
        head, _, body = data.partition(b"\r\n\r\n")
        status = head.split(b" ", 2)[1]
        if status != b"200":
            raise ConnectionError(f"the emulator answered {status.decode()}")
        length = next(int(line.split(b":", 1)[1]) for line in head.split(b"\r\n") if line.lower().startswith(b"content-length:"))
        while len(body) < length:
            chunk = sock.recv(65536)
            if not chunk:
                raise ConnectionError("the emulator closed the connection")
            body += chunk

    def run() -> float:
        started = time.perf_counter()
        for _ in range(calls):
            one()
        return (time.perf_counter() - started) / calls

    return run


async def aiohttp_report(emu: cyrisma.Emulator, concurrency: int) -> int:
    import socket

    import aiohttp
    from aiohttp.abc import AbstractResolver, ResolveResult

    class Loopback(AbstractResolver):
        async def resolve(self, host: str, port: int = 0, family: int = socket.AF_INET) -> list[ResolveResult]:
            return [
                ResolveResult(hostname=host, host="127.0.0.1", port=port, family=socket.AF_INET, proto=0,
                              flags=socket.AI_NUMERICHOST)
            ]

        async def close(self) -> None:
            pass

    base = emu.base_url.rstrip("/")
    parts = urlsplit(base)
    connector = aiohttp.TCPConnector(resolver=Loopback(), limit=concurrency, limit_per_host=4)
    async with aiohttp.ClientSession(connector=connector) as session:
        async with session.post(f"{base}/partner/login/", data=login_form(emu)) as response:
            response.raise_for_status()
            token = (await response.json())["access_token"]
        headers = {"Authorization": f"access_token {token}", "Accept": "application/json"}
        async with session.get(f"{base}/partner/instances/info/", headers=headers) as response:
            response.raise_for_status()
            listed = await response.json()
        if isinstance(listed, dict):
            listed = next((v for v in listed.values() if isinstance(v, list)), [])
        chosen = [
            i
            for i in listed
            if str(i.get("instance_type", "")).lower() not in ("msp", "mssp")
            and str(i.get("status", "")).lower() != "suspended"
        ]
        async with session.post(f"{base}/partner/instances/login/", headers=headers) as response:
            response.raise_for_status()
            await response.read()
        semaphore = asyncio.Semaphore(concurrency)

        async def one(instance: dict[str, Any]) -> bool:
            host = f"{parts.scheme}://{instance['instance_id']}.{emu.allowed_domain}:{parts.port}/app"
            async with semaphore:
                async with session.get(f"{host}/partner/dashboards/overall", headers=headers) as response:
                    overall = await response.json()
                    ok = response.status == 200
                async with session.get(f"{host}/partner/dashboards/vulnerability", headers=headers) as response:
                    vulnerability = await response.json()
                    ok = ok and response.status == 200
            return ok and overall is not None and vulnerability is not None

        results = await asyncio.gather(*(one(instance) for instance in chosen))
    return sum(1 for ok in results if ok)


def runtime_threads_cpu() -> float:
    """CPU time (user + system, seconds) of this process's `cyrisma-runtime` threads so far, in
    nanoseconds from `/proc/self/task/*/schedstat` where the kernel has it (the clock ticks of
    `stat`, 10 ms, are too coarse for one round's emulator work), else in ticks; 0 where /proc is
    missing."""
    total = 0.0
    tick = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
    try:
        tasks = os.listdir("/proc/self/task")
    except OSError:
        return 0.0
    for task in tasks:
        try:
            with open(f"/proc/self/task/{task}/stat") as handle:
                stat = handle.read()
        except OSError:
            continue  # the thread ended
        name = stat[stat.find("(") + 1 : stat.rfind(")")]
        if not name.startswith("cyrisma-runtime"):
            continue
        try:
            with open(f"/proc/self/task/{task}/schedstat") as handle:
                total += int(handle.read().split()[0]) / 1e9  # time on a CPU, ns
            continue
        except (OSError, IndexError, ValueError):
            pass  # no schedstat: the ticks below
        fields = stat[stat.rfind(")") + 2 :].split()
        total += (int(fields[11]) + int(fields[12])) / tick  # utime, stime (fields 14 and 15)
    return total


def threads_waiting() -> tuple[float, float]:
    """Seconds this process's threads spent runnable but waiting for a core (the scheduler's run
    queue, `/proc/self/task/*/schedstat`), (`cyrisma-runtime` threads, the others); zeros where
    schedstat is missing."""
    runtime = others = 0
    try:
        tasks = os.listdir("/proc/self/task")
    except OSError:
        return 0.0, 0.0
    for task in tasks:
        try:
            with open(f"/proc/self/task/{task}/comm") as handle:
                name = handle.read()
            with open(f"/proc/self/task/{task}/schedstat") as handle:
                waited = int(handle.read().split()[1])
        except (OSError, IndexError, ValueError):
            continue  # the thread ended, or no schedstat
        if name.startswith("cyrisma-runtime"):
            runtime += waited
        else:
            others += waited
    return runtime / 1e9, others / 1e9


def runtime_threads() -> int:
    """How many `cyrisma-runtime` threads this process has that can run at once: at least 1, at most
    the cores (the blocking pool's threads carry the same name)."""
    count = 0
    try:
        tasks = os.listdir("/proc/self/task")
    except OSError:
        return 1
    for task in tasks:
        try:
            with open(f"/proc/self/task/{task}/comm") as handle:
                count += handle.read().startswith("cyrisma-runtime")
        except OSError:
            continue
    return max(min(count, os.cpu_count() or 1), 1)


async def cyrisma_report(emu: cyrisma.Emulator, concurrency: int) -> int:
    async with emu.async_client(concurrency=concurrency) as client:
        report = await client.report()
        return len(report.instances)


def probe_p5(quick: bool) -> dict[str, Any]:
    what = "async fan-out report (login, structure, instance auth, 2 dashboards each) vs aiohttp, same concurrency"
    goal = ">= 3x"
    try:
        import aiohttp  # noqa: F401
    except ImportError:
        return result("P5", what, "not measured", None, goal, None, "aiohttp is not installed")
    instances = 20 if quick else 500
    rounds = 2 if quick else 7
    concurrency = 64
    loop_name = "asyncio"
    try:
        import uvloop  # type: ignore[import-not-found, unused-ignore]

        loop_factory: Callable[[], asyncio.AbstractEventLoop] = uvloop.new_event_loop
        loop_name = "uvloop"
    except ImportError:
        loop_factory = asyncio.new_event_loop
    loop = loop_factory()
    counts: dict[str, int] = {}
    with cyrisma.Emulator(tls=False, organizations=5, instances=instances, scans_per_instance=1, assets_per_scan=1) as emu:

        # CPU of the package's runtime threads, where the in-process emulator runs, and where the
        # cyrisma client runs too: in aiohttp's rounds it is the emulator's alone.
        runtime_cpu: dict[str, list[float]] = {"cyrisma": [], "aiohttp": []}
        process_cpu: dict[str, list[float]] = {"cyrisma": [], "aiohttp": []}
        # Run-queue waits (runnable, no core free): what the machine's load adds to a wall time.
        waited: dict[str, list[tuple[float, float]]] = {"cyrisma": [], "aiohttp": []}

        def measure(who: str, report: Callable[[cyrisma.Emulator, int], Any]) -> float:
            cpu, process, (runtime_wait, other_wait) = runtime_threads_cpu(), time.process_time(), threads_waiting()
            started = time.perf_counter()
            counts[who] = loop.run_until_complete(report(emu, concurrency))
            took = time.perf_counter() - started
            runtime_cpu[who].append(runtime_threads_cpu() - cpu)
            process_cpu[who].append(time.process_time() - process)
            runtime_after, other_after = threads_waiting()
            waited[who].append((runtime_after - runtime_wait, other_after - other_wait))
            return took

        def ours() -> float:
            return measure("cyrisma", cyrisma_report)

        def theirs() -> float:
            return measure("aiohttp", aiohttp_report)

        mine, reference = alternate(rounds, ours, theirs)
    loop.close()
    ratio = reference / mine
    measured = (
        f"cyrisma {ms(mine)} vs aiohttp {ms(reference)} "
        f"({counts.get('cyrisma')} / {counts.get('aiohttp')} instances reported)"
    )
    note = f"median of {rounds} alternated rounds, {concurrency} in flight, {loop_name} loop, plain HTTP on loopback"
    emulator_cpu = median(runtime_cpu["aiohttp"][1:] or runtime_cpu["aiohttp"])
    shared_cpu = median(runtime_cpu["cyrisma"][1:] or runtime_cpu["cyrisma"])
    if emulator_cpu > 0 and shared_cpu > 0:
        ours_cpu = median(process_cpu["cyrisma"][1:] or process_cpu["cyrisma"])
        theirs_cpu = median(process_cpu["aiohttp"][1:] or process_cpu["aiohttp"])
        client_ratio = (theirs_cpu - emulator_cpu) / max(ours_cpu - emulator_cpu, 1e-9)
        threads = runtime_threads()
        # What bounds cyrisma's wall time: its rounds need `shared_cpu` on the runtime threads
        # (client and emulator together), so the wall time is at least that over the threads; the
        # emulator's part alone sets the ceiling of the ratio for a client that cost nothing.
        bound = shared_cpu / threads
        note += (
            f"; the emulator runs in this process on the package's runtime threads, which the cyrisma client shares: "
            f"serving one fan-out costs it {ms(emulator_cpu)} of CPU there (aiohttp's rounds, where nothing else runs "
            f"there), and cyrisma's rounds used {ms(shared_cpu)} there, so the emulator is "
            f"{emulator_cpu / shared_cpu:.0%} of the CPU work of cyrisma's rounds; process CPU per round: cyrisma "
            f"{ms(ours_cpu)}, aiohttp {ms(theirs_cpu)}, so {client_ratio:.2f}x by client CPU (the emulator's taken out); "
            f"the Python side of cyrisma's rounds (process CPU off the runtime threads: event loop, one future, one "
            f"result object) is {ms(max(ours_cpu - shared_cpu, 0.0))}; the limit: {threads} runtime threads need at "
            f"least {ms(bound)} of wall time for cyrisma's rounds' work there (measured wall {ms(mine)}, so "
            f"{bound / mine:.0%} CPU-bound), which caps the ratio at {reference / bound:.2f}x with this client, and "
            f"the emulator's part alone at {reference / (emulator_cpu / threads):.2f}x for a client that cost nothing"
        )
    if any(sum(pair) > 0 for pair in waited["cyrisma"] + waited["aiohttp"]):
        ours_wait = median([runtime + other for runtime, other in waited["cyrisma"]])
        theirs_wait = median([runtime + other for runtime, other in waited["aiohttp"]])
        note += (
            f"; the machine's load: per round this process's threads waited {ms(ours_wait)} (cyrisma) and "
            f"{ms(theirs_wait)} (aiohttp) in the run queue, runnable with no core free (schedstat, summed over "
            f"threads), against walls of {ms(mine)} and {ms(reference)}: where a round's waits are as long as "
            f"its wall, the shared cores, not either client, bound the wall-time ratio"
        )
    passed = ratio >= 3.0 and counts.get("cyrisma") == counts.get("aiohttp")
    return result("P5", what, measured, ratio, goal, passed, note)


# ----- main -----


def run(quick: bool, emit: Callable[[dict[str, Any]], None], only: set[str] | None = None) -> int:
    """Runs every probe (or those in ``only``); returns how many broke (raised)."""
    broken = 0

    def guarded(probe: str, what: str, goal: str, action: Callable[[], Any]) -> None:
        nonlocal broken
        if only is not None and probe not in only:
            return
        try:
            outcome = action()
        except Exception as error:  # a probe that breaks is reported, the others still run
            broken += 1
            emit(result(probe, what, "not measured", None, goal, None, f"the probe failed: {type(error).__name__}: {error}"))
            return
        for item in outcome if isinstance(outcome, list) else [outcome]:
            emit(item)

    guarded("P1", "binding call overhead", "<= 1.6x and <= 100 ns", lambda: probe_p1(quick))
    assets = 50 if quick else int(os.environ.get("CYRISMA_PERF_ASSETS", "40000"))
    rounds = 3 if quick else int(os.environ.get("CYRISMA_PERF_RUNS", "7"))
    holder: dict[str, bytes] = {}

    def raw() -> bytes:
        if "raw" not in holder:
            holder["raw"] = scan_detail_bytes(assets)
        return holder["raw"]

    guarded("P2", "two threads parsing vs serial", ">= 1.4x on 2 cores", lambda: probe_p2(raw(), rounds))
    guarded("P3", "typed scan detail vs orjson.loads", ">= 2x / >= 0.8x", lambda: probe_p3(raw(), rounds))
    holder.clear()
    gc.collect()

    def p4() -> dict[str, Any]:
        emu = cyrisma.Emulator(tls=False, organizations=2, instances=20, scans_per_instance=1, assets_per_scan=1)
        try:
            return probe_p4(emu, quick)
        finally:
            emu.close()

    guarded("P4", "blocking call latency vs httpx.Client", "<= 0.3x", p4)
    guarded("P5", "async fan-out vs aiohttp", ">= 3x", lambda: probe_p5(quick))
    return broken


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true", help="one JSON object per line")
    parser.add_argument("--quick", action="store_true", help="tiny sizes, only to check the probes work")
    parser.add_argument("--only", help="comma-separated probe ids to run (P4,P5); every probe when absent")
    args = parser.parse_args()
    only = {probe.strip().upper() for probe in args.only.split(",")} if args.only else None

    def emit(item: dict[str, Any]) -> None:
        if args.json:
            print(json.dumps(item, ensure_ascii=False), flush=True)
        else:
            verdict = {True: "pass", False: "MISS", None: "n/a"}[item["pass"]]
            ratio = "-" if item["ratio"] is None else f"{item['ratio']:.3f}x"
            print(f"{item['id']:<3} {verdict:<4} {ratio:>8}  goal {item['goal']:<22} {item['measured']}", flush=True)
            if item["note"]:
                print(f"{'':<19}{item['note']}", flush=True)

    # A missed goal or a missing peer is a result, not an error; a probe that raised is.
    return 1 if run(args.quick, emit, only) else 0


if __name__ == "__main__":
    sys.exit(main())
