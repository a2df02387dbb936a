"""The block encoder: NDJSON and SSE bytes against Python's json and orjson, value by value.

The reference for every line is built here in plain Python (``json.dumps`` for keys and strings,
``repr`` for floats, ``datetime.isoformat`` for times), or the line is parsed back and compared
with the frame's row, floats bit for bit. Frames cover every dtype the kernel writes, with
nulls, Arrow offsets (sliced frames), several chunks, and the slow path for other dtypes.
"""

from __future__ import annotations

import datetime as dt
import doctest
import json
import math
import random
import re
from typing import Any

import numpy as np
import orjson
import polars as pl
import pytest

import simtom
import simtom.outputs.encode
from simtom.errors import ConfigError
from simtom.outputs.encode import Encoded, Encoder

UTC = dt.timezone.utc
EPOCH = dt.datetime(1970, 1, 1)


@pytest.fixture(scope="module")
def bnpl() -> pl.DataFrame:
    return simtom.frame("bnpl", n=3000, seed=7, arrival_pattern="poisson", rate_per_second=3.0)


def records(encoded: Encoded) -> list[bytes]:
    data = encoded.data.tobytes()
    starts = [0, *encoded.ends[:-1].tolist()]
    return [data[a:b] for a, b in zip(starts, encoded.ends.tolist())]


def iso(value: dt.datetime) -> str:
    return value.isoformat(timespec="microseconds")


def expected_row(row: dict[str, Any]) -> dict[str, Any]:
    """The row as the encoder writes it: times as ISO strings, dates too, floats as they are."""
    out = {}
    for key, value in row.items():
        if isinstance(value, dt.datetime):
            value = iso(value)
        elif isinstance(value, dt.date):
            value = value.isoformat()
        elif isinstance(value, float) and not math.isfinite(value):
            value = None
        out[key] = value
    return out


def same(a: Any, b: Any) -> bool:
    """Equal, with floats compared bit for bit (so -0.0 differs from 0.0)."""
    if isinstance(a, float) and isinstance(b, float):
        return a == b and math.copysign(1.0, a) == math.copysign(1.0, b)
    if isinstance(a, dict) and isinstance(b, dict):
        return list(a) == list(b) and all(same(a[k], b[k]) for k in a)
    return type(a) is type(b) and a == b


# ---------------------------------------------------------------------------------------------
# BNPL blocks
# ---------------------------------------------------------------------------------------------


def test_bnpl_lines_parse_back_to_the_rows(bnpl):
    encoded = Encoder(bnpl.schema).encode(bnpl)
    lines = records(encoded)
    assert len(lines) == len(encoded) == len(bnpl)
    for line, row in zip(lines, bnpl.iter_rows(named=True)):
        assert line.endswith(b"\n") and line.count(b"\n") == 1
        want = expected_row(row)
        assert same(json.loads(line), want)
        assert same(orjson.loads(line), want)


def test_bnpl_lines_are_byte_identical_to_orjson(bnpl):
    # orjson writes floats in shortest round-trip form, like repr: this pins the whole format
    encoded = Encoder(bnpl.schema).encode(bnpl)
    for line, row in zip(records(encoded), bnpl.iter_rows(named=True)):
        assert line == orjson.dumps(expected_row(row)) + b"\n"


def test_bnpl_timestamps_are_utc_iso_with_microseconds(bnpl):
    encoded = Encoder(bnpl.schema).encode(bnpl)
    stamps = [json.loads(line)["_timestamp"] for line in records(encoded)]
    pattern = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}\+00:00")
    assert all(pattern.fullmatch(s) for s in stamps)
    assert all(dt.datetime.fromisoformat(s) == t for s, t in zip(stamps, bnpl["_timestamp"]))


def test_sse_framing_ids_and_data_lines(bnpl):
    n = len(bnpl)
    parts = np.vstack([np.arange(n) + 10**12, np.arange(n) % 7, np.zeros(n, np.int64)])
    suffix = b".s42.abcd"
    sse = Encoder(bnpl.schema, sse=True).encode(bnpl, id_parts=parts, id_suffix=suffix)
    lines = records(Encoder(bnpl.schema).encode(bnpl))
    for k, (event, line) in enumerate(zip(records(sse), lines)):
        head = f"id: {10**12 + k}.{k % 7}.0".encode() + suffix + b"\ndata: "
        assert event == head + line[:-1] + b"\n\n"


def test_sse_without_ids_has_no_id_line(bnpl):
    block = bnpl.head(5)
    sse = Encoder(block.schema, sse=True).encode(block)
    lines = records(Encoder(block.schema).encode(block))
    assert records(sse) == [b"data: " + line[:-1] + b"\n\n" for line in lines]
    suffixed = Encoder(block.schema, sse=True).encode(block, id_suffix=b"x")
    assert records(suffixed) == [b"id: x\ndata: " + line[:-1] + b"\n\n" for line in lines]


def test_one_dimensional_id_parts_are_one_part(bnpl):
    block = bnpl.head(3)
    events = records(Encoder(block.schema, sse=True).encode(block, id_parts=np.array([5, 0, 77])))
    assert [e.split(b"\n")[0] for e in events] == [b"id: 5", b"id: 0", b"id: 77"]


def test_ends_and_slices(bnpl):
    encoded = Encoder(bnpl.schema).encode(bnpl)
    ends = encoded.ends
    assert ends.dtype == np.int64 and encoded.data.dtype == np.uint8
    assert np.all(np.diff(ends) > 0) and ends[-1] == encoded.data.shape[0]
    lines = records(encoded)
    for lo, hi in [(0, 1), (0, 3000), (17, 18), (1000, 2345), (5, 5), (2999, 3000)]:
        piece = encoded.slice(lo, hi)
        assert isinstance(piece, memoryview)
        assert bytes(piece) == b"".join(lines[lo:hi])
    assert np.shares_memory(np.frombuffer(encoded.slice(10, 20), np.uint8), encoded.data)


def test_blocks_are_independent(bnpl):
    encoder = Encoder(bnpl.schema)
    whole = encoder.encode(bnpl)
    pieces, start = [], 0
    for size in (1, 7, 100, 1024, 1, 868, 999):
        pieces.append(encoder.encode(bnpl.slice(start, size)))
        start += size
    assert start == len(bnpl)
    assert b"".join(p.data.tobytes() for p in pieces) == whole.data.tobytes()
    sse = Encoder(bnpl.schema, sse=True)
    ids = np.arange(len(bnpl)).reshape(1, -1)
    whole = sse.encode(bnpl, id_parts=ids, id_suffix=b".x")
    halves = [sse.encode(bnpl.slice(a, b - a), id_parts=ids[:, a:b], id_suffix=b".x")
              for a, b in ((0, 1234), (1234, 3000))]
    assert b"".join(h.data.tobytes() for h in halves) == whole.data.tobytes()


def test_an_encoded_block_stays_valid_while_later_blocks_are_encoded(bnpl):
    encoder = Encoder(bnpl.schema)
    first = encoder.encode(bnpl.head(1000))
    kept = first.data.tobytes()
    view = first.slice(0, 10)
    del first
    for start in (1000, 2000, 0):
        encoder.encode(bnpl.slice(start, 1000))  # may reuse buffers nothing else holds
    assert bytes(view) == kept[:len(bytes(view))]


@pytest.mark.parametrize("threads", [2, 3, 7])
def test_parallel_chunks_give_the_same_bytes(bnpl, monkeypatch, threads):
    ids = np.arange(len(bnpl)).reshape(1, -1)
    serial = [Encoder(bnpl.schema).encode(bnpl),
              Encoder(bnpl.schema, sse=True).encode(bnpl, id_parts=ids)]
    monkeypatch.setattr(simtom.outputs.encode, "_threads", lambda n: threads)
    for per_record in (None, 50.0, 1500.0):  # slots that fit, that do not, the first only
        encoders = [Encoder(bnpl.schema), Encoder(bnpl.schema, sse=True)]
        for encoder, want in zip(encoders, serial):
            if per_record is not None:
                encoder._per_record = per_record
            got = encoder.encode(bnpl, id_parts=ids if encoder.sse else None)
            assert got.data.tobytes() == want.data.tobytes()
            assert np.array_equal(got.ends, want.ends)


def test_parallel_chunks_when_only_the_first_fits_its_share(monkeypatch):
    short = pl.DataFrame({"k": range(4000), "s": ["a"] * 4000})
    mixed = pl.DataFrame({"k": range(4000), "s": ["a"] * 2000 + ["é" * 300] * 2000})
    want = Encoder(mixed.schema).encode(mixed)
    monkeypatch.setattr(simtom.outputs.encode, "_threads", lambda n: 2)
    encoder = Encoder(short.schema)
    encoder.encode(short)  # learns a small size per record
    got = encoder.encode(mixed)
    assert got.data.tobytes() == want.data.tobytes()
    assert np.array_equal(got.ends, want.ends)


def test_output_buffer_grows_when_the_guess_is_short(bnpl):
    encoder = Encoder(bnpl.schema)
    want = encoder.encode(bnpl).data.tobytes()
    encoder._per_record = 10.0
    assert encoder.encode(bnpl).data.tobytes() == want


def test_a_dropped_block_lends_its_buffer_to_the_next(bnpl):
    encoder = Encoder(bnpl.schema)
    first = encoder.encode(bnpl)
    buffer = id(first.data.base)  # (not a reference: that would keep the buffer busy)
    del first
    second = encoder.encode(bnpl)
    assert id(second.data.base) == buffer  # reused: nothing referred to the first block
    third = encoder.encode(bnpl)
    assert id(third.data.base) != buffer  # the second block still holds it
    assert third.data.tobytes() == second.data.tobytes()


def test_empty_frame(bnpl):
    encoded = Encoder(bnpl.schema, sse=True).encode(bnpl.head(0))
    assert len(encoded) == 0 and encoded.data.shape == (0,) and encoded.ends.shape == (0,)
    assert bytes(encoded.slice(0, 0)) == b""


def test_a_frame_of_another_schema_is_refused(bnpl):
    encoder = Encoder(bnpl.schema)
    with pytest.raises(ConfigError, match="frame"):
        encoder.encode(bnpl.drop("amount"))
    with pytest.raises(ConfigError, match="frame"):
        encoder.encode(bnpl.with_columns(pl.col("amount").cast(pl.Float32)))


def test_ids_are_for_sse_only(bnpl):
    with pytest.raises(ConfigError, match="id_parts"):
        Encoder(bnpl.schema).encode(bnpl.head(2), id_parts=np.zeros((1, 2), np.int64))
    with pytest.raises(ConfigError, match="id_parts"):
        Encoder(bnpl.schema, sse=True).encode(bnpl.head(2), id_parts=np.zeros((1, 3), np.int64))


def test_docstring_example():
    result = doctest.testmod(simtom.outputs.encode)
    assert result.attempted >= 1 and result.failed == 0


# ---------------------------------------------------------------------------------------------
# Every dtype, nulls, edge values
# ---------------------------------------------------------------------------------------------

TRICKY = ['a"b', "back\\slash", "line\nbreak\r\ttab\b\f", "\x00\x01\x1f\x7f", "é ü 中文", "😀🚀",
          "", "x" * 12, "y" * 13, 'z' * 7 + '"' + "z" * 8, "q" * 40 + "\\", "\n" + "w" * 20,
          "end quote\"", None]
FLOATS = [89.59, 22.4, 0.0, -0.0, 1500.0, -3.5, 0.0001, 12345678.9012, 99999999999.9999,
          123456789012.25, 999999999999999.0, 1e15, 1e-7, 1 / 3, 1e300, -2.5e-300,
          123456789012345.67, 5e-324, 2.2250738585072014e-308, 1.7976931348623157e308,
          float("nan"), float("inf"), float("-inf"), None]
INT64 = [0, 1, -1, 9, 10, 99, 100, 12345678, 99999999, 100000000, 2**63 - 1, -(2**63), None]


def column(values: list[Any], n: int) -> list[Any]:
    return [values[k % len(values)] for k in range(n)]


def all_types_frame(n: int = 64) -> pl.DataFrame:
    times = [dt.datetime(1969, 12, 31, 23, 59, 59, 999999), dt.datetime(1, 1, 1),
             dt.datetime(9999, 12, 31, 23, 59, 59, 999999), dt.datetime(1900, 3, 1, 12),
             dt.datetime(2024, 2, 29, 1, 2, 3, 4), dt.datetime(1970, 1, 1), None]
    dates = [dt.date(1969, 12, 31), dt.date(1, 1, 1), dt.date(9999, 12, 31),
             dt.date(2000, 2, 29), dt.date(1600, 3, 1), None]
    flags = [True, False, None, True]
    return pl.DataFrame({
        "i8": pl.Series(column([-128, 127, 0, None], n), dtype=pl.Int8),
        "i16": pl.Series(column([-32768, 32767, 5, None], n), dtype=pl.Int16),
        "i32": pl.Series(column([-(2**31), 2**31 - 1, 42, None], n), dtype=pl.Int32),
        "i64": pl.Series(column(INT64, n), dtype=pl.Int64),
        "u8": pl.Series(column([0, 255, None], n), dtype=pl.UInt8),
        "u16": pl.Series(column([0, 65535, None], n), dtype=pl.UInt16),
        "u32": pl.Series(column([0, 2**32 - 1, None], n), dtype=pl.UInt32),
        "u64": pl.Series(column([0, 2**64 - 1, 2**63, 10**19, None], n), dtype=pl.UInt64),
        "f64": pl.Series(column(FLOATS, n), dtype=pl.Float64),
        "f32": pl.Series(column([0.1, 1.5, -2.25, 3.4e38, 1e-45, None, float("nan")], n),
                         dtype=pl.Float32),
        "flag": pl.Series(column(flags, n), dtype=pl.Boolean),
        "text": pl.Series(column(TRICKY, n), dtype=pl.String),
        "kind": pl.Series(column(["a", 'q"uote', None, "é"], n),
                          dtype=pl.Enum(["a", 'q"uote', "é"])),
        "cat": pl.Series(column(["red", "gr\neen", None], n), dtype=pl.Categorical),
        "ts_us": pl.Series(column(times, n), dtype=pl.Datetime("us", "UTC")),
        "ts_ms": pl.Series(column(times[1:], n), dtype=pl.Datetime("ms", "UTC")),
        "ts_ns": pl.Series(column([dt.datetime(1969, 12, 31, 23, 59, 59, 999999),
                                   dt.datetime(2262, 4, 11), None], n), dtype=pl.Datetime("ns")),
        "ts_naive": pl.Series(column(times, n), dtype=pl.Datetime("us")),
        "ts_kolkata": pl.Series(column(times[3:5], n), dtype=pl.Datetime("us", "UTC"))
                        .dt.convert_time_zone("Asia/Kolkata"),
        "day": pl.Series(column(dates, n), dtype=pl.Date),
        "nothing": pl.Series([None] * n, dtype=pl.Null),
        "wéird \"key\"\n": pl.Series(column([1, None], n), dtype=pl.Int64),
    })


def reference_value(value: Any, dtype: pl.DataType) -> Any:
    """What json.loads should give for ``value`` of ``dtype``."""
    if value is None:
        return None
    if dtype == pl.Float32:
        value = float(np.float32(value))
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dt.datetime):
        if value.tzinfo is not None:
            return iso(value.astimezone(UTC))
        return iso(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


def test_every_dtype_parses_back():
    frame = all_types_frame()
    schema = frame.schema
    for line, row in zip(records(Encoder(schema).encode(frame)), frame.iter_rows(named=True)):
        got = json.loads(line)
        want = {k: reference_value(v, schema[k]) for k, v in row.items()}
        assert same(got, want), (line, want)


def test_fast_floats_are_written_as_repr():
    frame = all_types_frame().select("f64")
    for line, value in zip(records(Encoder(frame.schema).encode(frame)), frame["f64"]):
        text = line[len(b'{"f64":'):-2].decode()
        if value is None or not math.isfinite(value):
            assert text == "null"
            continue
        if abs(value) < 1e15 and value == float(f"{value:.4f}"):
            assert text == repr(value)
        assert same(json.loads(text), value)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_random_doubles_round_trip(seed):
    rng = np.random.default_rng(seed)
    bits = rng.integers(0, 2**63, 4000, dtype=np.int64) * rng.choice([1, -1], 4000)
    values = bits.view(np.float64)
    cents = np.round(rng.normal(0, 1e6, 4000)) / 100
    small = rng.integers(-10**8, 10**8, 4000) / 10**rng.integers(0, 8, 4000)
    frame = pl.DataFrame({"x": np.concatenate([values, cents, small])})
    encoder = Encoder(frame.schema)
    for _ in range(2):  # the second block takes the learned path (renderings made first)
        lines = records(encoder.encode(frame))
        for line, value in zip(lines, frame["x"].to_list()):
            got = json.loads(line)["x"]
            assert (got is None) if not math.isfinite(value) else same(got, value), (line, value)


def test_strings_are_escaped_as_json_dumps_does():
    rng = random.Random(5)
    alphabet = ['"', "\\", "\n", "\x00", "\x1f", "\x7f", "a", "b", "é", "😀", "\t", " "]
    texts = ["".join(rng.choice(alphabet) for _ in range(rng.randrange(0, 40)))
             for _ in range(2000)] + [t for t in TRICKY if t is not None]
    frame = pl.DataFrame({"s": texts})
    lines = records(Encoder(frame.schema).encode(frame))
    for line, text in zip(lines, texts):
        assert line == b'{"s":' + json.dumps(text, ensure_ascii=False).encode() + b"}\n"


def test_every_dtype_exact_bytes():
    frame = all_types_frame().drop("f64", "f32")  # floats without a fast form: parsed above
    keys = [json.dumps(k, ensure_ascii=False) for k in frame.columns]
    schema = frame.schema
    for line, row in zip(records(Encoder(schema).encode(frame)), frame.iter_rows(named=True)):
        fields = []
        for key, (name, value) in zip(keys, row.items()):
            fields.append(key + ":" + json.dumps(reference_value(value, schema[name]),
                                                 ensure_ascii=False))
        assert line == ("{" + ",".join(fields) + "}\n").encode()


def test_sliced_and_chunked_frames():
    frame = all_types_frame(200)
    encoder = Encoder(frame.schema)
    whole = records(encoder.encode(frame))
    for lo, size in ((1, 50), (13, 100), (63, 137), (199, 1)):
        assert records(encoder.encode(frame.slice(lo, size))) == whole[lo:lo + size]
    chunked = pl.concat([frame.slice(0, 70), frame.slice(70, 55), frame.slice(125, 75)],
                        rechunk=False)
    assert chunked.n_chunks() > 1
    assert records(encoder.encode(chunked)) == whole


def test_groups_of_enums_and_booleans_with_nulls():
    n = 300
    rng = np.random.default_rng(3)
    colours = pl.Enum(["red", "green", "blue"])
    frame = pl.DataFrame({
        "a": pl.Series(rng.choice(["red", "green", "blue"], n), dtype=colours),
        "b": pl.Series(rng.random(n) < 0.5),
        "c": pl.Series([None if k % 17 == 0 else ["x", "y"][k % 2] for k in range(n)],
                       dtype=pl.Enum(["x", "y"])),
        "d": pl.Series([None if k % 23 == 0 else k % 3 == 0 for k in range(n)]),
        "e": pl.Series(rng.choice(["red", "blue"], n), dtype=colours),
    })
    encoder = Encoder(frame.schema)
    assert encoder._desc[0, 7] == 5  # one group of all five columns (D_GROUP)
    for line, row in zip(records(encoder.encode(frame)), frame.iter_rows(named=True)):
        assert line == orjson.dumps(row) + b"\n"


def test_enum_without_categories_and_null_columns():
    frame = pl.DataFrame({
        "none": pl.Series([None, None], dtype=pl.Enum([])),
        "flag": [True, None],
        "gone": pl.Series([None, None], dtype=pl.Null),
        "only": pl.Series(["x", "x"], dtype=pl.Enum(["x"])),
    })
    lines = records(Encoder(frame.schema).encode(frame))
    assert lines == [b'{"none":null,"flag":true,"gone":null,"only":"x"}\n',
                     b'{"none":null,"flag":null,"gone":null,"only":"x"}\n']


def test_float_columns_learn_which_need_rendering():
    cents = pl.DataFrame({"a": [1.25, 2.5], "b": [3.0, 4.75]})
    thirds = pl.DataFrame({"a": [1 / 3, 2.5], "b": [3.0, 2 / 3]})
    encoder = Encoder(cents.schema)
    for frame in (cents, thirds, cents, thirds):
        got = [json.loads(line) for line in records(encoder.encode(frame))]
        assert got == frame.to_dicts()
    assert encoder._render == {0, 1}


# ---------------------------------------------------------------------------------------------
# The slow path (dtypes the kernel does not write)
# ---------------------------------------------------------------------------------------------


def slow_frame() -> pl.DataFrame:
    return pl.DataFrame({
        "id": [1, 2, None],
        "tags": [[1, 2], [], None],
        "point": [{"x": 1.5, "y": "a\"b"}, {"x": None, "y": None}, None],
        "when": pl.Series([dt.datetime(1960, 1, 1, 1, 2, 3, 4), None, dt.datetime(2025, 1, 1)],
                          dtype=pl.Datetime("us", "UTC")),
        "naive": pl.Series([dt.datetime(2001, 2, 3), None, dt.datetime(1969, 12, 31, 23)],
                           dtype=pl.Datetime("ns")),
        "ratio": pl.Series([0.1, None, float("nan")], dtype=pl.Float32),
        "blob": [b"\x00\xff", None, b"ok"],
        "text": ["é\n", None, '"'],
    })


def test_unsupported_dtypes_take_the_slow_path():
    frame = slow_frame()
    encoder = Encoder(frame.schema)
    assert encoder._slow
    got = [json.loads(line) for line in records(encoder.encode(frame))]
    assert got == [
        {"id": 1, "tags": [1, 2], "point": {"x": 1.5, "y": 'a"b'},
         "when": "1960-01-01T01:02:03.000004+00:00", "naive": "2001-02-03T00:00:00.000000",
         "ratio": float(np.float32(0.1)), "blob": "AP8=", "text": "é\n"},
        {"id": 2, "tags": [], "point": {"x": None, "y": None}, "when": None, "naive": None,
         "ratio": None, "blob": None, "text": None},
        {"id": None, "tags": None, "point": None, "when": "2025-01-01T00:00:00.000000+00:00",
         "naive": "1969-12-31T23:00:00.000000", "ratio": None, "blob": "b2s=", "text": '"'},
    ]


def test_slow_path_framing_matches_the_fast_path():
    frame = slow_frame()
    fast = frame.select("id", "when", "naive", "text")
    ids = np.array([[3, 4, 5]])
    for sse in (False, True):
        kw: dict[str, Any] = {"id_parts": ids, "id_suffix": b".s"} if sse else {}
        slow = records(Encoder(frame.schema, sse=sse).encode(frame, **kw))
        quick = records(Encoder(fast.schema, sse=sse).encode(fast, **kw))
        for a, b in zip(slow, quick):
            head, _, _ = b.partition(b"{")
            assert a.startswith(head + b"{") and a.endswith(b"}\n\n" if sse else b"}\n")
            # the shared fields are written identically
            body_a = json.loads(a[len(head):])
            body_b = json.loads(b[len(head):])
            assert {k: body_a[k] for k in body_b} == body_b


def test_dates_far_from_now_match_polars() -> None:
    """The kernel's dates agree with polars' JSON (the slow path) for any year: ISO 8601's
    expanded years with a sign, and the right day before year 0 (a floor-division slip once
    put those a day late)."""
    rng = np.random.default_rng(7)
    for dtype, reach in ((pl.Datetime("ms", "UTC"), 10**15), (pl.Datetime("us"), 10**17),
                         (pl.Date(), 4_000_000)):
        values = [0, reach, -reach, -1, 1, *rng.integers(-reach, reach, 3000).tolist()]
        series = pl.Series("v", values).cast(dtype)
        fast = Encoder(pl.Schema({"v": dtype})).encode(series.to_frame())
        with_list = pl.DataFrame({"v": series, "l": [[1]] * len(values)})  # forces polars
        slow = Encoder(with_list.schema).encode(with_list)
        expected = bytes(slow.slice(0, len(values))).replace(b',"l":[1]', b"")
        assert bytes(fast.slice(0, len(values))) == expected, dtype


@pytest.mark.parametrize("sse", [False, True])
def test_rows_of_a_prepared_frame_are_the_bytes_of_its_slices(sse):
    # every dtype, nulls and bit-packed booleans at odd offsets, an already sliced frame
    # (Arrow offsets) and a chunked one, ids for SSE
    base = all_types_frame(300)
    for frame in (base, base.slice(7, 250),
                  pl.concat([base.slice(0, 90), base.slice(90, 210)], rechunk=False)):
        encoder = Encoder(frame.schema, sse=sse)
        n = frame.height
        parts = np.arange(2 * n, dtype=np.int64).reshape(2, n) if sse else None
        suffix = b".x" if sse else b""
        prepared = encoder.prepare(frame)
        for lo, hi in ((0, n), (1, 2), (3, 67), (61, 200), (n - 1, n), (5, 5)):
            ids = None if parts is None else parts[:, lo:hi]
            got = encoder.encode_rows(prepared, lo, hi, id_parts=ids, id_suffix=suffix)
            want = encoder.encode(frame.slice(lo, hi - lo), id_parts=ids, id_suffix=suffix)
            assert bytes(got.slice(0, hi - lo)) == bytes(want.slice(0, hi - lo)), (lo, hi)
            assert np.array_equal(got.ends, want.ends)


def test_rows_of_a_slow_path_frame_and_rows_out_of_range():
    frame = slow_frame()
    encoder = Encoder(frame.schema)
    prepared = encoder.prepare(frame)
    assert bytes(encoder.encode_rows(prepared, 1, 3).slice(0, 2)) == bytes(
        encoder.encode(frame.slice(1, 2)).slice(0, 2))
    with pytest.raises(ConfigError, match="rows"):
        encoder.encode_rows(prepared, 2, 4)
