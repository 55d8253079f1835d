"""Polling AWS until something settles: one loop for customization jobs, model imports,
deployments, provisioned throughputs and endpoints.

- Back-off: the first wait after a change is `Backoff.first` seconds; while nothing changes each
  wait grows by `factor`, never past `maximum`. Optional jitter spreads the waits so many pollers
  do not call in step.
- Faults: throttling, a dropped connection or a 5xx is reported in the update and polling goes
  on (backing off); expired credentials are reported too and the next poll waits the longest
  interval, so the user can refresh them meanwhile. Any other error is raised.
- Cancel: waits are cut into slices of `Pacing.tick` (0.1 s) with `cancelled()` checked before
  each, so a cancel is honoured within a slice, not after the whole (up to minutes long) wait.
- Time is injected (`Pacing`: clock, sleep, random), so tests never wait on the wall clock.

Callers run `Poller.run` in a worker thread (a Textual worker, or the CLI's main thread) and
pass the worker's `is_cancelled` as `cancelled`.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

from core.errors import (
    BedrockTuneError,
    ConnectionFailedError,
    ExpiredCredentialsError,
    ExpiredSSOTokenError,
    InvalidCredentialsError,
    ServiceError,
    ThrottledError,
)

T = TypeVar("T")

TRANSIENT: tuple[type[BedrockTuneError], ...] = (
    ThrottledError,
    ConnectionFailedError,
    ServiceError,
)
"""Errors after which polling simply goes on."""
NEEDS_REAUTH: tuple[type[BedrockTuneError], ...] = (
    ExpiredCredentialsError,
    ExpiredSSOTokenError,
    InvalidCredentialsError,
)
"""Errors that polling survives, but that need the user to refresh credentials."""

DEFAULT_TICK = 0.1
"""Seconds between two checks of `cancelled()` while waiting: the worst-case cancel latency."""


def never() -> bool:
    """A `cancelled` that never cancels (the CLI stops with Ctrl-C instead)."""
    return False


@dataclass(frozen=True)
class Backoff:
    """How long to wait between polls.

    Raises:
        ValueError: a schedule that cannot work (non-positive first wait, a cap below it, a
            factor below 1, or jitter outside [0, 1)).
    """

    first: float = 15.0
    """Seconds before the next poll after something changed (and before the second poll)."""
    maximum: float = 120.0
    """The longest wait (the cap)."""
    factor: float = 1.6
    """How much longer each wait is while nothing changes."""
    jitter: float = 0.0
    """Each wait moves by up to this fraction either way (0.1: +-10%), never past `maximum`."""

    def __post_init__(self) -> None:
        if self.first <= 0:
            raise ValueError(f"the first wait must be positive, not {self.first}")
        if self.maximum < self.first:
            raise ValueError(f"the longest wait {self.maximum} is below the first {self.first}")
        if self.factor < 1:
            raise ValueError(f"the back-off factor must be at least 1, not {self.factor}")
        if not 0 <= self.jitter < 1:
            raise ValueError(f"jitter must be in [0, 1), not {self.jitter}")

    @classmethod
    def starting_at(cls, first: float, *, jitter: float = 0.0) -> Backoff:
        """The usual schedule from a first interval: up to 8 times longer, x1.6 per quiet poll."""
        return cls(first=first, maximum=first * 8, jitter=jitter)

    def grow(self, interval: float) -> float:
        """The wait after `interval` when nothing changed."""
        return min(self.maximum, interval * self.factor)

    def spread(self, interval: float, draw: float) -> float:
        """`interval` moved by the jitter; `draw` is a uniform number in [0, 1)."""
        return min(self.maximum, interval * (1 + self.jitter * (2 * draw - 1)))


@dataclass(frozen=True)
class Pacing:
    """Where time comes from: real time by default, fakes in tests."""

    clock: Callable[[], float] = time.monotonic
    """Monotonic seconds (how long since the last poll that worked)."""
    sleep: Callable[[float], None] = time.sleep
    random: Callable[[], float] = random.random
    """Uniform draws in [0, 1) for the jitter."""
    tick: float = DEFAULT_TICK
    """The longest single sleep: how late a cancel can be noticed."""


def wait(
    seconds: float,
    cancelled: Callable[[], bool],
    *,
    sleep: Callable[[float], None] = time.sleep,
    tick: float = DEFAULT_TICK,
) -> bool:
    """Sleep `seconds` in slices of at most `tick`; False as soon as `cancelled()` is true.

    The slices are added up rather than read from a clock, so a fake `sleep` works without a
    matching fake clock (a real sleep overshoots each slice by microseconds; that drift is
    harmless for polling).
    """
    waited = 0.0
    while waited < seconds:
        if cancelled():
            return False
        step = min(tick, seconds - waited)
        sleep(step)
        waited += step
    return not cancelled()


@dataclass(frozen=True)
class PollUpdate(Generic[T]):
    """What one poll learned."""

    value: T | None
    """The latest state known (the previous one when this poll failed; None before any)."""
    changed: bool
    """Whether this poll saw a state different from the previous one (the first always is)."""
    error: BedrockTuneError | None = None
    """Why this poll failed (polling goes on); None when it worked."""
    needs_reauth: bool = False
    """The credentials expired: polling goes on, slowly, until they are refreshed."""
    seconds_since_success: float = 0.0
    next_poll_in: float = 0.0
    """Seconds until the next poll (before jitter)."""


def _same(value: object) -> object:
    return value


class Poller(Generic[T]):
    """Fetch a state until `finished(state)`, backing off while it does not change.

    `fingerprint` picks what counts as a change (the whole state by default); a change brings
    the wait back to `backoff.first`.
    """

    def __init__(
        self,
        fetch: Callable[[], T],
        *,
        finished: Callable[[T], bool],
        backoff: Backoff | None = None,
        fingerprint: Callable[[T], object] = _same,
        pacing: Pacing | None = None,
    ) -> None:
        self.fetch = fetch
        self.finished = finished
        self.backoff = backoff or Backoff()
        self.fingerprint = fingerprint
        self.pacing = pacing or Pacing()
        self._interval = self.backoff.first
        self._last: T | None = None
        self._last_success = self.pacing.clock()

    @property
    def interval(self) -> float:
        """Seconds until the next poll (before jitter)."""
        return self._interval

    @property
    def last(self) -> T | None:
        """The latest state fetched."""
        return self._last

    def poll_once(self) -> PollUpdate[T]:
        """Fetch once and set the next wait; never raises for transient faults or expired
        credentials (other errors, such as a resource that does not exist, are raised)."""
        try:
            value = self.fetch()
        except NEEDS_REAUTH as error:
            self._interval = self.backoff.maximum
            return self._failed(error, needs_reauth=True)
        except TRANSIENT as error:
            self._interval = self.backoff.grow(self._interval)
            return self._failed(error)
        self._last_success = self.pacing.clock()
        changed = self._last is None or self.fingerprint(value) != self.fingerprint(self._last)
        self._last = value
        self._interval = self.backoff.first if changed else self.backoff.grow(self._interval)
        return PollUpdate(value, changed, next_poll_in=self._interval)

    def _failed(self, error: BedrockTuneError, *, needs_reauth: bool = False) -> PollUpdate[T]:
        return PollUpdate(
            self._last,
            changed=False,
            error=error,
            needs_reauth=needs_reauth,
            seconds_since_success=self.pacing.clock() - self._last_success,
            next_poll_in=self._interval,
        )

    def wait(self, cancelled: Callable[[], bool] = never) -> bool:
        """Wait the current interval (jittered); False when cancelled meanwhile."""
        seconds = self.backoff.spread(self._interval, self.pacing.random())
        return wait(seconds, cancelled, sleep=self.pacing.sleep, tick=self.pacing.tick)

    def run(
        self,
        on_update: Callable[[PollUpdate[T]], None] = lambda update: None,
        cancelled: Callable[[], bool] = never,
    ) -> T | None:
        """Poll until finished (returns the final state) or cancelled (returns None).

        `on_update` sees every poll, failed ones included, before the finished check.
        """
        while not cancelled():
            update = self.poll_once()
            on_update(update)
            if update.error is None and update.value is not None and self.finished(update.value):
                return update.value
            if not self.wait(cancelled):
                break
        return None
