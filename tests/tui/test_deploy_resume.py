"""The deploy step after bedrock-tune was killed mid-create: it re-attaches, with the saved
token, to what the interrupted create made (never a second one) and the run learns its ARN."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from core.registry import Registry, ResourceRecord
from core.sandbox.server import Sandbox
from core.serving.once import PENDING_KEY, TOKEN_KEY, create_once, new_intent
from core.statuses import JobStatus
from screens.base import LaunchOptions
from tests.fakes import Clock, train_model
from tests.tui.helpers import settle
from tui.app import BedrockTuneApp

NOVA = "amazon.nova-micro-v1:0:128k"


class Killed(BaseException):
    """Stands for kill -9 (nothing catches it)."""


def _die(**_: Any) -> None:
    raise Killed


@pytest.mark.parametrize("recorded", [False, True], ids=["after-sending", "after-recording"])
async def test_the_deploy_step_reattaches_after_a_kill(recorded: bool) -> None:
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
        run = replace(
            app.wizard_run,
            base_model_id=NOVA,
            custom_model_arn=model,
            custom_model_name="ui-model",
            job_arn=arn,
            job_status=JobStatus.COMPLETED,
        )
        app.update_run(run)
        # The killed process: its create reached the sandbox (and, `recorded`, the registry
        # has its ARN), the run never learnt it.
        bedrock = context.client("bedrock")
        if not recorded:
            bedrock.meta.events.register("after-call.bedrock.CreateCustomModelDeployment", _die)
        record = ResourceRecord(
            "custom-model-deployment", "", run.region or "", "", run.run_id, billable=True
        )
        intent = new_intent("custom-model-deployment", "bt-ui-model", model)
        if recorded:
            create_once(context, app.registry(), intent, record)
        else:
            with pytest.raises(Killed):
                create_once(context, app.registry(), intent, record)
            bedrock.meta.events.unregister("after-call.bedrock.CreateCustomModelDeployment", _die)
            [pending] = Registry().resources()
            assert pending.details[PENDING_KEY] is True

        def serving_arn() -> str | None:  # (a function: mypy would keep the first answer)
            return app.wizard_run.serving_arn

        assert serving_arn() is None

        app.go_to_step("deploy")
        await settle(pilot, lambda: serving_arn() is not None)
        deployments = bedrock.list_custom_model_deployments()["modelDeploymentSummaries"]
        assert [d["customModelDeploymentArn"] for d in deployments] == [serving_arn()]
        [resource] = Registry().resources()
        assert resource.identifier == serving_arn() and resource.billable
        assert resource.details[TOKEN_KEY] == intent.token and PENDING_KEY not in resource.details
        assert resource.run_id == run.run_id
