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
    return pl.read_ndjson(path)


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
        (["generate", "bnpl", "-o", "x.csv"], "-n"),
        (["generate", "nope", "-n", "1", "-o", "x.csv"], "generator: got 'nope'"),
        (["generate", "bnpl", "-n", "1", "-o", "x.csv", "--set", "rate=3"],
         "did you mean 'rate_per_second'"),
        (["generate", "bnpl", "-n", "1", "-o", "x.csv", "--set", "noise_type=gaussian"],
         "not supported yet"),
        (["generate", "bnpl", "-n", "1", "-o", "x.csv", "--rate", "-1"], "rate_per_second"),
        (["generate", "bnpl", "-n", "1", "-o", "no/such/dir/x.csv"], "existing directory"),
        (["generate", "bnpl", "-n", "1", "-o", "x.csv", "--batch-size", "0"], "batch_size"),
        (["bogus"], "invalid choice"),
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


def test_generators_lists_bnpl(capsys):
    assert main(["generators"]) == 0
    assert capsys.readouterr().out.startswith("bnpl")
    assert main(["generators", "--json"]) == 0
    [entry] = json.loads(capsys.readouterr().out)
    assert entry["name"] == "bnpl" and "rate_per_second" in entry["config_schema"]["properties"]


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
