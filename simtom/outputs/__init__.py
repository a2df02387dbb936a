"""Outputs: how blocks leave the engine in one process.

- ``frames``: polars DataFrames (``frame``, ``iter_frames``, ``scenario``, ``drift_schedule``).
- ``events``: the lifecycle's event log (``events``, ``iter_events``), for generators with one.
- ``files``: parquet, csv, ndjson and Arrow IPC files, one block at a time.
- ``encode``: NDJSON and Server-Sent Events bytes, by one Numba kernel per block.
- ``dicts``: Python dicts (what each NDJSON line parses to), made by ``pickle.loads``.
- ``pacer``: time compression: hands out each record when it is due in wall-clock time.
- ``batching``: how many records a stream's blocks hold.
- ``aio``: async streams of dicts and DataFrames, paced or not (``simtom.stream``).

May import: ``simtom.engine``, ``simtom.spec``, ``simtom.errors``, ``simtom_kernels``. Not the
built-in generators (looked up by name in the registry), the server or the interfaces.
"""
