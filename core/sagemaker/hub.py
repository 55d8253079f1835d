"""The SageMaker Public Hub (`SageMakerPublicHub`) read with boto3 alone: which JumpStart models
generate text and can be fine-tuned, and for one model what a training job needs (training
image, script and artifact locations, default hyperparameters with their spec, supported
instance types, EULA). The SageMaker Python SDK is not needed and stays out of the install.

API shapes from botocore's sagemaker model (1.44): `ListHubContents` (HubName, HubContentType,
NameContains, MaxResults, NextToken -> HubContentSummaries), `DescribeHubContent` (->
HubContentDocument, a JSON string). The document's fields are not in botocore: their names are
those the SageMaker Python SDK reads (`sagemaker.jumpstart.hub.interfaces.HubModelDocument`,
schema 2.3.0: `TrainingSupported`, `TrainingEcrUri`, `TrainingScriptUri`,
`TrainingArtifactUri`, `Hyperparameters` [{Name, Type, Default, Min, Max, Options, Scope}],
`DefaultTrainingInstanceType`, `SupportedTrainingInstanceTypes`, `HostingEulaUri`,
`GatedBucket`, `Task`, and `HostingEcrUri`: the image JumpStart serves the model with). ⚠ The
search keywords that mark a text-generation, fine-tunable model
are read from the document when the summary does not carry them.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from core.aws import AwsContext
from core.errors import NotFoundError, ValidationError, aws_call
from core.sagemaker.training import PUBLIC_HUB

TEXT_GENERATION = "text-generation"
_TEXT_KEYWORDS = ("@task:text-generation", "@task:llm", "@task:text2text-generation")
"""⚠ JumpStart's search keywords for text generation (as the Public Hub lists them)."""
IMPORTABLE_FAMILIES: dict[str, str] = {
    "meta-textgeneration-llama-": "Llama",
    "meta-textgenerationneuron-llama-": "Llama",
    "huggingface-llm-mistral-": "Mistral",
    "huggingface-llm-mixtral-": "Mixtral",
    "huggingface-llm-qwen": "Qwen",
    "huggingface-text2text-flan-t5-": "Flan-T5",
    "huggingface-llm-starcoder": "GPTBigCode",
    "openai-reasoning-gpt-oss-": "GPT-OSS",
}
"""JumpStart id prefixes of the architectures Custom Model Import serves (reference §7: Llama,
Mistral, Mixtral, Qwen, Flan-T5, GPTBigCode, GPT-OSS). ⚠ The id prefixes are ours (JumpStart's
naming as seen in the Public Hub), not an AWS list."""


@dataclass(frozen=True)
class HubModel:
    """A Public Hub model as ListHubContents summarises it."""

    model_id: str
    version: str
    arn: str
    display_name: str
    description: str
    keywords: tuple[str, ...]
    support: str
    """Supported | Deprecated | Restricted ('' when not said)."""

    @property
    def generates_text(self) -> bool:
        """Whether its keywords say it generates text (⚠ see `_TEXT_KEYWORDS`)."""
        return any(k in self.keywords for k in _TEXT_KEYWORDS)

    @property
    def fine_tunable(self) -> bool:
        """Whether its keywords say it can be fine-tuned."""
        return "@capability:fine-tuning" in self.keywords

    @property
    def import_family(self) -> str | None:
        """The Custom Model Import architecture family it belongs to, if any."""
        return next(
            (family for p, family in IMPORTABLE_FAMILIES.items() if self.model_id.startswith(p)),
            None,
        )


@dataclass(frozen=True)
class HubHyperparameter:
    """One hyperparameter of a JumpStart training script, as the model's spec says."""

    name: str
    kind: str
    """int | float | text."""
    default: str
    low: float | None = None
    high: float | None = None
    options: tuple[str, ...] = ()


@dataclass(frozen=True)
class HubModelSpec:
    """What a JumpStart training job of one model needs (DescribeHubContent's document)."""

    model_id: str
    version: str
    arn: str
    display_name: str
    task: str
    training_supported: bool
    fine_tuning_supported: bool
    training_image: str | None
    training_script: str | None
    training_artifact: str | None
    hyperparameters: tuple[HubHyperparameter, ...]
    default_instance: str | None
    instance_types: tuple[str, ...]
    eula_uri: str | None
    gated: bool
    hosting_image: str | None = None
    """The image the Public Hub entry serves the model with (`HostingEcrUri`; ⚠ the field name
    is the SageMaker Python SDK's, not in botocore), None when the entry gives none."""

    @property
    def needs_eula(self) -> bool:
        """Whether a training job must accept the model's EULA explicitly."""
        return bool(self.eula_uri) or self.gated

    def defaults(self) -> dict[str, str]:
        """The default hyperparameters, as strings."""
        return {h.name: h.default for h in self.hyperparameters}


def _summary(item: Mapping[str, Any]) -> HubModel:
    return HubModel(
        model_id=str(item.get("HubContentName", "")),
        version=str(item.get("HubContentVersion", "")),
        arn=str(item.get("HubContentArn", "")),
        display_name=str(item.get("HubContentDisplayName") or item.get("HubContentName", "")),
        description=str(item.get("HubContentDescription", "")),
        keywords=tuple(str(k) for k in item.get("HubContentSearchKeywords") or ()),
        support=str(item.get("SupportStatus", "")),
    )


def iter_hub_models(context: AwsContext, name_contains: str | None = None) -> Iterator[HubModel]:
    """Every model of the Public Hub (paged with NextToken)."""
    client = context.client("sagemaker")
    kwargs: dict[str, Any] = {"HubName": PUBLIC_HUB, "HubContentType": "Model", "MaxResults": 100}
    if name_contains:
        kwargs["NameContains"] = name_contains
    while True:
        with aws_call("listing the SageMaker Public Hub's models"):
            page = client.list_hub_contents(**kwargs)
        for item in page.get("HubContentSummaries") or []:
            yield _summary(item)
        token = page.get("NextToken")
        if not token:
            return
        kwargs["NextToken"] = token


def fine_tunable_text_models(context: AwsContext) -> list[HubModel]:
    """The JumpStart text-generation models that can be fine-tuned, by id; deprecated ones
    left out."""
    models = [
        m
        for m in iter_hub_models(context)
        if m.generates_text and m.fine_tunable and m.support != "Deprecated"
    ]
    return sorted(models, key=lambda m: m.model_id)


def importable_base_models(context: AwsContext) -> list[HubModel]:
    """Base models for the `sagemaker-import` route: open-weight Public Hub text models of an
    architecture Custom Model Import can serve (see `IMPORTABLE_FAMILIES`)."""
    return [m for m in fine_tunable_text_models(context) if m.import_family is not None]


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or value is None:
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def _hyperparameter(raw: Mapping[str, Any]) -> HubHyperparameter:
    default = raw.get("Default", "")
    return HubHyperparameter(
        name=str(raw.get("Name", "")),
        kind=str(raw.get("Type", "text")),
        default=json.dumps(default) if isinstance(default, bool) else str(default),
        low=_number(raw.get("Min")),
        high=_number(raw.get("Max")),
        options=tuple(str(o) for o in raw.get("Options") or ()),
    )


def spec_from(response: Mapping[str, Any]) -> HubModelSpec:
    """A DescribeHubContent answer as the spec a training job needs."""
    try:
        document = json.loads(str(response.get("HubContentDocument") or "{}"))
    except ValueError:
        document = {}
    if not isinstance(document, dict):
        document = {}
    return HubModelSpec(
        model_id=str(response.get("HubContentName", "")),
        version=str(response.get("HubContentVersion", "")),
        arn=str(response.get("HubContentArn", "")),
        display_name=str(response.get("HubContentDisplayName") or ""),
        task=str(document.get("Task", "")),
        training_supported=bool(document.get("TrainingSupported")),
        fine_tuning_supported=bool(document.get("FineTuningSupported")),
        training_image=document.get("TrainingEcrUri"),
        training_script=document.get("TrainingScriptUri")
        or document.get("TrainingPrepackedScriptUri"),
        training_artifact=document.get("TrainingArtifactUri"),
        hyperparameters=tuple(
            _hyperparameter(h) for h in document.get("Hyperparameters") or () if h.get("Name")
        ),
        default_instance=document.get("DefaultTrainingInstanceType"),
        instance_types=tuple(document.get("SupportedTrainingInstanceTypes") or ()),
        eula_uri=document.get("HostingEulaUri"),
        gated=bool(document.get("GatedBucket")),
        hosting_image=document.get("HostingEcrUri") or None,
    )


def describe_hub_model(context: AwsContext, model_id: str) -> HubModelSpec:
    """The spec of one Public Hub model (its newest version); a NotFoundError naming the
    command that lists them when there is no such model."""
    try:
        with aws_call(f"reading {model_id} in the SageMaker Public Hub"):
            response = context.client("sagemaker").describe_hub_content(
                HubName=PUBLIC_HUB, HubContentType="Model", HubContentName=model_id
            )
    except (NotFoundError, ValidationError) as error:
        raise NotFoundError(
            f"The SageMaker Public Hub has no model '{model_id}' in {context.region}.",
            title="JumpStart model not found",
            hint="List the fine-tunable ones with `bedrock-tune jumpstart models`.",
        ) from error
    return spec_from(response)


def check_hub_hyperparameters(spec: HubModelSpec, values: Mapping[str, str]) -> list[str]:
    """Every reason `values` do not fit the model's hyperparameter spec (empty when they do)."""
    known = {h.name: h for h in spec.hyperparameters}
    problems: list[str] = []
    for name, text in values.items():
        h = known.get(name)
        if h is None:
            problems.append(
                f"'{name}' is not a hyperparameter of {spec.model_id} (it takes "
                f"{', '.join(sorted(known)) or 'none'})"
            )
            continue
        if h.options and text not in h.options:
            problems.append(f"{name}='{text}': one of {', '.join(h.options)}")
            continue
        if h.kind in ("int", "float"):
            try:
                number = int(text) if h.kind == "int" else float(text)
            except ValueError:
                kind = "a whole number" if h.kind == "int" else "a number"
                problems.append(f"{name}='{text}' is not {kind}")
                continue
            if (h.low is not None and number < h.low) or (h.high is not None and number > h.high):
                low = "-inf" if h.low is None else f"{h.low:g}"
                high = "inf" if h.high is None else f"{h.high:g}"
                problems.append(f"{name}={text} is out of range: {low} to {high}")
    return problems
