"""simtom's benchmarks (run with ``uv run pytest bench``); a package so its module names are
``bench.*`` and never collide with ``tests/``."""
