"""The arrival kernel: simulated event times in fixed windows of simulated time.

Time is cut into windows of ``window_us`` microseconds on the absolute epoch grid (window ``w``
covers ``[w * window_us, (w + 1) * window_us)``). Each window's count is a Poisson draw keyed by
the window index, with mean ``expected[w]`` = base × hour-of-day profile × burst multiplier, and
its arrival offsets are the normalised cumulative sums of ``count + 1`` exponentials (the order
statistics of ``count`` uniforms, already sorted, in O(count) with no scratch memory). So the
process is an exact (non-homogeneous, piecewise-constant) Poisson process, and any window can be
computed on its own: a position in the stream is just ``(window, index inside the window)``.

Window lengths divide one hour, so hour-of-day profiles are constant inside a window.
"""

from __future__ import annotations

import math

import numpy as np

from ._jit import helper, jit
from .rng import exponential, key_base, poisson, stream_key, uniform

# Constant arguments of helper calls are written i64(3), not 3: Numba would otherwise compile a
# separate Literal[int](3) specialisation of the helper for every distinct constant.
i64 = np.int64

# Streams of the counter-based generator used for arrivals.
STREAM_COUNT = i64(101)
STREAM_OFFSET = i64(102)
STREAM_BURST = i64(103)

US_PER_HOUR = i64(3_600_000_000)
US_PER_DAY = i64(86_400_000_000)


@helper
def window_mean(w, window_us, base_mean, hour_profile, burst_key, burst_probability,
                burst_high, burst_low, day0, day_factors):  # type: ignore[no-untyped-def]
    """Expected count of window ``w``: base × profile of its hour × burst multiplier × the
    factor of its day (``day_factors[d - day0]`` for epoch day ``d``; none if the table is
    empty, 0 outside it)."""
    start = w * window_us
    hour = (start % US_PER_DAY) // US_PER_HOUR
    mean = base_mean * hour_profile[hour]
    if day_factors.shape[0] > 0:
        d = start // US_PER_DAY - day0
        mean = mean * day_factors[d] if 0 <= d < day_factors.shape[0] else 0.0
    if burst_probability > 0.0:
        if uniform(key_base(burst_key, w), i64(0)) < burst_probability:
            mean *= burst_high
        else:
            mean *= burst_low
    return mean


@jit
def window_counts(seed, w0, counts, window_us, base_mean, hour_profile,
                  burst_probability, burst_high, burst_low, day0,
                  day_factors):  # type: ignore[no-untyped-def]
    """Fill ``counts[j]`` with the count of window ``w0 + j`` (before trimming to a start time)."""
    ckey = stream_key(seed, STREAM_COUNT)
    bkey = stream_key(seed, STREAM_BURST)
    for j in range(counts.shape[0]):
        w = w0 + j
        mean = window_mean(w, window_us, base_mean, hour_profile, bkey, burst_probability,
                           burst_high, burst_low, day0, day_factors)
        counts[j] = poisson(key_base(ckey, w), mean)


@jit
def arrivals(seed, start_us, window, index, out, slots, window_us, base_mean, hour_profile,
             burst_probability, burst_high, burst_low, day0, day_factors,
             end_window):  # type: ignore[no-untyped-def]
    """Fill ``out`` with the next ``out.shape[0]`` event times (int64 µs), in order.

    The stream position is ``(window, index)``: the next event is the ``index``-th of window
    ``window``. Events before ``start_us`` are skipped (the first window may begin before the
    scenario's start). ``slots[k]`` receives event k's index inside its window (its window is
    ``out[k] // window_us``), so the position just after any event is known: a stream can
    resume there. ``day_factors`` scale the days from epoch day ``day0`` (a calendar; empty:
    none). A range ends before window ``end_window`` (-1: no end): then fewer events may be
    written. Returns the position after the last event written and how many were written.
    """
    ckey = stream_key(seed, STREAM_COUNT)
    okey = stream_key(seed, STREAM_OFFSET)
    bkey = stream_key(seed, STREAM_BURST)
    n = out.shape[0]
    filled = 0
    w = window
    i = index
    span = float(window_us)
    while filled < n:
        if 0 <= end_window <= w:
            break
        mean = window_mean(w, window_us, base_mean, hour_profile, bkey, burst_probability,
                           burst_high, burst_low, day0, day_factors)
        count = poisson(key_base(ckey, w), mean)
        if i < count:
            obase = key_base(okey, w)
            total = 0.0
            for j in range(count + 1):
                total += exponential(obase, j)
            scale = span / total
            w_start = w * window_us
            acc = 0.0
            for j in range(count):
                acc += exponential(obase, j)
                if j < i:
                    continue
                t = w_start + np.int64(math.floor(acc * scale))
                i = j + 1
                if t < start_us:
                    continue
                out[filled] = t
                slots[filled] = j
                filled += 1
                if filled == n:
                    break
        if i >= count:
            w += 1
            i = 0
    return w, i, filled


@jit
def uniform_arrivals(start_us, period_us, first, out):  # type: ignore[no-untyped-def]
    """Fixed spacing: event ``k`` is at ``start + floor(k * period)``, exactly."""
    for j in range(out.shape[0]):
        out[j] = start_us + np.int64(math.floor((first + j) * period_us))
