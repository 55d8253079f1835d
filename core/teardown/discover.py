"""What teardown believes is bedrock-tune's before checking it: claims from the registry and from
tags, and who made each.

A claim is *ours* when this install's registry records it (a resource entry, or a run pointing at
a job, model or deployment) or when its tags carry this install's id; it is *found* when only the
`bedrock-tune:managed=true` tag points at it (another install, user or machine made it). Found
claims carry what their tags and AWS say about them (the creating identity, the creation time)
so the person deciding can tell whose they are; they are never deleted unasked.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal, TypeVar

from core.aws import AwsContext
from core.errors import (
    BedrockTuneError,
    NotFoundError,
    ValidationError,
    aws_call,
    describe_unexpected,
)
from core.ownership import Origin, origin_of
from core.teardown.imports import ImportView, read_imports
from core.teardown.items import (
    BATCH_JOB,
    DEPLOYMENT,
    IMPORTED_MODEL,
    JOB,
    MODEL,
    ROLE,
    THROUGHPUT,
    short_name,
)

_T = TypeVar("_T")
_R = TypeVar("_R")

ClaimOrigin = Literal["ours", "found"]


def parallel(function: Callable[[_T], _R], values: Sequence[_T]) -> list[_R]:
    """`function` over `values` on a few threads (tag reads are one call per resource)."""
    if len(values) <= 1:
        return [function(v) for v in values]
    with ThreadPoolExecutor(max_workers=8, thread_name_prefix="bt-teardown") as pool:
        return list(pool.map(function, values))


def _when(value: Any) -> str:
    """An AWS timestamp as an ISO date-time ('' when absent)."""
    if isinstance(value, datetime):
        return value.isoformat(timespec="seconds")
    return str(value or "")


@dataclass
class Claim:
    """Something that may be bedrock-tune's, before it is checked against AWS."""

    kind: str
    identifier: str
    region: str
    in_registry: bool = False
    registry_ours: bool = False
    """The registry records it as created by us (or one of its runs launched it)."""
    recorded: bool = False
    """A registry resource entry (not only a run pointing at it): forgotten once it is gone."""
    tagged: bool = False
    """It carries `bedrock-tune:managed=true`."""
    install_tagged: bool = False
    """It carries this install's id."""
    name: str = ""
    policy_names: set[str] = field(default_factory=set)
    created_at: str = ""
    created_by: str = ""

    @property
    def origin(self) -> ClaimOrigin:
        """`ours` (this registry or this install's tag) or `found` (another install's tag)."""
        return "ours" if self.in_registry or self.install_tagged else "found"

    @property
    def created_by_us(self) -> bool:
        """Made by bedrock-tune: this install, or (found by its tag) another one. A bucket or
        role the registry records as reused stays not ours, whatever its tags say."""
        return self.registry_ours or self.install_tagged or (self.tagged and not self.in_registry)


class Claims:
    """Claims by `kind:identifier`; adding the same one again merges what is known."""

    def __init__(self) -> None:
        self.by_key: dict[str, Claim] = {}

    def add(self, kind: str, identifier: str, region: str, **facts: Any) -> Claim:
        """Add or merge a claim (flags are or-ed, texts keep the first one given)."""
        claim = self.by_key.get(f"{kind}:{identifier}")
        if claim is None:
            claim = self.by_key[f"{kind}:{identifier}"] = Claim(kind, identifier, region)
        for flag in ("in_registry", "registry_ours", "recorded", "tagged", "install_tagged"):
            if facts.get(flag):
                setattr(claim, flag, True)
        for text in ("name", "created_at", "created_by"):
            if not getattr(claim, text) and facts.get(text):
                setattr(claim, text, str(facts[text]))
        claim.policy_names |= set(facts.get("policy_names") or ())
        return claim

    def add_tagged(
        self, kind: str, identifier: str, region: str, origin: Origin, install: str, **facts: Any
    ) -> None:
        """Add what a `managed` tag points at (nothing when the tags do not say bedrock-tune)."""
        if not origin.managed:
            return
        self.add(
            kind,
            identifier,
            region,
            tagged=True,
            install_tagged=origin.made_by(install),
            created_by=origin.creator or "",
            **facts,
        )

    def all(self) -> list[Claim]:
        """Every claim."""
        return list(self.by_key.values())

    def of(self, *kinds: str) -> list[Claim]:
        """The claims of these kinds."""
        return [c for c in self.by_key.values() if c.kind in kinds]


def _tag_dict(
    tags: Iterable[Mapping[str, object]], key: str = "Key", value: str = "Value"
) -> Origin:
    return origin_of({str(t.get(key)): str(t.get(value)) for t in tags})


def bedrock_origin(client: Any, arn: str) -> Origin:
    """What a Bedrock resource's tags say; nothing when Bedrock cannot tag or find it."""
    try:
        with aws_call(f"reading the tags of {short_name(arn)}"):
            tags = client.list_tags_for_resource(resourceARN=arn).get("tags", [])
    except (NotFoundError, ValidationError):
        tags = []
    return _tag_dict(tags, "key", "value")


def discover_buckets(context: AwsContext, claims: Claims, install: str) -> None:
    """Claim the S3 buckets tagged as bedrock-tune's."""
    from core.teardown.items import BUCKET

    s3 = context.client("s3")
    with aws_call("listing your S3 buckets"):
        listed = s3.list_buckets().get("Buckets", [])
    names = [str(b["Name"]) for b in listed]
    created = {str(b["Name"]): _when(b.get("CreationDate")) for b in listed}

    def origin(name: str) -> Origin:
        try:
            with aws_call(f"reading the tags of bucket {name}"):
                tags = s3.get_bucket_tagging(Bucket=name).get("TagSet", [])
        except BedrockTuneError:
            tags = []  # no tags (NoSuchTagSet), or a bucket we may not read: not ours
        return _tag_dict(tags)

    for name, found in zip(names, parallel(origin, names), strict=True):
        if not found.managed:
            continue
        try:
            with aws_call(f"reading the region of bucket {name}"):
                where: str | None = s3.get_bucket_location(Bucket=name).get("LocationConstraint")
        except BedrockTuneError:
            where = context.region  # S3 redirects a request sent to the wrong region
        claims.add_tagged(
            BUCKET, name, where or "us-east-1", found, install, created_at=created[name]
        )


def discover_roles(context: AwsContext, claims: Claims, install: str) -> None:
    """Claim the IAM roles Bedrock (or SageMaker) may assume that are tagged as bedrock-tune's."""
    iam = context.client("iam")
    candidates: list[tuple[str, str]] = []
    with aws_call("listing IAM roles"):
        for page in iam.get_paginator("list_roles").paginate():
            for role in page.get("Roles", []):
                # Only roles Bedrock may assume can be ours: far fewer tag reads.
                trust = json.dumps(role.get("AssumeRolePolicyDocument") or {})
                if "bedrock.amazonaws.com" in trust or "sagemaker.amazonaws.com" in trust:
                    candidates.append((str(role["RoleName"]), _when(role.get("CreateDate"))))

    def origin(candidate: tuple[str, str]) -> Origin:
        with aws_call(f"reading the tags of role {candidate[0]}"):
            tags = iam.list_role_tags(RoleName=candidate[0]).get("Tags", [])
        return _tag_dict(tags)

    for (name, created), found in zip(candidates, parallel(origin, candidates), strict=True):
        claims.add_tagged(ROLE, name, "global", found, install, created_at=created)


@dataclass
class BedrockView:
    """What Bedrock has in one region (read once per inventory)."""

    models: dict[str, Mapping[str, Any]] = field(default_factory=dict)
    jobs: dict[str, Any] = field(default_factory=dict)
    batch_jobs: dict[str, Mapping[str, Any]] = field(default_factory=dict)
    """Batch inference jobs still running (Submitted ... Stopping), by ARN."""
    serving: dict[str, Mapping[str, Any]] = field(default_factory=dict)
    failed: set[str] = field(default_factory=set)
    """Which of models / jobs / serving could not be listed."""
    imports: ImportView = field(default_factory=ImportView)
    """Custom Model Import's imported models and import jobs."""


def read_bedrock(context: AwsContext, region: str, warn: Callable[[str], None]) -> BedrockView:
    """List the region's custom models, running jobs, throughputs and deployments."""
    from core.jobs.customization import JobStatus, list_jobs

    view = BedrockView()
    client = context.client("bedrock")

    def models() -> None:
        with aws_call(f"listing custom models in {region}"):
            for page in client.get_paginator("list_custom_models").paginate():
                for model in page.get("modelSummaries", []):
                    view.models[str(model["modelArn"])] = model

    def jobs() -> None:
        # Stopping is not an end: the job still runs until Bedrock says Stopped.
        for status in (JobStatus.IN_PROGRESS, JobStatus.STOPPING):
            for job in list_jobs(context, status):
                view.jobs[job.arn] = job

    def batch_jobs() -> None:
        from core.evaluation.batch import RUNNING

        with aws_call(f"listing batch inference jobs in {region}"):
            for page in client.get_paginator("list_model_invocation_jobs").paginate():
                for job in page.get("invocationJobSummaries", []):
                    if str(job.get("status")) in RUNNING:
                        view.batch_jobs[str(job["jobArn"])] = job

    def throughputs() -> None:
        with aws_call(f"listing provisioned throughputs in {region}"):
            for page in client.get_paginator("list_provisioned_model_throughputs").paginate():
                for item in page.get("provisionedModelSummaries", []):
                    view.serving[item["provisionedModelArn"]] = {**item, "kind": THROUGHPUT}

    def deployments() -> None:
        with aws_call(f"listing custom model deployments in {region}"):
            for page in client.get_paginator("list_custom_model_deployments").paginate():
                for entry in page.get("modelDeploymentSummaries", []):
                    arn = entry["customModelDeploymentArn"]
                    view.serving[arn] = {**entry, "kind": DEPLOYMENT}

    readers: list[tuple[str, str, Callable[[], None]]] = [
        (MODEL, "custom models", models),
        (JOB, "running customization jobs", jobs),
        (BATCH_JOB, "running batch inference jobs", batch_jobs),
        (THROUGHPUT, "provisioned throughputs", throughputs),
        (DEPLOYMENT, "custom model deployments", deployments),
    ]
    for kind, what, read in readers:
        try:
            read()
        except Exception as raised:  # a listing that fails is a warning, never a crash
            view.failed.add(kind)
            warn(f"Could not list the {what} in {region}: {describe_unexpected(raised).message}")
    view.imports = read_imports(context, region, warn)
    return view


def discover_bedrock(context: AwsContext, view: BedrockView, claims: Claims, install: str) -> None:
    """Claim the region's Bedrock resources tagged as bedrock-tune's."""
    client = context.client("bedrock")
    found: list[tuple[str, str, str, str]] = [
        (MODEL, a, str(m.get("modelName", "")), _when(m.get("creationTime")))
        for a, m in view.models.items()
    ]
    found += [(JOB, a, j.name, _when(j.created)) for a, j in view.jobs.items()]
    found += [
        (BATCH_JOB, a, str(j.get("jobName", "")), _when(j.get("submitTime")))
        for a, j in view.batch_jobs.items()
    ]
    found += [
        (str(s["kind"]), a, "", _when(s.get("creationTime") or s.get("createdAt")))
        for a, s in view.serving.items()
    ]
    found += [(IMPORTED_MODEL, a, m.name, _when(m.created)) for a, m in view.imports.models.items()]
    origins = parallel(lambda entry: bedrock_origin(client, entry[1]), found)
    for (kind, arn, name, created), origin in zip(found, origins, strict=True):
        claims.add_tagged(kind, arn, context.region, origin, install, name=name, created_at=created)
