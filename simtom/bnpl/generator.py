"""The BNPL block generator: Buy-Now-Pay-Later transactions with risk scoring and outcome labels.

:class:`BNPLBlocks` runs the feature kernel (``simtom_kernels.bnpl``) over blocks of event times
with the tables of ``model``, calibrates the default intercept to ``base_default_rate``, and
assembles the kernel's rows into polars columns without copies. Registered as ``bnpl`` when
this package is imported (``simtom.bnpl``); the original's ``BNPLGenerator`` and ``BNPLConfig``
(``simtom.generators.ecommerce.bnpl``) are handles of it.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass
from typing import Any, ClassVar

import numba
import numpy as np
import polars as pl
import pyarrow as pa
from simtom_kernels import bnpl as K

from simtom.bnpl import lifecycle as life
from simtom.bnpl import model as M
from simtom.bnpl import population
from simtom.bnpl.columns import PARALLEL_CHUNK, nulls, strings
from simtom.engine._constants import constant_strings
from simtom.engine.generator import BlockGenerator
from simtom.spec import drift as drift_
from simtom.spec.fields import Field
from simtom.spec.scenario import Scenario

CUSTOMER_FIELDS = ("customer_age_bracket", "customer_tenure_days", "customer_income_bracket",
                   "customer_credit_score_range", "customer_verification_level",
                   "customer_address_stability", "customer_state")
PRODUCT_FIELDS = ("product_category", "product_subcategory", "product_brand", "product_price",
                  "product_bnpl_eligible", "product_risk_category")
DEVICE_FIELDS = ("device_type", "device_os", "device_is_trusted")
PAYMENT_FIELDS = ("payment_provider", "payment_type", "payment_credit_limit")
ENTITY_FIELDS = CUSTOMER_FIELDS + PRODUCT_FIELDS + DEVICE_FIELDS + PAYMENT_FIELDS


def _enum(values: tuple[str, ...]) -> pl.Enum:
    return pl.Enum(list(values))


#: Column name → (source, row or constant, dtype). Sources: codes/ints/floats/flags rows of the
#: kernel's output, "id" strings, "const" strings. The order is the record's field order.
COLUMNS: dict[str, tuple[str, Any, pl.DataType]] = {
    "transaction_id": ("id", "txn_", pl.String()),
    "customer_id": ("id", "cust_", pl.String()),
    "product_id": ("id", "prod_", pl.String()),
    "device_id": ("id", "_device_", pl.String()),
    "payment_method_id": ("id", "_pm_", pl.String()),
    "amount": ("floats", K.X_AMOUNT, pl.Float64()),
    "currency": ("const", "USD", pl.String()),
    "status": ("codes", K.C_STATUS, _enum(M.STATUS)),
    "decline_reason": ("codes", K.C_DECLINE, _enum(M.DECLINE_REASON)),
    "customer_age_bracket": ("codes", K.C_AGE, _enum(M.AGE)),
    "customer_tenure_days": ("ints", K.I_TENURE, pl.Int64()),
    "customer_income_bracket": ("codes", K.C_INCOME, _enum(M.INCOME)),
    "customer_credit_score_range": ("codes", K.C_CREDIT, _enum(M.CREDIT)),
    "customer_verification_level": ("codes", K.C_VERIFICATION, _enum(M.VERIFICATION)),
    "customer_address_stability": ("codes", K.C_ADDRESS, _enum(M.ADDRESS)),
    "customer_state": ("codes", K.C_STATE, _enum(M.STATES)),
    "product_category": ("codes", K.C_CATEGORY, _enum(M.CATEGORY)),
    "product_subcategory": ("codes", K.C_SUBCATEGORY, _enum(M.SUBCATEGORY)),
    "product_brand": ("codes", K.C_BRAND, _enum(M.BRAND)),
    "product_price": ("floats", K.X_AMOUNT, pl.Float64()),
    "product_bnpl_eligible": ("flags", K.B_ELIGIBLE, pl.Boolean()),
    "product_risk_category": ("codes", K.C_PRODUCT_RISK, _enum(M.PRODUCT_RISK)),
    "device_type": ("codes", K.C_DEVICE_TYPE, _enum(M.DEVICE_TYPE)),
    "device_os": ("codes", K.C_DEVICE_OS, _enum(M.DEVICE_OS)),
    "device_is_trusted": ("flags", K.B_TRUSTED, pl.Boolean()),
    "payment_provider": ("codes", K.C_PROVIDER, _enum(M.PROVIDER)),
    "payment_type": ("const", "bnpl_account", _enum(M.PAYMENT_TYPE)),
    "payment_credit_limit": ("ints", K.I_CREDIT_LIMIT, pl.Int64()),
    "risk_scenario": ("codes", K.C_SCENARIO, _enum(M.RISK_SCENARIO)),
    "risk_score": ("floats", K.X_RISK_SCORE, pl.Float64()),
    "risk_level": ("codes", K.C_RISK_LEVEL, _enum(M.RISK_LEVEL)),
    "installment_count": ("ints", K.I_INSTALLMENTS, pl.Int64()),
    "first_payment_amount": ("floats", K.X_FIRST_PAYMENT, pl.Float64()),
    "payment_frequency": ("codes", K.C_FREQUENCY, _enum(M.PAYMENT_FREQUENCY)),
    "purchase_context": ("codes", K.C_CONTEXT, _enum(M.PURCHASE_CONTEXT)),
    "checkout_speed": ("codes", K.C_SPEED, _enum(M.CHECKOUT_SPEED)),
    "cart_abandonment_count": ("ints", K.I_ABANDON, pl.Int64()),
    "price_comparison_time": ("ints", K.I_COMPARISON, pl.Int64()),
    "time_on_site_seconds": ("ints", K.I_SITE_TIME, pl.Int64()),
    "credit_utilization": ("floats", K.X_UTILIZATION, pl.Float64()),
    "economic_stress_factor": ("floats", K.X_STRESS, pl.Float64()),
    "will_default": ("flags", K.B_DEFAULT, pl.Boolean()),
    "days_to_first_missed_payment": ("ints", K.I_DAYS_MISSED, pl.Int64()),
    "label_available_at": ("ints", K.I_LABEL_AT, pl.Datetime("us", "UTC")),
}
#: Fields known only after the decision (the outcome, in one form or another): never features.
POST_OUTCOME = ("will_default", "days_to_first_missed_payment", "label_available_at")

OPTIONS: tuple[Field, ...] = (
    Field("risk_scenario_weights", "weights", tuple(zip(M.RISK_SCENARIO,
                                                         M.RISK_SCENARIO_WEIGHTS)),
          "Relative weights of the four risk scenarios.", keys=M.RISK_SCENARIO),
    Field("economic_stress_factor", "number", 0.0,
          "Economic stress: raises risk scores by 20 %, and the hardship hazard and a loan's "
          "log-odds of charging off in hardship by 1.0, per unit.",
          minimum=0.0, maximum=5.0),
    Field("base_default_rate", "number", 0.03,
          "Share of approved loans that charge off when economic_stress_factor is 0.",
          minimum=0.0005, maximum=0.5),
    Field("approved_status", "enum", "approved",
          "The status of an approved application: approved, or completed (the original "
          "simtom's value, for pipelines that filter on it). Declined ones are declined.",
          choices=("approved", "completed")),
    Field("max_customers", "integer", None,
          "Optional cap on the customer population (null: no cap; new customers keep coming).",
          minimum=1, maximum=10**12, nullable=True),
    Field("max_products", "integer", 1000, "Size of the product catalogue.",
          minimum=10, maximum=10**9),
    Field("repeat_customer_rate", "number", 0.7,
          "Share of transactions from a customer already seen in the stream.",
          minimum=0.0, maximum=0.99),
    Field("bnpl_adoption_rate", "number", None,
          "Share of checkouts paid with BNPL. Every record simtom emits is a BNPL checkout.",
          minimum=0.0, maximum=1.0, nullable=True, supported=False,
          pending="every record is a BNPL checkout; mixed payment types are not built"),
    Field("denormalize_entities", "boolean", True,
          "Include the customer, product, device and payment attributes on every record "
          "(false keeps only their ids)."),
)

CALIBRATION_SEED = 0x5EED_CA1
CALIBRATION_RECORDS = 1 << 18


@dataclass(frozen=True)
class Prepared:
    tables: np.ndarray
    fp: np.ndarray
    ip: np.ndarray
    stress: float
    columns: tuple[str, ...]
    stress_drifts: bool


class BNPLBlocks(BlockGenerator):
    """The BNPL block generator: the feature kernel over blocks of event times."""

    name = "bnpl"
    description = "Buy-Now-Pay-Later transactions with risk scoring, customer profiles and labels"
    options = OPTIONS
    #: What noise may touch: money (rounded to cents), utilisation, durations (whole seconds
    #: and days). Not ids, categories, labels, scores derived from them or counts.
    measured: ClassVar[dict[str, int | None]] = {
        "amount": 2, "product_price": 2, "first_payment_amount": 2,
        "credit_utilization": None, "customer_tenure_days": 0, "price_comparison_time": 0,
        "time_on_site_seconds": 0}
    #: Drift, in the kernel: covariate (price level, category, device and scenario mix,
    #: economic stress), prior (odds of default), concept (what drives default).
    drift_targets = ("covariate", "prior", "concept")

    def prepare(self, scenario: Scenario) -> Prepared:
        o = scenario.options
        weights = tuple(w for _, w in o["risk_scenario_weights"])
        ip = M.int_params(max_customers=o["max_customers"], max_products=o["max_products"])
        period_us = 1e6 / scenario.simulated_rate
        population.write_ints(ip, scenario.simulated_rate, o["repeat_customer_rate"],
                              o["max_customers"])
        ip[K.I_APPROVED_CODE] = M.STATUS.index(o["approved_status"])
        life = population.life_floats(scenario.simulated_rate, o["repeat_customer_rate"],
                                      o["max_customers"])
        book = calibrate(weights, o["base_default_rate"], tuple(ip.tolist()), period_us, life)
        fp = M.float_params(repeat_rate=o["repeat_customer_rate"],
                            stress=o["economic_stress_factor"], alpha=book.alpha,
                            period_us=period_us)
        fp[K.F_LIFE : K.F_LIFE + len(life)] = life
        fp[K.F_HAZARD0] = book.hazard0
        fp[K.F_HAZ0_GRID : K.F_HAZ0_GRID + K.CONCEPT_GRID] = book.hazard0
        fp[K.F_CUTOFF] = book.cutoff
        plan = drift_.plan(scenario, self)
        if plan.active:
            if plan.on("concept"):
                c = calibrate_concept(weights, o["base_default_rate"], tuple(ip.tolist()),
                                      period_us, life)
                fp[K.F_NEW_OFFSET], fp[K.F_NEW_FACTOR] = c["offset"], c["factor"]
                fp[K.F_CONCEPT_ALPHA : K.F_CONCEPT_ALPHA + K.CONCEPT_GRID] = c["alphas"]
                fp[K.F_HAZ_MEAN] = c["hazard_mean"]
                fp[K.F_HAZ_NEW_OFFSET] = c["hazard_offset"]
                fp[K.F_HAZ_NEW_FACTOR] = c["hazard_factor"]
                fp[K.F_HAZ0_GRID : K.F_HAZ0_GRID + K.CONCEPT_GRID] = c["hazards"]
            ip[K.I_DRIFT_KIND] = plan.kind
            ip[K.I_DRIFT_T0] = plan.t0_us
            fp[K.F_DRIFT_SCALE] = plan.scale_us
            fp[K.F_DRIFT_COVARIATE] = plan.on("covariate")
            fp[K.F_DRIFT_PRIOR] = plan.on("prior")
            fp[K.F_DRIFT_CONCEPT] = plan.on("concept")
        columns = tuple(c for c in COLUMNS
                        if o["denormalize_entities"] or c not in ENTITY_FIELDS)
        return Prepared(_tables(weights), fp, ip, o["economic_stress_factor"], columns,
                        plan.on("covariate") > 0)

    lifecycle = True
    event_schema = life.EVENT_SCHEMA

    def applications(self, scenario: Scenario, prepared: Any, first: int,
                     times: np.ndarray) -> life.Applications:
        p: Prepared = prepared
        ip = p.ip.copy()
        ip[K.I_LIFECYCLE] = 1
        rows = run_kernel(scenario.seed, first, times, scenario.start_us, p.tables, p.fp, ip)
        return life.Applications.of(first, times, rows)

    def window(self, scenario: Scenario, applications: Any, lo: int,
               hi: int) -> tuple[pl.DataFrame, np.ndarray]:
        return life.window(scenario.seed, applications, lo, hi)

    def schema(self, scenario: Scenario) -> pl.Schema:
        keep = scenario.options.get("denormalize_entities", True)
        return pl.Schema({c: spec[2] for c, spec in COLUMNS.items()
                          if keep or c not in ENTITY_FIELDS})

    def fill(
        self, scenario: Scenario, prepared: Any, first: int, times: np.ndarray
    ) -> pl.DataFrame:
        p: Prepared = prepared
        out = run_kernel(scenario.seed, first, times, scenario.start_us, p.tables, p.fp, p.ip)
        codes, ints, floats, flags = out
        n = times.shape[0]
        ids = _ids(first, ints)
        approved = flags[K.B_APPROVED]
        series = []
        enums = []
        for name in p.columns:
            source, row, dtype = COLUMNS[name]
            if source == "codes" and row == K.C_DECLINE:  # null where approved
                s = nulls(pa.uint8(), name, codes[row], ~approved)
                enums.append(name)
            elif source == "codes":  # made Enum below, all in one polars call
                s = pl.Series(name, codes[row])
                enums.append(name)
            elif source == "ints" and row == K.I_DAYS_MISSED:  # -1 marks null (no default)
                s = nulls(pa.int64(), name, ints[row], ints[row] >= 0)
            elif source == "ints" and row == K.I_LABEL_AT:  # null where declined (no loan)
                s = nulls(pa.timestamp("us", "UTC"), name, ints[row], approved)
            elif source == "flags" and row == K.B_DEFAULT:  # null where declined (no loan)
                s = nulls(pa.bool_(), name, flags[row], approved)
            elif source == "ints":
                s = pl.Series(name, ints[row])
            elif row == K.X_STRESS and not p.stress_drifts:  # one value: a constant column
                s = pl.Series(name, [p.stress], dtype=pl.Float64).new_from_index(0, n)
            elif source == "floats":
                s = pl.Series(name, floats[row], nan_to_null=row == K.X_UTILIZATION)
            elif source == "flags":
                s = pl.Series(name, flags[row])
            elif source == "id":
                s = ids[name]
            elif dtype == pl.String:
                s = constant_strings(name, row, n)
            else:
                s = pl.Series(name, [row], dtype=dtype).new_from_index(0, n)
            series.append(s.alias(name))
        # Each polars expression call has a fixed cost (~0.2 ms here): one for the 17 Enum
        # columns, not one each, is a third of the cost of a 16,384-record stream block.
        return pl.DataFrame(series).with_columns(
            pl.lit(_CATEGORIES[name]).gather(pl.col(name)).alias(name) for name in enums)


_CATEGORIES = {name: pl.Series(name, spec[2].categories.to_list(), dtype=spec[2])
               for name, spec in COLUMNS.items() if isinstance(spec[2], pl.Enum)}


def run_kernel(seed: int, first: int, times: np.ndarray, start_us: int, tables: np.ndarray,
               fp: np.ndarray, ip: np.ndarray, *,
               parallel: bool = True) -> tuple[np.ndarray, ...]:
    """Allocate the output rows and run the feature kernel over ``times`` (in parallel chunks
    for large blocks unless ``parallel`` is false: the same values either way)."""
    n = times.shape[0]
    codes = np.empty((K.N_CODES, n), np.uint8)
    ints = np.empty((K.N_INTS, n), np.int64)
    floats = np.empty((K.N_FLOATS, n), np.float64)
    flags = np.empty((K.N_FLAGS, n), np.bool_)
    args = (np.int64(seed), np.int64(first), times, np.int64(start_us), tables, fp, ip,
            codes, ints, floats, flags)
    threads = numba.get_num_threads()
    if parallel and n >= 2 * PARALLEL_CHUNK and threads > 1:
        K.features_chunked(*args, np.int64(max(PARALLEL_CHUNK, -(-n // (2 * threads)))))
    else:
        K.features(*args)
    return codes, ints, floats, flags


@functools.lru_cache(maxsize=64)
def _tables(weights: tuple[float, ...]) -> np.ndarray:
    return M.tables(weights)


@functools.lru_cache(maxsize=2)
def _calibration_sample(weights: tuple[float, ...], ip: tuple[int, ...], period_us: float,
                        life: tuple[float, ...]) -> dict[str, np.ndarray]:
    """The calibration sample (read-only arrays, ~25 MB): each record's default log-odds,
    observed part and new score, its customer's hardship log-hazard, exponential draw and years
    with the lender, the loan's span in years, its risk score, and whether the lender could
    approve it before its score and the customer's file are looked at (an eligible product
    within the limit). ``calibrate`` and ``calibrate_concept`` of one scenario share it.

    The scenario's own population (its rate, repeat rate and lifetimes) at its mean rate, so
    the years customers have been with the lender follow the stream's; its own seed, so the
    calibration does not depend on the user's; no economic stress (the rates it sets are
    those at no stress)."""
    times = (np.arange(CALIBRATION_RECORDS) * period_us).astype(np.int64)
    fp = M.float_params(repeat_rate=0.0, stress=0.0, alpha=0.0, period_us=period_us)
    fp[K.F_LIFE : K.F_LIFE + len(life)] = life
    fp[K.F_CUTOFF] = 1.0
    params = np.asarray(ip, dtype=np.int64)
    params[K.I_INTERNALS] = 1
    # serially: the parallel kernel takes seconds to compile, and a server's stream blocks are
    # small enough never to need it (the sample takes ~0.1 s longer this way)
    _, ints, floats, flags = run_kernel(CALIBRATION_SEED, 0, times, 0, _tables(weights), fp,
                                        params, parallel=False)
    out = {"logit": floats[K.X_LOGIT], "observed": floats[K.X_OBSERVED],
           "new": floats[K.X_NEW], "hazard": floats[K.X_HAZARD], "expo": floats[K.X_EXPO],
           "elapsed": floats[K.X_ELAPSED], "span": floats[K.X_SPAN],
           "score": floats[K.X_RISK_SCORE], "eligible": flags[K.B_ELIGIBLE].copy(),
           "haz_obs": floats[K.X_HAZ_OBS], "haz_new": floats[K.X_HAZ_NEW],
           "open": flags[K.B_ELIGIBLE] & (floats[K.X_AMOUNT] <= ints[K.I_CREDIT_LIMIT])}
    for a in out.values():
        a.setflags(write=False)
    return out


@dataclass(frozen=True)
class Book:
    """The lender's calibrated constants: the highest risk score it approves, the log-hazard
    intercept of hardship (per year) and the default log-odds intercept."""

    cutoff: float
    hazard0: float
    alpha: float
    #: Which sample records are approved, and approved with the hardship before the last
    #: instalment (the loans that may charge off), under these constants.
    approved: np.ndarray
    hit: np.ndarray


VISIBLE_YEARS = K.VISIBLE_US / K.US_PER_YEAR


def _hardship(sample: dict[str, np.ndarray], hazard0: float,
              hazard: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Each sample record's customer's years to hardship from joining (with the sample's
    log-hazards, or ``hazard``), and whether the lender has not seen it by the application."""
    hazard = sample["hazard"] if hazard is None else hazard
    years = sample["expo"] * np.exp(-(hazard0 + hazard))
    return years, sample["elapsed"] < years + VISIBLE_YEARS


def _book(sample: dict[str, np.ndarray], cutoff: float, hazard0: float,
          hazard: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """The approved sample records and the approved ones hit by hardship."""
    years, clear = _hardship(sample, hazard0, hazard)
    approved = sample["open"] & clear & (sample["score"] <= cutoff)
    return approved, approved & (years < sample["elapsed"] + sample["span"])


def _hit_share(base_rate: float) -> float:
    """The share of approved loans to put in hardship for ``base_rate``."""
    return min(M.HIT_MAX, M.HIT_FACTOR * base_rate)


def _hit_rate(base_rate: float, approved: np.ndarray, hit: np.ndarray) -> float:
    """The mean charge-off probability the loans in hardship need for ``base_rate`` of the
    approved to charge off."""
    return min(base_rate * int(approved.sum()) / max(1, int(hit.sum())), 0.999)


def _cutoff(sample: dict[str, np.ndarray], hazard0: float) -> float:
    """The highest score approved so that APPROVAL_SHARE of eligible applications are."""
    candidates = sample["open"] & _hardship(sample, hazard0)[1]
    wanted = M.APPROVAL_SHARE * int(sample["eligible"].sum())
    scores = np.sort(sample["score"][candidates])
    if wanted >= len(scores):
        return 1.0
    return float(scores[max(0, int(wanted) - 1)])


def _hazard0(sample: dict[str, np.ndarray], cutoff: float, share: float,
             hazard: np.ndarray | None = None, bracket: tuple[float, float] = (-25.0, 10.0),
             passes: int = 40) -> float:
    """The hardship intercept that puts ``share`` of approved loans in hardship (bisection: the
    share grows with the intercept)."""
    lo, hi = bracket
    for _ in range(passes):
        mid = 0.5 * (lo + hi)
        approved, hit = _book(sample, cutoff, mid, hazard)
        if hit.sum() > share * approved.sum():
            hi = mid
        else:
            lo = mid
    return 0.5 * (lo + hi)


@functools.lru_cache(maxsize=64)
def calibrate(weights: tuple[float, ...], base_rate: float, ip: tuple[int, ...],
              period_us: float, life: tuple[float, ...]) -> Book:
    """The lender's constants for a base default rate, on a fixed calibration sample.

    The cutoff approves ``APPROVAL_SHARE`` of applications for eligible products; hardship
    reaches ``HIT_FACTOR`` × ``base_rate`` of approved loans before their last instalment; the
    intercept makes those loans' mean default probability such that ``base_rate`` of approved
    loans charge off. The cutoff and the hardship intercept depend on each other (the lender
    declines customers in hardship), so they are solved in turn, twice. 2^18 records put the
    rates within about 1-2 % of their targets.
    """
    sample = _calibration_sample(weights, ip, period_us, life)
    share = _hit_share(base_rate)
    hazard0 = _hazard0(sample, 1.0, share)
    cutoff = 1.0
    for _ in range(2):
        cutoff = _cutoff(sample, hazard0)
        hazard0 = _hazard0(sample, cutoff, share)
    approved, hit = _book(sample, cutoff, hazard0)
    logit = sample["logit"][hit]
    rate = _hit_rate(base_rate, approved, hit)
    guess = math.log(rate / (1.0 - rate)) - float(np.mean(logit))
    alpha = solve_intercept(logit, rate, guess)
    return Book(cutoff, hazard0, alpha, approved, hit)


def solve_intercept(logit: np.ndarray, rate: float, guess: float) -> float:
    """The alpha with mean(sigmoid(alpha + logit)) = rate, by Newton's method from ``guess``.

    The mean is increasing in alpha, so a bracket [lo, hi] is kept and a step that would leave
    it bisects instead (Newton alone can overshoot from the flat tails of the sigmoid). Six to
    eight passes over the sample where 80 bisection passes were spent before (the first
    request's calibration is part of the server's start-up).
    """
    lo, hi = -40.0, 40.0
    alpha = guess
    for _ in range(100):
        p = 1.0 / (1.0 + np.exp(-(alpha + logit)))
        gap = float(np.mean(p)) - rate
        if gap > 0.0:
            hi = alpha
        else:
            lo = alpha
        slope = float(np.mean(p * (1.0 - p)))
        step = gap / slope if slope > 0.0 else np.inf
        if abs(step) < 1e-12:
            return alpha - step
        alpha -= step
        if not lo < alpha < hi:
            alpha = 0.5 * (lo + hi)
        if hi - lo < 1e-12:
            return alpha
    return alpha


@functools.lru_cache(maxsize=16)
def calibrate_concept(weights: tuple[float, ...], base_rate: float, ip: tuple[int, ...],
                      period_us: float, life: tuple[float, ...]) -> dict[str, Any]:
    """Concept drift's constants, on the calibration sample.

    Loans: the new score's offset and factor (so it has the observed score's mean and spread).
    Hardship: the old drivers' mean, and the new drivers' offset and factor (the old ones' mean
    and spread). Then, at each intensity of the grid -1, -0.9, ..., 1, with both turned: the
    hardship intercept that keeps the share of approved loans in hardship, and the loans'
    intercept that keeps the share that charge off at ``base_rate``. About a second, once per
    scenario (each intercept a bisection or Newton's method over the sample).
    """
    sample = _calibration_sample(weights, ip, period_us, life)
    observed, new = sample["observed"], sample["new"]
    factor = float(np.std(observed) / np.std(new))
    offset = float(np.mean(observed) - factor * np.mean(new))
    obs, haz_new = sample["haz_obs"], sample["haz_new"]
    haz_factor = float(np.std(obs) / np.std(haz_new))
    mean = float(np.mean(obs))
    haz_offset = mean - haz_factor * float(np.mean(haz_new))
    rest_h = sample["hazard"] - obs
    rest = sample["logit"] - observed  # the hidden factor's part (no stress)
    book = calibrate(weights, base_rate, ip, period_us, life)
    share = _hit_share(base_rate)
    alphas = np.empty(K.CONCEPT_GRID)
    hazards = np.empty(K.CONCEPT_GRID)
    middle = K.CONCEPT_GRID // 2
    # outwards from no drift, each intercept near its neighbour's
    order = [middle, *range(middle + 1, K.CONCEPT_GRID), *range(middle - 1, -1, -1)]
    for i in order:
        a = -1.0 + 2.0 * i / (K.CONCEPT_GRID - 1)
        theta = a * 0.5 * np.pi
        if i == middle:  # no drift: exactly the plain intercepts
            hazards[i], alphas[i] = book.hazard0, book.alpha
            continue
        near = hazards[i - 1] if i > middle else hazards[i + 1]
        turned_h = rest_h + mean + np.cos(theta) * (obs - mean) + np.sin(theta) * (
            haz_offset + haz_factor * haz_new - mean)
        hazards[i] = _hazard0(sample, book.cutoff, share, turned_h, (near - 3.0, near + 3.0),
                              passes=18)
        approved, hit = _book(sample, book.cutoff, hazards[i], turned_h)
        rate = _hit_rate(base_rate, approved, hit)
        turned = rest[hit] + np.cos(theta) * observed[hit] + np.sin(theta) * (
            offset + factor * new[hit])
        alphas[i] = solve_intercept(turned, rate, book.alpha)
    return {"offset": offset, "factor": factor, "alphas": alphas, "hazard_mean": mean,
            "hazard_offset": haz_offset, "hazard_factor": haz_factor, "hazards": hazards}


def _ids(first: int, ints: np.ndarray) -> dict[str, pl.Series]:
    """The five id columns, written by a kernel as Arrow string views (no Python strings).

    Their views share one allocation (20 MB for a 262,144-record block: large enough for
    huge pages, whose first touch costs far less than 4 kB pages'), and one scratch array.
    """
    n = ints.shape[1]
    records = np.arange(first, first + n, dtype=np.int64)
    customers = ints[K.I_CUSTOMER]
    views = np.empty((5, 2 * n), np.uint64)
    starts = np.empty(n, np.int64)
    specs = [("transaction_id", "txn_", records, "", None),
             ("customer_id", "cust_", customers, "", None),
             ("product_id", "prod_", ints[K.I_PRODUCT], "", None),
             ("device_id", "cust_", customers, "_device_", ints[K.I_DEVICE]),
             ("payment_method_id", "cust_", customers, "_pm_", ints[K.I_PAYMENT])]
    width = {"transaction_id": 8}
    return {name: strings(prefix, numbers, width.get(name, 6), infix, suffixes, views[i],
                           starts)
            for i, (name, prefix, numbers, infix, suffixes) in enumerate(specs)}
