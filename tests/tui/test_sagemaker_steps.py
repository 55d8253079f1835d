"""The sagemaker-import route's own screens in the App: a training job launched from the CLI (or
an app that closed mid-training) is re-attached on the watch step, followed and stopped; a failed
job is explained; and the evaluate step takes a test file on a route that prepared none."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest
from textual.widgets import Checkbox, Input

from core.run import Route, Run
from core.sagemaker.watch import TrainingSnapshot, Transition
from core.sandbox.server import SANDBOX_ACCOUNT_ID, Sandbox
from core.statuses import JobStatus
from screens.base import LaunchOptions
from screens.confirm import ConfirmScreen
from screens.credentials import CredentialsScreen
from screens.resume import ResumeScreen
from screens.training_watch import TrainingEnded, TrainingWatchScreen, spot_saving
from tests.fakes import Clock, context_for
from tests.tui.helpers import click_button, settle, text_of
from tui.app import BedrockTuneApp
from tui.cli.main import main

ROLE = f"arn:aws:iam::{SANDBOX_ACCOUNT_ID}:role/bedrock-tune-sagemaker-us-east-1"
DATA = "s3://bt-train/bedrock-tune/r1"
PLACE = Run(run_id="r1", target="sandbox", region="us-east-1", account_id=SANDBOX_ACCOUNT_ID)


def words(app: BedrockTuneApp, selector: str) -> str:
    return " ".join(text_of(app, selector).split())


async def test_a_training_launched_from_the_cli_is_followed_after_resume_and_stopped(
    exported_sandbox: Sandbox, clock: Clock, capsys: pytest.CaptureFixture[str]
) -> None:
    s3 = context_for(exported_sandbox).client("s3")
    s3.create_bucket(Bucket="bt-train")
    s3.put_object(Bucket="bt-train", Key="bedrock-tune/r1/data/train.jsonl", Body=b"{}\n")
    argv = ["sagemaker", "launch", "--base", "meta-textgeneration-llama-3-8b", "--accept-eula"]
    argv += ["--train", f"{DATA}/data/train.jsonl", "--output", f"{DATA}/output/"]
    assert main([*argv, "--role", ROLE, "--json"]) == 0
    launched = json.loads(capsys.readouterr().out)
    app = BedrockTuneApp(LaunchOptions(poll_interval=0.05))
    async with app.run_test(size=(160, 60)) as pilot:
        await settle(
            pilot,
            lambda: isinstance(app.screen, ResumeScreen) and bool(app.screen.query("#resume-runs")),
        )
        await pilot.press("enter")
        await settle(pilot, lambda: app.current_step == "watch")
        assert isinstance(app.screen, TrainingWatchScreen)  # the route's own watch screen
        assert app.wizard_run.job_arn == launched["job_arn"]
        await settle(pilot, lambda: "InProgress" in text_of(app, "#training-status"))
        clock.t += 30  # half way: training, with a loss logged
        await settle(pilot, lambda: "point" in text_of(app, "#training-loss-summary"))
        await pilot.press("s")
        await settle(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        await click_button(pilot, "#confirm-yes")
        await settle(pilot, lambda: app.wizard_run.job_status is JobStatus.STOPPING)
        clock.t += 10
        await settle(pilot, lambda: "made no model" in text_of(app, "#training-result"))
        assert app.wizard_run.job_status is JobStatus.STOPPED
        assert app.wizard_run.model_source is None  # nothing to import
        # Another attempt: the train step offers a new job under a new name.
        stopped = app.wizard_run.job_name
        app.go_to_step("train")
        await settle(pilot, lambda: app.current_step == "train")
        name = app.screen.query_one("#train-job-name", Input).value
        assert name and name != stopped
        app.screen.query_one("#train-eula", Checkbox).value = True
        await click_button(pilot, "#train-launch")
        await settle(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        await click_button(pilot, "#confirm-yes")
        await settle(pilot, lambda: app.current_step == "watch", rounds=1000)
        assert app.wizard_run.job_name == name and app.wizard_run.job_arn != launched["job_arn"]
        await settle(pilot, lambda: name in text_of(app, "#training-status"))
        assert "none logged yet" in text_of(app, "#training-loss-summary")  # the new job's own


async def test_a_failed_training_is_explained(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(CredentialsScreen, "discover", lambda self: None)
    app = BedrockTuneApp(LaunchOptions(poll_interval=0.05))
    async with app.run_test(size=(160, 60)) as pilot:
        app.update_run(
            replace(
                PLACE,
                route=Route.SAGEMAKER_IMPORT,
                base_model_id="meta-textgeneration-llama-3-8b",
                training_uri=f"{DATA}/data/train.jsonl",
            )
        )
        app.go_to_step("watch")
        await settle(pilot, lambda: app.current_step == "watch")
        screen = app.screen
        assert isinstance(screen, TrainingWatchScreen)
        assert "start one in the Train step" in text_of(app, "#training-status")
        moment = datetime(2026, 12, 2, tzinfo=UTC)
        failed = TrainingSnapshot(
            name="bt-llama",
            arn="arn:aws:sagemaker:us-east-1:123456789012:training-job/bt-llama",
            status="Failed",
            secondary_status="Failed",
            timeline=(
                Transition("Starting", moment, moment, "Preparing the instances"),
                Transition("Failed", moment, None, "Training job failed"),
            ),
            failure_reason="ResourceLimitExceeded: The account-level service limit "
            "'ml.g5.12xlarge for training job usage' is 0 Instances",
            model_artifacts=None,
            training_seconds=None,
            billable_seconds=None,
        )
        screen.post_message(TrainingEnded(failed))
        await settle(pilot, lambda: "failed" in text_of(app, "#training-result"))
        result = words(app, "#training-result")
        assert "quota for this instance type" in result and "Service Quotas" in result
        assert "ResourceLimitExceeded" in result  # SageMaker's own words too
        assert app.wizard_run.job_status is JobStatus.FAILED


async def test_evaluate_takes_a_test_file_when_the_route_prepared_none(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(CredentialsScreen, "discover", lambda self: None)
    test = tmp_path / "held-out.jsonl"
    test.write_text(json.dumps({"prompt": "2+2?", "completion": "4"}) + "\n")
    app = BedrockTuneApp(LaunchOptions(poll_interval=0.05))
    async with app.run_test(size=(160, 60)) as pilot:
        app.update_run(
            replace(
                PLACE,
                route=Route.IMPORT_ONLY,
                model_source=str(tmp_path),
                custom_model_arn="arn:aws:bedrock:us-east-1:123456789012:imported-model/m1",
            )
        )
        app.go_to_step("evaluate")
        await settle(pilot, lambda: app.current_step == "evaluate")
        assert "prepared no test file" in words(app, "#eval-source")
        await settle(pilot, lambda: "No test file" in words(app, "#eval-estimate"))
        app.screen.query_one("#eval-test-file", Input).value = str(test)
        await settle(pilot, lambda: str(test) in words(app, "#eval-source"))
        await settle(pilot, lambda: "No test file" not in words(app, "#eval-estimate"))


def test_the_spot_saving_is_shown_once_the_job_reports_its_billable_time() -> None:
    done = TrainingSnapshot(
        name="j",
        arn="arn",
        status="Completed",
        secondary_status="Completed",
        timeline=(),
        failure_reason=None,
        model_artifacts="s3://b/p/j/output/model/",
        training_seconds=3600,
        billable_seconds=900,
    )
    saving = spot_saving(done)
    assert saving is not None and "75% saved" in saving
    assert spot_saving(replace(done, billable_seconds=3600)) is None  # on demand: no saving
    assert spot_saving(replace(done, billable_seconds=None)) is None  # not reported yet
