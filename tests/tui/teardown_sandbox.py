"""The TUI teardown tests' shared opening: the app in a sandbox on a test clock, and its teardown
step listing what a test made, every row ticked."""

from __future__ import annotations

from textual.pilot import Pilot
from textual.widgets import SelectionList

from core.aws import AwsContext
from core.sandbox.server import Sandbox
from screens.base import LaunchOptions
from tests.fakes import Clock
from tests.tui.helpers import settle
from tui.app import BedrockTuneApp


def sandbox_app(clock: Clock) -> BedrockTuneApp:
    """The app in its own sandbox, whose jobs play out on `clock`, polling every 50 ms."""
    return BedrockTuneApp(
        LaunchOptions(sandbox=True, poll_interval=0.05),
        sandbox_factory=lambda: Sandbox(clock=clock),
    )


async def signed_in(pilot: Pilot[None]) -> AwsContext:
    """Wait until the app has signed in to its sandbox; its AWS context."""
    app = pilot.app
    assert isinstance(app, BedrockTuneApp)
    await settle(pilot, lambda: app.wizard_run.account_id is not None, rounds=1000)
    context = app.aws_context()
    assert context is not None
    return context


async def all_ticked(pilot: Pilot[None], rows: int) -> SelectionList[str]:
    """Open the teardown step, wait for its `rows` rows, tick them all (the "Select all"
    button, as a user does) and return the list."""
    app = pilot.app
    assert isinstance(app, BedrockTuneApp)
    app.go_to_step("teardown")
    await settle(pilot, lambda: bool(app.screen.query("#teardown-items")))
    listing: SelectionList[str] = app.screen.query_one("#teardown-items", SelectionList)
    await settle(pilot, lambda: listing.option_count == rows)
    await pilot.click("#teardown-select-all-button")
    await settle(pilot, lambda: len(listing.selected) == rows)
    return listing
