"""Applying an infrastructure plan: every call logged as it starts and ends, each resource
recorded in the registry the moment it exists, and nothing created twice.

A resource that appeared since the plan was read (a crashed apply, a second window) is reused:
BucketAlreadyOwnedByYou and EntityAlreadyExists are not errors here. CreateRole denied becomes
`RoleCreationDeniedError` with the JSON an administrator needs; any other denial names the missing
action. Throttling is retried by botocore (standard mode, `AwsContext`), then reported.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Collection, Iterator
from contextlib import contextmanager
from dataclasses import replace
from typing import Any

from core.aws import AwsContext, bucket_owner, partition_of
from core.errors import AccessDeniedError, BedrockTuneError, aws_call, error_code
from core.infra.policies import (
    POLICY_NAME,
    PUBLIC_ACCESS_BLOCK,
    TLS_SID,
    TRUST_SID,
    encryption_rule,
    merge_statement,
    role_description,
    trust_problem,
    trust_statement,
)
from core.infra.state import inspect_bucket, inspect_role, made_here
from core.infra.types import (
    BucketTakenError,
    InfraBlockedError,
    InfraEvent,
    InfraPlan,
    InfraResult,
    RoleCreationDeniedError,
)
from core.ownership import MANAGED_TAG
from core.registry import Registry, ResourceRecord


class _Calls:
    """Makes apply's calls: each logged as it starts and ends, denials named by action."""

    def __init__(self, on_event: Callable[[InfraEvent], None] | None) -> None:
        self.events: list[InfraEvent] = []
        self._on_event = on_event

    def emit(self, event: InfraEvent) -> None:
        self.events.append(event)
        if self._on_event is not None:
            self._on_event(event)

    @contextmanager
    def call(self, operation: str, target: str) -> Iterator[None]:
        self.emit(InfraEvent(operation, target, "start"))
        try:
            with aws_call(f"{operation} on {target}"):
                yield
        except BedrockTuneError as error:
            self.emit(InfraEvent(operation, target, "failed", error.message.splitlines()[0]))
            if isinstance(error, AccessDeniedError) and operation not in error.hint:
                error.hint = f"The missing permission is {operation} on {target}. {error.hint}"
            raise
        self.emit(InfraEvent(operation, target, "ok"))


def apply(
    context: AwsContext,
    plan: InfraPlan,
    registry: Registry,
    run_id: str | None,
    on_event: Callable[[InfraEvent], None] | None = None,
    *,
    only: Collection[str] | None = None,
) -> InfraResult:
    """Make the plan real: create what is missing, fix what is marked "update".

    Idempotent: a resource that already exists is reused (never created twice), and a second
    apply of the same plan repeats only calls that set a value. Each resource is recorded in
    `registry` the moment it exists, so a crash leaves nothing unrecorded.

    Args:
        only: apply just these kinds (`s3-bucket`, `iam-role`), e.g. a "fix the role" button.

    Raises:
        InfraBlockedError: the plan has blockers (nothing is called).
        BucketTakenError: the bucket name belongs to another account.
        RoleCreationDeniedError: CreateRole was denied; the JSON an administrator needs is in
            the message.
        AccessDeniedError: another call was denied; the hint names the missing action.
        RegistryError: the registry cannot be read or is damaged (nothing is called).
    """
    if plan.blockers:
        raise InfraBlockedError(
            "Nothing was created:\n" + "\n".join(f"- {b}" for b in plan.blockers),
            hint="Fix the problems above (another bucket name, region or key), then plan again.",
        )
    registry.check()  # before any call: what is created must be recordable
    calls = _Calls(on_event)
    created: list[str] = []
    if only is None or "s3-bucket" in only:
        _apply_bucket(context, plan, registry, run_id, calls, created)
    role_arn = plan.role.arn
    if only is None or "iam-role" in only:
        role_arn = _apply_role(context, plan, registry, run_id, calls, created)
    return InfraResult(
        bucket=plan.bucket.name,
        region=plan.region,
        role_name=plan.role.name,
        role_arn=role_arn,
        policy_name=POLICY_NAME,
        kms_key_arn=plan.kms_key_arn,
        created=tuple(created),
        events=tuple(calls.events),
    )


def _record(
    registry: Registry,
    plan: InfraPlan,
    run_id: str | None,
    kind: str,
    identifier: str,
    created_by_us: bool,
    details: dict[str, Any],
) -> None:
    """Record a resource; an earlier record keeps its run and date, and "created by us" sticks."""
    earlier = next(
        (r for r in registry.resources() if (r.kind, r.identifier) == (kind, identifier)), None
    )
    record = ResourceRecord(
        kind=kind,
        identifier=identifier,
        region=plan.region,
        account_id=plan.account_id,
        run_id=earlier.run_id if earlier else run_id,
        billable=False,
        created_by_us=created_by_us or bool(earlier and earlier.created_by_us),
        details=details,
    )
    registry.add_resource(replace(record, created=earlier.created) if earlier else record)


def _record_bucket(
    plan: InfraPlan, registry: Registry, run_id: str | None, created_by_us: bool
) -> None:
    details = {
        "arn": plan.bucket.arn,
        "encryption": "SSE-KMS" if plan.kms_key_arn else "SSE-S3",
        "kms_key_arn": plan.kms_key_arn,
        "policy_sid": TLS_SID,
    }
    _record(registry, plan, run_id, "s3-bucket", plan.bucket.name, created_by_us, details)


def _apply_bucket(
    context: AwsContext,
    plan: InfraPlan,
    registry: Registry,
    run_id: str | None,
    calls: _Calls,
    created: list[str],
) -> None:
    bucket = plan.bucket
    s3 = context.client("s3", region=plan.region)
    owner = bucket_owner(plan.account_id)
    ours = bucket.created_by_us
    operations = {c.operation for c in bucket.changes}
    if bucket.action == "create":
        made = True
        try:
            with calls.call("s3:CreateBucket", bucket.name):
                request: dict[str, Any] = {"Bucket": bucket.name}
                if plan.region != "us-east-1":  # us-east-1 refuses a LocationConstraint
                    request["CreateBucketConfiguration"] = {"LocationConstraint": plan.region}
                s3.create_bucket(**request)
        except BedrockTuneError as error:
            code = error_code(error)
            if code == "BucketAlreadyExists":
                raise BucketTakenError(
                    f"The bucket name '{bucket.name}' is taken by another AWS account.",
                    hint="Bucket names are global across all accounts. Choose another name; the "
                    "default bedrock-tune-<account>-<region> is yours alone.",
                ) from error
            if code != "BucketAlreadyOwnedByYou":
                raise
            made = False  # made since the plan was read (e.g. by an apply that crashed)
        if made:
            created.append(f"s3-bucket:{bucket.name}")
        else:
            tags = inspect_bucket(context, bucket.name, plan.account_id, plan.region).tags
            ours = made_here(tags, registry, "s3-bucket", bucket.name)
        # Recorded before it is configured: a crash now still leaves it known to teardown.
        _record_bucket(plan, registry, run_id, ours)
    if "s3:PutBucketTagging" in operations and ours:
        tags = bucket.documents.get("tags") or {MANAGED_TAG[0]: MANAGED_TAG[1]}
        with calls.call("s3:PutBucketTagging", bucket.name):
            s3.put_bucket_tagging(
                Bucket=bucket.name,
                Tagging={"TagSet": [{"Key": k, "Value": v} for k, v in tags.items()]},
                **owner,
            )
    if "s3:PutBucketPublicAccessBlock" in operations:
        with calls.call("s3:PutBucketPublicAccessBlock", bucket.name):
            s3.put_public_access_block(
                Bucket=bucket.name, PublicAccessBlockConfiguration=PUBLIC_ACCESS_BLOCK, **owner
            )
    if "s3:PutEncryptionConfiguration" in operations:
        with calls.call("s3:PutEncryptionConfiguration", bucket.name):
            s3.put_bucket_encryption(
                Bucket=bucket.name,
                ServerSideEncryptionConfiguration={"Rules": [encryption_rule(plan.kms_key_arn)]},
                **owner,
            )
    if "s3:PutBucketPolicy" in operations:
        with calls.call("s3:PutBucketPolicy", bucket.name):
            s3.put_bucket_policy(
                Bucket=bucket.name, Policy=json.dumps(bucket.documents["bucket policy"]), **owner
            )
    if bucket.action != "create":
        _record_bucket(plan, registry, run_id, ours)


def _record_role(
    plan: InfraPlan, registry: Registry, run_id: str | None, arn: str, created_by_us: bool
) -> None:
    details = {"arn": arn, "policy_name": POLICY_NAME, "trust_sid": TRUST_SID}
    _record(registry, plan, run_id, "iam-role", plan.role.name, created_by_us, details)


def _apply_role(
    context: AwsContext,
    plan: InfraPlan,
    registry: Registry,
    run_id: str | None,
    calls: _Calls,
    created: list[str],
) -> str:
    role = plan.role
    iam = context.client("iam")
    trust = role.documents["trust policy"]
    permissions = role.documents["permissions policy"]
    arn = role.arn
    ours = role.created_by_us
    operations = {c.operation for c in role.changes}
    if role.action == "create":
        try:
            with calls.call("iam:CreateRole", role.name):
                answer = iam.create_role(
                    RoleName=role.name,
                    AssumeRolePolicyDocument=json.dumps(trust),
                    Description=role_description(plan.purpose),
                    Tags=[
                        {"Key": k, "Value": v}
                        for k, v in (
                            role.documents.get("tags") or {MANAGED_TAG[0]: MANAGED_TAG[1]}
                        ).items()
                    ],
                )
            arn = str(answer["Role"]["Arn"])
            created.append(f"iam-role:{role.name}")
            ours = True
        except AccessDeniedError as error:
            raise RoleCreationDeniedError(role.name, trust, permissions, error.message) from error
        except BedrockTuneError as error:
            if error_code(error) != "EntityAlreadyExists":
                raise
            # Made since the plan was read: check it like any existing role, and go on.
            state = inspect_role(context, role.name)
            arn = state.arn
            ours = made_here(state.tags, registry, "iam-role", role.name)
            if trust_problem(state.trust, plan.account_id, plan.region, plan.purpose):
                operations.add("iam:UpdateAssumeRolePolicy")
                trust = merge_statement(
                    state.trust,
                    trust_statement(
                        partition_of(plan.region), plan.account_id, plan.region, plan.purpose
                    ),
                )
        # Recorded before the policy is attached: if we crash now, teardown still knows the
        # role, and the next plan sees the missing policy and apply attaches it.
        _record_role(plan, registry, run_id, arn, ours)
    if "iam:UpdateAssumeRolePolicy" in operations:
        with calls.call("iam:UpdateAssumeRolePolicy", role.name):
            iam.update_assume_role_policy(RoleName=role.name, PolicyDocument=json.dumps(trust))
    if "iam:PutRolePolicy" in operations:
        with calls.call("iam:PutRolePolicy", f"{role.name}/{POLICY_NAME}"):
            iam.put_role_policy(
                RoleName=role.name, PolicyName=POLICY_NAME, PolicyDocument=json.dumps(permissions)
            )
    if role.action != "create":
        _record_role(plan, registry, run_id, arn, ours)
    return arn
