"""`bedrock-tune replay` of an import-only recipe against the sandbox: the model checked,
the import role made, the model uploaded and imported once, also when the first replay is
killed right after the import request reached the sandbox."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from core.importing.tiny import write_tiny_model
from core.recipe import save_recipe
from core.registry import Registry
from core.run import Route, Run
from core.sandbox.server import SANDBOX_ACCOUNT_ID, Sandbox
from tests.fakes import Clock, Killed, context_for, hook_aws_calls
from tui.cli.main import main

REGION = "us-east-1"


def _recipe(folder: Path) -> Path:
    write_tiny_model(folder / "model")
    run = Run(
        route=Route.IMPORT_ONLY,
        target="aws",
        region=REGION,
        account_id="111122223333",
        model_source="model",  # beside the recipe
        bucket=f"bedrock-tune-111122223333-{REGION}",
        s3_prefix="bedrock-tune",
        role_arn=f"arn:aws:iam::111122223333:role/bedrock-tune-import-{REGION}",
    )
    path = folder / "import.toml"
    save_recipe(run, path)
    return path


@pytest.fixture
def fast_polls(clock: Clock, monkeypatch: pytest.MonkeyPatch) -> Clock:
    monkeypatch.setattr("tui.cli.replay.sleep", clock.sleep)
    return clock


def _imports(sandbox: Sandbox) -> list[dict[str, Any]]:
    jobs = context_for(sandbox).client("bedrock").list_model_import_jobs()
    return [dict(job) for job in jobs["modelImportJobSummaries"]]


def test_an_import_recipe_replays_to_an_imported_model(
    tmp_path: Path,
    exported_sandbox: Sandbox,
    fast_polls: Clock,
    capsys: pytest.CaptureFixture[str],
) -> None:
    recipe = _recipe(tmp_path)
    assert main(["replay", str(recipe), "--yes", "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["route"] == "import-only"
    assert summary["steps_done"] == [
        "credentials",
        "model-source",
        "import-check",
        "infrastructure",
        "import",
    ]
    resources = summary["resources"]
    assert resources["role_arn"] == (
        f"arn:aws:iam::{SANDBOX_ACCOUNT_ID}:role/bedrock-tune-import-{REGION}"
    )
    [job] = _imports(exported_sandbox)
    assert job["status"] == "Completed" and job["jobArn"] == resources["import_job_arn"]
    models = context_for(exported_sandbox).client("bedrock").list_imported_models()
    [model] = models["modelSummaries"]
    assert model["modelArn"] == resources["custom_model_arn"]
    assert [r.identifier for r in Registry().resources() if r.billable] == [model["modelArn"]]

    assert main(["replay", str(recipe), "--yes", "--json"]) == 0  # again: nothing to do
    again = json.loads(capsys.readouterr().out)
    assert again["steps_already_done"] == ["infrastructure", "import"]
    assert len(_imports(exported_sandbox)) == 1


def test_without_yes_and_a_terminal_the_import_waits(
    tmp_path: Path, exported_sandbox: Sandbox, capsys: pytest.CaptureFixture[str]
) -> None:
    recipe = _recipe(tmp_path)
    assert main(["replay", str(recipe), "--json"]) == 2
    summary = json.loads(capsys.readouterr().out)
    assert summary["stopped_before"] == "import" and _imports(exported_sandbox) == []


def test_killed_after_the_import_request_then_run_again_imports_once(
    tmp_path: Path,
    exported_sandbox: Sandbox,
    fast_polls: Clock,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    recipe = _recipe(tmp_path)
    fired: list[bool] = []

    def die(**_: Any) -> None:
        if not fired:
            fired.append(True)
            raise Killed("after the import request reached the sandbox")

    hook_aws_calls(monkeypatch, "after-call.bedrock.CreateModelImportJob", die)
    with pytest.raises(Killed):
        main(["replay", str(recipe), "--yes", "--json"])
    [job] = _imports(exported_sandbox)
    [saved] = Registry().runs()
    assert saved.run.import_job_arn is None and saved.run.import_token is not None
    capsys.readouterr()

    assert main(["replay", str(recipe), "--yes", "--json"]) == 0
    out, err = capsys.readouterr()
    summary = json.loads(out)
    assert summary["run_id"] == saved.id and "re-attached to the import" in err
    assert [j["jobArn"] for j in _imports(exported_sandbox)] == [job["jobArn"]]
