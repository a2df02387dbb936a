"""Memory in bytes: a stream's blocks and slices fit its budget whatever the record size, and the
server refuses a stream that would take it over its budget with 503 and Retry-After."""

from __future__ import annotations

import asyncio
import time

import httpx
import numpy as np
import polars as pl
import pytest
from _live import live_server
from hypothesis import given, settings
from hypothesis import strategies as st

import simtom
from simtom.engine import registry
from simtom.errors import SimtomError
from simtom.serving import budget as B
from simtom.serving.server import Settings
from simtom.serving.streams import open_stream

MiB = 1 << 20


@pytest.mark.parametrize(("text", "value"), [
    ("512MiB", 512 * MiB), ("1GiB", 1 << 30), ("64k", 64 << 10), ("2GB", 2 * 10**9),
    ("1048576", MiB), (" 8 mib ", 8 * MiB), ("1.5M", int(1.5 * MiB)), (4096, 4096)])
def test_sizes_parse(text, value):
    assert B.parse_bytes("x", text) == value


@pytest.mark.parametrize("text", ["abc", "-1", "0", "1.5XB", "", "12 34"])
def test_bad_sizes_name_the_setting(text):
    with pytest.raises(SimtomError, match="SIMTOM_MAX_MEMORY: got"):
        B.parse_bytes("SIMTOM_MAX_MEMORY", text)


@settings(max_examples=300, deadline=None, derandomize=True)
@given(budget=st.integers(B.MIN_STREAM_MEMORY, 1 << 30),
       frame=st.floats(1.0, 4e6), encoded=st.floats(1.0, 8e6))
def test_sizes_fit_the_budget_whatever_the_record_size(budget, frame, encoded):
    sizer = B.BlockSizer(budget, largest=1 << 24)
    sizer.observe_frame(100, int(frame * 100))
    sizer.observe_slice(100, int(encoded * 100))
    assert sizer.next_block() >= 1 and sizer.next_slice() >= 1
    held = (B.HELD * sizer.next_block() * sizer.frame_per_record
            + B.HELD * sizer.next_slice() * sizer.encoded_per_record + sizer.send_bytes)
    one_record = B.HELD * (sizer.frame_per_record + sizer.encoded_per_record)
    # within the budget's target share, but a block and a slice hold at least one record each
    # (which may be more than its share)
    assert held <= budget * B.TARGET + one_record
    if one_record <= budget * B.TARGET / 10:
        assert held <= budget * B.TARGET + 1
    assert held == pytest.approx(sizer.bound)


def test_sizes_only_shrink_as_records_grow():
    sizer = B.BlockSizer(8 * MiB, largest=1 << 24)
    assert sizer.next_block() == sizer.next_slice() == B.FIRST_BLOCK
    sizer.observe_frame(256, 256 * 240)
    sizer.observe_slice(256, 256 * 1400)
    block, piece = sizer.next_block(), sizer.next_slice()
    sizer.observe_frame(10, 10 * 100)  # smaller records later do not grow the sizes
    sizer.observe_slice(10, 10 * 100)
    assert (sizer.next_block(), sizer.next_slice()) == (block, piece)
    sizer.observe_slice(10, 10 * 14_000)
    assert sizer.next_slice() < piece


class Blobs(simtom.BlockGenerator):
    """Records of a ~200 kB string each (what a generator of documents or images might make)."""

    name = "test_blobs"
    description = "large records"

    def schema(self, scenario):
        return pl.Schema({"n": pl.Int64, "blob": pl.String})

    def fill(self, scenario, prepared, first, times):
        n = len(times)
        ids = np.arange(first, first + n)
        return pl.DataFrame({"n": ids, "blob": [("x" * 200_000) + str(k) for k in ids]})


@pytest.fixture
def blobs():
    registry.register(Blobs())
    yield "test_blobs"
    registry.unregister("test_blobs")


async def _stalled(name, config, memory, fmt="ndjson"):
    """Open a stream, take one slice, stop reading; the held bytes once the pipeline stops."""
    stream = open_stream(name, config, fmt=fmt, memory=memory)
    from simtom.serving.streams import _Producer

    producer = _Producer(stream)
    first = await producer.__anext__()
    assert len(first.data) >= 1
    for _ in range(400):  # until the pipeline has filled what it may and stopped
        await asyncio.sleep(0.01)
        if producer.queue.full() and not producer.room.is_set():
            break
    await asyncio.sleep(0.3)
    held, peak, sizer = producer.held, producer.peak, producer.sizer
    producer.close()
    return held, peak, sizer


@pytest.mark.parametrize("fmt", ["ndjson", "sse"])
def test_a_stalled_stream_of_large_records_holds_its_budget(blobs, fmt):
    budget = 4 * MiB
    held, peak, sizer = asyncio.run(_stalled(blobs, {"paced": False, "seed": 1}, budget, fmt))
    assert sizer.encoded_per_record > 200_000
    assert sizer.next_slice() <= 8 and sizer.next_block() <= 8
    assert 0 < held <= peak <= budget
    # a stream of ordinary records, the default budget: bigger blocks, the same bound
    held, peak, sizer = asyncio.run(_stalled("bnpl", {"paced": False, "seed": 1},
                                             B.STREAM_MEMORY, fmt))
    assert sizer.next_block() > 1000
    assert 0 < held <= peak <= B.STREAM_MEMORY * B.TARGET


def test_settings_refuse_a_budget_that_cannot_work(monkeypatch):
    with pytest.raises(SimtomError, match="SIMTOM_STREAM_MEMORY: got 'lots'"):
        Settings.from_env({"SIMTOM_STREAM_MEMORY": "lots"})
    with pytest.raises(SimtomError, match="stream_memory"):
        Settings.from_env({"SIMTOM_STREAM_MEMORY": "100k"})
    with pytest.raises(SimtomError, match="max_memory"):
        Settings.from_env({"SIMTOM_MAX_MEMORY": "4MiB", "SIMTOM_STREAM_MEMORY": "8MiB"})
    got = Settings.from_env({"SIMTOM_MAX_MEMORY": "2GiB", "SIMTOM_STREAM_MEMORY": "16MiB"})
    assert (got.max_memory, got.stream_memory) == (2 << 30, 16 * MiB)


def test_a_stream_over_the_memory_budget_gets_503_with_retry_after():
    # room for one stream's budget above what the process holds now, not for two (with a
    # margin: the test process's resident memory moves by tens of MiB)
    rss = B.resident_bytes()
    settings_ = Settings(warm=False, max_memory=rss + 456 * MiB, stream_memory=256 * MiB)
    with live_server(settings_) as url, httpx.Client(base_url=url, timeout=60) as client:
        body = {"paced": True, "rate_per_second": 1}
        with client.stream("POST", "/stream/bnpl", json=body) as first:
            assert first.status_code == 200
            refused = client.post("/stream/bnpl", json=body)
            assert refused.status_code == 503
            assert refused.headers["retry-after"] == "1"
            err = refused.json()
            assert err["error"] == "MemoryBusy" and "SIMTOM_MAX_MEMORY" in err["detail"]
        # the first stream ended (once the server has seen the hang-up): its budget is back
        deadline = time.monotonic() + 30
        while True:
            with client.stream("POST", "/stream/bnpl", json=body) as again:
                if again.status_code == 200 or time.monotonic() > deadline:
                    break
            time.sleep(0.05)
        assert again.status_code == 200
