"""The simtom command: files in every format, equal to the frame; one-line errors."""

from __future__ import annotations

import json
import subprocess
import sys

import polars as pl
import pytest
from polars.testing import assert_frame_equal

import simtom
from simtom.cli import main

SIMTOM = [sys.executable, "-m", "simtom.cli"]


@pytest.fixture(scope="module")
def expected() -> pl.DataFrame:
    return simtom.frame("bnpl", n=2500, seed=42, arrival_pattern="poisson")


def read(path, fmt) -> pl.DataFrame:
    if fmt == "parquet":
        return pl.read_parquet(path)
    if fmt == "arrow":
        return pl.read_ipc(path)
    if fmt == "csv":
        return pl.read_csv(path, try_parse_dates=True)
    return pl.read_ndjson(path, infer_schema_length=None)  # rare labels: read all rows


@pytest.mark.parametrize("fmt", ["parquet", "arrow", "csv", "ndjson"])
def test_generate_writes_the_frame_block_by_block(tmp_path, expected, fmt, capsys):
    path = tmp_path / f"out.{fmt}"
    code = main(["generate", "bnpl", "-n", "2500", "--seed", "42", "--pattern", "poisson",
                 "-o", str(path), "--batch-size", "700"])
    assert code == 0
    assert "wrote 2500 bnpl records" in capsys.readouterr().err
    got = read(path, fmt)
    if fmt in ("parquet", "arrow"):
        assert_frame_equal(got, expected)
    else:  # text formats: compare values, not dtypes
        assert got.height == 2500
        assert got["transaction_id"].to_list() == expected["transaction_id"].to_list()
        assert got["amount"].to_list() == expected["amount"].to_list()
        assert got["will_default"].to_list() == expected["will_default"].to_list()
    assert not list(tmp_path.glob(".*tmp"))


@pytest.mark.parametrize("fmt", ["parquet", "ndjson"])
def test_generate_lifecycle_writes_the_event_log(tmp_path, fmt, capsys):
    path = tmp_path / f"events.{fmt}"
    code = main(["generate", "bnpl", "-n", "3000", "--seed", "42", "--lifecycle", "-o",
                 str(path), "--batch-size", "500"])
    assert code == 0
    log = simtom.events("bnpl", n=3000, seed=42)
    assert f"wrote {log.height} bnpl events (3000 applications)" in capsys.readouterr().err
    got = read(path, fmt)
    if fmt == "parquet":
        assert_frame_equal(got, log)
    else:  # text: values, not dtypes
        assert got["transaction_id"].to_list() == log["transaction_id"].to_list()
        assert got["event_type"].to_list() == log["event_type"].cast(pl.String).to_list()
        assert got["amount_paid"].to_list() == log["amount_paid"].to_list()


def test_generate_format_flag_overrides_suffix(tmp_path, expected):
    path = tmp_path / "data.bin"
    assert main(["generate", "bnpl", "-n", "2500", "--seed", "42", "--pattern", "poisson",
                 "-o", str(path), "--format", "parquet", "-q"]) == 0
    assert_frame_equal(pl.read_parquet(path), expected)


def test_generate_options_via_set_and_config(tmp_path):
    cfg = tmp_path / "cfg.json"
    cfg.write_text(json.dumps({"economic_stress_factor": 0.5, "arrival_pattern": "nhpp"}))
    path = tmp_path / "o.parquet"
    assert main(["generate", "bnpl", "-n", "300", "--seed", "1", "-o", str(path), "-q",
                 "--config", str(cfg), "--set", "base_default_rate=0.1", "--rate", "4"]) == 0
    want = simtom.frame("bnpl", n=300, seed=1, economic_stress_factor=0.5,
                        arrival_pattern="nhpp", base_default_rate=0.1, rate_per_second=4.0)
    assert_frame_equal(pl.read_parquet(path), want)


def test_seedless_generate_reports_the_seed(tmp_path):
    path = tmp_path / "o.parquet"
    run = subprocess.run([*SIMTOM, "generate", "bnpl", "-n", "50", "-o", str(path)],
                         capture_output=True, text=True, check=True)
    seed = int(run.stderr.split("seed=")[1].split()[0])
    assert_frame_equal(pl.read_parquet(path), simtom.frame("bnpl", n=50, seed=seed))


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["generate", "bnpl", "-n", "10", "-o", "x.xls"], "output"),
        (["generate", "bnpl", "-n", "-4", "-o", "x.csv"], "n: got -4"),
        (["generate", "bnpl", "-o", "x.csv"], "n: got None; allowed: a record count"),
        (["generate", "nope", "-n", "1", "-o", "x.csv"], "generator: got 'nope'"),
        (["generate", "bnpl", "-n", "1", "-o", "x.csv", "--set", "rate=3"],
         "did you mean 'rate_per_second'"),
        (["generate", "bnpl", "-n", "1", "-o", "x.csv", "--set", "bnpl_adoption_rate=0.5"],
         "not supported yet"),
        (["generate", "bnpl", "-n", "1", "-o", "x.csv", "--set", "drift_type=sudden",
          "--set", "drift_period=60"], "drift_period: got 60"),
        (["generate", "bnpl", "-n", "1", "-o", "x.csv", "--rate", "-1"], "rate_per_second"),
        (["generate", "bnpl", "-n", "1", "-o", "no/such/dir/x.csv"], "existing directory"),
        (["generate", "bnpl", "-n", "1", "-o", "x.csv", "--batch-size", "0"], "batch_size"),
        (["generate", "bnpl", "-n", "1", "--seed", "1", "-o", "x.parquet", "--lifecycle",
          "--set", "late_rate=0.1"], "late_rate: got 0.1"),
        (["bogus"], "invalid choice"),
        (["serve", "--max-memory", "lots"], "--max-memory: got 'lots'"),
        (["serve", "--stream-memory", "10k"], "stream_memory"),
        (["serve", "--send-timeout", "0"], "send_timeout"),
    ],
)
def test_bad_arguments_one_line_nonzero_exit(tmp_path, args, fragment):
    run = subprocess.run([*SIMTOM, *args], capture_output=True, text=True, cwd=tmp_path,
                         check=False)
    assert run.returncode == 2
    lines = run.stderr.strip().splitlines()
    assert len(lines) == 1, run.stderr
    assert lines[0].startswith("simtom: error:") and fragment in lines[0]
    assert "Traceback" not in run.stderr
    assert not list(tmp_path.iterdir())


def test_generators_lists_every_generator(capsys):
    assert main(["generators"]) == 0
    names = [line.split()[0] for line in capsys.readouterr().out.splitlines()]
    assert names == simtom.available() and "bnpl" in names  # (plus the session's test ones)
    assert main(["generators", "--json"]) == 0
    entries = {e["name"]: e for e in json.loads(capsys.readouterr().out)}
    assert list(entries) == names
    assert "rate_per_second" in entries["bnpl"]["config_schema"]["properties"]
    assert "fraud_rate" in entries["card_payments"]["config_schema"]["properties"]


def test_console_script_is_installed():
    run = subprocess.run(["simtom", "--version"], capture_output=True, text=True, check=False)
    assert run.returncode == 0 and run.stdout.startswith("simtom ")


def test_terminated_generate_leaves_no_partial_file(tmp_path):
    import signal
    import time

    path = tmp_path / "big.parquet"
    proc = subprocess.Popen([*SIMTOM, "generate", "bnpl", "-n", "50000000", "--seed", "1",
                             "-o", str(path), "-q"], cwd=tmp_path, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 60
    while not list(tmp_path.glob(".big.parquet.*.tmp")) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert list(tmp_path.glob(".big.parquet.*.tmp")), "the writer never started"
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=30) == 130
    assert list(tmp_path.iterdir()) == []


def test_stream_writes_ndjson_or_sse_to_stdout():
    out = subprocess.run([*SIMTOM, "stream", "bnpl", "--total", "40", "--unpaced", "--seed", "3",
                          "--pattern", "burst"], capture_output=True, check=True, timeout=120)
    lines = out.stdout.decode().splitlines()
    assert len(lines) == 40
    frame = simtom.frame("bnpl", n=40, seed=3, arrival_pattern="burst")
    assert [json.loads(x)["transaction_id"] for x in lines] == frame["transaction_id"].to_list()
    assert [json.loads(x)["_timestamp"] for x in lines] == [
        t.isoformat() for t in frame["_timestamp"]]
    sse = subprocess.run([*SIMTOM, "stream", "bnpl", "--total", "40", "--unpaced", "--seed", "3",
                          "--pattern", "burst", "--format", "sse"],
                         capture_output=True, check=True, timeout=120).stdout.decode()
    data = [x[len("data: "):] for x in sse.splitlines() if x.startswith("data: ")]
    assert data == lines
    assert "seed=3" in sse.splitlines()[1]


def test_stream_lifecycle_writes_the_events_in_time_order():
    out = subprocess.run([*SIMTOM, "stream", "bnpl", "--total", "60", "--unpaced", "--seed", "3",
                          "--rate", "0.01", "--lifecycle", "--format", "sse"],
                         capture_output=True, check=True, timeout=120).stdout.decode()
    log = simtom.events("bnpl", n=60, seed=3, rate_per_second=0.01)
    kinds = [x[len("event: "):] for x in out.splitlines() if x.startswith("event: ")]
    data = [json.loads(x[len("data: "):]) for x in out.splitlines() if x.startswith("data: ")]
    assert kinds == [d["event_type"] for d in data] == log["event_type"].to_list()
    bad = subprocess.run([*SIMTOM, "stream", "bnpl", "--lifecycle", "--set", "late_rate=0.1"],
                         capture_output=True, timeout=120)
    assert bad.returncode == 2
    assert bad.stderr.decode().strip().splitlines() == [
        "simtom: error: late_rate: got 0.1; allowed: 0.0: events do not take late_rate yet"]


def test_stream_into_a_closed_pipe_is_quiet():
    """`simtom stream ... | head -1`: the reader leaves; no traceback, exit status 0."""
    proc = subprocess.Popen([*SIMTOM, "stream", "bnpl", "--unpaced", "--seed", "1"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert proc.stdout is not None and proc.stderr is not None
    first = proc.stdout.readline()
    proc.stdout.close()
    assert proc.wait(timeout=60) == 0
    assert json.loads(first)["_record_id"] == 0
    assert proc.stderr.read() == b""


def test_stream_bad_arguments_are_one_line():
    out = subprocess.run([*SIMTOM, "stream", "bnpl", "--rate", "-2"], capture_output=True,
                         timeout=120)
    assert out.returncode == 2
    assert out.stderr.decode().strip().splitlines() == [
        "simtom: error: rate_per_second: got -2.0; allowed: a number > 0 and <= 10000000"]


def test_serve_answers_and_exits_promptly_on_sigterm_with_streams_open():
    import signal
    import socket
    import time

    import httpx

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen([*SIMTOM, "serve", "--port", str(port), "--log-level", "warning"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 120
        while True:
            try:
                assert httpx.get(base + "/").json()["status"] == "healthy"
                break
            except httpx.TransportError:
                assert time.monotonic() < deadline and proc.poll() is None
                time.sleep(0.1)
        with httpx.Client(base_url=base, timeout=30) as c, \
                c.stream("POST", "/stream/bnpl", json={"rate_per_second": 2.0}) as resp:
            chunks = resp.iter_raw()
            next(chunks)
            t0 = time.monotonic()
            proc.send_signal(signal.SIGTERM)
            rest = list(chunks)  # the server ends the stream; the read returns
            ended = time.monotonic() - t0
        assert proc.wait(timeout=10) == 0
        exited = time.monotonic() - t0
    finally:
        if proc.poll() is None:
            proc.kill()
    # streams stop at their next slice or nap (0.25 s) and uvicorn then exits; 5 s bounds both
    # with room for a loaded machine
    assert ended < 5 and exited < 5, (ended, exited, rest)
    assert b"Traceback" not in proc.stderr.read()
