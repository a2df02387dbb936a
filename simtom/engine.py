"""The engine: arrival times from the scenario's traffic pattern, then blocks of records.

A stream's position is a :class:`Position` (record number plus where the arrival process is), so
generation can start anywhere a previous block ended and give exactly the same records as a
straight run: the basis of block-size independence, partitioning and stream resume.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
import polars as pl
from simtom_kernels import arrivals as A

from . import calendar
from . import drift as drift_
from ._constants import constant_strings
from .config import Scenario
from .errors import ConfigError
from .faults import Faults
from .registry import BlockGenerator, get

#: Window lengths (µs) that divide one hour, so hour-of-day profiles are constant in a window.
WINDOW_LADDER = tuple(
    int(s * 1_000_000)
    for s in (0.001, 0.002, 0.005, 0.01, 0.02, 0.025, 0.05, 0.1, 0.2, 0.25, 0.5, 1, 2, 3, 4, 5,
              6, 10, 12, 15, 20, 30, 60, 120, 180, 300, 600, 900, 1200, 1800, 3600)
)
#: Expected events per window at the base rate: large enough to amortise a window's overhead,
#: small enough that a block can start mid-window at little cost.
WINDOW_TARGET = 64.0
#: The largest block the engine fills in one kernel call.
MAX_BATCH = 1 << 24
US_PER_DAY = 86_400_000_000


@dataclass(frozen=True)
class Position:
    """Where a stream is: the next record's number and the arrival process's state."""

    record: int
    window: int
    index: int


def hour_profile(scenario: Scenario) -> np.ndarray:
    """Relative intensity of each hour of the (simulated, UTC) day, with mean 1.

    A historical range uses the calendar's time of day (70 % 09-18 h, 20 % 18-23 h, 10 % at
    night) unless the pattern is nhpp, whose profile (with ``peak_hours``) then applies.
    """
    profile = np.ones(24)
    if scenario.historical and scenario.arrival_pattern != "nhpp":
        day: np.ndarray = np.array(calendar.HOUR_PROFILE) / np.mean(calendar.HOUR_PROFILE)
        return day
    if scenario.arrival_pattern == "nhpp":
        profile[2:6] = 0.2
        profile[8:10] = 2.0
        profile[12:14] = 3.0
        profile[19:21] = 4.0
        profile[list(scenario.peak_hours)] = 5.0
    normalised: np.ndarray = profile / profile.mean()
    return normalised


class Arrivals:
    """The scenario's arrival process: event times in µs, block by block, from any position."""

    def __init__(self, scenario: Scenario) -> None:
        self.seed = np.int64(scenario.seed)
        self.start_us = scenario.start_us
        # a historical range or a calendar is a Poisson process whatever the pattern (uniform
        # spacing cannot follow a calendar); burst still clusters it
        self.pattern = scenario.arrival_pattern
        if (scenario.historical or scenario.calendar_effects) and self.pattern == "uniform":
            self.pattern = "poisson"
        self.scenario = scenario
        self.day0 = np.int64(0)
        self.day_factors = np.empty(0)
        self.end_window = np.int64(-1)
        rate_per_us = scenario.simulated_rate / 1_000_000
        self.period_us = 1.0 / rate_per_us
        target = WINDOW_TARGET / rate_per_us
        fitting = [w for w in WINDOW_LADDER if w <= target]
        self.window_us = fitting[-1] if fitting else WINDOW_LADDER[0]
        self.base_mean = rate_per_us * self.window_us
        self.profile = hour_profile(scenario)
        self.burst_probability = 0.0
        self.burst_high = self.burst_low = 1.0
        if self.pattern == "burst":
            p, intensity = scenario.burst_probability, scenario.burst_intensity
            norm = p * intensity + (1.0 - p)
            self.burst_probability = p
            self.burst_high, self.burst_low = intensity / norm, 1.0 / norm
        #: A real-time stream with the calendar: the day table grows as the stream goes on.
        self.growing = scenario.calendar_effects and not scenario.historical
        if scenario.historical:
            first, last = scenario.start_date, scenario.end_date
            self.day0 = np.int64((first - calendar.EPOCH).days)
            if scenario.calendar_effects:
                self.day_factors = day_factors(first, last, scenario.seed,
                                               scenario.include_holiday_patterns,
                                               scenario.weekend_multiplier)
            assert scenario.end_us is not None and scenario.end_us % self.window_us == 0
            self.end_window = np.int64(scenario.end_us // self.window_us)
        elif self.growing:
            self.day0 = np.int64(self.start_us // US_PER_DAY)
            days = 31.0
            if scenario.total_records:  # enough for the expected span, in one table
                days = max(days, 1.5 * scenario.total_records / scenario.simulated_rate / 86_400)
            self._grow(int(min(days, 36_525.0)) + 2)

    def start(self) -> Position:
        return Position(0, self.start_us // self.window_us, 0)

    def fill(self, position: Position, out: np.ndarray,
             slots: np.ndarray | None = None) -> Position:
        """Write the next ``len(out)`` event times into ``out``; return the position after.

        ``slots`` (int64, same length) receives each event's index inside its window: with the
        window (``time // window_us``) it gives the position after any event (see ``after``).
        A historical range may end first: see :meth:`fill_range`.
        """
        end, filled = self.fill_range(position, out, slots)
        if filled < out.shape[0]:
            msg = f"the range ends after {filled} of {out.shape[0]} events"
            raise ValueError(msg)
        return end

    def fill_range(self, position: Position, out: np.ndarray,
                   slots: np.ndarray | None = None) -> tuple[Position, int]:
        """Like :meth:`fill`, but a historical range may end first: returns the position
        after the last event written and how many were written (fewer only at the end)."""
        n = out.shape[0]
        if slots is None:
            slots = np.empty(n, np.int64)
        if self.pattern == "uniform":
            A.uniform_arrivals(np.int64(self.start_us), self.period_us,
                               np.int64(position.record), out)
            slots[:] = 0
            return Position(position.record + n, 0, 0), n
        window, index = position.window, position.index
        done = 0
        while True:
            table = self.day_factors
            end_window = self.end_window
            if self.growing:  # up to the end of the table, then grow it and go on
                end_window = np.int64((int(self.day0) + table.shape[0]) * US_PER_DAY
                                      // self.window_us)
            window, index, filled = A.arrivals(
                self.seed, np.int64(self.start_us), np.int64(window), np.int64(index),
                out[done:], slots[done:], np.int64(self.window_us), self.base_mean, self.profile,
                self.burst_probability, self.burst_high, self.burst_low, self.day0, table,
                end_window)
            done += int(filled)
            if done == n or not self.growing:
                break
            self._grow(2 * table.shape[0])
        return Position(position.record + done, int(window), int(index)), done

    def _grow(self, days: int) -> None:
        """Extend a real-time calendar's day table to ``days`` days from the first (a day's
        factor depends only on the seed and the day, so growing never changes a record)."""
        s = self.scenario
        first = calendar.EPOCH + dt.timedelta(days=int(self.day0))
        self.day_factors = day_factors(first, first + dt.timedelta(days=days - 1), s.seed,
                                       s.include_holiday_patterns, s.weekend_multiplier)

    def exhausted(self, position: Position) -> bool:
        """True when no event follows ``position`` (only at the end of a historical range)."""
        if self.end_window < 0:
            return False
        _, filled = self.fill_range(position, np.empty(1, np.int64))
        return filled == 0

    def windows(self, times: np.ndarray) -> np.ndarray:
        """The window of each event time (zeros for the uniform pattern, which has none)."""
        if self.pattern == "uniform":
            return np.zeros(times.shape[0], np.int64)
        out: np.ndarray = times // self.window_us
        return out

    def after(self, record: int, window: int, slot: int) -> Position:
        """The position just after record ``record``, the ``slot``-th event of ``window``.

        (The arrival kernel moves on to the next window by itself when ``slot + 1`` is past the
        end of this one.)
        """
        if self.pattern == "uniform":
            return Position(record + 1, 0, 0)
        return Position(record + 1, window, slot + 1)


@functools.lru_cache(maxsize=64)
def day_factors(first: dt.date, last: dt.date, seed: int, include_holiday_patterns: bool,
                weekend_multiplier: float | None) -> np.ndarray:
    """Each day's calendar factor (with its noise) over a historical range, read-only."""
    table = calendar.multipliers(first, last, seed=seed,
                                 include_holiday_patterns=include_holiday_patterns,
                                 weekend_multiplier=weekend_multiplier)
    factors = np.ascontiguousarray(table["factor"].to_numpy(), dtype=np.float64)
    factors.setflags(write=False)
    return factors


@dataclass(frozen=True)
class Block:
    """One block of records: ``frame`` holds records ``first .. end.record - 1``.

    ``times`` are the records' event times (int64 µs) and ``slots`` their indices inside their
    arrival windows: what a stream needs to pace the block and to name a resume point.
    ``last`` is True when a historical range ended inside the block (no records follow).
    """

    first: int
    frame: pl.DataFrame
    end: Position
    times: np.ndarray
    slots: np.ndarray
    last: bool = False
    #: Delivery faults on: the items' SSE id parts (see ``delivery``), ``frame`` holds the
    #: items released by this block in delivery order and ``times`` their delivery times.
    ids: np.ndarray | None = None

    def __len__(self) -> int:
        return self.end.record - self.first


class Engine:
    """Generates a scenario's records as blocks; a reusable, seeded recipe."""

    def __init__(self, scenario: Scenario, generator: BlockGenerator | None = None) -> None:
        self.scenario = scenario
        self.generator = generator or get(scenario.generator)
        self.arrivals = Arrivals(scenario)
        self._prepared: Any = self.generator.prepare(scenario)
        schema = self.generator.schema(scenario)
        faults = Faults(scenario, self.generator, schema)
        self.faults = faults if faults.active else None
        self.drift = drift_.plan(scenario, self.generator)
        self.level_drift = None
        if self.drift.active and not self.generator.drift_targets:
            self.level_drift = drift_.LevelDrift(faults.measured, schema)
        self.drift_column = scenario.drift_column
        #: Records go through a delivery hold-back: late or duplicated ones, or the columns.
        self.delivers = (scenario.late_rate > 0 or scenario.duplicate_rate > 0
                         or scenario.delivery_column)

    def schema(self) -> pl.Schema:
        schema = dict(self.generator.schema(self.scenario))
        schema.update(_timestamp=pl.Datetime("us", "UTC"), _record_id=pl.Int64(),
                      _generator=pl.String())
        if self.drift_column:
            schema["_drift"] = pl.Float64()
        if self.scenario.delivery_column:
            schema["_delivered_at"] = pl.Datetime("us", "UTC")
            schema["_duplicate"] = pl.Boolean()
        return pl.Schema(schema)

    def next_count(self, position: Position, size: int) -> int:
        """Records in the block after ``position``: ``size``, or fewer up to total_records
        (0 when the stream is complete; a historical range's end shows as a short block)."""
        total = self.scenario.total_records
        if total is None:
            return size
        return max(0, min(size, total - position.record))

    def block(self, position: Position, n: int) -> Block:
        """Records ``position.record .. position.record + n - 1`` (fewer, and ``last``, where
        a historical range ends)."""
        times = np.empty(n, np.int64)
        slots = np.empty(n, np.int64)
        end, filled = self.arrivals.fill_range(position, times, slots)
        last = filled < n
        if last:
            n = filled
            times, slots = times[:n].copy(), slots[:n].copy()
        frame = self.generator.fill(self.scenario, self._prepared, position.record, times)
        first = position.record
        intensity = None
        if self.level_drift is not None or self.drift_column:
            intensity = self.drift.intensities(self.scenario.seed, first, times)
        if self.level_drift is not None:
            assert intensity is not None
            frame = self.level_drift.apply(frame, first, intensity)
        if self.faults is not None:
            frame = self.faults.apply(frame, first)
        extra = [pl.Series("_drift", intensity)] if self.drift_column else []
        frame = frame.with_columns(
            pl.Series("_timestamp", times).cast(pl.Datetime("us", "UTC")),
            pl.int_range(first, first + n, dtype=pl.Int64).alias("_record_id"),
            constant_strings("_generator", self.generator.name, n),
            *extra,
        )
        return Block(first, frame, end, times, slots, last)

    def blocks(self, *, batch_size: int, position: Position | None = None,
               limit: int | None = None) -> Iterator[Block]:
        """Blocks of ``batch_size`` records from ``position`` (default: the start).

        ``limit`` is the record number to stop before (default: the scenario's total_records;
        None streams without end, or to the end of a historical range).
        """
        check_batch_size(batch_size)
        pos = position or self.arrivals.start()
        if self.delivers:
            yield from self._delivered(pos, batch_size, limit)
            return
        while True:
            n = self.count(pos, batch_size, limit)
            if n == 0:
                return
            block = self.block(pos, n)
            if len(block):
                yield block
            if block.last:
                return
            pos = block.end

    def deliverer(self, after: tuple[int, int, int] | None = None) -> Any:
        """A hold-back for delivery faults (``delivery.Deliverer``) of this engine's stream."""
        from .delivery import NOTHING, Deliverer

        return Deliverer(self.scenario, windowed=self.arrivals.pattern != "uniform",
                         first_window=self.arrivals.start().window, after=after or NOTHING)

    def count(self, position: Position, size: int, limit: int | None = None) -> int:
        """Records in the next block: ``next_count``, or up to ``limit`` when given."""
        if limit is None:
            return self.next_count(position, size)
        return max(0, min(size, limit - position.record))

    def ends_after(self, block: Block, size: int, limit: int | None = None) -> bool:
        """True when no block follows ``block`` (a range's end, or the record count's)."""
        return block.last or self.count(block.end, size, limit) == 0

    def _delivered(self, pos: Position, batch_size: int,
                   limit: int | None) -> Iterator[Block]:
        """``blocks`` with delivery faults: each block's released items, in delivery order."""
        deliverer = self.deliverer()
        while True:
            n = self.count(pos, batch_size, limit)
            if n == 0:
                return
            block = self.block(pos, n)
            final = self.ends_after(block, batch_size, limit)
            out = deliverer.push(block, pos, final=final)
            if out.frame.height:
                yield Block(block.first, out.frame, block.end, out.times,
                            np.zeros(out.times.shape[0], np.int64), block.last, out.ids)
            if final:
                return
            pos = block.end


def check_batch_size(batch_size: Any) -> int:
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or not (
            1 <= batch_size <= MAX_BATCH):
        raise ConfigError("batch_size", batch_size, f"an integer from 1 to {MAX_BATCH}")
    return batch_size
