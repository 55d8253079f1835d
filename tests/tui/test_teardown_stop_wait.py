"""The teardown step with a training job still running: it stops the job, then shows, on its
progress line, that it waits for SageMaker to stop it (the wait runs in the delete worker, so the
app keeps answering), and deletes the run folder and the bucket once the job is Stopped."""

from __future__ import annotations

from textual.widgets import Button

from tests.core.test_teardown_stop_wait import JOB, status, training_run
from tests.fakes import Clock
from tests.tui.helpers import settle
from tests.tui.teardown_sandbox import (
    all_ticked,
    delete_confirmed,
    sandbox_app,
    signed_in,
    waiting_for_stop,
)
from tests.tui.test_teardown_step import log_text


async def test_the_teardown_step_shows_its_wait_for_a_stopped_training_job() -> None:
    clock = Clock(5_000.0)
    app = sandbox_app(clock)
    async with app.run_test(size=(160, 60)) as pilot:
        context = await signed_in(pilot)
        training_run(context, clock)

        await all_ticked(pilot, 3)
        await delete_confirmed(pilot)

        # Stopped, and waiting: the progress line says for what and why; nothing emptied yet.
        await waiting_for_stop(pilot, JOB)
        assert status(context) == "Stopping"
        assert app.screen.query_one("#teardown-delete", Button).disabled

        clock.t += 10  # SageMaker stops the job (which saves its model into the run folder)
        await settle(pilot, lambda: "Done." in log_text(app), rounds=1000)
        log = log_text(app)
        assert "✔ Deleted the bucket bt-td." in log
        assert status(context) == "Stopped"
        assert context.client("s3").list_buckets()["Buckets"] == []
