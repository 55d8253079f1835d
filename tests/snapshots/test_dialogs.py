"""Snapshots of what opens over the steps and of the first step's error: the resume offer at
start, the help, the quit guard over something that bills, and a profile that does not exist."""

from __future__ import annotations

from pathlib import Path

from core.registry import Registry, ResourceRecord
from core.run import Run
from core.statuses import JobStatus
from screens.base import LaunchOptions
from screens.help import HelpScreen
from screens.quit_guard import QuitGuardScreen
from screens.resume import ResumeScreen
from screens.widgets.error_panel import ErrorPanel
from tests.fakes import Clock
from tests.snapshots.conftest import DRIVE_SIZE, Shots
from tests.snapshots.world import NOVA, sandbox_app
from tests.tui.helpers import settle
from tui.app import BedrockTuneApp

ACCOUNT = "123456789012"


def in_progress_run(name: str) -> Run:
    """A run whose job was still training when bedrock-tune closed."""
    return Run(
        run_id=name,
        target="aws",
        region="us-east-1",
        account_id=ACCOUNT,
        base_model_id=NOVA,
        job_name=f"{name}-job",
        job_arn=f"arn:aws:bedrock:us-east-1:{ACCOUNT}:model-customization-job/{name}-job",
        job_status=JobStatus.IN_PROGRESS,
    )


async def test_resume_help_and_quit_guard(workdir: Path, shots: Shots, sandbox_port: int) -> None:
    registry = Registry()
    for name in ("support-bot", "summaries"):
        registry.save_run(name, in_progress_run(name))
    registry.add_resource(
        ResourceRecord(
            "provisioned-throughput",
            f"arn:aws:bedrock:us-east-1:{ACCOUNT}:provisioned-model/abc123",
            "us-east-1",
            ACCOUNT,
            "support-bot",
            billable=True,
            details={"name": "support-bot-pt", "per_hour": 21.18},
        )
    )
    app = sandbox_app(Clock(1_750_000_000.0), sandbox_port)
    async with app.run_test(size=DRIVE_SIZE) as pilot:
        await settle(pilot, lambda: isinstance(app.screen, ResumeScreen), rounds=1000)
        # Behind the dialog the credentials step checks the sandbox's identity: the shot waits
        # for that check to end (it shows through the dialog's edges), whatever the load.
        behind = app.screen_stack[-2]
        await settle(
            pilot,
            lambda: "Ready" in str(behind.query_one("#credentials-status").render()),
            rounds=1000,
        )
        await settle(pilot)
        await shots(pilot, "resume")
        await pilot.press("escape")  # start a new run
        await settle(pilot, lambda: not isinstance(app.screen, ResumeScreen))
        await settle(pilot, lambda: app.wizard_run.account_id is not None, rounds=1000)
        await pilot.press("question_mark")
        await settle(pilot, lambda: isinstance(app.screen, HelpScreen))
        await shots(pilot, "help")
        await pilot.press("escape")
        await settle(pilot, lambda: not isinstance(app.screen, HelpScreen))
        await pilot.press("ctrl+q")
        await settle(pilot, lambda: isinstance(app.screen, QuitGuardScreen))
        await shots(pilot, "quit-guard")
        await pilot.press("escape")  # stay


async def test_a_profile_that_does_not_exist(workdir: Path, shots: Shots) -> None:
    app = BedrockTuneApp(LaunchOptions(profile="no-such-profile", region="us-east-1"))
    async with app.run_test(size=DRIVE_SIZE) as pilot:
        panel = app.screen.query_one(ErrorPanel)
        await settle(pilot, lambda: panel.error is not None, rounds=1000)
        await settle(pilot)
        await shots(pilot, "credentials-no-such-profile")
