"""Blocks of records to NDJSON or Server-Sent Events bytes, by one Numba kernel per block.

An :class:`Encoder` is made once per schema: it pre-encodes the keys, the enum categories and the
layout of every column. :meth:`Encoder.encode` then exports the block's columns to Arrow (no copy
of the data) and hands their buffers to the kernel, which writes all records into one byte
array; :class:`Encoded` keeps where each record ends, so a paced stream can send any run of
records without copying.

Large blocks are written in parallel chunks, one per Numba thread, with the same bytes. An
encoder keeps the output buffers of its last few blocks (four by default; a stream's encoder
keeps two, as many as its pipeline holds) and writes a later block into one that nothing
refers to any more: fresh memory costs a page fault per 4 KiB page on first write.

Frames with a column type the kernel does not know (lists, structs, decimals, binary, times,
durations, objects) are encoded by polars' JSON writer instead, with the same framing and the
same datetime format.
"""

from __future__ import annotations

import itertools
import sys
from dataclasses import dataclass, field
from typing import Any

import numba
import numpy as np
import polars as pl
import pyarrow as pa
from simtom_kernels import jsonl as K

from simtom.errors import ConfigError

#: strftime format of datetimes on the slow path; the kernel writes the same text.
_ISO = "%Y-%m-%dT%H:%M:%S%.6f"
_UNITS = {"us": 0, "ms": 1, "ns": 2}
_INT_WIDTHS = {pl.Int8: 1, pl.Int16: 2, pl.Int32: 4, pl.Int64: 8}
_UINT_WIDTHS = {pl.UInt8: 1, pl.UInt16: 2, pl.UInt32: 4, pl.UInt64: 8}
_EMPTY_U8 = np.empty(0, np.uint8)
_EMPTY_I64 = np.empty(0, np.int64)
_ZERO_I64 = np.zeros(1, np.int64)
#: Largest table of a group of enum/boolean columns (entries and bytes): bigger tables would
#: cost more in cache misses than the separate copies they save.
GROUP_ENTRIES = 128
GROUP_BYTES = 4096
#: Output buffers kept for reuse: fresh memory costs a page fault per 4 KiB on first write
#: (about a fifth of the encoding time), reused memory does not.
_KEEP = 4
_KEEP_BYTES = 256 << 20
#: Slack on top of the last block's bytes per record when sizing the output buffer (more when
#: chunks are written in parallel: each has its own share of the buffer).
_SLACK = 1.02
_CHUNK_SLACK = 1.10
#: Blocks of at least this many records are encoded in parallel chunks, one per thread.
PARALLEL_RECORDS = 65_536


@dataclass(frozen=True)
class Encoded:
    """The bytes of a block's records, concatenated, and where each record ends.

    Record ``k`` is ``data[ends[k - 1]:ends[k]]`` (from 0 for the first record).
    """

    data: np.ndarray
    ends: np.ndarray

    def __len__(self) -> int:
        return int(self.ends.shape[0])

    def slice(self, lo: int, hi: int) -> memoryview:
        """The bytes of records ``lo .. hi - 1``, as a view of ``data`` (no copy)."""
        n = len(self)
        lo = max(0, min(lo, n))
        hi = max(lo, min(hi, n))
        start = int(self.ends[lo - 1]) if lo > 0 else 0
        end = int(self.ends[hi - 1]) if hi > 0 else 0
        return self.data.data[start:end]


@dataclass(frozen=True)
class Prepared:
    """A frame checked and described for the kernel (see :meth:`Encoder.prepare`): it keeps
    the Arrow batch whose buffers the description points into."""

    frame: pl.DataFrame
    batch: pa.RecordBatch
    desc: np.ndarray
    bufs: np.ndarray
    #: With an SSE ``event_field``: each record's event type (its category code).
    variants: np.ndarray = field(default_factory=lambda: _EMPTY_I64)

    @property
    def height(self) -> int:
        return int(self.frame.height)


class Encoder:
    """Encode blocks of one schema as NDJSON lines or Server-Sent Events.

    Parameters
    ----------
    schema
        The blocks' schema (column names, order and types).
    sse
        False: each record is ``<json>\\n``. True: each record is
        ``id: <id>\\ndata: <json>\\n\\n``, where ``<id>`` is the record's id parts joined by
        ``.`` followed by the id suffix (see :meth:`encode`).
    event_field
        SSE only: an Enum column whose value names each record's event type, sent as an
        ``event: <value>`` line after the ``id:`` line (a lifecycle's ``event_type``).

    Notes
    -----
    ``<json>`` is ``{"column":value,...}`` in column order with no spaces. Integers are
    decimal, booleans ``true``/``false``, strings and categories JSON strings (escaped as
    ``json.dumps(..., ensure_ascii=False)`` does), datetimes
    ``"YYYY-MM-DDTHH:MM:SS.ffffff+00:00"`` in UTC whatever the unit and zone (floored to the
    microsecond; no ``+00:00`` without a time zone), dates ``"YYYY-MM-DD"``, and nulls, NaN and
    infinities ``null``. A float is written as Python's ``repr`` writes it when it is a multiple
    of 0.0001 (cents, rounded scores), otherwise as polars renders it: the shortest text that
    reads back as the same double (``1e-7``, ``0.3333333333333333``); a Float32 as its value
    as a double.

    Blocks must have the encoder's schema. Column names and Arrow types are checked on every
    block, the full polars schema (Enum categories included) whenever those change.

    Examples
    --------
    >>> import simtom
    >>> frame = simtom.frame("bnpl", n=2, seed=42).select("amount", "_timestamp", "_record_id")
    >>> encoded = Encoder(frame.schema).encode(frame)
    >>> print(bytes(encoded.slice(0, 2)).decode(), end="")
    {"amount":46.21,"_timestamp":"2025-01-01T00:00:00.000000+00:00","_record_id":0}
    {"amount":176.08,"_timestamp":"2025-01-01T00:00:01.000000+00:00","_record_id":1}
    """

    def __init__(self, schema: pl.Schema, *, sse: bool = False, keep: int = _KEEP,
                 event_field: str | None = None) -> None:
        self.schema = pl.Schema(schema)
        self.sse = sse
        self._event_types: list[bytes] = []
        self._event_field = event_field
        if event_field is not None:
            dtype = self.schema.get(event_field)
            if not sse or not isinstance(dtype, pl.Enum):
                raise ConfigError("event_field", event_field,
                                  "an Enum column of the schema, with sse")
            self._event_types = [str(v).encode() for v in dtype.categories.to_list()]
        self._keep_count = keep
        names = list(self.schema.names())
        dtypes = list(self.schema.dtypes())
        self._slow = not all(_kind(d) is not None for d in dtypes)
        if self._slow:
            # one column of ready-made JSON, copied as it is; the braces come with it
            plan = [(K.K_RAW, 0, 0, 0)]
            fragments = [b""]
            self._open, self._close = b"", b""
        else:
            plan = []
            fragments = []
            for c, (name, dtype) in enumerate(zip(names, dtypes)):
                fragments.append((b"," if c else b"") + _json_string(name) + b":")
                kind = _kind(dtype)
                assert kind is not None
                plan.append(kind)
            self._open, self._close = b"{", b"}"
        self._names = names
        #: float columns known to hold values without a fast form (rendered before the kernel)
        self._render: set[int] = set()
        self._desc = np.zeros((len(plan), K.N_FIELDS), np.int64)
        # entries (key and value) of every enum and boolean column: the column's values
        choices: list[list[bytes] | None] = []
        for c, (kind, width, p1, p2) in enumerate(plan):
            self._desc[c, K.D_KIND] = kind
            self._desc[c, K.D_WIDTH] = width
            self._desc[c, K.D_P1] = p1
            self._desc[c, K.D_P2] = p2
            if kind == K.K_ENUM:
                categories = dtypes[c].categories.to_list()  # type: ignore[attr-defined]
                choices.append([fragments[c] + _json_string(v) for v in categories])
            elif kind == K.K_BOOL:
                choices.append([fragments[c] + b"false", fragments[c] + b"true"])
            else:
                choices.append(None)
        cats: list[bytes] = []
        for c, entries in enumerate(choices):
            if entries is not None:
                self._desc[c, K.D_P1] = len(cats)
                self._desc[c, K.D_P2] = len(entries)
                cats.extend(entries)
        for first, stop in _groups(choices):
            self._desc[first, K.D_GROUP] = stop - first
            self._desc[first, K.D_GROUP_ENTRY] = len(cats)
            stride = 1
            for c in range(stop - 1, first - 1, -1):
                self._desc[c, K.D_STRIDE] = stride
                stride *= len(choices[c] or ())
            cats.extend(b"".join(parts) for parts in itertools.product(
                *(choices[c] or () for c in range(first, stop))))
        self._keys, self._key_ends = _table(fragments)
        self._cats, self._cat_ends = _table(cats)
        self._framing_for: tuple[bytes, np.ndarray, np.ndarray] | None = None
        self._per_record = 64.0 + sum(len(f) + 24 for f in fragments)
        #: the Arrow schema of the last block, whose columns and types matched ``schema``
        self._arrow_schema = pa.schema([])
        #: output buffers of recent blocks, reused once their blocks are dropped
        self._spare: list[np.ndarray] = []

    def encode(self, frame: pl.DataFrame, *, id_parts: np.ndarray | None = None,
               id_suffix: bytes = b"") -> Encoded:
        """Encode every record of ``frame``.

        Parameters
        ----------
        frame
            A block with the encoder's schema, or of zero rows.
        id_parts
            SSE only: int64 array of shape (p, n); record k's id is ``id_parts[:, k]`` in
            decimal, joined by ``.``. None: no parts.
        id_suffix
            SSE only: bytes appended to every id. With no parts and no suffix, records have
            no ``id:`` line.

        Returns
        -------
        Encoded
            The records' bytes and where each ends. ``data`` is a view of a buffer the encoder
            may reuse for a later block once nothing refers to this one any more.
        """
        if frame.height == 0:
            if self._slow or frame.columns != self._names:
                self._check_schema(frame)
            self._ids(id_parts, id_suffix, 0)
            return Encoded(_EMPTY_U8, _EMPTY_I64)
        return self.encode_rows(self.prepare(frame), 0, frame.height, id_parts=id_parts,
                                id_suffix=id_suffix)

    @property
    def per_record_guess(self) -> float:
        """Bytes per encoded record: the last block's, or a guess from the schema."""
        return float(self._per_record)

    def prepare(self, frame: pl.DataFrame) -> Prepared:
        """Check ``frame`` and describe its buffers once, for :meth:`encode_rows` to encode any
        run of its rows (a stream encodes a large block in small slices)."""
        if self._slow or frame.columns != self._names:
            self._check_schema(frame)
        if self._slow:
            frame = _json_frame(frame)
        batch = _record_batch(frame)
        if not self._slow and not batch.schema.equals(self._arrow_schema):
            self._check_schema(frame)
            self._arrow_schema = batch.schema
        desc, bufs = describe_buffers(self._desc, batch, frame.height)
        if self._event_field is None:
            return Prepared(frame, batch, desc, bufs)
        codes = frame[self._event_field].to_physical().to_numpy().astype(np.int64)
        return Prepared(frame, batch, desc, bufs, codes)

    def encode_rows(self, prepared: Prepared, lo: int, hi: int, *,
                    id_parts: np.ndarray | None = None, id_suffix: bytes = b"") -> Encoded:
        """Encode rows ``lo .. hi - 1`` of a prepared frame (``id_parts`` has hi - lo
        columns); the same bytes as :meth:`encode` of that slice of the frame."""
        if not 0 <= lo <= hi <= prepared.height:
            raise ConfigError("rows", f"{lo}..{hi}", f"a run of rows within 0..{prepared.height}")
        n = hi - lo
        ids = self._ids(id_parts, id_suffix, n)
        if n == 0:
            return Encoded(_EMPTY_U8, _EMPTY_I64)
        framing, framing_ends = self._framing(id_suffix, ids.shape[0] > 0)
        desc, bufs, frame = prepared.desc, prepared.bufs, prepared.frame
        variants = prepared.variants[lo:hi] if prepared.variants.shape[0] else _EMPTY_I64
        if lo or hi != prepared.height:
            desc = _rows_from(desc, lo)
            frame = frame.slice(lo, n)
        ends = np.empty(n, np.int64)
        missed = np.zeros(desc.shape[0], np.int64)
        threads = _threads(n)
        slack = _SLACK if threads == 1 else _CHUNK_SLACK
        out = self._buffer(int(n * self._per_record * slack) + threads * 65536)
        # Floats without a fast form need a rendering made first; the kernel reports the
        # columns that had some, which then get renderings in this and every later block.
        misses = 1
        while misses:
            fb_starts, fb_rows, fb_offsets, fb_data = self._renderings(frame, desc, n)
            args = (out, desc, bufs, self._keys, self._key_ends, self._cats, self._cat_ends,
                    fb_starts, fb_rows, fb_offsets, fb_data, framing, framing_ends, ids,
                    variants, ends, missed)
            if threads > 1:
                out, misses = K.encode_chunked(*args, np.int64(-(-n // threads)))
            else:
                out, misses = K.encode(*args)
            learned = {int(c) for c in np.flatnonzero(missed)}
            if misses and learned <= self._render:  # pragma: no cover - a kernel bug
                raise RuntimeError("floats without renderings after rendering them")
            self._render |= learned
            missed[:] = 0
        size = int(ends[-1])
        self._per_record = size / n
        self._keep(out)
        return Encoded(out[:size], ends)

    def _check_schema(self, frame: pl.DataFrame) -> None:
        if frame.schema != self.schema:
            raise ConfigError("frame", _describe(frame.schema),
                              f"a frame with the encoder's schema {_describe(self.schema)}")

    def _buffer(self, size: int) -> np.ndarray:
        """An output buffer of at least ``size`` bytes: a kept one that nothing else holds any
        more (no ``Encoded`` of an earlier block, no view of one), else a new one."""
        for buffer in self._spare:
            if buffer.shape[0] >= size and sys.getrefcount(buffer) <= _ALONE:
                return buffer
        return np.empty(size, np.uint8)

    def _keep(self, buffer: np.ndarray) -> None:
        """Keep ``buffer`` for reuse by a later block (the _KEEP most recent, if not too big)."""
        if buffer.shape[0] > _KEEP_BYTES or any(b is buffer for b in self._spare):
            return
        self._spare = [buffer, *self._spare[:self._keep_count - 1]]

    def _ids(self, id_parts: np.ndarray | None, id_suffix: bytes, n: int) -> np.ndarray:
        if not self.sse and (id_parts is not None or id_suffix):
            raise ConfigError("id_parts", "given", "None and an empty id_suffix for NDJSON "
                              "(ids are part of Server-Sent Events only)")
        if id_parts is None:
            return np.empty((0, n), np.int64)
        ids = np.ascontiguousarray(id_parts, dtype=np.int64)
        if ids.ndim == 1:
            ids = ids.reshape(1, -1)
        if ids.ndim != 2 or ids.shape[1] != n:
            raise ConfigError("id_parts", f"an array of shape {np.shape(id_parts)}",
                              f"an int64 array of shape (parts, {n})")
        return ids

    def _framing(self, suffix: bytes, has_parts: bool) -> tuple[np.ndarray, np.ndarray]:
        key = (suffix if has_parts else b"\0" + suffix)
        cached = self._framing_for
        if cached is not None and cached[0] == key:
            return cached[1], cached[2]
        if not self.sse:
            segments = [b"", self._open, self._close + b"\n"]
        elif has_parts or suffix:
            segments = [b"id: ", suffix + b"\ndata: " + self._open, self._close + b"\n\n"]
            segments += [suffix + b"\nevent: " + t + b"\ndata: " + self._open
                         for t in self._event_types]
        else:
            segments = [b"", b"data: " + self._open, self._close + b"\n\n"]
            segments += [b"event: " + t + b"\ndata: " + self._open for t in self._event_types]
        framing, framing_ends = _table(segments)
        self._framing_for = (key, framing, framing_ends)
        return framing, framing_ends

    def _renderings(self, frame: pl.DataFrame, desc: np.ndarray,
                    n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Text of the floats without a fast form, in the columns known to have some."""
        if not self._render:
            return np.zeros(desc.shape[0] + 1, np.int64), _EMPTY_I64, _ZERO_I64, _EMPTY_U8
        columns = np.array(sorted(self._render), np.int64)
        starts, rows = K.float_fallbacks(desc, columns, n)
        if rows.shape[0] == 0:
            return starts, rows, _ZERO_I64, _EMPTY_U8
        parts = [frame.to_series(int(c)).gather(rows[starts[c]:starts[c + 1]]).cast(pl.Float64)
                 for c in columns]
        text = pl.concat(parts).cast(pl.String).to_arrow(compat_level=pl.CompatLevel.oldest())
        if isinstance(text, pa.ChunkedArray):
            text = text.combine_chunks()
        _, offsets, data = text.buffers()
        lo = text.offset
        return (starts, rows, np.frombuffer(offsets, np.int64)[lo:lo + len(text) + 1],
                np.frombuffer(data, np.uint8))


def describe_buffers(template: np.ndarray, batch: pa.RecordBatch,
                     n: int) -> tuple[np.ndarray, np.ndarray]:
    """``template`` (a kernel's ``desc`` of the schema) with the per-call part filled in (buffer
    addresses and offsets), and the data buffers.

    Each buffer the kernel reads is checked to hold the block's values (a frame whose types
    changed under the same names cannot make the kernel read past a buffer).
    """
    desc = template.copy()
    bufs: list[int] = []
    for c, array in enumerate(batch.columns):
        kind = int(desc[c, K.D_KIND])
        buffers = array.buffers()
        offset = array.offset
        desc[c, K.D_OFFSET] = offset
        if buffers[0] is not None:
            _check_size(buffers[0], (offset + n + 7) // 8, c)
            desc[c, K.D_VALID] = buffers[0].address
        if kind == K.K_NULL:
            continue
        values = buffers[1]
        if kind in (K.K_ENUM, K.K_CAT):
            width = array.type.index_type.bit_width // 8
            desc[c, K.D_WIDTH] = width
            if kind == K.K_CAT:
                words = array.dictionary
                parts = words.buffers()
                _check_size(parts[1], 16 * (words.offset + len(words)), c)
                desc[c, K.D_P1] = parts[1].address + 16 * words.offset
                desc[c, K.D_P2] = len(bufs)
                bufs.extend(b.address for b in parts[2:])
        elif kind in (K.K_STR, K.K_RAW):
            width = 16
            desc[c, K.D_P1] = len(bufs)
            bufs.extend(b.address for b in buffers[2:])
        elif kind == K.K_BOOL:
            _check_size(values, (offset + n + 7) // 8, c)
            desc[c, K.D_DATA] = values.address
            continue
        else:
            width = int(desc[c, K.D_WIDTH])
        _check_size(values, (offset + n) * width, c)
        desc[c, K.D_DATA] = values.address + offset * width
    return desc, np.array(bufs, np.int64)


def _rows_from(desc: np.ndarray, lo: int) -> np.ndarray:
    """A description of the rows from ``lo`` on: element offsets (bitmaps) move by ``lo``, and
    the first value's address by ``lo`` values (bit-packed booleans move by their offset only)."""
    out = desc.copy()
    out[:, K.D_OFFSET] += lo
    kinds = out[:, K.D_KIND]
    widths = np.where((kinds == K.K_STR) | (kinds == K.K_RAW), 16, out[:, K.D_WIDTH])
    moves = (kinds != K.K_NULL) & (kinds != K.K_BOOL)
    out[moves, K.D_DATA] += lo * widths[moves]
    return out


def _references_in_a_loop(items: list[Any]) -> int:
    for item in items:
        return sys.getrefcount(item)
    return 0


#: What ``sys.getrefcount`` says of a list's item, seen from a loop over the list, when nothing
#: else refers to it (measured, as interpreters count a loop's and a call's references apart).
_ALONE = _references_in_a_loop([object()])


def _record_batch(frame: pl.DataFrame) -> pa.RecordBatch:
    """The frame as one Arrow record batch, its buffers shared (not copied) where possible."""
    reader = pa.RecordBatchReader.from_stream(frame)
    batches = list(reader)
    if len(batches) == 1:
        return batches[0]
    table = pa.Table.from_batches(batches, schema=reader.schema).combine_chunks()
    return table.to_batches()[0] if table.num_rows else batches[0]


def _check_size(buffer: pa.Buffer | None, size: int, column: int) -> None:
    if buffer is None or buffer.size < size:
        got = "none" if buffer is None else f"{buffer.size} bytes"
        raise ConfigError("frame", f"column {column} with a buffer of {got}",
                          f"at least {size} bytes: a frame with the encoder's schema")


def _threads(n: int) -> int:
    """Threads (one chunk each) for a block of ``n`` records: 1 below ``PARALLEL_RECORDS``."""
    return numba.get_num_threads() if n >= PARALLEL_RECORDS else 1


def _kind(dtype: pl.DataType) -> tuple[int, int, int, int] | None:
    """(kind, width, p1, p2) of a column type the kernel encodes, else None."""
    base = dtype.base_type()
    if base in _INT_WIDTHS:
        return K.K_INT, _INT_WIDTHS[base], 0, 0
    if base in _UINT_WIDTHS:
        return K.K_UINT, _UINT_WIDTHS[base], 0, 0
    if base is pl.Float64 or base is pl.Float32:
        return K.K_FLOAT, 8 if base is pl.Float64 else 4, 0, 0
    if base is pl.Boolean:
        return K.K_BOOL, 0, 0, 2
    if base is pl.String:
        return K.K_STR, 0, 0, 0
    if base is pl.Enum:
        return K.K_ENUM, 0, 0, 0
    if base is pl.Categorical:
        return K.K_CAT, 0, 0, 0
    if base is pl.Datetime:
        unit = _UNITS[dtype.time_unit]  # type: ignore[attr-defined]
        return K.K_DATETIME, 8, unit, int(dtype.time_zone is not None)  # type: ignore[attr-defined]
    if base is pl.Date:
        return K.K_DATE, 4, 0, 0
    if base is pl.Null:
        return K.K_NULL, 0, 0, 0
    return None


def _groups(choices: list[list[bytes] | None]) -> list[tuple[int, int]]:
    """Runs [first, stop) of two or more enum/boolean columns whose table of every combination
    stays small (``GROUP_ENTRIES`` entries, ``GROUP_BYTES`` bytes)."""
    runs = []
    c = 0
    while c < len(choices):
        first = c
        combos, size = 1, 0
        while c < len(choices):
            entries = choices[c]
            if not entries:  # not an enum or boolean (or an enum without categories)
                break
            grown = combos * len(entries)
            widest = max(len(e) for e in entries)
            if grown > GROUP_ENTRIES or grown * (size + widest) > GROUP_BYTES:
                break
            combos, size = grown, size + widest
            c += 1
        if c - first >= 2:
            runs.append((first, c))
        c = max(c, first + 1)
    return runs


def _json_string(value: str) -> bytes:
    """``value`` as a JSON string literal, escaped as the kernel escapes strings."""
    out = bytearray(b'"')
    for ch in value.encode():
        if ch == 0x22 or ch == 0x5C:
            out += b"\\" + bytes([ch])
        elif ch < 0x20:
            named = {8: b"\\b", 9: b"\\t", 10: b"\\n", 12: b"\\f", 13: b"\\r"}.get(ch)
            out += named if named is not None else b"\\u%04x" % ch
        else:
            out.append(ch)
    out += b'"'
    return bytes(out)


def _table(entries: list[bytes]) -> tuple[np.ndarray, np.ndarray]:
    """Concatenated bytes (padded) and the offsets around each entry (``len(entries) + 1``)."""
    # padding: the kernel copies entries a word at a time
    data = np.frombuffer(b"".join(entries) + bytes(K.PAD), np.uint8)
    ends = np.zeros(len(entries) + 1, np.int64)
    np.cumsum([len(e) for e in entries], out=ends[1:])
    return data, ends


def _json_frame(frame: pl.DataFrame) -> pl.DataFrame:
    """One String column holding each row as JSON, made by polars (the slow path)."""
    exprs: list[pl.Expr] = []
    for name, dtype in frame.schema.items():
        col = pl.col(name)
        if isinstance(dtype, pl.Datetime):
            if dtype.time_zone is None:
                col = col.dt.strftime(_ISO)
            else:
                col = col.dt.convert_time_zone("UTC").dt.strftime(_ISO + "+00:00")
        elif dtype == pl.Float32:
            col = col.cast(pl.Float64)
        elif dtype == pl.Binary:
            col = col.bin.encode("base64")
        elif dtype == pl.Object:
            col = col.map_elements(str, return_dtype=pl.String)
        exprs.append(col)
    return frame.select(pl.struct(exprs).struct.json_encode().alias("json"))


def _describe(schema: Any) -> str:
    return "{" + ", ".join(f"{k}: {v}" for k, v in schema.items()) + "}"
