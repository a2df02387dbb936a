"""Noise and missing values: what they touch, how much, and that nothing else moves.

Fixed seeds; tolerances in units of the sampling error of the statistic (stated at each).
"""

from __future__ import annotations

import httpx
import numpy as np
import polars as pl
import pytest
from _live import live_server

import simtom

N = 100_000
MEASURED = ["amount", "product_price", "first_payment_amount", "credit_utilization",
            "customer_tenure_days", "price_comparison_time", "time_on_site_seconds"]


@pytest.fixture(scope="module")
def clean() -> pl.DataFrame:
    return simtom.frame("bnpl", n=N, seed=21)


def changed_columns(a: pl.DataFrame, b: pl.DataFrame) -> list[str]:
    return [c for c in a.columns if not a[c].equals(b[c])]


@pytest.mark.parametrize("kind", ["gaussian", "uniform", "outliers"])
def test_noise_touches_measured_fields_only(clean: pl.DataFrame, kind: str) -> None:
    noisy = simtom.frame("bnpl", n=N, seed=21, noise_type=kind, noise_level=0.2)
    assert set(changed_columns(clean, noisy)) == set(MEASURED)
    assert noisy.schema == clean.schema
    assert noisy["amount"].round(2).equals(noisy["amount"])  # cents stay cents
    assert noisy["credit_utilization"].is_null().equals(clean["credit_utilization"].is_null())


def test_noise_sizes(clean: pl.DataFrame) -> None:
    def relative(kind: str, level: float) -> np.ndarray:
        noisy = simtom.frame("bnpl", n=N, seed=21, noise_type=kind, noise_level=level)
        ratio: np.ndarray = ((noisy["product_price"] - clean["product_price"])
                             / clean["product_price"]).to_numpy()
        return ratio

    gauss = relative("gaussian", 0.1)
    # sd of N(0, 0.1^2) from 100k values: se 0.00022; cents rounding adds < 0.0001
    assert gauss.std() == pytest.approx(0.1, abs=0.002) and abs(gauss.mean()) < 0.002
    uni = relative("uniform", 0.1)
    assert np.abs(uni).max() <= 0.1 + 0.01 / 15  # within +-level (up to a cent of rounding)
    assert uni.std() == pytest.approx(0.1 / np.sqrt(3), abs=0.002)
    factor = 1 + relative("outliers", 0.1)
    outliers = np.abs(factor) >= 1.9
    # 5 % of 100k: se 0.0007
    assert outliers.mean() == pytest.approx(0.05, abs=0.004)
    assert np.all((np.abs(factor[outliers]) > 1.99) & (np.abs(factor[outliers]) < 5.01))
    assert 0.4 < (factor[outliers] < 0).mean() < 0.6  # random sign
    assert np.abs(factor[~outliers] - 1).std() < 0.02  # small gaussian otherwise


def test_missing_values(clean: pl.DataFrame) -> None:
    holes = simtom.frame("bnpl", n=N, seed=21, missing_rate=0.1,
                         missing_fields=["risk_level", "device_type", "amount"])
    assert set(changed_columns(clean, holes)) == {"risk_level", "device_type", "amount"}
    shares = [holes[c].null_count() / N for c in ("risk_level", "device_type", "amount")]
    # 10 % of 100k: se 0.00095
    assert all(abs(s - 0.1) < 0.005 for s in shares)
    # independent per field: both missing about 1 %
    both = (holes["risk_level"].is_null() & holes["device_type"].is_null()).mean()
    assert abs(both - 0.01) < 0.002
    kept = holes["risk_level"].is_not_null()
    assert holes.filter(kept)["risk_level"].equals(clean.filter(kept)["risk_level"])
    default = simtom.frame("bnpl", n=N, seed=21, missing_rate=0.1)
    assert set(changed_columns(clean, default)) == set(MEASURED)  # default: measured fields


def test_faults_are_deterministic_and_block_independent() -> None:
    options = {"seed": 5, "noise_type": "outliers", "noise_level": 0.3, "missing_rate": 0.2}
    whole = simtom.frame("bnpl", n=3000, **options)
    parts = list(simtom.iter_frames("bnpl", n=3000, batch_size=257, **options))
    assert pl.concat(parts).equals(whole)
    assert whole.equals(simtom.frame("bnpl", n=3000, **options))
    # a field's faults do not depend on which other faults are on
    alone = simtom.frame("bnpl", n=3000, seed=5, noise_type="outliers", noise_level=0.3)
    assert alone["will_default"].equals(whole["will_default"])
    kept = whole["amount"].is_not_null()
    assert whole.filter(kept)["amount"].equals(alone.filter(kept)["amount"])


def test_record_and_block_generators_get_them_too() -> None:
    cards = simtom.frame("credit_cards", n=300, seed=2, noise_type="gaussian", noise_level=0.5)
    assert not cards["amount"].equals(simtom.frame("credit_cards", n=300, seed=2)["amount"])
    payments = simtom.frame("card_payments", n=300, seed=2, missing_rate=0.5,
                            missing_fields=["merchant"])
    assert 100 < payments["merchant"].null_count() < 200  # 150 +- 3 sd (8.7)


@pytest.mark.parametrize(("options", "field"), [
    ({"noise_level": 0.1}, "noise_level"),  # without a noise_type: would be ignored
    ({"noise_type": "pink"}, "noise_type"),
    ({"noise_type": "gaussian", "noise_level": 2}, "noise_level"),
    ({"missing_fields": ["amount"]}, "missing_fields"),  # without a rate
    ({"missing_rate": 0.1, "missing_fields": ["amout"]}, "missing_fields"),
    ({"missing_rate": 0.1, "missing_fields": ["_timestamp"]}, "missing_fields"),
    ({"missing_rate": 1.5}, "missing_rate"),
])
def test_errors_name_the_field(options: dict[str, object], field: str) -> None:
    with pytest.raises(simtom.ConfigError) as info:
        simtom.frame("bnpl", n=10, **options)
    assert info.value.field == field


def test_over_http() -> None:
    with live_server() as url:
        r = httpx.get(f"{url}/stream/bnpl", params={
            "format": "ndjson", "total_records": 200, "paced": "false", "seed": 3,
            "missing_rate": 0.5, "missing_fields": "risk_level,amount"})
        bad = httpx.post(f"{url}/stream/bnpl", json={"noise_type": "brown"})
    assert r.status_code == 200
    lines = [line for line in r.text.splitlines()]
    assert 60 < sum('"risk_level":null' in line for line in lines) < 140
    assert bad.status_code == 400 and bad.json()["field"] == "noise_type"
