"""File writers: a stream of blocks to parquet, csv, ndjson or Arrow IPC, one block at a time.

Memory stays at one block whatever the file's size. Output goes to a temporary file beside the
target and is renamed into place only when complete, so a failed or interrupted run never leaves
a truncated file under the target's name.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import IO, Any

import polars as pl
import pyarrow.parquet as pq
from pyarrow import ipc

from simtom.errors import ConfigError

FORMATS = ("parquet", "csv", "ndjson", "arrow")
SUFFIXES = {".parquet": "parquet", ".pq": "parquet", ".csv": "csv", ".ndjson": "ndjson",
            ".jsonl": "ndjson", ".arrow": "arrow", ".ipc": "arrow", ".feather": "arrow"}


def format_for(path: str | os.PathLike[str], fmt: str | None = None) -> str:
    """The output format: ``fmt`` if given, else from the file's suffix."""
    if fmt is not None:
        if fmt not in FORMATS:
            raise ConfigError("format", fmt, "one of " + ", ".join(FORMATS))
        return fmt
    suffix = Path(path).suffix.lower()
    if suffix not in SUFFIXES:
        raise ConfigError("output", str(path), "a file ending in " + ", ".join(SUFFIXES)
                          + " (or pass a format)")
    return SUFFIXES[suffix]


def check_target(path: str | os.PathLike[str], fmt: str | None = None) -> str:
    """Check that ``path`` can be written in a known format; return the format."""
    kind = format_for(path, fmt)
    parent = Path(path).parent
    if not parent.is_dir():
        raise ConfigError("output", str(path), "a path in an existing directory")
    return kind


def write(path: str | os.PathLike[str], frames: Iterable[pl.DataFrame], *,
          fmt: str | None = None, on_block: Callable[[int], None] | None = None) -> int:
    """Write ``frames`` to ``path`` block by block; return the number of records written."""
    kind = check_target(path, fmt)
    target = Path(path)
    tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    total = 0
    try:
        with _WRITERS[kind](tmp) as sink:
            for block in frames:
                sink(block)
                total += len(block)
                if on_block is not None:
                    on_block(len(block))
        os.replace(tmp, target)
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
    return total


@contextlib.contextmanager
def _parquet(path: Path) -> Iterator[Callable[[pl.DataFrame], None]]:
    writer: pq.ParquetWriter | None = None

    def sink(block: pl.DataFrame) -> None:
        nonlocal writer
        table = block.to_arrow()
        if writer is None:
            writer = pq.ParquetWriter(path, table.schema, compression="zstd")
        writer.write_table(table)

    try:
        yield sink
    finally:
        if writer is not None:
            writer.close()


@contextlib.contextmanager
def _arrow(path: Path) -> Iterator[Callable[[pl.DataFrame], None]]:
    holder: list[Any] = []
    fh = open(path, "wb")  # noqa: SIM115 - closed below

    def sink(block: pl.DataFrame) -> None:
        table = block.to_arrow()
        if not holder:
            holder.append(ipc.new_file(fh, table.schema))
        holder[0].write_table(table)

    try:
        yield sink
        if holder:
            holder[0].close()
    finally:
        fh.close()


def _text(write_block: Callable[[pl.DataFrame, IO[bytes], bool], None]) -> Any:
    @contextlib.contextmanager
    def writer(path: Path) -> Iterator[Callable[[pl.DataFrame], None]]:
        with open(path, "wb") as fh:
            first = [True]

            def sink(block: pl.DataFrame) -> None:
                write_block(block, fh, first[0])
                first[0] = False

            yield sink

    return writer


_WRITERS = {
    "parquet": _parquet,
    "arrow": _arrow,
    "csv": _text(lambda b, fh, first: b.write_csv(fh, include_header=first)),
    "ndjson": _text(lambda b, fh, first: b.write_ndjson(fh)),
}

