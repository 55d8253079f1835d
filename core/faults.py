"""Named write points where a test can kill the process, to prove nothing is lost or duplicated.

Code that writes something durable (a file swap, an S3 object, a registry entry, an AWS delete)
calls `write_point("prepare.swapped-out")` just before or after the write. Normally that is a
dictionary lookup and nothing else. A test sets `BEDROCK_TUNE_KILL_AT=<point>[@<n>]` in a child
process's environment: the n-th time (default the first) that point is reached, the process
sends itself SIGKILL, exactly as `kill -9` would (no `finally`, no `atexit`, no flush). The test
then runs the same command again and checks the world is consistent.

In-process tests can install a hook instead (`set_hook`), e.g. to raise at a point.
"""

from __future__ import annotations

import os
import signal
import threading
from collections import Counter
from collections.abc import Callable

KILL_ENV = "BEDROCK_TUNE_KILL_AT"
"""`<point>` or `<point>@<n>`: SIGKILL at the n-th time the point is reached."""

_hook: Callable[[str], None] | None = None
_reached: Counter[str] = Counter()
_lock = threading.Lock()


def set_hook(hook: Callable[[str], None] | None) -> None:
    """Call `hook(point)` at every write point (None removes it). For in-process tests."""
    global _hook
    _hook = hook


def write_point(point: str) -> None:
    """Mark a write point; a test may kill the process here (see the module docstring)."""
    if _hook is not None:
        _hook(point)
    wanted = os.environ.get(KILL_ENV)
    if not wanted:
        return
    name, _, nth = wanted.partition("@")
    if name != point:
        return
    with _lock:
        _reached[point] += 1
        count = _reached[point]
    if count == (int(nth) if nth.isdigit() else 1):
        _die()


def _die() -> None:  # pragma: no cover - the process ends here
    kill = getattr(signal, "SIGKILL", None)
    if kill is not None:
        os.kill(os.getpid(), kill)
    os._exit(137)  # no SIGKILL (Windows): end at once, like a kill, without cleanup
