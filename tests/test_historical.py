"""Historical mode: a date range generated with the calendar volume model of BNPL.md.

Statistical tests use fixed seeds; each tolerance is stated in units of the quantity's sampling
error (a day's count is Poisson around its expected volume).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import math
from typing import Any

import httpx
import numpy as np
import polars as pl
import pytest
from _live import live_server, parse_sse

import simtom
from simtom.cli import main
from simtom.engine.arrivals import Arrivals
from simtom.serving.streams import open_stream
from simtom.spec import calendar as C

BASE = 20_000


def daily_counts(first: str, last: str, seed: int, **options: Any) -> tuple[pl.DataFrame,
                                                                           np.ndarray]:
    """Every event time of the range (the arrival kernel alone) and the days' counts joined to
    the calendar's factors."""
    scenario = simtom.scenario("bnpl", seed=seed, start_date=first, end_date=last,
                               base_daily_volume=BASE, **options)
    arrivals = Arrivals(scenario)
    times = np.empty(int(BASE * 1.5 * ((dt.date.fromisoformat(last)
                                        - dt.date.fromisoformat(first)).days + 1)), np.int64)
    _, filled = arrivals.fill_range(arrivals.start(), times)
    times = times[:filled]
    days = pl.Series("date", times // 86_400_000_000).cast(pl.Date)
    counts = days.value_counts().rename({"count": "n"})
    table = C.multipliers(dt.date.fromisoformat(first), dt.date.fromisoformat(last), seed=seed,
                          include_holiday_patterns=options.get("include_holiday_patterns", True),
                          weekend_multiplier=options.get("weekend_multiplier"))
    joined = table.join(counts, on="date", how="left").with_columns(pl.col("n").fill_null(0))
    return joined, times


def test_daily_counts_follow_the_calendar() -> None:
    table, times = daily_counts("2024-01-01", "2024-12-31", seed=3)
    expected = BASE * table["factor"].to_numpy()
    z = (table["n"].to_numpy() - expected) / np.sqrt(expected)
    # 366 Poisson days: z has mean 0 (se 0.052) and sd 1 (se ~0.04)
    assert abs(z.mean()) < 0.2 and 0.85 < z.std() < 1.15
    assert times[0] >= 1_704_067_200_000_000 and times[-1] < 1_735_689_600_000_000
    assert np.all(np.diff(times) >= 0)


def test_named_days_and_factors() -> None:
    table, _ = daily_counts("2024-11-01", "2024-12-31", seed=4)
    by_day = {row["date"]: row for row in table.iter_rows(named=True)}
    # 2024: Thanksgiving Nov 28 (from the holidays library), Black Friday the 29th
    friday = by_day[dt.date(2024, 11, 29)]
    assert "black_friday" in friday["events"] and friday["event"] == 1.6
    assert by_day[dt.date(2024, 11, 28)]["event"] == 0.2  # Thanksgiving suppresses its week
    assert by_day[dt.date(2024, 12, 2)]["event"] == 1.4  # Cyber Monday
    assert by_day[dt.date(2024, 12, 25)]["event"] == 0.1
    for day in (dt.date(2024, 11, 29), dt.date(2024, 12, 25), dt.date(2024, 11, 28)):
        row = by_day[day]
        lam = BASE * row["factor"]
        assert abs(row["n"] - lam) < 5 * math.sqrt(lam)  # within 5 sampling errors
    # Black Friday's volume over Christmas Day's: 1.6 × Fri 1.25 × wk5 0.90 / (0.1 × Wed 1.05 ×
    # wk4 0.90 × Dec/Nov 1.2/1.1), times the days' noise; far more than any noise explains
    ratio = by_day[dt.date(2024, 11, 29)]["n"] / by_day[dt.date(2024, 12, 25)]["n"]
    assert 12 < ratio < 30


def test_weekdays_months_and_paycheck_weeks() -> None:
    """Each factor recovered from the counts: total count over total expected-without-it."""
    table, _ = daily_counts("2023-01-01", "2024-12-31", seed=5, include_holiday_patterns=False)
    table = table.with_columns(
        weekday=pl.col("date").dt.weekday() - 1, month_no=pl.col("date").dt.month(),
        lam=BASE * pl.col("factor"))

    def recovered(key: str, factor: str) -> dict[int, float]:
        grouped = table.group_by(key).agg(
            (pl.col("n").sum() / (pl.col("lam") / pl.col(factor)).sum()).alias("r"))
        return dict(grouped.iter_rows())

    # each weekday has ~104 days x ~20k records: the Poisson error is ~0.1 %, the daily noise
    # (sd 10 % per day) puts ~1 % on a 104-day mean
    for weekday, r in recovered("weekday", "day_of_week").items():
        assert r == pytest.approx(C.DAY_OF_WEEK[weekday], rel=0.04)
    for month, r in recovered("month_no", "month").items():
        assert r == pytest.approx(C.MONTH[month - 1], rel=0.06)  # ~60 days: ~1.3 % noise
    weeks = table.with_columns(week=pl.col("date").dt.day().clip(1, 31))
    paycheck = weeks.filter(pl.col("week") <= 7)["n"].sum() / weeks.filter(
        (pl.col("week") > 7) & (pl.col("week") <= 14))["n"].sum()
    assert paycheck == pytest.approx(1.15 / 0.95, rel=0.05)


def test_weekend_multiplier_and_holidays_switch() -> None:
    table = C.multipliers(dt.date(2025, 12, 20), dt.date(2025, 12, 28), weekend_multiplier=0.5,
                          include_holiday_patterns=False)
    weekend = table.filter(pl.col("date").dt.weekday() >= 6)
    assert set(weekend["day_of_week"]) == {0.5} and set(table["event"]) == {1.0}


def test_hour_of_day_profile() -> None:
    _, times = daily_counts("2024-03-01", "2024-03-31", seed=6)
    hours = (times // 3_600_000_000) % 24
    shares = [np.mean((hours >= 9) & (hours < 18)), np.mean((hours >= 18) & (hours < 23))]
    # 620k events: shares' se ~0.0006
    assert shares[0] == pytest.approx(0.70, abs=0.005)
    assert shares[1] == pytest.approx(0.20, abs=0.005)


def test_several_years() -> None:
    table, times = daily_counts("2021-06-01", "2026-05-31", seed=7)
    assert len(table) == 1826 and table["n"].min() > 0
    fridays = table.filter(pl.col("events").list.contains("black_friday"))["date"].to_list()
    assert fridays == [dt.date(2021, 11, 26), dt.date(2022, 11, 25), dt.date(2023, 11, 24),
                       dt.date(2024, 11, 29), dt.date(2025, 11, 28)]
    total, expected = table["n"].sum(), BASE * table["factor"].sum()
    assert abs(total - expected) < 5 * math.sqrt(expected)
    assert times[-1] < 1_780_272_000_000_000  # before 2026-06-01


# --- configuration -----------------------------------------------------------------------------


def test_a_range_sets_start_rate_and_pace() -> None:
    s = simtom.scenario("bnpl", start_date="2024-01-01", end_date=dt.date(2024, 1, 31),
                        base_daily_volume=2000)
    assert s.start == dt.datetime(2024, 1, 1, tzinfo=dt.timezone.utc)
    assert s.end_us == 1_706_745_600_000_000  # 2024-02-01T00:00Z
    assert s.time_compression == 86_400.0  # one simulated day per wall second
    assert s.rate_per_second == 2000.0 and s.simulated_rate == pytest.approx(2000 / 86_400)
    fast = simtom.scenario("bnpl", start_date="2024-01-01", end_date="2024-01-02",
                           rate_per_second=100.0)
    assert fast.time_compression == pytest.approx(100 * 86_400 / 1000)


@pytest.mark.parametrize(("options", "field"), [
    ({"start_date": "2024-01-02"}, "end_date"),
    ({"end_date": "2024-01-02"}, "start_date"),
    ({"start_date": "2024-02-01", "end_date": "2024-01-01"}, "end_date"),
    ({"start_date": "2024-01-01T10:00:00Z", "end_date": "2024-01-02"}, "start_date"),
    ({"start_date": "01/02/2024", "end_date": "2024-01-02"}, "start_date"),
    ({"start_date": "2024-01-01", "end_date": "2024-01-02", "start_time": "2024-01-01"},
     "start_time"),
    ({"start_date": "2024-01-01", "end_date": "2024-01-02", "rate_per_second": 5,
      "time_compression": 3}, "rate_per_second"),
    ({"base_daily_volume": 5000}, "base_daily_volume"),
    ({"weekend_multiplier": 0.5}, "weekend_multiplier"),
    ({"include_holiday_patterns": False}, "include_holiday_patterns"),
])
def test_range_errors_name_the_field(options: dict[str, Any], field: str) -> None:
    with pytest.raises(simtom.ConfigError) as info:
        simtom.scenario("bnpl", n=10, **options)
    assert info.value.field == field, str(info.value)


def test_total_records_caps_a_range() -> None:
    df = simtom.frame("bnpl", n=50, seed=1, start_date="2024-01-01", end_date="2024-01-31")
    assert len(df) == 50


# --- frames, streams, CLI ------------------------------------------------------------------------

RANGE = {"start_date": "2024-12-23", "end_date": "2024-12-27", "base_daily_volume": 300}


def test_frames_are_the_range() -> None:
    df = simtom.frame("bnpl", seed=9, **RANGE)
    counts = df.group_by(pl.col("_timestamp").dt.date()).len().sort("_timestamp")["len"]
    assert counts.len() == 5 and counts[2] < counts[0] / 3  # Christmas Day
    assert df["_record_id"].to_list() == list(range(len(df)))
    first, end = dt.datetime(2024, 12, 23, tzinfo=dt.timezone.utc), \
        dt.datetime(2024, 12, 28, tzinfo=dt.timezone.utc)
    assert df["_timestamp"].min() >= first and df["_timestamp"].max() < end
    for size in (1, 97, 4096):
        parts = list(simtom.iter_frames("bnpl", seed=9, batch_size=size, **RANGE))
        assert pl.concat(parts).equals(df), size
    assert simtom.frame("credit_cards", seed=9, **RANGE).height == len(df)  # same arrivals


def _bytes(stream: Any) -> bytes:
    async def run() -> bytes:
        return b"".join([bytes(c) async for c in stream.chunks()])

    return asyncio.run(run())


def test_streams_end_with_the_range_and_resume_to_204() -> None:
    config = {**RANGE, "seed": 9, "paced": False}
    df = simtom.frame("bnpl", seed=9, **RANGE)
    events, _ = parse_sse([_bytes(open_stream("bnpl", config))])
    assert len(events) == len(df)
    rest, _ = parse_sse([_bytes(open_stream("bnpl", config, last_event_id=events[100].id))])
    assert [e.data for e in rest] == [e.data for e in events[101:]]
    assert open_stream("bnpl", config, last_event_id=events[-1].id).finished
    with live_server() as url:
        r = httpx.get(f"{url}/stream/bnpl", params={**config, "paced": "false"},
                      headers={"Last-Event-ID": events[-1].id})
    assert r.status_code == 204


def test_paced_range_goes_a_day_per_tick_of_compression() -> None:
    # 5 days at 100 simulated days per wall second: about 0.05 s of wall time
    async def run() -> list[dict[str, Any]]:
        stream = simtom.stream("bnpl", seed=9, time_compression=8_640_000.0, **RANGE)
        return [r async for r in stream]

    records = asyncio.run(run())
    assert len(records) == len(simtom.frame("bnpl", seed=9, **RANGE))
    assert records[0]["_timestamp"].startswith("2024-12-23")


def test_the_original_api_takes_a_range() -> None:
    from simtom.generators.ecommerce.bnpl import BNPLConfig, BNPLGenerator

    gen = BNPLGenerator(BNPLConfig(seed=9, **RANGE))
    assert gen.frame().equals(simtom.frame("bnpl", seed=9, **RANGE))
    assert gen.config.start_date == dt.date(2024, 12, 23)
    assert gen.config.model_dump(mode="json")["end_date"] == "2024-12-27"
    assert BNPLConfig(**gen.config.model_dump()) == gen.config  # derived rates round-trip


def test_cli_generates_a_range(tmp_path: Any) -> None:
    out = tmp_path / "range.parquet"
    assert main(["generate", "bnpl", "--start-date", "2024-12-23", "--end-date", "2024-12-27",
                 "--daily-volume", "300", "--seed", "9", "-o", str(out), "--quiet"]) == 0
    assert pl.read_parquet(out).equals(simtom.frame("bnpl", seed=9, **RANGE))


# --- the calendar in real time (opt-in) and a range without it ------------------------------

def realtime_daily(seed: int, rate: float, days: int, batch: int,
                   **options: Any) -> tuple[pl.DataFrame, np.ndarray]:
    """An endless real-time stream with the calendar, read block by block for ``days`` days
    from 2025-11-01: its daily counts joined to the calendar's factors, and every event time."""
    from simtom.engine.engine import Engine
    from simtom.engine.registry import get
    from simtom.spec.scenario import make_scenario

    config = dict(seed=seed, rate_per_second=rate, calendar_effects=True,
                  start_time="2025-11-01T00:00:00Z", **options)
    scenario = make_scenario("bnpl", config, get("bnpl").options)  # endless
    engine = Engine(scenario)
    end = int(rate * 86_400 * days * 1.5)
    times = np.concatenate([b.times for b in engine.blocks(batch_size=batch, limit=end)])
    times = times[times < scenario.start_us + days * 86_400_000_000]
    counts = pl.Series("date", times // 86_400_000_000).cast(pl.Date).value_counts()
    first = dt.date(2025, 11, 1)
    table = C.multipliers(first, first + dt.timedelta(days=days - 1), seed=seed,
                          include_holiday_patterns=options.get("include_holiday_patterns", True),
                          weekend_multiplier=options.get("weekend_multiplier"))
    return table.join(counts, on="date", how="left").with_columns(pl.col("count").fill_null(0)), \
        times


def test_realtime_calendar_scales_each_day_and_grows_its_table() -> None:
    """100 days of an endless stream: past the first 31-day table, so it grows (twice); the
    days' counts are Poisson around rate x 86,400 x factor, z within sampling error; and the
    table's growth does not depend on the block size."""
    rate = 0.02  # 1,728 on a plain day
    table, times = realtime_daily(9, rate, 100, 4_096)
    expected = rate * 86_400 * table["factor"].to_numpy()
    z = (table["count"].to_numpy() - expected) / np.sqrt(expected)
    assert abs(z.mean()) < 0.4 and 0.75 < z.std() < 1.25  # 100 days: se 0.1 and ~0.07
    thanksgiving = table.filter(pl.col("date") == dt.date(2025, 11, 27))
    black_friday = table.filter(pl.col("date") == dt.date(2025, 11, 28))
    assert black_friday["count"][0] > 5 * thanksgiving["count"][0]
    _, again = realtime_daily(9, rate, 100, 777)
    assert np.array_equal(times, again)


def test_realtime_rate_is_plain_without_the_calendar() -> None:
    df = simtom.frame("bnpl", n=20_000, seed=2, arrival_pattern="poisson", rate_per_second=0.1,
                      start_time="2025-11-27T00:00:00Z")  # Thanksgiving: no 0.2 factor
    first_day = df.filter(pl.col("_timestamp").dt.date() == dt.date(2025, 11, 27)).height
    assert abs(first_day - 8_640) < 4 * math.sqrt(8_640)


def test_a_range_without_the_calendar_is_flat() -> None:
    df = simtom.frame("bnpl", seed=3, start_date="2025-11-26", end_date="2025-11-30",
                      base_daily_volume=4_000, calendar_effects=False)
    counts = df.group_by(pl.col("_timestamp").dt.date()).len()["len"].to_numpy().astype(int)
    assert len(counts) == 5 and np.all(np.abs(counts - 4_000) < 4 * math.sqrt(4_000))


@pytest.mark.parametrize(("options", "field"), [
    ({"weekend_multiplier": 0.5, "calendar_effects": False}, "weekend_multiplier"),
    ({"base_daily_volume": 100, "calendar_effects": True}, "base_daily_volume"),
    ({"calendar_effects": "yes"}, "calendar_effects"),
])
def test_calendar_errors(options: dict[str, Any], field: str) -> None:
    with pytest.raises(simtom.ConfigError) as info:
        simtom.scenario("bnpl", n=10, **options)
    assert info.value.field == field
