"""Typed option specs: validation with field-naming errors, and JSON Schema from the same spec."""

from __future__ import annotations

import datetime as dt
import difflib
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from simtom.errors import ConfigError, NotSupportedError, UnknownFieldError

Kind = str  # number integer boolean string enum hours instant moment date names weights


@dataclass(frozen=True)
class Field:
    """One option: its type, default, range and documentation.

    ``supported=False`` marks an option whose behaviour is not built yet: it is accepted only at
    its default, so user code that passes defaults explicitly keeps working, and any other value is
    refused with a clear error rather than silently ignored.
    """

    name: str
    kind: Kind
    default: Any
    description: str
    minimum: float | None = None
    maximum: float | None = None
    exclusive_minimum: bool = False
    nullable: bool = False
    choices: tuple[str, ...] = ()
    keys: tuple[str, ...] = ()
    supported: bool = True
    pending: str = ""
    extra_check: Callable[[Any], str | None] | None = field(default=None, compare=False)

    def allowed(self) -> str:
        parts: list[str] = []
        if self.kind == "enum":
            parts.append("one of " + ", ".join(repr(c) for c in self.choices))
        elif self.kind in ("number", "integer"):
            word = "a number" if self.kind == "number" else "an integer"
            lo = "" if self.minimum is None else ("> " if self.exclusive_minimum else ">= ")
            bounds = []
            if self.minimum is not None:
                bounds.append(f"{lo}{_fmt(self.minimum)}")
            if self.maximum is not None:
                bounds.append(f"<= {_fmt(self.maximum)}")
            parts.append(word + (" " + " and ".join(bounds) if bounds else ""))
        elif self.kind == "boolean":
            parts.append("true or false")
        elif self.kind == "string":
            parts.append("a string")
        elif self.kind == "hours":
            parts.append("a list of distinct hours 0-23")
        elif self.kind == "instant":
            parts.append('an ISO 8601 date or date-time, or "now"')
        elif self.kind == "date":
            parts.append("a date (YYYY-MM-DD)")
        elif self.kind == "names" and self.choices:
            parts.append("a list of distinct names from " + ", ".join(self.choices))
        elif self.kind == "names":
            parts.append("a list of distinct field names")
        elif self.kind == "moment":
            parts.append("an ISO 8601 instant, or seconds (>= 0) after the start")
        elif self.kind == "weights":
            parts.append("an object with non-negative weights for " + ", ".join(self.keys))
        if self.nullable:
            parts.append("or null")
        return " ".join(parts)

    def validate(self, value: Any) -> Any:
        """Return the normalised value or raise ConfigError naming this field."""
        if value is None:
            if self.nullable:
                return None
            raise ConfigError(self.name, value, self.allowed())
        out = _CHECKS[self.kind](self, value)
        if self.extra_check is not None:
            problem = self.extra_check(out)
            if problem:
                raise ConfigError(self.name, value, problem)
        if not self.supported and out != self.default:
            msg = (f"{self.name}: got {value!r}; not supported yet ({self.pending}); "
                   f"allowed for now: its default {self.default!r}")
            raise NotSupportedError(self.name, value, f"{self.default!r}", detail=msg)
        return out

    def json_schema(self) -> dict[str, Any]:
        schema: dict[str, Any] = {"description": self.description}
        if self.kind in ("number", "integer"):
            schema["type"] = self.kind
            if self.minimum is not None:
                key = "exclusiveMinimum" if self.exclusive_minimum else "minimum"
                schema[key] = self.minimum
            if self.maximum is not None:
                schema["maximum"] = self.maximum
        elif self.kind == "boolean":
            schema["type"] = "boolean"
        elif self.kind == "string":
            schema["type"] = "string"
        elif self.kind == "enum":
            schema["type"] = "string"
            schema["enum"] = list(self.choices)
        elif self.kind == "hours":
            schema.update(type="array", uniqueItems=True, maxItems=24,
                          items={"type": "integer", "minimum": 0, "maximum": 23})
        elif self.kind == "instant":
            schema.update(type="string", format="date-time")
        elif self.kind == "date":
            schema.update(type="string", format="date")
        elif self.kind == "names":
            items: dict[str, Any] = {"type": "string"}
            if self.choices:
                items["enum"] = list(self.choices)
            schema.update(type="array", uniqueItems=True, items=items)
        elif self.kind == "moment":
            schema["anyOf"] = [{"type": "string", "format": "date-time"},
                               {"type": "number", "minimum": 0}]
            if self.nullable:
                schema["anyOf"].append({"type": "null"})
        elif self.kind == "weights":
            schema.update(type="object", additionalProperties=False,
                          properties={k: {"type": "number", "minimum": 0} for k in self.keys})
        if self.nullable and "anyOf" not in schema:
            schema["type"] = [schema.get("type", "string"), "null"]
        if self.default is not None or self.nullable:
            schema["default"] = _jsonable(self.default)
        if not self.supported:
            schema["description"] += f" Not supported yet ({self.pending}): default only."
        return schema


def _fmt(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else str(x)


def _jsonable(value: Any) -> Any:
    if isinstance(value, tuple):
        return list(value)
    if isinstance(value, Mapping):
        return dict(value)
    return value


def _number(spec: Field, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ConfigError(spec.name, value, spec.allowed())
    x = float(value)
    if not math.isfinite(x):
        raise ConfigError(spec.name, value, spec.allowed())
    _check_range(spec, value, x)
    return x


def _integer(spec: Field, value: Any) -> int:
    if isinstance(value, bool):
        raise ConfigError(spec.name, value, spec.allowed())
    if isinstance(value, float) and value.is_integer():
        value_i = int(value)
    elif isinstance(value, int):
        value_i = value
    else:
        raise ConfigError(spec.name, value, spec.allowed())
    _check_range(spec, value, value_i)
    return value_i


def _check_range(spec: Field, value: Any, x: float) -> None:
    lo, hi = spec.minimum, spec.maximum
    if lo is not None and (x <= lo if spec.exclusive_minimum else x < lo):
        raise ConfigError(spec.name, value, spec.allowed())
    if hi is not None and x > hi:
        raise ConfigError(spec.name, value, spec.allowed())


def _boolean(spec: Field, value: Any) -> bool:
    if not isinstance(value, bool):
        raise ConfigError(spec.name, value, spec.allowed())
    return value


def _string(spec: Field, value: Any) -> str:
    if not isinstance(value, str):
        raise ConfigError(spec.name, value, spec.allowed())
    return value


def _enum(spec: Field, value: Any) -> str:
    if not isinstance(value, str) or value not in spec.choices:
        raise ConfigError(spec.name, value, spec.allowed())
    return value


def _hours(spec: Field, value: Any) -> tuple[int, ...]:
    if isinstance(value, (str, bytes, Mapping)) or not hasattr(value, "__iter__"):
        raise ConfigError(spec.name, value, spec.allowed())
    hours = list(value)
    ok = all(isinstance(h, int) and not isinstance(h, bool) and 0 <= h <= 23 for h in hours)
    if not ok or len(set(hours)) != len(hours):
        raise ConfigError(spec.name, value, spec.allowed())
    return tuple(sorted(hours))


def _instant(spec: Field, value: Any) -> dt.datetime | str:
    if isinstance(value, str) and value == "now":
        return "now"
    if isinstance(value, dt.datetime):
        stamp = value
    elif isinstance(value, dt.date):
        stamp = dt.datetime(value.year, value.month, value.day)
    elif isinstance(value, str):
        try:
            stamp = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            raise ConfigError(spec.name, value, spec.allowed()) from None
    else:
        raise ConfigError(spec.name, value, spec.allowed())
    if stamp.tzinfo is None:
        stamp = stamp.replace(tzinfo=dt.timezone.utc)
    return stamp.astimezone(dt.timezone.utc)


def _names(spec: Field, value: Any) -> tuple[str, ...]:
    if isinstance(value, str):
        value = [v.strip() for v in value.split(",") if v.strip()]  # a query string's list
    if isinstance(value, (bytes, Mapping)) or not hasattr(value, "__iter__"):
        raise ConfigError(spec.name, value, spec.allowed())
    names = list(value)
    if not all(isinstance(n, str) and n for n in names) or len(set(names)) != len(names):
        raise ConfigError(spec.name, value, spec.allowed())
    if spec.choices and any(n not in spec.choices for n in names):
        raise ConfigError(spec.name, value, spec.allowed())
    return tuple(names)


def _moment(spec: Field, value: Any) -> dt.datetime | float:
    """An instant, or simulated seconds (>= 0) after the scenario's start."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        x = float(value)
        if not math.isfinite(x) or x < 0 or x > 1e12:
            raise ConfigError(spec.name, value, spec.allowed())
        return x
    if value == "now":
        raise ConfigError(spec.name, value, spec.allowed())
    out = _instant(spec, value)
    assert isinstance(out, dt.datetime)
    return out


def _date(spec: Field, value: Any) -> dt.date:
    """A calendar day: a date, a "YYYY-MM-DD" string, or a date-time at midnight."""
    if isinstance(value, str):
        try:
            value = (dt.date.fromisoformat(value) if len(value) == 10
                     else dt.datetime.fromisoformat(value.replace("Z", "+00:00")))
        except ValueError:
            raise ConfigError(spec.name, value, spec.allowed()) from None
    if isinstance(value, dt.datetime):
        if value.time() != dt.time(0) or value.utcoffset() not in (None, dt.timedelta(0)):
            raise ConfigError(spec.name, value, spec.allowed() + " (a whole UTC day)")
        return value.date()
    if isinstance(value, dt.date):
        return value
    raise ConfigError(spec.name, value, spec.allowed())


def _weights(spec: Field, value: Any) -> tuple[tuple[str, float], ...]:
    if not isinstance(value, Mapping):
        raise ConfigError(spec.name, value, spec.allowed())
    unknown = [k for k in value if k not in spec.keys]
    if unknown:
        raise ConfigError(f"{spec.name}.{unknown[0]}", value[unknown[0]],
                          "keys " + ", ".join(spec.keys))
    out = []
    for key in spec.keys:
        w = value.get(key, 0.0)
        if isinstance(w, bool) or not isinstance(w, (int, float)) or not math.isfinite(w) or w < 0:
            raise ConfigError(f"{spec.name}.{key}", w, "a non-negative number")
        out.append((key, float(w)))
    if sum(w for _, w in out) <= 0:
        raise ConfigError(spec.name, value, "weights with a positive sum")
    return tuple(out)


_CHECKS: dict[str, Callable[[Field, Any], Any]] = {
    "number": _number,
    "integer": _integer,
    "boolean": _boolean,
    "string": _string,
    "enum": _enum,
    "hours": _hours,
    "instant": _instant,
    "date": _date,
    "names": _names,
    "moment": _moment,
    "weights": _weights,
}


def closest(name: str, names: list[str]) -> str | None:
    """The valid name closest to a misspelt one, if any is close."""
    prefixed = sorted(n for n in names if len(name) >= 3 and n.startswith(name))
    if len(prefixed) == 1:  # a shortened name ("rate" for rate_per_second, not late_rate)
        return prefixed[0]
    match = difflib.get_close_matches(name, names, n=1, cutoff=0.6)
    return match[0] if match else None


def unknown_field(name: str, value: Any, names: list[str]) -> UnknownFieldError:
    near = closest(name, names)
    hint = f"; did you mean {near!r}?" if near else ""
    msg = f"{name}: unknown option{hint} (valid options: {', '.join(sorted(names))})"
    return UnknownFieldError(name, value, ", ".join(sorted(names)), detail=msg)
