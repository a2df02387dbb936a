"""Drift schedules: how far a scenario has drifted at a simulated instant.

A schedule is a pure function of simulated time (µs) and four numbers: its kind, the instant it
starts (``t0``), its time scale (``scale``: the ramp of linear and gradual drift, the period of
seasonal drift) and its strength. Before ``t0`` nothing drifts. After it:

* linear: the shape rises from 0 to 1 over ``scale``, then stays at 1 (incremental drift);
* seasonal: ``sin(2π (t - t0) / scale)``, between -1 and 1 (recurring drift);
* sudden: 1 from ``t0`` on (a change point);
* gradual: each record comes from the new concept with probability rising from 0 to 1 over
  ``scale`` and from the old one otherwise (the shape of one record is 0 or 1, its expected
  value the ramp), decided by the record's own draw of the drift stream.

A record's intensity is ``strength × shape``; the generators read it per record, and the
engine's ``_drift`` column and the schedule API come from these same functions.
"""

from __future__ import annotations

import math

import numba
import numpy as np

from ._jit import helper, jit, parallel
from .rng import key_base, stream_key, uniform

i64 = np.int64

NONE = i64(0)
LINEAR = i64(1)
SEASONAL = i64(2)
SUDDEN = i64(3)
GRADUAL = i64(4)

#: The random stream of gradual drift's per-record draws (the BNPL kernel uses 201-207).
STREAM_DRIFT = i64(208)


@helper
def expected(kind, t, t0, scale):  # type: ignore[no-untyped-def]
    """The schedule's expected shape at ``t`` (µs): in [0, 1], or [-1, 1] when seasonal."""
    if kind == NONE or t < t0:
        return 0.0
    if kind == SUDDEN:
        return 1.0
    x = float(t - t0) / scale
    if kind == SEASONAL:
        return math.sin(2.0 * math.pi * (x - math.floor(x)))
    return min(x, 1.0)


@helper
def realised(kind, t, t0, scale, u):  # type: ignore[no-untyped-def]
    """One draw's shape at ``t``: the expected shape, except that gradual drift is 1 with
    probability equal to its ramp (``u`` uniform in [0, 1)) and 0 otherwise."""
    s = expected(kind, t, t0, scale)
    if kind == GRADUAL:
        return 1.0 if u < s else 0.0
    return s


@helper
def record_uniform(drift_key, k):  # type: ignore[no-untyped-def]
    """Record ``k``'s draw of the drift stream (``drift_key = stream_key(seed, STREAM_DRIFT)``)."""
    return uniform(key_base(drift_key, k), i64(0))


@parallel
def intensities(seed, first, times, kind, t0, scale, strength, out):  # type: ignore[no-untyped-def]
    """``out[i]`` = the drift intensity of record ``first + i`` at event time ``times[i]``."""
    drift_key = stream_key(seed, STREAM_DRIFT)
    for i in numba.prange(times.shape[0]):
        u = record_uniform(drift_key, first + i)
        out[i] = strength * realised(kind, times[i], t0, scale, u)


@jit
def schedule(times, kind, t0, scale, strength, out):  # type: ignore[no-untyped-def]
    """``out[i]`` = the expected drift intensity at ``times[i]``."""
    for i in range(times.shape[0]):
        out[i] = strength * expected(kind, times[i], t0, scale)
