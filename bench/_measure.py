"""Helpers of the benchmarks: the session's figures, subprocess probes, peak RSS of a command."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

PROBE = Path(__file__).resolve().with_name("_probe.py")
TIMEOUT_S = 1800
PATTERNS = ("poisson", "nhpp", "burst", "uniform")


@dataclass
class Figures:
    """Named figures of one session, in the order they were recorded."""

    rows: list[tuple[str, str, str, str]] = field(default_factory=list)
    values: dict[str, float] = field(default_factory=dict)

    def add(self, key: str, group: str, label: str, value: float, unit: str,
            fmt: str = "{:,.0f}", benchmark: Any = None) -> float:
        self.values[key] = value
        self.rows.append((group, label, fmt.format(value), unit))
        if benchmark is not None:
            benchmark.extra_info[key.split(".", 1)[-1]] = value
        return value

    def ratio(self, key: str, group: str, label: str, num: str, den: str,
              benchmark: Any = None, fmt: str = "{:,.1f}") -> float | None:
        """``values[num] / values[den]`` if both were measured in this session."""
        if num not in self.values or den not in self.values or not self.values[den]:
            return None
        return self.add(key, group, label, self.values[num] / self.values[den], "x", fmt,
                        benchmark)


def best_seconds(benchmark: Any) -> float | None:
    """The fastest round of a finished benchmark, in seconds (None with --benchmark-disable)."""
    meta = benchmark.stats
    return float(meta.stats.min) if meta else None


def _env(extra: Mapping[str, str]) -> dict[str, str]:
    env = dict(os.environ)
    env.update(extra)
    return env


def probe(*args: str, env: Mapping[str, str] | None = None) -> dict[str, Any]:
    """Run ``bench/_probe.py ARGS`` in a fresh interpreter with ``env`` added; its JSON result."""
    done = subprocess.run([sys.executable, str(PROBE), *args], check=False,
                          env=_env(env or {}), capture_output=True, text=True,
                          timeout=TIMEOUT_S)
    if done.returncode != 0:
        msg = f"_probe.py {' '.join(args)} exited {done.returncode}:\n{done.stderr[-4000:]}"
        raise RuntimeError(msg)
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def simtom_command() -> list[str]:
    """The installed ``simtom`` console script of this environment (else ``python -m``)."""
    script = Path(sys.executable).with_name("simtom")
    return [str(script)] if script.exists() else [sys.executable, "-m", "simtom.cli"]


def peak_rss_mib(command: list[str]) -> float:
    """Run ``command`` to completion; its peak resident set size in MiB.

    ``os.wait4`` in a small intermediate process (``_probe.py rss``) gives the peak of that one
    child: no short peak is missed, as polling could, no other subprocess is mixed in, as with
    ``getrusage(RUSAGE_CHILDREN)`` (a maximum over every child ever waited for), and pytest's own
    peak is not inherited, as it would be by a child forked straight from pytest.
    """
    return float(probe("rss", *command)["peak_mib"])
