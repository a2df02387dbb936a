"""The polars API: determinism, block-size independence, seeds, dtypes of the frame."""

from __future__ import annotations

import datetime as dt
import logging
import subprocess
import sys

import polars as pl
import pytest
from polars.testing import assert_frame_equal

import simtom


@pytest.fixture(scope="module")
def reference() -> pl.DataFrame:
    return simtom.frame("bnpl", n=5000, seed=42, arrival_pattern="poisson")


@pytest.mark.parametrize("batch_size", [1, 7, 999, 4096, 5000, 100_000])
def test_iter_frames_concatenates_to_frame(reference, batch_size):
    n = 5000 if batch_size >= 999 else 600
    parts = list(simtom.iter_frames("bnpl", n=n, seed=42, arrival_pattern="poisson",
                                    batch_size=batch_size))
    assert [len(p) for p in parts[:-1]] == [batch_size] * (len(parts) - 1)
    assert_frame_equal(pl.concat(parts), reference.head(n))


@pytest.mark.parametrize("pattern", ["uniform", "poisson", "nhpp", "burst"])
def test_every_pattern_is_block_size_independent(pattern):
    whole = simtom.frame("bnpl", n=3000, seed=9, arrival_pattern=pattern, rate_per_second=50)
    parts = pl.concat(simtom.iter_frames("bnpl", n=3000, seed=9, arrival_pattern=pattern,
                                         rate_per_second=50, batch_size=211))
    assert_frame_equal(parts, whole)
    assert whole["_timestamp"].is_sorted()


def test_frame_batch_size_does_not_change_the_data(reference):
    assert_frame_equal(simtom.frame("bnpl", n=5000, seed=42, arrival_pattern="poisson",
                                    batch_size=333), reference)


def test_same_seed_same_frame_in_another_process(reference, tmp_path):
    path = tmp_path / "other.parquet"
    code = ("import simtom; simtom.frame('bnpl', n=5000, seed=42, arrival_pattern='poisson')"
            f".write_parquet({str(path)!r})")
    subprocess.run([sys.executable, "-c", code], check=True)
    assert_frame_equal(pl.read_parquet(path), reference)


def test_different_seeds_differ(reference):
    other = simtom.frame("bnpl", n=5000, seed=43, arrival_pattern="poisson")
    for column in ("customer_id", "amount", "_timestamp", "risk_score"):
        assert (other[column] != reference[column]).mean() > 0.5


def test_seedless_call_reports_its_seed(caplog):
    s = simtom.scenario("bnpl", n=10)
    assert s.seed_chosen and isinstance(s.seed, int)
    with caplog.at_level(logging.INFO, logger="simtom"):
        df = simtom.frame("bnpl", n=50)
    [record] = [r for r in caplog.records if "seed=" in r.getMessage()]
    seed = int(record.getMessage().split("seed=")[1].split()[0])
    assert_frame_equal(simtom.frame("bnpl", n=50, seed=seed), df)


def test_a_prefix_is_the_same_whatever_n(reference):
    assert_frame_equal(simtom.frame("bnpl", n=1234, seed=42, arrival_pattern="poisson"),
                       reference.head(1234))


def test_record_ids_and_timestamps(reference):
    assert reference["_record_id"].to_list() == list(range(5000))
    assert reference["transaction_id"][:2].to_list() == ["txn_00000000", "txn_00000001"]
    assert reference["_generator"].unique().to_list() == ["bnpl"]
    ts = reference["_timestamp"]
    assert ts.dtype == pl.Datetime("us", "UTC")
    assert ts.is_sorted() and ts.min() >= simtom.DEFAULT_START


def test_start_time_moves_the_data_in_time_only():
    a = simtom.frame("bnpl", n=200, seed=1, rate_per_second=5)
    b = simtom.frame("bnpl", n=200, seed=1, rate_per_second=5, start_time="2025-01-01T00:00:00Z")
    assert_frame_equal(a, b)
    c = simtom.frame("bnpl", n=200, seed=1, rate_per_second=5, start_time="2030-06-01")
    assert c["_timestamp"].min() >= dt.datetime(2030, 6, 1, tzinfo=dt.timezone.utc)
    assert c["customer_id"].to_list() == a["customer_id"].to_list()


def test_zero_records_gives_an_empty_frame_with_the_schema(reference):
    empty = simtom.frame("bnpl", n=0, seed=1)
    assert empty.height == 0 and empty.schema == reference.schema


def test_denormalize_entities_false_keeps_ids_only(reference):
    slim = simtom.frame("bnpl", n=5000, seed=42, arrival_pattern="poisson",
                        denormalize_entities=False)
    assert "customer_income_bracket" not in slim.columns and "product_price" not in slim.columns
    assert_frame_equal(slim, reference.select(slim.columns))


@pytest.mark.parametrize(
    ("call", "field"),
    [
        (lambda: simtom.frame("bnpl"), "n"),
        (lambda: simtom.frame("bnpl", n=-1), "n"),
        (lambda: simtom.frame("bnpl", n=5, total_records=6), "n"),
        (lambda: simtom.frame("bnpl", n=5, batch_size=0), "batch_size"),
        (lambda: simtom.frame("bnpl", n=5, paced=True), "paced"),
        (lambda: list(simtom.iter_frames("bnpl", n=5, batch_size="big")), "batch_size"),
    ],
)
def test_bad_calls_raise_config_errors(call, field):
    with pytest.raises(simtom.ConfigError) as info:
        call()
    assert info.value.field == field


def test_unknown_generator_names_the_available_ones():
    with pytest.raises(simtom.UnknownGeneratorError, match="available: bnpl") as info:
        simtom.frame("bnlp", n=5)
    assert "did you mean 'bnpl'" in str(info.value)
