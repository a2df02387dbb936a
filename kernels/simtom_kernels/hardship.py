"""A customer's hardship time: the first event of its hazard from the day it joined the lender.

The log-hazard (per year) is the customer's own, from fixed parts and the economic stress of
the moment: ``h0(a) + fixed + cos θ · obs + sin θ · new + stress_logit · stress``, where ``obs``
and ``new`` are the customer's old and new drivers, centred on the old ones' mean (which
``fixed`` holds), ``θ = a · 90°`` is concept drift's angle at intensity ``a``, ``h0(a)`` the
intercept calibrated for it (a grid over -1 .. 1, linear between its points) and ``stress`` the
economic stress moved by covariate drift. Without drift the hazard is constant and the time a
closed form. With drift it changes with the schedule's shape, held constant over pieces
(``PIECES`` per ramp or period; one piece for a sudden change, and for gradual drift a
customer's own switch time, when the ramp passes its draw), and the time is where the
cumulative hazard reaches the customer's exponential draw: a few pieces' work, and for seasonal
drift whole periods are skipped at once. So drift moves who goes into hardship and when, and
stays a pure function of the customer.
"""

from __future__ import annotations

import math

import numpy as np

from . import drift as D
from ._jit import helper

i64 = np.int64

US_PER_YEAR = 31_557_600_000_000.0  # 365.25 days
NEVER = i64(1) << i64(62)  # a hardship time past any event time
MAX_YEARS = 1e4
PIECES = 16
MAX_STRESS = 5.0
GRID = 21  # intercepts at concept intensity -1, -0.9, ..., 1


@helper
def intercept(grid, at, a):  # type: ignore[no-untyped-def]
    """The intercept at concept intensity ``a`` from ``grid[at : at + GRID]``."""
    x = (a + 1.0) * 0.5 * (GRID - 1)
    i = min(max(i64(math.floor(x)), i64(0)), i64(GRID - 2))
    f = x - i
    return grid[at + i] * (1.0 - f) + grid[at + i + 1] * f


@helper
def log_hazard(grid, at, fixed, obs, new, stress0, stress_logit, covariate, concept,
               shape):  # type: ignore[no-untyped-def]
    """The log-hazard at drift shape ``shape``."""
    a = concept * shape
    stress = min(max(stress0 + covariate * shape, 0.0), MAX_STRESS)
    if a == 0.0:
        return grid[at + GRID // 2] + fixed + obs + stress_logit * stress
    theta = a * 0.5 * math.pi
    return (intercept(grid, at, a) + fixed + math.cos(theta) * obs + math.sin(theta) * new
            + stress_logit * stress)


@helper
def rate(grid, at, fixed, obs, new, stress0, stress_logit, covariate, concept,
         shape):  # type: ignore[no-untyped-def]
    """The hazard per year at drift shape ``shape``."""
    return math.exp(log_hazard(grid, at, fixed, obs, new, stress0, stress_logit, covariate,
                               concept, shape))


@helper
def _at(tau, left, rate):  # type: ignore[no-untyped-def]
    """µs when ``left`` of cumulative hazard is used at ``rate`` per year from ``tau``."""
    years = left / rate
    if years >= MAX_YEARS:
        return NEVER
    return i64(math.floor(tau + years * US_PER_YEAR))


@helper
def time_of(grid, at, anchor, expo, fixed, obs, new, stress0, stress_logit, kind, t0, scale,
            covariate, concept, u):  # type: ignore[no-untyped-def]
    """The hardship time (µs) of a customer who joined at ``anchor`` with exponential draw
    ``expo``, under the drift schedule (kind, t0, scale; strengths on covariate and concept;
    ``u`` the customer's draw for gradual drift)."""
    g = (grid, at, fixed, obs, new, stress0, stress_logit, covariate, concept)
    rate0 = rate(grid, at, fixed, obs, new, stress0, stress_logit, 0.0, 0.0, 0.0)
    if kind == D.NONE or (covariate == 0.0 and concept == 0.0):
        return _at(float(anchor), expo, rate0)
    tau = float(anchor)
    left = expo
    start = float(t0)
    if kind == D.GRADUAL:  # the customer's own change point, where the ramp passes its draw
        start = float(t0) + u * scale
    if tau < start:  # before the drift reaches the customer: the plain hazard
        span = (start - tau) / US_PER_YEAR
        if left < rate0 * span:
            return _at(tau, left, rate0)
        left -= rate0 * span
        tau = start
    if kind == D.SUDDEN or kind == D.GRADUAL:
        return _at(tau, left, _rate(g, 1.0))
    piece = scale / PIECES
    if kind == D.LINEAR:
        for j in range(PIECES):
            end = float(t0) + (j + 1) * piece
            if end <= tau:
                continue
            r = _rate(g, (j + 0.5) / PIECES)
            span = (end - tau) / US_PER_YEAR
            if left < r * span:
                return _at(tau, left, r)
            left -= r * span
            tau = end
        return _at(tau, left, _rate(g, 1.0))
    # seasonal: the rest of the current period piece by piece, whole periods at once, then the
    # pieces of the last period
    period = 0.0
    for j in range(PIECES):
        period += _rate(g, math.sin(2.0 * math.pi * (j + 0.5) / PIECES)) * piece / US_PER_YEAR
    m = math.floor((tau - float(t0)) / scale)
    for _ in range(2):
        for j in range(PIECES):
            end = float(t0) + m * scale + (j + 1) * piece
            if end <= tau:
                continue
            r = _rate(g, math.sin(2.0 * math.pi * (j + 0.5) / PIECES))
            span = (end - tau) / US_PER_YEAR
            if left < r * span:
                return _at(tau, left, r)
            left -= r * span
            tau = end
        m += 1
        whole = math.floor(left / period)
        if whole * scale / US_PER_YEAR >= MAX_YEARS:
            return NEVER
        left -= whole * period
        m += whole
        tau = float(t0) + m * scale
    return NEVER


@helper
def _rate(g, shape):  # type: ignore[no-untyped-def]
    """``rate`` with its fixed arguments in a tuple."""
    return rate(g[0], g[1], g[2], g[3], g[4], g[5], g[6], g[7], g[8], shape)
