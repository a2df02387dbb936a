"""Counter-based random numbers keyed by (seed, stream, key, draw).

There is no generator state: every value is a pure function of its coordinates, so a record's
values depend only on the seed and the record's number, whatever block, thread or process computes
it. The mixing function is SplitMix64's finaliser (a bijection on 64-bit words with full
avalanche); a value is two rounds of it:

    stream_key = mix(mix(seed) ^ stream * C)           once per (seed, stream)
    base       = mix(stream_key + key * GOLDEN)        once per (stream, key)
    bits       = mix(base + (draw + 1) * GAMMA)        one per draw

so the draws of one key are SplitMix64's sequence started at a random-looking state. Every
function takes the per-key ``base`` so kernels hash a record's key once and then pay one mix per
draw. Distribution functions consume a fixed number of draws, except ``poisson`` (see there).
"""

from __future__ import annotations

import math

import numpy as np

from ._jit import helper, inline, jit

# Constant arguments of helper calls are written i64(3), not 3: Numba would otherwise compile a
# separate Literal[int](3) specialisation of the helper for every distinct constant.
i64 = np.int64

GOLDEN = np.uint64(0x9E3779B97F4A7C15)
GAMMA = np.uint64(0xD1B54A32D192ED03)
STREAM_MUL = np.uint64(0xBF58476D1CE4E5B9)
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
_S30 = np.uint64(30)
_S27 = np.uint64(27)
_S31 = np.uint64(31)
_S12 = np.uint64(12)
_ONE = np.uint64(1)
_INV52 = 1.0 / 4503599627370496.0  # 2**-52


@helper
def mix64(z: np.uint64) -> np.uint64:
    z = (z ^ (z >> _S30)) * _M1
    z = (z ^ (z >> _S27)) * _M2
    return z ^ (z >> _S31)


@helper
def stream_key(seed: np.int64, stream: np.int64) -> np.uint64:
    return mix64(mix64(np.uint64(seed)) ^ (np.uint64(stream) * STREAM_MUL))


@helper
def key_base(skey: np.uint64, key: np.int64) -> np.uint64:
    return mix64(skey + np.uint64(key) * GOLDEN)


@helper
def bits(base: np.uint64, draw: np.int64) -> np.uint64:
    return mix64(base + (np.uint64(draw) + _ONE) * GAMMA)


@helper
def uniform(base: np.uint64, draw: np.int64) -> float:
    """A uniform draw on the open interval (0, 1): never exactly 0 or 1, so logs are safe.

    The top 52 bits, centred in their cell: values (i + 0.5) / 2**52 are exact in a double, so
    the largest is 1 - 2**-53 (with 53 bits, (2**53 - 1) + 0.5 would round up to exactly 1).
    """
    # the bits fit a signed integer, whose conversion to float is one instruction
    return (float(np.int64(bits(base, draw) >> _S12)) + 0.5) * _INV52


@inline
def norm_ppf(p: float) -> float:
    """Inverse of the standard normal CDF (Acklam's rational approximation, |rel err| < 1.2e-9)."""
    if p < 0.02425:
        q = math.sqrt(-2.0 * math.log(p))
        return (((((-7.784894002430293e-03 * q - 3.223964580411365e-01) * q
                   - 2.400758277161838e+00) * q - 2.549732539343734e+00) * q
                 + 4.374664141464968e+00) * q + 2.938163982698783e+00) / (
            (((7.784695709041462e-03 * q + 3.224671290700398e-01) * q
              + 2.445134137142996e+00) * q + 3.754408661907416e+00) * q + 1.0)
    if p > 0.97575:
        q = math.sqrt(-2.0 * math.log(1.0 - p))
        return -(((((-7.784894002430293e-03 * q - 3.223964580411365e-01) * q
                    - 2.400758277161838e+00) * q - 2.549732539343734e+00) * q
                  + 4.374664141464968e+00) * q + 2.938163982698783e+00) / (
            (((7.784695709041462e-03 * q + 3.224671290700398e-01) * q
              + 2.445134137142996e+00) * q + 3.754408661907416e+00) * q + 1.0)
    q = p - 0.5
    r = q * q
    return (((((-3.969683028665376e+01 * r + 2.209460984245205e+02) * r
               - 2.759285104469687e+02) * r + 1.383577518672690e+02) * r
             - 3.066479806614716e+01) * r + 2.506628277459239e+00) * q / (
        ((((-5.447609879822406e+01 * r + 1.615858368580409e+02) * r
           - 1.556989798598866e+02) * r + 6.680131188771972e+01) * r
         - 1.328068155288572e+01) * r + 1.0)


@helper
def norm_cdf(x: float) -> float:
    """The standard normal CDF (Abramowitz & Stegun 26.2.17, |abs err| < 7.5e-8).

    One exp instead of libm's erfc, several times slower here; monotone in x, which is what
    mapping a normal score to a rank needs.
    """
    z = abs(x)
    t = 1.0 / (1.0 + 0.2316419 * z)
    poly = t * (0.319381530 + t * (-0.356563782 + t * (1.781477937
                                                       + t * (-1.821255978 + t * 1.330274429))))
    tail = 0.3989422804014327 * math.exp(-0.5 * z * z) * poly
    return 1.0 - tail if x >= 0.0 else tail


@helper
def loglogistic(base: np.uint64, draw: np.int64, log_median: float, shape: float) -> float:
    """A log-logistic draw (right-skewed, heavier tail than log-normal) by inversion:
    ``median * (u / (1 - u)) ** (1 / shape)``; one log and one exp, no normal draw."""
    u = uniform(base, draw)
    return math.exp(log_median + math.log(u / (1.0 - u)) / shape)


#: The normal quantile at i / NORMAL_GRID (``norm_ppf``'s values; 0 at the ends, unused), for
#: :func:`normal`'s interpolation. A constant the kernels compile in, like ``bnpl.PAIRS``.
NORMAL_GRID = 4096
NORMAL_TABLE = np.array([norm_ppf.py_func(i / NORMAL_GRID) if 0 < i < NORMAL_GRID else 0.0
                         for i in range(NORMAL_GRID + 1)])
#: Where :func:`normal` interpolates: Acklam's central region, 95 % of draws.
NORMAL_LOW = 0.02425
NORMAL_HIGH = 0.97575


@inline
def normal(base: np.uint64, draw: np.int64) -> float:
    """A standard normal draw by inversion: one draw per value.

    In the central 95 % the quantile is interpolated linearly between ``NORMAL_TABLE``'s points
    (within 5e-6 of ``norm_ppf``, where the grid is coarsest for the curve: at 2 sigma), a
    multiply-add where Acklam's rational costs a division and ten multiplies; in the tails,
    ``norm_ppf`` itself. Measured: the BNPL feature kernel 467-471 -> 445-453 ns a record.
    """
    u = uniform(base, draw)
    if u < NORMAL_LOW or u > NORMAL_HIGH:
        return norm_ppf(u)
    x = u * NORMAL_GRID
    i = np.int64(x)
    f = x - i
    return NORMAL_TABLE[i] * (1.0 - f) + NORMAL_TABLE[i + 1] * f


@helper
def exponential(base: np.uint64, draw: np.int64) -> float:
    """A unit-rate exponential draw: one draw per value."""
    return -math.log(uniform(base, draw))


@inline
def lognormal(base: np.uint64, draw: np.int64, mu: float, sigma: float) -> float:
    return math.exp(mu + sigma * normal(base, draw))


@inline
def categorical(base: np.uint64, draw: np.int64, table: np.ndarray, row: np.int64) -> np.int64:
    """Index i with probability table[row, i] - table[row, i-1].

    Each row of ``table`` is cumulative, non-decreasing, ends (and is padded) with 1.0, and
    holds its number of categories in its last slot (``simtom.bnpl.model``), so the index is how
    many of its first ``categories - 1`` entries are at or below u. Taking the 2-D table and a
    row number, rather than a row view, spares a reference-counted view per draw.
    """
    u = uniform(base, draw)
    # counted without a branch: a search loop mispredicts its exit about once per draw
    i = 0
    for j in range(np.int64(table[row, table.shape[1] - 1]) - 1):
        i += u >= table[row, j]
    return i


@inline
def categorical_mixed(base: np.uint64, draw: np.int64, table: np.ndarray, row: np.int64,
                      other: np.int64, w: float) -> np.int64:
    """Like ``categorical``, from the mixture ``(1 - w) × row + w × other`` of two rows
    (``0 <= w <= 1``, the same categories): the mixed row's cumulative is the mixture of the
    cumulatives."""
    u = uniform(base, draw)
    i = 0
    for j in range(np.int64(table[row, table.shape[1] - 1]) - 1):
        i += u >= (1.0 - w) * table[row, j] + w * table[other, j]
    return i


@helper
def poisson(base: np.uint64, lam: float) -> np.int64:
    """A Poisson draw using draws 0, 1, 2, ... of ``base`` (a key of its own).

    Small means use inversion (one draw). Means of 10 and more use Hörmann's PTRS transformed
    rejection (two draws per try, about 1.1 tries on average), so the cost is flat in the mean.
    """
    if lam <= 0.0:
        return 0
    if lam < 10.0:
        u = uniform(base, i64(0))
        k = 0
        p = math.exp(-lam)
        cdf = p
        while u > cdf and k < 1000:
            k += 1
            p *= lam / k
            cdf += p
        return k
    slam = math.sqrt(lam)
    loglam = math.log(lam)
    b = 0.931 + 2.53 * slam
    a = -0.059 + 0.02483 * b
    invalpha = 1.1239 + 1.1328 / (b - 3.4)
    vr = 0.9277 - 3.6224 / (b - 2.0)
    draw = 0
    while True:
        u = uniform(base, draw) - 0.5
        v = uniform(base, draw + 1)
        draw += 2
        us = 0.5 - abs(u)
        k = math.floor((2.0 * a / us + b) * u + lam + 0.43)
        if us >= 0.07 and v <= vr:
            return np.int64(k)
        if k < 0 or (us < 0.013 and v > us):
            continue
        if (math.log(v) + math.log(invalpha) - math.log(a / (us * us) + b)
                <= -lam + k * loglam - math.lgamma(k + 1.0)):
            return np.int64(k)


# Array front-ends: used by tests (against plain-numpy references) and by Python callers that
# need a column of draws. Kernels call the scalar functions above directly.

@jit
def uniform_array(seed, stream, keys, draw, out):  # type: ignore[no-untyped-def]
    skey = stream_key(seed, stream)
    for i in range(keys.shape[0]):
        out[i] = uniform(key_base(skey, keys[i]), draw)


@jit
def normal_array(seed, stream, keys, draw, out):  # type: ignore[no-untyped-def]
    skey = stream_key(seed, stream)
    for i in range(keys.shape[0]):
        out[i] = normal(key_base(skey, keys[i]), draw)


@jit
def exponential_array(seed, stream, keys, draw, out):  # type: ignore[no-untyped-def]
    skey = stream_key(seed, stream)
    for i in range(keys.shape[0]):
        out[i] = exponential(key_base(skey, keys[i]), draw)


@jit
def lognormal_array(seed, stream, keys, draw, mu, sigma, out):  # type: ignore[no-untyped-def]
    skey = stream_key(seed, stream)
    for i in range(keys.shape[0]):
        out[i] = lognormal(key_base(skey, keys[i]), draw, mu, sigma)


@jit
def poisson_array(seed, stream, keys, lam, out):  # type: ignore[no-untyped-def]
    skey = stream_key(seed, stream)
    for i in range(keys.shape[0]):
        out[i] = poisson(key_base(skey, keys[i]), lam)


@jit
def categorical_array(seed, stream, keys, draw, table, row, out):  # type: ignore[no-untyped-def]
    skey = stream_key(seed, stream)
    for i in range(keys.shape[0]):
        out[i] = categorical(key_base(skey, keys[i]), draw, table, row)


@jit
def bits_array(seed, stream, keys, draw, out):  # type: ignore[no-untyped-def]
    skey = stream_key(seed, stream)
    for i in range(keys.shape[0]):
        out[i] = bits(key_base(skey, keys[i]), draw)
