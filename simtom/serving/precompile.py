"""Compiling kernels in parallel processes on a fresh Numba cache, so a server starts fast.

A stream needs two groups of kernels: its generator's (for BNPL: the feature and id kernels,
compiled as the scenario is calibrated and the first block generated) and the encoder's (one
kernel whatever the schema). On a fresh cache each takes about ten seconds to compile here, one
after the other in one process. :func:`start` compiles the encoder in a child process
(``python -m simtom.serving.precompile encoder``), which fills the shared cache, while the
server's own warm-up compiles the generators: the two compile on two cores at once. Code that is
about to encode calls :func:`wait_for` first, so it loads the encoder from the cache instead of
compiling it a second time. With a warm cache nothing is spawned.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import os
import subprocess
import sys
import threading

log = logging.getLogger("simtom.server")

#: Seconds to wait for a child at most (then the caller compiles what it needs itself).
WAIT_SECONDS = 120.0
GROUPS = ("encoder",)

_lock = threading.Lock()
_done: dict[str, threading.Event] = {}


def encoder() -> None:
    """Compile the encoder's kernels: encode a small frame of every column kind, as SSE with ids
    and as NDJSON, with a float that needs a rendering."""
    import numpy as np
    import polars as pl

    from simtom.outputs.encode import Encoder

    frame = pl.DataFrame({
        "i": pl.Series([1, None], dtype=pl.Int64), "f": [0.25, 1 / 3], "b": [True, None],
        "s": ["a", "é\n"], "e": pl.Series(["x", "y"], dtype=pl.Enum(["x", "y"])),
        "t": pl.Series([dt.datetime(2025, 1, 1), None], dtype=pl.Datetime("us", "UTC")),
        "d": pl.Series([dt.date(2025, 1, 1), None], dtype=pl.Date),
    })
    Encoder(frame.schema).encode(frame)
    Encoder(frame.schema, sse=True).encode(frame, id_parts=np.zeros((3, 2), np.int64),
                                           id_suffix=b".0.0.00000000")


def _cached(group: str) -> bool:
    """True when the group's main kernel is in the Numba cache already."""
    try:
        from simtom_kernels import jsonl

        kernel = {"encoder": jsonl.encode}[group]
        index = kernel._cache._cache_file._index_path  # numba's cache layout
    except Exception:
        return False
    return os.path.exists(index)


def start() -> None:
    """Spawn a child compiling each group that is not cached yet (returns at once)."""
    if os.environ.get("NUMBA_DISABLE_JIT") == "1":
        return
    for group in GROUPS:
        with _lock:
            if group in _done:
                continue
            event = _done[group] = threading.Event()
        if _cached(group):
            event.set()
            continue
        try:
            child = subprocess.Popen([sys.executable, "-m", "simtom.serving.precompile", group],
                                     stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL)
        except OSError as exc:
            log.info("simtom: compiling the %s in this process (%s)", group, exc)
            event.set()
            continue
        log.info("simtom: compiling the %s kernels in process %d (fresh Numba cache)", group,
                 child.pid)
        threading.Thread(target=_reap, args=(child, event), name=f"simtom-precompile-{group}",
                         daemon=True).start()


def _reap(child: subprocess.Popen[bytes], event: threading.Event) -> None:
    with contextlib.suppress(Exception):
        child.wait(WAIT_SECONDS)
    if child.poll() is None:
        child.kill()
    event.set()


def wait_for(group: str) -> None:
    """Block until a child compiling ``group`` has finished (at once if there is none)."""
    event = _done.get(group)
    if event is not None and not event.is_set():
        event.wait(WAIT_SECONDS)


def main(argv: list[str]) -> int:
    if len(argv) != 1 or argv[0] not in GROUPS:
        print(f"usage: python -m simtom.serving.precompile {{{','.join(GROUPS)}}}",
              file=sys.stderr)
        return 2
    {"encoder": encoder}[argv[0]]()
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))


__all__ = ["GROUPS", "encoder", "start", "wait_for"]
