"""Snapshots of the sagemaker-import route's own steps in the sandbox, walked with the keyboard:
train (serverless, the licence not accepted yet, then the instance form with its price and spot)
and the training watch (running with its timeline and loss, then completed)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

import core.pricing.cache
import core.sagemaker.launching
import screens.training_watch
from core.naming import default_job_name
from core.run import Route
from core.sandbox.server import SANDBOX_ACCOUNT_ID, Sandbox
from screens.base import LaunchOptions
from screens.confirm import ConfirmScreen
from screens.widgets.error_panel import ErrorPanel
from tests.fakes import Clock
from tests.snapshots.conftest import DRIVE_SIZE, FIXED_NOW, Shots
from tests.tui.helpers import settle, text_of
from tui.app import BedrockTuneApp

BUCKET = f"bedrock-tune-{SANDBOX_ACCOUNT_ID}-us-east-1"
TRAINING_SECONDS = 60.0
DATA = f"s3://{BUCKET}/bedrock-tune/snaprun00001"


@pytest.fixture(autouse=True)
def fixed_training(monkeypatch: pytest.MonkeyPatch) -> None:
    """The job's name, the times the timeline shows and the Price List's date, fixed."""
    monkeypatch.setattr(
        core.sagemaker.launching,
        "default_job_name",
        lambda model_id, now=None: default_job_name(model_id, FIXED_NOW),
    )
    # (The sandbox job's own times stay real: CloudWatch Logs refuses events weeks old.)
    monkeypatch.setattr(screens.training_watch, "shown_clock", lambda moment: "12:00:00")
    # A Price List answer is dated the day it is read: the instance's rate shows that date.
    monkeypatch.setattr(
        core.pricing.cache.CachedAnswer,
        "as_of",
        property(lambda self: FIXED_NOW.date().isoformat()),
    )


async def test_train_and_watch_the_training(workdir: Path, shots: Shots, sandbox_port: int) -> None:
    clock = Clock(1_750_000_000.0)
    app = BedrockTuneApp(
        LaunchOptions(sandbox=True, poll_interval=0.05),
        sandbox_factory=lambda: Sandbox(
            port=sandbox_port, training_seconds=TRAINING_SECONDS, clock=clock
        ),
    )
    async with app.run_test(size=DRIVE_SIZE) as pilot:
        await settle(pilot, lambda: app.wizard_run.account_id is not None, rounds=1000)
        context = app.aws_context()
        assert context is not None
        context.client("s3").create_bucket(Bucket=BUCKET)
        app.update_run(
            replace(
                app.wizard_run,
                route=Route.SAGEMAKER_IMPORT,
                base_model_id="meta-textgeneration-llama-3-8b",
                prepared_dir=str(workdir),
                bucket=BUCKET,
                role_arn=f"arn:aws:iam::{SANDBOX_ACCOUNT_ID}:role/bedrock-tune-sagemaker-us-east-1",
                training_uri=f"{DATA}/data/train.jsonl",
                output_uri=f"{DATA}/output/",
            )
        )
        app.go_to_step("train")
        await settle(pilot, lambda: app.current_step == "train")
        await settle(pilot)
        await shots(pilot, "train-serverless")
        await pilot.press("ctrl+l")  # the licence is not accepted yet
        await settle(pilot, lambda: app.screen.query_one(ErrorPanel).error is not None)
        await settle(pilot)
        await shots(pilot, "train-eula-missing")

        app.screen.query_one("#train-mode").focus()
        await pilot.press("enter", "down", "enter")  # Training job on an instance
        await settle(pilot, lambda: app.screen.query_one("#instance-options").display)
        await settle(pilot, lambda: "Price List" in text_of(app, "#train-estimate"))
        await settle(pilot)
        await shots(pilot, "train-instance")

        await pilot.press("ctrl+l")
        await settle(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        await pilot.press("tab", "enter")  # from Cancel to "Start training"
        await settle(pilot, lambda: app.current_step == "watch", rounds=1000)
        clock.t += TRAINING_SECONDS / 2
        await settle(pilot, lambda: "(Training)" in text_of(app, "#training-status"), rounds=1000)
        await settle(pilot, lambda: "point" in text_of(app, "#training-loss-summary"))
        await settle(pilot)
        await shots(pilot, "watch-training")
        clock.t += TRAINING_SECONDS
        await settle(pilot, lambda: "merged model" in text_of(app, "#training-result"), rounds=1000)
        await settle(pilot, lambda: "20 points" in text_of(app, "#training-loss-summary"))
        await settle(pilot)
        await shots(pilot, "watch-training-completed")
        await pilot.resize_terminal(*DRIVE_SIZE)
