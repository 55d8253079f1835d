"""Which Price List items are which figure of which catalog model.

The Price List never names a model by its Bedrock id. Bedrock's listings are spread across
service codes:

* `AmazonBedrock`: Amazon and Meta models (and some others). Each product's `usagetype` is
  `<REGION>-<model key>-<what>`, e.g. `USE1-NovaMicro-Customization-Training`,
  `USW2-Llama3-3-70B-Customization-Training`, `USE1-Nova2.0Lite-ProvisionedThroughput-NoCommit-
  ModelUnits`, `USE1-NovaLite-input-tokens-custom-model`; the `model` attribute is a display
  name ("Nova 2.0 Lite", "Llama 3.3 70B"; Titan uses `titanModel`).
* `AmazonBedrockFoundationModels`: third-party (Marketplace) models such as Anthropic's, named by
  `servicename` ("Claude 3 Haiku (Amazon Bedrock Edition)"), with prices per million tokens and
  what is priced in the dimension's description ("...|Million Input Tokens").
* `AmazonBedrockService`: cross-region inference and other service features (nothing a
  customizable base model needs).

Sources of these names (2026): the reference's usage types; public code that reads the live
Price List (aws-samples' bedrock-model-profiler pricing collector, awslabs'
model-info-amazon-bedrock, and field reports quoting live rows). `MODEL_NAMES` is the one table
to update when AWS names a model differently; tests pin it against recorded pages.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from core.pricing.pricelist import PriceListItem
from core.pricing.types import Figure

BEDROCK = "AmazonBedrock"
FOUNDATION_MODELS = "AmazonBedrockFoundationModels"
BEDROCK_SERVICE = "AmazonBedrockService"


@dataclass(frozen=True)
class PriceListName:
    """How the Price List names one catalog model."""

    usage_key: str
    """The model part of `AmazonBedrock` usage types (`NovaMicro` in `USE1-NovaMicro-...`)."""
    marketplace: str = ""
    """The `servicename` of its `AmazonBedrockFoundationModels` products, if it has some."""


MODEL_NAMES: dict[str, PriceListName] = {
    "amazon.nova-micro-v1:0:128k": PriceListName("NovaMicro"),
    "amazon.nova-lite-v1:0:300k": PriceListName("NovaLite"),
    "amazon.nova-pro-v1:0:300k": PriceListName("NovaPro"),
    "amazon.nova-2-lite-v1:0:256k": PriceListName("Nova2.0Lite"),
    "anthropic.claude-3-haiku-20240307-v1:0:200k": PriceListName(
        "Claude3Haiku", marketplace="Claude 3 Haiku (Amazon Bedrock Edition)"
    ),
    "meta.llama3-1-8b-instruct-v1:0:128k": PriceListName("Llama3-1-8B"),
    "meta.llama3-1-70b-instruct-v1:0:128k": PriceListName("Llama3-1-70B"),
    "meta.llama3-2-1b-instruct-v1:0:128k": PriceListName("Llama3-2-1B"),
    "meta.llama3-2-3b-instruct-v1:0:128k": PriceListName("Llama3-2-3B"),
    "meta.llama3-2-11b-instruct-v1:0:128k": PriceListName("Llama3-2-11B"),
    "meta.llama3-2-90b-instruct-v1:0:128k": PriceListName("Llama3-2-90B"),
    "meta.llama3-3-70b-instruct-v1:0:128k": PriceListName("Llama3-3-70B"),
    "amazon.titan-text-express-v1:0:8k": PriceListName("TitanTextG1-Express"),
    "amazon.titan-text-lite-v1:0:4k": PriceListName("TitanTextG1-Lite"),
    # Unverified: no Price List row for Cohere Command / Command Light (retired in 2025) was
    # seen; these keys follow the naming of the others.
    "cohere.command-light-text-v14:7:4k": PriceListName("CohereCommand-Light"),
    "cohere.command-text-v14:7:4k": PriceListName("CohereCommand"),
}
"""Catalog model id -> its Price List names. A model whose rows are not found keeps its
built-in figures (said so), never a wrong one."""

# The `<what>` part of an AmazonBedrock usage type -> (figure, rank). A lower rank wins: the
# custom-model variant is what a *custom* model is billed (a field report saw
# `...-input-tokens-custom-model` at $0.00030 against $0.00033 for the base model).
_BEDROCK_SUFFIXES: dict[str, tuple[Figure, int]] = {
    "customization-training": (Figure.TRAINING, 0),
    "customization-storage": (Figure.STORAGE, 0),
    "provisionedthroughput-custom-nocommit-modelunits": (Figure.PROVISIONED, 0),
    "provisionedthroughput-nocommit-modelunits": (Figure.PROVISIONED, 1),
    "provisionedthroughput-custom-1month-modelunits": (Figure.PROVISIONED_1_MONTH, 0),
    "provisionedthroughput-1month-modelunits": (Figure.PROVISIONED_1_MONTH, 1),
    "provisionedthroughput-custom-6month-modelunits": (Figure.PROVISIONED_6_MONTHS, 0),
    "provisionedthroughput-6month-modelunits": (Figure.PROVISIONED_6_MONTHS, 1),
    "input-tokens-custom-model": (Figure.ON_DEMAND_INPUT, 0),
    "input-tokens": (Figure.ON_DEMAND_INPUT, 1),
    "output-tokens-custom-model": (Figure.ON_DEMAND_OUTPUT, 0),
    "output-tokens": (Figure.ON_DEMAND_OUTPUT, 1),
    "input-tokens-batch": (Figure.BATCH_INPUT, 0),
    "output-tokens-batch": (Figure.BATCH_OUTPUT, 0),
}
_TOKEN_FIGURES = frozenset(
    {
        Figure.TRAINING,
        Figure.ON_DEMAND_INPUT,
        Figure.ON_DEMAND_OUTPUT,
        Figure.BATCH_INPUT,
        Figure.BATCH_OUTPUT,
    }
)
_HOURLY_FIGURES = frozenset(
    {Figure.PROVISIONED, Figure.PROVISIONED_1_MONTH, Figure.PROVISIONED_6_MONTHS}
)


@dataclass(frozen=True)
class Candidate:
    """One item read as one figure of one model (normalized to the figure's unit)."""

    model_id: str
    figure: Figure
    amount: float
    rank: int
    detail: str
    """The usage type (or servicename and description) it came from."""


def usage_suffix(usage_type: str, key: str) -> str | None:
    """The `<what>` of `<REGION>-<key>-<what>`, lower-cased; None when `key` is not the model."""
    _, _, rest = usage_type.partition("-")
    if not rest.startswith(f"{key}-"):
        return None
    return rest[len(key) + 1 :].lower()


def per_1k_tokens(amount: float, unit: str) -> float | None:
    """A token price in USD per 1K tokens; None for a unit this code does not know (a wrong
    scale is worse than a missing price)."""
    text = " ".join(unit.lower().replace("-", " ").split())
    if text in {"1k tokens", "1000 tokens", "1,000 tokens", "thousand tokens"}:
        return amount
    if text in {"1m tokens", "1000000 tokens", "1,000,000 tokens", "million tokens"}:
        return amount / 1000
    return None


def _per_hour(amount: float, unit: str) -> float | None:
    return amount if unit.strip().lower() in {"hour", "hours", "hr", "hrs"} else None


def _per_month(amount: float, unit: str) -> float | None:
    return amount if "month" in unit.lower() else None


def _normalize(figure: Figure, amount: float, unit: str) -> float | None:
    if figure in _TOKEN_FIGURES:
        return per_1k_tokens(amount, unit)
    if figure in _HOURLY_FIGURES:
        return _per_hour(amount, unit)
    return _per_month(amount, unit)


def _bedrock_candidate(item: PriceListItem, model_id: str, key: str) -> Candidate | None:
    suffix = usage_suffix(item.usage_type, key)
    if suffix is None or suffix not in _BEDROCK_SUFFIXES:
        return None  # another model, or a meter we do not use (cache, cross-region, flex...)
    figure, rank = _BEDROCK_SUFFIXES[suffix]
    amount = _normalize(figure, item.usd, item.unit)
    if amount is None:
        return None
    return Candidate(model_id, figure, amount, rank, item.usage_type)


def _marketplace_figure(description: str) -> tuple[Figure, int] | None:
    """What a Marketplace dimension prices, from its description ('...|Million Input Tokens').

    Only plain in-region rates count: cache, global or regional cross-region, long-context,
    latency-optimized and reserved dimensions are other products."""
    text = description.rsplit("|", 1)[-1].strip().lower()
    if any(
        word in text
        for word in ("cache", "global", "cris", "long", "latency", "reserved", "flex", "priority")
    ):
        return None
    if "provisioned" in text:
        if "6 month" in text or "6-month" in text:
            return Figure.PROVISIONED_6_MONTHS, 0
        if "1 month" in text or "1-month" in text:
            return Figure.PROVISIONED_1_MONTH, 0
        if "no commit" in text or "no-commit" in text or "nocommit" in text:
            return Figure.PROVISIONED, 0
        return None
    if "customiz" in text and "train" in text:
        return Figure.TRAINING, 0
    if "storage" in text:
        return Figure.STORAGE, 0
    batch = "batch" in text
    if "input token" in text:
        return (Figure.BATCH_INPUT, 0) if batch else (Figure.ON_DEMAND_INPUT, 1)
    if "response token" in text or "output token" in text:
        return (Figure.BATCH_OUTPUT, 0) if batch else (Figure.ON_DEMAND_OUTPUT, 1)
    return None


def _marketplace_candidate(item: PriceListItem, model_id: str, name: str) -> Candidate | None:
    if item.attributes.get("servicename", "") != name:
        return None
    found = _marketplace_figure(item.description)
    if found is None:
        return None
    figure, rank = found
    # Marketplace units are often a bare "Units"; the description says per what.
    unit = item.unit
    if figure in _TOKEN_FIGURES:
        what = item.description.rsplit("|", 1)[-1].lower()
        unit = "1M tokens" if "million" in what else "1K tokens" if "thousand" in what else ""
    amount = _normalize(figure, item.usd, unit)
    if amount is None:
        return None
    detail = f"{name}: {item.description.rsplit('|', 1)[-1].strip()}"
    return Candidate(model_id, figure, amount, rank, detail)


def candidates(
    items: Iterable[PriceListItem], region: str, model_ids: Iterable[str]
) -> list[Candidate]:
    """Every item that is a figure of one of `model_ids` in `region`.

    Items priced in another region are dropped (the regionCode filter is what keeps a query to
    one region; if AWS stopped honouring it, another region's rate must not slip in)."""
    names = {m: MODEL_NAMES[m] for m in model_ids if m in MODEL_NAMES}
    found = []
    for item in items:
        if item.region_code and item.region_code != region:
            continue
        for model_id, name in names.items():
            if item.service_code == FOUNDATION_MODELS:
                candidate = (
                    _marketplace_candidate(item, model_id, name.marketplace)
                    if name.marketplace
                    else None
                )
            else:
                candidate = _bedrock_candidate(item, model_id, name.usage_key)
            if candidate is not None:
                found.append(candidate)
    return found


@dataclass(frozen=True)
class Resolved:
    """A figure's amount and where it came from, or why it has none."""

    amount: float | None
    detail: str


def resolve(found: Iterable[Candidate]) -> dict[str, dict[Figure, Resolved]]:
    """Per model, per figure: the best-ranked candidate. Two different amounts at the best rank
    make the figure unresolved (None, both named): picking one would be a number nobody can
    check."""
    best: dict[tuple[str, Figure], list[Candidate]] = defaultdict(list)
    for candidate in found:
        key = (candidate.model_id, candidate.figure)
        current = best[key]
        if not current or candidate.rank < current[0].rank:
            best[key] = [candidate]
        elif candidate.rank == current[0].rank:
            current.append(candidate)
    resolved: dict[str, dict[Figure, Resolved]] = defaultdict(dict)
    for (model_id, figure), chosen in best.items():
        amounts = sorted({round(c.amount, 12) for c in chosen})
        if len(amounts) == 1:
            resolved[model_id][figure] = Resolved(chosen[0].amount, chosen[0].detail)
        else:
            listed = ", ".join(f"{c.detail} = {c.amount:g}" for c in chosen)
            resolved[model_id][figure] = Resolved(
                None, f"the Price List has conflicting rates ({listed})"
            )
    return dict(resolved)
