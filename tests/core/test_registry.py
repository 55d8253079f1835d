"""The local registry: atomic, private, crash-safe, and it never holds a credential."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest

from core.registry import Registry, RegistryError, ResourceRecord, new_run_id, state_dir
from core.run import Run


def test_state_dir_honours_the_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BEDROCK_TUNE_STATE_DIR", str(tmp_path / "s"))
    assert state_dir() == tmp_path / "s"
    monkeypatch.delenv("BEDROCK_TUNE_STATE_DIR")
    assert "bedrock-tune" in str(state_dir())


def test_runs_round_trip_privately_and_atomically(tmp_path: Path) -> None:
    registry = Registry(tmp_path)
    run = Run(target="aws", profile="dev", region="us-west-2", account_id="111122223333")
    run_id = new_run_id()
    first = registry.save_run(run_id, run)
    again = registry.save_run(run_id, run.evolve(job_name="j", client_request_token="t"))
    assert again.created == first.created
    loaded = registry.get_run(run_id)
    assert loaded is not None and loaded.run.job_name == "j" and loaded.run.profile == "dev"
    mode = stat.S_IMODE(registry.path.stat().st_mode)
    assert mode == 0o600
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")] == []
    assert json.loads(registry.path.read_text())["version"] == 1


def test_no_credentials_are_ever_written(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "very-secret-value")
    registry = Registry(tmp_path)
    registry.save_run("r1", Run(target="sandbox", endpoint_url="http://127.0.0.1:4566"))
    text = registry.path.read_text()
    assert "very-secret-value" not in text
    assert "secret" not in text.lower() and "aws_access_key" not in text.lower()


def test_in_progress_runs_are_the_launched_unfinished_ones(tmp_path: Path) -> None:
    registry = Registry(tmp_path)
    registry.save_run("new", Run(region="us-east-1"))
    registry.save_run("interrupted", Run(job_name="j1", client_request_token="tok"))
    registry.save_run("running", Run(job_arn="arn:1", job_status="InProgress"))
    registry.save_run("done", Run(job_arn="arn:2", job_status="Completed"))
    assert {r.id for r in registry.runs_in_progress()} == {"interrupted", "running"}
    registry.forget_run("running")
    assert {r.id for r in registry.runs_in_progress()} == {"interrupted"}


def test_a_stopping_job_is_still_in_progress_and_a_stopped_one_is_not(tmp_path: Path) -> None:
    registry = Registry(tmp_path)
    for status in ("InProgress", "Stopping", "Completed", "Failed", "Stopped"):
        registry.save_run(status, Run(job_arn=f"arn:{status}", job_status=status))
    assert {r.id for r in registry.runs_in_progress()} == {"InProgress", "Stopping"}


def test_a_deployment_being_created_is_resumable_too(tmp_path: Path) -> None:
    registry = Registry(tmp_path)
    done = Run(job_arn="arn:job", job_status="Completed")
    registry.save_run("creating", done.evolve(serving_arn="arn:pt", serving_status="Creating"))
    registry.save_run("unknown", done.evolve(serving_arn="arn:dep"))
    registry.save_run("ready", done.evolve(serving_arn="arn:pt2", serving_status="InService"))
    registry.save_run("failed", done.evolve(serving_arn="arn:pt3", serving_status="Failed"))
    assert {r.id for r in registry.runs_in_progress()} == {"creating", "unknown"}
    record = registry.get_run("creating")
    assert record is not None and record.serving_pending and not record.in_progress


def test_resources_billable_first_and_replaced_not_duplicated(tmp_path: Path) -> None:
    registry = Registry(tmp_path)
    bucket = ResourceRecord("s3-bucket", "bt-bucket", "us-east-1", "1", "r1")
    registry.add_resource(bucket)
    registry.add_resource(
        ResourceRecord("provisioned-throughput", "arn:pt", "us-east-1", "1", "r1", billable=True)
    )
    registry.add_resource(bucket)
    kinds = [r.kind for r in registry.resources()]
    assert kinds == ["provisioned-throughput", "s3-bucket"]
    registry.remove_resource("s3-bucket", "bt-bucket")
    assert [r.kind for r in registry.resources()] == ["provisioned-throughput"]


def test_a_damaged_file_is_explained_not_overwritten(tmp_path: Path) -> None:
    registry = Registry(tmp_path)
    registry.path.write_text('{"version": 1, "runs": {')
    with pytest.raises(RegistryError) as caught:
        registry.runs()
    assert "line 1" in caught.value.message
    assert "Move it aside" in caught.value.hint
    with pytest.raises(RegistryError):
        registry.save_run("x", Run())
    assert registry.path.read_text() == '{"version": 1, "runs": {'
