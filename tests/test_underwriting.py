"""Underwriting: every checkout is an application the lender approves or declines on what it can
see; declined ones have no loan and no label; a customer in hardship is not approved again.

Statistical checks use fixed seeds and tolerances of a few standard errors, counting customers,
not records, where a customer's records share its traits (and its hardship)."""

from __future__ import annotations

import math

import polars as pl
import pytest

import simtom
from simtom.bnpl import model as M

Z = 4.0  # standard errors allowed


@pytest.fixture(scope="module")
def book() -> pl.DataFrame:
    """300k applications over ~350 days (0.01/s): customers come back many times."""
    return simtom.frame("bnpl", n=300_000, seed=17, rate_per_second=0.01)


def approved(df: pl.DataFrame) -> pl.DataFrame:
    return df.filter(pl.col("status") == "approved")


def test_ineligible_products_are_never_approved(book: pl.DataFrame) -> None:
    ineligible = book.filter(~pl.col("product_bnpl_eligible"))
    assert ineligible.height > 0
    assert (ineligible["status"] == "declined").all()
    assert (ineligible["decline_reason"] == "product_not_eligible").all()
    assert (book.filter(pl.col("product_bnpl_eligible"))["decline_reason"]
            != "product_not_eligible").all()


def test_a_reason_exactly_when_declined(book: pl.DataFrame) -> None:
    assert set(book["status"].unique()) == {"approved", "declined"}
    assert (book["decline_reason"].is_null() == (book["status"] == "approved")).all()
    assert set(book["decline_reason"].drop_nulls().unique()) == set(M.DECLINE_REASON)


def test_the_cutoff_is_on_the_risk_score(book: pl.DataFrame) -> None:
    """Every approved score is below every score declined for its score."""
    by_score = book.filter(pl.col("decline_reason") == "risk_score")
    assert approved(book)["risk_score"].max() < by_score["risk_score"].min()


def test_the_limit_caps_the_amount(book: pl.DataFrame) -> None:
    assert (approved(book)["amount"] <= approved(book)["payment_credit_limit"]).all()
    over = book.filter(pl.col("decline_reason") == "credit_limit")
    assert over.height > 0 and (over["amount"] > over["payment_credit_limit"]).all()


def test_about_73_percent_of_eligible_applications_are_approved(book: pl.DataFrame) -> None:
    """The cutoff is one score value, so the share can overshoot the target by the share of
    applications at exactly that score (ties); beyond that, sampling error over customers."""
    eligible = book.filter(pl.col("product_bnpl_eligible"))
    share = (eligible["status"] == "approved").mean()
    cutoff = approved(book)["risk_score"].max()
    ties = (eligible["risk_score"] == cutoff).mean()
    se = math.sqrt(M.APPROVAL_SHARE * (1 - M.APPROVAL_SHARE) / eligible["customer_id"].n_unique())
    assert M.APPROVAL_SHARE - Z * se <= share <= M.APPROVAL_SHARE + ties + Z * se, (share, ties)


def test_a_customer_in_hardship_is_not_approved_again(book: pl.DataFrame) -> None:
    """Once the lender has declined a customer as delinquent, every later application of the
    customer is declined; and no customer is approved 30 days or more after the first missed
    payment of a loan that charged off (charge-off comes at 120 days)."""
    df = book.sort("customer_id", "_timestamp")
    first_delinquent = (df.filter(pl.col("decline_reason") == "delinquent")
                        .group_by("customer_id").agg(pl.col("_timestamp").min().alias("since")))
    assert first_delinquent.height > 100
    later = df.join(first_delinquent, on="customer_id").filter(
        pl.col("_timestamp") > pl.col("since"))
    assert later.height > 100
    assert (later["status"] == "declined").all()
    assert (later.filter(pl.col("product_bnpl_eligible"))["decline_reason"]
            == "delinquent").all()
    missed = (df.filter(pl.col("will_default"))
              .with_columns((pl.col("_timestamp") + pl.duration(
                  days=pl.col("days_to_first_missed_payment"))).alias("missed"))
              .group_by("customer_id").agg(pl.col("missed").min()))
    after = df.join(missed, on="customer_id").filter(
        pl.col("_timestamp") >= pl.col("missed") + pl.duration(days=30))
    assert after.height > 100
    assert (after["status"] == "declined").all()


def test_economic_stress_tightens_approval() -> None:
    """Stress raises risk scores by 20 % a unit against a cutoff set at no stress."""
    plain = simtom.frame("bnpl", n=50_000, seed=3)
    stressed = simtom.frame("bnpl", n=50_000, seed=3, economic_stress_factor=1.0)
    share = [(df["status"] == "approved").mean() for df in (plain, stressed)]
    assert share[1] < share[0] - 0.05, share


@pytest.mark.parametrize(("field", "riskier", "safer"), [
    ("customer_age_bracket", ["18-24", "25-34"], ["45-54", "55+"]),
    ("customer_income_bracket", ["<25k", "25k-50k"], ["75k-100k", "100k+"]),
])
def test_age_and_income_move_repayment(book: pl.DataFrame, field: str, riskier: list[str],
                                       safer: list[str]) -> None:
    """Young and low-income borrowers charge off more often than old and high-income ones, by
    more than Z standard errors of the difference (over customers)."""
    loans = approved(book)
    a = loans.filter(pl.col(field).is_in(riskier))
    b = loans.filter(pl.col(field).is_in(safer))
    pa, pb = a["will_default"].mean(), b["will_default"].mean()
    se = math.sqrt(pa * (1 - pa) / a["customer_id"].n_unique()
                   + pb * (1 - pb) / b["customer_id"].n_unique())
    assert pa - pb > Z * se, (pa, pb, se)


def test_completed_is_the_original_name_for_approved() -> None:
    ours = simtom.frame("bnpl", n=5_000, seed=9)
    original = simtom.frame("bnpl", n=5_000, seed=9, approved_status="completed")
    assert set(original["status"].unique()) == {"completed", "declined"}
    assert (original["status"].cast(pl.String).replace("completed", "approved")
            == ours["status"].cast(pl.String)).all()
    assert original.drop("status").equals(ours.drop("status"))


def test_an_unknown_approved_status_is_named() -> None:
    with pytest.raises(simtom.ConfigError) as info:
        simtom.frame("bnpl", n=10, approved_status="accepted")
    assert info.value.field == "approved_status"
