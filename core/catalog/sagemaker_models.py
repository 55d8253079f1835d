"""The base models of the `sagemaker-autopilot` and `sagemaker-jumpstart` routes, seen by the
dataset steps (template, prepare, validate) as catalog models: the record format they are
prepared in and the length a record may have.

Autopilot fine-tunes a fixed list of base models (`BaseModelName`); the facts of that list are
here, in the catalog (the lowest layer that knows models), and `core.sagemaker.autopilot_models`
builds Autopilot's own view of them (lifecycle, EULA notes, the hyperparameter ranges).

Both routes train on prompt / completion records: Autopilot's CSV takes the prompt as `input` and
the completion as `output` (`core.sagemaker.autopilot_data`); a JumpStart training script reads
JSON lines. ⚠ That JumpStart's scripts read `prompt` / `completion` lines as they are (without a
`template.json`) follows the SageMaker Python SDK's examples, not an AWS API document.

Like the open-weight models (`core.catalog.open_weight`) they are never offered among Bedrock's
own models: `find_model` finds them by their Autopilot name or their Public Hub id.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from core.catalog.types import (
    BaseModel,
    Customization,
    CustomizationType,
    DataFormat,
    Lifecycle,
    Limits,
    Pricing,
    Source,
)

PROVIDER = "SageMaker"
"""The provider of every model here: trained and served on SageMaker, billed per instance-hour."""
CHECKED = "2026-12"
SOURCE = Source("reference/bedrock.md §8 (Autopilot LLM fine-tuning)", CHECKED)
SAGEMAKER_REGIONS = ("us-east-1", "us-east-2", "us-west-2", "eu-central-1", "eu-west-1")
"""⚠ Regions shown for these models: SageMaker (and Canvas, which Autopilot needs) is offered in
many more; the reference lists none for these routes, so the region is not checked here."""


@dataclass(frozen=True)
class AutopilotBase:
    """One row of the reference's table of Autopilot base models."""

    name: str
    """The `BaseModelName` (`Llama2-7B`)."""
    jumpstart_id: str
    """The JumpStart model Autopilot fine-tunes underneath."""
    row_limit: int
    """Rows of training + validation data together; more fails the job's validation."""
    context: int
    """Tokens per row; longer rows are truncated (over 60 % truncated fails the job)."""
    eula: bool = False
    """Whether `ModelAccessConfig.AcceptEula` is needed (the reference names Llama 2)."""


AUTOPILOT_BASES: tuple[AutopilotBase, ...] = (
    AutopilotBase("Dolly3B", "huggingface-textgeneration-dolly-v2-3b-bf16", 10_000, 1_024),
    AutopilotBase("Dolly7B", "huggingface-textgeneration-dolly-v2-7b-bf16", 10_000, 1_024),
    AutopilotBase("Dolly12B", "huggingface-textgeneration-dolly-v2-12b-bf16", 10_000, 1_024),
    AutopilotBase("Falcon7B", "huggingface-llm-falcon-7b-bf16", 1_000, 1_024),
    AutopilotBase("Falcon7BInstruct", "huggingface-llm-falcon-7b-instruct-bf16", 1_000, 1_024),
    AutopilotBase("Falcon40B", "huggingface-llm-falcon-40b-bf16", 10_000, 1_024),
    AutopilotBase("Falcon40BInstruct", "huggingface-llm-falcon-40b-instruct-bf16", 10_000, 1_024),
    AutopilotBase("FlanT5L", "huggingface-text2text-flan-t5-large", 10_000, 1_024),
    AutopilotBase("FlanT5XL", "huggingface-text2text-flan-t5-xl", 10_000, 1_024),
    AutopilotBase("FlanT5XXL", "huggingface-text2text-flan-t5-xxl", 10_000, 1_024),
    AutopilotBase("Llama2-7B", "meta-textgeneration-llama-2-7b", 10_000, 2_048, eula=True),
    AutopilotBase("Llama2-7BChat", "meta-textgeneration-llama-2-7b-f", 10_000, 2_048, eula=True),
    AutopilotBase("Llama2-13B", "meta-textgeneration-llama-2-13b", 7_000, 2_048, eula=True),
    AutopilotBase("Llama2-13BChat", "meta-textgeneration-llama-2-13b-f", 7_000, 2_048, eula=True),
    AutopilotBase("Mistral7B", "huggingface-llm-mistral-7b", 10_000, 2_048),
    AutopilotBase("Mistral7BInstruct", "huggingface-llm-mistral-7b-instruct", 10_000, 2_048),
    AutopilotBase("MPT7B", "huggingface-textgeneration1-mpt-7b-bf16", 10_000, 1_024),
    AutopilotBase(
        "MPT7BInstruct", "huggingface-textgeneration1-mpt-7b-instruct-bf16", 10_000, 1_024
    ),
)
"""Every model of the reference's table (§8), all legacy: the list is frozen at 2023-era models."""

DEFAULT_AUTOPILOT_BASE = "Falcon7BInstruct"
"""What Autopilot fine-tunes when `BaseModelName` is left out (reference §8)."""
DEFAULT_JUMPSTART_MODEL = "meta-textgeneration-llama-2-7b"
"""The JumpStart walkthrough's model (Llama 2 7B on Dolly, issue 14): the route's first choice;
its launch step lists every fine-tunable text model of the Public Hub."""

_PRICING = Pricing(
    training_per_1k_tokens=None,
    storage_per_month=0.0,
    as_of=CHECKED,
    source="SageMaker bills training and endpoints per instance-hour (the launch and endpoint "
    "steps price the instance type from the Price List)",
    notes=("Billed per instance-hour, not per token: the launch step estimates it.",),
)


def _model(model_id: str, name: str, family: str, tokens: int, rows: int | None) -> BaseModel:
    limits = Limits(
        max_total_records=rows,
        max_tokens_per_record=tokens,
        chars_per_token=4.0,
        notes=(
            f"Trained on SageMaker: a record over {tokens:,} tokens is truncated by the trainer.",
        ),
    )
    return BaseModel(
        id=model_id,
        name=name,
        provider=PROVIDER,
        family=family,
        inference_id="",  # Bedrock serves no base model of it: nothing to compare with
        regions=SAGEMAKER_REGIONS,
        lifecycle=Lifecycle.LEGACY if family == "sagemaker-autopilot" else Lifecycle.ACTIVE,
        customizations=(
            Customization(CustomizationType.FINE_TUNING, DataFormat.PROMPT_COMPLETION, (), limits),
        ),
        deployment_options=(),
        pricing=_PRICING,
        sources=(SOURCE,),
    )


@cache
def autopilot_catalog_models() -> tuple[BaseModel, ...]:
    """A catalog model for each Autopilot base model, by its `BaseModelName`."""
    return tuple(
        _model(b.name, b.name, "sagemaker-autopilot", b.context, b.row_limit)
        for b in AUTOPILOT_BASES
    )


@cache
def jumpstart_catalog_models() -> tuple[BaseModel, ...]:
    """A catalog model for each JumpStart model id Autopilot's table names (the Public Hub has
    more: `jumpstart_catalog_model` makes one for any id)."""
    return tuple(jumpstart_catalog_model(b.jumpstart_id) for b in AUTOPILOT_BASES)


def jumpstart_catalog_model(hub_id: str) -> BaseModel:
    """A catalog model for a JumpStart (Public Hub) model id: its context is the Autopilot
    table's where the model is there, else 2,048 tokens (⚠ the common JumpStart default for
    `max_input_length`; the model's spec may allow more)."""
    base = next((b for b in AUTOPILOT_BASES if b.jumpstart_id == hub_id), None)
    return _model(hub_id, hub_id, "jumpstart", base.context if base else 2_048, None)


def served_on_sagemaker(model: BaseModel) -> bool:
    """Whether `model` is one of these routes' (trained and served on SageMaker, billed per
    instance-hour: no per-token training price, no Bedrock storage or throughput)."""
    return model.provider == PROVIDER
