"""On a fresh Numba cache the encoder compiles in a child process that fills the shared cache."""

from __future__ import annotations

import os
import subprocess
import sys


def _index_exists(cache_dir: str) -> bool:
    code = ("from simtom.serving import precompile; "
            "print(precompile._cached('encoder'))")
    env = dict(os.environ, NUMBA_CACHE_DIR=cache_dir)
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                         check=True, timeout=300)
    return out.stdout.strip() == "True"


def test_the_child_fills_an_empty_cache(tmp_path):
    cache = str(tmp_path / "numba")
    assert not _index_exists(cache)
    env = dict(os.environ, NUMBA_CACHE_DIR=cache)
    run = subprocess.run([sys.executable, "-m", "simtom.serving.precompile", "encoder"],
                         env=env, capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stderr
    assert _index_exists(cache)
    assert any(name.startswith("jsonl.encode-") for _, _, files in os.walk(cache)
               for name in files)


def test_an_unknown_group_is_a_usage_error():
    run = subprocess.run([sys.executable, "-m", "simtom.serving.precompile", "nope"],
                         capture_output=True, text=True, timeout=300)
    assert run.returncode == 2 and "usage:" in run.stderr
