"""TUI first paint: from the first line of a script to the moment Textual reports the app ready
(first screen composed and painted), for bedrock-tune and for a Textual hello-world app measured
the same way. Budget (DESIGN.md §8): <= 1.3x. Interpreter start-up is the same for both and is
left out; imports are in."""

from __future__ import annotations

import os
import statistics
import subprocess
import sys

from bench._harness import ROOT, print_table, python, ratio_row

READY = """
import time
START = time.perf_counter()

async def report_when_ready(pilot):
    print(time.perf_counter() - START, flush=True)
    pilot.app.exit()
"""
HELLO = (
    READY
    + """
from textual.app import App
from textual.widgets import Static

class Hello(App[None]):
    def compose(self):
        yield Static("Hello, world")

Hello().run(headless=True, size=(120, 40), auto_pilot=report_when_ready)
"""
)
OURS = (
    READY
    + """
from screens.base import LaunchOptions
from tui.app import BedrockTuneApp

BedrockTuneApp(LaunchOptions(sandbox=True)).run(
    headless=True, size=(120, 40), auto_pilot=report_when_ready
)
"""
)
RUNS = 11


def _time(code: str) -> float:
    env = {**os.environ, "AWS_EC2_METADATA_DISABLED": "true"}
    # Both apps start as installed code does, from cached bytecode: with
    # PYTHONDONTWRITEBYTECODE set (some shells and CI set it), bedrock-tune's own modules would
    # be compiled from source on every start while Textual's come precompiled from
    # site-packages, and the ratio would measure the compiler. The discarded first run writes
    # the cache.
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    done = subprocess.run(
        [python(), "-c", code], capture_output=True, text=True, cwd=ROOT, env=env, check=True
    )
    return float(done.stdout.strip().splitlines()[0])


def main() -> bool:
    # One discarded run each (a cold file cache is not what either app would meet twice), then
    # the two alternate, so that a change in the machine's load falls on both alike.
    _time(HELLO), _time(OURS)
    pairs = [(_time(HELLO), _time(OURS)) for _ in range(RUNS)]
    hello = statistics.median(h for h, _ in pairs)
    ours = statistics.median(o for _, o in pairs)
    row, ok = ratio_row(f"time to first paint (median of {RUNS})", ours, hello, 1.3, "s")
    print_table("TUI first paint (vs a Textual hello-world app)", [row])
    return ok


if __name__ == "__main__":
    sys.exit(0 if main() else 1)
