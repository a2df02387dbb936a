"""The BNPL feature kernel: every field of a BNPL transaction, a block of records at a time.

Record ``k`` draws from key ``k`` of the record stream; a customer's attributes draw from key
``customer`` of the customer stream, a product's from its product number, a device's and a
payment method's from (customer, index). So a record depends only on the seed and ``k`` (and its
event time, for the time-derived fields), and an entity has the same attributes on every row.

The model's figures (shares, thresholds, price shapes) come in as arrays built by
``simtom.generators._bnpl_model``; the indices below name their rows and slots. Output goes into
four 2-D arrays, one row per field, so that every column is contiguous.
"""

from __future__ import annotations

import math

import numpy as np

from ._jit import inline, jit
from .rng import categorical, key_base, lognormal, norm_ppf, normal, stream_key, uniform

STREAM_CHAIN = 201
STREAM_RECORD = 202
STREAM_CUSTOMER = 203
STREAM_PRODUCT = 204
STREAM_DEVICE = 205
STREAM_PAYMENT = 206
STREAM_POOL = 207

# Rows of the cumulative-probability table (each row ends in 1.0 and is padded with 1.0).
T_CATEGORY = 0
T_SCENARIO = 1  # + credit code (4 rows)
T_CONTEXT = 5  # + scenario code (4 rows)
T_SPEED = 9  # + scenario code (4 rows)
T_ABANDON = 13  # + scenario code (4 rows)
T_AGE = 17
T_ADDRESS = 18
T_STATE = 19
T_DEVICE_TYPE = 20
T_OS = 21  # + device type code (3 rows)
T_PROVIDER = 24
T_BRAND = 25  # + category code (5 rows)
T_N_DEVICES = 30
T_N_PAYMENT = 31
T_PRODUCT_RISK = 32
T_SUBCATEGORY = 33  # + category code (5 rows)
N_TABLES = 38
TABLE_WIDTH = 64

# Slots of the float parameter vector.
F_REPEAT = 0  # repeat_customer_rate
F_STRESS = 1  # economic_stress_factor
F_ALPHA = 2  # log-odds intercept of default, calibrated so the mean rate is base_default_rate
F_CREDIT_T = 3  # 3 descending thresholds on the credit latent (excellent, good, fair | poor)
F_INCOME_T = 6  # 4 descending thresholds on the income latent (100k+ ... | <25k)
F_VERIFY_T = 10  # 2 descending thresholds on the verification latent
F_LIMIT_T = 12  # 4 descending thresholds on the credit-limit latent (5000 ... | 500)
F_PRICE = 16  # per category: log median, sigma, low, high (5 × 4)
F_SCENARIO_TIME = 36  # per scenario: comparison log median, sigma, site log median, sigma (4 × 4)
F_SCENARIO_LOGIT = 52  # per scenario: added log-odds of default (4)
F_STRESS_LOGIT = 56  # log-odds of default per unit of economic stress
F_SIGNUP = 57  # signup before the scenario start, days: log median, sigma, cap
F_DEVICE2 = 60  # second device first seen after signup, days: log median, sigma
F_AGE_START = 62  # youngest age of each bracket, years (5), then oldest age (1)
N_FLOAT_PARAMS = 68

# Slots of the integer parameter vector.
I_MAX_CUSTOMERS = 0  # 0 = no cap
I_PRODUCT_OFFSET = 1  # first product number of each category (5)
I_PRODUCT_COUNT = 6  # products in each category (5)
N_INT_PARAMS = 11

# Output rows: categorical codes (uint8).
C_AGE = 0
C_INCOME = 1
C_CREDIT = 2
C_VERIFICATION = 3
C_ADDRESS = 4
C_STATE = 5
C_CATEGORY = 6
C_SUBCATEGORY = 7
C_BRAND = 8
C_PRODUCT_RISK = 9
C_DEVICE_TYPE = 10
C_DEVICE_OS = 11
C_PROVIDER = 12
C_SCENARIO = 13
C_RISK_LEVEL = 14
C_CONTEXT = 15
C_SPEED = 16
N_CODES = 17

# Output rows: integers (int64).
I_CUSTOMER = 0
I_PRODUCT = 1
I_DEVICE = 2
I_PAYMENT = 3
I_TENURE = 4
I_CREDIT_LIMIT = 5
I_INSTALLMENTS = 6
I_ABANDON = 7
I_COMPARISON = 8
I_SITE_TIME = 9
I_DAYS_MISSED = 10  # -1 where null
N_INTS = 11

# Output rows: floats (float64).
X_AMOUNT = 0
X_FIRST_PAYMENT = 1
X_RISK_SCORE = 2
X_UTILIZATION = 3  # NaN where null
X_LOGIT = 4  # the default log-odds before the intercept (internal, used to calibrate)
N_FLOATS = 5

# Output rows: booleans.
B_ELIGIBLE = 0
B_TRUSTED = 1
B_DEFAULT = 2
N_FLAGS = 3

US_PER_DAY = 86_400_000_000
US_PER_YEAR = 31_557_600_000_000  # 365.25 days
#: Mean distance, in records, from a repeat purchase back to the one it repeats.
LOOKBACK = 2_000.0
CREDIT_LIMITS = (500, 1000, 1500, 2500, 5000)


@inline
def bucket(x, fp, first, count):  # type: ignore[no-untyped-def]
    """How many of ``count`` descending thresholds lie at or above ``x`` (0 = best bucket)."""
    code = 0
    while code < count and x <= fp[first + code]:
        code += 1
    return code


@inline
def customer_of(k, chain_key, repeat_rate):  # type: ignore[no-untyped-def]
    """The record that brought record k's customer: follow repeat links back to a new customer.

    Record j is new with probability 1 - repeat_rate (record 0 always is); otherwise it repeats
    the customer of an earlier record, ``1 + floor(Exp * LOOKBACK)`` records back (when that
    reaches before record 0, j is new after all: record k repeats with probability
    ``repeat_rate * (1 - exp(-k / LOOKBACK))``, which is ``repeat_rate`` after a short warm-up). Choosing a record, not a customer, makes
    a customer's chance grow with its purchases: each record is repeated by ``repeat_rate``
    later ones on average, so a customer's purchase count is the total progeny of a subcritical
    branching process (mean 1 / (1 - repeat_rate), a long tail) and the population is the same
    at record 10^3 as at 10^9. The chain is 1 / (1 - repeat_rate) hops long on average.
    """
    j = k
    while j > 0:
        base = key_base(chain_key, j)
        if uniform(base, 0) >= repeat_rate:
            break
        back = 1 + np.int64(math.floor(-math.log(uniform(base, 1)) * LOOKBACK))
        if back > j:
            break  # nothing that far back: a new customer (so early records repeat less)
        j = j - back
    return j


@jit
def features(seed, first, times, start_us, tables, fp, ip, codes, ints, floats, flags):  # type: ignore[no-untyped-def]  # noqa: E501
    """Fill the output rows for records ``first .. first + len(times) - 1``."""
    chain_key = stream_key(seed, STREAM_CHAIN)
    record_key = stream_key(seed, STREAM_RECORD)
    customer_key = stream_key(seed, STREAM_CUSTOMER)
    product_key = stream_key(seed, STREAM_PRODUCT)
    device_key = stream_key(seed, STREAM_DEVICE)
    payment_key = stream_key(seed, STREAM_PAYMENT)
    pool_key = stream_key(seed, STREAM_POOL)
    repeat_rate = fp[F_REPEAT]
    stress = fp[F_STRESS]
    max_customers = ip[I_MAX_CUSTOMERS]
    for r in range(times.shape[0]):
        k = first + r
        t = times[r]
        rb = key_base(record_key, k)

        # --- customer: a pure function of (seed, customer number) ---------------------------
        cust = customer_of(k, chain_key, repeat_rate)
        if max_customers > 0:
            cust = np.int64(math.floor(uniform(key_base(pool_key, cust), 0) * max_customers))
        cb = key_base(customer_key, cust)
        z = normal(cb, 0)  # latent creditworthiness
        hidden = normal(cb, 1)  # unobserved default propensity
        credit = bucket(0.8 * z + 0.6 * normal(cb, 2), fp, F_CREDIT_T, 3)
        income_latent = 0.6 * z + 0.8 * normal(cb, 3)
        income = 4 - bucket(income_latent, fp, F_INCOME_T, 4)
        verification = bucket(0.4 * z + 0.9165151389911680 * normal(cb, 4), fp, F_VERIFY_T, 2)
        address = categorical(cb, 5, tables, T_ADDRESS)
        state = categorical(cb, 6, tables, T_STATE)
        age_bracket = categorical(cb, 7, tables, T_AGE)
        young = fp[F_AGE_START + age_bracket]
        old = fp[F_AGE_START + age_bracket + 1]
        age_at_start = young + (old - young) * uniform(cb, 8)
        birth_us = start_us - np.int64(age_at_start * US_PER_YEAR)
        signup_days = min(lognormal(cb, 9, fp[F_SIGNUP], fp[F_SIGNUP + 1]), fp[F_SIGNUP + 2])
        signup_us = start_us - np.int64(signup_days * US_PER_DAY)
        n_devices = 1 + categorical(cb, 10, tables, T_N_DEVICES)
        n_payment = 1 + categorical(cb, 11, tables, T_N_PAYMENT)

        # age bracket at the event time, from the birth date
        age = (t - birth_us) / US_PER_YEAR
        if age < fp[F_AGE_START + 1]:
            codes[C_AGE, r] = 0
        elif age < fp[F_AGE_START + 2]:
            codes[C_AGE, r] = 1
        elif age < fp[F_AGE_START + 3]:
            codes[C_AGE, r] = 2
        elif age < fp[F_AGE_START + 4]:
            codes[C_AGE, r] = 3
        else:
            codes[C_AGE, r] = 4
        codes[C_INCOME, r] = income
        codes[C_CREDIT, r] = credit
        codes[C_VERIFICATION, r] = verification
        codes[C_ADDRESS, r] = address
        codes[C_STATE, r] = state
        ints[I_CUSTOMER, r] = cust
        ints[I_TENURE, r] = max(np.int64(0), (t - signup_us) // US_PER_DAY)

        # --- device and payment method: functions of (customer, index) ----------------------
        device = 1
        if n_devices == 2 and uniform(rb, 0) < 0.35:
            device = 2
        db = key_base(device_key, cust * 4 + device)
        device_type = categorical(db, 0, tables, T_DEVICE_TYPE)
        codes[C_DEVICE_TYPE, r] = device_type
        codes[C_DEVICE_OS, r] = categorical(db, 1, tables, T_OS + device_type)
        first_seen = signup_us
        if device == 2:
            first_seen += np.int64(
                lognormal(db, 2, fp[F_DEVICE2], fp[F_DEVICE2 + 1]) * US_PER_DAY)
        trusted = t - first_seen > 30 * US_PER_DAY
        flags[B_TRUSTED, r] = trusted
        ints[I_DEVICE, r] = device

        payment = 1 + np.int64(math.floor(uniform(rb, 1) * n_payment))
        pb = key_base(payment_key, cust * 4 + payment)
        codes[C_PROVIDER, r] = categorical(pb, 0, tables, T_PROVIDER)
        limit_code = bucket(0.7 * z + 0.714142842854285 * normal(pb, 1), fp, F_LIMIT_T, 4)
        credit_limit = CREDIT_LIMITS[4 - limit_code]
        ints[I_PAYMENT, r] = payment
        ints[I_CREDIT_LIMIT, r] = credit_limit

        # --- product: category from the record, position by income --------------------------
        category = categorical(rb, 2, tables, T_CATEGORY)
        n_products = ip[I_PRODUCT_COUNT + category]
        income_z = income_latent  # standard normal
        u_rank = 0.5 * math.erfc(-(0.35 * income_z + 0.9367496997597597 * normal(rb, 3))
                                 / math.sqrt(2.0))
        rank = min(np.int64(math.floor(u_rank * n_products)), n_products - 1)
        product = ip[I_PRODUCT_OFFSET + category] + rank
        qb = key_base(product_key, product)
        slot = F_PRICE + 4 * category
        price = math.exp(fp[slot] + fp[slot + 1] * norm_ppf((rank + 0.5) / n_products)
                         + 0.08 * normal(qb, 0))
        price = min(max(price, fp[slot + 2]), fp[slot + 3])
        price = round(price * 100.0) / 100.0
        product_risk = categorical(qb, 1, tables, T_PRODUCT_RISK)
        codes[C_CATEGORY, r] = category
        codes[C_SUBCATEGORY, r] = categorical(qb, 2, tables, T_SUBCATEGORY + category)
        codes[C_BRAND, r] = categorical(qb, 3, tables, T_BRAND + category)
        codes[C_PRODUCT_RISK, r] = product_risk
        ints[I_PRODUCT, r] = product
        flags[B_ELIGIBLE, r] = price >= 50.0 and category <= 2

        # --- the purchase: scenario from the customer's credit, behaviour from the scenario --
        scenario = categorical(rb, 4, tables, T_SCENARIO + credit)
        codes[C_SCENARIO, r] = scenario
        codes[C_CONTEXT, r] = categorical(rb, 5, tables, T_CONTEXT + scenario)
        codes[C_SPEED, r] = categorical(rb, 6, tables, T_SPEED + scenario)
        ints[I_ABANDON, r] = categorical(rb, 7, tables, T_ABANDON + scenario)
        slot = F_SCENARIO_TIME + 4 * scenario
        comparison = np.int64(round(lognormal(rb, 8, fp[slot], fp[slot + 1])))
        ints[I_COMPARISON, r] = comparison
        ints[I_SITE_TIME, r] = comparison + 5 + np.int64(
            round(lognormal(rb, 9, fp[slot + 2], fp[slot + 3])))

        amount = price
        floats[X_AMOUNT, r] = amount
        floats[X_FIRST_PAYMENT, r] = round(amount * 25.0) / 100.0
        u = uniform(rb, 10)
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

        # --- risk score: the original's weighted formula -------------------------------------
        credit_risk = (0.1, 0.3, 0.6, 0.9)[credit]
        verification_risk = (0.1, 0.5, 0.9)[verification]
        income_risk = (0.9, 0.7, 0.5, 0.3, 0.1)[income]
        device_risk = 0.1 if trusted else 0.7
        product_risk_value = (0.2, 0.5, 0.8)[product_risk]
        scenario_risk = (0.1, 0.5, 0.7, 0.95)[scenario]
        score = (0.3 * credit_risk + 0.2 * verification_risk + 0.2 * income_risk
                 + 0.1 * device_risk + 0.1 * product_risk_value + 0.1 * scenario_risk)
        score = min(1.0, score * (1.0 + 0.2 * stress))
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
                 + fp[F_STRESS_LOGIT] * stress)
        floats[X_LOGIT, r] = logit
        p_default = 1.0 / (1.0 + math.exp(-(fp[F_ALPHA] + logit)))
        default = uniform(rb, 11) < p_default
        flags[B_DEFAULT, r] = default
        if default:
            # the first missed payment: early ones are likelier (geometric, ratio 0.55)
            missed = 1 + np.int64(math.floor(math.log(uniform(rb, 12)) / math.log(0.55)))
            ints[I_DAYS_MISSED, r] = 14 * min(missed, installments - 1)
        else:
            ints[I_DAYS_MISSED, r] = -1


@jit
def format_ids(prefix, numbers, width, infix, suffixes):  # type: ignore[no-untyped-def]
    """Arrow string buffers for ``prefix + zero-padded number [+ infix + suffix]``.

    Returns (offsets int64[n+1], data uint8[...]). ``width`` is the minimum digit count; larger
    numbers use more digits. When ``infix`` is empty, ``suffixes`` is ignored.
    """
    n = numbers.shape[0]
    offsets = np.empty(n + 1, np.int64)
    offsets[0] = 0
    has_suffix = infix.shape[0] > 0
    for i in range(n):
        length = prefix.shape[0] + max(width, _digits(numbers[i]))
        if has_suffix:
            length += infix.shape[0] + _digits(suffixes[i])
        offsets[i + 1] = offsets[i] + length
    data = np.empty(offsets[n], np.uint8)
    for i in range(n):
        pos = offsets[i]
        for c in range(prefix.shape[0]):
            data[pos + c] = prefix[c]
        pos += prefix.shape[0]
        pos = _write_number(data, pos, numbers[i], width)
        if has_suffix:
            for c in range(infix.shape[0]):
                data[pos + c] = infix[c]
            pos += infix.shape[0]
            _write_number(data, pos, suffixes[i], 1)
    return offsets, data


@inline
def _digits(x):  # type: ignore[no-untyped-def]
    d = 1
    while x >= 10:
        x //= 10
        d += 1
    return d


@inline
def _write_number(data, pos, x, width):  # type: ignore[no-untyped-def]
    d = max(width, _digits(x))
    for j in range(d - 1, -1, -1):
        data[pos + j] = 48 + x % 10
        x //= 10
    return pos + d
