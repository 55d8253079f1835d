"""Saving a run's successive versions to the registry from worker threads, in order.

The App changes its run on the UI thread and writes it (flock + fsync) in a thread, so several
writes can be on their way at once. Each version takes a ticket when it is made; a write whose
ticket is older than the one already on disk is skipped, so a slow earlier save never
overwrites a later one, whatever order the threads run in.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Protocol

from core.run.types import Run


class RunStore(Protocol):
    """Where runs are saved: the registry (`core.registry.Registry`), which sits above the run
    and so is named here by what the saver needs of it."""

    def save_run(self, run_id: str, run: Run) -> object:
        """Write `run` under `run_id`."""
        ...


class RunSaver:
    """The newest version of one run, written to the registry in ticket order."""

    def __init__(self, registry: Callable[[], RunStore]) -> None:
        """Args:
        registry: gives the registry to write to (called in the writing thread).
        """
        self._registry = registry
        self._issue = threading.Lock()
        self._write = threading.Lock()
        self._latest: tuple[int, Run] | None = None
        self._issued = 0
        self._written = 0

    def submit(self, run: Run) -> int:
        """Record `run` as the newest version and return its ticket (for `write`)."""
        with self._issue:
            self._issued += 1
            self._latest = (self._issued, run)
            return self._issued

    def write(self, ticket: int, run: Run) -> bool:
        """Write `run` unless a later version is already on disk; whether it was written.

        Raises whatever the registry raises (the caller shows it).
        """
        if run.run_id is None:
            return False
        with self._write:
            if ticket <= self._written:
                return False
            self._registry().save_run(run.run_id, run)
            self._written = ticket
            return True

    def flush(self) -> None:
        """Write the newest version now if it is not on disk yet (blocks; from any thread)."""
        with self._issue:
            latest = self._latest
        if latest is not None:
            self.write(*latest)
