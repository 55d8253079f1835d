"""SageMaker training jobs in the sandbox play out (moto completes them at once): secondary
statuses with their times, loss lines in CloudWatch Logs, and a model folder in the output that
the pre-import check passes."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from core.aws import AwsContext
from core.importing.check import check_model
from core.importing.source import S3Files
from core.poll import Backoff, Pacing
from core.sagemaker.training import TrainingRequest
from core.sagemaker.watch import describe_training_job, read_loss, training_poller
from core.sandbox.server import Sandbox
from tests.fakes import Clock

BUCKET = "bt-train"
ROLE = "arn:aws:iam::123456789012:role/bedrock-tune-sagemaker-us-east-1"


@pytest.fixture
def clock() -> Clock:
    return Clock(2_000.0)


@pytest.fixture
def context(clock: Clock) -> Iterator[AwsContext]:
    with Sandbox(training_seconds=100, clock=clock) as sandbox:
        context = AwsContext.for_endpoint(sandbox.endpoint_url, sandbox.credentials, "us-east-1")
        s3 = context.client("s3")
        s3.create_bucket(Bucket=BUCKET)
        s3.put_object(Bucket=BUCKET, Key="r1/data/train.jsonl", Body=b'{"prompt":"a"}\n')
        yield context


def start(context: AwsContext, mode: str = "instance") -> str:
    request = TrainingRequest(
        job_name=f"bt-sql-{mode}",
        role_arn=ROLE,
        base_model="meta-textgeneration-llama-3-8b",
        training_uri=f"s3://{BUCKET}/r1/data/train.jsonl",
        output_uri=f"s3://{BUCKET}/r1/output/",
        region="us-east-1",
        mode="instance" if mode == "instance" else "serverless",
        accept_eula=True,
        script_uri=f"s3://{BUCKET}/r1/code/sourcedir.tar.gz",
    )
    context.client("sagemaker").create_training_job(**request.to_api())
    return request.job_name


def test_a_training_job_plays_out_with_its_timeline_logs_and_model(
    context: AwsContext, clock: Clock
) -> None:
    name = start(context)
    first = describe_training_job(context, name)
    assert (first.status, first.secondary_status) == ("InProgress", "Starting")
    assert [t.status for t in first.timeline] == ["Starting"]
    assert read_loss(context, name).points == ()  # nothing logged before training starts
    clock.t += 50
    middle = describe_training_job(context, name)
    assert middle.secondary_status == "Training"
    assert [t.status for t in middle.timeline] == ["Starting", "Downloading", "Training"]
    assert middle.timeline[0].ended is not None and middle.timeline[-1].ended is None
    read = read_loss(context, name)
    assert 0 < len(read.points) < 20
    assert read.points[0].loss > read.points[-1].loss  # it falls
    clock.t += 60
    done = describe_training_job(context, name)
    assert done.status == "Completed" and done.ended
    assert [t.status for t in done.timeline][-2:] == ["Uploading", "Completed"]
    assert done.model_artifacts == f"s3://{BUCKET}/r1/output/{name}/output/model/"
    more = read_loss(context, name, read.tokens)
    assert len(read.points) + len(more.points) == 20  # the next read continues, no repeats
    # The output is a model the import check passes: the route's import can follow.
    report = check_model(S3Files(context, done.model_artifacts))
    assert report.ok, report.problems


def test_the_one_poller_follows_a_serverless_job_to_its_end(
    context: AwsContext, clock: Clock
) -> None:
    name = start(context, "serverless")
    statuses: list[str] = []
    poller = training_poller(
        lambda: describe_training_job(context, name),
        backoff=Backoff(first=10, maximum=10),
        pacing=Pacing(clock=clock, sleep=clock.sleep, random=lambda: 0.5, tick=10),
    )
    final = poller.run(
        lambda update: statuses.append(update.value.secondary_status) if update.value else None
    )
    assert final is not None and final.status == "Completed"
    raw: dict[str, Any] = dict(
        context.client("sagemaker").describe_training_job(TrainingJobName=name)
    )
    assert raw["ServerlessJobConfig"]["Peft"] == "LORA" and "AlgorithmSpecification" not in raw
    assert list(dict.fromkeys(statuses)) == [
        "Starting",
        "Downloading",
        "Training",
        "Uploading",
        "Completed",
    ]
