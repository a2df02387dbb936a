"""The server's metrics, served by ``GET /metrics`` in the Prometheus text format.

One registry per app (tests build many apps in one process), with the process collector
(``process_resident_memory_bytes``, CPU seconds, open file descriptors):

- ``simtom_streams_open{generator,format}``: streams being served;
- ``simtom_records_sent_total`` / ``simtom_bytes_sent_total{generator,format}``: what streams
  handed to the HTTP layer (bytes include SSE framing, heartbeats and the preamble);
- ``simtom_streams_refused_total{reason}``: ``too_many_streams`` (429), ``memory`` (503);
- ``simtom_streams_ended_total{generator,format,ended}``: how streams ended (``complete``,
  ``client_closed``, ``send_timeout`` — dropped by the send deadline —, ``shutdown``, ``error``);
- ``simtom_stream_memory_held_bytes``: what the open streams' pipelines hold now, together;
  ``simtom_stream_memory_reserved_bytes``: their budgets; ``simtom_stream_peak_held_bytes``:
  a histogram of each ended stream's most held;
- ``simtom_generate_seconds{generator}`` / ``simtom_encode_seconds{format}``: histograms of the
  time to generate a block and to encode a slice, and ``simtom_block_records`` of their sizes.
"""

from __future__ import annotations

from collections.abc import Callable

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    ProcessCollector,
    generate_latest,
)

STREAM_LABELS = ("generator", "format")
_TIMES = (0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0, 2.0, 5.0)
_BYTES = tuple(float(1 << k) for k in range(16, 31, 2))  # 64 KiB .. 1 GiB


class Metrics:
    """The metrics of one app."""

    content_type = CONTENT_TYPE_LATEST

    def __init__(self, held: Callable[[], float], reserved: Callable[[], float]) -> None:
        self.registry = CollectorRegistry()
        ProcessCollector(registry=self.registry)
        r = self.registry
        self.open = Gauge("simtom_streams_open", "Streams being served.", STREAM_LABELS,
                          registry=r)
        self.records = Counter("simtom_records_sent", "Records handed to the HTTP layer.",
                               STREAM_LABELS, registry=r)
        self.bytes = Counter("simtom_bytes_sent", "Bytes handed to the HTTP layer.",
                             STREAM_LABELS, registry=r)
        self.refused = Counter("simtom_streams_refused", "Streams refused, by reason.",
                               ("reason",), registry=r)
        self.ended = Counter("simtom_streams_ended", "Streams ended, by how they ended.",
                             (*STREAM_LABELS, "ended"), registry=r)
        held_gauge = Gauge("simtom_stream_memory_held_bytes",
                           "Bytes the open streams' pipelines hold now.", registry=r)
        held_gauge.set_function(held)
        reserved_gauge = Gauge("simtom_stream_memory_reserved_bytes",
                               "The open streams' memory budgets, together.", registry=r)
        reserved_gauge.set_function(reserved)
        self.peak = Histogram("simtom_stream_peak_held_bytes",
                              "The most each ended stream's pipeline held.", buckets=_BYTES,
                              registry=r)
        self.generate = Histogram("simtom_generate_seconds", "Time to generate a block.",
                                  ("generator",), buckets=_TIMES, registry=r)
        self.encode = Histogram("simtom_encode_seconds", "Time to encode a slice of a block.",
                                ("format",), buckets=_TIMES, registry=r)
        self.block_records = Histogram(
            "simtom_block_records", "Records per generated block and per encoded slice.",
            ("stage",), buckets=(1, 16, 256, 1024, 4096, 16384, 65536), registry=r)
        for reason in ("too_many_streams", "memory"):
            self.refused.labels(reason=reason)

    def render(self) -> bytes:
        return generate_latest(self.registry)


__all__ = ["Metrics"]
