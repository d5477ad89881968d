"""P3 speed probe: a big scan detail through ``cyrisma`` against ``orjson.loads`` + dicts.

Builds a scan detail of several megabytes with the emulator, then times, in one process, on the
same bytes (median of several runs):

- ``orjson.loads`` (the reference), and orjson + reading every finding's fields from the dicts;
- ``cyrisma.ScanDetail.from_json`` (the client's parse, GIL released, attributes converted on
  read), and the same + reading every finding's fields through the attributes;
- ``to_dict()`` after the parse (materialising everything as dicts).

It also times two threads parsing at once against the same two parses in a row (P2: the GIL
is released while parsing).

Goals (perf-anchors P3): parse >= 1.0x orjson (non-materialising paths aim at 2x), parse + use
>= 1.0x orjson + use ("not slower to use"), parse + to_dict >= 0.8x. It prints the ratios; with
``CYRISMA_PERF_STRICT=1`` it exits non-zero when a goal is missed (timing is noisy on shared
2-core machines, so CI runs it in report mode).
"""

from __future__ import annotations

import os
import statistics
import sys
import threading
import time
from collections.abc import Callable
from typing import Any

import cyrisma

try:
    import orjson
except ImportError:  # pragma: no cover
    print("orjson is not installed: skipping the P3 probe")
    sys.exit(0)


def median_time(action: Callable[[], Any], runs: int) -> float:
    action()  # warm up
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        action()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def use_dicts(raw: bytes) -> int:
    total = 0
    for asset in orjson.loads(raw)["assets"]:
        for vulnerability in asset.get("vulnerabilities", ()):
            total += len(vulnerability.get("cve") or "") + int(vulnerability.get("score") or 0)
            total += len(vulnerability.get("riskLevel") or "")
        for port in asset.get("openPorts", ()):
            total += len(port.get("portNumber") or "")
        for flaw in asset.get("flaws", ()):
            total += len(flaw.get("alertName") or "") + len(flaw.get("instances", ()))
    return total


def use_views(raw: bytes) -> int:
    total = 0
    for asset in cyrisma.ScanDetail.from_json(raw):
        for vulnerability in asset.vulnerabilities:
            total += len(vulnerability.cve or "") + int(vulnerability.score or 0)
            total += len(vulnerability.risk_level or "")
        for port in asset.open_ports:
            total += len(port.port_number or "")
        for flaw in asset.flaws:
            total += len(flaw.alert_name or "") + len(flaw.instances)
    return total


def two_threads(raw: bytes) -> None:
    threads = [threading.Thread(target=cyrisma.ScanDetail.from_json, args=(raw,)) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


def main() -> int:
    assets = int(os.environ.get("CYRISMA_PERF_ASSETS", "4000"))
    runs = int(os.environ.get("CYRISMA_PERF_RUNS", "5"))
    with cyrisma.Emulator(tls=False, organizations=1, instances=1, scans_per_instance=4, assets_per_scan=assets) as emu:
        client = emu.client(timeout=120)
        instance_id = next(i.instance_id for i in emu.instances() if not i.is_organization)
        instance = client.instance(instance_id)
        scans = [scan for scan in instance.vulnerability_scans() if not scan.is_web_application]
        raw = instance.vulnerability_scan(scans[0].scan_id).to_json().encode()
    assert use_dicts(raw) == use_views(raw), "the two paths read different data"

    reference = median_time(lambda: orjson.loads(raw), runs)
    parse = median_time(lambda: cyrisma.ScanDetail.from_json(raw), runs)
    materialise = median_time(lambda: cyrisma.ScanDetail.from_json(raw).to_dict(), runs)
    reference_use = median_time(lambda: use_dicts(raw), runs)
    use = median_time(lambda: use_views(raw), runs)
    serial = median_time(lambda: (cyrisma.ScanDetail.from_json(raw), cyrisma.ScanDetail.from_json(raw)), runs)
    parallel = median_time(lambda: two_threads(raw), runs)

    size = len(raw) / 1e6
    print(f"scan detail: {size:.1f} MB, {assets} assets, median of {runs}")
    print(f"  orjson.loads                 {reference * 1e3:8.1f} ms  ({size / reference:6.0f} MB/s)")
    print(f"  ScanDetail.from_json         {parse * 1e3:8.1f} ms  ratio {reference / parse:5.2f}x  (goal >= 1.0x)")
    print(f"  from_json + to_dict          {materialise * 1e3:8.1f} ms  ratio {reference / materialise:5.2f}x  (goal >= 0.8x)")
    print(f"  orjson + read every finding  {reference_use * 1e3:8.1f} ms")
    print(f"  cyrisma + read every finding {use * 1e3:8.1f} ms  ratio {reference_use / use:5.2f}x  (goal >= 1.0x)")
    print(f"  2 parses, 2 threads (P2)     {parallel * 1e3:8.1f} ms  ratio {serial / parallel:5.2f}x vs serial  (goal >= 1.4x on 2 cores)")
    missed = [
        name
        for name, ratio, goal in [
            ("parse", reference / parse, 1.0),
            ("to_dict", reference / materialise, 0.8),
            ("use", reference_use / use, 1.0),
            ("threads", serial / parallel, 1.4 if (os.cpu_count() or 1) >= 2 else 0.0),
        ]
        if ratio < goal
    ]
    if missed:
        print(f"  goals missed: {', '.join(missed)}")
        if os.environ.get("CYRISMA_PERF_STRICT") == "1":
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
