"""Record generators: the original's per-record interface, run by the engine."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import polars as pl
import pytest
from _live import live_server

import simtom
from simtom.core.generator import BaseGenerator, register_generator
from simtom.core.registry import PluginRegistry
from simtom.engine.records import PROBE, RecordError


@pytest.fixture
def registered() -> Iterator[list[str]]:
    """Names registered by a test, unregistered after it."""
    names: list[str] = []
    yield names
    for name in names:
        PluginRegistry.unregister(name)


def define(names: list[str], name: str, body: Any, **attrs: Any) -> type[BaseGenerator]:
    cls = type(name.title(), (BaseGenerator,), {"generate_record": body, **attrs})
    register_generator(name)(cls)
    names.append(name)
    return cls


def test_the_generator_sees_its_record(registered: list[str]) -> None:
    async def body(self: BaseGenerator) -> dict[str, Any]:
        return {"k": self.record_id, "count": self._records_generated,
                "at": self.timestamp.isoformat(), "rate": self.config.rate_per_second}

    define(registered, "seeing", body)
    df = simtom.frame("seeing", n=5, seed=1, rate_per_second=2.0)
    assert df["k"].to_list() == df["count"].to_list() == [0, 1, 2, 3, 4]
    stamps = [t.isoformat() for t in df["_timestamp"].to_list()]
    assert df["at"].to_list() == stamps  # self.timestamp is the record's simulated time
    assert df["rate"].to_list() == [2.0] * 5


def test_rng_depends_on_seed_and_record_only(registered: list[str]) -> None:
    async def body(self: BaseGenerator) -> dict[str, Any]:
        # a varying number of draws per record must not shift later records
        draws = [self.rng.random() for _ in range(self.record_id % 3 + 1)]
        return {"first": draws[0], "n": len(draws)}

    define(registered, "drawing", body)
    straight = simtom.frame("drawing", n=300, seed=5)
    in_blocks = pl.concat(simtom.iter_frames("drawing", n=300, seed=5, batch_size=7))
    assert straight.equals(in_blocks)
    assert not straight.equals(simtom.frame("drawing", n=300, seed=6))
    assert straight["first"].n_unique() == 300


def test_inferred_columns_convert_objects(registered: list[str]) -> None:
    async def body(self: BaseGenerator) -> dict[str, Any]:
        return {"id": uuid.UUID(int=self.record_id), "when": dt.date(2024, 1, 1),
                "_record_id": -1, "nested": {"a": self.record_id}}

    define(registered, "objects", body)
    df = simtom.frame("objects", n=3, seed=0)
    assert df.schema["id"] == pl.String and df["id"][1] == str(uuid.UUID(int=1))
    assert df["_record_id"].to_list() == [0, 1, 2]  # the engine's fields win
    assert df["nested"].struct.field("a").to_list() == [0, 1, 2]
    records = asyncio.run(_collect(simtom.stream("objects", n=2, seed=0, paced=False)))
    assert records[1] == {"id": str(uuid.UUID(int=1)), "when": "2024-01-01",
                          "nested": {"a": 1}, "_timestamp": "2025-01-01T00:00:01.000000+00:00",
                          "_record_id": 1, "_generator": "objects"}


async def _collect(stream: Any) -> list[Any]:
    return [r async for r in stream]


def test_a_field_missing_from_some_records_is_null(registered: list[str]) -> None:
    async def body(self: BaseGenerator) -> dict[str, Any]:
        out: dict[str, Any] = {"k": self.record_id}
        if self.record_id % 2:
            out["odd"] = True
        return out

    define(registered, "sparse", body)
    assert simtom.frame("sparse", n=4, seed=0)["odd"].to_list() == [None, True, None, True]


def test_a_field_after_the_probe_is_a_clear_error(registered: list[str]) -> None:
    async def body(self: BaseGenerator) -> dict[str, Any]:
        out: dict[str, Any] = {"k": self.record_id}
        if self.record_id == PROBE + 10:
            out["late"] = 1
        return out

    define(registered, "late_field", body)
    with pytest.raises(RecordError, match=rf"record {PROBE + 10} has field 'late'.*schema"):
        simtom.frame("late_field", n=PROBE + 20, seed=0)


def test_a_value_of_another_type_is_a_clear_error(registered: list[str]) -> None:
    async def body(self: BaseGenerator) -> dict[str, Any]:
        return {"x": 1 if self.record_id < 300 else "many"}

    define(registered, "mixed", body)
    with pytest.raises(RecordError, match=r"record 300: x: got 'many' \(str\).*Int64"):
        simtom.frame("mixed", n=400, seed=0)


def test_declared_schema_is_used(registered: list[str]) -> None:
    async def body(self: BaseGenerator) -> dict[str, Any]:
        return {"x": 1, "y": None}

    define(registered, "declared", body, schema={"x": pl.Float64, "y": pl.String})
    df = simtom.frame("declared", n=2, seed=0)
    assert df.schema["x"] == pl.Float64 and df.schema["y"] == pl.String


@pytest.mark.parametrize(("result", "match"), [
    (["not", "a", "dict"], "returned list"),
    (ZeroDivisionError("boom"), "raised ZeroDivisionError: boom"),
])
def test_bad_results_name_the_generator_and_record(registered: list[str], result: Any,
                                                   match: str) -> None:
    async def body(self: BaseGenerator) -> Any:
        if self.record_id == 2:
            if isinstance(result, Exception):
                raise result
            return result
        return {"k": 1}

    define(registered, "faulty", body)
    with pytest.raises(RecordError, match=rf"generator 'faulty'.*{match}") as info:
        simtom.frame("faulty", n=5, seed=0)
    assert "record 2" in str(info.value)


def test_a_broken_generator_is_a_json_500_not_a_traceback(registered: list[str]) -> None:
    async def body(self: BaseGenerator) -> dict[str, Any]:
        return {"x": 1 / 0}

    define(registered, "broken", body)
    with live_server() as url:
        r = httpx.post(f"{url}/stream/broken", json={"total_records": 3})
        health = httpx.get(f"{url}/").json()
    assert r.status_code == 500
    assert r.json()["error"] == "RecordError"
    assert "ZeroDivisionError" in r.json()["detail"]
    assert health["status"] == "healthy"


def test_awaiting_and_plain_generators() -> None:
    """(registered for the session in tests/_generators.py)"""
    a = simtom.frame("test_awaiting", n=50, seed=1, channel="app", basket_mean=5.0)
    assert set(a["channel"]) == {"app"} and a["items"].min() >= 1
    assert a.equals(simtom.frame("test_awaiting", n=50, seed=1, channel="app",
                                 basket_mean=5.0))
    with pytest.raises(simtom.ConfigError, match="channel"):
        simtom.frame("test_awaiting", n=1, channel="phone")
    plain = simtom.frame("test_plain", n=2000, seed=1)
    assert plain.schema["spike"] == pl.Float64 and 0 < plain["spike"].is_not_null().sum() < 60


def test_record_generators_stream_over_http() -> None:
    with live_server() as url:
        listed = {g["name"]: g for g in httpx.get(f"{url}/generators").json()}
        schema = listed["test_awaiting"]["config_schema"]["properties"]
        assert schema["channel"]["enum"] == ["web", "app"]
        assert schema["coupon"]["type"] == ["string", "null"]
        r = httpx.post(f"{url}/stream/credit_cards?format=ndjson",
                       json={"total_records": 5, "paced": False, "seed": 3})
    lines = r.content.splitlines()
    assert r.status_code == 200 and len(lines) == 5
    expected = simtom.frame("credit_cards", n=5, seed=3)["card_number"].to_list()
    assert [json.loads(line)["card_number"] for line in lines] == expected
