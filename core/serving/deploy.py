"""Serving a custom model: on-demand custom model deployments (no idle cost, for the models that
support them) or no-commitment provisioned throughput (1 model unit, billed every hour until
deleted). Creation, status, listing and deletion; the caller records every billable resource in
the registry the moment it exists.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, Literal

from core.aws import AwsContext
from core.catalog.types import BaseModel, DeploymentOption
from core.errors import QuotaExceededError, ValidationError, aws_call
from core.ownership import MANAGED_TAG
from core.poll import Backoff, Pacing, Poller
from core.pricing.builtin import builtin_prices
from core.pricing.types import ModelPrices, Price
from core.statuses import ServingKind

if TYPE_CHECKING:
    from types_boto3_bedrock.type_defs import TagTypeDef

Kind = Literal["provisioned-throughput", "custom-model-deployment"]
"""What serves a custom model on Bedrock (a `ServingKind` other than a SageMaker endpoint)."""


def bedrock_kind(kind: ServingKind) -> Kind:
    """`kind` as Bedrock's serving kind.

    Raises:
        ValidationError: a SageMaker endpoint (served by `core.sagemaker.deploying` instead).
    """
    if kind is ServingKind.PROVISIONED_THROUGHPUT:
        return "provisioned-throughput"
    if kind is ServingKind.CUSTOM_MODEL_DEPLOYMENT:
        return "custom-model-deployment"
    raise ValidationError(
        f"A {kind.label} does not serve a Bedrock custom model.",
        hint="Serve it on a provisioned throughput or a custom model deployment.",
    )


READY = {"provisioned-throughput": "InService", "custom-model-deployment": "Active"}
FAILED = "Failed"
"""Where both kinds end when creation fails (in ProvisionedModelStatus and
CustomModelDeploymentStatus alike)."""
POLL_FIRST = 15.0
"""Seconds between the first status checks (it backs off from there); creation takes 10-30 min."""


@dataclass(frozen=True)
class DeploymentPlan:
    """One way to serve the model, with what it costs and how long it takes to be ready."""

    kind: Kind
    label: str
    hourly: Price | None
    """One model unit per hour, billed while it exists (None: nothing is billed while idle)."""
    per_token: tuple[Price, Price] | None
    """On-demand input / output price per 1,000 tokens (deployments)."""
    ready_in: str
    note: str

    @property
    def hourly_cost(self) -> float | None:
        """Idle cost per hour: 0 for on-demand deployments, None when the price is unknown."""
        return 0.0 if self.hourly is None else self.hourly.amount

    @property
    def cost_text(self) -> str:
        """What it costs, in words, with the source and date of the price."""
        if self.per_token is not None:
            low, high = self.per_token
            if not (low.is_known and high.is_known):
                unknown = high if low.is_known else low
                return f"per token (price unknown: {unknown.todo}), nothing while idle"
            return (
                f"{low.money()} / {high.money()} per 1K input / output tokens "
                f"({low.provenance}), nothing while idle"
            )
        if self.hourly is None or not self.hourly.is_known:
            todo = self.hourly.todo if self.hourly is not None else ""
            return f"per hour (price unknown: {todo})"
        return (
            f"{self.hourly.money()} per hour ({self.hourly.provenance}), every hour until deleted"
        )

    def billing_details(self) -> dict[str, Any]:
        """What the registry records for the header, the quit guard and teardown: the hourly
        price and where it comes from (None when unknown, never 0 for a throughput)."""
        price = self.hourly
        known = price is not None and price.is_known
        return {
            "per_hour": self.hourly_cost,
            "price_source": price.source if known and price else None,
            "price_as_of": (price.as_of or None) if known and price else None,
        }


def deployment_options(model: BaseModel, prices: ModelPrices | None = None) -> list[DeploymentPlan]:
    """What the model's base supports, on-demand first (it has no idle cost).

    `prices` are the model's prices in the region (`core.pricing`); without them, the built-in
    figures (which say so)."""
    row = prices or builtin_prices(model, model.regions[0] if model.regions else "")
    plans = []
    if DeploymentOption.ON_DEMAND_DEPLOYMENT in model.deployment_options:
        plans.append(
            DeploymentPlan(
                "custom-model-deployment",
                "On-demand custom model deployment",
                None,
                (row.on_demand_input, row.on_demand_output),
                "about 10 minutes",
                "Billed per token, nothing while idle. Needs a model customized on or after "
                "2025-07-16.",
            )
        )
    plans.append(
        DeploymentPlan(
            "provisioned-throughput",
            "Provisioned throughput, no commitment, 1 model unit",
            row.provisioned,
            None,
            "20-30 minutes",
            "Billed every hour until you delete it, used or not. At most two no-commitment "
            "provisioned throughputs per account.",
        )
    )
    return plans


@dataclass(frozen=True)
class Serving:
    """A provisioned throughput or a deployment as AWS describes it."""

    kind: Kind
    arn: str
    name: str
    model_arn: str
    status: str
    created: datetime | None
    failure_message: str | None = None

    @property
    def ready(self) -> bool:
        """InService (throughput) or Active (deployment)."""
        return self.status == READY[self.kind]

    @property
    def settled(self) -> bool:
        """Ready or failed: nothing will change without a new request, so polling stops."""
        return self.ready or self.status == FAILED


def serving_poller(
    fetch: Callable[[], Serving], *, first: float = POLL_FIRST, pacing: Pacing | None = None
) -> Poller[Serving]:
    """A poller that follows a deployment or throughput until it is ready or failed.

    It waits `first` seconds, longer while the status stays the same (up to 8 times that, with
    10% jitter so several of them do not call in step); see `core.poll`.
    """
    return Poller(
        fetch,
        finished=lambda serving: serving.settled,
        backoff=Backoff.starting_at(first, jitter=0.1),
        fingerprint=lambda serving: (serving.status, serving.failure_message),
        pacing=pacing,
    )


def _tags(owner_tags: Mapping[str, str] | None) -> list[TagTypeDef]:
    merged = {MANAGED_TAG[0]: MANAGED_TAG[1], **(owner_tags or {})}
    return [{"key": k, "value": v} for k, v in merged.items()]


def throughput_request(
    model_arn: str, name: str, token: str, owner_tags: Mapping[str, str] | None = None
) -> dict[str, Any]:
    """The keyword arguments of `bedrock.create_provisioned_model_throughput` bedrock-tune sends:
    no commitment, 1 model unit (`core.export` writes the same request into scripts)."""
    return {
        "modelUnits": 1,
        "provisionedModelName": name,
        "modelId": model_arn,
        "clientRequestToken": token,
        "tags": _tags(owner_tags),
    }


def deployment_request(
    model_arn: str, name: str, token: str, owner_tags: Mapping[str, str] | None = None
) -> dict[str, Any]:
    """The keyword arguments of `bedrock.create_custom_model_deployment` bedrock-tune sends."""
    return {
        "modelDeploymentName": name,
        "modelArn": model_arn,
        "clientRequestToken": token,
        "tags": _tags(owner_tags),
    }


def create_throughput(
    context: AwsContext,
    model_arn: str,
    name: str,
    token: str,
    *,
    owner_tags: Mapping[str, str] | None = None,
) -> str:
    """Buy no-commitment provisioned throughput (1 model unit); returns its ARN.

    `owner_tags` (core/ownership.py) say which install and identity made it.

    Raises:
        QuotaExceededError: the two no-commitment throughputs exist; the message lists them.
    """
    bedrock = context.client("bedrock")
    try:
        with aws_call(f"buying provisioned throughput '{name}'"):
            response = bedrock.create_provisioned_model_throughput(
                **throughput_request(model_arn, name, token, owner_tags)
            )
    except QuotaExceededError as error:
        existing = [s.name for s in list_serving(context) if s.kind == "provisioned-throughput"]
        raise QuotaExceededError(
            f"{error.message} Existing provisioned throughputs: {', '.join(existing) or 'none'}.",
            hint="Delete one you no longer need (bedrock-tune teardown), or use an on-demand "
            "deployment where the model supports it.",
        ) from error
    return str(response["provisionedModelArn"])


def create_deployment(
    context: AwsContext,
    model_arn: str,
    name: str,
    token: str,
    *,
    owner_tags: Mapping[str, str] | None = None,
) -> str:
    """Create an on-demand custom model deployment; returns its ARN (`owner_tags`: see
    `create_throughput`)."""
    with aws_call(f"creating the deployment '{name}'"):
        response = context.client("bedrock").create_custom_model_deployment(
            **deployment_request(model_arn, name, token, owner_tags)
        )
    return str(response["customModelDeploymentArn"])


def _serving(kind: Kind, item: Mapping[str, object]) -> Serving:
    # `item` is a Get*Response or a *Summary of either kind; their field names differ.
    if kind == "provisioned-throughput":
        return Serving(
            kind,
            str(item["provisionedModelArn"]),
            str(item["provisionedModelName"]),
            str(item.get("modelArn", "")),
            str(item.get("status", "")),
            _time(item.get("creationTime")),
            _text(item.get("failureMessage")),
        )
    return Serving(
        kind,
        str(item["customModelDeploymentArn"]),
        str(item.get("modelDeploymentName") or item.get("customModelDeploymentName", "")),
        str(item.get("modelArn", "")),
        str(item.get("status", "")),
        _time(item.get("createdAt")),
        _text(item.get("failureMessage")),
    )


def _time(value: object) -> datetime | None:
    return value if isinstance(value, datetime) else None


def _text(value: object) -> str | None:
    return None if value is None else str(value)


def get_serving(context: AwsContext, kind: Kind, arn: str) -> Serving:
    """The current state of a throughput or deployment."""
    bedrock = context.client("bedrock")
    item: Mapping[str, object]
    with aws_call(f"reading {arn.rsplit('/', 1)[-1]}"):
        if kind == "provisioned-throughput":
            item = bedrock.get_provisioned_model_throughput(provisionedModelId=arn)
        else:
            item = bedrock.get_custom_model_deployment(customModelDeploymentIdentifier=arn)
    return _serving(kind, item)


def list_serving(context: AwsContext) -> list[Serving]:
    """Every provisioned throughput and deployment in the region, every page of each list
    (botocore's paginators follow `nextToken`)."""
    bedrock = context.client("bedrock")
    found: list[Serving] = []
    with aws_call(f"listing provisioned throughputs in {context.region}"):
        for page in bedrock.get_paginator("list_provisioned_model_throughputs").paginate():
            found.extend(
                _serving("provisioned-throughput", throughput)
                for throughput in page.get("provisionedModelSummaries", [])
            )
    with aws_call(f"listing custom model deployments in {context.region}"):
        for listing in bedrock.get_paginator("list_custom_model_deployments").paginate():
            found.extend(
                _serving("custom-model-deployment", deployment)
                for deployment in listing.get("modelDeploymentSummaries", [])
            )
    return found


def delete_serving(context: AwsContext, kind: Kind, arn: str) -> None:
    """Delete a throughput or deployment (billing stops)."""
    bedrock = context.client("bedrock")
    with aws_call(f"deleting {arn.rsplit('/', 1)[-1]}"):
        if kind == "provisioned-throughput":
            bedrock.delete_provisioned_model_throughput(provisionedModelId=arn)
        else:
            bedrock.delete_custom_model_deployment(customModelDeploymentIdentifier=arn)
