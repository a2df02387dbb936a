"""Serving: the HTTP server and the resumable byte streams behind it.

- ``streams``: a scenario's records as SSE or NDJSON bytes, paced or unpaced, resumable from an
  event id (``open_stream``; also behind ``simtom stream``).
- ``event_ids``: SSE event ids, parsed and range-checked field by field.
- ``budget``: memory in bytes: a stream's block and slice sizes, the server's admission (503).
- ``deadline``: send deadlines: a client that accepts no bytes for too long is dropped.
- ``metrics``: ``GET /metrics`` in the Prometheus text format.
- ``precompile``: on a fresh Numba cache, the encoder compiles in a child process.
- ``server``: the Starlette app (``create_app``), its settings, kernel warm-up and ``serve``.
- ``openapi``: the OpenAPI document.
- ``_http``: query strings and size-limited JSON bodies as configurations.
- ``_malloc``: giving freed memory back to the operating system.

May import: ``simtom.outputs``, ``simtom.engine``, ``simtom.spec``, ``simtom.errors``,
``simtom._version``. Not the interfaces (``simtom.cli``, ``simtom.core``, ``simtom.generators``).
"""
