"""``python -m simtom``: the ``simtom`` command."""

from __future__ import annotations

from simtom.cli import main

if __name__ == "__main__":
    raise SystemExit(main())
