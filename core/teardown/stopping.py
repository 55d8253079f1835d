"""Teardown waits for the SageMaker jobs it stopped to end before it empties S3.

StopTrainingJob sends the algorithm SIGTERM and gives it 120 seconds to save the model artifacts
(botocore's StopTrainingJob documentation); the job is Stopping meanwhile and Stopped after.
A model saved in that window lands in the job's S3 output folder, a run folder teardown empties:
emptied too early, the folder fills again and the bucket cannot be deleted. So before teardown
empties the first folder or bucket, it polls every training or Autopilot job it stopped (or
found Stopping) until each has ended (Stopped, Failed or Completed), with the one poller
(`core/poll.py`: back-off, a cancel honoured within a tick, injected time). A job of this
install already Stopping that the user did not choose (nothing to ask AWS for it) is waited for
too before its folder or bucket is emptied: waiting changes nothing in AWS.

Autopilot's StopAutoMLJob documents no such window, but a Stopping Autopilot job still runs the
training jobs that write into its output folder; waiting for Stopped costs only time.

The wait is bounded (`STOP_WAIT_SECONDS`): past it teardown goes on, and what a late job writes
keeps the bucket, which teardown then reports (run it again once the job has ended).

A job still running that the user keeps is not waited for (it could run for days): when the
user chooses where it writes, `running_writers` names it, and every front end says so before
anything is deleted.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

from core.aws import AwsContext
from core.errors import BedrockTuneError, NotFoundError, aws_call
from core.faults import write_point
from core.poll import NEEDS_REAUTH, TRANSIENT, Backoff, Pacing, Poller, PollUpdate, never
from core.sagemaker import kinds
from core.teardown.items import BUCKET, PREFIX, EventHandler, TeardownEvent, TeardownItem

WAITED_KINDS = (kinds.TRAINING_JOB, kinds.AUTOML_JOB)
"""The jobs teardown waits for after stopping them: SageMaker's (they write into our folders)."""
ENDED = frozenset({"Stopped", "Failed", "Completed"})
"""TrainingJobStatus / AutoMLJobStatus values after which a job writes nothing more."""
SAVE_WINDOW_SECONDS = 120.0
"""How long SageMaker lets a stopped training job save its model (StopTrainingJob's docs)."""
STOP_WAIT_SECONDS = 300.0
"""The longest teardown waits for the jobs it stopped: the documented 120 s save window, then
as long again and a minute more for SageMaker to upload what was saved, release the instances
and mark the job Stopped (those last steps have no documented duration: a judgement)."""
BACKOFF = Backoff(first=5.0, maximum=20.0)
"""A Stopping job is asked every 5 s at first, at most every 20 s (the bound stays precise)."""


@dataclass(frozen=True)
class StopWait:
    """How teardown waits for stopped jobs: where time comes from, how long at most, and
    whether the caller gave up (a Textual worker's `is_cancelled`)."""

    pacing: Pacing = field(default_factory=Pacing)
    bound: float = STOP_WAIT_SECONDS
    cancelled: Callable[[], bool] = never
    backoff: Backoff = BACKOFF

    @classmethod
    def polling_from(
        cls, first: float, cancelled: Callable[[], bool] = never, pacing: Pacing | None = None
    ) -> StopWait:
        """A wait whose first poll comes after `first` seconds at most (the app's
        `--poll-interval`), backing off to 8 times that, never past `BACKOFF.maximum`."""
        start = min(BACKOFF.first, first)
        return cls(
            pacing=pacing or Pacing(),
            cancelled=cancelled,
            backoff=Backoff(first=start, maximum=min(BACKOFF.maximum, start * 8)),
        )


@dataclass(frozen=True)
class StillStopping:
    """A job that had not ended when teardown stopped waiting."""

    item: TeardownItem
    status: str
    waited: float
    """Seconds teardown waited for it."""


def stopping_unchosen(listed: Iterable[TeardownItem], chosen: set[str]) -> list[TeardownItem]:
    """This install's SageMaker jobs in `listed` (an inventory) that are already Stopping but
    not among the `chosen` keys: the user kept them (there was nothing to ask AWS for them),
    yet they may still write their output, so teardown waits for them before emptying where
    they write (`writes_under`). Jobs made elsewhere (`found`) are waited for only if chosen."""
    return [
        item
        for item in listed
        if item.kind in WAITED_KINDS
        and item.origin == "ours"
        and item.exists
        and item.status == "Stopping"
        and item.key not in chosen
    ]


def writes_under(job: TeardownItem, emptied: TeardownItem) -> bool:
    """Whether `job` may write into what deleting `emptied` (a run folder, or a bucket) empties;
    a job whose output location is unknown may write anywhere."""
    if not job.output:
        return True
    output = job.output.rstrip("/") + "/"
    if emptied.kind == BUCKET:
        return output.startswith(f"s3://{emptied.identifier}/")
    folder = emptied.identifier.rstrip("/") + "/"
    # Into the folder, or into a folder around it (SageMaker adds `<job>/output/` under it).
    return output.startswith(folder) or folder.startswith(output)


def empties_s3(item: TeardownItem) -> bool:
    """Whether deleting `item` empties S3 objects (a run folder, or a bucket we made)."""
    if not item.exists or item.action == "forget":
        return False
    return item.kind == PREFIX or (item.kind == BUCKET and item.created_by_us)


def running_writers(
    listed: Iterable[TeardownItem], chosen: Iterable[TeardownItem]
) -> list[tuple[TeardownItem, TeardownItem]]:
    """(job, folder or bucket) pairs: a SageMaker job in `listed` that still runs, is not
    among `chosen` (the user keeps it), and writes into a folder or bucket that is chosen.
    Teardown does not wait for a running job, so deleting there makes the job fail once it
    saves its output, and it bills until then: the user is told before deciding."""
    picked = list(chosen)
    keys = {item.key for item in picked}
    emptied = [item for item in picked if empties_s3(item)]
    return [
        (job, target)
        for job in listed
        if job.kind in WAITED_KINDS
        and job.exists
        and job.key not in keys
        and job.status not in ENDED
        and job.status != "Stopping"  # waited for before its folder is emptied
        for target in emptied
        if writes_under(job, target)
    ]


def running_writer_warning(job: TeardownItem, target: TeardownItem) -> str:
    """What the user is told about a kept running `job` that writes into `target`."""
    return (
        f"{job.label} is still running and writes into {target.label}: deleting that makes the "
        f"job fail when it saves its output, and the job bills until then. Stop the job too, "
        f"or keep {target.label}."
    )


def waiting_message(item: TeardownItem) -> str:
    """What the user sees while teardown waits for `item` (a training or Autopilot job)."""
    name = item.name or item.identifier
    if item.kind == kinds.TRAINING_JOB:
        return (
            f"waiting for training job {name} to stop (SageMaker may write its model for up to "
            f"{SAVE_WINDOW_SECONDS / 60:g} minutes)"
        )
    return f"waiting for Autopilot job {name} to stop (its training may still write its output)"


def is_wait_step(message: str) -> bool:
    """Whether a teardown step says it is waiting for a stopped job (as `waiting_message`)."""
    return message.startswith("waiting for ")


def job_status(context: AwsContext, item: TeardownItem) -> str:
    """The job's status now ('Stopped' when it no longer exists: it writes nothing).

    Raises:
        BedrockTuneError: throttling, a network fault, expired credentials (the poller retries
            those) or any other refusal.
    """
    name = item.name or item.identifier
    client = context.client("sagemaker")
    try:
        with aws_call(f"reading the {item.label}"):
            if item.kind == kinds.TRAINING_JOB:
                return str(client.describe_training_job(TrainingJobName=name)["TrainingJobStatus"])
            return str(client.describe_auto_ml_job_v2(AutoMLJobName=name)["AutoMLJobStatus"])
    except NotFoundError:
        return "Stopped"


def wait_until_ended(
    status_of: Callable[[TeardownItem], str],
    jobs: Sequence[TeardownItem],
    step: Callable[[str], None],
    wait: StopWait,
) -> list[StillStopping]:
    """Poll `jobs` until every one has ended, the bound has passed or the caller cancelled;
    the jobs still running then (empty: all ended).

    `step` hears what teardown waits for (each poll). A job whose status cannot be read for a
    reason other than a transient fault is not waited for (nothing more can be learnt).
    """
    if not jobs:
        return []
    clock = wait.pacing.clock
    started = clock()
    unreadable: dict[str, str] = {}

    def fetch() -> dict[str, str]:
        statuses: dict[str, str] = {}
        for job in jobs:
            if job.key in unreadable:
                continue
            try:
                statuses[job.key] = status_of(job)
            except (*TRANSIENT, *NEEDS_REAUTH):
                raise  # the poller reports it and asks again
            except BedrockTuneError as error:
                unreadable[job.key] = error.message
        return statuses

    def report(update: PollUpdate[dict[str, str]]) -> None:
        statuses = update.value or {}
        running = [j for j in jobs if statuses.get(j.key) not in ENDED and j.key not in unreadable]
        waited = round(clock() - started)
        for job in running[:1]:  # one line at a time: the first job still running
            more = f" and {len(running) - 1} more" if len(running) > 1 else ""
            state = statuses.get(job.key, "status unknown")
            step(f"{waiting_message(job)}{more}: {state}, {waited} s so far")
        if update.error is not None:
            step(f"could not read the job status ({update.error.message}); trying again")

    def done(statuses: dict[str, str]) -> bool:
        return all(s in ENDED for s in statuses.values())

    def gave_up() -> bool:
        return wait.cancelled() or clock() - started >= wait.bound

    def fetch_at_kill_point() -> dict[str, str]:
        # Teardown may be killed while it waits: the rerun finds the job Stopping and waits again.
        write_point("teardown.waiting-for-jobs")
        return fetch()

    poller = Poller(fetch_at_kill_point, finished=done, backoff=wait.backoff, pacing=wait.pacing)
    final = poller.run(report, cancelled=gave_up)
    statuses = final if final is not None else (poller.last or {})
    for job in jobs:
        if job.key in unreadable:
            step(
                f"{job.label}: its status could not be read ({unreadable[job.key]}), so "
                "teardown cannot wait for it to stop"
            )
    read = [j for j in jobs if j.key in statuses]
    if final is not None and read:
        ended = ", ".join(f"{j.label} is {statuses[j.key]}" for j in read)
        step(f"{ended} after {duration_text(clock() - started)}: nothing more will be written")
    waited = clock() - started
    return [
        StillStopping(job, statuses.get(job.key, "unknown"), waited)
        for job in jobs
        if statuses.get(job.key) not in ENDED and job.key not in unreadable
    ]


def wait_for_jobs(
    context: AwsContext,
    contexts: dict[str, AwsContext],
    jobs: list[TeardownItem],
    item: TeardownItem,
    emit: EventHandler,
    wait: StopWait,
) -> list[StillStopping]:
    """Wait (as steps of `item`, the folder or bucket about to be emptied) until the stopped
    `jobs` have ended; those still running when the bound passed or the caller cancelled.

    `contexts` (Region -> context, shared with `delete`) gains the Regions the jobs are in."""

    def step(message: str) -> None:
        emit(TeardownEvent(item, "step", message))

    def status_of(job: TeardownItem) -> str:
        region = job.region if job.region not in ("", "global") else context.region
        if region not in contexts:
            contexts[region] = context.with_region(region)
        return job_status(contexts[region], job)

    still = wait_until_ended(status_of, jobs, step, wait)
    for left in still:
        step(
            f"{left.item.label} is still {left.status} after teardown waited "
            f"{duration_text(left.waited)}: teardown goes on and keeps the run folders on its list "
            "(run it again once the job has ended)"
        )
    return still


def duration_text(seconds: float) -> str:
    """`5 minutes`, `90 s` (whole seconds)."""
    seconds = round(seconds)
    if seconds >= 60 and seconds % 60 == 0:
        minutes = seconds // 60
        return f"{minutes} minute{'s' if minutes != 1 else ''}"
    return f"{seconds} s"
