"""The block interface: what a generator declares and fills, for the engine to run.

A *block generator* declares its options and output schema and fills a block of records from the
engine's counter-based generator, given the records' numbers and event times. BNPL
(``simtom.bnpl``) is one; record generators in the original's style run through
:class:`~simtom.engine.records.RecordBlocks`, which is another.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar, Protocol

import numpy as np
import polars as pl

from simtom.spec.fields import Field
from simtom.spec.scenario import Scenario, config_schema

#: ``window``'s next event time of an application with none left.
NEVER = 2**63 - 1


class Applications(Protocol):
    """A generator's lifecycle state of some applications (see ``BlockGenerator.window``):
    one entry per application, selected with ``take`` and joined with ``concat``."""

    @property
    def records(self) -> np.ndarray: ...  # the applications' record numbers, ascending

    @property
    def times(self) -> np.ndarray: ...  # their times (µs)

    def __len__(self) -> int: ...

    @property
    def nbytes(self) -> int: ...

    def take(self, rows: np.ndarray) -> Any: ...  # (an Applications of the same kind)

    def concat(self, other: Any) -> Any: ...  # (the same kind's, after these)


class BlockGenerator:
    """Base of vectorised generators: subclass, set the class attributes, implement ``fill``."""

    name: ClassVar[str] = ""
    description: ClassVar[str] = ""
    options: ClassVar[tuple[Field, ...]] = ()
    #: Records per block of an unpaced stream (None: the stream's default). Generators that are
    #: slow per record (record generators) use smaller blocks so the first bytes go out sooner.
    stream_batch: ClassVar[int | None] = None
    #: Measured numeric fields, which noise may touch, and the decimals each is rounded to
    #: after it (None: unrounded). Empty: the float columns.
    measured: ClassVar[Mapping[str, int | None]] = {}
    #: Drift targets the generator implements in ``fill`` (reading ``simtom.spec.drift.plan``):
    #: any of covariate, prior, concept. Empty: the engine drifts the measured fields' level.
    drift_targets: ClassVar[tuple[str, ...]] = ()

    def prepare(self, scenario: Scenario) -> Any:
        """Per-scenario work done once (tables, calibration); passed back to ``fill``."""
        return None

    def schema(self, scenario: Scenario) -> pl.Schema:
        """Columns and dtypes of a block (before the engine's ``_`` columns)."""
        raise NotImplementedError

    def fill(
        self, scenario: Scenario, prepared: Any, first: int, times: np.ndarray
    ) -> pl.DataFrame:
        """Records ``first .. first + len(times) - 1`` with event times ``times`` (µs)."""
        raise NotImplementedError

    #: Whether the generator has a lifecycle: events after each record (``events``).
    lifecycle: ClassVar[bool] = False
    #: The events' columns and dtypes (with ``lifecycle``).
    event_schema: ClassVar[Mapping[str, pl.DataType]] = {}

    def applications(self, scenario: Scenario, prepared: Any, first: int,
                     times: np.ndarray) -> Applications:
        """What the lifecycle events of records ``first ..`` (event times ``times``) are made
        from, one entry per record. Only for a generator with ``lifecycle``."""
        raise NotImplementedError

    def window(self, scenario: Scenario, applications: Applications, lo: int,
               hi: int) -> tuple[pl.DataFrame, np.ndarray]:
        """The events of ``applications`` at times ``lo <= t < hi`` (µs): the
        ``event_schema`` columns plus ``_timestamp``, ``_record_id`` and ``_event_index`` (the
        event's place among its record's), each record's in time order, unsorted across
        records; and each application's first event time at or after ``hi`` (``NEVER``: it
        has none). Only for a generator with ``lifecycle``."""
        raise NotImplementedError

    def events(self, scenario: Scenario, prepared: Any, first: int,
               times: np.ndarray) -> pl.DataFrame:
        """Every event of records ``first ..`` (see ``window``)."""
        apps = self.applications(scenario, prepared, first, times)
        return self.window(scenario, apps, -(2**63), NEVER)[0]

    def config_schema(self) -> dict[str, Any]:
        return config_schema(self.options, title=f"{self.name} configuration")

    def identity(self) -> tuple[str, str]:
        """What makes two registrations the same generator: the defining module and class."""
        cls = type(self)
        return (cls.__module__, cls.__qualname__)


__all__ = ["NEVER", "Applications", "BlockGenerator"]
