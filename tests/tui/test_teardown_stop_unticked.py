"""The teardown step, with our training job already Stopping unticked and its run folder and
bucket ticked: the step still waits (on its progress line) for the job to stop before it empties
them, since the job may write its model there. Another install's Stopping job is not waited
for."""

from __future__ import annotations

from core.registry import Registry
from core.sagemaker import kinds
from tests.core.test_teardown_stop_registry import JOB, status
from tests.core.test_teardown_stop_unticked import THEIRS, stopping_in_our_bucket
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


async def test_the_teardown_step_waits_for_an_unticked_stopping_job_before_its_bucket() -> None:
    clock = Clock(5_000.0)
    app = sandbox_app(clock)
    async with app.run_test(size=(160, 60)) as pilot:
        context = await signed_in(pilot)
        stopping_in_our_bucket(context, clock)  # ours Stopping 1 s more, theirs 5 s

        listing = await all_ticked(pilot, 3)
        listing.deselect(f"{kinds.TRAINING_JOB}:{JOB}")  # keep the job: untick it
        await settle(pilot, lambda: len(listing.selected) == 2)
        await delete_confirmed(pilot)

        await waiting_for_stop(pilot, JOB)
        assert status(context, JOB) == "Stopping"

        clock.t += 1  # ours Stops (and saves its model in the folder); theirs is Stopping
        await settle(pilot, lambda: "Done." in log_text(app), rounds=1000)
        log = log_text(app)
        assert "✔ Deleted the bucket bt-td." in log
        assert THEIRS not in log
        assert status(context, THEIRS) == "Stopping"
        assert context.client("s3").list_buckets()["Buckets"] == []
        left = [(r.kind, r.identifier) for r in Registry().resources()]
        assert left == [(kinds.TRAINING_JOB, JOB)]  # unticked: kept on the registry too
