"""Watching a job: the core poller (back-off while nothing changes, faults survived, prompt
cancel) plus what is particular to customization jobs: loss metrics once training runs, and a
warning when training has not started long after validation finished.

The watcher takes its dependencies as arguments: how to fetch the job (so a re-authenticated
context can be swapped in), how to read metrics, a monotonic clock, a wall clock and a sleep.
Tests drive it with fakes; no test waits on the wall clock.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from core.errors import BedrockTuneError
from core.jobs.customization import JobSnapshot
from core.jobs.metrics import Metrics
from core.poll import DEFAULT_TICK, TRANSIENT, Backoff, Pacing, Poller, PollUpdate, never

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
        tick: float = DEFAULT_TICK,
    ) -> None:
        self._poller = Poller(
            fetch,
            finished=lambda snapshot: snapshot.status.terminal,
            backoff=Backoff(min_interval, max_interval, backoff),
            fingerprint=JobSnapshot.fingerprint,
            pacing=Pacing(clock=clock, sleep=sleep, tick=tick),
        )
        self._fetch_metrics = fetch_metrics
        self._stall_after = stall_after
        self._now = now
        self._metrics: Metrics | None = None

    @property
    def min_interval(self) -> float:
        """Seconds between polls after a change."""
        return self._poller.backoff.first

    @property
    def max_interval(self) -> float:
        """The longest wait between polls."""
        return self._poller.backoff.maximum

    @property
    def interval(self) -> float:
        """Seconds until the next poll."""
        return self._poller.interval

    def poll_once(self) -> WatchUpdate:
        """Fetch the job once; never raises for transient faults or expired credentials."""
        return self._job_update(self._poller.poll_once())

    def _job_update(self, update: PollUpdate[JobSnapshot]) -> WatchUpdate:
        snapshot = update.value
        if update.error is not None or snapshot is None:
            return WatchUpdate(
                snapshot=snapshot,
                changed=False,
                error=update.error,
                needs_reauth=update.needs_reauth,
                seconds_since_success=update.seconds_since_success,
                metrics=self._metrics,
            )
        metrics_changed = self._refresh_metrics(snapshot)
        return WatchUpdate(
            snapshot=snapshot,
            changed=update.changed or metrics_changed,
            stalled_for=self._stalled_for(snapshot),
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
        cancelled: Callable[[], bool] = never,
    ) -> JobSnapshot | None:
        """Poll until the job ends (returns its last snapshot) or `cancelled()` (returns None).

        Waits in short slices (`tick`), so a cancel is noticed within one slice.
        """
        return self._poller.run(lambda update: on_update(self._job_update(update)), cancelled)
