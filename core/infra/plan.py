"""The bucket and the service role a customization job needs: planned, shown, then made.

`plan` reads what exists and says, for the S3 bucket and the IAM service role, whether each
will be created, reused as it is, or updated, with the exact JSON of every policy. It refuses
bad names before any call, and explains what cannot be fixed (a bucket in another region, a
bucket name another account owns). `apply` makes the plan real, one logged call at a time, and is
idempotent: run twice, it creates nothing twice; after a crash (say between CreateRole and
PutRolePolicy) the next plan sees what is missing and apply completes it. `verify` reads back
what exists and checks it against what bedrock-tune wants.

What bedrock-tune wants (reference/bedrock.md §5):
- the bucket, in the job's region, with Block Public Access fully on, default encryption
  (SSE-S3, or SSE-KMS with the user's key), a bucket policy that denies any non-TLS request, and
  the tag `bedrock-tune:managed=true` when bedrock-tune made it;
- the role, trusted by `bedrock.amazonaws.com` only for this account's model customization jobs
  in this region (`aws:SourceAccount`, `aws:SourceArn`), with one inline policy that can read
  the data folders and write the output folders under the bucket's prefix, and use the KMS key
  when there is one. No statement names `*` as a resource.

Every resource made or reused is written to the registry at once (teardown relies on
`kind`, `identifier`, `created_by_us` and `details["policy_name"]`).

This module plans and verifies and is the one to import; its parts live beside it:
`infra_policies` (names and the JSON documents), `infra_state` (reading what exists, the
permission preflight), `infra_types` (the plan's data and errors), `infra_apply` (apply).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from core.aws import AwsContext, partition_of
from core.infra.apply import apply
from core.infra.policies import (
    DEFAULT_PREFIX,
    POLICY_NAME,
    PUBLIC_ACCESS_BLOCK,
    RolePurpose,
    bucket_name_problems,
    check_bucket_name,
    check_kms_key,
    check_role_name,
    default_bucket_name,
    default_role_name,
    encryption_rule,
    has_tls_deny,
    import_permissions_policy,
    merge_statement,
    normalize_prefix,
    permissions_policy,
    teacher_arns_for,
    teacher_arns_in,
    tls_statement,
    trust_policy,
    trust_problem,
    trust_statement,
)
from core.infra.state import (
    BucketState,
    Preflight,
    RoleState,
    inspect_bucket,
    inspect_role,
    made_here,
    managed,
    preflight,
    resolve_key,
)
from core.infra.types import (
    BucketTakenError,
    Change,
    Check,
    InfraBlockedError,
    InfraEvent,
    InfraPlan,
    InfraResult,
    ResourcePlan,
    RoleCreationDeniedError,
    Verification,
)
from core.ownership import MANAGED_TAG, ownership_tags
from core.registry import Registry

__all__ = [
    "DEFAULT_PREFIX",
    "POLICY_NAME",
    "PUBLIC_ACCESS_BLOCK",
    "BucketTakenError",
    "Change",
    "Check",
    "InfraBlockedError",
    "InfraEvent",
    "InfraPlan",
    "InfraResult",
    "Preflight",
    "ResourcePlan",
    "RoleCreationDeniedError",
    "Verification",
    "apply",
    "bucket_name_problems",
    "check_bucket_name",
    "default_bucket_name",
    "default_role_name",
    "permissions_policy",
    "plan",
    "trust_policy",
    "verify",
]


# --------------------------------------------------------------------------- plan


def plan(
    context: AwsContext,
    account_id: str,
    region: str,
    *,
    bucket: str | None = None,
    role: str | None = None,
    kms_key: str | None = None,
    prefix: str = DEFAULT_PREFIX,
    principal_arn: str | None = None,
    registry: Registry | None = None,
    preflight_check: bool = True,
    teachers: Sequence[str] = (),
    purpose: RolePurpose = "customization",
    model_sources: tuple[str, ...] = (),
) -> InfraPlan:
    """Read what exists and decide, for the bucket and the role, create / reuse / update.

    Names are checked before any call. Nothing is changed.

    Args:
        context: where to call AWS.
        account_id, region: the account and the job's region (the bucket must be there too).
        bucket, role: names (default `default_bucket_name`, `default_role_name`).
        kms_key: a KMS key id / ARN / alias for SSE-KMS (default SSE-S3).
        prefix: the key prefix of the run folders.
        principal_arn: the caller (for the permission preflight; asked of STS when None).
        registry: to see whether an existing resource was made by bedrock-tune.
        preflight_check: ask IAM's policy simulator whether the caller may make the changes.
        teachers: distillation teachers (model ids, inference profile ids or ARNs) the role
            must be able to invoke; teachers the role's policy already allows are kept.
        purpose: `import` plans the Custom Model Import role (`bedrock-tune-import-<region>`,
            trusted by import jobs, reading the uploaded model folders), `sagemaker` the
            SageMaker execution role (`bedrock-tune-sagemaker-<region>`), instead of the
            customization role.
        model_sources: `s3://` model folders outside the bucket that imports read from.

    Raises:
        ValidationError: a bad bucket name, role name, prefix or KMS key, with the rule.
    """
    bucket = (bucket or default_bucket_name(account_id, region)).strip()
    role = (role or default_role_name(region, purpose)).strip()
    check_bucket_name(bucket)
    check_role_name(role)
    prefix = normalize_prefix(prefix)
    if kms_key:
        check_kms_key(kms_key.strip())
    partition = partition_of(region)
    blockers: list[str] = []
    notes: list[str] = []

    kms_key_arn: str | None = None
    if kms_key:
        kms_key_arn, why = resolve_key(context, kms_key.strip(), region)
        if why:
            blockers.append(why)
        else:
            notes.append(
                f"The key policy of {kms_key_arn} must let the role use the key (or delegate to "
                "IAM policies); bedrock-tune cannot check or change key policies."
            )

    # What a new bucket or role is tagged with: bedrock-tune's, this install's, the creator's.
    owner_tags = ownership_tags(registry.install_id() if registry else None, principal_arn)
    bucket_state = inspect_bucket(context, bucket, account_id, region)
    data_key_arn = kms_key_arn
    bucket_plan = _plan_bucket(
        bucket, region, bucket_state, kms_key_arn, registry, blockers, partition, owner_tags
    )
    if bucket_state.exists and not kms_key_arn and bucket_state.encryption:
        by_default = bucket_state.encryption.get("ApplyServerSideEncryptionByDefault", {})
        if by_default.get("SSEAlgorithm", "").startswith("aws:kms"):
            # The bucket already encrypts with KMS: keep it, and let the role use that key.
            key = by_default.get("KMSMasterKeyID") or "alias/aws/s3"
            data_key_arn, why = resolve_key(context, key, region)
            if why:
                blockers.append(f"the bucket encrypts with {key}, but {why}")
            else:
                notes.append(f"The bucket encrypts with the KMS key {data_key_arn}; it is kept.")

    role_state = inspect_role(context, role)
    teacher_arns = _teacher_arns(role_state.policy, teachers, account_id, region)
    wanted_policy = _role_policy(
        purpose, bucket, prefix, region, account_id, data_key_arn, teacher_arns, model_sources
    )
    role_plan = _plan_role(
        role,
        account_id,
        region,
        bucket,
        prefix,
        role_state,
        wanted_policy,
        registry,
        purpose,
        owner_tags,
    )
    if role_plan.action == "create":
        notes.append(
            f"A new role can take a few seconds before {_assumer(purpose)} is able to assume it."
        )

    checked = Preflight(False, note="not asked")
    if preflight_check:
        checked = preflight(context, principal_arn, _needed_actions(bucket_plan, role_plan, prefix))
    return InfraPlan(
        account_id=account_id,
        region=region,
        prefix=prefix,
        bucket=bucket_plan,
        role=role_plan,
        kms_key_arn=kms_key_arn,
        data_key_arn=data_key_arn,
        blockers=tuple(blockers),
        notes=tuple(notes),
        preflight=checked,
        purpose=purpose,
    )


def _plan_bucket(
    name: str,
    region: str,
    state: BucketState,
    kms_key_arn: str | None,
    registry: Registry | None,
    blockers: list[str],
    partition: str,
    owner_tags: dict[str, str],
) -> ResourcePlan:
    arn = f"arn:{partition}:s3:::{name}"
    wanted_encryption = encryption_rule(kms_key_arn)
    if not state.exists:
        return ResourcePlan(
            "s3-bucket",
            name,
            arn,
            "create",
            (
                Change("s3:CreateBucket", f"create {name} in {region}"),
                Change("s3:PutBucketTagging", f"tag it {MANAGED_TAG[0]}={MANAGED_TAG[1]}"),
                Change("s3:PutBucketPublicAccessBlock", "turn Block Public Access fully on"),
                Change("s3:PutEncryptionConfiguration", _encryption_label(kms_key_arn)),
                Change("s3:PutBucketPolicy", "deny every request not made over TLS"),
            ),
            documents={
                "public access block": PUBLIC_ACCESS_BLOCK,
                "default encryption": wanted_encryption,
                "bucket policy": merge_statement(None, tls_statement(name, region)),
                "tags": owner_tags,
            },
            created_by_us=True,
        )
    if state.foreign:
        blockers.append(
            f"The bucket name '{name}' cannot be used: {state.foreign}. Bucket names are global "
            "across all AWS accounts; choose another name (the default "
            "bedrock-tune-<account>-<region> is yours alone)."
        )
        return ResourcePlan("s3-bucket", name, arn, "reuse", (), (state.foreign,))
    if state.region != region:
        blockers.append(
            f"The bucket '{name}' is in {state.region}, but the job runs in {region}: Bedrock "
            "reads training data only from a bucket in the job's region. Choose another "
            f"bucket (for example the default for {region}) or switch the region."
        )
        return ResourcePlan(
            "s3-bucket", name, arn, "reuse", (), (f"it is in {state.region}, not {region}",)
        )
    ours = made_here(state.tags, registry, "s3-bucket", name)
    changes: list[Change] = []
    problems: list[str] = []
    if state.public_access_block != PUBLIC_ACCESS_BLOCK:
        problems.append("Block Public Access is not fully on")
        changes.append(Change("s3:PutBucketPublicAccessBlock", "turn Block Public Access fully on"))
    encryption = state.encryption or {}
    by_default = encryption.get("ApplyServerSideEncryptionByDefault", {})
    if kms_key_arn:
        current_key = str(by_default.get("KMSMasterKeyID", ""))
        key_tail = kms_key_arn.rsplit("/", 1)[-1]
        same_key = current_key == kms_key_arn or (current_key and current_key == key_tail)
        if not (by_default.get("SSEAlgorithm", "").startswith("aws:kms") and same_key):
            problems.append("default encryption does not use your KMS key")
            changes.append(Change("s3:PutEncryptionConfiguration", _encryption_label(kms_key_arn)))
    elif not by_default.get("SSEAlgorithm"):
        problems.append("it has no default encryption")
        changes.append(Change("s3:PutEncryptionConfiguration", _encryption_label(None)))
    if not has_tls_deny(state.policy):
        problems.append("its bucket policy does not deny requests made without TLS")
        changes.append(
            Change("s3:PutBucketPolicy", "add a statement denying requests made without TLS")
        )
    if ours and not managed(state.tags):
        changes.append(Change("s3:PutBucketTagging", f"tag it {MANAGED_TAG[0]}={MANAGED_TAG[1]}"))
    policy = (
        state.policy
        if has_tls_deny(state.policy)
        else merge_statement(state.policy, tls_statement(name, region))
    )
    return ResourcePlan(
        "s3-bucket",
        name,
        arn,
        "update" if changes else "reuse",
        tuple(changes),
        tuple(problems),
        documents={
            "public access block": PUBLIC_ACCESS_BLOCK,
            "default encryption": wanted_encryption
            if any(c.operation == "s3:PutEncryptionConfiguration" for c in changes)
            else encryption,
            "bucket policy": policy,
            "tags": {**state.tags, **({MANAGED_TAG[0]: MANAGED_TAG[1]} if ours else {})},
        },
        created_by_us=ours,
    )


def _needed_actions(
    bucket: ResourcePlan, role: ResourcePlan, prefix: str
) -> list[tuple[list[str], str]]:
    """The calls apply, upload and launch will make, as (actions, resource) for the simulator."""
    role_actions = [c.operation for c in role.changes] + ["iam:GetRole", "iam:PassRole"]
    if role.action == "create":
        role_actions.append("iam:TagRole")  # CreateRole with tags needs it
    return [
        (
            [
                *(c.operation for c in bucket.changes),
                "s3:ListBucketMultipartUploads",
                "s3:GetBucketLocation",
            ],
            bucket.arn,
        ),
        (["s3:PutObject", "s3:GetObject", "s3:AbortMultipartUpload"], f"{bucket.arn}/{prefix}/*"),
        (role_actions, role.arn),
    ]


def _encryption_label(kms_key_arn: str | None) -> str:
    if kms_key_arn:
        return f"default encryption SSE-KMS with {kms_key_arn}"
    return "default encryption SSE-S3 (AES256)"


def _role_policy(
    purpose: RolePurpose,
    bucket: str,
    prefix: str,
    region: str,
    account_id: str,
    kms_key_arn: str | None,
    teachers: list[str],
    model_sources: tuple[str, ...],
) -> dict[str, Any]:
    """The inline policy the purpose's role needs."""
    if purpose == "import":
        return import_permissions_policy(bucket, prefix, region, kms_key_arn, model_sources)
    if purpose == "sagemaker":
        from core.sagemaker.role import execution_policy

        return execution_policy(bucket, prefix, region, account_id, kms_key_arn)
    return permissions_policy(bucket, prefix, region, kms_key_arn, teachers)


def _assumer(purpose: RolePurpose) -> str:
    """Which service assumes a role of this purpose."""
    return "SageMaker" if purpose == "sagemaker" else "Bedrock"


def _plan_role(
    name: str,
    account_id: str,
    region: str,
    bucket: str,
    prefix: str,
    state: RoleState,
    wanted_policy: dict[str, Any],
    registry: Registry | None,
    purpose: RolePurpose,
    owner_tags: dict[str, str],
) -> ResourcePlan:
    partition = partition_of(region)
    arn = state.arn or f"arn:{partition}:iam::{account_id}:role/{name}"
    wanted_trust = trust_policy(account_id, region, purpose)
    jobs = {
        "import": "Bedrock import jobs",
        "sagemaker": "SageMaker training and Autopilot jobs and endpoints",
    }.get(purpose, "Bedrock jobs")
    if not state.exists:
        return ResourcePlan(
            "iam-role",
            name,
            arn,
            "create",
            (
                Change("iam:CreateRole", f"create {name}, trusted by {jobs} in {region}"),
                Change("iam:PutRolePolicy", f"attach the inline policy {POLICY_NAME}"),
            ),
            documents={
                "trust policy": wanted_trust,
                "permissions policy": wanted_policy,
                "tags": owner_tags,
            },
            created_by_us=True,
        )
    ours = made_here(state.tags, registry, "iam-role", name)
    changes: list[Change] = []
    problems: list[str] = []
    trust = state.trust
    why = trust_problem(state.trust, account_id, region, purpose)
    if why:
        problems.append(f"Bedrock cannot assume it: {why}")
        trust = merge_statement(
            state.trust, trust_statement(partition, account_id, region, purpose)
        )
        kind = {"import": "Bedrock import jobs", "sagemaker": "SageMaker training jobs"}.get(
            purpose, "Bedrock customization jobs"
        )
        changes.append(
            Change(
                "iam:UpdateAssumeRolePolicy",
                f"update the trust policy: add a statement that lets {kind} of this "
                "account and region assume it (other statements are kept)",
            )
        )
    if state.policy != wanted_policy:
        problems.append(
            f"it has no S3 access to {bucket}/{prefix}/ for Bedrock"
            if state.policy is None
            else f"its inline policy {POLICY_NAME} differs from the one this bucket needs"
        )
        changes.append(Change("iam:PutRolePolicy", f"put the inline policy {POLICY_NAME}"))
    return ResourcePlan(
        "iam-role",
        name,
        arn,
        "update" if changes else "reuse",
        tuple(changes),
        tuple(problems),
        documents={"trust policy": trust, "permissions policy": wanted_policy},
        created_by_us=ours,
    )


def _teacher_arns(
    policy: dict[str, Any] | None, teachers: Sequence[str], account_id: str, region: str
) -> list[str]:
    """The teacher resources the role's policy keeps (already there) plus `teachers`'."""
    wanted = set(teacher_arns_in(policy))
    for teacher in teachers:
        wanted.update(teacher_arns_for(teacher, account_id, region))
    return sorted(wanted)


# --------------------------------------------------------------------------- verify


def verify(
    context: AwsContext,
    account_id: str,
    region: str,
    *,
    bucket: str,
    role: str,
    kms_key_arn: str | None = None,
    prefix: str = DEFAULT_PREFIX,
    teachers: Sequence[str] = (),
    purpose: RolePurpose = "customization",
    model_sources: tuple[str, ...] = (),
) -> Verification:
    """Read the bucket and the role back and check every property bedrock-tune wants.

    `kms_key_arn` is the key the bucket encrypts with and the role may use (a plan's
    `data_key_arn`); None for SSE-S3. `teachers` are distillation teachers the role must be
    able to invoke (teachers its policy already allows are expected to stay).
    """
    check_bucket_name(bucket)
    check_role_name(role)
    prefix = normalize_prefix(prefix)
    checks: list[Check] = []
    state = inspect_bucket(context, bucket, account_id, region)
    checks.append(Check("bucket exists", state.exists and not state.foreign, state.foreign or ""))
    checks.append(Check("bucket region", state.region == region, f"{state.region}"))
    if state.exists and not state.foreign and state.region == region:
        checks.append(
            Check("Block Public Access fully on", state.public_access_block == PUBLIC_ACCESS_BLOCK)
        )
        by_default = (state.encryption or {}).get("ApplyServerSideEncryptionByDefault", {})
        algorithm = by_default.get("SSEAlgorithm", "")
        wanted = "aws:kms" if kms_key_arn else ""
        checks.append(
            Check(
                "default encryption",
                algorithm.startswith(wanted) if wanted else bool(algorithm),
                algorithm or "none",
            )
        )
        checks.append(Check("bucket policy denies non-TLS requests", has_tls_deny(state.policy)))
    role_state = inspect_role(context, role)
    checks.append(Check("role exists", role_state.exists, role_state.arn))
    if role_state.exists:
        why = trust_problem(role_state.trust, account_id, region, purpose)
        checks.append(Check(f"{_assumer(purpose)} can assume the role", why is None, why or ""))
        teacher_arns = _teacher_arns(role_state.policy, teachers, account_id, region)
        wanted_policy = _role_policy(
            purpose, bucket, prefix, region, account_id, kms_key_arn, teacher_arns, model_sources
        )
        checks.append(
            Check(f"inline policy {POLICY_NAME}", role_state.policy == wanted_policy, POLICY_NAME)
        )
    return Verification(tuple(checks))
