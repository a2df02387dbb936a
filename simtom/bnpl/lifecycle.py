"""The BNPL lifecycle as events: each application and an approved loan's payments, late fees,
missed payments and close, from the feature kernel's rows (``simtom_kernels.lifecycle``).

Event types, in the order a loan meets them: ``application`` (every record, approved or not;
``amount_due`` the order's amount), ``payment`` (an instalment paid, with its fee when late;
``installment_number`` 1 is the down payment at checkout), ``late_fee`` (assessed the day after
a late or missed instalment's due date), ``missed_payment`` (an instalment not paid by a
customer whose loan charges off), ``charge_off`` (120 days after the first missed instalment;
``amount_due`` the balance written off) and ``paid_off`` (at the last payment; ``amount_paid``
all the loan's payments). Times are the events' own, in simulated time.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np
import polars as pl
import pyarrow as pa
from simtom_kernels import bnpl as K
from simtom_kernels import lifecycle as L

from simtom.bnpl.columns import nulls, strings

EVENT_TYPE = ("application", "payment", "late_fee", "missed_payment", "charge_off", "paid_off")
#: The events' columns (then ``_timestamp``, ``_record_id``, ``_event_index``).
EVENT_SCHEMA: dict[str, pl.DataType] = {
    "event_type": pl.Enum(list(EVENT_TYPE)),
    "transaction_id": pl.String(),
    "customer_id": pl.String(),
    "installment_number": pl.Int64(),
    "amount_due": pl.Float64(),
    "amount_paid": pl.Float64(),
    "days_past_due": pl.Int64(),
}
_TYPES = pl.Series("event_type", EVENT_TYPE, dtype=EVENT_SCHEMA["event_type"])


@dataclass(frozen=True)
class Applications:
    """What the events of some applications are made from: one entry per application (its
    record, time, amount, plan, decision, outcome, customer and repayment draws), 51 bytes
    each. ``take`` and ``concat`` keep a set of them (a stream's open book)."""

    records: np.ndarray
    times: np.ndarray
    amounts: np.ndarray
    installments: np.ndarray
    approved: np.ndarray
    defaulted: np.ndarray
    hardship: np.ndarray
    late: np.ndarray
    customers: np.ndarray

    @classmethod
    def of(cls, first: int, times: np.ndarray, rows: tuple[np.ndarray, ...]) -> Applications:
        """Records ``first ..`` from the feature kernel's rows (run with ``I_LIFECYCLE``)."""
        _, ints, floats, flags = rows
        n = times.shape[0]
        return cls(np.arange(first, first + n, dtype=np.int64), times,
                   floats[K.X_AMOUNT].copy(), ints[K.I_INSTALLMENTS].astype(np.int8),
                   flags[K.B_APPROVED].copy(), flags[K.B_DEFAULT].copy(),
                   ints[K.I_HARDSHIP].copy(), floats[K.X_LATE].copy(),
                   ints[K.I_CUSTOMER].copy())

    def __len__(self) -> int:
        return int(self.records.shape[0])

    @property
    def nbytes(self) -> int:
        return sum(getattr(self, f.name).nbytes for f in dataclasses.fields(self))

    def take(self, rows: np.ndarray) -> Applications:
        return Applications(*(getattr(self, f.name)[rows] for f in dataclasses.fields(self)))

    def concat(self, other: Applications) -> Applications:
        return Applications(*(np.concatenate([getattr(self, f.name), getattr(other, f.name)])
                              for f in dataclasses.fields(self)))


def window(seed: int, apps: Applications, lo: int, hi: int) -> tuple[pl.DataFrame, np.ndarray]:
    """The events of ``apps`` at times ``lo <= t < hi`` (each application's in its own time
    order, unsorted across them), and each application's first event time at or after ``hi``
    (``NEVER`` when it has none: closed by then)."""
    size = int(L.capacity(apps.approved, apps.installments))
    kind = np.empty(size, np.uint8)
    at = np.empty(size, np.int64)
    record = np.empty(size, np.int64)
    customer = np.empty(size, np.int64)
    number = np.empty(size, np.int64)
    due = np.empty(size, np.float64)
    paid = np.empty(size, np.float64)
    dpd = np.empty(size, np.int64)
    index = np.empty(size, np.int64)
    next_at = np.empty(len(apps), np.int64)
    n = int(L.expand(np.int64(seed), apps.records, apps.times, apps.amounts, apps.installments,
                     apps.approved, apps.defaulted, apps.hardship, apps.late, apps.customers,
                     np.int64(lo), np.int64(hi), kind, at, record, customer, number, due, paid,
                     dpd, index, next_at))
    record, customer = record[:n], customer[:n]
    number, dpd = number[:n], dpd[:n]
    frame = pl.DataFrame([
        _TYPES.gather(pl.Series(kind[:n])),
        strings("txn_", record, 8).alias("transaction_id"),
        strings("cust_", customer, 6).alias("customer_id"),
        nulls(pa.int64(), "installment_number", number, number >= 0),
        pl.Series("amount_due", due[:n], nan_to_null=True),
        pl.Series("amount_paid", paid[:n], nan_to_null=True),
        nulls(pa.int64(), "days_past_due", dpd, dpd >= 0),
        pl.Series("_timestamp", at[:n]).cast(pl.Datetime("us", "UTC")),
        pl.Series("_record_id", record),
        pl.Series("_event_index", index[:n]),
    ])
    return frame, next_at
