"""Data-quality faults: noise on measured values and missing values, per (record, field).

Every draw is keyed by the seed, a stream derived from the field's name and the record's number,
so a record's faults do not depend on the block, the other fields or which faults are on.
"""

from __future__ import annotations

import math

import numba
import numpy as np

from ._jit import jit, parallel
from .rng import key_base, normal, stream_key, uniform

i64 = np.int64

NOISE_GAUSSIAN = 1
NOISE_UNIFORM = 2
NOISE_OUTLIERS = 3
#: Share of values an outlier noise turns into outliers, and their factor range.
OUTLIER_SHARE = 0.05
OUTLIER_LOW = 2.0
OUTLIER_HIGH = 5.0


@parallel
def noise(seed, field_stream, first, kind, level, values, out):  # type: ignore[no-untyped-def]
    """``out[i]`` = record ``first + i``'s value with noise (NaN stays NaN). Each value is a
    function of its record alone, so the parallel loop cannot change a result.

    gaussian: v + N(0, (level |v|)^2); uniform: v + level |v| U(-1, 1); outliers: with
    probability 0.05 v × U(2, 5) × a random sign, else v + N(0, (0.1 level |v|)^2).
    """
    skey = stream_key(seed, field_stream)
    for i in numba.prange(values.shape[0]):
        v = values[i]
        if math.isnan(v):
            out[i] = v
            continue
        base = key_base(skey, first + i)
        scale = level * abs(v)
        if kind == NOISE_GAUSSIAN:
            out[i] = v + scale * normal(base, i64(0))
        elif kind == NOISE_UNIFORM:
            out[i] = v + scale * (2.0 * uniform(base, i64(0)) - 1.0)
        else:
            if uniform(base, i64(0)) < OUTLIER_SHARE:
                factor = OUTLIER_LOW + (OUTLIER_HIGH - OUTLIER_LOW) * uniform(base, i64(1))
                sign = 1.0 if uniform(base, i64(2)) < 0.5 else -1.0
                out[i] = v * factor * sign
            else:
                out[i] = v + 0.1 * scale * normal(base, i64(3))


@jit
def missing(seed, field_stream, first, rate, out):  # type: ignore[no-untyped-def]
    """``out[i]`` = True where record ``first + i``'s field goes missing (probability rate)."""
    skey = stream_key(seed, field_stream)
    for i in range(out.shape[0]):
        out[i] = uniform(key_base(skey, first + i), i64(0)) < rate


@jit
def delivery(seed, field_stream, first, late_rate, duplicate_rate, delay_us, late,
             duplicate):  # type: ignore[no-untyped-def]
    """Delivery faults of records ``first ..``: ``late[i]`` is record i's delay in µs (1 ..
    delay_us with probability late_rate, else 0); ``duplicate[i]`` the delay of its second
    copy (1 .. delay_us with probability duplicate_rate, else -1: no copy)."""
    skey = stream_key(seed, field_stream)
    for i in range(late.shape[0]):
        base = key_base(skey, first + i)
        late[i] = 0
        if uniform(base, i64(0)) < late_rate:
            late[i] = 1 + np.int64(math.floor(uniform(base, i64(1)) * delay_us))
        duplicate[i] = -1
        if uniform(base, i64(2)) < duplicate_rate:
            duplicate[i] = 1 + np.int64(math.floor(uniform(base, i64(3)) * delay_us))
