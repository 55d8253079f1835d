"""SageMaker training jobs in the sandbox: they play out instead of completing at once.

moto's training jobs are `Completed` the moment they are created. Here a job created through the
sandbox runs for `training_seconds` (by the injected clock) through SageMaker's secondary
statuses, Starting, Downloading, Training, Uploading, then Completed, each recorded in
`SecondaryStatusTransitions` with its start and end; while it trains, lines with a falling loss
appear in CloudWatch Logs (`/aws/sagemaker/TrainingJobs`, stream `<job>/algo-1-<time>`, in the
shape Hugging Face's Trainer prints them); when it completes, a small but valid Hugging Face model
folder (`core.importing.tiny`) is written where SageMaker puts an uncompressed model
(`<S3OutputPath>/<job>/output/model/`), so the import that follows has something real to check.

ListTrainingJobs says (and filters by) the status a job has played out to.

StopTrainingJob: the job goes Stopping, then Stopped `STOP_SECONDS` later (by the clock). As on
AWS, where the algorithm gets SIGTERM and 120 s to save its model, a job stopped once it was
training writes its model when it reaches Stopped: late, after a teardown may have emptied the
folder (what teardown's wait for stopped jobs is for).

It edits moto's in-process backends (S3, CloudWatch Logs) directly, like the Bedrock job
simulator. A serverless job (`ServerlessJobConfig`, which moto ignores) plays out the same way.
"""

from __future__ import annotations

import json
import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from core.sandbox.training_faults import NORMAL, Plan, plan_for

PHASES = NORMAL
"""(secondary status, fraction of the job at which it ends, its message); a job meeting a fault
(`core/sandbox/training_faults.py`) plays its own."""
LOG_GROUP = "/aws/sagemaker/TrainingJobs"
LOG_LINES = 20
"""Loss lines a sandbox job logs over its training phase."""
STOP_SECONDS = 5.0
"""How long a stopped job stays Stopping before it is Stopped here."""


@dataclass
class _TrainingJob:
    account_id: str
    region: str
    name: str
    created: float
    created_at: datetime
    output_path: str
    compressed: bool
    stream: str
    serverless: dict[str, Any] | None = None
    plan: Plan = field(default_factory=Plan)
    stopped_at: float | None = None
    logged: int = 0
    finished: bool = False


def _loss(step: int) -> float:
    """A plausible falling training loss."""
    return round(0.55 + 1.9 * math.exp(-step / 6) + 0.03 * math.sin(step * 1.3), 4)


class TrainingSimulator:
    """Plays out the sandbox's SageMaker training jobs."""

    def __init__(
        self, training_seconds: float = 60.0, clock: Callable[[], float] = time.time
    ) -> None:
        self.training_seconds = training_seconds
        self._clock = clock
        self._jobs: dict[tuple[str, str, str], _TrainingJob] = {}
        self._lock = threading.Lock()

    def job_created(self, account_id: str, region: str, body: dict[str, Any]) -> None:
        """Start playing out a job CreateTrainingJob just made (`body` is its request)."""
        name = str(body.get("TrainingJobName", ""))
        output = body.get("OutputDataConfig") or {}
        now = datetime.now(UTC)
        with self._lock:
            self._jobs[(account_id, region, name)] = _TrainingJob(
                account_id,
                region,
                name,
                self._clock(),
                now,
                str(output.get("S3OutputPath", "")).rstrip("/"),
                output.get("CompressionType", "GZIP") != "NONE",
                f"{name}/algo-1-{int(now.timestamp())}",
                body.get("ServerlessJobConfig"),
                plan_for(body),
            )

    def _fraction(self, job: _TrainingJob) -> float:
        now = self._clock() if job.stopped_at is None else job.stopped_at  # frozen by a stop
        fraction = min(1.0, max(0.0, (now - job.created) / self.training_seconds))
        if job.plan.failure is not None:  # a failed job stays where it failed
            fraction = min(fraction, job.plan.failure[0])
        return fraction

    def _failed(self, job: _TrainingJob) -> str | None:
        """The job's FailureReason once it has failed."""
        failure = job.plan.failure
        if failure is None or self._fraction(job) < failure[0]:
            return None
        return failure[1]

    def stop(self, account_id: str, region: str, name: str) -> str | None:
        """StopTrainingJob: None when the job goes Stopping, else why it cannot be stopped."""
        with self._lock:
            job = self._jobs.get((account_id, region, name))
        if job is None:
            return f"Requested resource not found: training job {name}."
        if job.stopped_at is not None or self._fraction(job) >= 1.0 or self._failed(job):
            return f"The training job {name} is not in progress: it cannot be stopped."
        job.stopped_at = self._clock()
        return None

    def _at(self, job: _TrainingJob, fraction: float) -> datetime:
        return job.created_at + timedelta(seconds=fraction * self.training_seconds)

    def advance(self, account_id: str) -> None:
        """Write the log lines and the model files that should exist by now."""
        with self._lock:
            jobs = [j for j in self._jobs.values() if j.account_id == account_id]
        for job in jobs:
            fraction = self._fraction(job)
            training_start, training_end = PHASES[1][1], PHASES[2][1]
            share = (fraction - training_start) / (training_end - training_start)
            wanted = max(0, min(LOG_LINES, math.floor(share * LOG_LINES)))
            if wanted > job.logged:
                self._log(job, job.logged, wanted)
                job.logged = wanted
            if fraction >= 1.0 and not job.finished and job.stopped_at is None:  # never failed
                job.finished = True
                self._write_model(job)
            elif not job.finished and self._saved_when_stopped(job, fraction):
                # SageMaker gives a stopped job 120 s to save its model (StopTrainingJob's
                # docs): a job stopped while training saves it as it reaches Stopped, into the
                # folder teardown may have emptied already (the race teardown waits out).
                job.finished = True
                self._write_model(job)

    def _saved_when_stopped(self, job: _TrainingJob, fraction: float) -> bool:
        """Whether a stopped job has now reached Stopped having trained (so saves a model)."""
        if job.stopped_at is None or self._clock() - job.stopped_at < STOP_SECONDS:
            return False
        return fraction >= PHASES[1][1] and self._failed(job) is None

    def _log(self, job: _TrainingJob, first: int, last: int) -> None:
        from moto.logs.models import logs_backends

        backend = logs_backends[job.account_id][job.region]
        if LOG_GROUP not in backend.groups:
            backend.create_log_group(LOG_GROUP, {})
        group = backend.groups[LOG_GROUP]
        if job.stream not in group.streams:
            backend.create_log_stream(LOG_GROUP, job.stream)
        events = []
        for step in range(first, last):
            epoch = round(2 * (step + 1) / LOG_LINES, 2)
            stamp = self._at(job, PHASES[1][1] + (step + 1) / LOG_LINES * 0.65)
            record = {"loss": _loss(step), "learning_rate": 0.0002, "epoch": epoch}
            events.append(
                {
                    "timestamp": int(stamp.timestamp() * 1000),
                    "message": str(record),  # the dict Hugging Face's Trainer prints
                }
            )
        backend.put_log_events(LOG_GROUP, job.stream, events)

    def _write_model(self, job: _TrainingJob) -> None:
        from moto.s3.models import s3_backends

        from core.importing.tiny import tiny_model_files

        bucket, _, prefix = job.output_path.removeprefix("s3://").partition("/")
        folder = f"{prefix}/{job.name}/output/model/".lstrip("/")
        backend = s3_backends[job.account_id]["global"]
        if backend.buckets.get(bucket) is None:
            return  # SageMaker would fail the job; the sandbox leaves the output missing
        for name, data in tiny_model_files().items():
            backend.put_object(bucket, folder + name, data)

    def model_folder(self, job: _TrainingJob) -> str:
        """Where the job's model is (SageMaker's `S3ModelArtifacts`)."""
        base = f"{job.output_path}/{job.name}/output"
        return f"{base}/model.tar.gz" if job.compressed else f"{base}/model/"

    def decorate(self, account_id: str, region: str, body: dict[str, Any]) -> dict[str, Any]:
        """DescribeTrainingJob as the job stands now (moto says Completed at once)."""
        name = str(body.get("TrainingJobName", ""))
        with self._lock:
            job = self._jobs.get((account_id, region, name))
        if job is None:
            return body
        self.advance(account_id)
        fraction = self._fraction(job)
        transitions = []
        start = 0.0
        current = "Completed"
        failure = self._failed(job)
        for status, end, message in job.plan.phases:
            if fraction < start or (failure is not None and fraction <= start):
                break
            entry: dict[str, Any] = {
                "Status": status,
                "StartTime": self._at(job, start).isoformat(),
                "StatusMessage": message,
            }
            if fraction >= end:
                entry["EndTime"] = self._at(job, end).isoformat()
            else:
                current = status
            transitions.append(entry)
            start = end
        done = fraction >= 1.0 and failure is None
        if failure is not None:
            transitions.append(
                {
                    "Status": "Failed",
                    "StartTime": self._at(job, fraction).isoformat(),
                    "StatusMessage": failure,
                }
            )
        if done:
            transitions.append(
                {
                    "Status": "Completed",
                    "StartTime": self._at(job, 1.0).isoformat(),
                    "StatusMessage": "Training job completed",
                }
            )
        body = dict(body)
        if job.serverless is not None:  # as asked (moto stored a stand-in algorithm)
            body["ServerlessJobConfig"] = job.serverless
            body.pop("AlgorithmSpecification", None)
            body.pop("ResourceConfig", None)
        body["TrainingJobStatus"] = "Completed" if done else "InProgress"
        body["SecondaryStatus"] = current
        if failure is not None:
            body["TrainingJobStatus"] = body["SecondaryStatus"] = "Failed"
            body["FailureReason"] = failure
        if job.stopped_at is not None:
            done = False
            stopped = self._clock() - job.stopped_at >= STOP_SECONDS
            body["TrainingJobStatus"] = body["SecondaryStatus"] = (
                "Stopped" if stopped else "Stopping"
            )
            transitions.append(
                {
                    "Status": body["SecondaryStatus"],
                    "StartTime": self._at(job, fraction).isoformat(),
                    "StatusMessage": "Stopped by the user",
                }
            )
        body["SecondaryStatusTransitions"] = transitions
        body["CreationTime"] = job.created_at.isoformat()
        body["LastModifiedTime"] = self._at(job, min(fraction, 1.0)).isoformat()
        if fraction >= PHASES[1][1]:
            body["TrainingStartTime"] = self._at(job, PHASES[1][1]).isoformat()
        if done:
            body["TrainingEndTime"] = self._at(job, 1.0).isoformat()
            body["ModelArtifacts"] = {"S3ModelArtifacts": self.model_folder(job)}
            body["FinalMetricDataList"] = [
                {"MetricName": "train:loss", "Value": _loss(LOG_LINES - 1)}
            ]
            seconds = max(1, round(self.training_seconds * (PHASES[2][1] - PHASES[1][1])))
            body["TrainingTimeInSeconds"] = seconds
            body["BillableTimeInSeconds"] = max(1, round(seconds * job.plan.billable_share))
        else:
            for key in (
                "TrainingEndTime",
                "ModelArtifacts",
                "FinalMetricDataList",
                "TrainingTimeInSeconds",
                "BillableTimeInSeconds",
            ):
                body.pop(key, None)
        return body

    def listed(
        self, account_id: str, region: str, body: dict[str, Any], status: str | None
    ) -> dict[str, Any]:
        """ListTrainingJobs as the jobs stand now: each summary says the played-out status
        (moto's says Completed at once), and `status` (the request's StatusEquals, which moto
        was not given) keeps only the jobs in it."""
        summaries = []
        for summary in body.get("TrainingJobSummaries", []):
            name = str(summary.get("TrainingJobName", ""))
            now = self.decorate(account_id, region, {"TrainingJobName": name})
            current = str(now.get("TrainingJobStatus") or summary.get("TrainingJobStatus"))
            if status is None or current == status:
                summaries.append({**summary, "TrainingJobStatus": current})
        return {**body, "TrainingJobSummaries": summaries}


def parse_body(raw: bytes) -> dict[str, Any]:
    """A JSON request body (empty for anything else)."""
    try:
        data = json.loads(raw or b"{}")
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}
