"""Giving freed memory back to the operating system (glibc only; elsewhere a no-op).

A long unpaced stream allocates and frees tens of MB per block from several threads (the
generator, the encoder, the kernels' and polars' pools). glibc keeps freed heap memory in
per-thread arenas, and after the first large buffer is freed it raises its mmap threshold, so
later large buffers come from those arenas too: the process's resident memory then creeps up
for minutes even though nothing is kept. ``trim`` (``malloc_trim(0)``) returns the arenas' free
pages; streams call it at most once per ``TRIM_SECONDS``.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import threading
import time
from typing import Any

TRIM_SECONDS = 1.0

_lock = threading.Lock()
_last = 0.0
_libc: Any = None
_loaded = False


def _load() -> Any:
    global _libc, _loaded
    if not _loaded:
        _loaded = True
        try:
            libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
            _libc = libc if hasattr(libc, "malloc_trim") else None
        except OSError:
            _libc = None
    return _libc


def trim(every: float = TRIM_SECONDS) -> bool:
    """Return free heap memory to the OS, unless done less than ``every`` seconds ago (any
    thread). True when it ran."""
    global _last
    now = time.monotonic()
    if now - _last < every:
        return False
    with _lock:
        if now - _last < every:
            return False
        _last = now
    libc = _load()
    if libc is None:
        return False
    libc.malloc_trim(0)
    return True
