"""Constant string columns that share one buffer instead of writing 16 bytes a row per block.

Polars keeps strings as Arrow string views: 16 bytes per row, even when every row holds the same
text. A block's ``_generator``, ``currency`` or ``status`` column would be written afresh for
each block (48 MB of new memory per million BNPL rows, and its page faults). Here each value's
views are written once, into a read-only array that grows by doubling, and every block's column
is a zero-copy slice of it; polars never writes into the buffers it imports.
"""

from __future__ import annotations

import threading

import numpy as np
import polars as pl
import pyarrow as pa

_INLINE = 12  # longest string held in its view
_lock = threading.Lock()
_views: dict[str, tuple[np.ndarray, pa.Buffer]] = {}


#: Longest column served from the shared buffer (16 MB of views); a longer one (a batch_size in
#: the millions) gets buffers of its own, so the shared ones never grow past this.
MAX_SHARED = 1 << 20


def constant_strings(name: str, value: str, n: int) -> pl.Series:
    """A String column ``name`` of ``n`` rows, each ``value``."""
    if n > MAX_SHARED:
        views, data = _write(value.encode(), n), pa.py_buffer(value.encode())
    else:
        views, data = _buffers(value, n)
    array = pa.Array.from_buffers(pa.string_view(), n, [None, pa.py_buffer(views[:2 * n]), data])
    return pl.Series(name, array)


def _buffers(value: str, n: int) -> tuple[np.ndarray, pa.Buffer]:
    with _lock:
        held = _views.get(value)
        if held is None or held[0].shape[0] < 2 * n:
            size = min(MAX_SHARED, max(n, 2 * (held[0].shape[0] // 2 if held else 0), 1024))
            held = (_write(value.encode(), size), pa.py_buffer(value.encode()))
            _views[value] = held
        return held


def _write(text: bytes, n: int) -> np.ndarray:
    """``n`` identical views of ``text`` (little-endian words; long text: buffer 0, offset 0)."""
    head = len(text).to_bytes(4, "little")
    if len(text) <= _INLINE:
        view = head + text.ljust(_INLINE, b"\0")
    else:
        view = head + text[:4] + (0).to_bytes(4, "little") + (0).to_bytes(4, "little")
    words = np.frombuffer(view, np.uint64)
    rows = np.empty((n, 2), np.uint64)
    rows[:] = words
    flat: np.ndarray = rows.reshape(-1)
    flat.setflags(write=False)
    return flat
