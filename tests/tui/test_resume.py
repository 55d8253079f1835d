"""Quit at any moment, start again: bedrock-tune offers the run in progress and re-attaches to
its job. Two Apps share one sandbox server (as `bedrock-tune sandbox` would) and the registry."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest
from textual.widgets import OptionList, Sparkline

from core.catalog.lookup import find_model
from core.jobs.customization import JobRequest, get_job, launch, list_jobs, new_client_request_token
from core.registry import Registry
from core.resume import reattach
from core.run import Run
from core.sandbox.server import Sandbox
from core.serving.deploy import create_deployment
from core.statuses import JobStatus, ServingKind, ServingStatus
from screens.base import LaunchOptions
from screens.confirm import ConfirmScreen
from screens.resume import ResumeScreen
from tests.fakes import Clock, SandboxSetup, context_for, launch_job
from tests.tui.helpers import settle, text_of
from tui.app import BedrockTuneApp
from tui.cli.main import main

NOVA = "amazon.nova-micro-v1:0:128k"
ROLE = "arn:aws:iam::123456789012:role/bedrock-tune-role"
GOOD = b'{"schemaVersion": "bedrock-conversation-2024", "messages": []}\n' * 8


@pytest.fixture
def sandbox_setup() -> SandboxSetup:
    return SandboxSetup(job_seconds=100)


@pytest.fixture
def standalone(exported_sandbox: Sandbox) -> Sandbox:
    """A sandbox that outlives the apps, reached through the environment like a user would."""
    s3 = context_for(exported_sandbox).client("s3")
    s3.create_bucket(Bucket="bt-data")
    s3.put_object(Bucket="bt-data", Key="r/train.jsonl", Body=GOOD)
    return exported_sandbox


def app() -> BedrockTuneApp:
    return BedrockTuneApp(LaunchOptions(poll_interval=0.05))


async def test_quit_mid_job_and_reattach(
    standalone: Sandbox, clock: Clock, capsys: pytest.CaptureFixture[str]
) -> None:
    first = app()
    async with first.run_test(size=(160, 60)) as pilot:
        await settle(pilot, lambda: first.wizard_run.account_id is not None)
        assert first.wizard_run.target == "sandbox"  # a loopback endpoint
        first.update_run(
            replace(
                first.wizard_run,
                base_model_id=NOVA,
                training_uri="s3://bt-data/r/train.jsonl",
                output_uri="s3://bt-data/r/output/",
                role_arn="arn:aws:iam::123456789012:role/bedrock-tune-role",
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
    # The terminal closed mid-training. Start again.
    second = app()
    async with second.run_test(size=(160, 60)) as pilot:
        await settle(pilot, lambda: isinstance(second.screen, ResumeScreen))
        await pilot.press("enter")
        await settle(pilot, lambda: second.current_step == "watch")
        assert second.wizard_run.job_arn == arn
        clock.t += 100
        await settle(pilot, lambda: second.wizard_run.job_status == "Completed", rounds=1000)
        assert len(second.screen.query_one("#training-loss", Sparkline).data or []) == 60
    context = context_for(standalone)
    assert [j.arn for j in list_jobs(context)] == [arn]
    # The run the app launched is the CLI's to see as well.
    assert main(["runs", "--json"]) == 0
    (listed,) = (r for r in json.loads(capsys.readouterr().out) if r["job_arn"] == arn)
    assert listed["route"] == "bedrock-customization" and listed["status"] == "trained"


async def test_a_job_launched_from_the_cli_is_offered_for_resume(
    standalone: Sandbox, clock: Clock, capsys: pytest.CaptureFixture[str]
) -> None:
    launch = ["jobs", "launch", "--model", NOVA, "--train", "s3://bt-data/r/train.jsonl"]
    launch += ["--output", "s3://bt-data/r/output/", "--role", ROLE, "--json"]
    assert main(launch) == 0
    launched = json.loads(capsys.readouterr().out)
    assert main(["runs", "--json"]) == 0
    (listed,) = json.loads(capsys.readouterr().out)
    assert (listed["id"], listed["route"]) == (launched["run_id"], "bedrock-customization")
    assert (listed["status"], listed["job_arn"]) == ("training", launched["job_arn"])
    restarted = app()
    async with restarted.run_test(size=(160, 60)) as pilot:
        await settle(
            pilot,
            lambda: (
                isinstance(restarted.screen, ResumeScreen)
                and bool(restarted.screen.query("#resume-runs"))
            ),
        )
        shown = restarted.screen.query_one("#resume-runs", OptionList).get_option_at_index(0)
        assert launched["job_name"] in str(shown.prompt)
        await pilot.press("enter")
        await settle(pilot, lambda: restarted.current_step == "watch")
        assert restarted.wizard_run.job_arn == launched["job_arn"]
        assert restarted.wizard_run.run_id == launched["run_id"]
        clock.t += 200
        await settle(
            pilot, lambda: restarted.wizard_run.job_status is JobStatus.COMPLETED, rounds=1000
        )
    record = Registry().get_run(launched["run_id"])
    assert record is not None and record.run.custom_model_arn is not None


async def test_a_run_made_by_infra_and_upload_is_listed_launched_and_resumed(
    standalone: Sandbox, clock: Clock, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`infra apply` makes a run, `upload --run` fills it, `runs --json` lists that one run,
    the TUI's re-attach lands it on the launch step, and once `jobs launch --run-id` started
    its job the TUI's resume offers it with everything the CLI recorded."""
    assert main(["infra", "apply", "--json"]) == 0
    made = json.loads(capsys.readouterr().out)
    run_id = made["run_id"]
    prepared = tmp_path / "prepared"
    prepared.mkdir()
    (prepared / "train.jsonl").write_bytes(GOOD)
    assert main(["upload", str(prepared), "--run", run_id, "--json"]) == 0
    uploaded = json.loads(capsys.readouterr().out)
    assert uploaded["run_id"] == run_id and uploaded["bucket"] == made["bucket"]

    assert main(["runs", "--json"]) == 0
    (listed,) = json.loads(capsys.readouterr().out)  # one run, made by infra, filled by upload
    assert (listed["id"], listed["route"], listed["status"]) == (
        run_id,
        "bedrock-customization",
        "new",
    )
    assert {r["kind"] for r in listed["resources"]} == {"s3-bucket", "iam-role", "s3-prefix"}
    record = Registry().get_run(run_id)
    assert record is not None
    saved = record.run
    assert (saved.target, saved.account_id) == ("sandbox", "123456789012")
    assert (saved.bucket, saved.role_arn) == (made["bucket"], made["role_arn"])
    assert saved.training_uri == uploaded["training_uri"]
    assert saved.output_uri == uploaded["output_uri"]
    assert saved.prepared_dir == str(prepared.resolve())
    # What the TUI's resume does with a run: it continues where its job is to be launched.
    assert reattach(saved).step == "launch"

    launch = ["jobs", "launch", "--model", NOVA, "--train", uploaded["training_uri"]]
    launch += ["--output", uploaded["output_uri"], "--role", made["role_arn"]]
    assert main([*launch, "--run-id", run_id, "--json"]) == 0
    launched = json.loads(capsys.readouterr().out)
    assert launched["run_id"] == run_id
    assert main(["runs", "--json"]) == 0
    (listed,) = json.loads(capsys.readouterr().out)
    assert (listed["status"], listed["job_arn"]) == ("training", launched["job_arn"])

    restarted = app()
    async with restarted.run_test(size=(160, 60)) as pilot:
        await settle(
            pilot,
            lambda: (
                isinstance(restarted.screen, ResumeScreen)
                and bool(restarted.screen.query("#resume-runs"))
            ),
        )
        await pilot.press("enter")
        await settle(pilot, lambda: restarted.current_step == "watch")
        resumed = restarted.wizard_run
        assert (resumed.run_id, resumed.job_arn) == (run_id, launched["job_arn"])
        assert (resumed.bucket, resumed.prepared_dir) == (made["bucket"], saved.prepared_dir)


async def test_killed_right_after_create_reattaches_without_a_second_job(
    standalone: Sandbox,
) -> None:
    context = context_for(standalone)
    token = new_client_request_token()
    run = Run(
        run_id="crashed01",
        target="sandbox",
        region="us-east-1",
        endpoint_url=standalone.endpoint_url,
        account_id=standalone.account_id,
        base_model_id=NOVA,
        job_name="bt-crashed",
        client_request_token=token,
    )
    Registry().save_run("crashed01", run)  # saved before the call...
    request = JobRequest(
        job_name="bt-crashed",
        custom_model_name="bt-crashed-model",
        base_model_id=NOVA,
        role_arn="arn:aws:iam::123456789012:role/r",
        training_uri="s3://bt-data/r/train.jsonl",
        output_uri="s3://bt-data/r/output/",
        client_request_token=token,
    )
    arn = launch(context, request, find_model(NOVA))  # ...the call succeeded, then the crash
    restarted = app()
    async with restarted.run_test(size=(160, 60)) as pilot:
        await settle(pilot, lambda: isinstance(restarted.screen, ResumeScreen))
        await pilot.press("enter")
        await settle(pilot, lambda: restarted.wizard_run.job_arn is not None)
        assert restarted.wizard_run.job_arn == arn
    assert [j.arn for j in list_jobs(context)] == [arn]


async def test_quit_while_a_deployment_is_created_and_reattach(
    standalone: Sandbox, clock: Clock
) -> None:
    context = context_for(standalone)
    job = launch_job(
        context, "bt-served", NOVA, "s3://bt-data/r/train.jsonl", "s3://bt-data/r/output/"
    )
    clock.t += 200
    model = get_job(context, job).output_model_arn
    assert model is not None
    deployment = create_deployment(context, model, "bt-served", new_client_request_token())
    Registry().save_run(
        "serving01",
        Run(
            run_id="serving01",
            target="sandbox",
            region="us-east-1",
            endpoint_url=standalone.endpoint_url,
            account_id=standalone.account_id,
            base_model_id=NOVA,
            job_name="bt-served-job",
            job_arn=job,
            job_status=JobStatus.COMPLETED,
            custom_model_arn=model,
            serving_kind=ServingKind.CUSTOM_MODEL_DEPLOYMENT,
            serving_arn=deployment,
            serving_status=ServingStatus.CREATING,
        ),
    )
    restarted = app()
    async with restarted.run_test(size=(160, 60)) as pilot:
        await settle(
            pilot,
            lambda: (
                isinstance(restarted.screen, ResumeScreen)
                and bool(restarted.screen.query("#resume-runs"))
            ),
        )
        assert "custom model deployment Creating" in str(
            restarted.screen.query_one("#resume-runs", OptionList).get_option_at_index(0).prompt
        )
        await pilot.press("enter")
        await settle(pilot, lambda: restarted.current_step == "deploy")
        assert restarted.wizard_run.serving_arn == deployment
        clock.t += 60
        await settle(pilot, lambda: restarted.wizard_run.serving_status == "Active", rounds=1000)
    assert Registry().runs_in_progress() == []
