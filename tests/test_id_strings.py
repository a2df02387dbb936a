"""Id columns written by the kernel as Arrow string views equal Python's formatting, on every
path: held in the view (12 bytes or fewer), in the data buffer with an infix of up to 8 bytes
(in word stores), with a longer infix (byte by byte), numbers past their width, and the chunks
written in parallel threads (which meet at an id's last byte)."""

from __future__ import annotations

import numpy as np
import pytest

from simtom.bnpl.columns import PARALLEL_CHUNK, strings

RNG = np.random.default_rng(1)
NUMBERS = np.concatenate([RNG.integers(0, 10**9, 3000), np.arange(0, 200),
                          [10**6 - 1, 10**6, 10**7, 10**12, 99_999_999, 2**62]]).astype(np.int64)
SUFFIXES = RNG.integers(0, 10**4, NUMBERS.shape[0]).astype(np.int64)
SUFFIXES[:1000] = RNG.integers(1, 4, 1000)


@pytest.mark.parametrize(("prefix", "width", "infix"), [
    ("txn_", 8, ""), ("cust_", 6, ""), ("prod_", 6, ""), ("cust_", 6, "_device_"),
    ("cust_", 6, "_pm_"), ("ab", 3, "_x_"), ("abcdefghij", 2, "_q"), ("cust_", 6, "_abcde_"),
    ("cust_", 6, "_verylonginfix_"), ("x", 1, "_abcdef"),
])
def test_ids_equal_python_formatting(prefix: str, width: int, infix: str) -> None:
    got = strings(prefix, NUMBERS, width, infix, SUFFIXES if infix else None).to_list()
    assert got == [f"{prefix}{n:0{width}d}" + (f"{infix}{s}" if infix else "")
                   for n, s in zip(NUMBERS.tolist(), SUFFIXES.tolist())]


def test_ids_written_in_parallel_chunks_equal_python_formatting() -> None:
    n = 2 * PARALLEL_CHUNK + 1234
    numbers = RNG.integers(0, 10**7, n).astype(np.int64)
    suffixes = RNG.integers(1, 3, n).astype(np.int64)
    got = strings("cust_", numbers, 6, "_device_", suffixes).to_list()
    assert got == [f"cust_{x:06d}_device_{s}" for x, s in zip(numbers.tolist(),
                                                             suffixes.tolist())]
