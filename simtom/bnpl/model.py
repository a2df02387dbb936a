"""The BNPL model's figures (shares, thresholds, price shapes) as the kernel's parameter arrays.

Category orders here are the order of the kernel's codes and of the ``pl.Enum`` categories.
Figures are the original simtom's where ``shared/BNPL.md`` gives them; the others are marked
with where they come from.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from statistics import NormalDist

import numpy as np
from simtom_kernels import bnpl as K

AGE = ("18-24", "25-34", "35-44", "45-54", "55+")
AGE_SHARES = (0.18, 0.32, 0.24, 0.15, 0.11)  # BNPL users skew young (CFPB 2025: most are < 45)
AGE_BOUNDS = (18.0, 25.0, 35.0, 45.0, 55.0, 80.0)
INCOME = ("<25k", "25k-50k", "50k-75k", "75k-100k", "100k+")
INCOME_SHARES = (0.15, 0.28, 0.23, 0.18, 0.16)
CREDIT = ("excellent", "good", "fair", "poor")
CREDIT_SHARES = (0.15, 0.35, 0.35, 0.15)
VERIFICATION = ("verified", "partial", "unverified")
VERIFICATION_SHARES = (0.60, 0.30, 0.10)
ADDRESS = ("new", "stable", "frequent_mover")
ADDRESS_SHARES = (0.20, 0.60, 0.20)
# States and DC weighted by population (2020 census, millions).
STATE_POPULATION = {
    "CA": 39.5, "TX": 29.1, "FL": 21.5, "NY": 20.2, "PA": 13.0, "IL": 12.8, "OH": 11.8,
    "GA": 10.7, "NC": 10.4, "MI": 10.1, "NJ": 9.3, "VA": 8.6, "WA": 7.7, "AZ": 7.2, "MA": 7.0,
    "TN": 6.9, "IN": 6.8, "MD": 6.2, "MO": 6.2, "WI": 5.9, "CO": 5.8, "MN": 5.7, "SC": 5.1,
    "AL": 5.0, "LA": 4.7, "KY": 4.5, "OR": 4.2, "OK": 4.0, "CT": 3.6, "UT": 3.3, "IA": 3.2,
    "NV": 3.1, "AR": 3.0, "MS": 3.0, "KS": 2.9, "NM": 2.1, "NE": 2.0, "ID": 1.8, "WV": 1.8,
    "HI": 1.5, "NH": 1.4, "ME": 1.4, "RI": 1.1, "MT": 1.1, "DE": 1.0, "SD": 0.9, "ND": 0.8,
    "AK": 0.7, "DC": 0.7, "VT": 0.6, "WY": 0.6,
}
STATES = tuple(STATE_POPULATION)

CATEGORY = ("electronics", "clothing", "home", "beauty", "sports")
CATEGORY_SHARES = (0.35, 0.25, 0.20, 0.12, 0.08)
SUBCATEGORIES = {
    "electronics": ("smartphones", "laptops", "tablets", "headphones", "smartwatches"),
    "clothing": ("shirts", "pants", "dresses", "shoes", "jackets"),
    "home": ("furniture", "decor", "kitchen", "bedding"),
    "beauty": ("skincare", "makeup", "fragrance", "haircare"),
    "sports": ("fitness", "outdoor", "team_sports", "athletic_footwear"),
}
SUBCATEGORY = tuple(s for c in CATEGORY for s in SUBCATEGORIES[c])
BRAND = ("Apple", "Samsung", "Nike", "Adidas", "IKEA", "Sephora", "Zara", "H&M")
BRAND_SHARES = {
    "electronics": {"Apple": 0.55, "Samsung": 0.45},
    "clothing": {"Nike": 0.2, "Adidas": 0.2, "Zara": 0.3, "H&M": 0.3},
    "home": {"IKEA": 1.0},
    "beauty": {"Sephora": 1.0},
    "sports": {"Nike": 0.55, "Adidas": 0.45},
}
# Price per category: median, log-normal sigma, floor, cap. Right-skewed; the medians keep the
# original's ranges at the centre and put the mean order near the public $135.
PRICE = {
    "electronics": (150.0, 0.75, 30.0, 2500.0),
    "clothing": (55.0, 0.60, 20.0, 600.0),
    "home": (100.0, 0.70, 25.0, 1500.0),
    "beauty": (32.0, 0.50, 15.0, 250.0),
    "sports": (70.0, 0.65, 25.0, 800.0),
}
PRODUCT_RISK = ("low", "medium", "high")
PRODUCT_RISK_SHARES = (0.50, 0.35, 0.15)

DEVICE_TYPE = ("mobile", "desktop", "tablet")
DEVICE_TYPE_SHARES = (0.55, 0.30, 0.15)
DEVICE_OS = ("iOS", "Android", "Windows", "macOS", "Linux")
DEVICE_OS_SHARES = {
    "mobile": {"iOS": 0.30, "Android": 0.70},
    "desktop": {"Windows": 0.70, "macOS": 0.20, "Linux": 0.10},
    "tablet": {"iOS": 0.50, "Android": 0.45, "Windows": 0.05},
}
N_DEVICES_SHARES = (0.6, 0.4)  # 1 or 2 devices
N_PAYMENT_SHARES = (0.5, 0.35, 0.15)  # 1, 2 or 3 payment methods

PROVIDER = ("affirm", "klarna", "afterpay", "sezzle")
PROVIDER_SHARES = (0.30, 0.35, 0.25, 0.10)  # rough US market shares
PAYMENT_TYPE = ("bnpl_account",)
CREDIT_LIMIT_SHARES = {5000: 0.10, 2500: 0.15, 1500: 0.25, 1000: 0.30, 500: 0.20}

RISK_SCENARIO = ("low_risk_purchase", "impulse_purchase", "credit_stretched", "high_risk_behavior")
RISK_SCENARIO_WEIGHTS = (0.60, 0.20, 0.15, 0.05)
# How much likelier each scenario is for each credit range (rows: excellent .. poor); the
# per-credit tables are then fitted so the overall shares stay the configured weights.
SCENARIO_TILT = (
    (1.0, 0.8, 0.3, 0.2),
    (1.0, 0.9, 0.6, 0.5),
    (1.0, 1.1, 1.2, 1.2),
    (1.0, 1.2, 2.0, 2.5),
)
RISK_LEVEL = ("low", "medium", "high", "very_high")
PAYMENT_FREQUENCY = ("bi_weekly", "monthly")
#: An application's status: approved (or "completed", the original simtom's name, with
#: approved_status="completed") or declined; a declined one's reason.
STATUS = ("approved", "completed", "declined")
DECLINE_REASON = ("product_not_eligible", "delinquent", "risk_score", "credit_limit")
#: Share of applications for an eligible product that the lender approves (at no economic
#: stress; the CFPB's 2021 figure for the five largest US lenders: about 73 %).
APPROVAL_SHARE = 0.73
#: Share of approved loans whose customer's hardship starts before their last instalment, as a
#: multiple of base_default_rate (at most HIT_MAX): such a loan charges off with its own
#: probability (mean 1 / HIT_FACTOR) and is otherwise paid, late.
HIT_FACTOR = 2.0
#: A typical customer's chance of paying an instalment late outside hardship (a customer's own
#: chance is this times exp(0.8 x a latent lateness), at most one in two); set so that, with
#: the loans cured after hardship, about 10.5 % of borrowers pay a late fee in a year.
LATE_SHARE = 0.0022
HIT_MAX = 0.95
PURCHASE_CONTEXT = ("normal", "impulse", "rushed")
CONTEXT_BY_SCENARIO = ((0.90, 0.05, 0.05), (0.10, 0.70, 0.20), (0.50, 0.20, 0.30),
                       (0.10, 0.30, 0.60))
CHECKOUT_SPEED = ("very_fast", "fast", "normal", "slow")
SPEED_BY_SCENARIO = ((0.05, 0.20, 0.55, 0.20), (0.40, 0.40, 0.15, 0.05),
                     (0.10, 0.30, 0.40, 0.20), (0.60, 0.30, 0.08, 0.02))
ABANDON_BY_SCENARIO = ((0.70, 0.20, 0.07, 0.03), (0.60, 0.25, 0.10, 0.05),
                       (0.30, 0.30, 0.25, 0.15), (0.25, 0.25, 0.25, 0.25))
# Seconds, log-logistic: price comparison (median, shape) and further time on site (median,
# shape). Shape 2-2.5 gives the long right tail of dwell times.
TIME_BY_SCENARIO = ((180.0, 2.2, 300.0, 2.4), (20.0, 2.0, 60.0, 2.2),
                    (120.0, 2.2, 420.0, 2.4), (10.0, 2.0, 45.0, 2.0))
SCENARIO_LOGIT = (0.0, 0.4, 0.9, 1.5)
STRESS_LOGIT = 1.0  # log-odds of default per unit of economic stress
# Covariate drift at intensity a in (0, 1] mixes (1 - a) of the plain shares with a of these: a
# market turning to electronics, mobile checkout and riskier purchases; at negative
# intensities, with the mirror shares (plain^2 / these, normalised: the other way). The price
# level and economic stress move with them (see the kernel).
CATEGORY_DRIFT_SHARES = (0.45, 0.20, 0.17, 0.11, 0.07)
DEVICE_DRIFT_SHARES = (0.75, 0.17, 0.08)
SCENARIO_DRIFT_SHARES = (0.45, 0.25, 0.20, 0.10)
SIGNUP_DAYS = (180.0, 1.3, 3650.0)  # before the customer's first purchase: median, sigma, cap
DEVICE2_DAYS = (120.0, 1.0)  # second device first seen after signup: median, sigma


def _cumulative(shares: Sequence[float]) -> np.ndarray:
    """A row of the cumulative-probability table: the cumulative shares, padded with 1.0, and in
    the last slot the number of categories (a draw below 1 never reaches it, so it changes no
    draw; it only lets ``rng.categorical`` stop counting where the padding starts)."""
    row = np.ones(K.TABLE_WIDTH)
    total = float(sum(shares))
    row[: len(shares)] = np.cumsum(np.asarray(shares, dtype=np.float64) / total)
    row[len(shares) - 1 :] = 1.0
    row[-1] = float(len(shares))
    return row


def _shares(names: Sequence[str], weights: Mapping[str, float]) -> list[float]:
    return [weights.get(name, 0.0) for name in names]


def _descending_thresholds(shares: Sequence[float]) -> list[float]:
    """Normal quantiles so that bucket 0 (x above the first) has shares[0], and so on."""
    out, above = [], 0.0
    for share in shares[:-1]:
        above += share
        out.append(NormalDist().inv_cdf(1.0 - above))
    return out


def scenario_by_credit(weights: Sequence[float]) -> np.ndarray:
    """P(scenario | credit range): tilted towards risk for poor credit, fitted (iterative
    proportional fitting) so that mixing over credit shares gives back ``weights`` exactly."""
    target = np.asarray(weights, dtype=np.float64) / sum(weights)
    tilt = np.asarray(SCENARIO_TILT)
    credit = np.asarray(CREDIT_SHARES)
    factor = np.ones(4)
    table = np.empty((4, 4))
    for _ in range(200):
        table = target * factor * tilt
        table /= table.sum(axis=1, keepdims=True)
        factor *= np.divide(target, credit @ table, out=np.ones(4), where=target > 0)
    result: np.ndarray = table
    return result


def tables(risk_weights: Sequence[float]) -> np.ndarray:
    t = np.ones((K.N_TABLES, K.TABLE_WIDTH))
    t[K.T_CATEGORY] = _cumulative(CATEGORY_SHARES)
    for c, row in enumerate(scenario_by_credit(risk_weights)):
        t[K.T_SCENARIO + c] = _cumulative(row)
    for s in range(4):
        t[K.T_CONTEXT + s] = _cumulative(CONTEXT_BY_SCENARIO[s])
        t[K.T_SPEED + s] = _cumulative(SPEED_BY_SCENARIO[s])
        t[K.T_ABANDON + s] = _cumulative(ABANDON_BY_SCENARIO[s])
    t[K.T_AGE] = _cumulative(AGE_SHARES)
    t[K.T_ADDRESS] = _cumulative(ADDRESS_SHARES)
    t[K.T_STATE] = _cumulative(list(STATE_POPULATION.values()))
    t[K.T_DEVICE_TYPE] = _cumulative(DEVICE_TYPE_SHARES)
    for d, name in enumerate(DEVICE_TYPE):
        t[K.T_OS + d] = _cumulative(_shares(DEVICE_OS, DEVICE_OS_SHARES[name]))
    t[K.T_PROVIDER] = _cumulative(PROVIDER_SHARES)
    for c, name in enumerate(CATEGORY):
        t[K.T_BRAND + c] = _cumulative(_shares(BRAND, BRAND_SHARES[name]))
        subs = SUBCATEGORIES[name]
        t[K.T_SUBCATEGORY + c] = _cumulative([1.0 if s in subs else 0.0 for s in SUBCATEGORY])
    t[K.T_N_DEVICES] = _cumulative(N_DEVICES_SHARES)
    t[K.T_N_PAYMENT] = _cumulative(N_PAYMENT_SHARES)
    t[K.T_PRODUCT_RISK] = _cumulative(PRODUCT_RISK_SHARES)
    t[K.T_CATEGORY_DRIFT] = _cumulative(CATEGORY_DRIFT_SHARES)
    t[K.T_CATEGORY_DRIFT + 1] = _cumulative(mirror(CATEGORY_SHARES, CATEGORY_DRIFT_SHARES))
    t[K.T_DEVICE_DRIFT] = _cumulative(DEVICE_DRIFT_SHARES)
    t[K.T_DEVICE_DRIFT + 1] = _cumulative(mirror(DEVICE_TYPE_SHARES, DEVICE_DRIFT_SHARES))
    up, down = scenario_drift_rows(risk_weights)
    for c in range(4):
        t[K.T_SCENARIO_DRIFT + c] = _cumulative(up[c])
        t[K.T_SCENARIO_DRIFT + 4 + c] = _cumulative(down[c])
    return t


def mirror(shares: Sequence[float], target: Sequence[float]) -> list[float]:
    """Shares moved away from ``target`` as far as ``target`` is from ``shares`` (log scale)."""
    raw = [s * s / t for s, t in zip(shares, target)]
    return [r / sum(raw) for r in raw]


def scenario_drift_rows(weights: Sequence[float]) -> tuple[np.ndarray, np.ndarray]:
    """P(scenario | credit) under full covariate drift and its mirror: each credit range's row
    reweighted by (drift share / plain share), or its inverse, and normalised."""
    rows = scenario_by_credit(weights)
    ratio = np.asarray(SCENARIO_DRIFT_SHARES) / np.asarray(RISK_SCENARIO_WEIGHTS)
    up = rows * ratio
    down = rows / ratio
    return up / up.sum(axis=1, keepdims=True), down / down.sum(axis=1, keepdims=True)


def float_params(*, repeat_rate: float, stress: float, alpha: float,
                 period_us: float) -> np.ndarray:
    """The model's figures; drift's strengths and time scale stay 0 (see ``with_drift``)."""
    fp = np.zeros(K.N_FLOAT_PARAMS)
    fp[K.F_PERIOD] = period_us
    fp[K.F_REPEAT] = repeat_rate
    fp[K.F_STRESS] = stress
    fp[K.F_ALPHA] = alpha
    fp[K.F_CREDIT_T : K.F_CREDIT_T + 3] = _descending_thresholds(CREDIT_SHARES)
    fp[K.F_INCOME_T : K.F_INCOME_T + 4] = _descending_thresholds(INCOME_SHARES[::-1])
    fp[K.F_VERIFY_T : K.F_VERIFY_T + 2] = _descending_thresholds(VERIFICATION_SHARES)
    limits = sorted(CREDIT_LIMIT_SHARES, reverse=True)
    fp[K.F_LIMIT_T : K.F_LIMIT_T + 4] = _descending_thresholds(
        [CREDIT_LIMIT_SHARES[x] for x in limits])
    for c, name in enumerate(CATEGORY):
        median, sigma, low, high = PRICE[name]
        fp[K.F_PRICE + 4 * c : K.F_PRICE + 4 * c + 4] = (math.log(median), sigma, low, high)
    for s, (cmp_med, cmp_sd, site_med, site_sd) in enumerate(TIME_BY_SCENARIO):
        fp[K.F_SCENARIO_TIME + 4 * s : K.F_SCENARIO_TIME + 4 * s + 4] = (
            math.log(cmp_med), cmp_sd, math.log(site_med), site_sd)
    fp[K.F_SCENARIO_LOGIT : K.F_SCENARIO_LOGIT + 4] = SCENARIO_LOGIT
    fp[K.F_STRESS_LOGIT] = STRESS_LOGIT
    fp[K.F_SIGNUP : K.F_SIGNUP + 3] = (math.log(SIGNUP_DAYS[0]), SIGNUP_DAYS[1], SIGNUP_DAYS[2])
    fp[K.F_DEVICE2 : K.F_DEVICE2 + 2] = (math.log(DEVICE2_DAYS[0]), DEVICE2_DAYS[1])
    fp[K.F_AGE_START : K.F_AGE_START + 6] = AGE_BOUNDS
    fp[K.F_CONCEPT_ALPHA : K.F_CONCEPT_ALPHA + K.CONCEPT_GRID] = alpha
    fp[K.F_DRIFT_SCALE] = 1.0
    fp[K.F_NEW_FACTOR] = 1.0
    fp[K.F_LATE] = LATE_SHARE
    return fp


def int_params(*, max_customers: int | None, max_products: int) -> np.ndarray:
    """The catalogue: ``max_products`` numbered by category in blocks sized by category share."""
    ip = np.zeros(K.N_INT_PARAMS, dtype=np.int64)
    ip[K.I_MAX_CUSTOMERS] = max_customers or 0
    counts = [max(1, round(max_products * s)) for s in CATEGORY_SHARES]
    counts[0] += max_products - sum(counts)
    offset = 0
    for c, count in enumerate(counts):
        ip[K.I_PRODUCT_OFFSET + c] = offset
        ip[K.I_PRODUCT_COUNT + c] = count
        offset += count
    return ip
