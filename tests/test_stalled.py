"""100 clients that open an unpaced stream and never read, against `simtom serve` in its own
process: the server's memory stays within the documented budget, a fresh client still gets its
records, and the memory goes back to the OS once they close."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest

MiB = 1 << 20
CLIENTS = 100
STREAM_MEMORY = 8 * MiB  # the default per-stream budget (serving/budget.py, README)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _request(body: dict) -> bytes:
    raw = json.dumps(body).encode()
    return (f"POST /stream/bnpl?format=ndjson HTTP/1.1\r\nHost: x\r\nContent-Type: "
            f"application/json\r\nConnection: close\r\nContent-Length: {len(raw)}\r\n\r\n"
            ).encode() + raw


def _uss(proc: psutil.Process) -> int:
    return int(proc.memory_full_info().uss)


@pytest.fixture
def server():
    port = _free_port()
    env = dict(os.environ, SIMTOM_PORT=str(port), SIMTOM_LOG_LEVEL="info",
               SIMTOM_MAX_STREAMS=str(CLIENTS + 10), SIMTOM_MAX_MEMORY="4GiB",
               SIMTOM_SEND_TIMEOUT="600")
    script = Path(sys.executable).parent / "simtom"
    proc = subprocess.Popen([str(script), "serve"], env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 120
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            break
        except OSError:
            if time.monotonic() > deadline or proc.poll() is not None:
                proc.kill()
                raise RuntimeError("simtom serve did not start") from None
            time.sleep(0.1)
    yield port, psutil.Process(proc.pid)
    proc.terminate()
    try:
        proc.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()


def _settle(proc: psutil.Process, seconds: float = 30.0) -> int:
    """USS once it stops moving (the background warm-up, streams filling their pipelines)."""
    last, deadline = _uss(proc), time.monotonic() + seconds
    while time.monotonic() < deadline:
        time.sleep(0.5)
        now = _uss(proc)
        if abs(now - last) < 2 * MiB:
            return now
        last = now
    return last


def test_stalled_clients_hold_their_budget_and_give_it_back(server):
    port, proc = server
    # idle, but after a first stream (thread pools, first-use allocations) and the background
    # warm-up of the scenario kernels
    with socket.create_connection(("127.0.0.1", port), timeout=60) as first:
        first.sendall(_request({"paced": False, "total_records": 20_000, "seed": 2}))
        while first.recv(1 << 16):
            pass
    time.sleep(3.0)
    idle = _settle(proc)
    clients = []
    for _ in range(CLIENTS):
        s = socket.socket()
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        s.connect(("127.0.0.1", port))
        s.sendall(_request({"paced": False}))
        clients.append(s)
    time.sleep(2.0)
    stalled = _settle(proc)
    try:
        # every stream holds at most its budget
        assert stalled - idle <= CLIENTS * STREAM_MEMORY, (idle / MiB, stalled / MiB)
        # and the server still serves: a fresh client gets its records
        fresh = socket.create_connection(("127.0.0.1", port), timeout=60)
        started = time.monotonic()
        fresh.sendall(_request({"paced": False, "total_records": 3, "seed": 1}))
        data = b""
        while data.count(b"\n{") < 1 and b"txn_" not in data:
            chunk = fresh.recv(65536)
            if not chunk:
                break
            data += chunk
        first_record = time.monotonic() - started
        fresh.close()
        assert data.startswith(b"HTTP/1.1 200") and b"txn_00000000" in data
        print(f"idle {idle / MiB:.0f} MiB, {CLIENTS} stalled {stalled / MiB:.0f} MiB "
              f"({(stalled - idle) / CLIENTS / MiB:.1f} MiB each), fresh client's first record "
              f"after {first_record * 1000:.0f} ms")
    finally:
        for s in clients:
            s.close()
    # freed memory goes back to the OS once they are gone (polled: the server notices each
    # hang-up, then trims): at least three quarters of what the streams took
    back = idle + (stalled - idle) // 4
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and _uss(proc) > back:
        time.sleep(0.5)
    after = _uss(proc)
    print(f"after they closed {after / MiB:.0f} MiB")
    assert after <= back
