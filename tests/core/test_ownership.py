"""Who made a resource: an install id made once beside the registry, and tags on everything
bedrock-tune creates (bucket, role, job, custom model, throughput, deployment) naming the install
and the identity, in values every service accepts."""

from __future__ import annotations

import re
import stat
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest
from botocore.stub import ANY, Stubber
from moto import mock_aws

from core.aws import AwsContext
from core.catalog.lookup import find_model
from core.infra.plan import apply, plan
from core.jobs.customization import JobRequest, check_request, new_client_request_token
from core.jobs.launching import launch_saved_run
from core.ownership import (
    CREATOR_TAG,
    INSTALL_TAG,
    MANAGED_TAG,
    InstallIdError,
    install_id,
    origin_of,
    ownership_tags,
    tag_value,
)
from core.registry import Registry, ResourceRecord
from core.run import Run
from core.serving.deploy import create_deployment, create_throughput

ACCOUNT = "123456789012"
ME = f"arn:aws:iam::{ACCOUNT}:user/alice"
TAG_TEXT = re.compile(r"[a-zA-Z0-9\s._:/=+@-]*")
"""Bedrock's TagValue pattern (botocore), the strictest of Bedrock, IAM and S3."""


def test_the_install_id_is_made_once_private_and_kept(tmp_path: Path) -> None:
    state = tmp_path / "state"
    first = install_id(state)
    assert re.fullmatch(r"[0-9a-f]{32}", first)
    assert install_id(state) == first == Registry(state).install_id()
    assert stat.S_IMODE((state / "install-id").stat().st_mode) == 0o600
    assert install_id(tmp_path / "elsewhere") != first  # another HOME, another install


def test_a_damaged_install_id_file(tmp_path: Path) -> None:
    (tmp_path / "install-id").write_text("")  # a crash while it was written: made anew
    assert re.fullmatch(r"[0-9a-f]{32}", install_id(tmp_path))
    (tmp_path / "install-id").write_text("not an id\n")
    with pytest.raises(InstallIdError, match="does not hold a bedrock-tune install id"):
        install_id(tmp_path)


def test_tag_values_fit_every_service() -> None:
    assert tag_value(ME) == ME
    odd = f"arn:aws:sts::{ACCOUNT}:assumed-role/Admin/alice,smith"
    assert tag_value(odd) == odd.replace(",", "_")
    long = f"arn:aws:iam::{ACCOUNT}:role/" + "deep/" * 100 + "r"
    shortened = tag_value(long)
    assert len(shortened) == 256 and TAG_TEXT.fullmatch(shortened)
    assert shortened.startswith(long[:200]) and shortened != tag_value(long + "x")
    tags = ownership_tags("f" * 32, long)
    assert tags == {MANAGED_TAG[0]: "true", INSTALL_TAG: "f" * 32, CREATOR_TAG: shortened}
    origin = origin_of(tags)
    assert origin.made_by("f" * 32) and not origin.made_by("0" * 32)
    assert not origin_of({INSTALL_TAG: "f" * 32}).made_by("f" * 32)  # not managed: not ours


def test_the_job_and_model_carry_the_install_and_the_creator() -> None:
    owner = ownership_tags("a" * 32, ME)
    request = JobRequest(
        job_name="j",
        custom_model_name="m",
        base_model_id="amazon.nova-micro-v1:0:128k",
        role_arn=f"arn:aws:iam::{ACCOUNT}:role/r",
        training_uri="s3://bucket-x/t.jsonl",
        output_uri="s3://bucket-x/out/",
        client_request_token="t0ken",
        tags={"team": "ml"},
        owner_tags=owner,
    )
    api = request.to_api()
    expected = [
        {"key": "bedrock-tune:managed", "value": "true"},
        {"key": "team", "value": "ml"},
        {"key": INSTALL_TAG, "value": "a" * 32},
        {"key": CREATOR_TAG, "value": ME},
    ]
    assert api["jobTags"] == api["customModelTags"] == expected
    assert check_request(request, find_model("amazon.nova-micro-v1:0:128k")) == []


@pytest.fixture
def east(aws_keys: None) -> Iterator[AwsContext]:
    with mock_aws():
        yield AwsContext.from_environment(region="us-east-1")


def test_infra_tags_what_it_creates_and_another_install_does_not_take_it_for_its_own(
    east: AwsContext, tmp_path: Path
) -> None:
    mine = Registry(tmp_path / "mine")
    result = apply(
        east, plan(east, ACCOUNT, "us-east-1", principal_arn=ME, registry=mine), mine, "r1"
    )
    s3, iam = boto3.client("s3"), boto3.client("iam")
    bucket_tags = {
        t["Key"]: t["Value"] for t in s3.get_bucket_tagging(Bucket=result.bucket)["TagSet"]
    }
    role_tags = {
        t["Key"]: t["Value"] for t in iam.get_role(RoleName=result.role_name)["Role"]["Tags"]
    }
    expected = ownership_tags(mine.install_id(), ME)
    assert bucket_tags == role_tags == expected

    # This install, planning again, knows them as its own, by their tags alone.
    (tmp_path / "mine" / "registry.json").unlink()
    assert mine.resources() == []
    again = plan(east, ACCOUNT, "us-east-1", principal_arn=ME, registry=mine)
    assert again.bucket.created_by_us and again.role.created_by_us
    # Another install (another HOME) sees bedrock-tune's tag, not its own id: reused, not ours.
    theirs = Registry(tmp_path / "theirs")
    foreign = plan(east, ACCOUNT, "us-east-1", principal_arn=ME, registry=theirs)
    assert not foreign.bucket.created_by_us and not foreign.role.created_by_us
    apply(east, foreign, theirs, "r9")
    assert {(r.kind, r.created_by_us) for r in theirs.resources()} == {
        ("s3-bucket", False),
        ("iam-role", False),
    }


def test_throughput_and_deployment_carry_the_install_and_the_creator(aws_keys: None) -> None:
    context = AwsContext.from_environment(region="us-east-1")
    bedrock = context.client("bedrock")
    owner = ownership_tags("b" * 32, ME)
    tags = [{"key": k, "value": v} for k, v in owner.items()]
    model = f"arn:aws:bedrock:us-east-1:{ACCOUNT}:custom-model/x"
    with Stubber(bedrock) as stub:
        stub.add_response(
            "create_provisioned_model_throughput",
            {"provisionedModelArn": f"arn:aws:bedrock:us-east-1:{ACCOUNT}:provisioned-model/p"},
            {
                "modelUnits": 1,
                "provisionedModelName": "pt",
                "modelId": model,
                "clientRequestToken": ANY,
                "tags": tags,
            },
        )
        stub.add_response(
            "create_custom_model_deployment",
            {
                "customModelDeploymentArn": (
                    f"arn:aws:bedrock:us-east-1:{ACCOUNT}:custom-model-deployment/d"
                )
            },
            {
                "modelDeploymentName": "dep",
                "modelArn": model,
                "clientRequestToken": ANY,
                "tags": tags,
            },
        )
        create_throughput(context, model, "pt", "tok1", owner_tags=owner)
        create_deployment(context, model, "dep", "tok2", owner_tags=owner)
        stub.assert_no_pending_responses()


def test_a_deploy_tags_what_it_creates_with_the_install_and_the_creator(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import core.serving.once as once

    sent: list[dict[str, str]] = []

    def fake_create(*args: object, owner_tags: dict[str, str] | None = None) -> str:
        sent.append(dict(owner_tags or {}))
        return f"arn:aws:bedrock:us-east-1:{ACCOUNT}:provisioned-model/p"

    monkeypatch.setattr(once, "create_throughput", fake_create)
    registry = Registry(tmp_path / "state")
    intent = once.new_intent("provisioned-throughput", "pt", "arn:model")
    record = ResourceRecord("provisioned-throughput", "", "us-east-1", ACCOUNT, None, billable=True)
    once.create_once(AwsContext(None, "us-east-1"), registry, intent, record, creator_arn=ME)
    assert sent == [ownership_tags(registry.install_id(), ME)]


def test_a_batch_inference_job_carries_the_install_and_the_creator() -> None:
    from core.evaluation.batch import job_request as batch_job_request

    owner = ownership_tags("c" * 32, ME)
    request = batch_job_request(
        "bt-eval-x",
        "amazon.nova-micro-v1:0",
        "s3://b/in.jsonl",
        "s3://b/out/",
        "arn:r",
        "t",
        "r1",
        owner,
    )
    assert request["tags"] == [
        {"key": "bedrock-tune:managed", "value": "true"},
        {"key": "bedrock-tune:run", "value": "r1"},
        {"key": INSTALL_TAG, "value": "c" * 32},
        {"key": CREATOR_TAG, "value": ME},
    ]


def test_a_launched_job_and_its_model_carry_this_installs_tags(
    east: AwsContext, tmp_path: Path
) -> None:
    registry = Registry(tmp_path / "state")
    run = Run(
        run_id="r1",
        region="us-east-1",
        principal_arn=ME,
        base_model_id="amazon.nova-micro-v1:0:128k",
        role_arn=f"arn:aws:iam::{ACCOUNT}:role/r",
        training_uri="s3://bucket-x/t.jsonl",
        output_uri="s3://bucket-x/out/",
        job_name="owned-job",
        custom_model_name="owned-model",
        client_request_token=new_client_request_token(),
    )
    east.client("s3").create_bucket(Bucket="bucket-x")
    registry.save_run("r1", run)
    launched = launch_saved_run(east, run, find_model("amazon.nova-micro-v1:0:128k"), registry)
    bedrock = east.client("bedrock")
    model = bedrock.list_custom_models()["modelSummaries"][0]["modelArn"]
    assert launched.run.job_arn is not None
    for arn in (launched.run.job_arn, model):
        listed = bedrock.list_tags_for_resource(resourceARN=arn)["tags"]
        tags = {t["key"]: t["value"] for t in listed}
        assert origin_of(tags).made_by(registry.install_id()), tags
        assert tags[CREATOR_TAG] == ME and tags["bedrock-tune:run"] == "r1"
