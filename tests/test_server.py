"""The HTTP server, against a real uvicorn on a loopback port: the original README's requests,
SSE and NDJSON, resume, errors, limits and pacing."""

from __future__ import annotations

import datetime as dt
import json
import time

import httpx
import jsonschema
import numpy as np
import orjson
import pytest
from _live import live_server, parse_sse

import simtom
from simtom.serving.server import Settings

SEED_RECORD_FIELDS = {"transaction_id", "customer_id", "amount", "risk_score", "risk_level",
                      "installment_count", "customer_age_bracket", "product_category",
                      "device_type", "payment_provider", "_timestamp", "_record_id"}


@pytest.fixture(scope="module")
def url():
    with live_server(Settings(warm=False, max_streams=8)) as base:
        yield base


def sse_events(client, method, path, *, n=None, **kwargs):
    """Read a stream's SSE events (the first n, or all); return (events, parser, response)."""
    with client.stream(method, path, **kwargs) as resp:
        assert resp.status_code == 200, resp.read()
        chunks = []
        events = []
        for chunk in resp.iter_raw():
            chunks.append(chunk)
            if n is not None:
                events, parser = parse_sse(chunks)
                if len(events) >= n:
                    return events[:n], parser, resp
        events, parser = parse_sse(chunks)
        return events, parser, resp


def test_health_and_generators(url):
    with httpx.Client(base_url=url) as c:
        health = c.get("/").json()
        assert health["status"] == "healthy"
        assert health["version"] == simtom.__version__
        assert health["generators_available"] == len(simtom.available()) >= 1
        gens = c.get("/generators").json()
        assert [g["name"] for g in gens] == simtom.available()
        bnpl = next(g for g in gens if g["name"] == "bnpl")
        assert bnpl["description"]
        schema = bnpl["config_schema"]
        jsonschema.Draft202012Validator.check_schema(schema)
        jsonschema.validate({"rate_per_second": 2.0, "total_records": 5, "seed": 42}, schema)
        with pytest.raises(jsonschema.ValidationError):
            jsonschema.validate({"rate_per_secnd": 2.0}, schema)
        assert c.get("/generators/bnpl").json() == bnpl
        doc = c.get("/openapi.json").json()
        assert doc["openapi"].startswith("3.") and "/stream/{name}" in doc["paths"]


@pytest.mark.parametrize("body", [
    {"rate_per_second": 2.0, "total_records": 3},
    {"rate_per_second": 2.0, "total_records": 5, "seed": 42},
])
def test_the_original_readme_requests(url, body):
    with httpx.Client(base_url=url, timeout=30) as c:
        t0 = time.monotonic()
        events, parser, resp = sse_events(c, "POST", "/stream/bnpl", json=body)
        elapsed = time.monotonic() - t0
    n = body["total_records"]
    assert len(events) == n
    records = [json.loads(e.data) for e in events]
    assert [r["_record_id"] for r in records] == list(range(n))
    assert all(r.keys() >= SEED_RECORD_FIELDS for r in records)
    assert resp.headers["content-type"].startswith("text/event-stream")
    assert resp.headers["x-accel-buffering"] == "no"
    assert "no-cache" in resp.headers["cache-control"]
    seed = int(resp.headers["x-simtom-seed"])
    assert seed == body.get("seed", seed)
    assert any(f"seed={seed}" in c for c in parser.comments)
    assert parser.retry and parser.retry > 0
    # uniform at 2/s: record k is due k/2 s after the start; the last at (n-1)/2 s
    assert elapsed >= (n - 1) / 2 - 0.05
    if "seed" in body:
        expected = simtom.frame("bnpl", n=n, seed=42, rate_per_second=2.0,
                                start_time=resp.headers["x-simtom-start"])
        assert [r["transaction_id"] for r in records] == expected["transaction_id"].to_list()
        assert [r["amount"] for r in records] == expected["amount"].to_list()


@pytest.mark.parametrize("body", [
    {"rate_per_second": 2.0, "arrival_pattern": "uniform"},
    {"rate_per_second": 2.0, "arrival_pattern": "poisson"},
    {"rate_per_second": 1.0, "arrival_pattern": "nhpp", "peak_hours": [12, 19],
     "time_compression": 24.0},
    {"rate_per_second": 2.0, "arrival_pattern": "burst", "burst_intensity": 3.0,
     "burst_probability": 0.6},
])
def test_the_original_readme_arrival_pattern_requests(url, body):
    """Endless streams: read the first records, then hang up."""
    with httpx.Client(base_url=url, timeout=30) as c:
        events, _, _ = sse_events(c, "POST", "/stream/bnpl", json=body, n=2)
    records = [json.loads(e.data) for e in events]
    assert [r["_record_id"] for r in records] == [0, 1]
    assert records[0]["_timestamp"] <= records[1]["_timestamp"]


def test_line_by_line_client_sees_only_records_on_data_lines(url):
    """The original's clients: every line starting with "data: " is one JSON record."""
    body = {"rate_per_second": 500.0, "total_records": 200, "seed": 9, "arrival_pattern": "nhpp"}
    records = []
    with httpx.Client(base_url=url, timeout=30) as c, \
            c.stream("POST", "/stream/bnpl", json=body) as resp:
        for line in resp.iter_lines():
            if line.startswith("data: "):
                records.append(json.loads(line[len("data: "):]))
    assert [r["_record_id"] for r in records] == list(range(200))
    assert all("risk_score" in r for r in records)


def test_ndjson_is_byte_identical_to_sse_data(url):
    body = {"total_records": 3000, "seed": 11, "paced": False, "arrival_pattern": "burst"}
    with httpx.Client(base_url=url, timeout=60) as c:
        nd = c.post("/stream/bnpl?format=ndjson", json=body)
        nd2 = c.post("/stream/bnpl", json=body, headers={"Accept": "application/x-ndjson"})
        events, _, _ = sse_events(c, "POST", "/stream/bnpl", json=body)
    assert nd.headers["content-type"].startswith("application/x-ndjson")
    assert nd.content == nd2.content
    lines = nd.content.split(b"\n")
    assert lines[-1] == b"" and len(lines) == 3001
    assert [e.data.encode() for e in events] == lines[:-1]
    # and both are the records of the polars API, field for field
    frame = simtom.frame("bnpl", n=3000, seed=11, arrival_pattern="burst")
    first, last = orjson.loads(lines[0]), orjson.loads(lines[-2])
    assert first["transaction_id"] == frame["transaction_id"][0]
    assert last["_timestamp"] == frame["_timestamp"][-1].isoformat()
    assert last["risk_score"] == frame["risk_score"][-1]


def test_get_with_query_parameters_for_eventsource(url):
    with httpx.Client(base_url=url, timeout=30) as c:
        q = ("/stream/bnpl?seed=42&total_records=4&paced=false&arrival_pattern=nhpp"
             "&peak_hours=12&peak_hours=19")
        events, _, _resp = sse_events(c, "GET", q)
        post, _, _ = sse_events(c, "POST", "/stream/bnpl", json={
            "seed": 42, "total_records": 4, "paced": False, "arrival_pattern": "nhpp",
            "peak_hours": [12, 19]})
    assert [e.data for e in events] == [e.data for e in post]
    assert [e.id for e in events] == [e.id for e in post]


@pytest.mark.parametrize("body", [
    {"total_records": 400, "seed": 5, "paced": False, "arrival_pattern": "poisson",
     "rate_per_second": 30.0},
    # seed and start chosen by the server (a paced, real-time stream): the ids carry them
    {"total_records": 400, "rate_per_second": 4000.0, "arrival_pattern": "burst"},
])
def test_resume_at_random_points_equals_a_straight_read(url, body):
    with httpx.Client(base_url=url, timeout=30) as c:
        straight, _, _ = sse_events(c, "POST", "/stream/bnpl", json=body)
        assert len(straight) == 400
        assert len({e.id for e in straight}) == 400
        for k in [0, 1, *np.random.default_rng(2).integers(2, 398, 6).tolist(), 398]:
            rest, parser, _resp = sse_events(c, "POST", "/stream/bnpl", json=body,
                                            headers={"Last-Event-ID": straight[k].id})
            assert [e.data for e in rest] == [e.data for e in straight[k + 1:]], k
            assert [e.id for e in rest] == [e.id for e in straight[k + 1:]]
            assert any(f"resumed_at={k + 1}" in m for m in parser.comments)
        # the query-parameter form, as a page can build it
        rest, _, _ = sse_events(c, "POST", f"/stream/bnpl?last_event_id={straight[199].id}",
                                json=body)
        assert [e.data for e in rest] == [e.data for e in straight[200:]]
        # after the last record: 204, so an EventSource stops reconnecting
        end = c.post("/stream/bnpl", json=body, headers={"Last-Event-ID": straight[-1].id})
        assert end.status_code == 204 and end.content == b""


def test_an_id_from_another_configuration_is_refused(url):
    body = {"total_records": 50, "seed": 5, "paced": False}
    with httpx.Client(base_url=url, timeout=30) as c:
        events, _, _ = sse_events(c, "POST", "/stream/bnpl", json=body)
        last = events[10].id
        for other in ({**body, "seed": 6}, {**body, "arrival_pattern": "poisson"},
                      {**body, "base_default_rate": 0.05}):
            r = c.post("/stream/bnpl", json=other, headers={"Last-Event-ID": last})
            assert r.status_code == 409, other
            assert r.json()["field"] == "Last-Event-ID"
        r = c.post("/stream/bnpl", json=body, headers={"Last-Event-ID": "12; drop table"})
        assert r.status_code == 400 and r.json()["field"] == "Last-Event-ID"


@pytest.mark.parametrize(("body", "status", "field"), [
    ({"rate_per_second": "fast"}, 400, "rate_per_second"),
    ({"rate_per_second": -1}, 400, "rate_per_second"),
    ({"total_records": 1.5}, 400, "total_records"),
    ({"arrival_pattern": "weekly"}, 400, "arrival_pattern"),
    ({"peak_hours": [25]}, 400, "peak_hours"),
    ({"rate_per_secnd": 2}, 400, "rate_per_secnd"),
    ({"seed": -3}, 400, "seed"),
    ({"drift_type": "linear", "drift_targets": ["labels"]}, 400, "drift_targets"),
    ({"drift_type": "wobbly"}, 400, "drift_type"),
    ({"risk_scenario_weights": {"nope": 1}}, 400, "risk_scenario_weights.nope"),
    ([1, 2], 400, "body"),
])
def test_bad_bodies_get_4xx_json_naming_the_field(url, body, status, field):
    with httpx.Client(base_url=url, timeout=30) as c:
        r = c.post("/stream/bnpl", json=body)
    assert r.status_code == status
    assert r.headers["content-type"] == "application/json"
    err = r.json()
    assert err["field"] == field and field in err["detail"]


def test_more_bad_requests(url):
    with httpx.Client(base_url=url, timeout=30) as c:
        r = c.post("/stream/bnpl", content=b'{"rate_per_second": 2,', headers={
            "content-type": "application/json"})
        assert r.status_code == 400 and r.json()["field"] == "body"
        r = c.post("/stream/bnpl", content=b"{" + b" " * 200_000 + b"}")
        assert r.status_code == 413 and r.json()["field"] == "body"
        r = c.post("/stream/bnpl", json={"rate_per_secnd": 2})
        assert "rate_per_second" in r.json()["detail"]  # the closest valid name
        r = c.post("/stream/nope", json={})
        assert r.status_code == 404 and "bnpl" in r.json()["detail"]
        r = c.post("/stream/bnpl?format=xml", json={})
        assert r.status_code == 400 and r.json()["field"] == "format"
        r = c.post("/stream/bnpl?seed=1", json={"seed": 2})
        assert r.status_code == 400 and r.json()["field"] == "seed"
        r = c.get("/stream/bnpl?rate_per_second=abc")
        assert r.status_code == 400 and r.json()["field"] == "rate_per_second"
        r = c.get("/nowhere")
        assert r.status_code == 404 and r.headers["content-type"] == "application/json"
        r = c.delete("/stream/bnpl")
        assert r.status_code == 405


def test_stream_cap_and_disconnect_frees_the_slot():
    with live_server(Settings(warm=False, max_streams=1)) as base, \
            httpx.Client(base_url=base, timeout=30) as c:
        with c.stream("POST", "/stream/bnpl", json={"rate_per_second": 5.0}) as first:
            assert first.status_code == 200
            chunks = first.iter_raw()
            head = next(chunks)
            busy = c.post("/stream/bnpl", json={"total_records": 1})
            assert busy.status_code == 429 and busy.headers["retry-after"], (
                busy.text, head, next(chunks, None))
        # the client hung up: the server notices and frees the slot promptly
        deadline = time.monotonic() + 5
        while True:
            r = c.post("/stream/bnpl", json={"total_records": 1, "paced": False})
            if r.status_code == 200 or time.monotonic() > deadline:
                break
            time.sleep(0.05)
        assert r.status_code == 200


def test_heartbeats_while_idle():
    with live_server(Settings(warm=False, heartbeat=0.2)) as base, \
            httpx.Client(base_url=base, timeout=30) as c:
        # 0.5 records/s: the second record comes 2 s after the first
        events, parser, _ = sse_events(c, "POST", "/stream/bnpl",
                                       json={"rate_per_second": 0.5, "total_records": 2})
    assert len(events) == 2
    assert sum(m == "heartbeat" for m in parser.comments) >= 5


def test_paced_delivery_keeps_the_rate(url):
    """100 records at 50/s (uniform): record k is due k/50 s after the stream starts, and the
    stream starts after the request is sent, so record k never arrives sooner than k/50 s after
    the request (less 10 ms of clock granularity). The pacer catches up after a stall rather than
    drifting, so the records keep the rate: the Theil-Sen slope (median of the pairwise slopes
    over pairs at least 20 records apart, robust to the bursts that follow a stall on a busy
    machine) is within 10 % of 1/50 s a record. Records leave on 15 ms ticks, so one arrival is off
    its due time by up to a tick either way: over 20 records (0.4 s) that is under 8 % of a pair's
    slope, and the median of ~3,000 pairs is far tighter. No wall-clock upper bound: a stall of the
    whole machine delays every record alike and changes neither check."""
    body = {"rate_per_second": 50.0, "total_records": 100, "seed": 1}
    arrivals = []
    with httpx.Client(base_url=url, timeout=30) as c:
        sent = time.monotonic()
        with c.stream("POST", "/stream/bnpl", json=body) as resp:
            for line in resp.iter_lines():
                if line.startswith("data: "):
                    arrivals.append(time.monotonic())
    assert len(arrivals) == 100
    assert all(t - sent >= k / 50 - 0.01 for k, t in enumerate(arrivals))
    slopes = sorted((arrivals[j] - arrivals[i]) / (j - i)
                    for i in range(100) for j in range(i + 20, 100))
    assert abs(slopes[len(slopes) // 2] * 50 - 1) <= 0.10


def test_pages_of_any_origin_may_read_streams(url):
    with httpx.Client(base_url=url, timeout=30) as c:
        r = c.get("/stream/bnpl?total_records=1&paced=false",
                  headers={"Origin": "http://dashboard.example"})
        assert r.status_code == 200 and r.headers["access-control-allow-origin"] == "*"
        assert "x-simtom-seed" in r.headers["access-control-expose-headers"].lower()
        pre = c.options("/stream/bnpl", headers={
            "Origin": "http://dashboard.example", "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type, last-event-id"})
        assert pre.status_code == 200


def test_settings_from_environment_and_bad_values():
    from simtom.errors import SimtomError

    s = Settings.from_env({"SIMTOM_PORT": "9001", "SIMTOM_HOST": "0.0.0.0",
                           "SIMTOM_LOG_LEVEL": "DEBUG", "SIMTOM_MAX_STREAMS": "3"}, port=9002)
    assert (s.host, s.port, s.log_level, s.max_streams) == ("0.0.0.0", 9002, "debug", 3)
    with pytest.raises(SimtomError, match="SIMTOM_PORT: got 'eighty'"):
        Settings.from_env({"SIMTOM_PORT": "eighty"})


def test_warm_ups_run_every_block_generator_without_complaint(caplog) -> None:
    """What `simtom serve` runs at startup (the plain kernels) and then in a background thread
    (drift, noise, missing and late-record paths): every registered block generator warms up
    without a warning, record generators are skipped."""
    import logging

    from simtom.serving.server import warm, warm_scenarios

    with caplog.at_level(logging.WARNING, logger="simtom"):
        warm()
        warm_scenarios()
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING], caplog.text


def test_scenario_warm_up_stops_quietly_when_the_server_stops(caplog, monkeypatch) -> None:
    """Once the server is shutting down, the background warm-up does nothing more and reports
    no failure (imports fail while Python exits; that is not a broken generator)."""
    import logging

    import simtom.serving.server as server

    def broken(*args, **kwargs):
        raise ModuleNotFoundError("No module named 'numba.core.runtime.context'")

    stopper = server.Stopper()
    monkeypatch.setattr(server, "open_stream", broken)
    with caplog.at_level(logging.WARNING, logger="simtom"):
        server.warm_scenarios(stopper)  # running: a failure is reported
        assert "failed to warm up its scenarios" in caplog.text
        caplog.clear()
        stopper.stop()
        server.warm_scenarios(stopper)  # stopping: nothing is reported
    assert not caplog.records

    def stopping_then_broken(*args, **kwargs):  # the shutdown arrives mid warm-up
        stopper.stop()
        raise ModuleNotFoundError("No module named 'numba.core.runtime.context'")

    stopper = server.Stopper()
    monkeypatch.setattr(server, "open_stream", stopping_then_broken)
    with caplog.at_level(logging.WARNING, logger="simtom"):
        server.warm_scenarios(stopper)
    assert not caplog.records


def test_worker_processes_import_the_app_factory():
    # `simtom serve --workers N` hands uvicorn an import string: it must name the factory
    from uvicorn.importer import import_from_string

    from simtom.serving import server

    assert import_from_string(server.APP_FACTORY) is server.app_from_env


def test_a_client_that_hangs_up_mid_body_is_a_quiet_info_line(url, caplog):
    import logging
    import socket
    from urllib.parse import urlsplit

    host = urlsplit(url)
    caplog.set_level(logging.INFO, logger="simtom")
    with socket.create_connection((host.hostname, host.port)) as sock:
        sock.sendall(b"POST /stream/bnpl HTTP/1.1\r\nHost: x\r\nContent-Type: application/json"
                     b"\r\nContent-Length: 1000\r\n\r\n{\"seed\": 4")
        time.sleep(0.3)  # the server is reading the body
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and not any(
            "disconnected after" in r.getMessage() for r in caplog.records):
        time.sleep(0.05)
    gone = [r for r in caplog.records if "disconnected after" in r.getMessage()]
    assert len(gone) == 1 and gone[0].levelno == logging.INFO
    assert "10 bytes" in gone[0].getMessage()
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING or r.exc_info]


LIFECYCLE = {"lifecycle": True, "total_records": 120, "seed": 8, "paced": False,
             "rate_per_second": 0.001}


def test_a_lifecycle_stream_over_http_is_the_event_log_and_resumes(url):
    log = simtom.events("bnpl", n=120, seed=8, rate_per_second=0.001)
    with httpx.Client(base_url=url, timeout=60) as c:
        straight, _, resp = sse_events(c, "POST", "/stream/bnpl", json=LIFECYCLE)
        assert resp.headers["content-type"].startswith("text/event-stream")
        assert len(straight) == log.height
        assert [e.type for e in straight] == log["event_type"].to_list()
        assert [json.loads(e.data)["transaction_id"] for e in straight] == \
            log["transaction_id"].to_list()
        query = "&".join(f"{k}={str(v).lower()}" for k, v in LIFECYCLE.items())
        got, _, _ = sse_events(c, "GET", f"/stream/bnpl?{query}")
        assert [(e.id, e.type, e.data) for e in got] == [(e.id, e.type, e.data)
                                                          for e in straight]
        for k in (3, len(straight) // 2, len(straight) - 2):
            rest, _, _ = sse_events(c, "POST", "/stream/bnpl", json=LIFECYCLE,
                                    headers={"Last-Event-ID": straight[k].id})
            assert [(e.id, e.type, e.data) for e in rest] == [
                (e.id, e.type, e.data) for e in straight[k + 1:]], k
        end = c.post("/stream/bnpl", json=LIFECYCLE, headers={"Last-Event-ID": straight[-1].id})
        assert end.status_code == 204
        lines = c.post("/stream/bnpl?format=ndjson", json=LIFECYCLE).text.splitlines()
        assert [json.loads(line)["event_type"] for line in lines] == log["event_type"].to_list()
        bad = c.post("/stream/bnpl", json={**LIFECYCLE, "late_rate": 0.1})
        assert bad.status_code == 400 and bad.json()["field"] == "late_rate"


def test_a_paced_lifecycle_stream_is_paced_on_simulated_time(url):
    """Events are due at their simulated time / time_compression after the start: with 2e7
    simulated seconds a second, a 24-instalment loan's two years take 3 s. No event may
    arrive before it is due (less 10 ms of clock granularity); no upper bound (a busy machine
    only delays)."""
    body = {"lifecycle": True, "total_records": 40, "seed": 2, "rate_per_second": 20.0,
            "time_compression": 2e7, "start_time": "2025-01-01T00:00:00Z"}
    start = dt.datetime(2025, 1, 1, tzinfo=dt.timezone.utc)
    arrivals = []
    with httpx.Client(base_url=url, timeout=60) as c:
        sent = time.monotonic()
        with c.stream("POST", "/stream/bnpl", json=body) as resp:
            assert resp.status_code == 200
            for line in resp.iter_lines():
                if line.startswith("data: "):
                    at = dt.datetime.fromisoformat(json.loads(line[6:])["_timestamp"])
                    arrivals.append(((at - start).total_seconds(), time.monotonic() - sent))
    assert len(arrivals) > 40
    assert any(s > 86_400 * 14 for s, _ in arrivals)  # repayments weeks later
    assert all(w >= s / body["time_compression"] - 0.01 for s, w in arrivals)
