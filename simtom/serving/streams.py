"""Streams: a scenario's records as SSE or NDJSON bytes, paced or unpaced, resumable.

The HTTP server and ``simtom stream`` both use :func:`open_stream` (validate everything, before a
byte is sent) and :meth:`Stream.chunks` (generate, encode and pace, a block at a time).

Every SSE event id names the record and what a stateless server needs to continue just after
it: ``<record>.<window>.<slot>.<seed>.<start_us>.<fingerprint>`` — the record number, its arrival
window (counted from the stream's first) and its index in that window, the seed and start (which
the server may have chosen), and a fingerprint of the whole configuration, so an id from another
configuration is refused instead of silently starting a different stream. With delivery faults
(late or duplicated records) the id names the delivered item and a position to rebuild from
instead (see ``simtom.engine.delivery``): ``<record>.<copy>.<delivery>.<record>.<window>.<slot>``
and the same suffix. A lifecycle stream (``"lifecycle": true``) sends the event log through the
open book (``simtom.engine.book``), with ids of the same form: the event's record, its place
among its application's events, its time, and the position to rebuild from.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import functools
import hashlib
import itertools
import time
from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import orjson

from simtom.engine.blocks import Block, Position
from simtom.engine.engine import Engine
from simtom.engine.registry import get
from simtom.errors import ConfigError
from simtom.outputs.batching import batch_size
from simtom.outputs.encode import Encoded, Encoder, Prepared
from simtom.outputs.pacer import Stopper, pace, tick_for
from simtom.serving import event_ids, precompile
from simtom.serving._malloc import trim
from simtom.serving.budget import HELD, STREAM_MEMORY, BlockSizer
from simtom.spec.scenario import Scenario, make_scenario

FORMATS = ("sse", "ndjson")
#: SSE reconnection delay suggested to clients (ms) and the idle time between heartbeats (s).
RETRY_MS = 2000
HEARTBEAT = 15.0
HEARTBEAT_BYTES = b": heartbeat\n\n"



class ResumeError(ConfigError):
    """A Last-Event-ID that does not belong to this stream's configuration."""

    status = 409


def fingerprint(scenario: Scenario) -> str:
    """8 hex digits that identify a scenario's records (pacing and format aside)."""
    config = scenario.to_dict()
    config.pop("paced", None)
    digest = hashlib.blake2b(orjson.dumps(config, option=orjson.OPT_SORT_KEYS), digest_size=4)
    return digest.hexdigest()


@dataclass(eq=False)
class StreamStats:
    """What a stream has sent so far, and what it holds (for logs and metrics)."""

    records: int = 0
    bytes: int = 0
    #: The stream's pipeline while it runs (its ``held`` bytes).
    producer: _Producer | None = None
    #: Told of each block generated and slice encoded: (stage, seconds, records), from the
    #: worker thread that did it.
    observe: Callable[[str, float, int], None] | None = None
    #: The most the pipeline held (set when it ends).
    peak: int = 0

    @property
    def held(self) -> int:
        if self.producer is None:
            return 0
        return self.producer.held + self.producer.book_bytes


@dataclass(frozen=True)
class Stream:
    """A validated stream: what to generate, in which format, from where, paced or not."""

    scenario: Scenario
    engine: Engine
    fmt: str
    paced: bool
    position: Position
    resumed: bool
    #: With delivery faults, resumed: the delivery key (time, record, copy) last sent.
    after: tuple[int, int, int] | None = None
    #: Bytes the stream may hold (see ``budget``).
    memory: int = STREAM_MEMORY

    @functools.cached_property
    def finished(self) -> bool:
        """True when the stream has no records left (a resume after the last record)."""
        if self.after is not None:  # anything left after the item last sent?
            return _nothing_after(self)
        total = self.scenario.total_records
        if total is not None and self.position.record >= total:
            return True
        return self.scenario.historical and self.engine.arrivals.exhausted(self.position)

    @property
    def media_type(self) -> str:
        return "text/event-stream" if self.fmt == "sse" else "application/x-ndjson"

    def headers(self) -> dict[str, str]:
        """Response headers: the effective seed and start, and no caching or proxy buffering."""
        return {
            "Cache-Control": "no-cache, no-transform",
            "X-Accel-Buffering": "no",
            "X-Simtom-Seed": str(self.scenario.seed),
            "X-Simtom-Start": self.scenario.start.isoformat(),
            "X-Simtom-Generator": self.scenario.generator,
        }

    def preamble(self) -> bytes:
        """What an SSE stream sends first: the reconnection hint and the seed as a comment."""
        if self.fmt != "sse":
            return b""
        s = self.scenario
        note = f"simtom generator={s.generator} seed={s.seed} start={s.start.isoformat()}"
        if self.resumed:
            note += f" resumed_at={self.position.record}"
        return f"retry: {RETRY_MS}\n: {note}\n\n".encode()

    def batch_size(self) -> int:
        """The generator's or the pacing's largest block (the memory budget may cut it)."""
        return batch_size(self.engine, paced=self.paced)

    def sample(self, n: int = 4) -> bytes:
        """The first ``n`` records' bytes, made synchronously (used to warm the kernels)."""
        producer = _Producer(self)
        return bytes(producer._make(self.position, n).data.slice(0, n))

    async def chunks(self, *, stopper: Stopper | None = None, heartbeat: float = HEARTBEAT,
                     stats: StreamStats | None = None) -> AsyncIterator[bytes | memoryview]:
        """The stream's bytes after the preamble, generated only as fast as they are read;
        ``stats`` counts the records and bytes handed on."""
        if self.finished:
            return
        producer = _Producer(self)
        stats = stats if stats is not None else StreamStats()
        stats.producer = producer
        producer.observe = stats.observe
        try:
            if not self.paced:
                async for block in producer:
                    for lo, hi in _pieces(block.data, producer.sizer.send_bytes):
                        if stopper is not None and stopper.stopped:
                            return
                        data = block.data.slice(lo, hi)
                        stats.records += hi - lo
                        stats.bytes += len(data)
                        yield data
                return
            anchor = None if self.resumed else self.scenario.start_us
            beat = heartbeat if self.fmt == "sse" else None
            async for piece in pace(producer, time_compression=self.scenario.time_compression,
                                    tick=tick_for(self.scenario.rate_per_second),
                                    sim_anchor_us=anchor, heartbeat=beat, stopper=stopper):
                if piece is None:
                    stats.bytes += len(HEARTBEAT_BYTES)
                    yield HEARTBEAT_BYTES
                else:
                    item, lo, hi = piece
                    assert isinstance(item, _Encoded)
                    data = item.data.slice(lo, hi)
                    stats.records += hi - lo
                    stats.bytes += len(data)
                    yield data
        finally:
            stats.peak = producer.peak
            producer.close()
            stats.producer = None


def _pieces(data: Encoded, send_bytes: int) -> list[tuple[int, int]]:
    """Record ranges of ``data`` of at most about ``send_bytes`` each (at least one record):
    the HTTP layer copies each piece into its chunk framing and its send buffer."""
    n = len(data)
    if n == 0:
        return []
    size = int(data.ends[-1])
    if size <= send_bytes:
        return [(0, n)]
    marks = np.arange(send_bytes, size, send_bytes)
    cuts = np.searchsorted(data.ends, marks, side="right")
    bounds = [0, *sorted(set(int(c) for c in cuts if 0 < c < n)), n]
    return list(itertools.pairwise(bounds))


@dataclass(frozen=True)
class _Encoded:
    """One encoded slice of a block and its records' simulated times (what the pacer needs)."""

    data: Encoded
    times: np.ndarray

    @property
    def nbytes(self) -> int:
        """The slice's bytes (the records, where they end, their times). Its output buffer may
        be larger, but pages past the records are never written, so never resident."""
        return self.data.data.nbytes + self.data.ends.nbytes + self.times.nbytes

    @property
    def need(self) -> int:
        """What a slice like it needs: its bytes with 10 % for the encoder's buffer slack."""
        return int(self.data.data.nbytes * 1.1) + self.data.ends.nbytes + self.times.nbytes


@dataclass(frozen=True)
class _Source:
    """A generated block ready to encode slice by slice: its records in sending order (with
    delivery faults, the items it releases), their times and, for SSE, their id parts."""

    rows: Prepared
    times: np.ndarray
    ids: np.ndarray | None

    def __len__(self) -> int:
        return int(self.times.shape[0])


class _Producer:
    """A stream's encoded slices, made by a two-stage pipeline in worker threads, in a budget.

    Blocks are generated in one worker thread while the block before is encoded, a slice at a
    time, in another (the kernels release the GIL, so the stages overlap on two cores).
    Generation works best on large blocks and a block's frame is compact (a BNPL record is
    ~230 bytes as columns, ~1.3 kB as JSON), so blocks are large and slices small: a slice is
    encoded only once the consumer has taken the one before. The stream so holds at most two
    frames (being encoded, being generated) and two encoded slices (being sent, being written
    or queued); ``sizer`` keeps them within the stream's memory budget, ``held`` counts them.
    A consumer that stops reading stops the pipeline there.
    """

    def __init__(self, stream: Stream) -> None:
        self.stream = stream
        engine = stream.engine
        sse = stream.fmt == "sse"
        schema = engine.schema()
        event_field = "event_type" if sse and engine.lifecycle else None
        self.encoder = Encoder(schema, sse=sse, keep=HELD, event_field=event_field)
        self.first_window = engine.arrivals.start().window
        s = stream.scenario
        self.suffix = f".{s.seed}.{s.start_us}.{fingerprint(s)}".encode()
        self.sizer = BlockSizer(stream.memory, stream.batch_size(),
                                encoded_guess=self.encoder.per_record_guess)
        self.deliverer = None
        if engine.delivers:
            self.deliverer = engine.deliverer(after=stream.after)
        #: A lifecycle's open book (its bytes: ``book_bytes``, after each block).
        self.book = None
        if engine.lifecycle:
            self.book = engine.book(after=stream.after, ids=stream.fmt == "sse")
        self.book_bytes = 0
        self.queue: asyncio.Queue[_Encoded | BaseException | None] = asyncio.Queue(1)
        #: Set when the consumer has taken the last slice queued: the next may be encoded.
        self.room = asyncio.Event()
        self.room.set()
        #: Bytes of the frames and encoded slices the stream holds now, and the most it held.
        self.held = 0
        self.peak = 0
        self._taken = 0  # bytes of the slice the consumer has
        self.task: asyncio.Task[None] | None = None
        self.observe: Callable[[str, float, int], None] | None = None

    def _make(self, position: Position, n: int) -> _Encoded:
        """Generate and encode one block, synchronously."""
        engine = self.stream.engine
        if engine.lifecycle:  # (a book of its own, all released: the stream's is untouched)
            book = engine.book(ids=self.stream.fmt == "sse")
            block, _ = engine.released(book, position, n, limit=position.record + n)
        else:
            block = engine.block(position, n)
        source = self._source(block, position, True)
        return self._encode(source, 0, len(source))

    def _source(self, block: Block, start: Position, final: bool) -> _Source:
        trim()  # (at most once a second: keeps a long stream's memory flat, see _malloc)
        sse = self.stream.fmt == "sse"
        if self.stream.engine.lifecycle:  # the events the block released, in time order
            return _Source(self.encoder.prepare(block.frame), block.times,
                           block.ids if sse else None)
        if self.deliverer is not None:  # what the block releases, in delivery order
            out = self.deliverer.push(block, start, final=final)
            return _Source(self.encoder.prepare(out.frame), out.times, out.ids if sse else None)
        if not sse:
            return _Source(self.encoder.prepare(block.frame), block.times, None)
        n = len(block)
        parts = np.empty((3, n), np.int64)
        parts[0] = np.arange(block.first, block.first + n, dtype=np.int64)
        parts[1] = self.stream.engine.arrivals.windows(block.times)
        if self.stream.engine.arrivals.pattern != "uniform":
            parts[1] -= self.first_window
        parts[2] = block.slots
        return _Source(self.encoder.prepare(block.frame), block.times, parts)

    def _encode(self, source: _Source, lo: int, hi: int) -> _Encoded:
        precompile.wait_for("encoder")  # (on a fresh cache: load it, do not compile it twice)
        started = time.perf_counter()
        encoded = self._encode_rows(source, lo, hi)
        if self.observe is not None:
            self.observe("encode", time.perf_counter() - started, hi - lo)
        return encoded

    def _encode_rows(self, source: _Source, lo: int, hi: int) -> _Encoded:
        if source.ids is None:
            data = self.encoder.encode_rows(source.rows, lo, hi)
        else:
            data = self.encoder.encode_rows(source.rows, lo, hi, id_parts=source.ids[:, lo:hi],
                                            id_suffix=self.suffix)
        return _Encoded(data, source.times[lo:hi])

    def _generate(self, position: Position) -> asyncio.Future[tuple[Block, int]] | None:
        n = self.stream.engine.next_count(position, self.sizer.next_block())
        if n == 0:
            return None
        future = asyncio.ensure_future(asyncio.to_thread(self._block, position, n))
        future.add_done_callback(self._generated)  # its frame counts from when it exists
        return future

    def _generated(self, future: asyncio.Future[tuple[Block, int]]) -> None:
        if self.task is not None and not future.cancelled() and future.exception() is None:
            self._hold(future.result()[1])

    def _block(self, position: Position, n: int) -> tuple[Block, int]:
        """A block and its frame's bytes (with its times and slots)."""
        started = time.perf_counter()
        engine = self.stream.engine
        if self.book is not None:  # the events this block of applications releases
            block, _ = engine.released(self.book, position, n)
            self.book_bytes = self.book.nbytes
        else:
            block = engine.block(position, n)
        if self.observe is not None:
            self.observe("generate", time.perf_counter() - started, len(block))
        return block, int(block.frame.estimated_size()) + block.times.nbytes * 2

    def _hold(self, delta: int) -> None:
        self.held += delta
        self.peak = max(self.peak, self.held)

    async def _run(self) -> None:
        start = self.stream.position
        generating = self._generate(start)
        try:
            while generating is not None:
                block, frame_bytes = await generating
                records = len(block)
                if records:  # (a range that ended on the block before gives an empty one)
                    self.sizer.observe_frame(records, frame_bytes)
                    # before any is encoded, a slice's record is at least its frame's bytes
                    self.sizer.encoded_guess = max(self.sizer.encoded_guess,
                                                   frame_bytes / records)
                generating = None if block.last else self._generate(block.end)
                await self.room.wait()  # the consumer has taken the slice before
                source = await asyncio.to_thread(self._source, block, start,
                                                 generating is None)
                start = block.end
                del block  # the source holds what is still needed of it
                lo = 0
                while lo < len(source):
                    if lo:
                        await self.room.wait()
                    self.room.clear()
                    hi = min(len(source), lo + self.sizer.next_slice())
                    encoded = await asyncio.to_thread(self._encode, source, lo, hi)
                    self.sizer.observe_slice(hi - lo, encoded.need)
                    self._hold(encoded.nbytes)
                    await self.queue.put(encoded)
                    lo = hi
                del source
                self._hold(-frame_bytes)
            await self.queue.put(None)
        except asyncio.CancelledError:
            if generating is not None:
                generating.cancel()
            raise
        except Exception as exc:  # handed to the consumer, raised there
            if generating is not None:
                generating.cancel()
            await self.queue.put(exc)

    def __aiter__(self) -> _Producer:
        return self

    async def __anext__(self) -> _Encoded:
        if self.task is None:
            self.task = asyncio.ensure_future(self._run())
        self._hold(-self._taken)  # the consumer is done with the slice it had
        self._taken = 0
        item = await self.queue.get()
        self.room.set()
        if item is None:
            raise StopAsyncIteration
        if isinstance(item, BaseException):
            raise item
        self._taken = item.nbytes
        return item

    def close(self) -> None:
        if self.task is not None:
            self.task.cancel()
            self.task = None  # (a block generated after this is not counted: see _generated)
        self._hold(-self.held)


def open_stream(name: str, config: Mapping[str, Any], *, fmt: str = "sse",
                last_event_id: str | None = None, now: dt.datetime | None = None,
                memory: int = STREAM_MEMORY) -> Stream:
    """Validate a stream request: the generator, its configuration, the format, a resume id.

    Raises a SimtomError (with an HTTP status) naming what is wrong; nothing has been sent yet.
    """
    generator = get(name)
    if fmt not in FORMATS:
        raise ConfigError("format", fmt, "one of " + ", ".join(repr(f) for f in FORMATS))
    if not isinstance(config, Mapping):
        raise ConfigError("body", config, "a JSON object of configuration options")
    paced_value = config.get("paced")
    paced = True if paced_value is None else paced_value
    config = dict(config)
    resume = event_ids.parse(last_event_id) if last_event_id else None
    if resume is not None:
        config.setdefault("seed", resume.seed)
        if config.get("start_time") in (None, "now") and config.get("start_date") is None:
            config["start_time"] = resume.start.isoformat()
    scenario = make_scenario(name, config, generator.options,
                             realtime=paced is True, now=now)
    engine = Engine(scenario, generator)
    position = engine.arrivals.start()
    after = None
    if resume is not None:
        rebuilt = engine.delivers or engine.lifecycle  # ids with a position to rebuild from
        if fingerprint(scenario) != resume.fingerprint or rebuilt != (
                resume.delivered is not None):
            raise ResumeError(
                "Last-Event-ID", last_event_id,
                "an event id of a stream with this configuration",
                detail=(f"Last-Event-ID: got {last_event_id!r}, an id from a stream with another "
                        "configuration; allowed: an event id of a stream with this configuration"
                        " (resend the same configuration, or drop Last-Event-ID to start anew)"))
        event_ids.check_position(resume, engine.arrivals)
        record, window, slot = resume.record, resume.window, resume.slot
        if resume.delivered is not None:  # rebuild from the position in the id, skip what was sent
            event_ids.check_item(resume, lifecycle=engine.lifecycle)
            uniform = engine.arrivals.pattern == "uniform"
            position = Position(record, 0 if uniform else position.window + window,
                                0 if uniform else slot)
            e, k, c = resume.delivered
            after = (e + scenario.start_us, k, c)
        else:
            position = engine.arrivals.after(record, position.window + window, slot)
    stream = Stream(scenario, engine, fmt, bool(paced), position, resume is not None, after,
                    memory)
    _ = stream.finished  # here, in the caller's thread (a resumed delivery stream generates)
    return stream


def _nothing_after(stream: Stream) -> bool:
    """True when a resumed delivery or lifecycle stream has nothing left after the item last
    sent (items are rebuilt from the id's position until one is found: at most ``late_delay``
    of records, or the applications since the oldest loan open then)."""
    blocks = stream.engine.blocks(batch_size=stream.batch_size(), position=stream.position,
                                  after=stream.after)
    return next(blocks, None) is None


__all__ = ["FORMATS", "ResumeError", "Stream", "StreamStats", "fingerprint", "open_stream"]
