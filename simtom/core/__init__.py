"""The original simtom's Python API (``simtom.core.generator``, ``simtom.core.registry``).

Thin layers over the engine: a :class:`~simtom.core.generator.GeneratorConfig` converts to a
:class:`~simtom.config.Scenario`, a :class:`~simtom.core.generator.BaseGenerator` streams the
engine's blocks as dicts, and the :class:`~simtom.core.registry.PluginRegistry` is a view of the
engine's one registry.
"""
