"""Helpers for Pilot tests: wait for the App's workers to settle, read what is on screen."""

from __future__ import annotations

from collections.abc import Callable

from rich.console import Console
from textual.app import App
from textual.pilot import Pilot
from textual.widgets import Static
from textual.worker import WorkerCancelled, WorkerFailed


async def settle(
    pilot: Pilot[None], until: Callable[[], bool] | None = None, *, rounds: int = 400
) -> None:
    """Let workers finish and messages drain, until `until()` holds (or fail after `rounds`).

    Workers start further workers (discover -> check), so this waits in rounds instead of once.
    """
    for _ in range(rounds):
        try:
            await pilot.app.workers.wait_for_complete()
        except (WorkerCancelled, WorkerFailed):
            pass  # a superseded (exclusive) or failed worker; the screen shows failures
        await pilot.pause()
        if until is None or until():
            if until is None and any(w.is_running for w in pilot.app.workers):
                continue
            return
        await pilot.pause(0.02)
    raise AssertionError("the app did not reach the expected state")


def text_of(app: App[None], selector: str) -> str:
    """The plain text a Static shows."""
    widget = app.screen.query_one(selector, Static)
    renderable = widget.render()
    console = Console(width=200, record=True)
    console.print(renderable)
    return console.export_text()
