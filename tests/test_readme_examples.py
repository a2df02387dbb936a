"""Every Python example of the README's "original simtom's Python API" section, run.

Counts and rates are changed only where an example would otherwise run for minutes (each change
is asserted to still match the README's text, so an edited README fails here).
"""

from __future__ import annotations

import asyncio
import json
import re
import time

import httpx
import pytest
from _examples import example, examples, load
from _live import live_server, parse_sse

import simtom
from simtom.core.registry import PluginRegistry
from simtom.generators.ecommerce.bnpl import BNPLGenerator


def test_every_example_is_tested() -> None:
    names = set(examples())
    assert names == {"basic-usage", "fraud-scenario", "drift-configs", "custom-time", "config",
                     "drift", "delayed-labels",
                     "plugin-record", "credit-cards", "credit-cards-test", "block-generator"}


def test_basic_usage(capsys: pytest.CaptureFixture[str]) -> None:
    # 1000 records at 10/s take 100 s as written; 200 at 1000/s keep the pacing and take 0.2 s
    start = time.monotonic()
    load("basic-usage", {"rate_per_second=10.0": "rate_per_second=1000.0",
                         "total_records=1000": "total_records=200"})
    elapsed = time.monotonic() - start
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 200
    first, last = eval(lines[0]), eval(lines[-1])  # print(record) prints the dict
    assert first["transaction_id"] == "txn_00000000" and last["_record_id"] == 199
    assert first["_generator"] == "bnpl" and isinstance(first["_timestamp"], str)
    # paced: never early, so 199 gaps of 1 ms take at least 0.199 s (a lower bound, not speed)
    assert elapsed >= 0.199


def test_basic_usage_records_are_the_servers(capsys: pytest.CaptureFixture[str]) -> None:
    """The printed dicts are the NDJSON lines of the same configuration, parsed."""
    load("basic-usage", {"rate_per_second=10.0": "rate_per_second=1000.0",
                         "total_records=1000": "total_records=30",
                         "generator.stream()": "generator.stream(paced=False)"})
    printed = [eval(line) for line in capsys.readouterr().out.splitlines()]
    with live_server() as url:
        body = {"rate_per_second": 1000.0, "total_records": 30, "seed": 42, "paced": False}
        r = httpx.post(f"{url}/stream/bnpl?format=ndjson", json=body)
    assert printed == [json.loads(line) for line in r.content.splitlines()]


def test_delayed_labels(capsys: pytest.CaptureFixture[str]) -> None:
    """The lender's known outcomes on day 240 under-count charge-offs, and later loans' labels
    arrive over months: no charge-off by day 300, all labels by day 800, a useful AUC."""
    load("delayed-labels")
    out = capsys.readouterr().out
    known, final = map(float, re.search(
        r"charge-off rate ([\d.]+)% among them .*in the end: ([\d.]+)%", out).groups())
    assert known < 0.7 * final
    days = {int(d): (int(share), int(co), auc) for d, share, co, auc in re.findall(
        r"day (\d+): (\d+)% of the labels, (\d+) charge-offs, ROC AUC (\S+)", out)}
    assert days[300][1] == 0 and days[800][0] == 100
    assert days[300][0] < days[400][0] < days[500][0] < days[800][0]
    assert 0.65 < float(days[800][2]) < 0.85


def test_fraud_scenario(capsys: pytest.CaptureFixture[str]) -> None:
    load("fraud-scenario")
    out = capsys.readouterr().out
    rows = dict((m[0], (float(m[1]), float(m[2]), float(m[3]))) for m in re.findall(
        r"(\w+): default rate ([\d.]+)%, mean predicted ([\d.]+)%, ROC AUC ([\d.]+)", out))
    assert set(rows) == {"baseline", "recession"}
    base_rate, base_pred, base_auc = rows["baseline"]
    stress_rate, stress_pred, stress_auc = rows["recession"]
    # 20k records: the default rate's standard error is ~0.12 points at 3 %
    assert 2.4 < base_rate < 3.6
    assert stress_rate > 2 * base_rate  # stress adds 1.5 to the log-odds: about 3-4x
    # the model sees part of the rise (risk_score rises with stress) but under-predicts it; the
    # rates' standard errors at 20k records are ~0.2 points
    assert base_pred < stress_pred < stress_rate - 1.0
    assert 0.6 < base_auc < 0.9 and stress_auc > 0.55  # the features still rank risk


def test_drift_configs() -> None:
    module = load("drift-configs")
    frames = [module.BNPLGenerator(c).frame(n=500) for c in module.configs]
    assert [f["_generator"][0] for f in frames] == ["bnpl"] * 3
    assert not frames[0].equals(frames[1]) and not frames[1].equals(frames[2])
    assert frames[0].equals(module.BNPLGenerator(module.configs[0]).frame(n=500))


def test_drift_example(capsys: pytest.CaptureFixture[str]) -> None:
    module = load("drift")
    df, truth = module.df, module.truth
    assert df["_drift"].to_list() == [0.0] * 100_000 + [0.6] * 100_000
    assert df.filter(df["_drift"] > 0)["economic_stress_factor"].unique().to_list() == [0.0]
    assert truth["concept"].to_list() == [0.0, 0.0, 0.6, 0.6, 0.6]
    assert (truth["covariate"] == 0).all() and (truth["prior"] == 0).all()
    assert "concept" in capsys.readouterr().out


def test_custom_time() -> None:
    module = load("custom-time")
    config = module.config
    scenario = config.to_scenario("bnpl")
    assert scenario.simulated_rate == pytest.approx(50.0 / 24.0)
    assert scenario.arrival_pattern == "nhpp"

    async def first_records() -> list[dict[str, object]]:
        stream = BNPLGenerator(config.replace(total_records=60, seed=1)).stream(paced=False)
        return [r async for r in stream]

    records = asyncio.run(first_records())
    assert len(records) == 60 and records[0]["_timestamp"] < records[-1]["_timestamp"]


def test_config() -> None:
    module = load("config")
    assert module.config.total_records is None and module.config.seed == 42
    assert module.stressed.economic_stress_factor == 0.5


def test_plugin_record_streams_and_lists() -> None:
    """The README's plugin example, exactly as documented: registered, listed, streamed."""
    module = load("plugin-record")
    try:
        assert PluginRegistry.get_generator("my_generator") is module.MyGenerator
        with live_server() as url:
            listed = httpx.get(f"{url}/generators").json()
            entry = next(g for g in listed if g["name"] == "my_generator")
            assert "rate_per_second" in entry["config_schema"]["properties"]
            r = httpx.post(f"{url}/stream/my_generator",
                           json={"rate_per_second": 100.0, "total_records": 5})
        assert r.status_code == 200
        events, _ = parse_sse([r.content])
        records = [json.loads(e.data) for e in events]
        assert [rec["_record_id"] for rec in records] == [0, 1, 2, 3, 4]
        assert all(len(rec["id"]) == 36 and 0 <= rec["value"] < 1 for rec in records)  # UUID
        assert {rec["_generator"] for rec in records} == {"my_generator"}
    finally:
        PluginRegistry.unregister("my_generator")


def test_credit_cards_and_its_test() -> None:
    module = load("credit-cards")
    namespace = {"CreditCardGenerator": module.CreditCardGenerator}
    exec(example("credit-cards-test"), namespace)
    asyncio.run(namespace["test_credit_card_generation"]())
    df = simtom.frame("credit_cards", n=50, seed=3)
    assert df.columns[:3] == ["card_number", "amount", "merchant"]
    assert df["card_number"].str.contains(r"^\d{12,19}$").all()
    assert df["amount"].is_between(1, 1000).all()
    assert df.equals(simtom.frame("credit_cards", n=50, seed=3))  # Faker is seeded per record


def test_block_generator() -> None:
    load("block-generator")
    df = simtom.frame("card_payments", n=200_000, seed=42, fraud_rate=0.05)
    assert df.schema["merchant"] == simtom.frame("card_payments", n=1, seed=1).schema["merchant"]
    # 200k Bernoulli(0.05): standard error 0.00049; 5 of them is 0.0024
    assert abs(df["is_fraud"].mean() - 0.05) < 0.0025
    share = df["merchant"].value_counts(normalize=True).sort("merchant")["proportion"].to_list()
    expected = [0.35, 0.15, 0.30, 0.15, 0.05]
    assert all(abs(s - e) < 0.005 for s, e in zip(share, expected))  # se <= 0.0011
    fraud_mean = df.filter("is_fraud")["amount"].mean()
    assert fraud_mean > 2 * df.filter(~df["is_fraud"])["amount"].mean()
    with pytest.raises(simtom.ConfigError, match="fraud_rate"):
        simtom.frame("card_payments", n=1, fraud_rate=2)
