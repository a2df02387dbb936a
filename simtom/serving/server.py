"""The HTTP server: the original simtom's endpoints on Starlette, streaming SSE or NDJSON.

``create_app()`` builds the ASGI app; ``serve()`` runs it under uvicorn (uvloop and httptools
where installed). Every request is validated before the first byte is sent; every simtom error
becomes a JSON body with a 4xx status through one exception handler.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import gc
import logging
import os
import sys
import threading
import time
from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

import orjson
import uvicorn
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

from simtom._version import __version__
from simtom.engine import registry
from simtom.engine.generator import BlockGenerator
from simtom.engine.records import RecordBlocks
from simtom.errors import ConfigError, SimtomError
from simtom.outputs.pacer import Stopper
from simtom.serving import precompile
from simtom.serving._http import ClientGone, query_config, read_json_body
from simtom.serving._malloc import trim
from simtom.serving.budget import (
    MAX_MEMORY,
    MIN_STREAM_MEMORY,
    STREAM_MEMORY,
    MemoryBudget,
    MemoryBusy,
    parse_bytes,
)
from simtom.serving.deadline import TRANSPORT, SendWatch, transport_of
from simtom.serving.metrics import Metrics
from simtom.serving.openapi import document
from simtom.serving.streams import HEARTBEAT, Stream, StreamStats, fingerprint, open_stream
from simtom.spec import drift as drift_
from simtom.spec.scenario import make_scenario

log = logging.getLogger("simtom.server")
#: One line per stream when it ends, as key=value pairs (logfmt).
access = logging.getLogger("simtom.access")
#: Default send timeout (seconds): see ``deadline``.
SEND_TIMEOUT = 30.0

NDJSON_TYPES = ("application/x-ndjson", "application/ndjson", "application/jsonl",
                "application/x-jsonlines")


@dataclass(frozen=True)
class Settings:
    """Server settings; ``from_env`` reads ``SIMTOM_*`` variables."""

    host: str = "127.0.0.1"
    port: int = 8000
    log_level: str = "info"
    #: Streams served at once; one more gets 429 with Retry-After.
    max_streams: int = 64
    #: Largest accepted request body (bytes); larger gets 413.
    max_body: int = 64 * 1024
    #: Idle seconds between SSE heartbeat comments.
    heartbeat: float = HEARTBEAT
    #: Bytes one stream may hold (blocks being generated, encoded, queued, sent).
    stream_memory: int = STREAM_MEMORY
    #: Bytes the server process may use; a stream that would go over gets 503.
    max_memory: int = MAX_MEMORY
    #: Seconds a client may accept no bytes while some wait for it, before its stream is dropped.
    send_timeout: float = SEND_TIMEOUT
    #: Compile and exercise the kernels at startup, so the first request pays no compile time.
    warm: bool = True
    stopper: Stopper = field(default_factory=Stopper, compare=False)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, **overrides: Any) -> Settings:
        env = os.environ if env is None else env
        values: dict[str, Any] = {}
        casts: dict[str, Callable[[str], Any]] = {
            "host": str, "port": int, "log_level": str.lower, "max_streams": int,
            "max_body": int, "heartbeat": float, "send_timeout": float,
            "stream_memory": functools.partial(parse_bytes, "SIMTOM_STREAM_MEMORY"),
            "max_memory": functools.partial(parse_bytes, "SIMTOM_MAX_MEMORY")}
        for name, cast in casts.items():
            raw = env.get(f"SIMTOM_{name.upper()}")
            if raw is not None and raw != "":
                try:
                    values[name] = cast(raw)
                except ValueError:
                    kind = getattr(cast, "__name__", "size")
                    msg = f"SIMTOM_{name.upper()}: got {raw!r}; allowed: a {kind} value"
                    raise SimtomError(msg) from None
        values.update({k: v for k, v in overrides.items() if v is not None})
        settings = replace(cls(), **values)
        settings.check()
        return settings

    def check(self) -> None:
        """Refuse settings that cannot work, naming the setting."""
        if self.stream_memory < MIN_STREAM_MEMORY:
            msg = (f"stream_memory (SIMTOM_STREAM_MEMORY, --stream-memory): got "
                   f"{self.stream_memory} bytes; allowed: at least {MIN_STREAM_MEMORY} (1MiB)")
            raise SimtomError(msg)
        if not self.send_timeout > 0:
            msg = (f"send_timeout (SIMTOM_SEND_TIMEOUT, --send-timeout): got "
                   f"{self.send_timeout}; allowed: seconds > 0")
            raise SimtomError(msg)
        if self.max_memory < self.stream_memory:
            msg = (f"max_memory (SIMTOM_MAX_MEMORY, --max-memory): got {self.max_memory} bytes;"
                   f" allowed: at least stream_memory ({self.stream_memory})")
            raise SimtomError(msg)


def _json(content: Any, status: int = 200, headers: Mapping[str, str] | None = None) -> Response:
    return Response(orjson.dumps(content), status_code=status, headers=headers,
                    media_type="application/json")


def error_body(exc: SimtomError) -> dict[str, Any]:
    body: dict[str, Any] = {"error": type(exc).__name__, "detail": str(exc)}
    for name in ("field", "value", "allowed"):
        if hasattr(exc, name):
            value = getattr(exc, name)
            body[name] = value if isinstance(value, (str, int, float, bool, type(None))) \
                else repr(value)
    return body


class TooManyStreams(SimtomError):
    status = 429


class _Slots:
    """The cap on concurrent streams; when the last one ends, freed memory goes back to the OS."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.active = 0

    def acquire(self) -> None:
        if self.active >= self.limit:
            msg = (f"streams: {self.active} open, the server's limit is {self.limit} "
                   "(SIMTOM_MAX_STREAMS); retry later")
            raise TooManyStreams(msg)
        self.active += 1

    def release(self) -> None:
        self.active -= 1
        if self.active == 0:
            _give_back_memory()


def _give_back_memory() -> None:
    """Return freed heap memory to the OS now and once more a second later (worker threads
    may still be finishing a stream's last block), off the event loop. A cancelled stream's
    blocks can be held by reference cycles (its task, the exception, the frames), so the
    cycle collector runs first."""
    loop = asyncio.get_running_loop()
    loop.run_in_executor(None, _collect_and_trim)
    loop.call_later(1.0, lambda: loop.run_in_executor(None, _collect_and_trim))


def _collect_and_trim() -> None:
    gc.collect()
    trim(0.0)


class _StreamResponse(StreamingResponse):
    """A stream's response: gives its slot and memory back however it ends, drops a client that
    accepts no bytes for the send timeout, and logs one access line when it ends."""

    def __init__(self, opened: Stream, settings: Settings, *, release: Callable[[], None],
                 number: int, metrics: Metrics, registry: set[StreamStats]) -> None:
        self.metrics = metrics
        self.open_streams = registry
        labels = {"generator": opened.scenario.generator, "format": opened.fmt}
        self.labels = labels
        self._records = metrics.records.labels(**labels)
        self._bytes = metrics.bytes.labels(**labels)
        generate = metrics.generate.labels(generator=opened.scenario.generator)
        encode = metrics.encode.labels(format=opened.fmt)
        sizes = {stage: metrics.block_records.labels(stage=stage)
                 for stage in ("generate", "encode")}

        def observe(stage: str, seconds: float, records: int) -> None:
            (generate if stage == "generate" else encode).observe(seconds)
            sizes[stage].observe(records)

        self.stats = StreamStats(observe=observe)
        self.opened = opened
        self.settings = settings
        self.number = number
        self.complete = False
        super().__init__(self._body(), headers=opened.headers(), media_type=opened.media_type)
        self._release = release

    async def _body(self) -> AsyncIterator[bytes | memoryview]:
        stats = self.stats
        preamble = self.opened.preamble()
        if preamble:
            stats.bytes += len(preamble)
            self._bytes.inc(len(preamble))
            yield preamble
        records = stats.records
        async for chunk in self.opened.chunks(stopper=self.settings.stopper,
                                              heartbeat=self.settings.heartbeat, stats=stats):
            self._records.inc(stats.records - records)
            self._bytes.inc(len(chunk))
            records = stats.records
            yield chunk
        self.complete = not self.settings.stopper.stopped

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        started = time.monotonic()
        self.open_streams.add(self.stats)
        self.metrics.open.labels(**self.labels).inc()
        watch = SendWatch(scope.get(TRANSPORT), self.settings.send_timeout)
        watcher = asyncio.ensure_future(watch.run(lambda: self._dropped(watch)))
        failed = False
        try:
            await super().__call__(scope, receive, watch.wrap(send))
        except Exception:
            failed = True
            raise
        finally:
            watcher.cancel()
            self._release()
            if self.complete:
                ended = "complete"
            elif watch.dropped:
                ended = "send_timeout"
            elif self.settings.stopper.stopped:
                ended = "shutdown"
            elif failed:
                ended = "error"
            else:
                ended = "client_closed"
            self.open_streams.discard(self.stats)
            self.metrics.open.labels(**self.labels).dec()
            self.metrics.ended.labels(**self.labels, ended=ended).inc()
            self.metrics.peak.observe(self.stats.peak)
            self._log(ended, time.monotonic() - started, watch)

    def _dropped(self, watch: SendWatch) -> None:
        log.info("simtom: stream %s dropped: the client accepted no bytes for %.0f s "
                 "(send timeout); it had accepted %d bytes, %d records sent",
                 self._name(), self.settings.send_timeout, watch.accepted_bytes,
                 self.stats.records)

    def _name(self) -> str:
        s = self.opened.scenario
        return f"{self.number}:{s.generator}:{s.seed}:{fingerprint(s)}"

    def _log(self, ended: str, seconds: float, watch: SendWatch) -> None:
        s, stats = self.opened.scenario, self.stats
        access.info(
            "stream=%s generator=%s seed=%d config=%s format=%s paced=%s resumed_at=%s "
            "records=%d bytes=%d accepted=%d peak_held=%d seconds=%.3f ended=%s",
            self.number, s.generator, s.seed, fingerprint(s), self.opened.fmt,
            str(self.opened.paced).lower(),
            self.opened.position.record if self.opened.resumed else "-", stats.records,
            stats.bytes, watch.accepted_bytes, stats.peak, seconds, ended)


class _App(Starlette):
    """The app, keeping each connection's transport in its scope before any middleware wraps
    ``send`` (send deadlines abort a stalled connection through it)."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            scope[TRANSPORT] = transport_of(send)
        await super().__call__(scope, receive, send)


def _format(request: Request) -> str:
    fmt = request.query_params.get("format")
    if fmt is not None:
        return fmt.lower()
    accept = request.headers.get("accept", "")
    return "ndjson" if any(t in accept for t in NDJSON_TYPES) else "sse"


def create_app(settings: Settings | None = None) -> Starlette:
    """The ASGI app. Tests build one per test; ``serve`` builds one per worker."""
    settings = settings or Settings()
    settings.check()
    slots = _Slots(settings.max_streams)
    memory = MemoryBudget(settings.max_memory, settings.stream_memory)
    numbers = [0]  # streams opened so far: each stream's number in the logs
    ready = threading.Event()
    open_streams: set[StreamStats] = set()
    metrics = Metrics(held=lambda: float(sum(s.held for s in list(open_streams))),
                      reserved=lambda: float(memory.reserved))

    async def health(request: Request) -> Response:
        return _json({"status": "healthy", "version": __version__,
                      "generators_available": len(registry.available())})

    def describe(gen: BlockGenerator) -> dict[str, Any]:
        return {"name": gen.name, "description": gen.description,
                "config_schema": gen.config_schema()}

    async def list_generators(request: Request) -> Response:
        return _json([describe(g) for g in registry.generators()])

    async def one_generator(request: Request) -> Response:
        return _json(describe(registry.get(request.path_params["name"])))

    async def request_config(request: Request, *, steering: tuple[str, ...] = ()
                             ) -> tuple[dict[str, Any], dict[str, Any]]:
        """The configuration of a request (query, and a POST's JSON body, each option given
        once), and apart from it the ``steering`` parameters (``points`` ...) found there."""
        config = query_config(request.query_params)
        extra = {key: config.pop(key) for key in steering if key in config}
        if request.method == "POST":
            body = await read_json_body(request, settings.max_body)
            for key in (*config, *extra):
                if key in body:
                    raise ConfigError(key, body[key], "given once, in the body or the query")
            extra.update({key: body.pop(key) for key in steering if key in body})
            config.update(body)
        return config, extra

    async def stream(request: Request) -> Response:
        name = request.path_params["name"]
        registry.get(name)  # an unknown generator is a 404 before anything else
        config, _ = await request_config(request)
        last_id = (request.headers.get("last-event-id")
                   or request.query_params.get("last_event_id")
                   or request.query_params.get("lastEventId"))
        # refusals first, in the event loop and in microseconds: the stream cap, then memory
        try:
            slots.acquire()
        except TooManyStreams:
            metrics.refused.labels(reason="too_many_streams").inc()
            raise
        try:
            memory.admit()
        except BaseException as exc:
            slots.release()
            if isinstance(exc, MemoryBusy):
                metrics.refused.labels(reason="memory").inc()
            raise

        def release() -> None:
            memory.release()
            slots.release()

        try:
            # in a thread: opening runs per-scenario preparation (a record generator's first
            # records, a resumed stream's delivery check)
            opened = await asyncio.to_thread(open_stream, name, config, fmt=_format(request),
                                             last_event_id=last_id,
                                             memory=settings.stream_memory)
        except BaseException:
            release()
            raise
        if opened.finished:
            release()
            return Response(status_code=204, headers=opened.headers())
        numbers[0] += 1
        return _StreamResponse(opened, settings, release=release, number=numbers[0],
                               metrics=metrics, registry=open_streams)

    async def drift(request: Request) -> Response:
        name = request.path_params["name"]
        generator = registry.get(name)
        config, extra = await request_config(request, steering=("points", "at"))
        at = extra.get("at")
        if isinstance(at, str):  # one instant in the query (repeated: a list already)
            at = [at]
        # like a stream of this configuration: a paced one without start_time starts now
        scenario = make_scenario(name, config, generator.options,
                                 realtime=config.get("paced") in (None, True))
        table = await asyncio.to_thread(drift_.schedule, scenario, generator, at=at,
                                        points=extra.get("points"))
        return _json({"generator": name, "scenario": scenario.to_dict(),
                      "schedule": drift_.schedule_rows(table)})

    async def openapi(request: Request) -> Response:
        return _json(document(__version__))

    async def on_simtom_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, SimtomError)
        if isinstance(exc, ClientGone):
            log.info("simtom: %s %s: %s", request.method, request.url.path, exc)
        headers = {"Retry-After": "1"} if isinstance(exc, (TooManyStreams, MemoryBusy)) else None
        return _json(error_body(exc), exc.status, headers)

    async def on_http_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, HTTPException)
        return _json({"error": "HTTPException", "detail": exc.detail}, exc.status_code,
                     exc.headers)

    def warm_up() -> None:
        """Load (or compile) the kernels, then say the server is ready; then the scenarios'.
        On a fresh Numba cache the encoder compiles in a child process meanwhile."""
        precompile.start()
        warm(settings.stopper)
        memory.settle()
        ready.set()
        warm_scenarios(settings.stopper)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        if settings.warm:  # in the background: the server accepts connections at once
            threading.Thread(target=warm_up, name="simtom-warm", daemon=True).start()
        else:
            ready.set()
        yield
        settings.stopper.stop()

    async def health_ready(request: Request) -> Response:
        if ready.is_set():
            return _json({"status": "ready", "version": __version__})
        return _json({"status": "warming", "detail": "the kernels are loading (or compiling, "
                      "on a fresh cache); streams are served meanwhile, the first ones slower"},
                     503, {"Retry-After": "1"})

    async def metrics_page(request: Request) -> Response:
        return Response(metrics.render(), media_type=metrics.content_type)

    routes = [
        Route("/", health, methods=["GET"]),
        Route("/generators", list_generators, methods=["GET"]),
        Route("/generators/{name}", one_generator, methods=["GET"]),
        Route("/stream/{name}", stream, methods=["GET", "POST"]),
        Route("/drift/{name}", drift, methods=["GET", "POST"]),
        Route("/openapi.json", openapi, methods=["GET"]),
        Route("/health/ready", health_ready, methods=["GET"]),
        Route("/metrics", metrics_page, methods=["GET"]),
    ]
    async def on_bug(request: Request, exc: Exception) -> Response:
        log.exception("simtom: unexpected error on %s %s", request.method, request.url.path)
        return _json({"error": "InternalError", "detail": f"{type(exc).__name__}: {exc}"}, 500)

    handlers: dict[Any, Any] = {SimtomError: on_simtom_error, HTTPException: on_http_error,
                                Exception: on_bug}
    # Any page may read the streams (EventSource, fetch): the data is synthetic by design.
    middleware = [Middleware(CORSMiddleware, allow_origins=["*"], allow_methods=["GET", "POST"],
                             allow_headers=["*"],
                             expose_headers=["X-Simtom-Seed", "X-Simtom-Start",
                                             "X-Simtom-Generator"])]
    app = _App(routes=routes, exception_handlers=handlers, lifespan=lifespan,
               middleware=middleware)
    app.state.settings = settings
    app.state.slots = slots
    app.state.memory = memory
    app.state.metrics = metrics
    app.state.ready = ready
    return app


def warm(stopper: Stopper | None = None) -> None:
    """Compile (or load from the cache) and run every generator's kernels and encoders once.

    Record generators have nothing to compile and are skipped. A generator that fails here is
    logged and left for its requests to report; the others still serve. Once ``stopper`` is
    set (the server is shutting down) it stops, and a failure then is not one.
    """
    for gen in registry.generators():
        if isinstance(gen, RecordBlocks):
            continue
        try:
            for fmt in ("sse", "ndjson"):
                for pattern in ("uniform", "poisson"):
                    if stopper is not None and stopper.stopped:
                        return
                    config = {"total_records": 4, "paced": False, "seed": 0,
                              "arrival_pattern": pattern}
                    open_stream(gen.name, config, fmt=fmt).sample()
        except Exception as exc:
            if stopper is not None and stopper.stopped:
                return
            log.warning("simtom: generator %s failed to warm up: %s: %s", gen.name,
                        type(exc).__name__, exc)


#: A configuration that runs the scenarios' kernels: drift (and its schedule), noise, missing
#: values, the delivery hold-back.
SCENARIO_WARMUP = {"total_records": 4, "paced": False, "seed": 0, "drift_type": "gradual",
                   "drift_column": True, "noise_type": "outliers", "noise_level": 0.1,
                   "missing_rate": 0.1, "late_rate": 0.5}


def warm_scenarios(stopper: Stopper | None = None) -> None:
    """Load the scenarios' kernels too (what a first request with drift, noise or late records
    would otherwise pay). Run in a background thread once the server serves: a plain stream,
    the common first request, does not wait for it. Once ``stopper`` is set (the server is
    shutting down) it stops, and a failure then (imports fail while Python exits) is not one."""
    for gen in registry.generators():
        if isinstance(gen, RecordBlocks):
            continue
        if stopper is not None and stopper.stopped:
            return
        try:
            open_stream(gen.name, SCENARIO_WARMUP, fmt="sse").sample()
            drift_.schedule(make_scenario(gen.name, SCENARIO_WARMUP, gen.options), gen,
                           points=2)
        except Exception as exc:
            if stopper is not None and stopper.stopped:
                return
            log.warning("simtom: generator %s failed to warm up its scenarios: %s: %s",
                        gen.name, type(exc).__name__, exc)


class _Server(uvicorn.Server):
    """uvicorn's server, told to end open streams first when a shutdown signal arrives."""

    def __init__(self, config: uvicorn.Config, stopper: Stopper) -> None:
        super().__init__(config)
        self.stopper = stopper

    def handle_exit(self, sig: int, frame: Any) -> None:
        self.stopper.stop()  # streams end at their next slice or nap (<= 0.25 s)
        super().handle_exit(sig, frame)


#: Seconds uvicorn waits for open connections on shutdown before cancelling them.
GRACEFUL_SECONDS = 3


def limit_malloc_arenas(arenas: int = 2) -> bool:
    """Ask glibc for at most ``arenas`` malloc arenas (best effort; True if it took).

    Blocks are made in worker threads; by default glibc gives each thread its own arena, and
    each arena keeps the free space of the blocks it once held, so a long unpaced stream's
    memory creeps up with the number of threads that ever touched a block. Must run before
    those threads start.
    """
    import ctypes
    import ctypes.util

    name = ctypes.util.find_library("c")
    if sys.platform != "linux" or not name:
        return False
    try:
        libc = ctypes.CDLL(name)
        return bool(libc.mallopt(-8, arenas))  # -8 is M_ARENA_MAX
    except (OSError, AttributeError):
        return False


#: What each worker process of ``simtom serve --workers N`` imports to build its app.
APP_FACTORY = f"{__name__}:app_from_env"


def log_at(level: str) -> None:
    """simtom's own log lines (``simtom.server``, ``simtom.access``) at the server's level."""
    logging.getLogger("simtom").setLevel(
        {"trace": logging.DEBUG}.get(level, getattr(logging, level.upper(), logging.INFO)))


def serve(settings: Settings, *, workers: int = 1) -> None:
    """Run the server until SIGINT or SIGTERM (then streams end and it exits within seconds)."""
    limit_malloc_arenas()
    log_at(settings.log_level)

    common: dict[str, Any] = {
        "host": settings.host, "port": settings.port, "log_level": settings.log_level,
        "timeout_graceful_shutdown": GRACEFUL_SECONDS, "server_header": False,
    }
    if workers > 1:
        # Each worker process builds its app from the environment.
        os.environ.update({
            "SIMTOM_MAX_STREAMS": str(settings.max_streams),
            "SIMTOM_MAX_BODY": str(settings.max_body),
            "SIMTOM_HEARTBEAT": str(settings.heartbeat),
            "SIMTOM_STREAM_MEMORY": str(settings.stream_memory),
            "SIMTOM_MAX_MEMORY": str(settings.max_memory),
            "SIMTOM_SEND_TIMEOUT": str(settings.send_timeout),
        })
        uvicorn.run(APP_FACTORY, factory=True, workers=workers, **common)
        return
    config = uvicorn.Config(create_app(settings), lifespan="on", **common)
    _Server(config, settings.stopper).run()


def app_from_env() -> Starlette:
    """The app of a worker process (``simtom serve --workers N``), configured by ``SIMTOM_*``."""
    limit_malloc_arenas()
    settings = Settings.from_env()
    log_at(settings.log_level)
    return create_app(settings)
