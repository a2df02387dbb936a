"""simtom's version, from the installed distribution's metadata (a module of its own, so the
layers that report it need not import the ``simtom`` package's public surface)."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("simtom")
except PackageNotFoundError:  # pragma: no cover - running from a bare source tree
    __version__ = "0.0.0"

__all__ = ["__version__"]
