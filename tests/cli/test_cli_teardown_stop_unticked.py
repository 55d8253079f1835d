"""`bedrock-tune teardown` in a terminal: the user declines our job that is already Stopping
(nothing to ask AWS for it) and says yes to its run folder and bucket. Teardown still waits for
the job to stop before it empties them (it may write its model there), and leaves the job's
launch record alone. Another install's Stopping job is not offered, nor waited for."""

from __future__ import annotations

import pytest

from core.aws import AwsContext
from core.registry import Registry
from core.sagemaker import kinds
from tests.cli.test_cli_teardown import Terminal
from tests.core.test_teardown_stop_registry import JOB, status
from tests.core.test_teardown_stop_unticked import THEIRS, stopping_in_our_bucket
from tests.fakes import Clock
from tui.cli.main import main


def test_a_declined_stopping_job_is_waited_for_before_its_bucket_goes(
    clocked_teardown: AwsContext,
    clock: Clock,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    context = clocked_teardown
    stopping_in_our_bucket(context, clock)
    # No to the job (it is already stopping), yes to the folder and to the bucket.
    monkeypatch.setattr("sys.stdin", Terminal("n\ny\ny\n"))

    assert main(["teardown"]) == 0, capsys.readouterr().err
    out = capsys.readouterr().out

    assert out.count("[y/N]") == 3
    assert f"Stop Training job {JOB}" in out
    assert f"Training job {JOB} is already stopping" not in out  # declined: not handled
    # (Typed answers are not echoed: the first step shares the last question's line.)
    waits = [
        line[line.index("waiting for") :] for line in out.splitlines() if "waiting for" in line
    ]
    assert waits and all(w.startswith(f"waiting for training job {JOB} to stop") for w in waits)
    assert not any("more:" in w for w in waits)  # ours alone
    # Nothing was emptied before the job had Stopped; then the folder and the bucket went.
    stopped = out.index(f"Training job {JOB} is Stopped after")
    assert stopped < out.index("deleted ") < out.index("Deleted the bucket bt-td")
    assert "bt-td" not in [b["Name"] for b in context.client("s3").list_buckets()["Buckets"]]
    left = [(r.kind, r.identifier) for r in Registry().resources()]
    assert left == [(kinds.TRAINING_JOB, JOB)]  # the job kept is kept on the registry too
    assert status(context, THEIRS) == "Stopping"
    assert THEIRS not in out[: out.index("Made by bedrock-tune elsewhere")]
    assert f"waiting for training job {THEIRS}" not in out
