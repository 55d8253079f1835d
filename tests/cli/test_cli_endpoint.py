"""`bedrock-tune endpoint deploy|delete`, `chat endpoint:NAME` and `evaluate --model
endpoint:NAME` against a sandbox reached through AWS_ENDPOINT_URL: a training job's model served
once (a rerun re-attaches), the hourly price confirmed (--yes, or exit 2 without a terminal),
InService, asked, evaluated, deleted; an endpoint that fails to start and an instance type
without quota, each a clear error."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from core.registry import Registry
from core.sagemaker import kinds
from core.sagemaker.training import TrainingRequest
from core.sandbox.server import SANDBOX_ACCOUNT_ID, Sandbox
from tests.fakes import Clock, context_for
from tui.cli.main import main

ROLE = f"arn:aws:iam::{SANDBOX_ACCOUNT_ID}:role/bedrock-tune-sagemaker-us-east-1"
DEPLOY = ["endpoint", "deploy", "--training-job", "bt-dolly", "--instance", "ml.g5.2xlarge"]


@pytest.fixture
def world(exported_sandbox: Sandbox, clock: Clock, monkeypatch: pytest.MonkeyPatch) -> Sandbox:
    """A JumpStart-like training job that has completed in the sandbox."""
    context = context_for(exported_sandbox)
    context.client("s3").create_bucket(Bucket="bt-out")
    request = TrainingRequest(
        job_name="bt-dolly",
        role_arn=ROLE,
        base_model="meta-textgeneration-llama-3-8b",
        training_uri="s3://bt-out/r1/data/train.jsonl",
        output_uri="s3://bt-out/r1/output/",
        region="us-east-1",
        mode="instance",
        script_uri="s3://bt-out/r1/output/code/sourcedir.tar.gz",
        image_uri="sandbox/training",
    )
    context.client("sagemaker").create_training_job(**request.to_api())
    clock.t += 120
    monkeypatch.setattr("tui.cli.endpoint.sleep", clock.sleep)
    return exported_sandbox


def test_deploy_chat_evaluate_and_delete(
    world: Sandbox, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    assert main([*DEPLOY, "--yes", "--json"]) == 0
    out = capsys.readouterr()
    deployed = json.loads(out.out)
    assert deployed["status"] == "InService" and deployed["endpoint"] == "bt-dolly"
    assert deployed["per_hour"] == pytest.approx(1.515) and deployed["reattached"] is False
    assert "bt-dolly: Creating" in out.err and "bt-dolly: InService" in out.err
    saved = Registry().get_run(deployed["run_id"])
    assert saved is not None and saved.route.value == "sagemaker-jumpstart"
    assert saved.run.serving_status == "InService" and saved.status.value == "serving"
    assert main([*DEPLOY, "--yes", "--json"]) == 0  # again: the same endpoint, nothing new
    assert json.loads(capsys.readouterr().out)["reattached"] is True
    assert len(context_for(world).client("sagemaker").list_endpoints()["Endpoints"]) == 1

    assert main(["chat", "endpoint:bt-dolly", "--prompt", "Summarize the dialogue."]) == 0
    answer = capsys.readouterr().out
    assert answer.startswith("model: [sandbox: SageMaker endpoint bt-dolly]")
    assert "Summarize the dialogue." in answer
    assert "(, " not in answer and " ms)" in answer  # no token counts from an endpoint

    test = tmp_path / "test.jsonl"
    records = [{"prompt": f"Question {i}?", "completion": f"Answer {i}"} for i in range(2)]
    test.write_text("".join(json.dumps(r) + "\n" for r in records))
    assert main(["evaluate", "--model", "endpoint:bt-dolly", "--test", str(test), "--json"]) == 0
    evaluated = capsys.readouterr()
    report = json.loads(evaluated.out)
    assert report["tuned"]["answered"] == 2
    assert "SageMaker endpoint: billed per instance-hour" in evaluated.err  # not per token

    assert main(["endpoint", "delete", "bt-dolly"]) == 0
    assert "Deleted the endpoint bt-dolly" in capsys.readouterr().out
    assert [r for r in Registry().resources() if r.kind == kinds.ENDPOINT] == []
    assert context_for(world).client("sagemaker").list_endpoints()["Endpoints"] == []


def test_without_yes_and_without_a_terminal_nothing_is_created(
    world: Sandbox, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(DEPLOY) == 2
    err = capsys.readouterr().err
    assert "$1.515 per hour" in err and "--yes" in err and "Traceback" not in err
    assert Registry().runs() == [] and Registry().resources() == []
    assert context_for(world).client("sagemaker").list_models()["Models"] == []


def test_in_a_terminal_the_price_is_confirmed(
    world: Sandbox, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    asked: list[str] = []

    def decline(text: str) -> bool:
        asked.append(text)
        return False

    monkeypatch.setattr("tui.cli.endpoint.in_a_terminal", lambda: True)
    monkeypatch.setattr("tui.cli.endpoint._confirmed", decline)
    assert main(DEPLOY) == 1
    assert "$1.515 per hour" in asked[0]
    assert "Nothing was created" in capsys.readouterr().err
    assert Registry().resources() == []


def test_an_endpoint_that_fails_to_start_says_why(
    world: Sandbox, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = [*DEPLOY[:-1], "ml.p4d.24xlarge", "--yes"]
    assert main(argv) == 1
    out = capsys.readouterr()
    assert "Unable to provision requested ML compute capacity" in out.err
    assert "endpoint delete bt-dolly" in out.err and "Traceback" not in out.err


def test_an_instance_type_without_quota_says_which_quota(
    world: Sandbox, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main([*DEPLOY[:-1], "ml.p5.48xlarge", "--yes"]) == 2
    err = capsys.readouterr().err
    assert "'ml.p5.48xlarge for endpoint usage' is 0 instances" in err
    assert "Service Quotas" in err and "Traceback" not in err
    assert [r for r in Registry().resources() if r.billable] == []


def test_deploying_a_job_that_does_not_exist_is_a_clear_error(
    world: Sandbox, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["endpoint", "deploy", "--autopilot", "nope", "--instance", "ml.g5.2xlarge", "--yes"]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err and "nope" in err
    assert Registry().resources() == []
