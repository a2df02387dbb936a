"""The original simtom's generator modules, and the folder where plugins are found.

``simtom.generators.ecommerce.bnpl`` keeps the original's ``BNPLGenerator`` and ``BNPLConfig``
(handles of the built-in ``simtom.bnpl``). Every public module below this package (at any depth;
names starting with ``_`` are skipped) is imported when simtom first looks up a generator
(``simtom.engine.registry`` scans it by name), so a module placed here that registers a
generator (``@register_generator("name")`` or ``simtom.register``) is found without further
wiring — the original simtom's "place it in simtom/generators/ and it is auto-discovered".

An interfaces-layer package: it may import ``simtom.core`` and every layer below; nothing below
imports it.
"""
