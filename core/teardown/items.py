"""Teardown's vocabulary: the items it lists, the events and outcomes of deleting them.

Plain data and pure helpers (no AWS calls); `core/teardown.py` lists and deletes.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Literal

from core import format as fmt
from core.errors import BedrockTuneError, ValidationError
from core.pricing.types import SOURCE_LABELS

# The kinds of resource are the registry's vocabulary (what ResourceRecord.kind holds); teardown
# speaks of them all, so its modules find them here too.
from core.registry import BATCH_JOB as BATCH_JOB
from core.registry import BUCKET as BUCKET
from core.registry import DEPLOYMENT as DEPLOYMENT
from core.registry import IMPORT_JOB as IMPORT_JOB
from core.registry import IMPORTED_MODEL as IMPORTED_MODEL
from core.registry import JOB as JOB
from core.registry import MODEL as MODEL
from core.registry import PREFIX as PREFIX
from core.registry import ROLE as ROLE
from core.registry import THROUGHPUT as THROUGHPUT
from core.registry import ResourceRecord
from core.run import Run
from core.sagemaker import kinds as sagemaker
from core.statuses import JobStatus

DELETE_ORDER: tuple[str, ...] = (
    sagemaker.ENDPOINT,
    sagemaker.ENDPOINT_CONFIG,
    sagemaker.MODEL,
    sagemaker.AUTOML_JOB,
    sagemaker.TRAINING_JOB,
    BATCH_JOB,
    JOB,
    IMPORT_JOB,
    THROUGHPUT,
    DEPLOYMENT,
    MODEL,
    IMPORTED_MODEL,
    PREFIX,
    BUCKET,
    ROLE,
)
"""The order `delete` works in: SageMaker endpoints first (they bill by the hour), their configs
and models, then stop what runs (Autopilot and training jobs, batch jobs, customization), then
what serves on Bedrock, then the models it served, then objects, their buckets, and last the role
(its policy first)."""

DEFAULT_POLICY_NAME = "bedrock-tune-data-access"
"""The role's inline policy when the registry entry does not name it (core/infra_policies.py)."""
OUR_POLICY_PREFIX = "bedrock-tune"
"""Inline policies named so on a role tagged as ours are ours (the registry being gone)."""
BATCH = 1000
"""DeleteObjects takes at most 1,000 keys per call."""

CostClass = Literal["hourly", "storage", "free"]
Origin = Literal["ours", "found"]
"""`ours`: this install's registry records it or its tags carry this install's id (deleted by
default). `found`: only the `bedrock-tune:managed` tag points at it: made by bedrock-tune
elsewhere (another install, user or machine); deleted only when asked for."""
Action = Literal["stop", "delete", "delete-policy", "forget"]
OutcomeStatus = Literal["stopped", "deleted", "forgotten", "gone", "kept", "failed", "skipped"]
COST_RANK = {"hourly": 0, "storage": 1, "free": 2}
"""Listing order: what bills by the hour (or by use), then storage, then what is free."""
DONE: frozenset[str] = frozenset({"stopped", "deleted", "forgotten", "gone"})
"""Outcomes after which nothing of ours is left (the registry entry is removed)."""


@dataclass(frozen=True)
class TeardownItem:
    """One thing bedrock-tune made (or changed) that teardown can remove."""

    kind: str
    identifier: str
    """Bucket or role name, `s3://bucket/prefix/run/`, or an ARN."""
    region: str
    label: str
    action: Action
    effect: str
    """What deleting it does, in a sentence or two."""
    cost_class: CostClass = "free"
    hourly_cost: float | None = None
    monthly_cost: float | None = None
    window_cost: float | None = None
    """An imported model: what one 5-minute window of an active copy costs."""
    cost_note: str = ""
    price_source: str = ""
    """Where the hourly or monthly price comes from (`Price List API, 2026-12-02`)."""
    in_registry: bool = False
    tagged: bool = False
    created_by_us: bool = True
    exists: bool = True
    """False when nothing of ours is left in AWS: deleting it only forgets the registry entry."""
    status: str = ""
    depends_on: tuple[str, ...] = ()
    """Keys of items that must be deleted first (the deployments serving a custom model)."""
    name: str = ""
    """The name APIs accept instead of the ARN (jobs, custom models)."""
    policy_names: tuple[str, ...] = ()
    """A role's inline policies that bedrock-tune added."""
    prefixes: tuple[str, ...] = ()
    """A bucket's folders that bedrock-tune wrote (emptied before the bucket is deleted)."""
    problem: str = ""
    """A check that failed while listing (deleting is still possible)."""
    origin: Origin = "ours"
    created_at: str = ""
    """When it was made (ISO 8601), where AWS or the registry says."""
    created_by: str = ""
    """The identity that made it, where its `bedrock-tune:created-by` tag says."""
    output: str = ""
    """Where a SageMaker job writes its output (`s3://bucket/prefix/`); '' when unknown."""

    @property
    def key(self) -> str:
        """`kind:identifier`, unique in an inventory."""
        return f"{self.kind}:{self.identifier}"

    @property
    def billable(self) -> bool:
        """Whether it bills by the hour or by use while it exists."""
        return self.cost_class == "hourly"

    @property
    def ours_by(self) -> str:
        """Why teardown considers it bedrock-tune's."""
        if self.origin == "found":
            return "tag"
        if self.in_registry and self.tagged:
            return "registry and tag"
        return "registry" if self.in_registry else "this install's tag"

    @property
    def provenance(self) -> str:
        """Who made it and when, as far as known ("made by ... on ..."), or ""."""
        parts = []
        if self.created_by:
            parts.append(f"by {self.created_by}")
        if self.created_at:
            parts.append(f"on {self.created_at[:10]}")
        return ("made " + " ".join(parts)) if parts else ""

    @property
    def cost_text(self) -> str:
        """The cost as a short phrase ("$21.18/h (Price List API, 2026-12-02)", "$1.95/month
        (built-in, 2025-07-20)", "no charge")."""
        return self._cost_phrase(sources=True)

    @property
    def unsourced_cost_text(self) -> str:
        """`cost_text` without where its prices come from, for a row with less room."""
        return self._cost_phrase(sources=False)

    def _cost_phrase(self, *, sources: bool) -> str:
        source = f" ({self.price_source})" if self.price_source and sources else ""
        note = self.cost_note
        if self.kind == IMPORTED_MODEL and note and not sources:
            note = imported_model_note(self.window_cost, self.monthly_cost, "", "")
        if self.cost_class == "hourly":
            price = f"{fmt.money(self.hourly_cost)}/h{source}" if self.hourly_cost else ""
            return ", ".join(p for p in (price, note) if p) or "billed"
        if self.cost_class == "storage":
            price = (
                f"{fmt.money(self.monthly_cost)}/month{source}"
                if self.monthly_cost is not None
                else ""
            )
            return ", ".join(p for p in (price, note) if p) or "storage billed monthly"
        return note or "no charge"

    @property
    def short_cost_text(self) -> str:
        """The cost's figures alone, for a narrow row ("$21.18/h", "$1.95/month", "per token",
        "$0.2859/5-min window, $1.95/month", "price unknown", "no charge"):
        `cost_text` without where the price comes from or how it bills in words."""
        month = _per(self.monthly_cost, "month", "storage price unknown")
        if self.cost_class == "storage":
            return month
        if self.cost_class == "free":
            return self.cost_text
        if self.kind == IMPORTED_MODEL:
            return f"{_per(self.window_cost, '5-min window', 'window price unknown')}, {month}"
        if self.kind in (JOB, BATCH_JOB, DEPLOYMENT):
            # Training, batch inference and an on-demand deployment bill what they process.
            return "per token"
        if self.hourly_cost is None:
            return fmt.UNKNOWN_PRICE
        return f"{fmt.money(self.hourly_cost)}/h" if self.hourly_cost else self.cost_text

    def to_json(self) -> dict[str, Any]:
        """Plain JSON-able data."""
        return {
            "key": self.key,
            "kind": self.kind,
            "identifier": self.identifier,
            "region": self.region,
            "label": self.label,
            "action": self.action,
            "effect": self.effect,
            "cost_class": self.cost_class,
            "hourly_cost": self.hourly_cost,
            "monthly_cost": self.monthly_cost,
            "price_source": self.price_source or None,
            "cost": self.cost_text,
            "ours_by": self.ours_by,
            "origin": self.origin,
            "created_at": self.created_at or None,
            "created_by": self.created_by or None,
            "created_by_us": self.created_by_us,
            "exists": self.exists,
            "status": self.status,
            "depends_on": list(self.depends_on),
            "problem": self.problem,
        }


def _per(amount: float | None, unit: str, unknown: str) -> str:
    """`$1.95/month`, or `unknown` when the price is (never `$0`)."""
    return unknown if amount is None else f"{fmt.money(amount)}/{unit}"


@dataclass(frozen=True)
class TeardownEvent:
    """Progress of `delete`: an item started, a step inside it, or how it ended."""

    item: TeardownItem
    stage: Literal["start", "step", "end"]
    message: str
    status: OutcomeStatus | None = None


@dataclass(frozen=True)
class TeardownOutcome:
    """How one item ended."""

    item: TeardownItem
    status: OutcomeStatus
    message: str
    error: BedrockTuneError | None = field(default=None, compare=False)

    @property
    def done(self) -> bool:
        """Nothing of ours is left of it (its registry entry was removed)."""
        return self.status in DONE

    def to_json(self) -> dict[str, Any]:
        """Plain JSON-able data."""
        data: dict[str, Any] = {
            "key": self.item.key,
            "kind": self.item.kind,
            "identifier": self.item.identifier,
            "status": self.status,
            "message": self.message,
        }
        if self.error is not None:
            data["error"] = {"title": self.error.title, "hint": self.error.hint}
        return data


@dataclass(frozen=True)
class TeardownResult:
    """Every item's outcome, in the order they were handled."""

    outcomes: tuple[TeardownOutcome, ...]

    @property
    def failed(self) -> tuple[TeardownOutcome, ...]:
        """The items that could not be deleted (or were skipped because of one)."""
        return tuple(o for o in self.outcomes if o.status in ("failed", "skipped"))

    @property
    def ok(self) -> bool:
        """Nothing failed (an item deliberately kept is not a failure)."""
        return not self.failed

    def to_json(self) -> dict[str, Any]:
        """Plain JSON-able data."""
        return {"ok": self.ok, "outcomes": [o.to_json() for o in self.outcomes]}


EventHandler = Callable[[TeardownEvent], None]


def window_note(per_window: float | None, source: str = "") -> str:
    """How an imported model bills while used: `$0.57 per 5-min window while a copy is active
    (Price List API, 2026-12-02)`."""
    if per_window is None:
        return "price unknown per 5-min window while a copy is active"
    where = f" ({source})" if source else ""
    return f"{fmt.money(per_window)} per 5-min window while a copy is active{where}"


def imported_model_note(
    per_window: float | None, per_month: float | None, source: str, storage_source: str
) -> str:
    """An imported model's whole cost: its windows while active, nothing idle, its storage."""
    if per_month is None:
        storage = "storage price unknown"
    else:
        where = f" ({storage_source})" if storage_source else ""
        storage = f"{fmt.money(per_month)}/month storage{where}"
    return f"{window_note(per_window, source)}; nothing while idle; {storage}"


def delete_rank(kind: str) -> int:
    """Where `kind` comes in `DELETE_ORDER` (kinds teardown cannot delete come last)."""
    return DELETE_ORDER.index(kind) if kind in DELETE_ORDER else len(DELETE_ORDER)


def short_name(arn: str) -> str:
    """The last segment of an ARN (or the identifier itself)."""
    return arn.rsplit("/", 1)[-1]


def split_s3_uri(uri: str) -> tuple[str, str]:
    """(bucket, key prefix ending in `/`) of `s3://bucket/prefix/`.

    Raises:
        ValidationError: not an S3 URI, or no folder (teardown never empties a whole bucket
            from a folder entry).
    """
    if not uri.startswith("s3://"):
        raise ValidationError(f"'{uri}' is not an s3:// URI.", hint="Fix the registry entry.")
    bucket, _, prefix = uri[5:].partition("/")
    prefix = prefix.strip("/")
    if not bucket or not prefix:
        raise ValidationError(
            f"'{uri}' names no folder inside the bucket.",
            hint="A folder entry must look like s3://<bucket>/<prefix>/<run>/.",
        )
    return bucket, prefix + "/"


def recorded_price_source(details: Mapping[str, Any], source_key: str, date_key: str) -> str:
    """`Price List API, 2026-12-02` from a registry entry's recorded source and date ('' when
    none was recorded; an entry from before sources were kept says `reference, <date>`)."""
    source, as_of = details.get(source_key), details.get(date_key)
    if isinstance(source, str) and source in SOURCE_LABELS:
        label = SOURCE_LABELS[source]
        return f"{label}, {as_of}" if as_of else label
    if source_key == "price_source" and as_of:
        return f"reference, {as_of}"
    return ""


def item_from_record(record: ResourceRecord) -> TeardownItem:
    """A registry entry as a teardown item, without asking AWS (e.g. the quit guard's list)."""
    cost: CostClass = "hourly" if record.billable else "storage" if record.kind == MODEL else "free"
    bucket = record.kind == BUCKET
    action: Action = "forget" if bucket and not record.created_by_us else "delete"
    if record.kind in (BATCH_JOB, sagemaker.TRAINING_JOB, sagemaker.AUTOML_JOB):
        action = "stop"
    if record.kind == IMPORT_JOB:
        action = "forget"  # an import cannot be stopped or deleted
    imported = record.kind == IMPORTED_MODEL
    window = record.details.get("per_window") if imported else None
    month = record.details.get("per_month") if imported else None
    source = recorded_price_source(record.details, "price_source", "prices_as_of")
    storage_source = recorded_price_source(record.details, "storage_source", "storage_as_of")
    return TeardownItem(
        kind=record.kind,
        identifier=record.identifier,
        region=record.region,
        label=f"{record.kind} {record.details.get('name') or short_name(record.identifier)}",
        action=action,
        effect="",
        cost_class=cost,
        window_cost=None if window is None else float(window),
        monthly_cost=None if month is None else float(month),
        cost_note=imported_model_note(
            None if window is None else float(window),
            None if month is None else float(month),
            source,
            storage_source or source,
        )
        if imported
        else "",
        price_source=source if imported else "",
        in_registry=True,
        created_by_us=record.created_by_us,
        name=str(record.details.get("name") or ""),
        policy_names=(str(record.details.get("policy_name") or DEFAULT_POLICY_NAME),),
        created_at=record.created,
    )


def with_dependencies(
    chosen: Iterable[TeardownItem], items: Sequence[TeardownItem]
) -> list[TeardownItem]:
    """`chosen` plus what must be deleted before them (a model's deployments), in `items` order."""
    wanted = {i.key for i in chosen}
    by_key = {i.key: i for i in items}
    pending = list(wanted)
    while pending:
        item = by_key.get(pending.pop())
        for key in item.depends_on if item else ():
            if key not in wanted and key in by_key:
                wanted.add(key)
                pending.append(key)
    return [i for i in items if i.key in wanted]


def run_without(item: TeardownItem, run: Run) -> Run:
    """The run once `item` is gone (the same run when it does not use it): it forgets what no
    longer exists, so no step shows as done on something deleted (the sidebar's Infrastructure
    tick goes with the bucket, the role or the uploaded files)."""
    if item.kind in (THROUGHPUT, DEPLOYMENT) and run.serving_arn == item.identifier:
        return replace(run, serving_kind=None, serving_arn=None, serving_status=None)
    if item.kind == sagemaker.ENDPOINT:
        from core.sagemaker.deploying import run_without_endpoint

        return run_without_endpoint(run, item.identifier)
    if item.kind in (sagemaker.TRAINING_JOB, sagemaker.AUTOML_JOB) and (
        run.job_name == item.identifier
    ):
        if item.exists:  # stopped by teardown: it goes Stopping, then Stopped
            return replace(run, job_status=JobStatus.STOPPING)
        # It had ended (Completed, Failed, Stopped): the run keeps how, so it is not taken for
        # a job still going (which would keep claiming what its import made).
        ended = {s.value: s for s in JobStatus if s.terminal}.get(item.status)
        return replace(run, job_status=ended) if ended else run
    if item.kind in (MODEL, IMPORTED_MODEL) and run.custom_model_arn == item.identifier:
        return replace(run, custom_model_arn=None)
    if item.kind == JOB and run.job_arn == item.identifier:
        return replace(run, job_status=JobStatus.STOPPING)
    if item.kind == ROLE and run.role_arn and run.role_arn.rsplit("/", 1)[-1] == item.identifier:
        return replace(run, role_arn=None)
    if item.kind == BUCKET:
        run = _without_objects_under(run, f"s3://{item.identifier}/")
        return replace(run, bucket=None) if run.bucket == item.identifier else run
    if item.kind == PREFIX:
        return _without_objects_under(run, item.identifier.rstrip("/") + "/")
    return run


def _without_objects_under(run: Run, folder: str) -> Run:
    """The run without the S3 locations inside `folder` (`s3://bucket/prefix/`)."""

    def kept(uri: str | None) -> str | None:
        return None if uri is not None and uri.startswith(folder) else uri

    return replace(
        run,
        training_uri=kept(run.training_uri),
        validation_uri=kept(run.validation_uri),
        test_uri=kept(run.test_uri),
        output_uri=kept(run.output_uri),
    )
