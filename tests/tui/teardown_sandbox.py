"""The TUI teardown tests' shared opening: the app in a sandbox on a test clock, and its teardown
step listing what a test made, every row ticked."""

from __future__ import annotations

from textual.pilot import Pilot
from textual.widgets import SelectionList

from core.aws import AwsContext
from core.sandbox.server import Sandbox
from screens.base import LaunchOptions
from screens.confirm import ConfirmScreen
from tests.fakes import Clock
from tests.tui.helpers import click_button, settle, text_of
from tests.tui.test_teardown_step import log_text
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


async def delete_confirmed(pilot: Pilot[None]) -> None:
    """Press Delete and say yes in the confirmation, as a user does."""
    await click_button(pilot, "#teardown-delete")
    await settle(pilot, lambda: isinstance(pilot.app.screen, ConfirmScreen))
    await pilot.click("#confirm-yes")


async def waiting_for_stop(pilot: Pilot[None], job: str) -> None:
    """Wait until the progress line says teardown waits for `job` to stop before it empties
    the run folder, and check that nothing was emptied yet."""
    app = pilot.app
    assert isinstance(app, BedrockTuneApp)
    waiting = f"waiting for training job {job} to stop (SageMaker may write its model for"
    await settle(pilot, lambda: waiting in text_of(app, "#teardown-progress"))
    assert "S3 folder s3://bt-td/r/" in text_of(app, "#teardown-progress")
    assert "Done." not in log_text(app)
