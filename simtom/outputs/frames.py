"""The polars API: whole DataFrames, or an iterator of them with memory bounded by one block."""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping
from typing import Any

import polars as pl

from simtom.engine.blocks import check_batch_size
from simtom.engine.engine import Engine
from simtom.engine.registry import get
from simtom.errors import ConfigError
from simtom.spec import drift
from simtom.spec.scenario import Scenario, make_scenario

log = logging.getLogger("simtom")

#: Default block size of ``iter_frames`` and of the file writers.
DEFAULT_BATCH = 65_536
#: Block size of ``frame``: big enough to amortise per-block work and run the kernels in
#: parallel chunks, small enough that freed blocks are reused rather than re-faulted.
FRAME_BATCH = 1 << 18


def scenario(name: str, *, n: int | None = None, seed: int | None = None,
             **options: Any) -> Scenario:
    """Validate options into a :class:`Scenario` for bulk output (frames and files).

    A missing ``seed`` is drawn and reported on the result (``.seed``, ``.seed_chosen``).

    Examples
    --------
    >>> import simtom
    >>> s = simtom.scenario("bnpl", n=1000, seed=42, arrival_pattern="poisson")
    >>> s.seed, s.total_records, s.start.isoformat()
    (42, 1000, '2025-01-01T00:00:00+00:00')
    """
    return _scenario(name, n, seed, options)


def _scenario(name: str, n: int | None, seed: int | None, options: Mapping[str, Any],
              *, need_n: bool = True, realtime: bool = False) -> Scenario:
    generator = get(name)
    config = dict(options)
    if options.get("paced"):
        raise ConfigError("paced", True, "false or null: frames and files are always unpaced")
    if seed is not None:
        config["seed"] = seed
    if n is not None:
        if isinstance(n, bool) or not isinstance(n, int) or n < 0:
            raise ConfigError("n", n, "a record count (an integer >= 0)")
        for alias in ("total_records", "max_records"):
            if alias in config and config[alias] != n:
                detail = f"n: got {n!r} but {alias} is {config[alias]!r}; give one of the two"
                raise ConfigError("n", n, f"the same value as {alias}", detail=detail)
        config.pop("max_records", None)
        config["total_records"] = n
    result = make_scenario(name, config, generator.options, realtime=realtime)
    if need_n and result.total_records is None and not result.historical:
        raise ConfigError("n", None, "a record count (an integer >= 0), or a date range "
                          "(start_date and end_date); endless output is "
                          "for streams")
    if result.seed_chosen:
        log.info("simtom: %s seed=%d (chosen; pass seed=%d to repeat)", name, result.seed,
                 result.seed)
    return result


def iter_frames(name: str, *, n: int | None = None, seed: int | None = None,
                batch_size: int = DEFAULT_BATCH, **options: Any) -> Iterator[pl.DataFrame]:
    """Yield DataFrames of ``batch_size`` rows (the last may be shorter).

    Memory stays at one block whatever ``n`` is; concatenated, the frames equal
    :func:`frame` with the same arguments, whatever ``batch_size``.

    Examples
    --------
    >>> import simtom
    >>> [len(f) for f in simtom.iter_frames("bnpl", n=10, seed=42, batch_size=4)]
    [4, 4, 2]
    """
    check_batch_size(batch_size)
    engine = Engine(_scenario(name, n, seed, options))
    frames: Iterator[pl.DataFrame] = (block.frame for block in engine.blocks(
        batch_size=batch_size))
    if engine.delivers:  # the hold-back releases uneven pieces: cut them to batch_size
        frames = rechunk(frames, batch_size)
    yield from frames


def rechunk(frames: Iterator[pl.DataFrame], size: int) -> Iterator[pl.DataFrame]:
    """The rows of ``frames``, in order, as frames of ``size`` rows (the last may be shorter)."""
    held: list[pl.DataFrame] = []
    count = 0
    for frame in frames:
        held.append(frame)
        count += frame.height
        while count >= size:
            whole = pl.concat(held, rechunk=False) if len(held) > 1 else held[0]
            yield whole.slice(0, size)
            rest = whole.slice(size)
            held, count = ([rest], rest.height) if rest.height else ([], 0)
    if count:
        yield pl.concat(held, rechunk=False) if len(held) > 1 else held[0]


def frame(name: str, *, n: int | None = None, seed: int | None = None,
          batch_size: int | None = None, **options: Any) -> pl.DataFrame:
    """Generate ``n`` records of generator ``name`` as one DataFrame.

    Examples
    --------
    >>> import simtom
    >>> df = simtom.frame("bnpl", n=3, seed=42)
    >>> df.select("transaction_id", "_record_id", "_timestamp").rows()[1]
    ('txn_00000001', 1, datetime.datetime(2025, 1, 1, 0, 0, 1, tzinfo=zoneinfo.ZoneInfo(key='UTC')))
    """
    return collect(Engine(_scenario(name, n, seed, options)), batch_size)


def drift_schedule(name: str, *, n: int | None = None, seed: int | None = None,
                   at: Any = None, points: int | None = None, **options: Any) -> pl.DataFrame:
    """The drift schedule of a scenario (the same options as :func:`frame`; ``n`` or a date
    range only set the span that drift's defaults are relative to, and may be left out).

    One row per instant: ``time``, ``drift`` (the expected intensity: strength times the
    schedule's shape) and ``covariate``, ``prior``, ``concept`` (the intensity on each target, 0
    where it does not drift). ``at`` lists the instants (ISO 8601 or datetimes); otherwise
    ``points`` instants (default 101) span the scenario from its start.

    Examples
    --------
    >>> import simtom
    >>> s = simtom.drift_schedule("bnpl", n=3600, seed=1, drift_type="sudden", points=3,
    ...                           drift_targets=["concept"], drift_strength=0.4)
    >>> s.select("drift", "covariate", "concept").rows()
    [(0.0, 0.0, 0.0), (0.4, 0.0, 0.4), (0.4, 0.0, 0.4)]
    """
    s = _scenario(name, n, seed, options, need_n=False)
    return drift.schedule(s, get(name), at=at, points=points)


def collect(engine: Engine, batch_size: int | None = None) -> pl.DataFrame:
    """All of an engine's records (its scenario's total_records) as one DataFrame."""
    total = engine.scenario.total_records
    if total is None and engine.scenario.historical:
        total = FRAME_BATCH
    if batch_size is None:
        size = max(1, min(FRAME_BATCH, total or 0))
    else:
        size = check_batch_size(batch_size)
    frames = [block.frame for block in engine.blocks(batch_size=size)]
    if not frames:
        return engine.schema().to_frame()
    return frames[0] if len(frames) == 1 else pl.concat(frames, rechunk=False)
