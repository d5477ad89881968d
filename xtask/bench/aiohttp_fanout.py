"""The Python peer of goal H3: the fan-out report an MSP would write with aiohttp.

Against the emulator whose CYRISMA_* variables are in the environment: log in, list the
structure, authenticate every instance for reporting (the all-instances form), then fetch the
overall dashboard and the vulnerability scan list of every reportable instance (not an
organization, not suspended), BENCH_CONCURRENCY at a time, one connection per instance host
(a resolver maps every host name to 127.0.0.1, as the SDK's resolve override does). Prints
{"elapsed_s": ..., "cpu_s": ..., "instances_ok": ...}; the time runs from the login to the last
answer, so interpreter start-up and imports are not counted; cpu_s is this process's CPU time
(user + system, every thread) over the same span. uvloop is used when installed.
"""

import asyncio
import json
import os
import socket
import sys
import time
from urllib.parse import urlsplit

import aiohttp
from aiohttp.abc import AbstractResolver


class Loopback(AbstractResolver):
    async def resolve(self, host, port=0, family=socket.AF_INET):
        return [{"hostname": host, "host": "127.0.0.1", "port": port, "family": socket.AF_INET,
                 "proto": 0, "flags": socket.AI_NUMERICHOST}]

    async def close(self):
        pass


async def main():
    base = os.environ["CYRISMA_BASE_URL"].rstrip("/")
    key = os.environ["CYRISMA_API_KEY"]
    secret = os.environ["CYRISMA_API_SECRET"]
    domain = os.environ["CYRISMA_ALLOWED_DOMAIN"]
    concurrency = int(os.environ.get("BENCH_CONCURRENCY", "64"))
    parts = urlsplit(base)
    start = time.perf_counter()
    cpu_start = time.process_time()
    connector = aiohttp.TCPConnector(resolver=Loopback(), limit=concurrency, limit_per_host=4)
    async with aiohttp.ClientSession(connector=connector) as session:
        form = {"grant_type": "password", "username": key, "password": secret}
        async with session.post(f"{base}/partner/login/", data=form) as response:
            response.raise_for_status()
            token = (await response.json())["access_token"]
        headers = {"Authorization": f"access_token {token}", "Accept": "application/json"}
        async with session.get(f"{base}/partner/instances/info/", headers=headers) as response:
            response.raise_for_status()
            listed = await response.json()
        if isinstance(listed, dict):
            listed = next((v for v in listed.values() if isinstance(v, list)), [])
        chosen = [i for i in listed
                  if str(i.get("instance_type", "")).lower() not in ("msp", "mssp")
                  and str(i.get("status", "")).lower() != "suspended"]
        async with session.post(f"{base}/partner/instances/login/", headers=headers) as response:
            response.raise_for_status()
            await response.read()
        semaphore = asyncio.Semaphore(concurrency)

        async def report(instance):
            host = f"{parts.scheme}://{instance['instance_id']}.{domain}:{parts.port}/app"
            async with semaphore:
                async with session.get(f"{host}/partner/dashboards/overall", headers=headers) as response:
                    dashboard = await response.json()
                    ok = response.status == 200
                async with session.get(f"{host}/partner/scans/vulnerability", headers=headers) as response:
                    scans = await response.json()
                    ok = ok and response.status == 200
            return ok and dashboard is not None and scans is not None

        results = await asyncio.gather(*(report(instance) for instance in chosen))
    elapsed = time.perf_counter() - start
    cpu = time.process_time() - cpu_start
    print(json.dumps({"elapsed_s": elapsed, "cpu_s": cpu, "instances_ok": sum(1 for ok in results if ok),
                      "instances": len(chosen)}))


if __name__ == "__main__":
    try:
        import uvloop
        uvloop.install()
    except ImportError:
        pass
    sys.exit(asyncio.run(main()))
