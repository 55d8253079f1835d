"""`bedrock-tune jobs ...` against a sandbox reached through AWS_ENDPOINT_URL."""

from __future__ import annotations

import argparse
import json
from typing import Any

import pytest
from botocore.stub import Stubber

from core.aws import AwsContext
from core.catalog.lookup import find_model
from core.errors import QuotaExceededError
from core.jobs.customization import JobRequest, launch, list_jobs, new_client_request_token
from core.registry import Registry
from core.run import Route
from core.run.status import RunStatus
from core.sandbox.server import Sandbox
from tests.fakes import (
    Clock,
    Killed,
    SandboxSetup,
    context_for,
    die,
    export_sandbox,
    hook_aws_calls,
    launch_job,
)
from tui.cli.main import main

GOOD = b'{"prompt": "a", "completion": "b"}\n' * 4
ROLE = "arn:aws:iam::123456789012:role/bedrock-tune-role"


@pytest.fixture
def sandbox_setup() -> SandboxSetup:
    return SandboxSetup(job_seconds=100, region="us-west-2")


@pytest.fixture
def sandbox(sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch) -> Sandbox:
    """The sandbox in us-west-2 with the training data, reached through AWS_ENDPOINT_URL."""
    export_sandbox(sandbox, monkeypatch)
    s3 = context_for(sandbox).client("s3")
    s3.create_bucket(Bucket="bt-cli", CreateBucketConfiguration={"LocationConstraint": "us-west-2"})
    s3.put_object(Bucket="bt-cli", Key="d/train.jsonl", Body=GOOD)
    return sandbox


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
    context = context_for(sandbox)
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


def _without_name(args: list[str]) -> list[str]:
    index = args.index("--name")
    return args[:index] + args[index + 2 :]


CRASH_CASES = {
    # The same command: no name given, so the job name was made up (from the clock) the first
    # time; the rerun finds the interrupted launch of the same request.
    "same command": _without_name(launch_args()),
    "same name": launch_args(),
    "same run id": [*_without_name(launch_args()), "--run-id", "crash-1"],
}


@pytest.mark.parametrize("case", list(CRASH_CASES))
def test_a_launch_killed_after_the_request_is_sent_reattaches_when_run_again(
    sandbox: Sandbox, capsys: pytest.CaptureFixture[str], case: str
) -> None:
    args = CRASH_CASES[case]
    with pytest.MonkeyPatch.context() as patch:
        hook_aws_calls(patch, "after-call.bedrock.CreateModelCustomizationJob", die)
        with pytest.raises(Killed):
            main(args)  # the job was created; the command died before it heard back
    capsys.readouterr()
    # The run and its token were on disk before the request went out.
    (saved,) = Registry().runs()
    assert saved.status is RunStatus.LAUNCHING and saved.run.client_request_token
    assert main(args) == 0
    again = json.loads(capsys.readouterr().out)
    assert again["reattached"] is True
    assert again["client_request_token"] == saved.run.client_request_token
    context = context_for(sandbox)
    assert [j.arn for j in list_jobs(context)] == [again["job_arn"]]  # exactly one job
    (record,) = Registry().runs()
    assert record.id == saved.id and record.run.job_arn == again["job_arn"]
    assert record.status is RunStatus.TRAINING


def test_the_run_and_its_token_are_saved_before_the_job_is_created(
    sandbox: Sandbox, capsys: pytest.CaptureFixture[str]
) -> None:
    saved_when_sent: list[bool] = []

    def check(params: dict[str, Any], **_: Any) -> None:
        tokens = {r.run.client_request_token for r in Registry().runs()}
        saved_when_sent.append(params["clientRequestToken"] in tokens)

    with pytest.MonkeyPatch.context() as patch:
        hook_aws_calls(patch, "before-parameter-build.bedrock.CreateModelCustomizationJob", check)
        assert main(launch_args()) == 0
    assert saved_when_sent == [True]
    launched = json.loads(capsys.readouterr().out)
    record = Registry().get_run(launched["run_id"])
    assert record is not None and record.route is Route.BEDROCK_CUSTOMIZATION
    run = record.run
    assert (run.job_arn, run.job_name, run.base_model_id) == (
        launched["job_arn"],
        "cli-job",
        "meta.llama3-1-8b-instruct-v1:0:128k",
    )
    assert run.target == "sandbox" and run.region == "us-west-2"
    assert run.account_id == sandbox.account_id and run.role_arn == ROLE


def test_a_name_taken_by_someone_else_s_job_is_refused_and_says_whose(
    sandbox: Sandbox, capsys: pytest.CaptureFixture[str]
) -> None:
    context = context_for(sandbox)
    theirs = launch_job(
        context,
        "cli",  # makes the job `cli-job`, as launch_args names it
        "meta.llama3-1-8b-instruct-v1:0:128k",
        "s3://bt-cli/d/train.jsonl",
        "s3://bt-cli/d/output/",
    )
    assert main(launch_args()) == 2
    err = capsys.readouterr().err
    assert "'cli-job'" in err and "someone else's" in err
    assert [j.arn for j in list_jobs(context)] == [theirs]
    assert Registry().runs() == []  # nothing was launched: no run is left to resume


def test_a_name_taken_by_another_run_of_ours_names_that_run(
    sandbox: Sandbox, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(launch_args()) == 0
    first = json.loads(capsys.readouterr().out)
    assert main([*launch_args(), "--run-id", "second-run"]) == 2
    err = capsys.readouterr().err
    assert f"another bedrock-tune run ({first['run_id']})" in err
    assert f"--run-id {first['run_id']}" in err
    assert [r.id for r in Registry().runs()] == [first["run_id"]]


def test_a_run_id_launched_with_another_name_is_not_relaunched(
    sandbox: Sandbox, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main([*launch_args(), "--run-id", "r-1"]) == 0
    capsys.readouterr()
    renamed = [*launch_args(), "--run-id", "r-1"]
    renamed[renamed.index("cli-job")] = "cli-job-2"
    assert main(renamed) == 2
    assert "launched with job name 'cli-job', not 'cli-job-2'" in capsys.readouterr().err
    assert main([*launch_args(), "--run-id", "bad id!"]) == 2
    assert "run id 'bad id!'" in capsys.readouterr().err
