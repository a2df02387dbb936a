"""Arrival statistics: each pattern is the process it claims to be, within sampling error.

Goodness-of-fit tests use fixed seeds and reject at p < 0.001: with a correct process the tests
pass for 999 seeds in 1000, and a wrong process (a different rate, profile or dispersion) is
rejected with certainty at these sample sizes.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats
from simtom_kernels import arrivals as A

import simtom
from simtom.engine.arrivals import Arrivals, hour_profile

US = 1_000_000


def times(n: int, **options) -> np.ndarray:
    scenario = simtom.scenario("bnpl", n=n, seed=options.pop("seed", 11), **options)
    arrivals = Arrivals(scenario)
    out = np.empty(n, np.int64)
    arrivals.fill(arrivals.start(), out)
    return out


def test_poisson_gaps_are_exponential():
    rate = 3.0
    t = times(50_000, arrival_pattern="poisson", rate_per_second=rate)
    gaps = np.diff(t) / US
    assert stats.kstest(gaps, "expon", args=(0, 1 / rate)).pvalue > 1e-3
    # and the rate is the requested one: the count in the elapsed time is Poisson
    elapsed = (t[-1] - t[0]) / US
    assert abs(len(t) - rate * elapsed) <= 4 * math.sqrt(rate * elapsed)


def test_poisson_counts_in_fixed_intervals_are_poisson():
    rate = 5.0
    t = times(100_000, arrival_pattern="poisson", rate_per_second=rate)
    counts = np.bincount(((t - t[0]) // (2 * US))[:-1].astype(np.int64))[:-1]
    dispersion = counts.var() / counts.mean()
    # var/mean of Poisson counts is 1 with standard error sqrt(2 / (bins - 1))
    assert abs(dispersion - 1) <= 4.5 * math.sqrt(2 / (len(counts) - 1))


def test_nhpp_hourly_counts_follow_the_profile():
    rate = 0.5
    days = 14
    n = int(rate * 86400 * days)
    t = times(n, arrival_pattern="nhpp", rate_per_second=rate, peak_hours=[12, 19])
    whole = t[t < t[0] - t[0] % (86400 * US) + days * 86400 * US]
    hours = (whole // (3600 * US)) % 24
    observed = np.bincount(hours, minlength=24)
    profile = hour_profile(simtom.scenario("bnpl", n=1, seed=1, arrival_pattern="nhpp"))
    expected = profile / profile.sum() * observed.sum()
    assert stats.chisquare(observed, expected).pvalue > 1e-3
    assert observed[12] > 20 * observed[3]  # peak ×5 vs night ×0.2


def test_nhpp_profile_values_and_custom_peaks():
    p = hour_profile(simtom.scenario("bnpl", n=1, seed=1, arrival_pattern="nhpp",
                                     peak_hours=[9]))
    assert p.mean() == pytest.approx(1.0)
    raw = p / p[0]
    assert raw[3] == pytest.approx(0.2) and raw[9] == pytest.approx(5.0)
    assert raw[13] == pytest.approx(3.0) and raw[20] == pytest.approx(4.0)
    assert raw[8] == pytest.approx(2.0) and raw[22] == pytest.approx(1.0)


def test_burst_counts_are_overdispersed_with_the_same_mean_rate():
    rate, intensity, prob = 20.0, 3.0, 0.6
    n = 400_000
    t = times(n, arrival_pattern="burst", rate_per_second=rate, burst_intensity=intensity,
              burst_probability=prob)
    scenario = simtom.scenario("bnpl", n=1, seed=1, arrival_pattern="burst",
                               rate_per_second=rate)
    window = Arrivals(scenario).window_us
    counts = np.bincount(((t - t[0]) // window).astype(np.int64))[1:-1]
    assert counts.var() / counts.mean() > 5
    # mean rate: expected windows' mean is rate × window; the standard error of the mean of
    # window counts comes from their own variance
    mean_expected = rate * window / US
    assert abs(counts.mean() - mean_expected) <= 4.5 * counts.std() / math.sqrt(len(counts))
    # the Poisson pattern at the same rate is not over-dispersed
    tp = times(n, arrival_pattern="poisson", rate_per_second=rate)
    cp = np.bincount(((tp - tp[0]) // window).astype(np.int64))[1:-1]
    assert cp.var() / cp.mean() < 1.2


def test_uniform_spacing_is_exact():
    rate = 3.0
    t = times(30_000, arrival_pattern="uniform", rate_per_second=rate)
    start = simtom.DEFAULT_START.timestamp() * US
    k = np.arange(30_000)
    assert np.array_equal(t, (start + np.floor(k * (US / rate))).astype(np.int64))
    assert set(np.diff(t)) <= {333_333, 333_334}


def test_time_compression_scales_simulated_time():
    t1 = times(5_000, arrival_pattern="poisson", rate_per_second=10)
    t24 = times(5_000, arrival_pattern="poisson", rate_per_second=10, time_compression=24)
    span1, span24 = t1[-1] - t1[0], t24[-1] - t24[0]
    assert 20 < span24 / span1 < 28


@pytest.mark.parametrize("pattern", ["poisson", "nhpp", "burst"])
def test_times_are_sorted_and_start_at_the_start(pattern):
    t = times(20_000, arrival_pattern=pattern, rate_per_second=7.0,
              start_time="2024-05-05T10:17:03.5Z")
    assert np.all(np.diff(t) >= 0)
    start = int(simtom.scenario("bnpl", n=1, seed=1, start_time="2024-05-05T10:17:03.5Z")
                .start_us)
    assert t[0] >= start and t[0] - start < 10 * US


def test_any_window_range_is_computable_on_its_own():
    scenario = simtom.scenario("bnpl", n=1, seed=5, arrival_pattern="burst", rate_per_second=40)
    arr = Arrivals(scenario)
    w0 = arr.start_us // arr.window_us
    counts = np.empty(500, np.int64)
    A.window_counts(arr.seed, w0, counts, arr.window_us, arr.base_mean, arr.profile,
                    arr.burst_probability, arr.burst_high, arr.burst_low, arr.day0,
                    arr.day_factors)
    # the same windows computed from the middle: counts of windows 200.. alone
    tail = np.empty(300, np.int64)
    A.window_counts(arr.seed, w0 + 200, tail, arr.window_us, arr.base_mean, arr.profile,
                    arr.burst_probability, arr.burst_high, arr.burst_low, arr.day0,
                    arr.day_factors)
    assert np.array_equal(tail, counts[200:])
    # and they are the counts the sequential event stream has in those windows
    total = int(counts.sum())
    out = np.empty(total, np.int64)
    arr.fill(arr.start(), out)
    per_window = np.bincount((out // arr.window_us - w0).astype(np.int64), minlength=500)
    assert np.array_equal(per_window[:500], counts)
