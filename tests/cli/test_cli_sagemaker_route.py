"""Route sagemaker-import through the CLI alone, in both training modes, in the sandbox: a
text-to-SQL dataset is prepared with the text-to-SQL preset and validated, the infrastructure is
set up and the files uploaded, SageMaker trains (`sagemaker launch`, `sagemaker watch`), the
job's output is imported (`import launch`, `import watch`) into the same run, the imported model
answers `chat` and `evaluate`, and `teardown --yes` leaves nothing. Every AWS request the
commands send is checked against botocore's model of the API, string patterns included.

A second test tears a run down while its training job still runs: the job is stopped and
nothing billable is left.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from core.registry import Registry
from core.run import Route
from core.sagemaker.kinds import TRAINING_JOB
from core.sandbox.server import Sandbox
from core.sandbox.training import STOP_SECONDS
from tests.api_model import assert_valid
from tests.fakes import Clock, context_for, export_sandbox, hook_aws_calls
from tui.cli.main import main

BASE = "meta-textgeneration-llama-3-8b"
TABLES = (
    ("head", "CREATE TABLE head (age INTEGER, name VARCHAR, born_state VARCHAR)"),
    ("department", "CREATE TABLE department (name VARCHAR, budget INTEGER, ranking INTEGER)"),
    ("farm", "CREATE TABLE farm (farm_id INTEGER, cows INTEGER, total_horses INTEGER)"),
)


IAM_PREFIX = {"bedrock-runtime": "bedrock"}
ALIASES = {"Converse": "InvokeModel", "ConverseStream": "InvokeModelWithResponseStream"}
"""Operations authorized by another action (the README says so)."""


def readme_policy_actions() -> set[str]:
    """Every action the README's policy for your own identity allows."""
    readme = (Path(__file__).parents[2] / "README.md").read_text()
    section = readme.split("## The permissions your own identity needs", 1)[1]
    policy = json.loads(section.split("```json", 1)[1].split("```", 1)[0])
    actions: set[str] = set()
    for statement in policy["Statement"]:
        found = statement["Action"]
        actions.update([found] if isinstance(found, str) else found)
    return actions


def sql_dataset(path: Path, count: int = 60) -> Path:
    """`count` distinct sql-create-context style records (context, question, answer)."""
    lines = []
    for n in range(count):
        table, schema = TABLES[n % len(TABLES)]
        question = f"How many rows of {table} have a value above {n}?"
        answer = f"SELECT COUNT(*) FROM {table} WHERE rowid > {n}"
        lines.append(json.dumps({"context": schema, "question": question, "answer": answer}))
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.fixture
def world(
    clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[Sandbox, list[tuple[str, str]]]]:
    """A sandbox reached through the environment, on `clock` (the commands' sleeps move it),
    with every request the commands send checked against the API model (and listed)."""
    sent: list[tuple[str, str]] = []

    def check(params: dict[str, Any], model: Any, **_: Any) -> None:
        service = model.service_model.service_name
        assert_valid(service, model.name, params)
        sent.append((service, model.name))

    with Sandbox(training_seconds=60, import_seconds=40, job_seconds=10, clock=clock) as sandbox:
        export_sandbox(sandbox, monkeypatch)
        for module in ("sagemaker", "imports", "teardown"):
            monkeypatch.setattr(f"tui.cli.{module}.sleep", clock.sleep)
        monkeypatch.setattr("tui.cli.teardown.monotonic", clock)
        hook_aws_calls(monkeypatch, "before-parameter-build", check)
        yield sandbox, sent


def run_json(argv: list[str], capsys: pytest.CaptureFixture[str]) -> Any:
    code = main(argv)
    captured = capsys.readouterr()
    assert code == 0, captured.err
    return json.loads(captured.out)


def prepared_and_uploaded(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> dict[str, Any]:
    """prepare, validate, infra apply --for sagemaker, upload: the run as `runs --json` says."""
    source = sql_dataset(tmp_path / "sql.jsonl")
    prepared = tmp_path / "prepared"
    argv = ["prepare", str(source), "--template", "preset:text-to-sql", "--model", BASE]
    argv += ["--out", str(prepared), "--train", "40", "--validation", "8", "--test", "8"]
    assert main(argv) == 0, capsys.readouterr().err
    first = json.loads((prepared / "train.jsonl").read_text().splitlines()[0])
    assert "You write SQL" in json.dumps(first)  # the walkthrough's prompt
    capsys.readouterr()
    assert main(["validate", str(prepared / "train.jsonl"), "--model", BASE]) == 0
    assert "Valid for Meta Llama 3 8B" in capsys.readouterr().out
    infra = run_json(["infra", "apply", "--for", "sagemaker", "--json"], capsys)
    assert infra["role_name"] == "bedrock-tune-sagemaker-us-east-1" and infra["verified"]
    run_id = str(infra["run_id"])
    uploaded = run_json(["upload", str(prepared), "--run", run_id, "--json"], capsys)
    assert uploaded["run_id"] == run_id
    saved = Registry().get_run(run_id)
    assert saved is not None and saved.run.training_uri and saved.run.role_arn
    return {"run_id": run_id, "train": saved.run.training_uri, "test": prepared / "test.jsonl"}


@pytest.mark.parametrize("mode", ["serverless", "instance"])
def test_train_import_chat_evaluate_and_tear_down(
    world: tuple[Sandbox, list[tuple[str, str]]],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    mode: str,
) -> None:
    sandbox, sent = world
    run = prepared_and_uploaded(tmp_path, capsys)
    run_id = run["run_id"]

    # ------------------------------------------------------------------ train on SageMaker
    # The role and the output folder are the run's (infra apply, upload): not repeated here.
    argv = ["sagemaker", "launch", "--base", BASE, "--train", run["train"], "--run-id", run_id]
    argv += ["--mode", mode, "--json"]
    argv += ["--accept-eula"] if mode == "serverless" else ["--spot"]
    dry = run_json([*argv, "--dry-run"], capsys)
    assert dry["operation"] == "CreateTrainingJob"
    assert_valid("sagemaker", "CreateTrainingJob", dry["request"])
    launched = run_json(argv, capsys)
    assert launched["mode"] == mode and launched["run_id"] == run_id
    job = str(launched["job_name"])
    assert [r.identifier for r in Registry().resources() if r.kind == TRAINING_JOB] == [job]
    assert main(["sagemaker", "watch", job, "--json"]) == 0
    events = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [e for e in events if e["event"] == "loss"]
    model = str(events[-1]["model"])
    assert model.endswith(f"/{job}/output/model/")

    # ------------------------------------------------------------------ import the output
    infra = run_json(["infra", "apply", "--for", "import", "--run", run_id, "--json"], capsys)
    import_role = str(infra["role_arn"])
    assert import_role.endswith("role/bedrock-tune-import-us-east-1")
    assert run_json(["import", "check", model, "--json"], capsys)["ok"] is True
    argv = ["import", "launch", model, "--name", "bt-sql", "--role", import_role]
    imported = run_json([*argv, "--run-id", run_id, "--json"], capsys)
    assert imported["run_id"] == run_id and imported["model_uri"] == model
    watched = run_json(["import", "watch", str(imported["import_job_name"]), "--json"], capsys)
    assert watched["status"] == "Completed"
    arn = str(watched["imported_model_arn"])
    # One run holds both halves: trained on SageMaker, imported with its own role.
    saved = Registry().get_run(run_id)
    assert saved is not None and saved.route is Route.SAGEMAKER_IMPORT
    assert saved.run.job_name == job and saved.run.custom_model_arn == arn
    assert saved.run.role_arn and saved.run.role_arn.endswith("bedrock-tune-sagemaker-us-east-1")
    assert saved.run.import_role_arn == import_role

    # ------------------------------------------------------------------ chat, evaluate
    assert main(["chat", arn, "--prompt", "How many heads are older than 56?"]) == 0
    assert "[sandbox: imported model bt-sql" in capsys.readouterr().out
    report = run_json(["evaluate", "--run", run_id, "-n", "4", "--json"], capsys)
    assert report["tuned_model"] == arn and report["records"] == 4
    assert report["tuned"]["answered"] == 4, report["rows"]
    serving = report["compared"]["contenders"][0]["serving"]["note"]
    assert serving.startswith("imported model: billed per custom model unit")
    by_model = run_json(
        ["evaluate", "--model", arn, "--test", str(run["test"]), "-n", "2", "--json"], capsys
    )
    assert by_model["tuned_model"] == arn and by_model["tuned"]["answered"] == 2

    # ------------------------------------------------------------------ teardown
    assert main(["teardown", "--yes"]) == 0, capsys.readouterr().err
    capsys.readouterr()
    context = context_for(sandbox)
    assert context.client("bedrock").list_imported_models()["modelSummaries"] == []
    assert context.client("s3").list_buckets()["Buckets"] == []
    assert context.client("iam").list_roles()["Roles"] == []  # both roles
    assert Registry().resources() == []
    assert main(["teardown", "--yes"]) == 0
    assert "Nothing bedrock-tune made is left" in capsys.readouterr().out
    operations = {operation for _, operation in sent}
    for operation in ("CreateTrainingJob", "DescribeTrainingJob", "GetLogEvents"):
        assert operation in operations
    for operation in ("CreateModelImportJob", "GetModelImportJob", "GetImportedModel"):
        assert operation in operations
    assert "DeleteImportedModel" in operations
    # The README's policy for your own identity allows every Bedrock, SageMaker and logs call.
    allowed = readme_policy_actions()
    for service, operation in sent:
        if service in ("bedrock", "bedrock-runtime", "sagemaker", "logs"):
            action = f"{IAM_PREFIX.get(service, service)}:{ALIASES.get(operation, operation)}"
            assert action in allowed, f"README's policy lacks {action}"


def test_teardown_stops_a_training_job_still_running_and_leaves_nothing_billable(
    world: tuple[Sandbox, list[tuple[str, str]]],
    tmp_path: Path,
    clock: Clock,
    capsys: pytest.CaptureFixture[str],
) -> None:
    sandbox, sent = world
    run = prepared_and_uploaded(tmp_path, capsys)
    argv = ["sagemaker", "launch", "--base", BASE, "--train", run["train"]]
    argv += ["--run-id", run["run_id"], "--mode", "instance", "--json"]
    job = str(run_json(argv, capsys)["job_name"])
    clock.t += 20  # training
    listing = run_json(["teardown", "--json"], capsys)
    items = {(i["kind"], i["identifier"]): i for i in listing["items"]}
    stop = items[(TRAINING_JOB, job)]
    assert stop["action"] == "stop" and stop["cost_class"] == "hourly"
    stopped_at = clock.t
    assert main(["teardown", "--yes"]) == 0, capsys.readouterr().err
    out = capsys.readouterr().out
    # It waited (its sleeps moved the sandbox's clock) until SageMaker had Stopped the job, which
    # saves its model into the run folder as it stops, and said so while it waited...
    assert (
        f"waiting for training job {job} to stop (SageMaker may write its model for up to "
        "2 minutes): Stopping, 0 s so far"
    ) in out
    assert clock.t - stopped_at >= STOP_SECONDS
    context = context_for(sandbox)
    sagemaker = context.client("sagemaker")
    assert sagemaker.describe_training_job(TrainingJobName=job)["TrainingJobStatus"] == "Stopped"
    assert ("sagemaker", "StopTrainingJob") in sent
    # ...then emptied the folder (the saved model with it) and deleted the bucket: in one run.
    assert context.client("s3").list_buckets()["Buckets"] == []
    assert context.client("iam").list_roles()["Roles"] == []
    assert "kept:" not in out and "Done: 1 stopped, 3 deleted." in out
    assert main(["teardown", "--yes"]) == 0
    assert "Nothing bedrock-tune made is left" in capsys.readouterr().out
