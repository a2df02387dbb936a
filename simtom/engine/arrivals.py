"""Arrivals: event times in µs from the scenario's traffic pattern, block by block.

Simulated time is cut into fixed windows on the epoch grid; each window's count comes from the
arrival kernel (a Poisson draw from the intensity, or the uniform grid), so any window range can be
generated on its own and a stream can resume from any :class:`~simtom.engine.blocks.Position`.
"""

from __future__ import annotations

import datetime as dt
import functools

import numpy as np
from simtom_kernels import arrivals as A

from simtom.engine.blocks import Position
from simtom.spec import calendar
from simtom.spec.scenario import Scenario

#: Window lengths (µs) that divide one hour, so hour-of-day profiles are constant in a window.
WINDOW_LADDER = tuple(
    int(s * 1_000_000)
    for s in (0.001, 0.002, 0.005, 0.01, 0.02, 0.025, 0.05, 0.1, 0.2, 0.25, 0.5, 1, 2, 3, 4, 5,
              6, 10, 12, 15, 20, 30, 60, 120, 180, 300, 600, 900, 1200, 1800, 3600)
)
#: Expected events per window at the base rate: large enough to amortise a window's overhead,
#: small enough that a block can start mid-window at little cost.
WINDOW_TARGET = 64.0
US_PER_DAY = 86_400_000_000
#: Most days a real-time calendar's first day table covers (it doubles as a stream goes on).
FIRST_TABLE_DAYS = 36_525
#: The last day a calendar has.
LAST_DAY = dt.date(9999, 12, 31)


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
            self._grow(int(min(days, float(FIRST_TABLE_DAYS))) + 2)

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
            if self.day_factors.shape[0] == table.shape[0]:  # the calendar's last day: the end
                break
        return Position(position.record + done, int(window), int(index)), done

    def _grow(self, days: int) -> None:
        """Extend a real-time calendar's day table to ``days`` days from the first (a day's
        factor depends only on the seed and the day, so growing never changes a record)."""
        s = self.scenario
        first = calendar.EPOCH + dt.timedelta(days=int(self.day0))
        days = max(1, min(days, (LAST_DAY - first).days + 1))  # a calendar ends in year 9999
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
