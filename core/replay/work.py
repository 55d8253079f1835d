"""What each replayed step does, with the core functions the TUI's screens call.

Every step takes the run and returns it changed; the engine saves it in the registry after
each step, and the launch and deploy steps save it themselves before the billed request (the
launch token, the serving intent), so a kill at any point leaves a run a rerun continues without
creating anything twice. The checks before them are `core.replay.checks`.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from core.catalog.types import CustomizationType
from core.data.locations import default_prepared_dir
from core.data.prepare import prepare
from core.data.prepared import PreparedDir
from core.data.sources import SourceSpec
from core.importing.launching import role_purpose
from core.infra.plan import DEFAULT_PREFIX, apply, plan, verify
from core.jobs.customization import ensure_valid, get_job, new_client_request_token
from core.jobs.failures import explain_failure
from core.jobs.launching import job_request, launch_saved_run
from core.jobs.watch import JobWatcher, WatchUpdate
from core.naming import default_custom_model_name, default_job_name, default_serving_name
from core.poll import Pacing, PollUpdate
from core.pricing.service import PriceService
from core.registry import ResourceRecord
from core.replay.checks import model_of, prepare_options, template_of
from core.replay.shop import ReplayStepFailed, Workshop
from core.run.types import Run
from core.serving.deploy import (
    Serving,
    bedrock_kind,
    deployment_options,
    get_serving,
    serving_poller,
)
from core.serving.once import create_once, new_intent, saved_for_run
from core.statuses import JobStatus, ServingKind, ServingStatus
from core.upload import FileProgress, upload_prepared
from core.validate.validator import validate

# --------------------------------------------------------------------------- data


def prepared(run: Run) -> bool:
    """Whether the run's prepared files are there."""
    folder = PreparedDir.of(run.prepared_dir)
    return folder is not None and folder.has_train()


def do_prepare(shop: Workshop, run: Run) -> Run:
    """Prepare into the run's own folder with the recipe's sizes, filters and seed (the
    model's defaults for what the recipe leaves out). Writing is atomic: a kill leaves the
    folder as it was, and the rerun prepares again."""
    model, custom = model_of(shop, run)
    options = prepare_options(custom, run)
    out = default_prepared_dir(run.run_id)
    result = prepare(
        SourceSpec(run.source_location or "", run.source_config, run.source_split),
        template_of(shop, run),
        model,
        out,
        options,
        kind=CustomizationType(run.customization_type),
    )
    shop.note(
        f"{', '.join(f'{n} {split}' for split, n in result.counts.items())} in {result.out_dir}"
    )
    return replace(
        run,
        prepared_dir=str(result.out_dir),
        train_size=options.train,
        validation_size=options.validation,
        test_size=options.test,
        max_chars=options.max_chars,
        max_tokens=options.max_tokens,
        dedupe=options.dedupe,
        seed=options.seed,
        validated_ok=None,
        validated_dir=None,
    )


def do_validate(shop: Workshop, run: Run) -> Run:
    """Check the prepared files against the model's rules; errors stop the replay."""
    model, _ = model_of(shop, run)
    folder = PreparedDir(Path(run.prepared_dir or ""))
    report = validate(
        folder.train,
        model,
        CustomizationType(run.customization_type),
        validation=folder.validation_if_present(),
        dataset_bucket=run.bucket,
    )
    checked = replace(run, validated_ok=report.ok, validated_dir=run.prepared_dir)
    if not report.ok:
        shop.save(checked)
        errors = report.problems("error")
        shown = "\n".join(
            f"- {Path(p.file).name}" + (f" line {p.line}" if p.line else "") + f": {p.message}"
            for p in errors[:5]
        )
        raise ReplayStepFailed(
            f"The prepared files are not valid for {model.name}:\n{shown}",
            hint=f"See every problem with `bedrock-tune validate {folder.train}`; fix the "
            "recipe's template or sizes, then replay again.",
        )
    shop.note(f"valid for {model.name}")
    return checked


# --------------------------------------------------------------------------- AWS


def do_infrastructure(shop: Workshop, run: Run) -> Run:
    """Plan, create (idempotently) and verify the bucket and the role the recipe names, then
    upload the prepared files (files already there are skipped)."""
    context, registry = shop.context, shop.registry
    account, region = run.account_id or "", run.region or context.region
    role = run.role_arn.rsplit("/", 1)[-1] if run.role_arn else None
    prefix = run.s3_prefix or DEFAULT_PREFIX
    kms_key = shop.settings.kms_key or run.kms_key_id
    teachers = [run.teacher_model_id] if run.teacher_model_id else []
    shown = plan(
        context,
        account,
        region,
        bucket=run.bucket,
        role=role,
        kms_key=kms_key,
        prefix=prefix,
        principal_arn=run.principal_arn,
        registry=registry,
        teachers=teachers,
        purpose=role_purpose(run),  # SageMaker's execution role on the route that trains there
    )
    result = apply(
        context,
        shown,
        registry,
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
        purpose=shown.purpose,
    )
    if not checked.ok:
        failures = "; ".join(f"{c.name}: {c.detail}".rstrip(": ") for c in checked.failures())
        raise ReplayStepFailed(
            f"The bucket or the role is not as planned: {failures}.",
            hint="See the plan with `bedrock-tune infra plan`; fix it, then replay again.",
        )
    run = shop.save(
        replace(
            run,
            bucket=result.bucket,
            s3_prefix=shown.prefix,
            role_arn=result.role_arn,
            kms_key_id=result.kms_key_arn,
        )
    )

    def uploaded(update: FileProgress) -> None:
        if update.state in ("done", "skipped"):
            shop.note(f"{update.name}  {update.describe()}")

    upload = upload_prepared(
        context,
        Path(run.prepared_dir or ""),
        result.bucket,
        run.run_id or "",
        prefix=shown.prefix,
        region=region,
        account_id=account,
        registry=registry,
        on_progress=uploaded,
    )
    return upload.applied_to(run)


def do_launch(shop: Workshop, run: Run) -> Run:
    """Launch the job once: the run, with fresh names and a token, is saved before the request;
    a rerun finds the job that token made (`core.jobs.launching`) instead of making a second."""
    model, _ = model_of(shop, run)
    if run.client_request_token is None:
        name = run.job_name or default_job_name(model.id)
        run = replace(
            run,
            job_name=name,
            custom_model_name=run.custom_model_name or default_custom_model_name(name),
            subnet_ids=run.subnet_ids or shop.settings.subnet_ids,
            security_group_ids=run.security_group_ids or shop.settings.security_group_ids,
            client_request_token=new_client_request_token(),
        )
    ensure_valid(job_request(run), model)
    run = shop.save(run)  # before the call: a rerun finds the token
    launched = launch_saved_run(shop.context, run, model, shop.registry)
    verb = "re-attached to" if launched.reattached else "launched"
    shop.note(f"{verb} {run.job_name}")
    return launched.run


def do_watch(shop: Workshop, run: Run) -> Run:
    """Follow the job until it ends; a failed or stopped job stops the replay with why."""
    context, arn = shop.context, run.job_arn or ""
    seen: dict[str, str] = {}
    """The job's status and each phase's, as last reported (each change is a line)."""

    def reported(update: WatchUpdate) -> None:
        if update.error is not None:
            shop.note(f"(poll failed, retrying: {update.error.message})")
            return
        snapshot = update.snapshot
        if snapshot is None or not update.changed:
            return
        if seen.get("") != snapshot.status.value:
            seen[""] = snapshot.status.value
            shop.note(f"{snapshot.name}: {snapshot.status.value}")
        for phase in snapshot.phases:
            if phase.status and seen.get(phase.label) != phase.status:
                seen[phase.label] = phase.status
                shop.note(f"{phase.label}: {phase.status}")
        if update.stalled_for:
            shop.note("training has not started long after validation finished (a known stall)")

    interval = shop.settings.poll_interval
    watcher = JobWatcher(
        lambda: get_job(context, arn),
        min_interval=interval,
        max_interval=max(interval * 8, interval),
        sleep=shop.settings.sleep,
    )
    final = watcher.watch(reported)
    if final is None:  # pragma: no cover - never cancelled here
        raise ReplayStepFailed("The watch was cancelled.", hint="Replay again to follow it.")
    done = replace(
        run,
        job_status=final.status,
        custom_model_arn=final.output_model_arn if final.status is JobStatus.COMPLETED else None,
    )
    if final.status is not JobStatus.COMPLETED:
        shop.save(done)
        explanation = explain_failure(final.failure_message)
        raise ReplayStepFailed(
            f"The job {final.name} ended {final.status.value}"
            + (f": {final.failure_message}" if final.failure_message else "."),
            hint=explanation.fix
            if explanation
            else "Fix the cause, then replay with --new for a new job.",
        )
    return done


def do_deploy(shop: Workshop, run: Run) -> Run:
    """Serve the custom model the way the recipe says, once (`core.serving.once`: the intent
    and its token are in the registry before the request), then wait until it is ready."""
    context, registry = shop.context, shop.registry
    if run.serving_arn is None:
        model, _ = model_of(shop, run)
        region = run.region or context.region
        prices = PriceService(context).model_prices(model, region)
        options = {p.kind: p for p in deployment_options(model, prices)}
        wanted = ServingKind(run.serving_kind or ServingKind.PROVISIONED_THROUGHPUT)
        priced = options.get(bedrock_kind(wanted))
        if priced is None:
            raise shop.recipe.field_error(
                "serving_kind",
                f"{model.name} cannot be served as '{wanted.value}' in {region}.",
                f"Use one of: {', '.join(options)}.",
            )
        custom_model = run.custom_model_arn or ""
        saved = saved_for_run(registry, run.run_id) if run.run_id else None
        intent = saved or new_intent(
            priced.kind, default_serving_name(run.custom_model_name or custom_model), custom_model
        )
        record = ResourceRecord(
            priced.kind,
            "",
            region,
            run.account_id or "",
            run.run_id,
            billable=True,
            details={"base_model_id": model.id, **priced.billing_details()},
        )
        arn = create_once(context, registry, intent, record, creator_arn=run.principal_arn)
        run = shop.save(
            replace(
                run,
                serving_kind=ServingKind(intent.kind),
                serving_arn=arn,
                serving_status=ServingStatus.CREATING,
            )
        )
        shop.note(f"{priced.label}: {intent.name}")
    kind = bedrock_kind(run.serving_kind or ServingKind.PROVISIONED_THROUGHPUT)
    arn = run.serving_arn or ""

    def reported(update: PollUpdate[Serving]) -> None:
        if update.error is not None:
            shop.note(f"(status check failed, retrying: {update.error.message})")
        elif update.changed and update.value is not None:
            shop.note(f"{update.value.name}: {update.value.status}")

    poller = serving_poller(
        lambda: get_serving(context, kind, arn),
        first=shop.settings.poll_interval,
        pacing=Pacing(sleep=shop.settings.sleep),
    )
    serving = poller.run(reported)
    assert serving is not None  # never cancelled: run returns once it is settled
    run = replace(run, serving_status=ServingStatus(serving.status))
    if not serving.ready:
        shop.save(run)
        raise ReplayStepFailed(
            f"{serving.name} is {serving.status}"
            + (f": {serving.failure_message}" if serving.failure_message else "."),
            hint="Delete it with `bedrock-tune teardown`, then replay with --new.",
        )
    return run
