"""Helpers for Pilot tests: wait for the App's workers to settle, read what is on screen."""

from __future__ import annotations

import io
from collections.abc import Callable

from rich.console import Console
from textual.app import App
from textual.pilot import Pilot
from textual.widgets import DirectoryTree, Static

LONG_RUNNING_GROUPS = frozenset({"watch"})
"""Worker groups that run until their subject ends (a job watcher): never waited for."""


def _busy(app: App[None]) -> bool:
    return any(
        w.is_running
        and w.group not in LONG_RUNNING_GROUPS
        and not isinstance(w.node, DirectoryTree)  # its loader waits for work forever
        for w in app.workers
    )


async def settle(
    pilot: Pilot[None], until: Callable[[], bool] | None = None, *, rounds: int = 500
) -> None:
    """Let messages drain and short workers finish until `until()` holds (fail after `rounds`).

    Without `until`, waits until no short-lived worker runs. Workers start further workers
    (discover -> check), so this waits in rounds instead of once.
    """
    for _ in range(rounds):
        await pilot.pause(0.02)
        if until is not None and until():
            return
        if until is None and not _busy(pilot.app):
            await pilot.pause()
            if not _busy(pilot.app):
                return
    raise AssertionError("the app did not reach the expected state")


def text_of(app: App[None], selector: str) -> str:
    """The plain text a Static shows."""
    widget = app.screen.query_one(selector, Static)
    console = Console(width=200, record=True, file=io.StringIO())
    console.print(widget.content)
    return console.export_text()
