"""The prompt mode's teardown (`bedrock-tune new --plain`): the user says no to our training job
that is already Stopping and yes to its run folder and bucket. Teardown still waits for the job
to stop before it empties them, as the job may write its model there."""

from __future__ import annotations

from core.registry import Registry
from core.sagemaker import kinds
from core.sandbox.server import Sandbox
from tests.cli.plain_script import DEFAULT, Repeat, Script
from tests.cli.test_plain_flow import REGION, session_for
from tests.core.test_teardown_stop_registry import JOB, launched_only, status
from tests.core.test_teardown_stop_unticked import stopping_in_our_bucket
from tests.fakes import Clock, context_for
from tui.cli.plain.finish import teardown_step
from tui.cli.plain.where import credentials_step


def declining_the_job(*, then: bool) -> Script:
    """The prompt mode's answers up to its teardown, where the job is declined and every other
    question answered `then`."""
    return Script(
        [
            ("Where should bedrock-tune work?", DEFAULT),
            ("Which region?", REGION),
            ("Tear down now?", True),
            (f"Stop Training job {JOB}?", False),
            Repeat("?", then),
        ]
    )


def test_a_declined_stopping_job_is_waited_for_before_its_bucket_goes(
    exported_sandbox: Sandbox, clock: Clock
) -> None:
    context = context_for(exported_sandbox)
    stopping_in_our_bucket(context, clock, theirs=False)
    script = declining_the_job(then=True)  # yes to the folder and the bucket
    session = session_for(script, clock)
    credentials_step(session)
    assert status(context, JOB) == "Stopping"

    teardown_step(session)

    said = script.text_said()
    waits = [line.strip() for line in said.splitlines() if "waiting for" in line]
    assert waits and all(w.startswith(f"waiting for training job {JOB} to stop") for w in waits)
    assert status(context, JOB) == "Stopped"
    assert "Deleted the bucket bt-td." in said
    assert "bt-td" not in [b["Name"] for b in context.client("s3").list_buckets()["Buckets"]]
    left = [(r.kind, r.identifier) for r in Registry().resources()]
    assert left == [(kinds.TRAINING_JOB, JOB)]  # declined: kept on the registry too


def test_a_declined_running_job_is_warned_about_before_its_folder_and_bucket_are_asked(
    exported_sandbox: Sandbox, clock: Clock
) -> None:
    context = context_for(exported_sandbox)
    launched_only(context, clock)  # our job still InProgress, writing into s3://bt-td/r/
    script = declining_the_job(then=False)  # keep the folder and the bucket too
    session = session_for(script, clock)
    credentials_step(session)

    teardown_step(session)

    said = " ".join(script.text_said().split())
    warning = f"Warning: Training job {JOB} is still running and writes into"
    assert f"{warning} S3 folder s3://bt-td/r/" in said
    assert f"{warning} S3 bucket bt-td" in said
    assert status(context, JOB) == "InProgress"
