"""Streams without a server: ids, fingerprints, pieces, and the bytes of a whole stream."""

from __future__ import annotations

import asyncio
import itertools
import subprocess
import sys

import numpy as np
import pytest
from _live import parse_sse

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


@pytest.mark.parametrize("fmt", ["ndjson", "sse"])
def test_a_range_that_ends_on_a_block_boundary_ends_cleanly(fmt):
    # one-day ranges of a few records, and resumes near a range's end: the block after the
    # last record is then empty
    import simtom

    async def read(stream) -> bytes:
        return b"".join([bytes(c) async for c in stream.chunks()])

    for seed in range(8):
        day = {"start_date": "2025-03-01", "end_date": "2025-03-01", "base_daily_volume": 2,
               "seed": seed}
        out = asyncio.run(read(open_stream("bnpl", {**day, "paced": False}, fmt=fmt)))
        height = simtom.frame("bnpl", **day).height
        assert out.count(b'"transaction_id"') == height
    day = {"start_date": "2025-03-01", "end_date": "2025-03-01", "base_daily_volume": 200,
           "seed": 7, "paced": False}
    events, _ = parse_sse([asyncio.run(read(open_stream("bnpl", day, fmt="sse")))])
    for back in (2, 3):
        resumed = open_stream("bnpl", day, fmt=fmt, last_event_id=events[-back].id)
        assert asyncio.run(read(resumed)).count(b'"transaction_id"') == back - 1


def test_a_calendar_stream_refuses_a_window_past_its_first_century():
    from simtom.errors import ConfigError

    config = {"calendar_effects": True, "start_time": "2025-01-01T00:00:00+00:00", "seed": 1,
              "paced": False, "arrival_pattern": "poisson"}
    events, _ = parse_sse([open_stream("bnpl", config, fmt="sse").sample(3)])
    parts = events[1].id.split(".")
    parts[1] = str(4 * 10**8)  # 64 s windows: eight centuries on (before the year 10000)
    with pytest.raises(ConfigError, match="whose window "):
        open_stream("bnpl", config, last_event_id=".".join(parts))
