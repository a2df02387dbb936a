"""Event ids, query strings and bodies from any client: never a 5xx, every 4xx a JSON body that
names the field (property-based, with hypothesis, against a real uvicorn on loopback)."""

from __future__ import annotations

import datetime as dt

import httpx
import pytest
from _live import live_server, parse_sse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from simtom.errors import ConfigError
from simtom.serving import event_ids
from simtom.serving.server import Settings
from simtom.serving.streams import fingerprint, open_stream
from simtom.spec.scenario import COMMON_FIELDS, MAX_SEED

SHORT = {"total_records": 3, "paced": False, "seed": 42}
FUZZ = settings(deadline=None, derandomize=True,
                suppress_health_check=[HealthCheck.function_scoped_fixture,
                                       HealthCheck.too_slow])


@pytest.fixture(scope="module")
def url():
    with live_server(Settings(warm=False, max_streams=16)) as base:
        yield base


@pytest.fixture(scope="module")
def client(url):
    with httpx.Client(base_url=url, timeout=60) as c:
        yield c


def _status(client, method, path, **kwargs):
    """Status and, for an error, the JSON body (a stream's body is not read: it may not end)."""
    with client.stream(method, path, **kwargs) as resp:
        body = resp.read() if resp.status_code >= 300 else b""
        return resp.status_code, body, resp.headers


def _assert_answer(status, body, headers):
    assert status < 500, body
    if status >= 400:
        assert headers["content-type"] == "application/json"
        err = httpx.Response(status, content=body).json()
        assert "field" in err, err
        assert err["field"] in err["detail"], err


# --- the examples and the fields one by one ---------------------------------------


@pytest.mark.parametrize(("path", "last_id", "part"), [
    ("/stream/bnpl?total_records=3&paced=false&seed=42",
     "740289.999999999999999999.0.0.2683612614365361130.2c431811", "start"),
    ("/stream/bnpl?total_records=3&paced=false&seed=42&late_rate=0.1",
     "2.1.683268.212.710.7494.42.-7453760052857360885.81a6a036", "start"),
])
def test_the_ids_that_got_500_are_400_naming_the_field(client, path, last_id, part):
    status, body, _ = _status(client, "GET", path, headers={"Last-Event-ID": last_id})
    assert status == 400
    err = httpx.Response(status, content=body).json()
    assert err["field"] == "Last-Event-ID"
    assert f"whose {part} " in err["detail"]


def _real_id(config, k=1):
    events, _ = parse_sse([open_stream("bnpl", config, fmt="sse").sample(5)])
    return events[k].id


@pytest.mark.parametrize(("config", "index", "value", "part"), [
    ({**SHORT, "arrival_pattern": "poisson"}, 0, 10**15 + 1, "record"),
    ({**SHORT, "arrival_pattern": "poisson"}, 1, 10**17, "window"),
    (SHORT, 1, 5, "window"),  # uniform arrivals have no windows
    (SHORT, 2, 7, "slot"),
    (SHORT, 3, MAX_SEED + 1, "seed"),
    (SHORT, 4, event_ids.MAX_US + 1, "start"),
    (SHORT, 4, event_ids.MIN_US - 1, "start"),
])
def test_each_field_out_of_range_is_named(config, index, value, part):
    parts = _real_id(config).split(".")
    parts[index] = str(value)
    bad = ".".join(parts)
    with pytest.raises(ConfigError) as info:
        open_stream("bnpl", config, last_event_id=bad)
    assert info.value.field == "Last-Event-ID"
    assert f"whose {part} {value} is out of range" in str(info.value)
    # the unchanged id resumes
    assert open_stream("bnpl", config, last_event_id=_real_id(config)).resumed


def test_delivery_fields_are_checked():
    config = {**SHORT, "late_rate": 0.5}
    parts = _real_id(config).split(".")
    assert len(parts) == 9
    for index, value, part in ((0, 10**15 + 1, "delivered record"),
                               (2, event_ids.MAX_US, "delivery"),
                               (3, 10**15 + 1, "record")):
        bad = parts.copy()
        bad[index] = str(value)
        with pytest.raises(ConfigError, match=f"whose {part} "):
            open_stream("bnpl", config, last_event_id=".".join(bad))


def test_a_uniform_record_past_the_year_9999_is_out_of_range():
    config = {**SHORT, "total_records": None, "rate_per_second": 0.001}
    parts = _real_id(config).split(".")
    parts[0] = str(10**14)  # 10^14 records 1000 s apart: far past the year 9999
    with pytest.raises(ConfigError, match="whose record "):
        open_stream("bnpl", config, last_event_id=".".join(parts))


# --- property-based: ids ------------------------------------------------------------------

_numbers = st.one_of(st.integers(0, 9), st.integers(0, 2**40), st.integers(-(2**70), 2**70),
                     st.sampled_from([0, 10**15, 10**15 + 1, MAX_SEED, MAX_SEED + 1,
                                      event_ids.MAX_US, event_ids.MAX_US + 1, event_ids.MIN_US,
                                      event_ids.MIN_US - 1, 10**18 - 1, 10**19 - 1]))
_hex = st.text("0123456789abcdef", min_size=8, max_size=8)


def _correct_fingerprint(config, seed, start_us):
    try:
        start = dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc) + dt.timedelta(
            microseconds=start_us)
        s = open_stream("bnpl", {**config, "seed": seed, "start_time": start.isoformat()})
    except (ConfigError, OverflowError):
        return None
    return fingerprint(s.scenario)


@FUZZ
@given(delivery=st.booleans(), fields=st.lists(_numbers, min_size=8, max_size=8),
       fp=st.one_of(_hex, st.none()), pattern=st.sampled_from(["uniform", "poisson"]))
def test_any_event_id_gets_a_2xx_or_a_json_4xx(client, delivery, fields, fp, pattern):
    config = {**SHORT, "arrival_pattern": pattern}
    if delivery:
        config["late_rate"] = 0.2
    record, window, slot, seed, start_us, k, copy, e = fields
    seed, start_us = abs(seed) % (MAX_SEED + 2), start_us  # mostly valid seeds, some not
    if fp is None:  # the right fingerprint, so the resume itself is tried
        fp = _correct_fingerprint(config, seed, start_us) or "00000000"
    if delivery:
        last_id = f"{k}.{copy % 2}.{e}.{record}.{window}.{slot}.{seed}.{start_us}.{fp}"
    else:
        last_id = f"{record}.{window}.{slot}.{seed}.{start_us}.{fp}"
    query = "&".join(f"{key}={str(v).lower()}" for key, v in config.items())
    status, body, headers = _status(client, "GET", f"/stream/bnpl?{query}",
                                    headers={"Last-Event-ID": last_id})
    _assert_answer(status, body, headers)
    if status >= 400:
        assert httpx.Response(status, content=body).json()["field"] == "Last-Event-ID"


@FUZZ
@given(last_id=st.text(max_size=80))
def test_any_text_as_an_event_id_is_handled(client, last_id):
    status, body, headers = _status(client, "GET", "/stream/bnpl?total_records=3&paced=false",
                                    params={"last_event_id": last_id})
    _assert_answer(status, body, headers)


# --- property-based: query strings and bodies -----------------------------------------------

_names = st.one_of(st.sampled_from([f.name for f in COMMON_FIELDS] + [
    "economic_stress_factor", "base_default_rate", "max_customers", "repeat_customer_rate",
    "risk_scenario_weights", "denormalize_entities", "max_records", "points", "at"]),
    st.text(min_size=1, max_size=12))
_json = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(-(2**66), 2**66),
              st.floats(allow_nan=False, allow_infinity=False), st.text(max_size=30),
              st.sampled_from(["now", "2025-01-01", "2025-01-01T00:00:00Z", "9999-12-31",
                               "0001-01-01", "nhpp", "burst", "gaussian", "sudden"])),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner,
                                                                max_size=3),
    max_leaves=6)


@FUZZ
@given(options=st.dictionaries(_names, _json, max_size=6), post=st.booleans(),
       path=st.sampled_from(["/stream/bnpl", "/drift/bnpl", "/stream/bnpl?format=ndjson"]))
def test_any_configuration_gets_a_2xx_or_a_json_4xx(client, options, post, path):
    # bounded: a stream that is valid is not read, so an endless one costs nothing
    options = {**options, "paced": options.get("paced", False)}
    if post:
        status, body, headers = _status(client, "POST", path, json=options)
    else:
        params = [(k, v if isinstance(v, str) else httpx.Response(200, json=v).text)
                  for k, v in options.items()]
        status, body, headers = _status(client, "GET", path, params=params)
    _assert_answer(status, body, headers)


@FUZZ
@given(raw=st.binary(max_size=200))
def test_any_body_bytes_get_a_json_4xx_or_a_stream(client, raw):
    status, body, headers = _status(client, "POST", "/stream/bnpl?paced=false&total_records=2",
                                    content=raw)
    _assert_answer(status, body, headers)
