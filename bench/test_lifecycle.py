"""Lifecycle benchmarks: the event log against the plain frame, measured in the same run.

``simtom.events`` of 1M applications (about 3.8M events): events/s and applications/s, and its
applications/s as a ratio of ``simtom.frame``'s rows/s (the frame benchmark of
``test_engine.py`` in the same session; run both: ``uv run pytest bench -k "frame_simtom or
lifecycle"``).
"""

from __future__ import annotations

from typing import Any

import pytest

import simtom

from ._measure import Figures, best_seconds

N = 1_000_000


@pytest.fixture(scope="module")
def warm_events() -> None:
    simtom.events("bnpl", n=300_000, seed=1)  # the parallel kernels compiled or loaded


@pytest.mark.benchmark(group="lifecycle")
def test_lifecycle_events(benchmark: Any, figures: Figures, warm_events: None) -> None:
    log = benchmark.pedantic(simtom.events, args=("bnpl",), kwargs={"n": N, "seed": 42},
                             rounds=3, warmup_rounds=0)
    events = log.height
    assert (log["event_type"] == "application").sum() == N
    best = best_seconds(benchmark)
    if best:
        figures.add("lifecycle.events_per_s", "lifecycle",
                    f"simtom.events, 1M applications ({events / N:.2f} events each)",
                    events / best, "events/s", benchmark=benchmark)
        figures.add("lifecycle.applications_per_s", "lifecycle",
                    "simtom.events, applications", N / best, "applications/s",
                    benchmark=benchmark)
        figures.ratio("lifecycle.vs_frame", "lifecycle",
                      "events' applications/s ÷ simtom.frame rows/s",
                      "lifecycle.applications_per_s", "frame.simtom_rows_per_s", benchmark,
                      fmt="{:,.2f}")


@pytest.mark.benchmark(group="lifecycle")
def test_lifecycle_iter_events(benchmark: Any, figures: Figures, warm_events: None) -> None:
    def run() -> int:
        return sum(p.height for p in simtom.iter_events("bnpl", n=N, seed=42,
                                                        batch_size=65_536))

    events = benchmark.pedantic(run, rounds=3, warmup_rounds=0)
    assert events > N
    best = best_seconds(benchmark)
    if best:
        figures.add("lifecycle.iter_events_per_s", "lifecycle",
                    "simtom.iter_events, 1M applications, 65,536 a block", events / best,
                    "events/s", benchmark=benchmark)
