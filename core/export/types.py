"""The words of an export: parameters, calls, uploads, pauses, waits, and the plan that holds
them (`steps.export_plan` builds it; each format renders it)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from core.errors import ValidationError
from core.statuses import ServingKind

PLACEHOLDER = re.compile(r"\{([a-z][a-z0-9_]*)\}")
"""How a parameter is written inside a request value: `{bucket}`."""
SAFE_VALUE = r"[A-Za-z0-9._:/+=@-]+"
"""What a parameter's value may hold (checked by the scripts before any call): every name, id,
ARN and token fits, and nothing in it can break the JSON or shell text it is put into."""
STAMP_FORMAT = "%Y%m%d-%H%M%S"

ParamSource = Literal[
    "input", "derived", "account", "caller", "partition", "stamp", "random", "flag"
]
"""Where a parameter's value comes from: the user (with a default), earlier parameters, STS (the
account, or the caller's ARN as a tag value), the region, the clock, random bytes, or a yes/no
switch."""


class ExportError(ValidationError):
    """A run or recipe that cannot be exported (another route, no base model...)."""

    default_title = "Cannot export this run"


@dataclass(frozen=True)
class Param:
    """One value a script takes or works out."""

    name: str
    help: str
    source: ParamSource = "input"
    default: str | None = None
    """A text over earlier parameters (`bt-{stamp}`); None with `input` and no `random_bytes`:
    the user must give it."""
    path: bool = False
    """A local path (not sent to AWS, so not held to `SAFE_VALUE`)."""
    seconds: bool = False
    """A number of seconds (the scripts check it is a whole number)."""
    random_bytes: int = 0
    """When above 0, the default is that many fresh random bytes, as hex (a token, a suffix)."""

    @property
    def settable(self) -> bool:
        """Whether the user may set it (the others are worked out by the script)."""
        return self.source in ("input", "flag")


@dataclass(frozen=True)
class JsonText:
    """A request member that is a JSON document sent as text (a policy)."""

    document: Mapping[str, Any]


@dataclass(frozen=True)
class Call:
    """One AWS call, with why it is there."""

    service: Literal["sts", "s3", "iam", "bedrock"]
    operation: str
    """The API's operation name (`CreateBucket`); boto3 and the CLI derive theirs from it."""
    request: Mapping[str, Any]
    why: str
    only_if: str | None = None
    """A flag parameter (`serve`) or an earlier call's `created` flag (`bucket_created`)."""
    reuse_on: tuple[str, ...] = ()
    """Error codes that mean the resource exists already and is yours: it is reused."""
    created: str | None = None
    """A flag set true when the call made the resource, false when it was reused."""
    outside_us_east_1: Mapping[str, Any] = field(default_factory=dict)
    """Members sent only when the region is not us-east-1 (S3 refuses a LocationConstraint
    there)."""
    result: tuple[str, str] | None = None
    """(parameter, response member): a value later steps use, e.g. ("account_id", "Account")."""
    show: str | None = None
    """A response member to print when the call returns (what a person wants to see)."""


@dataclass(frozen=True)
class Upload:
    """One prepared file put into the run's data folder."""

    file: str
    key: str
    why: str


@dataclass(frozen=True)
class Pause:
    """Wait a parameter's number of seconds (e.g. for a new role to be usable)."""

    seconds: str
    why: str
    only_if: str | None = None


@dataclass(frozen=True)
class WaitForJob:
    """Poll the job until it ends; a completed job's custom model ARN becomes `result`."""

    job: str
    interval: str
    result: str
    why: str
    only_if: str | None = None


Step = Call | Upload | Pause | WaitForJob


@dataclass(frozen=True)
class Infrastructure:
    """The bucket's settings and the role's documents (placeholders left in), for the formats
    that describe resources instead of calls (IAM, CloudFormation)."""

    public_access_block: Mapping[str, Any]
    encryption: Mapping[str, Any]
    bucket_policy: Mapping[str, Any]
    trust_policy: Mapping[str, Any]
    permissions_policy: Mapping[str, Any]
    policy_name: str
    role_description: str
    tags: Mapping[str, str]


@dataclass(frozen=True)
class ExportPlan:
    """Everything a format needs: parameters in the order they are worked out, then steps."""

    title: str
    base_model_id: str
    """The base model (an ARN of the run's account has `{account_id}` in it)."""
    params: tuple[Param, ...]
    steps: tuple[Step, ...]
    files: tuple[str, ...]
    """The prepared files the data folder must hold (checked before any call)."""
    infrastructure: Infrastructure
    serving: ServingKind | None

    def param(self, name: str) -> Param:
        """The parameter called `name`."""
        return next(p for p in self.params if p.name == name)


def placeholders(text: str) -> list[str]:
    """The parameter names written in `text`."""
    return PLACEHOLDER.findall(text)


def split_text(text: str) -> list[tuple[str, bool]]:
    """`text` as (piece, is_parameter) pairs: `"a-{b}"` -> [("a-", False), ("b", True)]."""
    pieces: list[tuple[str, bool]] = []
    at = 0
    for match in PLACEHOLDER.finditer(text):
        if match.start() > at:
            pieces.append((text[at : match.start()], False))
        pieces.append((match.group(1), True))
        at = match.end()
    if at < len(text):
        pieces.append((text[at:], False))
    return pieces
