"""The engine: positions, resume from any block end, and parallel chunks equal to serial runs."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest
from polars.testing import assert_frame_equal
from simtom_kernels import bnpl as K

import simtom
from simtom.bnpl import generator as B
from simtom.engine.blocks import Position
from simtom.engine.engine import Engine


@pytest.mark.parametrize("pattern", ["uniform", "poisson", "nhpp", "burst"])
def test_resume_from_any_block_end_equals_a_straight_run(pattern):
    scenario = simtom.scenario("bnpl", n=4000, seed=77, arrival_pattern=pattern,
                               rate_per_second=25)
    straight = Engine(scenario).block(Engine(scenario).arrivals.start(), 4000).frame
    engine = Engine(scenario)
    rng = np.random.default_rng(0)
    pos = engine.arrivals.start()
    parts = []
    while pos.record < 4000:
        size = int(min(rng.integers(1, 900), 4000 - pos.record))
        block = engine.block(pos, size)
        parts.append(block.frame)
        # continue in a fresh engine from the saved position, as a resumed stream would
        engine = Engine(scenario)
        pos = Position(block.end.record, block.end.window, block.end.index)
    assert_frame_equal(pl.concat(parts), straight)


@pytest.mark.parametrize("pattern", ["uniform", "poisson", "nhpp", "burst"])
def test_resume_after_any_record_from_its_window_and_slot(pattern):
    """A stream can resume just after any record, knowing only the record's number, window and
    slot (what a stream's event ids carry), and gives exactly the straight run's records."""
    scenario = simtom.scenario("bnpl", n=3000, seed=78, arrival_pattern=pattern,
                               rate_per_second=40, start_time="2025-06-01T10:17:23.5Z")
    engine = Engine(scenario)
    straight = engine.block(engine.arrivals.start(), 3000)
    windows = engine.arrivals.windows(straight.times)
    for k in [0, 1, 2, *np.random.default_rng(1).integers(3, 2999, 25).tolist(), 2998]:
        pos = engine.arrivals.after(k, int(windows[k]), int(straight.slots[k]))
        rest = Engine(scenario).block(pos, 3000 - k - 1)
        assert rest.first == k + 1
        assert np.array_equal(rest.times, straight.times[k + 1:])
        assert_frame_equal(rest.frame, straight.frame[k + 1:])


def test_blocks_stop_at_total_records_and_limit():
    engine = Engine(simtom.scenario("bnpl", n=1000, seed=1))
    assert [len(b.frame) for b in engine.blocks(batch_size=300)] == [300, 300, 300, 100]
    assert sum(len(b.frame) for b in engine.blocks(batch_size=300, limit=450)) == 450


def test_chunked_parallel_kernel_equals_serial():
    n = 70_001
    scenario = simtom.scenario("bnpl", n=n, seed=5, arrival_pattern="poisson")
    engine = Engine(scenario)
    times = np.empty(n, np.int64)
    engine.arrivals.fill(engine.arrivals.start(), times)
    p = engine._prepared

    def outputs():
        return (np.zeros((K.N_CODES, n), np.uint8), np.zeros((K.N_INTS, n), np.int64),
                np.zeros((K.N_FLOATS, n)), np.zeros((K.N_FLAGS, n), np.bool_))

    args = (np.int64(5), np.int64(123), times, np.int64(scenario.start_us), p.tables, p.fp, p.ip)
    serial, chunked = outputs(), outputs()
    K.features(*args, *serial)
    K.features_chunked(*args, *chunked, np.int64(9_999))
    for a, b in zip(serial, chunked):
        assert np.array_equal(a, b, equal_nan=True)


def test_large_frames_use_the_parallel_path_and_match_small_blocks():
    n = 2 * B.PARALLEL_CHUNK + 17
    whole = simtom.frame("bnpl", n=n, seed=8)
    pieces = pl.concat(simtom.iter_frames("bnpl", n=n, seed=8, batch_size=5000))
    assert_frame_equal(whole, pieces)
