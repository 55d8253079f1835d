"""A SageMaker training job seen over time: its status and secondary statuses as a timeline
(`SecondaryStatusTransitions`), the training loss read from its CloudWatch Logs, and the one
poller set up to follow it to its end. Shared by the SageMaker routes (a JumpStart or Autopilot
training job reads the same way)."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from core.aws import AwsContext
from core.errors import NotFoundError, aws_call
from core.poll import Backoff, Pacing, Poller
from core.sagemaker.role import LOG_GROUP

TERMINAL = frozenset({"Completed", "Failed", "Stopped"})
LOSS = re.compile(r"'loss': ([0-9]+(?:\.[0-9]+)?(?:[eE][-+]?[0-9]+)?)")
"""A loss in the lines Hugging Face's Trainer logs (`{'loss': 1.2345, ..., 'epoch': 0.5}`)."""
EPOCH = re.compile(r"'epoch': ([0-9.]+)")
TRAINING_POLL = Backoff(first=30.0, maximum=180.0)


def _utc(value: Any) -> datetime | None:
    if not isinstance(value, datetime):
        return None
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


@dataclass(frozen=True)
class Transition:
    """One secondary status, with when it started and (once over) ended."""

    status: str
    started: datetime | None
    ended: datetime | None
    message: str


@dataclass(frozen=True)
class TrainingSnapshot:
    """A training job as DescribeTrainingJob describes it at one moment."""

    name: str
    arn: str
    status: str
    """InProgress | Completed | Failed | Stopping | Stopped."""
    secondary_status: str
    timeline: tuple[Transition, ...]
    failure_reason: str | None
    model_artifacts: str | None
    """Where the model is (`S3ModelArtifacts`): a folder when the output is uncompressed."""
    training_seconds: int | None
    billable_seconds: int | None
    """With managed spot training, less than `training_seconds`: the saving."""

    @property
    def ended(self) -> bool:
        """Whether the job can no longer change."""
        return self.status in TERMINAL

    def fingerprint(self) -> tuple[object, ...]:
        """What changes when the job moves on."""
        return (self.status, self.secondary_status, len(self.timeline), self.failure_reason)


def snapshot_from(response: Mapping[str, Any]) -> TrainingSnapshot:
    """A DescribeTrainingJob answer as a snapshot."""
    transitions = tuple(
        Transition(
            status=str(t.get("Status", "")),
            started=_utc(t.get("StartTime")),
            ended=_utc(t.get("EndTime")),
            message=str(t.get("StatusMessage", "")),
        )
        for t in response.get("SecondaryStatusTransitions") or []
    )
    artifacts = (response.get("ModelArtifacts") or {}).get("S3ModelArtifacts")
    return TrainingSnapshot(
        name=str(response.get("TrainingJobName", "")),
        arn=str(response.get("TrainingJobArn", "")),
        status=str(response.get("TrainingJobStatus", "InProgress")),
        secondary_status=str(response.get("SecondaryStatus", "")),
        timeline=transitions,
        failure_reason=response.get("FailureReason"),
        model_artifacts=str(artifacts) if artifacts else None,
        training_seconds=response.get("TrainingTimeInSeconds"),
        billable_seconds=response.get("BillableTimeInSeconds"),
    )


def describe_training_job(context: AwsContext, name: str) -> TrainingSnapshot:
    """The training job now."""
    with aws_call(f"reading the training job {name}"):
        response = context.client("sagemaker").describe_training_job(TrainingJobName=name)
    return snapshot_from(response)


def training_poller(
    fetch: Callable[[], TrainingSnapshot],
    *,
    backoff: Backoff = TRAINING_POLL,
    pacing: Pacing | None = None,
) -> Poller[TrainingSnapshot]:
    """The one poller (`core.poll`), set up to follow a training job until it ends."""
    return Poller(
        fetch,
        finished=lambda snapshot: snapshot.ended,
        backoff=backoff,
        fingerprint=TrainingSnapshot.fingerprint,
        pacing=pacing,
    )


@dataclass(frozen=True)
class LossPoint:
    """One logged training loss."""

    at: datetime
    loss: float
    epoch: float | None


@dataclass(frozen=True)
class LogRead:
    """The loss points read so far, and where the next read continues (per stream)."""

    points: tuple[LossPoint, ...]
    tokens: Mapping[str, str]


def read_loss(
    context: AwsContext, job_name: str, since: Mapping[str, str] | None = None
) -> LogRead:
    """The loss lines of the job's log streams since the last read (none before the job has
    logged anything)."""
    logs = context.client("logs")
    tokens = dict(since or {})
    points: list[LossPoint] = []
    try:
        with aws_call(f"listing the log streams of {job_name}"):
            streams = logs.describe_log_streams(
                logGroupName=LOG_GROUP, logStreamNamePrefix=f"{job_name}/"
            ).get("logStreams", [])
    except NotFoundError:
        return LogRead((), tokens)  # the job has not logged yet: no log group
    for stream in streams:
        name = str(stream["logStreamName"])
        kwargs: dict[str, Any] = {"startFromHead": True}
        if name in tokens:
            kwargs["nextToken"] = tokens[name]
        with aws_call(f"reading the log of {job_name}"):
            page = logs.get_log_events(logGroupName=LOG_GROUP, logStreamName=name, **kwargs)
        for event in page.get("events", []):
            message = str(event.get("message", ""))
            found = LOSS.search(message)
            if found is None:
                continue
            epoch = EPOCH.search(message)
            points.append(
                LossPoint(
                    datetime.fromtimestamp(int(event.get("timestamp", 0)) / 1000, UTC),
                    float(found.group(1)),
                    float(epoch.group(1)) if epoch else None,
                )
            )
        token = page.get("nextForwardToken")
        if token:
            tokens[name] = str(token)
    return LogRead(tuple(sorted(points, key=lambda p: p.at)), tokens)
