"""The BNPL generator: fields, dtypes, marginal shares, entity consistency, label relationships.

Shares are tested at the level where they are drawn (customers, devices, payment methods,
products or records), so the draws are independent and the tolerance is plain binomial sampling
error: |observed - expected| <= 4.5 standard errors (a false alarm about once in 150,000 checks;
with fixed seeds the test is deterministic either way).
"""

from __future__ import annotations

import math

import numpy as np
import polars as pl
import pytest
from simtom_kernels import customers as C

import simtom
from simtom.bnpl import model as M
from simtom.bnpl import population
from simtom.bnpl.generator import COLUMNS, solve_intercept

N = 200_000
Z = 4.5


@pytest.fixture(scope="module")
def df() -> pl.DataFrame:
    return simtom.frame("bnpl", n=N, seed=2026, arrival_pattern="poisson", rate_per_second=2.0)


def assert_shares(values: pl.Series, names, shares) -> None:
    n = len(values)
    counts = values.value_counts().to_dict(as_series=False)
    observed = dict(zip(counts[values.name], counts["count"]))
    total = sum(shares)
    for name, share in zip(names, shares):
        p = share / total
        got = observed.get(name, 0) / n
        tolerance = Z * math.sqrt(p * (1 - p) / n)
        assert abs(got - p) <= tolerance, (
            f"{values.name}={name}: {got:.4f} vs {p:.4f} ± {tolerance:.4f}")


def firsts(df: pl.DataFrame, key: str) -> pl.DataFrame:
    return df.unique(subset=key, keep="first", maintain_order=True)


def test_every_field_with_its_dtype(df):
    bnpl_md = ["transaction_id", "customer_id", "product_id", "device_id", "payment_method_id",
               "amount", "currency", "status", "decline_reason", "customer_age_bracket",
               "customer_tenure_days",
               "customer_income_bracket", "customer_credit_score_range",
               "customer_verification_level", "customer_address_stability", "customer_state",
               "product_category", "product_subcategory", "product_brand", "product_price",
               "product_bnpl_eligible", "product_risk_category", "device_type", "device_os",
               "device_is_trusted", "payment_provider", "payment_type", "payment_credit_limit",
               "risk_scenario", "risk_score", "risk_level", "installment_count",
               "first_payment_amount", "payment_frequency", "purchase_context",
               "checkout_speed", "cart_abandonment_count", "price_comparison_time",
               "time_on_site_seconds", "credit_utilization", "economic_stress_factor",
               "will_default", "days_to_first_missed_payment", "label_available_at",
               "_timestamp", "_record_id",
               "_generator"]
    assert df.columns == bnpl_md
    for name, (_, _, dtype) in COLUMNS.items():
        assert df.schema[name] == dtype, name
    assert df.schema["_timestamp"] == pl.Datetime("us", "UTC")
    # no loan, no label: a declined application's; no reason: an approved one's
    nullable = {"credit_utilization", "days_to_first_missed_payment", "will_default",
                "decline_reason", "label_available_at"}
    for name in df.columns:
        if name not in nullable:
            assert df[name].null_count() == 0, name


def test_category_sets(df):
    assert df.schema["risk_level"].categories.to_list() == ["low", "medium", "high", "very_high"]
    assert df.schema["customer_income_bracket"].categories.to_list() == [
        "<25k", "25k-50k", "50k-75k", "75k-100k", "100k+"]
    assert set(df["customer_state"].unique()) <= set(M.STATES)
    assert len(M.STATES) == 51
    for cat, subs in M.SUBCATEGORIES.items():
        seen = set(df.filter(pl.col("product_category") == cat)["product_subcategory"].unique())
        assert seen == set(subs)
        assert 4 <= len(subs) <= 5
    assert set(df["currency"].unique()) == {"USD"} and set(df["status"].unique()) == {"approved",
                                                                              "declined"}
    assert set(df["payment_credit_limit"].unique()) == {500, 1000, 1500, 2500, 5000}


def test_id_formats(df):
    assert df["transaction_id"].str.contains(r"^txn_\d{8,}$").all()
    assert df["customer_id"].str.contains(r"^cust_\d{6,}$").all()
    assert df["product_id"].str.contains(r"^prod_\d{6,}$").all()
    assert (df["device_id"].str.split("_device_").list.first() == df["customer_id"]).all()
    assert df["device_id"].str.contains(r"_device_[12]$").all()
    assert (df["payment_method_id"].str.split("_pm_").list.first() == df["customer_id"]).all()
    assert df["payment_method_id"].str.contains(r"_pm_[123]$").all()


def test_customer_shares(df):
    c = firsts(df, "customer_id")
    assert c.height > 0.25 * N
    assert_shares(c["customer_income_bracket"], M.INCOME, M.INCOME_SHARES)
    assert_shares(c["customer_credit_score_range"], M.CREDIT, M.CREDIT_SHARES)
    assert_shares(c["customer_verification_level"], M.VERIFICATION, M.VERIFICATION_SHARES)
    assert_shares(c["customer_address_stability"], M.ADDRESS, M.ADDRESS_SHARES)
    assert_shares(c["customer_age_bracket"], M.AGE, M.AGE_SHARES)  # 1.2 days: no birthdays matter
    assert_shares(c["customer_state"], M.STATES, list(M.STATE_POPULATION.values()))


def test_device_and_payment_shares(df):
    d = firsts(df, "device_id")
    assert_shares(d["device_type"], M.DEVICE_TYPE, M.DEVICE_TYPE_SHARES)
    for dtype, shares in M.DEVICE_OS_SHARES.items():
        sub = d.filter(pl.col("device_type") == dtype)["device_os"]
        assert_shares(sub, list(shares), list(shares.values()))
    p = firsts(df, "payment_method_id")
    assert_shares(p["payment_provider"], M.PROVIDER, M.PROVIDER_SHARES)
    limits = M.CREDIT_LIMIT_SHARES
    assert_shares(p["payment_credit_limit"].cast(pl.String), [str(x) for x in limits],
                  list(limits.values()))


def test_product_shares():
    df = simtom.frame("bnpl", n=100_000, seed=7, max_products=50_000)
    assert_shares(df["product_category"], M.CATEGORY, M.CATEGORY_SHARES)
    products = firsts(df, "product_id")
    assert_shares(products["product_risk_category"], M.PRODUCT_RISK, M.PRODUCT_RISK_SHARES)
    for cat, brands in M.BRAND_SHARES.items():
        sub = products.filter(pl.col("product_category") == cat)["product_brand"]
        assert_shares(sub, list(brands), list(brands.values()))


def test_record_shares(df):
    # Scenario draws depend on the customer's credit, so records of one customer are not
    # independent: use the number of customers as the sample size (conservative).
    n_customers = df["customer_id"].n_unique()
    scen = df["risk_scenario"].value_counts().to_dict(as_series=False)
    got = dict(zip(scen["risk_scenario"], scen["count"]))
    for name, p in zip(M.RISK_SCENARIO, M.RISK_SCENARIO_WEIGHTS):
        tol = Z * math.sqrt(p * (1 - p) / n_customers)
        assert abs(got[name] / N - p) <= tol, name
    assert_shares(df["product_category"], M.CATEGORY, M.CATEGORY_SHARES)


def test_poor_credit_is_more_often_credit_stretched(df):
    share = df.group_by("customer_credit_score_range").agg(
        (pl.col("risk_scenario") == "credit_stretched").mean().alias("s"))
    s = dict(share.iter_rows())
    assert s["poor"] > 2 * s["excellent"]


def test_latent_creditworthiness_ties_credit_income_and_limit(df):
    c = firsts(df, "customer_id").with_columns(
        pl.col("customer_credit_score_range").to_physical().alias("credit"),
        pl.col("customer_income_bracket").to_physical().alias("income"))
    # credit codes run excellent (0) .. poor (3), income codes low .. high: negative correlation
    assert c.select(pl.corr("credit", "income")).item() < -0.2
    assert df.select(pl.corr(pl.col("customer_credit_score_range").to_physical(),
                             "payment_credit_limit")).item() < -0.2


def test_default_rate_matches_base_default_rate(df):
    """The share of approved loans that charge off (declined ones have no label)."""
    approved = df.filter(pl.col("status") == "approved")
    rate = approved["will_default"].mean()
    # hidden per-customer risk (and hardship) clusters defaults
    n_customers = approved["customer_id"].n_unique()
    tol = Z * math.sqrt(0.03 * 0.97 / n_customers)
    assert abs(rate - 0.03) <= tol


def test_stress_and_base_rate_move_the_default_rate():
    base = simtom.frame("bnpl", n=50_000, seed=3)["will_default"].mean()
    stressed = simtom.frame("bnpl", n=50_000, seed=3, economic_stress_factor=1.0)
    assert stressed["will_default"].mean() > 1.8 * base
    high = simtom.frame("bnpl", n=50_000, seed=3, base_default_rate=0.10)["will_default"].mean()
    assert abs(high - 0.10) < 0.01


@pytest.mark.parametrize("rate", [0.0005, 0.03, 0.5])
@pytest.mark.parametrize("guess", [-35.0, 0.0, 35.0])
def test_the_intercept_solver_hits_the_rate_from_any_start(rate, guess):
    """The calibration's solver: mean(sigmoid(alpha + logit)) = rate to rounding, from guesses
    in either flat tail of the sigmoid (where a plain Newton step overshoots), on skewed
    log-odds like the kernel's."""
    rng = np.random.default_rng(7)
    logit = rng.normal(0.0, 1.5, 50_000) + rng.exponential(1.0, 50_000)
    alpha = solve_intercept(logit, rate, guess)
    mean = float(np.mean(1.0 / (1.0 + np.exp(-(alpha + logit)))))
    assert abs(mean - rate) <= 1e-12 * rate + 1e-16


def test_repeat_customer_rate_is_the_steady_state_share_of_returning_customers():
    """A purchase is by a returning customer when the customer bought before, in the stream or
    before it (customers exist before a stream starts). Records are drawn at random from the
    first 10^9; a purchase's customer is another purchase's with probability about 1e-5, so
    they are close to independent draws and the tolerance is binomial."""
    rng = np.random.default_rng(5)
    ks = np.sort(rng.integers(0, 10**9, 100_000))
    for rate in (1.0, 100.0):
        for repeat in (0.3, 0.7, 0.9):
            previous, _ = population.neighbours(11, ks, rate, repeat)
            share = float(np.mean(previous != C.NONE))
            tol = Z * math.sqrt(repeat * (1 - repeat) / len(ks))
            assert abs(share - repeat) <= tol, (rate, repeat, share)


def test_the_first_records_are_as_returning_as_later_ones():
    """No ramp: the stream's first purchases are mostly by customers who bought before it
    (their earlier purchases have negative record numbers)."""
    ks = np.arange(0, 20_000)
    previous, _ = population.neighbours(11, ks, 1.0)
    assert abs(np.mean(previous != C.NONE) - 0.7) <= Z * math.sqrt(0.21 / 20_000) * 3
    assert np.mean(previous[previous != C.NONE] < 0) > 0.9


@pytest.mark.parametrize("rate", [1.0, 100.0, 2000 / 86_400])
def test_a_customer_buys_every_few_weeks_in_simulated_time_whatever_the_rate(rate):
    """The gap between a customer's consecutive purchases, in simulated days (records / rate),
    has the same law at any rate: a median of one to three weeks, heavy-tailed (a tenth of gaps
    over a month). Records at random from 10^9 (see above); the tolerances are wide against the
    sampling error of a median of 50,000 (about 1 %) and narrow against the old model's minutes."""
    rng = np.random.default_rng(8)
    ks = np.sort(rng.integers(0, 10**9, 70_000))
    _, following = population.neighbours(3, ks, rate)
    ok = following != C.NONE
    days = (following[ok] - ks[ok]) / rate / 86_400
    assert 7 <= np.median(days) <= 21, np.median(days)
    assert np.quantile(days, 0.9) > 30
    assert np.quantile(days, 0.1) > 1


def test_a_year_of_the_calendar_has_customers_returning_after_weeks():
    """In a date range, measured on the records' own timestamps: the median gap between a
    customer's consecutive purchases is weeks (not minutes), and some customers buy many times
    in the year while most buy a few times."""
    df = simtom.frame("bnpl", start_date="2024-01-01", end_date="2024-12-31",
                      base_daily_volume=500, seed=4).select("customer_id", "_timestamp")
    gaps = (df.sort("customer_id", "_timestamp", maintain_order=True)
            .group_by("customer_id", maintain_order=True)
            .agg(pl.col("_timestamp").diff().dt.total_seconds().drop_nulls() / 86_400)
            .explode("_timestamp")["_timestamp"].drop_nulls())
    assert 7 <= gaps.median() <= 21, gaps.median()
    counts = df["customer_id"].value_counts()["count"]
    assert counts.max() >= 20 and counts.median() <= 3


def test_no_drift_stream_has_independent_windows(df):
    """The variance of 10k-record window means of risk_score is what independent rows give:
    the ratio to the row variance / 10k is a chi-square of 19 windows over 19 (within 0.3-2.2
    for a 99.8 % interval), where the old record-count repeat model gave about 8."""
    windows = df["risk_score"].to_numpy()[: 200_000].reshape(20, 10_000)
    ratio = windows.mean(axis=1).var(ddof=1) / (windows.var() / 10_000)
    assert 0.3 <= ratio <= 2.2, ratio


def test_max_customers_caps_the_population():
    df = simtom.frame("bnpl", n=20_000, seed=1, max_customers=100)
    assert df["customer_id"].n_unique() <= 100
    assert df["customer_id"].n_unique() > 90


def test_entities_have_the_same_attributes_on_every_row(df):
    static = {
        "customer_id": ["customer_income_bracket", "customer_credit_score_range",
                        "customer_verification_level", "customer_address_stability",
                        "customer_state"],
        "device_id": ["device_type", "device_os"],
        "payment_method_id": ["payment_provider", "payment_credit_limit"],
        "product_id": ["product_category", "product_subcategory", "product_brand",
                       "product_price", "product_risk_category", "product_bnpl_eligible"],
    }
    for key, fields in static.items():
        worst = df.group_by(key).agg(pl.col(fields).n_unique()).select(pl.max_horizontal(fields))
        assert worst.max().item() == 1, key
    # tenure grows with the event time, one day per day
    signup = df.with_columns(
        (pl.col("_timestamp").dt.epoch("d") - pl.col("customer_tenure_days")).alias("signup"))
    spread = signup.group_by("customer_id").agg(pl.col("signup").max() - pl.col("signup").min())
    assert spread["signup"].max() <= 1


def test_label_relationships(df):
    d = df["days_to_first_missed_payment"]
    assert (d.is_null() == ~df["will_default"].fill_null(False)).all()
    assert (df["will_default"].is_null() == (df["status"] == "declined")).all()
    defaults = df.filter(pl.col("will_default"))
    # the first missed instalment's due day: pay-in-4 every 14 days, longer plans monthly
    # (30.4375 days, rounded), never the down payment, never after the last instalment
    pay_in_4 = defaults.filter(pl.col("installment_count") == 4)
    assert pay_in_4["days_to_first_missed_payment"].is_in([14, 28, 42]).all()
    monthly = defaults.filter(pl.col("installment_count") > 4)
    assert monthly.height > 0
    due = (monthly["days_to_first_missed_payment"] / 30.4375).round()
    assert ((due * 30.4375).round() == monthly["days_to_first_missed_payment"]).all()
    assert (due >= 1).all() and (due <= monthly["installment_count"] - 1).all()
    assert ((df["payment_frequency"] == "bi_weekly") == (df["installment_count"] == 4)).all()
    assert (df["amount"] == df["product_price"]).all()
    assert ((df["first_payment_amount"] - (df["amount"] * 0.25).round(2)).abs() < 0.006).all()
    level = (pl.when(pl.col("risk_score") < 0.3).then(pl.lit("low"))
             .when(pl.col("risk_score") < 0.6).then(pl.lit("medium"))
             .when(pl.col("risk_score") < 0.8).then(pl.lit("high")).otherwise(pl.lit("very_high")))
    assert (df.select(level == pl.col("risk_level").cast(pl.String)).to_series()).all()
    assert df["risk_score"].is_between(0, 1).all()


def test_installments_follow_the_amount(df):
    rules = df.group_by(
        pl.when(pl.col("amount") < 100).then(0).when(pl.col("amount") < 500).then(1)
        .when(pl.col("amount") < 1000).then(2).otherwise(3).alias("band")
    ).agg(pl.col("installment_count").unique().sort())
    allowed = {0: [4], 1: [4, 6], 2: [6, 12], 3: [12, 24]}
    for band, counts in rules.iter_rows():
        assert counts == allowed[band]


def test_eligibility_and_utilization(df):
    eligible = (pl.col("product_price") >= 50) & pl.col("product_category").is_in(
        ["electronics", "clothing", "home"])
    assert (df.select(eligible).to_series() == df["product_bnpl_eligible"]).all()
    stretched = df["risk_scenario"] == "credit_stretched"
    assert (df["credit_utilization"].is_not_null() == stretched).all()
    s = df.filter(stretched)
    assert ((s["credit_utilization"] - s["amount"] / s["payment_credit_limit"]).abs() < 1e-4).all()


def test_prices_are_right_skewed_with_a_realistic_mean(df):
    price = df["product_price"]
    assert price.mean() > price.median()  # right-skewed
    assert 100 <= price.mean() <= 170  # public figure: mean order about $135
    share_50_1000 = price.is_between(50, 1000).mean()
    assert share_50_1000 > 0.6
    by_cat = df.group_by("product_category").agg(pl.col("product_price").median())
    med = dict(by_cat.iter_rows())
    assert med["electronics"] > med["home"] > med["sports"] > med["clothing"] > med["beauty"]


def test_income_shifts_spend(df):
    by_income = df.group_by("customer_income_bracket").agg(pl.col("amount").mean())
    mean = dict(by_income.iter_rows())
    assert mean["100k+"] > 1.15 * mean["<25k"]


def test_scenario_drives_behaviour(df):
    t = df.group_by("risk_scenario").agg(pl.col("price_comparison_time").median())
    med = dict(t.iter_rows())
    assert med["impulse_purchase"] < med["low_risk_purchase"] / 3
    assert med["high_risk_behavior"] < med["low_risk_purchase"] / 3
    assert (df["time_on_site_seconds"] > df["price_comparison_time"]).all()
    assert df["cart_abandonment_count"].is_between(0, 3).all()


def test_no_hidden_drift_over_years():
    """With drift off, a multi-year stream is stationary: the first and last thirds agree on
    device trust, tenure, age and default rate within sampling error (customers' dates hang on
    their first purchase, not on the scenario start)."""
    df = simtom.frame("bnpl", n=150_000, seed=31, rate_per_second=0.0005,
                      arrival_pattern="poisson")
    span_years = (df["_timestamp"].max() - df["_timestamp"].min()).total_seconds() / 3.15e7
    assert span_years > 8
    first, last = df.head(50_000), df.tail(50_000)
    n_eff = min(first["customer_id"].n_unique(), last["customer_id"].n_unique())
    for name in ("device_is_trusted", "will_default"):
        a, b = first[name].mean(), last[name].mean()
        p = (a + b) / 2
        assert abs(a - b) <= Z * math.sqrt(2 * p * (1 - p) / n_eff), name
    young = [part["customer_age_bracket"].is_in(["18-24", "25-34"]).mean()
             for part in (first, last)]
    assert abs(young[0] - young[1]) <= Z * math.sqrt(2 * 0.25 / n_eff)
    median_tenure = [part["customer_tenure_days"].median() for part in (first, last)]
    assert abs(median_tenure[0] - median_tenure[1]) < 0.15 * median_tenure[0]
