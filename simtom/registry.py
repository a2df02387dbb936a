"""The generator registry shared by the polars API, the CLI and the server.

A *block generator* declares its options and output schema and fills a block of records from the
engine's counter-based generator, given the records' numbers and event times.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, ClassVar

import numpy as np
import polars as pl

from ._fields import Field, closest
from .config import Scenario, config_schema
from .errors import SimtomError, UnknownGeneratorError

_REGISTRY: dict[str, BlockGenerator] = {}


class BlockGenerator:
    """Base of vectorised generators: subclass, set the class attributes, implement ``fill``."""

    name: ClassVar[str] = ""
    description: ClassVar[str] = ""
    options: ClassVar[tuple[Field, ...]] = ()

    def prepare(self, scenario: Scenario) -> Any:
        """Per-scenario work done once (tables, calibration); passed back to ``fill``."""
        return None

    def schema(self, scenario: Scenario) -> pl.Schema:
        """Columns and dtypes of a block (before the engine's ``_`` columns)."""
        raise NotImplementedError

    def fill(
        self, scenario: Scenario, prepared: Any, first: int, times: np.ndarray
    ) -> pl.DataFrame:
        """Records ``first .. first + len(times) - 1`` with event times ``times`` (µs)."""
        raise NotImplementedError

    def config_schema(self) -> dict[str, Any]:
        return config_schema(self.options, title=f"{self.name} configuration")


def register(generator: BlockGenerator) -> BlockGenerator:
    """Add a generator under its ``name``; a taken name is an error."""
    name = generator.name
    if not name or not isinstance(name, str):
        msg = f"generator name: got {name!r}; allowed: a non-empty string"
        raise SimtomError(msg)
    if name in _REGISTRY and type(_REGISTRY[name]) is not type(generator):
        msg = f"generator name: {name!r} is already registered by {type(_REGISTRY[name]).__name__}"
        raise SimtomError(msg)
    _REGISTRY[name] = generator
    return generator


def get(name: str) -> BlockGenerator:
    """The generator registered under ``name``; UnknownGeneratorError (404) otherwise."""
    _load_builtins()
    try:
        return _REGISTRY[name]
    except KeyError:
        available = sorted(_REGISTRY)
        err = UnknownGeneratorError(name, available)
        near = closest(name, available)
        if near:
            err.args = (f"{err}; did you mean {near!r}?",)
        raise err from None


def available() -> list[str]:
    """Names of the registered generators, sorted."""
    _load_builtins()
    return sorted(_REGISTRY)


def generators() -> Iterator[BlockGenerator]:
    for name in available():
        yield _REGISTRY[name]


def _load_builtins() -> None:
    from . import generators  # noqa: F401  (registers the built-in generators on import)
