"""Teardown's inventory: what bedrock-tune made that is still there, checked against AWS.

The registry's resources and the runs' jobs, models and deployments are claimed first; then,
unless told not to, resources tagged `bedrock-tune:managed=true` are found (S3 buckets, IAM roles
Bedrock may assume, and the context region's custom models, provisioned throughputs,
deployments and running jobs). Each claim is then checked: does it still exist, what does it
cost, what would deleting it do. A listing that fails becomes a warning, never a crash.

Each item says whether it is *ours* (this registry records it, or its tags carry this install's
id) or *found* (only the managed tag points at it: made by bedrock-tune elsewhere, by someone
else maybe). Callers delete ours by default and found ones only when the user asks
(`default_choice`). S3 objects are only ever deleted in the run folders this registry knows.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from core import format as fmt
from core.aws import AwsContext
from core.errors import BedrockTuneError, NotFoundError, ValidationError, aws_call
from core.jobs.customization import JobStatus
from core.pricing.service import PriceService
from core.pricing.types import ModelPrices, Price
from core.registry import Registry
from core.run.types import Route
from core.sagemaker import kinds as sagemaker
from core.statuses import ServingKind
from core.teardown.discover import (
    BedrockView,
    Claim,
    Claims,
    discover_bedrock,
    discover_buckets,
    discover_roles,
    read_bedrock,
)
from core.teardown.imports import check_import, models_made_by_jobs
from core.teardown.items import (
    BATCH_JOB,
    BUCKET,
    COST_RANK,
    DEFAULT_POLICY_NAME,
    DEPLOYMENT,
    IMPORT_JOB,
    IMPORTED_MODEL,
    JOB,
    MODEL,
    OUR_POLICY_PREFIX,
    PREFIX,
    ROLE,
    THROUGHPUT,
    Action,
    TeardownItem,
    delete_rank,
    short_name,
    split_s3_uri,
)
from core.teardown.sagemaker import KINDS as SAGEMAKER_KINDS
from core.teardown.sagemaker import check_claim, discover_sagemaker, read_sagemaker


def _arn_account(identifier: str) -> str:
    parts = identifier.split(":", 5)
    return parts[4] if identifier.startswith("arn:") and len(parts) > 4 else ""


def _model_prices(prices: PriceService, base_model_arn: str, region: str) -> ModelPrices | None:
    """The base model's prices in `region` (None for a base model the catalog does not know)."""
    from core.catalog.lookup import find_model

    try:
        model = find_model(short_name(base_model_arn))
    except NotFoundError:
        return None
    return prices.model_prices(model, region)


def _storage_price(prices: PriceService, base_model_arn: str, region: str) -> Price | None:
    row = _model_prices(prices, base_model_arn, region)
    return row.storage if row is not None else None


def _hourly_price(
    prices: PriceService, base_model_arn: str, units: int, region: str
) -> Price | None:
    row = _model_prices(prices, base_model_arn, region)
    return row.provisioned.times(max(units, 1)) if row is not None else None


_SAGEMAKER_JOBS = {
    Route.SAGEMAKER_IMPORT: sagemaker.TRAINING_JOB,
    Route.SAGEMAKER_JUMPSTART: sagemaker.TRAINING_JOB,
    Route.SAGEMAKER_AUTOPILOT: sagemaker.AUTOML_JOB,
}
"""The job a run of a SageMaker route launched (its `job_name`), by route."""


def _from_registry(
    registry: Registry, account: str, region: str, claims: Claims, warn: Callable[[str], None]
) -> None:
    elsewhere: set[str] = set()

    def mine(account_id: str, identifier: str) -> bool:
        owner = account_id or _arn_account(identifier)
        if owner and owner != account:
            elsewhere.add(owner)
            return False
        return True

    for record in registry.resources():
        if not mine(record.account_id, record.identifier):
            continue
        policy = str(record.details.get("policy_name") or DEFAULT_POLICY_NAME)
        claims.add(
            record.kind,
            record.identifier,
            record.region or region,
            in_registry=True,
            recorded=True,
            registry_ours=record.created_by_us,
            name=record.details.get("name") or "",
            created_at=record.created,
            policy_names=[policy] if record.kind == ROLE else [],
        )
    for saved in registry.runs():
        run = saved.run
        if run.account_id and run.account_id != account:
            elsewhere.add(run.account_id)
            continue
        where = run.region or region
        # What a run of ours launched is ours.
        ours = {"in_registry": True, "registry_ours": True}
        if run.serving_arn and run.serving_kind in (THROUGHPUT, DEPLOYMENT):
            claims.add(run.serving_kind, run.serving_arn, where, **ours)
        if run.custom_model_arn:
            imported = ":imported-model/" in run.custom_model_arn
            claims.add(
                IMPORTED_MODEL if imported else MODEL,
                run.custom_model_arn,
                where,
                name=run.imported_model_name if imported else run.custom_model_name,
                **ours,
            )
        if run.import_job_arn and saved.in_progress:
            claims.add(IMPORT_JOB, run.import_job_arn, where, **ours)
        if run.endpoint_name and run.serving_kind is ServingKind.SAGEMAKER_ENDPOINT:
            claims.add(sagemaker.ENDPOINT, run.endpoint_name, where, name=run.endpoint_name, **ours)
        sagemaker_job = _SAGEMAKER_JOBS.get(run.route)
        if sagemaker_job and run.job_name and saved.in_progress:
            claims.add(sagemaker_job, run.job_name, where, name=run.job_name, **ours)
        elif run.job_arn and saved.in_progress:
            claims.add(JOB, run.job_arn, where, name=run.job_name, **ours)
    if elsewhere:
        warn(
            f"The registry also lists resources of account {', '.join(sorted(elsewhere))}; "
            f"they are left alone (you are signed in to {account}). Sign in to that account to "
            "tear them down."
        )


def inventory(
    context: AwsContext,
    registry: Registry,
    *,
    discover_tags: bool = True,
    on_warning: Callable[[str], None] | None = None,
    prices: PriceService | None = None,
) -> list[TeardownItem]:
    """Everything bedrock-tune made that is left, billable first.

    Args:
        context: the AWS context (its identity decides which registry entries are this
            account's; tag discovery runs in its region, plus S3 and IAM, which are global).
        registry: the local registry (its resources and the runs' jobs, models and serving);
            its install id tells this install's tagged resources from other installs'.
        discover_tags: also find resources tagged `bedrock-tune:managed=true`: this install's
            that the registry lost, and other installs' (listed as `origin == "found"`).
        on_warning: told about what could not be listed or checked (the rest still is).
        prices: where the hourly and monthly costs come from (default: the cached Price List
            answers, else the built-in figures, without calling AWS).
    """
    warn = on_warning or (lambda _message: None)
    prices = prices or PriceService(None)
    account = context.whoami().account
    install = registry.install_id()
    claims = Claims()
    _from_registry(registry, account, context.region, claims, warn)
    if discover_tags:
        for what, discover in (("S3 buckets", discover_buckets), ("IAM roles", discover_roles)):
            try:
                discover(context, claims, install)
            except BedrockTuneError as error:
                warn(f"Could not look for tagged {what}: {error.message}")
    regions = {
        c.region
        for c in claims.of(
            BATCH_JOB, JOB, THROUGHPUT, DEPLOYMENT, MODEL, IMPORT_JOB, IMPORTED_MODEL
        )
    }
    if discover_tags:
        regions.add(context.region)
    contexts = {r: context if r == context.region else context.with_region(r) for r in regions}
    views = {r: read_bedrock(contexts[r], r, warn) for r in sorted(regions)}
    if discover_tags:
        try:
            discover_bedrock(context, views[context.region], claims, install)
        except BedrockTuneError as error:
            warn(f"Could not read the tags of Bedrock resources: {error.message}")
    for job in claims.of(IMPORT_JOB):  # an import that ended made a model: claim it too
        for arn, name in models_made_by_jobs([job.identifier], views[job.region].imports):
            claims.add(
                IMPORTED_MODEL,
                arn,
                job.region,
                in_registry=job.in_registry,
                registry_ours=job.registry_ours,
                name=name,
            )
    sagemaker_regions = {c.region for c in claims.of(*SAGEMAKER_KINDS)}
    if discover_tags:
        sagemaker_regions.add(context.region)
    for region in sorted(sagemaker_regions):
        contexts.setdefault(region, context.with_region(region))
    sagemaker_views = {r: read_sagemaker(contexts[r], r, warn) for r in sorted(sagemaker_regions)}
    if discover_tags:
        try:
            discover_sagemaker(context, sagemaker_views[context.region], claims, install)
        except BedrockTuneError as error:
            warn(f"Could not read the tags of SageMaker resources: {error.message}")
    recorded = {(r.kind, r.identifier): r.details for r in registry.resources()}
    checked = []
    for claim in claims.all():
        where = contexts.get(claim.region, context)
        if claim.kind in SAGEMAKER_KINDS:
            checked.append(check_claim(where, claim, sagemaker_views, recorded, prices))
        else:
            checked.append(_check(where, claim, claims, views, prices))
    items = [i for i in checked if i is not None]
    items.sort(key=lambda i: (COST_RANK[i.cost_class], delete_rank(i.kind), i.label))
    return items


def default_choice(
    items: Iterable[TeardownItem], *, include_found: bool = False
) -> list[TeardownItem]:
    """What teardown deletes unless told otherwise: what this install made (its registry, its
    install id); what bedrock-tune made elsewhere only with `include_found`."""
    return [i for i in items if i.origin == "ours" or include_found]


def _check(
    context: AwsContext,
    claim: Claim,
    claims: Claims,
    views: dict[str, BedrockView],
    prices: PriceService,
) -> TeardownItem | None:
    """Check a claim against AWS and describe it; None when it is not teardown's business."""
    base: dict[str, Any] = {
        "kind": claim.kind,
        "identifier": claim.identifier,
        "region": claim.region,
        "in_registry": claim.in_registry,
        "tagged": claim.tagged,
        "created_by_us": claim.created_by_us,
        "origin": claim.origin,
        "created_at": claim.created_at,
        "created_by": claim.created_by,
    }
    try:
        if claim.kind == BATCH_JOB:
            return _check_batch_job(claim, views[claim.region], base)
        if claim.kind in (IMPORT_JOB, IMPORTED_MODEL):
            view = views[claim.region].imports
            return check_import(
                context,
                claim.kind,
                claim.identifier,
                claim.name,
                claim.recorded,
                view,
                base,
                prices.import_prices(claim.region),
            )
        if claim.kind in (JOB, THROUGHPUT, DEPLOYMENT, MODEL):
            return _check_bedrock(claim, claims, views[claim.region], base, prices)
        if claim.kind == PREFIX:
            return _check_prefix(context, claim, base)
        if claim.kind == BUCKET:
            return _check_bucket(context, claim, claims, base)
        if claim.kind == ROLE:
            return _check_role(context, claim, base)
    except BedrockTuneError as error:
        # Unchecked, it keeps what the registry and tags say: what is not ours stays safe.
        action: Action = "delete"
        if claim.kind == BUCKET and not claim.created_by_us:
            action = "forget"
        elif claim.kind == ROLE and not claim.created_by_us:
            action = "delete-policy"
        elif claim.kind in (JOB, BATCH_JOB):
            action = "stop"
        return TeardownItem(
            **base,
            label=f"{claim.kind} {claim.identifier}",
            action=action,
            effect="Could not be checked; teardown still tries, under the same rules.",
            name=claim.name,
            policy_names=tuple(sorted(claim.policy_names)),
            prefixes=_known_folders(claim.identifier, claims) if claim.kind == BUCKET else (),
            problem=f"{error.title}: {error.message}",
        )
    return TeardownItem(
        **base,
        label=f"{claim.kind} {claim.identifier}",
        action="forget",
        effect="bedrock-tune cannot delete this kind of resource: teardown only forgets the "
        "registry entry (delete it yourself in the AWS console if you no longer need it).",
    )


def _check_batch_job(claim: Claim, view: BedrockView, base: dict[str, Any]) -> TeardownItem:
    """A batch inference job: still running (stop it), or ended (forget it)."""
    job = view.batch_jobs.get(claim.identifier)
    unknown = BATCH_JOB in view.failed
    name = str((job or {}).get("jobName") or claim.name or short_name(claim.identifier))
    if job is None and not unknown:
        return TeardownItem(
            **base,
            label=f"Batch inference job {name}",
            action="stop",
            effect="The job has ended; teardown forgets it.",
            exists=False,
            name=name,
        )
    status = str((job or {}).get("status", ""))
    return TeardownItem(
        **base,
        label=f"Batch inference job {name}",
        action="stop",
        effect="Already stopping: Bedrock ends it on its own."
        if status == "Stopping"
        else "Stops the job: the records it has not answered are not billed.",
        cost_class="hourly",
        cost_note="billed by the tokens it processes",
        status=status,
        name=name,
        problem="could not be listed" if unknown else "",
    )


def _check_bedrock(
    claim: Claim,
    claims: Claims,
    view: BedrockView,
    base: dict[str, Any],
    prices: PriceService,
) -> TeardownItem | None:
    arn = claim.identifier
    unknown = claim.kind in view.failed or (claim.kind == DEPLOYMENT and THROUGHPUT in view.failed)
    if claim.kind == JOB:
        job = view.jobs.get(arn)
        if job is None and not unknown:
            if not claim.recorded:
                return None  # a run's job that ended: nothing to stop, nothing to forget
            return TeardownItem(
                **base,
                label=f"Customization job {claim.name or short_name(arn)}",
                action="stop",
                effect="The job has ended; teardown forgets it.",
                exists=False,
                name=claim.name,
            )
        name = job.name if job is not None else claim.name or short_name(arn)
        stopping = job is not None and job.status is JobStatus.STOPPING
        return TeardownItem(
            **base,
            label=f"Customization job {name}",
            action="stop",
            effect="Already stopping: Bedrock ends it on its own (it goes Stopped)."
            if stopping
            else "Stops the job (it goes Stopping, then Stopped): training ends.",
            cost_class="hourly",
            cost_note="training is billed by the tokens it processes",
            status=str(job.status) if job is not None else "",
            name=name,
        )
    if claim.kind in (THROUGHPUT, DEPLOYMENT):
        serving = view.serving.get(arn, {})
        exists = bool(serving) or unknown
        name = str(
            serving.get("provisionedModelName")
            or serving.get("customModelDeploymentName")
            or claim.name
            or short_name(arn)
        )
        model = view.models.get(str(serving.get("modelArn", "")), {})
        if claim.kind == THROUGHPUT:
            units = int(serving.get("modelUnits") or 1)
            price = _hourly_price(prices, str(model.get("baseModelArn", "")), units, claim.region)
            effect = "Deletes the provisioned throughput: its hourly billing stops."
            if serving.get("commitmentDuration"):
                effect += (
                    f" It has a {serving['commitmentDuration']} commitment (until "
                    f"{serving.get('commitmentExpirationTime', '?')}): AWS refuses to delete it "
                    "before the term ends."
                )
            known = price is not None and price.is_known
            hourly = price.amount if price is not None else None
            source = price.provenance if price is not None else ""
            note = "" if known else "hourly price unknown (see `bedrock-tune prices`)"
            label = f"Provisioned throughput {name}"
        else:
            hourly, note, source = 0.0, "per token, nothing while idle", ""
            effect = "Deletes the on-demand deployment (irreversible); the custom model stays."
            label = f"On-demand deployment {name}"
        return TeardownItem(
            **base,
            label=label,
            action="delete",
            effect=effect if exists else "Already gone; teardown forgets it.",
            cost_class="hourly",
            hourly_cost=hourly,
            cost_note=note,
            price_source=source,
            exists=exists,
            status=str(serving.get("status", "")),
            name=name,
            problem="could not be listed" if unknown else "",
        )
    model = view.models.get(arn, {})
    exists = bool(model) or unknown
    name = str(model.get("modelName") or claim.name or short_name(arn))
    base_arn = str(model.get("baseModelArn", ""))
    storage = _storage_price(prices, base_arn, claim.region) if model else None
    users = tuple(
        f"{s['kind']}:{a}"
        for a, s in view.serving.items()
        if s.get("modelArn") == arn and str(s.get("status")) != "Failed"
    )
    return TeardownItem(
        **base,
        label=f"Custom model {name}",
        action="delete",
        effect=(
            "Deletes the custom model (irreversible): its monthly storage charge stops and it "
            "can no longer be deployed."
            if exists
            else "Already gone; teardown forgets it."
        ),
        cost_class="storage",
        monthly_cost=storage.amount if storage is not None else None,
        price_source=storage.provenance if storage is not None else "",
        exists=exists,
        status=str(model.get("modelStatus", "")),
        depends_on=users,
        name=name,
        problem="could not be listed" if unknown else "",
    )


def _check_prefix(context: AwsContext, claim: Claim, base: dict[str, Any]) -> TeardownItem:
    bucket, prefix = split_s3_uri(claim.identifier)
    s3 = context.client("s3", region=None if claim.region == "global" else claim.region)
    count, size = 0, 0
    try:
        with aws_call(f"listing {claim.identifier}"):
            for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
                for entry in page.get("Contents", []):
                    count += 1
                    size += int(entry.get("Size", 0))
    except NotFoundError:
        pass  # the bucket is gone
    return TeardownItem(
        **base,
        label=f"S3 folder {claim.identifier} ({fmt.plural(count, 'object')}, {fmt.size(size)})",
        action="delete",
        effect=(
            "Deletes every object (and version) under it: the uploaded data and the job's output."
            if count
            else "Nothing is left under it; teardown forgets it."
        ),
        exists=count > 0,
        status=fmt.plural(count, "object"),
    )


def _check_bucket(
    context: AwsContext, claim: Claim, claims: Claims, base: dict[str, Any]
) -> TeardownItem:
    s3 = context.client("s3", region=claim.region)
    try:
        with aws_call(f"checking the bucket {claim.identifier}"):
            s3.head_bucket(Bucket=claim.identifier)
        exists = True
    except NotFoundError:
        exists = False
    folders = _known_folders(claim.identifier, claims)
    ours = claim.created_by_us
    if not exists:
        effect = "Already gone; teardown forgets it."
    elif ours and folders:
        effect = (
            f"Deletes the run folders this registry knows in it ({', '.join(folders)}), then "
            "the bucket, unless it holds anything else (then the bucket is kept)."
        )
    elif ours:
        effect = (
            "Deletes the bucket if it is empty. This registry knows no run folder in it, so "
            "no object is deleted: anything in it keeps the bucket."
        )
    else:
        effect = (
            "bedrock-tune did not create this bucket: it is never deleted. Teardown only "
            "forgets it (our folders in it are listed separately)."
        )
    return TeardownItem(
        **base,
        label=f"S3 bucket {claim.identifier}" + ("" if ours else " (yours)"),
        action="delete" if ours else "forget",
        effect=effect,
        exists=exists and ours,
        prefixes=folders if ours else (),
    )


def _known_folders(bucket: str, claims: Claims) -> tuple[str, ...]:
    """The run folders (key prefixes) the registry records in `bucket`: the only places
    teardown deletes objects."""
    folders = set()
    for other in claims.of(PREFIX):
        if not other.in_registry:
            continue
        try:
            name, prefix = split_s3_uri(other.identifier)
        except ValidationError:
            continue
        if name == bucket:
            folders.add(prefix)
    return tuple(sorted(folders))


def _check_role(context: AwsContext, claim: Claim, base: dict[str, Any]) -> TeardownItem:
    iam = context.client("iam")
    name = claim.identifier
    try:
        with aws_call(f"reading the role {name}"):
            iam.get_role(RoleName=name)
            inline = [
                str(p)
                for page in iam.get_paginator("list_role_policies").paginate(RoleName=name)
                for p in page.get("PolicyNames", [])
            ]
            attached = [
                str(p["PolicyName"])
                for page in iam.get_paginator("list_attached_role_policies").paginate(RoleName=name)
                for p in page.get("AttachedPolicies", [])
            ]
    except NotFoundError:
        return TeardownItem(
            **base,
            label=f"IAM role {name}",
            action="delete" if claim.created_by_us else "delete-policy",
            effect="Already gone; teardown forgets it.",
            exists=False,
        )
    ours = sorted(
        p
        for p in inline
        if p in claim.policy_names
        or (claim.created_by_us and claim.tagged and p.startswith(OUR_POLICY_PREFIX))
    )
    others = [p for p in inline if p not in ours] + attached
    listed = ", ".join(ours) or "none left"
    if not claim.created_by_us:
        effect = (
            f"Deletes only the inline policy bedrock-tune added ({listed}); the role is yours "
            "and stays."
        )
        exists = bool(ours)
    elif others:
        effect = (
            f"Deletes bedrock-tune's inline policy ({listed}) but keeps the role: it also has "
            f"policies bedrock-tune did not add ({', '.join(others)})."
        )
        exists = True
    else:
        effect = f"Deletes the inline policy ({listed}), then the role."
        exists = True
    return TeardownItem(
        **base,
        label=f"IAM role {name}" + ("" if claim.created_by_us else " (yours)"),
        action="delete" if claim.created_by_us else "delete-policy",
        effect=effect if exists else "bedrock-tune's policy is already gone; teardown forgets it.",
        exists=exists,
        policy_names=tuple(ours),
    )
