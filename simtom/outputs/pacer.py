"""The pacer: hands out a stream's records when they are due in wall-clock time.

A record with simulated time ``t`` is due at ``wall_anchor + (t - sim_anchor) / time_compression``
(seconds). The pacer sleeps to absolute deadlines, so the schedule never drifts however long a
stream runs, and everything that is due when it wakes goes out as one slice: no per-record sleeps.
After a slice it waits at least one ``tick`` before the next, so fast streams go out in chunks of
``rate × tick`` records and slow ones one record at a time, each at most about a tick late.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Protocol

import numpy as np

#: Shortest wall time between two slices of one stream (seconds): bounds the wake-ups per second
#: (and so the CPU a paced stream costs) and the lateness of a record. Each wake-up and send
#: costs ~0.5 ms of CPU on a small VM (half of it the socket write), so at 10 ms a paced stream
#: took 5.6 % of a core whatever its rate; at 15 ms, a third less.
TICK = 0.015
#: Streams faster than this (records/s) tick at FAST_TICK: their slices are large (a thousand
#: records, over a MB) and take milliseconds to send, so a shorter tick keeps them as punctual.
FAST_RATE = 20_000.0
FAST_TICK = 0.010


def tick_for(rate: float) -> float:
    """The tick of a stream of ``rate`` records per second (mean)."""
    return FAST_TICK if rate > FAST_RATE else TICK
#: Longest single sleep (seconds): how quickly a sleeping stream notices it must stop.
NAP = 0.25


class Paceable(Protocol):
    """Anything with the simulated times (int64 µs, non-decreasing) of its records."""

    @property
    def times(self) -> np.ndarray: ...


class Stopper:
    """A flag that ends every stream that watches it (set on server shutdown)."""

    def __init__(self) -> None:
        self.stopped = False

    def stop(self) -> None:
        self.stopped = True


@dataclass(frozen=True)
class Schedule:
    """The map between simulated time (µs) and wall-clock time (seconds of ``clock``)."""

    time_compression: float
    sim_anchor_us: int
    wall_anchor: float

    def due(self, t_us: int) -> float:
        """Wall time at which the record with simulated time ``t_us`` is due."""
        return self.wall_anchor + (t_us - self.sim_anchor_us) / 1e6 / self.time_compression

    def horizon(self, wall: float) -> int:
        """The latest simulated time (µs) that is due at wall time ``wall``.

        Rounded to the nearest µs, so a record is due at exactly ``due(t)`` despite rounding.
        """
        elapsed = (wall - self.wall_anchor) * self.time_compression * 1e6
        return self.sim_anchor_us + math.floor(elapsed + 0.5)


#: What ``pace`` yields: an item and the slice ``[lo, hi)`` of its records now due, or None for
#: a heartbeat (nothing was due for ``heartbeat`` seconds).
Slice = tuple[Paceable, int, int] | None


async def pace(
    items: AsyncIterator[Paceable],
    *,
    time_compression: float,
    sim_anchor_us: int | None = None,
    tick: float = TICK,
    heartbeat: float | None = None,
    stopper: Stopper | None = None,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
) -> AsyncIterator[Slice]:
    """Yield slices of ``items`` as their records fall due.

    The schedule is anchored when the first item arrives: its wall time is now and its simulated
    time is ``sim_anchor_us`` (default: the first record's time, so a resumed stream goes on at
    once). Items are pulled only when the previous one is used up, so a slow consumer slows the
    producer. Stops early, between slices, when ``stopper`` is set. ``clock`` and ``sleep`` are
    the wall clock (tests pass a virtual one).
    """
    schedule: Schedule | None = None
    last_out = -math.inf
    async for item in items:
        times = item.times
        n = int(times.shape[0])
        if n == 0:
            continue
        if schedule is None:
            anchor = int(times[0]) if sim_anchor_us is None else sim_anchor_us
            schedule = Schedule(time_compression, anchor, clock())
            last_out = schedule.wall_anchor - tick
        lo = 0
        while lo < n:
            if stopper is not None and stopper.stopped:
                return
            now = clock()
            hi = int(np.searchsorted(times, schedule.horizon(now), side="right"))
            # a tick after the last slice, or at once for records already due at that slice
            # (the rest of a slice that spanned two items)
            if hi > lo and (now >= last_out + tick or schedule.due(int(times[lo])) <= last_out):
                yield item, lo, hi
                lo = hi
                last_out = now
                continue
            wake = max(schedule.due(int(times[lo])), last_out + tick)
            if heartbeat is not None and wake - last_out > heartbeat:
                beat = last_out + heartbeat
                if now >= beat:
                    yield None
                    last_out = now
                    continue
                wake = beat
            await sleep(min(max(wake - now, 0.0), NAP))
