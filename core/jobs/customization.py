"""Model customization jobs: the request, its checks, launch, status, stop and list.

A job is launched once: the caller creates a client request token first, stores it (the run
registry), and only then calls `launch`. Bedrock treats a repeated CreateModelCustomizationJob
with the same token as the same request, so a retry after a crash or a timeout can never start a
second job. Every call takes the `AwsContext` (or a client) as an argument.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from core.aws import S3_URI, AwsContext
from core.catalog.types import BaseModel, CustomizationType
from core.errors import ConflictError, NotFoundError, ValidationError, aws_call
from core.ownership import MANAGED_TAG as MANAGED_TAG  # re-exported: resume imports it here
from core.ownership import RUN_TAG
from core.statuses import JobStatus as JobStatus  # where callers have always found it

JOB_NAME = re.compile(r"[a-zA-Z0-9](-*[a-zA-Z0-9+\-.])*")
MODEL_NAME = re.compile(r"([0-9a-zA-Z][_-]?){1,63}")
TAG_TEXT = re.compile(r"[a-zA-Z0-9\s._:/=+@-]*")
TOKEN = re.compile(r"[a-zA-Z0-9]([-a-zA-Z0-9]{0,254}[a-zA-Z0-9])?")
TEACHER_ID = re.compile(
    r"(arn:aws(-[^:]+)?:bedrock:[a-z0-9-]{1,20}:((:foundation-model/([a-z0-9-]{1,63}[.]{1}"
    r"[a-z0-9-]{1,63}([.]?[a-z0-9-]{1,63})([:][a-z0-9-]{1,63}){0,2})|(([0-9a-zA-Z][_-]?)+)$)|"
    r"([0-9]{12}:inference-profile/[a-zA-Z0-9-:.]+$)))|([a-z0-9-]{1,63}[.]{1}[a-z0-9-]{1,63}"
    r"([.]?[a-z0-9-]{1,63})([:][a-z0-9-]{1,63}){0,2})"
)
"""botocore's `TeacherModelIdentifier` pattern (bedrock 2023-04-20)."""
MAX_RESPONSE_LENGTH_CEILING = 2**31 - 1
"""`maxResponseLengthForInference` is an `Integer` without documented bounds (botocore); the
only check is that it is a positive 32-bit whole number. AWS samples send 1000."""


PHASES: tuple[tuple[str, str], ...] = (
    ("validationDetails", "Validation"),
    ("dataProcessingDetails", "Data processing"),
    ("trainingDetails", "Training"),
)
"""The three phases of `statusDetails`, in order, with their labels."""


@dataclass(frozen=True)
class JobRequest:
    """Everything CreateModelCustomizationJob needs, checked by `check_request`."""

    job_name: str
    custom_model_name: str
    base_model_id: str
    role_arn: str
    training_uri: str
    output_uri: str
    client_request_token: str
    customization_type: CustomizationType = CustomizationType.FINE_TUNING
    validation_uri: str | None = None
    hyperparameters: Mapping[str, str] = field(default_factory=dict)
    kms_key_id: str | None = None
    subnet_ids: tuple[str, ...] = ()
    security_group_ids: tuple[str, ...] = ()
    tags: Mapping[str, str] = field(default_factory=dict)
    teacher_model_id: str | None = None
    """Distillation: the teacher (`teacherModelIdentifier`), one the catalog pairs with the
    base model."""
    max_response_length: int | None = None
    """Distillation: `maxResponseLengthForInference`, the most tokens asked of the teacher per
    answer (None: Bedrock's default)."""
    owner_tags: Mapping[str, str] = field(default_factory=dict)
    """Who creates it (core/ownership.py `ownership_tags`): on the job and the custom model."""

    def to_api(self) -> dict[str, Any]:
        """The exact keyword arguments of `bedrock.create_model_customization_job`."""
        merged = {MANAGED_TAG[0]: MANAGED_TAG[1], **self.tags, **self.owner_tags}
        tags = [{"key": k, "value": v} for k, v in merged.items()]
        request: dict[str, Any] = {
            "jobName": self.job_name,
            "customModelName": self.custom_model_name,
            "roleArn": self.role_arn,
            "clientRequestToken": self.client_request_token,
            "baseModelIdentifier": self.base_model_id,
            "customizationType": self.customization_type.value,
            "trainingDataConfig": {"s3Uri": self.training_uri},
            "outputDataConfig": {"s3Uri": self.output_uri},
            "hyperParameters": {k: str(v) for k, v in self.hyperparameters.items()},
            "jobTags": tags,
            "customModelTags": tags,
        }
        if self.validation_uri:
            request["validationDataConfig"] = {"validators": [{"s3Uri": self.validation_uri}]}
        if self.kms_key_id:
            request["customModelKmsKeyId"] = self.kms_key_id
        if self.subnet_ids or self.security_group_ids:
            request["vpcConfig"] = {
                "subnetIds": list(self.subnet_ids),
                "securityGroupIds": list(self.security_group_ids),
            }
        if self.customization_type is CustomizationType.DISTILLATION and self.teacher_model_id:
            teacher: dict[str, Any] = {"teacherModelIdentifier": self.teacher_model_id}
            if self.max_response_length is not None:
                teacher["maxResponseLengthForInference"] = self.max_response_length
            request["customizationConfig"] = {"distillationConfig": {"teacherModelConfig": teacher}}
        return request


def teachers_text(model: BaseModel) -> str:
    """The teachers the catalog pairs with `model` as a student, for messages."""
    custom = model.customization(CustomizationType.DISTILLATION)
    teachers = custom.teachers if custom else ()
    return ", ".join(f"{t.id} ({t.name})" for t in teachers) or "none in the catalog"


def _teacher_problems(request: JobRequest, model: BaseModel) -> list[str]:
    """What is wrong with the distillation settings (the teacher, the response length)."""
    problems: list[str] = []
    distilling = request.customization_type is CustomizationType.DISTILLATION
    teacher = (request.teacher_model_id or "").strip()
    if not distilling:
        if teacher or request.max_response_length is not None:
            problems.append(
                "a teacher model and a maximum response length are for distillation only"
            )
        return problems
    custom = model.customization(CustomizationType.DISTILLATION)
    if not teacher:
        problems.append(
            f"distillation needs a teacher model; for {model.name} choose one of: "
            f"{teachers_text(model)}"
        )
    elif custom is not None and custom.teacher(teacher) is None:
        problems.append(
            f"'{teacher}' is not a teacher bedrock-tune knows for {model.name}; choose one of: "
            f"{teachers_text(model)}"
        )
    elif not TEACHER_ID.fullmatch(teacher):
        problems.append(f"teacher '{teacher}' is not a model id, model ARN or inference profile")
    length = request.max_response_length
    if length is not None and not 1 <= length <= MAX_RESPONSE_LENGTH_CEILING:
        problems.append(
            f"the maximum response length must be a whole number of tokens from 1 to "
            f"{MAX_RESPONSE_LENGTH_CEILING:,}, not {length}"
        )
    return problems


def new_client_request_token() -> str:
    """A fresh idempotency token (store it before launching)."""
    return uuid.uuid4().hex


def _full(pattern: re.Pattern[str], text: str) -> bool:
    return pattern.fullmatch(text) is not None


def check_request(request: JobRequest, model: BaseModel) -> list[str]:
    """Every reason the request would be refused, before any call (empty when it is fine)."""
    problems: list[str] = []
    if not (1 <= len(request.job_name) <= 63 and _full(JOB_NAME, request.job_name)):
        problems.append(
            f"job name '{request.job_name}': 1-63 letters, digits, '+', '-' and '.', starting "
            "with a letter or digit"
        )
    if not (
        1 <= len(request.custom_model_name) <= 63 and _full(MODEL_NAME, request.custom_model_name)
    ):
        problems.append(
            f"custom model name '{request.custom_model_name}': 1-63 letters and digits, single "
            "'-' or '_' between them (no dots or spaces)"
        )
    if not _full(TOKEN, request.client_request_token):
        problems.append("client request token: 1-256 letters, digits and '-'")
    if not re.fullmatch(r"arn:aws(-[^:]+)?:iam::([0-9]{12})?:role/.+", request.role_arn):
        problems.append(f"role ARN '{request.role_arn}' is not an IAM role ARN")
    uris = [("training data", request.training_uri), ("output", request.output_uri)]
    if request.validation_uri:
        uris.append(("validation data", request.validation_uri))
    for label, uri in uris:
        if not _full(S3_URI, uri):
            problems.append(
                f"{label} URI '{uri}' is not one Bedrock accepts: the bucket takes 3-63 "
                "lower-case letters, digits, '.' and '-'; keys take letters, digits and "
                "-!_*'(). only (no spaces, '+', '=' or '&')"
            )
    customization = model.customization(request.customization_type)
    if customization is None:
        problems.append(f"{model.name} does not support {request.customization_type.label.lower()}")
    else:
        for name, value in request.hyperparameters.items():
            spec = customization.hyperparameter(name)
            if spec is None:
                known = ", ".join(h.name for h in customization.hyperparameters) or "none"
                problems.append(f"{model.name} has no hyperparameter '{name}' (it has: {known})")
                continue
            reason = spec.check(str(value))
            if reason:
                problems.append(reason)
        if request.validation_uri and not customization.limits.validation_data_supported:
            problems.append(f"{model.name} does not accept validation data for this customization")
    problems.extend(_teacher_problems(request, model))
    for key, value in {**request.tags, **request.owner_tags}.items():
        if not (1 <= len(key) <= 128 and _full(TAG_TEXT, key)) or not (
            len(value) <= 256 and _full(TAG_TEXT, value)
        ):
            problems.append(f"tag '{key}={value}' has characters or a length the API refuses")
    if len(request.subnet_ids) > 16 or len(request.security_group_ids) > 5:
        problems.append("a VPC config takes 1-16 subnets and 1-5 security groups")
    if bool(request.subnet_ids) != bool(request.security_group_ids):
        problems.append("a VPC config needs both subnets and security groups")
    return problems


def ensure_valid(request: JobRequest, model: BaseModel) -> None:
    """Raise ValidationError listing every problem `check_request` finds (none: return)."""
    problems = check_request(request, model)
    if problems:
        raise ValidationError(
            "The job request is not valid:\n" + "\n".join(f"- {p}" for p in problems),
            hint="Fix the values above; nothing was sent to AWS.",
        )


def launch(context: AwsContext, request: JobRequest, model: BaseModel) -> str:
    """Create the job and return its ARN. Checks the request first (no call when it is bad).

    Calling again with the same `client_request_token` returns the same job: it never starts a
    second one.

    Raises:
        ValidationError: when `check_request` finds problems (all of them, one per line).
    """
    ensure_valid(request, model)
    try:
        with aws_call(f"creating the customization job '{request.job_name}'"):
            response = context.client("bedrock").create_model_customization_job(**request.to_api())
    except ConflictError as conflict:
        # A name is taken. If it is the job this very token created (a retry whose first answer
        # was lost), it is ours: re-attach instead of failing or starting another.
        try:
            existing = get_job(context, request.job_name)
        except NotFoundError:
            existing = None
        if existing is not None and existing.client_request_token == request.client_request_token:
            return existing.arn
        taken = "job name" if existing is not None else "custom model name"
        name = request.job_name if existing is not None else request.custom_model_name
        raise NameTakenError(
            f"The {taken} '{name}' is already used in {context.region} by something this "
            f"launch did not create ({conflict.message}).",
            hint="Choose another job name and custom model name (the launch step proposes "
            "unique ones).",
            what=taken,
            name=name,
        ) from None
    return str(response["jobArn"])


class NameTakenError(ConflictError):
    """A job or custom model name is already used by something a launch did not create."""

    def __init__(self, message: str, *, hint: str, what: str, name: str) -> None:
        super().__init__(message, hint=hint)
        self.what = what
        """`job name` or `custom model name`."""
        self.name = name


@dataclass(frozen=True)
class Phase:
    """One phase of `statusDetails`."""

    key: str
    label: str
    status: str
    """InProgress | Completed | Stopping | Stopped | Failed | NotStarted (or '' when absent)."""
    started: datetime | None
    updated: datetime | None


@dataclass(frozen=True)
class JobSnapshot:
    """A job as GetModelCustomizationJob describes it at one moment."""

    arn: str
    name: str
    status: JobStatus
    phases: tuple[Phase, ...]
    base_model_arn: str
    output_uri: str
    output_model_name: str
    output_model_arn: str | None
    failure_message: str | None
    created: datetime | None
    last_modified: datetime | None
    ended: datetime | None
    hyperparameters: Mapping[str, str]
    training_loss: float | None
    validation_loss: float | None
    client_request_token: str | None
    training_uri: str = ""
    """`trainingDataConfig.s3Uri`: which file the job trains on."""

    def fingerprint(self) -> tuple[object, ...]:
        """What changes when the job changes (the poller backs off while it does not)."""
        return (
            self.status,
            tuple((p.status, p.updated) for p in self.phases),
            self.last_modified,
            self.failure_message,
            self.output_model_arn,
        )


def job_id_of(arn_or_name: str) -> str:
    """The job id from an ARN (`.../model-customization-job/<model>/<id>` -> `<id>`)."""
    return arn_or_name.rsplit("/", 1)[-1]


def _utc(value: Any) -> datetime | None:
    """Timestamps as aware UTC datetimes (a naive one is taken to be UTC, as AWS sends)."""
    if not isinstance(value, datetime):
        return None
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def snapshot_from(response: Mapping[str, Any]) -> JobSnapshot:
    """Build a snapshot from a GetModelCustomizationJob response."""
    details = response.get("statusDetails") or {}
    phases = tuple(
        Phase(
            key=key,
            label=label,
            status=str((details.get(key) or {}).get("status", "")),
            started=_utc((details.get(key) or {}).get("creationTime")),
            updated=_utc((details.get(key) or {}).get("lastModifiedTime")),
        )
        for key, label in PHASES
    )
    status = JobStatus(str(response.get("status", "InProgress")))
    validators = response.get("validationMetrics") or []
    validation_loss = validators[-1].get("validationLoss") if validators else None
    return JobSnapshot(
        arn=str(response["jobArn"]),
        name=str(response.get("jobName", "")),
        status=status,
        phases=phases,
        base_model_arn=str(response.get("baseModelArn", "")),
        output_uri=str((response.get("outputDataConfig") or {}).get("s3Uri", "")),
        output_model_name=str(response.get("outputModelName", "")),
        output_model_arn=response.get("outputModelArn"),
        # Only a failed job has a failure message (moto fills a placeholder for every job).
        failure_message=response.get("failureMessage") if status is JobStatus.FAILED else None,
        created=_utc(response.get("creationTime")),
        last_modified=_utc(response.get("lastModifiedTime")),
        ended=_utc(response.get("endTime")) if status.terminal else None,
        hyperparameters=dict(response.get("hyperParameters") or {}),
        training_loss=(response.get("trainingMetrics") or {}).get("trainingLoss"),
        validation_loss=validation_loss,
        client_request_token=response.get("clientRequestToken"),
        training_uri=str((response.get("trainingDataConfig") or {}).get("s3Uri", "")),
    )


def get_job(context: AwsContext, job: str) -> JobSnapshot:
    """The job's current state, by ARN or name."""
    with aws_call(f"reading the customization job {job_id_of(job)}"):
        response = context.client("bedrock").get_model_customization_job(jobIdentifier=job)
    return snapshot_from(response)


def find_launched_job(context: AwsContext, job_name: str, token: str) -> str | None:
    """The ARN of the job `job_name` if this token created it (a launch whose answer was lost:
    the process died right after CreateModelCustomizationJob), else None."""
    try:
        existing = get_job(context, job_name)
    except NotFoundError:
        return None
    return existing.arn if existing.client_request_token == token else None


def custom_model_status(context: AwsContext, model: str) -> str:
    """`modelStatus` of a custom model (Creating | Active | Failed), by name or ARN."""
    with aws_call(f"reading the custom model {model.rsplit('/', 1)[-1]}"):
        response = context.client("bedrock").get_custom_model(modelIdentifier=model)
    # Older custom models (and the sandbox's) have no modelStatus, though the stubs require it.
    status: object = response.get("modelStatus")
    return str(status or "Active")


def stop_job(context: AwsContext, job: str) -> None:
    """Ask Bedrock to stop the job (it goes Stopping, then Stopped)."""
    with aws_call(f"stopping the customization job {job_id_of(job)}"):
        context.client("bedrock").stop_model_customization_job(jobIdentifier=job)


@dataclass(frozen=True)
class JobSummary:
    """One entry of ListModelCustomizationJobs."""

    arn: str
    name: str
    status: JobStatus
    base_model_arn: str
    custom_model_name: str | None
    custom_model_arn: str | None
    created: datetime | None
    ended: datetime | None


def list_jobs(context: AwsContext, status: JobStatus | None = None) -> Iterator[JobSummary]:
    """Every customization job in the context's region, newest first (paginated)."""
    client = context.client("bedrock")
    kwargs: dict[str, Any] = {"sortBy": "CreationTime", "sortOrder": "Descending"}
    if status is not None:
        kwargs["statusEquals"] = status.value
    with aws_call(f"listing customization jobs in {context.region}"):
        for page in client.get_paginator("list_model_customization_jobs").paginate(**kwargs):
            for item in page.get("modelCustomizationJobSummaries", []):
                yield JobSummary(
                    arn=str(item["jobArn"]),
                    name=str(item["jobName"]),
                    status=JobStatus(str(item["status"])),
                    base_model_arn=str(item.get("baseModelArn", "")),
                    custom_model_name=item.get("customModelName"),
                    custom_model_arn=item.get("customModelArn"),
                    created=_utc(item.get("creationTime")),
                    ended=_utc(item.get("endTime")),
                )


def managed_job_arns(context: AwsContext, run_id: str | None = None) -> list[str]:
    """ARNs of the jobs tagged as bedrock-tune's (optionally of one run), newest first.

    This is how a run is found again when the local registry is gone.
    """
    client = context.client("bedrock")
    found: list[str] = []
    for job in list_jobs(context):
        with aws_call(f"reading the tags of job {job.name}"):
            tags = client.list_tags_for_resource(resourceARN=job.arn).get("tags", [])
        values = {t.get("key"): t.get("value") for t in tags}
        if values.get(MANAGED_TAG[0]) != MANAGED_TAG[1]:
            continue
        if run_id is not None and values.get(RUN_TAG) != run_id:
            continue
        found.append(job.arn)
    return found
