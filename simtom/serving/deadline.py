"""Send deadlines: a client that accepts no bytes for ``send_timeout`` seconds loses its stream.

Progress is what the client's TCP stack has acknowledged (``TCP_INFO``'s ``bytes_acked``, read
from the connection's socket about once a second), not whether a send returned: a slow reader
that takes a record a second keeps its stream however full the buffers are, while a client that
stops reading is found even when everything still fits in the socket buffers (a paced stream's
records and the SSE heartbeats then go out without blocking). The clock runs only while bytes
wait for the client (in the HTTP layer's buffer, the socket's send queue, or a send in
progress); an idle connection with nothing to send is not stalled.

A dropped connection is aborted (its buffers discarded), so uvicorn sees a disconnect: the
stream ends as if the client had hung up, and its slot and memory are freed. Where the socket
cannot be inspected (no ``TCP_INFO``), a send that stays blocked for ``send_timeout`` counts as
no progress. Where the connection's transport cannot be reached (a server other than uvicorn),
there is no deadline: nothing could end the connection.
"""

from __future__ import annotations

import array
import asyncio
import contextlib
import fcntl
import socket
import struct
import termios
import time
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.types import Message, Send

#: The scope key under which the app keeps the connection's transport (see ``server``).
TRANSPORT = "simtom.transport"
#: Offset of ``tcpi_bytes_acked`` (u64) in Linux's ``struct tcp_info`` (since Linux 4.1).
_BYTES_ACKED = 120
_TCP_INFO_SIZE = 232


def transport_of(send: Send) -> Any:
    """The connection's transport behind an ASGI ``send`` as uvicorn calls the app (its
    request-response cycle's bound method), or None for another server."""
    cycle = getattr(send, "__self__", None)
    return getattr(cycle, "transport", None)


class SendWatch:
    """Watches one response's connection; :meth:`run` drops it when it stalls too long."""

    def __init__(self, transport: Any, timeout: float, *,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.timeout = timeout
        self.clock = clock
        self.transport = transport
        sock = None
        if self.transport is not None:
            with contextlib.suppress(Exception):
                sock = self.transport.get_extra_info("socket")
        self._sock = sock  # asyncio's or uvloop's view of the socket: getsockopt, fileno
        self._fd = -1
        if sock is not None:
            with contextlib.suppress(Exception):
                self._fd = int(sock.fileno())
        self.sending_since: float | None = None
        self.dropped = False
        self.accepted = self._acked() or 0
        self._start = self.accepted

    @property
    def accepted_bytes(self) -> int:
        """Bytes the client has accepted since the response began (headers included)."""
        return max(0, self.accepted - self._start)

    def wrap(self, send: Send) -> Send:
        """``send``, with the watch told when a send is in progress."""

        async def watched(message: Message) -> None:
            self.sending_since = self.clock()
            try:
                await send(message)
            finally:
                self.sending_since = None

        return watched

    def _acked(self) -> int | None:
        if self._sock is None or self._fd < 0:
            return None
        return _bytes_acked(self._sock)

    def _waiting(self) -> bool:
        """True when bytes wait for the client (or a send is blocked)."""
        if self.sending_since is not None:
            return True
        buffered = 0
        if self.transport is not None:
            with contextlib.suppress(Exception):
                buffered = int(self.transport.get_write_buffer_size())
        return buffered > 0 or _outq(self._fd) > 0

    async def run(self, on_drop: Callable[[], Awaitable[None] | None],
                  interval: float = 1.0) -> None:
        """Check every ``interval`` seconds (at most a quarter of the timeout) until cancelled
        or dropped; on a drop, abort the connection and call ``on_drop``."""
        if self.transport is None:
            return
        interval = min(interval, self.timeout / 4)
        stalled_since = self.clock()
        while True:
            await asyncio.sleep(interval)
            now = self.clock()
            acked = self._acked()
            if acked is not None:
                if acked != self.accepted:
                    self.accepted = acked
                    stalled_since = now
                    continue
                if not self._waiting():
                    stalled_since = now
                    continue
            else:  # no TCP_INFO: a send that stays blocked is the only sign
                since = self.sending_since
                stalled_since = now if since is None else since
            if now - stalled_since >= self.timeout:
                self.dropped = True
                with contextlib.suppress(Exception):
                    self.transport.abort()
                result = on_drop()
                if result is not None:
                    await result
                return


def _bytes_acked(sock: Any) -> int | None:
    try:
        info = sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, _TCP_INFO_SIZE)
    except (OSError, AttributeError, TypeError):
        return None
    if len(info) < _BYTES_ACKED + 8:
        return None
    value: int = struct.unpack_from("Q", info, _BYTES_ACKED)[0]
    return value


def _outq(fd: int) -> int:
    """Bytes in the socket's send queue not yet acknowledged by the client (0 if unknown)."""
    if fd < 0:
        return 0
    buf = array.array("i", [0])
    try:
        fcntl.ioctl(fd, termios.TIOCOUTQ, buf)
    except OSError:
        return 0
    return int(buf[0])


__all__ = ["TRANSPORT", "SendWatch", "transport_of"]
