"""Runs one command and prints its whole-process cost as one JSON line (goals H4, H5, P6).

Usage: rusage.py OUT_FILE COMMAND [ARG...]. The command's stdout goes to OUT_FILE, its stderr
is inherited. Printed: {"wall_s": ..., "user_s": ..., "sys_s": ..., "cpu_s": ..., "rc": ...}:
wall time from the spawn to the exit, and the user and system CPU time of the process and every
thread it ran (``os.wait4``'s rusage, microsecond resolution), so start-up, imports, the
runtime's threads and the exit are all counted, for every contender alike.
"""

import json
import os
import subprocess
import sys
import time


def main() -> int:
    out, command = sys.argv[1], sys.argv[2:]
    with open(out, "wb") as stdout:
        started = time.perf_counter()
        child = subprocess.Popen(command, stdout=stdout, stdin=subprocess.DEVNULL)
        _, status, usage = os.wait4(child.pid, 0)
        wall = time.perf_counter() - started
    child.returncode = os.waitstatus_to_exitcode(status)
    print(json.dumps({"wall_s": wall, "user_s": usage.ru_utime, "sys_s": usage.ru_stime,
                      "cpu_s": usage.ru_utime + usage.ru_stime, "rc": child.returncode,
                      "maxrss_kb": usage.ru_maxrss}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
