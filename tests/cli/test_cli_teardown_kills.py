"""`bedrock-tune teardown --yes` killed (SIGKILL) at each write point, then run again: everything
of ours ends deleted, nothing of the user's is touched, and at every moment the registry never
forgets something AWS still has (it forgets only after AWS deleted it)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from core.aws import AwsContext
from core.jobs.customization import get_job, new_client_request_token
from core.registry import Registry
from core.sandbox.server import SANDBOX_ACCOUNT_ID, Sandbox, sandbox_environment
from core.serving.deploy import create_throughput, list_serving
from tests.fakes import MANAGED, POLICY, TRUST, Clock, launch_job
from tests.fakes import sandbox_record as record
from tests.kills import cli_killed_at
from tui.cli.main import main

TITAN = "amazon.titan-text-lite-v1:0:4k"
RECORD = b'{"prompt": "What is the refund window?", "completion": "Thirty days."}\n'
POINTS = [
    "teardown.done-provisioned-throughput",
    "teardown.done-custom-model",
    "teardown.deleted-objects",
    "teardown.done-s3-prefix",
    "teardown.done-s3-bucket",
    "teardown.deleted-policy",
    "teardown.done-iam-role",
]
"""After each AWS deletion and before its registry entry is removed; mid-folder; mid-role."""


@dataclass
class World:
    context: AwsContext
    model: str
    throughput: str


@pytest.fixture
def world(monkeypatch: pytest.MonkeyPatch) -> Iterator[World]:
    clock = Clock()
    with Sandbox(job_seconds=10, ready_seconds=30, clock=clock) as sandbox:
        for key, value in sandbox_environment(sandbox).items():
            monkeypatch.setenv(key, value)
        context = AwsContext.for_endpoint(sandbox.endpoint_url, sandbox.credentials)
        s3, iam = context.client("s3"), context.client("iam")
        s3.create_bucket(Bucket="bt-ours")
        s3.put_bucket_tagging(Bucket="bt-ours", Tagging={"TagSet": MANAGED})
        for n in range(3):
            s3.put_object(Bucket="bt-ours", Key=f"bedrock-tune/run1/data/{n}.jsonl", Body=RECORD)
        iam.create_role(RoleName="bt-role", AssumeRolePolicyDocument=TRUST, Tags=MANAGED)
        iam.put_role_policy(
            RoleName="bt-role", PolicyName="bedrock-tune-data-access", PolicyDocument=POLICY
        )
        s3.create_bucket(Bucket="users-bucket")
        s3.put_object(Bucket="users-bucket", Key="bedrock-tune/keep.txt", Body=b"mine")
        iam.create_role(RoleName="users-role", AssumeRolePolicyDocument=TRUST)
        job = launch_job(
            context,
            "kill",
            TITAN,
            "s3://bt-ours/bedrock-tune/run1/data/0.jsonl",
            "s3://bt-ours/bedrock-tune/run1/output/",
            f"arn:aws:iam::{SANDBOX_ACCOUNT_ID}:role/bt-role",
        )
        clock.t += 20
        model = get_job(context, job).output_model_arn
        assert model
        throughput = create_throughput(context, model, "bt-kill-pt", new_client_request_token())
        clock.t += 31
        registry = Registry()
        registry.add_resource(record("s3-bucket", "bt-ours"))
        registry.add_resource(record("s3-prefix", "s3://bt-ours/bedrock-tune/run1/"))
        registry.add_resource(
            record("iam-role", "bt-role", details={"policy_name": "bedrock-tune-data-access"})
        )
        registry.add_resource(record("provisioned-throughput", throughput, billable=True))
        registry.add_resource(record("custom-model", model, details={"name": "kill-model"}))
        yield World(context, model, throughput)


def in_aws(world: World) -> set[str]:
    """Which of our resources AWS still has (as registry `kind:identifier` keys)."""
    s3, iam = world.context.client("s3"), world.context.client("iam")
    bedrock = world.context.client("bedrock")
    left: set[str] = set()
    buckets = {b["Name"] for b in s3.list_buckets()["Buckets"]}
    if "bt-ours" in buckets:
        left.add("s3-bucket:bt-ours")
        listed = s3.list_objects_v2(Bucket="bt-ours", Prefix="bedrock-tune/run1/")
        if listed.get("Contents"):
            left.add("s3-prefix:s3://bt-ours/bedrock-tune/run1/")
    if "bt-role" in {r["RoleName"] for r in iam.list_roles()["Roles"]}:
        left.add("iam-role:bt-role")
    if any(s.arn == world.throughput for s in list_serving(world.context)):
        left.add(f"provisioned-throughput:{world.throughput}")
    if any(m["modelArn"] == world.model for m in bedrock.list_custom_models()["modelSummaries"]):
        left.add(f"custom-model:{world.model}")
    return left


def in_registry() -> set[str]:
    return {f"{r.kind}:{r.identifier}" for r in Registry().resources()}


def users_things_untouched(world: World) -> None:
    s3, iam = world.context.client("s3"), world.context.client("iam")
    keys = s3.list_objects_v2(Bucket="users-bucket")["Contents"]
    assert [k["Key"] for k in keys] == ["bedrock-tune/keep.txt"]
    assert "users-role" in {r["RoleName"] for r in iam.list_roles()["Roles"]}


@pytest.mark.parametrize("point", POINTS)
def test_a_teardown_killed_at_any_write_point_finishes_when_run_again(
    world: World, point: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert len(in_aws(world)) == 5 and in_aws(world) == in_registry()
    cli_killed_at(point, ["teardown", "--yes"], cwd=tmp_path)
    # Never forgotten while AWS still has it (what AWS no longer has may still be listed).
    assert in_aws(world) <= in_registry()
    if point.startswith("teardown.done-"):  # deleted in AWS, not yet forgotten: the rerun's job
        assert f"{point.removeprefix('teardown.done-')}:" in str(in_registry() - in_aws(world))
    users_things_untouched(world)

    assert main(["teardown", "--yes"]) == 0
    assert in_aws(world) == set() and in_registry() == set()
    users_things_untouched(world)
    assert main(["teardown", "--yes"]) == 0
    assert "Nothing bedrock-tune made is left" in capsys.readouterr().out
