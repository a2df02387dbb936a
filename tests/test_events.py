"""The lifecycle's event log: every application and what follows it, in time order; each
approved loan's events to its close, agreeing with the application's labels and their time.

Statistical checks use fixed seeds and tolerances of a few standard errors over customers."""

from __future__ import annotations

import datetime as dt
import math

import polars as pl
import pytest

import simtom

N = 60_000
ORDER = ["_timestamp", "_record_id", "_event_index"]


@pytest.fixture(scope="module")
def log() -> pl.DataFrame:
    return simtom.events("bnpl", n=N, seed=21)


@pytest.fixture(scope="module")
def apps() -> pl.DataFrame:
    return simtom.frame("bnpl", n=N, seed=21)


def test_one_application_event_per_record_in_time_order(log: pl.DataFrame,
                                                         apps: pl.DataFrame) -> None:
    assert log.columns[:7] == ["event_type", "transaction_id", "customer_id",
                               "installment_number", "amount_due", "amount_paid",
                               "days_past_due"]
    assert log.select(ORDER).equals(log.select(ORDER).sort(ORDER))
    first = log.filter(pl.col("event_type") == "application").sort("_record_id")
    assert first.height == N
    assert first["transaction_id"].equals(apps["transaction_id"])
    assert first["customer_id"].equals(apps["customer_id"])
    assert first["_timestamp"].equals(apps["_timestamp"])
    assert first["amount_due"].equals(apps["amount"])


def test_declined_applications_have_no_other_events(log: pl.DataFrame,
                                                    apps: pl.DataFrame) -> None:
    counts = log.group_by("_record_id").len().sort("_record_id")
    declined = (apps["status"] == "declined").to_numpy()
    assert (counts["len"].to_numpy()[declined] == 1).all()
    # the application, four or more payments or misses, the close
    assert (counts["len"].to_numpy()[~declined] >= 5).all()


def loans(log: pl.DataFrame, apps: pl.DataFrame) -> pl.DataFrame:
    """Per approved loan: its close, its payments and the application's fields."""
    close = log.filter(pl.col("event_type").is_in(["paid_off", "charge_off"]))
    per = log.group_by("_record_id").agg(
        (pl.col("event_type") == "charge_off").any().alias("charged_off"),
        (pl.col("event_type") == "paid_off").sum().alias("paid_offs"),
        pl.col("amount_paid").filter(pl.col("event_type") == "payment").sum().alias("paid"),
        pl.col("amount_due").filter(pl.col("event_type") == "late_fee").sum().alias("fees"),
        pl.col("_timestamp").filter(pl.col("event_type") == "missed_payment").min()
        .alias("first_missed"),
        (pl.col("event_type") == "missed_payment").sum().alias("misses"),
        pl.col("_timestamp").max().alias("last"),
    )
    return (apps.filter(pl.col("status") == "approved")
            .join(per, on="_record_id")
            .join(close.select("_record_id", pl.col("_timestamp").alias("closed")),
                  on="_record_id"))


def test_every_approved_loan_closes_once_as_its_label_says(log: pl.DataFrame,
                                                           apps: pl.DataFrame) -> None:
    book = loans(log, apps)
    assert book.height == (apps["status"] == "approved").sum()
    assert (book["charged_off"] == book["will_default"]).all()
    assert ((book["paid_offs"] == 1) == ~book["will_default"]).all()
    # the label's time is the close, and nothing happens to a loan after it
    assert (book["closed"] == book["label_available_at"]).all()
    assert (book["last"] == book["closed"]).all()


def test_charge_offs_follow_missed_payments(log: pl.DataFrame, apps: pl.DataFrame) -> None:
    """Every charge-off comes 120 days after the loan's first missed instalment, which is the
    application's days_to_first_missed_payment (rounded to days) after it."""
    bad = loans(log, apps).filter(pl.col("will_default"))
    assert bad.height > 100 and (bad["misses"] >= 1).all()
    assert (bad["closed"] - bad["first_missed"] == dt.timedelta(days=120)).all()
    days = (bad["first_missed"] - bad["_timestamp"]).dt.total_seconds() / 86_400
    assert ((days - bad["days_to_first_missed_payment"]).abs() <= 0.5).all()


def test_a_paid_loan_pays_its_amount_and_its_fees(log: pl.DataFrame, apps: pl.DataFrame) -> None:
    good = loans(log, apps).filter(~pl.col("will_default"))
    assert ((good["paid"] - good["amount"] - good["fees"]).abs() < 0.005).all()
    # fees capped at 25 % of the order
    assert (good["fees"] <= 0.25 * good["amount"] + 1e-9).all()
    down = log.filter((pl.col("event_type") == "payment") & (pl.col("installment_number") == 1))
    first = apps.filter(pl.col("status") == "approved").sort("_record_id")
    assert down.sort("_record_id")["amount_paid"].equals(first["first_payment_amount"])


def test_instalments_fall_due_on_the_schedule(log: pl.DataFrame, apps: pl.DataFrame) -> None:
    """On-time instalment i of a pay-in-4 loan is paid 14 (i - 1) days after checkout; of a
    monthly plan (i - 1) x 30.4375 days after; a late one after its due date, by its days past
    due (whole days, rounded down)."""
    pay = (log.filter((pl.col("event_type") == "payment") & (pl.col("installment_number") > 1))
           .join(apps.select("_record_id", pl.col("_timestamp").alias("t"),
                             "installment_count"), on="_record_id"))
    step = pl.when(pl.col("installment_count") == 4).then(14 * 86_400.0).otherwise(
        30.4375 * 86_400)
    due = pl.col("t") + pl.duration(seconds=step * (pl.col("installment_number") - 1))
    late = (pl.col("_timestamp") - due).dt.total_seconds()
    checked = pay.with_columns(late.alias("late"))
    assert (checked["late"] >= 0).all()
    assert (checked["late"] // 86_400 == checked["days_past_due"]).all()
    assert (checked.filter(pl.col("days_past_due") == 0)["late"] < 86_400).all()


def test_lateness_is_commoner_than_charge_off_and_near_the_public_figures() -> None:
    """Over the last year of ~1.6 years of applications (0.01/s, 500k): the share of borrowers
    (customers with a loan written in the year) charged at least one late fee in the year, and
    the share of loans charged off. BNPL.md: about 10.5 % of borrowers a year with a late fee,
    about 2.4 % of loans charged off (base_default_rate's default is 3 %): lateness several times
    commoner than charge-off. Measured: 10.5 % of borrowers, 3.0 % of loans charged off, 6.7 %
    of loans with a fee. The calibration (LATE_SHARE) was set on this seed, so the band is the
    calibration's own sampling error over ~64k borrowers (0.12 %) four times, plus 0.5 % for
    another seed's population."""
    log = simtom.events("bnpl", n=500_000, seed=3, rate_per_second=0.01)
    end = log.filter(pl.col("event_type") == "application")["_timestamp"].max()
    year = log.filter(pl.col("_timestamp").is_between(end - dt.timedelta(days=365), end))
    written = year.filter((pl.col("event_type") == "payment")
                          & (pl.col("installment_number") == 1))
    borrowers = written["customer_id"].n_unique()
    with_fee = year.filter(pl.col("event_type") == "late_fee")["customer_id"].n_unique()
    share = with_fee / borrowers
    originations = log.filter((pl.col("event_type") == "payment")
                              & (pl.col("installment_number") == 1)).height
    charged = log.filter(pl.col("event_type") == "charge_off").height / originations
    se = math.sqrt(0.03 * 0.97 / log["customer_id"].n_unique())
    assert abs(charged - 0.03) < 0.03 * 0.02 + 4 * se, charged  # calibration good to ~2 %
    assert abs(share - 0.105) <= 4 * math.sqrt(0.105 * 0.895 / borrowers) + 0.005, share
    assert share > 3 * charged
    loans_with_fee = log.filter(pl.col("event_type") == "late_fee")["_record_id"].n_unique()
    assert loans_with_fee / originations > 2 * charged


@pytest.mark.parametrize("batch_size", [1, 777, 65_536])
def test_iter_events_equals_events_whatever_the_batch(batch_size: int) -> None:
    n = 3_000 if batch_size == 1 else 20_000
    whole = simtom.events("bnpl", n=n, seed=4)
    parts = list(simtom.iter_events("bnpl", n=n, seed=4, batch_size=batch_size))
    assert all(p.height == batch_size for p in parts[:-1])
    assert pl.concat(parts).equals(whole)


def test_events_follow_the_scenario_options() -> None:
    """Drift, stress and a date range reach the events as they reach the records."""
    kw = {"economic_stress_factor": 1.0, "start_date": "2025-03-01", "end_date": "2025-03-03",
          "base_daily_volume": 2000, "seed": 6}
    apps = simtom.frame("bnpl", **kw)
    log = simtom.events("bnpl", **kw)
    first = log.filter(pl.col("event_type") == "application").sort("_record_id")
    assert first["transaction_id"].equals(apps["transaction_id"])
    charged = log.filter(pl.col("event_type") == "charge_off")["_record_id"].sort()
    assert charged.equals(apps.filter(pl.col("will_default"))["_record_id"])


@pytest.mark.parametrize(("options", "field"), [
    ({"noise_type": "gaussian", "noise_level": 0.1}, "noise_type"),
    ({"late_rate": 0.1}, "late_rate"),
    ({"missing_rate": 0.1}, "missing_rate"),
])
def test_record_only_options_are_refused_by_name(options: dict[str, object], field: str) -> None:
    with pytest.raises(simtom.ConfigError) as info:
        simtom.events("bnpl", n=10, seed=1, **options)
    assert info.value.field == field


def test_a_generator_without_a_lifecycle_is_refused() -> None:
    name = next(g for g in simtom.available() if g != "bnpl")
    with pytest.raises(simtom.ConfigError) as info:
        simtom.events(name, n=10, seed=1)
    assert info.value.field == "name"


def test_post_outcome_fields_are_named(apps: pl.DataFrame) -> None:
    """The named post-outcome fields are columns that exist only where a loan does (the label
    and its forms), and every column with that pattern of nulls is named: the other nullable
    columns (credit_utilization, decline_reason) are known at the decision."""
    from simtom.bnpl.generator import POST_OUTCOME

    declined = apps["status"] == "declined"
    for name in POST_OUTCOME:
        assert apps[name].is_null().filter(declined).all(), name
    assert apps["will_default"].is_null().equals(declined, check_names=False)
    assert apps["label_available_at"].is_null().equals(declined, check_names=False)
    by_pattern = {c for c in apps.columns
                  if apps[c].null_count() and apps[c].is_null().filter(declined).all()}
    assert by_pattern == set(POST_OUTCOME)


def ref_events(seed: int, first: int, times: list[int], rows: dict[str, list]) -> list[tuple]:
    """The events of records ``first ..`` recomputed in Python from the feature kernel's rows
    (the kernel's own reference checks those), as ``lifecycle.py`` documents them: the
    application; for an approved loan the down payment, then each instalment missed (charging
    off: a miss, and a fee the next day while the fees last) or paid at ``ref_paid``'s time
    (late by a day or more: a fee the day after its due date, paid with it), and the close."""
    from test_kernel_reference import ref_paid

    day = 86_400_000_000
    out = []
    for r, t in enumerate(times):
        k, amount, n = first + r, rows["amount"][r], rows["installments"][r]
        cust = rows["customer"][r]
        out.append((0, t, k, cust, -1, amount, None, -1, 0))
        if not rows["approved"][r]:
            continue
        step = 14 * day if n == 4 else 2_629_800_000_000
        h, late = rows["hardship"][r], rows["late"][r]
        down = round(amount * 25.0) / 100.0
        rest = round((amount - down) * 100.0)
        each = math.floor(rest / (n - 1))
        fees_left = 0.25 * amount
        j = 1
        out.append((1, t, k, cust, 1, down, down, 0, j))
        j += 1
        paid_total, owed, last = down, 0.0, t
        charge_off = 0
        if rows["default"][r]:
            missed = (max(h, t) - t) // step + 1
            charge_off = t + missed * step + 120 * day
        for i in range(2, n + 1):
            when = t + (i - 1) * step
            instalment = (each if i < n else rest - each * (n - 2)) / 100.0
            if rows["default"][r] and when > h:
                owed += instalment
                if when >= charge_off:
                    continue
                out.append((3, when, k, cust, i, instalment, 0.0, 0, j))
                j += 1
                fee = min(8.0, fees_left)
                if fee > 0:
                    fees_left -= fee
                    owed += fee
                    out.append((2, when + day, k, cust, i, fee, 0.0, 1, j))
                    j += 1
                continue
            pt = ref_paid(seed, k, i, when, step, late, h)  # at the cure if due in hardship
            days = (pt - when) // day
            fee = 0.0
            if days >= 1:
                fee = min(8.0, fees_left)
                if fee > 0:
                    fees_left -= fee
                    out.append((2, when + day, k, cust, i, fee, 0.0, 1, j))
                    j += 1
            out.append((1, pt, k, cust, i, instalment + fee, instalment + fee, days, j))
            j += 1
            paid_total += instalment + fee
            last = max(last, pt)
        if rows["default"][r]:
            out.append((4, charge_off, k, cust, -1, round(owed * 100.0) / 100.0, 0.0, 120, j))
        else:
            out.append((5, last, k, cust, -1, None, round(paid_total * 100.0) / 100.0, -1, j))
    return out


@pytest.mark.parametrize(("first", "options"), [
    (0, {}),
    (123_456, {"economic_stress_factor": 2.0, "rate_per_second": 0.01}),
    (5_000, {"max_customers": 200, "repeat_customer_rate": 0.9}),
])
def test_the_events_kernel_equals_a_python_reference(first: int,
                                                     options: dict[str, object]) -> None:
    import numpy as np
    from simtom_kernels import bnpl as K

    from simtom.bnpl.generator import BNPLBlocks, run_kernel
    from simtom.engine.arrivals import Arrivals

    scenario = simtom.scenario("bnpl", n=first + 3000, seed=77, **options)
    gen = BNPLBlocks()
    prepared = gen.prepare(scenario)
    arrivals = Arrivals(scenario)
    times = np.empty(first + 3000, np.int64)
    arrivals.fill(arrivals.start(), times)
    times = times[first:].copy()
    ip = prepared.ip.copy()
    ip[K.I_LIFECYCLE] = 1
    _, ints, floats, flags = run_kernel(scenario.seed, first, times, scenario.start_us,
                                        prepared.tables, prepared.fp, ip)
    rows = {"amount": floats[K.X_AMOUNT].tolist(), "installments": ints[K.I_INSTALLMENTS].tolist(),
            "customer": ints[K.I_CUSTOMER].tolist(), "approved": flags[K.B_APPROVED].tolist(),
            "default": flags[K.B_DEFAULT].tolist(), "hardship": ints[K.I_HARDSHIP].tolist(),
            "late": floats[K.X_LATE].tolist()}
    expected = ref_events(scenario.seed, first, times.tolist(), rows)
    # every branch is met: charge-offs with misses and fees, payments late with a fee
    assert {4, 3, 2}.issubset({e[0] for e in expected})
    assert any(e[0] == 1 and e[7] >= 1 for e in expected)
    got = gen.events(scenario, prepared, first, times)
    kinds = {name: code for code, name in enumerate(
        ("application", "payment", "late_fee", "missed_payment", "charge_off", "paid_off"))}
    customers = dict(zip(range(first, first + 3000), rows["customer"]))
    got = got.with_columns(pl.col("_timestamp").dt.epoch("us").alias("at"))
    assert got.height == len(expected)
    for row, want in zip(got.iter_rows(named=True), expected):
        kind, at, k, cust, number, due, paid, dpd, index = want
        assert (kinds[row["event_type"]], row["at"], row["_record_id"], row["_event_index"]) == (
            kind, at, k, index), (row, want)
        assert row["transaction_id"] == f"txn_{k:08d}"
        assert row["customer_id"] == f"cust_{customers[k]:06d}" and cust == customers[k]
        assert row["installment_number"] == (None if number < 0 else number)
        assert row["days_past_due"] == (None if dpd < 0 else dpd)
        assert row["amount_due"] == (None if due is None else pytest.approx(due, abs=1e-9))
        assert row["amount_paid"] == (None if paid is None else pytest.approx(paid, abs=1e-9))
