"""`bedrock-tune runs`: the registry's runs, and `runs forget` (which deletes nothing in AWS)."""

from __future__ import annotations

import json

import pytest

from core.registry import Registry, ResourceRecord
from core.run import Run
from core.statuses import JobStatus, ServingKind, ServingStatus
from tui.cli.main import main

JOB = "arn:aws:bedrock:us-east-1:123456789012:model-customization-job/m/abc"
DEPLOYMENT = "arn:aws:bedrock:us-east-1:123456789012:custom-model-deployment/d1"


def _record_runs() -> None:
    registry = Registry()
    registry.save_run(
        "trained1",
        Run(
            run_id="trained1",
            target="aws",
            region="us-east-1",
            account_id="123456789012",
            base_model_id="amazon.nova-micro-v1:0:128k",
            job_name="bt-nova",
            client_request_token="t1",
            job_arn=JOB,
            job_status=JobStatus.COMPLETED,
            custom_model_arn="arn:model",
            serving_kind=ServingKind.CUSTOM_MODEL_DEPLOYMENT,
            serving_arn=DEPLOYMENT,
            serving_status=ServingStatus.ACTIVE,
        ),
    )
    registry.add_resource(
        ResourceRecord(
            "custom-model-deployment", DEPLOYMENT, "us-east-1", "123456789012", "trained1"
        )
    )
    registry.save_run("fresh1", Run(run_id="fresh1", target="aws", region="eu-west-1"))


def test_runs_lists_every_run_as_json(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["runs", "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == []
    _record_runs()
    assert main(["runs", "--json"]) == 0
    runs = {r["id"]: r for r in json.loads(capsys.readouterr().out)}
    assert set(runs) == {"trained1", "fresh1"}
    served = runs["trained1"]
    assert served["route"] == "bedrock-customization"
    assert served["model"] == "amazon.nova-micro-v1:0:128k"
    assert served["status"] == "serving"
    assert (served["job_arn"], served["serving_arn"]) == (JOB, DEPLOYMENT)
    assert served["resources"] == [{"kind": "custom-model-deployment", "identifier": DEPLOYMENT}]
    assert served["created"] and served["updated"]
    assert runs["fresh1"]["status"] == "new" and runs["fresh1"]["job_arn"] is None


def test_runs_as_text(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["runs"]) == 0
    assert "No runs recorded yet" in capsys.readouterr().out
    _record_runs()
    assert main(["runs"]) == 0
    out = capsys.readouterr().out
    assert "trained1" in out and "bedrock-customization" in out and "serving" in out
    assert JOB in out and DEPLOYMENT in out


def test_forget_removes_the_run_and_nothing_else(capsys: pytest.CaptureFixture[str]) -> None:
    _record_runs()
    assert main(["runs", "forget", "trained1"]) == 0
    out = capsys.readouterr().out
    assert "Forgot run trained1" in out and "Nothing in AWS was deleted" in out
    assert [r.id for r in Registry().runs()] == ["fresh1"]
    assert [r.identifier for r in Registry().resources()] == [DEPLOYMENT]  # still listed


def test_forgetting_an_unknown_run_is_a_clear_usage_error(
    capsys: pytest.CaptureFixture[str],
) -> None:
    _record_runs()
    assert main(["runs", "forget", "nope"]) == 2
    err = capsys.readouterr().err
    assert "There is no run 'nope'" in err and "bedrock-tune runs" in err
    assert "Traceback" not in err
    assert len(Registry().runs()) == 2


def test_a_damaged_registry_is_a_clear_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    _record_runs()
    registry = Registry()
    data = json.loads(registry.path.read_text())
    data["runs"]["fresh1"]["run"]["region"] = 12
    registry.path.write_text(json.dumps(data))
    assert main(["runs", "--json"]) == 2
    err = capsys.readouterr().err
    assert "Run fresh1" in err and "region" in err and "runs forget fresh1" in err
    assert main(["runs", "forget", "fresh1"]) == 0
    capsys.readouterr()
    assert main(["runs", "--json"]) == 0
    assert [r["id"] for r in json.loads(capsys.readouterr().out)] == ["trained1"]
