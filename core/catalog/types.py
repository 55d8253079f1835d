"""The catalog's types: what a customizable base model takes, allows and costs, and where it is
offered.

Two sources meet here:

* the built-in catalog (`core/catalog_data.py`), written from `reference/bedrock.md` with the
  source and date of every fact, and with what is uncertain said in `notes`;
* the live answer of `bedrock:ListFoundationModels(byCustomizationType=...)` for a region, when
  there is one. A model the region does not list is shown as unavailable there, with the regions
  that have it.

Types here are frozen dataclasses; nothing in this module calls AWS except `fetch_live_models`,
which takes the client as an argument.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Any, Literal

from core.statuses import CustomizationType as CustomizationType  # the catalog speaks of it

if TYPE_CHECKING:
    from collections.abc import Mapping


class DataFormat(StrEnum):
    """The training-record formats Bedrock accepts (reference/bedrock.md section 2)."""

    CLAUDE_MESSAGES = "claude-messages"
    """`{"system": str, "messages": [{"role", "content": str}]}` (Claude 3 Haiku)."""
    CONVERSATION = "bedrock-conversation-2024"
    """`{"schemaVersion", "system": [{"text"}], "messages": [{"role", "content": [blocks]}]}`."""
    PROMPT_COMPLETION = "prompt-completion"
    """`{"prompt": str, "completion": str}` (Titan, Cohere, Llama 3.1)."""
    CONTINUED_PRETRAINING = "continued-pretraining"
    """`{"input": str}` (continued pre-training)."""
    DISTILLATION_PROMPTS = "distillation-prompts"
    """bedrock-conversation-2024 as distillation takes it: exactly one system item, a user
    prompt, and an optional assistant answer (a labeled pair); text only."""

    @property
    def record_shape(self) -> DataFormat:
        """The format whose JSON shape records have (distillation prompts are conversation
        records with a narrower rule set)."""
        return DataFormat.CONVERSATION if self is DataFormat.DISTILLATION_PROMPTS else self

    @property
    def answer_optional(self) -> bool:
        """Whether a record may come without the assistant's answer (prompt-only data)."""
        return self is DataFormat.DISTILLATION_PROMPTS

    @property
    def label(self) -> str:
        """A human label for lists and messages."""
        return _FORMAT_LABELS[self]

    @property
    def example(self) -> str:
        """One valid JSON line of this format, as the docs show it."""
        return _FORMAT_EXAMPLES[self]


_FORMAT_LABELS = {
    DataFormat.CLAUDE_MESSAGES: "Claude messages (system + messages, string content)",
    DataFormat.CONVERSATION: "bedrock-conversation-2024 (messages with content blocks)",
    DataFormat.PROMPT_COMPLETION: "prompt / completion",
    DataFormat.CONTINUED_PRETRAINING: 'continued pre-training ({"input": ...})',
    DataFormat.DISTILLATION_PROMPTS: "distillation prompts (bedrock-conversation-2024: one "
    "system item, a user prompt, an optional answer)",
}
_FORMAT_EXAMPLES = {
    DataFormat.CLAUDE_MESSAGES: '{"system": "You are a helpful assistant.", "messages": '
    '[{"role": "user", "content": "what is AWS"}, {"role": "assistant", "content": '
    '"Amazon Web Services."}]}',
    DataFormat.CONVERSATION: '{"schemaVersion": "bedrock-conversation-2024", "system": '
    '[{"text": "You are a helpful assistant."}], "messages": [{"role": "user", "content": '
    '[{"text": "what is AWS"}]}, {"role": "assistant", "content": [{"text": '
    '"Amazon Web Services."}]}]}',
    DataFormat.PROMPT_COMPLETION: '{"prompt": "What is AWS?", "completion": '
    '"Amazon Web Services."}',
    DataFormat.CONTINUED_PRETRAINING: '{"input": "AWS stands for Amazon Web Services."}',
    DataFormat.DISTILLATION_PROMPTS: '{"schemaVersion": "bedrock-conversation-2024", "system": '
    '[{"text": "You are a helpful assistant."}], "messages": [{"role": "user", "content": '
    '[{"text": "what is AWS"}]}]}',
}


class Lifecycle(StrEnum):
    """`modelLifecycle.status` of a foundation model."""

    ACTIVE = "ACTIVE"
    LEGACY = "LEGACY"


class LifecycleStage(StrEnum):
    """Where a model is in Bedrock's lifecycle in one region (UG model-lifecycle): Active,
    Legacy (still usable, with an end-of-life date to plan for), or End-of-Life (requests
    fail). The API's `modelLifecycle.status` has only ACTIVE and LEGACY; end of life is a date
    that has passed, or a fact the docs state."""

    ACTIVE = "active"
    LEGACY = "legacy"
    END_OF_LIFE = "end-of-life"

    @property
    def label(self) -> str:
        """`active`, `legacy` or `end of life`."""
        return self.value.replace("-", " ")


@dataclass(frozen=True)
class LifecycleFact:
    """What a source says about a model's lifecycle in some regions."""

    stage: LifecycleStage
    source: Source
    regions: tuple[str, ...] = ()
    """The regions this holds in; empty means every region no other fact of the model names."""
    legacy_since: str | None = None
    """ISO date the model became legacy (or was deprecated), when a source gives it."""
    end_of_life: str | None = None
    """ISO date of its end of life there, when a source gives it."""
    note: str = ""
    """What is uncertain about this fact."""


@dataclass(frozen=True)
class LifecycleStatus:
    """A model's lifecycle in one region, as bedrock-tune shows it."""

    stage: LifecycleStage
    end_of_life: str | None = None
    """ISO date, or None when no source gives one."""
    legacy_since: str | None = None
    basis: Literal["live", "catalog"] = "catalog"
    """`live` when ListFoundationModels answered for the region, else the built-in data."""
    source: str = ""
    note: str = ""
    instead: tuple[str, ...] = ()
    """Customization ids of catalog models to pick instead (when not active)."""

    @property
    def active(self) -> bool:
        """Whether the model is active (the only stage bedrock-tune picks by default)."""
        return self.stage is LifecycleStage.ACTIVE

    @property
    def tag(self) -> str:
        """A short tag for lists: `legacy, EOL 2026-09-10`, `end of life since 2026-09-10`,
        or '' for an active model."""
        if self.stage is LifecycleStage.ACTIVE:
            return ""
        if self.stage is LifecycleStage.END_OF_LIFE:
            return "end of life" + (f" since {self.end_of_life}" if self.end_of_life else "")
        return "legacy" + (f", EOL {self.end_of_life}" if self.end_of_life else "")

    def describe(self, region: str) -> str:
        """One line: `legacy in us-west-2, end of life 2026-09-10`, or `active`."""
        if self.stage is LifecycleStage.ACTIVE:
            return "active"
        text = f"{self.stage.label} in {region}"
        if self.stage is LifecycleStage.END_OF_LIFE:
            text += f" since {self.end_of_life}" if self.end_of_life else " (date not in sources)"
        else:
            text += (
                f", end of life {self.end_of_life}"
                if self.end_of_life
                else ", end-of-life date not in the sources"
            )
        return text


class DeploymentOption(StrEnum):
    """How a custom model of this base can serve inference."""

    PROVISIONED_THROUGHPUT = "provisioned-throughput"
    ON_DEMAND_DEPLOYMENT = "on-demand-deployment"


@dataclass(frozen=True)
class Source:
    """Where a fact comes from, and when it was read."""

    name: str
    """A short reference, e.g. `UG custom-models-hp` or `reference/bedrock.md §3.2`."""
    date: str
    """ISO date (or year-month) of the source."""
    url: str = ""


NoteWhen = Literal["always", "with-validation", "without-validation"]
"""When a hyperparameter's note applies: always, or only with (or without) validation data."""


@dataclass(frozen=True)
class Hyperparameter:
    """One entry of `hyperParameters` (the API takes every value as a string)."""

    name: str
    kind: Literal["int", "float"]
    minimum: float
    maximum: float
    default: float | None
    description: str
    note: str = ""
    """Guidance or uncertainty, shown beside the field."""
    note_when: NoteWhen = "always"
    """When the note applies: always, or only for a job with (or without) validation data."""

    def note_for(self, has_validation: bool) -> str:
        """The note for a job with or without validation data ("" when it does not apply)."""
        if self.note_when == "with-validation" and not has_validation:
            return ""
        if self.note_when == "without-validation" and has_validation:
            return ""
        return self.note

    def check(self, value: str) -> str | None:
        """Return why `value` is not acceptable, or None when it is."""
        text = value.strip()
        try:
            number = int(text) if self.kind == "int" else float(text)
        except ValueError:
            kind = "a whole number" if self.kind == "int" else "a number"
            return f"{self.name} must be {kind}, not '{value}'"
        if not math.isfinite(number):  # nan passes both comparisons below
            return f"{self.name} must be a finite number, not '{value}'"
        if not self.minimum <= number <= self.maximum:
            return (
                f"{self.name} must be between {self.format(self.minimum)} and "
                f"{self.format(self.maximum)}, not {text}"
            )
        return None

    def format(self, value: float) -> str:
        """The string form the API receives."""
        if self.kind == "int":
            return str(int(value))
        return f"{value:g}"

    @property
    def default_text(self) -> str | None:
        """The default as the API would receive it."""
        return None if self.default is None else self.format(self.default)


@dataclass(frozen=True)
class Limits:
    """Dataset limits of one customization of one model (reference/bedrock.md section 3.1).

    None means "no limit known": the validator then checks nothing for that value and says so.
    """

    min_records: int | None = None
    """Minimum number of training records (for some models: of training + validation)."""
    max_train_records: int | None = None
    max_validation_records: int | None = None
    max_total_records: int | None = None
    """Maximum of training + validation records (often an adjustable quota)."""
    max_tokens_per_record: int | None = None
    """Maximum input + output tokens of one record."""
    max_input_tokens: int | None = None
    max_output_tokens: int | None = None
    chars_per_token: float = 6.0
    """The planning ratio AWS documents for this model's limits."""
    max_train_file_bytes: int | None = None
    max_validation_file_bytes: int | None = None
    max_images_per_record: int = 0
    max_videos_per_record: int = 0
    validation_data_supported: bool = True
    notes: tuple[str, ...] = ()
    """What is uncertain or adjustable (said here, not guessed)."""

    @property
    def max_chars_per_record(self) -> int | None:
        """The per-record token limit turned into characters with the planning ratio."""
        if self.max_tokens_per_record is None:
            return None
        return int(self.max_tokens_per_record * self.chars_per_token)


@dataclass(frozen=True)
class Pricing:
    """What the model costs to customize, keep and run (all in USD)."""

    training_per_1k_tokens: float | None
    """Training price per 1,000 tokens (tokens x epochs are billed); None when unknown."""
    storage_per_month: float = 1.95
    provisioned_per_hour: float | None = None
    """One model unit of no-commitment provisioned throughput, per hour; None when unknown."""
    on_demand_input_per_1k: float | None = None
    on_demand_output_per_1k: float | None = None
    as_of: str = ""
    source: str = ""
    notes: tuple[str, ...] = ()


@dataclass(frozen=True)
class Teacher:
    """A model a distillation job may take as its teacher
    (`customizationConfig.distillationConfig.teacherModelConfig.teacherModelIdentifier`)."""

    id: str
    """What the request sends: a foundation model id, or a cross-Region inference profile id
    (`us.` ...) for a teacher offered only through one."""
    name: str
    source: Source
    cross_region: bool = False
    """Invoked through a cross-Region inference profile (the role then needs the profile and
    the model in each of its Regions)."""
    note: str = ""

    def matches(self, identifier: str) -> bool:
        """Whether `identifier` names this teacher: its id, its foundation-model or
        inference-profile ARN."""
        wanted = identifier.strip()
        if wanted == self.id:
            return True
        tail = wanted.rsplit("/", 1)[-1]
        kind = "inference-profile/" if self.cross_region else "foundation-model/"
        return wanted.startswith("arn:") and kind in wanted and tail == self.id


@dataclass(frozen=True)
class Customization:
    """One way a base model can be customized (fine-tuning, continued pre-training...)."""

    type: CustomizationType
    data_format: DataFormat
    hyperparameters: tuple[Hyperparameter, ...]
    limits: Limits
    teachers: tuple[Teacher, ...] = ()
    """Distillation: the teachers the sources pair with this student."""

    def teacher(self, identifier: str) -> Teacher | None:
        """The allowed teacher `identifier` names, if any."""
        return next((t for t in self.teachers if t.matches(identifier)), None)

    def hyperparameter(self, name: str) -> Hyperparameter | None:
        """The hyperparameter called `name`, if this customization has it."""
        return next((h for h in self.hyperparameters if h.name == name), None)


@dataclass(frozen=True)
class BaseModel:
    """A base model that Bedrock can customize, as the built-in catalog knows it."""

    id: str
    """The customization id (`baseModelIdentifier`), e.g. `amazon.nova-micro-v1:0:128k`."""
    name: str
    provider: str
    family: str
    """A short family key used by the validator and templates, e.g. `nova`, `llama-3.1`."""
    inference_id: str
    """The id to call the *base* model with (Converse): the plain id or an inference profile.
    Never the customization id: Converse answers `Model not found` for it."""
    regions: tuple[str, ...]
    """Regions where customization of this model is offered."""
    lifecycle: Lifecycle
    customizations: tuple[Customization, ...]
    deployment_options: tuple[DeploymentOption, ...]
    input_modalities: tuple[str, ...] = ("TEXT",)
    pricing: Pricing = field(default_factory=lambda: Pricing(training_per_1k_tokens=None))
    sources: tuple[Source, ...] = ()
    notes: tuple[str, ...] = ()
    """What is uncertain, retired or conflicting about this model."""
    lifecycle_facts: tuple[LifecycleFact, ...] = ()
    """Lifecycle per region, with dates and sources (`lifecycle_in` reads them)."""
    instead: tuple[str, ...] = ()
    """Customization ids of catalog models to pick instead when this one is not active."""

    @property
    def customization_types(self) -> tuple[CustomizationType, ...]:
        """The customization types this model supports."""
        return tuple(c.type for c in self.customizations)

    def customization(self, kind: CustomizationType) -> Customization | None:
        """This model's customization of `kind`, or None when it does not support it."""
        return next((c for c in self.customizations if c.type is kind), None)

    def supports(self, kind: CustomizationType) -> bool:
        """Whether this model can be customized with `kind`."""
        return self.customization(kind) is not None

    def lifecycle_fact(self, region: str) -> LifecycleFact | None:
        """The built-in lifecycle fact for `region`: the one naming it, else the general one."""
        named = next((f for f in self.lifecycle_facts if region in f.regions), None)
        return named or next((f for f in self.lifecycle_facts if not f.regions), None)


@dataclass(frozen=True)
class LiveModel:
    """One `modelSummaries` entry of ListFoundationModels."""

    model_id: str
    name: str
    provider: str
    customizations: tuple[str, ...]
    inference_types: tuple[str, ...]
    lifecycle: str
    input_modalities: tuple[str, ...] = ()
    end_of_life: str | None = None
    """`modelLifecycle.endOfLifeTime` as an ISO date, when the answer carries it."""
    legacy_since: str | None = None
    """`modelLifecycle.legacyTime` as an ISO date, when the answer carries it."""

    @classmethod
    def from_summary(cls, summary: Mapping[str, Any]) -> LiveModel:
        """Build from the API's `FoundationModelSummary` dict."""
        lifecycle = summary.get("modelLifecycle") or {}
        return cls(
            model_id=str(summary.get("modelId", "")),
            name=str(summary.get("modelName", "")),
            provider=str(summary.get("providerName", "")),
            customizations=tuple(summary.get("customizationsSupported") or ()),
            inference_types=tuple(summary.get("inferenceTypesSupported") or ()),
            lifecycle=str(lifecycle.get("status", "ACTIVE")),
            input_modalities=tuple(summary.get("inputModalities") or ()),
            end_of_life=_iso_date(lifecycle.get("endOfLifeTime")),
            legacy_since=_iso_date(lifecycle.get("legacyTime")),
        )


def _iso_date(value: Any) -> str | None:
    """A timestamp of the API (a datetime from boto3) as an ISO date."""
    if isinstance(value, datetime | date):
        return value.isoformat()[:10]
    if isinstance(value, str) and value:
        return value[:10]
    return None


@dataclass(frozen=True)
class ModelAvailability:
    """A catalog model as seen from one region."""

    model: BaseModel
    region: str
    available: bool
    basis: Literal["live", "catalog"]
    """`live` when the region's ListFoundationModels answer decided, `catalog` otherwise."""
    reason: str
    live: LiveModel | None = None
    lifecycle: LifecycleStatus = field(
        default_factory=lambda: LifecycleStatus(LifecycleStage.ACTIVE)
    )
    """The model's lifecycle in `region` (live status when known, dates from the sources)."""


@dataclass(frozen=True)
class CatalogView:
    """The whole catalog as seen from one region, optionally filtered by customization type."""

    region: str
    models: tuple[ModelAvailability, ...]
    live_checked: bool
    """Whether ListFoundationModels answered for this region."""
    live_error: str = ""
    """Why the live list could not be read (when it could not)."""
    unknown_live: tuple[LiveModel, ...] = ()
    """Models the region offers for customization that bedrock-tune's catalog does not know."""

    def get(self, model_id: str) -> ModelAvailability | None:
        """The entry for `model_id` (customization id), if present."""
        return next((m for m in self.models if m.model.id == model_id), None)


# --------------------------------------------------------------------------- lookups
