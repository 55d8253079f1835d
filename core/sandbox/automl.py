"""SageMaker Autopilot (AutoML v2) jobs in the sandbox: they play out instead of answering at once.

moto stores a CreateAutoMLJobV2 job and describes it as InProgress with a fixed tabular
candidate. Here a job runs for `automl_seconds` (by the injected clock) through
`AutoMLJobSecondaryStatus` Starting, then TrainingModels, then Completed, with a best candidate
carrying text-generation metrics (ROUGE, perplexity, losses by `StandardMetricName`) and
inference containers, and its model artefact written to the output path. A training CSV without
Autopilot's `input` and `output` columns (read from moto's S3 when the job is created) fails the
job at the end of Starting with a FailureReason saying which column is missing. StopAutoMLJob
goes Stopping, then Stopped.
"""

from __future__ import annotations

import csv
import gzip
import io
import tarfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from core.sandbox.table import PassThrough, Reply, SandboxRequest, emulates, json_error

if TYPE_CHECKING:
    from core.sandbox.table import Sandbox

PHASES: tuple[tuple[str, float], ...] = (("Starting", 0.15), ("TrainingModels", 1.0))
"""(AutoMLJobSecondaryStatus, fraction of the job at which it ends): the statuses the reference
names for text generation."""
STOP_SECONDS = 5.0
INFERENCE_IMAGE = "763104351884.dkr.ecr.{region}.amazonaws.com/sandbox-tgi-inference:2"
METRICS = {
    "Rouge1": 0.412,
    "Rouge2": 0.187,
    "RougeL": 0.331,
    "RougeLSum": 0.334,
    "Perplexity": 6.48,
    "ValidationLoss": 1.869,
    "TrainingLoss": 1.612,
}
"""The sandbox candidate's metrics (plausible for a dialogue-summary fine-tune; not measured)."""


@dataclass
class _AutoMLJob:
    account_id: str
    region: str
    name: str
    created: float
    created_at: datetime
    output_path: str
    base_model: str
    failure: str | None
    stopped_at: float | None = None
    written: bool = False


def _tiny_archive() -> bytes:
    """A small but real model.tar.gz (one file saying it is the sandbox's)."""
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w") as archive:
        data = b"bedrock-tune sandbox: a stand-in for the fine-tuned model\n"
        info = tarfile.TarInfo("SANDBOX.txt")
        info.size = len(data)
        archive.addfile(info, io.BytesIO(data))
    return gzip.compress(raw.getvalue(), mtime=0)


def _read_header(account_id: str, uri: str) -> tuple[list[str] | None, str]:
    """The header of the CSV at `uri` (a file, or the first .csv under a prefix) in moto's S3,
    and where it was read; None when there is no such file."""
    from moto.s3.models import s3_backends

    bucket_name, _, key = uri.removeprefix("s3://").partition("/")
    backend = s3_backends[account_id]["global"]
    bucket = backend.buckets.get(bucket_name)
    if bucket is None:
        return None, uri
    keys = sorted(k for k in bucket.keys if k.startswith(key))
    chosen = key if key in keys else next((k for k in keys if k.endswith(".csv")), None)
    if chosen is None:
        return None, uri
    value = bucket.keys.get(chosen)
    text = bytes(value.value).decode("utf-8", "replace") if value is not None else ""
    first = next(csv.reader(io.StringIO(text)), [])
    return first, f"s3://{bucket_name}/{chosen}"


def data_failure(account_id: str, body: dict[str, Any]) -> str | None:
    """Why the job's training data cannot be used (None when its CSV has input and output)."""
    from core.sagemaker.autopilot_data import header_problem

    channels = body.get("AutoMLJobInputDataConfig") or []
    for channel in channels:
        uri = str(((channel.get("DataSource") or {}).get("S3DataSource") or {}).get("S3Uri", ""))
        kind = channel.get("ChannelType", "training")
        header, where = _read_header(account_id, uri)
        if header is None:
            return f"ClientError: No {kind} data was found at {uri}."
        problem = header_problem(header, where)
        if problem is not None:
            return f"ClientError: Data validation failed: {problem}."
    return None


class AutoMLSimulator:
    """Plays out the sandbox's Autopilot jobs."""

    def __init__(self, seconds: float = 90.0, clock: Callable[[], float] = time.time) -> None:
        self.seconds = seconds
        self._clock = clock
        self._jobs: dict[tuple[str, str, str], _AutoMLJob] = {}
        self._lock = threading.Lock()

    def job_created(self, account_id: str, region: str, body: dict[str, Any]) -> None:
        """Start playing out a job CreateAutoMLJobV2 just made (`body` is its request)."""
        name = str(body.get("AutoMLJobName", ""))
        config = (body.get("AutoMLProblemTypeConfig") or {}).get("TextGenerationJobConfig") or {}
        job = _AutoMLJob(
            account_id,
            region,
            name,
            self._clock(),
            datetime.now(UTC),
            str((body.get("OutputDataConfig") or {}).get("S3OutputPath", "")).rstrip("/"),
            str(config.get("BaseModelName") or "Falcon7BInstruct"),
            data_failure(account_id, body),
        )
        with self._lock:
            self._jobs[(account_id, region, name)] = job

    def _job(self, account_id: str, region: str, name: str) -> _AutoMLJob | None:
        with self._lock:
            return self._jobs.get((account_id, region, name))

    def _fraction(self, job: _AutoMLJob) -> float:
        now = self._clock() if job.stopped_at is None else job.stopped_at
        fraction = min(1.0, max(0.0, (now - job.created) / self.seconds))
        return min(fraction, PHASES[0][1]) if job.failure else fraction

    def stop(self, account_id: str, region: str, name: str) -> str | None:
        """StopAutoMLJob: None when the job goes Stopping, else why it cannot be stopped."""
        job = self._job(account_id, region, name)
        if job is None:
            return None  # not ours: moto answers (ResourceNotFound)
        ended = self._fraction(job) >= (PHASES[0][1] if job.failure else 1.0)
        if job.stopped_at is not None or ended:
            return f"The AutoML job {name} is not in progress: it cannot be stopped."
        job.stopped_at = self._clock()
        return None

    def knows(self, account_id: str, region: str, name: str) -> bool:
        """Whether the sandbox plays out the job called `name`."""
        return self._job(account_id, region, name) is not None

    def _at(self, job: _AutoMLJob, fraction: float) -> str:
        return (job.created_at + timedelta(seconds=fraction * self.seconds)).isoformat()

    def _write_model(self, job: _AutoMLJob, key: str) -> None:
        from moto.s3.models import s3_backends

        bucket, _, _ = job.output_path.removeprefix("s3://").partition("/")
        backend = s3_backends[job.account_id]["global"]
        if backend.buckets.get(bucket) is None:
            return  # SageMaker would fail the job; the sandbox leaves the output missing
        backend.put_object(bucket, key, _tiny_archive())

    def _candidate(self, job: _AutoMLJob) -> dict[str, Any]:
        base = f"{job.output_path}/{job.name}"
        bucket, _, prefix = base.removeprefix("s3://").partition("/")
        model_key = f"{prefix}/sagemaker-automl-candidates/model/model.tar.gz".lstrip("/")
        if not job.written:
            job.written = True
            self._write_model(job, model_key)
        container = {
            "Image": INFERENCE_IMAGE.format(region=job.region),
            "ModelDataUrl": f"s3://{bucket}/{model_key}",
            "Environment": {
                "HF_MODEL_ID": "/opt/ml/model",
                "SM_NUM_GPUS": "1",
                "BEDROCK_TUNE_SANDBOX": "true",
            },
        }
        step = f"{job.name}-candidate-1"
        return {
            "CandidateName": step,
            "ObjectiveStatus": "Succeeded",
            "CandidateSteps": [
                {
                    "CandidateStepType": "AWS::SageMaker::TrainingJob",
                    "CandidateStepArn": (
                        f"arn:aws:sagemaker:{job.region}:{job.account_id}:training-job/{step}"
                    ),
                    "CandidateStepName": step,
                }
            ],
            "CandidateStatus": "Completed",
            "InferenceContainers": [container],
            "InferenceContainerDefinitions": {"GPU": [container]},
            "CreationTime": self._at(job, PHASES[0][1]),
            "EndTime": self._at(job, 1.0),
            "LastModifiedTime": self._at(job, 1.0),
            "CandidateProperties": {
                "CandidateMetrics": [
                    {"StandardMetricName": name, "Value": value, "Set": "Validation"}
                    for name, value in METRICS.items()
                ]
            },
        }

    def decorate(self, account_id: str, region: str, body: dict[str, Any]) -> dict[str, Any]:
        """DescribeAutoMLJobV2 as the job stands now."""
        job = self._job(account_id, region, str(body.get("AutoMLJobName", "")))
        if job is None:
            return body
        fraction = self._fraction(job)
        body = dict(body)
        body.pop("BestCandidate", None)
        body.pop("EndTime", None)
        body.pop("FailureReason", None)
        status, secondary = "InProgress", PHASES[0][0]
        for phase, end in PHASES:
            secondary = phase
            if fraction < end:
                break
        if job.failure and fraction >= PHASES[0][1]:
            status = secondary = "Failed"
            body["FailureReason"] = job.failure
            body["EndTime"] = self._at(job, fraction)
        elif fraction >= 1.0:
            status = secondary = "Completed"
            body["BestCandidate"] = self._candidate(job)
            body["EndTime"] = self._at(job, 1.0)
        if job.stopped_at is not None and status == "InProgress":
            stopped = self._clock() - job.stopped_at >= STOP_SECONDS
            status = secondary = "Stopped" if stopped else "Stopping"
            if stopped:
                body["EndTime"] = self._at(job, fraction)
        body["AutoMLJobStatus"] = status
        body["AutoMLJobSecondaryStatus"] = secondary
        body["CreationTime"] = job.created_at.isoformat()
        body["LastModifiedTime"] = self._at(job, fraction)
        body["ResolvedAttributes"] = {
            "CompletionCriteria": (
                (body.get("AutoMLProblemTypeConfig") or {}).get("TextGenerationJobConfig") or {}
            ).get("CompletionCriteria", {"MaxCandidates": 1}),
            "AutoMLProblemTypeResolvedAttributes": {
                "TextGenerationResolvedAttributes": {"BaseModelName": job.base_model}
            },
        }
        return body


@emulates(
    "sagemaker",
    "POST",
    r"/",
    "Create/Describe/StopAutoMLJob(V2): Autopilot jobs play out with a best candidate; a CSV "
    "without input/output fails",
)
def _automl(request: SandboxRequest, sandbox: Sandbox) -> Reply | PassThrough | None:
    from core.sandbox.training import parse_body

    operation = request.target.rpartition(".")[2]
    account, region = sandbox.account_id, request.region
    if operation == "CreateAutoMLJobV2":
        body = parse_body(request.body)

        def started(answer: dict[str, Any]) -> dict[str, Any]:
            sandbox.automl.job_created(account, region, body)
            return answer

        return PassThrough(after=started)
    if operation == "DescribeAutoMLJobV2":
        return PassThrough(after=lambda answer: sandbox.automl.decorate(account, region, answer))
    if operation == "StopAutoMLJob":
        name = str(parse_body(request.body).get("AutoMLJobName", ""))
        if not sandbox.automl.knows(account, region, name):
            return None
        refused = sandbox.automl.stop(account, region, name)
        if refused:
            return json_error("ValidationException", refused)
        return Reply(200, {})
    return None
