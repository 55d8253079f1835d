"""The sagemaker-autopilot and sagemaker-jumpstart routes' own launch and watch screens, in the
sandbox, through the UI: the route picks its screen for the shared step; a bad hyperparameter or
an unaccepted EULA is refused before any call; a launch asks once (the estimate repeated),
records the run first, starts the job once, and the watch follows it to its end (the best
candidate's metrics; the training timeline and loss). The routes are offered (every step built);
tests/e2e/test_sagemaker_endpoint_routes.py walks them whole."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

from textual.widgets import Button, Checkbox, Input, Select

from core.registry import Registry
from core.run import Route
from core.sagemaker.launching import TRAINING_JOB
from core.sandbox.server import Sandbox
from core.statuses import JobStatus
from screens.autopilot import AutopilotLaunchScreen
from screens.autopilot_watch import AutopilotWatchScreen
from screens.base import LaunchOptions
from screens.confirm import ConfirmScreen
from screens.jumpstart import JumpStartLaunchScreen
from screens.launch import LaunchScreen
from screens.training_watch import TrainingWatchScreen
from tests.fakes import Clock
from tests.tui.helpers import click_button, settle, text_of
from tui.app import BedrockTuneApp

ROLE = "arn:aws:iam::123456789012:role/bedrock-tune-sagemaker-us-east-1"
RECORDS = [{"prompt": f"Summarize: dialogue {i}", "completion": f"summary {i}"} for i in range(5)]


def app_in_sandbox(clock: Clock) -> BedrockTuneApp:
    return BedrockTuneApp(
        LaunchOptions(sandbox=True, poll_interval=0.05),
        sandbox_factory=lambda: Sandbox(automl_seconds=100, training_seconds=100, clock=clock),
    )


async def test_autopilot_launch_and_watch_to_the_best_candidate(tmp_path: Path) -> None:
    (tmp_path / "train.jsonl").write_text("\n".join(json.dumps(r) for r in RECORDS) + "\n")
    clock = Clock(5_000.0)
    app = app_in_sandbox(clock)
    async with app.run_test(size=(160, 80)) as pilot:
        await settle(pilot, lambda: app.wizard_run.account_id is not None, rounds=1000)
        assert Route.SAGEMAKER_AUTOPILOT in app.offered_routes
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
        screen = app.screen
        assert "legacy" in text_of(app, "#autopilot-lifecycle")
        # Llama 2's licence: the request is shown as it will be once the licence is accepted.
        assert "once the licence is accepted" in text_of(app, "#autopilot-request")
        screen.query_one("#autopilot-eula", Checkbox).value = True
        screen.query_one("#hp-epochCount", Input).value = "11"
        await settle(pilot)
        assert "epochCount=11 is out of range" in text_of(app, "#autopilot-request")
        await click_button(pilot, "#autopilot-launch")
        await settle(pilot)
        assert app.wizard_run.job_arn is None  # refused before any call
        assert "epochCount=11" in str(screen.query_one("#error-panel").render())
        screen.query_one("#hp-epochCount", Input).value = "2"
        await settle(pilot, lambda: "Cost:" in text_of(app, "#autopilot-estimate"))
        estimate = " ".join(text_of(app, "#autopilot-estimate").split())
        # Each amount says the Price List rate it comes from, and its date.
        assert "by the default completion criterion (Price List API, 20" in estimate, estimate
        assert '"epochCount": "2"' in text_of(app, "#autopilot-request")
        await click_button(pilot, "#autopilot-launch")
        await settle(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        assert estimate in " ".join(text_of(app, "#confirm-message").split())
        await click_button(pilot, "#confirm-yes")
        await settle(pilot, lambda: isinstance(app.screen, AutopilotWatchScreen), rounds=1000)
        run = app.wizard_run
        assert run.job_arn is not None and run.job_status is JobStatus.IN_PROGRESS
        assert run.training_uri == "s3://bt-data/run/data/autopilot-train.csv"
        csv = context.client("s3").get_object(Bucket="bt-data", Key="run/data/autopilot-train.csv")
        assert csv["Body"].read().decode().startswith("input,output\n")
        saved = Registry().get_run(run.run_id or "")
        assert saved is not None and saved.run.job_name == run.job_name
        await settle(pilot, lambda: "Starting" in text_of(app, "#autopilot-timeline"))
        clock.t += 101
        await settle(pilot, lambda: app.wizard_run.job_status is JobStatus.COMPLETED, rounds=1000)
        await settle(pilot, lambda: "ROUGE-1" in text_of(app, "#autopilot-candidate"))
        assert "Completed" in text_of(app, "#autopilot-timeline")
        assert not app.screen.query_one("#autopilot-next", Button).disabled


async def test_jumpstart_launch_needs_the_eula_and_watches_the_training(
    tmp_path: Path,
) -> None:
    clock = Clock(5_000.0)
    app = app_in_sandbox(clock)
    async with app.run_test(size=(160, 80)) as pilot:
        await settle(pilot, lambda: app.wizard_run.account_id is not None, rounds=1000)
        context = app.aws_context()
        assert context is not None
        context.client("s3").create_bucket(Bucket="bt-data")
        app.update_run(
            replace(
                app.wizard_run,
                route=Route.SAGEMAKER_JUMPSTART,
                base_model_id="meta-textgeneration-llama-2-7b",
                training_uri="s3://bt-data/run/data/train.jsonl",
                role_arn=ROLE,
                prepared_dir=str(tmp_path),
            )
        )
        app.go_to_step("launch")
        await settle(pilot, lambda: isinstance(app.screen, JumpStartLaunchScreen))
        screen = app.screen
        await settle(pilot, lambda: not screen.query_one("#js-launch", Button).disabled)
        assert screen.query_one("#js-model", Select).value == "meta-textgeneration-llama-2-7b"
        assert "llamaEula.txt" in text_of(app, "#js-eula")
        await settle(pilot, lambda: "per instance-hour" in text_of(app, "#js-price"))
        price = " ".join(text_of(app, "#js-price").split())
        assert " for 2.5 h (Price List API, 20" in price and "unknown" not in price, price
        assert "once the licence is accepted" in text_of(app, "#js-request")
        await click_button(pilot, "#js-launch")
        await settle(pilot)
        assert app.wizard_run.job_arn is None  # the EULA was not accepted: nothing sent
        screen.query_one("#js-accept-eula", Checkbox).value = True
        screen.query_one("#js-hp", Input).value = "epoch=1"
        await settle(pilot)
        assert '"epoch": "1"' in text_of(app, "#js-request")
        await click_button(pilot, "#js-launch")
        await settle(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        assert price in " ".join(text_of(app, "#confirm-message").split())
        await click_button(pilot, "#confirm-yes")
        await settle(pilot, lambda: isinstance(app.screen, TrainingWatchScreen), rounds=1000)
        launched = app.wizard_run
        assert launched.job_arn is not None and launched.job_name
        name = launched.job_name
        await settle(pilot, lambda: name in text_of(app, "#training-status"))
        assert [r.identifier for r in app.registry().resources() if r.kind == TRAINING_JOB] == [
            launched.job_name
        ]  # recorded: teardown stops it while it runs
        clock.t += 101
        await settle(pilot, lambda: app.wizard_run.job_status is JobStatus.COMPLETED, rounds=1000)
        await settle(pilot, lambda: "tuned model is at" in text_of(app, "#training-result"))
        assert "SageMaker endpoint" in text_of(app, "#training-result")
        assert app.wizard_run.model_artifacts and app.wizard_run.model_artifacts.startswith("s3://")
        assert "Uploading" in text_of(app, "#training-timeline")
        await settle(pilot, lambda: "point" in text_of(app, "#training-loss-summary"))
        assert str(app.screen.query_one("#training-next", Button).label) == "Deploy on an endpoint"
        await click_button(pilot, "#training-next")
        await settle(pilot, lambda: app.current_step == "endpoint")


async def test_the_bedrock_route_keeps_its_own_launch_screen() -> None:
    clock = Clock(5_000.0)
    app = app_in_sandbox(clock)
    async with app.run_test(size=(160, 60)) as pilot:
        await settle(pilot, lambda: app.wizard_run.account_id is not None, rounds=1000)
        app.update_run(replace(app.wizard_run, base_model_id="amazon.nova-micro-v1:0:128k"))
        app.go_to_step("launch")
        await settle(pilot, lambda: app.current_step == "launch")
        assert type(app.screen) is LaunchScreen
