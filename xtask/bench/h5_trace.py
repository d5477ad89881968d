"""H5's timeline: where `cyrisma report`'s wall time goes with 20 ms added to every answer.

Usage: h5_trace.py BIN_DIR [ROUNDS] [INSTANCES] (BIN_DIR holds release `cyrisma` and `cyrisma-emulator`). Starts the release emulator out of process
the way `xtask/src/bench/production.rs` does (HTTPS, one host name per instance, 64 in flight),
adds the latency fault, then runs the release CLI ROUNDS times plain (wall only) and ROUNDS
times with `-vv` (the transport's debug events: every attempt's end time and duration, every
connection set up ahead), and prints per round: wall, the floor (calls / 64 x 20 ms), mean calls
in flight over the fan-out, time with fewer than 64 in flight (split into ramp-up, middle and
tail), the time before the first instance call (start-up, login, structure, instance auth), and
the CLI's and the emulator's CPU time, the calls' own durations (the emulator's delay plus the round trip, under load). `calls_before` gives each call before the
fan-out as (endpoint, start, end) in ms from the spawn.
Not part of the bench run; a diagnostic for issue 17.
"""

import datetime
import json
import os
import re
import resource
import statistics
import subprocess
import sys
import time

CONCURRENCY = 64
LOGGED = re.compile(r"^(\S+Z)\s")
LATENCY_MS = 20
LINE = re.compile(r'^(\S+Z)\s+DEBUG\s(?:.*cyrisma\.attempt\{endpoint="([^"]+)")?.*?(answered|connected ahead).*?elapsed_(us|ms)=(\d+)$')


def start_emulator(exe, instances, ca):
    child = subprocess.Popen(
        [exe, "--tls", "--listen", "127.0.0.1:0", "--instances", str(instances),
         "--organizations", str(max(instances // 20, 1)), "--scans-per-instance", "1",
         "--assets-per-scan", "1", "--provisioning-delay", "0", "--seed", "7", "--ca-cert", ca],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    env = {}
    for _ in range(16):
        line = child.stdout.readline()
        if line.startswith("export ") and "=" in line:
            name, value = line[len("export "):].strip().split("=", 1)
            env[name] = value.strip("'")
            if name == "CYRISMA_API_SECRET":
                break
    authority = env["CYRISMA_BASE_URL"].removeprefix("https://").split("/")[0]
    return child, env, authority


def admin(authority, ca, method, path, body=None):
    command = ["curl", "--silent", "--show-error", "--fail", "--max-time", "30", "--cacert", ca,
               "--resolve", f"{authority}:127.0.0.1", "--request", method]
    if body is not None:
        command += ["--header", "content-type: application/json", "--data", body]
    command.append(f"https://{authority}/__emulator{path}")
    return json.loads(subprocess.run(command, check=True, capture_output=True, text=True).stdout)


def calls(authority, ca):
    return sum(v for v in admin(authority, ca, "GET", "/counters")["counters"].values())


def cpu_of(pid):
    """User + system CPU seconds of process `pid` so far (every thread)."""
    with open(f"/proc/{pid}/stat") as handle:
        fields = handle.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def stamp(text):
    return datetime.datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


def analyse(log, spawned, ended):
    attempts, ahead = [], []
    for line in log.splitlines():
        found = LINE.match(line)
        if not found:
            continue
        end, endpoint, what = stamp(found[1]), found[2] or "", found[3]
        us = int(found[5]) / (1e6 if found[4] == "us" else 1e3)
        (attempts if what == "answered" else ahead).append((end - us, end, endpoint))
    fan = [a for a in attempts if a[2].startswith("dashboards.")]
    before = [a for a in attempts if not a[2].startswith("dashboards.")]
    first, last = min(a[0] for a in fan), max(a[1] for a in fan)
    events = sorted([(a[0], 1) for a in fan] + [(a[1], -1) for a in fan])
    level, t, below, ramp, tail, area = 0, first, 0.0, 0.0, 0.0, 0.0
    full_seen, last_full = None, None
    segments = []
    for at, step in events:
        segments.append((t, at, level))
        t, level = at, level + step
    for a, b, n in segments:
        area += n * (b - a)
        if n >= CONCURRENCY:
            full_seen = full_seen if full_seen is not None else a
            last_full = b
    for a, b, n in segments:
        if n < CONCURRENCY:
            below += b - a
            if full_seen is None or b <= full_seen:
                ramp += b - a
            elif a >= last_full:
                tail += b - a
    span = last - first
    durations = sorted((a[1] - a[0]) * 1e3 for a in fan)
    by_endpoint = {}
    for a, b, endpoint in fan:
        by_endpoint.setdefault(endpoint.removeprefix("dashboards.get_"), []).append((b - a) * 1e3)
    stamps = [LOGGED.match(line) for line in log.splitlines()]
    first_log = min(stamp(found[1]) for found in stamps if found)
    return {
        "before_fanout_ms": (first - spawned) * 1e3,
        "after_fanout_ms": (ended - last) * 1e3,
        "fanout_ms": span * 1e3,
        "mean_in_flight": area / span,
        "below_64_ms": below * 1e3, "ramp_ms": ramp * 1e3, "tail_ms": tail * 1e3,
        "middle_below_ms": (below - ramp - tail) * 1e3,
        "call_ms_median": statistics.median(durations),
        "call_ms_p10": durations[len(durations) // 10], "call_ms_p90": durations[len(durations) * 9 // 10],
        "call_ms_median_by_endpoint": {k: statistics.median(v) for k, v in by_endpoint.items()},
        "first_log_ms": (first_log - spawned) * 1e3,
        "calls_before": [(e, round((a - spawned) * 1e3, 1), round((b - spawned) * 1e3, 1)) for a, b, e in before],
        "connected_ahead": len(ahead),
        "ahead_ms_median": statistics.median((b - a) * 1e3 for a, b, _ in ahead) if ahead else 0,
    }


def main():
    bins = sys.argv[1]
    rounds = int(sys.argv[2]) if len(sys.argv) > 2 else 3
    instances = int(sys.argv[3]) if len(sys.argv) > 3 else 1000
    work = os.path.join(bins, "h5-work")
    os.makedirs(work, exist_ok=True)
    ca = os.path.join(work, "ca.pem")
    emulator, env, authority = start_emulator(os.path.join(bins, "cyrisma-emulator"), instances, ca)
    try:
        base = dict(os.environ, **env, CYRISMA_CONCURRENCY=str(CONCURRENCY), CYRISMA_CONFIG_DIR=work,
                    CYRISMA_NO_PROGRESS="true", CYRISMA_KEYRING="off")
        base.pop("RUST_LOG", None)
        cli = os.path.join(bins, "cyrisma")
        subprocess.run([cli, "report", "-o", "json"], env=base, check=True, capture_output=True)
        latency = int(os.environ.get("H5_LATENCY_MS", LATENCY_MS))
        if latency:
            admin(authority, ca, "POST", "/faults", json.dumps({"kind": "latency", "ms": latency}))
        results = []
        for _ in range(rounds):
            for verbose in (False, True):
                before = calls(authority, ca)
                args = [cli, "-vv", "report", "-o", "json"] if verbose else [cli, "report", "-o", "json"]
                children, emulator_cpu = resource.getrusage(resource.RUSAGE_CHILDREN), cpu_of(emulator.pid)
                spawned = time.time()
                started = time.perf_counter()
                done = subprocess.run(args, env=base, capture_output=True, text=True)
                wall = time.perf_counter() - started
                ended = time.time()
                after = resource.getrusage(resource.RUSAGE_CHILDREN)
                cli_cpu = after.ru_utime + after.ru_stime - children.ru_utime - children.ru_stime
                emulator_cpu = cpu_of(emulator.pid) - emulator_cpu
                assert done.returncode == 0, done.stderr[-2000:]
                made = calls(authority, ca) - before
                floor = made / CONCURRENCY * LATENCY_MS / 1e3
                row = {"verbose": verbose, "wall_ms": wall * 1e3, "calls": made, "floor_ms": floor * 1e3,
                       "over_floor": wall / floor, "cli_cpu_ms": cli_cpu * 1e3, "emulator_cpu_ms": emulator_cpu * 1e3,
                       "load": os.getloadavg()[0]}
                if verbose:
                    row.update(analyse(done.stderr, spawned, ended))
                results.append(row)
                print(json.dumps({k: (round(v, 3) if isinstance(v, float) else v) for k, v in row.items()}),
                      flush=True)
        for verbose in (False, True):
            picked = [r for r in results if r["verbose"] == verbose]
            print(f"-vv={verbose}: median over_floor {statistics.median(r['over_floor'] for r in picked):.3f}, "
                  f"median wall {statistics.median(r['wall_ms'] for r in picked):.0f} ms", flush=True)
    finally:
        emulator.kill()
        emulator.wait()


if __name__ == "__main__":
    main()
