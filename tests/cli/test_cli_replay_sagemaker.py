"""`bedrock-tune replay` of a sagemaker-import recipe against the sandbox: the data steps, the
SageMaker execution role, the training started once and followed, the trained model checked
and imported from where the training wrote it; a rerun trains nothing twice, also after a kill
right after the training job was created; and the recipe values this route needs, refused with
their line when wrong."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from core.data.templates import load_template, template_to_toml
from core.evaluation.store import EvaluationStore
from core.recipe import read_recipe, save_recipe
from core.registry import IMPORTED_MODEL, Registry
from core.run import EvaluationChoices, Route, Run
from core.sagemaker.kinds import TRAINING_JOB
from core.sandbox.server import SANDBOX_ACCOUNT_ID, Sandbox
from tests.cli.test_cli_sagemaker_route import sql_dataset
from tests.fakes import Clock, context_for
from tests.kills import cli_killed_at
from tui.cli.main import main

BASE = "meta-textgeneration-llama-3-8b"
REGION = "us-east-1"
STEPS = [
    "credentials",
    "model",
    "dataset",
    "template",
    "prepare",
    "validate",
    "infrastructure",
    "train",
    "watch",
    "import-check",
    "import",
]


def _recipe(folder: Path, **changes: Any) -> Path:
    """A recipe as `recipe save` writes it, of a run that trained Llama 3 8B with the QLoRA
    script on an instance and imported it (`model_source` is where that run's training wrote
    its model: the recipe leaves it out)."""
    sql_dataset(folder / "sql.jsonl")
    fields: dict[str, Any] = {
        "route": Route.SAGEMAKER_IMPORT,
        "target": "sandbox",
        "region": REGION,
        "account_id": "111122223333",
        "base_model_id": BASE,
        "source_location": "sql.jsonl",  # beside the recipe
        "template_toml": template_to_toml(load_template("preset:text-to-sql")),
        "train_size": 40,
        "validation_size": 8,
        "test_size": 8,
        "seed": 7,
        "bucket": f"bedrock-tune-111122223333-{REGION}",
        "s3_prefix": "bedrock-tune",
        "role_arn": f"arn:aws:iam::111122223333:role/bedrock-tune-sagemaker-{REGION}",
        "training_mode": "instance",
        "instance_type": "ml.g5.2xlarge",
        "spot": False,
        "hyperparameters": {"epochs": "1", "lora_r": "8"},
        "model_source": "s3://bedrock-tune-111122223333-us-east-1/bedrock-tune/r1/output/j/",
        **changes,
    }
    path = folder / "recipe.toml"
    save_recipe(Run(**fields), path, title="test")
    return path


@pytest.fixture
def fast_polls(clock: Clock, monkeypatch: pytest.MonkeyPatch) -> Clock:
    """Polls wait on the sandbox's clock: the training and the import end without waiting."""
    monkeypatch.setattr("tui.cli.replay.sleep", clock.sleep)
    return clock


def _training_jobs(sandbox: Sandbox) -> list[dict[str, Any]]:
    client = context_for(sandbox).client("sagemaker")
    names = [j["TrainingJobName"] for j in client.list_training_jobs()["TrainingJobSummaries"]]
    return [dict(client.describe_training_job(TrainingJobName=name)) for name in names]


def _imports(sandbox: Sandbox) -> list[dict[str, Any]]:
    jobs = context_for(sandbox).client("bedrock").list_model_import_jobs()
    return [dict(job) for job in jobs["modelImportJobSummaries"]]


def _summary(capsys: pytest.CaptureFixture[str]) -> tuple[dict[str, Any], str]:
    out, err = capsys.readouterr()
    return json.loads(out), err


def test_the_recipe_keeps_the_training_and_not_the_trained_models_place(tmp_path: Path) -> None:
    recipe = read_recipe(_recipe(tmp_path))
    assert "model_source" not in recipe.text
    assert 'mode = "instance"' in recipe.text and 'instance_type = "ml.g5.2xlarge"' in recipe.text
    assert recipe.recipe.route is Route.SAGEMAKER_IMPORT
    assert recipe.recipe.choices["hyperparameters"] == {"epochs": "1", "lora_r": "8"}
    assert recipe.recipe.role_name == f"bedrock-tune-sagemaker-{REGION}"


@pytest.mark.parametrize("mode", ["instance", "serverless"])
def test_a_recipe_replays_to_a_trained_and_imported_model_once(
    mode: str,
    tmp_path: Path,
    exported_sandbox: Sandbox,
    fast_polls: Clock,
    capsys: pytest.CaptureFixture[str],
) -> None:
    serverless = mode == "serverless"
    changes = {"training_mode": mode, "training_technique": "SFT", "sequence_length": "8K"}
    recipe = _recipe(tmp_path, **(changes if serverless else {}))
    args = ["replay", str(recipe), "--yes", "--json", "--poll-interval", "5"]
    assert main([*args, *(["--accept-eula"] if serverless else [])]) == 0
    summary, err = _summary(capsys)
    assert summary["route"] == "sagemaker-import" and summary["steps_done"] == STEPS

    [job] = _training_jobs(exported_sandbox)
    resources = summary["resources"]
    assert job["TrainingJobStatus"] == "Completed"
    assert job["TrainingJobName"] == resources["job_name"]
    assert job["RoleArn"] == (
        f"arn:aws:iam::{SANDBOX_ACCOUNT_ID}:role/bedrock-tune-sagemaker-{REGION}"
    )
    channels = {c["ChannelName"]: c for c in job["InputDataConfig"]}
    assert channels["train"]["DataSource"]["S3DataSource"]["S3Uri"] == resources["training_uri"]
    if serverless:
        assert "ResourceConfig" not in job or not job["ResourceConfig"].get("InstanceType")
    else:
        assert job["ResourceConfig"]["InstanceType"] == "ml.g5.2xlarge"
        assert job["HyperParameters"]["epochs"] == "1" and job["HyperParameters"]["lora_r"] == "8"
    # The import read the model where the training wrote it, with its own role.
    assert resources["model_artifacts"] == job["ModelArtifacts"]["S3ModelArtifacts"]
    assert f"/{summary['run_id']}/" in resources["model_artifacts"]
    assert resources["import_role_arn"].endswith(f":role/bedrock-tune-import-{REGION}")
    [imported] = _imports(exported_sandbox)
    assert imported["status"] == "Completed"
    assert imported["jobArn"] == resources["import_job_arn"]
    import_job = (
        context_for(exported_sandbox)
        .client("bedrock")
        .get_model_import_job(jobIdentifier=imported["jobArn"])
    )
    assert import_job["modelDataSource"]["s3DataSource"]["s3Uri"] == resources["model_artifacts"]
    assert import_job["roleArn"] == resources["import_role_arn"]
    assert "[train]   started the training job" in err and "[watch] ✔ Watch" in err
    assert err.index("[watch] ✔") < err.index("[import-check] ✔") < err.index("[import] ✔")

    saved = Registry().get_run(summary["run_id"])
    assert saved is not None and saved.run.job_status == "Completed"
    assert saved.run.custom_model_arn == resources["custom_model_arn"]
    records = {r.kind: r for r in Registry().resources()}
    assert not records[TRAINING_JOB].billable  # it ended: it bills nothing more
    assert records[IMPORTED_MODEL].identifier == resources["custom_model_arn"]

    # Again: everything is done, nothing is trained or imported a second time.
    assert main([*args, *(["--accept-eula"] if serverless else [])]) == 0
    again, _ = _summary(capsys)
    assert again["resumed"] and again["run_id"] == summary["run_id"]
    assert {"train", "watch", "import"} <= set(again["steps_already_done"])
    assert "train" not in again["steps_done"]
    assert len(_training_jobs(exported_sandbox)) == 1 and len(_imports(exported_sandbox)) == 1


def test_the_training_is_asked_for_and_stops_without_yes(
    tmp_path: Path, exported_sandbox: Sandbox, fast_polls: Clock, capsys: pytest.CaptureFixture[str]
) -> None:
    recipe = _recipe(tmp_path)
    assert main(["replay", str(recipe), "--json"]) == 2
    summary, err = _summary(capsys)
    assert summary["stopped_before"] == "train" and summary["steps_remaining"][0] == "train"
    assert "pass --yes" in err.lower()
    assert _training_jobs(exported_sandbox) == []


def test_killed_right_after_the_training_job_was_created_then_run_again_trains_once(
    tmp_path: Path, exported_sandbox: Sandbox, fast_polls: Clock, capsys: pytest.CaptureFixture[str]
) -> None:
    """A real `kill -9` of the CLI the moment CreateTrainingJob was answered, before the run
    learnt the job's ARN (`train.created`): the rerun finds the job by its name and the run's
    tag and follows it; there is one training job and one import."""
    recipe = _recipe(tmp_path)
    args = ["replay", str(recipe), "--yes", "--json", "--poll-interval", "5"]
    cli_killed_at("train.created", args, cwd=tmp_path)
    [job] = _training_jobs(exported_sandbox)
    [saved] = Registry().runs()
    assert saved.run.job_arn is None and saved.run.job_name == job["TrainingJobName"]

    assert main(args) == 0
    summary, err = _summary(capsys)
    assert summary["run_id"] == saved.id and summary["resumed"]
    assert "re-attached to the training job" in err
    assert [j["TrainingJobName"] for j in _training_jobs(exported_sandbox)] == [
        job["TrainingJobName"]
    ]
    assert summary["resources"]["job_arn"] == job["TrainingJobArn"]
    assert len(_imports(exported_sandbox)) == 1


@pytest.mark.parametrize(
    ("changes", "key", "said"),
    [
        ({"training_mode": "serverless"}, "mode", "licence (EULA) accepted"),
        ({"hyperparameters": {"epochs": "two"}}, "epochs", "`epochs` = 'two' is not a number"),
        ({"hyperparameters": {"epoch": "2"}}, "epoch", "has no hyperparameter `epoch`"),
        ({"instance_type": "g5.big"}, "instance_type", "not a SageMaker training instance"),
        ({"training_mode": None}, "[training]", "says not how SageMaker trains"),
        ({"base_model_id": "amazon.nova-micro-v1:0:128k"}, "base_model_id", "not an open-weight"),
    ],
)
def test_training_values_this_route_refuses_are_reported_with_their_line(
    changes: dict[str, Any],
    key: str,
    said: str,
    tmp_path: Path,
    exported_sandbox: Sandbox,
    fast_polls: Clock,  # a check that let the recipe through would not wait on real time
    capsys: pytest.CaptureFixture[str],
) -> None:
    recipe = _recipe(tmp_path, **changes)
    rows = recipe.read_text().splitlines()
    line = next(n for n, row in enumerate(rows, 1) if row.startswith(key))
    assert main(["replay", str(recipe), "--yes"]) == 2
    err = capsys.readouterr().err
    assert f"{recipe}, line {line}: " in err and said in err and "Traceback" not in err
    assert Registry().runs() == []  # refused at the checks: no run, nothing made
    assert _training_jobs(exported_sandbox) == []


def test_a_model_source_written_into_the_recipe_is_refused_with_its_line(
    tmp_path: Path, exported_sandbox: Sandbox, capsys: pytest.CaptureFixture[str]
) -> None:
    recipe = _recipe(tmp_path)
    text = recipe.read_text().replace("[model]\n", '[model]\nmodel_source = "s3://b/m/"\n', 1)
    recipe.write_text(text)
    line = text.splitlines().index('model_source = "s3://b/m/"') + 1
    assert main(["replay", str(recipe), "--yes"]) == 2
    err = capsys.readouterr().err
    assert f"{recipe}, line {line}: a sagemaker-import recipe imports the model it trains" in err
    assert Registry().runs() == []


def test_a_recipe_with_evaluation_evaluates_the_imported_model_once(
    tmp_path: Path, exported_sandbox: Sandbox, fast_polls: Clock, capsys: pytest.CaptureFixture[str]
) -> None:
    choices = EvaluationChoices(records=3, compare_base=False, sql=True, seed=5)
    recipe = _recipe(tmp_path, evaluation=choices)
    args = ["replay", str(recipe), "--yes", "--json", "--poll-interval", "5"]
    assert main(args) == 0
    summary, err = _summary(capsys)
    assert summary["steps_done"] == [*STEPS, "evaluate"] and "[evaluate] ✔ Evaluate" in err
    evaluation = summary["evaluation"]
    [stored] = EvaluationStore(Registry()).for_run(summary["run_id"])
    assert evaluation["id"] == stored.id and evaluation["records"] == 3
    assert evaluation["tuned_model"] == summary["resources"]["custom_model_arn"]
    assert evaluation["base_model"] is None and "sql_execution_match" in evaluation["tuned"]

    assert main(args) == 0  # again: trained, imported and evaluated once
    again, _ = _summary(capsys)
    assert {"train", "import", "evaluate"} <= set(again["steps_already_done"])
    assert len(EvaluationStore(Registry()).for_run(summary["run_id"])) == 1
    assert len(_training_jobs(exported_sandbox)) == 1
