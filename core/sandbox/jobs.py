"""Customization jobs that run in the sandbox: phases advance, metrics appear, models activate.

moto creates jobs and leaves them InProgress forever with no phases. In the sandbox a job instead
plays out over `job_seconds` (about a minute by default), driven by a clock that tests inject:

* validation (first 15%), data processing (to 30%), training (to 100%); then Completed, with an
  end time and its custom model Active;
* when the job completes (not while it runs: Bedrock uploads them at the end),
  `step_wise_training_metrics.csv` appears under
  `<output>/model-customization-job-<name>/training_artifacts/`, with a plausible falling loss,
  and `validation_metrics.csv` under `validation_artifacts/post_fine_tuning_validation/
  validation/` (the path AWS notebooks read); `trainingMetrics` / `validationMetrics` come with
  them;
* a stopped job is Stopping for `stop_seconds`, then Stopped, and writes no metrics;
* a job whose training file is missing, empty, or not JSONL fails in validation with the message
  Bedrock gives for it.

It edits moto's in-process backends directly (the sandbox server runs in this process).
"""

from __future__ import annotations

import json
import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

VALIDATION_END = 0.15
PROCESSING_END = 0.30
FAIL_AT = 0.10
TRAINING_STEPS = 60
VALIDATION_EVERY = 10


@dataclass
class SimulatedJob:
    """What the simulator knows of one job."""

    account_id: str
    region: str
    name: str
    created: float
    """Clock time of creation."""
    created_at: datetime
    failure: str | None
    """The failure message when the job will fail in validation."""
    stopped_at: float | None = None
    """Clock time of the stop request: progress freezes there, and the job is Stopping until
    `stop_seconds` later, then Stopped."""
    written_steps: int = -1


def _bucket_key(uri: str) -> tuple[str, str]:
    rest = uri.removeprefix("s3://")
    bucket, _, key = rest.partition("/")
    return bucket, key


def _loss(step: int, total: int, *, validation: bool = False) -> float:
    x = step / max(total, 1)
    wobble = 0.04 * math.sin(step * 1.7)
    base = 0.45 + 2.1 * math.exp(-3.2 * x) + wobble
    return round(base + (0.12 if validation else 0.0), 4)


def _metrics_csv(rows: list[tuple[int, int, float]], loss_name: str) -> bytes:
    lines = [f"step_number,epoch_number,{loss_name},perplexity"]
    lines += [f"{s},{e},{loss},{math.exp(loss):.4f}" for s, e, loss in rows]
    return ("\n".join(lines) + "\n").encode()


_MODEL_STATUS = {"Completed": "Active", "InProgress": "Creating", "Stopping": "Creating"}
"""A custom model's status by its job's (Failed for a failed or stopped job)."""


class JobSimulator:
    """Plays out the sandbox's customization jobs against moto's backends."""

    def __init__(
        self,
        job_seconds: float = 60.0,
        clock: Callable[[], float] = time.time,
        stop_seconds: float = 10.0,
    ) -> None:
        self.job_seconds = job_seconds
        self.stop_seconds = stop_seconds
        """How long a stopped job stays Stopping before it is Stopped (minutes on Bedrock)."""
        self._clock = clock
        self._jobs: dict[tuple[str, str, str], SimulatedJob] = {}
        self._lock = threading.Lock()

    # ------------------------------------------------------------------ moto access

    @staticmethod
    def _bedrock(account_id: str, region: str) -> Any:
        from moto.bedrock.models import bedrock_backends

        return bedrock_backends[account_id][region]

    @staticmethod
    def _s3(account_id: str) -> Any:
        from moto.s3.models import s3_backends

        return s3_backends[account_id]["global"]

    def _read_training_data(self, account_id: str, uri: str) -> str | None:
        """The failure message Bedrock would give for this training file, or None when fine."""
        bucket, key = _bucket_key(uri)
        try:
            found = self._s3(account_id).get_object(bucket, key)
        except Exception:
            found = None
        if found is None:
            return (
                f"Could not validate GetObject permissions to access Amazon S3 bucket: {bucket} "
                f"at key {key}"
            )
        data: bytes = found.value
        name = key.rsplit("/", 1)[-1]
        unparseable = (
            f"Unable to parse Amazon S3 file: {name}. Data files must conform to JSONL format."
        )
        if not data.strip() or data.startswith(b"\xef\xbb\xbf"):
            return unparseable
        for line in data.split(b"\n"):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except ValueError:
                return unparseable
            if not isinstance(record, dict):
                return unparseable
        return None

    # ------------------------------------------------------------------ events

    def job_created(self, account_id: str, region: str, name: str) -> None:
        """Start simulating a job moto has just created."""
        job = self._bedrock(account_id, region).model_customization_jobs.get(name)
        if job is None:
            return
        failure = self._read_training_data(account_id, job.training_data_config["s3Uri"])
        with self._lock:
            self._jobs[(account_id, region, name)] = SimulatedJob(
                account_id, region, name, self._clock(), datetime.now(UTC), failure
            )
        self.advance(account_id, region)

    def is_simulated(self, account_id: str, region: str, name: str) -> bool:
        """Whether the job `name` plays out here (every job created through the sandbox)."""
        with self._lock:
            return (account_id, region, name) in self._jobs

    def request_stop(self, account_id: str, region: str, name: str) -> str | None:
        """StopModelCustomizationJob: the job goes Stopping now, Stopped `stop_seconds` later.

        Returns why it cannot be stopped (it is not InProgress), or None. moto would mark any
        job Stopped at once, even a Completed one; Bedrock only stops a running job. The
        wording of the refusal is ours (the API names only the ValidationException).
        """
        self.advance(account_id, region)
        job = self._bedrock(account_id, region).model_customization_jobs.get(name)
        with self._lock:
            sim = self._jobs.get((account_id, region, name))
            if job is None or sim is None:
                return None
            if job.status != "InProgress":
                return f"The job {name} is {job.status}: only an InProgress job can be stopped."
            sim.stopped_at = self._clock()
        self.advance(account_id, region)
        return None

    def advance(self, account_id: str, region: str) -> None:
        """Bring every simulated job of the region to where the clock says it is."""
        backend = self._bedrock(account_id, region)
        with self._lock:
            jobs = [j for k, j in self._jobs.items() if k[:2] == (account_id, region)]
        for sim in jobs:
            job = backend.model_customization_jobs.get(sim.name)
            if job is None:
                continue
            self._advance_one(sim, job)

    def _fraction(self, sim: SimulatedJob) -> float:
        end = sim.stopped_at if sim.stopped_at is not None else self._clock()
        return max(0.0, (end - sim.created) / max(self.job_seconds, 1e-6))

    def _time_at(self, sim: SimulatedJob, fraction: float) -> datetime:
        return sim.created_at + timedelta(seconds=fraction * self.job_seconds)

    def _advance_one(self, sim: SimulatedJob, job: Any) -> None:
        fraction = self._fraction(sim)
        stamp = self._time_at(sim, min(fraction, 1.0)).isoformat()
        if sim.failure and fraction >= FAIL_AT:
            job.status, job.failure_message, job.end_time = "Failed", sim.failure, stamp
        elif sim.stopped_at is not None:
            stopped = sim.stopped_at + self.stop_seconds
            if self._clock() >= stopped:
                job.status = "Stopped"
                job.end_time = (
                    sim.created_at + timedelta(seconds=stopped - sim.created)
                ).isoformat()
            else:
                job.status = "Stopping"
        elif fraction >= 1.0:
            # Bedrock uploads the metrics files when the job ends, not while it trains.
            self._write_metrics(sim, job, TRAINING_STEPS)
            job.status, job.end_time = "Completed", stamp
        job.last_modified_time = stamp

    def _write_metrics(self, sim: SimulatedJob, job: Any, steps: int) -> None:
        if steps <= sim.written_steps or steps <= 0:
            return
        sim.written_steps = steps
        bucket, prefix = _bucket_key(job.output_data_config["s3Uri"])
        folder = f"{prefix.rstrip('/')}/model-customization-job-{sim.name}/".lstrip("/")
        epochs = max(1, int(job.hyper_parameters.get("epochCount", "2") or 2))
        per_epoch = max(1, TRAINING_STEPS // epochs)
        training = [(s, s // per_epoch, _loss(s, TRAINING_STEPS)) for s in range(steps)]
        validation = [
            (s, s // per_epoch, _loss(s, TRAINING_STEPS, validation=True))
            for s in range(VALIDATION_EVERY, steps + 1, VALIDATION_EVERY)
        ]
        s3 = self._s3(sim.account_id)
        try:
            s3.put_object(
                bucket,
                folder + "training_artifacts/step_wise_training_metrics.csv",
                _metrics_csv(training, "training_loss"),
            )
            if validation:
                s3.put_object(
                    bucket,
                    folder
                    + "validation_artifacts/post_fine_tuning_validation/validation/"
                    + "validation_metrics.csv",
                    _metrics_csv(validation, "validation_loss"),
                )
        except Exception:
            return  # the output bucket is gone: Bedrock would fail the job too, later
        job.training_metrics = {"trainingLoss": training[-1][2]}
        if validation:
            job.validation_metrics = [{"validationLoss": validation[-1][2]}]

    # ------------------------------------------------------------------ response decoration

    def decorate_job(self, account_id: str, region: str, body: dict[str, Any]) -> dict[str, Any]:
        """Add what moto leaves out of GetModelCustomizationJob: phases, the real model name."""
        name = str(body.get("jobName", ""))
        with self._lock:
            sim = self._jobs.get((account_id, region, name))
        status = body.get("status", "InProgress")
        if status != "Failed":
            body.pop("failureMessage", None)
        if status != "Completed":
            # moto fills placeholders (loss 0.0) for every job; Bedrock's come with the end.
            body.pop("trainingMetrics", None)
            body.pop("validationMetrics", None)
        if status not in {"Completed", "Failed", "Stopped"}:
            body.pop("endTime", None)
        job = self._bedrock(account_id, region).model_customization_jobs.get(name)
        if job is not None:
            model = self._bedrock(account_id, region).custom_models.get(job.custom_model_name)
            if model is not None:
                body["outputModelName"] = model.model_name
                body["outputModelArn"] = model.model_arn
        if sim is None:
            return body
        fraction = self._fraction(sim)
        # moto stamps creation with the local time and no zone; ours are UTC and explicit.
        body["creationTime"] = sim.created_at.isoformat()
        body["statusDetails"] = self._phases(sim, fraction, str(status))
        return body

    def _phases(self, sim: SimulatedJob, fraction: float, status: str) -> dict[str, Any]:
        bounds = {
            "validationDetails": (0.0, VALIDATION_END),
            "dataProcessingDetails": (VALIDATION_END, PROCESSING_END),
            "trainingDetails": (PROCESSING_END, 1.0),
        }
        details: dict[str, Any] = {}
        for key, (start, end) in bounds.items():
            entry: dict[str, Any] = {}
            if status == "Failed":
                state = "Failed" if key == "validationDetails" else "NotStarted"
                end = FAIL_AT if key == "validationDetails" else end
            elif fraction >= end:
                state = "Completed"
            elif fraction >= start:
                # The running phase follows the job: Stopping, then Stopped.
                state = status if status in ("Stopping", "Stopped") else "InProgress"
            else:
                state = "NotStarted"
            entry["status"] = state
            if state != "NotStarted":
                entry["creationTime"] = self._time_at(sim, start).isoformat()
                last = min(fraction, end) if state != "InProgress" else fraction
                entry["lastModifiedTime"] = self._time_at(sim, last).isoformat()
            details[key] = entry
        return details

    def _custom_model(self, account_id: str, region: str, model: str) -> Any:
        """moto's custom model of that name or ARN, or None."""
        backend = self._bedrock(account_id, region)
        return next(
            (m for m in backend.custom_models.values() if model in (m.model_name, m.model_arn)),
            None,
        )

    def custom_model_arns(self, account_id: str, region: str, model: str) -> tuple[str, str] | None:
        """(custom model ARN, foundation-model ARN of its base) for a name or ARN; None when
        unknown. moto builds the base ARN as `...::foundation-model/<baseModelIdentifier>`,
        which is right for an id and doubled for an ARN: keep the inner ARN then."""
        found = self._custom_model(account_id, region, model)
        if found is None:
            return None
        base = str(found.base_model_arn)
        inner = base.split("foundation-model/", 1)[-1]
        return str(found.model_arn), inner if inner.startswith("arn:") else base

    def custom_model_status(self, account_id: str, region: str, model: str) -> str | None:
        """Creating / Active / Failed for a custom model name or ARN; None when unknown."""
        self.advance(account_id, region)
        found = self._custom_model(account_id, region, model)
        if found is None:
            return None
        job = self._bedrock(account_id, region).model_customization_jobs.get(found.job_name)
        status = getattr(job, "status", "Completed")
        return _MODEL_STATUS.get(status, "Failed")

    def training_records(self, account_id: str, region: str, model: str) -> list[dict[str, Any]]:
        """The training records of a custom model (for its sandbox answers)."""
        from core.sandbox.inference import parse_records

        found = self._custom_model(account_id, region, model)
        if found is None:
            return []
        bucket, key = _bucket_key(found.training_data_config.get("s3Uri", ""))
        try:
            data = self._s3(account_id).get_object(bucket, key)
        except Exception:
            return []
        return parse_records(data.value) if data is not None else []

    def decorate_model(self, account_id: str, region: str, body: dict[str, Any]) -> dict[str, Any]:
        """Add `modelStatus` to GetCustomModel (Creating until its job completes)."""
        job_name = str(body.get("jobName", ""))
        self.advance(account_id, region)
        job = self._bedrock(account_id, region).model_customization_jobs.get(job_name)
        status = getattr(job, "status", "Completed")
        body["modelStatus"] = _MODEL_STATUS.get(status, "Failed")
        return body
