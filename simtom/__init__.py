"""simtom: vectorised synthetic-data simulator for testing ML systems."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

from ._fields import Field
from .aio import stream, stream_frames
from .config import DEFAULT_START, Scenario
from .errors import (
    ConfigError,
    NotSupportedError,
    SimtomError,
    UnknownFieldError,
    UnknownGeneratorError,
)
from .frames import drift_schedule, frame, iter_frames, scenario
from .registry import BlockGenerator, available, register

try:
    __version__ = version("simtom")
except PackageNotFoundError:  # pragma: no cover - running from a bare source tree
    __version__ = "0.0.0"

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
    "frame",
    "iter_frames",
    "register",
    "scenario",
    "stream",
    "stream_frames",
]
