"""Scenario: one validated, immutable description of what to generate.

The configuration names are the original simtom's (the contract its users' code and curl commands
rely on). Common options live here; each generator adds its own (see
``generators/ecommerce/bnpl.py``).
"""

from __future__ import annotations

import datetime as dt
import math
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from simtom.errors import ConfigError
from simtom.spec.fields import Field, unknown_field

#: Where unpaced and bulk output starts when no start is given: fixed, so that
#: ``frame("bnpl", n=..., seed=42)`` is the same dataset today and next year.
DEFAULT_START = dt.datetime(2025, 1, 1, tzinfo=dt.timezone.utc)

DRIFT_TYPES = ("none", "linear", "seasonal", "sudden", "gradual")
DRIFT_TARGETS = ("covariate", "prior", "concept")
#: drift_strength when a drift_type is given without one.
DEFAULT_DRIFT_STRENGTH = 0.5
#: The span drift's defaults are relative to, for an endless stream: one simulated day.
ENDLESS_SPAN_S = 86_400.0

#: The largest seed accepted (seeds are non-negative 63-bit integers).
MAX_SEED = 2**63 - 1

#: The slowest simulated traffic: one event per ~11.6 simulated days. Slower would make the
#: arrival kernel walk millions of empty hour-long windows per event.
MIN_SIMULATED_RATE = 1e-6

COMMON_FIELDS: tuple[Field, ...] = (
    Field("rate_per_second", "number", 1.0,
          "Mean records per wall-clock second a paced client receives; with time_compression it "
          "sets the simulated rate (rate_per_second / time_compression per simulated second).",
          minimum=0.0, exclusive_minimum=True, maximum=10_000_000.0),
    Field("total_records", "integer", None,
          "Records to generate (alias max_records); null streams without end.",
          minimum=0, maximum=10**15, nullable=True),
    Field("seed", "integer", None,
          "Seed of the counter-based generator; null picks one and reports it.",
          minimum=0, maximum=MAX_SEED, nullable=True),
    Field("time_compression", "number", 1.0,
          "Simulated seconds per wall-clock second.",
          minimum=0.0, exclusive_minimum=True, maximum=1e9),
    Field("arrival_pattern", "enum", "uniform",
          "Traffic pattern of event times.", choices=("uniform", "poisson", "nhpp", "burst")),
    Field("peak_hours", "hours", (12, 19),
          "Hours of the day (0-23, simulated UTC) at the top of the nhpp profile."),
    Field("burst_intensity", "number", 2.0,
          "How much busier a burst window is than a calm one (burst pattern).",
          minimum=1.0, maximum=100.0),
    Field("burst_probability", "number", 0.3,
          "Share of windows that are bursts (burst pattern).", minimum=0.0, maximum=1.0),
    Field("noise_type", "enum", "none",
          "Noise on the generator's measured numeric fields (never ids, labels, booleans or _ "
          "fields): gaussian (sd noise_level x |value|), uniform (+- noise_level x |value|), "
          "outliers (5 % of values x 2-5 with a random sign, small gaussian otherwise).",
          choices=("none", "gaussian", "uniform", "outliers")),
    Field("noise_level", "number", 0.0, "Strength of the noise (relative to each value).",
          minimum=0.0, maximum=1.0),
    Field("missing_rate", "number", 0.0,
          "Share of values set to null in missing_fields, independently per record and field.",
          minimum=0.0, maximum=1.0),
    Field("missing_fields", "names", None,
          "Fields that go missing at missing_rate (default: the measured fields).",
          nullable=True),
    Field("late_rate", "number", 0.0,
          "Share of records delivered late: each by a delay of up to late_delay simulated "
          "seconds after its event time (out of order in the stream).",
          minimum=0.0, maximum=1.0),
    Field("duplicate_rate", "number", 0.0,
          "Share of records delivered twice (at-least-once delivery): the copy comes up to "
          "late_delay simulated seconds after the event.", minimum=0.0, maximum=1.0),
    Field("late_delay", "number", None,
          "Longest delivery delay, simulated seconds (default 60 with late or duplicate "
          "records).", minimum=0.0, exclusive_minimum=True, maximum=86_400.0 * 7,
          nullable=True),
    Field("delivery_column", "boolean", False,
          "Add _delivered_at (simulated delivery time) and _duplicate (the second copy of a "
          "duplicated record) columns."),
    Field("drift_type", "enum", "none",
          "How the data drifts over simulated time: linear (rises to full strength over "
          "drift_duration, then holds), seasonal (a sine of period drift_period, between "
          "-strength and +strength), sudden (full strength from drift_start on), gradual "
          "(each record from the new concept with a probability rising over drift_duration).",
          choices=DRIFT_TYPES),
    Field("drift_strength", "number", None,
          "How far the drift goes at full intensity, 0-1 (default 0.5 with a drift_type, 0 "
          "without); what it moves is described per generator.",
          minimum=0.0, maximum=1.0, nullable=True),
    Field("drift_targets", "names", None,
          "What drifts: any of covariate (feature distributions), prior (the label's base "
          "rate), concept (how features relate to the label). Default: every target the "
          "generator supports.", nullable=True, choices=DRIFT_TARGETS),
    Field("drift_start", "moment", None,
          "When drift begins: an ISO 8601 instant of simulated time, or simulated seconds after "
          "the start. Default: the start (linear, seasonal), a third of the scenario's span "
          "(gradual), half of it (sudden).", nullable=True),
    Field("drift_duration", "number", None,
          "linear and gradual: simulated seconds from drift_start to full strength. Default: "
          "to the end of the span (linear), a third of the span (gradual).",
          minimum=0.0, exclusive_minimum=True, maximum=1e12, nullable=True),
    Field("drift_period", "number", None,
          "seasonal: simulated seconds of one cycle. Default: half the scenario's span.",
          minimum=0.0, exclusive_minimum=True, maximum=1e12, nullable=True),
    Field("drift_column", "boolean", False,
          "Add a _drift column: each record's drift intensity (strength x the schedule's "
          "shape; 0 where nothing drifts)."),
    Field("start_date", "date", None,
          "First day (UTC) of a historical range: with end_date, the records of every day "
          "from start_date to end_date, by the calendar volume model.", nullable=True),
    Field("end_date", "date", None, "Last day (UTC, inclusive) of a historical range.",
          nullable=True),
    Field("base_daily_volume", "integer", 1000,
          "Historical mode: records on a plain day (every calendar factor 1); the calendar "
          "scales each day.", minimum=1, maximum=10**10),
    Field("calendar_effects", "boolean", None,
          "Scale each simulated day's volume by the calendar (day of week, paycheck week, "
          "month, holidays and shopping events, daily noise). Default: on in historical mode; "
          "off in real time, where true multiplies rate_per_second by the day's factor.",
          nullable=True),
    Field("include_holiday_patterns", "boolean", True,
          "With the calendar: apply the holiday and shopping-event factors."),
    Field("weekend_multiplier", "number", None,
          "With the calendar: the Saturday and Sunday factor (default: 0.85 and 0.70).",
          minimum=0.0, maximum=10.0, nullable=True),
    Field("start_time", "instant", None,
          'Simulated time of the first window: an ISO 8601 instant or "now". Default: '
          "2025-01-01T00:00:00Z for frames, files and unpaced streams; now for paced streams.",
          nullable=True),
    Field("paced", "boolean", None,
          "Streams only: true emits records when due (default), false as fast as the client "
          "reads. Frames and files are always unpaced.", nullable=True),
    Field("lifecycle", "boolean", False,
          "Output the lifecycle's event log instead of records, in time order: each "
          "application and its loan's payments, late fees, missed payments and close "
          "(generators with a lifecycle: bnpl; see simtom.events)."),
)

ALIASES = {"max_records": "total_records"}


@dataclass(frozen=True)
class Scenario:
    """A validated scenario. Build one with :func:`make_scenario` (or ``simtom.scenario``)."""

    generator: str
    seed: int
    seed_chosen: bool
    start: dt.datetime
    rate_per_second: float = 1.0
    total_records: int | None = None
    time_compression: float = 1.0
    arrival_pattern: str = "uniform"
    peak_hours: tuple[int, ...] = (12, 19)
    burst_intensity: float = 2.0
    burst_probability: float = 0.3
    noise_type: str = "none"
    noise_level: float = 0.0
    missing_rate: float = 0.0
    missing_fields: tuple[str, ...] | None = None
    late_rate: float = 0.0
    duplicate_rate: float = 0.0
    late_delay: float | None = None
    delivery_column: bool = False
    drift_type: str = "none"
    drift_strength: float = 0.0
    drift_targets: tuple[str, ...] | None = None
    drift_start: dt.datetime | None = None
    drift_duration: float | None = None
    drift_period: float | None = None
    drift_column: bool = False
    start_date: Any = None
    end_date: Any = None
    base_daily_volume: int = 1000
    calendar_effects: bool = False
    include_holiday_patterns: bool = True
    weekend_multiplier: float | None = None
    start_time: Any = None
    paced: bool | None = None
    lifecycle: bool = False
    options: Mapping[str, Any] = field(default_factory=dict)

    @property
    def start_us(self) -> int:
        """The scenario's start as integer microseconds since the Unix epoch (UTC)."""
        delta = self.start - dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc)
        return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds

    @property
    def simulated_rate(self) -> float:
        """Mean events per simulated second (of a plain day, in historical mode)."""
        return self.rate_per_second / self.time_compression

    @property
    def historical(self) -> bool:
        """True for a date range (start_date .. end_date)."""
        return self.start_date is not None

    @property
    def end_us(self) -> int | None:
        """The end of a historical range (exclusive: midnight after end_date), in µs."""
        if self.end_date is None:
            return None
        days = (self.end_date - dt.date(1970, 1, 1)).days + 1
        return int(days) * 86_400_000_000

    def to_dict(self) -> dict[str, Any]:
        """The effective configuration, JSON-ready (seed and start included)."""
        out: dict[str, Any] = {"generator": self.generator}
        for spec in COMMON_FIELDS:
            value = getattr(self, spec.name)
            if spec.name == "lifecycle" and not value:
                continue  # (absent when off: a record stream's fingerprint is what it was)
            if isinstance(value, (dt.datetime, dt.date)):
                value = value.isoformat()
            out[spec.name] = list(value) if isinstance(value, tuple) else value
        out["start_time"] = self.start.isoformat()
        for name, value in self.options.items():
            out[name] = dict(value) if isinstance(value, tuple) and value and isinstance(
                value[0], tuple) else value
        return out

    def __repr__(self) -> str:
        changed = [f"seed={self.seed}", f"start={self.start.isoformat()}"]
        # what make_scenario resolves a default (None) to
        resolved = {"drift_strength": 0.0 if self.drift_type == "none" else
                    DEFAULT_DRIFT_STRENGTH, "calendar_effects": self.historical}
        for spec in COMMON_FIELDS:
            value = getattr(self, spec.name)
            default = resolved.get(spec.name, spec.default)
            if spec.name not in ("seed", "start_time") and value != default:
                changed.append(f"{spec.name}={value!r}")
        changed += [f"{k}={v!r}" for k, v in self.options.items()]
        return f"Scenario({self.generator!r}, {', '.join(changed)})"


def make_scenario(
    generator: str,
    config: Mapping[str, Any],
    option_fields: Sequence[Field] = (),
    *,
    realtime: bool = False,
    now: dt.datetime | None = None,
) -> Scenario:
    """Validate ``config`` (common options plus ``option_fields``) into a Scenario.

    ``realtime`` marks a paced stream, whose default start is the current time; everything else
    starts at :data:`DEFAULT_START`. Raises ConfigError naming the first bad field.
    """
    specs = {f.name: f for f in COMMON_FIELDS}
    specs.update({f.name: f for f in option_fields})
    given: dict[str, Any] = {}
    for raw_name, value in config.items():
        if not isinstance(raw_name, str):
            raise ConfigError(str(raw_name), value, "option names are strings")
        name = ALIASES.get(raw_name, raw_name)
        if name not in specs:
            raise unknown_field(raw_name, value, [*specs, *ALIASES])
        if name in given and given[name] != value:
            msg = f"{raw_name}: got {value!r} but {name} is {given[name]!r}; give one of the two"
            raise ConfigError(raw_name, value, f"the same value as {name}", detail=msg)
        given[name] = value
    values = {name: spec.validate(given[name]) if name in given else spec.default
              for name, spec in specs.items()}

    if values["start_date"] is not None or values["end_date"] is not None:
        _historical(values, given)
        if values["calendar_effects"] is None:
            values["calendar_effects"] = True
    else:
        values["calendar_effects"] = bool(values["calendar_effects"])
        name = "base_daily_volume"
        if name in given and values[name] != specs[name].default:
            raise ConfigError(name, given[name], "a value only with start_date and end_date "
                              "(it sets historical mode's volume)")
    if not values["calendar_effects"]:
        for name in CALENDAR_ONLY:
            if name in given and values[name] != specs[name].default:
                raise ConfigError(name, given[name], "a value only with the calendar (a date "
                                  "range, or calendar_effects: true)")
    if values["noise_level"] > 0 and values["noise_type"] == "none":
        raise ConfigError("noise_level", given["noise_level"],
                          "0 unless noise_type is gaussian, uniform or outliers")
    if values["missing_fields"] is not None and values["missing_rate"] == 0:
        raise ConfigError("missing_fields", given["missing_fields"],
                          "null unless missing_rate is above 0")
    _delivery(values, given)
    simulated = values["rate_per_second"] / values["time_compression"]
    if simulated < MIN_SIMULATED_RATE:
        msg = (f"time_compression: got {values['time_compression']!r} with rate_per_second "
               f"{values['rate_per_second']!r}, {simulated:.3g} events per simulated second; "
               f"allowed: rate_per_second / time_compression >= {MIN_SIMULATED_RATE:g}")
        raise ConfigError("time_compression", values["time_compression"],
                          f"rate_per_second / time_compression >= {MIN_SIMULATED_RATE:g}",
                          detail=msg)
    seed = values.pop("seed")
    seed_chosen = seed is None
    if seed is None:
        seed = secrets.randbits(32)
    start_time = values["start_time"]
    if values["start_date"] is not None:
        start = dt.datetime.combine(values["start_date"], dt.time(0), dt.timezone.utc)
    elif start_time == "now" or (start_time is None and realtime):
        moment = now or dt.datetime.now(dt.timezone.utc)
        start = moment.astimezone(dt.timezone.utc)
    elif start_time is None:
        start = DEFAULT_START
    else:
        start = start_time
    _drift(values, given, start)
    common = {f.name for f in COMMON_FIELDS}
    options = {name: values.pop(name) for name in list(values) if name not in common}
    return Scenario(generator=generator, seed=seed, seed_chosen=seed_chosen, start=start,
                    options=options, **values)


#: Options that only mean something with the calendar.
CALENDAR_ONLY = ("include_holiday_patterns", "weekend_multiplier")
#: Default pacing of a historical range: one simulated day per wall-clock second.
HISTORICAL_COMPRESSION = 86_400.0


def _historical(values: dict[str, Any], given: Mapping[str, Any]) -> None:
    """Check a date range and derive its rates: ``base_daily_volume`` sets the simulated rate,
    and ``time_compression`` (default one day per second) or ``rate_per_second`` the pace."""
    first, last = values["start_date"], values["end_date"]
    if first is None or last is None:
        missing = "start_date" if first is None else "end_date"
        other = "end_date" if first is None else "start_date"
        raise ConfigError(missing, None, f"a date (YYYY-MM-DD), given with {other}")
    if last < first:
        raise ConfigError("end_date", last.isoformat(),
                          f"a date on or after start_date ({first.isoformat()})")
    if given.get("start_time") is not None:
        raise ConfigError("start_time", given["start_time"],
                          "null with a date range (start_date sets the start)")
    simulated = values["base_daily_volume"] / 86_400.0
    both = "rate_per_second" in given and "time_compression" in given
    if both and math.isclose(values["rate_per_second"],
                             simulated * values["time_compression"], rel_tol=1e-9):
        return  # consistent (a dumped configuration, given back)
    if both:
        msg = (f"rate_per_second: got {given['rate_per_second']!r} and time_compression "
               f"{given['time_compression']!r}; allowed: with a date range, one of the two "
               "(base_daily_volume sets the simulated rate)")
        raise ConfigError("rate_per_second", given["rate_per_second"],
                          "one of rate_per_second and time_compression", detail=msg)
    if "rate_per_second" in given:
        compression = values["rate_per_second"] / simulated
        if compression > 1e9:
            raise ConfigError("rate_per_second", given["rate_per_second"],
                              f"at most {1e9 * simulated:g} for this base_daily_volume")
        values["time_compression"] = compression
    else:
        if "time_compression" not in given:
            values["time_compression"] = HISTORICAL_COMPRESSION
        values["rate_per_second"] = simulated * values["time_compression"]


#: Delivery faults hold late records back; at most this many may be waiting at once
#: (expected: simulated rate x late_delay x (late_rate + duplicate_rate)).
MAX_HELD = 2_000_000
DEFAULT_LATE_DELAY = 60.0


def _delivery(values: dict[str, Any], given: Mapping[str, Any]) -> None:
    """Check the delivery faults: late_delay only with them, and a bounded holdback."""
    rates = values["late_rate"] + values["duplicate_rate"]
    if rates == 0:
        if values["late_delay"] is not None:
            raise ConfigError("late_delay", given["late_delay"],
                              "null unless late_rate or duplicate_rate is above 0")
        return
    if values["late_delay"] is None:
        values["late_delay"] = DEFAULT_LATE_DELAY
    simulated = values["rate_per_second"] / values["time_compression"]
    if values["end_date"] is not None:
        simulated = values["base_daily_volume"] * 3.0 / 86_400.0  # the busiest days
    held = simulated * values["late_delay"] * rates
    if held > MAX_HELD:
        limit = MAX_HELD / (simulated * rates)
        raise ConfigError("late_delay", values["late_delay"],
                          f"at most {limit:.6g} s at this rate (late records are held back "
                          f"until due: about {held:.3g} at once, the limit is {MAX_HELD:,})")


def span_seconds(values: Mapping[str, Any], start: dt.datetime) -> float:
    """The simulated seconds a scenario spans: its date range, the expected time of its
    total_records at its mean rate, or (endless) one simulated day."""
    if values["end_date"] is not None:
        end = dt.datetime.combine(values["end_date"], dt.time(0), dt.timezone.utc)
        return (end - start).total_seconds() + 86_400.0
    if values["total_records"]:
        return float(values["total_records"] * values["time_compression"]
                     / values["rate_per_second"])
    return ENDLESS_SPAN_S


def _drift(values: dict[str, Any], given: Mapping[str, Any], start: dt.datetime) -> None:
    """Check the drift options and resolve their defaults (relative to the scenario's span)
    into absolute values, so the effective schedule is reported with the scenario."""
    kind = values["drift_type"]
    if kind == "none":
        for name in ("drift_strength", "drift_targets", "drift_start", "drift_duration",
                     "drift_period"):
            if given.get(name) not in (None, 0, 0.0):
                raise ConfigError(name, given[name], "null unless drift_type is linear, "
                                  "seasonal, sudden or gradual")
        values["drift_strength"] = 0.0
        return
    if values["drift_strength"] is None:
        values["drift_strength"] = DEFAULT_DRIFT_STRENGTH
    if values["drift_targets"] is not None and not values["drift_targets"]:
        raise ConfigError("drift_targets", given["drift_targets"],
                          f"a non-empty list of {', '.join(DRIFT_TARGETS)}")
    ramp = kind in ("linear", "gradual")
    if values["drift_duration"] is not None and not ramp:
        raise ConfigError("drift_duration", given["drift_duration"],
                          f"null with drift_type {kind!r} (it sets linear and gradual ramps; "
                          "seasonal drift takes drift_period)")
    if values["drift_period"] is not None and kind != "seasonal":
        raise ConfigError("drift_period", given["drift_period"],
                          f"null with drift_type {kind!r} (only seasonal drift has a period)")
    span = span_seconds(values, start)
    at = values["drift_start"]
    if at is None:
        offset = {"linear": 0.0, "seasonal": 0.0, "gradual": span / 3, "sudden": span / 2}[kind]
        at = start + dt.timedelta(microseconds=round(offset * 1e6))
    elif not isinstance(at, dt.datetime):
        at = start + dt.timedelta(microseconds=round(at * 1e6))
    values["drift_start"] = at
    if kind == "linear" and values["drift_duration"] is None:
        left = span - (at - start).total_seconds()
        values["drift_duration"] = left if left > 0 else span
    elif kind == "gradual" and values["drift_duration"] is None:
        values["drift_duration"] = span / 3
    elif kind == "seasonal" and values["drift_period"] is None:
        values["drift_period"] = span / 2


def config_schema(option_fields: Sequence[Field] = (), *, title: str = "") -> dict[str, Any]:
    """JSON Schema (draft 2020-12) of a generator's configuration."""
    props = {f.name: f.json_schema() for f in (*COMMON_FIELDS, *option_fields)}
    props["max_records"] = {**props["total_records"], "description": "Alias of total_records."}
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": title or "simtom configuration",
        "type": "object",
        "additionalProperties": False,
        "properties": props,
    }
