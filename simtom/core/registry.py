"""The original simtom's plugin registry, as a view of the engine's one registry.

``PluginRegistry`` maps names to generator *classes* (what the original's users get back from
``get_generator`` and construct with a config); the engine registry (``simtom.engine.registry``)
maps the same names to the block generators that make the records, and keeps what was
registered, so a class registered here comes back from ``get_generator``. A block generator
registered without a class gets one made for it.

Discovery belongs to the engine registry, which this module only exposes under the original's
names: modules under a package (``simtom.generators`` by default, at any depth; names that
start with ``_`` are skipped) are imported so their ``@register_generator`` decorators run, and
installed distributions add generators through the ``simtom.generators`` entry-point group::

    [project.entry-points."simtom.generators"]
    credit_cards = "my_package.cards:CreditCardGenerator"   # a class, registered under the name
    more = "my_package.generators"                          # or a module that registers its own
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any, TypeVar

from simtom.core.generator import BaseGenerator, GeneratorConfig
from simtom.engine import registry as engine_registry
from simtom.engine.generator import BlockGenerator
from simtom.engine.records import RecordBlocks
from simtom.engine.registry import ENTRY_POINT_GROUP
from simtom.errors import UnknownGeneratorError

G = TypeVar("G")

#: Classes made for block generators registered without one (cached, so a name gives the same
#: class each time while its generator stays the same).
_HANDLES: dict[str, type[BaseGenerator]] = {}
_LOCK = threading.RLock()


class PluginRegistry:
    """Names to generator classes: ``list_generators``, ``get_generator``, ``create_generator``,
    ``register``/``register_generator`` and ``discover_generators``, as in the original.

    Examples
    --------
    >>> from simtom.core.registry import PluginRegistry
    >>> "bnpl" in PluginRegistry.list_generators()
    True
    >>> gen = PluginRegistry.create_generator("bnpl", {"seed": 42, "total_records": 2})
    >>> gen.frame().select("transaction_id", "amount").rows()
    [('txn_00000000', 46.21), ('txn_00000001', 176.08)]
    """

    _instance: PluginRegistry | None = None

    def __new__(cls) -> PluginRegistry:  # one registry, as in the original
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    @classmethod
    def register(cls, name: str, generator_class: Any) -> None:
        """Register a generator class (or a BlockGenerator instance) under ``name``."""
        engine_registry.register_as(name, generator_class)

    @classmethod
    def register_generator(cls, name: str) -> Callable[[G], G]:
        """The decorator form of :meth:`register`."""

        def decorator(obj: G) -> G:
            cls.register(name, obj)
            return obj

        return decorator

    @classmethod
    def get_generator(cls, name: str) -> type[BaseGenerator] | None:
        """The class registered under ``name``, or None (as in the original)."""
        try:
            blocks = engine_registry.get(name)
        except UnknownGeneratorError:
            return None
        source = engine_registry.source(name)
        if isinstance(source, type) and issubclass(source, BaseGenerator):
            return source
        if isinstance(blocks, RecordBlocks):
            return blocks.cls  # type: ignore[return-value]  # registered by class: a BaseGenerator
        with _LOCK:
            handle = _HANDLES.get(name)
            if handle is None or handle.blocks is not blocks:
                handle = _HANDLES[name] = _handle(name, blocks)
        return handle

    @classmethod
    def list_generators(cls) -> list[str]:
        """Names of every registered generator, sorted."""
        return engine_registry.available()

    @classmethod
    def create_generator(cls, name: str, config: Any = None, **options: Any) -> BaseGenerator:
        """An instance of generator ``name`` configured by ``config`` (and keyword options).

        An unknown name raises UnknownGeneratorError (a ValueError and a LookupError).
        """
        generator_class = cls.get_generator(name)
        if generator_class is None:
            engine_registry.get(name)  # raises with the available names and a suggestion
            raise AssertionError  # pragma: no cover - get raised
        return generator_class(config, **options)

    @classmethod
    def discover_generators(cls, package_path: str = "simtom.generators") -> list[str]:
        """Import every public module under ``package_path``; return the names they added."""
        return discover_generators(package_path)

    @classmethod
    def unregister(cls, name: str) -> None:
        """Remove a generator."""
        with _LOCK:
            _HANDLES.pop(name, None)
        engine_registry.unregister(name)


def register_generator(name: str) -> Callable[[G], G]:
    """Class decorator registering a record or block generator under ``name``."""
    return PluginRegistry.register_generator(name)


def discover_generators(package_path: str = "simtom.generators") -> list[str]:
    """Import every public module under a package (recursively); return the names added.

    A module that fails to import is logged (with its error) and skipped, so one broken plugin
    does not take the others down. (The engine registry's discovery, ``scan``.)
    """
    return engine_registry.scan(package_path)


def load_entry_points(group: str = ENTRY_POINT_GROUP) -> list[str]:
    """Register the generators that installed packages declare in the entry-point group.

    An entry point names a module (imported; its decorators register) or an object (a
    BaseGenerator subclass, a BlockGenerator subclass or instance) registered under the entry
    point's name. Failures are logged with the entry point and the error, and skipped. (The
    engine registry's discovery, ``load_entry_points``.)
    """
    return engine_registry.load_entry_points(group)


def _handle(name: str, blocks: BlockGenerator) -> type[BaseGenerator]:
    """A BaseGenerator class for a block generator that has no class of its own."""
    config_class = type(f"{_camel(name)}Config", (GeneratorConfig,),
                        {"options": blocks.options, "__module__": __name__})
    return type(f"{_camel(name)}Generator", (BaseGenerator,),
                {"blocks": blocks, "registered_name": name, "config_class": config_class,
                 "__doc__": blocks.description, "__module__": __name__})


def _camel(name: str) -> str:
    return "".join(part.capitalize() for part in name.replace("-", "_").split("_")) or "Plugin"


__all__ = [
    "ENTRY_POINT_GROUP",
    "PluginRegistry",
    "discover_generators",
    "load_entry_points",
    "register_generator",
]
