"""The lifecycle as an event log: every application and what follows it, in simulated time.

``events`` gives the whole log as one DataFrame; ``iter_events`` yields it in time order in
pieces, holding only the open book: what the events of the loans still open are made from
(``simtom.engine.book``). Both need a generator with a lifecycle (``bnpl``); they are the
output of a scenario with ``lifecycle`` on, which streams and files take too.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from typing import Any

import polars as pl

from simtom.engine.blocks import check_batch_size
from simtom.engine.book import ORDER
from simtom.engine.engine import Engine
from simtom.engine.registry import get
from simtom.errors import ConfigError
from simtom.outputs.frames import DEFAULT_BATCH, FRAME_BATCH, _scenario, rechunk
from simtom.spec.scenario import Scenario

__all__ = ["ORDER", "event_frames", "events", "iter_events", "lifecycle_engine"]


def _engine(name: str, n: int | None, seed: int | None, options: dict[str, Any]) -> Engine:
    if options.get("lifecycle", True) is not True:
        raise ConfigError("lifecycle", options["lifecycle"],
                          "true or absent: events are the lifecycle's")
    if not get(name).lifecycle:
        raise ConfigError("name", name, "a generator with a lifecycle (bnpl)")
    return lifecycle_engine(_scenario(name, n, seed, {**options, "lifecycle": True}))


def lifecycle_engine(scenario: Scenario) -> Engine:
    """An engine for ``scenario``'s events: its generator must have a lifecycle, and the
    scenario may not ask for what acts on records only (see ``Engine``)."""
    if not scenario.lifecycle:
        scenario = dataclasses.replace(scenario, lifecycle=True)
    return Engine(scenario)


def iter_events(name: str, *, n: int | None = None, seed: int | None = None,
                batch_size: int = DEFAULT_BATCH, **options: Any) -> Iterator[pl.DataFrame]:
    """Yield the event log in time order, as DataFrames of ``batch_size`` rows (the last may
    be shorter); ``n`` counts applications, and every approved loan's events follow to its
    close. Concatenated, the frames equal :func:`events`, whatever ``batch_size``.

    Memory: one block of ``batch_size`` applications, its events, and the open book: 75
    bytes for each application with events still to come (in steady state about the
    simulated rate x 34 days of them: loans stay open 6 weeks for pay-in-4 and up to 2 years
    for 24 instalments; a scenario whose book would pass 4 million is refused).

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
    check_batch_size(batch_size)
    yield from rechunk((block.frame for block in engine.blocks(batch_size=batch_size)),
                       batch_size)


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
    blocks = [block.frame for block in engine.blocks(batch_size=FRAME_BATCH)]
    if not blocks:
        return pl.DataFrame(schema=engine.schema())
    return pl.concat(blocks)
