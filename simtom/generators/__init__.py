"""Built-in generators; importing this package registers them."""

from __future__ import annotations

from . import bnpl  # noqa: F401
