"""Snapshots of the sagemaker-autopilot and sagemaker-jumpstart routes' own steps in the sandbox,
walked with the keyboard: the Autopilot launch (the form, a hyperparameter out of range, the
confirmation repeating its estimate), its watch (running, then completed with the best candidate's
metrics), the endpoint (its hourly price, the confirmation, creating, in service) and the JumpStart
launch (the model's spec with its EULA shown, refused while the EULA is not accepted, then the
confirmation repeating the instance's price)."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

import core.pricing.cache
import screens.autopilot
import screens.autopilot_watch
import screens.jumpstart
from core.naming import default_automl_job_name, default_job_name
from core.run import Route
from core.sandbox.server import SANDBOX_ACCOUNT_ID, Sandbox
from core.statuses import JobStatus
from screens.autopilot_watch import AutopilotWatchScreen
from screens.base import LaunchOptions
from screens.confirm import ConfirmScreen
from screens.endpoint import EndpointScreen
from screens.jumpstart import JumpStartLaunchScreen
from screens.widgets.error_panel import ErrorPanel
from tests.fakes import Clock
from tests.snapshots.conftest import DRIVE_SIZE, FIXED_NOW, Shots
from tests.tui.helpers import settle, text_of
from tui.app import BedrockTuneApp

BUCKET = f"bedrock-tune-{SANDBOX_ACCOUNT_ID}-us-east-1"
DATA = f"s3://{BUCKET}/bedrock-tune/snaprun00001"
ROLE = f"arn:aws:iam::{SANDBOX_ACCOUNT_ID}:role/bedrock-tune-sagemaker-us-east-1"
AUTOML_SECONDS = 100.0
READY_SECONDS = 30.0
RECORDS = [{"prompt": f"Summarize: dialogue {i}", "completion": f"summary {i}"} for i in range(8)]


class _FixedDatetime(datetime):
    """`datetime` whose `now()` is `FIXED_NOW` (when the watch saw each status)."""

    @classmethod
    def now(cls, tz: Any = None) -> _FixedDatetime:
        return cls.fromtimestamp(FIXED_NOW.timestamp(), tz)


@pytest.fixture(autouse=True)
def fixed_names(monkeypatch: pytest.MonkeyPatch) -> None:
    """The jobs' names, the times the watch shows and the Price List's date, fixed."""
    monkeypatch.setattr(
        screens.autopilot,
        "default_automl_job_name",
        lambda model, now=None: default_automl_job_name(model, FIXED_NOW),
    )
    monkeypatch.setattr(
        screens.jumpstart,
        "default_job_name",
        lambda model_id, now=None: default_job_name(model_id, FIXED_NOW),
    )
    monkeypatch.setattr(screens.autopilot_watch, "datetime", _FixedDatetime)
    # A Price List answer is dated the day it is read: the instance's rate shows that date.
    monkeypatch.setattr(
        core.pricing.cache.CachedAnswer,
        "as_of",
        property(lambda self: FIXED_NOW.date().isoformat()),
    )


def sagemaker_app(clock: Clock, port: int) -> BedrockTuneApp:
    """The app in its own sandbox on `port`, whose Autopilot jobs and endpoints play out on
    `clock`."""
    return BedrockTuneApp(
        LaunchOptions(sandbox=True, poll_interval=0.05),
        sandbox_factory=lambda: Sandbox(
            port=port, automl_seconds=AUTOML_SECONDS, ready_seconds=READY_SECONDS, clock=clock
        ),
    )


async def uploaded_run(app: BedrockTuneApp, folder: Path, route: Route, model: str) -> None:
    """The run as the data steps leave it on a SageMaker route: prepared and uploaded, with
    its bucket and execution role."""
    (folder / "train.jsonl").write_text("".join(json.dumps(r) + "\n" for r in RECORDS))
    context = app.aws_context()
    assert context is not None
    context.client("s3").create_bucket(Bucket=BUCKET)
    app.update_run(
        replace(
            app.wizard_run,
            route=route,
            base_model_id=model,
            prepared_dir=str(folder),
            bucket=BUCKET,
            role_arn=ROLE,
            training_uri=f"{DATA}/data/train.jsonl",
        )
    )


async def test_autopilot_launch_watch_and_endpoint(
    workdir: Path, shots: Shots, sandbox_port: int
) -> None:
    clock = Clock(1_750_000_000.0)
    app = sagemaker_app(clock, sandbox_port)
    async with app.run_test(size=DRIVE_SIZE) as pilot:
        await settle(pilot, lambda: app.wizard_run.account_id is not None, rounds=1000)
        await uploaded_run(app, workdir, Route.SAGEMAKER_AUTOPILOT, "Llama2-7B")
        app.go_to_step("launch")
        await settle(pilot, lambda: app.current_step == "launch")
        await settle(pilot, lambda: "Cost:" in text_of(app, "#autopilot-estimate"))
        await settle(pilot)
        await shots(pilot, "autopilot-launch")

        app.screen.query_one("#autopilot-eula").focus()
        await pilot.press("space", "tab", "1", "1", "tab", "ctrl+l")  # epochCount 11: refused
        await settle(pilot, lambda: app.screen.query_one(ErrorPanel).error is not None)
        await settle(pilot)
        assert app.screen.query_one("#hp-epochCount").has_focus  # back at the field at fault
        await shots(pilot, "autopilot-hyperparameter-out-of-range")
        assert app.wizard_run.job_arn is None

        await pilot.press("backspace", "backspace", "2", "ctrl+l")  # asks once
        await settle(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        await settle(pilot)
        await shots(pilot, "autopilot-launch-confirm")
        await pilot.press("tab", "enter")  # from Cancel to "Launch job"
        await settle(pilot, lambda: isinstance(app.screen, AutopilotWatchScreen), rounds=1000)
        await settle(pilot, lambda: "Starting" in text_of(app, "#autopilot-timeline"))
        clock.t += AUTOML_SECONDS / 2
        await settle(
            pilot, lambda: "TrainingModels" in text_of(app, "#autopilot-timeline"), rounds=1000
        )
        await settle(pilot)
        await shots(pilot, "autopilot-watch-running")
        clock.t += AUTOML_SECONDS
        await settle(pilot, lambda: app.wizard_run.job_status is JobStatus.COMPLETED, rounds=1000)
        await settle(pilot, lambda: "ROUGE-1" in text_of(app, "#autopilot-candidate"))
        await settle(pilot)
        await shots(pilot, "autopilot-watch-completed")

        # ------------------------------------------------------------------ endpoint
        await pilot.press("ctrl+n")
        await settle(pilot, lambda: isinstance(app.screen, EndpointScreen))
        await settle(pilot, lambda: "per hour" in text_of(app, "#endpoint-price"))
        await settle(pilot)
        await shots(pilot, "endpoint")
        await pilot.press("d")
        await settle(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        await shots(pilot, "endpoint-confirm")
        await pilot.press("tab", "enter")  # from Cancel to "Deploy it"
        await settle(pilot, lambda: "Creating" in text_of(app, "#endpoint-status"), rounds=1000)
        await settle(pilot)
        await shots(pilot, "endpoint-creating")
        clock.t += READY_SECONDS + 1
        await settle(pilot, lambda: "InService" in text_of(app, "#endpoint-status"), rounds=1000)
        await settle(pilot)
        await shots(pilot, "endpoint-in-service")


async def test_jumpstart_launch_with_its_eula(
    workdir: Path, shots: Shots, sandbox_port: int
) -> None:
    clock = Clock(1_750_000_000.0)
    app = sagemaker_app(clock, sandbox_port)
    async with app.run_test(size=DRIVE_SIZE) as pilot:
        await settle(pilot, lambda: app.wizard_run.account_id is not None, rounds=1000)
        await uploaded_run(
            app, workdir, Route.SAGEMAKER_JUMPSTART, "meta-textgeneration-llama-2-7b"
        )
        app.go_to_step("launch")
        await settle(pilot, lambda: app.current_step == "launch")
        await settle(pilot, lambda: "llamaEula.txt" in text_of(app, "#js-eula"))
        await settle(pilot, lambda: "per instance-hour" in text_of(app, "#js-price"))
        await settle(pilot)
        await shots(pilot, "jumpstart-eula")
        await pilot.press("ctrl+l")  # the EULA is not accepted: refused, nothing sent
        await settle(pilot, lambda: app.screen.query_one(ErrorPanel).error is not None)
        await settle(pilot)
        assert app.screen.query_one("#js-accept-eula").has_focus
        await shots(pilot, "jumpstart-eula-not-accepted")
        assert app.wizard_run.job_arn is None

        await pilot.press("space", "ctrl+l")  # the EULA accepted: it asks once
        await settle(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        await settle(pilot)
        await shots(pilot, "jumpstart-launch-confirm")
        await pilot.press("escape")  # nothing is created
        await settle(pilot, lambda: isinstance(app.screen, JumpStartLaunchScreen))
        assert app.wizard_run.job_arn is None
