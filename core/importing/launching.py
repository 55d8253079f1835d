"""An import launched from a run, once, whatever crashes (the import step and
`bedrock-tune import launch` both go through here).

The order that makes it safe: the run, with its import token and names, is saved in the registry
before anything is uploaded or sent; the checked files are uploaded to the run's `model/` folder
(an upload run again skips what is already there, identical); then, before CreateModelImportJob,
the job's name is looked up: a job of that name tagged with this run's id is this run's import
(the process died after sending), so it is re-attached; one made by anyone else stops the launch.
When the import completes, the imported model is read back (architecture, custom model units) and
recorded in the registry as a billable resource.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path

from core.aws import AwsContext
from core.errors import ValidationError
from core.importing.jobs import (
    ImportJob,
    ImportRequest,
    create_import_job,
    ensure_valid_import,
    find_launched_import,
    get_imported_model,
)
from core.infra.policies import DEFAULT_PREFIX, RolePurpose
from core.jobs.customization import new_client_request_token
from core.naming import default_import_job_name, default_imported_model_name
from core.ownership import RUN_TAG, ownership_tags
from core.pricing.imports import ImportPrices
from core.registry import IMPORT_JOB, IMPORTED_MODEL, Registry, RunRecord, new_run_id
from core.run.types import Route, Run
from core.statuses import ImportStatus
from core.upload import FileProgress, run_location, upload_run_files

PENDING = "pending"
"""Stands in for the token in a request shown before launching."""
_RUN_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9-]{0,63}")


_SAGEMAKER_TRAINING = frozenset(
    {Route.SAGEMAKER_IMPORT, Route.SAGEMAKER_AUTOPILOT, Route.SAGEMAKER_JUMPSTART}
)
"""The routes whose jobs run on SageMaker with its execution role (training, Autopilot, and
the endpoints that serve what they made)."""


def role_purpose(run: Run) -> RolePurpose:
    """Which service role the run's infrastructure step sets up: the import role for a run that
    only imports, SageMaker's execution role for a run that trains there (its import role is
    set up by the import step), else the customization role."""
    if run.route is Route.IMPORT_ONLY:
        return "import"
    return "sagemaker" if run.route in _SAGEMAKER_TRAINING else "customization"


def import_role_of(run: Run) -> str | None:
    """The role the run's import jobs assume: on route sagemaker-import its own import role
    (`role_arn` is then SageMaker's execution role), else `role_arn`."""
    return run.import_role_arn if run.route is Route.SAGEMAKER_IMPORT else run.role_arn


def model_sources(run: Run) -> tuple[str, ...]:
    """The `s3://` model folders outside bedrock-tune's bucket the import role must read (an
    import from an s3:// source reads it where it is)."""
    source = run.model_source or ""
    return (source,) if source.startswith("s3://") else ()


def import_request(run: Run, install: str | None = None) -> ImportRequest:
    """The CreateModelImportJob request the run describes, tagged with the run's id (and with
    this install's id and the creating identity when `install` is given)."""
    tags = dict(run.tags)
    if run.run_id:
        tags[RUN_TAG] = run.run_id
    return ImportRequest(
        job_name=run.import_job_name or "",
        model_name=run.imported_model_name or "",
        role_arn=import_role_of(run) or "",
        model_uri=run.model_uri or "",
        client_request_token=run.import_token or PENDING,
        tags=tags,
        owner_tags=ownership_tags(install, run.principal_arn) if install else {},
        kms_key_id=run.kms_key_id,
        subnet_ids=run.subnet_ids,
        security_group_ids=run.security_group_ids,
    )


def _same_place(a: Run, b: Run) -> bool:
    return (a.region, a.endpoint_url, a.target) == (b.region, b.endpoint_url, b.target) and (
        a.account_id is None or b.account_id is None or a.account_id == b.account_id
    )


def resolve_import(records: Iterable[RunRecord], wanted: Run, now: datetime | None = None) -> Run:
    """The run an import launch is about: the saved run a repeated command names (the same run
    id, or the same imported model name in the same place), with its saved names and token; else
    a new run with default names and a new token.

    Raises:
        ValidationError: a bad run id, or flags that contradict the saved run.
    """
    if wanted.run_id is not None and not _RUN_ID.fullmatch(wanted.run_id):
        raise ValidationError(
            f"run id '{wanted.run_id}' is not 1-64 letters, digits and '-'.",
            hint="Use the id `bedrock-tune runs` shows, or leave --run-id out for a new run.",
        )
    saved_records = list(records)
    if wanted.run_id is not None:
        previous = next((r for r in saved_records if r.id == wanted.run_id), None)
    else:
        previous = next(
            (
                r
                for r in saved_records
                if r.route is wanted.route
                and wanted.imported_model_name is not None
                and r.run.imported_model_name == wanted.imported_model_name
                and _same_place(r.run, wanted)
            ),
            None,
        )
    if previous is None:
        name = wanted.imported_model_name or default_imported_model_name(wanted.model_source or "")
        return replace(
            wanted,
            run_id=wanted.run_id or new_run_id(),
            imported_model_name=name,
            import_job_name=wanted.import_job_name or default_import_job_name(name, now),
            import_token=wanted.import_token or new_client_request_token(),
        )
    saved = previous.run
    if saved.model_source and wanted.model_source and saved.model_source != wanted.model_source:
        raise ValidationError(
            f"Run {previous.id} imports {saved.model_source}, not {wanted.model_source}.",
            title="Not the same import",
            hint="Repeat the command as it was to re-attach, or choose another --name.",
        )
    name = saved.imported_model_name or wanted.imported_model_name or ""
    # A run that trained on SageMaker stays on its route: its `role_arn` is SageMaker's
    # execution role, and the import's role goes beside it.
    trained = saved.route is Route.SAGEMAKER_IMPORT
    return replace(
        saved,
        route=saved.route if trained else wanted.route,
        target=wanted.target,
        profile=wanted.profile,
        region=wanted.region,
        endpoint_url=wanted.endpoint_url,
        account_id=wanted.account_id,
        principal_arn=wanted.principal_arn,
        model_source=wanted.model_source or saved.model_source,
        model_checked_ok=wanted.model_checked_ok or saved.model_checked_ok,
        model_architecture=wanted.model_architecture or saved.model_architecture,
        model_uri=wanted.model_uri or saved.model_uri,
        role_arn=saved.role_arn if trained else wanted.role_arn or saved.role_arn,
        import_role_arn=(wanted.role_arn or saved.import_role_arn)
        if trained
        else saved.import_role_arn,
        bucket=wanted.bucket or saved.bucket,
        s3_prefix=wanted.s3_prefix or saved.s3_prefix,
        imported_model_name=name,
        import_job_name=saved.import_job_name or default_import_job_name(name, now),
        import_token=saved.import_token or new_client_request_token(),
    )


def upload_model(
    context: AwsContext,
    run: Run,
    root: Path,
    names: Sequence[str],
    *,
    registry: Registry | None = None,
    on_progress: Callable[[FileProgress], None] | None = None,
    cancelled: Callable[[], bool] = lambda: False,
) -> Run:
    """Upload the checked files (`names`, relative to `root`) to the run's `model/` folder; the
    run with `model_uri` set. Files already there, identical, are skipped.

    Raises:
        ValidationError: the run has no bucket or id; a bad bucket name or prefix.
        NotFoundError, UploadCancelled, UploadIntegrityError: see `core.upload`.
    """
    if not run.bucket or not run.run_id:
        raise ValidationError(
            "The run has no bucket to upload the model to.",
            hint="Set up the infrastructure first (the Infrastructure step, or --bucket).",
        )
    location = run_location(run.bucket, run.run_id, run.s3_prefix or DEFAULT_PREFIX)
    upload_run_files(
        context,
        location,
        "model",
        [(root / name, name) for name in names],
        region=run.region,
        account_id=run.account_id or "",
        registry=registry,
        on_progress=on_progress,
        cancelled=cancelled,
    )
    return replace(run, model_uri=location.model_uri)


@dataclass(frozen=True)
class LaunchedImport:
    """The run with its import, and whether the import already existed (a rerun)."""

    run: Run
    reattached: bool


def launch_import(
    context: AwsContext, run: Run, registry: Registry | None = None
) -> LaunchedImport:
    """Create the run's import job, or re-attach to the one this run already created.

    The caller has saved `run` (with its token) first. Blocking: call from a worker or the CLI.

    Raises:
        ValidationError: the request is not valid (nothing is sent).
        NameTakenError: the job or model name belongs to someone else.
        QuotaExceededError: the imported-models quota is reached.
    """
    request = import_request(run, registry.install_id() if registry is not None else None)
    ensure_valid_import(request)
    assert run.run_id is not None  # ensure_valid_import needs the names resolve_import gives
    existing = find_launched_import(context, request.job_name, run.run_id)
    if existing is not None:
        return LaunchedImport(_with_job(run, existing), True)
    arn = create_import_job(context, request)
    if registry is not None:
        from core.registry import ResourceRecord

        registry.add_resource(
            ResourceRecord(
                kind=IMPORT_JOB,
                identifier=arn,
                region=run.region or context.region,
                account_id=run.account_id or "",
                run_id=run.run_id,
                details={"name": request.job_name, "model_name": request.model_name},
            )
        )
    return LaunchedImport(
        replace(run, import_job_arn=arn, import_status=ImportStatus.IN_PROGRESS), False
    )


def _with_job(run: Run, job: ImportJob) -> Run:
    return replace(
        run,
        import_job_arn=job.arn,
        import_status=job.status,
        custom_model_arn=job.model_arn or run.custom_model_arn,
    )


def import_finished(
    context: AwsContext,
    run: Run,
    job: ImportJob,
    registry: Registry | None = None,
    prices: ImportPrices | None = None,
) -> Run:
    """The run once its import has ended: on completion the imported model is read (ARN,
    architecture, custom model units) and recorded in the registry as billable, with its
    prices (`prices`, by default the pricing service's custom model unit rates for the
    region: the Price List API may be asked) and where they come from."""
    run = _with_job(run, job)
    if job.status is not ImportStatus.COMPLETED or job.model_arn is None:
        return run
    model = get_imported_model(context, job.model_arn)
    units = model.units or 1
    if registry is not None:
        from core.pricing.service import PriceService
        from core.registry import ResourceRecord

        region = run.region or context.region
        pricing = prices or PriceService(context).import_prices(region)
        registry.add_resource(
            ResourceRecord(
                kind=IMPORTED_MODEL,
                identifier=model.arn,
                region=region,
                account_id=run.account_id or "",
                run_id=run.run_id,
                billable=True,
                details={"name": model.name, "units": units, **pricing.record_details(units)},
            )
        )
    return replace(
        run,
        custom_model_arn=model.arn,
        model_architecture=model.architecture or run.model_architecture,
        custom_model_units=model.units,
    )
