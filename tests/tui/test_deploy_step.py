"""The deploy step in the sandbox: options with costs, the provisioned-throughput confirmation,
creation polled to ready, and the billable resource recorded at once."""

from __future__ import annotations

from dataclasses import replace

from textual.widgets import OptionList

from core.registry import Registry
from core.sandbox.server import Sandbox
from core.statuses import JobStatus
from screens.base import LaunchOptions
from screens.confirm import ConfirmScreen
from screens.quit_guard import QuitGuardScreen
from tests.fakes import Clock, train_model
from tests.tui.helpers import click_button, settle, text_of
from tui.app import BedrockTuneApp

NOVA = "amazon.nova-micro-v1:0:128k"


async def test_deploy_on_demand_and_the_pt_confirmation() -> None:
    clock = Clock()
    app = BedrockTuneApp(
        LaunchOptions(sandbox=True, poll_interval=0.05),
        sandbox_factory=lambda: Sandbox(job_seconds=10, ready_seconds=30, clock=clock),
    )
    async with app.run_test(size=(160, 50)) as pilot:
        await settle(pilot, lambda: app.wizard_run.account_id is not None, rounds=1000)
        context = app.aws_context()
        assert context is not None
        arn, model = train_model(context, clock, "ui", NOVA, bucket="bt-deploy-ui")
        app.update_run(
            replace(
                app.wizard_run,
                base_model_id=NOVA,
                custom_model_arn=model,
                custom_model_name="ui-model",
                job_arn=arn,
                job_status=JobStatus.COMPLETED,
            )
        )
        app.go_to_step("deploy")
        await settle(pilot, lambda: app.screen.query_one("#plans", OptionList).option_count == 2)
        options = app.screen.query_one("#plans", OptionList)
        assert "nothing while idle" in str(options.get_option_at_index(0).prompt)
        # The sandbox's Price List answers: both options say so, with the date.
        await settle(
            pilot, lambda: "(Price List API, " in str(options.get_option_at_index(1).prompt)
        )
        assert "$20.00 per hour (Price List API, " in str(options.get_option_at_index(1).prompt)
        assert "(Price List API, " in str(options.get_option_at_index(0).prompt)
        # Provisioned throughput asks first, with its price; Cancel buys nothing.
        app.screen.query_one("#plans", OptionList).highlighted = 1
        await click_button(pilot, "#deploy")
        await settle(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        assert "until you delete it" in text_of(app, "#confirm-message")
        assert "$20.00 per hour (Price List API, " in text_of(app, "#confirm-message")
        await pilot.click("#confirm-no")
        await settle(pilot, lambda: not isinstance(app.screen, ConfirmScreen))
        assert Registry().resources() == []
        # On demand: created, recorded as billable at once, polled to Active.
        app.screen.query_one("#plans", OptionList).highlighted = 0
        button = app.screen.query_one("#deploy")
        await settle(pilot, lambda: not button.has_class("-active"))  # its press animation
        await click_button(pilot, "#deploy")
        await settle(pilot, lambda: app.wizard_run.serving_arn is not None)
        [resource] = Registry().resources()
        assert resource.billable and resource.kind == "custom-model-deployment"
        assert resource.details["per_hour"] == 0.0 and resource.details["base_model_id"] == NOVA
        assert "Creating" in text_of(app, "#deploy-status")
        clock.t += 31
        await settle(pilot, lambda: app.wizard_run.serving_status == "Active")
        assert "Active" in text_of(app, "#deploy-status")
        billing = str(app.screen.query_one("#header-billing").render())
        # No idle cost, said in words: never "$0.00/h", which reads like an unknown price.
        assert "1 billable, no idle cost, bills per token" in billing and "$0.00" not in billing
        # Quitting lists what still bills and offers to delete it.
        await pilot.press("ctrl+q")
        await settle(pilot, lambda: isinstance(app.screen, QuitGuardScreen))
        assert "custom-model-deployment" in text_of(app, "#billing-list")
        total = text_of(app, "#billing-total")
        assert "1 billable resource, no idle cost, bills per token" in total
        await pilot.click("#delete")
        await settle(pilot, lambda: Registry().resources() == [])
    assert app.return_code == 0
