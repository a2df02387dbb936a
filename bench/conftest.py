"""Benchmark fixtures: a warm-up that keeps compile time out, and a summary of the figures.

Each test records its figures twice: in ``benchmark.extra_info`` (so ``--benchmark-json`` keeps
them) and in the session's :class:`Figures`, which ``pytest_terminal_summary`` prints as one table
with the ratios worked out from figures measured in this same run.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from ._measure import PATTERNS, Figures

_KEY = pytest.StashKey[Figures]()


@pytest.fixture(scope="session")
def figures(request: pytest.FixtureRequest) -> Figures:
    stash = request.config.stash
    if _KEY not in stash:
        stash[_KEY] = Figures()
    return stash[_KEY]


@pytest.fixture(scope="session")
def warm() -> None:
    """Compile (or load from the cache) every kernel the in-process benchmarks call."""
    import simtom
    from simtom.engine.arrivals import Arrivals

    simtom.frame("bnpl", n=10, seed=42)
    for pattern in PATTERNS:
        arrivals = Arrivals(simtom.scenario("bnpl", n=10, seed=42, arrival_pattern=pattern))
        arrivals.fill(arrivals.start(), np.empty(10, np.int64))


@pytest.hookimpl(trylast=True)  # after pytest-benchmark's own tables
def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
    if _KEY not in config.stash or not config.stash[_KEY].rows:
        return
    rows = config.stash[_KEY].rows
    widths = [max(len(r[i]) for r in rows) for i in range(4)]
    terminalreporter.section("simtom benchmark summary (best round; ratios from this run)")
    last = None
    for group, label, value, unit in rows:
        shown = group if group != last else ""
        last = group
        terminalreporter.write_line(f"{shown:<{widths[0]}}  {label:<{widths[1]}}  "
                                    f"{value:>{widths[2]}}  {unit}")
