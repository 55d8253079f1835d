"""A customization job launched from a run, once, whatever crashes (the launch step and
`bedrock-tune jobs launch` both go through here).

The order that makes it safe: the run, with its client request token, is saved in the registry
*before* CreateModelCustomizationJob is sent. Before sending, the job's name is looked up: a job
of that name made with this run's token is this run's job (the process died after sending, before
saving its ARN), so it is re-attached instead of launched again; a job of that name made with
another token is someone else's, and the launch stops and says so. A command repeated after a
crash finds its saved run (`resolve_launch`) and so the same name and token.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import datetime

from core.aws import AwsContext
from core.catalog.types import BaseModel
from core.errors import NotFoundError, ValidationError
from core.faults import write_point
from core.jobs.customization import (
    JobRequest,
    NameTakenError,
    get_job,
    launch,
    new_client_request_token,
)
from core.naming import default_custom_model_name, default_job_name
from core.ownership import RUN_TAG, ownership_tags
from core.registry import Registry, RunRecord, new_run_id
from core.run.types import Run
from core.statuses import JobStatus

PENDING_TOKEN = "pending"
"""Stands in for the token in a request shown before launching (a launch always sets one)."""
RUN_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9-]{0,63}")
"""A run id given by hand (it becomes a tag value and a folder name in S3)."""


def job_request(run: Run, *, install_id: str | None = None) -> JobRequest:
    """The CreateModelCustomizationJob request the run describes, with the run's id as a tag,
    and (given this install's id) the ownership tags: the install and the run's identity.

    Missing values become empty texts, which `check_request` then names.
    """
    tags = dict(run.tags)
    if run.run_id:
        tags[RUN_TAG] = run.run_id  # how a run finds its job again when the registry is gone
    return JobRequest(
        job_name=run.job_name or "",
        custom_model_name=run.custom_model_name or "",
        base_model_id=run.base_model_id or "",
        role_arn=run.role_arn or "",
        training_uri=run.training_uri or "",
        validation_uri=run.validation_uri,
        output_uri=run.output_uri or "",
        client_request_token=run.client_request_token or PENDING_TOKEN,
        customization_type=run.customization_type,
        hyperparameters=dict(run.hyperparameters),
        kms_key_id=run.kms_key_id,
        subnet_ids=run.subnet_ids,
        security_group_ids=run.security_group_ids,
        tags=tags,
        teacher_model_id=run.teacher_model_id,
        max_response_length=run.max_response_length,
        owner_tags=ownership_tags(install_id, run.principal_arn) if install_id else {},
    )


def _same_place(a: Run, b: Run) -> bool:
    """Same region, endpoint and (when both know it) account."""
    accounts = a.account_id is None or b.account_id is None or a.account_id == b.account_id
    return (a.region, a.endpoint_url, a.target) == (b.region, b.endpoint_url, b.target) and accounts


def _same_request(a: Run, b: Run) -> bool:
    """Whether two runs ask for the same job, names and token aside."""
    return _same_place(a, b) and (
        a.route,
        a.base_model_id,
        a.customization_type,
        a.training_uri,
        a.validation_uri,
        a.output_uri,
        a.role_arn,
        a.hyperparameters,
        a.kms_key_id,
        a.subnet_ids,
        a.security_group_ids,
        a.tags,
        a.teacher_model_id,
        a.max_response_length,
    ) == (
        b.route,
        b.base_model_id,
        b.customization_type,
        b.training_uri,
        b.validation_uri,
        b.output_uri,
        b.role_arn,
        b.hyperparameters,
        b.kms_key_id,
        b.subnet_ids,
        b.security_group_ids,
        b.tags,
        b.teacher_model_id,
        b.max_response_length,
    )


def _repeated(records: list[RunRecord], wanted: Run) -> RunRecord | None:
    """The saved run a launch command repeats: the same run id; else the same job name in the
    same place; else a launch of the same request that was interrupted (token saved, job never
    confirmed)."""
    if wanted.run_id is not None:
        return next((r for r in records if r.id == wanted.run_id), None)
    if wanted.job_name is not None:
        return next(
            (
                r
                for r in records
                if r.run.job_name == wanted.job_name and _same_place(r.run, wanted)
            ),
            None,
        )
    return next(
        (
            r
            for r in records
            if r.run.job_arn is None
            and r.run.client_request_token is not None
            and r.run.job_name is not None
            and _same_request(r.run, wanted)
        ),
        None,
    )


def resolve_launch(records: Iterable[RunRecord], wanted: Run, now: datetime | None = None) -> Run:
    """The run a launch command launches, given what its flags ask for (`wanted`).

    A command repeated after a crash (the same run id, the same job name, or the same request
    whose launch was interrupted) gets its saved run back, with the saved job name and token.
    Anything else is a new run: a fresh run id (unless one was given), the default job and model
    names, and a new token (unless one was given).

    Raises:
        ValidationError: a bad run id, or flags that contradict the saved run they name.
    """
    if wanted.run_id is not None and not RUN_ID.fullmatch(wanted.run_id):
        raise ValidationError(
            f"run id '{wanted.run_id}' is not 1-64 letters, digits and '-'.",
            hint="Use the id `bedrock-tune runs` shows, or leave --run-id out for a new run.",
        )
    previous = _repeated(list(records), wanted)
    if previous is None:
        name = wanted.job_name or default_job_name(wanted.base_model_id or "model", now)
        return replace(
            wanted,
            run_id=wanted.run_id or new_run_id(),
            job_name=name,
            custom_model_name=wanted.custom_model_name or default_custom_model_name(name),
            client_request_token=wanted.client_request_token or new_client_request_token(),
        )
    saved = previous.run
    for label, asked, kept in (
        ("job name", wanted.job_name, saved.job_name),
        ("custom model name", wanted.custom_model_name, saved.custom_model_name),
        ("client request token", wanted.client_request_token, saved.client_request_token),
    ):
        if asked is not None and kept is not None and asked != kept:
            raise ValidationError(
                f"Run {previous.id} was launched with {label} '{kept}', not '{asked}'.",
                title="Not the same launch",
                hint=f"Repeat the command as it was to re-attach to run {previous.id}, or leave "
                "--run-id out to launch a new run.",
            )
    name = saved.job_name or wanted.job_name or default_job_name(wanted.base_model_id or "", now)
    # The saved run keeps what it had (a dataset, a template... when the TUI made it); the
    # command's flags say where and what to launch; the saved name and token win.
    return replace(
        saved,
        target=wanted.target,
        profile=wanted.profile,
        region=wanted.region,
        endpoint_url=wanted.endpoint_url,
        account_id=wanted.account_id,
        principal_arn=wanted.principal_arn,
        base_model_id=wanted.base_model_id,
        customization_type=wanted.customization_type,
        role_arn=wanted.role_arn,
        training_uri=wanted.training_uri,
        validation_uri=wanted.validation_uri,
        output_uri=wanted.output_uri,
        hyperparameters=wanted.hyperparameters,
        kms_key_id=wanted.kms_key_id,
        subnet_ids=wanted.subnet_ids,
        security_group_ids=wanted.security_group_ids,
        tags=wanted.tags,
        teacher_model_id=wanted.teacher_model_id,
        max_response_length=wanted.max_response_length,
        job_name=name,
        custom_model_name=saved.custom_model_name
        or wanted.custom_model_name
        or default_custom_model_name(name),
        client_request_token=saved.client_request_token
        or wanted.client_request_token
        or new_client_request_token(),
    )


def with_launch_token(run: Run, launching: Run) -> Run:
    """`launching` (the run with the launch's fields) with the client request token to send:
    `run`'s own when it already tried to launch this same job name (a retry, or a rerun after a
    crash, re-attaches to the job that token made), else a new one. Save the result in the
    registry before `launch_saved_run` sends it."""
    same_job = run.job_name == launching.job_name and run.client_request_token is not None
    token = run.client_request_token if same_job else None
    return replace(launching, client_request_token=token or new_client_request_token())


@dataclass(frozen=True)
class Launched:
    """The run with its job, and whether the job already existed (a rerun re-attached)."""

    run: Run
    reattached: bool


def launch_saved_run(
    context: AwsContext, run: Run, model: BaseModel, registry: Registry
) -> Launched:
    """Create the run's job, or re-attach to the one its token already created.

    The caller has saved `run` (with its token) in the registry before calling. Blocking: call
    from a worker or the CLI.

    Raises:
        ValidationError: the request is not valid (nothing is sent).
        NameTakenError: the name belongs to a job this run did not launch; the message says
            whose (another bedrock-tune run of this registry, or someone else's).
    """
    request = job_request(run, install_id=registry.install_id())
    try:
        existing = get_job(context, request.job_name) if request.job_name else None
    except NotFoundError:
        existing = None
    if existing is not None and existing.client_request_token == request.client_request_token:
        return Launched(replace(run, job_arn=existing.arn, job_status=existing.status), True)
    try:
        arn = launch(context, request, model)
    except NameTakenError as taken:
        raise _whose(taken, run, registry, context.region) from None
    write_point("launch.created")  # the job exists (billable); only the saved token finds it
    return Launched(replace(run, job_arn=arn, job_status=JobStatus.IN_PROGRESS), False)


def _whose(taken: NameTakenError, run: Run, registry: Registry, region: str) -> NameTakenError:
    """The name-taken error, saying whose the name is."""

    def name_of(other: Run) -> str | None:
        return other.job_name if taken.what == "job name" else other.custom_model_name

    owner = next(
        (
            r
            for r in registry.runs()
            if r.id != run.run_id and name_of(r.run) == taken.name and _same_place(r.run, run)
        ),
        None,
    )
    if owner is not None:
        message = (
            f"The {taken.what} '{taken.name}' in {region} belongs to another bedrock-tune run "
            f"({owner.id}), launched with another token."
        )
        hint = f"Re-attach to it with --run-id {owner.id}, or choose another name."
    else:
        message = (
            f"The {taken.what} '{taken.name}' in {region} is someone else's: bedrock-tune did "
            "not launch it from this registry."
        )
        hint = "Choose another job name and custom model name; the other job is left alone."
    return NameTakenError(message, hint=hint, what=taken.what, name=taken.name)
