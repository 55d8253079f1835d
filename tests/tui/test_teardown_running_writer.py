"""The teardown step, with our training job still running unticked and its run folder and
bucket ticked: the confirmation says, before anything is deleted, that the job fails when they
go and bills until then. Ticking the job too (it is stopped, then waited for) says nothing."""

from __future__ import annotations

from core.sagemaker import kinds
from screens.confirm import ConfirmScreen
from tests.core.test_teardown_stop_registry import JOB, launched_only, status
from tests.fakes import Clock
from tests.tui.helpers import click_button, settle, text_of
from tests.tui.teardown_sandbox import all_ticked, sandbox_app, signed_in


async def test_the_confirmation_warns_about_a_kept_running_job_writing_where_it_deletes() -> None:
    clock = Clock(5_000.0)
    app = sandbox_app(clock)
    async with app.run_test(size=(160, 60)) as pilot:
        context = await signed_in(pilot)
        launched_only(context, clock)  # our job still InProgress, writing into s3://bt-td/r/

        listing = await all_ticked(pilot, 3)

        await click_button(pilot, "#teardown-delete")  # all ticked: the job is stopped first
        await settle(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        assert "still running" not in text_of(app, "#confirm-message")
        await pilot.press("escape")
        await settle(pilot, lambda: not isinstance(app.screen, ConfirmScreen))

        listing.deselect(f"{kinds.TRAINING_JOB}:{JOB}")  # keep the job: untick it
        await settle(pilot, lambda: len(listing.selected) == 2)
        await click_button(pilot, "#teardown-delete")
        await settle(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        message = " ".join(text_of(app, "#confirm-message").split())
        warning = f"Warning: Training job {JOB} is still running and writes into"
        assert f"{warning} S3 folder s3://bt-td/r/" in message
        assert f"{warning} S3 bucket bt-td" in message
        assert "bills until then" in message
        await pilot.press("escape")  # nothing deleted, nothing stopped
        await settle(pilot, lambda: not isinstance(app.screen, ConfirmScreen))
        assert status(context, JOB) == "InProgress"
        assert context.client("s3").list_buckets()["Buckets"] != []
