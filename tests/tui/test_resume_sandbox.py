"""Quit and resume in the sandbox the app starts itself, exactly as against AWS: the shared
sandbox outlives the app (a thread of the test process here, with a fake clock; a detached
process for users, proved in `test_killed_app_leaves_the_run_and_its_sandbox`), and a run whose
sandbox is gone can be forgotten from the resume dialog."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from dataclasses import replace
from pathlib import Path

import pytest
from textual.widgets import OptionList, Sparkline

from core.aws import AwsContext
from core.jobs.customization import list_jobs
from core.registry import Registry
from core.run import Run
from core.sandbox.background import SandboxHome
from core.sandbox.server import SANDBOX_CREDENTIALS, Sandbox, sandbox_environment
from core.statuses import JobStatus
from screens.base import LaunchOptions
from screens.confirm import ConfirmScreen
from screens.quit_guard import QuitGuardScreen
from screens.resume import ResumeScreen
from tests.conftest import REPO
from tests.fakes import Clock
from tests.tui.helpers import settle, text_of
from tui.app import BedrockTuneApp

NOVA = "amazon.nova-micro-v1:0:128k"
ROLE = "arn:aws:iam::123456789012:role/bedrock-tune-role"
GOOD = b'{"schemaVersion": "bedrock-conversation-2024", "messages": []}\n' * 8


def state_dir() -> Path:
    return Path(os.environ["BEDROCK_TUNE_STATE_DIR"])


def no_second_sandbox() -> Sandbox:
    raise AssertionError("a second sandbox was started instead of reusing the running one")


async def test_in_app_sandbox_quit_mid_job_then_resume_to_completed() -> None:
    clock = Clock(9_000.0)
    first = BedrockTuneApp(
        LaunchOptions(sandbox=True, poll_interval=0.05),
        sandbox_factory=lambda: Sandbox(job_seconds=100, clock=clock),
    )
    async with first.run_test(size=(160, 60)) as pilot:
        await settle(pilot, lambda: first.wizard_run.account_id is not None, rounds=1000)
        run = first.wizard_run
        assert run.target == "sandbox" and run.sandbox_id is not None
        context = first.aws_context()
        assert context is not None
        context.client("s3").create_bucket(Bucket="bt-data")
        context.client("s3").put_object(Bucket="bt-data", Key="r/train.jsonl", Body=GOOD)
        first.update_run(
            replace(
                run,
                base_model_id=NOVA,
                training_uri="s3://bt-data/r/train.jsonl",
                output_uri="s3://bt-data/r/output/",
                role_arn=ROLE,
            )
        )
        first.go_to_step("launch")
        await settle(pilot, lambda: first.screen.query("#hp-epochCount").first() is not None)
        await settle(pilot)
        await pilot.press("ctrl+l")
        await settle(pilot, lambda: isinstance(first.screen, ConfirmScreen))
        await pilot.click("#confirm-yes")
        await settle(pilot, lambda: first.wizard_run.job_arn is not None)
        arn = first.wizard_run.job_arn
        clock.t += 40
        await settle(pilot, lambda: "InProgress" in text_of(first, "#timeline"))
        # Quitting says what keeps running, and that the next start re-attaches.
        await pilot.press("ctrl+q")
        await settle(pilot, lambda: isinstance(first.screen, QuitGuardScreen))
        going = text_of(first, "#going-list")
        assert "customization job" in going and "keeps running in the sandbox" in going
        assert "next start" in going and "re-attach" in going
        await pilot.press("enter")  # Quit has the focus: nothing bills
    assert first.return_code == 0
    # The app is gone; its sandbox is not.
    shared = SandboxHome(state_dir()).running()
    assert shared is not None and shared.instance_id == run.sandbox_id

    # Start again: the same sandbox is found (no second one), the run is offered and resumed.
    second = BedrockTuneApp(LaunchOptions(poll_interval=0.05), sandbox_factory=no_second_sandbox)
    async with second.run_test(size=(160, 60)) as pilot:
        await settle(
            pilot,
            lambda: (
                isinstance(second.screen, ResumeScreen)
                and bool(second.screen.query("#resume-runs"))
            ),
        )
        await pilot.press("enter")
        await settle(pilot, lambda: second.current_step == "watch")
        assert second.wizard_run.job_arn == arn
        assert second.wizard_run.sandbox_id == run.sandbox_id
        clock.t += 100
        await settle(
            pilot, lambda: second.wizard_run.job_status is JobStatus.COMPLETED, rounds=1000
        )
        assert len(second.screen.query_one("#training-loss", Sparkline).data or []) == 60
    sandbox_context = AwsContext.for_endpoint(shared.endpoint_url, SANDBOX_CREDENTIALS)
    assert [j.arn for j in list_jobs(sandbox_context)] == [arn]  # exactly one job
    assert Registry().runs_in_progress() == []


def gone_run(run_id: str = "gone01") -> Run:
    return Run(
        run_id=run_id,
        target="sandbox",
        region="us-east-1",
        endpoint_url="http://127.0.0.1:9",
        sandbox_id="dead00000000",
        account_id="123456789012",
        base_model_id=NOVA,
        job_name=f"bt-{run_id}",
        job_arn=f"arn:aws:bedrock:us-east-1:123456789012:model-customization-job/{run_id}",
        job_status=JobStatus.IN_PROGRESS,
    )


async def test_a_run_whose_sandbox_is_gone_is_forgotten_from_the_resume_dialog() -> None:
    Registry().save_run("gone01", gone_run())
    app = BedrockTuneApp(LaunchOptions(sandbox=True), sandbox_factory=Sandbox)
    async with app.run_test(size=(160, 60)) as pilot:
        await settle(
            pilot,
            lambda: isinstance(app.screen, ResumeScreen) and bool(app.screen.query("#resume-runs")),
        )
        shown = str(app.screen.query_one("#resume-runs", OptionList).get_option_at_index(0).prompt)
        assert "gone" in shown and "not running any more" in shown and "Forget it (f)" in shown
        await pilot.press("enter")  # nothing to re-attach to: refused, the dialog stays
        await settle(pilot, lambda: any("is gone" in n.message for n in app._notifications))
        assert isinstance(app.screen, ResumeScreen)
        await pilot.press("f")  # its world is gone: forgotten at once
        await settle(pilot, lambda: not isinstance(app.screen, ResumeScreen))
        assert any("not offered again" in n.message for n in app._notifications)
    assert Registry().get_run("gone01") is None
    # Not offered again.
    again = BedrockTuneApp(LaunchOptions(sandbox=True), sandbox_factory=Sandbox)
    async with again.run_test(size=(160, 60)) as pilot:
        await settle(pilot, lambda: again.wizard_run.account_id is not None, rounds=1000)
        await settle(pilot)
        assert not isinstance(again.screen, ResumeScreen)


async def test_forgetting_a_run_that_is_still_going_asks_first_and_deletes_nothing(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    clock = Clock(1_000.0)
    with Sandbox(job_seconds=100, clock=clock) as sandbox:
        for key, value in sandbox_environment(sandbox).items():
            monkeypatch.setenv(key, value)  # the app works there (and starts no sandbox)
        context = AwsContext.for_endpoint(sandbox.endpoint_url, SANDBOX_CREDENTIALS)
        context.client("s3").create_bucket(Bucket="bt-data")
        context.client("s3").put_object(Bucket="bt-data", Key="r/train.jsonl", Body=GOOD)
        from tests.fakes import launch_job

        arn = launch_job(context, "alive", NOVA, "s3://bt-data/r/train.jsonl", "s3://bt-data/o/")
        alive = replace(
            gone_run("alive01"), endpoint_url=sandbox.endpoint_url, sandbox_id=None, job_arn=arn
        )
        Registry().save_run("alive01", alive)
        Registry().save_run("gone02", gone_run("gone02"))
        app = BedrockTuneApp(sandbox_factory=no_second_sandbox)
        async with app.run_test(size=(160, 60)) as pilot:
            await settle(
                pilot,
                lambda: (
                    isinstance(app.screen, ResumeScreen) and bool(app.screen.query("#resume-runs"))
                ),
            )
            runs = app.screen.query_one("#resume-runs", OptionList)
            order = [runs.get_option_at_index(i).id for i in range(runs.option_count)]
            await pilot.press(*["down"] * order.index("alive01"))
            await pilot.press("f")
            await settle(pilot, lambda: isinstance(app.screen, ConfirmScreen))
            assert "Nothing is deleted" in text_of(app, "#confirm-message")
            await pilot.press("escape")  # not forgotten
            await settle(pilot, lambda: isinstance(app.screen, ResumeScreen))
            assert Registry().get_run("alive01") is not None
            await pilot.press("f")
            await settle(pilot, lambda: isinstance(app.screen, ConfirmScreen))
            await pilot.click("#confirm-yes")
            await settle(pilot, lambda: Registry().get_run("alive01") is None)
            # The other run is still offered; the forgotten one's job still runs.
            await settle(pilot, lambda: isinstance(app.screen, ResumeScreen))
            remaining = app.screen.query_one("#resume-runs", OptionList)
            assert remaining.option_count == 1
            assert remaining.get_option_at_index(0).id == "gone02"
        assert [j.status for j in list_jobs(context)] == [JobStatus.IN_PROGRESS]


async def test_a_standalone_sandbox_that_stopped_is_marked_gone() -> None:
    Registry().save_run("solo01", replace(gone_run("solo01"), sandbox_id=None))
    app = BedrockTuneApp(LaunchOptions(sandbox=True), sandbox_factory=Sandbox)
    async with app.run_test(size=(160, 60)) as pilot:
        await settle(
            pilot,
            lambda: isinstance(app.screen, ResumeScreen) and bool(app.screen.query("#resume-runs")),
        )
        shown = str(app.screen.query_one("#resume-runs", OptionList).get_option_at_index(0).prompt)
        assert "Nothing answers at http://127.0.0.1:9 any more" in shown


# ---------------------------------------------------------------------- a real process, kill -9

APP_SCRIPT = textwrap.dedent(
    """
    import asyncio, sys
    from dataclasses import replace
    from screens.base import LaunchOptions
    from screens.confirm import ConfirmScreen
    from tests.tui.helpers import settle
    from tui.app import BedrockTuneApp

    GOOD = b'{"schemaVersion": "bedrock-conversation-2024", "messages": []}\\n' * 8

    async def main() -> None:
        app = BedrockTuneApp(LaunchOptions(sandbox=True, poll_interval=0.05))
        async with app.run_test(size=(160, 60)) as pilot:
            await settle(pilot, lambda: app.wizard_run.account_id is not None, rounds=3000)
            s3 = app.aws_context().client("s3")
            s3.create_bucket(Bucket="bt-data")
            s3.put_object(Bucket="bt-data", Key="r/train.jsonl", Body=GOOD)
            app.update_run(replace(
                app.wizard_run,
                base_model_id="amazon.nova-micro-v1:0:128k",
                training_uri="s3://bt-data/r/train.jsonl",
                output_uri="s3://bt-data/r/output/",
                role_arn="arn:aws:iam::123456789012:role/bedrock-tune-role",
            ))
            app.go_to_step("launch")
            await settle(pilot, lambda: app.screen.query("#hp-epochCount").first() is not None)
            await settle(pilot)
            await pilot.press("ctrl+l")
            await settle(pilot, lambda: isinstance(app.screen, ConfirmScreen))
            await pilot.click("#confirm-yes")
            await settle(pilot, lambda: app.wizard_run.job_arn is not None)
            print("LAUNCHED", app.wizard_run.job_arn, flush=True)
            await asyncio.sleep(3600)  # killed here, mid-job

    asyncio.run(main())
    """
)


def launch_then_get_killed() -> tuple[str, int]:
    """Run the app in its own process until its job is launched, then SIGKILL it; the job's
    ARN and the dead process's id."""
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    app_process = subprocess.Popen(
        [sys.executable, "-c", APP_SCRIPT],
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert app_process.stdout is not None
        line = app_process.stdout.readline()  # blocks until the job is launched (or it dies)
    finally:
        os.kill(app_process.pid, signal.SIGKILL)
        _, errors = app_process.communicate(timeout=60)
    assert line.startswith("LAUNCHED "), errors
    assert app_process.returncode == -signal.SIGKILL
    return line.split()[1], app_process.pid


async def test_killed_app_leaves_the_run_and_its_sandbox() -> None:
    """The real thing: the app in its own process starts the sandbox process, launches a job,
    and is killed with SIGKILL; a new app finds the same sandbox and re-attaches."""
    arn, dead = launch_then_get_killed()
    shared = SandboxHome(state_dir()).running()
    assert shared is not None and shared.pid not in (os.getpid(), dead)
    (record,) = Registry().runs()
    assert (record.run.job_arn, record.run.sandbox_id) == (arn, shared.instance_id)

    restarted = BedrockTuneApp(LaunchOptions(poll_interval=0.05))
    async with restarted.run_test(size=(160, 60)) as pilot:
        await settle(
            pilot,
            lambda: (
                isinstance(restarted.screen, ResumeScreen)
                and bool(restarted.screen.query("#resume-runs"))
            ),
            rounds=1500,
        )
        await pilot.press("enter")
        await settle(pilot, lambda: restarted.current_step == "watch", rounds=1500)
        assert restarted.wizard_run.job_arn == arn
    context = AwsContext.for_endpoint(shared.endpoint_url, SANDBOX_CREDENTIALS)
    assert [j.arn for j in list_jobs(context)] == [arn]
    assert SandboxHome(state_dir()).running() == shared  # still the one sandbox
