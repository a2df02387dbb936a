"""The lifecycle's events: each application and, for an approved loan, its payments, late fees,
missed payments and its close (paid off or charged off), from the feature kernel's rows.

One call expands a block of applications into event rows in application order (each loan's
events in its own time order; the caller sorts across loans). Every value is a function of the
application's row, its record number and the repayment draws of ``repay.py``, so the events of
a record are the same whatever the block. A loan's close agrees with ``label_available_at``
(``repay.label_time``).
"""

from __future__ import annotations

import math

import numpy as np

from . import repay as R
from ._jit import jit
from .rng import key_base, stream_key

i64 = np.int64

E_APPLICATION = i64(0)
E_PAYMENT = i64(1)
E_LATE_FEE = i64(2)
E_MISSED = i64(3)
E_CHARGE_OFF = i64(4)
E_PAID_OFF = i64(5)


@jit
def capacity(approved, installments):  # type: ignore[no-untyped-def]
    """The most event rows a block's applications can make: one for a declined application,
    ``2 n + 1`` for an approved loan of ``n`` instalments (the application, the down payment, a
    fee and a payment or a miss per later instalment, the close)."""
    total = 0
    for r in range(approved.shape[0]):
        total += 2 * installments[r] + 1 if approved[r] else 1
    return total


#: ``next_at`` of an application with no event at or after the window's end.
NEVER = i64(2**63 - 1)


@jit
def expand(seed, records, times, amounts, installments, approved, defaulted, hardship, late,
           customers, lo, hi, kind, at, record, customer, number, due, paid, dpd, index,
           next_at):  # type: ignore[no-untyped-def]
    """Write the events of applications ``records`` (any records, in any order) that fall in
    the window ``lo <= time < hi`` into the output arrays; returns their count. ``next_at[r]``
    receives the time of application r's first event at or after ``hi`` (``NEVER``: none).

    ``number`` is the instalment number (1 = the down payment at checkout; -1: none), ``due``
    and ``paid`` amounts (NaN: none), ``dpd`` days past due (-1: none), ``index`` the event's
    place among its application's events (the same whatever the window).
    """
    repay_key = stream_key(seed, R.STREAM_REPAY)
    e = 0
    for r in range(times.shape[0]):
        k = records[r]
        t = times[r]
        amount = amounts[r]
        next_at[r] = NEVER
        # the application
        e = _row(kind, at, record, customer, number, due, paid, dpd, index, e, E_APPLICATION,
                 t, k, customers[r], -1, amount, np.nan, -1, 0, lo, hi, next_at, r)
        if not approved[r]:
            continue
        n = installments[r]
        rb = key_base(repay_key, k)
        step = R.step_of(n)
        h = hardship[r]
        down = round(amount * 25.0) / 100.0
        rest = round((amount - down) * 100.0)  # cents
        each = math.floor(rest / (n - 1))
        fees_left = R.FEE_CAP * amount
        j = 1
        # the down payment, at checkout
        e = _row(kind, at, record, customer, number, due, paid, dpd, index, e, E_PAYMENT, t, k,
                 customers[r], 1, down, down, 0, j, lo, hi, next_at, r)
        j += 1
        total_paid = down
        owed = 0.0  # missed instalments and unpaid fees
        cure = R.cure_time(rb, h)
        charge_off = i64(0)
        if defaulted[r]:
            charge_off = R.charge_off_time(t + R.first_missed(t, h, step))
        last_paid = t
        for i in range(2, n + 1):
            when = t + (i - 1) * step
            instalment = (each if i < n else rest - each * (n - 2)) / 100.0
            if defaulted[r] and when > h:  # the first missed is the first due after it
                if when >= charge_off:  # not billed: written off with the balance
                    owed += instalment
                    continue
                e = _row(kind, at, record, customer, number, due, paid, dpd, index, e, E_MISSED,
                         when, k, customers[r], i, instalment, 0.0, 0, j, lo, hi, next_at, r)
                j += 1
                owed += instalment
                fee = min(R.LATE_FEE, fees_left)
                if fee > 0.0:
                    fees_left -= fee
                    owed += fee
                    e = _row(kind, at, record, customer, number, due, paid, dpd, index, e,
                             E_LATE_FEE, when + R.US_PER_DAY, k, customers[r], i, fee, 0.0, 1, j,
                             lo, hi, next_at, r)
                    j += 1
                continue
            pt = R.paid_time(rb, i, when, step, late[r], h, cure)
            days = (pt - when) // R.US_PER_DAY
            fee = 0.0
            if days >= 1:  # late: a fee the day after the due date, paid with the instalment
                fee = min(R.LATE_FEE, fees_left)
                if fee > 0.0:
                    fees_left -= fee
                    e = _row(kind, at, record, customer, number, due, paid, dpd, index, e,
                             E_LATE_FEE, when + R.US_PER_DAY, k, customers[r], i, fee, 0.0, 1, j,
                             lo, hi, next_at, r)
                    j += 1
            e = _row(kind, at, record, customer, number, due, paid, dpd, index, e, E_PAYMENT, pt,
                     k, customers[r], i, instalment + fee, instalment + fee, days, j, lo, hi,
                     next_at, r)
            j += 1
            total_paid += instalment + fee
            last_paid = max(last_paid, pt)
        if defaulted[r]:
            e = _row(kind, at, record, customer, number, due, paid, dpd, index, e, E_CHARGE_OFF,
                     charge_off, k, customers[r], -1, round(owed * 100.0) / 100.0, 0.0,
                     R.CHARGE_OFF_DAYS, j, lo, hi, next_at, r)
        else:
            e = _row(kind, at, record, customer, number, due, paid, dpd, index, e, E_PAID_OFF,
                     last_paid, k, customers[r], -1, np.nan,
                     round(total_paid * 100.0) / 100.0, -1, j, lo, hi, next_at, r)
    return e


@jit
def _row(kind, at, record, customer, number, due, paid, dpd, index, e, what, when, k, cust, i,
         amount_due, amount_paid, days, j, lo, hi, next_at, r):  # type: ignore[no-untyped-def]
    """Write one event at row ``e`` if it is in the window (returns the next row), else note
    it in ``next_at`` if it comes after the window."""
    if when >= hi:
        next_at[r] = min(next_at[r], when)
        return e
    if when < lo:
        return e
    kind[e] = what
    at[e] = when
    record[e] = k
    customer[e] = cust
    number[e] = i
    due[e] = amount_due
    paid[e] = amount_paid
    dpd[e] = days
    index[e] = j
    return e + 1
