"""Batch inference jobs in the sandbox: CreateModelInvocationJob, GetModelInvocationJob,
ListModelInvocationJobs and StopModelInvocationJob (moto implements none of them).

A job plays out by the injected clock over `job_seconds`: Submitted, Validating (to 10%),
Scheduled (to 20%), InProgress (its processed count rising), then ended. At the end it writes
what Bedrock writes, under `<output>/<job id>/`: `<input file>.out` with one line per record
(`{"recordId", "modelInput", "modelOutput"}`, or an `error` object in place of the output; the
lines in an order other than the input's, as Bedrock does not keep it) and `manifest.json.out`
with the counts. The answers are the sandbox's honest stand-ins in the model family's response
shape (`core.sandbox.invoke`).

So that partial failure is always exercised, the last record of every job of two or more
records fails (a 500 "the sandbox fails one record of each batch job on purpose"), and a
record whose `modelInput` the family cannot read fails with Bedrock's malformed-input 400; a
job with failed records ends PartiallyCompleted (the status Bedrock has for it), else
Completed. A job whose input file is missing fails in validation. A stop makes a running job
Stopping for `stop_seconds`, then Stopped (output is written only by jobs that end on their
own). Which models are accepted comes from bedrock-tune's own batch support table, so the
sandbox refuses what Bedrock refuses (the wording of these refusals is the sandbox's own).
"""

from __future__ import annotations

import json
import re
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import unquote

from core.sandbox.paging import page

Answer = tuple[int, Any]

VALIDATING_END = 0.10
SCHEDULED_END = 0.20
RUNNING = ("Submitted", "Validating", "Scheduled", "InProgress")
_NAME = re.compile(r"[a-zA-Z0-9]{1,63}(-*[a-zA-Z0-9\+\-\.]){0,63}")
FAILED_RECORD_MESSAGE = "the sandbox fails one record of each batch job on purpose"


@dataclass
class _Job:
    arn: str
    name: str
    region: str
    account_id: str
    body: dict[str, Any]
    created: float
    created_at: datetime
    records: list[dict[str, Any]] | None
    """The input lines (None when the input file could not be read: the job fails)."""
    stopped_at: float | None = None
    written: bool = False
    ended: str | None = None
    """The final status once decided (Completed, PartiallyCompleted, Failed, Stopped)."""
    message: str = ""
    failed_records: int = 0
    extra: dict[str, Any] = field(default_factory=dict)


def _bucket_key(uri: str) -> tuple[str, str]:
    bucket, _, key = uri.removeprefix("s3://").partition("/")
    return bucket, key


class BatchSimulator:
    """The sandbox's batch inference jobs (one per sandbox; thread-safe)."""

    def __init__(
        self,
        job_seconds: float = 30.0,
        clock: Callable[[], float] = time.time,
        stop_seconds: float = 5.0,
        page_size: int = 100,
    ) -> None:
        self.job_seconds = job_seconds
        self.stop_seconds = stop_seconds
        self.page_size = page_size
        self._clock = clock
        self._jobs: dict[str, _Job] = {}
        self._lock = threading.RLock()

    # ------------------------------------------------------------------ moto's S3

    @staticmethod
    def _s3(account_id: str) -> Any:
        from moto.s3.models import s3_backends

        return s3_backends[account_id]["global"]

    def _read_input(self, account_id: str, uri: str) -> list[dict[str, Any]] | None:
        bucket, key = _bucket_key(uri)
        try:
            found = self._s3(account_id).get_object(bucket, key)
        except Exception:
            return None
        if found is None:
            return None
        lines = []
        for raw in found.value.splitlines():
            if raw.strip():
                try:
                    line = json.loads(raw)
                except ValueError:
                    line = {"recordId": "", "modelInput": None}
                lines.append(line if isinstance(line, dict) else {"modelInput": None})
        return lines

    # ------------------------------------------------------------------ operations

    def create(self, region: str, account_id: str, body: dict[str, Any]) -> Answer:
        """CreateModelInvocationJob."""
        from core.evaluation.batch_support import batch_support

        name = str(body.get("jobName", ""))
        model = str(body.get("modelId", ""))
        token = body.get("clientRequestToken")
        if not _NAME.fullmatch(name):
            return 400, ("ValidationException", f"The job name {name!r} is not valid.")
        with self._lock:
            for job in self._jobs.values():
                if token and job.body.get("clientRequestToken") == token and job.region == region:
                    return 200, {"jobArn": job.arn}  # the same request again: the same job
                if job.name == name and job.region == region:
                    return 409, ("ConflictException", f"A batch inference job named {name} exists.")
        support = batch_support(model, region)
        if not support.offered:
            return 400, (
                "ValidationException",
                f"The model {model} does not support batch inference in {region} (sandbox: "
                f"{support.reason}).",
            )
        uri = str(
            ((body.get("inputDataConfig") or {}).get("s3InputDataConfig") or {}).get("s3Uri", "")
        )
        records = self._read_input(account_id, uri)
        arn = f"arn:aws:bedrock:{region}:{account_id}:model-invocation-job/{uuid.uuid4().hex[:12]}"
        job = _Job(arn, name, region, account_id, body, self._clock(), datetime.now(UTC), records)
        job.extra["family"] = support.family
        job.extra["input_uri"] = uri
        with self._lock:
            self._jobs[arn] = job
        return 200, {"jobArn": arn}

    def _find(self, key: str) -> _Job | None:
        wanted = unquote(key)
        with self._lock:
            for job in self._jobs.values():
                if wanted in (job.arn, job.arn.rsplit("/", 1)[-1]):
                    return job
        return None

    def _fraction(self, job: _Job) -> float:
        now = job.stopped_at if job.stopped_at is not None else self._clock()
        return min(1.0, max(0.0, (now - job.created) / max(self.job_seconds, 1e-9)))

    def _status(self, job: _Job) -> str:
        if job.ended:
            return job.ended
        if job.stopped_at is not None:
            if self._clock() - job.stopped_at >= self.stop_seconds:
                job.ended, job.message = "Stopped", "Stopped by request."
                return job.ended
            return "Stopping"
        fraction = self._fraction(job)
        if fraction < VALIDATING_END:
            return "Submitted" if fraction < VALIDATING_END / 2 else "Validating"
        if job.records is None:
            job.ended = "Failed"
            job.message = (
                f"The input file {job.extra['input_uri']} could not be read (sandbox: it does "
                "not exist, or is not JSONL)."
            )
            return job.ended
        if fraction < SCHEDULED_END:
            return "Scheduled"
        if fraction < 1.0:
            return "InProgress"
        self._write_output(job)
        return job.ended or "Completed"

    def _write_output(self, job: _Job) -> None:
        """The output files, once (see the module doc)."""
        from core.sandbox.inference import InferenceSimulator
        from core.sandbox.invoke import MALFORMED, read_request, response

        records = job.records or []
        family = str(job.extra.get("family", ""))
        model = str(job.body.get("modelId", ""))
        speaker = InferenceSimulator()
        lines, tokens_in, tokens_out, failed = [], 0, 0, 0
        for index, record in enumerate(records):
            line: dict[str, Any] = {
                "recordId": record.get("recordId", ""),
                "modelInput": record.get("modelInput"),
            }
            asked = read_request(family, json.dumps(record.get("modelInput")).encode())
            if asked is None:
                line["error"] = {"errorCode": 400, "errorMessage": MALFORMED}
                failed += 1
            elif index == len(records) - 1 and len(records) > 1:
                line["error"] = {"errorCode": 500, "errorMessage": FAILED_RECORD_MESSAGE}
                failed += 1
            else:
                question, limit = asked
                text, cut = speaker.answer(model, question, None, limit)
                used_in, used_out = max(1, len(question) // 4), max(1, len(text) // 4)
                tokens_in, tokens_out = tokens_in + used_in, tokens_out + used_out
                line["modelOutput"] = response(family, text, cut, used_in, used_out)
            lines.append(json.dumps(line))
        lines.reverse()  # Bedrock does not keep the input's order; nor does the sandbox
        output_uri = str(
            ((job.body.get("outputDataConfig") or {}).get("s3OutputDataConfig") or {}).get(
                "s3Uri", ""
            )
        )
        bucket, prefix = _bucket_key(output_uri)
        folder = f"{prefix.rstrip('/')}/{job.arn.rsplit('/', 1)[-1]}/".lstrip("/")
        input_name = str(job.extra["input_uri"]).rsplit("/", 1)[-1]
        manifest = {
            "totalRecordCount": len(records),
            "processedRecordCount": len(records),
            "successRecordCount": len(records) - failed,
            "errorRecordCount": failed,
            "inputTokenCount": tokens_in,
            "outputTokenCount": tokens_out,
        }
        s3 = self._s3(job.account_id)
        try:
            s3.put_object(bucket, f"{folder}{input_name}.out", ("\n".join(lines) + "\n").encode())
            s3.put_object(bucket, f"{folder}manifest.json.out", json.dumps(manifest).encode())
        except Exception:
            job.ended, job.message = "Failed", f"Could not write the output to {output_uri}."
            return
        job.failed_records = failed
        job.ended = "PartiallyCompleted" if failed else "Completed"
        job.written = True

    def _json(self, job: _Job) -> dict[str, Any]:
        status = self._status(job)
        total = len(job.records or [])
        fraction = self._fraction(job)
        running = max(0.0, (fraction - SCHEDULED_END) / (1 - SCHEDULED_END))
        processed = total if job.written else int(total * running) if status == "InProgress" else 0
        data: dict[str, Any] = {
            "jobArn": job.arn,
            "jobName": job.name,
            "modelId": job.body.get("modelId"),
            "roleArn": job.body.get("roleArn"),
            "status": status,
            "submitTime": job.created_at.isoformat(),
            "lastModifiedTime": (
                job.created_at + timedelta(seconds=fraction * self.job_seconds)
            ).isoformat(),
            "inputDataConfig": job.body.get("inputDataConfig"),
            "outputDataConfig": job.body.get("outputDataConfig"),
            "timeoutDurationInHours": job.body.get("timeoutDurationInHours", 24),
            "jobExpirationTime": (job.created_at + timedelta(hours=24)).isoformat(),
            "totalRecordCount": total,
            "processedRecordCount": processed,
            "successRecordCount": processed - (job.failed_records if job.written else 0),
            "errorRecordCount": job.failed_records if job.written else 0,
        }
        if job.body.get("clientRequestToken"):
            data["clientRequestToken"] = job.body["clientRequestToken"]
        if job.message:
            data["message"] = job.message
        if status not in RUNNING and status != "Stopping":
            data["endTime"] = (job.created_at + timedelta(seconds=self.job_seconds)).isoformat()
        return data

    def get(self, key: str) -> Answer:
        """GetModelInvocationJob (by ARN or job id)."""
        with self._lock:
            job = self._find(key)
            if job is None:
                return 404, (
                    "ResourceNotFoundException",
                    f"The batch inference job {key} was not found.",
                )
            return 200, self._json(job)

    def list(
        self,
        status: str | None = None,
        name_contains: str | None = None,
        max_results: str | None = None,
        next_token: str | None = None,
    ) -> Answer:
        """ListModelInvocationJobs, newest first, paged like the sandbox's other lists."""
        with self._lock:
            summaries = [self._json(j) for j in reversed(self._jobs.values())]
        if status:
            summaries = [s for s in summaries if s["status"] == status]
        if name_contains:
            summaries = [s for s in summaries if name_contains in s["jobName"]]
        return page(
            summaries,
            "invocationJobSummaries",
            page_size=self.page_size,
            max_results=max_results,
            next_token=next_token,
        )

    def stop(self, key: str) -> Answer:
        """StopModelInvocationJob: only a job still running can be stopped."""
        with self._lock:
            job = self._find(key)
            if job is None:
                return 404, (
                    "ResourceNotFoundException",
                    f"The batch inference job {key} was not found.",
                )
            status = self._status(job)
            if status not in RUNNING:
                return 400, (
                    "ValidationException",
                    f"The job is {status}; only a running job can be stopped.",
                )
            job.stopped_at = self._clock()
            return 200, {}
