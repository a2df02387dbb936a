"""The HTTP server: the original simtom's endpoints on Starlette, streaming SSE or NDJSON.

``create_app()`` builds the ASGI app; ``serve()`` runs it under uvicorn (uvloop and httptools
where installed). Every request is validated before the first byte is sent; every simtom error
becomes a JSON body with a 4xx status through one exception handler.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import sys
import threading
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
from simtom.serving._http import ClientGone, query_config, read_json_body
from simtom.serving.openapi import document
from simtom.serving.streams import HEARTBEAT, Stream, open_stream
from simtom.spec import drift as drift_
from simtom.spec.scenario import make_scenario

log = logging.getLogger("simtom.server")

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
    #: Compile and exercise the kernels at startup, so the first request pays no compile time.
    warm: bool = True
    stopper: Stopper = field(default_factory=Stopper, compare=False)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, **overrides: Any) -> Settings:
        env = os.environ if env is None else env
        values: dict[str, Any] = {}
        casts: dict[str, Callable[[str], Any]] = {
            "host": str, "port": int, "log_level": str.lower, "max_streams": int,
            "max_body": int, "heartbeat": float}
        for name, cast in casts.items():
            raw = env.get(f"SIMTOM_{name.upper()}")
            if raw is not None and raw != "":
                try:
                    values[name] = cast(raw)
                except ValueError:
                    msg = f"SIMTOM_{name.upper()}: got {raw!r}; allowed: a {cast.__name__} value"
                    raise SimtomError(msg) from None
        values.update({k: v for k, v in overrides.items() if v is not None})
        return replace(cls(), **values)


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
    """The cap on concurrent streams."""

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


class _StreamResponse(StreamingResponse):
    """A streaming response that gives its stream slot back however it ends."""

    def __init__(self, content: AsyncIterator[bytes | memoryview], *, release: Callable[[], None],
                 **kwargs: Any) -> None:
        super().__init__(content, **kwargs)
        self._release = release

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await super().__call__(scope, receive, send)
        finally:
            self._release()


def _format(request: Request) -> str:
    fmt = request.query_params.get("format")
    if fmt is not None:
        return fmt.lower()
    accept = request.headers.get("accept", "")
    return "ndjson" if any(t in accept for t in NDJSON_TYPES) else "sse"


async def _body(stream: Stream, stopper: Stopper, heartbeat: float
                ) -> AsyncIterator[bytes | memoryview]:
    preamble = stream.preamble()
    if preamble:
        yield preamble
    async for chunk in stream.chunks(stopper=stopper, heartbeat=heartbeat):
        yield chunk


def create_app(settings: Settings | None = None) -> Starlette:
    """The ASGI app. Tests build one per test; ``serve`` builds one per worker."""
    settings = settings or Settings()
    slots = _Slots(settings.max_streams)

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
        # in a thread: opening runs per-scenario preparation (a record generator's first records)
        opened = await asyncio.to_thread(open_stream, name, config, fmt=_format(request),
                                         last_event_id=last_id)
        if opened.finished:
            return Response(status_code=204, headers=opened.headers())
        slots.acquire()
        return _StreamResponse(_body(opened, settings.stopper, settings.heartbeat),
                               release=slots.release, headers=opened.headers(),
                               media_type=opened.media_type)

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
        headers = {"Retry-After": "1"} if isinstance(exc, TooManyStreams) else None
        return _json(error_body(exc), exc.status, headers)

    async def on_http_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, HTTPException)
        return _json({"error": "HTTPException", "detail": exc.detail}, exc.status_code,
                     exc.headers)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        if settings.warm:
            warm()
            threading.Thread(target=warm_scenarios, args=(settings.stopper,), name="simtom-warm",
                             daemon=True).start()
        yield
        settings.stopper.stop()

    routes = [
        Route("/", health, methods=["GET"]),
        Route("/generators", list_generators, methods=["GET"]),
        Route("/generators/{name}", one_generator, methods=["GET"]),
        Route("/stream/{name}", stream, methods=["GET", "POST"]),
        Route("/drift/{name}", drift, methods=["GET", "POST"]),
        Route("/openapi.json", openapi, methods=["GET"]),
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
    app = Starlette(routes=routes, exception_handlers=handlers, lifespan=lifespan,
                    middleware=middleware)
    app.state.settings = settings
    app.state.slots = slots
    return app


def warm() -> None:
    """Compile (or load from the cache) and run every generator's kernels and encoders once.

    Record generators have nothing to compile and are skipped. A generator that fails here is
    logged and left for its requests to report; the others still serve.
    """
    for gen in registry.generators():
        if isinstance(gen, RecordBlocks):
            continue
        try:
            for fmt in ("sse", "ndjson"):
                for pattern in ("uniform", "poisson"):
                    config = {"total_records": 4, "paced": False, "seed": 0,
                              "arrival_pattern": pattern}
                    open_stream(gen.name, config, fmt=fmt).sample()
        except Exception as exc:
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


def serve(settings: Settings, *, workers: int = 1) -> None:
    """Run the server until SIGINT or SIGTERM (then streams end and it exits within seconds)."""
    limit_malloc_arenas()

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
        })
        uvicorn.run(APP_FACTORY, factory=True, workers=workers, **common)
        return
    config = uvicorn.Config(create_app(settings), lifespan="on", **common)
    _Server(config, settings.stopper).run()


def app_from_env() -> Starlette:
    """The app of a worker process (``simtom serve --workers N``), configured by ``SIMTOM_*``."""
    limit_malloc_arenas()
    return create_app(Settings.from_env())
