"""The original simtom's plugin registry, as a view of the engine's one registry.

``PluginRegistry`` maps names to generator *classes* (what the original's users get back from
``get_generator`` and construct with a config); the engine registry (``simtom.registry``) maps
the same names to the block generators that make the records. Registering either kind here
registers both views.

Discovery: modules under a package (``simtom.generators`` by default, at any depth; names that
start with ``_`` are skipped) are imported so their ``@register_generator`` decorators run, and
installed distributions add generators through the ``simtom.generators`` entry-point group::

    [project.entry-points."simtom.generators"]
    credit_cards = "my_package.cards:CreditCardGenerator"   # a class, registered under the name
    more = "my_package.generators"                          # or a module that registers its own
"""

from __future__ import annotations

import importlib
import logging
import pkgutil
import threading
import types
from collections.abc import Callable
from importlib.metadata import entry_points
from typing import Any, TypeVar

from .. import registry as engine_registry
from ..errors import SimtomError, UnknownGeneratorError
from ..registry import BlockGenerator
from .generator import BaseGenerator, GeneratorConfig, implements_records

log = logging.getLogger("simtom")

#: The entry-point group through which installed packages add generators.
ENTRY_POINT_GROUP = "simtom.generators"

G = TypeVar("G")

_CLASSES: dict[str, type[BaseGenerator]] = {}
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
    [('txn_00000000', 67.84), ('txn_00000001', 116.23)]
    """

    _instance: PluginRegistry | None = None

    def __new__(cls) -> PluginRegistry:  # one registry, as in the original
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    @classmethod
    def register(cls, name: str, generator_class: Any) -> None:
        """Register a generator class (or a BlockGenerator instance) under ``name``."""
        if not isinstance(name, str) or not name:
            msg = f"generator name: got {name!r}; allowed: a non-empty string"
            raise SimtomError(msg)
        blocks, handle = _adapt(name, generator_class)
        with _LOCK:
            engine_registry.register(blocks)
            handle.registered_name = name
            _CLASSES[name] = handle

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
        with _LOCK:
            handle = _CLASSES.get(name)
            if handle is None or _blocks_of(handle) is not blocks:
                handle = _CLASSES[name] = _handle(name, blocks)
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
        """Remove a generator from both views."""
        with _LOCK:
            _CLASSES.pop(name, None)
            engine_registry.unregister(name)


def register_generator(name: str) -> Callable[[G], G]:
    """Class decorator registering a record or block generator under ``name``."""
    return PluginRegistry.register_generator(name)


def discover_generators(package_path: str = "simtom.generators") -> list[str]:
    """Import every public module under a package (recursively); return the names added.

    A module that fails to import is logged (with its error) and skipped, so one broken plugin
    does not take the others down.
    """
    before = set(engine_registry._REGISTRY)
    try:
        package = importlib.import_module(package_path)
    except ImportError as exc:
        log.warning("simtom: cannot import generator package %s: %s", package_path, exc)
        return []
    paths = getattr(package, "__path__", None)
    if paths is not None:
        def skipped(name: str) -> None:
            log.warning("simtom: skipped generator package %s (import failed)", name)

        for info in pkgutil.walk_packages(paths, prefix=package_path + ".", onerror=skipped):
            if any(part.startswith("_") for part in info.name.split(".")):
                continue
            try:
                importlib.import_module(info.name)
            except Exception as exc:
                log.warning("simtom: skipped generator module %s: %s: %s", info.name,
                            type(exc).__name__, exc)
    return sorted(set(engine_registry._REGISTRY) - before)


def load_entry_points(group: str = ENTRY_POINT_GROUP) -> list[str]:
    """Register the generators that installed packages declare in the entry-point group.

    An entry point names a module (imported; its decorators register) or an object (a
    BaseGenerator subclass, a BlockGenerator subclass or instance) registered under the entry
    point's name. Failures are logged with the entry point and the error, and skipped.
    """
    added = []
    for ep in entry_points(group=group):
        try:
            obj = ep.load()
            if not isinstance(obj, types.ModuleType) and _registered_as(ep.name) != obj:
                PluginRegistry.register(ep.name, obj)
            added.append(ep.name)
        except Exception as exc:
            log.warning("simtom: skipped entry point %s = %s: %s: %s", ep.name, ep.value,
                        type(exc).__name__, exc)
    return added


def _registered_as(name: str) -> Any:
    with _LOCK:
        return _CLASSES.get(name)


def _adapt(name: str, obj: Any) -> tuple[BlockGenerator, type[BaseGenerator]]:
    """The engine generator and the class handle for whatever is being registered."""
    if isinstance(obj, type) and issubclass(obj, BlockGenerator):
        obj = obj()
    if isinstance(obj, BlockGenerator):
        _name_blocks(name, obj)
        return obj, _handle(name, obj)
    if isinstance(obj, type) and issubclass(obj, BaseGenerator):
        if implements_records(obj):
            from ..records import RecordBlocks

            return RecordBlocks(obj, name), obj
        if obj.blocks is not None:
            _name_blocks(name, obj.blocks)
            return obj.blocks, obj
        msg = (f"generator {name!r}: {obj.__name__} implements neither generator interface; "
               "allowed: a BaseGenerator subclass with `async def generate_record(self) -> "
               "dict`, or a BlockGenerator subclass with `schema` and `fill`")
        raise SimtomError(msg)
    msg = (f"generator {name!r}: got {obj!r}; allowed: a BaseGenerator subclass with "
           "`async def generate_record(self) -> dict`, or a BlockGenerator subclass or instance")
    raise SimtomError(msg)


def _name_blocks(name: str, blocks: BlockGenerator) -> None:
    if not blocks.name:
        blocks.name = name  # type: ignore[misc]
    elif blocks.name != name:
        msg = (f"generator {name!r}: {type(blocks).__name__} is named {blocks.name!r}; "
               "allowed: register it under its own name")
        raise SimtomError(msg)
    if type(blocks).fill is BlockGenerator.fill or type(blocks).schema is BlockGenerator.schema:
        msg = (f"generator {name!r}: {type(blocks).__name__} must implement `schema` and "
               "`fill`")
        raise SimtomError(msg)


def _blocks_of(handle: type[BaseGenerator]) -> BlockGenerator | None:
    if handle.blocks is not None:
        return handle.blocks
    return None if not implements_records(handle) else engine_registry._REGISTRY.get(
        handle.registered_name)


def _handle(name: str, blocks: BlockGenerator) -> type[BaseGenerator]:
    """A BaseGenerator class for a block generator that has no class of its own."""
    from ..records import RecordBlocks

    if isinstance(blocks, RecordBlocks):
        return blocks.cls
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
