"""The original simtom's generator API: GeneratorConfig, BaseGenerator, register_generator.

User code written against the original runs unchanged::

    config = GeneratorConfig(rate_per_second=10.0, total_records=1000, seed=42)
    async for record in BNPLGenerator(config).stream():
        ...

These classes are thin layers over the engine: a config converts to a :class:`~simtom.Scenario`
(validated by the same option specs as the HTTP API and the CLI), and ``stream()`` reads the
engine's blocks, paced by the engine's pacer, as dicts — the same records, byte for byte, that an
NDJSON stream of the same configuration carries.

A generator is one of two kinds:

- a *block generator* (the engine's vectorised interface, see :class:`simtom.BlockGenerator`):
  ``BNPLGenerator`` is the handle of one;
- a *record generator* in the original's style: a ``BaseGenerator`` subclass with
  ``async def generate_record(self) -> dict``. simtom calls it once per record and supplies the
  arrivals, ``_timestamp``, ``_record_id``, ``_generator``, pacing, SSE/NDJSON and DataFrames
  around it. ``self.rng`` (a ``random.Random``) and ``self.faker`` (a Faker) are re-seeded for
  every record from (seed, record number), so a seeded run is reproducible — also resumed, and
  whatever the block size — as long as the record is a function of those, ``self.config``,
  ``self.record_id`` and ``self.timestamp``.
"""

from __future__ import annotations

import datetime as dt
import inspect
import random
import types
import typing
from collections.abc import AsyncIterator, Callable, Mapping
from typing import Any, ClassVar, Literal, TypeVar, get_args, get_origin

import polars as pl

from simtom.engine import registry
from simtom.engine.blocks import check_batch_size
from simtom.engine.engine import Engine
from simtom.engine.generator import BlockGenerator
from simtom.engine.records import RecordBlocks
from simtom.errors import ConfigError, SimtomError, UnknownFieldError
from simtom.outputs import aio
from simtom.outputs.frames import collect
from simtom.spec.fields import Field
from simtom.spec.scenario import ALIASES, COMMON_FIELDS, Scenario, make_scenario

_COMMON = {f.name: f for f in COMMON_FIELDS}
_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc)
_KINDS: dict[Any, str] = {bool: "boolean", int: "integer", float: "number", str: "string"}
_NAMED = {"bool": bool, "int": int, "float": float, "str": str}

G = TypeVar("G")
#: Mersenne Twister seeding of an int, without random.Random.seed's Python-level dispatch.
_MT_SEED = random.Random.__mro__[1].seed  # type: ignore[attr-defined]


class GeneratorConfig:
    """A generator's configuration: the options of the README's table, validated on creation.

    Accepts every common option (``rate_per_second``, ``total_records`` or its alias
    ``max_records``, ``seed``, ``time_compression``, ``arrival_pattern``, ``peak_hours``,
    ``burst_intensity``, ``burst_probability``, the noise, drift and date-range fields,
    ``start_time``, ``paced``) with the engine's defaults; a bad value raises
    :class:`~simtom.ConfigError` naming the field. Options are readable as attributes; setting one
    validates it. Subclasses add options either as annotated class attributes with defaults
    (``fraud_rate: float = 0.01``; int, float, bool, str, ``Literal[...]`` and optional versions of
    these) or as :class:`simtom.Field` specs in ``options``.

    Examples
    --------
    >>> from simtom.core.generator import GeneratorConfig
    >>> config = GeneratorConfig(rate_per_second=10.0, total_records=1000, seed=42)
    >>> config.rate_per_second, config.max_records, config.arrival_pattern
    (10.0, 1000, 'uniform')
    """

    #: Options beyond the common ones (a subclass's own and inherited ones).
    options: ClassVar[tuple[Field, ...]] = ()
    #: Common options whose default a subclass changes (``rate_per_second: float = 100.0``).
    _defaults: ClassVar[dict[str, Any]] = {}
    #: The options given (with those defaults): what converts to a Scenario.
    _given: dict[str, Any]

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        own = dict(cls.__dict__)
        merged: dict[str, Field] = {}
        defaults: dict[str, Any] = {}
        for base in reversed(cls.__mro__[1:]):
            if isinstance(base, type) and issubclass(base, GeneratorConfig):
                merged.update({f.name: f for f in base.options})
                defaults.update(base._defaults)
        merged.update({f.name: f for f in own.get("options", ())})
        for name, annotation in _own_annotations(cls).items():
            if name.startswith("_") or name == "options" or get_origin(annotation) is ClassVar \
                    or annotation is ClassVar:
                continue
            canonical = ALIASES.get(name, name)
            if canonical in _COMMON:
                if name in own:
                    defaults[canonical] = _COMMON[canonical].validate(own[name])
                continue
            if name not in own:
                if name in merged:
                    continue
                msg = f"{cls.__name__}.{name}: an option needs a default value"
                raise SimtomError(msg)
            merged[name] = _option_field(cls.__name__, name, annotation, own[name])
        cls.options = tuple(merged.values())
        cls._defaults = defaults

    def __init__(self, **values: Any) -> None:
        given = _merge(self._defaults, values)
        try:
            scenario = make_scenario("config", given, self.options)
        except UnknownFieldError as err:
            raise _elsewhere(err, type(self)) from None
        set_ = object.__setattr__
        set_(self, "_given", given)
        for spec in COMMON_FIELDS:
            set_(self, spec.name, _public(getattr(scenario, spec.name)))
        set_(self, "seed", None if scenario.seed_chosen else scenario.seed)
        for name, value in scenario.options.items():
            set_(self, name, _public(value))

    @property
    def max_records(self) -> int | None:
        """Alias of ``total_records`` (the original's name)."""
        total: int | None = self.total_records  # type: ignore[attr-defined]
        return total

    def __setattr__(self, name: str, value: Any) -> None:
        if name.startswith("_"):
            object.__setattr__(self, name, value)
            return
        fresh = type(self)(**_merge(self._given, {name: value}))
        self.__dict__.update(fresh.__dict__)

    def replace(self, **changes: Any) -> GeneratorConfig:
        """A copy with some options changed (validated)."""
        return type(self)(**_merge(self._given, changes))

    def model_copy(self, *, update: Mapping[str, Any] | None = None) -> GeneratorConfig:
        """pydantic's name for :meth:`replace`, which the original's users call."""
        return self.replace(**(update or {}))

    def model_dump(self, *, mode: str = "python") -> dict[str, Any]:
        """Every option and its value (``mode="json"``: JSON-ready, instants as ISO 8601)."""
        names = [f.name for f in COMMON_FIELDS] + [f.name for f in self.options]
        out = {name: getattr(self, name) for name in names}
        if mode == "json":
            out = {k: v.isoformat() if isinstance(v, (dt.datetime, dt.date)) else v
                   for k, v in out.items()}
        return out

    def to_scenario(self, generator: str, options: tuple[Field, ...] = (), *,
                    realtime: bool = False, now: dt.datetime | None = None,
                    seed: int | None = None) -> Scenario:
        """The engine's Scenario for ``generator`` (whose options are ``options``).

        ``seed`` fills in a seed the config leaves open.
        """
        config = dict(self._given)
        if seed is not None and config.get("seed") is None:
            config["seed"] = seed
        return make_scenario(generator, config, options, realtime=realtime, now=now)

    def __repr__(self) -> str:
        shown = ", ".join(f"{k}={v!r}" for k, v in self._given.items())
        return f"{type(self).__name__}({shown})"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, GeneratorConfig):
            return NotImplemented
        return type(self) is type(other) and self.model_dump() == other.model_dump()

    __hash__ = None  # type: ignore[assignment]  # mutable, like a pydantic model


class BaseGenerator:
    """A configured generator with the original's ``stream()``.

    Subclass it with ``async def generate_record(self) -> dict`` and decorate the class with
    ``@register_generator("name")`` to write a record generator; ``BNPLGenerator`` and the handles
    of other block generators come ready-made. Construct with a :class:`GeneratorConfig` (or a
    subclass such as ``BNPLConfig``), a mapping of options, or keyword options.

    A generator with ``seed=None`` draws one seed when it is created (``.seed``); every
    ``stream()`` of the same generator starts from record 0 of that seed.
    """

    #: The configuration class: its options are the generator's options.
    config_class: ClassVar[type[GeneratorConfig]] = GeneratorConfig
    #: Record generators: the output columns and dtypes (default: inferred from the first
    #: records). Declare it when a field is often null or rarely present.
    schema: ClassVar[Mapping[str, Any] | None] = None
    #: Block-backed handles: the engine generator that makes the records.
    blocks: ClassVar[BlockGenerator | None] = None
    #: The name the class is registered under (set by ``register_generator``).
    registered_name: ClassVar[str] = ""

    def __init__(self, config: GeneratorConfig | Mapping[str, Any] | None = None,
                 **options: Any) -> None:
        self.config = _coerce(self.config_class, config, options)
        self._records_generated = 0
        self.record_id = 0
        self._time_us = 0
        self._seed = 0
        self._token = 0
        self._rng: random.Random | None = None
        self._rng_token = -1
        self._faker: Any = None
        self._faker_token = -1
        self._engine_generator: BlockGenerator | None = None
        self.seed: int = self._scenario(realtime=False).seed

    @property
    def name(self) -> str:
        """The generator's registered name (the class name if it is not registered)."""
        return self.registered_name or type(self).__name__

    async def generate_record(self) -> dict[str, Any]:
        """One record (record generators override this)."""
        msg = (f"{type(self).__name__}: generate_record is not implemented; allowed: override "
               "`async def generate_record(self) -> dict`, or set `blocks` to a BlockGenerator")
        raise SimtomError(msg)

    # --- what a record generator uses ---------------------------------------------------------

    @property
    def rng(self) -> random.Random:
        """A ``random.Random`` seeded from (seed, record number) for the current record."""
        rng = self._rng
        if rng is None:
            rng = self._rng = random.Random()
        if self._rng_token != self._token:
            _MT_SEED(rng, self._record_seed())
            rng.gauss_next = None  # type: ignore[attr-defined]  # Random.seed resets it too
            self._rng_token = self._token
        return rng

    @property
    def faker(self) -> Any:
        """A ``faker.Faker`` seeded from (seed, record number) for the current record."""
        if self._faker_token != self._token:
            if self._faker is None:
                from faker import Faker

                self._faker = Faker()
            self._faker.seed_instance(self._record_seed())
            self._faker_token = self._token
        return self._faker

    @property
    def timestamp(self) -> dt.datetime:
        """The current record's simulated event time (UTC)."""
        return _EPOCH + dt.timedelta(microseconds=self._time_us)

    def _record_seed(self) -> int:
        return (self._seed << 64) | self.record_id

    # --- streaming ----------------------------------------------------------------------------

    def stream(self, *, paced: bool | None = None) -> AsyncIterator[dict[str, Any]]:
        """The records as plain dicts of JSON values, paced unless ``paced=False``.

        Pacing follows ``rate_per_second`` (``rate_per_second=10, total_records=1000`` takes about
        100 s); ``paced`` defaults to the config's ``paced``, which defaults to true. Blocks are
        converted a block at a time: each dict is one NDJSON line of the same configuration,
        parsed. The configuration is checked here, before the first record.
        """
        return aio.records(self._engine(paced), paced=self._paced(paced))

    def stream_frames(self, *, paced: bool | None = None,
                      batch_size: int | None = None) -> AsyncIterator[pl.DataFrame]:
        """The records as DataFrames: whole blocks unpaced, or the slices that fall due paced."""
        if batch_size is not None:
            check_batch_size(batch_size)
        return aio.frames(self._engine(paced), paced=self._paced(paced), batch_size=batch_size)

    def frame(self, *, n: int | None = None, batch_size: int | None = None) -> pl.DataFrame:
        """``n`` records (default ``total_records``, or a date range's) as one DataFrame."""
        scenario = self._scenario(realtime=False)
        if n is not None:
            scenario = self.config.replace(total_records=n).to_scenario(
                scenario.generator, self._generator().options, seed=self.seed)
        if scenario.total_records is None and not scenario.historical:
            raise ConfigError("n", None, "a record count (an integer >= 0), total_records, or "
                              "a date range")
        return collect(Engine(scenario, self._generator()), batch_size)

    def _paced(self, paced: bool | None) -> bool:
        if paced is None:
            paced = self.config.paced  # type: ignore[attr-defined]
        if paced is not None and not isinstance(paced, bool):
            raise ConfigError("paced", paced, "true, false or None")
        return True if paced is None else paced

    def _engine(self, paced: bool | None) -> Engine:
        return Engine(self._scenario(realtime=self._paced(paced)), self._generator())

    def _scenario(self, *, realtime: bool) -> Scenario:
        generator = self._generator()
        return self.config.to_scenario(generator.name, generator.options, realtime=realtime,
                                       seed=getattr(self, "seed", None))

    def _generator(self) -> BlockGenerator:
        if self._engine_generator is None:
            if self.blocks is not None:
                self._engine_generator = self.blocks
            elif implements_records(type(self)):
                self._engine_generator = RecordBlocks(type(self), self.name, instance=self)
            else:
                msg = (f"{type(self).__name__}: implements neither generator interface; "
                       "allowed: override `async def generate_record(self) -> dict`, or set "
                       "`blocks` to a BlockGenerator")
                raise SimtomError(msg)
        return self._engine_generator


    @classmethod
    def as_block_generator(cls, name: str) -> BlockGenerator:
        """The engine's generator for this class registered as ``name`` (the hook by which
        ``simtom.engine.registry`` registers classes of this layer): a record generator runs
        through ``RecordBlocks``; a handle stands for its ``blocks``."""
        if implements_records(cls):
            cls.registered_name = name
            return RecordBlocks(cls, name)
        if cls.blocks is not None:
            registry.check_named(name, cls.blocks)
            cls.registered_name = name
            return cls.blocks
        msg = (f"generator {name!r}: {cls.__name__} implements neither generator interface; "
               "allowed: a BaseGenerator subclass with `async def generate_record(self) -> "
               "dict`, or a BlockGenerator subclass with `schema` and `fill`")
        raise SimtomError(msg)


def implements_records(cls: type) -> bool:
    """True for a BaseGenerator subclass that overrides ``generate_record``."""
    return issubclass(cls, BaseGenerator) and cls.generate_record is not \
        BaseGenerator.generate_record


def register_generator(name: str) -> Callable[[G], G]:
    """Class decorator: register a generator under ``name`` (either kind).

    A BaseGenerator subclass with ``generate_record`` is a record generator; a BlockGenerator
    subclass is a block generator. A name taken by another generator, or a class of neither
    kind, is a SimtomError here, at registration.
    """
    def decorator(cls: G) -> G:
        registry.register_as(name, cls)
        return cls

    return decorator


# --- helpers ---------------------------------------------------------------------------------


def _merge(given: Mapping[str, Any], changes: Mapping[str, Any]) -> dict[str, Any]:
    """``given`` updated by ``changes``, where a change also replaces its alias's value."""
    out = dict(given)
    for name in changes:
        canonical = ALIASES.get(name, name)
        for key in list(out):
            if ALIASES.get(key, key) == canonical:
                del out[key]
    out.update(changes)
    return out


def _coerce(config_class: type[GeneratorConfig], config: Any,
            options: Mapping[str, Any]) -> GeneratorConfig:
    if config is None:
        return config_class(**options)
    if isinstance(config, GeneratorConfig):
        if config_class is not type(config) and issubclass(config_class, type(config)):
            # a plain GeneratorConfig given to, say, BNPLGenerator: the original converted it
            # to BNPLConfig the same way, so the generator's own options are accepted too
            return config_class(**_merge(config._given, options))
        return config.replace(**options) if options else config
    if isinstance(config, Mapping):
        return config_class(**_merge(config, options))
    raise ConfigError("config", config, "a GeneratorConfig, a mapping of options, or None")


def _public(value: Any) -> Any:
    """A Scenario value as the config shows it: weights as a dict, hours as a list."""
    if isinstance(value, tuple):
        if value and all(isinstance(v, tuple) and len(v) == 2 for v in value):
            return dict(value)
        return list(value)
    return value


def _elsewhere(err: UnknownFieldError, cls: type[GeneratorConfig]) -> UnknownFieldError:
    """Add to an unknown-option error which generator has that option, if one does."""
    owners = [g.name for g in registry.generators() if any(f.name == err.field for f in g.options)]
    if not owners:
        return err
    hint = (f"{err.field}: not an option of {cls.__name__}; it is an option of generator "
            f"{owners[0]!r} (pass it to that generator's config class, e.g. BNPLConfig for "
            "'bnpl', or as a keyword to the generator)")
    return UnknownFieldError(err.field, err.value, err.allowed, detail=hint)


def _own_annotations(cls: type) -> dict[str, Any]:
    raw = inspect.get_annotations(cls)
    if not raw:
        return {}
    try:
        return inspect.get_annotations(cls, eval_str=True)
    except Exception:  # names local to a function: resolve the simple spellings ourselves
        return {name: _resolve(annotation) for name, annotation in raw.items()}


def _resolve(annotation: Any) -> Any:
    if not isinstance(annotation, str):
        return annotation
    text = annotation.replace(" ", "")
    if text.startswith("ClassVar"):
        return ClassVar
    if text.startswith("Optional[") and text.endswith("]"):
        inner = _NAMED.get(text[9:-1])
        return typing.Optional[inner] if inner else annotation  # noqa: UP045
    if text.endswith("|None"):
        inner = _NAMED.get(text[:-5])
        return typing.Optional[inner] if inner else annotation  # noqa: UP045
    return _NAMED.get(text, annotation)


def _option_field(owner: str, name: str, annotation: Any, default: Any) -> Field:
    """A Field spec from an annotated class attribute of a GeneratorConfig subclass."""
    nullable = False
    if get_origin(annotation) in (typing.Union, types.UnionType):
        args = [a for a in get_args(annotation) if a is not type(None)]
        if len(args) == 1 and len(get_args(annotation)) == 2:
            nullable, annotation = True, args[0]
    description = f"Option of {owner}."
    if get_origin(annotation) is Literal and all(isinstance(a, str) for a in get_args(annotation)):
        field = Field(name, "enum", default, description, choices=get_args(annotation),
                      nullable=nullable)
    elif annotation in _KINDS:
        field = Field(name, _KINDS[annotation], default, description, nullable=nullable)
    else:
        msg = (f"{owner}.{name}: option type {annotation!r} is not supported; allowed: int, "
               "float, bool, str, Literal[...] of strings or Optional of these (or a "
               "simtom.Field in `options`)")
        raise SimtomError(msg)
    try:
        field.validate(default)
    except ConfigError as err:
        msg = f"{owner}.{name}: default {default!r} does not fit its type ({err.allowed})"
        raise SimtomError(msg) from None
    return field


__all__ = ["BaseGenerator", "GeneratorConfig", "implements_records", "register_generator"]
