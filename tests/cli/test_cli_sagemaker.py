"""`bedrock-tune sagemaker launch|watch|stop` against a sandbox reached through AWS_ENDPOINT_URL:
the request of both modes printed by --dry-run (as botocore validates it), a launch recorded as a
sagemaker-import run and re-attached when repeated, watched to a model the import check passes."""

from __future__ import annotations

import json
from typing import Any

import pytest
from botocore.validate import ParamValidator

from core.registry import Registry
from core.sandbox.server import SANDBOX_ACCOUNT_ID, Sandbox
from tests.api_model import assert_valid, operation
from tests.fakes import Clock, context_for
from tui.cli.main import main

ROLE = f"arn:aws:iam::{SANDBOX_ACCOUNT_ID}:role/bedrock-tune-sagemaker-us-east-1"
DATA = "s3://bt-train/bedrock-tune/r1"
BASE = ["sagemaker", "launch", "--base", "meta-textgeneration-llama-3-8b"]
BASE += ["--train", f"{DATA}/data/train.jsonl", "--output", f"{DATA}/output/", "--role", ROLE]


@pytest.fixture
def world(exported_sandbox: Sandbox, clock: Clock, monkeypatch: pytest.MonkeyPatch) -> Sandbox:
    s3 = context_for(exported_sandbox).client("s3")
    s3.create_bucket(Bucket="bt-train")
    s3.put_object(Bucket="bt-train", Key="bedrock-tune/r1/data/train.jsonl", Body=b"{}\n")
    monkeypatch.setattr("tui.cli.sagemaker.sleep", clock.sleep)
    return exported_sandbox


def validated(capsys: pytest.CaptureFixture[str], argv: list[str]) -> dict[str, Any]:
    assert main(argv) == 0, capsys.readouterr().err
    data = json.loads(capsys.readouterr().out)
    assert data["operation"] == "CreateTrainingJob"
    shape = operation("sagemaker", "CreateTrainingJob").input_shape
    assert shape is not None
    report = ParamValidator().validate(data["request"], shape)
    assert not report.has_errors(), report.generate_report()
    assert_valid("sagemaker", "CreateTrainingJob", data["request"])  # the patterns too
    request: dict[str, Any] = data["request"]
    return request


def test_dry_run_prints_both_modes_requests(
    world: Sandbox, capsys: pytest.CaptureFixture[str]
) -> None:
    serverless = validated(capsys, [*BASE, "--accept-eula", "--dry-run", "--json"])
    assert serverless["ServerlessJobConfig"]["AcceptEula"] is True
    instance = validated(
        capsys, [*BASE, "--mode", "instance", "--spot", "--hp", "epochs=1", "--dry-run", "--json"]
    )
    assert instance["OutputDataConfig"]["CompressionType"] == "NONE"
    assert instance["EnableManagedSpotTraining"] is True
    assert instance["HyperParameters"]["epochs"] == "1"
    assert Registry().runs() == []  # a dry run records nothing


def test_serverless_asks_for_the_eula_explicitly(
    world: Sandbox, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main([*BASE, "--dry-run"]) == 2
    err = capsys.readouterr().err
    assert "EULA" in err and "--accept-eula" in err and "Traceback" not in err


def test_launch_watch_and_check_the_model(
    world: Sandbox, clock: Clock, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = [*BASE, "--mode", "instance", "--name", "bt-sql-qlora", "--run-id", "r1", "--json"]
    assert main(argv) == 0
    launched = json.loads(capsys.readouterr().out)
    # The sandbox's Price List rate ($7.09 per instance-hour), with its source and date.
    assert launched["reattached"] is False and launched["estimate_usd"] == pytest.approx(17.725)
    assert launched["estimate_note"].startswith("$7.09 per instance-hour on demand (Price List")
    saved = Registry().get_run("r1")
    assert saved is not None and saved.route.value == "sagemaker-import"
    assert saved.run.job_arn == launched["job_arn"]
    assert main(argv) == 0  # repeated: the same job, not a second one
    assert json.loads(capsys.readouterr().out)["reattached"] is True
    context = context_for(world)
    tags = context.client("sagemaker").list_tags(ResourceArn=launched["job_arn"])["Tags"]
    values = {t["Key"]: t["Value"] for t in tags}
    assert values["bedrock-tune:run"] == "r1"
    assert values["bedrock-tune:install"] == Registry().install_id()  # this install made it
    archive = context.client("s3").get_object(
        Bucket="bt-train", Key="bedrock-tune/r1/output/code/sourcedir.tar.gz"
    )
    assert archive["ContentLength"] > 0
    assert main(["sagemaker", "watch", "bt-sql-qlora", "--json"]) == 0
    events = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    secondary = [e["secondary_status"] for e in events if e["event"] == "status"]
    assert secondary[0] == "Starting" and secondary[-1] == "Completed"
    assert len([e for e in events if e["event"] == "loss"]) == 20
    end = events[-1]
    assert end["timeline"] == ["Starting", "Downloading", "Training", "Uploading", "Completed"]
    model = end["model"]
    assert model == f"{DATA}/output/bt-sql-qlora/output/model/"
    saved = Registry().get_run("r1")
    assert saved is not None and saved.run.job_status == "Completed"
    assert main(["import", "check", model]) == 0  # the sandbox's own output passes the check
    assert "Ready to import" in capsys.readouterr().out


def test_a_stopped_job_ends_stopped(
    world: Sandbox, clock: Clock, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main([*BASE, "--accept-eula", "--name", "bt-stop-me", "--json"]) == 0
    capsys.readouterr()
    assert main(["sagemaker", "stop", "bt-stop-me"]) == 0
    assert "Stopping" in capsys.readouterr().out
    assert main(["sagemaker", "watch", "bt-stop-me"]) == 1
    assert "bt-stop-me: Stopped" in capsys.readouterr().out
    assert main(["sagemaker", "stop", "bt-stop-me"]) == 2  # only a running job can be stopped
