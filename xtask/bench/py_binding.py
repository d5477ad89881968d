"""The Python package's parse goals (P2, P3) on the same scan detail file as J7.

Usage: python py_binding.py FILE REPEAT, with the `cyrisma` package importable. Times, in one
process and on the same bytes (medians of REPEAT after a warm-up):

- P3: ``cyrisma.ScanDetail.from_json(raw)`` (attributes converted on read: the
  non-materialising path) and ``from_json(raw).to_dict()`` (everything as dicts) against
  ``orjson.loads(raw)``;
- P2: two threads each parsing the document once, against the same two parses run serially
  (a ratio above 1 shows that the GIL is released during the parse).

Prints one JSON object; exits with a message on stderr when the package has no such entry point.
"""

import json
import statistics
import sys
import threading
import time

import orjson

import cyrisma


def timed(action, repeat):
    action()
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        action()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main():
    path, repeat = sys.argv[1], int(sys.argv[2])
    with open(path, "rb") as file:
        raw = file.read()
    parse = cyrisma.ScanDetail.from_json
    detail = parse(raw)
    assert detail is not None

    def serial():
        parse(raw)
        parse(raw)

    def threaded():
        threads = [threading.Thread(target=parse, args=(raw,)) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()

    out = {
        "cyrisma_ms": timed(lambda: parse(raw), repeat) * 1000.0,
        "orjson_ms": timed(lambda: orjson.loads(raw), repeat) * 1000.0,
        "serial_ms": timed(serial, repeat) * 1000.0,
        "threads_ms": timed(threaded, repeat) * 1000.0,
    }
    if hasattr(detail, "to_dict"):
        out["to_dict_ms"] = timed(lambda: parse(raw).to_dict(), repeat) * 1000.0
    print(json.dumps(out))


if __name__ == "__main__":
    main()
