"""Many stream readers in one process, for the load benchmark (``test_load.py``).

``python bench/_load_client.py URL CLIENTS BODY_JSON SECONDS OUT``

Opens CLIENTS NDJSON streams of BODY_JSON at once and reads them all with one selector, as fast
as they come, for SECONDS. Records are counted as ``_client.py`` counts them (newlines in the
chunked payload, by numpy). Writes a JSON list, one entry per client: its HTTP status, its
records, and for every read that completed records its arrival time (monotonic seconds) and the
records completed so far (``test_load.py`` derives rates and lateness from them).
"""

from __future__ import annotations

import json
import selectors
import socket
import sys
import time
from urllib.parse import urlsplit

import numpy as np
from _client import ChunkedLines  # type: ignore[import-not-found]


class Reader:
    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.header = b""
        self.chunks = ChunkedLines()
        self.records = 0
        self.reads: list[tuple[float, int]] = []  # (arrival, records so far)
        self.status = b""


def main() -> None:
    url, clients, body, seconds, out_path = (sys.argv[1], int(sys.argv[2]),
                                             sys.argv[3].encode(), float(sys.argv[4]),
                                             sys.argv[5])
    where = urlsplit(url)
    request = (f"POST {where.path}?format=ndjson HTTP/1.1\r\nHost: x\r\nContent-Type: "
               f"application/json\r\nContent-Length: {len(body)}\r\nConnection: close\r\n\r\n"
               ).encode() + body
    sel = selectors.DefaultSelector()
    readers = []
    for _ in range(clients):
        sock = socket.create_connection((where.hostname, where.port))
        sock.sendall(request)
        sock.setblocking(False)
        reader = Reader(sock)
        readers.append(reader)
        sel.register(sock, selectors.EVENT_READ, reader)
    buf = bytearray(1 << 20)
    end = time.monotonic() + seconds
    open_ = clients
    while open_ and time.monotonic() < end:
        for key, _ in sel.select(timeout=0.05):
            r: Reader = key.data
            try:
                got = r.sock.recv_into(buf)
            except BlockingIOError:
                continue
            now = time.monotonic()
            if got == 0:
                sel.unregister(r.sock)
                open_ -= 1
                continue
            start = 0
            if not r.status:
                r.header += bytes(buf[:got])
                split = r.header.find(b"\r\n\r\n")
                if split < 0:
                    continue
                r.status = r.header.split(b" ", 2)[1]
                rest = r.header[split + 4:]
                buf[:len(rest)] = rest
                got, start = len(rest), 0
            found = r.chunks.count(buf, start, got)
            if found:
                r.records += found
                r.reads.append((now, r.records))
    out = []
    for r in readers:
        r.sock.close()
        item: dict[str, object] = {"status": r.status.decode(), "records": r.records}
        if r.reads:
            times = np.array([t for t, _ in r.reads])
            counts = np.array([c for _, c in r.reads])
            item["arrivals"] = times.tolist()
            item["counts"] = counts.tolist()
        out.append(item)
    with open(out_path, "w") as f:
        json.dump(out, f)


if __name__ == "__main__":
    main()
