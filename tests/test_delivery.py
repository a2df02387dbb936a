"""Delivery faults: late (out-of-order) and duplicated records, in every interface.

Shares are checked within 4 binomial standard errors (fixed seeds); delays against their
uniform distribution's mean within 4 standard errors.
"""

from __future__ import annotations

import asyncio
import json
import math
import subprocess
import sys

import httpx
import numpy as np
import polars as pl
import pytest
from _live import live_server, parse_sse

import simtom
import simtom.outputs.batching

N = 40_000
OPTS = dict(seed=4, late_rate=0.1, duplicate_rate=0.05, late_delay=30.0, delivery_column=True,
            arrival_pattern="poisson", rate_per_second=20.0)


@pytest.fixture(scope="module")
def delivered() -> pl.DataFrame:
    return simtom.frame("bnpl", n=N, **OPTS)


@pytest.fixture(scope="module")
def clean() -> pl.DataFrame:
    return simtom.frame("bnpl", n=N, seed=4, arrival_pattern="poisson", rate_per_second=20.0)


def within(share: float, p: float, n: int) -> bool:
    return abs(share - p) < 4 * math.sqrt(p * (1 - p) / n)


def test_shares_delays_and_order(delivered: pl.DataFrame) -> None:
    copies = delivered.filter(pl.col("_duplicate"))
    originals = delivered.filter(~pl.col("_duplicate"))
    assert originals.height == N and originals["_record_id"].n_unique() == N
    assert within(copies.height / N, 0.05, N)
    assert copies["_record_id"].is_in(originals["_record_id"].implode()).all()
    delay = (originals["_delivered_at"] - originals["_timestamp"]).dt.total_microseconds()
    late = delay.to_numpy() > 0
    assert within(late.mean(), 0.1, N)
    d = delay.to_numpy()[late] / 1e6
    assert d.min() > 0 and d.max() <= 30.0
    assert abs(d.mean() - 15.0) < 4 * 30.0 / math.sqrt(12 * d.size)  # uniform on (0, 30]
    copy_delay = (copies["_delivered_at"] - copies["_timestamp"]).dt.total_seconds(
        fractional=True).to_numpy()
    assert copy_delay.min() > 0 and copy_delay.max() <= 30.0
    # delivery order: by delivery time; so late records come after later events
    assert delivered["_delivered_at"].is_sorted()
    assert not delivered["_timestamp"].is_sorted()


def test_every_other_field_is_the_clean_runs(delivered: pl.DataFrame,
                                             clean: pl.DataFrame) -> None:
    originals = delivered.filter(~pl.col("_duplicate")).sort("_record_id")
    assert originals.drop("_delivered_at", "_duplicate").equals(clean)
    copies = delivered.filter(pl.col("_duplicate"))
    firsts = clean.filter(pl.col("_record_id").is_in(copies["_record_id"].implode()))
    assert copies.sort("_record_id").drop("_delivered_at", "_duplicate").equals(firsts)


def test_without_the_columns_duplicates_are_byte_identical() -> None:
    df = simtom.frame("bnpl", n=5_000, **{**OPTS, "delivery_column": False})
    assert "_delivered_at" not in df.columns
    assert df.height - df.unique(maintain_order=True).height == df.height - 5_000 > 150


def test_block_size_and_interfaces_agree(delivered: pl.DataFrame) -> None:
    parts = list(simtom.iter_frames("bnpl", n=N, batch_size=4_096, **OPTS))
    assert [p.height for p in parts[:-1]] == [4_096] * (len(parts) - 1)
    assert pl.concat(parts).equals(delivered)
    small = pl.concat(simtom.iter_frames("bnpl", n=N, batch_size=333, **OPTS))
    assert small.equals(delivered)

    async def records() -> list[dict[str, object]]:
        return [r async for r in simtom.stream("bnpl", n=3_000, paced=False, **OPTS)]

    got = asyncio.run(records())
    head = simtom.frame("bnpl", n=3_000, **OPTS)
    assert [r["transaction_id"] for r in got] == head["transaction_id"].to_list()
    assert [r["_duplicate"] for r in got] == head["_duplicate"].to_list()


def test_sse_resume_continues_exactly(monkeypatch: pytest.MonkeyPatch) -> None:
    """Blocks of 300 records (so ids name many rebuild positions, not just the start), cut
    at the first items, mid-block, across blocks and next to the end."""
    import simtom.serving.streams

    monkeypatch.setattr(simtom.outputs.batching, "UNPACED_BATCH", 300)
    body = {**OPTS, "total_records": 2_000, "paced": False}
    with live_server() as url:
        straight = httpx.post(f"{url}/stream/bnpl", json=body, timeout=60)
        events, _ = parse_sse([straight.content])
        assert len(events) > 2_000
        rebuild_from = {int(e.id.split(".")[3]) for e in events}
        assert len(rebuild_from) >= 4 and max(rebuild_from) >= 900
        tails = {}
        for cut in (0, 1, 333, 1_000, 1_500, len(events) - 2):
            r = httpx.post(f"{url}/stream/bnpl", json=body, timeout=60,
                           headers={"Last-Event-ID": events[cut].id})
            tails[cut] = [e.data for e in parse_sse([r.content])[0]]
        done = httpx.post(f"{url}/stream/bnpl", json=body, timeout=60,
                          headers={"Last-Event-ID": events[-1].id})
        other = httpx.post(f"{url}/stream/bnpl", json={**body, "late_rate": 0.2}, timeout=60,
                           headers={"Last-Event-ID": events[5].id})
        plain_id = httpx.post(f"{url}/stream/bnpl", json={**body, "late_rate": 0.0,
                                                            "duplicate_rate": 0.0,
                                                            "late_delay": None,
                                                            "delivery_column": False},
                              timeout=60, headers={"Last-Event-ID": events[5].id})
        nd = httpx.post(f"{url}/stream/bnpl?format=ndjson", json=body, timeout=60)
    for cut, tail in tails.items():
        assert tail == [e.data for e in events[cut + 1:]], cut
    assert done.status_code == 204
    assert other.status_code == 409 and plain_id.status_code == 409
    assert [json.loads(line) for line in nd.text.splitlines()] == [
        json.loads(e.data) for e in events]


def test_paced_streams_follow_delivery_time() -> None:
    """Paced at 100 simulated seconds per wall second (a record 20 s late is due 0.2 s after
    its event): the paced stream goes out in delivery order, the unpaced frame's order."""
    body = {"total_records": 200, "seed": 1, "late_rate": 0.3, "late_delay": 20.0,
            "rate_per_second": 1_000.0, "time_compression": 100.0, "delivery_column": True,
            "start_time": "2025-01-01T00:00:00Z"}

    async def run() -> list[dict[str, object]]:
        return [r async for r in simtom.stream("bnpl", paced=True, **body)]

    got = asyncio.run(run())
    unpaced = simtom.frame("bnpl", n=200, **{k: v for k, v in body.items()
                                              if k != "total_records"})
    assert [r["_record_id"] for r in got] == unpaced["_record_id"].to_list()


@pytest.mark.parametrize(("options", "field"), [
    ({"late_delay": 10}, "late_delay"),  # without late or duplicate records: ignored
    ({"late_rate": 1.5}, "late_rate"),
    ({"duplicate_rate": -0.1}, "duplicate_rate"),
    ({"late_rate": 0.1, "late_delay": 0}, "late_delay"),
    # 10,000 records/s x a week x 0.5: far more held back than memory allows
    ({"late_rate": 0.5, "late_delay": 600_000, "rate_per_second": 10_000.0}, "late_delay"),
])
def test_errors_name_the_field(options: dict[str, object], field: str) -> None:
    with pytest.raises(simtom.ConfigError) as info:
        simtom.frame("bnpl", n=10, **options)
    assert info.value.field == field


def test_record_generators_historical_ranges_and_files(tmp_path) -> None:
    cards = simtom.frame("credit_cards", n=500, seed=3, duplicate_rate=0.2, late_rate=0.2)
    assert cards.height > 550 and cards["_record_id"].n_unique() == 500
    days = simtom.frame("bnpl", seed=2, start_date="2024-12-30", end_date="2024-12-31",
                        base_daily_volume=500, late_rate=0.5, late_delay=3_600.0,
                        delivery_column=True)
    assert days["_timestamp"].max() < days["_delivered_at"].max()  # late past the range's end
    assert days.filter(~pl.col("_duplicate"))["_record_id"].sort().to_list() == list(
        range(days.height))
    out = tmp_path / "late.csv"
    run = subprocess.run([sys.executable, "-m", "simtom.cli", "generate", "bnpl", "-n", "3000",
                          "-o", str(out), "--seed", "4", "--pattern", "poisson", "--rate", "20",
                          "--set", "late_rate=0.1", "--set", "duplicate_rate=0.05",
                          "--set", "late_delay=30", "--set", "delivery_column=true", "-q"],
                         capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    written = pl.read_csv(out)
    expected = simtom.frame("bnpl", n=3_000, **OPTS)
    assert written["transaction_id"].to_list() == expected["transaction_id"].to_list()
    assert np.array_equal(written["_duplicate"].to_numpy(), expected["_duplicate"].to_numpy())


def test_the_hold_back_stays_bounded() -> None:
    """An endless stream, 300 blocks: what waits is about rate x late_delay x (late + duplicate
    rates) items (here 20/s x 30 s x 0.15 = 90; bound 4x), and only their blocks' starts."""
    from simtom.engine.engine import Engine
    from simtom.engine.registry import get
    from simtom.spec.scenario import make_scenario

    config = {k: v for k, v in OPTS.items() if k != "delivery_column"}
    engine = Engine(make_scenario("bnpl", config, get("bnpl").options))
    deliverer = engine.deliverer()
    position = engine.arrivals.start()
    most_held = most_starts = released = 0
    for _ in range(300):
        block = engine.block(position, 500)
        released += deliverer.push(block, position, final=False).frame.height
        held = 0 if deliverer.held is None else deliverer.held.height
        most_held = max(most_held, held)
        most_starts = max(most_starts, len(deliverer.starts))
        position = block.end
    assert released > 150_000 and most_held < 4 * 90
    assert most_starts <= 3  # 500 records span 25 s: items wait at most 30 s
