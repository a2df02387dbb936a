"""Measurements that need a fresh interpreter; run by ``test_engine.py`` as a subprocess.

``python bench/_probe.py frame N ROUNDS`` warms simtom up (one small frame, so compile and
calibration are excluded) and then times ``simtom.frame("bnpl", n=N, seed=42)`` ROUNDS times.
Thread pools are sized when numba and polars load, so the caller sets NUMBA_NUM_THREADS and
POLARS_MAX_THREADS in this process's environment; the sizes actually in effect are reported.

``python bench/_probe.py compile`` times ``import simtom`` and then the first
``simtom.frame("bnpl", n=10, seed=1)`` (compile or cache load, calibration, one block) with
whatever NUMBA_CACHE_DIR the caller set.

``python bench/_probe.py rss COMMAND...`` runs COMMAND and reports its peak resident set size
from ``os.wait4``. It measures through this small process, not straight from pytest's, because
Linux carries a process's peak RSS across ``fork`` and ``exec``: a child started by a large
pytest process would report at least pytest's own peak (``vfork`` shares its memory map).

Each mode prints one JSON object on stdout.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import time


def frame(n: int, rounds: int) -> dict[str, object]:
    import numba
    import polars as pl

    import simtom

    simtom.frame("bnpl", n=10, seed=42)
    times, height = [], 0
    for _ in range(rounds):
        start = time.perf_counter()
        df = simtom.frame("bnpl", n=n, seed=42)
        times.append(time.perf_counter() - start)
        height = df.height
        del df
    return {"n": n, "height": height, "times": times, "min_s": min(times),
            "median_s": statistics.median(times), "numba_threads": numba.get_num_threads(),
            "polars_threads": pl.thread_pool_size()}


def compile_time() -> dict[str, object]:
    start = time.perf_counter()
    import simtom

    imported = time.perf_counter()
    df = simtom.frame("bnpl", n=10, seed=1)
    done = time.perf_counter()
    return {"import_s": imported - start, "first_call_s": done - imported, "height": df.height}


def rss(command: list[str]) -> dict[str, object]:
    proc = subprocess.Popen(command, stdout=subprocess.DEVNULL)  # stderr passes through
    _, status, usage = os.wait4(proc.pid, 0)
    code = os.waitstatus_to_exitcode(status)
    if code != 0:
        raise SystemExit(f"_probe.py rss: {' '.join(command)} exited {code}")
    return {"peak_mib": usage.ru_maxrss / 1024}  # Linux reports kilobytes


if __name__ == "__main__":
    mode = sys.argv[1]
    if mode == "frame":
        result = frame(int(sys.argv[2]), int(sys.argv[3]))
    elif mode == "compile":
        result = compile_time()
    elif mode == "rss":
        result = rss(sys.argv[2:])
    else:
        raise SystemExit(f"_probe.py: unknown mode {mode!r} (frame, compile or rss)")
    print(json.dumps(result))
