"""Generators from an installed package, through the ``simtom.generators`` entry-point group.

``tests/plugin_package`` is a separate distribution; it is installed (``uv pip install
--target``, a real wheel build and install) into a scratch directory that is put on the path,
which is how an installed distribution's entry points become visible.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import polars as pl
import pytest
from _live import live_server

import simtom
from simtom.core.registry import PluginRegistry, load_entry_points

PACKAGE = Path(__file__).parent / "plugin_package"


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    target = tmp_path_factory.mktemp("site")
    uv = shutil.which("uv")
    assert uv, "uv runs the test suite (uv run pytest), so it is on PATH"
    subprocess.run([uv, "pip", "install", "--quiet", "--no-deps", "--python", sys.executable,
                    "--target", str(target), str(PACKAGE)], check=True)
    assert list(target.glob("simtom_example_plugin-*.dist-info/entry_points.txt"))
    return target


@pytest.fixture
def plugins(installed: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    monkeypatch.syspath_prepend(str(installed))
    added = load_entry_points()
    yield added
    for name in ("shipments", "weather"):
        PluginRegistry.unregister(name)
    for module in [m for m in sys.modules if m.startswith("simtom_example_plugin")]:
        del sys.modules[module]


def test_entry_points_register_a_class_and_a_module(plugins: list[str]) -> None:
    assert sorted(plugins) == ["shipments", "weather"]
    handle = PluginRegistry.get_generator("shipments")
    assert handle is not None and handle.__name__ == "ShipmentGenerator"
    df = simtom.frame("shipments", n=2000, seed=4, express_share=0.5)
    # 2000 Bernoulli(0.5): standard error 0.011
    assert abs(df["express"].mean() - 0.5) < 0.05
    assert df.equals(simtom.frame("shipments", n=2000, seed=4, express_share=0.5))
    weather = simtom.frame("weather", n=48, seed=1, rate_per_second=1 / 3600)
    assert weather["temperature_c"].max() > weather["temperature_c"].min() + 6
    assert load_entry_points() == ["shipments", "weather"]  # again: no duplicate-name error


def test_entry_point_generators_list_and_stream(plugins: list[str]) -> None:
    with live_server() as url:
        names = [g["name"] for g in httpx.get(f"{url}/generators").json()]
        r = httpx.post(f"{url}/stream/shipments?format=ndjson",
                       json={"total_records": 3, "paced": False, "seed": 1,
                             "express_share": 1.0})
        bad = httpx.post(f"{url}/stream/shipments", json={"express_share": "often"})
    assert {"shipments", "weather", "bnpl"} <= set(names)
    assert [json.loads(line)["express"] for line in r.content.splitlines()] == [True] * 3
    assert bad.status_code == 400 and bad.json()["field"] == "express_share"


def test_a_fresh_process_finds_them(installed: Path, tmp_path: Path,
                                    plugins: list[str]) -> None:
    env = {**os.environ, "PYTHONPATH": str(installed)}
    simtom_cli = str(Path(sys.executable).parent / "simtom")
    listing = subprocess.run([simtom_cli, "generators"], env=env, capture_output=True,
                             text=True, check=True).stdout
    assert {"shipments", "weather"} <= {line.split()[0] for line in listing.splitlines()}
    out = tmp_path / "w.parquet"
    subprocess.run([simtom_cli, "generate", "weather", "-n", "100", "--seed", "2", "-o",
                    str(out)], env=env, check=True, capture_output=True)
    assert pl.read_parquet(out).equals(simtom.frame("weather", n=100, seed=2))
