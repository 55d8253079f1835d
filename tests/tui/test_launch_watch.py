"""Launch a job and watch it to Completed, in the sandbox, through the UI."""

from __future__ import annotations

import threading
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from textual.widgets import Button, DataTable, Input, Sparkline
from textual.worker import NoActiveWorker, get_current_worker

from core.registry import Registry, RunRecord
from core.run import Run
from core.sandbox.server import Sandbox
from core.statuses import JobStatus
from screens.base import LaunchOptions
from screens.confirm import ConfirmScreen
from tests.fakes import Clock, hook_aws_calls, launch_job
from tests.tui.helpers import click_button, settle, text_of
from tui.app import BedrockTuneApp

GOOD = (
    b'{"schemaVersion": "bedrock-conversation-2024", "messages": [{"role": "user", "content": '
    b'[{"text": "hi"}]}, {"role": "assistant", "content": [{"text": "hello"}]}]}\n'
) * 8


def _worker_name() -> str | None:
    try:
        return get_current_worker().name
    except NoActiveWorker:
        return None


async def start_in_sandbox(clock: Clock) -> BedrockTuneApp:
    return BedrockTuneApp(
        LaunchOptions(sandbox=True, poll_interval=0.05),
        sandbox_factory=lambda: Sandbox(job_seconds=100, clock=clock),
    )


async def test_launch_then_watch_to_completed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "train.jsonl").write_bytes(GOOD)
    clock = Clock(5_000.0)
    app = await start_in_sandbox(clock)
    async with app.run_test(size=(160, 60)) as pilot:
        await settle(pilot, lambda: app.wizard_run.account_id is not None, rounds=1000)
        context = app.aws_context()
        assert context is not None
        s3 = context.client("s3")
        s3.create_bucket(Bucket="bt-data")
        s3.put_object(Bucket="bt-data", Key="run/train.jsonl", Body=GOOD)
        app.update_run(
            replace(
                app.wizard_run,
                base_model_id="amazon.nova-micro-v1:0:128k",
                training_uri="s3://bt-data/run/train.jsonl",
                output_uri="s3://bt-data/run/output/",
                role_arn="arn:aws:iam::123456789012:role/bedrock-tune-role",
                prepared_dir=str(tmp_path),
            )
        )
        app.go_to_step("launch")
        await settle(pilot, lambda: app.screen.query("#hp-epochCount").first() is not None)
        screen = app.screen
        epochs = screen.query_one("#hp-epochCount", Input)
        epochs.value = "9"  # out of range: refused before any call
        await settle(pilot)
        assert screen.query_one("#launch", Button).disabled
        assert "epochCount must be between 1 and 5" in text_of(app, "#summary")
        assert epochs.has_class("-invalid")
        epochs.value = "2"
        await settle(pilot)
        assert not screen.query_one("#launch", Button).disabled
        assert '"epochCount": "2"' in text_of(app, "#request-json")
        await settle(pilot, lambda: "Estimated cost" in text_of(app, "#summary"))
        assert "8 records" in text_of(app, "#summary")
        # The sandbox's Price List answers: every price says so, with its date.
        await settle(pilot, lambda: "(Price List API, " in text_of(app, "#summary"))
        summary = text_of(app, "#summary")
        assert "$0.001 per 1K tokens x epochs (Price List API, " in summary
        assert "$1.95 per month while the model exists (Price List API, " in summary
        assert "unknown" not in summary and "$0.00 " not in summary
        await pilot.press("ctrl+l")
        await settle(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        saved_when_sent: list[Run] = []
        # The App's background saves of the launching run are held back until the request is
        # sent: the token must be on disk because the launch itself saved it first.
        sent = threading.Event()
        real_save = Registry.save_run

        def held_back_save(self: Registry, run_id: str, run: Run) -> RunRecord:
            if run.client_request_token and _worker_name() == "save-run":
                # A launch that sends before saving sends within milliseconds. A right one
                # waits for this held write (its flush takes the same lock), so the bound is
                # paid once: short, not the 10 s it once was.
                sent.wait(2)
            return real_save(self, run_id, run)

        def check(params: dict[str, Any], **_: Any) -> None:
            saved_when_sent.extend(
                r.run
                for r in Registry().runs()
                if r.run.client_request_token == params["clientRequestToken"]
            )
            sent.set()

        monkeypatch.setattr(Registry, "save_run", held_back_save)

        create = "before-parameter-build.bedrock.CreateModelCustomizationJob"
        hook_aws_calls(monkeypatch, create, check)
        await pilot.click("#confirm-yes")
        await settle(pilot, lambda: app.wizard_run.job_arn is not None)
        token = app.wizard_run.client_request_token
        assert token and app.wizard_run.job_name
        # The run, with its token and every launch choice, was on disk before the request left.
        (saved,) = saved_when_sent
        assert saved.job_arn is None and saved.hyperparameters == {"epochCount": "2"}
        assert app.wizard_run.hyperparameters == {"epochCount": "2"}
        await settle(pilot, lambda: app.current_step == "watch")
        await settle(pilot, lambda: "Validation" in text_of(app, "#timeline"))
        clock.t += 50  # training runs: Bedrock writes no metrics until the end
        await settle(
            pilot,
            lambda: (
                "Training        InProgress" in text_of(app, "#timeline")
                and "estimate" in text_of(app, "#time-left")
            ),
        )
        assert "the loss curves appear when the job completes" in text_of(app, "#loss-note").lower()
        assert not app.screen.query_one("#training-loss", Sparkline).data
        time_left = text_of(app, "#time-left")
        assert "left" in time_left and "training tokens x 2 epochs" in time_left
        assert "elapsed" in text_of(app, "#job-status")
        clock.t += 60
        await settle(pilot, lambda: app.wizard_run.job_status == "Completed", rounds=1000)
        assert app.wizard_run.custom_model_arn
        await settle(pilot, lambda: "Active" in text_of(app, "#custom-model"))
        assert len(app.screen.query_one("#training-loss", Sparkline).data or []) == 60
        assert text_of(app, "#loss-note").strip() == "" and text_of(app, "#time-left").strip() == ""
        assert "Completed" in text_of(app, "#job-status")
        jobs = app.screen.query_one("#jobs", DataTable)
        await settle(pilot, lambda: jobs.row_count == 1)
        assert str(jobs.get_row_at(0)[0]) == "★"  # launched by bedrock-tune (tagged)
        assert "launched by bedrock-tune" in text_of(app, "#jobs-status")


async def test_stop_shows_stopping_then_stopped() -> None:
    clock = Clock(5_000.0)
    app = await start_in_sandbox(clock)
    async with app.run_test(size=(160, 60)) as pilot:
        await settle(pilot, lambda: app.wizard_run.account_id is not None, rounds=1000)
        context = app.aws_context()
        assert context is not None
        context.client("s3").create_bucket(Bucket="bt-stop")
        context.client("s3").put_object(Bucket="bt-stop", Key="t.jsonl", Body=GOOD)
        arn = launch_job(
            context,
            "stop",
            "amazon.nova-micro-v1:0:128k",
            "s3://bt-stop/t.jsonl",
            "s3://bt-stop/o/",
        )
        app.update_run(
            replace(
                app.wizard_run, job_arn=arn, job_name="stop-job", job_status=JobStatus.IN_PROGRESS
            )
        )
        app.go_to_step("watch")
        clock.t += 40
        await settle(pilot, lambda: "InProgress" in text_of(app, "#job-status"))
        await click_button(pilot, "#stop")
        await settle(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        await pilot.click("#confirm-yes")
        await settle(pilot, lambda: "Stopping" in text_of(app, "#job-status"))
        # Stopping is not an end: no announcement, the run still counts as running, no restart.
        assert app.screen.query_one("#stop", Button).disabled
        assert "Training        Stopping" in text_of(app, "#timeline")
        assert app.wizard_run.job_status == "InProgress"
        clock.t += 10  # the sandbox's stop_seconds
        await settle(pilot, lambda: app.wizard_run.job_status == "Stopped", rounds=1000)
        assert "Stopped" in text_of(app, "#job-status")
        assert "Training        Stopped" in text_of(app, "#timeline")
