"""What an infrastructure plan says and what applying it reports: the plan's data (each resource
marked create / reuse / update, with its exact JSON), the log events, the result, the checks of
`verify`, and the errors of plan and apply. Plain frozen dataclasses, no AWS calls.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

from core.errors import AccessDeniedError, ConflictError, ValidationError
from core.infra.policies import POLICY_NAME, RolePurpose
from core.infra.state import Preflight

Action = Literal["create", "reuse", "update"]
EventStatus = Literal["start", "ok", "failed"]


class InfraBlockedError(ValidationError):
    """The plan has problems apply cannot fix (bucket in another region, owned elsewhere...)."""

    default_title = "The infrastructure cannot be set up as planned"


class BucketTakenError(ConflictError):
    """The bucket name belongs to another AWS account."""

    default_title = "Bucket name taken"


class RoleCreationDeniedError(AccessDeniedError):
    """CreateRole was denied: an administrator must create the role; the JSON is attached."""

    default_title = "Not allowed to create the IAM role"

    def __init__(
        self, role_name: str, trust: dict[str, Any], permissions: dict[str, Any], detail: str
    ) -> None:
        message = (
            f"Your identity may not create the IAM role '{role_name}' ({detail}). An "
            "administrator must create it for you, with this trust policy:\n"
            f"{json.dumps(trust, indent=2)}\n"
            f"and this inline permissions policy named '{POLICY_NAME}':\n"
            f"{json.dumps(permissions, indent=2)}"
        )
        super().__init__(
            message,
            hint=f"Send the two policies above to your AWS administrator. Once '{role_name}' "
            "exists, plan again: bedrock-tune reuses it (or pass its name with --role).",
        )
        self.role_name = role_name
        self.trust_policy = trust
        self.permissions_policy = permissions


# --------------------------------------------------------------------------- plan data


@dataclass(frozen=True)
class Change:
    """One call apply makes for a resource."""

    operation: str
    """The IAM action name of the call, e.g. `s3:PutBucketPolicy`."""
    summary: str
    """What it does, for a person."""


@dataclass(frozen=True)
class ResourcePlan:
    """What apply will do with one resource."""

    kind: Literal["s3-bucket", "iam-role"]
    name: str
    arn: str
    action: Action
    changes: tuple[Change, ...]
    problems: tuple[str, ...] = ()
    """What is wrong with the resource as it is (each fixed by a change, or a blocker)."""
    documents: dict[str, Any] = field(default_factory=dict)
    """The exact JSON the resource will have (policies, encryption, public access block)."""
    created_by_us: bool = False
    """True when bedrock-tune made it (now or before: tag or registry)."""

    @property
    def fixable(self) -> bool:
        """An existing resource with problems that its changes fix."""
        return self.action == "update" and bool(self.problems)


@dataclass(frozen=True)
class InfraPlan:
    """The bucket and the role, each marked create / reuse / update, with their JSON."""

    account_id: str
    region: str
    prefix: str
    bucket: ResourcePlan
    role: ResourcePlan
    kms_key_arn: str | None
    """The user's KMS key, resolved to its ARN (None: SSE-S3)."""
    data_key_arn: str | None
    """The key the bucket encrypts with, when it is KMS (the role may use it)."""
    blockers: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()
    preflight: Preflight = field(default_factory=lambda: Preflight(False))
    purpose: RolePurpose = "customization"
    """What the role is for: customization jobs, or model imports."""

    @property
    def ready(self) -> bool:
        """Whether apply can go ahead."""
        return not self.blockers

    @property
    def changes(self) -> tuple[Change, ...]:
        """Every call apply would make."""
        return self.bucket.changes + self.role.changes

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-able data (the CLI's `--json`)."""
        data = asdict(self)
        data["ready"] = self.ready
        return data


@dataclass(frozen=True)
class InfraEvent:
    """One AWS call made by apply, reported as it starts and as it ends."""

    operation: str
    target: str
    status: EventStatus
    detail: str = ""

    def describe(self) -> str:
        """One log line."""
        mark = {"start": "…", "ok": "✓", "failed": "✗"}[self.status]
        tail = f": {self.detail}" if self.detail else ""
        return f"{mark} {self.operation} {self.target}{tail}"


@dataclass(frozen=True)
class InfraResult:
    """What exists after apply."""

    bucket: str
    region: str
    role_name: str
    role_arn: str
    policy_name: str
    kms_key_arn: str | None
    created: tuple[str, ...]
    """`kind:name` of what this apply created."""
    events: tuple[InfraEvent, ...]


@dataclass(frozen=True)
class Check:
    """One property verify read back."""

    name: str
    ok: bool
    detail: str = ""


@dataclass(frozen=True)
class Verification:
    """Every property of the bucket and the role, as read back."""

    checks: tuple[Check, ...]

    @property
    def ok(self) -> bool:
        """Whether everything is as bedrock-tune wants it."""
        return all(c.ok for c in self.checks)

    def failures(self) -> list[Check]:
        """The checks that failed."""
        return [c for c in self.checks if not c.ok]
