"""Reading what exists: the bucket, the role, a KMS key, and the caller's own permissions.

Used by `core/infra.py` to plan and to verify. Every call goes through `aws_call`; answers that
mean "not there" (NoSuchEntity, NoSuchBucketPolicy...) become None, anything else is raised as our
error. The preflight asks IAM's policy simulator and never fails a plan: where it cannot be asked
(not allowed, not an IAM principal, not implemented by an emulator) it says so.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

from core.aws import AwsContext, bucket_owner
from core.errors import BedrockTuneError, aws_call, error_code
from core.infra.policies import POLICY_NAME, decode_policy
from core.ownership import MANAGED_TAG, origin_of
from core.registry import Registry

_BUCKET_MISSING = {"404", "NoSuchBucket", "NotFound"}
_BUCKET_FORBIDDEN = {"403", "AccessDenied", "Forbidden"}


@dataclass(frozen=True)
class Preflight:
    """The caller's own permissions, as IAM's policy simulator sees them."""

    checked: bool
    denied: tuple[str, ...] = ()
    """Actions the simulator says the caller may not perform."""
    note: str = ""


@dataclass(frozen=True)
class BucketState:
    exists: bool
    region: str | None = None
    foreign: str | None = None
    """Why the bucket cannot be ours (owned elsewhere, or no access)."""
    public_access_block: dict[str, Any] | None = None
    encryption: dict[str, Any] | None = None
    policy: dict[str, Any] | None = None
    tags: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class RoleState:
    exists: bool
    arn: str = ""
    trust: dict[str, Any] | None = None
    policy: dict[str, Any] | None = None
    tags: dict[str, str] = field(default_factory=dict)


_T = TypeVar("_T")


def optional(context: str, missing: Collection[str], call: Callable[[], _T]) -> _T | None:
    """`call()`, or None when AWS answers with one of the `missing` error codes."""
    try:
        with aws_call(context):
            return call()
    except BedrockTuneError as error:
        if error_code(error) in missing:
            return None
        raise


def inspect_bucket(context: AwsContext, name: str, account_id: str, region: str) -> BucketState:
    s3 = context.client("s3", region=region)
    owner = bucket_owner(account_id)
    try:
        with aws_call(f"looking for the bucket {name}"):
            head = s3.head_bucket(Bucket=name, **owner)
    except BedrockTuneError as error:
        code = error_code(error)
        if code in _BUCKET_MISSING:
            return BucketState(exists=False)
        if code in _BUCKET_FORBIDDEN:
            return BucketState(
                exists=True,
                foreign="it exists but belongs to another AWS account (or you may not use it)",
            )
        raise
    headers = head.get("ResponseMetadata", {}).get("HTTPHeaders", {})
    bucket_region = head.get("BucketRegion") or headers.get("x-amz-bucket-region")
    # HeadBucket with ExpectedBucketOwner already refuses another account's bucket on AWS; the
    # list of our own buckets is a second opinion (and the only one some emulators give).
    listed = optional(
        "listing your buckets", {"AccessDenied", "403"}, lambda: s3.list_buckets(Prefix=name)
    )
    if listed is not None and name not in {b.get("Name") for b in listed.get("Buckets", [])}:
        return BucketState(
            exists=True, region=bucket_region, foreign="the name is taken by another AWS account"
        )
    if bucket_region != region:
        return BucketState(exists=True, region=bucket_region)
    block = optional(
        f"reading the public access block of {name}",
        {"NoSuchPublicAccessBlockConfiguration"},
        lambda: s3.get_public_access_block(Bucket=name, **owner),
    )
    encryption = optional(
        f"reading the default encryption of {name}",
        {"ServerSideEncryptionConfigurationNotFoundError"},
        lambda: s3.get_bucket_encryption(Bucket=name, **owner),
    )
    policy = optional(
        f"reading the bucket policy of {name}",
        {"NoSuchBucketPolicy"},
        lambda: s3.get_bucket_policy(Bucket=name, **owner),
    )
    tagging = optional(
        f"reading the tags of {name}",
        {"NoSuchTagSet"},
        lambda: s3.get_bucket_tagging(Bucket=name, **owner),
    )
    configuration = block.get("PublicAccessBlockConfiguration") if block else None
    sse = encryption.get("ServerSideEncryptionConfiguration") if encryption else None
    rules = sse.get("Rules", []) if sse else []
    return BucketState(
        exists=True,
        region=bucket_region,
        public_access_block=dict(configuration) if configuration is not None else None,
        encryption=dict(rules[0]) if rules else None,
        policy=json.loads(policy["Policy"]) if policy else None,
        tags={t["Key"]: t["Value"] for t in tagging.get("TagSet", [])} if tagging else {},
    )


def inspect_role(context: AwsContext, name: str) -> RoleState:
    iam = context.client("iam")
    found = optional(
        f"looking for the IAM role {name}", {"NoSuchEntity"}, lambda: iam.get_role(RoleName=name)
    )
    if found is None:
        return RoleState(exists=False)
    role = found["Role"]
    policy = optional(
        f"reading the inline policy {POLICY_NAME} of {name}",
        {"NoSuchEntity"},
        lambda: iam.get_role_policy(RoleName=name, PolicyName=POLICY_NAME),
    )
    return RoleState(
        exists=True,
        arn=str(role["Arn"]),
        trust=decode_policy(role.get("AssumeRolePolicyDocument")),
        policy=decode_policy(policy["PolicyDocument"]) if policy else None,
        tags={t["Key"]: t["Value"] for t in role.get("Tags", [])},
    )


def resolve_key(context: AwsContext, key: str, region: str) -> tuple[str | None, str | None]:
    """(key ARN, None) or (None, why it cannot be used)."""
    arn_region = key.split(":")[3] if key.startswith("arn:") else region
    if arn_region != region:
        return None, (
            f"the KMS key {key} is in {arn_region}; the bucket and the job are in {region}, "
            "and S3 default encryption needs a key in the bucket's region"
        )
    found = optional(
        f"looking up the KMS key {key}",
        {"NotFoundException"},
        lambda: context.client("kms", region=region).describe_key(KeyId=key),
    )
    if found is None:
        return None, f"the KMS key {key} does not exist in {region}"
    metadata = found["KeyMetadata"]
    if metadata.get("KeyState", "Enabled") != "Enabled":
        return None, f"the KMS key {key} is {metadata['KeyState']}, not Enabled"
    return str(metadata["Arn"]), None


def managed(tags: dict[str, str]) -> bool:
    """Tagged as made by some bedrock-tune (maybe another install: see `made_here`)."""
    return tags.get(MANAGED_TAG[0]) == MANAGED_TAG[1]


def made_here(tags: dict[str, str], registry: Registry | None, kind: str, identifier: str) -> bool:
    """Whether this install made the resource: its tags carry this install's id, or the
    registry records it as created by us. A resource merely tagged `managed` by another
    install is not ours (teardown never deletes it unasked)."""
    install = registry.install_id() if registry is not None else None
    return origin_of(tags).made_by(install) or recorded_as_ours(registry, kind, identifier)


def recorded_as_ours(registry: Registry | None, kind: str, identifier: str) -> bool:
    if registry is None:
        return False
    return any(
        r.kind == kind and r.identifier == identifier and r.created_by_us
        for r in registry.resources()
    )


def preflight(
    context: AwsContext,
    principal_arn: str | None,
    wanted: Sequence[tuple[Sequence[str], str]],
) -> Preflight:
    """Ask IAM's policy simulator whether the caller may make each call; never fail on it.

    Args:
        principal_arn: the caller (asked of STS when None); an assumed-role session is mapped
            to its role.
        wanted: (IAM actions, resource ARN) pairs.
    """
    try:
        source = _simulation_source(context, principal_arn)
        if source is None:
            return Preflight(False, note="the caller is not an IAM user or role")
        denied: list[str] = []
        iam = context.client("iam")
        for actions, resource in wanted:
            with aws_call("simulating your permissions"):
                answer = iam.simulate_principal_policy(
                    PolicySourceArn=source,
                    ActionNames=sorted(set(actions)),
                    ResourceArns=[resource],
                )
            for result in answer.get("EvaluationResults", []):
                if result.get("EvalDecision") != "allowed":
                    denied.append(str(result["EvalActionName"]))
        return Preflight(True, tuple(dict.fromkeys(denied)))
    except Exception as error:  # the simulator is optional: denied, absent, or unimplemented
        reason = getattr(error, "message", "") or type(error).__name__
        return Preflight(False, note=f"the policy simulator could not be asked ({reason})")


def _simulation_source(context: AwsContext, principal_arn: str | None) -> str | None:
    arn = principal_arn or context.whoami().arn
    parts = arn.split(":", 5)
    if len(parts) < 6:
        return None
    resource = parts[5]
    if parts[2] == "iam" and resource.startswith(("user/", "role/")):
        return arn
    if parts[2] == "sts" and resource.startswith("assumed-role/"):
        role_name = resource.split("/")[1]
        found = optional(
            f"reading your role {role_name}",
            {"NoSuchEntity"},
            lambda: context.client("iam").get_role(RoleName=role_name),
        )
        if found:
            return str(found["Role"]["Arn"])
        return f"arn:{parts[1]}:iam::{parts[4]}:role/{role_name}"
    return None
