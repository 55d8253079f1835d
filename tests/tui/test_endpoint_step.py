"""The endpoint step (Pilot, in the sandbox): a JumpStart run's trained model deployed after a
confirmation that repeats the instance type's hourly price, polled Creating -> InService, then
asked in the chat step (the sandbox says it is the sandbox); an instance type without quota is
explained and nothing bills."""

from __future__ import annotations

from dataclasses import replace

from textual.widgets import Input, Static

from core.registry import Registry
from core.run.types import Route
from core.sagemaker import kinds
from core.sagemaker.training import TrainingRequest
from core.sandbox.server import SANDBOX_ACCOUNT_ID, Sandbox
from core.statuses import JobStatus
from screens.base import LaunchOptions
from screens.chat import PromptArea, Transcript
from screens.confirm import ConfirmScreen
from screens.endpoint import EndpointScreen
from tests.fakes import Clock
from tests.tui.helpers import settle, text_of
from tui.app import BedrockTuneApp
from tui.steps import SCREENS, lazy_screen

ROLE = f"arn:aws:iam::{SANDBOX_ACCOUNT_ID}:role/bedrock-tune-sagemaker-us-east-1"
WITH_ENDPOINT = {**SCREENS, "endpoint": lazy_screen("screens.endpoint:EndpointScreen")}


async def _trained_run(app: BedrockTuneApp, clock: Clock) -> None:
    context = app.aws_context()
    assert context is not None
    context.client("s3").create_bucket(Bucket="bt-step")
    request = TrainingRequest(
        job_name="bt-step-job",
        role_arn=ROLE,
        base_model="meta-textgeneration-llama-3-8b",
        training_uri="s3://bt-step/r/data/train.jsonl",
        output_uri="s3://bt-step/r/output/",
        region="us-east-1",
        mode="instance",
        script_uri="s3://bt-step/r/output/code/sourcedir.tar.gz",
        image_uri="sandbox/training",
    )
    context.client("sagemaker").create_training_job(**request.to_api())
    clock.t += 120
    run = app.wizard_run
    app.update_run(
        replace(
            run,
            run_id=run.run_id or "rstep",
            route=Route.SAGEMAKER_JUMPSTART,
            base_model_id="meta-textgeneration-llama-3-8b",
            job_name="bt-step-job",
            job_status=JobStatus.COMPLETED,
        )
    )


def _app(clock: Clock) -> BedrockTuneApp:
    return BedrockTuneApp(
        LaunchOptions(sandbox=True, poll_interval=0.05),
        sandbox_factory=lambda: Sandbox(ready_seconds=1, clock=clock),
        screens=WITH_ENDPOINT,
    )


async def test_deploy_with_the_price_confirmed_poll_then_chat() -> None:
    clock = Clock()
    app = _app(clock)
    async with app.run_test(size=(160, 60)) as pilot:
        await settle(pilot, lambda: app.wizard_run.account_id is not None, rounds=1000)
        await _trained_run(app, clock)
        app.go_to_step("endpoint")
        await settle(pilot, lambda: isinstance(app.screen, EndpointScreen))
        await settle(pilot, lambda: "$1.515 per hour" in text_of(app, "#endpoint-price"))
        await pilot.press("d")
        await settle(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        assert "1 x ml.g5.2xlarge bills $1.515 per hour (Price List API, " in text_of(
            app, "#confirm-message"
        )
        assert Registry().resources() == []  # nothing before the confirmation
        await pilot.click("#confirm-yes")
        await settle(pilot, lambda: app.wizard_run.serving_arn is not None)
        assert [r.kind for r in Registry().resources() if r.billable] == [kinds.ENDPOINT]
        clock.t += 5  # the sandbox's endpoint is ready after 1 s of its clock
        await settle(pilot, lambda: "InService" in text_of(app, "#endpoint-status"), rounds=1000)
        assert app.wizard_run.serving_status == "InService"
        app.go_to_step("chat")
        await settle(pilot, lambda: bool(app.screen.query("#message")))
        box = app.screen.query_one("#message", PromptArea)
        box.text = "Summarize: #Person1# books a table."
        await pilot.press("enter")
        await settle(pilot, lambda: app.wizard_run.chatted_with is not None, rounds=1000)
        assert app.wizard_run.chatted_with == f"endpoint:{app.wizard_run.endpoint_name}"
        transcript = app.screen.query_one("#tuned", Transcript)
        said = " ".join(str(w.content) for w in transcript.query(Static))
        assert "[sandbox: SageMaker endpoint bt-step-job]" in said and "books a table." in said


async def test_an_instance_type_without_quota_is_explained_and_nothing_bills() -> None:
    clock = Clock()
    app = _app(clock)
    async with app.run_test(size=(160, 60)) as pilot:
        await settle(pilot, lambda: app.wizard_run.account_id is not None, rounds=1000)
        await _trained_run(app, clock)
        app.go_to_step("endpoint")
        await settle(pilot, lambda: isinstance(app.screen, EndpointScreen))
        app.screen.query_one("#instance", Input).value = "ml.p5.48xlarge"
        await settle(pilot, lambda: "ml.p5.48xlarge" in text_of(app, "#endpoint-price"))
        await pilot.press("d")
        await settle(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        await pilot.click("#confirm-yes")
        await settle(pilot, lambda: "for endpoint usage" in text_of(app, "ErrorPanel"))
        assert "Service Quotas" in text_of(app, "ErrorPanel")
        assert not any(r.billable for r in Registry().resources())
        assert app.wizard_run.serving_arn is None


async def test_enter_in_the_instance_type_deploys_it_after_its_price() -> None:
    clock = Clock()
    app = _app(clock)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot, lambda: app.wizard_run.account_id is not None, rounds=1000)
        await _trained_run(app, clock)
        app.go_to_step("endpoint")
        await settle(pilot, lambda: isinstance(app.screen, EndpointScreen))
        await settle(pilot, lambda: "per hour" in text_of(app, "#endpoint-price"))
        app.screen.query_one("#instance", Input).focus()
        await pilot.press("end", "ctrl+u", *"ml.g5.12xlarge")
        await settle(pilot, lambda: "1 x ml.g5.12xlarge" in text_of(app, "#endpoint-price"))
        await pilot.press("enter")
        await settle(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        assert "1 x ml.g5.12xlarge bills" in text_of(app, "#confirm-message")
        await pilot.press("escape")  # nothing is created unconfirmed
        await settle(pilot, lambda: isinstance(app.screen, EndpointScreen))
        assert app.wizard_run.serving_arn is None and Registry().resources() == []
