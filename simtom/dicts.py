"""Blocks as Python dicts: the values a block's NDJSON lines parse to, made column by column.

Parsing the JSON (``orjson.loads`` per record) costs several µs per BNPL record; building the
values from the columns costs a fraction of that: categories come from one shared string per
category, numbers from numpy's ``tolist``, and the dicts from ``dict(zip(keys, row))`` in C.
Columns of other dtypes (datetimes, dates, lists, structs, decimals ...) go through the
:class:`~simtom.encode.Encoder` alone and are parsed back, so every value is exactly what the
stream's JSON holds: ``_timestamp`` as ``"2025-01-01T00:00:00.000000+00:00"``, NaN and
infinities as None, floats as the same double.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterator
from itertools import repeat
from operator import setitem
from typing import Any

import numpy as np
import orjson
import polars as pl
from simtom_kernels import jsonl as J

from .encode import Encoder, _json_string

#: Rows made into dicts at a time: few enough that the dicts of a chunk stay in the CPU cache
#: while their values are set a column at a time (256 measured fastest of 128-2048).
CHUNK = 256


def parse_lines(chunk: bytes | memoryview) -> list[dict[str, Any]]:
    """NDJSON records (whole lines, each ending in a newline) as a list of dicts."""
    data = bytes(chunk)
    if not data:
        return []
    # JSON strings never hold a raw newline, so the newlines are exactly the record ends.
    parsed: list[dict[str, Any]] = orjson.loads(b"[" + data[:-1].replace(b"\n", b",") + b"]")
    return parsed


class DictMaker:
    """Converts frames of one schema to lists of dicts of JSON values.

    Each dict is a copy of a template that already holds the columns that are constant in the
    frame (a currency, a generator name); the other columns are set a column at a time, by C
    loops (``map(operator.setitem, ...)``) — cheaper than building each dict from pairs, which
    grows its table step by step.

    Examples
    --------
    >>> import simtom
    >>> frame = simtom.frame("bnpl", n=2, seed=42).select("amount", "risk_level", "_timestamp")
    >>> DictMaker(frame.schema)(frame)[0]
    {'amount': 67.84, 'risk_level': 'low', '_timestamp': '2025-01-01T00:00:00.000000+00:00'}
    """

    def __init__(self, schema: pl.Schema) -> None:
        self.schema = pl.Schema(schema)
        self.keys = list(self.schema.names())
        self._columns: list[Callable[[pl.Series], list[Any] | _Same]] = [
            _converter(name, dtype) for name, dtype in self.schema.items()]

    def __call__(self, frame: pl.DataFrame) -> list[dict[str, Any]]:
        """Every row of ``frame`` as a dict."""
        return self.columns(frame).records(0, frame.height)

    def chunks(self, frame: pl.DataFrame, size: int = CHUNK) -> Iterator[list[dict[str, Any]]]:
        """The rows of ``frame`` as lists of at most ``size`` dicts.

        The columns are converted once for the whole frame (each conversion has a fixed cost
        worth sharing); the dicts are made a chunk at a time, so few are alive at once.
        """
        columns = self.columns(frame)
        for lo in range(0, frame.height, size):
            yield columns.records(lo, min(lo + size, frame.height))

    def columns(self, frame: pl.DataFrame) -> _Columns:
        template: dict[str, Any] = dict.fromkeys(self.keys)
        varying = []
        for key, convert, s in zip(self.keys, self._columns, frame.get_columns()):
            values = convert(s)
            if isinstance(values, _Same):
                template[key] = values.value
            else:
                varying.append((key, values))
        return _Columns(template, varying)


class _Columns:
    """A frame's columns as Python values: constant ones in a template, the others as lists."""

    def __init__(self, template: dict[str, Any], varying: list[tuple[str, list[Any]]]) -> None:
        self.template = template
        self.varying = varying

    def records(self, lo: int, hi: int) -> list[dict[str, Any]]:
        records = list(map(dict.copy, repeat(self.template, hi - lo)))
        whole = lo == 0 and all(len(values) == hi for _, values in self.varying[:1])
        for key, values in self.varying:
            deque(map(setitem, records, repeat(key), values if whole else values[lo:hi]),
                  maxlen=0)
        return records


class _Same:
    """A column with one value in every row of the frame."""

    __slots__ = ("value",)

    def __init__(self, value: Any) -> None:
        self.value = value


def _converter(name: str, dtype: pl.DataType) -> Callable[[pl.Series], list[Any] | _Same]:
    if isinstance(dtype, pl.Enum):
        return _Enum(dtype)
    if isinstance(dtype, pl.Categorical):
        return _strings
    if dtype == pl.Boolean or dtype.is_integer():
        return _plain
    if dtype.is_float():
        return _floats
    if dtype == pl.String:
        return _strings
    if isinstance(dtype, pl.Datetime) and dtype.time_unit == "us" and dtype.time_zone:
        return _Instants(name, dtype)
    return _ViaJson(name, dtype)


def _plain(s: pl.Series) -> list[Any] | _Same:
    if s.null_count():
        return s.to_list()
    array = s.to_numpy()
    if len(array) and array.min() == array.max():
        return _Same(array[:1].tolist()[0])
    values: list[Any] = array.tolist()
    return values


def _strings(s: pl.Series) -> list[Any] | _Same:
    if s.dtype != pl.String:
        s = s.cast(pl.String)
    if len(s) and s.null_count() == 0 and s[0] == s[-1] and (s == s[0]).all():
        return _Same(s[0])
    return s.to_list()


def _floats(s: pl.Series) -> list[Any] | _Same:
    array = s.to_numpy().astype(np.float64, copy=False)  # nulls come as NaN
    bad = ~np.isfinite(array)
    if not bad.any():
        if len(array) and array.min() == array.max():
            return _Same(array[:1].tolist()[0])
        values: list[Any] = array.tolist()
        return values
    boxed = array.astype(object)
    boxed[bad] = None
    out: list[Any] = boxed.tolist()
    return out


class _Enum:
    """Enum codes to the category strings (one shared str object per category)."""

    def __init__(self, dtype: pl.Enum) -> None:
        self.names = np.array(dtype.categories.to_list(), dtype=object)

    def __call__(self, s: pl.Series) -> list[Any] | _Same:
        if s.null_count():
            return s.cast(pl.String).to_list()
        codes = s.to_physical().to_numpy()
        if len(codes) and codes.min() == codes.max():
            return _Same(self.names[codes[0]])
        out: list[Any] = self.names[codes].tolist()
        return out


class _Instants:
    """Time-zone-aware µs datetimes as the encoder's UTC text, written by a kernel."""

    def __init__(self, name: str, dtype: pl.DataType) -> None:
        self.fallback = _ViaJson(name, dtype)

    def __call__(self, s: pl.Series) -> list[Any] | _Same:
        if s.null_count():
            return self.fallback(s)
        times = np.ascontiguousarray(s.to_physical().to_numpy(), dtype=np.int64)
        size = times.shape[0] * J.ISO_STRIDE
        out = np.empty(size + J.ISO_SLACK, np.uint8)
        if not J.iso_utc(times, out):  # a year outside 1000..9999
            return self.fallback(s)
        # each text ends with its closing quote, which no text holds: one C-level split makes
        # the strings (a third of the cost of slicing them out one by one)
        values = out[:size].tobytes().decode("ascii").split('"')
        values.pop()  # the empty string after the last quote
        return values


class _ViaJson:
    """A column of another dtype: encoded alone by the stream's encoder and parsed back."""

    def __init__(self, name: str, dtype: pl.DataType) -> None:
        self.name = name
        self.encoder = Encoder(pl.Schema({name: dtype}))
        self.datetime = isinstance(dtype, pl.Datetime) and name.isascii()
        # characters before a datetime's text on its line: {"name":"
        self.prefix = len("{" + _json_string(name).decode() + ':"')

    def __call__(self, s: pl.Series) -> list[Any] | _Same:
        n = len(s)
        if n == 0:
            return []
        encoded = self.encoder.encode(s.to_frame())
        data = bytes(encoded.slice(0, n))
        if self.datetime and s.null_count() == 0:
            ends = encoded.ends
            width = int(ends[0])
            if n == 1 or bool(np.all(np.diff(ends) == width)):
                text = data.decode()  # every line: {"name":"<text>"}\n, of one length
                size = width - self.prefix - 3
                return [text[i:i + size] for i in range(self.prefix, len(text), width)]
        return [row[self.name] for row in parse_lines(data)]


__all__ = ["CHUNK", "DictMaker", "parse_lines"]
