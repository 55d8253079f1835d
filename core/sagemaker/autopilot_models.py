"""The base models SageMaker Autopilot fine-tunes (`TextGenerationJobConfig.BaseModelName`), their
lifecycle, and the hyperparameters Autopilot takes with their ranges.

Source: reference/bedrock.md section 8 and "Beyond Bedrock's own customization" (checked 2026-12
against botocore 1.44's sagemaker model and the SageMaker developer guide pages
autopilot-llms-finetuning-{models,data-format,hyperparameters,metrics}). What the reference does
not settle is marked uncertain in the data (`uncertain=True` or a ⚠ note), never guessed.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

from core.catalog.sagemaker_models import AUTOPILOT_BASES, DEFAULT_AUTOPILOT_BASE
from core.errors import ValidationError

CHECKED = "2026-12"
SOURCE = (
    "reference/bedrock.md §8 (botocore sagemaker model; SageMaker developer guide "
    "autopilot-llms-finetuning-models), checked " + CHECKED
)
FEATURE_STATUS = (
    "Autopilot LLM fine-tuning (CreateAutoMLJobV2 with TextGenerationJobConfig) is still in the "
    "API and the documentation in 2026 and no deprecation notice was found, but AWS has not "
    "added a model to it since 2023: treat it as legacy. It works only in the Regions where "
    "SageMaker Canvas is available. For newer models use the sagemaker-jumpstart route "
    "(`bedrock-tune jumpstart`) or SageMaker serverless model customization (the "
    "sagemaker-import route, `bedrock-tune sagemaker`), which SageMaker added since."
)
"""Said plainly wherever the route is offered (the reference's verdict; the replacement named is
bedrock-tune's advice, since AWS names none)."""
DEFAULT_BASE_MODEL = DEFAULT_AUTOPILOT_BASE
"""What Autopilot fine-tunes when `BaseModelName` is left out (reference)."""

Lifecycle = Literal["legacy"]


@dataclass(frozen=True)
class AutopilotModel:
    """One `BaseModelName` Autopilot accepts."""

    name: str
    """The `BaseModelName` (`Llama2-7B`)."""
    jumpstart_id: str
    """The JumpStart model Autopilot fine-tunes underneath."""
    row_limit: int
    """Rows of training + validation data together; more fails the job's validation."""
    context: int
    """Tokens per row; longer rows are truncated (over 60 % truncated fails the job)."""
    eula: bool
    """Whether `ModelAccessConfig.AcceptEula` is needed (the reference names Llama 2)."""
    lifecycle: Lifecycle = "legacy"
    note: str = ""
    uncertain: bool = False


def _model(
    name: str, jumpstart_id: str, rows: int, context: int, *, eula: bool = False
) -> AutopilotModel:
    note = (
        "needs the Llama 2 licence accepted (--accept-eula)"
        if eula
        else "⚠ the reference names only Llama 2 as needing a EULA; not verified for this one"
    )
    return AutopilotModel(name, jumpstart_id, rows, context, eula, note=note, uncertain=not eula)


AUTOPILOT_MODELS: tuple[AutopilotModel, ...] = tuple(
    _model(b.name, b.jumpstart_id, b.row_limit, b.context, eula=b.eula) for b in AUTOPILOT_BASES
)
"""Every model of the reference's table, all legacy (the list is frozen at 2023-era models)."""

NOT_OFFERED: dict[str, str] = {
    "Llama2-70B": "⚠ uncertain: not in the copy of Autopilot's model list the reference saw",
}
"""Names people try that the reference's list does not have, with what is known of them."""


def autopilot_model(name: str) -> AutopilotModel:
    """The model called `name` (case as AWS spells it); a ValidationError naming what Autopilot
    offers, and what replaces it, when Autopilot does not offer `name`."""
    for model in AUTOPILOT_MODELS:
        if model.name == name:
            return model
    near = [m.name for m in AUTOPILOT_MODELS if m.name.lower() == name.lower()]
    known = NOT_OFFERED.get(name)
    why = f" ({known})" if known else ""
    offered = ", ".join(m.name for m in AUTOPILOT_MODELS)
    raise ValidationError(
        f"Autopilot does not offer the base model '{name}'{why}.",
        title="Base model not offered by Autopilot",
        hint=(f"Did you mean {near[0]}? " if near else "")
        + f"Autopilot fine-tunes only: {offered}. Its list is frozen at 2023-era models; for "
        "newer ones use `bedrock-tune jumpstart` or `bedrock-tune sagemaker` (serverless "
        "model customization).",
    )


# --------------------------------------------------------------------------- hyperparameters


@dataclass(frozen=True)
class HyperparameterRange:
    """One hyperparameter Autopilot takes (values are strings in the request)."""

    name: str
    kind: Literal["int", "float"]
    low: float
    high: float
    meaning: str


HYPERPARAMETERS: tuple[HyperparameterRange, ...] = (
    HyperparameterRange("epochCount", "int", 1, 10, "passes over the training data"),
    HyperparameterRange("batchSize", "int", 1, 64, "rows per training step"),
    HyperparameterRange("learningRate", "float", 0, 1, "step size of the optimizer"),
    HyperparameterRange(
        "learningRateWarmupSteps", "int", 0, 250, "steps over which the rate ramps up"
    ),
)
"""The reference's ranges (inclusive). Autopilot picks its own value for one left out."""
_VALUE = re.compile(r"[a-zA-Z0-9._-]+")
"""botocore's `TextGenerationHyperParameterValue` (at most 16 characters)."""


def check_hyperparameters(values: Mapping[str, str]) -> dict[str, str]:
    """`values` as Autopilot takes them (trimmed strings); a ValidationError listing every
    unknown name and every value out of its range or not a number."""
    specs = {spec.name: spec for spec in HYPERPARAMETERS}
    problems: list[str] = []
    checked: dict[str, str] = {}
    for name, raw in values.items():
        text = str(raw).strip()
        spec = specs.get(name)
        if spec is None:
            near = [s for s in specs if s.lower() == name.lower()]
            problems.append(
                f"'{name}' is not an Autopilot hyperparameter"
                + (f" (did you mean {near[0]}?)" if near else f" (it takes {', '.join(specs)})")
            )
            continue
        bounds = f"{spec.low:g} to {spec.high:g}"
        try:
            number = int(text) if spec.kind == "int" else float(text)
        except ValueError:
            kind = "a whole number" if spec.kind == "int" else "a number"
            problems.append(f"{name}='{text}' is not {kind}: give {kind} from {bounds}")
            continue
        if not math.isfinite(number) or not spec.low <= number <= spec.high:
            problems.append(f"{name}={text} is out of range: give a value from {bounds}")
            continue
        if len(text) > 16 or not _VALUE.fullmatch(text):
            problems.append(f"{name}='{text}': at most 16 characters, e.g. 0.0001 or 1e-4")
            continue
        checked[name] = text
    if problems:
        raise ValidationError(
            "The Autopilot hyperparameters are not valid:\n"
            + "\n".join(f"- {p}" for p in problems),
            title="Invalid hyperparameters",
            hint="Ranges: "
            + "; ".join(f"{s.name} {s.low:g}-{s.high:g}" for s in HYPERPARAMETERS)
            + ". Nothing was sent.",
        )
    return checked
