"""SageMaker training faults in the sandbox, each explained: an instance type without quota is
refused (which quota, how to raise it), one without capacity fails starting, a managed spot job
is interrupted once and resumes from its checkpoint, billing less than it trained."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from core.aws import AwsContext
from core.errors import QuotaExceededError, aws_call
from core.sagemaker.failures import explain_failure, interruptions
from core.sagemaker.training import TrainingRequest
from core.sagemaker.watch import describe_training_job
from core.sandbox.server import Sandbox
from tests.fakes import Clock, context_for

BUCKET = "bt-faults"
ROLE = "arn:aws:iam::123456789012:role/bedrock-tune-sagemaker-us-east-1"


@pytest.fixture
def context(clock: Clock) -> Iterator[AwsContext]:
    with Sandbox(training_seconds=100, clock=clock) as sandbox:
        context = context_for(sandbox)
        context.client("s3").create_bucket(Bucket=BUCKET)
        yield context


def start(context: AwsContext, name: str, instance: str, *, spot: bool = False) -> None:
    request = TrainingRequest(
        job_name=name,
        role_arn=ROLE,
        base_model="meta-textgeneration-llama-3-8b",
        training_uri=f"s3://{BUCKET}/r1/data/train.jsonl",
        output_uri=f"s3://{BUCKET}/r1/output/",
        region="us-east-1",
        mode="instance",
        instance_type=instance,
        spot=spot,
        script_uri=f"s3://{BUCKET}/r1/code/sourcedir.tar.gz",
    )
    with aws_call(f"creating the training job {name}"):
        context.client("sagemaker").create_training_job(**request.to_api())


def test_an_instance_type_without_quota_is_refused_naming_the_quota(context: AwsContext) -> None:
    with pytest.raises(QuotaExceededError) as caught:
        start(context, "bt-no-quota", "ml.p4d.24xlarge")
    text = caught.value.describe()
    assert "'ml.p4d.24xlarge for training job usage' is 0" in text
    assert "Service Quotas" in text and "request-service-quota-increase" in text
    assert "--service-code sagemaker" in text
    names = context.client("sagemaker").list_training_jobs()["TrainingJobSummaries"]
    assert names == []  # refused: nothing was created


def test_no_capacity_fails_the_job_while_starting(context: AwsContext, clock: Clock) -> None:
    start(context, "bt-no-capacity", "ml.p5.48xlarge")
    assert describe_training_job(context, "bt-no-capacity").status == "InProgress"
    clock.t += 100
    failed = describe_training_job(context, "bt-no-capacity")
    assert (failed.status, failed.secondary_status) == ("Failed", "Failed")
    assert failed.failure_reason is not None and failed.failure_reason.startswith("CapacityError")
    assert [t.status for t in failed.timeline] == ["Starting", "Failed"]
    advice = explain_failure(failed)
    assert advice is not None and "another instance type" in advice
    assert failed.model_artifacts is None


def test_a_spot_job_is_interrupted_and_resumes_from_its_checkpoint(
    context: AwsContext, clock: Clock
) -> None:
    start(context, "bt-spot", "ml.g5.12xlarge", spot=True)
    clock.t += 52
    interrupted = describe_training_job(context, "bt-spot")
    assert (interrupted.status, interrupted.secondary_status) == ("InProgress", "Restarting")
    assert interrupted.timeline[-2].status == "Interrupted"
    assert f"s3://{BUCKET}/r1/output/checkpoints/" in interrupted.timeline[-1].message
    clock.t += 60
    done = describe_training_job(context, "bt-spot")
    assert done.status == "Completed" and explain_failure(done) is None
    assert [t.status for t in done.timeline] == [
        "Starting",
        "Downloading",
        "Training",
        "Interrupted",
        "Restarting",
        "Training",
        "Uploading",
        "Completed",
    ]
    assert "resumed from the checkpoint" in done.timeline[5].message
    assert interruptions(done) == 1
    assert done.billable_seconds is not None and done.training_seconds is not None
    assert done.billable_seconds < done.training_seconds  # the spot saving


def test_an_on_demand_job_is_not_interrupted(context: AwsContext, clock: Clock) -> None:
    start(context, "bt-on-demand", "ml.g5.12xlarge")
    clock.t += 110
    done = describe_training_job(context, "bt-on-demand")
    assert done.status == "Completed" and interruptions(done) == 0
    assert done.billable_seconds == done.training_seconds
