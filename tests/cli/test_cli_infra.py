"""`bedrock-tune infra plan|apply` and `bedrock-tune upload` against a sandbox reached through
AWS_ENDPOINT_URL, as a user would run them next to `bedrock-tune sandbox`."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from core.aws import AwsContext
from core.registry import Registry
from core.run import Run
from core.sandbox.server import Sandbox
from tests.fakes import context_for, export_sandbox, policy_document
from tui.cli.main import main

BUCKET = "bedrock-tune-123456789012-us-east-1"
LINE = b'{"prompt": "a question", "completion": "an answer"}\n'


@pytest.fixture(scope="module")
def running_sandbox() -> Iterator[Sandbox]:
    with Sandbox() as running:
        yield running


@pytest.fixture
def sandbox(running_sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch) -> AwsContext:
    """The sandbox, emptied, reached through AWS_ENDPOINT_URL like `bedrock-tune sandbox`."""
    running_sandbox.reset()
    export_sandbox(running_sandbox, monkeypatch)
    return context_for(running_sandbox)


def test_a_distillation_teacher_is_granted_to_the_role(
    sandbox: AwsContext, capsys: pytest.CaptureFixture[str]
) -> None:
    teacher = "us.amazon.nova-premier-v1:0"
    assert main(["infra", "apply", "--teacher", teacher, "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["verified"]
    policy = policy_document(
        sandbox.client("iam").get_role_policy(
            RoleName="bedrock-tune-us-east-1", PolicyName="bedrock-tune-data-access"
        )["PolicyDocument"]
    )
    [statement] = [s for s in policy["Statement"] if s["Sid"] == "InvokeDistillationTeacher"]
    assert statement["Action"] == ["bedrock:InvokeModel"]
    assert set(statement["Resource"]) == {
        f"arn:aws:bedrock:us-east-1:123456789012:inference-profile/{teacher}",
        "arn:aws:bedrock:*::foundation-model/amazon.nova-premier-v1:0",
    }


def test_plan_changes_nothing_and_apply_twice_creates_once(
    sandbox: AwsContext, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["infra", "plan", "--json"]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert shown["bucket"]["action"] == "create" and shown["role"]["action"] == "create"
    trust = shown["role"]["documents"]["trust policy"]["Statement"][0]
    assert trust["Principal"] == {"Service": "bedrock.amazonaws.com"}
    assert sandbox.client("s3").list_buckets()["Buckets"] == []

    assert main(["infra", "apply", "--json"]) == 0
    captured = capsys.readouterr()
    made = json.loads(captured.out)
    assert made["created"] == [f"s3-bucket:{BUCKET}", "iam-role:bedrock-tune-us-east-1"]
    assert made["verified"] and made["failed_checks"] == []
    assert made["role_arn"] == "arn:aws:iam::123456789012:role/bedrock-tune-us-east-1"
    assert "✓ iam:CreateRole bedrock-tune-us-east-1" in captured.err  # the call log

    assert main(["infra", "apply", "--json"]) == 0
    again = json.loads(capsys.readouterr().out)
    assert again["created"] == [] and again["verified"]
    assert {(r.kind, r.created_by_us) for r in Registry().resources()} == {
        ("s3-bucket", True),
        ("iam-role", True),
    }
    assert main(["infra", "plan"]) == 0
    assert "[reuse]" in capsys.readouterr().out


def test_upload_prints_the_uris_and_a_rerun_skips(
    sandbox: AwsContext, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["infra", "apply"]) == 0
    prepared = tmp_path / "my run"
    prepared.mkdir()
    (prepared / "train.jsonl").write_bytes(LINE * 20)
    (prepared / "validation.jsonl").write_bytes(LINE * 4)
    capsys.readouterr()
    assert main(["upload", str(prepared), "--json"]) == 0
    captured = capsys.readouterr()
    done = json.loads(captured.out)
    assert done["run_id"] == "my-run"  # from the folder name, with the space made valid
    assert done["training_uri"] == f"s3://{BUCKET}/bedrock-tune/my-run/data/train.jsonl"
    assert done["validation_uri"].endswith("/my-run/data/validation.jsonl")
    assert done["test_uri"] is None
    assert done["output_uri"] == f"s3://{BUCKET}/bedrock-tune/my-run/output/"
    assert "train.jsonl  1.0 KB, uploaded and verified" in captured.err
    stored = sandbox.client("s3").get_object(
        Bucket=BUCKET, Key="bedrock-tune/my-run/data/train.jsonl"
    )
    assert stored["Body"].read() == LINE * 20
    assert main(["upload", str(prepared), "--json"]) == 0
    assert all(f["skipped"] for f in json.loads(capsys.readouterr().out)["files"])
    prefixes = [r for r in Registry().resources() if r.kind == "s3-prefix"]
    assert [r.identifier for r in prefixes] == [f"s3://{BUCKET}/bedrock-tune/my-run/"]


def test_bad_input_is_refused_with_the_rule(
    sandbox: AwsContext, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["infra", "plan", "--bucket", "Not_A_Bucket"]) == 2
    assert "not a valid S3 bucket name" in capsys.readouterr().err
    (tmp_path / "train.jsonl").write_bytes(LINE)
    assert main(["upload", str(tmp_path), "--run", "r1"]) == 2
    err = capsys.readouterr().err
    assert "does not exist" in err and "infra apply" in err
    assert main(["upload", str(tmp_path), "--run", "r=1"]) == 2
    assert "not an S3 URI CreateModelCustomizationJob accepts" in capsys.readouterr().err


def test_a_bucket_in_another_region_stops_apply(
    sandbox: AwsContext, capsys: pytest.CaptureFixture[str]
) -> None:
    sandbox.client("s3", region="us-west-2").create_bucket(
        Bucket="west-only", CreateBucketConfiguration={"LocationConstraint": "us-west-2"}
    )
    assert main(["infra", "apply", "--bucket", "west-only"]) == 1
    err = capsys.readouterr().err
    assert "is in us-west-2, but the job runs in us-east-1" in err
    assert sandbox.client("iam").list_roles()["Roles"] == []


def test_infra_and_upload_record_the_run_they_name_and_refuse_a_bad_one(
    sandbox: AwsContext, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["infra", "plan", "--run", "r1"]) == 0  # a plan records nothing
    assert Registry().runs() == []
    assert "[create]" in capsys.readouterr().out
    for _ in range(2):  # applied again: the same run
        assert main(["infra", "apply", "--run", "r1", "--json"]) == 0
        assert json.loads(capsys.readouterr().out)["run_id"] == "r1"
    [record] = Registry().runs()
    assert (record.id, record.run.bucket, record.run.s3_prefix) == ("r1", BUCKET, "bedrock-tune")
    assert record.run.role_arn == "arn:aws:iam::123456789012:role/bedrock-tune-us-east-1"
    assert {r.run_id for r in Registry().resources()} == {"r1"}

    prepared = tmp_path / "my_data"
    prepared.mkdir()
    (prepared / "train.jsonl").write_bytes(LINE * 2)
    assert main(["upload", str(prepared), "--run", "a_b"]) == 2  # S3 takes it, a tag would not
    assert "run id 'a_b' is not 1-64 letters, digits and '-'" in capsys.readouterr().err
    Registry().save_run("west", Run(run_id="west", target="aws", region="us-west-2"))
    assert main(["upload", str(prepared), "--run", "west"]) == 2
    err = capsys.readouterr().err
    assert "Run west works in us-west-2" in err and "Traceback" not in err
    assert sorted(r.kind for r in Registry().resources()) == ["iam-role", "s3-bucket"]

    assert main(["upload", str(prepared), "--json"]) == 0  # a new run, named from the folder
    assert json.loads(capsys.readouterr().out)["run_id"] == "my-data"
    made = Registry().get_run("my-data")
    assert made is not None and made.run.training_uri is not None
    assert made.run.bucket == BUCKET and made.run.target == "sandbox"
