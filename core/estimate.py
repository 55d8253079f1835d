"""What a customization will cost: training tokens x epochs x the model's price per 1,000 tokens,
storage per month, and inference (provisioned throughput per hour, on-demand per token).

Prices come from `core.pricing` (the Price List API, else the built-in figures), each with its
source and date; unknown prices stay unknown and say what to do, never guessed and never $0.
The training price can be overridden.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import orjson

from core import format as fmt
from core.catalog.import_pricing import IMPORT_PRICING
from core.catalog.open_weight import OPEN_WEIGHT_MODELS
from core.catalog.sagemaker_models import served_on_sagemaker
from core.catalog.types import BaseModel, DeploymentOption
from core.pricing.builtin import builtin_prices
from core.pricing.types import Figure, ModelPrices, Price
from core.validate.rules import record_tokens


@dataclass(frozen=True)
class TokenCount:
    """Estimated tokens of a prepared training file."""

    records: int
    tokens: int


@dataclass(frozen=True)
class Estimate:
    """The costs of one customization (USD); every price carries its source and date, and an
    unknown one stays unknown (its cost is None, never $0)."""

    training_tokens: int
    epochs: int
    training_price: Price
    training_cost: float | None
    storage: Price
    provisioned: Price
    """One model unit of no-commitment provisioned throughput, per hour."""
    on_demand_input: Price
    on_demand_output: Price
    prices: ModelPrices
    """The row the figures come from (its source, date and notes)."""

    @property
    def price_per_1k(self) -> float | None:
        """The training price per 1K tokens, None when unknown."""
        return self.training_price.amount

    @property
    def storage_per_month(self) -> float | None:
        """Storage per month, None when unknown."""
        return self.storage.amount

    @property
    def provisioned_per_hour(self) -> float | None:
        """No-commitment provisioned throughput per model-unit hour, None when unknown."""
        return self.provisioned.amount

    @property
    def on_demand_input_per_1k(self) -> float | None:
        """On-demand serving per 1K input tokens, None when unknown."""
        return self.on_demand_input.amount

    @property
    def on_demand_output_per_1k(self) -> float | None:
        """On-demand serving per 1K output tokens, None when unknown."""
        return self.on_demand_output.amount

    @property
    def prices_as_of(self) -> str:
        """The date of the prices' source."""
        return self.prices.as_of

    @property
    def price_source(self) -> str:
        """`price-list-api` or `built-in` (the training price may be `given` on its own)."""
        return self.prices.source


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
    prices: ModelPrices | None = None,
    price_per_1k: float | None = None,
) -> Estimate:
    """Training, storage and inference costs.

    `prices` are the model's prices in the region (from `core.pricing.service.PriceService`);
    without them, the built-in figures. `price_per_1k` replaces the training price (a figure
    the user gives).
    """
    row = prices or builtin_prices(model, model.regions[0] if model.regions else "")
    training = (
        Price.known(price_per_1k, Figure.TRAINING.unit, "given", "")
        if price_per_1k is not None
        else row.training
    )
    cost = None if training.amount is None else training_tokens * epochs / 1000 * training.amount
    return Estimate(
        training_tokens=training_tokens,
        epochs=epochs,
        training_price=training,
        training_cost=cost,
        storage=row.storage,
        provisioned=row.provisioned,
        on_demand_input=row.on_demand_input,
        on_demand_output=row.on_demand_output,
        prices=row,
    )


def _where(price: Price) -> str:
    return f" ({price.provenance})" if price.provenance else ""


def estimate_lines(
    cost: Estimate, model: BaseModel, *, unknown_price_hint: str = ""
) -> list[tuple[str, str]]:
    """The estimate as (label, text) lines, the same in the CLI and the app: training, storage,
    serving (and on-demand per-token prices where the model can be deployed on demand). Each
    price says its source and date; an unknown one says what to do."""
    counted = f"{fmt.plural(cost.training_tokens, 'token')} x {fmt.plural(cost.epochs, 'epoch')}"
    if model.id in {m.hub_id for m in OPEN_WEIGHT_MODELS}:
        return _open_weight_lines(counted)
    if served_on_sagemaker(model):
        return [
            (
                "training",
                f"{counted}; SageMaker bills the training per instance-hour, not per token: "
                "the launch step prices the instance type (Price List, with its date)",
            ),
            ("storage", "nothing in Bedrock: the model stays in your S3 bucket"),
            (
                "serving",
                "a SageMaker real-time endpoint, billed per instance-hour every hour until "
                "deleted: the endpoint step says its price and asks first",
            ),
        ]
    price = cost.training_price
    if price.amount is None:
        hint = "; ".join(h for h in (unknown_price_hint, price.todo) if h)
        training = f"{counted}; no training price known for this model ({hint})"
    else:
        training = (
            f"{counted} x {fmt.money(price.amount)} per 1K = {fmt.money(cost.training_cost)}"
            f"{_where(price)}"
        )
    storage = (
        f"{cost.storage.money()} per month while the model exists{_where(cost.storage)}"
        if cost.storage.is_known
        else f"storage price unknown ({cost.storage.todo})"
    )
    hourly = (
        f"{cost.provisioned.money()} per hour per model unit{_where(cost.provisioned)}, billed "
        "every hour until deleted"
        if cost.provisioned.is_known
        else f"hourly rate unknown ({cost.provisioned.todo})"
    )
    lines = [
        ("training", training),
        ("storage", storage),
        ("serving", f"provisioned throughput: {hourly}"),
    ]
    if DeploymentOption.ON_DEMAND_DEPLOYMENT in model.deployment_options:
        low, high = cost.on_demand_input, cost.on_demand_output
        if low.is_known and high.is_known:
            text = (
                f"on-demand deployment: {low.money()} input / {high.money()} output per 1K "
                f"tokens{_where(low)}, no idle cost"
            )
        else:
            unknown = low if not low.is_known else high
            text = f"on-demand deployment: per-token price unknown ({unknown.todo}), no idle cost"
        lines.append(("", text))
    return lines


def _open_weight_lines(counted: str) -> list[tuple[str, str]]:
    """A model the sagemaker-import route trains: SageMaker bills the training (by instance-hour,
    or serverless), which the Train step and `sagemaker launch` estimate; once imported, the
    model bills custom model units per active 5-minute window, and their storage. No Bedrock
    per-token or provisioned throughput price applies."""
    pricing = IMPORT_PRICING
    where = f"built-in, {pricing.as_of}"
    return [
        (
            "training",
            f"{counted} on SageMaker, billed per instance-hour (or by serverless "
            "customization): the Train step and `bedrock-tune sagemaker launch` estimate it",
        ),
        (
            "storage",
            f"{fmt.money(pricing.storage_per_month(1))} per custom model unit (CMU) per month "
            f"once imported ({where})",
        ),
        (
            "serving",
            f"imported model: {fmt.money(pricing.per_window(1))} per CMU for each 5-minute "
            f"window a copy is active, nothing while idle ({where}; Bedrock sets the CMU at "
            "import, e.g. 2 for Llama 3.1 8B)",
        ),
    ]
