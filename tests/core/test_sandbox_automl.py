"""Autopilot jobs in the sandbox play out (moto answers at once): Starting, TrainingModels, then
Completed with a best candidate (metrics, inference containers, its model written); a CSV
without Autopilot's columns fails the job saying which; a stop goes Stopping, then Stopped."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from core.aws import AwsContext
from core.poll import Backoff, Pacing
from core.sagemaker.autopilot import (
    AutopilotRequest,
    Timeline,
    autopilot_poller,
    check_autopilot_request,
    describe_autopilot_job,
    find_autopilot_job,
    stop_autopilot_job,
)
from core.sandbox.server import Sandbox
from tests.fakes import Clock, context_for

BUCKET = "bt-ap"
ROLE = "arn:aws:iam::123456789012:role/bedrock-tune-sagemaker-us-east-1"
GOOD = b'input,output\n"Summarize: #Person1#: hi","A greeting."\n'


@pytest.fixture
def context(clock: Clock) -> Iterator[AwsContext]:
    with Sandbox(automl_seconds=100, clock=clock) as sandbox:
        context = context_for(sandbox)
        s3 = context.client("s3")
        s3.create_bucket(Bucket=BUCKET)
        s3.put_object(Bucket=BUCKET, Key="r1/data/train.csv", Body=GOOD)
        s3.put_object(Bucket=BUCKET, Key="r1/data/bad.csv", Body=b"input,summary\na,b\n")
        yield context


def start(context: AwsContext, name: str, data: str = "train.csv") -> str:
    request = check_autopilot_request(
        AutopilotRequest(
            job_name=name,
            role_arn=ROLE,
            base_model="Falcon7BInstruct",
            training_uri=f"s3://{BUCKET}/r1/data/{data}",
            output_uri=f"s3://{BUCKET}/r1/output/",
            hyperparameters={"epochCount": "2"},
        )
    )
    context.client("sagemaker").create_auto_ml_job_v2(**request.to_api())
    return name


def test_a_job_plays_out_to_a_best_candidate(context: AwsContext, clock: Clock) -> None:
    name = start(context, "bt-ap-good")
    first = describe_autopilot_job(context, name)
    assert (first.status, first.secondary_status, first.best) == ("InProgress", "Starting", None)
    clock.t += 50
    middle = describe_autopilot_job(context, name)
    assert (middle.status, middle.secondary_status) == ("InProgress", "TrainingModels")
    clock.t += 60
    done = describe_autopilot_job(context, name)
    assert (done.status, done.secondary_status) == ("Completed", "Completed")
    assert done.base_model == "Falcon7BInstruct"
    assert done.best is not None
    assert {"Rouge1", "Rouge2", "RougeL", "RougeLSum", "Perplexity", "ValidationLoss"} <= set(
        done.best.metrics
    )
    container = done.best.containers[0]
    assert container.processing_unit == "GPU" and container.image
    bucket, _, key = container.model_data_url.removeprefix("s3://").partition("/")
    head = context.client("s3").head_object(Bucket=bucket, Key=key)  # the model is there
    assert head["ContentLength"] > 0


def test_the_poller_sees_the_statuses_in_order(context: AwsContext, clock: Clock) -> None:
    name = start(context, "bt-ap-poll")
    timeline = Timeline()
    poller = autopilot_poller(
        lambda: describe_autopilot_job(context, name),
        backoff=Backoff(first=10, maximum=10),
        pacing=Pacing(clock=clock, sleep=clock.sleep, random=lambda: 0.5, tick=10),
    )
    seen: list[bool] = []
    final = poller.run(lambda u: seen.append(timeline.see(u.value)) if u.value else None)
    assert final is not None and final.status == "Completed"
    assert timeline.statuses == ["Starting", "TrainingModels", "Completed"]


def test_a_csv_without_the_output_column_fails_the_job(context: AwsContext, clock: Clock) -> None:
    name = start(context, "bt-ap-bad", "bad.csv")
    clock.t += 100
    failed = describe_autopilot_job(context, name)
    assert (failed.status, failed.secondary_status) == ("Failed", "Failed")
    assert failed.failure_reason is not None
    assert (
        "no 'output' column" in failed.failure_reason and "input,summary" in failed.failure_reason
    )
    assert failed.best is None


def test_a_stopped_job_goes_stopping_then_stopped(context: AwsContext, clock: Clock) -> None:
    name = start(context, "bt-ap-stop")
    clock.t += 20
    assert stop_autopilot_job(context, name).status == "Stopping"
    clock.t += 10
    assert describe_autopilot_job(context, name).status == "Stopped"
    assert find_autopilot_job(context, "bt-ap-none") is None
