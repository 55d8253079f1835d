"""Measuring a command's wall time and peak memory, and printing ratio tables.

Every benchmark runs the baseline and our code as subprocesses in the same run, so the figures
are ratios that do not drift with the machine's load. Peak memory is the command's maximum
resident set size, read with `os.wait4` (Linux reports it in KiB) by a small middle process
(`bench/_spawn.py`), so that the runner's own size never counts as the command's.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"
WORK = ROOT / "bench" / ".work"
"""Where generated corpora and outputs go (git-ignored); reused between runs."""


@dataclass(frozen=True)
class Measurement:
    """One run of a command."""

    label: str
    seconds: float
    peak_mb: float


def measure(
    label: str, command: Sequence[str], *, env: dict[str, str] | None = None
) -> Measurement:
    """Run `command` (through `bench._spawn`), wait for it, and return its wall time and peak
    RSS.

    Raises:
        RuntimeError: when the command exits non-zero (its stderr is included).
    """
    WORK.mkdir(parents=True, exist_ok=True)
    peak_file = WORK / f"peak-{os.getpid()}.kib"
    peak_file.unlink(missing_ok=True)
    start = time.perf_counter()
    process = subprocess.Popen(
        [sys.executable, "-m", "bench._spawn", str(peak_file), *command],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        env={**os.environ, **(env or {})},
        cwd=ROOT,
    )
    _, status, usage = os.wait4(process.pid, 0)
    seconds = time.perf_counter() - start
    stderr = process.stderr.read().decode(errors="replace") if process.stderr else ""
    if process.stderr:
        process.stderr.close()
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode != 0:
        raise RuntimeError(f"{label} failed ({process.returncode}): {stderr[-2000:]}")
    peak_kib = usage.ru_maxrss
    if peak_file.exists():  # the command's own figures, from the middle process
        kib, wall = peak_file.read_text().split()
        peak_kib, seconds = int(kib), float(wall)
        peak_file.unlink()
    return Measurement(label, seconds, peak_kib / 1024)


def python() -> str:
    """The interpreter running the benchmarks (the project's .venv under `make bench`)."""
    return sys.executable


def print_table(title: str, rows: Sequence[tuple[str, str, str, str]]) -> None:
    """Print a small aligned table: what, ours, baseline, ratio (with its budget)."""
    header = ("measure", "ours", "baseline", "ratio (budget)")
    widths = [max(len(r[i]) for r in (header, *rows)) for i in range(4)]
    print(f"\n{title}")
    for row in (header, *rows):
        print("  ".join(cell.ljust(widths[i]) for i, cell in enumerate(row)))


def ratio_row(
    what: str, ours: float, baseline: float, budget: float, unit: str
) -> tuple[tuple[str, str, str, str], bool]:
    """A table row for `ours / baseline` against `budget`, and whether the budget holds."""
    ratio = ours / baseline if baseline else float("inf")
    ok = ratio <= budget
    verdict = "ok" if ok else "OVER"
    row = (
        what,
        f"{ours:.2f} {unit}",
        f"{baseline:.2f} {unit}",
        f"{ratio:.3f}x (<= {budget}x) {verdict}",
    )
    return row, ok
