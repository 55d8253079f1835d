"""Jobs play out in the sandbox: every phase, metrics, completion, failure and stop, over HTTP,
driven by an injected clock (no test waits on the wall clock)."""

from __future__ import annotations

import boto3
import pytest

from core.aws import AwsContext
from core.catalog.lookup import find_model
from core.errors import ValidationError
from core.jobs.customization import (
    JobRequest,
    JobStatus,
    get_job,
    launch,
    new_client_request_token,
    stop_job,
)
from core.jobs.metrics import find_metric_files, read_metrics
from core.jobs.watch import JobWatcher, WatchUpdate
from tests.fakes import Clock, SandboxSetup

NOVA = "amazon.nova-micro-v1:0:128k"
GOOD = b'{"schemaVersion": "bedrock-conversation-2024", "messages": []}\n' * 10


@pytest.fixture
def sandbox_setup() -> SandboxSetup:
    return SandboxSetup(job_seconds=100)


@pytest.fixture
def context(sandbox_context: AwsContext) -> AwsContext:
    """The sandbox, with the bucket the jobs read from."""
    sandbox_context.client("s3").create_bucket(Bucket="sandbox-data")
    return sandbox_context


def start(context: AwsContext, data: bytes | None = GOOD, name: str = "job-1") -> str:
    if data is not None:
        context.client("s3").put_object(Bucket="sandbox-data", Key="r/train.jsonl", Body=data)
    request = JobRequest(
        job_name=name,
        custom_model_name=f"{name}-model",
        base_model_id=NOVA,
        role_arn="arn:aws:iam::123456789012:role/bedrock-tune-role",
        training_uri="s3://sandbox-data/r/train.jsonl",
        output_uri="s3://sandbox-data/r/output/",
        client_request_token=new_client_request_token(),
        hyperparameters={"epochCount": "2"},
    )
    return launch(context, request, find_model(NOVA))


def phases(context: AwsContext, arn: str) -> tuple[str, list[str]]:
    job = get_job(context, arn)
    return job.status.value, [p.status for p in job.phases]


def test_a_job_goes_through_every_phase(context: AwsContext, clock: Clock) -> None:
    arn = start(context)
    assert phases(context, arn) == ("InProgress", ["InProgress", "NotStarted", "NotStarted"])
    clock.t += 20
    assert phases(context, arn) == ("InProgress", ["Completed", "InProgress", "NotStarted"])
    clock.t += 30
    assert phases(context, arn) == ("InProgress", ["Completed", "Completed", "InProgress"])
    job = get_job(context, arn)
    assert job.ended is None and job.failure_message is None
    # As on Bedrock: no metrics file and no loss while the job trains, all of it at the end.
    files = find_metric_files(context, job.output_uri, arn)
    assert files.training_key is None and files.validation_key is None
    assert job.training_loss is None and job.validation_loss is None
    clock.t += 49
    assert find_metric_files(context, job.output_uri, arn).training_key is None
    clock.t += 11
    assert phases(context, arn) == ("Completed", ["Completed", "Completed", "Completed"])
    done = get_job(context, arn)
    assert done.ended is not None and done.output_model_arn
    metrics = read_metrics(context, find_metric_files(context, done.output_uri, arn))
    assert len(metrics.training) == 60 and metrics.validation
    assert metrics.training[-1].loss < metrics.training[0].loss
    assert done.training_loss == metrics.training[-1].loss
    model = context.client("bedrock").get_custom_model(modelIdentifier=done.output_model_arn)
    assert model["modelStatus"] == "Active"
    assert model["modelName"] == done.output_model_name == "job-1-model"


def test_the_custom_model_is_creating_while_the_job_runs(context: AwsContext) -> None:
    arn = start(context)
    model_arn = get_job(context, arn).output_model_arn
    assert model_arn is not None
    model = context.client("bedrock").get_custom_model(modelIdentifier=model_arn)
    assert model["modelStatus"] == "Creating"


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b'{"prompt": "x"}\nnot json\n', "Unable to parse Amazon S3 file: train.jsonl"),
        (b"", "Unable to parse Amazon S3 file"),
        (None, "Could not validate GetObject permissions"),
    ],
)
def test_bad_training_data_fails_in_validation(
    context: AwsContext, clock: Clock, data: bytes | None, message: str
) -> None:
    arn = start(context, data)
    clock.t += 11
    job = get_job(context, arn)
    assert job.status is JobStatus.FAILED
    assert job.failure_message is not None and message in job.failure_message
    assert [p.status for p in job.phases] == ["Failed", "NotStarted", "NotStarted"]


def test_stopping_comes_before_stopped(context: AwsContext, clock: Clock) -> None:
    arn = start(context)
    clock.t += 40
    stop_job(context, arn)
    # As on Bedrock: Stopping first (the running phase too), no end time yet.
    job = get_job(context, arn)
    assert job.status is JobStatus.STOPPING and not job.status.terminal
    assert [p.status for p in job.phases] == ["Completed", "Completed", "Stopping"]
    assert job.ended is None
    bedrock = context.client("bedrock")
    stopping = bedrock.list_model_customization_jobs(statusEquals="Stopping")
    assert [j["jobArn"] for j in stopping["modelCustomizationJobSummaries"]] == [arn]
    with pytest.raises(ValidationError):
        stop_job(context, arn)  # only an InProgress job can be stopped
    clock.t += 9
    assert get_job(context, arn).status is JobStatus.STOPPING
    clock.t += 1  # the sandbox's stop_seconds (10) have passed
    job = get_job(context, arn)
    assert job.status is JobStatus.STOPPED and job.ended is not None
    assert [p.status for p in job.phases] == ["Completed", "Completed", "Stopped"]


def test_a_completed_job_cannot_be_stopped(context: AwsContext, clock: Clock) -> None:
    arn = start(context)
    clock.t += 200
    with pytest.raises(ValidationError) as caught:
        stop_job(context, arn)
    assert "Completed" in caught.value.message
    assert get_job(context, arn).status is JobStatus.COMPLETED


def test_the_watcher_follows_a_stop_to_stopped(context: AwsContext, clock: Clock) -> None:
    arn = start(context)
    clock.t += 40
    stop_job(context, arn)
    statuses: list[JobStatus] = []

    def on_update(update: WatchUpdate) -> None:
        assert update.snapshot is not None
        statuses.append(update.snapshot.status)

    watcher = JobWatcher(
        lambda: get_job(context, arn),
        min_interval=2,
        max_interval=2,
        clock=clock,
        sleep=clock.sleep,
    )
    final = watcher.watch(on_update)
    assert final is not None and final.status is JobStatus.STOPPED
    # Polling went on through Stopping (not an end) until Stopped.
    assert statuses[0] is JobStatus.STOPPING and statuses.count(JobStatus.STOPPING) >= 4
    assert statuses[-1] is JobStatus.STOPPED


def test_a_stopped_job_stays_stopped(context: AwsContext, clock: Clock) -> None:
    arn = start(context)
    clock.t += 40
    stop_job(context, arn)
    clock.t += 100
    status, states = phases(context, arn)
    assert status == "Stopped"
    assert states == ["Completed", "Completed", "Stopped"]


def test_the_watcher_follows_a_sandbox_job_to_the_end(context: AwsContext, clock: Clock) -> None:
    arn = start(context)
    seen: list[tuple[str, ...]] = []

    def on_update(update: WatchUpdate) -> None:
        assert update.error is None
        assert update.snapshot is not None
        seen.append(tuple(p.status for p in update.snapshot.phases))

    watcher = JobWatcher(
        lambda: get_job(context, arn),
        fetch_metrics=lambda s: read_metrics(
            context, find_metric_files(context, s.output_uri, arn)
        ),
        min_interval=5,
        max_interval=5,
        clock=clock,
        sleep=clock.sleep,
    )
    final = watcher.watch(on_update)
    assert final is not None and final.status is JobStatus.COMPLETED
    assert ("Completed", "InProgress", "NotStarted") in seen
    assert ("Completed", "Completed", "InProgress") in seen
    assert seen[-1] == ("Completed", "Completed", "Completed")


def test_plain_boto3_lists_the_advanced_status(context: AwsContext, clock: Clock) -> None:
    start(context)
    clock.t += 200
    client = boto3.client(
        "bedrock",
        endpoint_url=context.endpoint_url,
        region_name="us-east-1",
        aws_access_key_id="sandbox",
        aws_secret_access_key="sandbox",
    )
    jobs = client.list_model_customization_jobs()["modelCustomizationJobSummaries"]
    assert [j["status"] for j in jobs] == ["Completed"]
