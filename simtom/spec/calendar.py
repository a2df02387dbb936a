"""The calendar volume model of historical mode (shared/BNPL.md, "Calendar volume").

A day's expected volume is ``base_daily_volume`` × day of week × week of month × month × events
× daily noise. Holiday dates come from the ``holidays`` library (its US calendar, public and
unofficial holidays: Thanksgiving, Mother's Day, Halloween, Christmas Eve ...); the shopping
events it lacks derive from its Thanksgiving (Black Friday is the day after, Cyber Monday four
days after, Black Friday week runs from the Wednesday before to Cyber Monday). When several
events apply to a day, the strongest suppressing one wins, else the largest boost.

The daily noise is log-normal with σ 0.1 and mean 1 (``exp(σZ − σ²/2)``), so the expected
volume of a day is exactly the product of its multipliers; ``Z`` is a counter-based draw keyed by
(seed, day), so a day's noise does not depend on the range it is part of.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Iterable

import numpy as np
import polars as pl
from simtom_kernels import rng as R

DAY_OF_WEEK = (1.15, 1.10, 1.05, 1.10, 1.25, 0.85, 0.70)  # Monday .. Sunday
WEEK_OF_MONTH = ((7, 1.15), (14, 0.95), (21, 1.10), (31, 0.90))  # last day of month -> factor
MONTH = (0.75, 0.85, 0.95, 1.00, 1.00, 1.05, 1.05, 1.05, 1.00, 1.05, 1.10, 1.20)
EVENTS = {
    "black_friday": 1.6, "cyber_monday": 1.4, "christmas_day": 0.1, "christmas_eve": 0.3,
    "new_years_day": 0.2, "new_years_eve": 0.4, "thanksgiving": 0.2, "valentines_day": 1.15,
    "mothers_day": 1.2, "fathers_day": 1.1, "halloween": 1.05, "labor_day": 1.05,
    "independence_day": 0.8,
    # periods
    "black_friday_week": 1.3, "christmas_shopping": 1.2, "post_christmas": 1.3,
    "back_to_school": 1.2,
}
#: The ``holidays`` library's (English) names of the days the model uses.
HOLIDAY_NAMES = {
    "Thanksgiving": "thanksgiving", "Thanksgiving Day": "thanksgiving",
    "Christmas Day": "christmas_day", "Christmas Eve": "christmas_eve",
    "New Year's Day": "new_years_day", "New Year's Eve": "new_years_eve",
    "Valentine's Day": "valentines_day", "Mother's Day": "mothers_day",
    "Father's Day": "fathers_day", "Halloween": "halloween", "Labor Day": "labor_day",
    "Independence Day": "independence_day",
}
NOISE_SIGMA = 0.1
#: Counter-based stream of the daily noise.
STREAM_DAILY_NOISE = 201
#: Time of day in historical mode: 70 % from 09 to 18 h, 20 % from 18 to 23 h, 10 % at night,
#: as relative hourly intensities with mean 1.
HOUR_PROFILE = tuple(24 * (0.7 / 9 if 9 <= h < 18 else 0.2 / 5 if 18 <= h < 23 else 0.1 / 10)
                     for h in range(24))
EPOCH = dt.date(1970, 1, 1)


@functools.lru_cache(maxsize=256)
def events_of_year(year: int) -> dict[dt.date, tuple[str, ...]]:
    """Every day of ``year`` with a calendar event, and its events (holidays and periods)."""
    import holidays

    found: dict[dt.date, list[str]] = {}

    def add(day: dt.date, name: str) -> None:
        found.setdefault(day, []).append(name)

    # the year before too: its post-Christmas period runs into this January
    calendar = holidays.country_holidays("US", years=[year - 1, year], observed=False,
                                         categories=("public", "unofficial"), language="en_US")
    thanksgiving: list[dt.date] = []
    for day, names in calendar.items():
        for name in str(names).split("; "):
            event = HOLIDAY_NAMES.get(name)
            if event is not None:
                add(day, event)
                if event == "thanksgiving":
                    thanksgiving.append(day)
    for day in thanksgiving:
        add(day + dt.timedelta(days=1), "black_friday")
        add(day + dt.timedelta(days=4), "cyber_monday")
        for d in _days(day - dt.timedelta(days=1), day + dt.timedelta(days=4)):
            add(d, "black_friday_week")
    for y in (year - 1, year):
        for d in _days(dt.date(y, 12, 1), dt.date(y, 12, 23)):
            add(d, "christmas_shopping")
        for d in _days(dt.date(y, 12, 26), dt.date(y + 1, 1, 2)):
            add(d, "post_christmas")
        for d in _days(dt.date(y, 8, 15), dt.date(y, 9, 15)):
            add(d, "back_to_school")
    return {d: tuple(names) for d, names in sorted(found.items()) if d.year == year}


def _days(first: dt.date, last: dt.date) -> Iterable[dt.date]:
    for k in range((last - first).days + 1):
        yield first + dt.timedelta(days=k)


def event_factor(names: Iterable[str]) -> float:
    """The strongest suppressing event's factor, else the largest boost (1 without events)."""
    factors = [EVENTS[n] for n in names]
    suppressing = [f for f in factors if f < 1.0]
    if suppressing:
        return min(suppressing)
    return max(factors, default=1.0)


def week_of_month(day: dt.date) -> float:
    return next(f for last, f in WEEK_OF_MONTH if day.day <= last)


def multipliers(first: dt.date, last: dt.date, *, seed: int = 0,
                include_holiday_patterns: bool = True,
                weekend_multiplier: float | None = None) -> pl.DataFrame:
    """One row per day of ``first .. last`` (inclusive): each factor, the events, and
    ``expected`` (their product) and ``factor`` (with the day's noise), relative to
    ``base_daily_volume``.

    ``weekend_multiplier`` replaces the Saturday and Sunday factors when given.

    Examples
    --------
    >>> import datetime as dt
    >>> from simtom.spec.calendar import multipliers
    >>> m = multipliers(dt.date(2025, 11, 27), dt.date(2025, 12, 1), seed=1)
    >>> for day, events, expected in m.select("date", "events", "expected").rows()[:2]:
    ...     print(day, events, round(expected, 4))
    2025-11-27 ['thanksgiving', 'black_friday_week'] 0.2178
    2025-11-28 ['black_friday', 'black_friday_week'] 1.98
    """
    days = list(_days(first, last))
    dow = [DAY_OF_WEEK[d.weekday()] for d in days]
    if weekend_multiplier is not None:
        dow = [weekend_multiplier if d.weekday() >= 5 else f for d, f in zip(days, dow)]
    wom = [week_of_month(d) for d in days]
    month = [MONTH[d.month - 1] for d in days]
    events = [list(events_of_year(d.year).get(d, ())) if include_holiday_patterns else []
              for d in days]
    event = [event_factor(e) for e in events]
    expected = np.array(dow) * np.array(wom) * np.array(month) * np.array(event)
    noise = daily_noise(seed, np.array([(d - EPOCH).days for d in days], dtype=np.int64))
    return pl.DataFrame({
        "date": days, "day_of_week": dow, "week_of_month": wom, "month": month,
        "events": pl.Series(events, dtype=pl.List(pl.String)), "event": event,
        "expected": expected, "noise": noise, "factor": expected * noise,
    })


def daily_noise(seed: int, epoch_days: np.ndarray) -> np.ndarray:
    """Mean-1 log-normal noise of each day (keyed by seed and the day, not by the range)."""
    z = np.empty(epoch_days.shape[0])
    R.normal_array(np.int64(seed), np.int64(STREAM_DAILY_NOISE), epoch_days, np.int64(0), z)
    out: np.ndarray = np.exp(NOISE_SIGMA * z - NOISE_SIGMA**2 / 2)
    return out


__all__ = ["DAY_OF_WEEK", "EVENTS", "HOUR_PROFILE", "MONTH", "events_of_year", "multipliers"]
