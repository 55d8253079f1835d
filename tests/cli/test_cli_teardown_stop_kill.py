"""`bedrock-tune teardown --yes` killed (SIGKILL) while it waits for the training job it stopped:
nothing was emptied yet, and the run again waits for the job (still Stopping) before it empties
the run folder and deletes the bucket, in that one rerun."""

from __future__ import annotations

from pathlib import Path

import pytest

from core.aws import AwsContext
from core.registry import Registry
from tests.core.test_teardown_stop_wait import JOB, status, training_run
from tests.fakes import Clock
from tests.kills import cli_killed_at
from tui.cli.main import main


def test_a_teardown_killed_while_waiting_for_a_stopped_job_finishes_when_run_again(
    clocked_teardown: AwsContext,
    clock: Clock,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    context = clocked_teardown
    training_run(context, clock)
    s3 = context.client("s3")

    cli_killed_at("teardown.waiting-for-jobs", ["teardown", "--yes"], cwd=tmp_path)
    assert status(context) == "Stopping"  # asked to stop, then killed before anything was emptied
    assert s3.list_objects_v2(Bucket="bt-td", Prefix="r/data/")["KeyCount"] == 1
    left = {(r.kind, r.identifier) for r in Registry().resources()}
    assert {("s3-bucket", "bt-td"), ("s3-prefix", "s3://bt-td/r/")} <= left

    assert main(["teardown", "--yes"]) == 0, capsys.readouterr().err
    out = capsys.readouterr().out
    assert f"Training job {JOB} is already stopping" in out
    assert f"waiting for training job {JOB} to stop" in out
    assert status(context) == "Stopped"
    assert s3.list_buckets()["Buckets"] == []
    assert Registry().resources() == []
    assert main(["teardown", "--yes"]) == 0
    assert "Nothing bedrock-tune made is left" in capsys.readouterr().out
