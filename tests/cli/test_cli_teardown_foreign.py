"""`bedrock-tune teardown` never deletes what this install did not make: another user's custom
model and running job, their objects under `bedrock-tune/`, an object put there by hand, a role
merely tagged as bedrock-tune's, and a shared role carrying a policy of our name. With an empty
registry `--yes` deletes nothing; `--include-found` deletes only what the tag points at (and even
then no object outside the run folders this registry records)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from moto import mock_aws

from core.aws import AwsContext
from core.catalog.lookup import find_model
from core.jobs.customization import JobRequest, launch, new_client_request_token
from core.ownership import ownership_tags
from core.registry import Registry, ResourceRecord
from tests.fakes import POLICY, TRUST
from tui.cli.main import main

if TYPE_CHECKING:
    from types_boto3_s3.type_defs import TagTypeDef

ACCOUNT = "123456789012"
NOVA = "amazon.nova-micro-v1:0:128k"
BOB = f"arn:aws:iam::{ACCOUNT}:user/bob"
OTHER_INSTALL = "0" * 32


@dataclass
class World:
    context: AwsContext
    model_arn: str
    job_arn: str


def bedrock_tags(owner: dict[str, str]) -> list[TagTypeDef]:
    """Ownership tags in the S3 / IAM shape."""
    return [{"Key": k, "Value": v} for k, v in owner.items()]


@pytest.fixture
def world(aws_keys: None) -> Iterator[World]:
    """Bob's bedrock-tune (another install) made a job and model, a bucket with his run folder
    and a role; someone put a file under bedrock-tune/ by hand; a shared role has a policy named
    like ours. None of it is in this install's registry."""
    with mock_aws():
        context = AwsContext.from_environment(region="us-east-1")
        s3, iam = context.client("s3"), context.client("iam")
        bob = ownership_tags(OTHER_INSTALL, BOB)
        s3.create_bucket(Bucket="bob-data")
        s3.put_bucket_tagging(Bucket="bob-data", Tagging={"TagSet": bedrock_tags(bob)})
        for key in ("bedrock-tune/bobs-run/data/train.jsonl", "bedrock-tune/by-hand.txt"):
            s3.put_object(Bucket="bob-data", Key=key, Body=b'{"a": 1}\n')
        iam.create_role(
            RoleName="bob-bedrock-role", AssumeRolePolicyDocument=TRUST, Tags=bedrock_tags(bob)
        )
        iam.put_role_policy(
            RoleName="bob-bedrock-role",
            PolicyName="bedrock-tune-data-access",
            PolicyDocument=POLICY,
        )
        iam.create_role(RoleName="shared-role", AssumeRolePolicyDocument=TRUST)
        iam.put_role_policy(
            RoleName="shared-role", PolicyName="bedrock-tune-data-access", PolicyDocument=POLICY
        )
        job = launch(
            context,
            JobRequest(
                job_name="bob-job",
                custom_model_name="bob-model",
                base_model_id=NOVA,
                role_arn=f"arn:aws:iam::{ACCOUNT}:role/bob-bedrock-role",
                training_uri="s3://bob-data/bedrock-tune/bobs-run/data/train.jsonl",
                output_uri="s3://bob-data/bedrock-tune/bobs-run/output/",
                client_request_token=new_client_request_token(),
                owner_tags=bob,
            ),
            find_model(NOVA),
        )
        model = context.client("bedrock").list_custom_models()["modelSummaries"][0]["modelArn"]
        yield World(context, model, job)


def state(world: World) -> dict[str, Any]:
    s3, iam = world.context.client("s3"), world.context.client("iam")
    bedrock = world.context.client("bedrock")
    jobs = bedrock.list_model_customization_jobs()["modelCustomizationJobSummaries"]
    return {
        "buckets": sorted(b["Name"] for b in s3.list_buckets()["Buckets"]),
        "keys": sorted(o["Key"] for o in s3.list_objects_v2(Bucket="bob-data")["Contents"]),
        "roles": sorted(r["RoleName"] for r in iam.list_roles()["Roles"]),
        "shared policies": iam.list_role_policies(RoleName="shared-role")["PolicyNames"],
        "models": [m["modelArn"] for m in bedrock.list_custom_models()["modelSummaries"]],
        "jobs": [(j["jobName"], j["status"]) for j in jobs],
    }


def test_an_empty_registry_deletes_nothing_and_include_found_only_what_the_tag_points_at(
    world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    before = state(world)
    assert before["jobs"] == [("bob-job", "InProgress")] and before["models"]

    assert main(["teardown", "--yes"]) == 0
    out = capsys.readouterr().out
    assert state(world) == before  # nothing deleted
    assert "Made by bedrock-tune elsewhere" in out and "pass --include-found" in out
    assert f"Made by {BOB}" in out  # who made it, from its tags
    assert "Nothing this install made is left; nothing deleted." in out

    assert main(["teardown", "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)["items"]
    assert {(i["kind"], i["origin"]) for i in listed} == {
        ("customization-job", "found"),
        ("custom-model", "found"),
        ("s3-bucket", "found"),
        ("iam-role", "found"),
    }
    assert all(i["created_by"] == BOB for i in listed)
    assert all(i["created_at"] for i in listed)

    assert main(["teardown", "--yes", "--include-found", "--json"]) == 0
    outcomes = {o["kind"]: o["status"] for o in json.loads(capsys.readouterr().out)["outcomes"]}
    assert outcomes == {
        "customization-job": "stopped",
        "custom-model": "deleted",
        "s3-bucket": "kept",  # it holds objects in no run folder this registry knows
        "iam-role": "deleted",
    }
    after = state(world)
    assert after["models"] == [] and after["jobs"] == [("bob-job", "Stopped")]
    assert after["roles"] == ["shared-role"]
    assert after["shared policies"] == ["bedrock-tune-data-access"]
    assert after["keys"] == before["keys"] and after["buckets"] == ["bob-data"]


def test_this_installs_run_folder_goes_and_nothing_else_in_the_bucket(
    world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    """Our run folder sits in Bob's bucket beside his: ours goes, his stays, the bucket stays."""
    s3 = world.context.client("s3")
    s3.put_object(Bucket="bob-data", Key="bedrock-tune/my-run/data/train.jsonl", Body=b"{}\n")
    registry = Registry()
    registry.add_resource(
        ResourceRecord("s3-bucket", "bob-data", "us-east-1", ACCOUNT, "my-run", created_by_us=False)
    )
    registry.add_resource(
        ResourceRecord(
            "s3-prefix", "s3://bob-data/bedrock-tune/my-run/", "us-east-1", ACCOUNT, "my-run"
        )
    )
    before = state(world)
    assert main(["teardown", "--yes"]) == 0
    capsys.readouterr()
    after = state(world)
    assert after["keys"] == [k for k in before["keys"] if "my-run" not in str(k)]
    assert {k: v for k, v in after.items() if k != "keys"} == {
        k: v for k, v in before.items() if k != "keys"
    }
    assert Registry().resources() == []


def test_the_install_id_is_what_makes_a_tagged_resource_ours(
    world: World, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A role tagged with this install's id (its registry entry lost) is ours: --yes deletes
    it; Bob's, tagged with his install's id, stays."""
    iam = world.context.client("iam")
    mine = ownership_tags(Registry().install_id(), f"arn:aws:iam::{ACCOUNT}:user/me")
    iam.create_role(
        RoleName="my-lost-role", AssumeRolePolicyDocument=TRUST, Tags=bedrock_tags(mine)
    )
    assert main(["teardown", "--yes", "--json"]) == 0
    outcomes = json.loads(capsys.readouterr().out)["outcomes"]
    assert [(o["identifier"], o["status"]) for o in outcomes] == [("my-lost-role", "deleted")]
    assert "bob-bedrock-role" in state(world)["roles"]
