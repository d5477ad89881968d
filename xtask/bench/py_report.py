"""The `cyrisma` Python package's side of goal P6: the async cross-instance report in the H4
setting (HTTPS, one host name per instance resolved to 127.0.0.1 by the client's resolve
setting, the emulator's CA trusted), against the emulator whose CYRISMA_* variables are in the
environment, BENCH_CONCURRENCY instances at a time.

Prints {"elapsed_s": ..., "cpu_s": ..., "instances_ok": ...} like the aiohttp peer
(`aiohttp_report.py`), from building the client to the report (imports excluded; the harness's
rusage wrapper gives the whole-process figures). uvloop is used when installed, as for the peer.
"""

import asyncio
import json
import os
import sys
import time

import cyrisma


async def main():
    concurrency = int(os.environ.get("BENCH_CONCURRENCY", "64"))
    start = time.perf_counter()
    cpu_start = time.process_time()
    async with cyrisma.AsyncClient.from_env(concurrency=concurrency) as client:
        report = await client.report()
    elapsed = time.perf_counter() - start
    cpu = time.process_time() - cpu_start
    print(json.dumps({"elapsed_s": elapsed, "cpu_s": cpu, "instances_ok": len(report.instances),
                      "errors": len(report.errors)}))


if __name__ == "__main__":
    try:
        import uvloop
        uvloop.install()
    except ImportError:
        pass
    sys.exit(asyncio.run(main()))
