"""The generator registry shared by the polars API, the CLI and the server, and plugin discovery.

Names map to block generators (:class:`~simtom.engine.generator.BlockGenerator`). The first
lookup discovers them, once, in this order:

1. the built-in generators: the packages named in :data:`BUILTINS`, imported by name;
2. every public module under :data:`PLUGIN_PACKAGE` (``simtom/generators/``, at any depth;
   names starting with ``_`` are skipped), the original simtom's "place it there and it is
   found";
3. the :data:`ENTRY_POINT_GROUP` entry points of installed distributions.

Discovery imports by module name, so this layer never imports the generators (nor the
original-API layer above it) itself: a module that is found registers its own generators, with
:func:`register` or an adapter above this layer (``simtom.core``'s ``@register_generator``).

What may be registered under a name (:func:`register_as`): a ``BlockGenerator`` instance or
subclass, or an object with an ``as_block_generator(name)`` method returning one — the hook by
which the original-API layer adapts its generator classes. The object registered is kept
(:func:`source`), so that layer can hand its own classes back.
"""

from __future__ import annotations

import importlib
import logging
import pkgutil
import threading
import types
from collections.abc import Iterator
from importlib.metadata import entry_points
from typing import Any

from simtom.engine.generator import BlockGenerator
from simtom.errors import SimtomError, UnknownGeneratorError
from simtom.spec.fields import closest

log = logging.getLogger("simtom")

#: The built-in generators' packages: each registers its generators when imported.
BUILTINS = ("simtom.bnpl",)
#: The package whose modules are scanned for generators (the original's plugin folder).
PLUGIN_PACKAGE = "simtom.generators"
#: The entry-point group through which installed packages add generators.
ENTRY_POINT_GROUP = "simtom.generators"

_REGISTRY: dict[str, BlockGenerator] = {}
#: What was registered under each name (the block generator, or the object adapted to it).
_SOURCES: dict[str, Any] = {}
_LOCK = threading.RLock()
_DISCOVERED = False
_DISCOVERING = False


def register(generator: BlockGenerator, *, source: Any = None) -> BlockGenerator:
    """Add a generator under its ``name``; a name taken by another generator is an error.

    Registering the same generator again (a module imported twice, or reloaded) replaces it.
    ``source`` is what was registered, when ``generator`` was adapted from it.
    """
    name = generator.name
    if not name or not isinstance(name, str):
        msg = f"generator name: got {name!r}; allowed: a non-empty string"
        raise SimtomError(msg)
    with _LOCK:
        taken = _REGISTRY.get(name)
        if taken is not None and taken.identity() != generator.identity():
            msg = (f"generator name: {name!r} is already registered by "
                   f"{'.'.join(taken.identity())}; allowed: a name not taken ("
                   f"{', '.join(sorted(_REGISTRY))} are)")
            raise SimtomError(msg)
        _REGISTRY[name] = generator
        _SOURCES[name] = generator if source is None else source
    return generator


def register_as(name: str, obj: Any) -> BlockGenerator:
    """Register ``obj`` under ``name``: a BlockGenerator (instance or subclass) or an object
    with ``as_block_generator(name)``; anything else is a SimtomError naming what is allowed."""
    if not isinstance(name, str) or not name:
        msg = f"generator name: got {name!r}; allowed: a non-empty string"
        raise SimtomError(msg)
    blocks = adapt(name, obj)
    return register(blocks, source=obj)


def adapt(name: str, obj: Any) -> BlockGenerator:
    """The block generator that ``obj`` stands for, checked and named ``name``."""
    if isinstance(obj, type) and issubclass(obj, BlockGenerator):
        obj = obj()
    if isinstance(obj, BlockGenerator):
        check_named(name, obj)
        return obj
    hook = getattr(obj, "as_block_generator", None)
    if callable(hook):
        blocks = hook(name)
        if not isinstance(blocks, BlockGenerator):
            msg = (f"generator {name!r}: as_block_generator returned {blocks!r}; allowed: a "
                   "BlockGenerator")
            raise SimtomError(msg)
        return blocks
    msg = (f"generator {name!r}: got {obj!r}; allowed: a BaseGenerator subclass with "
           "`async def generate_record(self) -> dict`, or a BlockGenerator subclass or instance")
    raise SimtomError(msg)


def check_named(name: str, blocks: BlockGenerator) -> None:
    """Name an unnamed block generator ``name``; refuse one named otherwise or incomplete."""
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


def unregister(name: str) -> None:
    """Remove a generator (tests and interactive sessions that redefine one)."""
    with _LOCK:
        _REGISTRY.pop(name, None)
        _SOURCES.pop(name, None)


def get(name: str) -> BlockGenerator:
    """The generator registered under ``name``; UnknownGeneratorError (404) otherwise."""
    _discover()
    try:
        return _REGISTRY[name]
    except KeyError:
        available = sorted(_REGISTRY)
        err = UnknownGeneratorError(name, available)
        near = closest(name, available)
        if near:
            err.args = (f"{err}; did you mean {near!r}?",)
        raise err from None


def registered(name: str) -> BlockGenerator | None:
    """The generator registered under ``name`` now, or None (no discovery)."""
    with _LOCK:
        return _REGISTRY.get(name)


def source(name: str) -> Any:
    """What was registered under ``name`` (a block generator or the object adapted), or None."""
    with _LOCK:
        return _SOURCES.get(name)


def available() -> list[str]:
    """Names of the registered generators, sorted."""
    _discover()
    return sorted(_REGISTRY)


def generators() -> Iterator[BlockGenerator]:
    for name in available():
        yield _REGISTRY[name]


# --- discovery -------------------------------------------------------------------------------


def _discover() -> None:
    """Find the generators, once: built-ins, the plugin package's modules, entry points."""
    global _DISCOVERED, _DISCOVERING
    if _DISCOVERED:
        return
    with _LOCK:  # other threads wait here until discovery is complete
        if _DISCOVERED or _DISCOVERING:  # done, or a module being discovered looks one up
            return
        _DISCOVERING = True
        try:
            for package in BUILTINS:
                importlib.import_module(package)
            scan(PLUGIN_PACKAGE)
            load_entry_points()
        finally:
            _DISCOVERED = True
            _DISCOVERING = False


def scan(package_path: str = PLUGIN_PACKAGE) -> list[str]:
    """Import every public module under a package (recursively); return the names added.

    A module that fails to import is logged (with its error) and skipped, so one broken plugin
    does not take the others down.
    """
    before = set(_REGISTRY)
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
    return sorted(set(_REGISTRY) - before)


def load_entry_points(group: str = ENTRY_POINT_GROUP) -> list[str]:
    """Register the generators that installed packages declare in the entry-point group.

    An entry point names a module (imported; it registers its own) or an object registered
    under the entry point's name (see :func:`register_as`). Failures are logged with the entry
    point and the error, and skipped.
    """
    added = []
    for ep in entry_points(group=group):
        try:
            obj = ep.load()
            if not isinstance(obj, types.ModuleType) and source(ep.name) is not obj:
                register_as(ep.name, obj)
            added.append(ep.name)
        except Exception as exc:
            log.warning("simtom: skipped entry point %s = %s: %s: %s", ep.name, ep.value,
                        type(exc).__name__, exc)
    return added


__all__ = [
    "BUILTINS",
    "ENTRY_POINT_GROUP",
    "PLUGIN_PACKAGE",
    "adapt",
    "available",
    "generators",
    "get",
    "load_entry_points",
    "register",
    "register_as",
    "registered",
    "scan",
    "source",
    "unregister",
]
