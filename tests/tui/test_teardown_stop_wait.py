"""The teardown step with a training job still running: it stops the job, then shows, on its
progress line, that it waits for SageMaker to stop it (the wait runs in the delete worker, so the
app keeps answering), and deletes the run folder and the bucket once the job is Stopped."""

from __future__ import annotations

from textual.widgets import Button, SelectionList

from core.sandbox.server import Sandbox
from screens.base import LaunchOptions
from screens.confirm import ConfirmScreen
from tests.core.test_teardown_stop_wait import JOB, status, training_run
from tests.fakes import Clock
from tests.tui.helpers import click_button, settle, text_of
from tests.tui.test_teardown_step import log_text
from tui.app import BedrockTuneApp


async def test_the_teardown_step_shows_its_wait_for_a_stopped_training_job() -> None:
    clock = Clock(5_000.0)
    app = BedrockTuneApp(
        LaunchOptions(sandbox=True, poll_interval=0.05),
        sandbox_factory=lambda: Sandbox(clock=clock),
    )
    async with app.run_test(size=(160, 60)) as pilot:
        await settle(pilot, lambda: app.wizard_run.account_id is not None, rounds=1000)
        context = app.aws_context()
        assert context is not None
        training_run(context, clock)

        app.go_to_step("teardown")
        await settle(pilot, lambda: bool(app.screen.query("#teardown-items")))
        listing = app.screen.query_one("#teardown-items", SelectionList)
        await settle(pilot, lambda: listing.option_count == 3)
        await pilot.click("#teardown-select-all-button")
        await settle(pilot, lambda: len(listing.selected) == 3)
        await click_button(pilot, "#teardown-delete")
        await settle(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        await pilot.click("#confirm-yes")

        # Stopped, and waiting: the progress line says for what and why; nothing emptied yet.
        waiting = f"waiting for training job {JOB} to stop (SageMaker may write its model for"
        await settle(pilot, lambda: waiting in text_of(app, "#teardown-progress"))
        assert "S3 folder s3://bt-td/r/" in text_of(app, "#teardown-progress")
        assert "Done." not in log_text(app)
        assert status(context) == "Stopping"
        assert app.screen.query_one("#teardown-delete", Button).disabled

        clock.t += 10  # SageMaker stops the job (which saves its model into the run folder)
        await settle(pilot, lambda: "Done." in log_text(app), rounds=1000)
        log = log_text(app)
        assert "✔ Deleted the bucket bt-td." in log
        assert status(context) == "Stopped"
        assert context.client("s3").list_buckets()["Buckets"] == []
