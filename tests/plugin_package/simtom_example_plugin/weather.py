"""A block generator registered by importing this module (a module entry point)."""

from __future__ import annotations

from typing import Any

import numpy as np
import polars as pl

import simtom


class Weather(simtom.BlockGenerator):
    name = "weather"
    description = "Hourly temperatures with a daily cycle"

    def schema(self, scenario: simtom.Scenario) -> pl.Schema:
        return pl.Schema({"temperature_c": pl.Float64})

    def fill(self, scenario: simtom.Scenario, prepared: Any, first: int,
             times: np.ndarray) -> pl.DataFrame:
        hours = (times // 3_600_000_000) % 24
        # a record's noise is a function of (seed, record number) alone
        noise = np.array([np.random.default_rng([scenario.seed, k]).normal()
                          for k in range(first, first + len(times))])
        temperature = 12.0 + 6.0 * np.sin((hours - 9) / 24 * 2 * np.pi) + noise
        return pl.DataFrame({"temperature_c": np.round(temperature, 1)})


simtom.register(Weather())
