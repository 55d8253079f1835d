"""Helpers for Pilot tests: wait for the App's workers to settle, read what is on screen."""

from __future__ import annotations

import asyncio
import io
from collections.abc import Callable
from time import monotonic

from rich.console import Console
from textual.app import App
from textual.css.query import NoMatches
from textual.pilot import Pilot
from textual.widgets import Button, DirectoryTree, Static

from tests.tui.drawing import draw

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
    # Checked every 5 ms with a plain sleep: most states arrive within a few ms, and each step
    # of a walk through the wizard waits here. (Pilot.pause would make every widget on the
    # screen answer a callback and redraw the screen on each check: a third of a TUI test's
    # CPU.) A widget `until` asks for may not be mounted yet at a check; that is "not yet", and
    # the last such error is the failure when the time is up. A round is 60 ms of patience, so a
    # loaded machine running the suite on every core is not a failure.
    deadline = monotonic() + rounds * 0.06
    missing: NoMatches | None = None
    while monotonic() < deadline:
        await asyncio.sleep(0.005)
        if until is not None:
            try:
                reached = until()
            except NoMatches as error:
                missing, reached = error, False
            if reached:
                await pilot.pause()  # a screen just pushed finishes composing and mounting
                draw(pilot.app)
                return
        elif not _busy(pilot.app):
            await pilot.pause()
            if not _busy(pilot.app):
                draw(pilot.app)
                return
    raise AssertionError("the app did not reach the expected state") from missing


async def click_button(pilot: Pilot[None], selector: str, *, rounds: int = 500) -> None:
    """Click the button `selector` of the current screen with the mouse, like a user.

    Waits until it is enabled and its last press animation is over (a Button ignores presses
    while it has the "-active" class), scrolls it into view, and fails when the click would land
    on another widget.
    """
    button = pilot.app.screen.query_one(selector, Button)
    await settle(
        pilot, lambda: not button.disabled and not button.has_class("-active"), rounds=rounds
    )
    button.scroll_visible(animate=False, immediate=True)
    await pilot.pause()
    assert await pilot.click(button), f"the click on {selector} landed on another widget"


def text_of(app: App[None], selector: str) -> str:
    """The plain text a Static shows."""
    widget = app.screen.query_one(selector, Static)
    console = Console(width=200, record=True, file=io.StringIO())
    console.print(widget.content)
    return console.export_text()
