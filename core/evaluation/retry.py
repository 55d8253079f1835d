"""Throttling, retried: botocore's standard retries give up after a few quick attempts, and an
evaluation sends hundreds of calls in parallel, so a throttled call waits and tries again a few
more times (with an injected sleep, so tests never wait) before the error is kept."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from core.errors import ThrottledError

T = TypeVar("T")

DEFAULT_TRIES = 4
FIRST_WAIT = 2.0
LONGEST_WAIT = 30.0


def retry_throttled(
    call: Callable[[], T],
    sleep: Callable[[float], None],
    *,
    tries: int = DEFAULT_TRIES,
    first_wait: float = FIRST_WAIT,
) -> T:
    """`call()`, tried up to `tries` times while AWS throttles it (waits double each time,
    capped); the last ThrottledError is raised."""
    wait = first_wait
    for attempt in range(max(1, tries)):
        try:
            return call()
        except ThrottledError:
            if attempt == max(1, tries) - 1:
                raise
            sleep(wait)
            wait = min(wait * 2, LONGEST_WAIT)
    raise AssertionError("unreachable")  # pragma: no cover
