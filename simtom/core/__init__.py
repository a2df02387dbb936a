"""The original simtom's Python API (``simtom.core.generator``, ``simtom.core.registry``).

Thin layers over the engine, in the interfaces layer at the top: a
:class:`~simtom.core.generator.GeneratorConfig` converts to a
:class:`~simtom.spec.scenario.Scenario`, a :class:`~simtom.core.generator.BaseGenerator`
streams the engine's blocks as dicts (its record generators run through
``simtom.engine.records``), and the
:class:`~simtom.core.registry.PluginRegistry` is a view of the engine's one registry, whose
discovery it adapts rather than owns.

May import every layer below (``outputs``, ``engine``, ``spec``, ``errors``); nothing below
imports it.
"""
