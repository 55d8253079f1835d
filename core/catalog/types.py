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

from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Any, Literal

from core.jobs.types import CustomizationType as CustomizationType  # the catalog speaks of it

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
}


class Lifecycle(StrEnum):
    """`modelLifecycle.status` of a foundation model."""

    ACTIVE = "ACTIVE"
    LEGACY = "LEGACY"


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

    def check(self, value: str) -> str | None:
        """Return why `value` is not acceptable, or None when it is."""
        text = value.strip()
        try:
            number = int(text) if self.kind == "int" else float(text)
        except ValueError:
            kind = "a whole number" if self.kind == "int" else "a number"
            return f"{self.name} must be {kind}, not '{value}'"
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
class Customization:
    """One way a base model can be customized (fine-tuning, continued pre-training...)."""

    type: CustomizationType
    data_format: DataFormat
    hyperparameters: tuple[Hyperparameter, ...]
    limits: Limits

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

    @classmethod
    def from_summary(cls, summary: Mapping[str, Any]) -> LiveModel:
        """Build from the API's `FoundationModelSummary` dict."""
        return cls(
            model_id=str(summary.get("modelId", "")),
            name=str(summary.get("modelName", "")),
            provider=str(summary.get("providerName", "")),
            customizations=tuple(summary.get("customizationsSupported") or ()),
            inference_types=tuple(summary.get("inferenceTypesSupported") or ()),
            lifecycle=str((summary.get("modelLifecycle") or {}).get("status", "ACTIVE")),
            input_modalities=tuple(summary.get("inputModalities") or ()),
        )


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

    @property
    def lifecycle(self) -> str:
        """The live lifecycle when known, else the catalog's."""
        return self.live.lifecycle if self.live else self.model.lifecycle.value


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
