"""The architecture holds: layers, no import cycles, kernels on numpy and numba, public paths.

The import graph is grimp's (the one ``lint-imports`` checks), which counts every import: inside
functions and under ``TYPE_CHECKING`` too.
"""

from __future__ import annotations

import importlib
import shutil
import subprocess
import sys
from pathlib import Path

import grimp
import pytest

import simtom

ROOT = Path(__file__).resolve().parents[1]
#: The layer packages and modules, top to bottom, as pyproject.toml declares them.
LAYERS = (
    ("cli", "__main__", "core", "generators"),
    ("serving",),
    ("outputs", "bnpl"),
    ("engine",),
    ("spec",),
    ("errors", "_version"),
)
#: What the kernels may import: numpy, numba and the standard library's math (plus their own
#: modules and ``__future__``).
KERNEL_IMPORTS = {"numpy", "numba", "math", "__future__"}


@pytest.fixture(scope="module")
def graph() -> grimp.ImportGraph:
    return grimp.build_graph("simtom", "simtom_kernels", include_external_packages=True)


def _internal(graph: grimp.ImportGraph) -> dict[str, set[str]]:
    """Each simtom / simtom_kernels module and the modules of those packages it imports."""
    ours = {m for m in graph.modules if m.split(".")[0] in ("simtom", "simtom_kernels")}
    return {m: set(graph.find_modules_directly_imported_by(m)) & ours for m in ours}


def _cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan, iteratively)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    out: list[list[str]] = []
    counter = 0
    for root in sorted(edges):
        if root in index:
            continue
        work = [(root, iter(sorted(edges[root])))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(edges[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    out.append(sorted(component))
    return out


def test_cycle_finder_finds_a_cycle():
    # the checker itself: a three-module cycle and a self-contained chain
    edges = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}, "e": set()}
    assert _cycles(edges) == [["a", "b", "c"]]
    assert _cycles({"a": {"b"}, "b": set()}) == []


def test_no_import_cycles_at_all(graph):
    # stricter than the acyclic_siblings contract: module by module, the package root included
    assert _cycles(_internal(graph)) == []


def test_nothing_inside_imports_the_public_surface(graph):
    importers = graph.find_modules_that_directly_import("simtom")
    assert sorted(m for m in importers if m.startswith("simtom")) == []


def test_every_module_is_in_a_layer_and_imports_only_below(graph):
    layer_of = {name: depth for depth, names in enumerate(LAYERS) for name in names}
    edges = _internal(graph)
    upward = []
    for module, imported in edges.items():
        parts = module.split(".")
        if parts[0] != "simtom" or len(parts) == 1:
            continue
        assert parts[1] in layer_of, f"{module} is in no layer"
        for target in imported:
            tparts = target.split(".")
            if tparts[0] != "simtom" or len(tparts) == 1:
                continue
            if layer_of[tparts[1]] < layer_of[parts[1]]:
                upward.append((module, target))
    assert upward == []


def test_kernels_import_numpy_and_numba_only(graph):
    external = set()
    for module in graph.modules:
        if module.split(".")[0] != "simtom_kernels":
            continue
        for target in graph.find_modules_directly_imported_by(module):
            if target.split(".")[0] != "simtom_kernels":
                external.add(target.split(".")[0])
    assert external <= KERNEL_IMPORTS, sorted(external - KERNEL_IMPORTS)
    assert {"numpy", "numba"} <= external


def test_each_folder_says_what_lives_there_and_what_it_may_import():
    for init in sorted((ROOT / "simtom").glob("*/__init__.py")):
        module = importlib.import_module(f"simtom.{init.parent.name}")
        doc = module.__doc__ or ""
        assert "import" in doc and len(doc.splitlines()) >= 3, init


def test_lint_imports_passes():
    run = subprocess.run([shutil.which("lint-imports") or "lint-imports", "--no-cache"],
                         cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "0 broken" in run.stdout


def test_lint_imports_fails_on_an_upward_import(tmp_path):
    # the contract has teeth: a copy of the tree in which the engine imports the server
    for name in ("simtom", "kernels"):
        shutil.copytree(ROOT / name, tmp_path / name,
                        ignore=shutil.ignore_patterns("__pycache__", "*.nbi", "*.nbc"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path)
    blocks = tmp_path / "simtom" / "engine" / "blocks.py"
    blocks.write_text(blocks.read_text() + "\n\ndef _up():\n    from simtom.serving import server"
                      "\n\n    return server\n")
    env_path = f"{tmp_path}:{tmp_path / 'kernels'}"
    run = subprocess.run([shutil.which("lint-imports") or "lint-imports", "--no-cache"],
                         cwd=tmp_path, capture_output=True, text=True, timeout=120,
                         env={"PYTHONPATH": env_path, "PATH": str(Path(sys.executable).parent)})
    assert run.returncode != 0
    assert "simtom.engine.blocks -> simtom.serving.server" in run.stdout
    assert "BROKEN" in run.stdout


def test_public_names_import():
    for name in simtom.__all__:
        assert getattr(simtom, name) is not None, name
    for name in ("frame", "iter_frames", "scenario", "stream", "stream_frames", "register",
                 "available", "drift_schedule", "BlockGenerator", "Scenario", "SimtomError"):
        assert name in simtom.__all__, name
    # simtom.scenario stays the function (the spec package is not named "scenario")
    assert callable(simtom.scenario) and not isinstance(simtom.scenario, type(simtom))


def test_the_original_readme_paths_import():
    from simtom.core.generator import BaseGenerator, GeneratorConfig, register_generator
    from simtom.core.registry import PluginRegistry
    from simtom.generators.ecommerce.bnpl import BNPLConfig, BNPLGenerator

    assert issubclass(BNPLGenerator, BaseGenerator)
    assert issubclass(BNPLConfig, GeneratorConfig)
    assert callable(register_generator)
    assert PluginRegistry.get_generator("bnpl") is BNPLGenerator


@pytest.mark.parametrize("command", [[sys.executable, "-m", "simtom"],
                                     [str(Path(sys.executable).parent / "simtom")]])
def test_the_command_runs_as_a_module_and_a_script(command):
    run = subprocess.run([*command, "generators", "--json"], capture_output=True, text=True,
                         timeout=120)
    assert run.returncode == 0, run.stderr
    assert '"bnpl"' in run.stdout
