"""A training job still running at teardown: teardown stops it, waits (on the test's clock) until
SageMaker has Stopped it, and only then empties its run folder and deletes the bucket, so one
teardown leaves nothing, even though the sandbox's job, like SageMaker's, saves its model into
that folder as it stops. The wait is bounded: past the bound teardown goes on, keeps the run
folder on its list and says why; a second teardown finishes."""

from __future__ import annotations

from collections.abc import Iterator

from core.aws import AwsContext
from core.errors import AccessDeniedError, ThrottledError
from core.poll import Pacing
from core.registry import Registry
from core.run.types import Route, Run
from core.sagemaker import kinds
from core.sagemaker.autopilot import (
    AutopilotRequest,
    check_autopilot_request,
    describe_autopilot_job,
)
from core.sandbox.server import SANDBOX_ACCOUNT_ID
from core.sandbox.training import STOP_SECONDS
from core.statuses import JobStatus
from core.teardown.delete import StopWait, TeardownEvent, default_choice, delete, inventory
from core.teardown.items import TeardownItem
from core.teardown.stopping import STOP_WAIT_SECONDS, is_wait_step, wait_until_ended
from tests.fakes import MANAGED, SAGEMAKER_ROLE, Clock, start_training
from tests.fakes import sandbox_record as record

ROLE = SAGEMAKER_ROLE
JOB = "bt-stop-me"
MODEL_FOLDER = f"r/output/{JOB}/output/model/"
AUTOPILOT_CSV = b'input,output\n"Summarize: #Person1#: hi","A greeting."\n'


def training_run(context: AwsContext, clock: Clock) -> Registry:
    """Our bucket with a run folder (data, and the job's output) and a job training in it."""
    s3 = context.client("s3")
    s3.create_bucket(Bucket="bt-td")
    s3.put_bucket_tagging(Bucket="bt-td", Tagging={"TagSet": MANAGED})
    s3.put_object(Bucket="bt-td", Key="r/data/train.jsonl", Body=b"{}\n")
    start_training(context, JOB)
    clock.t += 20  # a third of the sandbox's 60 s: training
    registry = Registry()
    # As `sagemaker launch` records it: the run names its job, and the job is in the registry.
    run = Run(
        route=Route.SAGEMAKER_JUMPSTART,
        target="sandbox",
        region="us-east-1",
        account_id=SANDBOX_ACCOUNT_ID,
        run_id="run1",
        job_name=JOB,
        job_arn=f"arn:aws:sagemaker:us-east-1:{SANDBOX_ACCOUNT_ID}:training-job/{JOB}",
        job_status=JobStatus.IN_PROGRESS,
    )
    registry.save_run("run1", run)
    registry.add_resource(record("s3-bucket", "bt-td"))
    registry.add_resource(record("s3-prefix", "s3://bt-td/r/"))
    registry.add_resource(record(kinds.TRAINING_JOB, JOB))
    return registry


def status(context: AwsContext) -> str:
    job = context.client("sagemaker").describe_training_job(TrainingJobName=JOB)
    return str(job["TrainingJobStatus"])


def on(clock: Clock, bound: float = STOP_WAIT_SECONDS) -> StopWait:
    """A wait on the test's clock: its sleeps move the sandbox's time, never the wall clock's."""
    return StopWait(pacing=Pacing(clock=clock, sleep=clock.sleep, random=lambda: 0.5), bound=bound)


def test_the_sandbox_job_saves_its_model_as_it_reaches_stopped(
    sandbox_context: AwsContext, clock: Clock
) -> None:
    training_run(sandbox_context, clock)
    s3 = sandbox_context.client("s3")
    sandbox_context.client("sagemaker").stop_training_job(TrainingJobName=JOB)
    assert status(sandbox_context) == "Stopping"
    assert s3.list_objects_v2(Bucket="bt-td", Prefix=MODEL_FOLDER).get("KeyCount") == 0
    clock.t += STOP_SECONDS
    assert status(sandbox_context) == "Stopped"
    saved = s3.list_objects_v2(Bucket="bt-td", Prefix=MODEL_FOLDER)
    assert saved["KeyCount"] > 0  # late, as SageMaker's algorithm may save it after SIGTERM


def test_one_teardown_waits_for_the_stopped_job_then_deletes_its_folder_and_the_bucket(
    sandbox_context: AwsContext, clock: Clock
) -> None:
    context = sandbox_context
    registry = training_run(context, clock)
    items = inventory(context, registry)
    assert [i.kind for i in items if i.kind == kinds.TRAINING_JOB] == [kinds.TRAINING_JOB]
    events: list[TeardownEvent] = []
    started = clock.t

    result = delete(context, default_choice(items), registry, events.append, on(clock))

    assert result.ok, [o.message for o in result.outcomes]
    assert {o.item.kind: o.status for o in result.outcomes} == {
        kinds.TRAINING_JOB: "stopped",
        "s3-prefix": "deleted",
        "s3-bucket": "deleted",
    }
    assert status(context) == "Stopped"  # it bills nothing more, and it saved its model...
    assert context.client("s3").list_buckets()["Buckets"] == []  # ...which went with the bucket
    assert registry.resources() == []
    # The wait was shown (as steps of the folder about to be emptied), and took the stop's time.
    waits = [e for e in events if e.stage == "step" and "waiting for training job" in e.message]
    assert waits and waits[0].item.kind == "s3-prefix"
    assert waits[0].message.startswith(
        f"waiting for training job {JOB} to stop (SageMaker may write its model for up to "
        "2 minutes): Stopping"
    )
    assert STOP_SECONDS <= clock.t - started < STOP_SECONDS + 20
    # Nothing is left for a second teardown.
    assert inventory(context, registry) == []


def test_the_wait_is_bounded_then_teardown_keeps_the_folder_and_a_second_run_finishes(
    sandbox_context: AwsContext, clock: Clock
) -> None:
    context = sandbox_context
    registry = training_run(context, clock)
    events: list[TeardownEvent] = []
    started = clock.t
    bound = STOP_SECONDS - 2  # the job stops after the bound

    result = delete(
        context,
        default_choice(inventory(context, registry)),
        registry,
        events.append,
        on(clock, bound),
    )

    assert bound <= clock.t - started <= bound + 0.1  # the bound, to a cancel tick
    assert status(context) == "Stopping"
    outcomes = {o.item.kind: o for o in result.outcomes}
    kept = outcomes["s3-prefix"]
    assert kept.status == "kept"
    assert f"Training job {JOB} (Stopping) had not ended after teardown waited 3 s" in kept.message
    assert "Run teardown again once the job is Stopped." in kept.message
    assert any(
        f"Training job {JOB} is still Stopping after teardown waited 3 s: teardown goes on"
        in e.message
        for e in events
    )
    # The folder stays on the list: the next teardown empties it again.
    assert [r.identifier for r in registry.resources() if r.kind == "s3-prefix"] == [
        "s3://bt-td/r/"
    ]
    clock.t += STOP_SECONDS
    assert status(context) == "Stopped"
    second = delete(
        context, default_choice(inventory(context, registry)), registry, None, on(clock)
    )
    assert second.ok, [o.message for o in second.outcomes]
    assert context.client("s3").list_buckets()["Buckets"] == []
    assert registry.resources() == []


def job_item(name: str) -> TeardownItem:
    return TeardownItem(
        kind=kinds.TRAINING_JOB,
        identifier=name,
        region="us-east-1",
        label=f"Training job {name}",
        action="stop",
        effect="",
        name=name,
    )


def test_the_wait_survives_throttling_and_ends_at_once_when_cancelled() -> None:
    clock = Clock()
    answers: Iterator[str | Exception] = iter([ThrottledError("slow"), "Stopping", "Stopped"])
    steps: list[str] = []

    def status_of(_job: TeardownItem) -> str:
        answer = next(answers)
        if isinstance(answer, Exception):
            raise answer
        return answer

    wait = StopWait(pacing=Pacing(clock=clock, sleep=clock.sleep, random=lambda: 0.5))
    assert wait_until_ended(status_of, [job_item("a")], steps.append, wait) == []
    assert any("could not read the job status" in s for s in steps)
    assert is_wait_step(steps[0]) and not is_wait_step(steps[-1])  # what prompt mode shows
    assert steps[-1].startswith("Training job a is Stopped after ")

    def denied(_job: TeardownItem) -> str:
        raise AccessDeniedError("not allowed to describe it")

    steps.clear()
    before = clock.t
    assert wait_until_ended(denied, [job_item("c")], steps.append, wait) == []
    assert clock.t == before  # nothing can be learnt: no wait
    assert steps == [
        "Training job c: its status could not be read (not allowed to describe it), so "
        "teardown cannot wait for it to stop"
    ]

    cancelled = StopWait(pacing=wait.pacing, cancelled=lambda: True)
    before = clock.t
    left = wait_until_ended(lambda _job: "Stopping", [job_item("b")], steps.append, cancelled)
    assert [(s.item.name, s.status) for s in left] == [("b", "unknown")]
    assert clock.t == before  # no sleep at all


def test_a_stopped_autopilot_job_is_waited_for_too(
    sandbox_context: AwsContext, clock: Clock
) -> None:
    context = sandbox_context
    s3 = context.client("s3")
    s3.create_bucket(Bucket="bt-ap")
    s3.put_bucket_tagging(Bucket="bt-ap", Tagging={"TagSet": MANAGED})
    s3.put_object(Bucket="bt-ap", Key="r1/data/train.csv", Body=AUTOPILOT_CSV)
    request = check_autopilot_request(
        AutopilotRequest(
            job_name="bt-ap-stop",
            role_arn=ROLE,
            base_model="Falcon7BInstruct",
            training_uri="s3://bt-ap/r1/data/train.csv",
            output_uri="s3://bt-ap/r1/output/",
            hyperparameters={"epochCount": "2"},
        )
    )
    context.client("sagemaker").create_auto_ml_job_v2(**request.to_api())
    clock.t += 20
    registry = Registry()
    registry.add_resource(record("s3-bucket", "bt-ap"))
    registry.add_resource(record("s3-prefix", "s3://bt-ap/r1/"))
    registry.add_resource(record(kinds.AUTOML_JOB, "bt-ap-stop"))
    events: list[TeardownEvent] = []

    result = delete(
        context, default_choice(inventory(context, registry)), registry, events.append, on(clock)
    )

    assert result.ok, [o.message for o in result.outcomes]
    assert describe_autopilot_job(context, "bt-ap-stop").status == "Stopped"
    assert any(e.message.startswith("waiting for Autopilot job bt-ap-stop to stop") for e in events)
    assert s3.list_buckets()["Buckets"] == []
