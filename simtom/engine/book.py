"""The open book: a lifecycle's events in time order, released block by block.

Each application's events (``BlockGenerator.window``) follow it in simulated time, for weeks
(pay-in-4) or up to about two years (24 monthly instalments). The book keeps, for every
application whose events are not all out, what its events are made from (the generator's
``Applications``, 51 bytes each for BNPL, never the events themselves) and the time of its
next event. A block of new applications joins the book; then every event before the block's last
application time is released (no later application can have an event before it), made by
expanding only the applications whose next event is due. The events come out in one total
order, (time, record, event index), the same whatever the block size, so frames, files and
streams agree and a resumed stream continues exactly.

The book holds the applications still open: about the simulated rate x
:data:`OPEN_SECONDS` of them in steady state (``check`` refuses a scenario whose steady-state
book would exceed :data:`MAX_OPEN` applications: 75 bytes each with their next time and
arrival position, 300 MB).

SSE ids of a lifecycle stream name the event and where to regenerate from:
``<record>.<event index>.<time µs after start>.<record>.<window>.<slot>``, the arrival
position of the oldest application with an event at or after it (a function of the event
alone, so a resumed stream's ids are a straight one's), then the usual
``.<seed>.<start_us>.<fingerprint>`` (the form of ``delivery``'s ids). A resume regenerates
the applications from there: up to about two years of simulated time of them for a stream
that has run that long (the longest loans), at the engine's rate of about a million a second.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl

from simtom.engine.arrivals import Arrivals
from simtom.engine.blocks import Block, Position
from simtom.engine.generator import NEVER, Applications, BlockGenerator
from simtom.errors import ConfigError
from simtom.spec.scenario import Scenario

#: Release order: the event's time, its application's record, its place among the record's.
ORDER = ("_timestamp", "_record_id", "_event_index")
#: Key of "nothing released yet": every event comes after it.
NOTHING = (-(2**62), -1, -1)
#: Simulated seconds an application stays in the book on average (measured: 33.6 days over
#: 300,000 applications at seed 3, declined ones counting 0), with a margin for drift and
#: stress: the steady-state book is the simulated rate times this.
OPEN_SECONDS = 50 * 86_400.0
#: The most applications a scenario's steady-state book may hold (75 bytes each).
MAX_OPEN = 4_000_000


def check(scenario: Scenario) -> None:
    """Refuse a scenario whose steady-state book would exceed :data:`MAX_OPEN` (naming
    ``time_compression``, which a lifecycle stream raises to make its traffic fit)."""
    simulated = scenario.simulated_rate
    if scenario.historical:
        simulated = scenario.base_daily_volume * 3.0 / 86_400.0  # the busiest days
    expected = simulated * OPEN_SECONDS
    if scenario.total_records is not None:
        expected = min(expected, float(scenario.total_records))
    if expected <= MAX_OPEN:
        return
    if scenario.historical:
        most = int(MAX_OPEN / (3.0 * OPEN_SECONDS / 86_400.0))
        raise ConfigError(
            "base_daily_volume", scenario.base_daily_volume,
            f"at most {most:,} for a lifecycle (the open book of the busiest days would hold "
            f"about {expected:.3g} applications, the limit is {MAX_OPEN:,}), or set "
            "total_records")
    least = scenario.rate_per_second * OPEN_SECONDS / MAX_OPEN
    raise ConfigError(
        "time_compression", scenario.time_compression,
        f"at least {least:.4g} for a lifecycle at rate_per_second {scenario.rate_per_second:g}"
        f" (the open book would hold about {expected:.3g} applications, the limit is "
        f"{MAX_OPEN:,}), or set total_records")


@dataclass(frozen=True)
class Released:
    """Events released by one step: the frame in time order, their times (µs, the pacer's
    schedule) and their SSE id parts (6 rows: record, event index, time - start, and the
    regeneration position's record, window, slot; None for a book without ids)."""

    frame: pl.DataFrame
    times: np.ndarray
    ids: np.ndarray | None


class Book:
    """The open book of one scenario's lifecycle: push application blocks in order, get the
    events they release.

    ``after`` (a key: time, record, event index) drops every event up to it: what a resumed
    stream has already sent. ``ids`` (a stream's SSE ids) may be left out: frames and files
    do not need them.
    """

    def __init__(self, scenario: Scenario, generator: BlockGenerator, arrivals: Arrivals, *,
                 after: tuple[int, int, int] = NOTHING, ids: bool = True) -> None:
        self.ids = ids
        self.scenario = scenario
        self.generator = generator
        self.arrivals = arrivals
        self.start_us = scenario.start_us
        self.windowed = arrivals.pattern != "uniform"
        self.first_window = arrivals.start().window
        self.after = after
        self.open: Applications | None = None
        self.next_at = np.empty(0, np.int64)  # each open application's next event time
        # each open application's arrival position (its window and slot)
        self.windows = np.empty(0, np.int64)
        self.slots = np.empty(0, np.int64)
        self.released_to = -(2**63)  # every event before this time is out

    @property
    def nbytes(self) -> int:
        """Bytes the book holds now."""
        if self.open is None:
            return 0
        return self.open.nbytes + self.next_at.nbytes + self.windows.nbytes + self.slots.nbytes

    def __len__(self) -> int:
        return 0 if self.open is None else len(self.open)

    def push(self, apps: Applications, block: Block, *, final: bool) -> Released:
        """Add the applications of ``block`` (its times, slots and end; in order after the
        last block pushed) and release what is due; ``final`` (no block follows) releases
        everything."""
        n = len(apps)
        windows = self.arrivals.windows(block.times)
        if self.open is None:
            pool, next_at = apps, block.times.copy()
            pool_windows, pool_slots = windows, block.slots
        else:
            pool = self.open.concat(apps)
            next_at = np.concatenate([self.next_at, block.times])
            pool_windows = np.concatenate([self.windows, windows])
            pool_slots = np.concatenate([self.slots, block.slots])
        if final:
            frontier = NEVER
        else:  # later applications, and their events, come at or after this block's last
            frontier = int(block.times[-1]) if n else self.released_to
        due = np.flatnonzero(next_at < frontier)
        frame, after_due = self.generator.window(self.scenario, pool.take(due),
                                                 self.released_to, frontier)
        self.released_to = frontier
        next_at[due] = after_due
        still = np.flatnonzero(next_at != NEVER)
        if still.shape[0] == next_at.shape[0]:
            self.open, self.next_at = pool, next_at
            self.windows, self.slots = pool_windows, pool_slots
        else:
            self.open = pool.take(still)
            self.next_at = next_at[still]
            self.windows, self.slots = pool_windows[still], pool_slots[still]
        return self._release(frame, pool, pool_windows, pool_slots, block.end)

    def _release(self, frame: pl.DataFrame, pool: Applications, windows: np.ndarray,
                 slots: np.ndarray, end: Position) -> Released:
        """The released events in order, with their ids: each names the oldest application
        with an event at or after it (the same whatever the blocks), where a resume starts."""
        frame = frame.sort(ORDER)
        times = frame["_timestamp"].dt.epoch("us").to_numpy()
        if not self.ids and self.after == NOTHING:
            return Released(frame, np.ascontiguousarray(times, np.int64), None)
        records = frame["_record_id"].to_numpy()
        index = frame["_event_index"].to_numpy()
        # open at an event: an application with an event at or after it in this batch, one
        # still in the book (the oldest is its first: the book is in record order), or later
        later = end.record if self.open is None or not len(self.open) else min(
            end.record, int(self.open.records[0]))
        oldest = np.minimum.accumulate(records[::-1])[::-1] if records.shape[0] else records
        oldest = np.minimum(oldest, later)
        inside = oldest < end.record  # in the pool; else the next block's first: ``end``
        rows = np.searchsorted(pool.records, oldest).clip(0, max(len(pool) - 1, 0))
        if self.after != NOTHING:
            t, k, j = self.after
            keep = (times > t) | ((times == t) & ((records > k) | ((records == k) & (index > j))))
            if not keep.all():
                picked = np.flatnonzero(keep)
                frame = frame[picked]
                times, records, index = times[picked], records[picked], index[picked]
                oldest, inside, rows = oldest[picked], inside[picked], rows[picked]
        ids = np.empty((6, times.shape[0]), np.int64)
        ids[0] = records
        ids[1] = index
        ids[2] = times - self.start_us
        ids[3] = oldest
        if self.windowed:
            ids[4] = np.where(inside, windows[rows], end.window) - self.first_window
            ids[5] = np.where(inside, slots[rows], end.index)
        else:
            ids[4] = 0
            ids[5] = 0
        return Released(frame, np.ascontiguousarray(times, np.int64), ids)


__all__ = ["MAX_OPEN", "ORDER", "Book", "Released", "check"]
