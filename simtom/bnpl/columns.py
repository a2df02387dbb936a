"""Arrow-backed polars columns straight from kernel rows: nullable columns over a kernel's
values (no copy) and id strings written by a kernel as string views."""

from __future__ import annotations

import numba
import numpy as np
import polars as pl
import pyarrow as pa
from simtom_kernels import bnpl as K

#: Fewest records per parallel chunk of the feature kernel (blocks of fewer than two run
#: serially). Larger blocks are cut into two chunks per thread: each chunk starts with an empty
#: customer memo, so fewer, longer chunks fill fewer customers twice (measured: 65,536-record
#: chunks of a 262,144-record block 3-10 % faster than 32,768).
PARALLEL_CHUNK = 32_768


def nulls(kind: pa.DataType, name: str, values: np.ndarray, valid: np.ndarray) -> pl.Series:
    """A column of ``values`` (a kernel row: int64, uint8 or bool), null where ``valid`` is
    False: an Arrow array over them with a validity bitmap (booleans are bit-packed; the others
    are not copied)."""
    bitmap = np.packbits(valid, bitorder="little")
    if kind == pa.bool_():
        data = pa.py_buffer(np.packbits(values, bitorder="little"))
    else:
        data = pa.py_buffer(np.ascontiguousarray(values))
    array = pa.Array.from_buffers(kind, values.shape[0], [pa.py_buffer(bitmap), data])
    return pl.Series(name, array)


def strings(prefix: str, numbers: np.ndarray, width: int, infix: str = "",
             suffixes: np.ndarray | None = None, views: np.ndarray | None = None,
             starts: np.ndarray | None = None) -> pl.Series:
    """An id column, written by a kernel as Arrow string views: polars takes it without a copy."""
    pre = np.frombuffer(prefix.encode(), np.uint8)
    mid = np.frombuffer(infix.encode(), np.uint8)
    parallel = len(numbers) >= 2 * PARALLEL_CHUNK and numba.get_num_threads() > 1
    views, data = K.id_views(pre, numbers, np.int64(width), mid,
                             numbers if suffixes is None else suffixes, parallel, views, starts)
    # a view addresses its data by a u32 offset: blocks of at most MAX_BATCH (2^24) ids of at
    # most 53 bytes stay far below 4 GiB
    array = pa.Array.from_buffers(pa.string_view(), len(numbers),
                                  [None, pa.py_buffer(views), pa.py_buffer(data)])
    return pl.Series(array)
