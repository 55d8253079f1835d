"""Watching a job: polling that backs off while nothing changes and keeps going through faults.

The watcher takes its dependencies as arguments: how to fetch the job (so a re-authenticated
context can be swapped in), how to read metrics, a monotonic clock, a wall clock and a sleep.
Tests drive it with fakes; no test waits on the wall clock.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from core.errors import (
    BedrockTuneError,
    ConnectionFailedError,
    ExpiredCredentialsError,
    ExpiredSSOTokenError,
    InvalidCredentialsError,
    ServiceError,
    ThrottledError,
)
from core.jobs.customization import JobSnapshot
from core.jobs.metrics import Metrics

TRANSIENT = (ThrottledError, ConnectionFailedError, ServiceError)
"""Errors after which polling simply goes on."""
NEEDS_REAUTH = (ExpiredCredentialsError, ExpiredSSOTokenError, InvalidCredentialsError)
"""Errors that polling survives, but that need the user to refresh credentials."""

DEFAULT_STALL_AFTER = 6 * 3600.0
"""Warn when training has not started this long after validation finished (field reports saw
jobs stuck at NotStarted for 25-74 hours with no failure message)."""


@dataclass(frozen=True)
class WatchUpdate:
    """What one poll learned."""

    snapshot: JobSnapshot | None
    """The latest job state known (the previous one when this poll failed)."""
    changed: bool
    error: BedrockTuneError | None = None
    """Why this poll failed (polling goes on); None when it worked."""
    needs_reauth: bool = False
    seconds_since_success: float = 0.0
    stalled_for: float | None = None
    """Seconds training has waited to start after validation completed, past the threshold."""
    metrics: Metrics | None = None


class JobWatcher:
    """Poll a job until it ends, backing off while it does not change."""

    def __init__(
        self,
        fetch: Callable[[], JobSnapshot],
        *,
        fetch_metrics: Callable[[JobSnapshot], Metrics] | None = None,
        min_interval: float = 10.0,
        max_interval: float = 120.0,
        backoff: float = 1.6,
        stall_after: float = DEFAULT_STALL_AFTER,
        clock: Callable[[], float] = time.monotonic,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._fetch = fetch
        self._fetch_metrics = fetch_metrics
        self.min_interval = min_interval
        self.max_interval = max_interval
        self._backoff = backoff
        self._stall_after = stall_after
        self._clock = clock
        self._now = now
        self._sleep = sleep
        self._interval = min_interval
        self._last: JobSnapshot | None = None
        self._last_success = clock()
        self._metrics: Metrics | None = None

    @property
    def interval(self) -> float:
        """Seconds until the next poll."""
        return self._interval

    def poll_once(self) -> WatchUpdate:
        """Fetch the job once; never raises for transient faults or expired credentials."""
        try:
            snapshot = self._fetch()
        except NEEDS_REAUTH as error:
            self._interval = self.max_interval
            return self._failed(error, needs_reauth=True)
        except TRANSIENT as error:
            self._interval = min(self.max_interval, self._interval * self._backoff)
            return self._failed(error)
        self._last_success = self._clock()
        changed = self._last is None or snapshot.fingerprint() != self._last.fingerprint()
        self._last = snapshot
        self._interval = (
            self.min_interval if changed else min(self.max_interval, self._interval * self._backoff)
        )
        metrics_changed = self._refresh_metrics(snapshot)
        return WatchUpdate(
            snapshot=snapshot,
            changed=changed or metrics_changed,
            stalled_for=self._stalled_for(snapshot),
            metrics=self._metrics,
        )

    def _failed(self, error: BedrockTuneError, *, needs_reauth: bool = False) -> WatchUpdate:
        return WatchUpdate(
            snapshot=self._last,
            changed=False,
            error=error,
            needs_reauth=needs_reauth,
            seconds_since_success=self._clock() - self._last_success,
            metrics=self._metrics,
        )

    def _refresh_metrics(self, snapshot: JobSnapshot) -> bool:
        if self._fetch_metrics is None:
            return False
        training = next((p for p in snapshot.phases if p.key == "trainingDetails"), None)
        running = training is not None and training.status not in ("", "NotStarted")
        if not running and not snapshot.status.terminal:
            return False
        try:
            metrics = self._fetch_metrics(snapshot)
        except TRANSIENT:
            return False
        changed = metrics != self._metrics
        self._metrics = metrics
        return changed

    def _stalled_for(self, snapshot: JobSnapshot) -> float | None:
        phases = {p.key: p for p in snapshot.phases}
        validation = phases.get("validationDetails")
        training = phases.get("trainingDetails")
        if (
            snapshot.status.terminal
            or validation is None
            or training is None
            or validation.status != "Completed"
            or training.status != "NotStarted"
            or validation.updated is None
        ):
            return None
        waited = (self._now() - validation.updated).total_seconds()
        return waited if waited >= self._stall_after else None

    def watch(
        self,
        on_update: Callable[[WatchUpdate], None],
        cancelled: Callable[[], bool] = lambda: False,
        *,
        tick: float = 0.5,
    ) -> JobSnapshot | None:
        """Poll until the job ends (returns its last snapshot) or `cancelled()` (returns None).

        Sleeps in `tick`-second slices so a cancel is noticed quickly.
        """
        while not cancelled():
            update = self.poll_once()
            on_update(update)
            if update.snapshot is not None and update.snapshot.status.terminal:
                return update.snapshot
            waited = 0.0
            while waited < self._interval and not cancelled():
                step = min(tick, self._interval - waited)
                self._sleep(step)
                waited += step
        return None
