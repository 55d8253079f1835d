"""A SageMaker job that teardown stopped stays in the registry (its launch record, no longer
billing) until teardown sees it ended. So when a teardown dies while it waits for the job, the
next one still knows it, though no run records it, and waits for it to stop before it empties
the run folder and deletes the bucket. A job another install made, Stopping too, is listed as
made elsewhere, and neither waited for nor touched."""

from __future__ import annotations

import pytest

from core import faults
from core.aws import AwsContext
from core.ownership import ownership_tags
from core.poll import Backoff, Pacing
from core.registry import Registry
from core.sagemaker import kinds
from core.sandbox.training import STOP_SECONDS
from core.teardown.delete import StopWait, TeardownEvent, default_choice, delete, inventory
from tests.fakes import MANAGED, Clock, Killed, start_training
from tests.fakes import sandbox_record as record

JOB = "bt-launched-only"
OTHER_JOB = "bt-other-install"
OTHER_INSTALL = "0123456789abcdef0123456789abcdef"
"""The id of another install of bedrock-tune (this one's is random: never this)."""


def launched_only(context: AwsContext, clock: Clock) -> Registry:
    """Our bucket with a run folder and a job training in it, which the registry knows only by
    its launch record (`core/sagemaker/launching.py`): no run names it."""
    s3 = context.client("s3")
    s3.create_bucket(Bucket="bt-td")
    s3.put_bucket_tagging(Bucket="bt-td", Tagging={"TagSet": MANAGED})
    s3.put_object(Bucket="bt-td", Key="r/data/train.jsonl", Body=b"{}\n")
    registry = Registry()
    # Tagged bedrock-tune's, but not with this install's id (as a launch before install ids,
    # or one whose tags were edited): only the launch record says it is this install's.
    start_training(context, JOB)
    clock.t += 20  # training
    registry.add_resource(record("s3-bucket", "bt-td"))
    registry.add_resource(record("s3-prefix", "s3://bt-td/r/"))
    registry.add_resource(record(kinds.TRAINING_JOB, JOB, billable=True))
    return registry


def other_install_job(context: AwsContext) -> None:
    """A job another install launched, training into its own tagged bucket."""
    s3 = context.client("s3")
    s3.create_bucket(Bucket="bt-other")
    tags = ownership_tags(OTHER_INSTALL, "arn:aws:iam::123456789012:user/someone-else")
    s3.put_bucket_tagging(
        Bucket="bt-other", Tagging={"TagSet": [{"Key": k, "Value": v} for k, v in tags.items()]}
    )
    s3.put_object(Bucket="bt-other", Key="r/data/train.jsonl", Body=b"{}\n")
    start_training(context, OTHER_JOB, folder="s3://bt-other/r/", tags=tags)


def status(context: AwsContext, name: str) -> str:
    job = context.client("sagemaker").describe_training_job(TrainingJobName=name)
    return str(job["TrainingJobStatus"])


def job_tags(context: AwsContext, name: str) -> dict[str, str]:
    client = context.client("sagemaker")
    arn = client.describe_training_job(TrainingJobName=name)["TrainingJobArn"]
    return {t["Key"]: t["Value"] for t in client.list_tags(ResourceArn=arn)["Tags"]}


def on(clock: Clock) -> StopWait:
    """A wait on the test's clock, asking every second or so (the sandbox stops in 5 s)."""
    pacing = Pacing(clock=clock, sleep=clock.sleep, random=lambda: 0.5)
    return StopWait(pacing=pacing, backoff=Backoff(first=1.0, maximum=2.0))


def first_teardown_killed(context: AwsContext, registry: Registry) -> None:
    """Teardown stops the job, then dies while it waits, before anything is emptied."""
    faults.set_hook(lambda point: _die_at(point, "teardown.waiting-for-jobs"))
    try:
        with pytest.raises(Killed):
            delete(context, default_choice(inventory(context, registry)), registry)
    finally:
        faults.set_hook(None)


def _die_at(point: str, wanted: str) -> None:
    if point == wanted:
        raise Killed


def test_the_next_teardown_waits_for_a_job_only_its_launch_record_knows(
    sandbox_context: AwsContext, clock: Clock
) -> None:
    context = sandbox_context
    other_install_job(context)
    registry = launched_only(context, clock)
    first_teardown_killed(context, registry)
    # As the dead teardown left it: the job Stopping, the launch record kept (billing no more),
    # no run, and nothing emptied yet.
    assert status(context, JOB) == "Stopping"
    assert registry.runs() == []
    kept = {(r.kind, r.identifier): r for r in registry.resources()}
    assert not kept[(kinds.TRAINING_JOB, JOB)].billable
    s3 = context.client("s3")
    assert s3.list_objects_v2(Bucket="bt-td", Prefix="r/data/")["KeyCount"] == 1

    clock.t += 3  # ours is Stopping 2 s more...
    context.client("sagemaker").stop_training_job(TrainingJobName=OTHER_JOB)  # ...this one 5 s
    other_tags = job_tags(context, OTHER_JOB)
    items = inventory(context, registry)
    found = {i.identifier: i.origin for i in items if i.kind == kinds.TRAINING_JOB}
    assert found == {JOB: "ours", OTHER_JOB: "found"}  # teardown sees both, owns one
    job_when_emptied: dict[str, str] = {}
    events: list[TeardownEvent] = []

    def watch(event: TeardownEvent) -> None:
        events.append(event)
        if event.stage == "start" and event.item.kind in ("s3-prefix", "s3-bucket"):
            job_when_emptied[event.item.kind] = status(context, JOB)
        if event.stage == "end" and event.item.kind in ("s3-prefix", "s3-bucket"):
            job_when_emptied[f"{event.item.kind} {event.status}"] = status(context, JOB)

    result = delete(context, default_choice(items), registry, watch, on(clock))

    assert result.ok, [o.message for o in result.outcomes]
    # It waited (the folder's steps say so) and emptied the folder and deleted the bucket only
    # once the job had Stopped.
    waits = [e.message for e in events if e.stage == "step" and "waiting for" in e.message]
    assert waits and all(m.startswith(f"waiting for training job {JOB} to stop") for m in waits)
    assert job_when_emptied == {
        "s3-prefix": "Stopping",  # about to be emptied: the wait comes first
        "s3-prefix deleted": "Stopped",
        "s3-bucket": "Stopped",
        "s3-bucket deleted": "Stopped",
    }
    assert "bt-td" not in [b["Name"] for b in s3.list_buckets()["Buckets"]]
    assert registry.resources() == []
    # The other install's job was not waited for (it is still Stopping: a wait for it would
    # have lasted until it Stopped), not named, and not touched; nor was its bucket.
    assert status(context, OTHER_JOB) == "Stopping"
    assert not any(OTHER_JOB in e.message for e in events)
    assert job_tags(context, OTHER_JOB) == other_tags
    assert s3.list_objects_v2(Bucket="bt-other", Prefix="r/")["KeyCount"] == 1
    clock.t += STOP_SECONDS
    # Nothing of ours is left; what the other install made is still only listed.
    assert default_choice(inventory(context, registry)) == []


def test_a_job_stopped_by_a_teardown_that_did_not_wait_is_forgotten_once_it_has_ended(
    sandbox_context: AwsContext, clock: Clock
) -> None:
    context = sandbox_context
    registry = launched_only(context, clock)
    job = [i for i in inventory(context, registry) if i.kind == kinds.TRAINING_JOB]

    # Only the job is chosen: nothing is emptied, so nothing waits for it.
    result = delete(context, job, registry, None, on(clock))

    assert [o.status for o in result.outcomes] == ["stopped"]
    assert status(context, JOB) == "Stopping"
    # Its record stays (a later teardown that deletes the bucket must wait for it)...
    left = [i for i in inventory(context, registry) if i.kind == kinds.TRAINING_JOB]
    assert [(i.identifier, i.status, i.exists) for i in left] == [(JOB, "Stopping", True)]
    clock.t += STOP_SECONDS
    # ...until it has ended: then teardown forgets it.
    ended = [i for i in inventory(context, registry) if i.kind == kinds.TRAINING_JOB]
    assert [(i.identifier, i.exists) for i in ended] == [(JOB, False)]
    delete(context, ended, registry, None, on(clock))
    assert (kinds.TRAINING_JOB, JOB) not in {(r.kind, r.identifier) for r in registry.resources()}


def test_a_stopping_job_known_only_by_this_install_tag_is_waited_for_too(
    sandbox_context: AwsContext, clock: Clock
) -> None:
    context = sandbox_context
    registry = launched_only(context, clock)
    registry.remove_resource(kinds.TRAINING_JOB, JOB)  # its launch record is lost...
    arn = context.client("sagemaker").describe_training_job(TrainingJobName=JOB)["TrainingJobArn"]
    tags = ownership_tags(registry.install_id(), None)  # ...but its tags say this install
    context.client("sagemaker").add_tags(
        ResourceArn=arn, Tags=[{"Key": k, "Value": v} for k, v in tags.items()]
    )
    context.client("sagemaker").stop_training_job(TrainingJobName=JOB)
    items = inventory(context, registry)
    assert [(i.identifier, i.ours_by) for i in items if i.kind == kinds.TRAINING_JOB] == [
        (JOB, "this install's tag")
    ]
    events: list[TeardownEvent] = []

    result = delete(context, default_choice(items), registry, events.append, on(clock))

    assert result.ok, [o.message for o in result.outcomes]
    assert any(e.message.startswith(f"waiting for training job {JOB} to stop") for e in events)
    assert status(context, JOB) == "Stopped"
    assert context.client("s3").list_buckets()["Buckets"] == []
