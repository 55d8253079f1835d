"""What a customization will cost: training tokens x epochs x the model's price per 1,000 tokens,
storage per month, and inference (provisioned throughput per hour, on-demand per token).

Prices come from the catalog with their date; unknown prices stay unknown (None) and are said
to be unknown, never guessed. Every price can be overridden.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import orjson

from core import format as fmt
from core.catalog.types import BaseModel, DeploymentOption
from core.validate.rules import record_tokens


@dataclass(frozen=True)
class TokenCount:
    """Estimated tokens of a prepared training file."""

    records: int
    tokens: int


@dataclass(frozen=True)
class Estimate:
    """The costs of one customization (USD; None where the price is unknown)."""

    training_tokens: int
    epochs: int
    price_per_1k: float | None
    training_cost: float | None
    storage_per_month: float
    provisioned_per_hour: float | None
    on_demand_input_per_1k: float | None
    on_demand_output_per_1k: float | None
    prices_as_of: str


def count_file_tokens(
    path: Path, chars_per_token: float, cancelled: Callable[[], bool] = lambda: False
) -> TokenCount:
    """Estimate the tokens of a prepared JSONL file (streamed; bad lines are skipped here, the
    validator reports them). Records are counted as the validator counts them
    (`core.validate.rules.record_tokens`); a full validation
    (`core.validate.validator.validate`) gives the same total in `report.train.stats.total`,
    with the per-record statistics."""
    records = tokens = 0
    with path.open("rb") as stream:
        for number, line in enumerate(stream):
            if number % 10_000 == 0 and cancelled():
                break
            if not line.strip():
                continue
            try:
                record = orjson.loads(line)
            except orjson.JSONDecodeError:
                continue
            records += 1
            tokens += record_tokens(record, chars_per_token)
    return TokenCount(records, tokens)


def estimate(
    model: BaseModel,
    training_tokens: int,
    epochs: int,
    *,
    price_per_1k: float | None = None,
) -> Estimate:
    """Training, storage and inference costs (`price_per_1k` overrides the catalog's)."""
    pricing = model.pricing
    price = price_per_1k if price_per_1k is not None else pricing.training_per_1k_tokens
    cost = None if price is None else training_tokens * epochs / 1000 * price
    return Estimate(
        training_tokens=training_tokens,
        epochs=epochs,
        price_per_1k=price,
        training_cost=cost,
        storage_per_month=pricing.storage_per_month,
        provisioned_per_hour=pricing.provisioned_per_hour,
        on_demand_input_per_1k=pricing.on_demand_input_per_1k,
        on_demand_output_per_1k=pricing.on_demand_output_per_1k,
        prices_as_of=pricing.as_of,
    )


def estimate_lines(
    cost: Estimate, model: BaseModel, *, unknown_price_hint: str = ""
) -> list[tuple[str, str]]:
    """The estimate as (label, text) lines, the same in the CLI and the app: training, storage,
    serving (and on-demand per-token prices where the model can be deployed on demand)."""
    if cost.price_per_1k is None:
        hint = f" ({unknown_price_hint})" if unknown_price_hint else ""
        training = (
            f"{fmt.plural(cost.training_tokens, 'token')} x {fmt.plural(cost.epochs, 'epoch')}; "
            f"no training price known for this model{hint}"
        )
    else:
        training = (
            f"{fmt.plural(cost.training_tokens, 'token')} x {fmt.plural(cost.epochs, 'epoch')} x "
            f"{fmt.money(cost.price_per_1k)} per 1K = {fmt.money(cost.training_cost)}"
        )
    hourly = (
        f"{fmt.money(cost.provisioned_per_hour)} per hour per model unit"
        if cost.provisioned_per_hour is not None
        else "hourly rate unknown (see the Price List API)"
    )
    lines = [
        ("training", training),
        ("storage", f"{fmt.money(cost.storage_per_month)} per month while the model exists"),
        ("serving", f"provisioned throughput: {hourly}, billed every hour until deleted"),
    ]
    if DeploymentOption.ON_DEMAND_DEPLOYMENT in model.deployment_options:
        lines.append(
            (
                "",
                f"on-demand deployment: {fmt.money(cost.on_demand_input_per_1k)} input / "
                f"{fmt.money(cost.on_demand_output_per_1k)} output per 1K tokens, no idle cost",
            )
        )
    return lines
