"""The ``simtom`` command: serve over HTTP, stream to stdout, generate files, list generators."""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import signal
import sys
import threading
from collections.abc import Sequence
from typing import Any, NoReturn

from simtom._version import __version__
from simtom.engine import registry
from simtom.errors import ConfigError, SimtomError
from simtom.outputs.files import FORMATS, check_target, write
from simtom.outputs.frames import DEFAULT_BATCH, _scenario


class _Parser(argparse.ArgumentParser):
    """argparse, but a bad argument is one line on stderr and exit status 2."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"simtom: error: {message} (see simtom {self.prog.split()[-1]} --help)\n"
                  if " " in self.prog else f"simtom: error: {message} (see simtom --help)\n")


def _parse_set(item: str) -> tuple[str, Any]:
    if "=" not in item:
        raise ConfigError("--set", item, "KEY=VALUE, the value in JSON (e.g. rate_per_second=5)")
    key, raw = item.split("=", 1)
    try:
        value = json.loads(raw)
    except json.JSONDecodeError:
        value = raw  # a bare string such as arrival_pattern=poisson
    return key.strip(), value


def _options(args: argparse.Namespace) -> dict[str, Any]:
    options: dict[str, Any] = {}
    if args.config:
        try:
            with open(args.config, "rb") as fh:
                loaded = json.load(fh)
        except (OSError, json.JSONDecodeError) as exc:
            raise ConfigError("--config", args.config,
                              f"a readable JSON object file ({exc})") from None
        if not isinstance(loaded, dict):
            raise ConfigError("--config", args.config, "a JSON object of options")
        options.update(loaded)
    for flag, name in (("rate", "rate_per_second"), ("pattern", "arrival_pattern"),
                       ("time_compression", "time_compression"), ("start_time", "start_time"),
                       ("start_date", "start_date"), ("end_date", "end_date"),
                       ("daily_volume", "base_daily_volume")):
        value = getattr(args, flag)
        if value is not None:
            options[name] = value
    if getattr(args, "lifecycle", False):
        options["lifecycle"] = True
    for item in args.set or []:
        key, value = _parse_set(item)
        options[key] = value
    return options


def _generate(args: argparse.Namespace) -> int:
    from simtom.engine.blocks import check_batch_size
    from simtom.engine.engine import Engine

    kind = check_target(args.output, args.format)
    check_batch_size(args.batch_size)
    scenario = _scenario(args.generator, args.n, args.seed, _options(args))
    if scenario.seed_chosen:
        print(f"simtom: seed={scenario.seed} (chosen; pass --seed {scenario.seed} to repeat)",
              file=sys.stderr)
    what = f"{args.generator} records"
    if scenario.lifecycle:  # the event log of the applications, in time order
        from simtom.outputs.events import event_frames, lifecycle_engine

        engine = lifecycle_engine(scenario)
        frames = event_frames(engine, args.batch_size)
        count = scenario.total_records
        what = (f"{args.generator} events ({count} applications)" if count is not None
                else f"{args.generator} events (the range's applications)")
    else:
        engine = Engine(scenario)
        frames = (block.frame for block in engine.blocks(batch_size=args.batch_size))
    bar = None
    if sys.stderr.isatty() and not args.quiet:
        from tqdm import tqdm

        # a historical range's count, or the events', is known only once generated: the bar
        # then just counts
        bar = tqdm(total=None if scenario.lifecycle else scenario.total_records,
                   unit="event" if scenario.lifecycle else "rec", unit_scale=True,
                   file=sys.stderr)
    try:
        written = write(args.output, frames, fmt=kind,
                        on_block=bar.update if bar is not None else None)
    finally:
        if bar is not None:
            bar.close()
    if not args.quiet:
        print(f"simtom: wrote {written} {what} to {args.output} ({kind}, "
              f"seed={scenario.seed})", file=sys.stderr)
    return 0


def _serve(args: argparse.Namespace) -> int:
    from simtom.serving.budget import parse_bytes
    from simtom.serving.server import Settings, serve

    if args.workers < 1:
        raise ConfigError("--workers", args.workers, "an integer >= 1")
    sizes: dict[str, Any] = {
        name: None if value is None else parse_bytes(f"--{name.replace('_', '-')}", value)
        for name, value in (("stream_memory", args.stream_memory),
                            ("max_memory", args.max_memory))}
    settings = Settings.from_env(host=args.host, port=args.port, log_level=args.log_level,
                                 max_streams=args.max_streams, max_body=args.max_body,
                                 heartbeat=args.heartbeat, warm=not args.no_warm,
                                 send_timeout=args.send_timeout,
                                 **sizes)
    if not 0 <= settings.port <= 65535:
        raise ConfigError("--port", settings.port, "a TCP port, 0-65535")
    # uvicorn re-raises the signal that stopped it, after a clean shutdown: not an error
    with contextlib.suppress(KeyboardInterrupt):
        serve(settings, workers=args.workers)
    return 0


def _stream(args: argparse.Namespace) -> int:
    import asyncio

    from simtom.serving.streams import open_stream

    config = _options(args)
    if args.seed is not None:
        config["seed"] = args.seed
    if args.total is not None:
        config["total_records"] = args.total
    if args.unpaced:
        config["paced"] = False
    stream = open_stream(args.generator, config, fmt=args.format,
                         last_event_id=args.last_event_id)
    if stream.scenario.seed_chosen:
        print(f"simtom: seed={stream.scenario.seed} (chosen; pass --seed "
              f"{stream.scenario.seed} to repeat)", file=sys.stderr)
    out = sys.stdout.buffer

    async def pump() -> None:
        out.write(stream.preamble())
        async for chunk in stream.chunks():
            out.write(chunk)
            if stream.paced:
                out.flush()
        out.flush()

    try:
        asyncio.run(pump())
    except BrokenPipeError:
        # the reader went away (`| head`): not an error; keep Python from complaining at exit
        import os

        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    return 0


def _drift(args: argparse.Namespace) -> int:
    from simtom.spec.drift import schedule, schedule_rows

    scenario = _scenario(args.generator, args.n, args.seed, _options(args), need_n=False)
    table = schedule(scenario, registry.get(args.generator), at=args.at, points=args.points)
    if args.format == "json":
        print(json.dumps({"scenario": scenario.to_dict(), "schedule": schedule_rows(table)},
                         indent=2))
    else:
        sys.stdout.write(table.write_csv())
    return 0


def _generators(args: argparse.Namespace) -> int:
    gens = list(registry.generators())
    if args.json:
        print(json.dumps([{"name": g.name, "description": g.description,
                           "config_schema": g.config_schema()} for g in gens], indent=2))
    else:
        width = max(len(g.name) for g in gens)
        for g in gens:
            print(f"{g.name:<{width}}  {g.description}")
    return 0


def _scenario_arguments(parser: argparse.ArgumentParser) -> None:
    """The scenario options that `generate` and `stream` share (read by ``_options``)."""
    parser.add_argument("--seed", type=int, help="seed (default: chosen and reported)")
    parser.add_argument("--rate", type=float, help="rate_per_second")
    parser.add_argument("--pattern", help="arrival_pattern: uniform, poisson, nhpp or burst")
    parser.add_argument("--time-compression", type=float, help="time_compression")
    parser.add_argument("--start-time", help='start_time (ISO 8601, or "now")')
    parser.add_argument("--start-date", help="start_date: first day of a historical range")
    parser.add_argument("--end-date", help="end_date: last day of a historical range")
    parser.add_argument("--daily-volume", type=int,
                        help="base_daily_volume: records on a plain day of the range")
    parser.add_argument("--set", action="append", metavar="KEY=VALUE",
                        help="any option, value in JSON (repeatable)")
    parser.add_argument("--config", help="JSON file of options")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="simtom", description="Synthetic BNPL data for testing ML systems.")
    parser.add_argument("--version", action="version", version=f"simtom {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    gen = sub.add_parser("generate", help="write records to a file (parquet, csv, ndjson, arrow)")
    gen.add_argument("generator", help="generator name (see `simtom generators`)")
    gen.add_argument("-n", type=int,
                     help="number of records (with a date range: optional, a cap)")
    gen.add_argument("-o", "--output", required=True, help="output file; format from suffix")
    gen.add_argument("--format", choices=FORMATS, help="output format (default: from suffix)")
    _scenario_arguments(gen)
    gen.add_argument("--batch-size", type=int, default=DEFAULT_BATCH,
                     help=f"records per block (default {DEFAULT_BATCH})")
    gen.add_argument("--lifecycle", action="store_true",
                     help="write the event log of the applications (simtom.events), not them")
    gen.add_argument("-q", "--quiet", action="store_true", help="no progress bar or summary")
    gen.set_defaults(func=_generate)

    srv = sub.add_parser("serve", help="run the HTTP server (SSE and NDJSON streams)")
    srv.add_argument("--host", help="interface (default $SIMTOM_HOST or 127.0.0.1)")
    srv.add_argument("--port", type=int, help="port (default $SIMTOM_PORT or 8000)")
    srv.add_argument("--log-level", choices=("critical", "error", "warning", "info", "debug",
                                             "trace"), help="default $SIMTOM_LOG_LEVEL or info")
    srv.add_argument("--workers", type=int, default=1, help="worker processes (default 1)")
    srv.add_argument("--max-streams", type=int,
                     help="concurrent streams per worker (default $SIMTOM_MAX_STREAMS or 64)")
    srv.add_argument("--max-body", type=int,
                     help="largest request body in bytes (default $SIMTOM_MAX_BODY or 65536)")
    srv.add_argument("--heartbeat", type=float,
                     help="idle seconds between SSE heartbeats (default $SIMTOM_HEARTBEAT or 15)")
    srv.add_argument("--stream-memory", metavar="SIZE",
                     help="bytes one stream may hold, e.g. 8MiB (default $SIMTOM_STREAM_MEMORY "
                          "or 8MiB)")
    srv.add_argument("--max-memory", metavar="SIZE",
                     help="bytes the server process may use, e.g. 1GiB; a stream that would go "
                          "over gets 503 (default $SIMTOM_MAX_MEMORY or 1GiB, per worker)")
    srv.add_argument("--send-timeout", type=float, metavar="SECONDS",
                     help="drop a client that accepts no bytes for this long while some wait "
                          "for it (default $SIMTOM_SEND_TIMEOUT or 30)")
    srv.add_argument("--no-warm", action="store_true",
                     help="skip compiling the kernels at startup")
    srv.set_defaults(func=_serve)

    stm = sub.add_parser("stream", help="stream records to stdout (NDJSON or SSE)")
    stm.add_argument("generator", help="generator name (see `simtom generators`)")
    stm.add_argument("--format", choices=("ndjson", "sse"), default="ndjson",
                     help="ndjson (default) or sse")
    stm.add_argument("--total", type=int, help="total_records (default: endless)")
    stm.add_argument("--unpaced", action="store_true", help="as fast as the reader reads")
    _scenario_arguments(stm)
    stm.add_argument("--lifecycle", action="store_true",
                     help="stream the event log of the applications (payments, late fees, "
                          "charge-offs...) in time order, not the records")
    stm.add_argument("--last-event-id", help="resume just after this SSE event id")
    stm.set_defaults(func=_stream)

    dft = sub.add_parser("drift", help="print a configuration's drift schedule")
    dft.add_argument("generator", help="generator name (see `simtom generators`)")
    dft.add_argument("-n", type=int, help="records (with the rate, sets the span that drift's "
                     "defaults are relative to; default: one simulated day)")
    dft.add_argument("--points", type=int, help="instants spread over the span (default 101)")
    dft.add_argument("--at", action="append", help="an instant to report (repeatable)")
    dft.add_argument("--format", choices=("csv", "json"), default="csv",
                     help="csv (default) or json with the effective scenario")
    _scenario_arguments(dft)
    dft.set_defaults(func=_drift)

    lst = sub.add_parser("generators", help="list the registered generators")
    lst.add_argument("--json", action="store_true", help="with each config's JSON Schema")
    lst.set_defaults(func=_generators)
    return parser


def _exit_on_signal(signum: int, frame: object) -> NoReturn:
    # SIGTERM / SIGHUP unwind like Ctrl-C, so a half-written output file is removed.
    raise KeyboardInterrupt


def main(argv: Sequence[str] | None = None) -> int:
    logging.basicConfig(level=logging.WARNING, format="%(message)s")
    args = build_parser().parse_args(argv)
    if threading.current_thread() is threading.main_thread():
        for sig in (signal.SIGTERM, signal.SIGHUP):
            signal.signal(sig, _exit_on_signal)
    try:
        code: int = args.func(args)
        return code
    except SimtomError as exc:
        print(f"simtom: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("simtom: interrupted", file=sys.stderr)
        return 130
    except OSError as exc:
        print(f"simtom: error: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
