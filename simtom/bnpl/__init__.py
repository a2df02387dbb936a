"""The built-in BNPL generator: Buy-Now-Pay-Later transactions with risk scores and labels.

- ``model``: the model's figures (shares, thresholds, price shapes) as kernel parameters.
- ``population``: the customer population (strata, rounds, lifetimes) for the kernel.
- ``generator``: ``BNPLBlocks``, the feature kernel over blocks, its calibration and columns.
- ``columns``: kernel rows as Arrow-backed polars columns (nullable ones, id strings).
- ``lifecycle``: the event log's columns from the events kernel.

Importing the package registers the generator as ``bnpl`` (the engine's registry imports it by
name on the first lookup). May import: ``simtom.engine``, ``simtom.spec``, ``simtom.errors``,
``simtom_kernels``. Not the outputs, the server or the interfaces, nor is it imported by them
except by name.
"""

from __future__ import annotations

from simtom.bnpl.generator import BNPLBlocks
from simtom.engine.registry import register

#: The registered BNPL generator (the original's ``BNPLGenerator.blocks``).
BNPL = register(BNPLBlocks())

__all__ = ["BNPL", "BNPLBlocks"]
