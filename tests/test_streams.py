"""Streams without a server: ids, fingerprints, pieces, and the bytes of a whole stream."""

from __future__ import annotations

import asyncio
import itertools
import subprocess
import sys

import numpy as np

from simtom.outputs.encode import Encoded
from simtom.serving.streams import _pieces, fingerprint, open_stream

SEND_BYTES = 1 << 20

CONFIG = {"seed": 3, "total_records": 500, "paced": False, "arrival_pattern": "burst"}


def read_all(stream) -> bytes:
    async def run():
        return b"".join([bytes(c) async for c in stream.chunks()])

    return asyncio.run(run())


def test_fingerprint_is_the_same_in_another_process_and_ignores_pacing():
    here = fingerprint(open_stream("bnpl", CONFIG).scenario)
    code = ("from simtom.serving.streams import open_stream, fingerprint; "
            f"print(fingerprint(open_stream('bnpl', {CONFIG!r}).scenario))")
    there = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                           check=True, timeout=120).stdout.strip()
    assert here == there
    paced = {**CONFIG, "paced": True, "start_time": "2025-01-01T00:00:00Z"}
    assert fingerprint(open_stream("bnpl", paced).scenario) == here
    assert fingerprint(open_stream("bnpl", {**CONFIG, "seed": 4}).scenario) != here


def test_pieces_cover_every_record_once_in_bounded_sizes():
    rng = np.random.default_rng(0)
    sizes = rng.integers(1, 300_000, 200)
    ends = np.cumsum(sizes)
    data = Encoded(np.zeros(int(ends[-1]), np.uint8), ends)
    pieces = _pieces(data, SEND_BYTES)
    assert pieces[0][0] == 0 and pieces[-1][1] == 200
    assert all(a[1] == b[0] and a[0] < a[1] for a, b in itertools.pairwise(pieces))
    for lo, hi in pieces:
        size = int(ends[hi - 1]) - (int(ends[lo - 1]) if lo else 0)
        assert hi - lo == 1 or size <= SEND_BYTES + int(sizes[lo:hi].max())
    assert _pieces(Encoded(np.zeros(0, np.uint8), np.zeros(0, np.int64)), SEND_BYTES) == []


def test_a_stream_resumed_after_any_record_equals_the_straight_stream():
    straight = read_all(open_stream("bnpl", CONFIG, fmt="sse"))
    events = straight.split(b"\n\n")[:-1]  # chunks() has no preamble; the tail is empty
    assert len(events) == 500
    for k in (0, 137, 498):
        last_id = events[k].split(b"\n")[0][len(b"id: "):].decode()
        rest = read_all(open_stream("bnpl", CONFIG, fmt="sse", last_event_id=last_id))
        assert rest == b"\n\n".join(events[k + 1:]) + b"\n\n"
    end_id = events[-1].split(b"\n")[0][len(b"id: "):].decode()
    assert open_stream("bnpl", CONFIG, last_event_id=end_id).finished


def test_trim_runs_at_most_once_per_interval() -> None:
    """malloc_trim (glibc) is what keeps a long unpaced stream's memory flat (see _malloc);
    it must run when due and not more often."""
    from simtom.serving import _malloc

    first = _malloc.trim(every=0.0)
    assert first == (_malloc._load() is not None)
    assert _malloc.trim(every=3600.0) is False
