"""The generator registry shared by the polars API, the CLI and the server.

A *block generator* declares its options and output schema and fills a block of records from the
engine's counter-based generator, given the records' numbers and event times.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Mapping
from typing import Any, ClassVar

import numpy as np
import polars as pl

from ._fields import Field, closest
from .config import Scenario, config_schema
from .errors import SimtomError, UnknownGeneratorError

_REGISTRY: dict[str, BlockGenerator] = {}
_LOCK = threading.RLock()
_DISCOVERED = False
_DISCOVERING = False


class BlockGenerator:
    """Base of vectorised generators: subclass, set the class attributes, implement ``fill``."""

    name: ClassVar[str] = ""
    description: ClassVar[str] = ""
    options: ClassVar[tuple[Field, ...]] = ()
    #: Records per block of an unpaced stream (None: the stream's default). Generators that are
    #: slow per record (record generators) use smaller blocks so the first bytes go out sooner.
    stream_batch: ClassVar[int | None] = None
    #: Measured numeric fields, which noise may touch, and the decimals each is rounded to
    #: after it (None: unrounded). Empty: the float columns.
    measured: ClassVar[Mapping[str, int | None]] = {}
    #: Drift targets the generator implements in ``fill`` (reading ``simtom.drift.plan``):
    #: any of covariate, prior, concept. Empty: the engine drifts the measured fields' level.
    drift_targets: ClassVar[tuple[str, ...]] = ()

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

    def identity(self) -> tuple[str, str]:
        """What makes two registrations the same generator: the defining module and class."""
        cls = type(self)
        return (cls.__module__, cls.__qualname__)


def register(generator: BlockGenerator) -> BlockGenerator:
    """Add a generator under its ``name``; a name taken by another generator is an error.

    Registering the same generator again (a module imported twice, or reloaded) replaces it.
    """
    name = generator.name
    if not name or not isinstance(name, str):
        msg = f"generator name: got {name!r}; allowed: a non-empty string"
        raise SimtomError(msg)
    with _LOCK:
        taken = _REGISTRY.get(name)
        if taken is not None and taken.identity() != generator.identity():
            msg = (f"generator name: {name!r} is already registered by "
                   f"{'.'.join(taken.identity())}; allowed: a name not taken ("
                   f"{', '.join(sorted(_REGISTRY))} are)")
            raise SimtomError(msg)
        _REGISTRY[name] = generator
    return generator


def unregister(name: str) -> None:
    """Remove a generator (tests and interactive sessions that redefine one)."""
    with _LOCK:
        _REGISTRY.pop(name, None)


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
    """Find the generators, once: modules under simtom/generators/, then entry points."""
    global _DISCOVERED, _DISCOVERING
    if _DISCOVERED:
        return
    with _LOCK:  # other threads wait here until discovery is complete
        if _DISCOVERED or _DISCOVERING:  # done, or a module being discovered looks one up
            return
        _DISCOVERING = True
        try:
            from .core.registry import discover_generators, load_entry_points

            discover_generators("simtom.generators")
            load_entry_points()
        finally:
            _DISCOVERED = True
            _DISCOVERING = False
