"""The customer population: activity strata, round sizes and lifetimes for ``repeat_customer_rate``.

Customers buy in simulated time at their own rate (see ``simtom_kernels.customers``). Activity
is heavy-tailed: eight strata whose mean gap between a customer's purchases doubles from 3 days
to 384, with purchase shares peaking at 12-24 days, so the median gap between a customer's
consecutive purchases is about two weeks (purchase-weighted; most customers, being the less
active ones, buy every few months). The strata's round sizes follow the scenario's simulated
rate, so the gaps are the same in simulated days at 1 record/s, at 100/s or over a date range.

``repeat_customer_rate`` is the steady-state share of purchases by a customer who bought before
(in the stream or before it): lifetimes (log-normal across lanes, shared in simulated time by all
strata) are solved so that the share of first purchases is ``1 - repeat_customer_rate``.
``max_customers`` caps the population instead: a fixed set of that many customers, who never
leave, buying as often as the volume needs.
"""

from __future__ import annotations

import functools
import math
from statistics import NormalDist

import numpy as np
from simtom_kernels import bnpl as K
from simtom_kernels import customers as C

#: Mean days between a customer's purchases in each stratum.
MEAN_GAP_DAYS = tuple(3.0 * 2.0**s for s in range(C.STRATA))
#: Share of purchases from each stratum: log-normal in the gap, centred between 12 and 24 days.
_RAW = [math.exp(-((s - 2.7) ** 2) / (2 * 1.4**2)) for s in range(C.STRATA)]
PURCHASE_SHARES = tuple(x / sum(_RAW) for x in _RAW)
#: Log-normal sigma of customers' lifetimes across lanes.
LIFE_SIGMA = 1.0


def _normal_quantiles(n: int) -> np.ndarray:
    dist = NormalDist()
    return np.array([dist.inv_cdf((i + 0.5) / n) for i in range(n)])


#: The lifetime factors a lane draws from, equally likely: log-normal quantiles.
LIFE_FACTORS = np.exp(LIFE_SIGMA * _normal_quantiles(C.LIFE_QUANTILES))


def places() -> list[int]:
    """Each stratum's places in a super-round of ``SUPER`` records (largest remainder)."""
    exact = [share * C.SUPER for share in PURCHASE_SHARES]
    out = [math.floor(x) for x in exact]
    for s in sorted(range(C.STRATA), key=lambda s: out[s] - exact[s])[: C.SUPER - sum(out)]:
        out[s] += 1
    return out


def pattern(w: list[int]) -> list[int]:
    """The super-round's pattern: each position's code (stratum + STRATA × its rank among the
    stratum's places), then each stratum's positions in rank order. Stratum s's ``w[s]`` places
    are spread evenly (place j ideally at (j + 1/2) × SUPER / w[s]); ranks grow with position."""
    ideal = sorted(((j + 0.5) * C.SUPER / w[s], s, j)
                   for s in range(C.STRATA) for j in range(w[s]))
    codes = [s + C.STRATA * j for _, s, j in ideal]
    positions = [0] * C.SUPER
    first = [sum(w[:s]) for s in range(C.STRATA)]
    for pos, (_, s, j) in enumerate(ideal):
        positions[first[s] + j] = pos
    return codes + positions


def first_share(life_days: float, round_days: np.ndarray, weights: np.ndarray) -> float:
    """Expected share of purchases that are a customer's first, for median lifetime
    ``life_days``: per stratum, E[(1 - (1 - q)^L) / (q L)] over the lanes' lifetimes L (in
    rounds, as the kernel rounds them), weighted by the stratum's purchase share."""
    q = C.PARTICIPATION
    total = 0.0
    for days, w in zip(round_days, weights):
        if w == 0:
            continue
        life = life_days / days
        length = np.maximum(1.0, np.floor(life * LIFE_FACTORS + 0.5))
        total += w * float(np.mean((1.0 - (1.0 - q) ** length) / (q * length)))
    return total / float(np.sum(weights))


@functools.lru_cache(maxsize=64)
def parameters(rate_per_s: float, repeat_rate: float,
               max_customers: int | None) -> tuple[tuple[int, ...], tuple[float, ...]]:
    """The population's slots of the kernel's integer and float parameter vectors, as
    (ints from ``I_P_TOTAL``, floats from ``F_LIFE``)."""
    per_day = rate_per_s * 86_400.0
    w = places()
    k = [max(1, round(per_day * (w[s] / C.SUPER) * C.PARTICIPATION * MEAN_GAP_DAYS[s]))
         if w[s] else 1 for s in range(C.STRATA)]
    p = [2 * x for x in k]
    if max_customers is not None and max_customers < sum(p):
        p, k, w = _capped(p, w, max_customers)
    ints: list[int] = [sum(p)]
    lane0 = 0
    cum = 0
    for s in range(C.STRATA):
        ints += [w[s], cum, k[s], p[s], max(1, (p[s] - 1).bit_length()), lane0]
        cum += w[s]
        lane0 += p[s]
    ints += pattern(w)
    round_days = np.array([k[s] / (per_day * w[s] / C.SUPER) if w[s] else 1.0
                           for s in range(C.STRATA)])
    if max_customers is not None and max_customers <= sum(p):
        lives = [0.0] * C.STRATA  # a fixed population: no generations
    else:
        life = solve_life(repeat_rate, round_days, np.array(w, dtype=np.float64))
        lives = [life / d for d in round_days]
    return tuple(ints), (*lives, *LIFE_FACTORS.tolist())


def _capped(p: list[int], w: list[int], cap: int) -> tuple[list[int], list[int], list[int]]:
    """At most ``cap`` lanes in all: the strata with places keep lanes in proportion (at least
    one each; with fewer lanes than strata, only the busiest strata stay and take the places of
    the others). A round then has half its stratum's lanes (at least one), so it is shorter."""
    active = sorted((s for s in range(C.STRATA) if w[s]), key=lambda s: -w[s])
    if cap < len(active):
        kept = set(active[:cap])
        dropped = sum(w[s] for s in active if s not in kept)
        w = [w[s] if s in kept else 0 for s in range(C.STRATA)]
        w[active[0]] += dropped
        active = active[:cap]
    total = sum(p[s] for s in active)
    exact = {s: cap * p[s] / total for s in active}
    lanes = {s: max(1, math.floor(x)) for s, x in exact.items()}
    for s in sorted(active, key=lambda s: lanes[s] - exact[s]):
        if sum(lanes.values()) >= cap:
            break
        lanes[s] += 1
    while sum(lanes.values()) > cap:  # the floors of one lane each overshot: take them back
        s = max(active, key=lambda s: lanes[s])
        lanes[s] -= 1
    p = [lanes.get(s, 1) for s in range(C.STRATA)]
    k = [max(1, x // 2) for x in p]
    return p, k, w


def solve_life(repeat_rate: float, round_days: np.ndarray, weights: np.ndarray) -> float:
    """The median lifetime, in days, that makes the first-purchase share ``1 - repeat_rate``
    (bisection on its logarithm; the share falls as lifetimes grow)."""
    target = 1.0 - repeat_rate
    lo, hi = math.log(1e-3), math.log(1e6)
    if first_share(math.exp(lo), round_days, weights) <= target:
        return math.exp(lo)
    for _ in range(80):
        mid = 0.5 * (lo + hi)
        if first_share(math.exp(mid), round_days, weights) > target:
            lo = mid
        else:
            hi = mid
    return math.exp(0.5 * (lo + hi))


def write_ints(ip: np.ndarray, rate_per_s: float, repeat_rate: float,
               max_customers: int | None) -> None:
    """Put the population's lanes and rounds into the kernel's integer parameters."""
    ints, _ = parameters(rate_per_s, repeat_rate, max_customers)
    ip[K.I_P_TOTAL : K.I_P_TOTAL + len(ints)] = ints


def life_floats(rate_per_s: float, repeat_rate: float,
                max_customers: int | None) -> tuple[float, ...]:
    """The population's lifetimes, for the kernel's float parameters at ``F_LIFE``."""
    return tuple(parameters(rate_per_s, repeat_rate, max_customers)[1])


def neighbours(seed: int, records: np.ndarray, rate_per_s: float, repeat_rate: float = 0.7,
               max_customers: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """For each record number, the record of its customer's previous and next purchase
    (``simtom_kernels.customers.NONE`` where there is none; a previous purchase before the
    stream has a negative number): the population's truth, to test and document it against."""
    ints, floats = parameters(rate_per_s, repeat_rate, max_customers)
    ip = np.array(ints, dtype=np.int64)  # slot 0 is the lane total, as at I_P_TOTAL
    fp = np.array(floats, dtype=np.float64)
    records = np.ascontiguousarray(records, dtype=np.int64)
    previous = np.empty_like(records)
    following = np.empty_like(records)
    C.neighbours(np.int64(seed), ip, np.int64(1), fp, np.int64(0), records, previous,
                 following)
    return previous, following
