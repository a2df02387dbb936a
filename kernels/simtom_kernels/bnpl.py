"""The BNPL feature kernel: every field of a BNPL transaction, a block of records at a time.

Record ``k`` draws from key ``k`` of the record stream; its customer is the one the population
gives its place (``customers.py``: customers buy at their own pace in simulated time); a
customer's attributes draw from key ``customer`` of the customer stream, a product's from its
product number, a device's and a payment method's from (customer, index). So a record depends
only on the seed and ``k`` (and its event time, for the time-derived fields), and an entity has
the same attributes on every row.

The model's figures (shares, thresholds, price shapes) come in as arrays built by
``simtom.bnpl.model``; the indices below name their rows and slots.
Output goes into
four 2-D arrays, one row per field, so that every column is contiguous.
"""

from __future__ import annotations

import math

import numba
import numpy as np

from . import customers as C
from . import drift as D
from . import hardship as H
from . import repay as R
from ._jit import helper, inline, jit, parallel
from ._json_values import poke
from .rng import (
    categorical,
    categorical_mixed,
    key_base,
    loglogistic,
    lognormal,
    norm_cdf,
    norm_ppf,
    normal,
    stream_key,
    uniform,
)

# Constant arguments of helper calls are written i64(3), not 3: Numba would otherwise compile a
# separate Literal[int](3) specialisation of the helper for every distinct constant.
i64 = np.int64

STREAM_RECORD = i64(202)
STREAM_CUSTOMER = i64(203)
STREAM_PRODUCT = i64(204)
STREAM_DEVICE = i64(205)
STREAM_PAYMENT = i64(206)

# Rows of the cumulative-probability table (each row ends in 1.0 and is padded with 1.0).
T_CATEGORY = i64(0)
T_SCENARIO = i64(1)  # + credit code (4 rows)
T_CONTEXT = i64(5)  # + scenario code (4 rows)
T_SPEED = i64(9)  # + scenario code (4 rows)
T_ABANDON = i64(13)  # + scenario code (4 rows)
T_AGE = i64(17)
T_ADDRESS = i64(18)
T_STATE = i64(19)
T_DEVICE_TYPE = i64(20)
T_OS = i64(21)  # + device type code (3 rows)
T_PROVIDER = i64(24)
T_BRAND = i64(25)  # + category code (5 rows)
T_N_DEVICES = i64(30)
T_N_PAYMENT = i64(31)
T_PRODUCT_RISK = i64(32)
T_SUBCATEGORY = i64(33)  # + category code (5 rows)
# Covariate drift's mixes: at intensity a > 0 a draw uses (1 - a) × the plain row + a × its
# drift row; at a < 0, |a| × its mirror row (the plain shares moved the other way).
T_CATEGORY_DRIFT = i64(38)  # (+1: mirror)
T_DEVICE_DRIFT = i64(40)  # (+1: mirror)
T_SCENARIO_DRIFT = i64(42)  # + credit code (4 rows), then the 4 mirror rows
N_TABLES = i64(50)
TABLE_WIDTH = i64(64)

# Slots of the float parameter vector.
F_REPEAT = i64(0)  # repeat_customer_rate (informational: the population's lifetimes carry it)
F_STRESS = i64(1)  # economic_stress_factor
F_ALPHA = i64(2)  # log-odds intercept of default, calibrated to base_default_rate
F_CREDIT_T = i64(3)  # 3 descending thresholds on the credit latent (excellent .. poor)
F_INCOME_T = i64(6)  # 4 descending thresholds on the income latent (100k+ ... | <25k)
F_VERIFY_T = i64(10)  # 2 descending thresholds on the verification latent
F_LIMIT_T = i64(12)  # 4 descending thresholds on the credit-limit latent (5000 ... | 500)
F_PRICE = i64(16)  # per category: log median, sigma, low, high (5 × 4)
F_SCENARIO_TIME = i64(36)  # per scenario: comparison and site log median and shape (4 × 4)
F_SCENARIO_LOGIT = i64(52)  # per scenario: added log-odds of default (4)
F_STRESS_LOGIT = i64(56)  # log-odds of default per unit of economic stress
F_SIGNUP = i64(57)  # signup before the scenario start, days: log median, sigma, cap
F_DEVICE2 = i64(60)  # second device first seen after signup, days: log median, sigma
F_AGE_START = i64(62)  # youngest age of each bracket, years (5), then oldest age (1)
F_PERIOD = i64(68)  # mean simulated µs between records (1 / simulated rate)
F_DRIFT_SCALE = i64(69)  # drift schedule's time scale, µs (ramp or period)
F_DRIFT_COVARIATE = i64(70)  # drift strength on each target (0 where not targeted)
F_DRIFT_PRIOR = i64(71)
F_DRIFT_CONCEPT = i64(72)
F_CONCEPT_ALPHA = i64(73)  # intercept at concept intensity -1, -0.9, ..., 1 (21)
F_NEW_OFFSET = i64(94)  # the new concept's log-odds = offset + factor × its raw score
F_NEW_FACTOR = i64(95)
F_LIFE = i64(96)  # the population's lifetimes (customers.LIFE_SIZE slots)
F_HAZARD0 = i64(96 + C.LIFE_SIZE)  # log-hazard intercept of hardship, per year (calibrated)
F_CUTOFF = i64(97 + C.LIFE_SIZE)  # the lender's highest approved risk score (calibrated)
F_LATE = i64(98 + C.LIFE_SIZE)  # a typical customer's chance of paying an instalment late
# concept drift on hardship: the old drivers' mean, and the new drivers' offset and factor that
# give them the old ones' mean and spread (calibrated; used only under concept drift)
F_HAZ_MEAN = i64(99 + C.LIFE_SIZE)
F_HAZ_NEW_OFFSET = i64(100 + C.LIFE_SIZE)
F_HAZ_NEW_FACTOR = i64(101 + C.LIFE_SIZE)
# the hardship intercept at concept intensity -1, -0.9, ..., 1 (21; the middle one F_HAZARD0's)
F_HAZ0_GRID = i64(102 + C.LIFE_SIZE)
N_FLOAT_PARAMS = i64(102 + H.GRID + C.LIFE_SIZE)
CONCEPT_GRID = 21

# Slots of the integer parameter vector.
I_MAX_CUSTOMERS = i64(0)  # 0 = no cap (informational: the population's lanes carry it)
I_PRODUCT_OFFSET = i64(1)  # first product number of each category (5)
I_PRODUCT_COUNT = i64(6)  # products in each category (5)
I_DRIFT_KIND = i64(11)  # drift.NONE, LINEAR, ...
I_DRIFT_T0 = i64(12)  # when drift starts, µs
I_INTERNALS = i64(13)  # 1: also write the internal rows X_OBSERVED and X_NEW (calibration)
I_P_TOTAL = i64(14)  # the population: lanes in all, then customers.POP_ROW slots per stratum
I_POP = i64(15)
I_APPROVED_CODE = i64(15 + C.POP_SIZE)  # status code of an approved application (S_APPROVED ..)
I_LIFECYCLE = i64(16 + C.POP_SIZE)  # 1: also write I_HARDSHIP and X_LATE (for the events)
N_INT_PARAMS = i64(17 + C.POP_SIZE)

# Output rows: categorical codes (uint8).
C_AGE = i64(0)
C_INCOME = i64(1)
C_CREDIT = i64(2)
C_VERIFICATION = i64(3)
C_ADDRESS = i64(4)
C_STATE = i64(5)
C_CATEGORY = i64(6)
C_SUBCATEGORY = i64(7)
C_BRAND = i64(8)
C_PRODUCT_RISK = i64(9)
C_DEVICE_TYPE = i64(10)
C_DEVICE_OS = i64(11)
C_PROVIDER = i64(12)
C_SCENARIO = i64(13)
C_RISK_LEVEL = i64(14)
C_CONTEXT = i64(15)
C_SPEED = i64(16)
C_STATUS = i64(17)  # S_APPROVED, S_COMPLETED (the original's name for it) or S_DECLINED
C_DECLINE = i64(18)  # a declined application's reason (R_...); 0 where approved
C_FREQUENCY = i64(19)  # 0 bi-weekly (pay-in-4), 1 monthly
N_CODES = i64(20)

S_APPROVED = i64(0)
S_COMPLETED = i64(1)
S_DECLINED = i64(2)
R_NOT_ELIGIBLE = i64(0)  # the product is not eligible for BNPL
R_DELINQUENT = i64(1)  # the customer has missed a payment (its hardship is on file)
R_RISK_SCORE = i64(2)  # risk score above the lender's cutoff
R_CREDIT_LIMIT = i64(3)  # the amount is above the payment method's credit limit

# Output rows: integers (int64).
I_CUSTOMER = i64(0)
I_PRODUCT = i64(1)
I_DEVICE = i64(2)
I_PAYMENT = i64(3)
I_TENURE = i64(4)
I_CREDIT_LIMIT = i64(5)
I_INSTALLMENTS = i64(6)
I_ABANDON = i64(7)
I_COMPARISON = i64(8)
I_SITE_TIME = i64(9)
I_DAYS_MISSED = i64(10)  # -1 where null
I_LABEL_AT = i64(11)  # when the loan's outcome is known, µs (approved loans only)
I_HARDSHIP = i64(12)  # the customer's hardship time, µs (only with I_LIFECYCLE)
N_INTS = i64(13)

# Output rows: floats (float64).
X_AMOUNT = i64(0)
X_FIRST_PAYMENT = i64(1)
X_RISK_SCORE = i64(2)
X_UTILIZATION = i64(3)  # NaN where null
X_LOGIT = i64(4)  # the default log-odds before the intercept (internal, used to calibrate)
X_OBSERVED = i64(5)  # internal: the log-odds' part from observed factors (the old score)
X_NEW = i64(6)  # internal: concept drift's raw new score (both only with I_INTERNALS)
X_STRESS = i64(7)  # economic_stress_factor (moves with covariate drift)
# internal (only with I_INTERNALS), for the calibration of hardship and the cutoff:
X_HAZARD = i64(8)  # the customer's log-hazard of hardship before the intercept
X_EXPO = i64(9)  # the customer's exponential draw: hardship after EXPO / hazard years
X_ELAPSED = i64(10)  # years since the customer joined the lender
X_SPAN = i64(11)  # years from the application to the loan's last instalment
X_LATE = i64(12)  # a customer's chance of paying an instalment late (I_LIFECYCLE; 0: declined)
X_HAZ_OBS = i64(13)  # internal: the hardship log-hazard's old drivers (concept drift turns them)
X_HAZ_NEW = i64(14)  # internal: its new drivers, raw
N_FLOATS = i64(15)

# Output rows: booleans.
B_ELIGIBLE = i64(0)
B_TRUSTED = i64(1)
B_DEFAULT = i64(2)
B_APPROVED = i64(3)
N_FLAGS = i64(4)

US_PER_DAY = i64(86_400_000_000)
US_PER_YEAR = i64(31_557_600_000_000)  # 365.25 days
#: The lender sees a customer's hardship this long after it starts (a payment 30 days past due
#: reaches the credit file), and declines the customer from then on.
VISIBLE_US = i64(30) * US_PER_DAY
NEVER = H.NEVER  # a hardship time past any event time
#: Log-hazard of hardship by the customer's age bracket (young customers are riskier) and
#: address stability (new, stable, frequent mover).
HAZARD_AGE = (0.45, 0.2, 0.0, -0.15, -0.3)
HAZARD_ADDRESS = (0.25, 0.0, 0.35)
#: Concept drift's new drivers of hardship (other visible traits): age the other way,
#: verification level (high .. low) and the number of payment methods.
NEW_HAZARD_AGE = (-0.4, -0.2, 0.0, 0.3, 0.6)
NEW_HAZARD_VERIFY = (0.0, 0.5, 1.0)
NEW_HAZARD_METHODS = (0.0, 0.3, 0.7)
CREDIT_LIMITS = (500, 1000, 1500, 2500, 5000)
# Concept drift's new score: what drives default in the new concept (observed fields, but not
# the ones the old score uses): age bracket, product category, provider and loan length.
NEW_AGE = (0.9, 0.4, 0.0, -0.3, -0.6)
NEW_CATEGORY = (0.6, -0.2, 0.1, -0.5, 0.0)
NEW_PROVIDER = (0.0, 0.2, 0.5, 0.9)
MAX_STRESS = 5.0


@helper
def new_score(age, category, provider, installments):  # type: ignore[no-untyped-def]
    """Concept drift's raw new score of a record (before it is scaled like the old one)."""
    return (NEW_AGE[age] + NEW_CATEGORY[category] + NEW_PROVIDER[provider]
            + 0.05 * (installments - 4))


@helper
def tilt(a):  # type: ignore[no-untyped-def]
    """A level's drift factor at intensity ``a``: 1 + a up, 1 / (1 + |a|) down."""
    return 1.0 + a if a >= 0.0 else 1.0 / (1.0 - a)


@inline
def drifted(base, draw, tables, row, drift_row, mirror_row, a):  # type: ignore[no-untyped-def]
    """A categorical draw from ``row`` moved by covariate drift of intensity ``a``."""
    if a == 0.0:
        return categorical(base, draw, tables, row)
    if a > 0.0:
        return categorical_mixed(base, draw, tables, row, drift_row, a)
    return categorical_mixed(base, draw, tables, row, mirror_row, -a)


@helper
def concept_alpha(fp, a):  # type: ignore[no-untyped-def]
    """The intercept at concept intensity ``a`` (linear between the calibrated grid points)."""
    x = (a + 1.0) * 0.5 * (CONCEPT_GRID - 1)
    i = min(max(np.int64(math.floor(x)), i64(0)), i64(CONCEPT_GRID - 2))
    f = x - i
    return fp[F_CONCEPT_ALPHA + i] * (1.0 - f) + fp[F_CONCEPT_ALPHA + i + 1] * f


@helper
def bucket(x, fp, first, count):  # type: ignore[no-untyped-def]
    """How many of ``count`` descending thresholds lie at or above ``x`` (0 = best bucket)."""
    code = 0
    while code < count and x <= fp[first + code]:
        code += 1
    return code


# Customer memo: one row of integers and one of floats per cached customer.
M_TAG = i64(0)
M_CREDIT = i64(1)
M_INCOME = i64(2)
M_VERIFICATION = i64(3)
M_ADDRESS = i64(4)
M_STATE = i64(5)
M_BIRTH = i64(6)
M_SIGNUP = i64(7)
M_N_DEVICES = i64(8)
M_N_PAYMENT = i64(9)
M_ANCHOR = i64(10)  # when the customer joined the lender (its generation's start)
M_HARDSHIP = i64(11)  # when the customer's hardship starts (NEVER: not in 10,000 years)
N_MEMO_INTS = i64(12)
MF_Z = i64(0)
MF_HIDDEN = i64(1)
MF_INCOME = i64(2)
MF_DEVICE_DRIFT = i64(3)  # covariate drift's intensity when the customer arrived
MF_HAZARD = i64(4)  # the log-hazard of hardship before the intercept
MF_EXPO = i64(5)  # the exponential draw that places the hardship
MF_HAZ_OBS = i64(6)  # the hardship log-hazard's old drivers
MF_HAZ_NEW = i64(7)  # its new drivers, raw (concept drift)
N_MEMO_FLOATS = i64(8)
#: Rows of the customer memo (a power of 2).
CUSTOMER_MEMO = 16

# Product memo.
P_TAG = i64(0)
P_SUBCATEGORY = i64(1)
P_BRAND = i64(2)
P_RISK = i64(3)
N_PRODUCT_INTS = i64(4)


@helper
def fill_customer(cust, anchor, middle, memo_i, memo_f, slot, customer_key, tables, fp,
                  ip):  # type: ignore[no-untyped-def]
    """Compute customer ``cust``'s attributes into row ``slot`` of the memo (the arrays and a
    row number, not row views: a view is a reference count each way per call). Its devices and
    payment methods are functions of (customer, index), made where a record uses one: see
    ``device_of`` and ``payment_of``; a customer seldom makes two records of one block.

    ``anchor`` is the expected time the customer joined the lender, its generation's first
    round (its signup comes before it; covariate drift reaches its devices, and the clock of
    its hardship starts, from then);
    ``middle`` the expected middle of its life with the lender: the age drawn from the
    brackets' shares is the age then, so the ages of the customers who buy at any time follow
    the shares (a customer ages over a life of months to years, on both sides of the draw).
    """
    cb = key_base(customer_key, cust)
    z = normal(cb, i64(0))  # latent creditworthiness
    memo_f[slot, MF_Z] = z
    memo_f[slot, MF_HIDDEN] = normal(cb, i64(1))  # unobserved default propensity
    memo_i[slot, M_CREDIT] = bucket(0.8 * z + 0.6 * normal(cb, i64(2)), fp, F_CREDIT_T, i64(3))
    income_latent = 0.6 * z + 0.8 * normal(cb, i64(3))
    memo_f[slot, MF_INCOME] = income_latent
    memo_i[slot, M_INCOME] = 4 - bucket(income_latent, fp, F_INCOME_T, i64(4))
    memo_i[slot, M_VERIFICATION] = bucket(0.4 * z + 0.9165151389911680 * normal(cb, i64(4)),
                                          fp, F_VERIFY_T, i64(2))
    memo_i[slot, M_ADDRESS] = categorical(cb, i64(5), tables, T_ADDRESS)
    memo_i[slot, M_STATE] = categorical(cb, i64(6), tables, T_STATE)
    age_bracket = categorical(cb, i64(7), tables, T_AGE)
    young = fp[F_AGE_START + age_bracket]
    old = fp[F_AGE_START + age_bracket + 1]
    age_at_middle = young + (old - young) * uniform(cb, i64(8))
    # The customer's dates hang on its generation's expected times (pure functions of its
    # number), so a customer who arrives in year five is as new, and as young, as one in week
    # one; the population does not age with the stream.
    memo_i[slot, M_BIRTH] = middle - np.int64(age_at_middle * US_PER_YEAR)
    signup_days = min(lognormal(cb, i64(9), fp[F_SIGNUP], fp[F_SIGNUP + 1]), fp[F_SIGNUP + 2])
    signup_us = anchor - np.int64(signup_days * US_PER_DAY)
    memo_i[slot, M_SIGNUP] = signup_us
    # covariate drift reaches devices through new customers: a customer's devices follow the
    # device mix of the time the customer arrived (entities keep their attributes)
    a_device = 0.0
    if fp[F_DRIFT_COVARIATE] != 0.0:
        a_device = fp[F_DRIFT_COVARIATE] * D.realised(ip[I_DRIFT_KIND], anchor, ip[I_DRIFT_T0],
                                                      fp[F_DRIFT_SCALE], uniform(cb, i64(12)))
    memo_f[slot, MF_DEVICE_DRIFT] = a_device
    memo_i[slot, M_N_DEVICES] = 1 + categorical(cb, i64(10), tables, T_N_DEVICES)
    memo_i[slot, M_N_PAYMENT] = 1 + categorical(cb, i64(11), tables, T_N_PAYMENT)
    # hardship: the first event of a constant hazard from the day the customer joins (its
    # log-hazard from creditworthiness, the hidden factor, income, age and address, and
    # economic stress); the customer stops paying then, and is declined once the lender sees it
    # (hardship.py: drift moves the hazard over time)
    obs = (-0.9 * z - 0.3 * income_latent + HAZARD_AGE[age_bracket]
           + HAZARD_ADDRESS[memo_i[slot, M_ADDRESS]])
    new = (NEW_HAZARD_AGE[age_bracket] + NEW_HAZARD_VERIFY[memo_i[slot, M_VERIFICATION]]
           + NEW_HAZARD_METHODS[memo_i[slot, M_N_PAYMENT] - 1])
    rest = 0.8 * memo_f[slot, MF_HIDDEN]
    expo = -math.log(uniform(cb, i64(13)))
    mean = fp[F_HAZ_MEAN]
    memo_f[slot, MF_HAZARD] = obs + rest  # at no stress, no drift
    memo_f[slot, MF_HAZ_OBS] = obs
    memo_f[slot, MF_HAZ_NEW] = new
    memo_f[slot, MF_EXPO] = expo
    memo_i[slot, M_ANCHOR] = anchor
    memo_i[slot, M_HARDSHIP] = H.time_of(
        fp, F_HAZ0_GRID, anchor, expo, rest + mean, obs - mean,
        fp[F_HAZ_NEW_OFFSET] + fp[F_HAZ_NEW_FACTOR] * new - mean, fp[F_STRESS],
        fp[F_STRESS_LOGIT], ip[I_DRIFT_KIND], ip[I_DRIFT_T0], fp[F_DRIFT_SCALE],
        fp[F_DRIFT_COVARIATE], fp[F_DRIFT_CONCEPT],
        uniform(cb, i64(15)) if ip[I_DRIFT_KIND] == D.GRADUAL else 0.0)
    memo_i[slot, M_TAG] = cust


@inline
def late_propensity(cust, hidden, customer_key, fp):  # type: ignore[no-untyped-def]
    """The customer's chance of paying an instalment late (outside hardship): the hidden
    factor's customers more often, at most one instalment in two. Made only for an approved
    loan (the only records that use it)."""
    late_latent = 0.6 * hidden + 0.8 * normal(key_base(customer_key, cust), i64(14))
    return min(0.5, fp[F_LATE] * math.exp(0.8 * late_latent))


@inline
def device_of(cust, d, signup_us, a_device, device_key, tables,
              fp):  # type: ignore[no-untyped-def]
    """Device ``d`` (0 or 1) of customer ``cust``: (type, os, first seen)."""
    db = key_base(device_key, cust * 4 + d + 1)
    device_type = drifted(db, i64(0), tables, T_DEVICE_TYPE, T_DEVICE_DRIFT, T_DEVICE_DRIFT + 1,
                          a_device)
    device_os = categorical(db, i64(1), tables, T_OS + device_type)
    seen = signup_us
    if d == 1:
        seen += np.int64(lognormal(db, i64(2), fp[F_DEVICE2], fp[F_DEVICE2 + 1]) * US_PER_DAY)
    return device_type, device_os, seen


@inline
def payment_of(cust, m, z, payment_key, tables, fp):  # type: ignore[no-untyped-def]
    """Payment method ``m`` (0, 1 or 2) of customer ``cust``: (provider, credit limit)."""
    pb = key_base(payment_key, cust * 4 + m + 1)
    provider = categorical(pb, i64(0), tables, T_PROVIDER)
    limit_code = bucket(0.7 * z + 0.714142842854285 * normal(pb, i64(1)), fp, F_LIMIT_T, i64(4))
    return provider, CREDIT_LIMITS[4 - limit_code]


@helper
def fill_product(product, category, rank, n_products, pi, pf, product_key, tables,
                 fp):  # type: ignore[no-untyped-def]
    """Compute product ``product``'s attributes into a memo row; its price goes in ``pf``."""
    qb = key_base(product_key, product)
    slot = F_PRICE + 4 * category
    price = math.exp(fp[slot] + fp[slot + 1] * norm_ppf((rank + 0.5) / n_products)
                     + 0.08 * normal(qb, i64(0)))
    price = min(max(price, fp[slot + 2]), fp[slot + 3])
    pf[0] = round(price * 100.0) / 100.0
    pi[P_RISK] = categorical(qb, i64(1), tables, T_PRODUCT_RISK)
    pi[P_SUBCATEGORY] = categorical(qb, i64(2), tables, T_SUBCATEGORY + category)
    pi[P_BRAND] = categorical(qb, i64(3), tables, T_BRAND + category)
    pi[P_TAG] = product


@jit
def features(seed, first, times, start_us, tables, fp, ip, codes, ints, floats, flags):  # type: ignore[no-untyped-def]
    """Fill the output rows for records ``first .. first + len(times) - 1``."""
    fill_range(seed, first, times, start_us, tables, fp, ip, codes, ints, floats, flags, 0,
               times.shape[0])


@jit
def fill_range(seed, first, times, start_us, tables, fp, ip, codes, ints, floats, flags, lo,
               hi):  # type: ignore[no-untyped-def]
    """Fill output columns ``lo .. hi - 1`` (records ``first + lo .. first + hi - 1``).

    Customers and products are memoised in small direct-mapped tables for the length of the
    call (a cache of pure functions: the output is the same with or without it). Serial and
    chunked runs share this one compiled function.
    """
    record_key = stream_key(seed, STREAM_RECORD)
    customer_key = stream_key(seed, STREAM_CUSTOMER)
    product_key = stream_key(seed, STREAM_PRODUCT)
    device_key = stream_key(seed, STREAM_DEVICE)
    payment_key = stream_key(seed, STREAM_PAYMENT)
    drift_key = stream_key(seed, D.STREAM_DRIFT)
    drift_kind = ip[I_DRIFT_KIND]
    drift_t0 = ip[I_DRIFT_T0]
    drift_scale = fp[F_DRIFT_SCALE]
    internals = ip[I_INTERNALS] != 0
    lifecycle = ip[I_LIFECYCLE] != 0
    stress = fp[F_STRESS]
    n = hi - lo
    repay_key = stream_key(seed, R.STREAM_REPAY)
    round_key = C.round_stream(seed)
    lane_key = C.lane_stream(seed)
    period = fp[F_PERIOD]
    size = 16
    while size < n and size < 4096:
        size *= 2
    mask = size - 1
    # a customer is seldom met twice in a block (customers come back days to months later),
    # so its memo is small enough to stay in the L1 cache: its rows are written for every
    # record (measured: 4,096 rows -> 16, the kernel 437 -> 414 ns a record)
    memo_i = np.full((CUSTOMER_MEMO, N_MEMO_INTS), -1, np.int64)
    memo_f = np.empty((CUSTOMER_MEMO, N_MEMO_FLOATS), np.float64)
    prod_i = np.full((size, N_PRODUCT_INTS), -1, np.int64)
    prod_f = np.empty((size, 1), np.float64)
    for r in range(lo, hi):
        k = first + r
        t = times[r]
        rb = key_base(record_key, k)
        shape = 0.0
        if drift_kind != D.NONE:
            shape = D.realised(drift_kind, t, drift_t0, drift_scale,
                               D.record_uniform(drift_key, k))
        a_covariate = fp[F_DRIFT_COVARIATE] * shape
        a_prior = fp[F_DRIFT_PRIOR] * shape
        a_concept = fp[F_DRIFT_CONCEPT] * shape

        # --- customer: the lane and generation record k's place gives (customers.py); its
        # attributes a pure function of (seed, customer number) ------------------------------
        s, _, lane, g, since, life = C.customer_of(k, round_key, lane_key, ip, I_POP, fp,
                                                   F_LIFE)
        prow = I_POP + s * C.POP_ROW
        cust = C.customer_number(s, lane, g, ip, I_POP)
        slot = cust & (CUSTOMER_MEMO - 1)
        if memo_i[slot, M_TAG] != cust:
            # the expected times of the generation's first round (the customer joins the
            # lender then; its first purchase comes in that round or soon after) and of its
            # middle; no generations: the start, for both
            if since == C.FOREVER:
                anchor = start_us
                middle = start_us
            else:
                round_us = ip[prow + C.POP_K] * (C.SUPER / ip[prow + C.POP_W]) * period
                anchor = start_us + np.int64(math.floor(since * round_us))
                middle = start_us + np.int64(math.floor((since + 0.5 * life) * round_us))
            fill_customer(cust, anchor, middle, memo_i, memo_f, slot, customer_key, tables, fp,
                          ip)
        z = memo_f[slot, MF_Z]
        hidden = memo_f[slot, MF_HIDDEN]
        income_latent = memo_f[slot, MF_INCOME]
        credit = memo_i[slot, M_CREDIT]
        income = memo_i[slot, M_INCOME]
        verification = memo_i[slot, M_VERIFICATION]
        address = memo_i[slot, M_ADDRESS]
        signup_us = memo_i[slot, M_SIGNUP]

        # age bracket at the event time, from the birth date
        age = (t - memo_i[slot, M_BIRTH]) / US_PER_YEAR
        bracket = 0
        while bracket < 4 and age >= fp[F_AGE_START + bracket + 1]:
            bracket += 1
        codes[C_AGE, r] = bracket
        codes[C_INCOME, r] = income
        codes[C_CREDIT, r] = credit
        codes[C_VERIFICATION, r] = verification
        codes[C_ADDRESS, r] = address
        codes[C_STATE, r] = memo_i[slot, M_STATE]
        ints[I_CUSTOMER, r] = cust
        ints[I_TENURE, r] = max(np.int64(0), (t - signup_us) // US_PER_DAY)

        # --- device and payment method: functions of (customer, index) ----------------------
        device = 1
        if memo_i[slot, M_N_DEVICES] == 2 and uniform(rb, i64(0)) < 0.35:
            device = 2
        device_type, device_os, seen = device_of(cust, device - 1, signup_us,
                                                 memo_f[slot, MF_DEVICE_DRIFT], device_key,
                                                 tables, fp)
        codes[C_DEVICE_TYPE, r] = device_type
        codes[C_DEVICE_OS, r] = device_os
        trusted = t - seen > 30 * US_PER_DAY
        flags[B_TRUSTED, r] = trusted
        ints[I_DEVICE, r] = device

        payment = 1 + np.int64(math.floor(uniform(rb, i64(1)) * memo_i[slot, M_N_PAYMENT]))
        provider, credit_limit = payment_of(cust, payment - 1, z, payment_key, tables, fp)
        codes[C_PROVIDER, r] = provider
        ints[I_PAYMENT, r] = payment
        ints[I_CREDIT_LIMIT, r] = credit_limit

        # --- product: category from the record, position by income --------------------------
        category = drifted(rb, i64(2), tables, T_CATEGORY, T_CATEGORY_DRIFT,
                           T_CATEGORY_DRIFT + 1, a_covariate)
        n_products = ip[I_PRODUCT_COUNT + category]
        u_rank = norm_cdf(0.35 * income_latent + 0.9367496997597597 * normal(rb, i64(3)))
        rank = min(np.int64(math.floor(u_rank * n_products)), n_products - 1)
        product = ip[I_PRODUCT_OFFSET + category] + rank
        pslot = product & mask
        if prod_i[pslot, P_TAG] != product:
            fill_product(product, category, rank, n_products, prod_i[pslot], prod_f[pslot],
                         product_key, tables, fp)
        price = prod_f[pslot, 0]
        product_risk = prod_i[pslot, P_RISK]
        codes[C_CATEGORY, r] = category
        codes[C_SUBCATEGORY, r] = prod_i[pslot, P_SUBCATEGORY]
        codes[C_BRAND, r] = prod_i[pslot, P_BRAND]
        codes[C_PRODUCT_RISK, r] = product_risk
        ints[I_PRODUCT, r] = product
        flags[B_ELIGIBLE, r] = price >= 50.0 and category <= 2

        # --- the purchase: scenario from the customer's credit, behaviour from the scenario --
        scenario = drifted(rb, i64(4), tables, T_SCENARIO + credit, T_SCENARIO_DRIFT + credit,
                           T_SCENARIO_DRIFT + 4 + credit, a_covariate)
        codes[C_SCENARIO, r] = scenario
        codes[C_CONTEXT, r] = categorical(rb, i64(5), tables, T_CONTEXT + scenario)
        codes[C_SPEED, r] = categorical(rb, i64(6), tables, T_SPEED + scenario)
        ints[I_ABANDON, r] = categorical(rb, i64(7), tables, T_ABANDON + scenario)
        tslot = F_SCENARIO_TIME + 4 * scenario
        comparison = np.int64(round(loglogistic(rb, i64(8), fp[tslot], fp[tslot + 1])))
        ints[I_COMPARISON, r] = comparison
        ints[I_SITE_TIME, r] = comparison + 5 + np.int64(
            round(loglogistic(rb, i64(9), fp[tslot + 2], fp[tslot + 3])))

        amount = price
        if a_covariate != 0.0:  # the price level: 1 + a times (a > 0), 1 / (1 + |a|) (a < 0)
            amount = round(price * tilt(a_covariate) * 100.0) / 100.0
            flags[B_ELIGIBLE, r] = amount >= 50.0 and category <= 2
        floats[X_AMOUNT, r] = amount
        floats[X_FIRST_PAYMENT, r] = round(amount * 25.0) / 100.0
        u = uniform(rb, i64(10))
        if amount < 100.0:
            installments = 4
        elif amount < 500.0:
            installments = 4 if u < 0.7 else 6
        elif amount < 1000.0:
            installments = 6 if u < 0.5 else 12
        else:
            installments = 12 if u < 0.6 else 24
        ints[I_INSTALLMENTS, r] = installments
        utilization = amount / credit_limit
        if scenario == 2:
            floats[X_UTILIZATION, r] = round(utilization * 10000.0) / 10000.0
        else:
            floats[X_UTILIZATION, r] = np.nan

        record_stress = stress
        if a_covariate != 0.0:  # economic stress moves by the intensity (within 0 .. 5)
            record_stress = round(min(max(stress + a_covariate, 0.0), MAX_STRESS) * 1e4) / 1e4
        floats[X_STRESS, r] = record_stress

        # --- risk score: the original's weighted formula -------------------------------------
        credit_risk = (0.1, 0.3, 0.6, 0.9)[credit]
        verification_risk = (0.1, 0.5, 0.9)[verification]
        income_risk = (0.9, 0.7, 0.5, 0.3, 0.1)[income]
        device_risk = 0.1 if trusted else 0.7
        product_risk_value = (0.2, 0.5, 0.8)[product_risk]
        scenario_risk = (0.1, 0.5, 0.7, 0.95)[scenario]
        score = (0.3 * credit_risk + 0.2 * verification_risk + 0.2 * income_risk
                 + 0.1 * device_risk + 0.1 * product_risk_value + 0.1 * scenario_risk)
        score = min(1.0, score * (1.0 + 0.2 * record_stress))
        score = round(score * 10000.0) / 10000.0
        floats[X_RISK_SCORE, r] = score
        if score < 0.3:
            codes[C_RISK_LEVEL, r] = 0
        elif score < 0.6:
            codes[C_RISK_LEVEL, r] = 1
        elif score < 0.8:
            codes[C_RISK_LEVEL, r] = 2
        else:
            codes[C_RISK_LEVEL, r] = 3

        # --- outcome: observed risk factors plus hidden ones, on the log-odds scale ----------
        logit = (-1.1 * z + 0.9 * hidden + fp[F_SCENARIO_LOGIT + scenario]
                 + 0.35 * product_risk + 0.5 * min(utilization, 2.0)
                 + (0.0 if trusted else 0.4) + (0.1, 0.0, 0.2)[address]
                 + fp[F_STRESS_LOGIT] * record_stress)
        alpha = fp[F_ALPHA]
        if a_concept != 0.0 or internals:
            observed = (-1.1 * z + fp[F_SCENARIO_LOGIT + scenario] + 0.35 * product_risk
                        + 0.5 * min(utilization, 2.0) + (0.0 if trusted else 0.4)
                        + (0.1, 0.0, 0.2)[address])
            new = new_score(codes[C_AGE, r], category, codes[C_PROVIDER, r], installments)
            if internals:
                floats[X_OBSERVED, r] = observed
                floats[X_NEW, r] = new
        if a_concept != 0.0:
            # the observed part turns towards the new score (same mean and spread), by an
            # angle of a × 90°; the hidden factor and stress keep their weight, and the
            # intercept is recalibrated so the default rate stays
            theta = a_concept * 0.5 * math.pi
            logit = (math.cos(theta) * observed
                     + math.sin(theta) * (fp[F_NEW_OFFSET] + fp[F_NEW_FACTOR] * new)
                     + 0.9 * hidden + fp[F_STRESS_LOGIT] * record_stress)
            alpha = concept_alpha(fp, a_concept)
        if a_prior != 0.0:  # the odds of default times 1 + a (a > 0), / (1 + |a|) (a < 0)
            logit += math.log(tilt(a_prior))
        floats[X_LOGIT, r] = logit

        # --- the decision: on what the lender sees (eligibility, its file, score, limit) ----
        hardship = memo_i[slot, M_HARDSHIP]
        approved = False
        if not flags[B_ELIGIBLE, r]:
            reason = R_NOT_ELIGIBLE
        elif t >= hardship + VISIBLE_US:
            reason = R_DELINQUENT
        elif score > fp[F_CUTOFF]:
            reason = R_RISK_SCORE
        elif amount > credit_limit:
            reason = R_CREDIT_LIMIT
        else:
            reason = i64(0)
            approved = True
        flags[B_APPROVED, r] = approved
        codes[C_DECLINE, r] = reason
        codes[C_STATUS, r] = ip[I_APPROVED_CODE] if approved else S_DECLINED
        # the schedule: 25 % at checkout, then three instalments every two weeks (pay-in-4) or
        # the rest in monthly instalments; the last one is due ``span`` after the checkout
        step = R.step_of(installments)
        codes[C_FREQUENCY, r] = 0 if installments == 4 else 1
        span = (installments - 1) * step
        if internals:
            floats[X_HAZARD, r] = memo_f[slot, MF_HAZARD]
            floats[X_EXPO, r] = memo_f[slot, MF_EXPO]
            floats[X_ELAPSED, r] = (t - memo_i[slot, M_ANCHOR]) / US_PER_YEAR
            floats[X_SPAN, r] = span / US_PER_YEAR
            floats[X_HAZ_OBS, r] = memo_f[slot, MF_HAZ_OBS]
            floats[X_HAZ_NEW, r] = memo_f[slot, MF_HAZ_NEW]

        # --- outcome: a loan charges off only if the customer's hardship comes before its last
        # instalment, and then with the loan's own probability (observed risk factors plus
        # hidden ones, on the log-odds scale); otherwise it is paid ---------------------------
        ints[I_DAYS_MISSED, r] = -1
        flags[B_DEFAULT, r] = False
        defaulted = False
        missed_us = i64(0)
        if approved and hardship < t + span:
            p_default = 1.0 / (1.0 + math.exp(-(alpha + logit)))
            if uniform(rb, i64(11)) < p_default:
                defaulted = True
                flags[B_DEFAULT, r] = True
                # the first instalment due after the hardship starts is the first one missed
                missed_us = R.first_missed(t, hardship, step)
                ints[I_DAYS_MISSED, r] = (missed_us + US_PER_DAY // 2) // US_PER_DAY
        late = late_propensity(cust, hidden, customer_key, fp) if approved else 0.0
        if lifecycle:
            ints[I_HARDSHIP, r] = hardship
            floats[X_LATE, r] = late
        ints[I_LABEL_AT, r] = 0  # null where declined (the bytes under a null are fixed too)
        if approved:  # the charge-off, or the last payment (repay.py)
            ints[I_LABEL_AT, r] = R.label_time(key_base(repay_key, k), t, installments,
                                               defaulted, t + missed_us, late, hardship)


@parallel
def features_chunked(seed, first, times, start_us, tables, fp, ip, codes, ints, floats, flags,
                     chunk):  # type: ignore[no-untyped-def]
    """``features`` over chunks of ``chunk`` records, in parallel threads.

    Each chunk is an ordinary ``fill_range`` call on its own columns (its memo starts empty),
    and records depend only on their number, so the output equals one serial call exactly.
    """
    n = times.shape[0]
    chunks = (n + chunk - 1) // chunk
    for c in numba.prange(chunks):
        a = c * chunk
        fill_range(seed, first, times, start_us, tables, fp, ip, codes, ints, floats, flags, a,
                   min(n, a + chunk))


# Ids are written as Arrow string views (the layout polars keeps strings in), so a column goes
# to polars without a copy: 16 bytes per string, two little-endian words. The first holds the
# length (u32) and the first 4 bytes; the second the next 8 bytes (a string of at most 12 bytes
# lives in its view, zero-padded), or else buffer 0 (u32) and the string's offset in the data
# buffer (u32). Only strings longer than 12 bytes use the data buffer.
INLINE = 12
#: "00", "01", ..., "99" as little-endian 16-bit words (the tens digit in the low byte).
PAIRS = np.frombuffer("".join(f"{i:02d}" for i in range(100)).encode(), np.uint16).copy()


def id_views(prefix, numbers, width, infix, suffixes, chunked=False, views=None,
             starts=None):  # type: ignore[no-untyped-def]
    """String views for ``prefix + zero-padded number [+ infix + suffix]``.

    Returns (views uint64[2 * n], data uint8[...]). ``width`` is the minimum digit count; larger
    numbers use more digits. When ``infix`` is empty, ``suffixes`` is ignored. Numbers and
    suffixes are non-negative; the data buffer must stay under 4 GiB (the caller's blocks do).
    ``chunked`` writes chunks of ids in parallel threads (the same bytes). ``views`` (2 * n
    words) and ``starts`` (n integers, scratch) may be given, to be written into.

    Plain Python around two kernels: the outputs are allocated by numpy, which asks the kernel
    for huge pages, so first touching them costs a fraction of what memory allocated inside a
    kernel does (measured 4x on 64 MB: one page fault per 2 MB, not per 4 kB).
    """
    n = numbers.shape[0]
    if starts is None:
        starts = np.empty(n, np.int64)
    total = id_starts(prefix, numbers, width, infix, suffixes, starts)
    if views is None:
        views = np.empty(2 * n, np.uint64)
    data = np.empty(total, np.uint8)
    if chunked:
        id_write_chunked(prefix, numbers, width, infix, suffixes, starts, views, data)
    else:
        id_write(prefix, numbers, width, infix, suffixes, starts, views, data, 0, n)
    return views, data


@parallel
def id_write_chunked(prefix, numbers, width, infix, suffixes, starts, views,
                     data):  # type: ignore[no-untyped-def]
    """``id_write`` over chunks of ids, in parallel threads."""
    n = numbers.shape[0]
    chunk = 65_536
    chunks = (n + chunk - 1) // chunk
    for c in numba.prange(chunks):
        id_write(prefix, numbers, width, infix, suffixes, starts, views, data, c * chunk,
                 min(n, (c + 1) * chunk))


@inline
def _id_length(lp, x, width, limit, li, suffix):  # type: ignore[no-untyped-def]
    """Bytes of one id: the prefix, at least ``width`` digits (``limit`` = 10 ** width), and,
    with an infix, the infix and the suffix's digits."""
    length = lp + (width if x < limit else _digits_above(x, width, limit))
    if li > 0:
        length += li + _small_digits(np.uint64(suffix))
    return length


@jit
def id_starts(prefix, numbers, width, infix, suffixes, starts):  # type: ignore[no-untyped-def]
    """Each long id's offset in the data buffer (-1 for an id held in its view). Returns the
    data buffer's size."""
    lp = prefix.shape[0]
    li = infix.shape[0]
    limit = np.uint64(10) ** np.uint64(width)
    total = 0
    for i in range(numbers.shape[0]):
        length = _id_length(lp, np.uint64(numbers[i]), width, limit, li, suffixes[i])
        if length > INLINE:
            starts[i] = total
            total += length
        else:
            starts[i] = -1
    return total


@jit
def id_write(prefix, numbers, width, infix, suffixes, starts, views, data, lo,
             hi):  # type: ignore[no-untyped-def]
    """Write ids ``lo .. hi - 1``.

    The common ids, a prefix of at least 4 bytes and a number that together fit 12 bytes, are
    assembled in registers (digits two at a time from ``PAIRS``): the whole view, or, with an
    infix and suffix after them, the data buffer's first bytes. Others are written a byte at a
    time: into the data buffer, or, if short, into a scratch array.
    """
    lp = prefix.shape[0]
    li = infix.shape[0]
    limit = np.uint64(10) ** np.uint64(width)
    # the prefix's bytes as the string's first bytes: head (bytes 0-3) and tail (4-11)
    head = np.uint64(0)
    tail = np.uint64(0)
    for c in range(min(lp, INLINE)):
        if c < 4:
            head |= np.uint64(prefix[c]) << np.uint64(8 * c)
        else:
            tail |= np.uint64(prefix[c]) << np.uint64(8 * (c - 4))
    fast = lp >= 4 and lp <= INLINE
    # the infix's bytes as a word (the lowest byte first), for ids whose infix and suffix
    # fit 8 bytes
    infix_word = np.uint64(0)
    for c in range(min(li, 8)):
        infix_word |= np.uint64(infix[c]) << np.uint64(8 * c)
    scratch = np.zeros(INLINE, np.uint8)
    base = np.int64(data.ctypes.data)
    for i in range(lo, hi):
        x = np.uint64(numbers[i])
        nd = width if x < limit else _digits_above(x, width, limit)  # the number's digits
        sd = _small_digits(np.uint64(suffixes[i])) if li > 0 else 0
        length = lp + nd + (li + sd if li > 0 else 0)
        at = starts[i]
        if fast and lp + nd <= INLINE and (at >= 0 or li == 0):
            # prefix and number fit the first 12 bytes: bytes 4.. of them in one register
            body = tail | (_digit_word(x, nd) << np.uint64(8 * (lp - 4)))
            if at < 0:  # the whole id: inline
                views[2 * i] = np.uint64(length) | (head << np.uint64(32))
                views[2 * i + 1] = body
                continue
            # into the data buffer, in stores that end at the id's last byte (chunks written
            # in parallel meet at an id's end): the head, the body, then infix and suffix
            poke(base + at, np.uint32(head & np.uint64(0xFFFFFFFF)), np.uint32)
            _put_word(base + at + 4, body, lp + nd - 4)
            if li <= 8 and sd <= 8:  # infix and suffix in one or two words
                digits = _digit_word(np.uint64(suffixes[i]), sd)
                if li + sd <= 8:
                    _put_word(base + at + lp + nd, infix_word | (digits << np.uint64(8 * li)),
                              li + sd)
                else:
                    low = infix_word if li == 8 else infix_word | (digits << np.uint64(8 * li))
                    high = digits if li == 8 else digits >> np.uint64(8 * (8 - li))
                    _put_word(base + at + lp + nd, low, 8)
                    _put_word(base + at + lp + nd + 8, high, li + sd - 8)
            else:
                _write_tail(data, at + lp + nd, infix, suffixes[i], at + length - 1)
            views[2 * i] = np.uint64(length) | (head << np.uint64(32))
            views[2 * i + 1] = np.uint64(at) << np.uint64(32)  # buffer 0, then the offset
            continue
        if at >= 0:
            _write_text(data, at, length, prefix, x, nd, infix, suffixes[i])
            first4 = np.uint64(0)
            for c in range(4):
                first4 |= np.uint64(data[at + c]) << np.uint64(8 * c)
            views[2 * i] = np.uint64(length) | (first4 << np.uint64(32))
            views[2 * i + 1] = np.uint64(at) << np.uint64(32)  # buffer 0, then the offset
            continue
        scratch[:] = 0
        _write_text(scratch, 0, length, prefix, x, nd, infix, suffixes[i])
        w0 = np.uint64(length)
        w1 = np.uint64(0)
        for c in range(INLINE):
            if c < 4:
                w0 |= np.uint64(scratch[c]) << np.uint64(32 + 8 * c)
            else:
                w1 |= np.uint64(scratch[c]) << np.uint64(8 * (c - 4))
        views[2 * i] = w0
        views[2 * i + 1] = w1


@inline
def _put_word(address, word, n):  # type: ignore[no-untyped-def]
    """Store the low ``n`` (0 .. 8) bytes of ``word`` at ``address``, and no byte past them."""
    if n == 8:
        poke(address, word, np.uint64)
        return
    if n & 4:
        poke(address, np.uint32(word & np.uint64(0xFFFFFFFF)), np.uint32)
        address += 4
        word >>= np.uint64(32)
    if n & 2:
        poke(address, np.uint16(word & np.uint64(0xFFFF)), np.uint16)
        address += 2
        word >>= np.uint64(16)
    if n & 1:
        poke(address, np.uint8(word & np.uint64(0xFF)), np.uint8)


@inline
def _digit_word(x, nd):  # type: ignore[no-untyped-def]
    """The ``nd`` (1 .. 8) decimal digits of ``x < 10 ** nd``, zero-padded, as ASCII in a word
    whose lowest byte is the first digit: all eight digits in four fixed pair lookups, then
    the leading ones shifted out (no loop whose exit depends on the digit count)."""
    hi = x // np.uint64(10000)
    lo = x - hi * np.uint64(10000)
    a = hi // np.uint64(100)
    c = lo // np.uint64(100)
    w = (np.uint64(PAIRS[np.int64(a)]) | (np.uint64(PAIRS[np.int64(hi - a * np.uint64(100))])
                                          << np.uint64(16))
         | (np.uint64(PAIRS[np.int64(c)]) << np.uint64(32))
         | (np.uint64(PAIRS[np.int64(lo - c * np.uint64(100))]) << np.uint64(48)))
    return w >> np.uint64(8 * (8 - nd))


@inline
def _write_text(out, at, length, prefix, x, nd, infix, suffix):  # type: ignore[no-untyped-def]
    """Write one id's ``length`` bytes into ``out[at:]``: prefix, ``nd`` digits of ``x``, and
    (with an infix) the infix and the suffix."""
    lp = prefix.shape[0]
    li = infix.shape[0]
    for c in range(lp):
        out[at + c] = prefix[c]
    j = at + lp + nd - 1  # the number's last digit; digits two at a time
    stop = at + lp
    while j > stop:
        q = x // np.uint64(100)
        pair = PAIRS[np.int64(x - q * np.uint64(100))]
        out[j - 1] = np.uint8(pair & 0xFF)
        out[j] = np.uint8(pair >> 8)
        x = q
        j -= 2
    if j == stop:
        out[j] = np.uint8(np.uint64(48) + x % np.uint64(10))
    if li > 0:
        _write_tail(out, at + lp + nd, infix, suffix, at + length - 1)


@inline
def _write_tail(out, at, infix, suffix, last):  # type: ignore[no-untyped-def]
    """Write ``infix`` at ``out[at:]`` and the suffix's digits ending at ``out[last]``."""
    for c in range(infix.shape[0]):
        out[at + c] = infix[c]
    u = np.uint64(suffix)
    j = last
    while True:
        q = u // np.uint64(10)
        out[j] = np.uint8(np.uint64(48) + u - q * np.uint64(10))
        u = q
        j -= 1
        if u == 0:
            break


@inline
def _digits_above(x, width, limit):  # type: ignore[no-untyped-def]
    """``_digits`` of ``x >= limit = 10 ** width``, counted up from ``width`` (a loop of one or
    two steps for ids a little past their width, not of all their digits)."""
    d = width + 1
    p = limit * np.uint64(10)
    while d < 20 and x >= p:
        d += 1
        p *= np.uint64(10)
    return d


@inline
def _small_digits(x):  # type: ignore[no-untyped-def]
    """``_digits`` of a number that is mostly a single digit (a device or payment index)."""
    return 1 if x < np.uint64(10) else _digits(x)


@inline
def _digits(x):  # type: ignore[no-untyped-def]
    """Decimal digits of a non-negative integer (uint64), by comparison."""
    d = 1
    p = np.uint64(10)
    while d < 20 and x >= p:
        d += 1
        p *= np.uint64(10)
    return d
