"""The original simtom's e-commerce generators: ``bnpl`` (``BNPLGenerator``, ``BNPLConfig``).

Part of the interfaces layer, like ``simtom.generators``.
"""
