"""Small fakes and documents several test modules share: a hand-driven clock, the sandbox as a
context or through the environment, a model trained in the sandbox, the managed tag, a role trust
policy and an inline S3 policy like the ones bedrock-tune writes, a job launched in one call, and
an in-process fault hook that kills a command at a chosen AWS call."""

from __future__ import annotations

import json
import weakref
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, NamedTuple, TypedDict

import pytest

from core.aws import AwsContext, ServiceName
from core.catalog.lookup import find_model
from core.jobs.customization import JobRequest, get_job, launch, new_client_request_token
from core.registry import ResourceRecord
from core.sagemaker.training import TrainingRequest
from core.sandbox.server import SANDBOX_ACCOUNT_ID, Sandbox, sandbox_environment

if TYPE_CHECKING:
    from botocore.client import BaseClient
    from botocore.config import Config
    from types_boto3_s3.type_defs import TagTypeDef


class Clock:
    """A clock the test moves by hand (`clock.t += 20`): nothing waits on the wall clock.

    `sleep` is the matching sleep: the time moves on at once, and `slept` records each wait.
    """

    def __init__(self, start: float = 0.0) -> None:
        self.t = start
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.t

    def sleep(self, seconds: float) -> None:
        """A sleep that only moves this clock (and remembers each slice)."""
        self.slept.append(seconds)
        self.t += seconds


class PlainClientArguments(TypedDict):
    endpoint_url: str
    region_name: str
    aws_access_key_id: str
    aws_secret_access_key: str
    config: Config | None


def plain_client(
    sandbox: Sandbox, region: str = "us-east-1", config: Config | None = None
) -> PlainClientArguments:
    """What a plain boto3 client with any keys needs to reach the sandbox, as another process
    would: `boto3.client("s3", **plain_client(sandbox))`."""
    return {
        "endpoint_url": sandbox.endpoint_url,
        "region_name": region,
        "aws_access_key_id": "sandbox",
        "aws_secret_access_key": "sandbox",
        "config": config,
    }


@dataclass(frozen=True)
class SandboxSetup:
    """How the `sandbox` fixture's sandbox behaves (a module overrides `sandbox_setup`)."""

    job_seconds: float = 10.0
    """A customization job's time from creation to Completed, on the test's clock."""
    ready_seconds: float = 30.0
    """A provisioned throughput's or deployment's time to become ready."""
    region: str = "us-east-1"
    list_page_size: int = 100
    """How many items a List operation returns per page."""


def context_for(sandbox: Sandbox, region: str | None = None) -> AwsContext:
    """A context that calls `sandbox` directly (its endpoint and credentials)."""
    return AwsContext.for_endpoint(
        sandbox.endpoint_url, sandbox.credentials, region or sandbox.region
    )


def export_sandbox(sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch) -> None:
    """Point the environment at `sandbox` (AWS_ENDPOINT_URL and keys), as a user who runs
    `bedrock-tune sandbox` does: the CLI and the app then reach it like AWS."""
    for key, value in sandbox_environment(sandbox).items():
        monkeypatch.setenv(key, value)


MANAGED: list[TagTypeDef] = [{"Key": "bedrock-tune:managed", "Value": "true"}]
"""The tag bedrock-tune puts on what it creates, in the S3 / IAM tag shape."""

TRUST = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Service": "bedrock.amazonaws.com"},
                "Action": "sts:AssumeRole",
            }
        ],
    }
)
"""A trust policy that lets Bedrock assume the role (without bedrock-tune's conditions)."""

POLICY = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/*"}
        ],
    }
)
"""An inline S3 read policy."""


def buckets(context: AwsContext) -> set[str]:
    """The names of the buckets `context` sees."""
    return {b["Name"] for b in context.client("s3").list_buckets()["Buckets"]}


def roles(context: AwsContext) -> set[str]:
    """The names of the IAM roles `context` sees."""
    return {r["RoleName"] for r in context.client("iam").list_roles()["Roles"]}


def policy_document(document: object) -> dict[str, Any]:
    """An IAM policy document as boto3 returns it (already decoded from JSON), to read in
    asserts; the stubs also allow the undecoded string, which would be a bug here."""
    assert isinstance(document, dict), f"not a decoded policy document: {document!r}"
    return document


def launch_job(
    context: AwsContext,
    name: str,
    base_model_id: str,
    training_uri: str,
    output_uri: str,
    role_arn: str = "arn:aws:iam::123456789012:role/r",
) -> str:
    """Launch the customization job `<name>-job` making `<name>-model`; returns its ARN."""
    return launch(
        context,
        JobRequest(
            job_name=f"{name}-job",
            custom_model_name=f"{name}-model",
            base_model_id=base_model_id,
            role_arn=role_arn,
            training_uri=training_uri,
            output_uri=output_uri,
            client_request_token=new_client_request_token(),
        ),
        find_model(base_model_id),
    )


class TrainedModel(NamedTuple):
    job_arn: str
    model_arn: str


def train_model(
    context: AwsContext,
    clock: Clock,
    name: str,
    base_model_id: str,
    *,
    bucket: str,
    body: bytes = b'{"prompt": "a question", "completion": "an answer"}\n',
    job_seconds: float = 10.0,
) -> TrainedModel:
    """A custom model made in the sandbox: `body` uploaded as `s3://<bucket>/<name>/train.jsonl`
    (the bucket created), the job `<name>-job` launched on it, and `clock` moved well past the
    sandbox's `job_seconds` so the job has completed."""
    s3 = context.client("s3")
    s3.create_bucket(Bucket=bucket)
    s3.put_object(Bucket=bucket, Key=f"{name}/train.jsonl", Body=body)
    job = launch_job(
        context,
        name,
        base_model_id,
        f"s3://{bucket}/{name}/train.jsonl",
        f"s3://{bucket}/{name}/output/",
    )
    clock.t += 2 * job_seconds
    model = get_job(context, job).output_model_arn
    assert model, f"the sandbox job {name}-job made no model"
    return TrainedModel(job, model)


SAGEMAKER_ROLE = f"arn:aws:iam::{SANDBOX_ACCOUNT_ID}:role/bedrock-tune-sagemaker-us-east-1"


def start_training(
    context: AwsContext,
    name: str,
    *,
    folder: str = "s3://bt-td/r/",
    tags: dict[str, str] | None = None,
) -> None:
    """A SageMaker training job on the sandbox, reading and writing under `folder` (a run
    folder), tagged `bedrock-tune:managed=true` and with `tags` (e.g. an install's)."""
    request = TrainingRequest(
        job_name=name,
        role_arn=SAGEMAKER_ROLE,
        base_model="meta-textgeneration-llama-3-8b",
        training_uri=f"{folder}data/train.jsonl",
        output_uri=f"{folder}output/",
        region="us-east-1",
        mode="instance",
        script_uri=f"{folder}output/code/sourcedir.tar.gz",
        image_uri="sandbox/training",
        tags=tags or {},
    )
    context.client("sagemaker").create_training_job(**request.to_api())


def sandbox_record(kind: str, identifier: str, **extra: Any) -> ResourceRecord:
    """A registry entry of the sandbox account in us-east-1, for run `run1`."""
    return ResourceRecord(kind, identifier, "us-east-1", SANDBOX_ACCOUNT_ID, "run1", **extra)


class Killed(BaseException):
    """The process dies at this point: a BaseException, so nothing in bedrock-tune catches it
    (as with kill -9, only what was already on disk or sent to AWS survives)."""


ClientHook = Callable[..., None]


def hook_aws_calls(monkeypatch: pytest.MonkeyPatch, event: str, handler: ClientHook) -> None:
    """Register `handler` for the botocore `event` (e.g.
    `after-call.bedrock.CreateModelCustomizationJob`) on every client any AwsContext makes,
    for the rest of the test (undo with `monkeypatch.undo()`)."""
    real_client = AwsContext.client
    # By the clients themselves, weakly: an id of a client since freed can be a new client's.
    hooked: weakref.WeakSet[BaseClient] = weakref.WeakSet()

    def client(self: AwsContext, service: ServiceName, region: str | None = None) -> BaseClient:
        made: BaseClient = real_client(self, service, region)
        if made not in hooked:
            hooked.add(made)
            made.meta.events.register(event, handler)
        return made

    monkeypatch.setattr(AwsContext, "client", client)


def die(**_: Any) -> None:
    """A botocore hook that kills the process (see `Killed`)."""
    raise Killed
