"""Memory as a budget in bytes: what one stream may hold, and what all of them may hold together.

**One stream.** A stream's pipeline (``streams._Producer``) holds at most two generated frames
(the block being encoded and the next one, being generated), two encoded slices (one being
sent, one being written or queued) and the piece of bytes the HTTP layer has copied into its
send buffer. :class:`BlockSizer` picks the records of each block and each slice so that all of
it stays within the stream's budget (``stream_memory``, default :data:`STREAM_MEMORY`): the
first block is small (its bytes per record are not known yet, and the first records go out
sooner); later ones are sized from the largest bytes per record seen so far, as a frame and as
encoded bytes. So a stream's memory does not depend on the record size, the format, pacing or
the generator (a block holds at least one record), and a client that stops reading holds no more
than its budget until the send deadline drops it.

**The server.** :class:`MemoryBudget` admits a stream only if the process stays within
``max_memory`` (default :data:`MAX_MEMORY`): its resident memory once the kernels are loaded,
plus one stream budget for every open stream and the new one; and its resident memory now plus
one more budget. Otherwise the stream is refused with 503 and ``Retry-After``.
"""

from __future__ import annotations

import os
import re
import threading
from dataclasses import dataclass

from simtom.errors import SimtomError

MiB = 1 << 20
#: Default bytes one stream may hold.
STREAM_MEMORY = 8 * MiB
#: Default bytes the whole server process may use.
MAX_MEMORY = 1024 * MiB
#: The smallest per-stream budget accepted (a block of a few records of any generator fits).
MIN_STREAM_MEMORY = 1 * MiB
#: Records in a stream's first block, whose bytes per record are not known yet: one (a record
#: may be large), so the first record also goes out as soon as it can.
FIRST_BLOCK = 1
#: The HTTP layer's copy of the piece being sent gets 1 / SEND_SHARE of the budget.
SEND_SHARE = 8
#: Frames and encoded slices a stream holds at most: two of each.
HELD = 2
#: Share of the budget for the two frames.
FRAME_SHARE = 0.45
#: Share of the budget the sizes aim at: the rest is for what the count does not see (the
#: Arrow view of the frame being encoded, allocator slack, the connection's own objects).
#: Measured: stalled BNPL streams took 9.3 MiB each of the server's USS with sizes aimed at the
#: whole 8 MiB, 7.6-7.8 MiB at 80 %, 7.1 MiB at 75 %.
TARGET = 0.75

_UNITS = {"": 1, "b": 1, "k": 1 << 10, "kb": 1000, "kib": 1 << 10, "m": MiB, "mb": 10**6,
          "mib": MiB, "g": 1 << 30, "gb": 10**9, "gib": 1 << 30}
_SIZE = re.compile(r"\s*(\d+(?:\.\d+)?)\s*([a-zA-Z]*)\s*")


def parse_bytes(name: str, text: str | int) -> int:
    """A size: bytes as an integer, or with a unit (``512MiB``, ``1GiB``, ``64k``, ``2GB``)."""
    if isinstance(text, int) and not isinstance(text, bool):
        value = text
    else:
        match = _SIZE.fullmatch(str(text))
        unit = match.group(2).lower() if match else ""
        if match is None or unit not in _UNITS:
            msg = (f"{name}: got {text!r}; allowed: a size in bytes, or with a unit such as "
                   "512MiB, 1GiB, 64KiB (also k, M, G, KB, MB, GB)")
            raise SimtomError(msg)
        value = int(float(match.group(1)) * _UNITS[unit])
    if value <= 0:
        msg = f"{name}: got {text!r}; allowed: a size of at least 1 byte"
        raise SimtomError(msg)
    return value


class MemoryBusy(SimtomError):
    """A stream that would take the server over its memory budget: refused, try again later."""

    status = 503


def resident_bytes() -> int:
    """The process's resident memory (RSS) in bytes, from /proc (0 where there is none)."""
    try:
        with open("/proc/self/statm", "rb") as f:
            pages = int(f.read().split()[1])
    except (OSError, IndexError, ValueError):
        return 0
    return pages * _PAGE


try:
    _PAGE = os.sysconf("SC_PAGE_SIZE")
except (ValueError, OSError, AttributeError):  # pragma: no cover - not a POSIX system
    _PAGE = 4096


class MemoryBudget:
    """Admission of streams against the server's memory budget (thread-safe)."""

    def __init__(self, max_memory: int, stream_memory: int) -> None:
        self.max_memory = max_memory
        self.stream_memory = stream_memory
        self.baseline = resident_bytes()
        self.reserved = 0
        self._lock = threading.Lock()

    def settle(self) -> None:
        """Take the process's memory now (after the kernels are loaded) as its baseline."""
        self.baseline = resident_bytes()

    def admit(self) -> None:
        """Reserve one stream's budget, or raise MemoryBusy (503) naming the figures."""
        with self._lock:
            planned = self.baseline + self.reserved + self.stream_memory
            now = resident_bytes()
            if planned <= self.max_memory and now + self.stream_memory <= self.max_memory:
                self.reserved += self.stream_memory
                return
        used = max(planned - self.stream_memory, now)
        msg = (f"memory: the server holds {used / MiB:.0f} MiB of its {self.max_memory / MiB:.0f}"
               f" MiB budget (SIMTOM_MAX_MEMORY), and a stream takes up to "
               f"{self.stream_memory / MiB:.0f} MiB (SIMTOM_STREAM_MEMORY); retry later")
        raise MemoryBusy(msg)

    def release(self) -> None:
        with self._lock:
            self.reserved = max(0, self.reserved - self.stream_memory)


@dataclass
class BlockSizer:
    """Records per generated block and per encoded slice for a stream with ``budget`` bytes.

    The budget is shared: :data:`SEND_SHARE` for the HTTP layer's copy of the piece being sent,
    :data:`FRAME_SHARE` for two frames (the block being encoded and the next, being generated),
    the rest for two encoded slices (being sent, and being written or queued). Sizes come from
    the largest bytes per record seen so far, so they only shrink when records grow.
    """

    budget: int
    #: The generator's or the pacing's own limit on a block's records.
    largest: int
    #: Largest bytes per record seen, as a frame and encoded; 0 before the first block.
    frame_per_record: float = 0.0
    encoded_per_record: float = 0.0
    #: Before the first slice: the encoder's guess of a record's encoded bytes.
    encoded_guess: float = 0.0

    @property
    def send_bytes(self) -> int:
        """The largest piece of bytes handed to the HTTP layer at once."""
        return max(16 << 10, int(self.budget * TARGET) // SEND_SHARE)

    def next_block(self) -> int:
        """Records in the next generated block."""
        if self.frame_per_record <= 0:
            return max(1, min(self.largest, FIRST_BLOCK))
        share = self.budget * TARGET * FRAME_SHARE
        return self._fit(share / (HELD * self.frame_per_record))

    def next_slice(self) -> int:
        """Records in the next encoded slice."""
        per_record = self.encoded_per_record or self.encoded_guess
        if per_record <= 0:
            return max(1, min(self.largest, FIRST_BLOCK))
        share = self.budget * TARGET * (1.0 - FRAME_SHARE) - self.send_bytes
        return self._fit(share / (HELD * per_record))

    def _fit(self, records: float) -> int:
        return max(1, min(self.largest, int(records)))

    def observe_frame(self, records: int, nbytes: int) -> None:
        if records > 0:
            self.frame_per_record = max(self.frame_per_record, nbytes / records)

    def observe_slice(self, records: int, nbytes: int) -> None:
        if records > 0:
            self.encoded_per_record = max(self.encoded_per_record, nbytes / records)

    @property
    def bound(self) -> float:
        """The most the stream holds with the current sizes (bytes): what the budget caps."""
        return (HELD * self.next_block() * self.frame_per_record
                + HELD * self.next_slice() * self.encoded_per_record + self.send_bytes)


__all__ = ["MAX_MEMORY", "STREAM_MEMORY", "BlockSizer", "MemoryBudget", "MemoryBusy",
           "parse_bytes", "resident_bytes"]
