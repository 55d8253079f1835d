"""The import-only route's replayed steps: the model source, the import check, the import role
and bucket, and the import (upload, CreateModelImportJob once, follow it), with the core
functions `bedrock-tune import` and the import screens use.

The import's names and token are saved in the run before anything is uploaded or sent, and an
interrupted import is found again by its job name and the run's id (`core.importing.launching`),
so a rerun never imports twice.
"""

from __future__ import annotations

from dataclasses import replace

from core.errors import BedrockTuneError
from core.importing.check import check_model
from core.importing.jobs import ImportJob, ensure_valid_import, get_import_job, import_poller
from core.importing.launching import (
    import_finished,
    import_request,
    launch_import,
    model_sources,
    upload_model,
)
from core.importing.report import ImportCheckReport
from core.importing.source import (
    HuggingFaceHub,
    ModelFiles,
    ModelSource,
    local_root,
    open_source,
    parse_source,
)
from core.infra.plan import DEFAULT_PREFIX, apply, plan, verify
from core.jobs.customization import new_client_request_token
from core.naming import default_import_job_name, default_imported_model_name
from core.poll import Backoff, Pacing, PollUpdate
from core.replay.shop import ReplayStepFailed, Workshop
from core.run.types import Run
from core.statuses import ImportStatus
from core.upload import FileProgress


def _source(shop: Workshop, run: Run) -> ModelSource:
    try:
        return parse_source(run.model_source or "")
    except BedrockTuneError as error:
        raise shop.recipe.field_error(
            "model_source", error.message, error.hint or "Fix the source."
        ) from None


def check_model_source(shop: Workshop, run: Run) -> Run:
    """The recipe's model source reads as a folder, an s3:// folder or a hub id."""
    source = _source(shop, run)
    shop.note(f"{source} ({source.kind})")
    return run


def _checked(shop: Workshop, run: Run) -> tuple[ModelFiles, ImportCheckReport]:
    """The source's files and their check; a model that would not import stops the replay."""
    source = _source(shop, run)
    try:
        files = open_source(source, context=shop.context, hub=HuggingFaceHub())
    except BedrockTuneError as error:
        raise shop.recipe.field_error(
            "model_source", error.message, error.hint or "Fix the source."
        ) from None
    report = check_model(files, region=run.region)
    if not report.ok:
        shown = "\n".join(
            f"- {p.file or 'the model'}: {p.message} ({p.fix})" for p in report.errors[:5]
        )
        raise ReplayStepFailed(
            f"{source} would not import:\n{shown}",
            hint=f"See every problem with `bedrock-tune import check {source}`.",
        )
    return files, report


def do_import_check(shop: Workshop, run: Run) -> Run:
    """Check the model against Custom Model Import's rules (every replay: a rerun reads the
    files again to upload them)."""
    _, report = _checked(shop, run)
    shop.note(f"importable ({report.facts.model_type})")
    return replace(run, model_checked_ok=True, model_architecture=report.facts.model_type)


def do_import_infrastructure(shop: Workshop, run: Run) -> Run:
    """Plan, create (idempotently) and verify the bucket and the import role."""
    context, account = shop.context, run.account_id or ""
    region = run.region or context.region
    role = run.role_arn.rsplit("/", 1)[-1] if run.role_arn else None
    shown = plan(
        context,
        account,
        region,
        bucket=run.bucket,
        role=role,
        kms_key=shop.settings.kms_key or run.kms_key_id,
        prefix=run.s3_prefix or DEFAULT_PREFIX,
        principal_arn=run.principal_arn,
        registry=shop.registry,
        purpose="import",
        model_sources=model_sources(run),
    )
    result = apply(
        context,
        shown,
        shop.registry,
        run.run_id,
        lambda event: shop.note(event.describe()) if event.status != "start" else None,
    )
    checked = verify(
        context,
        account,
        region,
        bucket=result.bucket,
        role=result.role_name,
        kms_key_arn=shown.data_key_arn,
        prefix=shown.prefix,
        purpose="import",
        model_sources=model_sources(run),
    )
    if not checked.ok:
        failures = "; ".join(f"{c.name}: {c.detail}".rstrip(": ") for c in checked.failures())
        raise ReplayStepFailed(
            f"The bucket or the import role is not as planned: {failures}.",
            hint="See the plan with `bedrock-tune infra plan --for import`.",
        )
    return replace(
        run,
        bucket=result.bucket,
        s3_prefix=shown.prefix,
        role_arn=result.role_arn,
        kms_key_id=result.kms_key_arn,
    )


def infrastructure_done(run: Run) -> bool:
    """The import's bucket and role were set up by an earlier replay: its model is uploaded (or
    read in place from S3) or its import started. Until then the step runs again (it reuses
    what exists), since the recipe itself names the bucket and the role."""
    return run.model_uri is not None or run.import_job_arn is not None


def do_import(shop: Workshop, run: Run) -> Run:
    """Upload the checked files, create the import once, and follow it to its end."""
    context, registry = shop.context, shop.registry
    if run.import_job_arn is None:
        if run.import_token is None:
            name = run.imported_model_name or default_imported_model_name(run.model_source or "")
            run = replace(
                run,
                imported_model_name=name,
                import_job_name=run.import_job_name or default_import_job_name(name),
                import_token=new_client_request_token(),
            )
        run = shop.save(run)  # the names and token first: a rerun finds the same import
        source = _source(shop, run)
        if source.kind == "s3":
            run = replace(run, model_uri=source.location)
        elif run.model_uri is None:
            files, report = _checked(shop, run)
            root = local_root(files)
            assert root is not None  # a folder or a hub download: read from this machine

            def uploaded(update: FileProgress) -> None:
                if update.state in ("done", "skipped"):
                    shop.note(f"{update.name}  {update.describe()}")

            run = upload_model(
                context, run, root, report.upload, registry=registry, on_progress=uploaded
            )
        ensure_valid_import(import_request(run))
        run = shop.save(run)
        launched = launch_import(context, run, registry)
        run = shop.save(launched.run)
        verb = "re-attached to" if launched.reattached else "started"
        shop.note(f"{verb} the import {run.import_job_name}")
    arn = run.import_job_arn or ""

    def reported(update: PollUpdate[ImportJob]) -> None:
        if update.error is not None:
            shop.note(f"(status check failed, retrying: {update.error.message})")
        elif update.changed and update.value is not None:
            shop.note(f"{update.value.name}: {update.value.status.value}")

    poller = import_poller(
        lambda: get_import_job(context, arn),
        backoff=Backoff.starting_at(shop.settings.poll_interval),
        pacing=Pacing(sleep=shop.settings.sleep),
    )
    final = poller.run(reported)
    assert final is not None  # never cancelled: run returns once the import has ended
    run = import_finished(context, run, final, registry)
    if final.status is not ImportStatus.COMPLETED:
        shop.save(run)
        raise ReplayStepFailed(
            f"The import {final.name} ended {final.status.value}"
            + (f": {final.failure_message}" if final.failure_message else "."),
            hint=f"Check the model with `bedrock-tune import check {run.model_source}`; fix "
            "it, then replay with --new.",
        )
    return run
