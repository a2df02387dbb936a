"""What the scenario layer reads of a generator: its name, drift targets and measured fields.

Drift plans and faults are resolved per generator, but the generators themselves live in the
layers above (``simtom.engine.generator.BlockGenerator`` and its subclasses): this protocol is
the part of them that ``drift`` and ``faults`` may use.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Protocol


class GeneratorTraits(Protocol):
    """A generator's declarations that drift and faults depend on."""

    @property
    def name(self) -> str:
        """The registered name (in error messages)."""
        ...

    @property
    def drift_targets(self) -> tuple[str, ...]:
        """Drift targets the generator implements itself (empty: level drift by the engine)."""
        ...

    @property
    def measured(self) -> Mapping[str, int | None]:
        """Measured fields that noise may touch, with their decimals (empty: float columns)."""
        ...


__all__ = ["GeneratorTraits"]
