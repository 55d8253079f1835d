"""The SageMaker routes' steps with the keyboard only, at 80x24: the Autopilot launch on Ctrl+L (the
licence first, then one confirmation), its watch stopping the job on `s` after a confirmation,
and the footer showing each step's key."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

from textual.widgets import Checkbox

from core.run import Route
from core.sandbox.server import Sandbox
from core.statuses import JobStatus
from screens.autopilot import AutopilotLaunchScreen
from screens.autopilot_watch import AutopilotWatchScreen
from screens.base import LaunchOptions
from screens.confirm import ConfirmScreen
from tests.fakes import Clock
from tests.tui.helpers import settle, text_of
from tests.tui.test_keys import footer_keys
from tui.app import BedrockTuneApp

ROLE = "arn:aws:iam::123456789012:role/bedrock-tune-sagemaker-us-east-1"
RECORDS = [{"prompt": f"Summarize: dialogue {i}", "completion": f"summary {i}"} for i in range(5)]


async def test_autopilot_launch_and_stop_with_keys(tmp_path: Path) -> None:
    (tmp_path / "train.jsonl").write_text("\n".join(json.dumps(r) for r in RECORDS) + "\n")
    clock = Clock(5_000.0)
    app = BedrockTuneApp(
        LaunchOptions(sandbox=True, poll_interval=0.05),
        sandbox_factory=lambda: Sandbox(automl_seconds=100, clock=clock),
    )
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot, lambda: app.wizard_run.account_id is not None, rounds=1000)
        context = app.aws_context()
        assert context is not None
        context.client("s3").create_bucket(Bucket="bt-data")
        app.update_run(
            replace(
                app.wizard_run,
                route=Route.SAGEMAKER_AUTOPILOT,
                base_model_id="Llama2-7B",
                training_uri="s3://bt-data/run/data/train.jsonl",
                role_arn=ROLE,
                prepared_dir=str(tmp_path),
            )
        )
        app.go_to_step("launch")
        await settle(pilot, lambda: isinstance(app.screen, AutopilotLaunchScreen))
        await settle(pilot, lambda: "ctrl+l" in footer_keys(app))
        assert footer_keys(app)["ctrl+l"] == "Launch"
        eula = app.screen.query_one("#autopilot-eula", Checkbox)
        await pilot.press("ctrl+l")  # the licence is not accepted: refused, its box focused
        await settle(pilot, lambda: eula.has_focus)
        assert "Accept the licence" in text_of(app, "#autopilot-eula-problem")
        assert app.wizard_run.job_arn is None
        await pilot.press("space")
        await settle(pilot, lambda: not app.screen.query_one("#autopilot-eula-problem").display)
        await pilot.press("ctrl+l")  # asks first: Cancel is focused, Tab reaches "Launch job"
        await settle(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        assert "Start the Autopilot job?" in text_of(app, "#confirm-title")
        await pilot.press("tab", "enter")
        await settle(pilot, lambda: isinstance(app.screen, AutopilotWatchScreen), rounds=1000)
        await settle(pilot, lambda: "InProgress" in text_of(app, "#autopilot-timeline"))
        await settle(pilot, lambda: "s" in footer_keys(app))
        assert footer_keys(app)["s"] == "Stop job"

        await pilot.press("s")
        await settle(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        assert "Stop the Autopilot job?" in text_of(app, "#confirm-title")
        await pilot.press("tab", "enter")  # from Cancel to "Stop the job"
        await settle(pilot, lambda: isinstance(app.screen, AutopilotWatchScreen))
        await settle(
            pilot,
            lambda: app.wizard_run.job_status in (JobStatus.STOPPING, JobStatus.STOPPED),
            rounds=1000,
        )
