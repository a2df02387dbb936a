"""The named baseline: a per-record, pure-Python BNPL builder in the original simtom's design.

The original simtom (whitehackr/simtom) builds one record at a time: it picks or creates the
customer, product, device and payment method through dict-backed entity registries
(``get_or_create``), draws each field with the ``random`` module, formats ids with f-strings,
merges the entities into one flat dict, and stamps a ``datetime`` converted to ISO 8601. This
module follows that design with the field names of ``shared/BNPL.md`` and similar
distributions, so ``build_records(n, seed)`` costs what that design costs per record.

It is deliberately a *fair* baseline, not a straw man: one ``random.Random(seed)``, cumulative
weights precomputed, no Faker, no asyncio, no pydantic. The original pays for all of those on
every record, so a speed-up measured against this builder understates the speed-up against the
original. Its values do not match simtom's (different random streams and a simpler model).
"""

from __future__ import annotations

import datetime as dt
import itertools
import math
import random
from typing import Any

from simtom.bnpl import model as M

START = dt.datetime(2025, 1, 1, tzinfo=dt.timezone.utc)
RATE_PER_SECOND = 1.0  # uniform arrivals, as simtom's default
REPEAT_CUSTOMER_RATE = 0.7
MAX_PRODUCTS = 1000
BASE_DEFAULT_RATE = 0.03
ECONOMIC_STRESS = 0.0

# The record's vocabulary and figures are simtom's own tables (data, not code): the baseline
# builds the same record, only one dict at a time.
INCOME = M.INCOME
CREDIT = M.CREDIT
VERIFICATION = M.VERIFICATION
ADDRESS = M.ADDRESS
STATE_POPULATION = M.STATE_POPULATION
STATES = M.STATES
CATEGORY = M.CATEGORY
SUBCATEGORIES = M.SUBCATEGORIES
BRANDS = {c: (tuple(w), tuple(w.values())) for c, w in M.BRAND_SHARES.items()}
PRICE = M.PRICE
PRODUCT_RISK = M.PRODUCT_RISK
DEVICE_TYPE = M.DEVICE_TYPE
DEVICE_OS = {d: (tuple(w), tuple(w.values())) for d, w in M.DEVICE_OS_SHARES.items()}
PROVIDERS = M.PROVIDER
CREDIT_LIMITS = (500, 1000, 1500, 2500, 5000)
RISK_SCENARIO = M.RISK_SCENARIO
CONTEXT = M.PURCHASE_CONTEXT
CONTEXT_BY_SCENARIO = M.CONTEXT_BY_SCENARIO
SPEED = M.CHECKOUT_SPEED
SPEED_BY_SCENARIO = M.SPEED_BY_SCENARIO
# Seconds: price comparison (median, sigma) and further time on site (median, sigma).
TIME_BY_SCENARIO = ((180.0, 0.8, 300.0, 0.7), (20.0, 0.9, 60.0, 0.8),
                    (120.0, 0.8, 420.0, 0.7), (10.0, 0.9, 45.0, 0.9))

# Risk-score components (0 good .. 1 bad) and the weights of shared/BNPL.md.
CREDIT_RISK = {"excellent": 0.1, "good": 0.3, "fair": 0.6, "poor": 0.9}
VERIFICATION_RISK = {"verified": 0.1, "partial": 0.4, "unverified": 0.8}
INCOME_RISK = {"100k+": 0.1, "75k-100k": 0.2, "50k-75k": 0.3, "25k-50k": 0.6, "<25k": 0.8}
PRODUCT_RISK_SCORE = {"low": 0.1, "medium": 0.3, "high": 0.6}
SCENARIO_RISK = {"low_risk_purchase": 0.0, "impulse_purchase": 0.3, "credit_stretched": 0.6,
                 "high_risk_behavior": 0.9}
SCENARIO_LOGIT = {"low_risk_purchase": 0.0, "impulse_purchase": 0.4, "credit_stretched": 0.9,
                  "high_risk_behavior": 1.5}


def _cum(weights: tuple[float, ...]) -> list[float]:
    return list(itertools.accumulate(weights))


CUM = {
    "income": _cum((15, 28, 23, 18, 16)),
    "credit": _cum((15, 35, 35, 15)),
    "verification": _cum((60, 30, 10)),
    "address": _cum((20, 60, 20)),
    "state": _cum(tuple(STATE_POPULATION.values())),
    "category": _cum((35, 25, 20, 12, 8)),
    "product_risk": _cum((50, 35, 15)),
    "device_type": _cum((55, 30, 15)),
    "provider": _cum((30, 35, 25, 10)),
    "credit_limit": _cum((20, 30, 25, 15, 10)),
    "scenario": _cum((60, 20, 15, 5)),
}
BRAND_CUM = {c: (names, _cum(w)) for c, (names, w) in BRANDS.items()}
OS_CUM = {d: (names, _cum(w)) for d, (names, w) in DEVICE_OS.items()}
CONTEXT_CUM = {s: _cum(w) for s, w in zip(RISK_SCENARIO, CONTEXT_BY_SCENARIO)}
SPEED_CUM = {s: _cum(w) for s, w in zip(RISK_SCENARIO, SPEED_BY_SCENARIO)}


class _Registry:
    """The original's entity store: a dict of entity dicts, created on first use."""

    def __init__(self, make: Any) -> None:
        self.entities: dict[str, dict[str, Any]] = {}
        self.make = make

    def get_or_create(self, entity_id: str, *args: Any) -> dict[str, Any]:
        entity = self.entities.get(entity_id)
        if entity is None:
            entity = self.make(entity_id, *args)
            self.entities[entity_id] = entity
        return entity


class BaselineBNPL:
    """One record per ``next_record()`` call, like the original's ``generate_record``."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.record = 0
        self.known_customers: list[str] = []
        self.customers = _Registry(self._customer)
        self.products = _Registry(self._product)
        self.devices = _Registry(self._device)
        self.payment_methods = _Registry(self._payment_method)

    # Entities ------------------------------------------------------------------------------

    def _customer(self, customer_id: str) -> dict[str, Any]:
        rng = self.rng
        age_days = int(rng.uniform(18.0, 75.0) * 365.25)
        signup_days = min(3650, int(rng.lognormvariate(math.log(180.0), 1.3)))
        return {
            "customer_id": customer_id,
            "dob": START.date() - dt.timedelta(days=age_days),
            "signup_date": START.date() - dt.timedelta(days=signup_days),
            "income_bracket": rng.choices(INCOME, cum_weights=CUM["income"])[0],
            "credit_score_range": rng.choices(CREDIT, cum_weights=CUM["credit"])[0],
            "verification_level": rng.choices(VERIFICATION, cum_weights=CUM["verification"])[0],
            "address_stability": rng.choices(ADDRESS, cum_weights=CUM["address"])[0],
            "state": rng.choices(STATES, cum_weights=CUM["state"])[0],
            "n_devices": 1 if rng.random() < 0.6 else 2,
            "n_payment_methods": rng.choices((1, 2, 3), cum_weights=(50, 85, 100))[0],
        }

    def _product(self, product_id: str) -> dict[str, Any]:
        rng = self.rng
        category = rng.choices(CATEGORY, cum_weights=CUM["category"])[0]
        median, sigma, low, high = PRICE[category]
        price = round(min(high, max(low, rng.lognormvariate(math.log(median), sigma))), 2)
        brands, brand_cum = BRAND_CUM[category]
        return {
            "product_id": product_id,
            "category": category,
            "subcategory": rng.choice(SUBCATEGORIES[category]),
            "brand": rng.choices(brands, cum_weights=brand_cum)[0],
            "price": price,
            "bnpl_eligible": price >= 50 and category in ("electronics", "clothing", "home"),
            "risk_category": rng.choices(PRODUCT_RISK, cum_weights=CUM["product_risk"])[0],
        }

    def _device(self, device_id: str, customer: dict[str, Any]) -> dict[str, Any]:
        rng = self.rng
        device_type = rng.choices(DEVICE_TYPE, cum_weights=CUM["device_type"])[0]
        names, os_cum = OS_CUM[device_type]
        later = int(rng.lognormvariate(math.log(120.0), 1.0)) if device_id[-1] == "2" else 0
        return {
            "device_id": device_id,
            "type": device_type,
            "os": rng.choices(names, cum_weights=os_cum)[0],
            "first_seen": customer["signup_date"] + dt.timedelta(days=later),
        }

    def _payment_method(self, payment_method_id: str) -> dict[str, Any]:
        rng = self.rng
        return {
            "payment_method_id": payment_method_id,
            "type": "bnpl_account",
            "provider": rng.choices(PROVIDERS, cum_weights=CUM["provider"])[0],
            "credit_limit": rng.choices(CREDIT_LIMITS, cum_weights=CUM["credit_limit"])[0],
        }

    # One record ----------------------------------------------------------------------------

    def next_record(self) -> dict[str, Any]:
        rng = self.rng
        k = self.record
        self.record += 1
        timestamp = START + dt.timedelta(seconds=k / RATE_PER_SECOND)
        today = timestamp.date()

        if self.known_customers and rng.random() < REPEAT_CUSTOMER_RATE:
            customer_id = rng.choice(self.known_customers)
        else:
            customer_id = f"cust_{len(self.known_customers):06d}"
            self.known_customers.append(customer_id)
        customer = self.customers.get_or_create(customer_id)
        product = self.products.get_or_create(f"prod_{rng.randrange(MAX_PRODUCTS):06d}")
        device = self.devices.get_or_create(
            f"{customer_id}_device_{rng.randint(1, customer['n_devices'])}", customer)
        payment = self.payment_methods.get_or_create(
            f"{customer_id}_pm_{rng.randint(1, customer['n_payment_methods'])}")

        scenario = rng.choices(RISK_SCENARIO, cum_weights=CUM["scenario"])[0]
        amount = product["price"]
        trusted = (today - device["first_seen"]).days > 30
        age = (today - customer["dob"]).days // 365
        score = (0.3 * CREDIT_RISK[customer["credit_score_range"]]
                 + 0.2 * VERIFICATION_RISK[customer["verification_level"]]
                 + 0.2 * INCOME_RISK[customer["income_bracket"]]
                 + 0.1 * (0.0 if trusted else 1.0)
                 + 0.1 * PRODUCT_RISK_SCORE[product["risk_category"]]
                 + 0.1 * SCENARIO_RISK[scenario])
        score = min(1.0, score * (1.0 + 0.2 * ECONOMIC_STRESS))
        if amount < 100:
            installments = 4
        elif amount < 500:
            installments = rng.choice((4, 6))
        elif amount < 1000:
            installments = rng.choice((6, 12))
        else:
            installments = rng.choice((12, 24))
        cmp_median, cmp_sigma, site_median, site_sigma = TIME_BY_SCENARIO[
            RISK_SCENARIO.index(scenario)]
        comparison = int(rng.lognormvariate(math.log(cmp_median), cmp_sigma))
        logit = (math.log(BASE_DEFAULT_RATE / (1 - BASE_DEFAULT_RATE)) - 1.6
                 + 3.0 * score + SCENARIO_LOGIT[scenario] + rng.gauss(0.0, 0.5))
        will_default = rng.random() < 1.0 / (1.0 + math.exp(-logit))
        limit = payment["credit_limit"]

        return {
            "transaction_id": f"txn_{k:08d}",
            "customer_id": customer_id,
            "product_id": product["product_id"],
            "device_id": device["device_id"],
            "payment_method_id": payment["payment_method_id"],
            "amount": amount,
            "currency": "USD",
            "status": "completed",
            "customer_age_bracket": ("18-24" if age < 25 else "25-34" if age < 35 else
                                     "35-44" if age < 45 else "45-54" if age < 55 else "55+"),
            "customer_tenure_days": (today - customer["signup_date"]).days,
            "customer_income_bracket": customer["income_bracket"],
            "customer_credit_score_range": customer["credit_score_range"],
            "customer_verification_level": customer["verification_level"],
            "customer_address_stability": customer["address_stability"],
            "customer_state": customer["state"],
            "product_category": product["category"],
            "product_subcategory": product["subcategory"],
            "product_brand": product["brand"],
            "product_price": product["price"],
            "product_bnpl_eligible": product["bnpl_eligible"],
            "product_risk_category": product["risk_category"],
            "device_type": device["type"],
            "device_os": device["os"],
            "device_is_trusted": trusted,
            "payment_provider": payment["provider"],
            "payment_type": payment["type"],
            "payment_credit_limit": limit,
            "risk_scenario": scenario,
            "risk_score": round(score, 4),
            "risk_level": ("low" if score < 0.3 else "medium" if score < 0.6 else
                           "high" if score < 0.8 else "very_high"),
            "installment_count": installments,
            "first_payment_amount": round(amount * 0.25, 2),
            "payment_frequency": "bi_weekly",
            "purchase_context": rng.choices(CONTEXT, cum_weights=CONTEXT_CUM[scenario])[0],
            "checkout_speed": rng.choices(SPEED, cum_weights=SPEED_CUM[scenario])[0],
            "cart_abandonment_count": rng.randint(0, 3),
            "price_comparison_time": comparison,
            "time_on_site_seconds": comparison + int(
                rng.lognormvariate(math.log(site_median), site_sigma)),
            "credit_utilization": (round(amount / limit, 4)
                                   if scenario == "credit_stretched" else None),
            "economic_stress_factor": ECONOMIC_STRESS,
            "will_default": will_default,
            "days_to_first_missed_payment": (14 * rng.randint(1, installments)
                                             if will_default else None),
            "_timestamp": timestamp.isoformat(),
            "_record_id": k,
            "_generator": "bnpl",
        }


def build_records(n: int, seed: int) -> list[dict[str, Any]]:
    """``n`` BNPL records, one dict at a time, from ``random.Random(seed)``.

    Examples
    --------
    >>> records = build_records(3, seed=42)
    >>> [r["transaction_id"] for r in records], records[1]["_timestamp"]
    (['txn_00000000', 'txn_00000001', 'txn_00000002'], '2025-01-01T00:00:01+00:00')
    """
    builder = BaselineBNPL(seed)
    return [builder.next_record() for _ in range(n)]
