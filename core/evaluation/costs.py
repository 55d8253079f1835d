"""What an evaluation costs before it runs, and what serving each model costs per 1K requests.

Every price comes through `token_price` (one call): today it reads the catalog's on-demand
prices (reference/bedrock.md section 9, dated); a Price List service can replace its body later
without any caller changing. An unknown price stays None and is said to be unknown, never $0.

Token counts before a run are estimates (characters / the model's planning ratio, as the
validator estimates them); after a run the models' own usage counts are used.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from core import format as fmt
from core.data.tokens import estimate_tokens
from core.errors import NotFoundError

BATCH_DISCOUNT = 0.5
"""Batch inference bills about half the on-demand price where a model supports it
(reference/bedrock.md, "Bedrock batch inference"; check the pricing page for a model)."""
SECONDS_PER_ANSWER = 2.0
"""A planning figure for one on-demand answer (time estimates only; labelled as such)."""
BATCH_TIME_NOTE = (
    "a batch job is queued and usually takes minutes to hours; Bedrock ends it at its time-out "
    "(24 h by default)"
)


@dataclass(frozen=True)
class TokenPrice:
    """Dollars per 1,000 input and output tokens of one model, and where the figure comes from."""

    input_per_1k: float
    output_per_1k: float
    source: str
    as_of: str

    def cost(self, input_tokens: float, output_tokens: float) -> float:
        """Dollars for this many tokens."""
        return (input_tokens * self.input_per_1k + output_tokens * self.output_per_1k) / 1000


def token_price(model_id: str) -> TokenPrice | None:
    """The on-demand price per 1K tokens of the base model `model_id` names (its inference id,
    inference profile, customization id or name); None when no price is known.

    This is the one place prices come from: point it at a pricing service to refresh them.
    """
    from core.catalog.lookup import find_model

    try:
        model = find_model(model_id)
    except NotFoundError:
        return None
    pricing = model.pricing
    if pricing.on_demand_input_per_1k is None or pricing.on_demand_output_per_1k is None:
        return None
    return TokenPrice(
        pricing.on_demand_input_per_1k,
        pricing.on_demand_output_per_1k,
        pricing.source,
        pricing.as_of,
    )


def chars_per_token(model_id: str) -> float:
    """The planning ratio of `model_id`'s catalog model (6 when it is not in the catalog)."""
    from core.catalog.lookup import find_model

    try:
        model = find_model(model_id)
    except NotFoundError:
        return 6.0
    return model.customizations[0].limits.chars_per_token if model.customizations else 6.0


@dataclass(frozen=True)
class CostLine:
    """One model's share of an evaluation, estimated before it runs."""

    what: str
    """e.g. `tuned model`, `base model (us.amazon.nova-micro-v1:0)`, `judge`."""
    calls: int
    input_tokens: int
    output_tokens: int
    on_demand: float | None
    """Dollars at on-demand prices; None when the price is unknown."""
    batch: float | None = None
    """Dollars through batch inference; None when batch is not offered or the price unknown."""
    seconds_on_demand: float = 0.0
    note: str = ""

    def text(self) -> str:
        """`judge: 80 calls, ~41K tokens in / 6K out, $0.05` (and the batch cost when offered)."""
        tokens = (
            f"~{_thousands(self.input_tokens)} tokens in / {_thousands(self.output_tokens)} out"
        )
        line = (
            f"{self.what}: {fmt.plural(self.calls, 'call')}, {tokens}, {fmt.money(self.on_demand)}"
        )
        if self.batch is not None:
            line += f" on demand or {fmt.money(self.batch)} through batch"
        return line + (f" ({self.note})" if self.note else "")


def _thousands(count: int) -> str:
    return f"{count / 1000:.1f}K" if count >= 1000 else str(count)


def estimate_calls(
    what: str,
    model_id: str | None,
    prompts: Iterable[str],
    *,
    output_tokens_each: int,
    calls_each: int = 1,
    concurrency: int = 4,
    batch_offered: bool = False,
    note: str = "",
) -> CostLine:
    """Estimate `calls_each` calls per prompt to `model_id` (priced like that base model; a
    custom model on-demand costs its base model's price per token)."""
    ratio = chars_per_token(model_id or "")
    texts = list(prompts)
    calls = len(texts) * calls_each
    tokens_in = sum(estimate_tokens(t, ratio) for t in texts) * calls_each
    tokens_out = output_tokens_each * calls
    price = token_price(model_id) if model_id else None
    on_demand = price.cost(tokens_in, tokens_out) if price else None
    batch = on_demand * BATCH_DISCOUNT if (batch_offered and on_demand is not None) else None
    seconds = calls * SECONDS_PER_ANSWER / max(1, concurrency)
    return CostLine(what, calls, tokens_in, tokens_out, on_demand, batch, seconds, note)


def total(lines: Iterable[CostLine], *, batch: bool = False) -> float | None:
    """The sum of the lines (batch prices where `batch` and offered); None when one is
    unknown (a partial sum would read as the whole cost)."""
    amount = 0.0
    for line in lines:
        value = line.batch if batch and line.batch is not None else line.on_demand
        if value is None:
            return None
        amount += value
    return amount


@dataclass(frozen=True)
class ServingCost:
    """What serving one model costs, per 1,000 requests like the ones evaluated."""

    per_1k_requests: float | None
    """None when it cannot be said per request (provisioned throughput bills by the hour)."""
    note: str


def serving_cost(
    model_id: str,
    base_model_id: str | None,
    mean_input_tokens: float | None,
    mean_output_tokens: float | None,
    *,
    hourly: float | None = None,
) -> ServingCost:
    """Serving cost per 1K requests of the mean size measured in the evaluation.

    A provisioned throughput (`:provisioned-model/` ARN) bills by the hour whatever the
    traffic: its per-request cost depends on the traffic, so only the hourly price is given.
    An on-demand deployment of a custom model, or a base model, bills its base model's
    per-token price.
    """
    if ":provisioned-model/" in model_id:
        rate = f"{fmt.money(hourly)}/h" if hourly is not None else "an hourly price"
        return ServingCost(None, f"provisioned throughput: {rate} whatever the traffic")
    price = token_price(base_model_id or model_id)
    if price is None:
        return ServingCost(None, "price unknown")
    if mean_input_tokens is None or mean_output_tokens is None:
        return ServingCost(None, "no token counts measured")
    per_1k = price.cost(mean_input_tokens, mean_output_tokens) * 1000
    where = (
        "custom model on demand, at its base model's price"
        if model_id.startswith("arn:")
        else ("on demand")
    )
    return ServingCost(per_1k, f"{where} ({price.as_of} prices)")
