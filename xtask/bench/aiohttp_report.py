"""The Python peer of goals H4, H5 and P6: `cyrisma report` as an MSP would write it with aiohttp,
in the production shape.

Against the emulator whose CYRISMA_* variables are in the environment (HTTPS, its CA in
CYRISMA_CA_CERT): log in, list the structure, authenticate every instance for reporting (the
all-instances form), then fetch the overall and the vulnerability dashboards of every reportable
instance (not an organization, not suspended), BENCH_CONCURRENCY instances at a time. Every
instance is reached by its own host name (`ccNNNNNN.<domain>`), which a resolver maps to
127.0.0.1 as the SDK's resolve override does, so every instance costs its own TCP connection and
TLS handshake, with the emulator's CA trusted through an `ssl` context built once. The two
dashboards of an instance go one after the other on that instance's connection.

Prints {"elapsed_s": ..., "cpu_s": ..., "instances_ok": ..., "instances": ...}; elapsed_s and
cpu_s run from the login to the last answer (imports and interpreter start-up excluded; the
whole-process figures come from the harness's rusage wrapper). uvloop is used when installed.
"""

import asyncio
import json
import os
import socket
import ssl
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
    context = ssl.create_default_context(cafile=os.environ["CYRISMA_CA_CERT"])
    parts = urlsplit(base)
    start = time.perf_counter()
    cpu_start = time.process_time()
    connector = aiohttp.TCPConnector(resolver=Loopback(), limit=concurrency, limit_per_host=4, ssl=context)
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
                    overall = await response.json()
                    ok = response.status == 200
                async with session.get(f"{host}/partner/dashboards/vulnerability", headers=headers) as response:
                    vulnerability = await response.json()
                    ok = ok and response.status == 200
            return ok and overall is not None and vulnerability is not None

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
