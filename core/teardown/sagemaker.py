"""Teardown of what bedrock-tune made on SageMaker: real-time endpoints (billed per instance-hour,
deleted first), their endpoint configs and models (free), and training and Autopilot jobs still
running (stopped). Their S3 output and the execution role are run folders and roles like any
other (`core/teardown/inventory.py`).

Only what this install's registry records (resources, and the jobs and endpoints its runs point
at) or what is tagged `bedrock-tune:managed=true` is claimed; everything else SageMaker holds is
not even listed. `inventory` reads a Region's SageMaker once (`read_sagemaker`), claims the
tagged resources (`discover_sagemaker`), checks each claim (`check_sagemaker`); `delete` hands
these items to `delete_sagemaker_item`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from core.aws import AwsContext
from core.errors import BedrockTuneError, aws_call, describe_unexpected
from core.pricing.service import PriceService
from core.sagemaker import kinds
from core.sagemaker.endpoints import Part, delete_part, tags_of
from core.teardown.discover import Claim, Claims, parallel
from core.teardown.items import TeardownItem, TeardownOutcome

KINDS = (
    kinds.ENDPOINT,
    kinds.ENDPOINT_CONFIG,
    kinds.MODEL,
    kinds.AUTOML_JOB,
    kinds.TRAINING_JOB,
)
"""Everything of SageMaker's teardown handles, in the order it deletes them."""
RUNNING = ("InProgress", "Stopping")
_CONFIG_NAME = "EndpointConfigName"
_LABELS = {
    kinds.ENDPOINT: "SageMaker endpoint",
    kinds.ENDPOINT_CONFIG: "Endpoint config",
    kinds.MODEL: "SageMaker model",
    kinds.TRAINING_JOB: "Training job",
    kinds.AUTOML_JOB: "Autopilot job",
}


@dataclass
class SageMakerView:
    """What SageMaker has in one Region (read once per inventory), by name."""

    listed: dict[str, dict[str, Mapping[str, Any]]] = field(default_factory=dict)
    """kind -> name -> its summary (endpoints, configs, models, running jobs)."""
    failed: set[str] = field(default_factory=set)
    """Which kinds could not be listed."""


def _when(value: Any) -> str:
    return value.isoformat(timespec="seconds") if isinstance(value, datetime) else ""


def read_sagemaker(context: AwsContext, region: str, warn: Callable[[str], None]) -> SageMakerView:
    """List the Region's endpoints, endpoint configs, models and running jobs (a failure is a
    warning)."""
    client = context.client("sagemaker")
    view = SageMakerView()
    readers: tuple[tuple[str, str, str, str, dict[str, Any]], ...] = (
        (kinds.ENDPOINT, "list_endpoints", "Endpoints", "EndpointName", {}),
        (
            kinds.ENDPOINT_CONFIG,
            "list_endpoint_configs",
            "EndpointConfigs",
            "EndpointConfigName",
            {},
        ),
        (kinds.MODEL, "list_models", "Models", "ModelName", {}),
    )
    for kind, operation, key, name_key, arguments in readers:
        try:
            found: dict[str, Mapping[str, Any]] = {}
            for page in client.get_paginator(operation).paginate(**arguments):  # type: ignore[call-overload]
                for entry in page.get(key, []):
                    found[str(entry[name_key])] = entry
            view.listed[kind] = found
        except Exception as raised:  # a listing that fails is a warning, never a crash
            view.failed.add(kind)
            what = _LABELS[kind].lower()
            warn(f"Could not list the {what}s in {region}: {describe_unexpected(raised).message}")
    jobs: tuple[tuple[str, str, str, str], ...] = (
        (kinds.TRAINING_JOB, "list_training_jobs", "TrainingJobSummaries", "TrainingJobName"),
        (kinds.AUTOML_JOB, "list_auto_ml_jobs", "AutoMLJobSummaries", "AutoMLJobName"),
    )
    for kind, operation, key, name_key in jobs:
        running: dict[str, Mapping[str, Any]] = {}
        try:
            for status in RUNNING:
                paginator = client.get_paginator(operation)  # type: ignore[call-overload]
                for page in paginator.paginate(StatusEquals=status):
                    for entry in page.get(key, []):
                        running[str(entry[name_key])] = entry
        except Exception as raised:
            view.failed.add(kind)
            what = _LABELS[kind].lower()
            why = describe_unexpected(raised).message
            warn(f"Could not list the running {what}s in {region}: {why}")
        view.listed[kind] = running
    return view


def _arn(kind: str, entry: Mapping[str, Any]) -> str:
    for key in ("EndpointArn", "EndpointConfigArn", "ModelArn", "TrainingJobArn", "AutoMLJobArn"):
        if entry.get(key):
            return str(entry[key])
    return ""


def discover_sagemaker(
    context: AwsContext, view: SageMakerView, claims: Claims, install: str
) -> None:
    """Claim the Region's SageMaker resources tagged as bedrock-tune's."""
    from core.ownership import origin_of

    found = [
        (kind, name, _arn(kind, entry), _when(entry.get("CreationTime")))
        for kind, entries in view.listed.items()
        for name, entry in entries.items()
    ]
    found = [f for f in found if f[2]]

    def origin(entry: tuple[str, str, str, str]) -> Any:
        try:
            return origin_of(tags_of(context, entry[2]))
        except BedrockTuneError:
            return origin_of({})  # tags we cannot read: not claimed

    for (kind, name, _, created), owner in zip(found, parallel(origin, found), strict=True):
        claims.add_tagged(kind, name, context.region, owner, install, name=name, created_at=created)


@dataclass(frozen=True)
class _JobState:
    """A claimed job now: its status and, for a training job, what it runs on."""

    status: str | None
    instance_type: str = ""
    instance_count: int = 1
    output: str = ""
    """Its OutputDataConfig.S3OutputPath: where it writes (a stopped job too, late)."""


def _job_state(context: AwsContext, kind: str, name: str) -> _JobState:
    """A claimed job's status now (the list may not show it: it is one call per job)."""
    client = context.client("sagemaker")
    try:
        if kind == kinds.TRAINING_JOB:
            job = client.describe_training_job(TrainingJobName=name)
            resources = job.get("ResourceConfig") or {}
            return _JobState(
                str(job["TrainingJobStatus"]),
                str(resources.get("InstanceType") or ""),
                int(resources.get("InstanceCount") or 1),
                _output_path(job),
            )
        automl = client.describe_auto_ml_job_v2(AutoMLJobName=name)
        return _JobState(
            str(automl["AutoMLJobStatus"]),
            output=_output_path(automl),
        )
    except Exception:  # gone, or never created: nothing runs
        return _JobState(None)


def _output_path(description: Mapping[str, Any]) -> str:
    """A described job's OutputDataConfig.S3OutputPath ('' when it says none)."""
    config = description.get("OutputDataConfig") or {}
    return str(config.get("S3OutputPath") or "")


def _job_price(state: _JobState, prices: PriceService, region: str) -> tuple[float | None, str]:
    """(hourly price, its source) of a running job's instances: the training rate (the Price
    List's, else the built-in one) x instances; unknown (None) for an Autopilot job, which
    picks its instances itself, or a serverless one."""
    if not state.instance_type:
        return None, ""
    rate = prices.instance_prices(state.instance_type, region).training
    if rate.amount is None:
        return None, ""
    return rate.amount * state.instance_count, rate.provenance


def _endpoint_price(
    context: AwsContext, name: str, recorded: Mapping[str, Any], prices: PriceService, region: str
) -> tuple[float | None, str]:
    """(hourly price, its source): as recorded at creation, else the cached Price List rate
    of the instance type its config names (unknown: None, never $0)."""
    if recorded.get("per_hour") is not None:
        from core.pricing.types import SOURCE_LABELS

        source = SOURCE_LABELS.get(str(recorded.get("price_source")), "as recorded")
        as_of = recorded.get("price_as_of")
        return float(recorded["per_hour"]), f"{source}, {as_of}" if as_of else source
    try:
        config = context.client("sagemaker").describe_endpoint_config(
            EndpointConfigName=f"{name}-config"
        )
        instance = str(config["ProductionVariants"][0].get("InstanceType", ""))
    except Exception:
        return None, ""
    price = prices.instance_prices(instance, region).endpoint
    return (price.amount, price.provenance) if price.is_known else (None, "")


def check_sagemaker(
    context: AwsContext,
    kind: str,
    name: str,
    recorded: Mapping[str, Any] | None,
    view: SageMakerView,
    base: dict[str, Any],
    prices: PriceService,
) -> TeardownItem | None:
    """A claimed SageMaker resource, checked against the view (None: nothing to do).

    `recorded`: its registry entry's details (None: claimed from a run or a tag only)."""
    unknown = kind in view.failed
    label = f"{_LABELS[kind]} {name}"
    if kind in (kinds.TRAINING_JOB, kinds.AUTOML_JOB):
        state = _job_state(context, kind, name)
        status = state.status
        if status not in RUNNING:
            if recorded is None:
                return None  # a run's job that ended: nothing to stop, nothing to forget
            return TeardownItem(
                **base,
                label=label,
                action="stop",
                effect="The job has ended; teardown forgets it.",
                exists=False,
                status=status or "",
                name=name,
            )
        hourly, source = _job_price(state, prices, base["region"])
        return TeardownItem(
            **base,
            label=label,
            action="stop",
            effect="Already stopping: SageMaker ends it on its own."
            if status == "Stopping"
            else "Stops the job (it goes Stopping, then Stopped): its instances stop billing.",
            cost_class="hourly",
            hourly_cost=hourly,
            price_source=source,
            cost_note="billed per instance-hour while it runs"
            if hourly is not None
            else "billed per instance-hour while it runs; its price is unknown here "
            "(https://aws.amazon.com/sagemaker/pricing/)",
            status=status or "",
            name=name,
            output=state.output,
        )
    entry = view.listed.get(kind, {}).get(name)
    exists = entry is not None or unknown
    gone = "Already gone; teardown forgets it."
    if kind == kinds.ENDPOINT:
        hourly, source = _endpoint_price(context, name, recorded or {}, prices, base["region"])
        return TeardownItem(
            **base,
            label=label,
            action="delete",
            effect="Deletes the endpoint: its hourly billing stops (it can no longer be asked)."
            if exists
            else gone,
            cost_class="hourly",
            hourly_cost=hourly,
            price_source=source,
            cost_note="" if hourly is not None else "hourly price unknown (bedrock-tune prices)",
            exists=exists,
            status=str((entry or {}).get("EndpointStatus", "")),
            name=name,
            problem="could not be listed" if unknown else "",
        )
    served = name.removesuffix("-config" if kind == kinds.ENDPOINT_CONFIG else "-model")
    # Named by bedrock-tune's convention (`<endpoint>-config`, `<endpoint>-model`): the
    # endpoint goes first when it is still there.
    users = (f"{kinds.ENDPOINT}:{served}",) if served in view.listed.get(kinds.ENDPOINT, {}) else ()
    return TeardownItem(
        **base,
        label=label,
        action="delete",
        effect=("Deletes it (free; no endpoint can be made from it again)." if exists else gone),
        exists=exists,
        depends_on=users,
        name=name,
        problem="could not be listed" if unknown else "",
    )


def delete_sagemaker_item(context: AwsContext, item: TeardownItem) -> TeardownOutcome:
    """Delete an endpoint, config or model; stop a training or Autopilot job."""
    name = item.name or item.identifier
    client = context.client("sagemaker")
    if item.kind in (kinds.TRAINING_JOB, kinds.AUTOML_JOB):
        if item.status == "Stopping":
            return TeardownOutcome(
                item, "stopped", f"{item.label} is already stopping: SageMaker ends it on its own."
            )
        with aws_call(f"stopping the {item.label}"):
            if item.kind == kinds.TRAINING_JOB:
                client.stop_training_job(TrainingJobName=name)
            else:
                client.stop_auto_ml_job(AutoMLJobName=name)
        return TeardownOutcome(
            item,
            "stopped",
            f"Asked SageMaker to stop {item.label}: it goes Stopping, then Stopped.",
        )
    parts: dict[str, Part] = {kinds.ENDPOINT: "endpoint", kinds.ENDPOINT_CONFIG: "config"}
    deleted = delete_part(context, parts.get(item.kind, "model"), name)
    if not deleted:
        return TeardownOutcome(item, "gone", f"{item.label} was already gone.")
    stops = "; its billing stops" if item.kind == kinds.ENDPOINT else ""
    return TeardownOutcome(item, "deleted", f"Deleted {item.label}{stops}.")


def check_claim(
    context: AwsContext,
    claim: Claim,
    views: dict[str, SageMakerView],
    recorded: dict[tuple[str, str], dict[str, Any]],
    prices: PriceService,
) -> TeardownItem | None:
    """A SageMaker claim checked (an error keeps the claim, marked unchecked: teardown still
    tries it, under the same rules)."""
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
    details = recorded.get((claim.kind, claim.identifier))
    try:
        return check_sagemaker(
            context,
            claim.kind,
            claim.identifier,
            details if claim.recorded else None,
            views[claim.region],
            base,
            prices,
        )
    except BedrockTuneError as error:
        stop = claim.kind in (kinds.TRAINING_JOB, kinds.AUTOML_JOB)
        return TeardownItem(
            **base,
            label=f"{claim.kind} {claim.identifier}",
            action="stop" if stop else "delete",
            effect="Could not be checked; teardown still tries, under the same rules.",
            name=claim.identifier,
            problem=f"{error.title}: {error.message}",
        )
