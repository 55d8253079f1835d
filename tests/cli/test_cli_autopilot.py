"""`bedrock-tune autopilot models|launch|watch|stop` against a sandbox reached through
AWS_ENDPOINT_URL: the --dry-run request as botocore validates it, a launch recorded as a
sagemaker-autopilot run before the call and re-attached when repeated, watched to its best
candidate (exit 0), a CSV without the target column failing (exit 1), bad input refused
(exit 2, no traceback)."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

import pytest

from core.registry import Registry
from core.sandbox.server import SANDBOX_ACCOUNT_ID, Sandbox
from tests.api_model import assert_valid
from tests.conftest import DIALOGSUM, needs_shared
from tests.fakes import Clock, context_for
from tui.cli.main import main

ROLE = f"arn:aws:iam::{SANDBOX_ACCOUNT_ID}:role/bedrock-tune-sagemaker-us-east-1"
DATA = "s3://bt-ap/bedrock-tune/r1"
LAUNCH = ["autopilot", "launch", "--train", f"{DATA}/data/train.csv", "--role", ROLE]


@pytest.fixture
def world(exported_sandbox: Sandbox, clock: Clock, monkeypatch: pytest.MonkeyPatch) -> Sandbox:
    s3 = context_for(exported_sandbox).client("s3")
    s3.create_bucket(Bucket="bt-ap")
    s3.put_object(Bucket="bt-ap", Key="bedrock-tune/r1/data/train.csv", Body=b"input,output\nq,a\n")
    s3.put_object(
        Bucket="bt-ap", Key="bedrock-tune/r1/data/summary.csv", Body=b"dialogue,summary\nq,a\n"
    )
    monkeypatch.setattr("tui.cli.autopilot.sleep", clock.sleep)
    return exported_sandbox


def test_models_say_the_feature_is_legacy(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["autopilot", "models", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert "legacy" in data["feature"] and len(data["models"]) == 18
    assert {m["lifecycle"] for m in data["models"]} == {"legacy"}
    assert main(["autopilot", "models"]) == 0
    assert "Llama2-7B" in capsys.readouterr().out


def test_dry_run_prints_a_valid_request_and_records_nothing(
    world: Sandbox, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = [*LAUNCH, "--base", "Llama2-7B", "--accept-eula", "--hp", "epochCount=3"]
    assert main([*argv, "--name", "bt-ap-dry", "--dry-run", "--json"]) == 0
    data: dict[str, Any] = json.loads(capsys.readouterr().out)
    assert data["operation"] == "CreateAutoMLJobV2"
    request = data["request"]
    assert_valid("sagemaker", "CreateAutoMLJobV2", request)
    config = request["AutoMLProblemTypeConfig"]["TextGenerationJobConfig"]
    assert config["BaseModelName"] == "Llama2-7B"
    assert config["TextGenerationHyperParameters"] == {"epochCount": "3"}
    assert request["OutputDataConfig"]["S3OutputPath"] == f"{DATA}/output/"
    assert Registry().runs() == []


@pytest.mark.parametrize(
    ("extra", "fragment"),
    [
        (["--base", "Llama3-8B"], "does not offer the base model 'Llama3-8B'"),
        (["--base", "Llama2-7B"], "--accept-eula"),
        (["--hp", "batchSize=128"], "batchSize=128 is out of range: give a value from 1 to 64"),
        (["--hp", "epochCount"], "is not NAME=VALUE"),
    ],
)
def test_bad_input_is_refused_with_exit_2(
    world: Sandbox, capsys: pytest.CaptureFixture[str], extra: list[str], fragment: str
) -> None:
    assert main([*LAUNCH, *extra, "--dry-run"]) == 2
    err = capsys.readouterr().err
    assert fragment in err and "Traceback" not in err
    assert Registry().runs() == []


def test_a_completion_criterion_below_a_second_is_refused_by_the_parser(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with pytest.raises(SystemExit) as exited:
        main([*LAUNCH, "--max-runtime", "0", "--dry-run"])
    assert exited.value.code == 2
    assert "--max-runtime: 0 is out of range" in capsys.readouterr().err


def test_launch_watch_to_the_best_candidate(
    world: Sandbox, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = [*LAUNCH, "--name", "bt-ap-sum", "--run-id", "r1", "--json"]
    assert main(argv) == 0
    launched = json.loads(capsys.readouterr().out)
    assert launched["reattached"] is False
    assert launched["estimate_usd"] > 0 and launched["ceiling_usd"] > launched["estimate_usd"]
    saved = Registry().get_run("r1")
    assert saved is not None and saved.route.value == "sagemaker-autopilot"
    assert saved.run.job_name == "bt-ap-sum" and saved.run.job_arn == launched["job_arn"]
    assert saved.run.target is not None  # placed: where it works is recorded
    assert main(argv) == 0  # repeated: the same job, not a second one
    assert json.loads(capsys.readouterr().out)["reattached"] is True
    tags = context_for(world).client("sagemaker").list_tags(ResourceArn=launched["job_arn"])
    assert {t["Key"]: t["Value"] for t in tags["Tags"]}["bedrock-tune:run"] == "r1"
    assert main(["autopilot", "watch", "bt-ap-sum", "--json"]) == 0
    events = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    end = events[-1]
    assert end["timeline"] == ["Starting", "TrainingModels", "Completed"]
    assert end["best_candidate"]["metrics"]["Rouge1"] > 0
    assert end["best_candidate"]["containers"][0]["model_data_url"].startswith(f"{DATA}/output/")
    saved = Registry().get_run("r1")
    assert saved is not None and saved.run.job_status == "Completed"


def test_a_name_taken_by_another_run_is_left_alone(
    world: Sandbox, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main([*LAUNCH, "--name", "bt-ap-taken", "--run-id", "r1", "--json"]) == 0
    capsys.readouterr()
    assert main([*LAUNCH, "--name", "bt-ap-taken", "--run-id", "r2"]) == 2
    assert "taken by bedrock-tune run r1" in capsys.readouterr().err


def test_a_csv_without_the_target_column_fails_the_watch(
    world: Sandbox, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = ["autopilot", "launch", "--train", f"{DATA}/data/summary.csv", "--role", ROLE]
    assert main([*bad, "--name", "bt-ap-bad"]) == 0
    capsys.readouterr()
    assert main(["autopilot", "watch", "bt-ap-bad"]) == 1
    out = capsys.readouterr().out
    assert "bt-ap-bad: Failed" in out and "no 'input' column" in out


def test_a_stopped_job_ends_stopped(world: Sandbox, capsys: pytest.CaptureFixture[str]) -> None:
    assert main([*LAUNCH, "--name", "bt-ap-stop"]) == 0
    capsys.readouterr()
    assert main(["autopilot", "stop", "bt-ap-stop"]) == 0
    assert "Stopping" in capsys.readouterr().out
    assert main(["autopilot", "watch", "bt-ap-stop"]) == 1
    assert "bt-ap-stop: Stopped" in capsys.readouterr().out
    assert main(["autopilot", "stop", "bt-ap-stop"]) == 2  # only a running job can be stopped


@needs_shared()
def test_dialogsum_prepared_to_csv_to_a_completed_job(
    world: Sandbox, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    prepared = tmp_path / "prepared"
    argv = ["prepare", str(DIALOGSUM / "dev.jsonl"), "--template", "preset:dialogue-summary"]
    argv += ["--model", "anthropic.claude-3-haiku-20240307-v1:0:200k", "--out", str(prepared)]
    assert main([*argv, "--train", "120", "--validation", "0", "--test", "0"]) == 0
    capsys.readouterr()
    target = f"{DATA}/data/"
    csv_argv = ["autopilot", "csv", str(prepared / "train.jsonl"), str(tmp_path / "train.csv")]
    assert main([*csv_argv, "--upload", target, "--json"]) == 0
    made = json.loads(capsys.readouterr().out)
    assert made["rows"] == 120 and made["uploaded"] == f"{target}train.csv"
    assert "at least 1,000 rows" in made["notes"][0]
    rows = list(csv.reader(io.StringIO((tmp_path / "train.csv").read_text())))
    assert rows[0] == ["input", "output"] and len(rows) == 121
    assert "#Person1#" in rows[1][0] and rows[1][1]  # the dialogue in, its summary out
    assert main([*LAUNCH, "--name", "bt-ap-dialogsum"]) == 0
    capsys.readouterr()
    assert main(["autopilot", "watch", "bt-ap-dialogsum"]) == 0
    out = capsys.readouterr().out
    assert "bt-ap-dialogsum: Completed" in out and "ROUGE-1" in out


def test_too_many_rows_for_the_model_exit_1(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = tmp_path / "train.jsonl"
    line = json.dumps({"prompt": "q", "completion": "a"})
    source.write_text("\n".join([line] * 1_001) + "\n")
    argv = ["autopilot", "csv", str(source), str(tmp_path / "t.csv"), "--base", "Falcon7B"]
    assert main(argv) == 1
    assert "over Falcon7B's limit of 1,000" in capsys.readouterr().out
