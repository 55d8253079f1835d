"""Custom Model Import in the sandbox: import jobs that play out, imported models that answer.

moto implements none of it. Here:

* CreateModelImportJob reads the model folder from moto's S3 and runs bedrock-tune's own
  pre-import check on it (`core.importing.check`): a folder the check fails makes the job fail
  (at 10% of `import_seconds`) with the first error as its failure message, a folder that passes
  completes after `import_seconds` (by the injected clock) and its imported model appears, with
  `modelArchitecture` (the config's `model_type`) and custom model units;
* a repeated clientRequestToken returns the same job; a job name, or an imported model name,
  already used is a ConflictException; more imported models (and imports under way) than
  `quota` is a ServiceQuotaExceededException (the sandbox's own limit: AWS's default quota is
  not in the reference);
* the List operations page with maxResults / nextToken; DeleteImportedModel removes a model;
  ListTagsForResource answers for import jobs and imported models;
* Converse and InvokeModel on an imported model: a cold model (never called, or idle for
  `idle_seconds`) answers ModelNotReadyException once while its copy "loads", then answers
  honestly that the sandbox runs no language model. InvokeModel takes the bodies imported models
  take (reference §6.4): BedrockCompletion (`prompt`, `max_gen_len`), OpenAICompletion
  (`prompt`, `max_tokens`) and OpenAIChatCompletion (`messages`).

The messages of the errors are the sandbox's words (AWS's exact texts are not in the reference).
"""

from __future__ import annotations

import math
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from core.sandbox.paging import page

FAIL_AT = 0.10
DEFAULT_QUOTA = 3

Answer = tuple[int, Any]
"""(HTTP status, JSON body) or, for an error, (status, (error type, message))."""


class MotoS3Files:
    """A model folder read straight from moto's in-process S3 backend (`ModelFiles`)."""

    def __init__(self, account_id: str, uri: str) -> None:
        from moto.s3.models import s3_backends

        rest = uri.removeprefix("s3://")
        bucket_name, _, prefix = rest.partition("/")
        self.prefix = prefix.strip("/") + "/"
        self._where = f"s3://{bucket_name}/{self.prefix}"
        bucket = s3_backends[account_id]["global"].buckets.get(bucket_name)
        self._keys: dict[str, Any] = {}
        if bucket is not None:
            for name, key in bucket.keys.items():
                if name.startswith(self.prefix) and not name.endswith("/"):
                    self._keys[name[len(self.prefix) :]] = key

    @property
    def where(self) -> str:
        return self._where

    def listing(self) -> Mapping[str, int]:
        return {name: int(key.size) for name, key in self._keys.items()}

    def read(self, name: str) -> bytes:
        value: bytes = self._keys[name].value
        return value

    def read_range(self, name: str, start: int, length: int) -> bytes:
        value: bytes = self._keys[name].value
        return value[start : start + length]


@dataclass
class _Job:
    arn: str
    name: str
    model_name: str
    model_arn: str
    role_arn: str
    uri: str
    token: str | None
    tags: list[dict[str, str]]
    model_tags: list[dict[str, str]]
    created: float
    created_at: datetime
    failure: str | None
    architecture: str
    units: int
    parameters: int


@dataclass
class _Model:
    arn: str
    name: str
    job: _Job
    created_at: datetime
    tags: list[dict[str, str]]
    warm_until: float | None = None
    """Clock time until which a loaded copy stays (None: cold)."""
    deleted: bool = False
    calls: int = field(default=0)


def _model_not_found(key: str) -> Answer:
    return 404, ("ResourceNotFoundException", f"The imported model {key} was not found.")


def _units(parameters: int) -> int:
    """Custom model units per copy: the reference's examples (an 8B Llama uses 2 CMU, a 70B one
    8) as steps; the sandbox's own approximation, not AWS's formula."""
    if parameters <= 0 or parameters < 1_000_000_000:
        return 1
    return 2 if parameters <= 10_000_000_000 else 8 * math.ceil(parameters / 70_000_000_000)


class ImportSimulator:
    """Import jobs and imported models of one sandbox."""

    def __init__(
        self,
        import_seconds: float = 30.0,
        clock: Callable[[], float] = time.time,
        page_size: int = 100,
        quota: int = DEFAULT_QUOTA,
        idle_seconds: float = 300.0,
    ) -> None:
        self.import_seconds = import_seconds
        self.page_size = page_size
        self.quota = quota
        self.idle_seconds = idle_seconds
        self._clock = clock
        self._lock = threading.Lock()
        self._jobs: dict[str, _Job] = {}
        self._models: dict[str, _Model] = {}

    # ------------------------------------------------------------------ the job's life

    def _status(self, job: _Job) -> str:
        elapsed = self._clock() - job.created
        if job.failure is not None:
            return "Failed" if elapsed >= self.import_seconds * FAIL_AT else "InProgress"
        return "Completed" if elapsed >= self.import_seconds else "InProgress"

    def _settle(self) -> None:
        """Make the models of the imports that completed (called under the lock)."""
        for job in self._jobs.values():
            if job.model_arn not in self._models and self._status(job) == "Completed":
                done = job.created_at + timedelta(seconds=self.import_seconds)
                self._models[job.model_arn] = _Model(
                    job.model_arn, job.model_name, job, done, job.model_tags
                )

    def _live_models(self) -> list[_Model]:
        return [m for m in self._models.values() if not m.deleted]

    def create(self, region: str, account: str, body: dict[str, Any]) -> Answer:
        """CreateModelImportJob."""
        from core.importing.check import check_model

        token = body.get("clientRequestToken")
        name = str(body.get("jobName", ""))
        model_name = str(body.get("importedModelName", ""))
        uri = str(((body.get("modelDataSource") or {}).get("s3DataSource") or {}).get("s3Uri", ""))
        with self._lock:
            self._settle()
            same = next((j for j in self._jobs.values() if token and j.token == token), None)
            if same is not None:
                return 201, {"jobArn": same.arn}
            if any(j.name == name for j in self._jobs.values()):
                return 409, ("ConflictException", f"An import job named {name} already exists.")
            busy = [j for j in self._jobs.values() if self._status(j) == "InProgress"]
            taken = {m.name for m in self._live_models()} | {j.model_name for j in busy}
            if model_name in taken:
                return 409, (
                    "ConflictException",
                    f"An imported model named {model_name} already exists (or is being imported).",
                )
            if len(self._live_models()) + len(busy) >= self.quota:
                return 400, (
                    "ServiceQuotaExceededException",
                    f"You have reached the quota of {self.quota} imported models in this account "
                    "(the sandbox's limit).",
                )
        files = MotoS3Files(account, uri)
        failure: str | None = None
        report = None
        if not files.listing():
            failure = f"No model files were found at {files.where}."
        else:
            report = check_model(files, region=region)
            if report.errors:
                first = report.errors[0]
                failure = (
                    f"The model at {files.where} could not be imported: {first.message} "
                    f"(sandbox: the pre-import check's rule {first.rule})"
                )
        job_id = uuid.uuid4().hex[:12]
        model_id = uuid.uuid4().hex[:12]
        parameters = (report.facts.parameters or 0) if report is not None else 0
        job = _Job(
            arn=f"arn:aws:bedrock:{region}:{account}:model-import-job/{job_id}",
            name=name,
            model_name=model_name,
            model_arn=f"arn:aws:bedrock:{region}:{account}:imported-model/{model_id}",
            role_arn=str(body.get("roleArn", "")),
            uri=uri,
            token=str(token) if token else None,
            tags=list(body.get("jobTags") or []),
            model_tags=list(body.get("importedModelTags") or []),
            created=self._clock(),
            created_at=datetime.now(UTC),
            failure=failure,
            architecture=(report.facts.model_type or "") if report is not None else "",
            units=_units(parameters),
            parameters=parameters,
        )
        with self._lock:
            self._jobs[job.arn] = job
        return 201, {"jobArn": job.arn}

    def _find_job(self, key: str) -> _Job | None:
        return next((j for j in self._jobs.values() if key in (j.arn, j.name)), None)

    def _job_json(self, job: _Job, *, summary: bool = False) -> dict[str, Any]:
        status = self._status(job)
        data: dict[str, Any] = {
            "jobArn": job.arn,
            "jobName": job.name,
            "importedModelName": job.model_name,
            "status": status,
            "creationTime": job.created_at.isoformat(),
            "lastModifiedTime": self._stamp(job).isoformat(),
        }
        if status != "InProgress":
            data["endTime"] = self._stamp(job).isoformat()
        if status == "Completed":
            data["importedModelArn"] = job.model_arn
        if not summary:
            data["roleArn"] = job.role_arn
            data["modelDataSource"] = {"s3DataSource": {"s3Uri": job.uri}}
            if status == "Failed":
                data["failureMessage"] = job.failure
        return data

    def _stamp(self, job: _Job) -> datetime:
        end = self.import_seconds * (FAIL_AT if job.failure is not None else 1.0)
        seconds = min(self._clock() - job.created, end)
        return job.created_at + timedelta(seconds=max(seconds, 0.0))

    def get_job(self, key: str) -> Answer:
        """GetModelImportJob, by name or ARN."""
        with self._lock:
            self._settle()
            job = self._find_job(key)
            if job is None:
                return 404, ("ResourceNotFoundException", f"The import job {key} was not found.")
            return 200, self._job_json(job)

    def list_jobs(self, query: Callable[[str], str | None]) -> Answer:
        """ListModelImportJobs, one page (statusEquals, nameContains, sortOrder honoured)."""
        with self._lock:
            self._settle()
            jobs = list(self._jobs.values())
            status, contains = query("statusEquals"), query("nameContains")
            jobs = [j for j in jobs if status is None or self._status(j) == status]
            jobs = [j for j in jobs if contains is None or contains in j.name]
            if query("sortOrder") != "Ascending":
                jobs.reverse()
            rendered = [self._job_json(j, summary=True) for j in jobs]
        return self._page(rendered, "modelImportJobSummaries", query)

    # ------------------------------------------------------------------ imported models

    def _find_model(self, key: str) -> _Model | None:
        return next(
            (m for m in self._live_models() if key in (m.arn, m.name)),
            None,
        )

    def _model_json(self, model: _Model, *, summary: bool = False) -> dict[str, Any]:
        data: dict[str, Any] = {
            "modelArn": model.arn,
            "modelName": model.name,
            "creationTime": model.created_at.isoformat(),
            "modelArchitecture": model.job.architecture,
            "instructSupported": True,
        }
        if not summary:
            data["jobName"] = model.job.name
            data["jobArn"] = model.job.arn
            data["modelDataSource"] = {"s3DataSource": {"s3Uri": model.job.uri}}
            data["customModelUnits"] = {
                "customModelUnitsPerModelCopy": model.job.units,
                "customModelUnitsVersion": "v1.0",
            }
        return data

    def get_model(self, key: str) -> Answer:
        """GetImportedModel, by name or ARN."""
        with self._lock:
            self._settle()
            model = self._find_model(key)
            if model is None:
                return _model_not_found(key)
            return 200, self._model_json(model)

    def list_models(self, query: Callable[[str], str | None]) -> Answer:
        """ListImportedModels, one page."""
        with self._lock:
            self._settle()
            models = self._live_models()
            contains = query("nameContains")
            models = [m for m in models if contains is None or contains in m.name]
            if query("sortOrder") != "Ascending":
                models.reverse()
            rendered = [self._model_json(m, summary=True) for m in models]
        return self._page(rendered, "modelSummaries", query)

    def delete_model(self, key: str) -> Answer:
        """DeleteImportedModel."""
        with self._lock:
            self._settle()
            model = self._find_model(key)
            if model is None:
                return _model_not_found(key)
            model.deleted = True
        return 200, {}

    def tags(self, arn: str) -> list[dict[str, str]] | None:
        """ListTagsForResource of an import job or imported model (None: not one of ours)."""
        with self._lock:
            self._settle()
            job = self._jobs.get(arn)
            if job is not None:
                return job.tags
            model = self._models.get(arn)
            return model.tags if model is not None and not model.deleted else None

    def _page(
        self, items: list[dict[str, Any]], key: str, query: Callable[[str], str | None]
    ) -> Answer:
        return page(
            items,
            key,
            page_size=self.page_size,
            max_results=query("maxResults"),
            next_token=query("nextToken"),
        )

    # ------------------------------------------------------------------ inference

    def serve(self, model_id: str) -> tuple[_ServedModel | None, Answer | None]:
        """(the model, None) when a warm copy answers; (None, error) otherwise: not found, or
        ModelNotReadyException while a cold copy loads (the next call answers)."""
        with self._lock:
            self._settle()
            model = self._find_model(model_id)
            if model is None:
                return None, (404, ("ResourceNotFoundException", f"{model_id} was not found."))
            now = self._clock()
            if model.warm_until is None or now > model.warm_until:
                model.warm_until = now + self.idle_seconds
                return None, (
                    429,
                    (
                        "ModelNotReadyException",
                        f"The imported model {model.name} is being loaded (a cold start): try "
                        "again in a moment.",
                    ),
                )
            model.warm_until = now + self.idle_seconds
            model.calls += 1
            return _ServedModel(model.name, model.job.architecture, model.job.parameters), None


@dataclass(frozen=True)
class _ServedModel:
    name: str
    architecture: str
    parameters: int

    def answer(self) -> str:
        """The honest stand-in answer."""
        return (
            f"[sandbox: imported model {self.name} ({self.architecture}, {self.parameters:,} "
            "parameters)] The sandbox runs no language model: your model was checked and "
            "imported, and this stand-in answer shows the chat works end to end."
        )
