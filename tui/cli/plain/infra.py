"""Prompt mode, the infrastructure step: the bucket and role names, the plan (each resource
marked create, reuse or update, with the exact policy JSON), created after a confirmation with
every call shown, then the prepared files uploaded with progress lines."""

from __future__ import annotations

import sys
from dataclasses import replace
from pathlib import Path

from core.catalog.lookup import distillation_teachers
from core.errors import BedrockTuneError, ValidationError
from core.importing.launching import model_sources, role_purpose
from core.infra.plan import InfraEvent, plan, verify
from core.infra.policies import DEFAULT_PREFIX, default_bucket_name, default_role_name
from core.upload import FileProgress, upload_prepared
from tui.cli.infra import describe_plan
from tui.cli.plain.session import Session, StopFlow

APPLY_HINT = "Run `bedrock-tune infra apply` to do it."


def _named(text: str) -> str | None:
    return None if text.strip() else "A name is needed."


def infrastructure_step(session: Session) -> None:
    """Plan the bucket and the role, create them once confirmed, and read them back; the run
    records them."""
    from core.infra.apply import apply

    ask, run = session.ask, session.run
    context = session.require_context()
    if run.account_id is None or run.region is None:
        raise ValidationError("Check your credentials first.")
    bucket = run.bucket or default_bucket_name(run.account_id, run.region)
    role = (
        run.role_arn.rsplit("/", 1)[-1]
        if run.role_arn
        else default_role_name(run.region, role_purpose(run))
    )
    while True:
        bucket = ask.text("S3 bucket:", bucket, _named).strip()
        role = ask.text("Service role:", role, _named).strip()
        ask.say("Reading what exists...")
        shown = plan(
            context,
            run.account_id,
            run.region,
            bucket=bucket,
            role=role,
            kms_key=run.kms_key_id,
            prefix=run.s3_prefix or DEFAULT_PREFIX,
            principal_arn=run.principal_arn,
            registry=session.registry,
            teachers=distillation_teachers(run.base_model_id, run.customization_type),
            purpose=role_purpose(run),
            model_sources=model_sources(run),
        )
        # The plan as `bedrock-tune infra plan` prints it, without its hint to run `infra apply`
        # (the next question does it).
        text = describe_plan(shown).rstrip().removesuffix(APPLY_HINT).rstrip()
        ask.say(text)
        if not shown.ready:
            ask.say("Choose other names (or stop with Ctrl+C).")
            continue
        if shown.changes and not ask.confirm("Create them now?", default=True):
            if ask.confirm("Choose other names?", default=True):
                continue
            raise StopFlow
        break

    def logged(event: InfraEvent) -> None:
        if event.status != "start":
            ask.say(event.describe())

    result = apply(context, shown, session.registry, run.run_id, logged)
    checked = verify(
        context,
        shown.account_id,
        shown.region,
        bucket=shown.bucket.name,
        role=shown.role.name,
        kms_key_arn=shown.data_key_arn,
        prefix=shown.prefix,
        purpose=shown.purpose,
        model_sources=model_sources(run),
    )
    for failure in checked.failures():
        ask.say(f"✗ check failed: {failure.name} {failure.detail}".rstrip())
    if not checked.ok:
        raise BedrockTuneError(
            "The bucket or the role is not as planned.",
            title="Infrastructure check failed",
            hint="See the failed checks above; `bedrock-tune infra plan` shows what to fix.",
        )
    ask.say("✓ Everything is in place and read back as planned.")
    session.update(
        replace(
            session.run,
            bucket=result.bucket,
            s3_prefix=shown.prefix,
            role_arn=result.role_arn,
            kms_key_id=result.kms_key_arn,
        )
    )
    upload_step(session)


def upload_step(session: Session) -> None:
    """Upload the prepared files (each verified; a file already up is skipped); the run records
    the S3 URIs."""
    ask, run = session.ask, session.run
    context = session.require_context()
    if not (run.bucket and run.prepared_dir and run.run_id):
        raise ValidationError("Create the bucket and prepare the files first.")
    interactive = sys.stdout.isatty()

    def show(update: FileProgress) -> None:
        line = f"{update.name}  {update.describe()}"
        if update.state in ("done", "skipped"):
            ask.say(("\r" if interactive else "") + line)
        elif interactive and update.state == "uploading":
            sys.stdout.write("\r" + line.ljust(70))
            sys.stdout.flush()

    ask.say(f"Uploading {run.prepared_dir} to s3://{run.bucket}/...")
    uploaded = upload_prepared(
        context,
        Path(run.prepared_dir),
        run.bucket,
        run.run_id,
        prefix=run.s3_prefix or DEFAULT_PREFIX,
        region=run.region,
        account_id=run.account_id or "",
        registry=session.registry,
        on_progress=show,
    )
    session.update(uploaded.applied_to(session.run))
    ask.say(f"✔ Uploaded. Training data: {uploaded.training_uri}")
    ask.say(f"  The job writes its output to {uploaded.output_uri}")
