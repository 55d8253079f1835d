"""Answers at scale through Bedrock batch inference (`CreateModelInvocationJob`).

The records go to S3 as JSONL, one `{"recordId", "modelInput"}` per line with the model
family's own InvokeModel body (`core.evaluation.native`), under the run's data folder; the job
writes under the run's output folder (both inside what the run's role may read and write). The
job is recorded in the registry as billable before anything else happens to it, watched with
`core.poll` like a customization job, and forgotten once it has ended. Its output is read back
as Bedrock writes it: `<output>/<job id>/<input file>.out` with one line per record (a
`modelOutput`, or an `error` in its place) and a `manifest.json.out` with the counts. Records
that failed, or that the output does not mention, come back as failed answers: the evaluation
scores the rest and counts them.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from core.errors import BedrockTuneError, aws_call
from core.evaluation.native import model_input, read_output
from core.jobs.customization import MANAGED_TAG
from core.ownership import RUN_TAG, ownership_tags
from core.poll import Backoff, Pacing, Poller, PollUpdate, never
from core.registry import BATCH_JOB, Registry, ResourceRecord
from core.serving.chat import Settings

if TYPE_CHECKING:
    from core.aws import AwsContext
    from core.run import Run

DEFAULT_THRESHOLD = 1000
"""From this many records on, evaluation offers batch inference by default."""
TIMEOUT_HOURS = 24
"""The job's time-out (the API's minimum; Bedrock ends the job then)."""
ENDED = frozenset({"Completed", "PartiallyCompleted", "Failed", "Stopped", "Expired"})
RUNNING = frozenset({"Submitted", "Validating", "Scheduled", "InProgress", "Stopping"})
INPUT_FILE = "records.jsonl"
BACKOFF = Backoff(first=10.0, maximum=120.0, jitter=0.1)


def record_id(index: int) -> str:
    """An 11-character alphanumeric record id (the shape Bedrock's own examples use)."""
    return f"R{index:010d}"


@dataclass(frozen=True)
class BatchPlace:
    """Where one run's batch jobs read and write, and the role they run as."""

    bucket: str
    data_prefix: str
    """Key prefix of the run's data folder (`bedrock-tune/<run>/data/`)."""
    output_uri: str
    """The run's output folder (`s3://<bucket>/bedrock-tune/<run>/output/`)."""
    role_arn: str
    run_id: str | None = None

    @classmethod
    def for_run(cls, run: Run) -> BatchPlace | None:
        """The run's folders and role; None until the infrastructure and upload steps made them."""
        if not (run.bucket and run.role_arn and run.training_uri and run.output_uri):
            return None
        data_uri = run.training_uri.rsplit("/", 1)[0] + "/"
        bucket, _, prefix = data_uri.removeprefix("s3://").partition("/")
        return cls(bucket, prefix, run.output_uri, run.role_arn, run.run_id)

    def input_key(self, name: str) -> str:
        """Where the job `name`'s input file goes."""
        return f"{self.data_prefix}evaluation/{name}/{INPUT_FILE}"

    def output_for(self, name: str) -> str:
        """Where the job `name` writes (Bedrock adds a folder named by the job id)."""
        return f"{self.output_uri.rstrip('/')}/evaluation/{name}/"


@dataclass(frozen=True)
class BatchAnswer:
    """One record's answer from the job, or why there is none."""

    text: str = ""
    input_tokens: int | None = None
    output_tokens: int | None = None
    error: str | None = None


@dataclass(frozen=True)
class BatchJobInfo:
    """What the report says about one batch job."""

    model: str
    job_arn: str | None
    status: str
    records: int
    succeeded: int = 0
    failed: int = 0
    message: str = ""
    input_uri: str = ""
    output_uri: str = ""

    def to_json(self) -> dict[str, Any]:
        """Plain JSON data."""
        return {
            "model": self.model,
            "job_arn": self.job_arn,
            "status": self.status,
            "records": self.records,
            "succeeded": self.succeeded,
            "failed": self.failed,
            "message": self.message,
            "input_uri": self.input_uri,
            "output_uri": self.output_uri,
        }


@dataclass(frozen=True)
class BatchOutcome:
    """The answers by record index, and the job's story."""

    answers: dict[int, BatchAnswer]
    info: BatchJobInfo
    usable: bool
    """Whether the job produced output to score (else the caller falls back to on-demand)."""


@dataclass(frozen=True)
class BatchStatus:
    """One poll of the job, for progress displays."""

    status: str
    processed: int
    total: int
    message: str = ""


def input_jsonl(family: str, prompts: Sequence[tuple[str, str]], settings: Settings) -> bytes:
    """The job's input: `{"recordId", "modelInput"}` per (system, user) prompt."""
    lines = [
        json.dumps(
            {"recordId": record_id(i), "modelInput": model_input(family, system, user, settings)},
            ensure_ascii=False,
        )
        for i, (system, user) in enumerate(prompts)
    ]
    return ("\n".join(lines) + "\n").encode("utf-8")


def job_request(
    name: str,
    model_id: str,
    input_uri: str,
    output_uri: str,
    role_arn: str,
    token: str,
    run_id: str | None,
    owner_tags: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """The CreateModelInvocationJob request (tagged as bedrock-tune's, like every resource, and
    with `owner_tags`: this install's id and the identity creating it, core/ownership.py)."""
    tags = [{"key": MANAGED_TAG[0], "value": MANAGED_TAG[1]}]
    if run_id:
        tags.append({"key": RUN_TAG, "value": run_id})
    tags += [{"key": k, "value": v} for k, v in (owner_tags or {}).items() if k != MANAGED_TAG[0]]
    return {
        "jobName": name,
        "roleArn": role_arn,
        "clientRequestToken": token,
        "modelId": model_id,
        "inputDataConfig": {"s3InputDataConfig": {"s3Uri": input_uri, "s3InputFormat": "JSONL"}},
        "outputDataConfig": {"s3OutputDataConfig": {"s3Uri": output_uri}},
        "timeoutDurationInHours": TIMEOUT_HOURS,
        "tags": tags,
    }


def job_name(model_id: str, now: datetime | None = None) -> str:
    """`bt-eval-<model>-<yyyymmdd-hhmmss>`, in the job name's shape."""
    from core.naming import model_stem

    short = model_id.rsplit("/", 1)[-1]
    if short.split(".", 1)[0] in ("us", "eu", "apac", "global"):
        short = short.split(".", 1)[1]  # an inference profile: the model's own id is clearer
    stem = model_stem(short)[:30].rstrip("-_").replace("_", "-")
    return f"bt-eval-{stem}-{(now or datetime.now(UTC)):%Y%m%d-%H%M%S}"


def parse_output(family: str, lines: bytes, indexes: dict[str, int]) -> dict[int, BatchAnswer]:
    """Answers by record index from one `.jsonl.out` file (lines in any order)."""
    answers: dict[int, BatchAnswer] = {}
    for raw in lines.splitlines():
        if not raw.strip():
            continue
        try:
            line = json.loads(raw)
        except ValueError:
            continue
        index = indexes.get(str(line.get("recordId", ""))) if isinstance(line, dict) else None
        if index is None:
            continue
        if "error" in line:
            error = line.get("error") or {}
            message = error.get("errorMessage", "") if isinstance(error, dict) else str(error)
            code = error.get("errorCode", "") if isinstance(error, dict) else ""
            answers[index] = BatchAnswer(
                error=f"batch inference failed this record ({code}): {message}"
            )
            continue
        read = read_output(family, line.get("modelOutput"))
        if read is None:
            answers[index] = BatchAnswer(error="batch output not in the model's answer shape")
        else:
            answers[index] = BatchAnswer(*read)
    return answers


@dataclass
class BatchRunner:
    """Runs one model's answers as a batch job (everything it needs is passed in)."""

    context: AwsContext
    place: BatchPlace
    registry: Registry
    account_id: str
    pacing: Pacing = field(default_factory=Pacing)
    backoff: Backoff = BACKOFF
    on_status: Callable[[BatchStatus], None] = lambda status: None
    cancelled: Callable[[], bool] = never
    clock_now: Callable[[], datetime] = lambda: datetime.now(UTC)

    def _creator(self) -> str | None:
        """The identity creating the job, for its tags (None when STS cannot say)."""
        try:
            return self.context.whoami().arn
        except BedrockTuneError:
            return None  # the job is still tagged with this install's id

    def run(
        self,
        model_id: str,
        family: str,
        prompts: Sequence[tuple[str, str]],
        settings: Settings,
    ) -> BatchOutcome:
        """Upload, create, watch, read back. A job that cannot be created, or that ends with
        no output, comes back `usable=False` with the reason in `info.message`."""
        name = job_name(model_id, self.clock_now())
        input_uri = f"s3://{self.place.bucket}/{self.place.input_key(name)}"
        output_uri = self.place.output_for(name)
        info = BatchJobInfo(
            model_id, None, "NotCreated", len(prompts), 0, 0, "", input_uri, output_uri
        )
        s3 = self.context.client("s3")
        try:
            with aws_call(f"uploading the batch input to {input_uri}"):
                s3.put_object(
                    Bucket=self.place.bucket,
                    Key=self.place.input_key(name),
                    Body=input_jsonl(family, prompts, settings),
                    ContentType="application/jsonl",
                )
            request = job_request(
                name,
                model_id,
                input_uri,
                output_uri,
                self.place.role_arn,
                name,
                self.place.run_id,
                ownership_tags(self.registry.install_id(), self._creator()),
            )
            bedrock = self.context.client("bedrock")
            with aws_call(f"creating the batch inference job {name}"):
                arn = str(bedrock.create_model_invocation_job(**request)["jobArn"])
        except BedrockTuneError as error:
            return BatchOutcome({}, _with(info, message=f"{error.title}: {error.message}"), False)
        self.registry.add_resource(
            ResourceRecord(
                BATCH_JOB,
                arn,
                self.context.region,
                self.account_id,
                self.place.run_id,
                billable=True,
                details={"name": name, "model": model_id, "output_uri": output_uri},
            )
        )
        info = _with(info, job_arn=arn, status="Submitted")
        final = self._watch(arn)
        if final is None:  # cancelled: stop the job, it bills for what it processes
            self._stop(arn)
            return BatchOutcome({}, _with(info, status="Stopping", message="cancelled"), False)
        self.registry.remove_resource(BATCH_JOB, arn)
        status = str(final.get("status", ""))
        info = _with(info, status=status, message=str(final.get("message") or ""))
        answers = self._read(arn, family, len(prompts), output_uri)
        succeeded = sum(1 for a in answers.values() if a.error is None)
        for index in range(len(prompts)):
            answers.setdefault(
                index, BatchAnswer(error=f"no output for this record (the job ended {status})")
            )
        info = _with(info, succeeded=succeeded, failed=len(prompts) - succeeded)
        return BatchOutcome(answers, info, usable=succeeded > 0)

    def _watch(self, arn: str) -> dict[str, Any] | None:
        bedrock = self.context.client("bedrock")

        def fetch() -> dict[str, Any]:
            with aws_call("checking the batch inference job"):
                return dict(bedrock.get_model_invocation_job(jobIdentifier=arn))

        def seen(update: PollUpdate[dict[str, Any]]) -> None:
            job = update.value
            if job is not None:
                self.on_status(
                    BatchStatus(
                        str(job.get("status", "")),
                        int(job.get("processedRecordCount") or 0),
                        int(job.get("totalRecordCount") or 0),
                        str(job.get("message") or ""),
                    )
                )

        poller: Poller[dict[str, Any]] = Poller(
            fetch,
            finished=lambda job: str(job.get("status")) in ENDED,
            backoff=self.backoff,
            fingerprint=lambda job: (job.get("status"), job.get("processedRecordCount")),
            pacing=self.pacing,
        )
        return poller.run(seen, self.cancelled)

    def _stop(self, arn: str) -> None:
        try:
            with aws_call("stopping the batch inference job"):
                self.context.client("bedrock").stop_model_invocation_job(jobIdentifier=arn)
        except BedrockTuneError:
            pass  # it ended meanwhile; the registry entry lets teardown check it

    def _read(self, arn: str, family: str, count: int, output_uri: str) -> dict[int, BatchAnswer]:
        indexes = {record_id(i): i for i in range(count)}
        bucket, _, prefix = output_uri.removeprefix("s3://").partition("/")
        folder = f"{prefix}{arn.rsplit('/', 1)[-1]}/"
        s3 = self.context.client("s3")
        answers: dict[int, BatchAnswer] = {}
        with aws_call(f"reading the batch output under s3://{bucket}/{folder}"):
            keys = [
                str(item["Key"])
                for page in s3.get_paginator("list_objects_v2").paginate(
                    Bucket=bucket, Prefix=folder
                )
                for item in page.get("Contents", [])
            ]
            for key in sorted(k for k in keys if k.endswith(".jsonl.out")):
                body = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
                answers.update(parse_output(family, body, indexes))
        return answers


def _with(info: BatchJobInfo, **changes: Any) -> BatchJobInfo:
    from dataclasses import replace

    return replace(info, **changes)
