"""Snapshots of the steps after training, walked with the keyboard in the sandbox: deploy (the
options, creating, ready), chat (a test record loaded, answered), evaluate (a bad record count,
the scores) and teardown (the list, the confirmation, everything deleted)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from textual.widgets import OptionList, SelectionList

from core.statuses import JobStatus
from screens.chat import Transcript
from screens.confirm import ConfirmScreen
from tests.fakes import Clock, train_model
from tests.snapshots.conftest import DRIVE_SIZE, Shots
from tests.snapshots.world import (
    JOB_SECONDS,
    NOVA,
    READY_SECONDS,
    prepare_run,
    retype,
    sandbox_app,
)
from tests.tui.helpers import settle, text_of


async def test_deploy_chat_evaluate_teardown(
    workdir: Path, shots: Shots, sandbox_port: int
) -> None:
    clock = Clock(1_750_000_000.0)
    app = sandbox_app(clock, sandbox_port)
    async with app.run_test(size=DRIVE_SIZE) as pilot:
        await settle(pilot, lambda: app.wizard_run.account_id is not None, rounds=1000)
        prepare_run(app, workdir)
        context = app.aws_context()
        assert context is not None
        body = (workdir / "prepared" / "train.jsonl").read_bytes()
        trained = train_model(
            context, clock, "snap", NOVA, bucket="bt-snap", body=body, job_seconds=JOB_SECONDS
        )
        app.update_run(
            replace(
                app.wizard_run,
                job_arn=trained.job_arn,
                job_name="snap-job",
                job_status=JobStatus.COMPLETED,
                custom_model_arn=trained.model_arn,
                custom_model_name="snap-model",
            )
        )
        app.go_to_step("deploy")
        await settle(pilot, lambda: app.current_step == "deploy")
        plans = app.screen.query_one("#plans", OptionList)
        await settle(pilot, lambda: plans.option_count == 2)
        await shots(pilot, "deploy")
        await pilot.press("d")  # on demand: no confirmation, nothing billed while idle
        await settle(pilot, lambda: "Creating" in text_of(app, "#deploy-status"))
        await shots(pilot, "deploy-creating")
        clock.t += READY_SECONDS + 1
        await settle(pilot, lambda: app.wizard_run.serving_status == "Active", rounds=1000)
        await settle(pilot)
        await shots(pilot, "deploy-ready")

        # ------------------------------------------------------------------ chat
        await pilot.press("ctrl+n")
        await settle(pilot, lambda: app.current_step == "chat")
        await shots(pilot, "chat")
        await pilot.press("ctrl+o")
        await settle(pilot, lambda: "Reference answer" in text_of(app, "#reference"))
        await shots(pilot, "chat-test-record")
        await pilot.press("enter")
        tuned = app.screen.query_one("#tuned", Transcript)
        await settle(pilot, lambda: "tokens" in " ".join(str(w.render()) for w in tuned.children))
        await settle(pilot)
        await shots(pilot, "chat-answered")

        # ------------------------------------------------------------------ evaluate
        await pilot.press("ctrl+n")
        await settle(pilot, lambda: app.current_step == "evaluate")
        await retype(pilot, "#count", "0")
        await pilot.press("ctrl+r")
        await settle(pilot, lambda: "whole number" in text_of(app, "#count-error"))
        await shots(pilot, "evaluate-bad-count")
        await retype(pilot, "#count", "4")
        await pilot.press("ctrl+r")
        await settle(pilot, lambda: "Report saved" in text_of(app, "#eval-summary"), rounds=1000)
        await shots(pilot, "evaluate")

        # ------------------------------------------------------------------ teardown
        await pilot.press("ctrl+n")
        await settle(pilot, lambda: app.current_step == "teardown")
        listing = app.screen.query_one("#teardown-items", SelectionList)
        await settle(pilot, lambda: listing.option_count > 0)
        await settle(pilot)
        await shots(pilot, "teardown")
        await pilot.press("ctrl+a", "delete")
        await settle(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        await shots(pilot, "teardown-confirm")
        await pilot.press("tab", "enter")
        await settle(
            pilot, lambda: "Nothing bedrock-tune made" in text_of(app, "#teardown-summary")
        )
        await settle(pilot)
        await shots(pilot, "teardown-done")
