"""Label usefulness: will_default is learnable, realistically so, and no single column leaks it.

Labels exist for approved loans only (a declined application has no loan): the models here learn
on approved applications, as a lender's would."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.metrics import roc_auc_score

import simtom
from simtom.bnpl.generator import POST_OUTCOME

LABELS = list(POST_OUTCOME)  # known only after the decision: never features
BOOKKEEPING = ["transaction_id", "customer_id", "product_id", "device_id", "payment_method_id",
               "_timestamp", "_record_id", "_generator", "currency", "status", "decline_reason",
               "payment_type",
               "payment_frequency"]


def features(df: pl.DataFrame) -> tuple[np.ndarray, list[str]]:
    x = df.drop(LABELS + BOOKKEEPING)
    x = x.with_columns(
        [pl.col(c).to_physical().cast(pl.Float64) for c, d in x.schema.items()
         if isinstance(d, pl.Enum)]
        + [pl.col(c).cast(pl.Float64) for c, d in x.schema.items() if d == pl.Boolean]
    ).fill_null(-1.0)
    return x.to_numpy(), x.columns


@pytest.fixture(scope="module")
def data():
    approved = pl.col("status") == "approved"
    train = simtom.frame("bnpl", n=100_000, seed=101).filter(approved)
    test = simtom.frame("bnpl", n=100_000, seed=202).filter(approved)
    return train, test


def test_gradient_boosting_reaches_a_realistic_auc(data):
    train, test = data
    x_train, _ = features(train)
    x_test, _ = features(test)
    model = HistGradientBoostingClassifier(random_state=0).fit(
        x_train, train["will_default"].to_numpy())
    auc = roc_auc_score(test["will_default"].to_numpy(), model.predict_proba(x_test)[:, 1])
    assert 0.65 <= auc <= 0.90, auc


def test_no_single_column_gives_the_label_away(data):
    train, _ = data
    x, names = features(train)
    y = train["will_default"].to_numpy()
    for j, name in enumerate(names):
        column = x[:, j]
        if np.ptp(column) == 0:
            continue
        auc = roc_auc_score(y, column)
        assert max(auc, 1 - auc) <= 0.85, name


def test_ids_carry_no_label_information(data):
    train, _ = data
    y = train["will_default"].to_numpy()
    for name in ("_record_id",):
        auc = roc_auc_score(y, train[name].to_numpy())
        assert max(auc, 1 - auc) < 0.55
