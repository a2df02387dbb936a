"""Constant string columns share one read-only views buffer across blocks."""

from __future__ import annotations

import polars as pl
import pytest

from simtom.engine import _constants
from simtom.engine._constants import constant_strings


@pytest.mark.parametrize("value", ["", "bnpl", "exactly12chr", "thirteen char", "x" * 300])
def test_constant_strings_hold_the_value_in_every_row(value: str) -> None:
    for n in (0, 1, 5, 3000, 1025):  # 3000 grows the shared buffer past its first size
        s = constant_strings("c", value, n)
        assert s.dtype == pl.String and s.name == "c" and s.len() == n
        assert s.to_list() == [value] * n
        assert s.str.len_bytes().to_list() == [len(value.encode())] * n


def test_constant_strings_survive_growth_and_polars_operations() -> None:
    small = constant_strings("c", "completed", 10)
    big = constant_strings("c", "completed", 100_000)  # a new, larger buffer
    both = pl.concat([small, big], rechunk=True)
    assert both.unique().to_list() == ["completed"] and both.len() == 100_010
    assert small.to_list() == ["completed"] * 10  # the older slice is still intact
    assert (small + "!").to_list() == ["completed!"] * 10


def test_a_long_column_gets_buffers_of_its_own(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_constants, "MAX_SHARED", 100)
    shared = _constants._views.get("USD")
    s = constant_strings("c", "USD", 101)
    assert s.to_list() == ["USD"] * 101
    assert _constants._views.get("USD") is shared  # the shared buffer did not grow
