"""Repayment: when each instalment of an approved BNPL loan is paid, late, or missed.

A loan of ``n`` instalments taken at ``t`` has its first (25 %) paid at checkout and the others
due every ``step`` (14 days for pay-in-4, a month of 30.4375 days for longer plans). Three
regimes, all pure functions of (seed, record, instalment) and the customer's hardship time:

- **in hardship, charging off** (the feature kernel's ``will_default``): every instalment due
  after the hardship starts is missed; the loan charges off ``CHARGE_OFF_DAYS`` after the first
  missed one (instalments due later are not billed: the balance is written off);
- **in hardship, cured**: the instalments due between the hardship and the cure (``CURE_MIN`` to
  ``CURE_MAX`` days after it) are all paid at the cure, late; the others as below;
- **otherwise** each instalment is late with the customer's own probability (its ``propensity``),
  by 1 + an exponential of mean ``MEAN_LATE_DAYS`` days, always paid before the next is due (and
  before a coming hardship).

A late or missed instalment costs a ``LATE_FEE`` (the fees of a loan capped at ``FEE_CAP`` of its
amount, as BNPL.md's public figures say). The feature kernel uses ``paid_time`` for the label's
time (``label_available_at``) and the events kernel for every payment, so the two agree.
"""

from __future__ import annotations

import math

import numpy as np

from ._jit import helper
from .rng import uniform

i64 = np.int64

STREAM_REPAY = i64(214)
US_PER_DAY = i64(86_400_000_000)
US_PER_MONTH = i64(2_629_800_000_000)  # 30.4375 days: a twelfth of 365.25
CHARGE_OFF_DAYS = i64(120)
CURE_MIN = 10.0  # days after the hardship starts
CURE_MAX = 100.0
MEAN_LATE_DAYS = 4.0
LATE_FEE = 8.0
FEE_CAP = 0.25
#: Draws of a loan's repayment key: the cure, then two per instalment (late?, how late).
DRAW_CURE = i64(0)


@helper
def step_of(installments):  # type: ignore[no-untyped-def]
    """µs between instalments: two weeks for pay-in-4, a month for longer plans."""
    return 14 * US_PER_DAY if installments == 4 else US_PER_MONTH


@helper
def first_missed(t, hardship, step):  # type: ignore[no-untyped-def]
    """µs after checkout of the first instalment a loan in hardship misses: the first due after
    the hardship starts (or after checkout, for a loan taken in hardship)."""
    return ((max(hardship, t) - t) // step + 1) * step


@helper
def charge_off_time(first_missed_at):  # type: ignore[no-untyped-def]
    """When a loan whose first missed instalment fell due at ``first_missed_at`` charges off."""
    return first_missed_at + CHARGE_OFF_DAYS * US_PER_DAY


@helper
def cure_time(rb, hardship):  # type: ignore[no-untyped-def]
    """When a cured loan's overdue instalments are paid (µs)."""
    days = CURE_MIN + (CURE_MAX - CURE_MIN) * uniform(rb, DRAW_CURE)
    return hardship + np.int64(days * US_PER_DAY)


@helper
def paid_time(rb, i, due, step, propensity, hardship, cure):  # type: ignore[no-untyped-def]
    """When instalment ``i`` (2 .. n), due at ``due``, of a loan that does not charge off is
    paid (µs); ``cure`` is the cure time of a loan in hardship (unused otherwise)."""
    if hardship <= due < cure:
        return cure
    if uniform(rb, 2 * i) >= propensity:
        return due
    late = (1 + np.int64(math.floor(-math.log(1.0 - uniform(rb, 2 * i + 1))
                                    * MEAN_LATE_DAYS))) * US_PER_DAY
    late = min(late, step - US_PER_DAY)  # paid before the next instalment is due
    if due < hardship:  # ... and before the hardship
        late = min(late, hardship - due - 1)
    return due + max(late, i64(0))


@helper
def label_time(rb, t, installments, defaulted, first_missed_us, propensity,
               hardship):  # type: ignore[no-untyped-def]
    """When an approved loan's outcome is known: its charge-off, or the last payment."""
    if defaulted:
        return charge_off_time(first_missed_us)
    step = step_of(installments)
    last = t + (installments - 1) * step
    cure = cure_time(rb, hardship) if hardship <= last else hardship  # (only in hardship)
    # a late instalment is paid before the next is due, a cured one at the cure: the last
    # instalment is paid last
    return paid_time(rb, installments, last, step, propensity, hardship, cure)
