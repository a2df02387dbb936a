"""Async streams in Python: a scenario's records as dicts or as DataFrames, paced or not.

``simtom.stream`` (and ``BaseGenerator.stream``) yields plain dicts of JSON values: each holds
exactly what the record's line of the NDJSON stream of the same configuration parses to, so the
Python API, the HTTP API and ``simtom stream`` agree. Blocks are generated in a worker thread
while the previous one is converted: a Numba kernel writes each chunk of records as a pickle,
and ``pickle.loads`` makes the chunk's dicts in C (see ``dicts.py``).
``simtom.stream_frames`` yields DataFrames: whole blocks unpaced, or, paced, the slice of a
block that falls due at each tick of the pacer.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import numpy as np
import polars as pl

from simtom.engine.blocks import Block, Position, check_batch_size
from simtom.engine.engine import Engine
from simtom.engine.records import RecordBlocks
from simtom.errors import ConfigError
from simtom.outputs.batching import batch_size as stream_batch
from simtom.outputs.dicts import CHUNK, DictMaker
from simtom.outputs.frames import _scenario
from simtom.outputs.pacer import Stopper, pace, tick_for


async def records(engine: Engine, *, paced: bool,
                  stopper: Stopper | None = None) -> AsyncIterator[dict[str, Any]]:
    """The engine's records as dicts, paced or as fast as they are read.

    Each dict holds the values of the record's NDJSON line (see :class:`~simtom.dicts.DictMaker`);
    frames are converted :data:`~simtom.dicts.CHUNK` rows at a time.
    """
    maker = DictMaker(engine.schema())
    frames_ = frames(engine, paced=paced, stopper=stopper)
    try:
        async for frame in frames_:
            for chunk in maker.chunks(frame, CHUNK):
                for record in chunk:
                    yield record
    finally:
        await frames_.aclose()  # type: ignore[attr-defined]


async def frames(engine: Engine, *, paced: bool, batch_size: int | None = None,
                 stopper: Stopper | None = None) -> AsyncIterator[pl.DataFrame]:
    """The engine's records as DataFrames: blocks of ``batch_size`` unpaced, due slices paced."""
    if batch_size is None:
        batch_size = stream_batch(engine, paced=paced)
    producer = _Blocks(engine, check_batch_size(batch_size))
    try:
        if not paced:
            async for block in producer:
                if stopper is not None and stopper.stopped:
                    return
                if len(block):
                    yield block.frame
            return
        async for piece in pace(producer, time_compression=engine.scenario.time_compression,
                                tick=tick_for(engine.scenario.rate_per_second),
                                sim_anchor_us=engine.scenario.start_us, stopper=stopper):
            if piece is not None:
                item, lo, hi = piece
                assert isinstance(item, Block)
                yield item.frame.slice(lo, hi - lo)
    finally:
        producer.close()


class _Blocks:
    """An engine's blocks, each generated in a worker thread while the previous one is used.

    Except a record generator's: its blocks are Python through and through, and a worker thread
    would only trade the GIL back and forth with the consumer (measured: half the rate), so they
    are made in the caller's thread, a small block (``RecordBlocks.stream_batch``) at a time.
    """

    def __init__(self, engine: Engine, size: int) -> None:
        self.engine = engine
        self.size = size
        self.inline = isinstance(engine.generator, RecordBlocks)
        self.pending: asyncio.Future[Block] | None = None
        self.position: Position | None = engine.arrivals.start()
        self.start = engine.arrivals.start()  # where the next block begins
        self.deliverer = None
        if engine.delivers:
            self.deliverer = engine.deliverer()

    def _start(self, position: Position) -> asyncio.Future[Block] | None:
        n = self.engine.next_count(position, self.size)
        if not n:
            return None
        # run_in_executor submits at once; a to_thread task would start only when the consumer
        # next lets the event loop run, which a loop over this block's records does not do
        return asyncio.get_running_loop().run_in_executor(None, self.engine.block, position, n)

    def __aiter__(self) -> _Blocks:
        return self

    async def __anext__(self) -> Block:
        if self.deliverer is None:
            return await self._next()
        while True:  # a block may release nothing (its records are held back)
            start = self.start
            block = await self._next()
            self.start = block.end
            out = self.deliverer.push(block, start,
                                      final=self.engine.ends_after(block, self.size))
            if out.frame.height:
                return Block(block.first, out.frame, block.end, out.times,
                             np.zeros(out.times.shape[0], np.int64), block.last, out.ids)

    async def _next(self) -> Block:
        if self.inline:
            n = 0 if self.position is None else self.engine.next_count(self.position, self.size)
            if not n or self.position is None:
                raise StopAsyncIteration
            block = self.engine.block(self.position, n)
            self.position = None if block.last else block.end
            await asyncio.sleep(0)  # let other tasks run between blocks
            return block
        if self.position is not None:  # first call
            self.pending = self._start(self.position)
            self.position = None
        if self.pending is None:
            raise StopAsyncIteration
        block = await self.pending
        self.pending = None if block.last else self._start(block.end)
        return block

    def close(self) -> None:
        if self.pending is not None:
            self.pending.cancel()
            self.pending = None


def _engine(name: str, n: int | None, seed: int | None, paced: Any,
            options: dict[str, Any]) -> tuple[Engine, bool]:
    if not isinstance(paced, bool):
        raise ConfigError("paced", paced, "true or false")
    if "paced" in options:
        raise ConfigError("paced", options["paced"], "the `paced` keyword, given once")
    scenario = _scenario(name, n, seed, options, need_n=False, realtime=paced)
    return Engine(scenario), paced


def stream(name: str, *, n: int | None = None, seed: int | None = None, paced: bool = True,
           **options: Any) -> AsyncIterator[dict[str, Any]]:
    """Records of generator ``name`` as dicts of JSON values, paced unless ``paced=False``.

    Options are validated here, before the first record; ``n`` (or ``total_records``) may be
    None for an endless stream. Paced streams start now, unpaced ones at the fixed default
    start, unless ``start_time`` says otherwise.

    Examples
    --------
    >>> import asyncio, simtom
    >>> async def first():
    ...     return [r async for r in simtom.stream("bnpl", n=2, seed=42, paced=False)]
    >>> for record in asyncio.run(first()):
    ...     print(record["transaction_id"], record["_timestamp"])
    txn_00000000 2025-01-01T00:00:00.000000+00:00
    txn_00000001 2025-01-01T00:00:01.000000+00:00
    """
    engine, paced = _engine(name, n, seed, paced, options)
    return records(engine, paced=paced)


def stream_frames(name: str, *, n: int | None = None, seed: int | None = None,
                  paced: bool = True, batch_size: int | None = None,
                  **options: Any) -> AsyncIterator[pl.DataFrame]:
    """Records of generator ``name`` as DataFrames: whole blocks unpaced, due slices paced.

    Examples
    --------
    >>> import asyncio, simtom
    >>> async def sizes():
    ...     frames = simtom.stream_frames("bnpl", n=10, seed=42, paced=False, batch_size=4)
    ...     return [len(f) async for f in frames]
    >>> asyncio.run(sizes())
    [4, 4, 2]
    """
    engine, paced = _engine(name, n, seed, paced, options)
    if batch_size is not None:
        check_batch_size(batch_size)
    return frames(engine, paced=paced, batch_size=batch_size)


__all__ = ["frames", "records", "stream", "stream_frames"]
