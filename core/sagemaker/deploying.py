"""Deploying a model on a SageMaker endpoint once, whatever crashes; and deleting it.

SageMaker's CreateModel, CreateEndpointConfig and CreateEndpoint take no client token: what makes
a repeat safe here is the name, recorded before anything is sent, and the run's tag on what is
created. The order (a kill at any point loses nothing and creates nothing twice):

1. The run is saved with the endpoint's name (its model and config are `<name>-model` and
   `<name>-config`), its source and instance type; the three resources are recorded in the
   registry as *pending* (the endpoint billable, with its hourly price). Teardown can delete
   whatever of them comes to exist.
2. Each part is looked for by name before it is created: one made by this run (its
   `bedrock-tune:run` tag) is reused, one made by anyone else stops the deploy (ConflictError,
   nothing touched). An endpoint config of this run with another instance type, and no endpoint
   yet, is replaced.
3. The endpoint's ARN replaces its pending entry; the run gets it (`serving_arn`, Creating).

A refused CreateEndpoint (no quota for the instance type, a bad parameter) created nothing
billable: its pending entry goes; the free model and config stay recorded for teardown (or the
next deploy, which reuses them).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from core.aws import AwsContext
from core.errors import (
    BedrockTuneError,
    ConflictError,
    NotFoundError,
    ValidationError,
    aws_call,
    error_code,
)
from core.ownership import INSTALL_TAG, RUN_TAG, ownership_tags
from core.pricing.types import Price, total_text
from core.registry import Registry, ResourceRecord, RunRecord
from core.run.types import Run
from core.sagemaker import kinds
from core.sagemaker.endpoints import (
    ARN_KEYS,
    EndpointPlan,
    Part,
    check_plan,
    delete_part,
    find_part,
    quota_error,
    tags_of,
)
from core.statuses import ServingKind, ServingStatus

PENDING_KEY = "pending"
_KINDS: dict[Part, str] = {
    "model": kinds.MODEL,
    "config": kinds.ENDPOINT_CONFIG,
    "endpoint": kinds.ENDPOINT,
}


@dataclass(frozen=True)
class Deployed:
    """What `deploy_once` made or found."""

    run_id: str
    run: Run
    endpoint_name: str
    endpoint_arn: str
    reattached: bool
    """The endpoint existed already (made by this run's earlier, interrupted deploy)."""


def price_details(price: Price, instance_count: int = 1) -> dict[str, Any]:
    """What the registry records of an endpoint's hourly price (None when unknown, never 0)."""
    known = price.is_known and price.amount is not None
    return {
        "per_hour": price.amount * instance_count if known and price.amount is not None else None,
        "price_source": price.source if known else None,
        "price_as_of": (price.as_of or None) if known else None,
    }


def endpoint_cost_text(price: Price, instance: str, count: int = 1) -> str:
    """What an endpoint on `count` x `instance` costs, in words, with the rate's source and
    date (the deploy confirmation in the app and the CLI), or unknown with what to do."""
    where = f"{count} x {instance}"
    if price.amount is None:
        return (
            f"An endpoint on {where} bills every hour until you delete it; its price is unknown "
            f"here ({price.todo})."
        )
    return (
        f"An endpoint on {where} bills {total_text(price, count, 'per hour')}, every hour "
        "until you delete it (the Teardown step, or `bedrock-tune endpoint delete`)."
    )


def run_for_source(registry: Registry, source_key: str, source_name: str) -> RunRecord | None:
    """The run a deploy of `source_key` belongs to: one that deployed it before (its endpoint
    name is known), else the run whose job made the model (`job_name`); None for a model made
    outside bedrock-tune (the deploy then starts a run)."""
    runs = registry.runs()
    earlier = next((r for r in runs if r.run.endpoint_source == source_key), None)
    if earlier is not None:
        return earlier
    return next((r for r in runs if r.run.job_name == source_name), None)


def _record(
    registry: Registry,
    what: Part,
    name: str,
    run: Run,
    run_id: str,
    details: dict[str, Any],
) -> None:
    """Record (or re-record) one part, keeping what an earlier attempt learned of it."""
    kind = _KINDS[what]
    earlier = next(
        (r for r in registry.resources() if r.kind == kind and r.identifier == name), None
    )
    if earlier is not None and earlier.run_id == run_id and not earlier.details.get(PENDING_KEY):
        return  # created and recorded by an earlier attempt of this run
    registry.add_resource(
        ResourceRecord(
            kind,
            name,
            run.region or "",
            run.account_id or "",
            run_id,
            billable=what == "endpoint",
            details={"name": name, PENDING_KEY: True, **details},
        )
    )


def _ours(context: AwsContext, found: dict[str, Any], what: Part, name: str, run_id: str) -> str:
    """The ARN of the existing part `found`, when this run made it; ConflictError otherwise."""
    arn = str(found.get(ARN_KEYS[what], ""))
    owner = tags_of(context, arn).get(RUN_TAG) if arn else None
    if owner != run_id:
        who = f"bedrock-tune run {owner}" if owner else "someone else (not this bedrock-tune run)"
        raise ConflictError(
            f"A SageMaker {what} named '{name}' already exists, made by {who}; nothing was "
            "created or changed.",
            hint="Choose another endpoint name (--name), or delete that endpoint first "
            "(`bedrock-tune endpoint delete NAME` for one bedrock-tune made).",
        )
    return arn


def _create(context: AwsContext, what: Part, plan: EndpointPlan, tags: list[Any]) -> str:
    client = context.client("sagemaker")
    if what == "model":
        request = {**plan.model_request(), "Tags": tags}
        with aws_call(f"creating the SageMaker model {plan.model_name}"):
            return str(client.create_model(**request)["ModelArn"])
    if what == "config":
        request = {**plan.config_request(), "Tags": tags}
        with aws_call(f"creating the endpoint config {plan.config_name}"):
            return str(client.create_endpoint_config(**request)["EndpointConfigArn"])
    request = {**plan.endpoint_request(), "Tags": tags}
    with aws_call(f"creating the endpoint {plan.endpoint_name}"):
        return str(client.create_endpoint(**request)["EndpointArn"])


def _config_fits(found: dict[str, Any], plan: EndpointPlan) -> bool:
    variants = found.get("ProductionVariants") or [{}]
    first = variants[0]
    return bool(
        first.get("InstanceType") == plan.instance_type
        and first.get("InitialInstanceCount", plan.instance_count) == plan.instance_count
        and first.get("ModelName") == plan.model_name
    )


REFUSALS = frozenset(
    {"ValidationException", "ResourceLimitExceeded", "AccessDeniedException", "AccessDenied"}
)
"""SageMaker's answers to a create call it refused: nothing was made."""


def _create_parts(
    context: AwsContext,
    registry: Registry,
    plan: EndpointPlan,
    names: dict[Part, str],
    run_id: str,
    tags: list[Any],
) -> tuple[dict[Part, str], bool]:
    """Find or create the model, the config and the endpoint, in that order; each ARN replaces
    its pending entry as soon as it is known. Returns the ARNs and whether the endpoint existed."""
    arns: dict[Part, str] = {}
    reattached = False
    for what, name in names.items():
        found = find_part(context, what, name)
        if found is not None:
            arn = _ours(context, found, what, name, run_id)
            if what == "config" and not _config_fits(found, plan):
                if find_part(context, "endpoint", plan.endpoint_name) is not None:
                    raise ConflictError(
                        f"The endpoint {plan.endpoint_name} already runs with another "
                        f"configuration than {plan.instance_count} x {plan.instance_type}.",
                        hint=f"Delete it first (bedrock-tune endpoint delete "
                        f"{plan.endpoint_name}), then deploy again.",
                    )
                delete_part(context, "config", name)  # ours, unused: replaced below
                found = None
            else:
                arns[what] = arn
                reattached = what == "endpoint"
        if found is None:
            arns[what] = _create(context, what, plan, tags)
        record = next(
            r for r in registry.resources() if r.kind == _KINDS[what] and r.identifier == name
        )
        details = {k: v for k, v in record.details.items() if k != PENDING_KEY}
        registry.add_resource(replace(record, details={**details, "arn": arns[what]}))
    return arns, reattached


def _forget_absent(
    context: AwsContext, registry: Registry, names: dict[Part, str], run_id: str
) -> None:
    """Forget this run's pending entries of the parts that do not exist, or exist but are not
    this run's (someone else's of that name: never to be recorded, nor deleted, as ours).
    Looked up, so that nothing this run made is ever forgotten."""
    for what, name in names.items():
        pending = any(
            r.kind == _KINDS[what]
            and r.identifier == name
            and r.run_id == run_id
            and r.details.get(PENDING_KEY)
            for r in registry.resources()
        )
        if not pending:
            continue
        found = find_part(context, what, name)
        arn = str((found or {}).get(ARN_KEYS[what], ""))
        if found is None or not arn or tags_of(context, arn).get(RUN_TAG) != run_id:
            registry.remove_resource(_KINDS[what], name)


def _taken_by_another_run(
    registry: Registry, names: dict[Part, str], run_id: str
) -> ConflictError | None:
    """The error when another run recorded one of these names (nothing is written then)."""
    for what, name in names.items():
        for record in registry.resources():
            if (
                record.kind == _KINDS[what]
                and record.identifier == name
                and (record.run_id != run_id)
            ):
                return ConflictError(
                    f"The SageMaker {what} name '{name}' belongs to bedrock-tune run "
                    f"{record.run_id}; nothing was created or changed.",
                    hint="Choose another endpoint name (--name), or delete that run's endpoint "
                    "first (bedrock-tune endpoint delete).",
                )
    return None


def deploy_once(
    context: AwsContext,
    registry: Registry,
    plan: EndpointPlan,
    run_id: str,
    run: Run,
    price: Price,
    *,
    creator_arn: str | None = None,
) -> Deployed:
    """Create the model, the endpoint config and the endpoint of `plan` (or re-attach to what an
    earlier deploy of this run made), recording each before it is created (module docstring).

    Raises:
        ValidationError: the plan would be refused (nothing sent).
        ConflictError: a part of that name exists that this run did not make.
        QuotaExceededError: no quota for the instance type (which quota, how to raise it).
    """
    problems = check_plan(plan)
    if problems:
        raise ValidationError(
            "The endpoint cannot be deployed:\n" + "\n".join(f"- {p}" for p in problems),
            hint="Fix the flags above; nothing was sent.",
        )
    registry.check()  # what is created must be recorded: a damaged registry stops us first
    names: dict[Part, str] = {
        "model": plan.model_name,
        "config": plan.config_name,
        "endpoint": plan.endpoint_name,
    }
    taken = _taken_by_another_run(registry, names, run_id)
    if taken is not None:
        raise taken
    run = replace(
        run,
        endpoint_name=plan.endpoint_name,
        endpoint_source=plan.source.key,
        endpoint_instance_type=plan.instance_type,
        serving_kind=ServingKind.SAGEMAKER_ENDPOINT,
    )
    registry.save_run(run_id, run)
    shared = {"endpoint": plan.endpoint_name, "source": plan.source.key}
    for what, name in names.items():
        extra = (
            {
                **price_details(price, plan.instance_count),
                "instance_type": plan.instance_type,
                "instance_count": plan.instance_count,
            }
            if what == "endpoint"
            else {}
        )
        _record(registry, what, name, run, run_id, {**shared, **extra})
    owner = {**ownership_tags(registry.install_id(), creator_arn), RUN_TAG: run_id, **plan.tags}
    tags = [{"Key": k, "Value": v} for k, v in {"bedrock-tune:managed": "true", **owner}.items()]
    try:
        arns, reattached = _create_parts(context, registry, plan, names, run_id, tags)
    except BedrockTuneError as error:
        if isinstance(error, ConflictError) or error_code(error) in REFUSALS:
            # Refused: what does not exist is forgotten (a pending endpoint would count as
            # billing); what exists stays recorded for teardown or the next deploy.
            _forget_absent(context, registry, names, run_id)
            if error_code(error) == "ResourceLimitExceeded":
                raise quota_error(error, plan.instance_type, context.region) from error
        raise
    run = replace(run, serving_arn=arns["endpoint"], serving_status=ServingStatus.CREATING)
    registry.save_run(run_id, run)
    return Deployed(run_id, run, plan.endpoint_name, arns["endpoint"], reattached)


def run_without_endpoint(run: Run, name: str) -> Run:
    """The run once the endpoint `name` is gone (the same run when it does not serve there)."""
    if run.endpoint_name != name:
        return run
    return replace(
        run,
        endpoint_name=None,
        serving_kind=None,
        serving_arn=None,
        serving_status=None,
        chatted_with=None if run.chatted_with == run.serving_arn else run.chatted_with,
    )


def _made_here(registry: Registry, context: AwsContext, name: str, arn: str) -> bool:
    """Whether this install made the endpoint `name`: its registry records it, or its tags
    carry this install's id."""
    recorded = any(
        r.kind == kinds.ENDPOINT and r.identifier == name and r.region == context.region
        for r in registry.resources()
    )
    return recorded or tags_of(context, arn).get(INSTALL_TAG) == registry.install_id()


def delete_endpoint(context: AwsContext, registry: Registry, name: str) -> list[str]:
    """Delete an endpoint this install made, then its endpoint config and model when they are
    this install's too; one sentence per part. Each deletion is forgotten in the registry at
    once (and the runs serving there forget the endpoint).

    Raises:
        NotFoundError: no endpoint of that name and nothing recorded of it.
        ConflictError: bedrock-tune (this install) did not make it: it is left alone.
    """
    found = find_part(context, "endpoint", name)
    config = f"{name}-config"
    model = f"{name}-model"
    if found is not None:
        if not _made_here(registry, context, name, str(found.get("EndpointArn", ""))):
            raise ConflictError(
                f"The endpoint {name} was not made by this bedrock-tune install: it is left alone.",
                hint="Delete it in the SageMaker console if it is yours to delete.",
            )
        config = str(found.get("EndpointConfigName") or config)
    said: list[str] = []
    recorded = {(r.kind, r.identifier) for r in registry.resources()}
    if found is None and (kinds.ENDPOINT, name) not in recorded:
        raise NotFoundError(
            f"There is no SageMaker endpoint '{name}' in {context.region}, and the registry "
            "records none.",
            hint="`bedrock-tune teardown --list` shows what bedrock-tune made.",
        )
    gone = delete_part(context, "endpoint", name) if found is not None else False
    said.append(f"Deleted the endpoint {name}: its billing stops." if gone else f"{name} was gone.")
    registry.remove_resource(
        kinds.ENDPOINT, name, update_runs=lambda run: run_without_endpoint(run, name)
    )
    parts: tuple[tuple[Part, str], ...] = (("config", config), ("model", model))
    for what, part in parts:
        kind = _KINDS[what]
        part_found = find_part(context, what, part)
        ours = (kind, part) in recorded or (
            part_found is not None
            and tags_of(context, str(part_found.get(ARN_KEYS[what]))).get(INSTALL_TAG)
            == registry.install_id()
        )
        if not ours:
            continue
        if part_found is not None:
            delete_part(context, what, part)
            said.append(f"Deleted the {'endpoint config' if what == 'config' else 'model'} {part}.")
        registry.remove_resource(kind, part)
    return said
