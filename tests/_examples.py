"""The README's Python examples, extracted and loaded as modules, so tests keep the README true.

An example is the ```python block right after a ``<!-- example: NAME -->`` line. Loading writes
it to a stable directory (so Numba can cache the block generator's kernel between runs) and
imports it as module ``readme_NAME``.
"""

from __future__ import annotations

import importlib.util
import os
import re
import sys
import tempfile
from collections.abc import Mapping
from pathlib import Path
from types import ModuleType

README = Path(__file__).resolve().parents[1] / "README.md"
EXAMPLE_DIR = Path(tempfile.gettempdir()) / f"simtom-readme-examples-{os.getuid()}"
_BLOCK = re.compile(r"<!-- example: ([\w-]+) -->\n```python\n(.*?)\n```", re.S)


def examples() -> dict[str, str]:
    return {m.group(1): m.group(2) + "\n" for m in _BLOCK.finditer(README.read_text())}


def example(name: str, replace: Mapping[str, str] | None = None) -> str:
    """The code of example ``name``, with each ``replace`` key (which must occur) replaced."""
    code = examples()[name]
    for old, new in (replace or {}).items():
        assert old in code, f"README example {name!r} no longer contains {old!r}"
        code = code.replace(old, new)
    return code


def load(name: str, replace: Mapping[str, str] | None = None) -> ModuleType:
    """Import example ``name`` as a module (re-importing replaces the previous one)."""
    code = example(name, replace)
    module_name = "readme_" + name.replace("-", "_")
    EXAMPLE_DIR.mkdir(parents=True, exist_ok=True)
    path = EXAMPLE_DIR / f"{module_name}.py"
    if not path.exists() or path.read_text() != code:
        path.write_text(code)
    spec = importlib.util.spec_from_file_location(module_name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module
    spec.loader.exec_module(module)
    return module
