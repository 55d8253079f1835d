"""`bedrock-tune teardown` and a training job that still runs, writing into the run folder and
bucket: declined at its question, the questions about the folder and the bucket each say first
that the job fails when they go and bills until then. With `--yes` every job of ours is stopped
(and waited for), so nothing is said; another install's running job, never offered, is warned
about on stderr and in --json."""

from __future__ import annotations

import json

import pytest

from core.aws import AwsContext
from core.ownership import ownership_tags
from tests.cli.test_cli_teardown import Terminal
from tests.core.test_teardown_stop_registry import JOB, OTHER_INSTALL, launched_only, status
from tests.fakes import Clock, start_training
from tui.cli.main import main

THEIRS = "bt-theirs-running"


@pytest.fixture
def running(clocked_teardown: AwsContext, clock: Clock) -> AwsContext:
    launched_only(clocked_teardown, clock)
    return clocked_teardown


def test_keeping_the_running_job_is_warned_about_at_the_folder_and_bucket_questions(
    running: AwsContext, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # Keep the job, keep the folder, delete the bucket.
    monkeypatch.setattr("sys.stdin", Terminal("n\nn\ny\n"))
    assert main(["teardown"]) == 0, capsys.readouterr().err
    out = capsys.readouterr().out
    job_asked = out.index(f"Stop Training job {JOB}")
    folder_asked = out.index("Delete S3 folder s3://bt-td/r/")
    bucket_asked = out.index("Delete S3 bucket bt-td")
    warning = f"Warning: Training job {JOB} is still running and writes into"
    said = [n for n in range(len(out)) if out.startswith(warning, n)]
    assert len(said) == 2
    assert job_asked < said[0] < folder_asked < said[1] < bucket_asked
    assert out[said[0] :].startswith(f"{warning} S3 folder s3://bt-td/r/")
    assert out[said[1] :].startswith(f"{warning} S3 bucket bt-td")
    assert status(running, JOB) == "InProgress"  # kept: neither stopped nor waited for


def test_with_yes_only_a_running_job_never_offered_is_warned_about(
    running: AwsContext, clock: Clock, capsys: pytest.CaptureFixture[str]
) -> None:
    tags = ownership_tags(OTHER_INSTALL, "arn:aws:iam::123456789012:user/someone-else")
    start_training(running, THEIRS, folder="s3://bt-td/theirs/", tags=tags)
    clock.t += 5
    running.client("sagemaker").stop_training_job(TrainingJobName=JOB)  # ours: waited for
    assert main(["teardown", "--yes", "--json"]) == 0
    captured = capsys.readouterr()
    warned = json.loads(captured.out)["warnings"]
    ours = [w for w in warned if JOB in w]
    theirs = [w for w in warned if THEIRS in w and "still running" in w]
    assert ours == [] and len(theirs) == 1 and "S3 bucket bt-td" in theirs[0]
    assert f"Warning: {theirs[0]}" in captured.err
