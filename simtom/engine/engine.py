"""The engine: a scenario's records as blocks, from any position.

:class:`Engine` runs the arrival process (``arrivals``), asks the generator to fill each block
(``generator``), then applies what the scenario adds on top: the engine's level drift, noise and
missing values (``simtom.spec``), the ``_`` columns, and delivery faults (``delivery``).
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np
import polars as pl

from simtom.engine import book as book_
from simtom.engine._constants import constant_strings
from simtom.engine.arrivals import Arrivals
from simtom.engine.blocks import Block, Position, check_batch_size
from simtom.engine.delivery import NOTHING, Deliverer
from simtom.engine.generator import BlockGenerator
from simtom.engine.registry import get
from simtom.errors import ConfigError
from simtom.spec import drift as drift_
from simtom.spec.faults import Faults
from simtom.spec.scenario import Scenario


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
        #: The output is the lifecycle's event log (through the open book, ``book``).
        self.lifecycle = scenario.lifecycle
        if self.lifecycle:
            _check_lifecycle(scenario, self.generator)

    def schema(self) -> pl.Schema:
        if self.lifecycle:
            return pl.Schema({**self.generator.event_schema,
                              "_timestamp": pl.Datetime("us", "UTC"), "_record_id": pl.Int64(),
                              "_event_index": pl.Int64()})
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

    def _times(self, position: Position,
               n: int) -> tuple[np.ndarray, np.ndarray, Position, bool]:
        """The event times and slots of up to ``n`` records from ``position``, the position
        after them, and whether a historical range ended first (fewer times then)."""
        times = np.empty(n, np.int64)
        slots = np.empty(n, np.int64)
        end, filled = self.arrivals.fill_range(position, times, slots)
        if filled < n:
            return times[:filled].copy(), slots[:filled].copy(), end, True
        return times, slots, end, False

    def block(self, position: Position, n: int) -> Block:
        """Records ``position.record .. position.record + n - 1`` (fewer, and ``last``, where
        a historical range ends)."""
        times, slots, end, last = self._times(position, n)
        n = times.shape[0]
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
               limit: int | None = None,
               after: tuple[int, int, int] | None = None) -> Iterator[Block]:
        """Blocks of ``batch_size`` records from ``position`` (default: the start).

        ``limit`` is the record number to stop before (default: the scenario's total_records;
        None streams without end, or to the end of a historical range). ``after``: with a
        hold-back (delivery faults, the lifecycle), drop every item up to this key.
        """
        check_batch_size(batch_size)
        pos = position or self.arrivals.start()
        if self.lifecycle:
            book = self.book(after, ids=False)
            yield from self._held_back(functools.partial(self.released, book), pos, batch_size,
                                       limit)
            return
        if self.delivers:
            deliverer = self.deliverer(after)
            yield from self._held_back(functools.partial(self._delivered, deliverer), pos,
                                       batch_size, limit)
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

    def applications(self, position: Position, n: int) -> tuple[Any, Block]:
        """The lifecycle state of up to ``n`` applications from ``position`` (fewer, and
        ``last``, where a historical range ends) and their block (with no frame)."""
        times, slots, end, last = self._times(position, n)
        apps = self.generator.applications(self.scenario, self._prepared, position.record,
                                           times)
        return apps, Block(position.record, pl.DataFrame(), end, times, slots, last)

    def book(self, after: tuple[int, int, int] | None = None, *,
             ids: bool = True) -> book_.Book:
        """An open book for this engine's lifecycle (``after``: a resumed stream's last;
        ``ids``: with SSE id parts)."""
        return book_.Book(self.scenario, self.generator, self.arrivals,
                          after=after or book_.NOTHING, ids=ids)

    def released(self, book: book_.Book, pos: Position, n: int, size: int = 1,
                 limit: int | None = None) -> tuple[Block, bool]:
        """The events ``book`` releases once the ``n`` applications from ``pos`` join it (as a
        block of events), and whether no block follows (then it releases the rest)."""
        apps, block = self.applications(pos, n)
        final = self.ends_after(block, size, limit)
        return _released(block, book.push(apps, block, final=final)), final

    def deliverer(self, after: tuple[int, int, int] | None = None) -> Deliverer:
        """A hold-back for delivery faults of this engine's stream."""
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

    def _delivered(self, deliverer: Deliverer, pos: Position, n: int, size: int,
                   limit: int | None) -> tuple[Block, bool]:
        """The items ``deliverer`` releases once records ``pos ..`` join it, and whether no
        block follows."""
        block = self.block(pos, n)
        final = self.ends_after(block, size, limit)
        return _released(block, deliverer.push(block, pos, final=final)), final

    def _held_back(self, step: Callable[..., tuple[Block, bool]], pos: Position,
                   batch_size: int, limit: int | None) -> Iterator[Block]:
        """``blocks`` through a hold-back: what each block releases (``step``), in order."""
        while True:
            n = self.count(pos, batch_size, limit)
            if n == 0:
                return
            out, final = step(pos, n, batch_size, limit)
            if out.frame.height:
                yield out
            if final:
                return
            pos = out.end


def _released(block: Block, out: Any) -> Block:
    """A block of what a hold-back released after ``block`` (``Delivered`` or ``Released``:
    its frame, times and SSE id parts)."""
    return Block(block.first, out.frame, block.end, out.times,
                 np.zeros(out.times.shape[0], np.int64), block.last, out.ids)

#: Scenario settings that act on records and do not reach the events yet: anything but their
#: default is an error, never ignored.
RECORD_ONLY = ("noise_type", "missing_rate", "late_rate", "duplicate_rate", "delivery_column",
               "drift_column")
_DEFAULTS = {f.name: f.default for f in dataclasses.fields(Scenario) if f.name in RECORD_ONLY}


def _check_lifecycle(scenario: Scenario, generator: BlockGenerator) -> None:
    if not generator.lifecycle:
        raise ConfigError("lifecycle", True,
                          f"false for generator {generator.name!r}, which has no lifecycle "
                          "(bnpl has one)")
    for field in RECORD_ONLY:
        value = getattr(scenario, field)
        if value != _DEFAULTS[field]:
            raise ConfigError(field, value,
                              f"{_DEFAULTS[field]!r}: events do not take {field} yet")
    book_.check(scenario)
