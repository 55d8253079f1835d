"""The names and the JSON documents of bedrock-tune's bucket and service role.

Pure functions, no AWS calls: name rules (checked before any call), the role's trust policy and
inline permissions policy, the bucket's TLS-only policy statement, default encryption and public
access block, and the checks that read an existing policy (does it let Bedrock assume the role,
does it deny non-TLS requests). `core/infra.py` plans and applies them.

Sources: reference/bedrock.md §5 (trust policy with `aws:SourceAccount` / `aws:SourceArn`, the
least-privilege S3 statements, KMS); botocore's models for the name patterns.
"""

from __future__ import annotations

import ipaddress
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from fnmatch import fnmatchcase
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import unquote

from core import format as fmt
from core.aws import partition_of
from core.errors import ValidationError

if TYPE_CHECKING:
    from types_boto3_s3.type_defs import (
        PublicAccessBlockConfigurationTypeDef,
        ServerSideEncryptionRuleTypeDef,
    )

DEFAULT_PREFIX = "bedrock-tune"
"""The key prefix every run folder sits under: `s3://<bucket>/<prefix>/<run>/{data,output}/`."""
POLICY_NAME = "bedrock-tune-data-access"
"""The role's inline permissions policy (teardown deletes it by this name)."""
TRUST_SID = "BedrockTuneModelCustomization"
IMPORT_TRUST_SID = "BedrockTuneModelImport"
SAGEMAKER_TRUST_SID = "BedrockTuneSageMakerTraining"
RolePurpose = Literal["customization", "import", "sagemaker"]
"""What a service role is for: Bedrock customization jobs, Custom Model Import jobs, or SageMaker
training jobs. Each has its own role (its trust names its service and job type; its policy only
what those jobs read and write)."""
TLS_SID = "BedrockTuneDenyInsecureTransport"
TEACHER_SID = "InvokeDistillationTeacher"
"""The statement that lets distillation jobs invoke their teacher models."""
BEDROCK_SERVICE = "bedrock.amazonaws.com"
SAGEMAKER_SERVICE = "sagemaker.amazonaws.com"
ROLE_DESCRIPTION = (
    "Lets Amazon Bedrock model customization jobs read bedrock-tune training data and write "
    "their output (made by bedrock-tune)."
)
IMPORT_ROLE_DESCRIPTION = (
    "Lets Amazon Bedrock Custom Model Import jobs read the model files bedrock-tune uploaded "
    "(made by bedrock-tune)."
)
SAGEMAKER_ROLE_DESCRIPTION = (
    "Lets SageMaker training jobs read bedrock-tune training data and write their output and "
    "logs (made by bedrock-tune)."
)


@dataclass(frozen=True)
class _Trust:
    """Who may assume a purpose's role, for which jobs."""

    service: str
    arn_service: str
    job_kinds: tuple[str, ...]
    """The job ARN types the trust names (the first is the one a role must serve)."""
    sid: str
    jobs: str
    source_arn: bool
    """Whether the trust narrows to the jobs' ARNs (`aws:SourceArn`) besides the account."""


_TRUSTS: dict[str, _Trust] = {
    # UG model-customization-iam-role (and the batch inference jobs evaluation runs at scale:
    # they read the run's data folder and write its output folder, as a job does).
    "customization": _Trust(
        BEDROCK_SERVICE,
        "bedrock",
        ("model-customization-job", "model-invocation-job"),
        TRUST_SID,
        "customization jobs",
        True,
    ),
    # UG model-import-iam-role: aws:SourceAccount and aws:SourceArn `...:model-import-job/*`.
    "import": _Trust(
        BEDROCK_SERVICE, "bedrock", ("model-import-job",), IMPORT_TRUST_SID, "import jobs", True
    ),
    # SageMaker: aws:SourceAccount (issue 13). ⚠ Whether every SageMaker job type passes
    # aws:SourceArn when it assumes the execution role is not in the reference: not narrowed.
    "sagemaker": _Trust(
        SAGEMAKER_SERVICE,
        "sagemaker",
        ("training-job",),
        SAGEMAKER_TRUST_SID,
        "SageMaker training jobs",
        False,
    ),
}
PUBLIC_ACCESS_BLOCK: PublicAccessBlockConfigurationTypeDef = {
    "BlockPublicAcls": True,
    "IgnorePublicAcls": True,
    "BlockPublicPolicy": True,
    "RestrictPublicBuckets": True,
}

# From botocore's models: iam `roleNameType`, bedrock `KmsKeyId`.
ROLE_NAME = re.compile(r"[\w+=,.@-]{1,64}")
KMS_KEY = re.compile(
    r"(arn:aws(-[^:]+)?:kms:[a-zA-Z0-9-]*:[0-9]{12}:((key/[a-zA-Z0-9-]{36})|(alias/[a-zA-Z0-9-_/]+)))"
    r"|([a-zA-Z0-9-]{36})|(alias/[a-zA-Z0-9-_/]+)"
)
# The key rule of bedrock `S3Uri` (what CreateModelCustomizationJob accepts) allows
# -!_*'(). letters and digits in each segment (core.jobs.customization.S3_URI).
# Our prefixes and run ids are stricter: they end up in IAM policy resources and conditions
# (`<bucket>/<prefix>/*/data/*`), where `*` and `?` are wildcards that would widen the grant,
# and in S3 keys, where `.` and `..` segments read like paths to somewhere else.
PREFIX_SEGMENT = re.compile(r"[-!_'().a-zA-Z0-9]+")
_DOT_SEGMENTS = frozenset({".", ".."})
# The bucket part of bedrock `S3Uri`. The further rules below (adjacent dots, IP form, reserved
# prefixes and suffixes) are S3's general purpose bucket naming rules from the S3 user guide;
# reference/bedrock.md does not list them, so they are kept as data here, with that source.
BUCKET_NAME = re.compile(r"[a-z0-9][-.a-z0-9]{1,61}[a-z0-9]")
RESERVED_BUCKET_PREFIXES = ("xn--", "sthree-", "amzn-s3-demo-")
RESERVED_BUCKET_SUFFIXES = ("-s3alias", "--ol-s3", ".mrap", "--x-s3", "--table-s3")


def default_bucket_name(account_id: str, region: str) -> str:
    """`bedrock-tune-<account>-<region>`: unique per account and region, valid everywhere."""
    return f"bedrock-tune-{account_id}-{region}"


def default_role_name(region: str, purpose: RolePurpose = "customization") -> str:
    """`bedrock-tune-<region>` (customization), `bedrock-tune-import-<region>` or
    `bedrock-tune-sagemaker-<region>`: one service role per purpose and region."""
    if purpose == "customization":
        return f"bedrock-tune-{region}"
    return f"bedrock-tune-{purpose}-{region}"


def role_description(purpose: RolePurpose) -> str:
    """The role's IAM description."""
    return {
        "import": IMPORT_ROLE_DESCRIPTION,
        "sagemaker": SAGEMAKER_ROLE_DESCRIPTION,
    }.get(purpose, ROLE_DESCRIPTION)


def bucket_name_problems(name: str) -> list[str]:
    """Every S3 / Bedrock naming rule `name` breaks (empty when it is a good bucket name)."""
    problems: list[str] = []
    if not 3 <= len(name) <= 63:
        problems.append(f"it has {fmt.plural(len(name), 'character')}; a bucket name takes 3 to 63")
    if re.search(r"[^-.a-z0-9]", name):
        bad = "".join(sorted(set(re.findall(r"[^-.a-z0-9]", name))))
        problems.append(
            f"it contains {bad!r}; only lower-case letters, digits, '.' and '-' are allowed"
        )
    if name and not (name[0].isalnum() and name[-1].isalnum()):
        problems.append("it must begin and end with a lower-case letter or a digit")
    if ".." in name:
        problems.append("it has two dots in a row")
    try:
        ipaddress.IPv4Address(name)
        problems.append("it is formatted as an IP address")
    except ValueError:
        pass
    for prefix in RESERVED_BUCKET_PREFIXES:
        if name.startswith(prefix):
            problems.append(f"names starting with '{prefix}' are reserved by AWS")
    for suffix in RESERVED_BUCKET_SUFFIXES:
        if name.endswith(suffix):
            problems.append(f"names ending with '{suffix}' are reserved by AWS")
    if not problems and not BUCKET_NAME.fullmatch(name):  # pragma: no cover - rules above cover it
        problems.append("Bedrock's S3 URI pattern does not accept it")
    return problems


def check_bucket_name(name: str) -> None:
    """Raise ValidationError naming every rule `name` breaks (before any AWS call)."""
    problems = bucket_name_problems(name)
    if problems:
        raise ValidationError(
            f"'{name}' is not a valid S3 bucket name: " + "; ".join(problems) + ".",
            title="Invalid bucket name",
            hint="Bucket names take 3-63 lower-case letters, digits, '.' and '-', begin and end "
            "with a letter or digit, e.g. bedrock-tune-123456789012-us-east-1.",
        )


def check_role_name(name: str) -> None:
    """Raise ValidationError when `name` is not an IAM role name."""
    if not ROLE_NAME.fullmatch(name):
        raise ValidationError(
            f"'{name}' is not a valid IAM role name: it takes 1-64 letters, digits and "
            "'+=,.@_-' (no spaces or slashes).",
            title="Invalid role name",
            hint="For example bedrock-tune-us-east-1.",
        )


def prefix_problem(prefix: str, what: str = "key prefix") -> str | None:
    """Why `prefix` cannot be a key prefix of run folders (None when it can): '/'-separated
    parts of letters, digits and -!_'(). with no wildcard (`*`, `?`), no `.` or `..` part, no
    leading slash and no empty part. A trailing slash is allowed (and dropped)."""
    shown = f"The {what} '{prefix}'"
    if not prefix:
        return f"{shown} is empty"
    if prefix.startswith("/"):
        return f"{shown} starts with '/'; S3 keys do not"
    segments = prefix.removesuffix("/").split("/")
    for segment in segments:
        if segment == "":
            return f"{shown} has an empty part ('//')"
        if segment in _DOT_SEGMENTS:
            return f"{shown} has a '{segment}' part; a prefix names a folder, not a path to one"
        if "*" in segment or "?" in segment:
            return (
                f"{shown} has a wildcard in {segment!r}, which would widen the IAM policy: "
                "each '/'-separated part takes letters, digits and -!_'(). only"
            )
        if not PREFIX_SEGMENT.fullmatch(segment):
            return (
                f"{shown} is not one Bedrock accepts (part {segment!r}): S3 URIs for model "
                "customization take letters, digits and -!_'(). in each '/'-separated part "
                "(no spaces, '+', '=' or '&')"
            )
    return None


def normalize_prefix(prefix: str, what: str = "key prefix") -> str:
    """`prefix` without its trailing slash, after `prefix_problem` found nothing wrong.

    Raises:
        ValidationError: the prefix breaks the rule, with the reason.
    """
    problem = prefix_problem(prefix, what)
    if problem is not None:
        raise ValidationError(
            problem + ".",
            title=f"Invalid {what}",
            hint=f"For example {DEFAULT_PREFIX} or team-a/bedrock.",
        )
    return prefix.removesuffix("/")


def check_kms_key(key: str) -> None:
    """Raise ValidationError when `key` is not a KMS key id, key ARN, alias or alias ARN."""
    if not KMS_KEY.fullmatch(key):
        raise ValidationError(
            f"'{key}' is not a KMS key id, key ARN, alias (alias/...) or alias ARN.",
            title="Invalid KMS key",
            hint="For example 1234abcd-12ab-34cd-56ef-1234567890ab or alias/my-key.",
        )


def trust_policy(
    account_id: str, region: str, purpose: RolePurpose = "customization"
) -> dict[str, Any]:
    """The role's trust policy: the purpose's service may assume it for this account's jobs in
    `region`."""
    partition = partition_of(region)
    return {
        "Version": "2012-10-17",
        "Statement": [trust_statement(partition, account_id, region, purpose)],
    }


def trust_statement(
    partition: str, account_id: str, region: str, purpose: RolePurpose = "customization"
) -> dict[str, Any]:
    """The purpose's service may assume the role for this account's jobs (of its kinds, in
    `region`): `aws:SourceAccount`, and `aws:SourceArn` against the confused deputy where the
    service passes it."""
    trust = _TRUSTS[purpose]
    condition: dict[str, Any] = {"StringEquals": {"aws:SourceAccount": account_id}}
    if trust.source_arn:
        arns = [
            f"arn:{partition}:{trust.arn_service}:{region}:{account_id}:{kind}/*"
            for kind in trust.job_kinds
        ]
        condition["ArnEquals"] = {"aws:SourceArn": arns if len(arns) > 1 else arns[0]}
    return {
        "Sid": trust.sid,
        "Effect": "Allow",
        "Principal": {"Service": trust.service},
        "Action": "sts:AssumeRole",
        "Condition": condition,
    }


def permissions_policy(
    bucket: str,
    prefix: str,
    region: str,
    kms_key_arn: str | None = None,
    teacher_arns: Sequence[str] = (),
) -> dict[str, Any]:
    """The role's inline policy: read `<prefix>/*/data/*`, write `<prefix>/*/output/*`, list
    the bucket, use `kms_key_arn` when there is one, and invoke the distillation teachers in
    `teacher_arns` (see `teacher_arns_for`). No `*` resource for S3 or KMS.

    Raises:
        ValidationError: `prefix` is not a normalized prefix (a wildcard or `..` in it would
            widen the grant).
    """
    if normalize_prefix(prefix) != prefix:
        raise ValidationError(
            f"The key prefix '{prefix}' has a trailing slash.", hint=f"Use {prefix.rstrip('/')}."
        )
    partition = partition_of(region)
    bucket_arn = f"arn:{partition}:s3:::{bucket}"
    statements: list[dict[str, Any]] = [
        {
            "Sid": "ReadTrainingData",
            "Effect": "Allow",
            "Action": ["s3:GetObject"],
            "Resource": [f"{bucket_arn}/{prefix}/*/data/*"],
        },
        {
            "Sid": "WriteJobOutput",
            "Effect": "Allow",
            "Action": ["s3:GetObject", "s3:PutObject"],
            "Resource": [f"{bucket_arn}/{prefix}/*/output/*"],
        },
        # s3:ListBucket on the bucket, unconditioned, as AWS's own sample policy for model
        # customization grants it (UG model-customization-code-samples, 2026: GetObject and
        # ListBucket on "arn:aws:s3:::${training-bucket}" and ".../*", GetObject, PutObject
        # and ListBucket on the output bucket, no Condition; reference/bedrock.md section 5
        # shows the same statements). An `s3:prefix` condition (`<prefix>/*`) would be
        # narrower, but no source shows that it works for Bedrock customization jobs: none
        # says which prefix (if any) Bedrock lists with while it validates the data and probes
        # the output folder, and the troubleshooting page names a missing ListBucket as a
        # cause of "Could not validate GetObject permissions", a failure that shows only after
        # launch. Searched (2026-12): the Bedrock user guide's customization, access-security
        # and troubleshooting pages, aws-samples, GitHub issues. So the documented form is
        # used. What it costs: the role may list key *names* anywhere in this bucket; reading
        # stays limited to `<prefix>/*/data/*` and writing to `<prefix>/*/output/*`.
        {
            "Sid": "ListDataBucket",
            "Effect": "Allow",
            "Action": ["s3:ListBucket"],
            "Resource": [bucket_arn],
        },
    ]
    if teacher_arns:
        statements.append(
            {
                "Sid": TEACHER_SID,
                "Effect": "Allow",
                "Action": ["bedrock:InvokeModel"],
                "Resource": sorted(set(teacher_arns)),
            }
        )
    if kms_key_arn:
        statements.append(
            {
                "Sid": "UseDataKey",
                "Effect": "Allow",
                "Action": ["kms:Decrypt", "kms:GenerateDataKey", "kms:DescribeKey"],
                "Resource": [kms_key_arn],
            }
        )
        statements.append(
            {
                "Sid": "GrantKeyToBedrock",
                "Effect": "Allow",
                "Action": ["kms:CreateGrant"],
                "Resource": [kms_key_arn],
                "Condition": {
                    "StringEquals": {"kms:ViaService": f"bedrock.{region}.amazonaws.com"}
                },
            }
        )
    return {"Version": "2012-10-17", "Statement": statements}


def is_inference_profile(model_id: str) -> bool:
    """Whether `model_id` names a (system) inference profile: an `inference-profile` ARN, or an
    id with a geography prefix such as `us.amazon.nova-premier-v1:0`."""
    if model_id.startswith("arn:"):
        return ":inference-profile/" in model_id
    return len(model_id.split(".")) > 2


def teacher_arns_for(teacher_id: str, account_id: str, region: str) -> list[str]:
    """The resources the service role must be allowed to `bedrock:InvokeModel` so that a
    distillation job in `region` can call its teacher `teacher_id`.

    A foundation model in the job's region is one ARN. Through a cross-Region inference
    profile, the role needs the profile in this region and the model in every Region the
    profile routes to (UG prequisites-model-distillation, custom-model-job-access-security;
    reference/bedrock.md section 5). Which Regions a system profile routes to is not in
    bedrock-tune's data, so the model is granted in every Region (`*`), and only that model.
    """
    partition = partition_of(region)
    if not is_inference_profile(teacher_id):
        model = teacher_id.rsplit("foundation-model/", 1)[-1]
        return [f"arn:{partition}:bedrock:{region}::foundation-model/{model}"]
    if teacher_id.startswith("arn:"):
        profile_arn = teacher_id
        profile_id = teacher_id.rsplit("inference-profile/", 1)[-1]
    else:
        profile_id = teacher_id
        profile_arn = (
            f"arn:{partition}:bedrock:{region}:{account_id}:inference-profile/{teacher_id}"
        )
    model = profile_id.split(".", 1)[1]
    return [profile_arn, f"arn:{partition}:bedrock:*::foundation-model/{model}"]


def teacher_arns_in(document: dict[str, Any] | None) -> list[str]:
    """The teacher resources an existing inline policy already allows (kept when the policy is
    put again, so a distillation job that is still running never loses its teacher)."""
    found: list[str] = []
    for statement in statements(document):
        if statement.get("Sid") == TEACHER_SID:
            found.extend(str(r) for r in as_list(statement.get("Resource")))
    return found


def import_permissions_policy(
    bucket: str,
    prefix: str,
    region: str,
    kms_key_arn: str | None = None,
    model_sources: tuple[str, ...] = (),
) -> dict[str, Any]:
    """The import role's inline policy: read the model folders bedrock-tune uploads
    (`<prefix>/*/model/*`), list only under `<prefix>/`, read any other `s3://` model folders
    the runs import from, and decrypt with `kms_key_arn` when there is one. Nothing is written.
    (UG model-import-iam-role; its sample grants the whole bucket, narrowed here by prefix.)"""
    partition = partition_of(region)
    bucket_arn = f"arn:{partition}:s3:::{bucket}"
    statements: list[dict[str, Any]] = [
        {
            "Sid": "ReadModelFiles",
            "Effect": "Allow",
            "Action": ["s3:GetObject"],
            "Resource": [f"{bucket_arn}/{prefix}/*/model/*"],
        },
        {
            "Sid": "ListRunFolders",
            "Effect": "Allow",
            "Action": ["s3:ListBucket"],
            "Resource": [bucket_arn],
            "Condition": {"StringLike": {"s3:prefix": [f"{prefix}/*"]}},
        },
    ]
    for number, uri in enumerate(sorted(set(model_sources)), start=1):
        source_bucket, _, source_prefix = uri.removeprefix("s3://").partition("/")
        source_prefix = source_prefix.strip("/")
        source_arn = f"arn:{partition}:s3:::{source_bucket}"
        statements.append(
            {
                "Sid": f"ReadModelSource{number}",
                "Effect": "Allow",
                "Action": ["s3:GetObject"],
                "Resource": [f"{source_arn}/{source_prefix}/*"],
            }
        )
        statements.append(
            {
                "Sid": f"ListModelSource{number}",
                "Effect": "Allow",
                "Action": ["s3:ListBucket"],
                "Resource": [source_arn],
                "Condition": {"StringLike": {"s3:prefix": [f"{source_prefix}/*"]}},
            }
        )
    if kms_key_arn:
        statements.append(
            {
                "Sid": "DecryptModelFiles",
                "Effect": "Allow",
                "Action": ["kms:Decrypt", "kms:DescribeKey"],
                "Resource": [kms_key_arn],
            }
        )
    return {"Version": "2012-10-17", "Statement": statements}


def tls_statement(bucket: str, region: str) -> dict[str, Any]:
    """The bucket policy statement that denies every request not made over TLS."""
    bucket_arn = f"arn:{partition_of(region)}:s3:::{bucket}"
    return {
        "Sid": TLS_SID,
        "Effect": "Deny",
        "Principal": "*",
        "Action": "s3:*",
        "Resource": [bucket_arn, f"{bucket_arn}/*"],
        "Condition": {"Bool": {"aws:SecureTransport": "false"}},
    }


def encryption_rule(kms_key_arn: str | None) -> ServerSideEncryptionRuleTypeDef:
    """The default encryption rule: SSE-KMS with the user's key, else SSE-S3."""
    if kms_key_arn:
        return {
            "ApplyServerSideEncryptionByDefault": {
                "SSEAlgorithm": "aws:kms",
                "KMSMasterKeyID": kms_key_arn,
            },
            "BucketKeyEnabled": True,
        }
    return {"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}


def statements(document: dict[str, Any] | None) -> list[dict[str, Any]]:
    if not document:
        return []
    found = document.get("Statement", [])
    return [found] if isinstance(found, dict) else list(found)


def as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return list(value) if isinstance(value, list | tuple) else [value]


def merge_statement(document: dict[str, Any] | None, statement: dict[str, Any]) -> dict[str, Any]:
    """`document` with `statement` added (replacing one with the same Sid); others kept."""
    kept = [s for s in statements(document) if s.get("Sid") != statement["Sid"]]
    return {
        "Version": (document or {}).get("Version", "2012-10-17"),
        "Statement": [*kept, statement],
    }


def condition_values(statement: dict[str, Any], key: str) -> list[str]:
    values: list[str] = []
    for operator_values in (statement.get("Condition") or {}).values():
        for name, value in (operator_values or {}).items():
            if name.lower() == key.lower():
                values.extend(str(v) for v in as_list(value))
    return values


def trust_problem(
    document: dict[str, Any] | None,
    account_id: str,
    region: str,
    purpose: RolePurpose = "customization",
) -> str | None:
    """Why the purpose's jobs in `region` cannot assume a role with this trust policy (None when
    one statement lets them)."""
    trust = _TRUSTS[purpose]
    partition = partition_of(region)
    job_arn = f"arn:{partition}:{trust.arn_service}:{region}:{account_id}:{trust.job_kinds[0]}/x"
    who = "SageMaker" if trust.service == SAGEMAKER_SERVICE else "Bedrock"
    narrowed: str | None = None
    for statement in statements(document):
        services = as_list((statement.get("Principal") or {}).get("Service"))
        actions = as_list(statement.get("Action"))
        if statement.get("Effect") != "Allow" or trust.service not in services:
            continue
        if not any(a in ("sts:AssumeRole", "sts:*", "*") for a in actions):
            continue
        accounts = condition_values(statement, "aws:SourceAccount")
        arns = condition_values(statement, "aws:SourceArn")
        if accounts and account_id not in accounts:
            narrowed = f"it trusts {who} only for account(s) {', '.join(accounts)}"
            continue
        if arns and not any(fnmatchcase(job_arn, pattern) for pattern in arns):
            narrowed = f"it trusts {who} only for {', '.join(arns)}"
            continue
        return None
    if narrowed:
        return f"{narrowed}, not for {trust.jobs} of {account_id} in {region}"
    return f"its trust policy does not let {trust.service} assume it"


def decode_policy(value: Any) -> dict[str, Any] | None:
    """A policy document as boto3 returns it (a dict, or URL-encoded JSON text)."""
    if value is None or isinstance(value, dict):
        return value
    text = str(value)
    try:
        decoded: dict[str, Any] = json.loads(text)
    except json.JSONDecodeError:
        decoded = json.loads(unquote(text))
    return decoded


def has_tls_deny(policy: dict[str, Any] | None) -> bool:
    """Whether a bucket policy denies every S3 action (`s3:*` or `*`) to requests made without
    TLS (`aws:SecureTransport` false). A Deny about something else does not count."""
    for statement in statements(policy):
        if statement.get("Effect") != "Deny":
            continue
        secure = condition_values(statement, "aws:SecureTransport")
        actions = as_list(statement.get("Action"))
        if "false" in [s.lower() for s in secure] and any(a in ("s3:*", "*") for a in actions):
            return True
    return False
