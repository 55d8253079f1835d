"""A SageMaker endpoint left running when the app quits: the header counts it like provisioned
throughput, the quit guard lists it with its instance type and hourly price, and "Delete them
and quit" deletes it (through teardown) before the app exits; its free config and model
stay recorded for the Teardown step."""

from __future__ import annotations

from core.pricing.service import PriceService
from core.registry import Registry
from core.run.types import Route, Run
from core.sagemaker.deploying import deploy_once
from core.sagemaker.endpoints import Container, EndpointPlan, ModelSource
from core.sandbox.server import SANDBOX_ACCOUNT_ID, Sandbox
from screens.base import LaunchOptions, StepScreen
from screens.quit_guard import QuitGuardScreen
from tests.fakes import Clock
from tests.tui.helpers import settle, text_of
from tui.app import BedrockTuneApp

ROLE = f"arn:aws:iam::{SANDBOX_ACCOUNT_ID}:role/bedrock-tune-sagemaker-us-east-1"


async def test_an_endpoint_left_running_is_guarded_and_deleted_on_quit() -> None:
    clock = Clock()
    sandboxes: list[Sandbox] = []

    def factory() -> Sandbox:
        sandboxes.append(Sandbox(ready_seconds=30, clock=clock))
        return sandboxes[-1]

    app = BedrockTuneApp(LaunchOptions(sandbox=True, poll_interval=0.05), sandbox_factory=factory)
    async with app.run_test(size=(160, 60)) as pilot:
        await settle(pilot, lambda: app.wizard_run.account_id is not None, rounds=1000)
        context = app.aws_context()
        assert context is not None
        context.client("s3").create_bucket(Bucket="bt-guard")
        source = ModelSource(
            "training-job", "bt-job", ROLE, (Container("sandbox/tgi", "s3://bt-guard/m.tar.gz"),)
        )
        price = PriceService(context).instance_prices("ml.g5.2xlarge", "us-east-1").endpoint
        run = Run(
            route=Route.SAGEMAKER_JUMPSTART,
            target="sandbox",
            region="us-east-1",
            account_id=SANDBOX_ACCOUNT_ID,
        )
        registry = Registry()
        plan = EndpointPlan("bt-guarded", source, "ml.g5.2xlarge")
        deploy_once(context, registry, plan, "rq", run, price)
        clock.t += 60  # InService: billing every hour
        screen = app.screen
        assert isinstance(screen, StepScreen)
        screen.refresh_chrome()  # (a step change does this)
        header = screen.query_one("#header-billing")
        await settle(pilot, lambda: "billable" in str(header.render()))
        assert "1 billable, $1.515/h (Price List API, " in str(header.render())
        await pilot.press("ctrl+q")
        await settle(pilot, lambda: isinstance(app.screen, QuitGuardScreen))
        listing = text_of(app, "#billing-list")
        assert (
            "sagemaker-endpoint: bt-guarded (us-east-1), ml.g5.2xlarge at $1.515/h (Price List "
            "API, " in " ".join(listing.split())
        )
        assert "1 billable resource, $1.515/h (Price List API, " in text_of(app, "#billing-total")
        assert "bedrock-tune endpoint delete NAME" in text_of(app, "#endpoint-note")
        # Only an endpoint bills: nothing about provisioned throughput.
        assert "provisioned throughput" not in text_of(app, "#billing-advice")
        await pilot.click("#delete")
        await settle(pilot, lambda: not any(r.billable for r in Registry().resources()))
    assert app.return_code == 0
    assert sandboxes[0].endpoints.status(SANDBOX_ACCOUNT_ID, "us-east-1", "bt-guarded") is None
