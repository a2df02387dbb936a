"""Blocks and positions: what the engine hands on, and where a stream is.

A stream's position is a :class:`Position` (record number plus where the arrival process is), so
generation can start anywhere a previous block ended and give exactly the same records as a
straight run: the basis of block-size independence, partitioning and stream resume.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import polars as pl

from simtom.errors import ConfigError

#: The largest block the engine fills in one kernel call.
MAX_BATCH = 1 << 24


@dataclass(frozen=True)
class Position:
    """Where a stream is: the next record's number and the arrival process's state."""

    record: int
    window: int
    index: int



@dataclass(frozen=True)
class Block:
    """One block of records: ``frame`` holds records ``first .. end.record - 1``.

    ``times`` are the records' event times (int64 µs) and ``slots`` their indices inside their
    arrival windows: what a stream needs to pace the block and to name a resume point.
    ``last`` is True when a historical range ended inside the block (no records follow).
    """

    first: int
    frame: pl.DataFrame
    end: Position
    times: np.ndarray
    slots: np.ndarray
    last: bool = False
    #: Delivery faults on: the items' SSE id parts (see ``delivery``), ``frame`` holds the
    #: items released by this block in delivery order and ``times`` their delivery times.
    ids: np.ndarray | None = None

    def __len__(self) -> int:
        return self.end.record - self.first



def check_batch_size(batch_size: Any) -> int:
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or not (
            1 <= batch_size <= MAX_BATCH):
        raise ConfigError("batch_size", batch_size, f"an integer from 1 to {MAX_BATCH}")
    return batch_size
