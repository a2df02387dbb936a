"""simtom: vectorised synthetic-data simulator for testing ML systems.

The public surface, re-exported from the layers below (see the README's "How it works"):
``spec`` (what to generate) -> ``engine`` (blocks) -> ``outputs`` (frames, files, async
streams) and ``bnpl`` (the built-in generator) -> ``serving`` (the HTTP server) -> ``cli``,
``core`` and ``generators`` (the command and the original simtom's API). Nothing inside the
package imports this module.
"""

from __future__ import annotations

from simtom._version import __version__
from simtom.engine.generator import BlockGenerator
from simtom.engine.registry import available, register
from simtom.errors import (
    ConfigError,
    NotSupportedError,
    SimtomError,
    UnknownFieldError,
    UnknownGeneratorError,
)
from simtom.outputs.aio import stream, stream_frames
from simtom.outputs.events import events, iter_events
from simtom.outputs.frames import drift_schedule, frame, iter_frames, scenario
from simtom.spec.fields import Field
from simtom.spec.scenario import DEFAULT_START, Scenario

__all__ = [
    "DEFAULT_START",
    "BlockGenerator",
    "ConfigError",
    "Field",
    "NotSupportedError",
    "Scenario",
    "SimtomError",
    "UnknownFieldError",
    "UnknownGeneratorError",
    "__version__",
    "available",
    "drift_schedule",
    "events",
    "frame",
    "iter_events",
    "iter_frames",
    "register",
    "scenario",
    "stream",
    "stream_frames",
]
