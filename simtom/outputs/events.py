"""The lifecycle as an event log: every application and what follows it, in simulated time.

``events`` gives the whole log as one DataFrame; ``iter_events`` yields it in time order in
pieces, holding only the events not yet due: those of loans still open at the last application
generated (see ``iter_events``). Both need a generator with a lifecycle (``bnpl``).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from typing import Any

import polars as pl

from simtom.engine.blocks import check_batch_size
from simtom.engine.engine import Engine
from simtom.errors import ConfigError
from simtom.outputs.frames import DEFAULT_BATCH, FRAME_BATCH, _scenario, rechunk
from simtom.spec.scenario import Scenario

#: The log's order: time, then the application's record, then the event's place in its loan.
ORDER = ("_timestamp", "_record_id", "_event_index")
#: Scenario settings that act on records and do not reach the events yet: anything but their
#: default is an error, never ignored.
RECORD_ONLY = ("noise_type", "missing_rate", "late_rate", "duplicate_rate", "delivery_column",
               "drift_column")
_DEFAULTS = {f.name: f.default for f in dataclasses.fields(Scenario) if f.name in RECORD_ONLY}


def _engine(name: str, n: int | None, seed: int | None, options: dict[str, Any]) -> Engine:
    return lifecycle_engine(_scenario(name, n, seed, options))


def lifecycle_engine(scenario: Scenario) -> Engine:
    """An engine for ``scenario``'s events: its generator must have a lifecycle, and the
    scenario may not ask for what acts on records only."""
    engine = Engine(scenario)
    if not engine.generator.lifecycle:
        raise ConfigError("name", scenario.generator, "a generator with a lifecycle (bnpl)")
    for field in RECORD_ONLY:
        value = getattr(scenario, field)
        if value != _DEFAULTS[field]:
            raise ConfigError(field, value,
                              f"{_DEFAULTS[field]!r}: events do not take {field} yet")
    return engine


def iter_events(name: str, *, n: int | None = None, seed: int | None = None,
                batch_size: int = DEFAULT_BATCH, **options: Any) -> Iterator[pl.DataFrame]:
    """Yield the event log in time order, as DataFrames of ``batch_size`` rows (the last may
    be shorter); ``n`` counts applications, and every approved loan's events follow to its
    close. Concatenated, the frames equal :func:`events`, whatever ``batch_size``.

    Memory: one block of ``batch_size`` applications and the events not yet due, those of the
    loans still open at the block's last application (about 80 bytes an event; at most the
    open book: approvals per simulated second x the time loans stay open, 6 weeks for pay-in-4
    and up to 2 years for 24 instalments; at most ``2 x installments + 1`` events per loan).

    Examples
    --------
    >>> import simtom
    >>> parts = list(simtom.iter_events("bnpl", n=100, seed=42, batch_size=64))
    >>> sum(p.height for p in parts) == simtom.events("bnpl", n=100, seed=42).height
    True
    """
    check_batch_size(batch_size)
    yield from event_frames(_engine(name, n, seed, options), batch_size)


def event_frames(engine: Engine, batch_size: int) -> Iterator[pl.DataFrame]:
    """``iter_events`` of an engine from :func:`lifecycle_engine` (the CLI's ``generate
    --lifecycle``)."""

    def due() -> Iterator[pl.DataFrame]:
        pending: pl.DataFrame | None = None
        for frontier, block in engine.event_blocks(batch_size=batch_size):
            held = block if pending is None else pl.concat([pending, block])
            held = held.sort(ORDER)
            # every later application's events come at or after ``frontier``
            cut = held["_timestamp"].dt.epoch("us").search_sorted(frontier, side="left")
            if cut:
                yield held.slice(0, cut)
            pending = held.slice(cut)
        if pending is not None and pending.height:
            yield pending

    yield from rechunk(due(), batch_size)


def events(name: str, *, n: int | None = None, seed: int | None = None,
           **options: Any) -> pl.DataFrame:
    """The event log of ``n`` applications as one DataFrame in time order: ``event_type``
    (application, payment, late_fee, missed_payment, charge_off, paid_off), ``_timestamp``,
    ``transaction_id`` and ``customer_id`` (the application's), ``installment_number``,
    ``amount_due``, ``amount_paid``, ``days_past_due``, ``_record_id`` (the application's
    record) and ``_event_index`` (the event's place among its application's).

    Examples
    --------
    >>> import simtom
    >>> log = simtom.events("bnpl", n=3, seed=42)
    >>> for row in log.select("event_type", "transaction_id", "installment_number").rows()[:3]:
    ...     print(row)
    ('application', 'txn_00000000', None)
    ('application', 'txn_00000001', None)
    ('payment', 'txn_00000001', 1)
    """
    engine = _engine(name, n, seed, options)
    blocks = [block for _, block in engine.event_blocks(batch_size=FRAME_BATCH)]
    if not blocks:
        return pl.DataFrame(schema={**engine.generator.event_schema,
                                    "_timestamp": pl.Datetime("us", "UTC"),
                                    "_record_id": pl.Int64(), "_event_index": pl.Int64()})
    return pl.concat(blocks).sort(ORDER)
