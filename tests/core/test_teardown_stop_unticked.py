"""A job of this install that is already Stopping, but which the user did not choose (unticked in
the TUI, declined at the CLI's question: there is nothing to ask AWS for it), may still write its
model into the run folder. When the user chooses that folder or its bucket, teardown waits for
the job to stop before emptying them, without touching or forgetting the job. Another install's
Stopping job, not chosen, is never waited for, even when it writes into the same bucket."""

from __future__ import annotations

from core.aws import AwsContext
from core.importing.tiny import tiny_model_files
from core.ownership import ownership_tags
from core.registry import Registry
from core.sagemaker import kinds
from core.sandbox.training import STOP_SECONDS
from core.teardown.delete import TeardownEvent, TeardownItem, default_choice, delete, inventory
from core.teardown.items import Origin
from core.teardown.stopping import stopping_unchosen, writes_under
from tests.core.test_teardown_stop_registry import JOB, OTHER_INSTALL, launched_only, on, status
from tests.fakes import Clock, start_training

THEIRS = "bt-theirs-in-ours"
"""Another install's job writing into our bucket (a bucket both installs were given)."""


def stopping_in_our_bucket(context: AwsContext, clock: Clock, *, theirs: bool = True) -> Registry:
    """Our bucket and run folder, our job Stopping (a teardown asked it to stop, choosing only
    the job: its launch record stays), and (with `theirs`) another install's job training into
    the same bucket, stopped 4 s after ours (so Stopped 4 s after ours too)."""
    registry = launched_only(context, clock)
    if theirs:
        tags = ownership_tags(OTHER_INSTALL, "arn:aws:iam::123456789012:user/someone-else")
        start_training(context, THEIRS, folder="s3://bt-td/theirs/", tags=tags)
    clock.t += 15  # training: a job saves a model when it reaches Stopped
    ours = [i for i in inventory(context, registry) if i.key == f"{kinds.TRAINING_JOB}:{JOB}"]
    delete(context, ours, registry, None, on(clock))
    clock.t += 4
    if theirs:
        context.client("sagemaker").stop_training_job(TrainingJobName=THEIRS)
    return registry


def test_an_unchosen_stopping_job_of_ours_is_waited_for_before_its_bucket_is_emptied(
    sandbox_context: AwsContext, clock: Clock
) -> None:
    context = sandbox_context
    registry = stopping_in_our_bucket(context, clock)
    items = inventory(context, registry)
    jobs = {i.identifier: (i.origin, i.status) for i in items if i.kind == kinds.TRAINING_JOB}
    assert jobs == {JOB: ("ours", "Stopping"), THEIRS: ("found", "Stopping")}
    # The user keeps the job (unticked) and chooses the folder and the bucket.
    chosen = [i for i in default_choice(items) if i.kind != kinds.TRAINING_JOB]
    assert {i.kind for i in chosen} == {"s3-prefix", "s3-bucket"}
    events: list[TeardownEvent] = []
    when_emptied: dict[str, str] = {}

    def watch(event: TeardownEvent) -> None:
        events.append(event)
        if event.stage == "step" and event.message.startswith("deleted "):  # objects went
            when_emptied.setdefault(event.item.kind, status(context, JOB))
        if event.stage == "start" and event.item.kind == "s3-bucket":
            when_emptied[event.item.kind] = status(context, JOB)

    result = delete(context, chosen, registry, watch, on(clock), listed=items)

    assert result.ok, [o.message for o in result.outcomes]
    waits = [e.message for e in events if e.stage == "step" and "waiting for" in e.message]
    assert waits and all(m.startswith(f"waiting for training job {JOB} to stop") for m in waits)
    assert not any("more:" in m for m in waits)  # ours alone
    # The folder was emptied only once the job had Stopped, after it saved its model there
    # (the folder held the training data and the model: both deleted), and the bucket went.
    assert when_emptied == {"s3-prefix": "Stopped", "s3-bucket": "Stopped"}
    emptied = {o.item.kind: o.message for o in result.outcomes}
    assert emptied["s3-prefix"] == (
        f"Deleted {1 + len(tiny_model_files())} objects under s3://bt-td/r/."
    )
    s3 = context.client("s3")
    assert "bt-td" not in [b["Name"] for b in s3.list_buckets()["Buckets"]]
    # The job kept was not touched: its launch record stays until a teardown forgets it.
    left = [(r.kind, r.identifier, r.billable) for r in registry.resources()]
    assert left == [(kinds.TRAINING_JOB, JOB, False)]
    # The other install's job was not waited for (it would have Stopped, saved its model in
    # the bucket and kept it) nor named.
    assert status(context, THEIRS) == "Stopping"
    assert not any(THEIRS in e.message for e in events)
    clock.t += STOP_SECONDS
    assert "bt-td" not in [b["Name"] for b in s3.list_buckets()["Buckets"]]


def test_without_the_listing_nothing_unchosen_is_waited_for(
    sandbox_context: AwsContext, clock: Clock
) -> None:
    # The quit guard deletes only serving, from registry entries: nothing to wait for there.
    context = sandbox_context
    registry = stopping_in_our_bucket(context, clock)
    items = inventory(context, registry)
    folder = [i for i in items if i.kind == "s3-prefix"]
    events: list[TeardownEvent] = []

    delete(context, folder, registry, events.append, on(clock))

    assert not any("waiting for" in e.message for e in events)
    assert status(context, JOB) == "Stopping"


def job(
    output: str, identifier: str = "j", origin: Origin = "ours", status: str = "Stopping"
) -> TeardownItem:
    """A training job as the inventory lists it, writing under `output`."""
    return TeardownItem(
        kinds.TRAINING_JOB,
        identifier,
        "us-east-1",
        f"Training job {identifier}",
        "stop",
        "",
        origin=origin,
        status=status,
        output=output,
    )


def folder(uri: str) -> TeardownItem:
    return TeardownItem("s3-prefix", uri, "us-east-1", uri, "delete", "")


def bucket(name: str) -> TeardownItem:
    return TeardownItem("s3-bucket", name, "global", name, "delete", "")


def test_which_kept_jobs_are_waited_for_where() -> None:
    into_run = job("s3://b/bedrock-tune/run1/output")
    assert writes_under(into_run, folder("s3://b/bedrock-tune/run1/"))
    assert writes_under(into_run, folder("s3://b/bedrock-tune/run1/output/j/"))
    assert not writes_under(into_run, folder("s3://b/bedrock-tune/run10/"))
    assert not writes_under(into_run, folder("s3://other/bedrock-tune/run1/"))
    assert writes_under(into_run, bucket("b"))
    assert not writes_under(into_run, bucket("b2"))
    assert writes_under(job(""), bucket("anything"))  # unknown output: it may write anywhere
    listed = [
        into_run,
        job("", identifier="found", origin="found"),
        job("", identifier="training", status="InProgress"),
        job("", identifier="chosen"),
    ]
    kept = stopping_unchosen(listed, {f"{kinds.TRAINING_JOB}:chosen"})
    assert [j.identifier for j in kept] == ["j"]
