"""Test helpers: a real uvicorn server on a loopback port, and a spec-following SSE parser.

In-process ASGI transports buffer whole bodies and hang on endless streams, so server tests talk
to a real server over a real socket.
"""

from __future__ import annotations

import contextlib
import dataclasses
import socket
import threading
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

import uvicorn

from simtom.serving.budget import MAX_MEMORY, resident_bytes
from simtom.serving.server import Settings, create_app


@contextlib.contextmanager
def live_server(settings: Settings | None = None) -> Iterator[str]:
    """Run the app under uvicorn in a thread, on a free loopback port; yield its base URL.

    The server shares the pytest process, whose memory earlier tests have grown (frames of
    hundreds of thousands of rows, models): at the default budget it gets the default on top of
    what the process holds when it starts, so admission measures the server, not the suite's
    history. A test that sets ``max_memory`` gets exactly that."""
    settings = settings or Settings(warm=False)
    if settings.max_memory == MAX_MEMORY:
        settings = dataclasses.replace(settings, max_memory=resident_bytes() + MAX_MEMORY)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(create_app(settings), lifespan="on", log_level="warning",
                            timeout_graceful_shutdown=2)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the test server did not start")
        time.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        settings.stopper.stop()
        server.should_exit = True
        thread.join(10)
        sock.close()


@dataclass
class Event:
    """One dispatched SSE event."""

    data: str
    id: str | None
    type: str = "message"


@dataclass
class SSEParser:
    """The event-stream interpretation of the HTML standard (server-sent events, 9.2.6), line by
    line: fields data/id/event/retry, comments, CR/LF/CRLF line ends, dispatch on blank lines,
    the last event id persisting across events."""

    last_event_id: str | None = None
    retry: int | None = None
    comments: list[str] = field(default_factory=list)
    _data: list[str] = field(default_factory=list)
    _type: str = ""
    _buffer: str = ""

    def feed(self, text: str) -> list[Event]:
        self._buffer += text
        events: list[Event] = []
        while True:
            cut = min((i for i in (self._buffer.find("\r"), self._buffer.find("\n")) if i >= 0),
                      default=-1)
            if cut < 0:
                return events
            if self._buffer[cut] == "\r" and cut + 1 == len(self._buffer):
                return events  # a CR at the end may be half of a CRLF
            line = self._buffer[:cut]
            step = 2 if self._buffer.startswith("\r\n", cut) else 1
            self._buffer = self._buffer[cut + step:]
            event = self._line(line)
            if event is not None:
                events.append(event)

    def _line(self, line: str) -> Event | None:
        if line == "":
            if not self._data:
                self._type = ""
                return None
            event = Event("\n".join(self._data), self.last_event_id, self._type or "message")
            self._data, self._type = [], ""
            return event
        if line.startswith(":"):
            self.comments.append(line[1:].lstrip(" "))
            return None
        name, _, value = line.partition(":")
        value = value[1:] if value.startswith(" ") else value
        if name == "data":
            self._data.append(value)
        elif name == "event":
            self._type = value
        elif name == "id" and "\0" not in value:
            self.last_event_id = value
        elif name == "retry" and value.isdigit():
            self.retry = int(value)
        return None


def parse_sse(chunks: Iterable[bytes]) -> tuple[list[Event], SSEParser]:
    parser = SSEParser()
    events: list[Event] = []
    decoder = __import__("codecs").getincrementaldecoder("utf-8")()
    for chunk in chunks:
        events += parser.feed(decoder.decode(chunk))
    events += parser.feed(decoder.decode(b"", final=True))
    return events, parser
