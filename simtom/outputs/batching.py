"""How many records a stream's blocks hold at most: the generator's or the default unpaced size;
paced, a couple of wall seconds of records.

The async Python streams (``aio``) use these sizes; the server's byte streams
(``simtom.serving.streams``) take them as the upper limit and cut smaller blocks to fit their
memory budget (``simtom.serving.budget``). Block boundaries never change a record's bytes.
"""

from __future__ import annotations

from simtom.engine.engine import Engine

#: Records per block of an unpaced stream at most: big enough to amortise per-block work.
UNPACED_BATCH = 16_384
#: A paced stream's blocks cover about this many wall seconds (at least MIN_PACED_BATCH records).
PACED_BLOCK_SECONDS = 2.0
MIN_PACED_BATCH = 16


def batch_size(engine: Engine, *, paced: bool) -> int:
    """Records per block of a stream: the generator's or the default unpaced size; paced,
    about PACED_BLOCK_SECONDS of records (at least MIN_PACED_BATCH)."""
    largest = engine.generator.stream_batch or UNPACED_BATCH
    if not paced:
        return largest
    size = int(engine.scenario.rate_per_second * PACED_BLOCK_SECONDS)
    return max(MIN_PACED_BATCH, min(largest, size))
