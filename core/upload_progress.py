"""Upload progress: how far each file is, its rate and the time left, described in one line."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from core import format as fmt

State = Literal["checking", "uploading", "skipped", "done"]


@dataclass(frozen=True)
class FileProgress:
    """How far one file is."""

    name: str
    done: int
    """Bytes uploaded (or checked)."""
    total: int
    rate: float | None
    """Bytes per second since this file's upload started (None until measurable)."""
    seconds_left: float | None
    state: State

    def describe(self) -> str:
        """`12.0 MB / 40.0 MB  3.1 MB/s  9 s left`, or the final state (without the name)."""
        if self.state == "skipped":
            return f"{fmt.size(self.total)}, already there, identical: skipped"
        if self.state == "done":
            return f"{fmt.size(self.total)}, uploaded and verified"
        if self.state == "checking":
            return f"checking {fmt.size(self.total)}..."
        text = f"{fmt.size(self.done)} / {fmt.size(self.total)}"
        if self.rate:
            text += f"  {fmt.size(self.rate)}/s"
        if self.seconds_left is not None:
            text += f"  {fmt.duration(self.seconds_left)} left"
        return text


class Meter:
    """Progress of one file: bytes, rate and time left from an injected clock."""

    def __init__(
        self,
        name: str,
        total: int,
        clock: Callable[[], float],
        report: Callable[[FileProgress], None] | None,
    ) -> None:
        self.name = name
        self.total = total
        self._clock = clock
        self._report = report
        self._done = 0
        self._start: float | None = None
        self._lock = threading.Lock()

    def state(self, state: State, done: int | None = None) -> None:
        with self._lock:
            if done is not None:
                self._done = done
            if state == "uploading" and self._start is None:
                self._start = self._clock()
            self._send(state)

    def advance(self, count: int) -> None:
        with self._lock:
            self._done += count
            self._send("uploading")

    def _send(self, state: State) -> None:
        if self._report is None:
            return
        rate = left = None
        if self._start is not None and state == "uploading":
            elapsed = self._clock() - self._start
            if elapsed > 0 and self._done > 0:
                rate = self._done / elapsed
                left = (self.total - self._done) / rate
        self._report(FileProgress(self.name, self._done, self.total, rate, left, state))
