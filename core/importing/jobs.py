"""Custom Model Import's API: the import job (create once, read, list, watch) and the imported
model (read, list, delete).

There is no Stop or Delete for an import job (botocore's bedrock model has only Create, Get and
List): once sent, an import runs to Completed or Failed, and its model is deleted afterwards.
GetModelImportJob does not return the client token, so an import is recognised as a run's by
its `bedrock-tune:run` tag (`find_launched_import`); the token still makes a retried
CreateModelImportJob harmless.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from core.aws import S3_URI, S3_URI_MAX, AwsContext
from core.errors import (
    ConflictError,
    NotFoundError,
    QuotaExceededError,
    ValidationError,
    aws_call,
)
from core.jobs.customization import JOB_NAME, MANAGED_TAG, MODEL_NAME, TOKEN, NameTakenError
from core.ownership import RUN_TAG
from core.poll import Backoff, Pacing, Poller
from core.statuses import ImportStatus

ROLE_ARN = re.compile(r"arn:aws(-[^:]+)?:iam::([0-9]{12})?:role/.+")
"""botocore's `RoleArn` pattern."""
IMPORT_POLL = Backoff(first=30.0, maximum=120.0)
"""Imports take minutes (15-18 in the walkthrough): no need to ask more often."""


@dataclass(frozen=True)
class ImportRequest:
    """Everything CreateModelImportJob needs."""

    job_name: str
    model_name: str
    """The imported model's name."""
    role_arn: str
    model_uri: str
    """The S3 folder holding config.json, the safetensors and the tokenizer."""
    client_request_token: str
    tags: Mapping[str, str] = field(default_factory=dict)
    owner_tags: Mapping[str, str] = field(default_factory=dict)
    """Who creates it (core/ownership.py `ownership_tags`): on the job and the model."""
    kms_key_id: str | None = None
    subnet_ids: tuple[str, ...] = ()
    security_group_ids: tuple[str, ...] = ()

    def to_api(self) -> dict[str, Any]:
        """The exact keyword arguments of `bedrock.create_model_import_job`."""
        merged = {MANAGED_TAG[0]: MANAGED_TAG[1], **self.tags, **self.owner_tags}
        tags = [{"key": k, "value": v} for k, v in merged.items()]
        request: dict[str, Any] = {
            "jobName": self.job_name,
            "importedModelName": self.model_name,
            "roleArn": self.role_arn,
            "modelDataSource": {"s3DataSource": {"s3Uri": self.model_uri}},
            "clientRequestToken": self.client_request_token,
            "jobTags": tags,
            "importedModelTags": tags,
        }
        if self.kms_key_id:
            request["importedModelKmsKeyId"] = self.kms_key_id
        if self.subnet_ids or self.security_group_ids:
            request["vpcConfig"] = {
                "subnetIds": list(self.subnet_ids),
                "securityGroupIds": list(self.security_group_ids),
            }
        return request


def check_import_request(request: ImportRequest) -> list[str]:
    """Every reason CreateModelImportJob would refuse the request (empty when it is fine)."""
    problems: list[str] = []
    if not (1 <= len(request.job_name) <= 63 and JOB_NAME.fullmatch(request.job_name)):
        problems.append(
            f"import job name '{request.job_name}': 1-63 letters, digits, '+', '-' and '.', "
            "starting with a letter or digit"
        )
    if not (1 <= len(request.model_name) <= 63 and MODEL_NAME.fullmatch(request.model_name)):
        problems.append(
            f"imported model name '{request.model_name}': 1-63 letters and digits, single '-' or "
            "'_' between them (no dots or spaces)"
        )
    if not ROLE_ARN.fullmatch(request.role_arn):
        problems.append(f"role '{request.role_arn}' is not an IAM role ARN")
    if not S3_URI.fullmatch(request.model_uri) or len(request.model_uri) > S3_URI_MAX:
        problems.append(
            f"model location '{request.model_uri}' is not an S3 URI the import accepts "
            "(letters, digits and -!_*'(). in each key part)"
        )
    if not TOKEN.fullmatch(request.client_request_token):
        problems.append("client request token: 1-256 letters, digits and '-'")
    return problems


def ensure_valid_import(request: ImportRequest) -> None:
    """Raise ValidationError listing every problem (none: return)."""
    problems = check_import_request(request)
    if problems:
        raise ValidationError(
            "The import request is not valid:\n" + "\n".join(f"- {p}" for p in problems),
            hint="Fix the values above; nothing was sent to AWS.",
        )


def create_import_job(context: AwsContext, request: ImportRequest) -> str:
    """Send CreateModelImportJob (after checking the request) and return the job's ARN.

    Raises:
        ValidationError: the request is bad (nothing sent), or Bedrock refused it.
        NameTakenError: the job or model name is taken by something this launch did not make.
        QuotaExceededError: the account's imported-models quota is reached.
    """
    ensure_valid_import(request)
    try:
        with aws_call(f"creating the import job '{request.job_name}'"):
            response = context.client("bedrock").create_model_import_job(**request.to_api())
    except ConflictError as conflict:
        raise NameTakenError(
            f"The import job name '{request.job_name}' or the model name '{request.model_name}' "
            f"is already used in {context.region} ({conflict.message}).",
            hint="Choose another name (--name), or delete the imported model you no longer need "
            "(`bedrock-tune teardown`).",
            what="imported model name",
            name=request.model_name,
        ) from None
    except QuotaExceededError as quota:
        quota.title = "Imported-model quota reached"
        quota.hint = (
            "The account holds as many imported models as its 'Imported models per account' "
            "quota allows. Delete one you no longer need (`bedrock-tune teardown`), or request "
            "an increase in the Service Quotas console (Amazon Bedrock) for this Region."
        )
        raise
    return str(response["jobArn"])


def _utc(value: Any) -> datetime | None:
    if not isinstance(value, datetime):
        return None
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


@dataclass(frozen=True)
class ImportJob:
    """An import job as GetModelImportJob (or ListModelImportJobs) describes it."""

    arn: str
    name: str
    status: ImportStatus
    model_name: str
    model_arn: str | None
    model_uri: str
    failure_message: str | None
    created: datetime | None
    last_modified: datetime | None
    ended: datetime | None

    def fingerprint(self) -> tuple[object, ...]:
        """What changes when the import moves on."""
        return (self.status, self.last_modified, self.model_arn, self.failure_message)


def _job(item: Mapping[str, Any]) -> ImportJob:
    status = ImportStatus(str(item.get("status", "InProgress")))
    source = (item.get("modelDataSource") or {}).get("s3DataSource") or {}
    return ImportJob(
        arn=str(item["jobArn"]),
        name=str(item.get("jobName", "")),
        status=status,
        model_name=str(item.get("importedModelName", "")),
        model_arn=item.get("importedModelArn"),
        model_uri=str(source.get("s3Uri", "")),
        failure_message=item.get("failureMessage") if status is ImportStatus.FAILED else None,
        created=_utc(item.get("creationTime")),
        last_modified=_utc(item.get("lastModifiedTime")),
        ended=_utc(item.get("endTime")) if status.terminal else None,
    )


def short_name(arn_or_name: str) -> str:
    """The last part of an ARN (or the name itself)."""
    return arn_or_name.rsplit("/", 1)[-1]


def get_import_job(context: AwsContext, job: str) -> ImportJob:
    """The import job, by name or ARN."""
    with aws_call(f"reading the import job {short_name(job)}"):
        response = context.client("bedrock").get_model_import_job(jobIdentifier=job)
    return _job(response)


def list_import_jobs(
    context: AwsContext, status: ImportStatus | None = None
) -> Iterator[ImportJob]:
    """The Region's import jobs, newest first (every page)."""
    kwargs: dict[str, Any] = {"sortBy": "CreationTime", "sortOrder": "Descending"}
    if status is not None:
        kwargs["statusEquals"] = status.value
    client = context.client("bedrock")
    with aws_call(f"listing import jobs in {context.region}"):
        for page in client.get_paginator("list_model_import_jobs").paginate(**kwargs):
            for item in page.get("modelImportJobSummaries", []):
                yield _job(item)


def resource_tags(context: AwsContext, arn: str) -> dict[str, str]:
    """The tags of an import job or imported model."""
    with aws_call(f"reading the tags of {short_name(arn)}"):
        tags = context.client("bedrock").list_tags_for_resource(resourceARN=arn).get("tags", [])
    return {str(t.get("key")): str(t.get("value")) for t in tags}


def find_launched_import(context: AwsContext, job_name: str, run_id: str) -> ImportJob | None:
    """The import job `job_name` if run `run_id` launched it (its `bedrock-tune:run` tag),
    None when there is no such job.

    Raises:
        NameTakenError: a job of that name exists but another run (or someone else) made it.
    """
    try:
        job = get_import_job(context, job_name)
    except NotFoundError:
        return None
    owner = resource_tags(context, job.arn).get(RUN_TAG)
    if owner == run_id:
        return job
    whose = f"bedrock-tune run {owner}" if owner else "someone else (it has no bedrock-tune tag)"
    raise NameTakenError(
        f"The import job name '{job_name}' in {context.region} belongs to {whose}.",
        hint="Choose another name; the other import is left alone.",
        what="import job name",
        name=job_name,
    )


@dataclass(frozen=True)
class ImportedModel:
    """An imported model as GetImportedModel (or ListImportedModels) describes it."""

    arn: str
    name: str
    architecture: str
    instruct: bool | None
    units: int | None
    """Custom model units per copy (GetImportedModel only)."""
    units_version: str | None
    job_arn: str | None
    model_uri: str
    created: datetime | None


def _model(item: Mapping[str, Any]) -> ImportedModel:
    units = item.get("customModelUnits") or {}
    source = (item.get("modelDataSource") or {}).get("s3DataSource") or {}
    per_copy = units.get("customModelUnitsPerModelCopy")
    return ImportedModel(
        arn=str(item["modelArn"]),
        name=str(item.get("modelName", "")),
        architecture=str(item.get("modelArchitecture", "")),
        instruct=item.get("instructSupported"),
        units=int(per_copy) if isinstance(per_copy, int) else None,
        units_version=units.get("customModelUnitsVersion"),
        job_arn=item.get("jobArn"),
        model_uri=str(source.get("s3Uri", "")),
        created=_utc(item.get("creationTime")),
    )


def get_imported_model(context: AwsContext, model: str) -> ImportedModel:
    """The imported model, by name or ARN."""
    with aws_call(f"reading the imported model {short_name(model)}"):
        response = context.client("bedrock").get_imported_model(modelIdentifier=model)
    return _model(response)


def list_imported_models(context: AwsContext) -> list[ImportedModel]:
    """The Region's imported models, newest first (every page)."""
    client = context.client("bedrock")
    found: list[ImportedModel] = []
    with aws_call(f"listing imported models in {context.region}"):
        pages = client.get_paginator("list_imported_models").paginate(
            sortBy="CreationTime", sortOrder="Descending"
        )
        for page in pages:
            found.extend(_model(item) for item in page.get("modelSummaries", []))
    return found


def delete_imported_model(context: AwsContext, model: str) -> None:
    """Delete the imported model (irreversible; its storage charge stops)."""
    with aws_call(f"deleting the imported model {short_name(model)}"):
        context.client("bedrock").delete_imported_model(modelIdentifier=model)


def import_poller(
    fetch: Callable[[], ImportJob],
    *,
    backoff: Backoff = IMPORT_POLL,
    pacing: Pacing | None = None,
) -> Poller[ImportJob]:
    """The one poller (`core.poll`), set up to follow an import until it ends."""
    return Poller(
        fetch,
        finished=lambda job: job.status.terminal,
        backoff=backoff,
        fingerprint=ImportJob.fingerprint,
        pacing=pacing,
    )
