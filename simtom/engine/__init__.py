"""The engine: a Scenario's records as blocks of columns, from any position.

- ``blocks``: ``Position`` (where a stream is) and ``Block`` (what the engine hands on).
- ``arrivals``: event times from the traffic pattern, window by window.
- ``generator``: ``BlockGenerator``, the interface a generator implements.
- ``registry``: names to generators, and plugin discovery (built-ins, the plugin folder,
  entry points).
- ``records``: record generators (one dict at a time, the original's style) run in blocks.
- ``delivery``: late and duplicated records, in one total delivery order.
- ``engine``: ``Engine``, which ties them together block by block.

May import: ``simtom.spec``, ``simtom.errors``, ``simtom_kernels``. Never the built-in
generators, the outputs, the server or the interfaces (discovery finds generators by module
name, and they register themselves).
"""
