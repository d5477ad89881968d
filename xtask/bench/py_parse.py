"""The Python peers of goal J7: parse the same scan detail file with orjson and msgspec.

Usage: python py_parse.py FILE REPEAT. Reads the file once, then times REPEAT parses of each
(after one warm-up) and prints the medians in milliseconds as JSON. The msgspec typed decode
uses Structs with the same fields as the SDK's model (ScanDetail → Asset → Vulnerability,
OpenPort, Flaw → FlawInstance). Timings include freeing the previous result, as the Rust side's do.
"""

import json
import statistics
import sys
import time
from typing import Optional

import msgspec
import orjson


class Vulnerability(msgspec.Struct, rename="camel"):
    cve: Optional[str] = None
    title: Optional[str] = None
    score: Optional[float] = None
    risk_level: Optional[str] = None
    first_seen: Optional[str] = None
    affected_urls: Optional[int] = None


class OpenPort(msgspec.Struct, rename="camel"):
    port_number: Optional[str] = None
    port_description: Optional[str] = None
    risk_level: Optional[str] = None
    target_name: Optional[str] = None
    target_ip: Optional[str] = None


class FlawInstance(msgspec.Struct):
    uri: Optional[str] = None
    method: Optional[str] = None
    param: Optional[str] = None
    attack: Optional[str] = None
    evidence: Optional[str] = None


class Flaw(msgspec.Struct, rename="camel"):
    alert_id: Optional[str] = None
    alert_ref: Optional[str] = None
    alert_name: Optional[str] = None
    risk_level: Optional[str] = None
    target: Optional[str] = None
    alert_count: Optional[int] = None
    alert_desc: Optional[str] = None
    alert_solution: Optional[str] = None
    references: list[str] = []
    instances: list[FlawInstance] = []


class Asset(msgspec.Struct, rename="camel"):
    id: Optional[str] = None
    asset_id: Optional[str] = None
    name: Optional[str] = None
    ip_address: Optional[str] = None
    scan_type: Optional[str] = None
    vulnerabilities: list[Vulnerability] = []
    open_ports: list[OpenPort] = []
    flaws: list[Flaw] = []


class ScanDetail(msgspec.Struct):
    assets: list[Asset] = []


def timed(function, data, repeat):
    result = function(data)  # warm-up
    times = []
    for _ in range(repeat):
        result = None
        start = time.perf_counter()
        result = function(data)
        times.append((time.perf_counter() - start) * 1000.0)
    del result
    return statistics.median(times)


def main():
    path, repeat = sys.argv[1], int(sys.argv[2])
    with open(path, "rb") as file:
        data = file.read()
    typed = msgspec.json.Decoder(ScanDetail)
    detail = typed.decode(data)
    assert detail.assets, "the document has assets"
    out = {
        "bytes": len(data),
        "orjson_ms": timed(orjson.loads, data, repeat),
        "msgspec_typed_ms": timed(typed.decode, data, repeat),
        "msgspec_untyped_ms": timed(msgspec.json.decode, data, repeat),
    }
    print(json.dumps(out))


if __name__ == "__main__":
    main()
