"""Creating a provisioned throughput or a deployment once, whatever crashes.

The order that makes it safe (a kill at any point loses nothing and buys nothing twice):

1. Before CreateProvisionedModelThroughput / CreateCustomModelDeployment is sent, a *pending*
   entry is written to the registry: kind, name (its identifier: both delete calls take a name),
   the client request token, billable. From then on the resource, if it comes to exist, is in the
   registry (teardown can delete it by name).
2. The create call carries that token. Bedrock ignores a request whose token matches an earlier
   one and answers with the resource that request made (the `clientRequestToken` of both
   operations is an `idempotencyToken` in botocore's model), so repeating it is safe.
3. The answer's ARN replaces the pending entry in one registry write.

A repeated command (or the deploy step on resume) finds the pending entry of the same kind and
name (`saved_intent`) and sends the same token again: it re-attaches to the resource the
interrupted run made, or creates it if the first request never reached AWS.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, replace
from typing import Any

from core.aws import AwsContext
from core.errors import ConflictError, NotFoundError, QuotaExceededError, ValidationError
from core.faults import write_point
from core.ownership import ownership_tags
from core.registry import Registry, ResourceRecord
from core.serving.deploy import Kind, create_deployment, create_throughput

TOKEN_KEY = "client_request_token"
PENDING_KEY = "pending"


@dataclass(frozen=True)
class ServingIntent:
    """What is about to be created, and the token that makes asking again safe."""

    kind: Kind
    name: str
    model_arn: str
    token: str


def new_intent(kind: Kind, name: str, model_arn: str) -> ServingIntent:
    """A first attempt: a fresh token (at most 256 characters; a UUID)."""
    return ServingIntent(kind, name, model_arn, str(uuid.uuid4()))


def saved_intent(
    registry: Registry, kind: Kind, name: str, region: str, run_id: str | None = None
) -> ServingIntent | None:
    """The intent an earlier create saved in the registry for this kind and name in this region
    (and run, when given), pending or done; None when there is none. Sending it again
    re-attaches to what it made."""
    for record in registry.resources():
        details = record.details
        if (
            record.kind == kind
            and record.region == region
            and details.get("name") == name
            and (run_id is None or record.run_id == run_id)
            and isinstance(details.get(TOKEN_KEY), str)
        ):
            return ServingIntent(kind, name, str(details.get("model_arn", "")), details[TOKEN_KEY])
    return None


def saved_for_run(registry: Registry, run_id: str) -> ServingIntent | None:
    """The intent a create of run `run_id` saved (any kind or name; pending or done), or None:
    what the deploy step re-attaches to when the run does not know its ARN yet."""
    for record in registry.resources():
        details = record.details
        if (
            record.run_id == run_id
            and record.kind in ("provisioned-throughput", "custom-model-deployment")
            and isinstance(details.get(TOKEN_KEY), str)
        ):
            kind: Kind = (
                "provisioned-throughput"
                if record.kind == "provisioned-throughput"
                else "custom-model-deployment"
            )
            return ServingIntent(
                kind,
                str(details.get("name")),
                str(details.get("model_arn", "")),
                details[TOKEN_KEY],
            )
    return None


def create_once(
    context: AwsContext,
    registry: Registry,
    intent: ServingIntent,
    record: ResourceRecord,
    *,
    creator_arn: str | None = None,
) -> str:
    """Create the throughput or deployment of `intent` (or re-attach to the one its token made),
    with the registry always holding it; returns its ARN.

    Args:
        record: the entry to keep once it exists (its identifier is replaced by the ARN); billable.
        creator_arn: the identity creating it; with this install's id it tags the resource
            (core/ownership.py), so teardown knows it for this install's even unrecorded.

    Raises:
        ConflictError: a resource of that name exists that this token did not make (someone
            else's, or an earlier deploy's): nothing was created.
    """
    details: dict[str, Any] = {
        **record.details,
        "name": intent.name,
        "model_arn": intent.model_arn,
        TOKEN_KEY: intent.token,
    }
    pending = replace(record, identifier=intent.name, details={**details, PENDING_KEY: True})
    registry.add_resource(pending)  # (1) before anything is sent
    write_point("deploy.pending-recorded")
    owner = ownership_tags(registry.install_id(), creator_arn)
    create = create_throughput if intent.kind == "provisioned-throughput" else create_deployment
    try:
        arn = create(context, intent.model_arn, intent.name, intent.token, owner_tags=owner)
    except ConflictError as error:
        # Another token made the resource of this name: it is not ours to record.
        registry.remove_resource(pending.kind, pending.identifier)
        raise ConflictError(
            f"A {intent.kind.replace('-', ' ')} named '{intent.name}' already exists and was "
            "not created by this deploy (another request token): it is someone else's, or "
            "from an earlier deploy.",
            hint="Choose another name (--name), or undeploy that one first.",
        ) from error
    except (ValidationError, QuotaExceededError, NotFoundError):
        # AWS refused the request: nothing exists. Any other failure (a kill, a dropped
        # connection, a server error) may have come after AWS made it, so the pending entry and
        # its token stay for the next attempt.
        registry.remove_resource(pending.kind, pending.identifier)
        raise
    write_point("deploy.created")  # it exists (billable) and only the pending entry says so
    done = replace(record, identifier=arn, details=details)
    registry.replace_resource(pending.kind, pending.identifier, done)  # (3)
    write_point("deploy.recorded")
    return arn
