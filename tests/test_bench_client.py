"""The benchmark client's record counters (``bench/_client.py``) count exactly what
``bytes.count`` would, however the stream is cut into reads."""

from __future__ import annotations

import importlib.util
import random
from pathlib import Path

import pytest

_spec = importlib.util.spec_from_file_location(
    "bench_client", Path(__file__).resolve().parents[1] / "bench" / "_client.py")
assert _spec is not None and _spec.loader is not None
client = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(client)

MARKER = b"\ndata: "


def test_count_marker_equals_bytes_count() -> None:
    rng = random.Random(3)
    pieces = [MARKER, b"\ndat", b"x", b"\n", b"data: ", b"\n\ndata: x", b"\r\nda12\r\n"]
    for _ in range(3000):
        buf = bytearray(b"".join(rng.choice(pieces) for _ in range(rng.randint(0, 30))))
        lo, hi = sorted((rng.randint(0, len(buf)), rng.randint(0, len(buf))))
        assert client.count_marker(buf, lo, hi, MARKER) == bytes(buf[lo:hi]).count(MARKER)


@pytest.mark.parametrize("seed", range(20))
def test_chunked_lines_count_payload_newlines_across_any_reads(seed: int) -> None:
    rng = random.Random(seed)
    lines = [b'{"k":%d}\n' % i for i in range(rng.randint(1, 400))]
    body, i = b"", 0
    while i < len(lines):  # chunks of whole lines, as the server sends them
        take = rng.randint(1, 50)
        payload = b"".join(lines[i:i + take])
        body += b"%x\r\n" % len(payload) + payload + b"\r\n"
        i += take
    body += b"0\r\n\r\n"
    counter, found, pos = client.ChunkedLines(), 0, 0
    while pos < len(body):  # reads of random sizes, cutting chunk headers and payloads
        size = rng.randint(1, 300)
        buf = bytearray(body[pos:pos + size])
        found += counter.count(buf, 0, len(buf))
        pos += size
    assert found == len(lines)
