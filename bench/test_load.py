"""The server under load and under stalled clients (``uv run pytest bench -k load``).

- **load**: 200 paced clients at 1,000 records/s each plus 20 unpaced ones, for
  ``SIMTOM_LOAD_SECONDS`` (default 60), against ``simtom serve`` in its own process; the readers
  run in two processes of their own (``_load_client.py``). Figures: the paced clients' rate error
  (median and worst), their records' p99 lateness, the unpaced clients' total rate, the
  server's CPU and USS.
- **stalled**: 100 clients open an unpaced stream and never read (4 KiB receive buffers), with
  the send deadline set past the run so that they stay: USS idle, with them after
  ``SIMTOM_STALL_SECONDS`` (default 60), and after they close; a fresh client's time to its first
  record beside them, and a refusal's (429) latency once stalled clients hold every slot.

Figures only: nothing here asserts a speed (the machines are shared).
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import psutil
import pytest

from ._measure import Figures, simtom_command
from .test_server import free_port, stop, wait_healthy

HERE = Path(__file__).resolve().parent
LOAD_SECONDS = float(os.environ.get("SIMTOM_LOAD_SECONDS", "60"))
STALL_SECONDS = float(os.environ.get("SIMTOM_STALL_SECONDS", "60"))
MiB = 1 << 20


def _server(port: int, **env: str) -> tuple[subprocess.Popen[bytes], psutil.Process]:
    environ = dict(os.environ, SIMTOM_LOG_LEVEL="warning", **env)
    proc = subprocess.Popen([*simtom_command(), "serve", "--port", str(port)], env=environ,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_healthy(port, proc)
    ready_deadline = time.monotonic() + 300
    while time.monotonic() < ready_deadline:  # the kernels loaded
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
                s.sendall(b"GET /health/ready HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
                if s.recv(64).startswith(b"HTTP/1.1 200"):
                    break
        except OSError:
            pass
        time.sleep(0.1)
    time.sleep(3)  # the scenarios' kernels load in the background after ready
    return proc, psutil.Process(proc.pid)


def _uss(proc: psutil.Process) -> float:
    return proc.memory_full_info().uss / MiB


def _request(body: dict[str, Any]) -> bytes:
    raw = json.dumps(body).encode()
    return (f"POST /stream/bnpl?format=ndjson HTTP/1.1\r\nHost: x\r\nContent-Type: "
            f"application/json\r\nContent-Length: {len(raw)}\r\nConnection: close\r\n\r\n"
            ).encode() + raw


@pytest.fixture(scope="module")
def load_port() -> Iterator[tuple[int, psutil.Process]]:
    port = free_port()
    # exactly the load's 220 streams: one more is refused (its latency is a figure)
    proc, ps = _server(port, SIMTOM_MAX_STREAMS="220", SIMTOM_MAX_MEMORY="8GiB")
    yield port, ps
    stop(proc)


def _readers(port: int, clients: int, body: dict[str, Any], seconds: float,
             out: Path) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, str(HERE / "_load_client.py"), f"http://127.0.0.1:{port}/stream/bnpl",
         str(clients), json.dumps(body), str(seconds), str(out)], cwd=HERE)


def _lateness(arrivals: np.ndarray, counts: np.ndarray, rate: float) -> np.ndarray:
    """Each record's arrival minus its due time (record k due k / rate after the first)."""
    before = np.concatenate([[0], counts[:-1]])
    late = arrivals - (arrivals[0] + before / rate)  # the read's earliest-due record
    return np.repeat(late, counts - before)


@pytest.mark.benchmark(group="load")
def test_load_200_paced_and_20_unpaced(benchmark: Any, figures: Figures, tmp_path: Path,
                                       load_port: tuple[int, psutil.Process]) -> None:
    port, ps = load_port
    rate = 1000.0
    cpu0, t0 = ps.cpu_times(), time.monotonic()
    paced = _readers(port, 200, {"rate_per_second": rate, "seed": 1}, LOAD_SECONDS,
                     tmp_path / "paced.json")
    unpaced = _readers(port, 20, {"paced": False, "seed": 2}, LOAD_SECONDS,
                       tmp_path / "unpaced.json")
    uss, refusals = [], []
    time.sleep(5.0)  # every stream open
    while paced.poll() is None:
        uss.append(_uss(ps))
        status, ms = _first_record_ms(port)
        if status == b"HTTP/1.1 429":
            refusals.append(ms)
        time.sleep(1.0)
    cpu1, t1 = ps.cpu_times(), time.monotonic()
    assert paced.wait() == 0 and unpaced.wait(120) == 0
    out_paced = json.loads((tmp_path / "paced.json").read_text())
    out_unpaced = json.loads((tmp_path / "unpaced.json").read_text())
    assert all(c["status"] == "200" for c in out_paced + out_unpaced)
    errors, late = [], []
    for c in out_paced:
        arrivals, counts = np.array(c["arrivals"]), np.array(c["counts"])
        span = arrivals[-1] - arrivals[0]
        errors.append(abs((counts[-1] - 1) / span / rate - 1.0))
        late.append(_lateness(arrivals, counts, rate))
    lateness = np.concatenate(late)
    unpaced_rate = sum(c["records"] for c in out_unpaced) / LOAD_SECONDS
    cpu = (cpu1.user + cpu1.system - cpu0.user - cpu0.system) / (t1 - t0)
    figures.add("load.rate_error_median", "load", "200 paced at 1,000/s: rate error, median",
                float(np.median(errors)) * 100, "%", "{:.3f}", benchmark)
    figures.add("load.rate_error_worst", "load", "200 paced at 1,000/s: rate error, worst",
                float(np.max(errors)) * 100, "%", "{:.3f}", benchmark)
    figures.add("load.p99_late", "load", "200 paced at 1,000/s: p99 lateness",
                float(np.percentile(lateness, 99)) * 1000, "ms", "{:.1f}", benchmark)
    figures.add("load.unpaced", "load", "20 unpaced beside them, together",
                unpaced_rate, "rec/s", "{:,.0f}", benchmark)
    figures.add("load.cpu", "load", "server CPU", cpu * 100, "% of a core", "{:.0f}", benchmark)
    figures.add("load.uss", "load", "server USS, max", max(uss), "MiB", "{:.0f}", benchmark)
    if refusals:
        figures.add("load.refusal", "load", "429 with all 220 slots busy, median",
                    float(np.median(refusals)), "ms", "{:.1f}", benchmark)
        figures.add("load.refusal_max", "load", "429 with all 220 slots busy, worst",
                    max(refusals), "ms", "{:.1f}", benchmark)
    benchmark.pedantic(lambda: None, rounds=1, iterations=1)


def _stall(port: int, n: int) -> list[socket.socket]:
    clients = []
    for _ in range(n):
        s = socket.socket()
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        s.connect(("127.0.0.1", port))
        s.sendall(_request({"paced": False}))
        clients.append(s)
    return clients


def _first_record_ms(port: int) -> tuple[bytes, float]:
    started = time.monotonic()
    with socket.create_connection(("127.0.0.1", port), timeout=60) as fresh:
        fresh.sendall(_request({"paced": False, "total_records": 3, "seed": 1}))
        data = b""
        while b"txn_" not in data and not data.startswith(b"HTTP/1.1 4"):
            chunk = fresh.recv(65536)
            if not chunk:
                break
            data += chunk
    return data[:12], (time.monotonic() - started) * 1000


@pytest.mark.benchmark(group="load")
def test_stalled_clients(benchmark: Any, figures: Figures) -> None:
    port = free_port()
    # room for all of them (and the memory their budgets take), so a fresh client is served
    # beside them; then the rest of the slots are filled to time a refusal. The send deadline
    # is set past the run, so they stay stalled (the default, 30 s, drops them)
    proc, ps = _server(port, SIMTOM_MAX_STREAMS="128", SIMTOM_MAX_MEMORY="3GiB",
                       SIMTOM_SEND_TIMEOUT=str(STALL_SECONDS * 10))
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=60) as first:
            first.sendall(_request({"paced": False, "total_records": 20_000, "seed": 2}))
            while first.recv(1 << 16):
                pass
        time.sleep(2)
        idle = _uss(ps)
        clients = _stall(port, 100)
        time.sleep(STALL_SECONDS)
        stalled = _uss(ps)
        status, fresh_ms = _first_record_ms(port)
        assert status == b"HTTP/1.1 200", status
        clients += _stall(port, 28)
        time.sleep(2)
        status, refusal_ms = _first_record_ms(port)
        assert status == b"HTTP/1.1 429", status
        for s in clients:
            s.close()
        time.sleep(3)
        after = _uss(ps)
    finally:
        stop(proc)
    figures.add("stall.idle", "stalled", "USS idle", idle, "MiB", "{:.0f}", benchmark)
    figures.add("stall.held", "stalled",
                f"USS with 100 stalled clients after {STALL_SECONDS:.0f} s", stalled, "MiB",
                "{:.0f}", benchmark)
    figures.add("stall.each", "stalled", "per stalled stream", (stalled - idle) / 100, "MiB",
                "{:.1f}", benchmark)
    figures.add("stall.fresh", "stalled", "a fresh client's first record beside them",
                fresh_ms, "ms", "{:.0f}", benchmark)
    figures.add("stall.refusal", "stalled", "429 with all 128 slots stalled", refusal_ms, "ms",
                "{:.1f}", benchmark)
    figures.add("stall.after", "stalled", "USS 3 s after they closed", after, "MiB", "{:.0f}",
                benchmark)
    benchmark.pedantic(lambda: None, rounds=1, iterations=1)
