"""The open-weight base models of route `sagemaker-import`, seen by the dataset steps as catalog
models: the format the QLoRA script and serverless customization read (Bedrock's conversation
records: a system prompt and user / assistant turns, which `train_qlora.to_messages` turns into
the model's chat template) and the length the training takes (`max_seq_length`, 2,048 tokens by
default). They are never offered among Bedrock's own models (`builtin_models`): `find_model`
finds them only by their SageMaker Public Hub id.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from core.catalog.import_pricing import IMPORT_PRICING
from core.catalog.types import (
    BaseModel,
    Customization,
    CustomizationType,
    DataFormat,
    Lifecycle,
    Limits,
    Pricing,
)

SEQUENCE_TOKENS = 2048
"""The QLoRA script's default `max_seq_length` (core.sagemaker.training.QLORA_DEFAULTS)."""
IMPORT_REGIONS = ("eu-central-1", "us-east-1", "us-east-2", "us-west-2")
"""Where the trained model can then be imported (core.importing.architectures)."""


@dataclass(frozen=True)
class OpenWeightModel:
    """A base model the `sagemaker-import` route trains and Custom Model Import then serves."""

    hub_id: str
    """Its SageMaker Public Hub (JumpStart) id."""
    name: str
    model_type: str
    """The `config.json` architecture the import check will see (`core.importing`)."""
    gated: bool
    """Whether Hugging Face asks for a licence acceptance (HF_TOKEN for an instance job)."""


OPEN_WEIGHT_MODELS: tuple[OpenWeightModel, ...] = (
    OpenWeightModel("meta-textgeneration-llama-3-8b", "Meta Llama 3 8B", "llama", True),
    OpenWeightModel("huggingface-llm-mistral-7b", "Mistral 7B", "mistral", False),
)
"""The base models the train step offers (the walkthrough's first): Public Hub ids the reference
names whose architecture Custom Model Import serves (reference §7 and the JumpStart table)."""


@cache
def open_weight_models() -> tuple[BaseModel, ...]:
    """A catalog model for each base model the train step offers."""
    limits = Limits(
        max_tokens_per_record=SEQUENCE_TOKENS,
        chars_per_token=4.0,
        notes=(
            "Trained on SageMaker: records longer than the training's sequence length "
            f"({SEQUENCE_TOKENS:,} tokens by default) are cut by the trainer.",
        ),
    )
    return tuple(
        BaseModel(
            id=model.hub_id,
            name=model.name,
            provider="SageMaker Public Hub",
            family=model.model_type,
            inference_id="",  # Bedrock serves no base model of it: nothing to compare with
            regions=IMPORT_REGIONS,
            lifecycle=Lifecycle.ACTIVE,
            customizations=(
                Customization(CustomizationType.FINE_TUNING, DataFormat.CONVERSATION, (), limits),
            ),
            deployment_options=(),
            # Training is priced in the Train step (instance-hours, or serverless); what stays
            # is the imported model's storage, per custom model unit (1 CMU shown).
            pricing=Pricing(
                training_per_1k_tokens=None,
                storage_per_month=IMPORT_PRICING.storage_per_month(1),
                as_of=IMPORT_PRICING.as_of,
                source=f"Custom Model Import storage per CMU-month: {IMPORT_PRICING.source}",
                notes=(
                    "Training on SageMaker is billed by instance-hour (or serverless): the "
                    "Train step estimates it.",
                ),
            ),
            notes=("Trained on SageMaker, then imported with Custom Model Import.",),
        )
        for model in OPEN_WEIGHT_MODELS
    )
