"""`bedrock-tune jumpstart models|launch|watch` against a sandbox reached through
AWS_ENDPOINT_URL: the Public Hub's fine-tunable models, the --dry-run request as botocore
validates it, the EULA refused unless accepted, a launch recorded as a sagemaker-jumpstart run
and watched to its model; the training faults as a user meets them (no quota: exit 2 saying
which quota; no capacity: exit 1 saying what to do; spot: resumed and billed less)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from core.registry import Registry
from core.sandbox.server import SANDBOX_ACCOUNT_ID, Sandbox
from tests.api_model import assert_valid
from tests.fakes import Clock, context_for
from tui.cli.main import main

ROLE = f"arn:aws:iam::{SANDBOX_ACCOUNT_ID}:role/bedrock-tune-sagemaker-us-east-1"
DATA = "s3://bt-js/bedrock-tune/r1"
LLAMA = "meta-textgeneration-llama-2-7b"
LAUNCH = ["jumpstart", "launch", "--model-id", LLAMA, "--train", f"{DATA}/data/", "--role", ROLE]


@pytest.fixture
def world(exported_sandbox: Sandbox, clock: Clock, monkeypatch: pytest.MonkeyPatch) -> Sandbox:
    s3 = context_for(exported_sandbox).client("s3")
    s3.create_bucket(Bucket="bt-js")
    s3.put_object(Bucket="bt-js", Key="bedrock-tune/r1/data/dolly.jsonl", Body=b"{}\n")
    monkeypatch.setattr("tui.cli.sagemaker.sleep", clock.sleep)
    return exported_sandbox


def test_models_lists_the_fine_tunable_text_models(
    world: Sandbox, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["jumpstart", "models", "--json"]) == 0
    ids = [m["model_id"] for m in json.loads(capsys.readouterr().out)["models"]]
    assert LLAMA in ids and "huggingface-sentencesimilarity-all-minilm-l6-v2" not in ids


def test_dry_run_prints_a_valid_request_with_the_eula_accepted(
    world: Sandbox, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = [*LAUNCH, "--instance", "ml.g5.12xlarge", "--accept-eula", "--hp", "epoch=1"]
    assert main([*argv, "--hp", "instruction_tuned=True", "--dry-run", "--json"]) == 0
    data: dict[str, Any] = json.loads(capsys.readouterr().out)
    assert data["operation"] == "CreateTrainingJob"
    request = data["request"]
    assert_valid("sagemaker", "CreateTrainingJob", request)
    model = next(c for c in request["InputDataConfig"] if c["ChannelName"] == "model")
    assert model["DataSource"]["S3DataSource"]["ModelAccessConfig"] == {"AcceptEula": True}
    assert request["HyperParameters"]["instruction_tuned"] == "True"
    assert request["ResourceConfig"]["InstanceType"] == "ml.g5.12xlarge"
    assert Registry().runs() == []


@pytest.mark.parametrize(
    ("extra", "fragment"),
    [
        ([], "accept it explicitly (--accept-eula"),
        (["--accept-eula", "--hp", "epoch=0"], "epoch=0 is out of range"),
        (["--accept-eula", "--instance", "ml.t3.medium"], "does not train on ml.t3.medium"),
    ],
)
def test_bad_input_is_refused_with_exit_2(
    world: Sandbox, capsys: pytest.CaptureFixture[str], extra: list[str], fragment: str
) -> None:
    assert main([*LAUNCH, *extra]) == 2
    err = capsys.readouterr().err
    assert fragment in err and "Traceback" not in err
    assert Registry().runs() == []
    assert context_for(world).client("sagemaker").list_training_jobs()["TrainingJobSummaries"] == []


def test_an_unknown_model_id_names_the_listing_command(
    world: Sandbox, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["jumpstart", "launch", "--model-id", "meta-nope", "--train", f"{DATA}/data/"]
    assert main([*argv, "--role", ROLE, "--accept-eula", "--dry-run"]) == 2
    assert "bedrock-tune jumpstart models" in capsys.readouterr().err


def test_launch_and_watch_a_jumpstart_job(
    world: Sandbox, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = [*LAUNCH, "--accept-eula", "--name", "bt-llama2-dolly", "--run-id", "r1", "--json"]
    assert main(argv) == 0
    launched = json.loads(capsys.readouterr().out)
    assert launched["instance"] == "ml.g5.12xlarge" and launched["per_hour_usd"] > 0
    saved = Registry().get_run("r1")
    assert saved is not None and saved.route.value == "sagemaker-jumpstart"
    assert saved.run.base_model_id == LLAMA and saved.run.job_arn == launched["job_arn"]
    assert main(argv) == 0
    assert json.loads(capsys.readouterr().out)["reattached"] is True
    assert main(["jumpstart", "watch", "bt-llama2-dolly", "--json"]) == 0
    end = [json.loads(line) for line in capsys.readouterr().out.splitlines()][-1]
    assert end["status"] == "Completed" and end["model"].startswith(f"{DATA}/output/")


def test_no_quota_is_refused_naming_the_quota(
    world: Sandbox, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = [*LAUNCH, "--accept-eula", "--instance", "ml.p4d.24xlarge", "--run-id", "r9"]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert "'ml.p4d.24xlarge for training job usage' is 0" in err
    assert "Service Quotas" in err and "Traceback" not in err


def test_no_capacity_fails_the_watch_with_what_to_do(
    world: Sandbox, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = [*LAUNCH, "--accept-eula", "--instance", "ml.p5.48xlarge", "--name", "bt-p5"]
    assert main(argv) == 0
    capsys.readouterr()
    assert main(["jumpstart", "watch", "bt-p5"]) == 1
    out = capsys.readouterr().out
    assert "CapacityError" in out and "another instance type" in out


def test_a_spot_job_resumes_from_its_checkpoint(
    world: Sandbox, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["sagemaker", "launch", "--base", "meta-textgeneration-llama-3-8b", "--mode"]
    argv += ["instance", "--spot", "--train", f"{DATA}/data/dolly.jsonl"]
    argv += ["--output", f"{DATA}/output/", "--role", ROLE, "--name", "bt-spot"]
    assert main(argv) == 0
    capsys.readouterr()
    assert main(["sagemaker", "watch", "bt-spot"]) == 0
    out = capsys.readouterr().out
    assert "InProgress: Restarting (Restarting training from the checkpoint" in out
    assert "resumed from the checkpoint" in out and "interrupted 1x" in out
    assert "bt-spot: Completed" in out
