"""`bedrock-tune teardown` against a sandbox reached through AWS_ENDPOINT_URL: the list (billable
first, with cost), one question per deletion, --yes, --json, and what it never touches."""

from __future__ import annotations

import io
import json
from dataclasses import dataclass

import pytest

from core.aws import AwsContext
from core.catalog.lookup import find_model
from core.jobs.customization import get_job, new_client_request_token
from core.registry import Registry
from core.sandbox.server import SANDBOX_ACCOUNT_ID, Sandbox
from core.serving.deploy import create_throughput
from tests.fakes import MANAGED, POLICY, TRUST, Clock, buckets, context_for, launch_job, roles
from tests.fakes import sandbox_record as record
from tui.cli.main import main

TITAN = "amazon.titan-text-lite-v1:0:4k"
"""A model whose provisioned throughput price is in the catalog."""
RECORD = b'{"prompt": "What is the refund window?", "completion": "Thirty days."}\n'


class Terminal(io.StringIO):
    """Typed answers on a stdin that says it is a terminal."""

    def isatty(self) -> bool:
        return True


@dataclass
class World:
    context: AwsContext
    model: str
    throughput: str


@pytest.fixture
def world(exported_sandbox: Sandbox, clock: Clock) -> World:
    """Ours and the user's, side by side in the sandbox the CLI reaches through the environment."""
    context = context_for(exported_sandbox)
    s3, iam = context.client("s3"), context.client("iam")
    # Ours: a tagged bucket with a run folder, a tagged role with our inline policy.
    s3.create_bucket(Bucket="bt-ours")
    s3.put_bucket_tagging(Bucket="bt-ours", Tagging={"TagSet": MANAGED})
    iam.create_role(RoleName="bt-role", AssumeRolePolicyDocument=TRUST, Tags=MANAGED)
    iam.put_role_policy(
        RoleName="bt-role", PolicyName="bedrock-tune-data-access", PolicyDocument=POLICY
    )
    # The user's: an untagged bucket and role, right next to ours.
    s3.create_bucket(Bucket="users-bucket")
    s3.put_object(Bucket="users-bucket", Key="bedrock-tune/keep.txt", Body=b"mine")
    iam.create_role(RoleName="users-role", AssumeRolePolicyDocument=TRUST)
    # A custom model served by provisioned throughput (billable).
    s3.put_object(Bucket="bt-ours", Key="bedrock-tune/run1/data/train.jsonl", Body=RECORD)
    job = launch_job(
        context,
        "cli",
        TITAN,
        "s3://bt-ours/bedrock-tune/run1/data/train.jsonl",
        "s3://bt-ours/bedrock-tune/run1/output/",
        f"arn:aws:iam::{SANDBOX_ACCOUNT_ID}:role/bt-role",
    )
    clock.t += 20
    model = get_job(context, job).output_model_arn
    assert model
    throughput = create_throughput(context, model, "bt-cli-pt", new_client_request_token())
    clock.t += 31
    registry = Registry()
    registry.add_resource(record("s3-bucket", "bt-ours"))
    registry.add_resource(record("s3-prefix", "s3://bt-ours/bedrock-tune/run1/"))
    registry.add_resource(
        record("iam-role", "bt-role", details={"policy_name": "bedrock-tune-data-access"})
    )
    registry.add_resource(record("provisioned-throughput", throughput, billable=True))
    registry.add_resource(record("custom-model", model, details={"name": "cli-model"}))
    return World(context, model, throughput)


def test_json_lists_billable_first_and_deletes_nothing(
    world: World, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["teardown", "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    items = listed["items"]
    assert [i["kind"] for i in items] == [
        "provisioned-throughput",
        "custom-model",
        "s3-prefix",
        "s3-bucket",
        "iam-role",
    ]
    assert items[0]["hourly_cost"] == find_model(TITAN).pricing.provisioned_per_hour == 7.1
    # The sandbox's Price List answered: the figure says so, with its date.
    assert items[0]["cost"].startswith("$7.10/h (Price List API, ")
    assert items[0]["price_source"].startswith("Price List API, ")
    assert items[0]["cost_class"] == "hourly"
    assert items[1]["cost"].startswith("$1.95/month (Price List API, ")
    assert items[1]["depends_on"] == [f"provisioned-throughput:{world.throughput}"]
    assert {i["identifier"] for i in items}.isdisjoint({"users-bucket", "users-role"})
    assert len(Registry().resources()) == 5  # nothing deleted
    # Asked in a terminal, the end of input answers no to everything.
    monkeypatch.setattr("sys.stdin", Terminal(""))
    assert main(["teardown"]) == 0
    out = capsys.readouterr().out
    assert "Nothing deleted." in out
    assert "Costing now: $7.10/h (Price List API, " in out
    assert "$1.95/month (Price List API, " in out and "of model storage." in out
    assert len(Registry().resources()) == 5


def test_without_a_terminal_it_asks_for_yes(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO("y\n"))
    assert main(["teardown"]) == 2  # before any AWS call: no sandbox needed
    err = capsys.readouterr().err
    assert "not a terminal" in err and "--yes" in err


def test_one_question_per_deletion(
    world: World, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # Keep the throughput (so its model stays too, unasked); delete folder, bucket and role.
    monkeypatch.setattr("sys.stdin", Terminal("n\ny\ny\ny\n"))
    assert main(["teardown"]) == 0
    out = capsys.readouterr().out
    assert out.index("Provisioned throughput bt-cli-pt") < out.index("S3 bucket bt-ours")
    assert out.count("[y/N]") == 4
    assert "Keeping Custom model cli-model: what serves it stays." in out
    kinds = {r.kind for r in Registry().resources()}
    assert kinds == {"provisioned-throughput", "custom-model"}
    assert buckets(world.context) == {"users-bucket"}
    assert roles(world.context) == {"users-role"}
    keys = world.context.client("s3").list_objects_v2(Bucket="users-bucket")["Contents"]
    assert [k["Key"] for k in keys] == ["bedrock-tune/keep.txt"]


def test_yes_deletes_everything_of_ours_then_nothing_is_left(
    world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["teardown", "--yes", "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["ok"] is True
    assert [o["kind"] for o in result["outcomes"]] == [
        "provisioned-throughput",
        "custom-model",
        "s3-prefix",
        "s3-bucket",
        "iam-role",
    ]
    assert Registry().resources() == []
    assert buckets(world.context) == {"users-bucket"}
    assert roles(world.context) == {"users-role"}
    assert main(["teardown", "--yes"]) == 0
    assert "Nothing bedrock-tune made is left" in capsys.readouterr().out


def test_a_bad_registry_entry_fails_clearly_and_the_rest_is_deleted(
    world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    Registry().add_resource(record("s3-prefix", "s3://bt-ours/"))
    assert main(["teardown", "--yes"]) == 1
    captured = capsys.readouterr()
    assert "names no folder inside the bucket" in captured.err
    assert "Hint: A folder entry must look like s3://<bucket>/<prefix>/<run>/." in captured.err
    assert [r.identifier for r in Registry().resources()] == ["s3://bt-ours/"]
    assert roles(world.context) == {"users-role"}


def test_sandbox_flag_starts_an_empty_sandbox(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["teardown", "--sandbox", "--list"]) == 0
    assert "Nothing bedrock-tune made is left" in capsys.readouterr().out
