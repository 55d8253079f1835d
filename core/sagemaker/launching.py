"""SageMaker jobs launched from a run, once, whatever crashes: the QLoRA / serverless training job
(the train step and `bedrock-tune sagemaker launch`), the JumpStart training job and the
Autopilot job (their launch steps and CLI commands), and what a training job may cost before it
starts.

Neither CreateTrainingJob nor CreateAutoMLJobV2 takes a client token: a job's name is unique in
its account and Region, so the name is the token. The order that makes it safe: the run, with
the job's name, is saved in the registry *before* anything is sent. Before sending, the name is
looked up: a job of that name tagged with this run's id is this run's job (the process died
after sending, before saving its ARN), so it is re-attached; a job of that name without this
run's tag is someone else's, and the launch stops and says so. Every job started (or re-
attached) is recorded in the registry under its name, so teardown stops it while it runs.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from typing import Any

from core.aws import AwsContext
from core.errors import ConflictError, NotFoundError, ValidationError, aws_call
from core.faults import write_point
from core.naming import default_job_name
from core.ownership import RUN_TAG, ownership_tags
from core.pricing.sagemaker import builtin_training_rate
from core.pricing.types import Price, total_text
from core.registry import Registry, ResourceRecord
from core.run.types import Run
from core.sagemaker import kinds
from core.sagemaker.autopilot import AutopilotRequest, find_autopilot_job
from core.sagemaker.autopilot_data import write_autopilot_csv
from core.sagemaker.source import ARCHIVE, script_archive
from core.sagemaker.training import (
    DEFAULT_INSTANCE,
    TrainingRequest,
    check_training_request,
)
from core.sagemaker.watch import TrainingSnapshot, describe_training_job
from core.statuses import JobStatus

TRAINING_JOB = kinds.TRAINING_JOB
"""The registry's kind for a SageMaker training job bedrock-tune started (billable while it
runs); the record's identifier is the job's name."""
AUTOPILOT_CSV = "autopilot-train.csv"
"""The CSV's name beside the run's prepared JSONL in S3."""
SERVERLESS_PRICE_NOTE = (
    "Serverless model customization is billed by SageMaker for the training it runs; its rates "
    "are neither in bedrock-tune's reference (checked 2026-12) nor in the Price List figures "
    "bedrock-tune reads, so no amount is shown. See https://aws.amazon.com/sagemaker/pricing/ "
    "(model customization); the job reports its billable time when it ends."
)
WALKTHROUGH_HOURS = 2.5
"""The walkthrough's Llama 3 8B, 2 epochs on one ml.g5.12xlarge (reference)."""


def training_job_name(base_model: str, now: datetime | None = None) -> str:
    """A default job name SageMaker takes (letters, digits and '-' only)."""
    return re.sub(r"[^A-Za-z0-9-]+", "-", default_job_name(base_model, now)).strip("-")[:63]


def training_request(run: Run, *, install_id: str | None = None) -> TrainingRequest:
    """The CreateTrainingJob request the run describes, tagged with the run's id (and, given
    this install's id, the ownership tags). Missing values become empty texts, which
    `check_training_request` then names."""
    mode = run.training_mode or "serverless"
    output = (run.output_uri or "").rstrip("/") + "/" if run.output_uri else ""
    tags = dict(run.tags)
    if run.run_id:
        tags[RUN_TAG] = run.run_id
    if install_id:
        tags.update(ownership_tags(install_id, run.principal_arn))
    return TrainingRequest(
        job_name=run.job_name or "",
        role_arn=run.role_arn or "",
        base_model=run.base_model_id or "",
        training_uri=run.training_uri or "",
        validation_uri=run.validation_uri,
        output_uri=output,
        region=run.region or "",
        mode=mode,
        technique=run.training_technique or "SFT",
        sequence_length=run.sequence_length,
        accept_eula=bool(run.eula_accepted),
        instance_type=run.instance_type or DEFAULT_INSTANCE,
        spot=bool(run.spot),
        script_uri=f"{output}code/{ARCHIVE}" if mode == "instance" and output else None,
        hyperparameters=dict(run.hyperparameters),
        tags=tags,
    )


def _owner(context: AwsContext, name: str, arn: str) -> str | None:
    with aws_call(f"reading the tags of {name}"):
        tags = context.client("sagemaker").list_tags(ResourceArn=arn).get("Tags", [])
    return {t.get("Key"): t.get("Value") for t in tags}.get(RUN_TAG)


def _claim(context: AwsContext, kind: str, name: str, arn: str, run_id: str | None) -> None:
    """Refuse a job of that name that this run did not launch (it is left alone)."""
    owner = _owner(context, name, arn)
    if owner is None or owner != run_id:
        raise ConflictError(
            f"The {kind} name '{name}' is taken by "
            + (f"bedrock-tune run {owner}." if owner else "a job bedrock-tune did not launch."),
            hint=f"Choose another {kind} name; the other job is left alone.",
        )


def record_job(
    registry: Registry, kind: str, name: str, context: AwsContext, run: Run, **details: Any
) -> None:
    """Record a SageMaker job `run` started (billable while it runs; teardown stops it)."""
    registry.add_resource(
        ResourceRecord(
            kind=kind,
            identifier=name,
            region=context.region,
            account_id=run.account_id or "",
            run_id=run.run_id,
            billable=True,
            details=dict(details),
        )
    )


def instance_details(api: Mapping[str, Any]) -> dict[str, Any]:
    """What a training job's registry entry keeps of its instances (from the CreateTrainingJob
    request), so the billing counter can price it per instance-hour; {} for a serverless job."""
    resources = api.get("ResourceConfig") or {}
    instance = resources.get("InstanceType")
    if not instance:
        return {}
    return {
        "instance_type": str(instance),
        "instance_count": int(resources.get("InstanceCount") or 1),
        "spot": bool(api.get("EnableManagedSpotTraining")),
    }


def job_ended(registry: Registry, kind: str, name: str) -> None:
    """The SageMaker job `name` has ended (completed, failed or stopped): it bills nothing more.
    Its record stays for teardown to forget, but no longer counts as billing (the header, the
    quit guard)."""
    for record in registry.resources():
        if record.kind == kind and record.identifier == name and record.billable:
            registry.replace_resource(kind, name, replace(record, billable=False))


def find_launched_training(
    context: AwsContext, name: str, run_id: str | None
) -> TrainingSnapshot | None:
    """The training job `name` when this run made it (a rerun after a crash); None when there is
    no such job.

    Raises:
        ConflictError: the name is taken by a job this run did not launch (it is left alone).
    """
    try:
        found = describe_training_job(context, name)
    except (NotFoundError, ValidationError):  # SageMaker says ValidationException for no job
        return None
    _claim(context, "training job", name, found.arn, run_id)
    return found


def start_training_job(
    context: AwsContext, api: dict[str, Any], run: Run, registry: Registry
) -> tuple[str, bool]:
    """(the job's ARN, whether it existed already): CreateTrainingJob with `api` unless this run
    made the job of that name before (the run must be saved first). The job is recorded."""
    name = str(api["TrainingJobName"])
    instances = instance_details(api)
    found = find_launched_training(context, name, run.run_id)
    if found is not None:
        record_job(registry, TRAINING_JOB, name, context, run, **instances)
        return found.arn, True
    with aws_call(f"creating the training job {name}"):
        answer = context.client("sagemaker").create_training_job(**api)
    record_job(registry, TRAINING_JOB, name, context, run, **instances)
    return str(answer["TrainingJobArn"]), False


def start_autopilot(
    context: AwsContext, request: AutopilotRequest, run: Run, registry: Registry
) -> tuple[str, bool]:
    """(the job's ARN, whether it existed already): create the Autopilot job unless this run
    made it before (the run must be saved first). The job is recorded."""
    found = find_autopilot_job(context, request.job_name)
    if found is not None:
        _claim(context, "Autopilot job", request.job_name, found.arn, run.run_id)
        record_job(registry, kinds.AUTOML_JOB, request.job_name, context, run)
        return found.arn, True
    with aws_call(f"creating the Autopilot job {request.job_name}"):
        answer = context.client("sagemaker").create_auto_ml_job_v2(**request.to_api())
    record_job(registry, kinds.AUTOML_JOB, request.job_name, context, run)
    return str(answer["AutoMLJobArn"]), False


def upload_autopilot_csv(
    context: AwsContext, prepared_jsonl: Path, data_uri: str, scratch: Path
) -> tuple[str, int]:
    """Write Autopilot's CSV from the prepared training records and put it beside them in S3
    (`<data_uri folder>/autopilot-train.csv`); its URI and row count."""
    folder = data_uri if data_uri.endswith("/") else data_uri.rsplit("/", 1)[0] + "/"
    uri = folder + AUTOPILOT_CSV
    local = scratch / AUTOPILOT_CSV
    rows = write_autopilot_csv(prepared_jsonl, local)
    bucket, _, key = uri.removeprefix("s3://").partition("/")
    with aws_call(f"uploading the Autopilot CSV to {uri}"):
        context.client("s3").put_object(Bucket=bucket, Key=key, Body=local.read_bytes())
    return uri, rows


@dataclass(frozen=True)
class LaunchedTraining:
    """The run with its training job, and whether the job already existed (re-attached)."""

    run: Run
    reattached: bool


def launch_training(context: AwsContext, run: Run, registry: Registry) -> LaunchedTraining:
    """Create the run's training job, or re-attach to the one its name and run id already made.

    The caller has saved `run` (with its job name) in the registry before calling. Blocking:
    call from a worker or the CLI.

    Raises:
        ValidationError: the request is not valid (nothing is sent).
        ConflictError: the name belongs to a job this run did not launch.
    """
    request = training_request(run, install_id=registry.install_id())
    problems = check_training_request(request)
    if problems:
        raise ValidationError(
            "The training request is not valid:\n" + "\n".join(f"- {p}" for p in problems),
            hint="Fix the choices above; nothing was sent.",
        )
    api = request.to_api()
    details = {"mode": request.mode, **instance_details(api)}
    existing = find_launched_training(context, request.job_name, run.run_id)
    if existing is not None:
        status = JobStatus(existing.status) if existing.ended else JobStatus.IN_PROGRESS
        record_job(registry, TRAINING_JOB, request.job_name, context, run, **details)
        return LaunchedTraining(replace(run, job_arn=existing.arn, job_status=status), True)
    if request.script_uri:
        bucket, _, key = request.script_uri.removeprefix("s3://").partition("/")
        with aws_call(f"uploading the training script to {request.script_uri}"):
            context.client("s3").put_object(Bucket=bucket, Key=key, Body=script_archive())
    with aws_call(f"creating the training job {request.job_name}"):
        arn = context.client("sagemaker").create_training_job(**api)["TrainingJobArn"]
    write_point("train.created")  # it runs (billable); only its name and the run's tag find it
    record_job(registry, TRAINING_JOB, request.job_name, context, run, **details)
    return LaunchedTraining(replace(run, job_arn=arn, job_status=JobStatus.IN_PROGRESS), False)


# ---------------------------------------------------------------------- the estimate


@dataclass(frozen=True)
class TrainingCost:
    """What a training job may cost, before it starts: an amount only where a source has one."""

    per_hour: Price
    """On demand, per instance-hour (unknown for serverless)."""
    hours: float
    total: float | None
    """`per_hour` x hours x instances (None when the rate is unknown)."""
    lines: tuple[str, ...]
    """What is known and where from, in sentences."""


def training_cost(
    mode: str,
    instance_type: str,
    hours: float,
    price_list_rate: Price | None,
    *,
    spot: bool = False,
    instance_count: int = 1,
) -> TrainingCost:
    """The estimate the train step shows: for an instance job, the Price List's rate (else the
    reference's) x hours; with spot, that is the most it costs; for serverless, what is known
    (no amount)."""
    if mode == "serverless":
        rate = Price.unknown("per hour", SERVERLESS_PRICE_NOTE)
        return TrainingCost(rate, hours, None, (SERVERLESS_PRICE_NOTE,))
    rate = (
        price_list_rate
        if price_list_rate is not None and price_list_rate.is_known
        else builtin_training_rate(instance_type)
    ) or (price_list_rate or Price.unknown("per instance-hour", "no source has this rate"))
    if rate.amount is None:
        return TrainingCost(
            rate,
            hours,
            None,
            (f"The hourly price of {instance_type} is unknown: {rate.todo}",),
        )
    total = rate.amount * hours * instance_count
    on_demand = total_text(rate, hours * instance_count, "on demand")
    lines = [
        f"{instance_type}: {rate.text()}",
        f"{hours:g} h x {instance_count} instance(s) = about {on_demand}.",
    ]
    if spot:
        lines.append(
            "Managed spot: billed at the spot rate, which the Price List does not publish; "
            f"at most the {on_demand} above, and the job reports its billable seconds (the "
            "saving) when it ends. An interruption resumes from the last checkpoint."
        )
    return TrainingCost(rate, hours, total, tuple(lines))
