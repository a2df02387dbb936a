"""Record generators: the original's one-record-at-a-time interface, run by the engine in blocks.

:class:`RecordBlocks` adapts a class of :class:`RecordSource` objects (``simtom.core``'s
``BaseGenerator`` subclasses with ``async def generate_record()``) to the engine's block
interface: the engine supplies the arrival times, and for each record the adapter sets
``record_id``, ``timestamp`` and the per-record random sources on the generator, calls
``generate_record`` and collects the dicts into columns. Everything downstream (``_``
fields, pacing, SSE/NDJSON, frames, files, resume) is the engine's, as for a block generator.

``generate_record`` is usually pure computation: its coroutine then finishes on the first step
and is driven without an event loop (so blocks can be made in worker threads and in
``simtom.frame``). One that really awaits (I/O, ``asyncio.sleep``) is run on a private event loop
in a helper thread instead.

The output columns come from the class's ``schema`` or, by default, are inferred from the first
:data:`PROBE` records of the scenario, so every block has the same columns and dtypes whatever
its size. A record with a field outside those columns, or a value that does not fit its column,
is an error naming the record, the field and the value.
"""

from __future__ import annotations

import asyncio
import threading
from collections import OrderedDict
from collections.abc import Coroutine, Mapping
from dataclasses import dataclass
from typing import Any, ClassVar, Protocol

import numpy as np
import polars as pl

from simtom.engine.arrivals import Arrivals
from simtom.engine.generator import BlockGenerator
from simtom.errors import SimtomError
from simtom.spec.scenario import Scenario

#: Records run to infer the columns of a generator that declares no ``schema``.
PROBE = 256
#: Fields the engine sets on every record; a record generator's own values for them are dropped.
ENGINE_FIELDS = frozenset({"_timestamp", "_record_id", "_generator"})
#: Unpaced blocks of record generators: small, so the first records go out soon.
RECORD_BATCH = 1024
_MEMO = 8


class RecordSource(Protocol):
    """What :class:`RecordBlocks` drives: a configured generator of one record at a time.

    The engine sets the per-record state (``record_id``, ``_time_us``, ``_seed``, ``_token``,
    which re-seeds the record's random sources) before each ``generate_record`` call. The class
    is made from a config (``cls(cls.config_class(**options))``) and may declare ``schema``.
    """

    config_class: ClassVar[Any]
    schema: ClassVar[Mapping[str, Any] | None]
    config: Any
    record_id: int
    _records_generated: int
    _time_us: int
    _seed: int
    _token: int

    def __init__(self, config: Any = None) -> None: ...

    @property
    def name(self) -> str: ...

    def generate_record(self) -> Any: ...


class RecordError(SimtomError):
    """A record generator failed, or returned something that cannot be a record of its stream.

    The generator's fault, not the request's: HTTP 500, with the message as the JSON detail.
    """

    status = 500


@dataclass
class _Prepared:
    instance: RecordSource
    schema: pl.Schema
    convert: dict[str, type]  # column -> str or float: values converted before the Series
    keys: frozenset[str]
    lock: threading.Lock
    #: The probe's records and their times: the first block reuses them instead of calling
    #: generate_record again (records are functions of seed and number, so they are the same).
    probe: list[dict[str, Any]] | None = None
    probe_times: np.ndarray | None = None


class RecordBlocks(BlockGenerator):
    """The engine's view of a record generator class (or of one configured instance)."""

    stream_batch = RECORD_BATCH

    def __init__(self, cls: type[RecordSource], name: str, *,
                 instance: RecordSource | None = None) -> None:
        self.cls = cls
        self.instance = instance
        self.name = name  # type: ignore[misc]
        doc = (cls.__doc__ or "").strip().splitlines()
        self.description = doc[0] if doc else f"{cls.__name__} (record generator)"  # type: ignore[misc]
        config_class = type(instance.config) if instance is not None else cls.config_class
        self.options = config_class.options  # type: ignore[misc]
        self._memo: OrderedDict[int, tuple[Scenario, _Prepared]] = OrderedDict()
        self._memo_lock = threading.Lock()

    def identity(self) -> tuple[str, str]:
        return (self.cls.__module__, self.cls.__qualname__)

    def prepare(self, scenario: Scenario) -> _Prepared:
        return self._prepared(scenario)

    def schema(self, scenario: Scenario) -> pl.Schema:
        return self._prepared(scenario).schema

    def fill(self, scenario: Scenario, prepared: Any, first: int,
             times: np.ndarray) -> pl.DataFrame:
        p: _Prepared = prepared
        reuse = 0
        if p.probe is not None and p.probe_times is not None and first < len(p.probe):
            reuse = min(len(times), len(p.probe) - first)
            if not np.array_equal(times[:reuse], p.probe_times[first:first + reuse]):
                reuse = 0
        records = p.probe[first:first + reuse] if reuse and p.probe is not None else []
        if reuse < len(times):
            with p.lock:
                records += _run(p.instance, scenario.seed, first + reuse, times[reuse:])
        return _columns(self.name, records, p, first)

    # ---

    def _prepared(self, scenario: Scenario) -> _Prepared:
        key = id(scenario)
        with self._memo_lock:
            hit = self._memo.get(key)
            if hit is not None and hit[0] is scenario:
                return hit[1]
        prepared = self._build(scenario)
        with self._memo_lock:
            self._memo[key] = (scenario, prepared)
            while len(self._memo) > _MEMO:
                self._memo.popitem(last=False)
        return prepared

    def _build(self, scenario: Scenario) -> _Prepared:
        instance = self.instance
        if instance is None:
            values = scenario.to_dict()
            values.pop("generator")
            values["seed"] = scenario.seed
            if scenario.historical:
                values["start_time"] = None  # the date range sets the start
            instance = self.cls(self.cls.config_class(**values))
        lock = threading.Lock()
        if self.cls.schema is not None:
            schema = _declared(self.name, self.cls.schema)
            return _Prepared(instance, schema, {}, frozenset(schema) | ENGINE_FIELDS, lock)
        arrivals = Arrivals(scenario)
        total = scenario.total_records
        n = PROBE if total is None else min(PROBE, total)
        times = np.empty(n, np.int64)
        _, filled = arrivals.fill_range(arrivals.start(), times)
        times = times[:filled]
        with lock:
            records = _run(instance, scenario.seed, 0, times)
        prepared = _inferred(self.name, records, instance, lock)
        prepared.probe, prepared.probe_times = records, times
        return prepared


def _declared(name: str, schema: Mapping[str, Any]) -> pl.Schema:
    try:
        out = pl.Schema({k: v for k, v in schema.items() if k not in ENGINE_FIELDS})
    except Exception as exc:  # polars says what is wrong with the dtype
        msg = f"generator {name!r}: schema: {exc}; allowed: a mapping of field names to dtypes"
        raise SimtomError(msg) from None
    return out


def _inferred(name: str, records: list[dict[str, Any]], instance: RecordSource,
              lock: threading.Lock) -> _Prepared:
    """Columns and dtypes from the probe records (objects such as UUIDs become strings)."""
    clean = [{k: v for k, v in r.items() if k not in ENGINE_FIELDS} for r in records]
    try:
        probe = pl.from_dicts(clean, infer_schema_length=None) if clean else pl.DataFrame()
    except Exception as exc:
        msg = (f"generator {name!r}: the first records' fields have no common dtype ({exc}); "
               "declare `schema` on the class")
        raise RecordError(msg) from None
    schema: dict[str, pl.DataType] = {}
    convert: dict[str, type] = {}
    for column, dtype in probe.schema.items():
        if dtype == pl.Object:
            schema[column], convert[column] = pl.String(), str
        elif isinstance(dtype, pl.Decimal):
            schema[column], convert[column] = pl.Float64(), float
        else:
            schema[column] = dtype
    final = pl.Schema(schema)
    return _Prepared(instance, final, convert, frozenset(final) | ENGINE_FIELDS, lock)


def _run(instance: RecordSource, seed: int, first: int,
         times: np.ndarray) -> list[dict[str, Any]]:
    """Call ``generate_record`` for records ``first ..`` with event times ``times``."""
    out: list[dict[str, Any]] = []
    instance._seed = seed
    for i, t in enumerate(times.tolist()):
        k = first + i
        instance.record_id = k
        instance._records_generated = k
        instance._time_us = t
        instance._token += 1
        try:
            value = _call(instance)
        except SimtomError:
            raise
        except Exception as exc:
            msg = (f"generator {instance.name!r}: generate_record raised "
                   f"{type(exc).__name__}: {exc} (record {k})")
            raise RecordError(msg) from exc
        if type(value) is not dict:
            if not isinstance(value, Mapping):
                msg = (f"generator {instance.name!r}: generate_record returned "
                       f"{type(value).__name__} {value!r:.60} for record {k}; allowed: a dict "
                       "of field values")
                raise RecordError(msg)
            value = dict(value)
        out.append(value)
    return out


def _call(instance: RecordSource) -> Any:
    result = instance.generate_record()
    if not isinstance(result, Coroutine):
        return result  # a plain `def generate_record` works too
    if getattr(instance, "_simtom_awaits", False):
        return _on_helper_loop(result)
    try:
        result.send(None)
    except StopIteration as stop:
        return stop.value
    # It really awaits: rerun this record on an event loop, with fresh random sources.
    result.close()
    instance._simtom_awaits = True  # type: ignore[attr-defined]
    instance._token += 1
    return _on_helper_loop(instance.generate_record())


_LOOP: asyncio.AbstractEventLoop | None = None
_LOOP_LOCK = threading.Lock()


def _on_helper_loop(coro: Coroutine[Any, Any, Any]) -> Any:
    global _LOOP
    with _LOOP_LOCK:
        if _LOOP is None:
            _LOOP = asyncio.new_event_loop()
            threading.Thread(target=_LOOP.run_forever, name="simtom-records",
                             daemon=True).start()
    return asyncio.run_coroutine_threadsafe(coro, _LOOP).result()


def _columns(name: str, records: list[dict[str, Any]], p: _Prepared,
             first: int) -> pl.DataFrame:
    keys = p.keys
    for i, record in enumerate(records):
        if not record.keys() <= keys:
            extra = sorted(set(record) - keys)[0]
            fields = ", ".join(p.schema) or "none"
            msg = (f"generator {name!r}: record {first + i} has field {extra!r}, which is not "
                   f"in its columns, {_schema_source(p)} ({fields}); allowed: those fields "
                   "(declare `schema` on the class to list every field and its dtype)")
            raise RecordError(msg)
    series = []
    for column, dtype in p.schema.items():
        values = [r.get(column) for r in records]
        conv = p.convert.get(column)
        if conv is not None:
            values = [None if v is None else conv(v) for v in values]
        try:
            series.append(_series(column, values, dtype))
        except Exception:
            raise _bad_value(name, column, dtype, values, first, p) from None
    return pl.DataFrame(series, height=len(records))


def _series(column: str, values: list[Any], dtype: pl.DataType) -> pl.Series:
    """The column's values as its dtype, strictly (polars would quietly null a Null column's
    values, so that case is checked here)."""
    if dtype == pl.Null and any(v is not None for v in values):
        raise TypeError("a value in a column of nulls")
    return pl.Series(column, values, dtype=dtype, strict=True)


def _schema_source(p: _Prepared) -> str:
    """Where the generator's columns come from, for error messages."""
    if p.instance.schema is not None:
        return "declared in its schema"
    return f"inferred from its first {PROBE} records"


def _bad_value(name: str, column: str, dtype: pl.DataType, values: list[Any], first: int,
               p: _Prepared) -> RecordError:
    """The first value of ``column`` that does not fit ``dtype``."""
    for i, v in enumerate(values):
        try:
            _series(column, [v], dtype)
        except Exception:
            msg = (f"generator {name!r}: record {first + i}: {column}: got {v!r:.60} "
                   f"({type(v).__name__}); allowed: values of dtype {dtype} "
                   f"({_schema_source(p)}; declare "
                   "`schema` on the class to choose the dtype)")
            return RecordError(msg)
    return RecordError(f"generator {name!r}: {column}: values do not fit dtype {dtype}")


__all__ = ["PROBE", "RecordBlocks", "RecordError", "RecordSource"]
