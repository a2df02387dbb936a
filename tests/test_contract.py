"""STYLE.md's contract, over every registered generator (block and record kinds alike):
same seed ⇒ identical; no seed ⇒ different; a stream resumed part-way equals one read straight
through; n records in one block equal the same n in many small blocks; and the Python dicts are
the wire's records.

The registry holds BNPL, the README's block (card_payments) and record (credit_cards)
generators, and the session's test generators (tests/_generators.py).
"""

from __future__ import annotations

import asyncio
from typing import Any

import orjson
import polars as pl
import pytest
from _live import parse_sse

import simtom
from simtom.serving.streams import open_stream

GENERATORS = simtom.available()
N = 300


def test_the_contract_covers_both_kinds() -> None:
    from simtom.engine import registry
    from simtom.engine.records import RecordBlocks

    kinds = {isinstance(registry.get(name), RecordBlocks) for name in GENERATORS}
    assert kinds == {True, False}


def _bytes(stream: Any) -> bytes:
    async def run() -> bytes:
        return b"".join([bytes(c) async for c in stream.chunks()])

    return asyncio.run(run())


@pytest.mark.parametrize("name", GENERATORS)
def test_same_seed_identical(name: str) -> None:
    assert simtom.frame(name, n=N, seed=11).equals(simtom.frame(name, n=N, seed=11))


@pytest.mark.parametrize("name", GENERATORS)
def test_no_seed_differs(name: str) -> None:
    a, b = simtom.frame(name, n=N), simtom.frame(name, n=N)
    assert not a.drop("_timestamp").equals(b.drop("_timestamp"))


@pytest.mark.parametrize("name", GENERATORS)
@pytest.mark.parametrize("pattern", ["uniform", "poisson"])
def test_block_sizes_agree(name: str, pattern: str) -> None:
    whole = simtom.frame(name, n=N, seed=3, arrival_pattern=pattern)
    for size in (1, 7, 128):
        parts = list(simtom.iter_frames(name, n=N, seed=3, arrival_pattern=pattern,
                                        batch_size=size))
        assert pl.concat(parts).equals(whole), size


@pytest.mark.parametrize("name", GENERATORS)
def test_resumed_equals_straight(name: str) -> None:
    config = {"seed": 8, "total_records": N, "paced": False, "arrival_pattern": "burst"}
    straight = _bytes(open_stream(name, config))
    events, _ = parse_sse([straight])
    assert len(events) == N
    for k in (0, 1, 97, N - 2):
        resumed = _bytes(open_stream(name, config, last_event_id=events[k].id))
        rest, _ = parse_sse([resumed])
        assert [(e.id, e.data) for e in rest] == [(e.id, e.data) for e in events[k + 1:]], k


@pytest.mark.parametrize("name", GENERATORS)
def test_dicts_are_the_wire_records(name: str) -> None:
    config = {"seed": 2, "total_records": N, "paced": False}
    ndjson = _bytes(open_stream(name, config, fmt="ndjson"))

    async def dicts() -> list[dict[str, Any]]:
        return [r async for r in simtom.stream(name, n=N, seed=2, paced=False)]

    assert asyncio.run(dicts()) == [orjson.loads(line) for line in ndjson.splitlines()]
