"""Teardown of SageMaker in the sandbox: the endpoint first (with its hourly cost), then its
config and model, a training job still running stopped; what someone else made on SageMaker is
not even listed, and a rerun after everything is gone finds nothing."""

from __future__ import annotations

from dataclasses import replace

from core.aws import AwsContext
from core.pricing.service import PriceService
from core.registry import Registry
from core.run.types import Route, Run
from core.sagemaker import kinds
from core.sagemaker.deploying import deploy_once
from core.sagemaker.endpoints import EndpointPlan, source_from_training_job
from core.sandbox.server import SANDBOX_ACCOUNT_ID
from core.statuses import JobStatus
from core.teardown.delete import default_choice, delete, inventory
from tests.fakes import SAGEMAKER_ROLE, Clock, start_training

ROLE = SAGEMAKER_ROLE


def test_endpoints_go_first_then_their_parts_and_running_jobs_stop(
    sandbox_context: AwsContext, clock: Clock
) -> None:
    context = sandbox_context
    context.client("s3").create_bucket(Bucket="bt-td")
    start_training(context, "bt-served")
    clock.t += 120  # completed: its model is served
    registry = Registry()
    base = Run(
        route=Route.SAGEMAKER_JUMPSTART,
        target="sandbox",
        region="us-east-1",
        account_id=SANDBOX_ACCOUNT_ID,
    )
    registry.save_run("r1", replace(base, run_id="r1", job_name="bt-served"))
    price = PriceService(context).instance_prices("ml.g5.2xlarge", "us-east-1").endpoint
    plan = EndpointPlan("bt-ep", source_from_training_job(context, "bt-served"), "ml.g5.2xlarge")
    first = registry.get_run("r1")
    assert first is not None
    deploy_once(context, registry, plan, "r1", first.run, price)
    # A second run's job, still training; and an endpoint someone else made.
    start_training(context, "bt-still-training")
    registry.save_run(
        "r2",
        replace(
            base,
            run_id="r2",
            job_name="bt-still-training",
            job_arn="arn:job",
            job_status=JobStatus.IN_PROGRESS,
        ),
    )
    sagemaker = context.client("sagemaker")
    sagemaker.create_model(
        ModelName="theirs", ExecutionRoleArn=ROLE, PrimaryContainer={"Image": "i"}
    )

    # The launch step read its training rate (now cached): teardown reads it without a call.
    g5 = PriceService(context).instance_prices("ml.g5.12xlarge", "us-east-1").training
    items = inventory(context, registry)
    listed = [(i.kind, i.identifier) for i in items]
    assert listed[0] == (kinds.ENDPOINT, "bt-ep")
    endpoint = items[0]
    assert endpoint.hourly_cost == 1.515 and endpoint.price_source.startswith("Price List API")
    assert (kinds.TRAINING_JOB, "bt-still-training") in listed
    # The running job is priced by the instances it runs on (the Price List's training rate).
    training = next(i for i in items if i.identifier == "bt-still-training")
    assert training.hourly_cost == g5.amount and training.hourly_cost
    assert training.cost_text.startswith(f"{g5.money()}/h (Price List API, ")
    assert (kinds.ENDPOINT_CONFIG, "bt-ep-config") in listed and (
        kinds.MODEL,
        "bt-ep-model",
    ) in listed
    assert all(name != "theirs" for _, name in listed)  # not ours: not even listed
    assert (kinds.TRAINING_JOB, "bt-served") not in listed  # ended: nothing to stop

    result = delete(context, default_choice(items), registry)
    assert result.ok, [o.message for o in result.failed]
    order = [o.item.kind for o in result.outcomes]
    sm_order = [
        k
        for k in order
        if k in (kinds.ENDPOINT, kinds.ENDPOINT_CONFIG, kinds.MODEL, kinds.TRAINING_JOB)
    ]
    assert sm_order == [kinds.ENDPOINT, kinds.ENDPOINT_CONFIG, kinds.MODEL, kinds.TRAINING_JOB]
    assert sagemaker.list_endpoints()["Endpoints"] == []
    assert [m["ModelName"] for m in sagemaker.list_models()["Models"]] == ["theirs"]
    job = sagemaker.describe_training_job(TrainingJobName="bt-still-training")
    assert job["TrainingJobStatus"] == "Stopping"
    saved = registry.get_run("r1")
    assert saved is not None and saved.run.serving_arn is None and saved.run.endpoint_name is None
    assert [r for r in registry.resources() if r.kind.startswith("sagemaker")] == []
    clock.t += 10
    assert [i for i in inventory(context, registry) if i.kind.startswith("sagemaker")] == []
