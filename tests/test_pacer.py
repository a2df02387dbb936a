"""The pacer, on a virtual clock: never early, at most a tick late, everything once and in order."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

import numpy as np
import pytest

from simtom.outputs.pacer import FAST_RATE, FAST_TICK, NAP, TICK, Schedule, Stopper, pace, tick_for


@dataclass
class Item:
    times: np.ndarray


class VirtualClock:
    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps = 0

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        assert 0.0 <= seconds <= NAP
        self.sleeps += 1
        self.now += seconds


def run(items, clock, **kwargs):
    """Drive the pacer; return (wall time, slice) pairs and how many items had been pulled."""
    pulled = []

    async def source():
        for item in items:
            pulled.append(item)
            yield item

    async def main():
        out = []
        async for piece in pace(source(), clock=clock, sleep=clock.sleep, **kwargs):
            out.append((clock.now, piece, len(pulled)))
        return out

    return asyncio.run(main())


def blocks_of(times, size):
    return [Item(times[i:i + size]) for i in range(0, len(times), size)]


@pytest.mark.parametrize("rate", [1.0, 100.0, 5000.0])
@pytest.mark.parametrize("compression", [1.0, 60.0])
def test_records_go_out_once_in_order_never_early_and_at_most_a_tick_late(rate, compression):
    rng = np.random.default_rng(3)
    n = 400
    sim_gaps = rng.exponential(compression / rate, n) * 1e6
    start = 1_700_000_000_000_000
    times = start + np.cumsum(sim_gaps).astype(np.int64)
    clock = VirtualClock()
    wall0 = clock.now
    out = run(blocks_of(times, 37), clock, time_compression=compression, sim_anchor_us=start)
    got = np.concatenate([item.times[lo:hi] for _, (item, lo, hi), _ in out])
    assert np.array_equal(got, times)
    schedule = Schedule(compression, start, wall0)
    last = -1.0
    for wall, (item, lo, hi), _ in out:
        due = np.array([schedule.due(int(t)) for t in item.times[lo:hi]])
        assert np.all(wall >= due - 1e-9)  # never early
        assert np.all(wall <= due + TICK + 1e-9)  # at most one tick late
        # slices at least a tick apart (or at the same instant: one due set split by items)
        assert wall >= last + TICK - 1e-9 or wall == last
        last = wall
    # the schedule does not drift: the last record goes out when it is due
    assert out[-1][0] - schedule.due(int(times[-1])) <= TICK + 1e-9


def test_fast_streams_go_out_in_chunks_not_record_by_record():
    times = 1_000_000 + np.arange(100_000, dtype=np.int64) * 10  # 100k records/s
    clock = VirtualClock()
    out = run(blocks_of(times, 50_000), clock, time_compression=1.0)
    sizes = [hi - lo for _, (item, lo, hi), _ in out]
    assert sum(sizes) == 100_000
    # one slice per tick: ~1 s / TICK slices
    assert len(out) <= 1.0 / TICK + 3
    assert clock.sleeps <= 2 * len(out) + 4


def test_items_are_pulled_only_when_the_previous_is_used_up():
    times = np.arange(1000, dtype=np.int64) * 1000  # 1 ms apart, 10 blocks of 100
    out = run(blocks_of(times, 100), VirtualClock(), time_compression=1.0)
    for _, (item, _lo, _hi), pulled in out:
        index = int(item.times[0] // 100_000)
        assert pulled == index + 1


def test_heartbeats_while_idle_and_resume_anchor():
    # two records 40 simulated seconds apart; heartbeat every 15 s of silence
    times = np.array([5_000_000, 45_000_000], np.int64)
    clock = VirtualClock()
    wall0 = clock.now
    out = run([Item(times)], clock, time_compression=1.0, heartbeat=15.0)
    kinds = ["beat" if piece is None else "data" for _, piece, _ in out]
    assert kinds == ["data", "beat", "beat", "data"]
    # no sim anchor: the first record is due at once, the next 40 s later
    assert out[0][0] == pytest.approx(wall0, abs=TICK)
    assert out[-1][0] == pytest.approx(wall0 + 40.0, abs=TICK)
    assert [round(w - wall0) for w, piece, _ in out if piece is None] == [15, 30]


def test_stopper_ends_a_sleeping_stream_within_a_nap():
    stopper = Stopper()
    clock = VirtualClock()
    times = np.array([0, 3_600_000_000], np.int64)  # the second record is an hour away

    async def main():
        async def source():
            yield Item(times)

        seen = []
        async for piece in pace(source(), time_compression=1.0, clock=clock,
                                sleep=clock.sleep, stopper=stopper):
            seen.append(piece)
            stopper.stop()
        return seen

    t0 = clock.now
    seen = asyncio.run(main())
    assert len(seen) == 1
    assert clock.now - t0 <= NAP + TICK


def test_fast_streams_tick_faster() -> None:
    """Streams above FAST_RATE records/s send big slices, so they tick at FAST_TICK (punctual);
    slower ones at TICK (fewer wake-ups: less CPU)."""
    assert FAST_TICK < TICK
    assert tick_for(1.0) == tick_for(1000.0) == tick_for(FAST_RATE) == TICK
    assert tick_for(FAST_RATE + 1) == tick_for(100_000.0) == FAST_TICK
