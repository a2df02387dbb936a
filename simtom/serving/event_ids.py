"""SSE event ids: parsed and range-checked field by field before anything is computed from them.

An id names a record and what a stateless server needs to continue just after it (see
``streams``): ``<record>.<window>.<slot>.<seed>.<start_us>.<fingerprint>``, or with delivery
faults ``<record>.<copy>.<delivery>.<record>.<window>.<slot>.<seed>.<start_us>.<fingerprint>``,
and of a lifecycle stream the same with the event's place among its application's events for
the copy and its time for the delivery.
A client may send anything as ``Last-Event-ID``; every field is checked against what this
server can have sent, and a bad one is a 400 naming ``Last-Event-ID`` and the field in the id:

- record numbers: 0 to :data:`MAX_RECORD`;
- seed: 0 to ``MAX_SEED`` (the ``seed`` option's range);
- start: an instant (µs since 1970) from year 1 to 9999, what ``start_time`` can be;
- delivery: at most the µs from the start to the year 9999;
- window and slot: checked against the scenario once it is known (:func:`check_position`):
  the window's time within year 9999 (for a real-time calendar stream, within the century its
  day table first covers), and both 0 for uniform arrivals, which have no windows.

An id of another configuration (its fingerprint differs) is a 409, raised by ``streams``.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from simtom.engine.arrivals import FIRST_TABLE_DAYS, US_PER_DAY, Arrivals
from simtom.errors import ConfigError
from simtom.spec.scenario import MAX_SEED

FIELD = "Last-Event-ID"
#: The largest record number an id may name (total_records' maximum).
MAX_RECORD = 10**15
_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc)
#: The instants a start may be (µs since 1970): what a datetime can hold, in UTC.
MIN_US = (dt.datetime(1, 1, 1, tzinfo=dt.timezone.utc) - _EPOCH) // dt.timedelta(microseconds=1)
MAX_US = (dt.datetime(9999, 12, 31, 23, 59, 59, 999_999, tzinfo=dt.timezone.utc)
          - _EPOCH) // dt.timedelta(microseconds=1)

_ID = re.compile(r"(\d{1,18})\.(\d{1,18})\.(\d{1,9})\.(\d{1,19})\.(-?\d{1,19})\.([0-9a-f]{8})")
_DELIVERY_ID = re.compile(r"(\d{1,18})\.(\d{1,3})\.(\d{1,19})\.(\d{1,18})\.(\d{1,18})\.(\d{1,9})"
                          r"\.(\d{1,19})\.(-?\d{1,19})\.([0-9a-f]{8})")
_FORMS = ("an event id sent by this server (record.window.slot.seed.start.hash, or "
          "record.copy.delivery.record.window.slot.seed.start.hash with late or duplicate "
          "records or a lifecycle)")
#: The largest place of an event among its application's a lifecycle id may name.
MAX_EVENT_INDEX = 99  # (a BNPL loan has at most 2 x 24 + 1 events)


@dataclass(frozen=True)
class EventId:
    """A parsed id: the position after the record named (or, with delivery faults, the position
    to rebuild from), the seed, the start (µs), the configuration's fingerprint and, with
    delivery faults, the item last sent as (delivery µs after the start, record, copy)."""

    text: str
    record: int
    window: int
    slot: int
    seed: int
    start_us: int
    fingerprint: str
    delivered: tuple[int, int, int] | None = None

    @property
    def start(self) -> dt.datetime:
        return _EPOCH + dt.timedelta(microseconds=self.start_us)


def parse(value: str) -> EventId:
    """Split and range-check an event id; ConfigError (400) naming the bad field otherwise."""
    text = value.strip()
    found = _DELIVERY_ID.fullmatch(text)
    if found is not None:
        k, c, e, record, window, slot, seed, start_us = (int(g) for g in found.groups()[:8])
        _check(value, "record", record, 0, MAX_RECORD)
        _check(value, "delivered record", k, 0, MAX_RECORD)
        _check_common(value, seed, start_us)
        _check(value, "delivery", e, 0, MAX_US - start_us)
        return EventId(value, record, window, slot, seed, start_us, found.group(9), (e, k, c))
    match = _ID.fullmatch(text)
    if match is None:
        raise ConfigError(FIELD, value, _FORMS)
    record, window, slot, seed, start_us = (int(g) for g in match.groups()[:5])
    _check(value, "record", record, 0, MAX_RECORD)
    _check_common(value, seed, start_us)
    return EventId(value, record, window, slot, seed, start_us, match.group(6))


def check_item(event: EventId, *, lifecycle: bool) -> None:
    """Check the item an id of a delivery or lifecycle stream names: a record's first or
    second copy, or an event's place among its application's."""
    assert event.delivered is not None
    if lifecycle:
        _check(event.text, "event index", event.delivered[2], 0, MAX_EVENT_INDEX)
    else:
        _check(event.text, "copy", event.delivered[2], 0, 1,
               why="a record is delivered at most twice")


def check_position(event: EventId, arrivals: Arrivals) -> None:
    """Check the id's window and slot (and a uniform stream's record time) against the
    scenario's arrival process: what a stream of this configuration can have sent."""
    first = arrivals.start().window
    if arrivals.pattern == "uniform":
        _check(event.text, "window", event.window, 0, 0, why="uniform arrivals have no windows")
        _check(event.text, "slot", event.slot, 0, 0, why="uniform arrivals have no windows")
        last = int((MAX_US - arrivals.start_us) // arrivals.period_us)
        _check(event.text, "record", event.record, 0, min(MAX_RECORD, last),
               why="a record before the year 10000 at this rate")
        return
    last = MAX_US // arrivals.window_us - first
    why = "a window of this stream before the year 10000"
    if arrivals.growing:  # a real-time calendar: within its first day table (a century)
        last = min(last, (int(arrivals.day0) + FIRST_TABLE_DAYS) * US_PER_DAY
                   // arrivals.window_us - first)
        why = f"a window of this stream's first {FIRST_TABLE_DAYS} days"
    _check(event.text, "window", event.window, 0, last, why=why)


def _check_common(value: str, seed: int, start_us: int) -> None:
    _check(value, "seed", seed, 0, MAX_SEED)
    _check(value, "start", start_us, MIN_US, MAX_US,
           why="µs since 1970 of an instant from year 1 to 9999")


def _check(value: str, part: str, got: int, lo: int, hi: int, *, why: str | None = None) -> None:
    if lo <= got <= hi:
        return
    allowed = f"{part} from {lo} to {hi}" + (f" ({why})" if why else "")
    detail = (f"{FIELD}: got {value!r}, whose {part} {got} is out of range; allowed: "
              f"{allowed}")
    raise ConfigError(FIELD, value, allowed, detail=detail)


__all__ = ["MAX_RECORD", "MAX_US", "MIN_US", "EventId", "check_item", "check_position", "parse"]
