"""A recipe saved in the app, replayed headless in a fresh HOME (a fresh state and data
folder, a fresh sandbox): what the end-to-end wizard test checks last (issue 16's acceptance)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from core.evaluation.store import EvaluationStore
from core.registry import Registry
from core.run import Run
from core.sandbox.server import Sandbox
from tests.fakes import Clock, context_for, export_sandbox
from tui.cli.main import main


@contextmanager
def _replayed(
    recipe: Path,
    folder: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    *flags: str,
) -> Iterator[tuple[Sandbox, dict[str, Any]]]:
    """`bedrock-tune replay RECIPE --yes --json FLAGS` in a new HOME, state and data folder
    under `folder`, against a new sandbox on a test clock: the sandbox (still running) and the
    printed summary."""
    home = folder / "home"
    (home / ".aws").mkdir(parents=True)
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("BEDROCK_TUNE_STATE_DIR", str(folder / "state"))
    monkeypatch.setenv("BEDROCK_TUNE_DATA_DIR", str(folder / "data"))
    clock = Clock(1_800_000_000.0)
    monkeypatch.setattr("tui.cli.replay.sleep", clock.sleep)  # polls move the sandbox's clock
    with Sandbox(clock=clock) as sandbox:
        export_sandbox(sandbox, monkeypatch)
        assert Registry().runs() == []  # a fresh state folder: nothing to resume
        capsys.readouterr()
        assert main(["replay", str(recipe), "--yes", "--json", *flags]) == 0
        yield sandbox, json.loads(capsys.readouterr().out)


def replay_in_a_fresh_home(
    recipe: Path,
    original: Run,
    folder: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> dict[str, Any]:
    """Replay `recipe` with `bedrock-tune replay --yes --json` in a new HOME, state and data
    folder against a new sandbox, and check it made what `original` (the run the recipe was
    saved from) made: the same base model, hyperparameters, data sizes, bucket and role names,
    and a job that completes. Returns the summary."""
    with _replayed(recipe, folder, monkeypatch, capsys) as (sandbox, summary):
        bedrock = context_for(sandbox).client("bedrock")
        [job] = bedrock.list_model_customization_jobs()["modelCustomizationJobSummaries"]
        details = bedrock.get_model_customization_job(jobIdentifier=job["jobArn"])
        deployments = bedrock.list_custom_model_deployments()["modelDeploymentSummaries"]
    assert job["status"] == "Completed"
    assert details["baseModelArn"].endswith(f"/{original.base_model_id}")
    assert details["hyperParameters"] == original.hyperparameters
    assert [d["modelArn"] for d in deployments] == [summary["resources"]["custom_model_arn"]]
    [record] = Registry().runs()
    run = record.run
    assert (run.base_model_id, run.customization_type) == (
        original.base_model_id,
        original.customization_type,
    )
    assert (run.train_size, run.validation_size, run.test_size, run.seed) == (
        original.train_size,
        original.validation_size,
        original.test_size,
        original.seed,
    )
    prepared = Path(run.prepared_dir or "")
    for split, size in (("train", run.train_size), ("validation", run.validation_size)):
        assert len((prepared / f"{split}.jsonl").read_text().splitlines()) == size
    # The names follow the same pattern (here the same account, so the same names).
    assert (run.bucket, run.role_arn, run.s3_prefix) == (
        original.bucket,
        original.role_arn,
        original.s3_prefix,
    )
    assert run.training_uri == f"s3://{run.bucket}/{run.s3_prefix}/{record.id}/data/train.jsonl"
    assert run.serving_kind == original.serving_kind and run.serving_status == "Active"
    assert run.template_toml == original.template_toml
    # The evaluation the recipe keeps is done the same way and stored with the new run.
    assert run.evaluation == original.evaluation
    if original.evaluation is not None:
        evaluation = summary["evaluation"]
        latest = EvaluationStore(Registry()).latest(record.id)
        assert latest is not None and evaluation["id"] == latest.id
        assert evaluation["records"] == min(original.evaluation.records, run.test_size or 0)
        assert evaluation["tuned"] and Path(evaluation["report"]).is_file()
    return summary


def replay_training_in_a_fresh_home(
    recipe: Path,
    original: Run,
    folder: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    *flags: str,
) -> dict[str, Any]:
    """Replay a sagemaker-import `recipe` (with `flags`) in a new HOME, state and data folder
    against a new sandbox, and check it trained what `original` trained (the same base model,
    mode, instance, spot, hyperparameters, data sizes and role names) once, then imported the
    trained model from where the training wrote it. Returns the summary."""
    with _replayed(recipe, folder, monkeypatch, capsys, *flags) as (sandbox, summary):
        sagemaker = context_for(sandbox).client("sagemaker")
        [listed] = sagemaker.list_training_jobs()["TrainingJobSummaries"]
        job = sagemaker.describe_training_job(TrainingJobName=listed["TrainingJobName"])
        bedrock = context_for(sandbox).client("bedrock")
        [imported] = bedrock.list_imported_models()["modelSummaries"]
    assert job["TrainingJobStatus"] == "Completed"
    assert imported["modelArn"] == summary["resources"]["custom_model_arn"]
    [record] = Registry().runs()
    run = record.run
    assert (run.base_model_id, run.training_mode, run.training_technique) == (
        original.base_model_id,
        original.training_mode,
        original.training_technique,
    )
    if original.training_mode == "instance":
        assert job["ResourceConfig"]["InstanceType"] == original.instance_type
        assert job.get("EnableManagedSpotTraining", False) == bool(original.spot)
    else:
        assert "ServerlessJobConfig" not in job or job["ServerlessJobConfig"]["AcceptEula"]
    assert (run.train_size, run.validation_size, run.test_size, run.seed) == (
        original.train_size,
        original.validation_size,
        original.test_size,
        original.seed,
    )
    assert (run.bucket, run.role_arn, run.s3_prefix) == (
        original.bucket,
        original.role_arn,
        original.s3_prefix,
    )
    assert run.model_source == job["ModelArtifacts"]["S3ModelArtifacts"] != original.model_source
    assert run.import_role_arn == original.import_role_arn  # the same account: the same name
    return summary
