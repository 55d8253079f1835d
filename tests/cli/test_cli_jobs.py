"""`bedrock-tune jobs ...` against a sandbox reached through AWS_ENDPOINT_URL."""

from __future__ import annotations

import argparse
import json
from collections.abc import Iterator

import pytest
from botocore.stub import Stubber

from core.aws import AwsContext
from core.catalog.lookup import find_model
from core.errors import QuotaExceededError
from core.jobs.customization import JobRequest, launch, new_client_request_token
from core.sandbox.server import Sandbox, sandbox_environment
from tui.cli.main import main

GOOD = b'{"prompt": "a", "completion": "b"}\n' * 4
ROLE = "arn:aws:iam::123456789012:role/bedrock-tune-role"


class Clock:
    t = 100.0

    def __call__(self) -> float:
        return self.t


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def sandbox(clock: Clock, monkeypatch: pytest.MonkeyPatch) -> Iterator[Sandbox]:
    with Sandbox(job_seconds=100, clock=clock, region="us-west-2") as running:
        for key, value in sandbox_environment(running).items():
            monkeypatch.setenv(key, value)
        s3 = AwsContext.for_endpoint(running.endpoint_url, running.credentials, "us-west-2")
        s3.client("s3").create_bucket(
            Bucket="bt-cli", CreateBucketConfiguration={"LocationConstraint": "us-west-2"}
        )
        s3.client("s3").put_object(Bucket="bt-cli", Key="d/train.jsonl", Body=GOOD)
        yield running


def launch_args(*extra: str, train: str = "s3://bt-cli/d/train.jsonl") -> list[str]:
    return [
        "jobs",
        "launch",
        "--model",
        "meta.llama3-1-8b-instruct-v1:0:128k",
        "--train",
        train,
        "--output",
        "s3://bt-cli/d/output/",
        "--role",
        ROLE,
        "--name",
        "cli-job",
        "--json",
        *extra,
    ]


def test_launch_list_show_watch(
    sandbox: Sandbox, clock: Clock, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(launch_args("--hp", "epochCount=2", "--token", "tok-1")) == 0
    launched = json.loads(capsys.readouterr().out)
    assert launched["job_name"] == "cli-job"
    # The same token again: the same job, not a second one.
    assert main(launch_args("--hp", "epochCount=2", "--token", "tok-1")) == 0
    assert json.loads(capsys.readouterr().out)["job_arn"] == launched["job_arn"]
    assert main(["jobs", "list", "--json"]) == 0
    jobs = json.loads(capsys.readouterr().out)
    assert [j["name"] for j in jobs] == ["cli-job"]
    clock.t += 40
    assert main(["jobs", "show", "cli-job", "--json"]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert shown["phases"] == {
        "Validation": "Completed",
        "Data processing": "Completed",
        "Training": "InProgress",
    }
    clock.t += 100
    assert main(["jobs", "watch", "cli-job", "--interval", "0.01", "--json"]) == 0
    events = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert any(e["event"] == "training_loss" for e in events)
    assert events[-1]["event"] == "end" and events[-1]["status"] == "Completed"


def test_watch_exits_1_on_failure(
    sandbox: Sandbox, clock: Clock, capsys: pytest.CaptureFixture[str]
) -> None:
    context = AwsContext.for_endpoint(sandbox.endpoint_url, sandbox.credentials, "us-west-2")
    context.client("s3").put_object(Bucket="bt-cli", Key="d/bad.jsonl", Body=b"not json\n")
    assert main(launch_args(train="s3://bt-cli/d/bad.jsonl")) == 0
    capsys.readouterr()
    clock.t += 20
    assert main(["jobs", "watch", "cli-job", "--interval", "0.01"]) == 1
    out = capsys.readouterr().out
    assert "Unable to parse" in out and "JSONL" in out


def test_out_of_range_hyperparameter_is_refused_before_any_call(
    sandbox: Sandbox, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(launch_args("--hp", "epochCount=50")) == 2
    err = capsys.readouterr().err
    assert "epochCount must be between 1 and 10" in err
    assert main(["jobs", "list", "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == []


def test_stop(sandbox: Sandbox, clock: Clock, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(launch_args()) == 0
    capsys.readouterr()
    assert main(["jobs", "stop", "cli-job", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["status"] == "Stopping"
    clock.t += sandbox.stop_seconds
    assert main(["jobs", "watch", "cli-job", "--interval", "0.01", "--json"]) == 1
    events = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert events[-1]["event"] == "end" and events[-1]["status"] == "Stopped"


def test_quota_exceeded_on_launch_is_explained(aws_keys: None) -> None:
    context = AwsContext.from_environment(region="us-west-2")
    client = context.client("bedrock")
    with Stubber(client) as stub:
        stub.add_client_error(
            "create_model_customization_job",
            service_error_code="ServiceQuotaExceededException",
            service_message="Concurrent model customization jobs limit reached",
            http_status_code=400,
        )
        request = JobRequest(
            job_name="q",
            custom_model_name="q",
            base_model_id="meta.llama3-1-8b-instruct-v1:0:128k",
            role_arn=ROLE,
            training_uri="s3://bt-data/t.jsonl",
            output_uri="s3://bt-data/o/",
            client_request_token=new_client_request_token(),
        )
        with pytest.raises(QuotaExceededError) as caught:
            launch(context, request, find_model(request.base_model_id))
    assert "limit reached" in caught.value.message
    assert "Service Quotas" in caught.value.hint


def test_stall_warning_reads_as_a_duration(capsys: pytest.CaptureFixture[str]) -> None:
    from tui.cli.jobs import _emit

    event = {"event": "stalled", "hours": 26.5, "message": "training has not started"}
    _emit(argparse.Namespace(json=False), event)
    assert capsys.readouterr().out == "Warning: training has not started (1 d 2 h).\n"
