"""Teardown: find everything bedrock-tune made, and delete what the user chooses, in a safe order.

What counts as this install's is what the local registry records (resources, and the jobs,
custom models and deployments its runs point at) or what carries this install's id in its tags
(core/ownership.py). What carries only the tag `bedrock-tune:managed=true` (S3 buckets, IAM
roles, custom models, provisioned throughputs, deployments and running customization jobs) was
made by bedrock-tune elsewhere: it is listed apart (`origin == "found"`) and deleted only when
the user chooses it. Nothing else is ever touched: a bucket or role of the user's next to ours
is not even listed.

`inventory` lists what is left, billable first (running jobs, provisioned throughput,
deployments), then what costs storage (custom models), then what is free (S3 folders, buckets,
roles), each with what deleting it does. `delete` deletes a chosen subset in a safe order (stop
jobs; delete serving before the model it serves; objects before their bucket; a role's policy
before the role). Each success removes its registry entry at once, except a SageMaker job asked
to stop: its launch record stays until teardown sees the job ended, so a teardown killed while
it waits, or a later one, still waits for it before emptying its folder. A job of this install
already Stopping that the user kept (not chosen) is waited for too before the folder or bucket
it writes under is emptied. Each failure is reported and the rest continue; something already
gone counts as done.

Safety rules that are not obvious:
- objects are deleted only in the run folders this registry records (`s3-prefix` entries),
  never elsewhere in a bucket, not even under `bedrock-tune/`;
- a bucket bedrock-tune did not create is never deleted (only our folders in it are emptied);
- a bucket we did create is deleted only after emptying our folders, and only if nothing else is
  left in it: objects someone else put there keep the bucket;
- a role we did not create loses only our inline policy; a role we created is kept (with our
  policy removed) when it has policies or instance profiles bedrock-tune did not add.

Killed at any point (core/faults.py marks the write points), a rerun finishes the job: what is
already deleted is found gone and forgotten, and each registry update is one atomic write.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import replace
from functools import partial
from typing import TYPE_CHECKING

from core.aws import AwsContext
from core.errors import (
    AccessDeniedError,
    BedrockTuneError,
    ConflictError,
    NotFoundError,
    ValidationError,
    aws_call,
    describe_unexpected,
)
from core.faults import write_point
from core.format import plural
from core.registry import Registry
from core.teardown.imports import delete_import_item
from core.teardown.inventory import default_choice, inventory
from core.teardown.items import (
    BATCH,
    BATCH_JOB,
    BUCKET,
    DEPLOYMENT,
    IMPORT_JOB,
    IMPORTED_MODEL,
    JOB,
    MODEL,
    PREFIX,
    ROLE,
    THROUGHPUT,
    EventHandler,
    TeardownEvent,
    TeardownItem,
    TeardownOutcome,
    TeardownResult,
    delete_rank,
    item_from_record,
    run_without,
    short_name,
    split_s3_uri,
    with_dependencies,
)
from core.teardown.sagemaker import KINDS as SAGEMAKER_KINDS
from core.teardown.sagemaker import delete_sagemaker_item
from core.teardown.stopping import (
    WAITED_KINDS,
    StillStopping,
    StopWait,
    duration_text,
    empties_s3,
    stopping_unchosen,
    wait_for_jobs,
    writes_under,
)

if TYPE_CHECKING:
    from types_boto3_s3 import S3Client
    from types_boto3_s3.type_defs import ObjectIdentifierTypeDef

__all__ = [
    "BATCH",
    "EventHandler",
    "StopWait",
    "TeardownEvent",
    "TeardownItem",
    "TeardownOutcome",
    "TeardownResult",
    "default_choice",
    "delete",
    "inventory",
    "item_from_record",
    "run_without",
    "with_dependencies",
]


def delete(
    context: AwsContext,
    items: Iterable[TeardownItem],
    registry: Registry,
    on_event: EventHandler | None = None,
    wait: StopWait | None = None,
    *,
    listed: Iterable[TeardownItem] = (),
) -> TeardownResult:
    """Delete `items` in a safe order; each success removes its registry entry at once.

    A failure is reported (as an outcome with our error) and the rest continue; an item that
    depends on a failed one is skipped. Something already gone counts as deleted.

    The SageMaker jobs it stops (or finds Stopping) may still write their output: before the
    first run folder or bucket is emptied, it waits until they have ended, at most
    `wait.bound` seconds (`core/teardown/stopping.py`), reporting the wait as steps of that
    folder or bucket. `wait` gives the time source (real time by default) and the cancel.
    A stopped job's registry entry stays (no longer billing) until the wait sees it ended.

    `listed` is everything the inventory listed, chosen or not: a job of this install in it
    that is already Stopping but was not chosen (the user kept it) is waited for too before
    the folder or bucket it writes under is emptied; it is neither touched nor forgotten.
    """
    emit = on_event or (lambda _event: None)
    chosen = sorted(items, key=lambda i: delete_rank(i.kind))
    keys = {i.key for i in chosen}
    contexts: dict[str, AwsContext] = {context.region: context}
    outcomes: list[TeardownOutcome] = []
    unfinished: set[str] = set()
    deleted_here: set[str] = set()
    stopped_jobs: list[TeardownItem] = []  # stopped here (or found Stopping): may still write
    still_stopping: list[StillStopping] = []  # had not ended when the wait ended
    kept_stopping = stopping_unchosen(listed, keys)  # ours, Stopping, not chosen: may write
    for item in chosen:
        emit(TeardownEvent(item, "start", f"{_verb(item)} {item.label}..."))
        missing = [k for k in item.depends_on if k not in keys]
        blocked = [k for k in item.depends_on if k in unfinished]
        if missing or blocked:
            names = ", ".join(missing or blocked)
            outcome = TeardownOutcome(
                item,
                "failed" if missing else "skipped",
                f"{item.label} was not deleted: {names} still uses it. "
                + (
                    "Delete that first (select it too; if bedrock-tune did not make it, delete "
                    "it in the Bedrock console)."
                    if missing
                    else "It could not be deleted."
                ),
            )
        else:
            region = item.region if item.region not in ("", "global") else context.region
            if region not in contexts:
                contexts[region] = context.with_region(region)
            writing = [j for j in kept_stopping if empties_s3(item) and writes_under(j, item)]
            if (stopped_jobs or writing) and empties_s3(item):
                left = wait_for_jobs(
                    context, contexts, [*stopped_jobs, *writing], item, emit, wait or StopWait()
                )
                _forget_ended(registry, stopped_jobs, left, item, emit)
                still_stopping = [*still_stopping, *left]
                # Waited once: the jobs have ended or the bound has passed.
                stopped_jobs = []
                kept_stopping = [j for j in kept_stopping if j not in writing]
            outcome = _attempt(contexts[region], item, registry, emit, deleted_here, still_stopping)
            if outcome.status == "stopped" and item.kind in WAITED_KINDS:
                stopped_jobs.append(item)
        if outcome.done:
            deleted_here.add(item.key)
            write_point(f"teardown.done-{item.kind}")
            try:
                if outcome.status == "stopped" and item.kind in WAITED_KINDS:
                    _keep_until_ended(registry, item)
                else:
                    _forget(registry, item)
            except BedrockTuneError as error:
                outcome = TeardownOutcome(
                    item,
                    outcome.status,
                    f"{outcome.message} The local registry could not be updated: {error.message}",
                    error,
                )
        elif outcome.status != "kept":
            unfinished.add(item.key)
        outcomes.append(outcome)
        emit(TeardownEvent(item, "end", outcome.message, outcome.status))
    return TeardownResult(tuple(outcomes))


def _verb(item: TeardownItem) -> str:
    if not item.exists or item.action == "forget":
        return "Forgetting"
    return {"stop": "Stopping", "delete-policy": "Removing our policy from"}.get(
        item.action, "Deleting"
    )


def _attempt(
    context: AwsContext,
    item: TeardownItem,
    registry: Registry,
    emit: EventHandler,
    deleted_here: set[str],
    still_stopping: list[StillStopping],
) -> TeardownOutcome:
    def step(message: str) -> None:
        emit(TeardownEvent(item, "step", message))

    try:
        if item.kind == IMPORT_JOB:  # kept while importing (no stop call), forgotten after
            return delete_import_item(context, item)
        if item.action == "forget" or (item.kind == BUCKET and not item.created_by_us):
            return TeardownOutcome(item, "forgotten", f"Forgot {item.label}; it was not deleted.")
        if not item.exists:
            return TeardownOutcome(item, "gone", f"{item.label}: nothing of ours was left.")
        if item.kind in SAGEMAKER_KINDS:
            return delete_sagemaker_item(context, item)
        if item.kind == JOB:
            return _stop_job(context, item)
        if item.kind == BATCH_JOB:
            return _stop_batch_job(context, item)
        if item.kind in (THROUGHPUT, DEPLOYMENT):
            return _delete_serving(context, item)
        if item.kind == MODEL:
            return _delete_model(context, item, deleted_here)
        if item.kind == IMPORTED_MODEL:
            return delete_import_item(context, item)
        if item.kind == PREFIX:
            bucket, prefix = split_s3_uri(item.identifier)
            count = _empty(context.client("s3"), bucket, prefix, step)
            if still_stopping:  # a job still stopping may write here: the entry stays
                jobs = ", ".join(f"{s.item.label} ({s.status})" for s in still_stopping)
                return TeardownOutcome(
                    item,
                    "kept",
                    f"Deleted {plural(count, 'object')} under {item.identifier}, but kept it on "
                    f"teardown's list: {jobs} had not ended after teardown waited "
                    f"{duration_text(still_stopping[0].waited)} and may still write its output "
                    "there. Run teardown again once the job is Stopped.",
                )
            return TeardownOutcome(
                item, "deleted", f"Deleted {plural(count, 'object')} under {item.identifier}."
            )
        if item.kind == BUCKET:
            return _delete_bucket(context, item, registry, step, still_stopping)
        if item.kind == ROLE:
            return _delete_role(context, item, step)
        return TeardownOutcome(item, "forgotten", f"Forgot {item.label}.")
    except NotFoundError:
        return TeardownOutcome(item, "gone", f"{item.label} was already gone.")
    except Exception as raised:  # one item's failure never stops the others
        error = describe_unexpected(raised)
        return TeardownOutcome(item, "failed", f"{item.label}: {error.message}", error)


def _stop_job(context: AwsContext, item: TeardownItem) -> TeardownOutcome:
    if item.status == "Stopping":
        # Asking again would be refused (only an InProgress job can be stopped): it is ending.
        return TeardownOutcome(
            item, "stopped", f"{item.label} is already stopping: Bedrock ends it on its own."
        )
    # By name: Bedrock takes both, and moto's router only matches names.
    with aws_call(f"stopping the customization job {item.name or short_name(item.identifier)}"):
        context.client("bedrock").stop_model_customization_job(
            jobIdentifier=item.name or item.identifier
        )
    return TeardownOutcome(
        item, "stopped", f"Asked Bedrock to stop {item.label}: it goes Stopping, then Stopped."
    )


def _stop_batch_job(context: AwsContext, item: TeardownItem) -> TeardownOutcome:
    if item.status == "Stopping":
        return TeardownOutcome(
            item, "stopped", f"{item.label} is already stopping: Bedrock ends it on its own."
        )
    with aws_call(f"stopping the batch inference job {item.name or short_name(item.identifier)}"):
        context.client("bedrock").stop_model_invocation_job(jobIdentifier=item.identifier)
    return TeardownOutcome(
        item, "stopped", f"Asked Bedrock to stop {item.label}: it goes Stopping, then Stopped."
    )


def _delete_serving(context: AwsContext, item: TeardownItem) -> TeardownOutcome:
    from core.serving.deploy import Kind, delete_serving

    kind: Kind = "provisioned-throughput" if item.kind == THROUGHPUT else "custom-model-deployment"
    delete_serving(context, kind, item.identifier)
    return TeardownOutcome(item, "deleted", f"Deleted {item.label}; it no longer bills.")


def _delete_model(
    context: AwsContext, item: TeardownItem, deleted_here: set[str]
) -> TeardownOutcome:
    try:
        with aws_call(f"deleting the custom model {item.name or short_name(item.identifier)}"):
            context.client("bedrock").delete_custom_model(
                modelIdentifier=item.name or item.identifier
            )
    except (ConflictError, ValidationError) as error:
        if any(key in deleted_here for key in item.depends_on):
            error.hint = (
                "Its deployment was deleted a moment ago and may still be shutting down. "
                "Run teardown again in a few minutes."
            )
        raise
    return TeardownOutcome(item, "deleted", f"Deleted {item.label}; its storage charge stops.")


def _empty(s3: S3Client, bucket: str, prefix: str, step: Callable[[str], None]) -> int:
    """Delete every object version, delete marker and unfinished upload under `prefix`.

    Lists one page (at most 1,000 entries), deletes it with one DeleteObjects call, and lists
    again from the start until nothing is left: deleting never disturbs a listing in progress.
    """
    if not prefix.endswith("/") or prefix == "/":
        raise ValidationError(f"Refusing to empty '{prefix}' in {bucket}: not a folder.")
    where = f"s3://{bucket}/{prefix}"
    deleted = 0
    previous: list[ObjectIdentifierTypeDef] = []
    while True:
        with aws_call(f"listing {where}"):
            page = s3.list_object_versions(Bucket=bucket, Prefix=prefix, MaxKeys=BATCH)
        entries = [*page.get("Versions", []), *page.get("DeleteMarkers", [])]
        batch: list[ObjectIdentifierTypeDef] = [
            {"Key": str(e["Key"]), "VersionId": str(e["VersionId"])} for e in entries
        ]
        if not batch:
            break
        if batch == previous:
            raise BedrockTuneError(
                f"S3 still lists the same objects in {where} after deleting them.",
                hint="Something else may be writing there (a running job?). Try again later.",
            )
        with aws_call(f"deleting {len(batch)} objects in {where}"):
            response = s3.delete_objects(
                Bucket=bucket, Delete={"Objects": batch[:BATCH], "Quiet": True}
            )
        errors = response.get("Errors") or []
        if errors:
            first = errors[0]
            raise AccessDeniedError(
                f"S3 refused to delete {len(errors)} objects in {where} (first: "
                f"{first.get('Key')}: {first.get('Code')} {first.get('Message', '')}).",
                hint="You need s3:DeleteObject and s3:DeleteObjectVersion on the bucket.",
            )
        deleted += len(batch[:BATCH])
        previous = batch
        write_point("teardown.deleted-objects")
        step(f"deleted {plural(deleted, 'object')} under {where}")
    with aws_call(f"aborting unfinished uploads under {where}"):
        for uploads in s3.get_paginator("list_multipart_uploads").paginate(
            Bucket=bucket, Prefix=prefix
        ):
            for upload in uploads.get("Uploads", []):
                s3.abort_multipart_upload(
                    Bucket=bucket, Key=upload["Key"], UploadId=upload["UploadId"]
                )
    return deleted


def _delete_bucket(
    context: AwsContext,
    item: TeardownItem,
    registry: Registry,
    step: Callable[[str], None],
    still_stopping: list[StillStopping],
) -> TeardownOutcome:
    s3 = context.client("s3")
    name = item.identifier
    with aws_call(f"checking the bucket {name}"):
        s3.head_bucket(Bucket=name)
    folders = set(item.prefixes)  # only run folders the registry records: nothing else
    for record in registry.resources():
        if record.kind == PREFIX and record.identifier.startswith(f"s3://{name}/"):
            try:
                folders.add(split_s3_uri(record.identifier)[1])
            except ValidationError:
                continue  # a damaged entry fails on its own; it never widens what is emptied
    for folder in sorted(folders):
        _empty(s3, name, folder, step)
    with aws_call(f"checking what is left in {name}"):
        left = s3.list_object_versions(Bucket=name, MaxKeys=5)
    others = [str(e["Key"]) for e in [*left.get("Versions", []), *left.get("DeleteMarkers", [])]]
    if others and still_stopping:
        jobs = ", ".join(f"{s.item.label} ({s.status})" for s in still_stopping)
        return TeardownOutcome(
            item,
            "kept",
            f"Kept the bucket {name}: it still holds {others[0]}"
            f"{' and more' if len(others) > 1 else ''}, and {jobs} had not ended after "
            f"teardown waited {duration_text(still_stopping[0].waited)} (a stopped job may write "
            "its output late). Run teardown again once the job is Stopped: it empties the run "
            "folders again and deletes the bucket.",
        )
    if others:
        return TeardownOutcome(
            item,
            "kept",
            f"Kept the bucket {name}: bedrock-tune emptied its folders, but the bucket holds "
            f"objects it did not put there (e.g. {others[0]}). Delete them yourself if you no "
            "longer need them, then run teardown again.",
        )
    with aws_call(f"deleting the bucket {name}"):
        s3.delete_bucket(Bucket=name)
    return TeardownOutcome(item, "deleted", f"Deleted the bucket {name}.")


def _delete_role(
    context: AwsContext, item: TeardownItem, step: Callable[[str], None]
) -> TeardownOutcome:
    iam = context.client("iam")
    name = item.identifier
    with aws_call(f"reading the role {name}"):
        inline = [
            str(p)
            for page in iam.get_paginator("list_role_policies").paginate(RoleName=name)
            for p in page.get("PolicyNames", [])
        ]
    ours = [p for p in inline if p in item.policy_names]
    for policy in ours:
        try:
            with aws_call(f"deleting the inline policy {policy} of role {name}"):
                iam.delete_role_policy(RoleName=name, PolicyName=policy)
        except NotFoundError:
            pass
        write_point("teardown.deleted-policy")
        step(f"deleted the inline policy {policy} of {name}")
    removed = (
        f"Deleted the inline policy {', '.join(ours)}" if ours else "No policy of ours was left"
    )
    if not item.created_by_us:
        return TeardownOutcome(
            item, "deleted", f"{removed} of {name}; the role is yours and stays."
        )
    with aws_call(f"reading what else role {name} has"):
        attached = [
            str(p["PolicyName"])
            for page in iam.get_paginator("list_attached_role_policies").paginate(RoleName=name)
            for p in page.get("AttachedPolicies", [])
        ]
        profiles = [
            str(p["InstanceProfileName"])
            for page in iam.get_paginator("list_instance_profiles_for_role").paginate(RoleName=name)
            for p in page.get("InstanceProfiles", [])
        ]
    others = [p for p in inline if p not in ours] + attached
    if others or profiles:
        what = []
        if others:
            what.append(f"policies bedrock-tune did not add ({', '.join(others)})")
        if profiles:
            what.append(f"instance profiles ({', '.join(profiles)})")
        return TeardownOutcome(
            item,
            "kept",
            f"{removed}, but kept the role {name}: it has {' and '.join(what)}. Remove them "
            "yourself if the role is no longer needed, then run teardown again.",
        )
    with aws_call(f"deleting the role {name}"):
        iam.delete_role(RoleName=name)
    return TeardownOutcome(item, "deleted", f"{removed}, then the role {name}.")


def _keep_until_ended(registry: Registry, item: TeardownItem) -> None:
    """A SageMaker job asked to stop (or found Stopping) may still write into a run folder:
    its launch record stays, no longer billing, until teardown sees the job ended, so a
    teardown killed while it waits, or one that deletes the bucket later, waits for it too
    (a run records it as Stopping in the same write)."""
    registry.update_resource(
        item.kind,
        item.identifier,
        lambda record: replace(record, billable=False),
        update_runs=partial(run_without, item),
    )


def _forget_ended(
    registry: Registry,
    waited: list[TeardownItem],
    still_stopping: list[StillStopping],
    item: TeardownItem,
    emit: EventHandler,
) -> None:
    """Forget the `waited` jobs that have ended (those `still_stopping` stay recorded for the
    next teardown to wait for); a registry that cannot be written is a step of `item`."""
    running = {left.item.key for left in still_stopping}
    for job in waited:
        if job.key in running:
            continue
        try:
            _forget(registry, job)
        except BedrockTuneError as error:
            emit(
                TeardownEvent(
                    item, "step", f"the registry could not forget {job.label}: {error.message}"
                )
            )


def _forget(registry: Registry, item: TeardownItem) -> None:
    """Remove the item's registry entry, and point the runs that used it at nothing (one
    atomic registry write: a kill never leaves a run pointing at what its entry says is gone)."""
    registry.remove_resource(item.kind, item.identifier, update_runs=partial(run_without, item))
