"""The local registry: atomic, private, crash-safe, and it never holds a credential."""

from __future__ import annotations

import json
import stat
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from core.registry import (
    BACKUP_V1,
    Registry,
    RegistryError,
    ResourceRecord,
    new_run_id,
)
from core.run import Route, Run
from core.run.status import RunStatus
from core.state_dir import state_dir
from core.statuses import CustomizationType, JobStatus, ServingKind, ServingStatus


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
    again = registry.save_run(run_id, replace(run, job_name="j", client_request_token="t"))
    assert again.created == first.created
    loaded = registry.get_run(run_id)
    assert loaded is not None and loaded.run.job_name == "j" and loaded.run.profile == "dev"
    mode = stat.S_IMODE(registry.path.stat().st_mode)
    assert mode == 0o600
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")] == []
    assert json.loads(registry.path.read_text())["version"] == 2


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
    registry.save_run("running", Run(job_arn="arn:1", job_status=JobStatus.IN_PROGRESS))
    registry.save_run("done", Run(job_arn="arn:2", job_status=JobStatus.COMPLETED))
    assert {r.id for r in registry.runs_in_progress()} == {"interrupted", "running"}
    registry.forget_run("running")
    assert {r.id for r in registry.runs_in_progress()} == {"interrupted"}


def test_a_stopping_job_is_still_in_progress_and_a_stopped_one_is_not(tmp_path: Path) -> None:
    registry = Registry(tmp_path)
    for status in JobStatus:
        registry.save_run(status.value, Run(job_arn=f"arn:{status}", job_status=status))
    assert {r.id for r in registry.runs_in_progress()} == {"InProgress", "Stopping"}


def test_a_deployment_being_created_is_resumable_too(tmp_path: Path) -> None:
    registry = Registry(tmp_path)
    done = Run(job_arn="arn:job", job_status=JobStatus.COMPLETED)
    registry.save_run(
        "creating", replace(done, serving_arn="arn:pt", serving_status=ServingStatus.CREATING)
    )
    registry.save_run("unknown", replace(done, serving_arn="arn:dep"))
    registry.save_run(
        "ready", replace(done, serving_arn="arn:pt2", serving_status=ServingStatus.IN_SERVICE)
    )
    registry.save_run(
        "failed", replace(done, serving_arn="arn:pt3", serving_status=ServingStatus.FAILED)
    )
    assert {r.id for r in registry.runs_in_progress()} == {"creating", "unknown"}
    record = registry.get_run("creating")
    assert record is not None and record.serving_pending and not record.in_progress


def test_every_terminal_job_status_ends_the_run_and_updating_serving_resumes(
    tmp_path: Path,
) -> None:
    # Each status of ModelCustomizationJobStatus (reference/bedrock.md section 4.2): a Stopped
    # or Failed job is over like a Completed one; Stopping is still on its way.
    registry = Registry(tmp_path)
    for status in JobStatus:
        registry.save_run(status.value, Run(job_arn=f"arn:{status.value}", job_status=status))
    assert {r.id for r in registry.runs_in_progress()} == {"InProgress", "Stopping"}
    # Provisioned throughput goes Updating while its model or units change: not ready yet.
    done = Run(job_arn="arn:job", job_status=JobStatus.COMPLETED)
    registry.save_run(
        "updating", replace(done, serving_arn="arn:pt", serving_status=ServingStatus.UPDATING)
    )
    assert "updating" in {r.id for r in registry.runs_in_progress()}


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


V1_FILE = Path(__file__).parent / "data" / "registry-v1.json"
"""A version-1 registry exactly as bedrock-tune wrote it before routes (made with that code)."""


def test_a_version_1_file_is_read_as_version_2_and_left_alone_until_a_write(
    tmp_path: Path,
) -> None:
    registry = Registry(tmp_path)
    original = V1_FILE.read_bytes()
    registry.path.write_bytes(original)
    runs = {r.id: r for r in registry.runs()}
    assert set(runs) == {"a1b2c3d4e5f6", "0a1b2c3d4e5f", "fresh0000001"}
    assert {r.route for r in runs.values()} == {Route.BEDROCK_CUSTOMIZATION}
    training = runs["a1b2c3d4e5f6"]
    assert training.run.job_status is JobStatus.IN_PROGRESS
    assert training.status is RunStatus.TRAINING
    assert training.run.customization_type is CustomizationType.FINE_TUNING
    serving = runs["0a1b2c3d4e5f"].run
    assert serving.customization_type is CustomizationType.DISTILLATION
    assert serving.serving_kind is ServingKind.CUSTOM_MODEL_DEPLOYMENT
    assert serving.serving_status is ServingStatus.CREATING
    assert runs["0a1b2c3d4e5f"].status is RunStatus.DEPLOYING
    assert runs["fresh0000001"].status is RunStatus.NEW
    assert {r.id for r in registry.runs_in_progress()} == {"a1b2c3d4e5f6", "0a1b2c3d4e5f"}
    assert [r.kind for r in registry.resources()] == ["custom-model-deployment", "s3-bucket"]
    assert registry.path.read_bytes() == original  # reading writes nothing
    assert not (tmp_path / BACKUP_V1).exists()


def test_the_first_write_keeps_a_backup_then_migrates_atomically(tmp_path: Path) -> None:
    registry = Registry(tmp_path)
    original = V1_FILE.read_bytes()
    registry.path.write_bytes(original)
    before = {r.id: r for r in registry.runs()}
    registry.save_run("fresh0000001", replace(before["fresh0000001"].run, base_model_id="m"))
    backup = tmp_path / BACKUP_V1
    assert backup.read_bytes() == original
    assert stat.S_IMODE(backup.stat().st_mode) == 0o600
    data = json.loads(registry.path.read_text())
    assert data["version"] == 2
    entry = data["runs"]["a1b2c3d4e5f6"]
    assert entry["route"] == "bedrock-customization" and entry["status"] == "training"
    assert entry["created"] == json.loads(original)["runs"]["a1b2c3d4e5f6"]["created"]
    after = {r.id: r for r in registry.runs()}
    for run_id in ("a1b2c3d4e5f6", "0a1b2c3d4e5f"):
        assert after[run_id] == before[run_id]  # nothing lost or changed in the move
    assert after["fresh0000001"].run.base_model_id == "m"
    assert [r.kind for r in registry.resources()] == ["custom-model-deployment", "s3-bucket"]
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")] == []


def test_a_migration_killed_midway_leaves_the_version_1_file_whole(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    registry = Registry(tmp_path)
    original = V1_FILE.read_bytes()
    registry.path.write_bytes(original)

    class Killed(BaseException):
        """The process dies (raised where the new file would be renamed into place)."""

    real_replace = Path.replace

    def dying_replace(self: Path, target: Path) -> Path:
        if Path(target) == registry.path:
            raise Killed
        return real_replace(self, target)

    monkeypatch.setattr(Path, "replace", dying_replace)
    with pytest.raises(Killed):
        registry.save_run("new1", Run(region="us-east-1"))
    monkeypatch.setattr(Path, "replace", real_replace)
    assert registry.path.read_bytes() == original  # all old...
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")] == []
    registry.save_run("new1", Run(region="us-east-1"))  # ...then, run again, all new
    assert json.loads(registry.path.read_text())["version"] == 2
    assert {r.id for r in registry.runs()} == {
        "a1b2c3d4e5f6",
        "0a1b2c3d4e5f",
        "fresh0000001",
        "new1",
    }
    assert (tmp_path / BACKUP_V1).read_bytes() == original


def test_a_newer_registry_is_refused_with_what_to_do(tmp_path: Path) -> None:
    registry = Registry(tmp_path)
    registry.path.write_text('{"version": 3, "runs": {}, "resources": []}')
    with pytest.raises(RegistryError) as caught:
        registry.runs()
    assert "newer bedrock-tune" in caught.value.message
    assert "Upgrade" in caught.value.hint


def test_a_run_with_wrong_types_is_named_and_can_be_forgotten(tmp_path: Path) -> None:
    registry = Registry(tmp_path)
    registry.save_run("good", Run(region="us-east-1"))
    registry.save_run("bad", Run(region="us-east-1"))
    data = json.loads(registry.path.read_text())
    data["runs"]["bad"]["run"]["job_status"] = "Sleeping"
    registry.path.write_text(json.dumps(data))
    with pytest.raises(RegistryError) as caught:
        registry.runs()
    assert "Run bad" in caught.value.message and "job_status" in caught.value.message
    assert "Sleeping" in caught.value.message
    assert "runs forget bad" in caught.value.hint
    assert registry.forget_run("bad")
    assert [r.id for r in registry.runs()] == ["good"]
    assert not registry.forget_run("bad")


def _resource(**changes: object) -> dict[str, object]:
    entry: dict[str, object] = {
        "kind": "s3-bucket",
        "identifier": "b",
        "region": "us-east-1",
        "account_id": "1",
        "run_id": None,
        "created": "2025-01-01T00:00:00+00:00",
        "billable": False,
        "created_by_us": True,
        "details": {},
    }
    entry.update(changes)
    return entry


@pytest.mark.parametrize(
    ("resources", "problem"),
    [
        (["x"], 'resources[0] is "x", not an object'),
        ([_resource(kind=1)], "resources[0].kind is 1, not text"),
        ([_resource(billable="yes")], 'resources[0].billable is "yes", not true or false'),
        ([_resource(details=[])], "resources[0].details is [], not an object"),
        ([_resource(run_id=7)], "resources[0].run_id is 7, not text"),
        ([_resource(created=5)], "resources[0].created is 5, not text"),
        ([_resource(), _resource(extra=1)], "resources[1] has unknown field(s) extra"),
        ([{"kind": "s3-bucket"}], "resources[0] has no 'identifier'"),
    ],
)
def test_a_resource_of_wrong_types_is_a_registry_error_naming_the_field(
    tmp_path: Path, resources: list[object], problem: str
) -> None:
    """Every later use (teardown, apply, upload) reads the resources: a wrong type is found
    when the file is read, named, and the file is never rewritten."""
    registry = Registry(tmp_path)
    text = json.dumps({"version": 2, "runs": {}, "resources": resources})
    registry.path.write_text(text)
    for read in (registry.resources, registry.check, registry.runs):
        with pytest.raises(RegistryError) as caught:
            read()
        assert caught.value.message == f"{registry.path}: {problem}."
        assert "Move it aside" in caught.value.hint
    with pytest.raises(RegistryError):
        registry.add_resource(ResourceRecord("s3-bucket", "b2", "us-east-1", "1", None))
    assert registry.path.read_text() == text  # never rewritten


def test_resources_of_the_right_types_pass(tmp_path: Path) -> None:
    registry = Registry(tmp_path)
    resources = [_resource(run_id="a", details={"n": 1}), _resource(identifier="c")]
    registry.path.write_text(json.dumps({"version": 2, "runs": {}, "resources": resources}))
    registry.check()
    assert {r.identifier: r.details for r in registry.resources()} == {"b": {"n": 1}, "c": {}}


def test_a_binary_file_is_a_registry_error(tmp_path: Path) -> None:
    registry = Registry(tmp_path)
    registry.path.write_bytes(b"\xff\xfe\x00\x01")
    with pytest.raises(RegistryError, match="not UTF-8 text"):
        registry.check()


def test_a_damaged_registry_stops_upload_before_any_call(tmp_path: Path) -> None:
    """What is created must be recorded: a registry found damaged only after the call would
    leave the run folder unrecorded (infra apply: tests/cli/test_cli_bad_environment.py)."""
    from core.upload import upload_prepared

    class NoCalls:
        region = "us-east-1"

        def client(self, service: str, region: str | None = None) -> object:
            raise AssertionError(f"AWS ({service}) was called")

    registry = Registry(tmp_path / "state")
    registry.directory.mkdir()
    registry.path.write_text('{"version": 1, "runs": {}, "resources": [{"kind": 1}]}')
    prepared = tmp_path / "run"
    prepared.mkdir()
    (prepared / "train.jsonl").write_text('{"prompt": "q", "completion": "a"}\n')
    context: Any = NoCalls()
    with pytest.raises(RegistryError, match="resources"):
        upload_prepared(context, prepared, "bucket-1", "run", registry=registry)
