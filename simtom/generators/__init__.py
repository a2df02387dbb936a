"""Generators shipped with simtom.

Every public module below this package (at any depth; names starting with ``_`` are skipped) is
imported when simtom first looks up a generator, so a module placed here that registers a
generator (``@register_generator("name")`` or ``simtom.register``) is found without further
wiring — the original simtom's "place it in simtom/generators/ and it is auto-discovered".
"""
