"""Controlled drift: the schedule of a scenario, and what it moves.

A scenario's drift is a deterministic function of simulated time (``simtom_kernels.drift``): its
``drift_type`` gives the shape, ``drift_start`` / ``drift_duration`` / ``drift_period`` the time
scale (resolved by ``config.make_scenario``, relative to the scenario's span unless given),
``drift_strength`` the size and ``drift_targets`` what moves:

* covariate: feature distributions (for BNPL: price level, category, device and risk-scenario
  mix, economic stress), with the feature -> label relationship unchanged;
* prior: the label's base rate (for BNPL: the odds of default), nothing else;
* concept: how features relate to the label (for BNPL: which observed factors drive default),
  with the features' distribution and the base rate unchanged.

A generator that implements drift itself lists its targets in ``drift_targets``; for any other
generator the engine applies covariate drift to its measured fields (their level times
``1 + intensity``, or divided by ``1 + |intensity|`` below zero).

The schedule is recorded: :func:`schedule` gives the intensity on each target at any instants
(``simtom.drift_schedule``, ``GET /drift/{name}``, ``simtom drift``), and ``drift_column`` adds
each record's own intensity as ``_drift``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import polars as pl
from simtom_kernels import drift as K

from simtom.errors import ConfigError
from simtom.spec.fields import Field
from simtom.spec.scenario import DRIFT_TARGETS, Scenario, span_seconds
from simtom.spec.traits import GeneratorTraits

KINDS = {"none": K.NONE, "linear": K.LINEAR, "seasonal": K.SEASONAL, "sudden": K.SUDDEN,
         "gradual": K.GRADUAL}
#: Instants of a schedule when none are asked for.
DEFAULT_POINTS = 101
MAX_POINTS = 100_000


def _us(moment: dt.datetime) -> int:
    delta = moment - dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc)
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


@dataclass(frozen=True)
class Plan:
    """A scenario's drift, resolved for its generator: kind code, start (µs), time scale (µs),
    strength and the targets that move."""

    kind: int
    t0_us: int
    scale_us: float
    strength: float
    targets: tuple[str, ...]

    @property
    def active(self) -> bool:
        return self.kind != K.NONE and self.strength > 0

    def on(self, target: str) -> float:
        """The strength on ``target`` (0 when it does not drift)."""
        return self.strength if self.active and target in self.targets else 0.0

    def intensities(self, seed: int, first: int, times: np.ndarray) -> np.ndarray:
        """Each record's intensity (records ``first ..`` at event times ``times``)."""
        out = np.empty(times.shape[0])
        K.intensities(np.int64(seed), np.int64(first), times, np.int64(self.kind),
                      np.int64(self.t0_us), self.scale_us, self.strength, out)
        return out


def supported_targets(generator: GeneratorTraits) -> tuple[str, ...]:
    """The targets a generator can drift: its own, or covariate drift of measured fields."""
    own: tuple[str, ...] = tuple(generator.drift_targets)
    return own or ("covariate",)


def plan(scenario: Scenario, generator: GeneratorTraits) -> Plan:
    """Resolve a scenario's drift for ``generator``; ConfigError for a target it lacks."""
    supported = supported_targets(generator)
    targets = scenario.drift_targets
    if targets is None:
        targets = supported
    for target in targets:
        if target not in supported:
            raise ConfigError("drift_targets", list(targets),
                              f"targets generator {generator.name!r} supports: "
                              f"{', '.join(supported)}")
    kind = KINDS[scenario.drift_type]
    if kind == K.NONE:
        return Plan(int(K.NONE), 0, 1.0, 0.0, ())
    assert scenario.drift_start is not None
    seconds = scenario.drift_period if kind == K.SEASONAL else scenario.drift_duration
    scale = 1.0 if seconds is None else seconds * 1e6  # (sudden drift has no time scale)
    return Plan(int(kind), _us(scenario.drift_start), max(scale, 1.0),
                float(scenario.drift_strength), tuple(t for t in DRIFT_TARGETS
                                                      if t in targets))


class LevelDrift:
    """Covariate drift for generators without their own: measured fields' level."""

    def __init__(self, measured: Mapping[str, int | None], schema: pl.Schema) -> None:
        self.fields = {n: d for n, d in measured.items() if n in schema}

    def apply(self, frame: pl.DataFrame, first: int, intensity: np.ndarray) -> pl.DataFrame:
        factor = np.where(intensity >= 0, 1.0 + intensity, 1.0 / (1.0 - intensity))
        updates = []
        for name, decimals in self.fields.items():
            s = frame[name]
            moved = pl.Series(name, s.cast(pl.Float64).to_numpy() * factor, nan_to_null=True)
            if s.dtype.is_integer():
                moved = moved.round(0)
            elif decimals is not None:
                moved = moved.round(decimals)
            updates.append(moved.cast(s.dtype))
        return frame.with_columns(updates) if updates else frame


def schedule(scenario: Scenario, generator: GeneratorTraits, *,
             at: Sequence[Any] | None = None, points: int | None = None) -> pl.DataFrame:
    """The drift schedule: at each instant, the expected intensity overall and per target.

    ``at``: instants (datetimes or ISO strings); otherwise ``points`` instants evenly over the
    scenario's span (default 101). Gradual drift's intensity is the expected one (strength ×
    the share of records from the new concept); every other kind's is every record's.
    """
    p = plan(scenario, generator)
    if at is not None and points is not None:
        raise ConfigError("points", points, "null when instants are given with at")
    if at is not None:
        if isinstance(at, (str, bytes)) or not hasattr(at, "__iter__"):
            raise ConfigError("at", at, "a list of ISO 8601 instants")
        spec = Field("at", "instant", None, "")
        moments = []
        for value in at:
            moment = spec.validate(value)
            if moment == "now":
                raise ConfigError("at", value, "ISO 8601 instants of simulated time")
            moments.append(moment)
        if len(moments) > MAX_POINTS:
            raise ConfigError("at", f"{len(moments)} instants", f"at most {MAX_POINTS}")
        times = np.array([_us(m) for m in moments], dtype=np.int64)
    else:
        count = DEFAULT_POINTS if points is None else points
        if isinstance(count, bool) or not isinstance(count, int) or not 2 <= count <= MAX_POINTS:
            raise ConfigError("points", count, f"an integer from 2 to {MAX_POINTS}")
        values = {"end_date": scenario.end_date, "total_records": scenario.total_records,
                  "time_compression": scenario.time_compression,
                  "rate_per_second": scenario.rate_per_second}
        span_us = span_seconds(values, scenario.start) * 1e6
        times = scenario.start_us + np.round(np.linspace(0.0, span_us, count)).astype(np.int64)
        if scenario.end_us is not None:  # the last instant inside the range
            times[-1] = min(int(times[-1]), scenario.end_us - 1)
    expected = np.empty(times.shape[0])
    K.schedule(times, np.int64(p.kind), np.int64(p.t0_us), p.scale_us, p.strength, expected)
    columns: dict[str, Any] = {
        "time": pl.Series(times).cast(pl.Datetime("us", "UTC")),
        "drift": expected,
    }
    for target in DRIFT_TARGETS:
        columns[target] = expected if target in p.targets else np.zeros(times.shape[0])
    return pl.DataFrame(columns)


def schedule_rows(table: pl.DataFrame) -> list[dict[str, Any]]:
    """A schedule as JSON-ready rows (times as ISO 8601 UTC, as the records' ``_timestamp``)."""
    rows: list[dict[str, Any]] = table.with_columns(
        pl.col("time").dt.to_string("%Y-%m-%dT%H:%M:%S%.6f+00:00")).to_dicts()
    return rows


__all__ = ["LevelDrift", "Plan", "plan", "schedule", "schedule_rows", "supported_targets"]
