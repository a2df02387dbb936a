"""Send deadlines against a real uvicorn on loopback: a client that stops reading is dropped after
the send timeout and resumes exactly; a slow reader is not dropped."""

from __future__ import annotations

import json
import logging
import socket
import time
from urllib.parse import urlsplit

import httpx
import pytest
from _live import live_server, parse_sse

from simtom.serving.server import Settings

TIMEOUT = 1.5  # the send timeout in these tests (seconds); the default is 30


@pytest.fixture(scope="module")
def url():
    with live_server(Settings(warm=False, max_streams=2, send_timeout=TIMEOUT)) as base:
        yield base


def _open(url: str, path: str, body: dict, *, rcvbuf: int = 4096,
          headers: dict[str, str] | None = None) -> socket.socket:
    """A raw client with a small receive buffer that sends one request and reads only when
    told to (what a stalled or slow client is)."""
    where = urlsplit(url)
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    sock.connect((where.hostname, where.port))
    raw = json.dumps(body).encode()
    extra = "".join(f"{k}: {v}\r\n" for k, v in (headers or {}).items())
    sock.sendall(f"POST {path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                 f"Content-Length: {len(raw)}\r\n{extra}\r\n".encode() + raw)
    return sock


def _read_until(sock: socket.socket, marker: bytes, limit: int = 1 << 22) -> bytes:
    data = b""
    sock.settimeout(30)
    while marker not in data and len(data) < limit:
        chunk = sock.recv(4096)
        if not chunk:
            break
        data += chunk
    return data


def _events(raw: bytes) -> list:
    body = raw.split(b"\r\n\r\n", 1)[1]
    # de-chunk the HTTP/1.1 body
    out, rest = b"", body
    while rest:
        head, _, rest = rest.partition(b"\r\n")
        if not head:
            continue
        size = int(head, 16)
        if size == 0:
            break
        out, rest = out + rest[:size], rest[size + 2:]
        if len(rest) < 2:
            break
    return parse_sse([out])[0]


def _wait_for(caplog, text: str, seconds: float = 30.0) -> list[logging.LogRecord]:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        found = [r for r in caplog.records if text in r.getMessage()]
        if found:
            return found
        time.sleep(0.05)
    return []


STREAM = {"paced": False, "seed": 7, "total_records": 200_000}


def test_a_client_that_stops_reading_is_dropped_and_resumes_exactly(url, caplog):
    caplog.set_level(logging.INFO, logger="simtom")
    sock = _open(url, "/stream/bnpl", STREAM)
    head = _read_until(sock, b"never", limit=60_000)  # some events, then stop reading
    started = time.monotonic()
    dropped = _wait_for(caplog, "dropped: the client accepted no bytes")
    assert len(dropped) == 1 and dropped[0].levelno == logging.INFO
    assert time.monotonic() - started >= TIMEOUT * 0.9  # not before the timeout
    assert "records sent" in dropped[0].getMessage()
    access = _wait_for(caplog, "ended=send_timeout")
    assert len(access) == 1 and "seed=7" in access[0].getMessage()
    # its slot is free again: two streams fit (max_streams=2)
    with httpx.Client(base_url=url, timeout=60) as c:
        with c.stream("POST", "/stream/bnpl", json={**STREAM, "total_records": 5}) as a, \
                c.stream("POST", "/stream/bnpl", json={**STREAM, "total_records": 5}) as b:
            assert a.status_code == b.status_code == 200
            a.read()
            b.read()
        # the connection is gone: reading it ends (reset, or what the buffers still held)
        sock.settimeout(10)
        with pytest.raises(OSError):
            while sock.recv(1 << 16):
                pass
            raise ConnectionResetError  # an orderly end is also an end
        sock.close()
        # resume from the last complete event the client read: exactly the next records
        events = [e for e in _events(head) if e.id]
        last = events[-2]  # (the last one may be cut short)
        k = int(last.id.split(".")[0])
        with c.stream("POST", "/stream/bnpl", json=STREAM, headers={"Last-Event-ID": last.id}) \
                as resumed:
            chunks = []
            for chunk in resumed.iter_raw():
                chunks.append(chunk)
                if sum(map(len, chunks)) > 20_000:
                    break
        rest, _ = parse_sse(chunks)
        straight = c.get("/stream/bnpl", params={
            "format": "ndjson", "paced": "false", "seed": 7, "total_records": k + 6,
        }).text.splitlines()
        assert [e.data for e in rest[:5]] == straight[k + 1:k + 6]


def test_a_slow_reader_is_not_dropped_and_gets_correct_records(url, caplog):
    caplog.set_level(logging.INFO, logger="simtom")
    config = {"paced": False, "seed": 11, "total_records": 40}
    sock = _open(url, "/stream/bnpl", config, rcvbuf=2048)
    sock.settimeout(30)
    data = b""
    started = time.monotonic()
    # a record about every 0.1 s (~13 kB/s): slower than the stream by far, for 4 timeouts
    while time.monotonic() - started < 4 * TIMEOUT:
        chunk = sock.recv(1400)
        if not chunk:
            break
        data += chunk
        time.sleep(0.1)
    assert not [r for r in caplog.records if "dropped" in r.getMessage()]
    while b"\r\n0\r\n\r\n" not in data:  # then read the rest at full speed
        chunk = sock.recv(1 << 16)
        if not chunk:
            break
        data += chunk
    sock.close()
    events = _events(data)
    with httpx.Client(base_url=url, timeout=60) as c:
        straight = c.get("/stream/bnpl", params={
            "format": "ndjson", "paced": "false", "seed": 11, "total_records": 40,
        }).text.splitlines()
    assert [e.data for e in events] == straight
    assert _wait_for(caplog, "seed=11") and _wait_for(caplog, "ended=complete")


def test_a_paced_stream_nobody_reads_is_dropped_though_its_sends_never_block(url, caplog):
    # 20 small records a second and heartbeats: the socket buffers take them all, so no send
    # blocks; what tells is that the client accepts nothing while bytes wait for it
    caplog.set_level(logging.INFO, logger="simtom")
    sock = _open(url, "/stream/bnpl", {"paced": True, "rate_per_second": 20, "seed": 3,
                                       "denormalize_entities": False}, rcvbuf=1024)
    dropped = _wait_for(caplog, "dropped: the client accepted no bytes")
    assert len(dropped) == 1
    assert _wait_for(caplog, "seed=3") and _wait_for(caplog, "ended=send_timeout")
    sock.close()


def test_an_idle_paced_stream_that_is_read_is_not_dropped(url, caplog):
    # nothing to send for longer than the timeout (one record every 3 s): not a stall
    caplog.set_level(logging.INFO, logger="simtom")
    with httpx.Client(base_url=url, timeout=60) as c, c.stream(
            "POST", "/stream/bnpl?format=ndjson",
            json={"paced": True, "rate_per_second": 0.33, "seed": 5, "total_records": 2}) as r:
        lines = list(r.iter_lines())
    assert len([x for x in lines if x]) == 2
    assert not [r for r in caplog.records if "dropped" in r.getMessage()]
