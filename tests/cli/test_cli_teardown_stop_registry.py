"""`bedrock-tune teardown --yes` killed (SIGKILL) while it waits for a training job that only the
registry's launch record knows (no run names it, and its tags do not carry this install's id):
the rerun still knows the job, waits until it has Stopped, and only then empties the run folder
and deletes the bucket. Another install's job, Stopping meanwhile, is listed as made elsewhere
and neither waited for nor touched."""

from __future__ import annotations

from pathlib import Path

import pytest

from core.aws import AwsContext
from core.registry import Registry
from core.sagemaker import kinds
from tests.core.test_teardown_stop_registry import (
    JOB,
    OTHER_JOB,
    job_tags,
    launched_only,
    other_install_job,
    status,
)
from tests.fakes import Clock
from tests.kills import cli_killed_at
from tui.cli.main import main


def test_a_rerun_waits_for_a_job_only_its_launch_record_knows_and_not_for_another_installs(
    clocked_teardown: AwsContext,
    clock: Clock,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    context = clocked_teardown
    other_install_job(context)
    launched_only(context, clock)
    s3 = context.client("s3")

    cli_killed_at("teardown.waiting-for-jobs", ["teardown", "--yes"], cwd=tmp_path)
    assert status(context, JOB) == "Stopping"  # asked to stop, then killed
    assert s3.list_objects_v2(Bucket="bt-td", Prefix="r/data/")["KeyCount"] == 1
    assert Registry().runs() == []
    left = {(r.kind, r.identifier) for r in Registry().resources()}
    assert (kinds.TRAINING_JOB, JOB) in left  # the launch record outlives the stop
    clock.t += 3
    context.client("sagemaker").stop_training_job(TrainingJobName=OTHER_JOB)
    other_tags = job_tags(context, OTHER_JOB)

    assert main(["teardown", "--yes"]) == 0, capsys.readouterr().err
    out = capsys.readouterr().out

    assert f"Training job {JOB} is already stopping" in out
    waits = [line.strip() for line in out.splitlines() if "waiting for" in line]
    assert waits and all(w.startswith(f"waiting for training job {JOB} to stop") for w in waits)
    assert not any("more:" in w for w in waits)  # it waited for our job alone
    # The bucket went only once the job had Stopped.
    assert out.index(f"Training job {JOB} is Stopped after") < out.index("Deleted the bucket bt-td")
    assert status(context, JOB) == "Stopped"
    assert "bt-td" not in [b["Name"] for b in s3.list_buckets()["Buckets"]]
    assert Registry().resources() == []
    # The other install's job: listed apart, never stopped or waited for; its bucket untouched.
    elsewhere = out[out.index("Made by bedrock-tune elsewhere") :]
    assert f"Training job {OTHER_JOB}" in elsewhere
    assert f"Training job {OTHER_JOB}" not in out[: out.index("Made by bedrock-tune elsewhere")]
    assert f"Training job {OTHER_JOB} is already stopping" not in out
    assert job_tags(context, OTHER_JOB) == other_tags
    assert s3.list_objects_v2(Bucket="bt-other", Prefix="r/data/")["KeyCount"] == 1
