"""Lifecycle streams: ``{"lifecycle": true}`` emits the event log in time order (SSE with an
``event:`` line naming the type, NDJSON with ``event_type``), the same events as
``simtom.events`` whatever the blocks, and resumes exactly after any event."""

from __future__ import annotations

import asyncio

import orjson
import polars as pl
import pytest
from _live import parse_sse

import simtom
from simtom.errors import ConfigError
from simtom.serving.budget import MIN_STREAM_MEMORY
from simtom.serving.streams import open_stream

CONFIG = {"seed": 3, "total_records": 300, "paced": False, "lifecycle": True,
          "arrival_pattern": "burst", "rate_per_second": 0.002}


def read_all(stream) -> bytes:
    async def run() -> bytes:
        return b"".join([bytes(c) async for c in stream.chunks()])

    return asyncio.run(run())


@pytest.fixture(scope="module")
def log() -> pl.DataFrame:
    options = {k: v for k, v in CONFIG.items() if k not in ("paced", "lifecycle")}
    return simtom.events("bnpl", **options)


@pytest.fixture(scope="module")
def straight() -> bytes:
    return read_all(open_stream("bnpl", CONFIG, fmt="sse"))


def test_an_sse_lifecycle_stream_is_the_event_log_with_typed_events(
        straight: bytes, log: pl.DataFrame) -> None:
    events, _ = parse_sse([straight])
    assert len(events) == log.height > 300  # every application, and the loans' events
    rows = [orjson.loads(e.data) for e in events]
    assert [e.type for e in events] == [r["event_type"] for r in rows]
    assert [(r["_record_id"], r["_event_index"]) for r in rows] == log.select(
        "_record_id", "_event_index").rows()
    assert {e.type for e in events} >= {"application", "payment", "paid_off"}
    times = [r["_timestamp"] for r in rows]
    assert times == sorted(times)
    assert rows[5] == orjson.loads(log.slice(5, 1).write_ndjson())


def test_an_ndjson_lifecycle_stream_has_the_same_events(log: pl.DataFrame) -> None:
    lines = read_all(open_stream("bnpl", CONFIG, fmt="ndjson")).splitlines()
    assert len(lines) == log.height
    assert [orjson.loads(line)["event_type"] for line in lines] == log["event_type"].to_list()


def test_the_same_bytes_whatever_the_block_size(straight: bytes) -> None:
    # the smallest budget cuts blocks of a few applications
    small = read_all(open_stream("bnpl", CONFIG, fmt="sse", memory=MIN_STREAM_MEMORY))
    assert small == straight


@pytest.mark.parametrize("pattern", ["burst", "uniform"])
def test_a_lifecycle_stream_resumed_after_any_event_equals_the_straight_one(pattern) -> None:
    config = {**CONFIG, "arrival_pattern": pattern}
    straight = read_all(open_stream("bnpl", config, fmt="sse"))
    blocks = straight.split(b"\n\n")[:-1]
    for k in (0, 1, len(blocks) // 3, len(blocks) // 2, len(blocks) - 2):
        last_id = blocks[k].split(b"\n")[0][len(b"id: "):].decode()
        rest = read_all(open_stream("bnpl", config, fmt="sse", last_event_id=last_id))
        assert rest == b"\n\n".join(blocks[k + 1:]) + b"\n\n", k
    end_id = blocks[-1].split(b"\n")[0][len(b"id: "):].decode()
    assert open_stream("bnpl", config, last_event_id=end_id).finished


def test_an_endless_lifecycle_stream_starts_and_resumes() -> None:
    config = {"seed": 5, "paced": False, "lifecycle": True, "rate_per_second": 0.01}
    stream = open_stream("bnpl", config, fmt="sse")
    first, _ = parse_sse([stream.sample(200)])
    assert first and first[0].type == "application"

    async def take(stream, n: int) -> list:
        chunks = []
        seen = 0
        async for chunk in stream.chunks():
            chunks.append(bytes(chunk))
            seen += bytes(chunk).count(b"\n\n")
            if seen >= n:
                break
        return parse_sse(chunks)[0][:n]

    events = asyncio.run(take(open_stream("bnpl", config, fmt="sse"), 400))
    rest = asyncio.run(take(open_stream("bnpl", config, fmt="sse",
                                        last_event_id=events[249].id), 150))
    assert [(e.id, e.data) for e in rest] == [(e.id, e.data) for e in events[250:]]


@pytest.mark.parametrize(("config", "field"), [
    ({"generator_has_none": True}, "lifecycle"),
    ({"late_rate": 0.1}, "late_rate"),
    ({"noise_type": "gaussian", "noise_level": 0.1}, "noise_type"),
    ({"rate_per_second": 1000.0}, "time_compression"),
    ({"start_date": "2025-01-01", "end_date": "2025-12-31", "base_daily_volume": 40_000},
     "base_daily_volume"),
])
def test_bad_lifecycle_streams_are_refused_by_name(config: dict, field: str) -> None:
    name = "bnpl"
    if config.pop("generator_has_none", False):
        name = next(g for g in simtom.available() if g != "bnpl")
    with pytest.raises(ConfigError) as info:
        open_stream(name, {"lifecycle": True, "paced": False, **config})
    assert info.value.field == field


def test_a_fast_lifecycle_fits_with_time_compression() -> None:
    stream = open_stream("bnpl", {"lifecycle": True, "rate_per_second": 1000.0,
                                  "time_compression": 86_400.0, "paced": False})
    assert stream.engine.lifecycle


def test_ids_of_another_kind_are_refused(straight: bytes) -> None:
    events, _ = parse_sse([straight])
    parts = events[3].id.split(".")
    with pytest.raises(ConfigError, match="event index"):
        open_stream("bnpl", CONFIG, last_event_id=".".join([parts[0], "500", *parts[2:]]))
    plain = {k: v for k, v in CONFIG.items() if k != "lifecycle"}
    record_id = parse_sse([open_stream("bnpl", plain, fmt="sse").sample(2)])[0][1].id
    with pytest.raises(ConfigError) as info:  # a record stream's id: another configuration
        open_stream("bnpl", CONFIG, last_event_id=record_id)
    assert info.value.status == 409


def test_a_lifecycle_frame_is_the_event_log() -> None:
    log = simtom.events("bnpl", n=500, seed=4, arrival_pattern="poisson")
    frame = simtom.frame("bnpl", n=500, seed=4, arrival_pattern="poisson", lifecycle=True)
    assert frame.equals(log)
    parts = list(simtom.iter_frames("bnpl", n=500, seed=4, arrival_pattern="poisson",
                                    lifecycle=True, batch_size=37))
    assert pl.concat(parts).equals(log)
    with pytest.raises(ConfigError) as info:
        simtom.events("bnpl", n=5, seed=1, lifecycle=False)
    assert info.value.field == "lifecycle"
