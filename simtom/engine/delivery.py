"""Delivery faults: late (out-of-order) and duplicated records, as a stream test needs them.

A record's *event time* is ``_timestamp``; its *delivery time* is when a consumer receives it:
the event time, or later for a late record (``late_rate``, a delay of up to ``late_delay``), and
a duplicated record (``duplicate_rate``) is delivered a second time, up to ``late_delay`` after
its event. Every draw is keyed by (seed, record), so the faults do not depend on blocks.

Output is every delivered item — (record, copy) — in order of (delivery time, record, copy):
one total order, the same whatever the block size, so frames, files and streams agree and a
resumed stream continues exactly. It is made block by block with a hold-back: an item is
released once no later record can be delivered before it (its delivery time is before the
newest event time generated), so at most ``rate × late_delay × (late_rate + duplicate_rate)``
items wait (``config`` refuses settings that would hold more than ``MAX_HELD``).

A stream's SSE ids then name the item and where to regenerate from:
``<record>.<copy>.<delivery µs after start>.<record>.<window>.<slot>`` of a position from which
every item after it can be rebuilt (the start of the oldest block with items still held back
when it was sent), followed by the usual ``.<seed>.<start_us>.<fingerprint>``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl
from simtom_kernels import faults as K

from simtom.engine.blocks import Block, Position
from simtom.spec.faults import field_stream
from simtom.spec.scenario import Scenario

STREAM = field_stream("delivery", "records")
#: Delivery key of "nothing delivered yet": every item comes after it.
NOTHING = (-(2**62), -1, -1)


@dataclass(frozen=True)
class Delivered:
    """Items released by one step: the frame in delivery order, the delivery times (µs, the
    pacer's schedule), their SSE id parts (6 rows: record, copy, delivery - start, and the
    regeneration position's record, window, slot) and the position after the last block."""

    frame: pl.DataFrame
    times: np.ndarray
    ids: np.ndarray
    end: Position


def active(scenario: Scenario) -> bool:
    return scenario.late_rate > 0 or scenario.duplicate_rate > 0


class Deliverer:
    """The hold-back of one stream: push blocks in order, get released items back.

    ``after`` (a delivery key: delivery time, record, copy) drops every item up to it: what a
    resumed stream has already sent.
    """

    def __init__(self, scenario: Scenario, *, windowed: bool, first_window: int = 0,
                 after: tuple[int, int, int] = NOTHING) -> None:
        self.seed = np.int64(scenario.seed)
        self.start_us = scenario.start_us
        self.late_rate = float(scenario.late_rate)
        self.duplicate_rate = float(scenario.duplicate_rate)
        self.delay_us = float((scenario.late_delay or 0.0) * 1e6)
        self.column = scenario.delivery_column
        self.windowed = windowed
        self.first_window = first_window
        self.after = after
        self.held: pl.DataFrame | None = None
        self.keys = np.empty((4, 0), np.int64)  # delivery time, record, copy, block index
        self.starts: dict[int, Position] = {}  # start of each block with items held back
        self.pushed = 0

    def push(self, block: Block, start: Position, *, final: bool) -> Delivered:
        """Add ``block`` (which began at ``start``) and release what is due; ``final`` (no
        block follows) releases everything."""
        n = len(block)
        late = np.empty(n, np.int64)
        copies = np.empty(n, np.int64)
        K.delivery(self.seed, STREAM, np.int64(block.first), self.late_rate,
                   self.duplicate_rate, self.delay_us, late, copies)
        twice = np.flatnonzero(copies >= 0)
        rows = np.concatenate([np.arange(n), twice])
        keys = np.empty((4, rows.shape[0]), np.int64)
        keys[0, :n] = block.times + late
        keys[0, n:] = block.times[twice] + copies[twice]
        keys[1] = block.first + rows
        keys[2, :n] = 0
        keys[2, n:] = 1
        keys[3] = self.pushed
        self.starts[self.pushed] = start
        self.pushed += 1
        items = block.frame[rows] if twice.size else block.frame
        pool = items if self.held is None else pl.concat([self.held, items])
        pool_keys = np.concatenate([self.keys, keys], axis=1)
        oldest = self.starts[int(pool_keys[3].min())] if pool_keys.shape[1] else start
        if final:
            ready = np.ones(pool_keys.shape[1], np.bool_)
        else:  # later records have event times >= this block's last: none is delivered sooner
            horizon = int(block.times[-1]) if n else -(2**62)
            ready = pool_keys[0] < horizon
        order = np.flatnonzero(ready)
        order = order[np.lexsort((pool_keys[2, order], pool_keys[1, order],
                                  pool_keys[0, order]))]
        out_keys = pool_keys[:, order]
        if self.after != NOTHING:
            e, k, c = self.after
            later = ((out_keys[0] > e) | ((out_keys[0] == e) & ((out_keys[1] > k) | (
                (out_keys[1] == k) & (out_keys[2] > c)))))
            order, out_keys = order[later], out_keys[:, later]
        waiting = np.flatnonzero(~ready)
        self.held = pool[waiting] if waiting.size else None
        self.keys = pool_keys[:, waiting]
        keep = int(self.keys[3].min()) if waiting.size else self.pushed
        for index in [i for i in self.starts if i < keep]:
            del self.starts[index]  # no item of these blocks is waiting: never needed again
        frame = pool[order]
        if self.column:
            frame = frame.with_columns(
                pl.Series("_delivered_at", out_keys[0]).cast(pl.Datetime("us", "UTC")),
                pl.Series("_duplicate", out_keys[2] == 1))
        ids = np.empty((6, order.shape[0]), np.int64)
        ids[0] = out_keys[1]
        ids[1] = out_keys[2]
        ids[2] = out_keys[0] - self.start_us
        ids[3] = oldest.record
        ids[4] = oldest.window - self.first_window if self.windowed else 0
        ids[5] = oldest.index
        return Delivered(frame, out_keys[0].copy(), ids, block.end)
