"""A SageMaker training job launched from a run (the train step's core), against the sandbox:
once whatever crashes (a rerun re-attaches by the run's name and id; another's name is refused),
re-found on resume, the estimate before it (never $0.00 where nothing is known), and its failures
explained."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from core.aws import AwsContext
from core.errors import ConflictError, ValidationError
from core.pricing.types import Price
from core.registry import Registry
from core.resume import reattach
from core.run import Route, Run
from core.sagemaker.failures import explain_training_failure
from core.sagemaker.launching import (
    TRAINING_JOB,
    launch_training,
    training_cost,
    training_job_name,
    training_request,
)
from core.sandbox.server import SANDBOX_ACCOUNT_ID, Sandbox
from core.statuses import JobStatus
from tests.fakes import context_for

BUCKET = "bt-train"
ROLE = f"arn:aws:iam::{SANDBOX_ACCOUNT_ID}:role/bedrock-tune-sagemaker-us-east-1"
DATA = f"s3://{BUCKET}/bedrock-tune/r1"


@pytest.fixture
def context(sandbox: Sandbox) -> AwsContext:
    context = context_for(sandbox)
    context.client("s3").create_bucket(Bucket=BUCKET)
    return context


def a_run(**changes: Any) -> Run:
    return replace(
        Run(
            run_id="r1",
            route=Route.SAGEMAKER_IMPORT,
            target="sandbox",
            region="us-east-1",
            account_id=SANDBOX_ACCOUNT_ID,
            base_model_id="meta-textgeneration-llama-3-8b",
            role_arn=ROLE,
            training_uri=f"{DATA}/data/train.jsonl",
            output_uri=f"{DATA}/output/",
            training_mode="serverless",
            eula_accepted=True,
            job_name="bt-llama-1",
            client_request_token="t1",
        ),
        **changes,
    )


def test_a_rerun_reattaches_and_never_trains_twice(context: AwsContext, tmp_path: Path) -> None:
    registry = Registry(tmp_path / "state")
    first = launch_training(context, a_run(), registry)
    assert not first.reattached and first.run.job_status is JobStatus.IN_PROGRESS
    again = launch_training(context, a_run(), registry)  # the process died after sending
    assert again.reattached and again.run.job_arn == first.run.job_arn
    jobs = context.client("sagemaker").list_training_jobs()["TrainingJobSummaries"]
    assert [j["TrainingJobName"] for j in jobs] == ["bt-llama-1"]
    records = [r for r in registry.resources() if r.kind == TRAINING_JOB]
    assert [r.identifier for r in records] == ["bt-llama-1"] and records[0].billable
    assert "instance_type" not in records[0].details  # serverless: no instance-hours
    # Another run asking for the same name is refused, and the job is left alone.
    with pytest.raises(ConflictError) as taken:
        launch_training(context, a_run(run_id="r2"), registry)
    assert "bedrock-tune run r1" in taken.value.message


def test_an_instance_job_ships_the_script_and_the_request_is_checked_first(
    context: AwsContext, tmp_path: Path
) -> None:
    registry = Registry(tmp_path / "state")
    with pytest.raises(ValidationError) as refused:
        launch_training(context, a_run(eula_accepted=False, job_name="bt-x"), registry)
    assert "EULA" in refused.value.message
    assert context.client("sagemaker").list_training_jobs()["TrainingJobSummaries"] == []
    run = a_run(training_mode="instance", spot=True, job_name="bt-inst")
    launch_training(context, run, registry)
    script = context.client("s3").head_object(
        Bucket=BUCKET, Key="bedrock-tune/r1/output/code/sourcedir.tar.gz"
    )
    assert script["ContentLength"] > 0
    api = training_request(run).to_api()
    assert api["EnableManagedSpotTraining"] is True
    # Its record says what it runs on, so the header can price it per instance-hour.
    [job] = [r for r in registry.resources() if r.identifier == "bt-inst"]
    assert job.details["instance_type"] == api["ResourceConfig"]["InstanceType"]
    assert (job.details["instance_count"], job.details["spot"]) == (1, True)
    assert {"Key": "bedrock-tune:run", "Value": "r1"} in api["Tags"]


def test_resume_finds_the_job_an_interrupted_launch_made(
    context: AwsContext, sandbox: Sandbox, tmp_path: Path
) -> None:
    registry = Registry(tmp_path / "state")
    run = a_run(endpoint_url=sandbox.endpoint_url)
    launch_training(context, run, registry)  # created; the ARN never reached the registry
    back = reattach(run)
    assert back.run.job_arn and back.run.job_arn.endswith("training-job/bt-llama-1")
    assert back.step == "watch"
    never_sent = reattach(a_run(endpoint_url=sandbox.endpoint_url, job_name="bt-never"))
    assert never_sent.run.job_arn is None and never_sent.step == "train"


def test_job_names_are_what_sagemaker_takes() -> None:
    name = training_job_name("meta-textgeneration-llama-3-8b")
    assert name.startswith("bt-meta-textgeneration-llama-3-8b-") and len(name) <= 63
    assert all(c.isalnum() or c == "-" for c in name)


def test_the_estimate_says_what_is_known_and_where_from() -> None:
    serverless = training_cost("serverless", "ml.g5.12xlarge", 2.5, None)
    assert serverless.total is None and serverless.per_hour.amount is None
    assert "no amount is shown" in serverless.lines[0] and "$0.00" not in serverless.lines[0]
    listed = Price.known(7.09, "per instance-hour", "price-list-api", "2026-12-02", "USE1-Train")
    on_demand = training_cost("instance", "ml.g5.12xlarge", 2.5, listed)
    assert on_demand.total == pytest.approx(17.725)
    assert "Price List API, 2026-12-02" in on_demand.lines[0]
    spot = training_cost("instance", "ml.g5.12xlarge", 2.5, listed, spot=True)
    assert spot.total == on_demand.total and "at most the $17.73" in spot.lines[-1]
    # No Price List answer: the reference's figure, which says where it is from.
    fallback = training_cost("instance", "ml.g5.12xlarge", 2.5, None)
    assert fallback.total == pytest.approx(18.0) and "built-in" in fallback.lines[0]
    unknown = training_cost("instance", "ml.p5.48xlarge", 2.5, None)
    assert unknown.total is None and "unknown" in unknown.lines[0]


@pytest.mark.parametrize(
    ("reason", "rule"),
    [
        (
            "ResourceLimitExceeded: The account-level service limit 'ml.g5.12xlarge for "
            "training job usage' is 0 Instances",
            "quota",
        ),
        ("CapacityError: Unable to provision requested ML compute capacity.", "capacity"),
        ("Spot capacity interrupted the job beyond its MaxWaitTimeInSeconds", "spot-interrupted"),
        ("401 Client Error: Repo model meta-llama/Meta-Llama-3-8B is gated.", "hf-token"),
        ("ClientError: AccessDenied when reading s3://b/train.jsonl", "access-denied"),
        ("torch.OutOfMemoryError: CUDA out of memory.", "out-of-memory"),
        ("ValueError: train.jsonl line 3: neither messages nor prompt / completion", "data"),
        ("AlgorithmError: something new", "other"),
    ],
)
def test_failures_are_explained(reason: str, rule: str) -> None:
    explained = explain_training_failure(reason)
    assert explained.rule == rule and explained.fix
