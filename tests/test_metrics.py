"""GET /metrics (Prometheus text format) counts what was sent and refused; GET /health/ready is
503 until the kernels are loaded, 200 after (a real uvicorn on loopback)."""

from __future__ import annotations

import threading

import httpx
import pytest
from _live import live_server
from prometheus_client.parser import text_string_to_metric_families

from simtom.serving import server as server_module
from simtom.serving.server import Settings


def _samples(client: httpx.Client) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    resp = client.get("/metrics")
    assert resp.status_code == 200
    assert resp.headers["content-type"].startswith("text/plain")
    out = {}
    for family in text_string_to_metric_families(resp.text):
        for sample in family.samples:
            out[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return out


def _get(samples, name, **labels):
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


def _idle(client: httpx.Client) -> None:
    """Until no stream is open: a stream's slot comes back just after its last byte was sent,
    so the next request on the same connection may arrive first."""
    for _ in range(600):
        if sum(v for (name, _), v in _samples(client).items()
               if name == "simtom_streams_open") == 0:
            return
        threading.Event().wait(0.01)
    raise AssertionError("a stream stayed open")


def test_metrics_count_what_was_sent_refused_and_how_streams_ended():
    with live_server(Settings(warm=False, max_streams=1)) as url, \
            httpx.Client(base_url=url, timeout=60) as c:
        before = _samples(c)
        assert _get(before, "simtom_streams_refused_total", reason="too_many_streams") == 0
        sizes = []
        for n, fmt in ((50, "ndjson"), (30, "ndjson"), (20, "sse")):
            _idle(c)
            r = c.get("/stream/bnpl", params={"format": fmt, "paced": "false", "seed": 3,
                                               "total_records": n})
            assert r.status_code == 200
            sizes.append((fmt, len(r.content), r.text))
        # one paced stream open, and one refused by the stream cap meanwhile
        _idle(c)
        with c.stream("GET", "/stream/bnpl", params={"rate_per_second": 1, "seed": 1}) as held:
            assert held.status_code == 200
            during = _samples(c)
            assert c.get("/stream/bnpl", params={"paced": "false"}).status_code == 429
        after = _samples(c)
    nd = {"generator": "bnpl", "format": "ndjson"}
    sse = {"generator": "bnpl", "format": "sse"}
    assert _get(after, "simtom_records_sent_total", **nd) == 80
    assert _get(after, "simtom_bytes_sent_total", **nd) == sum(
        size for fmt, size, _ in sizes if fmt == "ndjson")
    assert _get(after, "simtom_records_sent_total", **sse) >= 20  # and the paced one's
    assert _get(after, "simtom_streams_ended_total", **nd, ended="complete") == 2
    assert _get(after, "simtom_streams_ended_total", **sse, ended="complete") == 1
    assert _get(after, "simtom_streams_refused_total", reason="too_many_streams") == 1
    assert _get(during, "simtom_streams_open", **sse) == 1
    assert _get(during, "simtom_stream_memory_reserved_bytes") == Settings().stream_memory
    assert _get(after, "simtom_generate_seconds_count", generator="bnpl") >= 3
    assert _get(after, "simtom_encode_seconds_count", format="ndjson") >= 2
    assert _get(after, "simtom_stream_peak_held_bytes_count") >= 3
    assert _get(after, "process_resident_memory_bytes") > 0


def test_ready_is_503_until_the_kernels_are_loaded(monkeypatch):
    release = threading.Event()
    started = threading.Event()
    real = server_module.warm

    def slow_warm(stopper=None):
        started.set()
        release.wait(60)
        real(stopper)

    monkeypatch.setattr(server_module, "warm", slow_warm)
    monkeypatch.setattr(server_module, "warm_scenarios", lambda stopper=None: None)
    with live_server(Settings(warm=True)) as url, httpx.Client(base_url=url, timeout=60) as c:
        assert started.wait(30)
        # the server listens at once; `GET /` answers, readiness waits for the kernels
        assert c.get("/").status_code == 200
        waiting = c.get("/health/ready")
        assert waiting.status_code == 503 and waiting.headers["retry-after"] == "1"
        assert waiting.json()["status"] == "warming"
        release.set()
        for _ in range(600):
            ready = c.get("/health/ready")
            if ready.status_code == 200:
                break
            threading.Event().wait(0.1)
        assert ready.status_code == 200 and ready.json()["status"] == "ready"


@pytest.mark.parametrize("path", ["/metrics", "/health/ready"])
def test_the_new_endpoints_are_in_the_openapi_document(path):
    from simtom.serving.openapi import document

    assert path in document("0")["paths"]
