"""The sandbox answers plain boto3 clients over real HTTP, like AWS would."""

from __future__ import annotations

import logging
import socket
from collections.abc import Iterator

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import backends

from core.sandbox import dispatch
from core.sandbox.server import Sandbox, SandboxError, sandbox_environment
from core.sandbox.table import EMULATIONS
from tests.fakes import plain_client


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Sandbox]:
    with Sandbox() as running:
        yield running


def test_sts_s3_iam_over_http(sandbox: Sandbox) -> None:
    assert sandbox.endpoint_url.startswith("http://127.0.0.1:")
    identity = boto3.client("sts", **plain_client(sandbox)).get_caller_identity()
    assert identity["Account"] == sandbox.account_id
    s3 = boto3.client("s3", **plain_client(sandbox, "us-west-2"))
    s3.create_bucket(
        Bucket="sandbox-test-bucket",
        CreateBucketConfiguration={"LocationConstraint": "us-west-2"},
    )
    assert "sandbox-test-bucket" in [b["Name"] for b in s3.list_buckets()["Buckets"]]
    role = boto3.client("iam", **plain_client(sandbox)).create_role(
        RoleName="sandbox-role", AssumeRolePolicyDocument="{}"
    )
    assert role["Role"]["Arn"].endswith(":role/sandbox-role")


def test_foundation_models_follow_the_catalog_regions(sandbox: Sandbox) -> None:
    east = boto3.client("bedrock", **plain_client(sandbox, "us-east-1")).list_foundation_models(
        byCustomizationType="FINE_TUNING"
    )["modelSummaries"]
    west = boto3.client("bedrock", **plain_client(sandbox, "us-west-2")).list_foundation_models(
        byCustomizationType="FINE_TUNING"
    )["modelSummaries"]
    east_ids = {m["modelId"] for m in east}
    west_ids = {m["modelId"] for m in west}
    assert "amazon.nova-micro-v1:0:128k" in east_ids
    assert "amazon.nova-micro-v1:0:128k" not in west_ids
    assert "anthropic.claude-3-haiku-20240307-v1:0:200k" in west_ids
    cpt = boto3.client("bedrock", **plain_client(sandbox, "us-west-2")).list_foundation_models(
        byCustomizationType="CONTINUED_PRE_TRAINING"
    )["modelSummaries"]
    assert {m["modelId"] for m in cpt} == {
        "amazon.titan-text-express-v1:0:8k",
        "amazon.titan-text-lite-v1:0:4k",
    }
    assert all(m["modelLifecycle"]["status"] == "LEGACY" for m in cpt)


def test_get_foundation_model(sandbox: Sandbox) -> None:
    bedrock = boto3.client("bedrock", **plain_client(sandbox, "us-east-1"))
    details = bedrock.get_foundation_model(modelIdentifier="amazon.nova-lite-v1:0:300k")
    assert details["modelDetails"]["modelName"] == "Nova Lite"
    assert details["modelDetails"]["customizationsSupported"] == ["FINE_TUNING", "DISTILLATION"]
    with pytest.raises(ClientError) as caught:
        bedrock.get_foundation_model(modelIdentifier="no.such-model-v1:0")
    assert caught.value.response["Error"]["Code"] == "ResourceNotFoundException"


def test_job_can_be_read_and_stopped_by_arn(sandbox: Sandbox) -> None:
    boto3.client("s3", **plain_client(sandbox)).create_bucket(Bucket="sandbox-jobs")
    bedrock = boto3.client("bedrock", **plain_client(sandbox))
    arn = bedrock.create_model_customization_job(
        jobName="sandbox-job",
        customModelName="sandbox-model",
        roleArn=f"arn:aws:iam::{sandbox.account_id}:role/r",
        baseModelIdentifier="amazon.nova-micro-v1:0:128k",
        trainingDataConfig={"s3Uri": "s3://sandbox-jobs/train.jsonl"},
        outputDataConfig={"s3Uri": "s3://sandbox-jobs/out/"},
    )["jobArn"]
    assert bedrock.get_model_customization_job(jobIdentifier=arn)["jobName"] == "sandbox-job"
    bedrock.stop_model_customization_job(jobIdentifier=arn)
    assert bedrock.get_model_customization_job(jobIdentifier="sandbox-job")["status"] == "Stopping"


def test_every_emulation_is_described() -> None:
    assert EMULATIONS
    assert all(e.description for e in EMULATIONS)


def test_environment_for_other_processes(sandbox: Sandbox) -> None:
    env = sandbox_environment(sandbox)
    assert env["AWS_ENDPOINT_URL"] == sandbox.endpoint_url
    assert env["AWS_ACCESS_KEY_ID"] and env["AWS_SECRET_ACCESS_KEY"]


def test_stop_frees_the_port() -> None:
    running = Sandbox().start()
    port = running.port
    running.stop()
    assert not running.running
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", port))


def test_only_loopback_is_allowed() -> None:
    with pytest.raises(SandboxError) as caught:
        Sandbox(host="0.0.0.0").start()
    assert "loopback" in caught.value.message


def test_a_busy_port_is_explained() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(SandboxError) as caught:
            Sandbox(port=port).start()
    assert "--port" in caught.value.hint


def test_in_process_sandboxes_keep_quiet_and_the_standalone_one_logs(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="werkzeug")
    for log_requests in (False, True):
        caplog.clear()
        with Sandbox(log_requests=log_requests) as running:
            boto3.client("sts", **plain_client(running)).get_caller_identity()
        logged = any("HTTP/1.1" in r.getMessage() for r in caplog.records)
        assert logged is log_requests


def test_requests_do_not_each_list_motos_folder(monkeypatch: pytest.MonkeyPatch) -> None:
    """moto's dispatcher lists its package folder (an isdir per service, under its lock) on every
    request to find the service; the sandbox lists it once."""
    listed = 0
    real = backends.list_of_moto_modules

    def counted() -> Iterator[str]:
        nonlocal listed
        listed += 1
        yield from real()

    monkeypatch.setattr(backends, "list_of_moto_modules", counted)
    dispatch._moto_services.cache_clear()
    try:
        with Sandbox() as sandbox:
            sts = boto3.client("sts", **plain_client(sandbox))
            s3 = boto3.client("s3", **plain_client(sandbox))
            for _ in range(3):
                assert sts.get_caller_identity()["Account"] == sandbox.account_id
                assert s3.list_buckets()["Buckets"] == []
    finally:
        dispatch._moto_services.cache_clear()
    assert listed == 1
