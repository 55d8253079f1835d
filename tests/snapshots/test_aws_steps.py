"""Snapshots of the steps that make things in the sandbox, walked with the keyboard:
infrastructure (the plan, a bad bucket name, created and uploaded), launch (the form, a
hyperparameter out of range, the confirmation) and watch (running, completed, a failed job)."""

from __future__ import annotations

from pathlib import Path

from textual.widgets import DataTable

from core.sandbox.server import SANDBOX_ACCOUNT_ID
from screens.confirm import ConfirmScreen
from screens.widgets.error_panel import ErrorPanel
from tests.fakes import Clock, launch_job
from tests.snapshots.conftest import DRIVE_SIZE, Shots
from tests.snapshots.world import JOB_SECONDS, NOVA, prepare_run, retype, sandbox_app
from tests.tui.helpers import settle, text_of

BUCKET = f"bedrock-tune-{SANDBOX_ACCOUNT_ID}-us-east-1"


async def test_infrastructure_launch_watch(workdir: Path, shots: Shots, sandbox_port: int) -> None:
    clock = Clock(1_750_000_000.0)
    app = sandbox_app(clock, sandbox_port)
    async with app.run_test(size=DRIVE_SIZE) as pilot:
        await settle(pilot, lambda: app.wizard_run.account_id is not None, rounds=1000)
        prepare_run(app, workdir)
        app.go_to_step("infrastructure")
        await settle(pilot, lambda: app.current_step == "infrastructure")
        await settle(pilot, lambda: "CREATE" in text_of(app, "#plan-view"))
        await settle(pilot)
        await shots(pilot, "infrastructure")

        await retype(pilot, "#bucket", "Not_A_Bucket")
        await pilot.press("enter")
        await settle(pilot, lambda: app.screen.query_one(ErrorPanel).error is not None)
        await settle(pilot)
        await shots(pilot, "infrastructure-bad-bucket")
        await retype(pilot, "#bucket", BUCKET)
        await pilot.press("enter")
        await settle(pilot, lambda: "CREATE" in text_of(app, "#plan-view"))
        await settle(pilot)
        await pilot.press("ctrl+r")  # create
        await settle(pilot, lambda: app.wizard_run.role_arn is not None, rounds=1000)
        await settle(pilot, lambda: not app.screen.query_one("#upload").disabled)
        await pilot.press("ctrl+r")  # then upload
        await settle(pilot, lambda: app.wizard_run.training_uri is not None, rounds=1000)
        await settle(pilot)
        await shots(pilot, "infrastructure-uploaded")

        # ------------------------------------------------------------------ launch
        await pilot.press("ctrl+n")
        await settle(pilot, lambda: app.current_step == "launch")
        await settle(pilot, lambda: "Estimated cost" in text_of(app, "#summary"))
        await shots(pilot, "launch")
        await retype(pilot, "#hp-epochCount", "99")
        await settle(pilot, lambda: "between" in text_of(app, "#hp-problem-epochCount"))
        await shots(pilot, "launch-hyperparameter-out-of-range")
        await retype(pilot, "#hp-epochCount", "2")
        await settle(pilot, lambda: text_of(app, "#hp-problem-epochCount").strip() == "")
        await pilot.press("ctrl+l")
        await settle(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        await shots(pilot, "launch-confirm")
        await pilot.press("tab", "enter")  # from Cancel to "Launch job"
        await settle(pilot, lambda: app.current_step == "watch")

        # ------------------------------------------------------------------ watch
        await settle(pilot, lambda: "InProgress" in text_of(app, "#job-status"))
        await settle(pilot, lambda: app.screen.query_one("#jobs", DataTable).row_count == 1)
        await shots(pilot, "watch-running")
        clock.t += JOB_SECONDS + 1
        await settle(pilot, lambda: "Active" in text_of(app, "#custom-model"), rounds=1000)
        await settle(pilot)
        await shots(pilot, "watch-completed")

        # A job whose training file is not there fails in validation; pick it in the list.
        context = app.aws_context()
        assert context is not None
        missing = f"s3://{BUCKET}/nothing-here/train.jsonl"
        launch_job(context, "snap-broken", NOVA, missing, f"s3://{BUCKET}/out/")
        clock.t += JOB_SECONDS + 1
        await pilot.press("l")  # reload the region's jobs
        jobs = app.screen.query_one("#jobs", DataTable)
        await settle(pilot, lambda: jobs.row_count == 2)
        jobs.focus()
        await pilot.press("home", *["down"] * jobs.get_row_index(jobs_arn(jobs, "snap-broken")))
        await pilot.press("enter")
        await settle(pilot, lambda: "The job failed" in text_of(app, "#failure"), rounds=1000)
        await settle(pilot)
        await shots(pilot, "watch-failed")


def jobs_arn(table: DataTable[object], name: str) -> str:
    """The row key (the job's ARN) of the job called `name`."""
    for key in table.rows:
        if str(table.get_row(key)[3]) == name + "-job":
            assert key.value is not None
            return key.value
    raise AssertionError(f"no job {name} listed")
