"""simtom's compute core: Numba kernels over numpy arrays (no web, no DataFrame imports).

- ``rng``: the counter-based random generator (every draw a function of seed, stream, key, draw).
- ``arrivals``: event times window by window; ``bnpl``: the BNPL feature, decision and id
  kernels; ``customers``: which customer makes each record, in simulated time; ``hardship``:
  a customer's hardship time under drift; ``repay``: when instalments are paid;
  ``lifecycle``: a block's applications as events.
- ``drift``, ``faults``: drift intensities, noise, missing values, delivery delays.
- ``jsonl``, ``pickles`` (with ``_json_values``): blocks as NDJSON/SSE bytes and as pickles.

May import numpy, numba and the standard library's ``math`` only (``tests/test_layers.py``
and the import-linter contract in ``pyproject.toml`` check it); nothing of ``simtom``.
"""
