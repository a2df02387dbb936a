"""Data-quality faults applied to blocks: noise on measured values, missing values.

Both are off by default and touch only the fields they name: every other column of a block is
the clean run's, byte for byte. Draws come from the kernels' counter-based generator keyed by
(seed, field, record), so a record's faults are the same whatever the block size.

Measured fields are what a generator declares in ``measured`` (field -> decimals to round to,
None to leave unrounded); by default its float columns. Noise never touches anything else (ids,
labels, booleans, ``_`` fields); missing values go to ``missing_fields`` (default: the measured
fields), any of the generator's own fields.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping

import numpy as np
import polars as pl
from simtom_kernels import faults as K

from simtom.errors import ConfigError
from simtom.spec.scenario import Scenario
from simtom.spec.traits import GeneratorTraits

NOISE_KINDS = {"gaussian": K.NOISE_GAUSSIAN, "uniform": K.NOISE_UNIFORM,
               "outliers": K.NOISE_OUTLIERS}


def field_stream(purpose: str, name: str) -> np.int64:
    """A random stream per (purpose, field name): stable across versions and processes."""
    digest = hashlib.blake2b(f"{purpose}:{name}".encode(), digest_size=7).digest()
    return np.int64(int.from_bytes(digest, "little"))


def measured_fields(generator: GeneratorTraits, schema: pl.Schema) -> dict[str, int | None]:
    declared: Mapping[str, int | None] = generator.measured
    if declared:
        return {name: d for name, d in declared.items() if name in schema}
    return {name: None for name, dtype in schema.items()
            if dtype.is_float() and not name.startswith("_")}


class Faults:
    """The faults of one scenario, ready to apply to its blocks."""

    def __init__(self, scenario: Scenario, generator: GeneratorTraits, schema: pl.Schema) -> None:
        self.seed = np.int64(scenario.seed)
        self.measured = measured_fields(generator, schema)
        self.kind = NOISE_KINDS.get(scenario.noise_type, 0)
        self.level = float(scenario.noise_level)
        self.noise_fields = list(self.measured) if self.kind else []
        self.rate = float(scenario.missing_rate)
        names = scenario.missing_fields
        if names is None:
            names = tuple(self.measured) if self.rate > 0 else ()
        own = [n for n in schema if not n.startswith("_")]
        for name in names:
            if name not in own:
                raise ConfigError("missing_fields", name,
                                  f"fields of generator {generator.name!r}: {', '.join(own)}")
        self.missing_fields = list(names)
        self.schema = schema

    @property
    def active(self) -> bool:
        return bool(self.noise_fields or self.missing_fields)

    def apply(self, frame: pl.DataFrame, first: int) -> pl.DataFrame:
        """Records ``first ..`` of ``frame`` with their faults."""
        n = frame.height
        updates: list[pl.Series] = []
        for name in self.noise_fields:
            s = frame[name]
            values = np.ascontiguousarray(s.cast(pl.Float64).to_numpy(), dtype=np.float64)
            out = np.empty(n)
            K.noise(self.seed, field_stream("noise", name), np.int64(first), self.kind,
                    self.level, values, out)
            noisy = pl.Series(name, out, nan_to_null=True)
            decimals = self.measured[name]
            if s.dtype.is_integer():
                noisy = noisy.round(0).cast(s.dtype)
            elif decimals is not None:
                noisy = noisy.round(decimals)
            updates.append(noisy.cast(s.dtype))
        if updates:
            frame = frame.with_columns(updates)
        if self.missing_fields:
            mask = np.empty(n, np.bool_)
            exprs = []
            for name in self.missing_fields:
                K.missing(self.seed, field_stream("missing", name), np.int64(first), self.rate,
                          mask)
                exprs.append(pl.when(pl.lit(pl.Series(mask.copy()))).then(None)
                             .otherwise(pl.col(name)).alias(name))
            frame = frame.with_columns(exprs)
        return frame


__all__ = ["Faults", "field_stream", "measured_fields"]
