"""Controlled drift: when, what and how much moves, the recorded schedule, and nothing else.

Statistical checks use fixed seeds and tolerances of a few standard errors of the statistic
(binomial for shares, the sample's own spread for means), widened by 2 where records of one
customer are correlated (repeat customers: ~3 records each share their customer's traits).
"""

from __future__ import annotations

import datetime as dt
import math
import subprocess
import sys

import httpx
import numpy as np
import polars as pl
import pytest
from _live import live_server
from simtom_kernels import bnpl as K
from simtom_kernels import customers as C
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.metrics import roc_auc_score
from test_labels import features

import simtom
from simtom.bnpl import model as M
from simtom.bnpl import population
from simtom.bnpl.generator import POST_OUTCOME, BNPLBlocks, run_kernel
from simtom.engine.arrivals import Arrivals

N = 100_000
LABELS = list(POST_OUTCOME)  # the outcome and what follows from it
#: What covariate drift moves in a BNPL record (and what follows from the price).
COVARIATE_FIELDS = {"amount", "product_price", "first_payment_amount", "credit_utilization",
                    "installment_count", "product_bnpl_eligible", "product_category",
                    "product_subcategory", "product_brand", "product_id", "product_risk_category",
                    "risk_scenario", "purchase_context", "checkout_speed",
                    "cart_abandonment_count", "price_comparison_time", "time_on_site_seconds",
                    "economic_stress_factor", "risk_score", "risk_level", "device_type",
                    "device_os", "device_is_trusted", "payment_frequency", "status",
                    "decline_reason", *LABELS}


def changed(a: pl.DataFrame, b: pl.DataFrame) -> set[str]:
    return {c for c in a.columns if c in b.columns and not a[c].equals(b[c])}


@pytest.fixture(scope="module")
def plain() -> pl.DataFrame:
    return simtom.frame("bnpl", n=N, seed=8)


def sudden(**options: object) -> pl.DataFrame:
    return simtom.frame("bnpl", n=N, seed=8, drift_type="sudden", drift_column=True, **options)


# --- configuration ---------------------------------------------------------------------------

def test_defaults_are_relative_to_the_span() -> None:
    day = dt.timedelta(days=1)
    s = simtom.scenario("bnpl", n=86_400, seed=1, drift_type="sudden")
    assert s.drift_start == s.start + day / 2 and s.drift_strength == 0.5
    g = simtom.scenario("bnpl", n=86_400, seed=1, drift_type="gradual")
    assert g.drift_start == g.start + day / 3 and g.drift_duration == pytest.approx(86_400 / 3)
    lin = simtom.scenario("bnpl", n=86_400, seed=1, drift_type="linear", drift_start=21_600)
    assert lin.drift_start == lin.start + day / 4 and lin.drift_duration == 64_800
    year = simtom.scenario("bnpl", seed=1, drift_type="seasonal", start_date="2024-01-01",
                           end_date="2025-12-31")
    assert year.drift_start == year.start and year.drift_period == 731 * 86_400 / 2
    at = simtom.scenario("bnpl", n=10, seed=1, drift_type="sudden",
                         drift_start="2025-03-01T00:00:00Z")
    assert at.drift_start == dt.datetime(2025, 3, 1, tzinfo=dt.timezone.utc)
    assert simtom.scenario("bnpl", n=10, drift_type="none").drift_strength == 0.0


@pytest.mark.parametrize(("options", "field"), [
    ({"drift_strength": 0.3}, "drift_strength"),  # without a drift_type: would be ignored
    ({"drift_start": 60}, "drift_start"),
    ({"drift_type": "sudden", "drift_duration": 60}, "drift_duration"),
    ({"drift_type": "linear", "drift_period": 60}, "drift_period"),
    ({"drift_type": "seasonal", "drift_period": 0}, "drift_period"),
    ({"drift_type": "linear", "drift_strength": 1.5}, "drift_strength"),
    ({"drift_type": "linear", "drift_targets": ["labels"]}, "drift_targets"),
    ({"drift_type": "linear", "drift_targets": []}, "drift_targets"),
    ({"drift_type": "linear", "drift_start": "soon"}, "drift_start"),
    ({"drift_type": "linear", "drift_start": -5}, "drift_start"),
    ({"drift_type": "upwards"}, "drift_type"),
])
def test_bad_drift_options_name_the_field(options: dict[str, object], field: str) -> None:
    with pytest.raises(simtom.ConfigError) as info:
        simtom.frame("bnpl", n=10, **options)
    assert info.value.field == field and str(info.value).startswith(field)


def test_a_generator_drifts_only_what_it_supports() -> None:
    with pytest.raises(simtom.ConfigError) as info:
        simtom.frame("credit_cards", n=10, drift_type="sudden", drift_targets=["concept"])
    assert info.value.field == "drift_targets" and "covariate" in str(info.value)


# --- nothing moves unless the scenario says so -----------------------------------------------

def test_no_drift_changes_nothing(plain: pl.DataFrame) -> None:
    df = simtom.frame("bnpl", n=N, seed=8, drift_type="none", drift_column=True)
    assert (df["_drift"] == 0).all()
    assert df.drop("_drift").equals(plain)


@pytest.mark.parametrize("kind", ["linear", "seasonal", "sudden", "gradual"])
def test_records_before_drift_start_are_the_plain_ones(plain: pl.DataFrame, kind: str) -> None:
    df = simtom.frame("bnpl", n=N, seed=8, drift_type=kind, drift_strength=1.0,
                      drift_start=40_000, drift_column=True)
    before = df["_timestamp"] < simtom.DEFAULT_START + dt.timedelta(seconds=40_000)
    assert before.sum() == 40_000
    assert (df.filter(before)["_drift"] == 0).all()
    # what was known at the time is the plain run's; outcomes of loans still open at the change
    # may move (drift reaches hardship after it: a recession hits loans already written)
    assert df.filter(before).drop("_drift", *LABELS).equals(
        plain.filter(before).drop(LABELS))
    assert (df.filter(~before)["_drift"] != 0).mean() > 0.5
    assert changed(df.drop("_drift"), plain) <= COVARIATE_FIELDS


# --- each target moves what it says, by what it says -----------------------------------------

def mixed(shares: tuple[float, ...], target: tuple[float, ...], a: float) -> np.ndarray:
    return (1 - a) * np.asarray(shares) + a * np.asarray(target)


def share_tolerance(p: float, n: int) -> float:
    return 2 * 4 * math.sqrt(p * (1 - p) / n)  # 4 binomial SEs, x2 for customer clustering


def test_covariate_drift_moves_the_mixes_and_levels(plain: pl.DataFrame) -> None:
    s = 0.6
    df = sudden(drift_strength=s, drift_targets=["covariate"], economic_stress_factor=0.2)
    post = df.filter(pl.col("_drift") > 0)
    pre = df.filter(pl.col("_drift") == 0)
    assert len(post) == N // 2 and (post["_drift"] == s).all()
    # stress: exactly plus the intensity
    assert (pre["economic_stress_factor"] == 0.2).all()
    assert (post["economic_stress_factor"] == 0.8).all()
    # category mix: the share s of the way to the drift shares
    expected = mixed(M.CATEGORY_SHARES, M.CATEGORY_DRIFT_SHARES, s)
    got = [(post["product_category"] == c).mean() for c in M.CATEGORY]
    for p, q in zip(expected, got):
        assert abs(p - q) < share_tolerance(p, len(post)), (expected, got)
    # price level: within a category, prices times 1 + s (log-normal sd 0.5 -> mean's SE 0.5%)
    ratio = (post.filter(pl.col("product_category") == "beauty")["amount"].mean()
             / pre.filter(pl.col("product_category") == "beauty")["amount"].mean())
    assert abs(ratio - (1 + s)) < 0.06, ratio
    assert (df["amount"] == df["product_price"]).all()
    # risk scenario mix: every credit range's row the share s of the way to its drift row
    rows = M.scenario_by_credit(M.RISK_SCENARIO_WEIGHTS)
    up, _ = M.scenario_drift_rows(M.RISK_SCENARIO_WEIGHTS)
    marginal = np.asarray(M.CREDIT_SHARES) @ ((1 - s) * rows + s * up)
    assert marginal[0] < M.RISK_SCENARIO_WEIGHTS[0] - 0.05  # riskier
    got = [(post["risk_scenario"] == name).mean() for name in M.RISK_SCENARIO]
    for p, q in zip(marginal, got):
        assert abs(p - q) < share_tolerance(p, len(post)), (marginal, got)
    # and the plain run's customers, labels' randomness and ids stay where they were
    assert changed(df.drop("_drift"), plain) <= COVARIATE_FIELDS


def test_covariate_drift_reaches_devices_through_new_customers() -> None:
    """A customer's devices follow the device mix of when it joined the lender (the expected
    start of its generation, within a few rounds of its first purchase), so over a long span
    (100k records at 0.002/s: 579 days, the change point at half) the first purchases more than
    120 days after the change point have the drifted mix, and those before it the plain one.
    Devices are customers' own draws: binomial tolerances (share_tolerance)."""
    s = 0.6
    df = simtom.frame("bnpl", n=100_000, seed=8, rate_per_second=0.002, drift_type="sudden",
                      drift_strength=s, drift_targets=["covariate"], drift_column=True)
    previous, _ = population.neighbours(8, df["_record_id"].to_numpy(), 0.002)
    onset = df.filter(pl.col("_drift") > 0)["_timestamp"].min()
    first = df.filter(pl.Series(previous == C.NONE)
                      & pl.col("device_id").str.ends_with("_device_1"))
    late = first.filter(pl.col("_timestamp") > onset + dt.timedelta(days=120))
    early = first.filter(pl.col("_timestamp") < onset)
    assert len(late) > 5_000 and len(early) > 5_000
    for part, a in ((late, s), (early, 0.0)):
        p_mobile = mixed(M.DEVICE_TYPE_SHARES, M.DEVICE_DRIFT_SHARES, a)[0]
        got = (part["device_type"] == "mobile").mean()
        assert abs(got - p_mobile) < share_tolerance(p_mobile, len(part)), (a, got)


def plain_probabilities(scenario: simtom.Scenario, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Each record's default probability in the undrifted model (from the kernel's log-odds),
    and whether it may default at all: an approved loan whose customer's hardship starts before
    its last instalment (from the kernel's internal rows)."""
    prepared = BNPLBlocks().prepare(scenario)
    times = np.empty(n, np.int64)
    Arrivals(scenario).fill(Arrivals(scenario).start(), times)
    ip = prepared.ip.copy()
    ip[K.I_INTERNALS] = 1
    _, _, floats, flags = run_kernel(scenario.seed, 0, times, scenario.start_us,
                                     prepared.tables, prepared.fp, ip)
    fp = prepared.fp
    hardship = floats[K.X_EXPO] * np.exp(-(fp[K.F_HAZARD0] + floats[K.X_HAZARD]))
    hit = flags[K.B_APPROVED] & (hardship < floats[K.X_ELAPSED] + floats[K.X_SPAN])
    return 1.0 / (1.0 + np.exp(-(fp[K.F_ALPHA] + floats[K.X_LOGIT]))), hit


def test_prior_drift_moves_the_default_odds_only(plain: pl.DataFrame) -> None:
    s = 0.5
    df = sudden(drift_strength=s, drift_targets=["prior"])
    assert changed(df.drop("_drift"), plain) <= set(LABELS)
    p, hit = plain_probabilities(simtom.scenario("bnpl", n=N, seed=8), N)
    assert (df["will_default"].is_null() == plain["will_default"].is_null()).all()
    # loans in hardship: only they may charge off, with the drifted odds
    post = (df["_drift"] > 0).to_numpy() & hit
    was = plain["will_default"].fill_null(False).to_numpy()
    now = df["will_default"].fill_null(False).to_numpy()
    pre = (df["_drift"] == 0).to_numpy()
    assert (now[pre] == was[pre]).all() and (now[~hit] == was[~hit]).all()
    assert (now[post] >= was[post]).all()  # the same draw, a higher probability
    p = p[post]
    odds = p / (1 - p) * (1 + s)
    expected = float(np.mean(odds / (1 + odds)))
    se = math.sqrt(float(np.sum(p * (1 - p)))) / post.sum()
    assert abs(now[post].mean() - expected) < 4 * se, (now[post].mean(), expected)


def test_concept_drift_keeps_features_and_rate(plain: pl.DataFrame) -> None:
    df = sudden(drift_strength=0.6, drift_targets=["concept"])
    assert changed(df.drop("_drift"), plain) <= set(LABELS)
    post = df.filter(pl.col("_drift") > 0)
    rate = post["will_default"].mean()
    # the intercepts are recalibrated to keep 3 % at steady state (calibration is good to
    # ~2 %); just after the change the rate overshoots, by up to a fifth (measured 3.4 %):
    # hardship reaches customers whom the old screening let through (see the README)
    se = math.sqrt(0.03 * 0.97 / post["will_default"].count())
    assert 0.03 * 0.97 - 4 * se < rate < 0.03 * 1.2 + 4 * se, rate
    # ... but who defaults changes: most post-change defaulters are not the plain run's
    both = (post["will_default"] & plain.filter(pl.col("_record_id") >= N // 2)["will_default"])
    assert both.sum() < 0.8 * post["will_default"].sum()


def after_a_change(targets: list[str]) -> tuple[float, float]:
    """Train a gradient-boosted model before a sudden change of strength 1 (480k applications,
    seed 11; the model learns on the approved ones of the first 160k, as a lender's would);
    its ROC AUC on the approved of the next 80k (before the change) and of the last 240k."""
    df = simtom.frame("bnpl", n=480_000, seed=11, drift_type="sudden", drift_strength=1.0,
                      drift_targets=targets)
    approved = pl.col("status") == "approved"
    train, before, after = (part.filter(approved) for part in (
        df[:160_000], df[160_000:240_000], df[240_000:]))
    model = HistGradientBoostingClassifier(random_state=0).fit(features(train)[0],
                                                               train["will_default"])

    def auc(part: pl.DataFrame) -> float:
        return float(roc_auc_score(part["will_default"], model.predict_proba(
            features(part)[0])[:, 1]))

    return auc(before), auc(after)


def test_a_model_trained_before_a_concept_change_loses_auc() -> None:
    """Concept drift must cost AUC, and more than covariate drift of the same strength does.
    Concept drift turns the loan-level drivers of charge-off (which loans in a customer's
    hardship charge off) to the new ones; who goes into hardship stays, so the model keeps part
    of its ranking. Covariate drift leaves the relationship as it is but, in a book with a
    lender, also narrows it: stress raises risk scores against the cutoff, so fewer and more
    alike loans are approved, and a ranking within them is harder (measured: 0.747 -> 0.732).
    AUC's SE here is ~0.01 (about 1,100 and 4,500 defaulters): the bands are 2-4 SEs."""
    concept_before, concept_after = after_a_change(["concept"])
    covariate_before, covariate_after = after_a_change(["covariate"])
    # before the change the features and decisions are the same, but not every label: drift
    # reaches the hardship of customers with loans open at the change
    assert concept_before > 0.7 and covariate_before > 0.7
    assert concept_after < concept_before - 0.04, (concept_before, concept_after)
    assert concept_after < covariate_after - 0.02, (concept_after, covariate_after)


# --- the schedule: shapes, time scales, and the record of it ---------------------------------

def test_linear_and_seasonal_follow_their_schedule() -> None:
    n, start = 20_000, 5_000
    lin = simtom.frame("bnpl", n=n, seed=3, drift_type="linear", drift_strength=0.8,
                       drift_start=start, drift_duration=10_000, drift_column=True)
    t = (lin["_timestamp"] - simtom.DEFAULT_START).dt.total_microseconds().to_numpy() / 1e6
    expected = 0.8 * np.clip((t - start) / 10_000, 0, 1)
    np.testing.assert_allclose(lin["_drift"].to_numpy(), expected, rtol=1e-12, atol=1e-12)
    assert (lin["economic_stress_factor"] == lin["_drift"].round(4)).all()
    sea = simtom.frame("bnpl", n=n, seed=3, drift_type="seasonal", drift_strength=0.4,
                       drift_period=5_000, economic_stress_factor=0.5, drift_column=True,
                       arrival_pattern="poisson")
    t = (sea["_timestamp"] - simtom.DEFAULT_START).dt.total_microseconds().to_numpy() / 1e6
    np.testing.assert_allclose(sea["_drift"].to_numpy(), 0.4 * np.sin(2 * np.pi * t / 5_000),
                               atol=1e-9)
    assert (sea["economic_stress_factor"] == (0.5 + sea["_drift"]).round(4)).all()
    # the price level follows the sine: where a record buys the same product as in the plain
    # run, its price is the plain one times 1 + a (a >= 0) or divided by 1 + |a| (a < 0)
    plain = simtom.frame("bnpl", n=n, seed=3, economic_stress_factor=0.5,
                         arrival_pattern="poisson")
    same = (sea["product_id"] == plain["product_id"]).to_numpy()
    assert same.mean() > 0.8  # only a drifted category draw changes the product
    a = sea["_drift"].to_numpy()[same]
    factor = np.where(a >= 0, 1 + a, 1 / (1 - a))
    expected = np.round(plain["amount"].to_numpy()[same] * factor * 100) / 100
    np.testing.assert_allclose(sea["amount"].to_numpy()[same], expected, atol=0.0051)
    assert (a < -0.3).sum() > 1000 and (a > 0.3).sum() > 1000  # troughs and peaks both seen


def test_gradual_drift_mixes_old_and_new_records() -> None:
    n = 60_000
    df = simtom.frame("bnpl", n=n, seed=4, drift_type="gradual", drift_strength=0.5,
                      drift_start=20_000, drift_duration=20_000, drift_column=True)
    assert set(df["_drift"].unique()) == {0.0, 0.5}
    t = (df["_timestamp"] - simtom.DEFAULT_START).dt.total_microseconds().to_numpy() / 1e6
    new = df["_drift"].to_numpy() > 0
    for lo, hi in ((20_000, 25_000), (27_500, 32_500), (35_000, 40_000)):
        inside = (t >= lo) & (t < hi)
        expected = float(np.mean(np.clip((t[inside] - 20_000) / 20_000, 0, 1)))
        got = new[inside].mean()
        assert abs(got - expected) < 4 * math.sqrt(expected * (1 - expected) / inside.sum())
    assert not new[t < 20_000].any() and new[t >= 40_000].all()
    # the new concept's records are the drifted ones: stress moves only on them
    assert (df.filter(pl.col("_drift") > 0)["economic_stress_factor"] == 0.5).all()
    assert (df.filter(pl.col("_drift") == 0)["economic_stress_factor"] == 0.0).all()


def test_the_schedule_api_records_the_truth() -> None:
    opts = dict(n=30_000, seed=5, drift_type="seasonal", drift_strength=0.3, drift_period=7_000,
                drift_targets=["covariate", "prior"], arrival_pattern="poisson")
    df = simtom.frame("bnpl", drift_column=True, **opts)
    times = df["_timestamp"].gather(np.arange(0, 30_000, 997)).to_list()
    at = simtom.drift_schedule("bnpl", at=times, **opts)
    assert at["time"].to_list() == times
    np.testing.assert_array_equal(at["drift"].to_numpy(),
                                  df["_drift"].gather(np.arange(0, 30_000, 997)).to_numpy())
    assert at["drift"].equals(at["covariate"]) and at["drift"].equals(at["prior"])
    assert (at["concept"] == 0).all()
    even = simtom.drift_schedule("bnpl", points=11, **opts)
    assert len(even) == 11 and even["time"][0] == simtom.DEFAULT_START
    span = even["time"][-1] - even["time"][0]
    assert abs(span.total_seconds() - 30_000) < 1e-3  # n / rate
    gradual = simtom.drift_schedule("bnpl", n=9_000, drift_type="gradual", points=4)
    assert gradual["drift"].to_list() == [0.0, 0.0, 0.5, 0.5]  # expected: strength x ramp
    with pytest.raises(simtom.ConfigError) as info:
        simtom.drift_schedule("bnpl", points=1, drift_type="linear")
    assert info.value.field == "points"


# --- determinism -----------------------------------------------------------------------------

def test_drifted_data_is_deterministic_and_block_independent() -> None:
    opts = dict(n=7_000, seed=9, drift_type="gradual", drift_strength=0.7, drift_column=True,
                arrival_pattern="burst")
    whole = simtom.frame("bnpl", **opts)
    assert whole.equals(simtom.frame("bnpl", **opts))
    assert pl.concat(simtom.iter_frames("bnpl", batch_size=333, **opts)).equals(whole)
    code = ("import simtom, sys; sys.stdout.buffer.write(simtom.frame('bnpl', n=7000, seed=9, "
            "drift_type='gradual', drift_strength=0.7, drift_column=True, "
            "arrival_pattern='burst').write_ipc(None).getvalue())")
    other = subprocess.run([sys.executable, "-c", code], capture_output=True, check=True)
    assert pl.read_ipc(other.stdout).equals(whole)
    assert not simtom.frame("bnpl", **{**opts, "seed": 10}).equals(whole)


# --- every generator, every interface ---------------------------------------------------------

def test_generators_without_their_own_drift_get_level_drift() -> None:
    opts = dict(n=2_000, seed=2)
    plain = simtom.frame("credit_cards", **opts)
    df = simtom.frame("credit_cards", drift_type="sudden", drift_strength=0.5, drift_column=True,
                      **opts)
    post = (df["_drift"] > 0).to_numpy()
    assert post.sum() == 1_000
    np.testing.assert_allclose(df["amount"].to_numpy()[post],
                               plain["amount"].to_numpy()[post] * 1.5, atol=0.006)
    assert df.filter(~pl.Series(post)).drop("_drift").equals(plain.filter(~pl.Series(post)))
    assert changed(df.drop("_drift"), plain) == {"amount"}


def test_drift_over_http_and_cli(tmp_path) -> None:
    with live_server() as url:
        r = httpx.get(f"{url}/stream/bnpl", params={
            "format": "ndjson", "total_records": 100, "paced": "false", "seed": 3,
            "drift_type": "sudden", "drift_column": "true"}, timeout=60)
        sched = httpx.get(f"{url}/drift/bnpl", params={
            "total_records": 100, "paced": "false", "drift_type": "sudden", "points": 3,
            "drift_targets": "prior"}, timeout=60)
        posted = httpx.post(f"{url}/drift/bnpl", json={
            "total_records": 100, "paced": False, "drift_type": "linear",
            "at": ["2025-01-01T00:00:50Z"]}, timeout=60)
        bad = httpx.get(f"{url}/drift/bnpl", params={"drift_type": "linear", "drift_period": 9})
        missing = httpx.get(f"{url}/drift/nope")
    lines = r.text.splitlines()
    assert len(lines) == 100 and '"_drift":0.0' in lines[49] and '"_drift":0.5' in lines[50]
    body = sched.json()
    assert [row["drift"] for row in body["schedule"]] == [0.0, 0.5, 0.5]
    assert [row["concept"] for row in body["schedule"]] == [0.0, 0.0, 0.0]
    assert body["schedule"][1]["time"] == "2025-01-01T00:00:50.000000+00:00"
    assert body["scenario"]["drift_start"] == "2025-01-01T00:00:50+00:00"
    assert posted.json()["schedule"][0]["drift"] == pytest.approx(0.25)
    assert bad.status_code == 400 and bad.json()["field"] == "drift_period"
    assert missing.status_code == 404
    out = tmp_path / "drifted.csv"
    run = subprocess.run([sys.executable, "-m", "simtom.cli", "generate", "bnpl", "-n", "50",
                          "-o", str(out), "--seed", "1", "--set", "drift_type=sudden",
                          "--set", "drift_column=true", "-q"], capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    assert pl.read_csv(out)["_drift"].to_list() == [0.0] * 25 + [0.5] * 25
    cli = subprocess.run([sys.executable, "-m", "simtom.cli", "drift", "bnpl", "-n", "100",
                          "--set", "drift_type=sudden", "--points", "3"],
                         capture_output=True, text=True)
    assert cli.returncode == 0, cli.stderr
    assert [line.split(",")[1] for line in cli.stdout.splitlines()] == ["drift", "0.0", "0.5",
                                                                        "0.5"]


def test_a_resumed_drifting_stream_continues_exactly() -> None:
    from _live import parse_sse

    body = {"total_records": 1_500, "paced": False, "drift_type": "gradual",
            "drift_column": True, "arrival_pattern": "burst"}  # seed chosen by the server
    with live_server() as url:
        straight = httpx.post(f"{url}/stream/bnpl", json=body, timeout=60)
        events, _ = parse_sse([straight.content])
        resumed = httpx.post(f"{url}/stream/bnpl", json=body, timeout=60,
                             headers={"Last-Event-ID": events[700].id})
    assert [e.data for e in parse_sse([resumed.content])[0]] == [e.data for e in events[701:]]
    assert any('"_drift":0.5' in e.data for e in events[701:])
