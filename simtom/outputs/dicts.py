"""Blocks as Python dicts: the values a block's NDJSON lines parse to, made by ``pickle.loads``.

Building dicts is the cost of a Python stream: ~2.5 µs per 45-field BNPL record when Python sets
the values (even column by column, in C loops), and 1.3 µs of converting columns to Python
values on top. Instead, a Numba kernel (``simtom_kernels.pickles``) writes each chunk of a block
as a pickle, without the GIL (0.55 µs per record), and ``pickle.loads`` builds the chunk's dicts
in C (2.1-2.3 µs): 2.6-2.8 µs per record in all, against 3.8-4.0 µs before (best of 40-60
interleaved runs over a block of 8,192 records). Each dict is a copy of a template holding the
chunk's common values, with only the fields that differ set. The kernel's calls also let the
thread that makes the next block take the GIL once per chunk.

Every value is exactly what the stream's JSON holds: ``_timestamp`` as
``"2025-01-01T00:00:00.000000+00:00"``, NaN and infinities as None, floats as the same double.
Frames with a column type the kernel does not know (lists, structs, decimals ...) are encoded
by the :class:`~simtom.encode.Encoder` (polars' JSON writer) and parsed with orjson.
"""

from __future__ import annotations

import pickle
from collections.abc import Iterator
from typing import Any

import numpy as np
import orjson
import polars as pl
from simtom_kernels import jsonl as K
from simtom_kernels import pickles as P

from simtom.errors import ConfigError
from simtom.outputs.encode import Encoder, _kind, _record_batch, describe_buffers

#: Records per pickle (one ``pickle.loads`` and one list of dicts): few enough that a chunk's
#: dicts stay in the CPU cache between being made and being read.
CHUNK = 256
#: Enum categories kept in each pickle's memo (each a str object that the chunk's records
#: share) when a schema has at most this many in all; beyond, each value is written as text,
#: as every chunk would otherwise make every category anew.
MEMO_CATEGORIES = 1024


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

    Examples
    --------
    >>> import simtom
    >>> frame = simtom.frame("bnpl", n=2, seed=42).select("amount", "risk_level", "_timestamp")
    >>> DictMaker(frame.schema)(frame)[0]
    {'amount': 46.21, 'risk_level': 'high', '_timestamp': '2025-01-01T00:00:00.000000+00:00'}
    """

    def __init__(self, schema: pl.Schema) -> None:
        self.schema = pl.Schema(schema)
        self._pickles = _Pickles(self.schema) if _Pickles.supports(self.schema) else None
        self._encoder = None if self._pickles else Encoder(self.schema)

    @property
    def pickles(self) -> bool:
        """Whether the kernel knows every column type (else frames go through JSON)."""
        return self._pickles is not None

    def __call__(self, frame: pl.DataFrame) -> list[dict[str, Any]]:
        """Every row of ``frame`` as a dict."""
        return [record for chunk in self.chunks(frame) for record in chunk]

    def chunks(self, frame: pl.DataFrame, size: int = CHUNK) -> Iterator[list[dict[str, Any]]]:
        """The rows of ``frame`` as lists of at most ``size`` dicts, made a list at a time."""
        if self._pickles is not None:
            yield from self._pickles.lists(frame, size)
            return
        assert self._encoder is not None
        encoded = self._encoder.encode(frame)
        for lo in range(0, frame.height, size):
            yield parse_lines(encoded.slice(lo, lo + size))


class _Pickles:
    """The pickle kernel's description of one schema: columns, the head of every pickle."""

    @staticmethod
    def supports(schema: pl.Schema) -> bool:
        return all(_kind(dtype) is not None for dtype in schema.dtypes())

    def __init__(self, schema: pl.Schema) -> None:
        self.schema = schema
        names = list(schema.names())
        dtypes = list(schema.dtypes())
        self._desc = np.zeros((len(names), K.N_FIELDS), np.int64)
        categories: list[list[str]] = []
        entries: list[bytes] = []
        for c, dtype in enumerate(dtypes):
            kind = _kind(dtype)
            assert kind is not None
            self._desc[c, K.D_KIND:K.D_WIDTH + 1] = kind[:2]
            self._desc[c, K.D_P1], self._desc[c, K.D_P2] = kind[2], kind[3]
            words: list[str] = []
            if kind[0] == K.K_ENUM:
                words = dtype.categories.to_list()  # type: ignore[attr-defined]
                self._desc[c, K.D_P1], self._desc[c, K.D_P2] = len(entries), len(words)
                entries.extend(_utf8(w) for w in words)
            categories.append(words)
        self._cats = np.frombuffer(b"".join(entries) + bytes(P.PAD), np.uint8)
        self._cat_ends = np.zeros(len(entries) + 1, np.int64)
        np.cumsum([len(e) for e in entries], out=self._cat_ends[1:])
        # memo: dict.copy, the keys, then (if not too many) every enum's categories
        head = bytearray([P.PROTO, 4])
        head += _unicode("builtins") + _unicode("dict.copy") + bytes([P.STACK_GLOBAL, P.MEMOIZE])
        for name in names:
            head += _unicode(name) + bytes([P.MEMOIZE, P.POP])
        memo = 1 + len(names)
        self._cat_memo = np.full(len(names), -1, np.int64)
        if len(entries) <= MEMO_CATEGORIES:
            for c, words in enumerate(categories):
                if words:
                    self._cat_memo[c] = memo
                    memo += len(words)
                    for word in words:
                        head += _unicode(word) + bytes([P.MEMOIZE, P.POP])
        head += bytes([P.EMPTY_LIST, P.MARK])
        self._head = np.frombuffer(bytes(head), np.uint8)
        self._template_memo = memo

    def lists(self, frame: pl.DataFrame, size: int) -> Iterator[list[dict[str, Any]]]:
        """The records of ``frame`` as lists of ``size`` dicts.

        Each pickle is written just before it is loaded, into one buffer that stays in the CPU
        cache (measured: the whole block's pickles written first, 5 MB per 16,384 records, were
        slower to load, and so were chunks of 512 records or more).
        """
        if frame.schema != self.schema:
            raise ConfigError("frame", f"a frame of columns {frame.columns}",
                              f"a frame with the schema {dict(self.schema)}")
        n = frame.height
        if n == 0:
            return
        batch = _record_batch(frame)  # holds the Arrow buffers the kernel reads
        desc, bufs = describe_buffers(self._desc, batch, n)
        out = np.empty(size * 16 * len(self.schema) + self._head.shape[0] + 4096, np.uint8)
        starts = np.zeros(2, np.int64)
        for lo in range(0, n, size):
            out = P.pickle_chunks(out, desc, bufs, self._head, self._cats, self._cat_ends,
                                  self._cat_memo, self._template_memo, size, lo,
                                  min(n, lo + size), starts)
            yield pickle.loads(out.data[:int(starts[1])])


def _utf8(text: str) -> bytes:
    return text.encode("utf-8", "surrogatepass")


def _unicode(text: str) -> bytes:
    """A pickle's str opcode for ``text``."""
    data = _utf8(text)
    if len(data) < 256:
        return bytes([P.SHORT_BINUNICODE, len(data)]) + data
    return bytes([P.BINUNICODE]) + len(data).to_bytes(4, "little") + data


__all__ = ["CHUNK", "DictMaker", "parse_lines"]
