"""Frames as dicts: the pickle kernel's dicts against the encoder's JSON lines, parsed by orjson.

The reference for every record is its NDJSON line parsed back (the JSON encoder has its own
tests against plain Python in ``test_encode.py``). Values are compared strictly: same type,
floats bit for bit, keys in column order. Frames cover every dtype the kernel writes, nulls,
Arrow offsets, several chunks, long strings and keys, memo references past 255, enums too big
for the memo, and columns constant in one chunk but not in the next.
"""

from __future__ import annotations

import pickle
from typing import Any

import numpy as np
import orjson
import polars as pl
import pytest
from simtom_kernels import pickles as P
from test_encode import all_types_frame, same

import simtom
import simtom.outputs.dicts
from simtom.errors import ConfigError
from simtom.outputs.dicts import DictMaker
from simtom.outputs.encode import Encoder


def json_records(frame: pl.DataFrame) -> list[dict[str, Any]]:
    encoded = Encoder(frame.schema).encode(frame)
    return [orjson.loads(line) for line in bytes(encoded.slice(0, frame.height)).splitlines()]


def check(frame: pl.DataFrame, size: int = simtom.outputs.dicts.CHUNK) -> None:
    maker = DictMaker(frame.schema)
    assert maker.pickles
    chunks = list(maker.chunks(frame, size))
    assert [len(c) for c in chunks] == [min(size, frame.height - lo)
                                        for lo in range(0, frame.height, size)]
    got = [record for chunk in chunks for record in chunk]
    want = json_records(frame)
    assert len(got) == len(want) == frame.height
    for k, (a, b) in enumerate(zip(got, want)):
        assert type(a) is dict and same(a, b), (k, a, b)


@pytest.mark.parametrize("size", [1, 7, 64, 256, 1000])
def test_every_dtype(size: int) -> None:
    check(all_types_frame(200), size)


def test_sliced_and_chunked_frames() -> None:
    frame = all_types_frame(300)
    for lo, n in ((1, 50), (13, 100), (63, 237)):
        check(frame.slice(lo, n), 32)
    chunked = pl.concat([frame.slice(0, 70), frame.slice(70, 55), frame.slice(125, 175)],
                        rechunk=False)
    assert chunked.n_chunks() > 1
    check(chunked, 64)


def test_bnpl_blocks() -> None:
    frame = simtom.frame("bnpl", n=3000, seed=7, arrival_pattern="poisson",
                         denormalize_entities=True)
    check(frame)
    check(frame.slice(1000, 1500), 100)


def test_random_doubles_and_integers() -> None:
    rng = np.random.default_rng(11)
    bits = rng.integers(0, 2**63, 3000, dtype=np.int64) * rng.choice([1, -1], 3000)
    frame = pl.DataFrame({
        "x": bits.view(np.float64),  # NaNs and infinities among them: None
        "f32": rng.integers(0, 2**32, 3000, dtype=np.uint64).astype(np.uint32).view(np.float32),
        "i": rng.integers(-2**63, 2**63 - 1, 3000, dtype=np.int64) >> rng.integers(0, 63, 3000),
        "u": (rng.integers(0, 2**64 - 1, 3000, dtype=np.uint64)
              >> rng.integers(0, 64, 3000).astype(np.uint64)),
    })
    check(frame)


def test_constant_columns_per_chunk() -> None:
    """A column constant in one chunk (written once, in the chunk's first record) and varying
    in the next; nulls constant, then mixed; equal long strings stored apart."""
    n = 40
    frame = pl.DataFrame({
        "a": [1] * 20 + list(range(20)),
        "b": ["same"] * 10 + ["x", "y"] * 15,
        "c": pl.Series([None] * 20 + [None, 1.5] * 10, dtype=pl.Float64),
        "d": ["long string of forty characters, or so!"] * n,
        "e": [True] * 30 + [False] * 10,
        "f": pl.Series(["k"] * n, dtype=pl.Enum(["j", "k"])),
    })
    for size in (10, 20, 40):
        check(frame, size)
    records = DictMaker(frame.schema)(frame)
    assert records[1] is not records[0] and records[1] == records[0]


def test_fields_holding_the_common_value_share_the_templates_objects() -> None:
    """A record's field equal to the chunk's common value is not set: it keeps the template's
    object (a rare first row does not make the template)."""
    frame = pl.DataFrame({
        "n": [7] + [300] * 9,
        "e": pl.Series(["b"] + ["a"] * 9, dtype=pl.Enum(["a", "b"])),
        "x": [0.5] * 10,
    })
    records = DictMaker(frame.schema)(frame)
    assert [r["n"] for r in records] == [7] + [300] * 9
    assert len({id(r["n"]) for r in records[1:]}) == 1  # 300 is not a cached small int
    assert len({id(r["x"]) for r in records}) == 1
    check(frame, 10)


def test_bnpl_records_set_only_the_fields_that_differ_from_the_template() -> None:
    """The figure the kernel's notes give: of 47 BNPL fields, 28 are set per record (the
    others are constant in a chunk or hold the template's common value). Counted in the pickles:
    each set field is two opcodes (a key reference, a value) between a record's MARK and
    SETITEMS. Fixed seed, so the count is exact (28.1 per record)."""
    import pickletools

    frame = simtom.frame("bnpl", n=25_600, seed=42)
    pickles = DictMaker(frame.schema)._pickles
    assert pickles is not None
    from simtom.outputs.dicts import _record_batch, describe_buffers

    batch = _record_batch(frame)
    desc, bufs = describe_buffers(pickles._desc, batch, frame.height)
    starts = np.zeros(frame.height // 256 + 1, np.int64)
    out = P.pickle_chunks(np.empty(1 << 20, np.uint8), desc, bufs, pickles._head, pickles._cats,
                          pickles._cat_ends, pickles._cat_memo, pickles._template_memo, 256, 0,
                          frame.height, starts)
    records = fields = 0
    for k in range(starts.shape[0] - 1):
        ops = [op.name for op, _, _ in pickletools.genops(out[starts[k]:starts[k + 1]].tobytes())]
        for i, name in enumerate(ops):
            if name != "REDUCE":
                continue
            records += 1
            if ops[i + 1] == "MARK":
                fields += (ops.index("SETITEMS", i + 2) - (i + 2)) // 2
    assert records == frame.height
    assert 27.6 < fields / records < 28.6


def test_long_keys_and_strings_and_memo_past_255() -> None:
    """Keys and strings of 256+ bytes (BINUNICODE), more than 255 columns and categories (memo
    references of four bytes)."""
    rng = np.random.default_rng(2)
    columns: dict[str, Any] = {f"c{k}": rng.integers(0, 3, 20) for k in range(300)}
    columns["k" * 300] = ["é" * 200, "short", "x" * 255, "y" * 256] * 5
    words = [f"w{k}" for k in range(400)]
    columns["many"] = pl.Series(rng.choice(words, 20), dtype=pl.Enum(words))
    frame = pl.DataFrame(columns)
    check(frame, 8)


def test_enums_beyond_the_memo_are_written_as_text(monkeypatch: pytest.MonkeyPatch) -> None:
    words = [f"category {k}" for k in range(50)]
    rng = np.random.default_rng(3)
    frame = pl.DataFrame({
        "e": pl.Series(rng.choice(words, 300), dtype=pl.Enum(words)),
        "g": pl.Series(rng.choice(["a", "b", None], 300), dtype=pl.Enum(["a", "b"])),
    })
    monkeypatch.setattr(simtom.outputs.dicts, "MEMO_CATEGORIES", 10)
    maker = DictMaker(frame.schema)
    assert maker._pickles is not None and (maker._pickles._cat_memo == -1).all()
    check(frame, 64)
    monkeypatch.undo()
    assert (DictMaker(frame.schema)._pickles._cat_memo >= 0).all()  # type: ignore[union-attr]
    check(frame, 64)


def test_other_dtypes_go_through_json() -> None:
    frame = pl.DataFrame({"tags": [["a"], [], None], "n": [1, 2, 3]})
    maker = DictMaker(frame.schema)
    assert not maker.pickles
    assert maker(frame) == json_records(frame) == [
        {"tags": ["a"], "n": 1}, {"tags": [], "n": 2}, {"tags": None, "n": 3}]
    assert [len(c) for c in maker.chunks(frame, 2)] == [2, 1]


def test_empty_frame_and_wrong_schema() -> None:
    frame = all_types_frame(10)
    maker = DictMaker(frame.schema)
    assert maker(frame.head(0)) == []
    with pytest.raises(ConfigError, match="frame"):
        maker(frame.drop("i8"))
    with pytest.raises(ConfigError, match="frame"):
        maker(frame.with_columns(pl.col("i8").cast(pl.Int16)))


def test_kernel_pickles_several_chunks_into_one_buffer() -> None:
    """The kernel's multi-chunk form (records first .. stop - 1, from the start of the buffer),
    and its growing of a buffer too small."""
    frame = all_types_frame(100)
    pickles = DictMaker(frame.schema)._pickles
    assert pickles is not None
    from simtom.outputs.dicts import _record_batch, describe_buffers

    batch = _record_batch(frame)
    desc, bufs = describe_buffers(pickles._desc, batch, 100)
    starts = np.zeros(4, np.int64)
    out = P.pickle_chunks(np.empty(16, np.uint8), desc, bufs, pickles._head, pickles._cats,
                          pickles._cat_ends, pickles._cat_memo, pickles._template_memo, 30, 10,
                          95, starts)
    assert starts[0] == 0 and out.shape[0] >= starts[-1]
    lists = [pickle.loads(out[starts[k]:starts[k + 1]].tobytes()) for k in range(3)]
    assert [len(x) for x in lists] == [30, 30, 25]
    want = json_records(frame)[10:95]
    assert all(same(a, b) for a, b in zip([r for x in lists for r in x], want))


def test_docstring_example() -> None:
    import doctest

    result = doctest.testmod(simtom.outputs.dicts)
    assert result.attempted >= 1 and result.failed == 0
